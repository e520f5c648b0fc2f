//! The management requests a client sends (`proto/proto/ospf.proto`),
//! checked and turned into typed queries before they reach the daemon's
//! loop: an interface name as Linux allows one (at most 15 octets, no `/`,
//! no white space) and an LS type of RFC 2328 appendix A.4.1 (with the
//! NSSA type of RFC 3101 and the opaque types of RFC 5250). Pure and
//! synchronous, so the fuzz targets in fuzz/ run exactly what the gRPC
//! service runs.

use proto::ospf as pb;

use crate::lsa::LsaType;

/// Linux's IFNAMSIZ less the terminating NUL.
pub const MAX_IFNAME: usize = 15;

/// The LS types the database holds and `show ip ospf database` filters on.
pub const KNOWN_LSA_TYPES: [LsaType; 9] = [
    LsaType::ROUTER,
    LsaType::NETWORK,
    LsaType::SUMMARY_NETWORK,
    LsaType::SUMMARY_ROUTER,
    LsaType::AS_EXTERNAL,
    LsaType::NSSA_EXTERNAL,
    LsaType::OPAQUE_LINK,
    LsaType::OPAQUE_AREA,
    LsaType::OPAQUE_AS,
];

/// Why a request was refused; the gRPC service answers INVALID_ARGUMENT
/// with this text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("interface name `{0}` is longer than {MAX_IFNAME} octets")]
    IfnameLength(String),
    #[error("interface name `{0}` contains `/` or white space")]
    IfnameChar(String),
    #[error("unknown LS type {0} (1-5, 7, 9-11; 0: every type)")]
    LsaType(u32),
}

/// `Interfaces`: one interface by name, or all (`None`).
pub fn interfaces(r: &pb::InterfacesRequest) -> Result<Option<String>, RequestError> {
    let name = r.name.as_str();
    if name.is_empty() {
        return Ok(None);
    }
    if name.len() > MAX_IFNAME {
        return Err(RequestError::IfnameLength(name.escape_debug().to_string()));
    }
    if name == "." || name == ".." || name.chars().any(|c| c == '/' || c.is_whitespace()) {
        return Err(RequestError::IfnameChar(name.escape_debug().to_string()));
    }
    Ok(Some(name.to_string()))
}

/// A checked `Database` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatabaseQuery {
    /// Only this type; `None`: every type.
    pub lsa_type: Option<LsaType>,
    /// The LSAs' bodies too, not only their headers.
    pub detail: bool,
}

/// `Database`.
pub fn database(r: &pb::DatabaseRequest) -> Result<DatabaseQuery, RequestError> {
    let lsa_type = match r.lsa_type {
        0 => None,
        t => Some(
            u8::try_from(t)
                .ok()
                .map(LsaType)
                .filter(|t| KNOWN_LSA_TYPES.contains(t))
                .ok_or(RequestError::LsaType(t))?,
        ),
    };
    Ok(DatabaseQuery {
        lsa_type,
        detail: r.detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iface(name: &str) -> Result<Option<String>, RequestError> {
        interfaces(&pb::InterfacesRequest { name: name.into() })
    }

    #[test]
    fn interface_names() {
        assert_eq!(iface(""), Ok(None));
        assert_eq!(iface("eth0"), Ok(Some("eth0".into())));
        assert_eq!(iface("veth-r1-r2.100"), Ok(Some("veth-r1-r2.100".into())));
        assert!(matches!(
            iface("a-very-long-interface"),
            Err(RequestError::IfnameLength(_))
        ));
        for bad in ["a/b", "eth 0", "..", "eth\n"] {
            assert!(
                matches!(iface(bad), Err(RequestError::IfnameChar(_))),
                "{bad}"
            );
        }
        // Fifteen octets of a multi-octet character: counted in octets.
        assert!(matches!(
            iface("ééééééééé"),
            Err(RequestError::IfnameLength(_))
        ));
    }

    #[test]
    fn database_types() {
        let q = |t| {
            database(&pb::DatabaseRequest {
                lsa_type: t,
                detail: true,
            })
        };
        assert_eq!(
            q(0),
            Ok(DatabaseQuery {
                lsa_type: None,
                detail: true
            })
        );
        for t in [1, 2, 3, 4, 5, 7, 9, 10, 11] {
            assert_eq!(q(t).unwrap().lsa_type, Some(LsaType(t as u8)));
        }
        for t in [6, 8, 12, 255, 257, u32::MAX] {
            assert_eq!(q(t), Err(RequestError::LsaType(t)));
        }
    }
}

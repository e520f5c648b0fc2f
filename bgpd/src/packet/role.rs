//! BGP roles (RFC 9234): the role a speaker plays toward one eBGP
//! neighbor, carried in the BGP Role capability (code 9, one octet, §4.1),
//! and the check of the pair of roles at OPEN time (§4.2).
//!
//! Owns the role values, their names as operators write them (FRR's
//! `local-role` words) and the decision "this OPEN is a Role Mismatch".
//! Never applies the Only-to-Customer rules to routes: `rib::otc` does,
//! from the role negotiated here.

use std::fmt;

use super::capability::{Capability, CAP_ROLE};
use super::notification::{ErrorCode, Notification, OpenSubcode};
use super::open::Open;

/// One BGP role (RFC 9234 §4.1): what the speaker is to its neighbor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// We sell transit to the neighbor (it is our customer).
    Provider,
    /// We are a route server; the neighbor is its client.
    RouteServer,
    /// We are a route server's client.
    RouteServerClient,
    /// We buy transit from the neighbor (it is our provider).
    Customer,
    /// Lateral peering.
    Peer,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Provider,
        Role::RouteServer,
        Role::RouteServerClient,
        Role::Customer,
        Role::Peer,
    ];

    /// The capability value (IANA "BGP Role Value" registry).
    pub fn code(self) -> u8 {
        match self {
            Role::Provider => 0,
            Role::RouteServer => 1,
            Role::RouteServerClient => 2,
            Role::Customer => 3,
            Role::Peer => 4,
        }
    }

    pub fn from_code(code: u8) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }

    /// The word of the config file and of FRR's `local-role`.
    pub fn name(self) -> &'static str {
        match self {
            Role::Provider => "provider",
            Role::RouteServer => "rs-server",
            Role::RouteServerClient => "rs-client",
            Role::Customer => "customer",
            Role::Peer => "peer",
        }
    }

    /// Parses a config word: FRR's names, with `rs` for the route server.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "rs" | "rs-server" => Some(Role::RouteServer),
            other => Role::ALL.into_iter().find(|r| r.name() == other),
        }
    }

    /// The role the neighbor must announce for ours to make sense (§4.2
    /// table of allowed pairs).
    pub fn expected_peer(self) -> Role {
        match self {
            Role::Provider => Role::Customer,
            Role::Customer => Role::Provider,
            Role::RouteServer => Role::RouteServerClient,
            Role::RouteServerClient => Role::RouteServer,
            Role::Peer => Role::Peer,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a neighbor's OPEN does not fit our role (each is a Role Mismatch,
/// NOTIFICATION 2/11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RoleMismatch {
    #[error("role {theirs} does not pair with our role {ours}")]
    Pair { ours: Role, theirs: Role },
    #[error("role value {0} is not a known role")]
    UnknownValue(u8),
    #[error("several different BGP Role capabilities")]
    Conflicting,
    #[error("strict mode: the neighbor sent no BGP Role capability")]
    Missing,
}

impl RoleMismatch {
    pub fn notification(&self) -> Notification {
        Notification::new(ErrorCode::Open(OpenSubcode::RoleMismatch), Vec::new())
    }
}

/// The role the neighbor announced in `open` (None: no Role capability).
/// Several capabilities with the same value count as one (§4.2).
pub fn announced(open: &Open) -> Result<Option<Role>, RoleMismatch> {
    let mut found: Option<Role> = None;
    for cap in open.capabilities.iter().filter(|c| c.code() == CAP_ROLE) {
        let role = match cap {
            Capability::Role(r) => *r,
            Capability::Unknown { value, .. } => {
                return Err(RoleMismatch::UnknownValue(
                    value.first().copied().unwrap_or(0),
                ))
            }
            _ => continue,
        };
        match found {
            Some(f) if f != role => return Err(RoleMismatch::Conflicting),
            _ => found = Some(role),
        }
    }
    Ok(found)
}

/// RFC 9234 §4.2: whether the neighbor's OPEN fits our role `ours`
/// (`None`: no role configured, nothing is checked). Returns the role the
/// neighbor announced.
pub fn check(ours: Option<Role>, strict: bool, open: &Open) -> Result<Option<Role>, RoleMismatch> {
    let Some(ours) = ours else {
        return Ok(None);
    };
    match announced(open)? {
        Some(theirs) if theirs != ours.expected_peer() => Err(RoleMismatch::Pair { ours, theirs }),
        Some(theirs) => Ok(Some(theirs)),
        None if strict => Err(RoleMismatch::Missing),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn open(caps: Vec<Capability>) -> Open {
        Open::new(65002, 90, Ipv4Addr::new(192, 0, 2, 2), caps)
    }

    #[test]
    fn names_and_codes() {
        for r in Role::ALL {
            assert_eq!(Role::from_code(r.code()), Some(r));
            assert_eq!(Role::parse(r.name()), Some(r));
            assert_eq!(r.expected_peer().expected_peer(), r);
        }
        assert_eq!(Role::parse("rs"), Some(Role::RouteServer));
        assert_eq!(Role::parse("transit"), None);
        assert_eq!(Role::from_code(5), None);
    }

    #[test]
    fn pairs() {
        let customer = open(vec![Capability::Role(Role::Customer)]);
        assert_eq!(
            check(Some(Role::Provider), false, &customer),
            Ok(Some(Role::Customer))
        );
        assert_eq!(
            check(Some(Role::Provider), true, &customer),
            Ok(Some(Role::Customer))
        );
        assert_eq!(
            check(Some(Role::Peer), false, &customer),
            Err(RoleMismatch::Pair {
                ours: Role::Peer,
                theirs: Role::Customer
            })
        );
        let provider = open(vec![Capability::Role(Role::Provider)]);
        assert!(check(Some(Role::Provider), false, &provider).is_err());
        // No role configured: nothing checked.
        assert_eq!(check(None, true, &provider), Ok(None));
    }

    #[test]
    fn missing_conflicting_unknown() {
        let none = open(vec![Capability::FourOctetAs(65002)]);
        assert_eq!(check(Some(Role::Customer), false, &none), Ok(None));
        assert_eq!(
            check(Some(Role::Customer), true, &none),
            Err(RoleMismatch::Missing)
        );
        let two = open(vec![
            Capability::Role(Role::Provider),
            Capability::Role(Role::Peer),
        ]);
        assert_eq!(
            check(Some(Role::Customer), false, &two),
            Err(RoleMismatch::Conflicting)
        );
        let same = open(vec![
            Capability::Role(Role::Provider),
            Capability::Role(Role::Provider),
        ]);
        assert_eq!(
            check(Some(Role::Customer), false, &same),
            Ok(Some(Role::Provider))
        );
        let odd = open(vec![Capability::Unknown {
            code: CAP_ROLE,
            value: vec![7],
        }]);
        assert_eq!(
            check(Some(Role::Customer), false, &odd),
            Err(RoleMismatch::UnknownValue(7))
        );
        let n = RoleMismatch::Missing.notification();
        assert_eq!(n.error, ErrorCode::Open(OpenSubcode::RoleMismatch));
    }
}

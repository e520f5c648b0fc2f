//! OPEN messages (RFC 4271 §4.2) with capabilities as optional parameters
//! (RFC 5492) and extended optional parameter length (RFC 9072), and the
//! OPEN errors of RFC 4271 §6.2.
//!
//! Owns the checks that need nothing but the message itself (version, AS 0,
//! hold time 1 or 2, identifier 0). Never checks the peer AS against
//! configuration or resolves collisions: that is the session's job.

use std::net::Ipv4Addr;

use bytes::{BufMut, BytesMut};
use thiserror::Error;

use super::capability::{
    AddPathMode, Capability, ExtendedNextHop, GracefulRestart, MalformedCapability,
};
use super::nlri::AfiSafi;
use super::notification::{ErrorCode, Notification, OpenSubcode};
use super::{wire, EncodeError, AS_TRANS, BGP_VERSION};

/// Optional parameter type carrying capabilities (RFC 5492 §4).
pub const PARAM_CAPABILITIES: u8 = 2;
/// RFC 9072 §2: marks the extended optional parameters length.
const PARAM_EXTENDED: u8 = 255;

/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+
/// |    Version    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     My Autonomous System      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           Hold Time           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         BGP Identifier                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Opt Parm Len  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                                                               |
/// |             Optional Parameters (variable)                    |
/// |                                                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///
///  0                   1
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Parm. Type   | Parm. Length  |  Parameter Value (variable)
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// RFC 4271 §4.2. With RFC 9072, Opt Parm Len 255 followed by a
/// parameter type of 255 introduces a 2-octet length, and every parameter
/// then has a 2-octet length too.
///
/// Capabilities from all parameters are flattened in order of appearance;
/// we send them all in one parameter, as BIRD does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open {
    pub version: u8,
    /// 2-octet field: AS_TRANS when the real AS needs 4 octets.
    pub my_as: u16,
    pub hold_time: u16,
    pub bgp_id: Ipv4Addr,
    pub capabilities: Vec<Capability>,
}

/// OPEN errors: NOTIFICATION code 2 (RFC 4271 §6.2).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OpenError {
    #[error("unsupported version {0}")]
    UnsupportedVersion(u8),
    #[error("bad peer AS {0}")]
    BadPeerAs(u32),
    #[error("bad BGP identifier {0}")]
    BadBgpIdentifier(Ipv4Addr),
    #[error("unsupported optional parameter {0}")]
    UnsupportedOptionalParameter(u8),
    #[error("unacceptable hold time {0}")]
    UnacceptableHoldTime(u16),
    #[error(transparent)]
    MalformedCapability(#[from] MalformedCapability),
    #[error("optional parameters overrun the message")]
    MalformedParameters,
}

impl OpenError {
    pub fn notification(&self) -> Notification {
        let (subcode, data) = match self {
            // The data is the largest version we support.
            OpenError::UnsupportedVersion(_) => (
                OpenSubcode::UnsupportedVersionNumber,
                u16::from(BGP_VERSION).to_be_bytes().to_vec(),
            ),
            OpenError::BadPeerAs(_) => (OpenSubcode::BadPeerAs, Vec::new()),
            OpenError::BadBgpIdentifier(_) => (OpenSubcode::BadBgpIdentifier, Vec::new()),
            OpenError::UnsupportedOptionalParameter(_) => {
                (OpenSubcode::UnsupportedOptionalParameter, Vec::new())
            }
            OpenError::UnacceptableHoldTime(_) => (OpenSubcode::UnacceptableHoldTime, Vec::new()),
            OpenError::MalformedCapability(_) | OpenError::MalformedParameters => {
                (OpenSubcode::Unspecific, Vec::new())
            }
        };
        Notification::new(ErrorCode::Open(subcode), data)
    }
}

impl Open {
    /// An OPEN for `asn`; puts AS_TRANS in My AS when `asn` needs 4 octets
    /// (the caller includes the 4-octet AS capability).
    pub fn new(asn: u32, hold_time: u16, bgp_id: Ipv4Addr, capabilities: Vec<Capability>) -> Self {
        Self {
            version: BGP_VERSION,
            my_as: u16::try_from(asn).unwrap_or(AS_TRANS as u16),
            hold_time,
            bgp_id,
            capabilities,
        }
    }

    /// The speaker's AS: from the 4-octet AS capability if present.
    pub fn asn(&self) -> u32 {
        self.capabilities
            .iter()
            .find_map(|c| match c {
                Capability::FourOctetAs(asn) => Some(*asn),
                _ => None,
            })
            .unwrap_or(u32::from(self.my_as))
    }

    /// Families of the Multiprotocol capabilities.
    pub fn families(&self) -> impl Iterator<Item = AfiSafi> + '_ {
        self.capabilities.iter().filter_map(|c| match c {
            Capability::Multiprotocol(f) => Some(*f),
            _ => None,
        })
    }

    /// The Graceful Restart capability (the first, if several).
    pub fn graceful_restart(&self) -> Option<&GracefulRestart> {
        self.capabilities.iter().find_map(|c| match c {
            Capability::GracefulRestart(gr) => Some(gr),
            _ => None,
        })
    }

    /// ADD-PATH entries of all ADD-PATH capabilities.
    pub fn add_path(&self) -> impl Iterator<Item = (AfiSafi, AddPathMode)> + '_ {
        self.capabilities
            .iter()
            .filter_map(|c| match c {
                Capability::AddPath(entries) => Some(entries.iter().copied()),
                _ => None,
            })
            .flatten()
    }

    /// Extended Next Hop entries of all Extended Next Hop capabilities
    /// (RFC 8950 §4).
    pub fn extended_next_hop(&self) -> impl Iterator<Item = ExtendedNextHop> + '_ {
        self.capabilities
            .iter()
            .filter_map(|c| match c {
                Capability::ExtendedNextHop(entries) => Some(entries.iter().copied()),
                _ => None,
            })
            .flatten()
    }

    /// The session's check of the peer AS against configuration
    /// (RFC 4271 §6.2, RFC 6793 §4.1), with the NOTIFICATION to send.
    pub fn check_peer_as(&self, expected: u32) -> Result<(), OpenError> {
        if self.asn() == expected {
            Ok(())
        } else {
            Err(OpenError::BadPeerAs(self.asn()))
        }
    }

    pub fn decode_body(body: &[u8]) -> Result<Self, OpenError> {
        let short = |_| OpenError::MalformedParameters;
        let (i, version) = wire::u8(body).map_err(short)?;
        if version != BGP_VERSION {
            return Err(OpenError::UnsupportedVersion(version));
        }
        let (i, my_as) = wire::u16(i).map_err(short)?;
        let (i, hold_time) = wire::u16(i).map_err(short)?;
        let (i, bgp_id) = wire::ipv4(i).map_err(short)?;
        let (i, opt_len) = wire::u8(i).map_err(short)?;
        let mut capabilities = Vec::new();
        if opt_len == 255 && i.first() == Some(&PARAM_EXTENDED) {
            let (i, _) = wire::u8(i).map_err(short)?;
            let (i, len) = wire::u16(i).map_err(short)?;
            if i.len() != usize::from(len) {
                return Err(OpenError::MalformedParameters);
            }
            decode_params(i, true, &mut capabilities)?;
        } else {
            if i.len() != usize::from(opt_len) {
                return Err(OpenError::MalformedParameters);
            }
            decode_params(i, false, &mut capabilities)?;
        }
        let open = Self {
            version,
            my_as,
            hold_time,
            bgp_id,
            capabilities,
        };
        if my_as == 0 || open.asn() == 0 {
            return Err(OpenError::BadPeerAs(open.asn()));
        }
        if hold_time == 1 || hold_time == 2 {
            return Err(OpenError::UnacceptableHoldTime(hold_time));
        }
        // RFC 6286 §2.2: any non-zero value is a valid identifier.
        if bgp_id.is_unspecified() {
            return Err(OpenError::BadBgpIdentifier(bgp_id));
        }
        Ok(open)
    }

    pub(crate) fn encode_body(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        buf.put_u8(self.version);
        buf.put_u16(self.my_as);
        buf.put_u16(self.hold_time);
        buf.put_slice(&self.bgp_id.octets());
        let mut caps = BytesMut::new();
        for cap in &self.capabilities {
            cap.encode(&mut caps);
        }
        if caps.is_empty() {
            buf.put_u8(0);
        } else if caps.len() + 2 <= 255 {
            buf.put_u8(caps.len() as u8 + 2);
            buf.put_u8(PARAM_CAPABILITIES);
            buf.put_u8(caps.len() as u8);
            buf.put_slice(&caps);
        } else {
            // RFC 9072: extended lengths.
            let len = u16::try_from(caps.len() + 3).map_err(|_| EncodeError::OpenTooLong)?;
            buf.put_u8(255);
            buf.put_u8(PARAM_EXTENDED);
            buf.put_u16(len);
            buf.put_u8(PARAM_CAPABILITIES);
            buf.put_u16(len - 3);
            buf.put_slice(&caps);
        }
        Ok(())
    }
}

fn decode_params(
    mut i: &[u8],
    extended: bool,
    capabilities: &mut Vec<Capability>,
) -> Result<(), OpenError> {
    let short = |_| OpenError::MalformedParameters;
    while !i.is_empty() {
        let (rest, kind) = wire::u8(i).map_err(short)?;
        let (rest, len) = if extended {
            wire::u16(rest).map_err(short)?
        } else {
            let (rest, len) = wire::u8(rest).map_err(short)?;
            (rest, u16::from(len))
        };
        let (rest, value) = wire::take(rest, usize::from(len)).map_err(short)?;
        if kind != PARAM_CAPABILITIES {
            return Err(OpenError::UnsupportedOptionalParameter(kind));
        }
        let mut v = value;
        while !v.is_empty() {
            let (r, code) = wire::u8(v).map_err(short)?;
            let (r, clen) = wire::u8(r).map_err(short)?;
            let (r, cval) = wire::take(r, usize::from(clen)).map_err(short)?;
            capabilities.push(Capability::decode(code, cval)?);
            v = r;
        }
        i = rest;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::capability::CAP_FQDN;
    use crate::packet::{decode_message, Message, SessionCaps};

    fn decode_open(wire: &[u8]) -> Result<Open, OpenError> {
        match decode_message(wire, &SessionCaps::default()) {
            Ok(d) => match d.message {
                Message::Open(o) => Ok(o),
                other => panic!("not an OPEN: {other:?}"),
            },
            Err(crate::packet::MessageError::Open(e)) => Err(e),
            Err(e) => panic!("unexpected {e:?}"),
        }
    }

    /// OPEN as FRR 8/9 sends it, each capability in its own parameter.
    #[rustfmt::skip]
    const FRR_OPEN: &[u8] = &[
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // marker
        0x00, 0x58, // length 88
        0x01,       // OPEN
        0x04,       // version 4
        0xfd, 0xe9, // my AS 65001
        0x00, 0xb4, // hold time 180
        0xc0, 0x00, 0x02, 0x01, // BGP id 192.0.2.1
        0x3b,       // opt param len 59
        0x02, 0x06, 0x01, 0x04, 0x00, 0x01, 0x00, 0x01, // MP ipv4 unicast
        0x02, 0x06, 0x01, 0x04, 0x00, 0x02, 0x00, 0x01, // MP ipv6 unicast
        0x02, 0x02, 0x80, 0x00,                         // old Cisco route refresh
        0x02, 0x02, 0x02, 0x00,                         // route refresh
        0x02, 0x02, 0x46, 0x00,                         // enhanced route refresh
        0x02, 0x06, 0x41, 0x04, 0x00, 0x00, 0xfd, 0xe9, // 4-octet AS 65001
        0x02, 0x06, 0x45, 0x04, 0x00, 0x01, 0x01, 0x01, // ADD-PATH ipv4 unicast rx
        0x02, 0x07, 0x49, 0x05, 0x03, b'r', b't', b'1', 0x00, // FQDN "rt1", no domain
        0x02, 0x04, 0x40, 0x02, 0x40, 0x78,             // GR: N bit, 120 s, no families
    ];

    #[test]
    fn frr_open() {
        let open = decode_open(FRR_OPEN).unwrap();
        assert_eq!(open.asn(), 65001);
        assert_eq!(open.hold_time, 180);
        assert_eq!(open.bgp_id, Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(
            open.families().collect::<Vec<_>>(),
            vec![AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST]
        );
        assert_eq!(
            open.add_path().collect::<Vec<_>>(),
            vec![(AfiSafi::IPV4_UNICAST, AddPathMode::Receive)]
        );
        assert!(open.capabilities.contains(&Capability::Unknown {
            code: 128,
            value: vec![]
        }));
        assert!(open.capabilities.contains(&Capability::Unknown {
            code: CAP_FQDN,
            value: vec![3, b'r', b't', b'1', 0]
        }));
        assert!(open
            .capabilities
            .contains(&Capability::GracefulRestart(GracefulRestart {
                restart_state: false,
                notification: true,
                restart_time: 120,
                families: vec![],
            })));
        // We re-encode with all capabilities in one parameter.
        let bytes = Message::Open(open.clone())
            .to_bytes(&SessionCaps::default())
            .unwrap();
        assert_eq!(decode_open(&bytes).unwrap(), open);
    }

    /// OPEN as BIRD 2 sends it: one parameter with every capability, and a
    /// 4-octet AS (AS_TRANS in My AS).
    #[rustfmt::skip]
    const BIRD_OPEN: &[u8] = &[
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // marker
        0x00, 0x41, // length 65
        0x01,       // OPEN
        0x04,       // version 4
        0x5b, 0xa0, // my AS 23456 (AS_TRANS)
        0x00, 0xf0, // hold time 240
        0xc6, 0x33, 0x64, 0x02, // BGP id 198.51.100.2
        0x24,       // opt param len 36
        0x02, 0x22, // capabilities, 34 bytes
        0x01, 0x04, 0x00, 0x01, 0x00, 0x01, // MP ipv4 unicast
        0x02, 0x00,                         // route refresh
        0x06, 0x00,                         // extended message
        0x40, 0x06, 0x00, 0x78, 0x00, 0x01, 0x01, 0x00, // GR 120 s, ipv4 unicast
        0x41, 0x04, 0xfa, 0x56, 0xea, 0x00, // 4-octet AS 4200000000
        0x46, 0x00,                         // enhanced route refresh
        0x05, 0x06, 0x00, 0x01, 0x00, 0x01, 0x00, 0x02, // ext next hop ipv4/ipv6
    ];

    #[test]
    fn bird_open_round_trip() {
        let open = decode_open(BIRD_OPEN).unwrap();
        assert_eq!(open.check_peer_as(4_200_000_000), Ok(()));
        let n = open.check_peer_as(23456).unwrap_err().notification();
        assert_eq!((n.code(), n.subcode()), (2, 2));
        assert_eq!(open.my_as, 23456);
        assert_eq!(open.asn(), 4_200_000_000);
        assert_eq!(open.capabilities.len(), 7);
        let bytes = Message::Open(open)
            .to_bytes(&SessionCaps::default())
            .unwrap();
        assert_eq!(bytes.as_ref(), BIRD_OPEN);
    }

    fn with_body(body_edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let mut v = BIRD_OPEN.to_vec();
        body_edit(&mut v);
        let len = v.len() as u16;
        v[16..18].copy_from_slice(&len.to_be_bytes());
        v
    }

    #[test]
    fn open_errors() {
        let cases: Vec<(Vec<u8>, OpenError, u8, Vec<u8>)> = vec![
            (
                with_body(|v| v[19] = 3),
                OpenError::UnsupportedVersion(3),
                1,
                vec![0, 4],
            ),
            (
                with_body(|v| {
                    v[20] = 0;
                    v[21] = 0;
                    v.truncate(29);
                    v[28] = 0;
                }),
                OpenError::BadPeerAs(0),
                2,
                vec![],
            ),
            (
                with_body(|v| v[24..28].copy_from_slice(&[0, 0, 0, 0])),
                OpenError::BadBgpIdentifier(Ipv4Addr::UNSPECIFIED),
                3,
                vec![],
            ),
            (
                with_body(|v| v[29] = 1),
                OpenError::UnsupportedOptionalParameter(1),
                4,
                vec![],
            ),
            (
                with_body(|v| v[22..24].copy_from_slice(&[0, 2])),
                OpenError::UnacceptableHoldTime(2),
                6,
                vec![],
            ),
            (
                with_body(|v| v[22..24].copy_from_slice(&[0, 1])),
                OpenError::UnacceptableHoldTime(1),
                6,
                vec![],
            ),
            (
                with_body(|v| v[28] = 40),
                OpenError::MalformedParameters,
                0,
                vec![],
            ),
        ];
        for (wire, err, subcode, data) in cases {
            let got = decode_open(&wire).unwrap_err();
            assert_eq!(got, err);
            let n = got.notification();
            assert_eq!((n.code(), n.subcode(), n.data), (2, subcode, data), "{err}");
        }
    }

    #[test]
    fn extended_optional_parameters() {
        let caps: Vec<_> = (0..70u8)
            .map(|i| Capability::Unknown {
                code: 200,
                value: vec![i; 3],
            })
            .collect();
        let open = Open::new(65000, 90, Ipv4Addr::new(192, 0, 2, 9), caps);
        let bytes = Message::Open(open.clone())
            .to_bytes(&SessionCaps::default())
            .unwrap();
        assert_eq!(bytes[28], 255);
        assert_eq!(bytes[29], 255);
        assert_eq!(decode_open(&bytes).unwrap(), open);
    }
}

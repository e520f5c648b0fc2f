//! The extended communities an EVPN route carries (RFC 4360 §2 layout):
//! route targets (RFC 4360 §4, RFC 5668 §2), the BGP encapsulation
//! community (RFC 9012 §4.1, tunnel type 8 = VXLAN), MAC mobility with
//! its sequence number and sticky flag (RFC 7432 §7.7) and the default
//! gateway community (RFC 7432 §7.8).
//!
//! Owns the typed reading and building of those 8-octet values on top of
//! [`ExtendedCommunity`]. Never decides what a route target matches (the
//! RIB's import does).

use std::fmt;
use std::net::Ipv4Addr;

use super::nlri::EvpnError;
use crate::packet::ExtendedCommunity;

/// RFC 9012 §3.1 / IANA "BGP Tunnel Encapsulation Attribute Tunnel Types".
pub const TUNNEL_VXLAN: u16 = 8;

/// A route target (type high 0x00, 0x01 or 0x02; subtype 0x02).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RouteTarget {
    As2 { asn: u16, value: u32 },
    Ip { addr: Ipv4Addr, value: u16 },
    As4 { asn: u32, value: u16 },
}

impl RouteTarget {
    /// RT AS:VNI as FRR derives it (RFC 8365 §5.1.2.1): the 2-octet form,
    /// or the 4-octet-AS form with the low 16 bits of the VNI.
    pub fn auto(asn: u32, vni: u32) -> RouteTarget {
        match u16::try_from(asn) {
            Ok(asn) => RouteTarget::As2 { asn, value: vni },
            Err(_) => RouteTarget::As4 {
                asn,
                value: (vni & 0xffff) as u16,
            },
        }
    }

    /// The local administrator part, as a number.
    pub fn local(&self) -> u32 {
        match *self {
            Self::As2 { value, .. } => value,
            Self::Ip { value, .. } | Self::As4 { value, .. } => u32::from(value),
        }
    }

    pub fn community(&self) -> ExtendedCommunity {
        let mut b = [0u8; 8];
        b[1] = 0x02;
        match *self {
            Self::As2 { asn, value } => {
                b[2..4].copy_from_slice(&asn.to_be_bytes());
                b[4..8].copy_from_slice(&value.to_be_bytes());
            }
            Self::Ip { addr, value } => {
                b[0] = 0x01;
                b[2..6].copy_from_slice(&addr.octets());
                b[6..8].copy_from_slice(&value.to_be_bytes());
            }
            Self::As4 { asn, value } => {
                b[0] = 0x02;
                b[2..6].copy_from_slice(&asn.to_be_bytes());
                b[6..8].copy_from_slice(&value.to_be_bytes());
            }
        }
        ExtendedCommunity(b)
    }

    pub fn from_community(c: &ExtendedCommunity) -> Option<RouteTarget> {
        let [t, s, a, b, c1, d, e, g] = c.0;
        if s != 0x02 {
            return None;
        }
        match t {
            0x00 => Some(Self::As2 {
                asn: u16::from_be_bytes([a, b]),
                value: u32::from_be_bytes([c1, d, e, g]),
            }),
            0x01 => Some(Self::Ip {
                addr: Ipv4Addr::new(a, b, c1, d),
                value: u16::from_be_bytes([e, g]),
            }),
            0x02 => Some(Self::As4 {
                asn: u32::from_be_bytes([a, b, c1, d]),
                value: u16::from_be_bytes([e, g]),
            }),
            _ => None,
        }
    }
}

impl fmt::Display for RouteTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::As2 { asn, value } => write!(f, "{asn}:{value}"),
            Self::Ip { addr, value } => write!(f, "{addr}:{value}"),
            Self::As4 { asn, value } => write!(f, "{asn}:{value}"),
        }
    }
}

impl std::str::FromStr for RouteTarget {
    type Err = EvpnError;
    /// `ASN:value` or `IPv4:value`.
    fn from_str(s: &str) -> Result<Self, EvpnError> {
        let bad = |_| EvpnError::BadText;
        let (admin, value) = s.rsplit_once(':').ok_or(EvpnError::BadText)?;
        if let Ok(addr) = admin.parse::<Ipv4Addr>() {
            return Ok(Self::Ip {
                addr,
                value: value.parse().map_err(bad)?,
            });
        }
        let asn: u32 = admin.parse().map_err(|_| EvpnError::BadText)?;
        match u16::try_from(asn) {
            Ok(asn) => Ok(Self::As2 {
                asn,
                value: value.parse().map_err(bad)?,
            }),
            Err(_) => Ok(Self::As4 {
                asn,
                value: value.parse().map_err(bad)?,
            }),
        }
    }
}

/// BGP encapsulation extended community (RFC 9012 §4.1): type 0x03,
/// subtype 0x0c, four reserved octets, the tunnel type.
pub fn encapsulation(tunnel_type: u16) -> ExtendedCommunity {
    let [a, b] = tunnel_type.to_be_bytes();
    ExtendedCommunity([0x03, 0x0c, 0, 0, 0, 0, a, b])
}

/// The tunnel type of an encapsulation community.
pub fn encapsulation_of(c: &ExtendedCommunity) -> Option<u16> {
    let [t, s, _, _, _, _, a, b] = c.0;
    (t == 0x03 && s == 0x0c).then_some(u16::from_be_bytes([a, b]))
}

/// MAC Mobility extended community (RFC 7432 §7.7).
///
/// ```text
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Type=0x06     | Sub-Type=0x00 |Flags(1 octet)|  Reserved=0    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                       Sequence Number                         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// Flags: the low-order bit is "sticky/static".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct MacMobility {
    pub sequence: u32,
    pub sticky: bool,
}

impl MacMobility {
    pub fn community(&self) -> ExtendedCommunity {
        let [a, b, c, d] = self.sequence.to_be_bytes();
        ExtendedCommunity([0x06, 0x00, u8::from(self.sticky), 0, a, b, c, d])
    }

    pub fn from_community(c: &ExtendedCommunity) -> Option<MacMobility> {
        let [t, s, flags, _, a, b, c1, d] = c.0;
        (t == 0x06 && s == 0x00).then_some(MacMobility {
            sequence: u32::from_be_bytes([a, b, c1, d]),
            sticky: flags & 0x01 != 0,
        })
    }

    /// The MAC mobility of a route's communities (none: sequence 0).
    pub fn of(communities: &[ExtendedCommunity]) -> Option<MacMobility> {
        communities.iter().find_map(Self::from_community)
    }
}

/// Default Gateway extended community (RFC 7432 §7.8, the opaque type
/// 0x03 subtype 0x0d of RFC 5512).
pub const DEFAULT_GATEWAY: ExtendedCommunity = ExtendedCommunity([0x03, 0x0d, 0, 0, 0, 0, 0, 0]);

/// FRR's words for a community in `show bgp l2vpn evpn`.
pub fn describe(c: &ExtendedCommunity) -> String {
    if let Some(rt) = RouteTarget::from_community(c) {
        return format!("RT:{rt}");
    }
    if let Some(t) = encapsulation_of(c) {
        return match t {
            TUNNEL_VXLAN => "ET:8".to_string(),
            other => format!("ET:{other}"),
        };
    }
    if let Some(m) = MacMobility::from_community(c) {
        return if m.sticky {
            format!("MM:{}, sticky MAC", m.sequence)
        } else {
            format!("MM:{}", m.sequence)
        };
    }
    if *c == DEFAULT_GATEWAY {
        return "Default Gateway".to_string();
    }
    c.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_target_round_trip() {
        for rt in [
            RouteTarget::As2 {
                asn: 65001,
                value: 100,
            },
            RouteTarget::Ip {
                addr: Ipv4Addr::new(192, 0, 2, 1),
                value: 5,
            },
            RouteTarget::As4 {
                asn: 4_200_000_000,
                value: 100,
            },
        ] {
            assert_eq!(RouteTarget::from_community(&rt.community()), Some(rt));
            assert_eq!(rt.to_string().parse::<RouteTarget>(), Ok(rt));
        }
        assert_eq!(
            RouteTarget::auto(65001, 100).community().0,
            [0, 2, 0xfd, 0xe9, 0, 0, 0, 100]
        );
        assert_eq!(
            describe(&RouteTarget::auto(65001, 100).community()),
            "RT:65001:100"
        );
    }

    #[test]
    fn encapsulation_and_mobility_bytes() {
        assert_eq!(encapsulation(TUNNEL_VXLAN).0, [3, 0x0c, 0, 0, 0, 0, 0, 8]);
        assert_eq!(encapsulation_of(&encapsulation(TUNNEL_VXLAN)), Some(8));
        let mm = MacMobility {
            sequence: 3,
            sticky: true,
        };
        assert_eq!(mm.community().0, [6, 0, 1, 0, 0, 0, 0, 3]);
        assert_eq!(
            MacMobility::of(&[encapsulation(8), mm.community()]),
            Some(mm)
        );
        assert_eq!(describe(&mm.community()), "MM:3, sticky MAC");
        assert_eq!(describe(&DEFAULT_GATEWAY), "Default Gateway");
    }
}

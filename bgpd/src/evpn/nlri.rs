//! EVPN NLRI (RFC 7432 §7) as carried in MP_REACH/MP_UNREACH of AFI 25,
//! SAFI 70, with the VXLAN reading of the label fields (RFC 8365 §5.1.3:
//! the 24-bit VNI fills the 3-octet MPLS label field).
//!
//! Owns the byte layout of every route type, route distinguishers (RFC
//! 4364 §4.2 types 0, 1, 2), ESIs and MAC addresses, and the route key the
//! RIB compares routes by (RFC 7432 §7.2: ESI and labels are not part of
//! a MAC/IP route's key). Types 2 and 3 are decoded field by field; the
//! others are kept as bytes so a route reflector passes them on. Never
//! panics on peer data: every shortfall is an [`EvpnError`].

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::{BufMut, BytesMut};
use thiserror::Error;

use crate::packet::wire;

/// A 48-bit MAC address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Mac(pub [u8; 6]);

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl std::str::FromStr for Mac {
    type Err = EvpnError;
    fn from_str(s: &str) -> Result<Self, EvpnError> {
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for o in out.iter_mut() {
            let p = parts.next().ok_or(EvpnError::BadText)?;
            *o = u8::from_str_radix(p, 16).map_err(|_| EvpnError::BadText)?;
        }
        if parts.next().is_some() {
            return Err(EvpnError::BadText);
        }
        Ok(Mac(out))
    }
}

impl Mac {
    /// From a byte slice that must be exactly six octets long.
    pub fn from_slice(b: &[u8]) -> Option<Mac> {
        <[u8; 6]>::try_from(b).ok().map(Mac)
    }
}

/// Route Distinguisher (RFC 4364 §4.2).
///
/// ```text
/// +-------------------+-------------------------------------------+
/// | Type (2 octets)   | Value (6 octets)                          |
/// +-------------------+-------------------------------------------+
/// type 0: Administrator = 2-octet ASN, Assigned Number = 4 octets
/// type 1: Administrator = IPv4 address, Assigned Number = 2 octets
/// type 2: Administrator = 4-octet ASN, Assigned Number = 2 octets
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RouteDistinguisher {
    As2 {
        asn: u16,
        number: u32,
    },
    Ip {
        addr: Ipv4Addr,
        number: u16,
    },
    As4 {
        asn: u32,
        number: u16,
    },
    /// A type this codec does not know, kept whole.
    Other([u8; 8]),
}

impl RouteDistinguisher {
    pub fn to_bytes(self) -> [u8; 8] {
        let mut b = [0u8; 8];
        match self {
            Self::As2 { asn, number } => {
                b[2..4].copy_from_slice(&asn.to_be_bytes());
                b[4..8].copy_from_slice(&number.to_be_bytes());
            }
            Self::Ip { addr, number } => {
                b[1] = 1;
                b[2..6].copy_from_slice(&addr.octets());
                b[6..8].copy_from_slice(&number.to_be_bytes());
            }
            Self::As4 { asn, number } => {
                b[1] = 2;
                b[2..6].copy_from_slice(&asn.to_be_bytes());
                b[6..8].copy_from_slice(&number.to_be_bytes());
            }
            Self::Other(raw) => b = raw,
        }
        b
    }

    pub fn from_bytes(b: [u8; 8]) -> Self {
        let [t0, t1, a, c, d, e, g, h] = b;
        match u16::from_be_bytes([t0, t1]) {
            0 => Self::As2 {
                asn: u16::from_be_bytes([a, c]),
                number: u32::from_be_bytes([d, e, g, h]),
            },
            1 => Self::Ip {
                addr: Ipv4Addr::new(a, c, d, e),
                number: u16::from_be_bytes([g, h]),
            },
            2 => Self::As4 {
                asn: u32::from_be_bytes([a, c, d, e]),
                number: u16::from_be_bytes([g, h]),
            },
            _ => Self::Other(b),
        }
    }
}

impl fmt::Display for RouteDistinguisher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::As2 { asn, number } => write!(f, "{asn}:{number}"),
            Self::Ip { addr, number } => write!(f, "{addr}:{number}"),
            Self::As4 { asn, number } => write!(f, "{asn}:{number}"),
            Self::Other(b) => {
                for x in b {
                    write!(f, "{x:02x}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::str::FromStr for RouteDistinguisher {
    type Err = EvpnError;
    /// `ASN:number` (type 0, or 2 when the ASN needs 4 octets) or
    /// `IPv4:number` (type 1), as FRR writes them.
    fn from_str(s: &str) -> Result<Self, EvpnError> {
        let (admin, number) = s.rsplit_once(':').ok_or(EvpnError::BadText)?;
        if let Ok(addr) = admin.parse::<Ipv4Addr>() {
            let number = number.parse().map_err(|_| EvpnError::BadText)?;
            return Ok(Self::Ip { addr, number });
        }
        let asn: u32 = admin.parse().map_err(|_| EvpnError::BadText)?;
        match u16::try_from(asn) {
            Ok(asn) => Ok(Self::As2 {
                asn,
                number: number.parse().map_err(|_| EvpnError::BadText)?,
            }),
            Err(_) => Ok(Self::As4 {
                asn,
                number: number.parse().map_err(|_| EvpnError::BadText)?,
            }),
        }
    }
}

/// Ethernet Segment Identifier (RFC 7432 §5): 10 octets, all zero for a
/// single-homed segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Esi(pub [u8; 10]);

impl fmt::Display for Esi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// MAC/IP Advertisement route (RFC 7432 §7.2).
///
/// ```text
/// +---------------------------------------+
/// |  RD (8 octets)                        |
/// +---------------------------------------+
/// |Ethernet Segment Identifier (10 octets)|
/// +---------------------------------------+
/// |  Ethernet Tag ID (4 octets)           |
/// +---------------------------------------+
/// |  MAC Address Length (1 octet)         |
/// +---------------------------------------+
/// |  MAC Address (6 octets)               |
/// +---------------------------------------+
/// |  IP Address Length (1 octet)          |
/// +---------------------------------------+
/// |  IP Address (0, 4, or 16 octets)      |
/// +---------------------------------------+
/// |  MPLS Label1 (3 octets)               |
/// +---------------------------------------+
/// |  MPLS Label2 (0 or 3 octets)          |
/// +---------------------------------------+
/// ```
/// With VXLAN, Label1 is the layer-2 VNI and Label2 the layer-3 VNI
/// (RFC 8365 §5.1.3, RFC 9135).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacIpRoute {
    pub rd: RouteDistinguisher,
    pub esi: Esi,
    pub ethernet_tag: u32,
    pub mac: Mac,
    pub ip: Option<IpAddr>,
    pub vni: u32,
    pub vni2: Option<u32>,
}

/// Inclusive Multicast Ethernet Tag route (RFC 7432 §7.3).
///
/// ```text
/// +---------------------------------------+
/// |  RD (8 octets)                        |
/// +---------------------------------------+
/// |  Ethernet Tag ID (4 octets)           |
/// +---------------------------------------+
/// |  IP Address Length (1 octet)          |
/// +---------------------------------------+
/// |  Originating Router's IP Address      |
/// |          (4 or 16 octets)             |
/// +---------------------------------------+
/// ```
/// The VNI travels in the PMSI tunnel attribute's label (RFC 8365 §5.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImetRoute {
    pub rd: RouteDistinguisher,
    pub ethernet_tag: u32,
    pub originator: IpAddr,
}

/// One EVPN route.
///
/// ```text
/// +-----------------------------------+
/// |    Route Type (1 octet)           |
/// +-----------------------------------+
/// |     Length (1 octet)              |
/// +-----------------------------------+
/// | Route Type specific (variable)    |
/// +-----------------------------------+
/// ```
/// RFC 7432 §7.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EvpnRoute {
    MacIp(MacIpRoute),
    Imet(ImetRoute),
    /// Types 1, 4, 5 and unknown ones: kept, passed on, not used.
    Other {
        route_type: u8,
        value: Vec<u8>,
    },
}

/// Route type numbers (IANA "EVPN Route Types").
pub mod route_type {
    pub const ETHERNET_AD: u8 = 1;
    pub const MAC_IP: u8 = 2;
    pub const IMET: u8 = 3;
    pub const ETHERNET_SEGMENT: u8 = 4;
    pub const IP_PREFIX: u8 = 5;
}

/// What identifies a route in the RIB: a later announcement with the same
/// key replaces it, a withdrawal with the same key removes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EvpnKey {
    MacIp {
        rd: RouteDistinguisher,
        ethernet_tag: u32,
        mac: Mac,
        ip: Option<IpAddr>,
    },
    Imet {
        rd: RouteDistinguisher,
        ethernet_tag: u32,
        originator: IpAddr,
    },
    Other {
        route_type: u8,
        value: Vec<u8>,
    },
}

impl EvpnKey {
    pub fn route_type(&self) -> u8 {
        match self {
            Self::MacIp { .. } => route_type::MAC_IP,
            Self::Imet { .. } => route_type::IMET,
            Self::Other { route_type, .. } => *route_type,
        }
    }

    pub fn rd(&self) -> Option<RouteDistinguisher> {
        match self {
            Self::MacIp { rd, .. } | Self::Imet { rd, .. } => Some(*rd),
            Self::Other { value, .. } => value
                .get(..8)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map(RouteDistinguisher::from_bytes),
        }
    }
}

/// FRR's text for a route: `[2]:[0]:[48]:[00:11:22:33:44:55]:[32]:[192.0.2.1]`
/// (MAC/IP), `[3]:[0]:[32]:[192.0.2.1]` (IMET), `[5]:…` raw otherwise.
impl fmt::Display for EvpnKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MacIp {
                ethernet_tag,
                mac,
                ip,
                ..
            } => {
                write!(f, "[2]:[{ethernet_tag}]:[48]:[{mac}]")?;
                match ip {
                    Some(IpAddr::V4(a)) => write!(f, ":[32]:[{a}]"),
                    Some(IpAddr::V6(a)) => write!(f, ":[128]:[{a}]"),
                    None => Ok(()),
                }
            }
            Self::Imet {
                ethernet_tag,
                originator,
                ..
            } => {
                let len = if originator.is_ipv4() { 32 } else { 128 };
                write!(f, "[3]:[{ethernet_tag}]:[{len}]:[{originator}]")
            }
            Self::Other { route_type, value } => {
                write!(f, "[{route_type}]:[")?;
                for b in value {
                    write!(f, "{b:02x}")?;
                }
                f.write_str("]")
            }
        }
    }
}

/// An EVPN NLRI field that cannot be parsed (RFC 7606 §5.4: the UPDATE's
/// NLRI cannot be located, so the session is reset).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum EvpnError {
    #[error("route overruns the field")]
    Truncated,
    #[error("route type {route_type}: length {len} is wrong")]
    Length { route_type: u8, len: u8 },
    #[error("MAC address length {0} (must be 48)")]
    MacLength(u8),
    #[error("IP address length {0} (must be 0, 32 or 128)")]
    IpLength(u8),
    #[error("not a valid text form")]
    BadText,
}

fn ip_of(len_bits: u8, bytes: &[u8]) -> Result<Option<IpAddr>, EvpnError> {
    match (len_bits, bytes.len()) {
        (0, 0) => Ok(None),
        (32, 4) => Ok(<[u8; 4]>::try_from(bytes)
            .ok()
            .map(|b| IpAddr::V4(Ipv4Addr::from(b)))),
        (128, 16) => Ok(<[u8; 16]>::try_from(bytes)
            .ok()
            .map(|b| IpAddr::V6(Ipv6Addr::from(b)))),
        _ => Err(EvpnError::IpLength(len_bits)),
    }
}

fn put_ip(buf: &mut BytesMut, ip: Option<IpAddr>) {
    match ip {
        None => buf.put_u8(0),
        Some(IpAddr::V4(a)) => {
            buf.put_u8(32);
            buf.put_slice(&a.octets());
        }
        Some(IpAddr::V6(a)) => {
            buf.put_u8(128);
            buf.put_slice(&a.octets());
        }
    }
}

fn label(b: &[u8]) -> u32 {
    b.iter().fold(0u32, |acc, x| acc << 8 | u32::from(*x))
}

fn put_label(buf: &mut BytesMut, vni: u32) {
    let [_, a, b, c] = vni.to_be_bytes();
    buf.put_slice(&[a, b, c]);
}

fn rd(i: &[u8]) -> wire::Res<'_, RouteDistinguisher> {
    let (i, b) = wire::take(i, 8)?;
    let mut raw = [0u8; 8];
    raw.copy_from_slice(b);
    Ok((i, RouteDistinguisher::from_bytes(raw)))
}

impl EvpnRoute {
    pub fn route_type(&self) -> u8 {
        match self {
            Self::MacIp(_) => route_type::MAC_IP,
            Self::Imet(_) => route_type::IMET,
            Self::Other { route_type, .. } => *route_type,
        }
    }

    pub fn key(&self) -> EvpnKey {
        match self {
            Self::MacIp(r) => EvpnKey::MacIp {
                rd: r.rd,
                ethernet_tag: r.ethernet_tag,
                mac: r.mac,
                ip: r.ip,
            },
            Self::Imet(r) => EvpnKey::Imet {
                rd: r.rd,
                ethernet_tag: r.ethernet_tag,
                originator: r.originator,
            },
            Self::Other { route_type, value } => EvpnKey::Other {
                route_type: *route_type,
                value: value.clone(),
            },
        }
    }

    /// Bytes this route takes on the wire.
    pub fn wire_len(&self) -> usize {
        2 + match self {
            Self::MacIp(r) => {
                8 + 10
                    + 4
                    + 1
                    + 6
                    + 1
                    + r.ip.map_or(0, |a| if a.is_ipv4() { 4 } else { 16 })
                    + 3
                    + if r.vni2.is_some() { 3 } else { 0 }
            }
            Self::Imet(r) => 8 + 4 + 1 + if r.originator.is_ipv4() { 4 } else { 16 },
            Self::Other { value, .. } => value.len().min(255),
        }
    }

    /// Append this route (type, length, value).
    pub fn encode(&self, buf: &mut BytesMut) {
        buf.put_u8(self.route_type());
        let at = buf.len();
        buf.put_u8(0);
        match self {
            Self::MacIp(r) => {
                buf.put_slice(&r.rd.to_bytes());
                buf.put_slice(&r.esi.0);
                buf.put_u32(r.ethernet_tag);
                buf.put_u8(48);
                buf.put_slice(&r.mac.0);
                put_ip(buf, r.ip);
                put_label(buf, r.vni);
                if let Some(v) = r.vni2 {
                    put_label(buf, v);
                }
            }
            Self::Imet(r) => {
                buf.put_slice(&r.rd.to_bytes());
                buf.put_u32(r.ethernet_tag);
                put_ip(buf, Some(r.originator));
            }
            Self::Other { value, .. } => {
                buf.put_slice(value.get(..255).unwrap_or(value));
            }
        }
        let len = buf.len().saturating_sub(at + 1);
        if let Some(b) = buf.get_mut(at) {
            *b = u8::try_from(len).unwrap_or(u8::MAX);
        }
    }

    /// Decode one route from the start of `input`.
    pub fn decode(input: &[u8]) -> Result<(&[u8], EvpnRoute), EvpnError> {
        let trunc = |_| EvpnError::Truncated;
        let (i, kind) = wire::u8(input).map_err(trunc)?;
        let (i, len) = wire::u8(i).map_err(trunc)?;
        let (rest, v) = wire::take(i, usize::from(len)).map_err(trunc)?;
        let bad_len = EvpnError::Length {
            route_type: kind,
            len,
        };
        let route = match kind {
            route_type::MAC_IP => {
                let (v, rd) = rd(v).map_err(|_| bad_len)?;
                let (v, esi) = wire::take(v, 10).map_err(|_| bad_len)?;
                let (v, ethernet_tag) = wire::u32(v).map_err(|_| bad_len)?;
                let (v, mac_len) = wire::u8(v).map_err(|_| bad_len)?;
                if mac_len != 48 {
                    return Err(EvpnError::MacLength(mac_len));
                }
                let (v, mac) = wire::take(v, 6).map_err(|_| bad_len)?;
                let (v, ip_len) = wire::u8(v).map_err(|_| bad_len)?;
                let ip_bytes = match ip_len {
                    0 => 0,
                    32 => 4,
                    128 => 16,
                    other => return Err(EvpnError::IpLength(other)),
                };
                let (v, ip) = wire::take(v, ip_bytes).map_err(|_| bad_len)?;
                let ip = ip_of(ip_len, ip)?;
                let (vni, vni2) = match v.len() {
                    3 => (label(v), None),
                    6 => (label(&v[..3]), Some(label(&v[3..]))),
                    _ => return Err(bad_len),
                };
                let mut esi_b = [0u8; 10];
                esi_b.copy_from_slice(esi);
                EvpnRoute::MacIp(MacIpRoute {
                    rd,
                    esi: Esi(esi_b),
                    ethernet_tag,
                    mac: Mac::from_slice(mac).ok_or(bad_len)?,
                    ip,
                    vni,
                    vni2,
                })
            }
            route_type::IMET => {
                let (v, rd) = rd(v).map_err(|_| bad_len)?;
                let (v, ethernet_tag) = wire::u32(v).map_err(|_| bad_len)?;
                let (v, ip_len) = wire::u8(v).map_err(|_| bad_len)?;
                let originator = ip_of(ip_len, v)?.ok_or(EvpnError::IpLength(ip_len))?;
                EvpnRoute::Imet(ImetRoute {
                    rd,
                    ethernet_tag,
                    originator,
                })
            }
            _ => EvpnRoute::Other {
                route_type: kind,
                value: v.to_vec(),
            },
        };
        Ok((rest, route))
    }
}

/// Decode a whole field of EVPN routes.
pub fn decode_routes(mut input: &[u8]) -> Result<Vec<EvpnRoute>, EvpnError> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let (rest, r) = EvpnRoute::decode(input)?;
        out.push(r);
        input = rest;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rd1() -> RouteDistinguisher {
        RouteDistinguisher::Ip {
            addr: Ipv4Addr::new(192, 0, 2, 1),
            number: 2,
        }
    }

    fn roundtrip(r: &EvpnRoute) {
        let mut buf = BytesMut::new();
        r.encode(&mut buf);
        assert_eq!(buf.len(), r.wire_len());
        let got = decode_routes(&buf).unwrap();
        assert_eq!(got, vec![r.clone()]);
    }

    #[test]
    fn frr_type2_bytes() {
        // A type-2 route as FRR 8.4 sends it: RD 192.0.2.1:2, MAC
        // 00:11:22:33:44:55 with IP 198.51.100.10, VNI 100.
        let wire: Vec<u8> = [
            &[2u8, 37][..],
            &[0, 1, 192, 0, 2, 1, 0, 2],
            &[0; 10],
            &[0, 0, 0, 0],
            &[48, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55],
            &[32, 198, 51, 100, 10],
            &[0, 0, 100],
        ]
        .concat();
        let got = decode_routes(&wire).unwrap();
        let want = EvpnRoute::MacIp(MacIpRoute {
            rd: rd1(),
            esi: Esi::default(),
            ethernet_tag: 0,
            mac: "00:11:22:33:44:55".parse().unwrap(),
            ip: Some("198.51.100.10".parse().unwrap()),
            vni: 100,
            vni2: None,
        });
        assert_eq!(got, vec![want.clone()]);
        let mut buf = BytesMut::new();
        want.encode(&mut buf);
        assert_eq!(&buf[..], &wire[..]);
        assert_eq!(
            want.key().to_string(),
            "[2]:[0]:[48]:[00:11:22:33:44:55]:[32]:[198.51.100.10]"
        );
    }

    #[test]
    fn type3_bytes() {
        let wire = [
            3u8, 17, 0, 1, 192, 0, 2, 1, 0, 2, 0, 0, 0, 0, 32, 192, 0, 2, 1,
        ];
        let got = decode_routes(&wire).unwrap();
        let want = EvpnRoute::Imet(ImetRoute {
            rd: rd1(),
            ethernet_tag: 0,
            originator: "192.0.2.1".parse().unwrap(),
        });
        assert_eq!(got, vec![want.clone()]);
        assert_eq!(want.key().to_string(), "[3]:[0]:[32]:[192.0.2.1]");
        roundtrip(&want);
    }

    /// A type 3 route of an IPv6 VTEP: IP length 128 and 16 bytes (RFC
    /// 7432 §7.3), as our leaves send it over an IPv6 underlay.
    #[test]
    fn type3_ipv6_bytes() {
        let mut wire = vec![3u8, 29, 0, 1, 192, 0, 2, 1, 0, 2, 0, 0, 0, 0, 128];
        wire.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
        wire.extend_from_slice(&[0; 11]);
        wire.push(1);
        let got = decode_routes(&wire).unwrap();
        let want = EvpnRoute::Imet(ImetRoute {
            rd: rd1(),
            ethernet_tag: 0,
            originator: "2001:db8::1".parse().unwrap(),
        });
        assert_eq!(got, vec![want.clone()]);
        assert_eq!(want.key().to_string(), "[3]:[0]:[128]:[2001:db8::1]");
        roundtrip(&want);
        // An IP length that is neither 32 nor 128 is an error.
        let mut bad = wire.clone();
        bad[14] = 64;
        assert!(decode_routes(&bad).is_err());
    }

    #[test]
    fn other_types_kept() {
        let wire = [5u8, 3, 1, 2, 3, 1, 0];
        let got = decode_routes(&wire).unwrap();
        assert_eq!(
            got,
            vec![
                EvpnRoute::Other {
                    route_type: 5,
                    value: vec![1, 2, 3]
                },
                EvpnRoute::Other {
                    route_type: 1,
                    value: vec![]
                }
            ]
        );
        for r in &got {
            roundtrip(r);
        }
    }

    #[test]
    fn errors() {
        assert_eq!(decode_routes(&[2]), Err(EvpnError::Truncated));
        assert_eq!(decode_routes(&[2, 5, 0, 0]), Err(EvpnError::Truncated));
        assert_eq!(
            decode_routes(&[3, 2, 0, 0]),
            Err(EvpnError::Length {
                route_type: 3,
                len: 2
            })
        );
        // IMET with a 24-bit address length.
        let mut w = vec![3u8, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 24, 1, 2, 3];
        assert_eq!(decode_routes(&w), Err(EvpnError::IpLength(24)));
        w[14] = 32;
        assert!(decode_routes(&w).is_err());
    }

    #[test]
    fn rd_text() {
        for s in ["65000:100", "192.0.2.1:7", "4200000000:5"] {
            let rd: RouteDistinguisher = s.parse().unwrap();
            assert_eq!(rd.to_string(), s);
            assert_eq!(RouteDistinguisher::from_bytes(rd.to_bytes()), rd);
        }
        assert!("x:1".parse::<RouteDistinguisher>().is_err());
        assert!("00:11:22:33:44".parse::<Mac>().is_err());
    }

    fn arb_rd() -> impl Strategy<Value = RouteDistinguisher> {
        prop_oneof![
            (any::<u16>(), any::<u32>())
                .prop_map(|(asn, number)| RouteDistinguisher::As2 { asn, number }),
            (any::<[u8; 4]>(), any::<u16>()).prop_map(|(a, number)| RouteDistinguisher::Ip {
                addr: Ipv4Addr::from(a),
                number
            }),
            (any::<u32>(), any::<u16>())
                .prop_map(|(asn, number)| RouteDistinguisher::As4 { asn, number }),
        ]
    }

    fn arb_ip() -> impl Strategy<Value = IpAddr> {
        prop_oneof![
            any::<[u8; 4]>().prop_map(|a| IpAddr::V4(a.into())),
            any::<[u8; 16]>().prop_map(|a| IpAddr::V6(a.into())),
        ]
    }

    fn arb_route() -> impl Strategy<Value = EvpnRoute> {
        prop_oneof![
            (
                arb_rd(),
                any::<[u8; 10]>(),
                any::<u32>(),
                any::<[u8; 6]>(),
                proptest::option::of(arb_ip()),
                0u32..1 << 24,
                proptest::option::of(0u32..1 << 24)
            )
                .prop_map(|(rd, esi, ethernet_tag, mac, ip, vni, vni2)| {
                    EvpnRoute::MacIp(MacIpRoute {
                        rd,
                        esi: Esi(esi),
                        ethernet_tag,
                        mac: Mac(mac),
                        ip,
                        vni,
                        vni2,
                    })
                }),
            (arb_rd(), any::<u32>(), arb_ip()).prop_map(|(rd, ethernet_tag, originator)| {
                EvpnRoute::Imet(ImetRoute {
                    rd,
                    ethernet_tag,
                    originator,
                })
            }),
            (
                prop_oneof![Just(1u8), Just(4), Just(5), 6u8..=255],
                prop::collection::vec(any::<u8>(), 0..60)
            )
                .prop_map(|(route_type, value)| EvpnRoute::Other { route_type, value }),
        ]
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(routes) = decode_routes(&bytes) {
                let mut buf = BytesMut::new();
                for r in &routes {
                    r.encode(&mut buf);
                    let _ = r.key().to_string();
                }
                prop_assert_eq!(decode_routes(&buf).ok(), Some(routes));
            }
        }

        #[test]
        fn routes_round_trip(routes in prop::collection::vec(arb_route(), 0..8)) {
            let mut buf = BytesMut::new();
            for r in &routes {
                r.encode(&mut buf);
            }
            prop_assert_eq!(buf.len(), routes.iter().map(EvpnRoute::wire_len).sum::<usize>());
            prop_assert_eq!(decode_routes(&buf).unwrap(), routes);
        }
    }
}

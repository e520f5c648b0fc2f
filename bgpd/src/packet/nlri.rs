//! Address families and prefix encoding (RFC 4271 §4.3, RFC 4760 §5,
//! RFC 7911 §3 for the ADD-PATH path identifier).
//!
//! Owns the (length, prefix) encoding shared by NLRI, withdrawn routes and
//! the MP attributes. Never decides what a parse failure means for the
//! session: callers map [`NlriError`] to their RFC 7606 action.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::{BufMut, BytesMut};
use ipnetwork::{IpNetwork, Ipv4Network, Ipv6Network};
use thiserror::Error;

use super::wire;

/// Address Family Identifier (IANA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Afi(pub u16);

impl Afi {
    pub const IPV4: Afi = Afi(1);
    pub const IPV6: Afi = Afi(2);
    pub const L2VPN: Afi = Afi(25);
}

/// Subsequent Address Family Identifier (IANA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Safi(pub u8);

impl Safi {
    pub const UNICAST: Safi = Safi(1);
    pub const MULTICAST: Safi = Safi(2);
    pub const EVPN: Safi = Safi(70);
}

/// An address family as negotiated by the Multiprotocol capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AfiSafi {
    pub afi: Afi,
    pub safi: Safi,
}

impl AfiSafi {
    pub const IPV4_UNICAST: AfiSafi = AfiSafi::new(Afi::IPV4, Safi::UNICAST);
    pub const IPV6_UNICAST: AfiSafi = AfiSafi::new(Afi::IPV6, Safi::UNICAST);
    pub const L2VPN_EVPN: AfiSafi = AfiSafi::new(Afi::L2VPN, Safi::EVPN);

    pub const fn new(afi: Afi, safi: Safi) -> Self {
        Self { afi, safi }
    }

    /// Families whose NLRI are plain prefixes, which this codec decodes.
    pub fn is_prefix_family(self) -> bool {
        matches!(self.afi, Afi::IPV4 | Afi::IPV6)
            && matches!(self.safi, Safi::UNICAST | Safi::MULTICAST)
    }

    /// The unicast family of a prefix.
    pub fn of(prefix: &IpNetwork) -> Self {
        match prefix {
            IpNetwork::V4(_) => Self::IPV4_UNICAST,
            IpNetwork::V6(_) => Self::IPV6_UNICAST,
        }
    }
}

impl fmt::Display for AfiSafi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let afi = match self.afi {
            Afi::IPV4 => "ipv4",
            Afi::IPV6 => "ipv6",
            Afi::L2VPN => "l2vpn",
            Afi(other) => return write!(f, "afi {other} safi {}", self.safi.0),
        };
        match self.safi {
            Safi::UNICAST => write!(f, "{afi} unicast"),
            Safi::MULTICAST => write!(f, "{afi} multicast"),
            Safi::EVPN => write!(f, "{afi} evpn"),
            Safi(other) => write!(f, "{afi} safi {other}"),
        }
    }
}

/// One route: a prefix and, when ADD-PATH is in use, its path identifier.
///
/// ```text
/// +---------------------------+
/// |   Length (1 octet)        |
/// +---------------------------+
/// |   Prefix (variable)       |
/// +---------------------------+
/// ```
/// RFC 4271 §4.3; with ADD-PATH (RFC 7911 §3):
/// ```text
/// +--------------------------------+
/// | Path Identifier (4 octets)     |
/// +--------------------------------+
/// | Length (1 octet)               |
/// +--------------------------------+
/// | Prefix (variable)              |
/// +--------------------------------+
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nlri {
    pub prefix: IpNetwork,
    pub path_id: Option<u32>,
}

impl Nlri {
    pub fn new(prefix: IpNetwork) -> Self {
        Self {
            prefix,
            path_id: None,
        }
    }

    pub fn with_path_id(prefix: IpNetwork, path_id: u32) -> Self {
        Self {
            prefix,
            path_id: Some(path_id),
        }
    }

    /// Bytes this route takes on the wire.
    pub fn wire_len(&self, add_path: bool) -> usize {
        let id = if add_path { 4 } else { 0 };
        id + 1 + usize::from(self.prefix.prefix()).div_ceil(8)
    }

    /// Append this route; with `add_path` a missing path id is sent as 0.
    pub fn encode(&self, add_path: bool, buf: &mut BytesMut) {
        if add_path {
            buf.put_u32(self.path_id.unwrap_or(0));
        }
        let len = self.prefix.prefix();
        let bytes = usize::from(len).div_ceil(8);
        buf.put_u8(len);
        match self.prefix.network() {
            IpAddr::V4(a) => buf.put_slice(a.octets().get(..bytes).unwrap_or_default()),
            IpAddr::V6(a) => buf.put_slice(a.octets().get(..bytes).unwrap_or_default()),
        }
    }
}

impl fmt::Display for Nlri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.path_id {
            Some(id) => write!(f, "{} path-id {id}", self.prefix),
            None => write!(f, "{}", self.prefix),
        }
    }
}

/// A prefix list that cannot be parsed (RFC 7606 §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum NlriError {
    #[error("prefix length {0} too long for the family")]
    PrefixTooLong(u8),
    #[error("prefix overruns the field")]
    Truncated,
    #[error("address family {0} is not a prefix family")]
    Family(AfiSafi),
}

/// Decode a whole field of prefixes of `afi` (IPv4 or IPv6). Host bits
/// past the prefix length are cleared.
pub fn decode_prefixes(input: &[u8], afi: Afi, add_path: bool) -> Result<Vec<Nlri>, NlriError> {
    let mut out = Vec::new();
    decode_prefixes_into(input, afi, add_path, &mut out)?;
    Ok(out)
}

/// [`decode_prefixes`] appending to `out`, which keeps what was appended
/// before an error.
pub fn decode_prefixes_into(
    mut input: &[u8],
    afi: Afi,
    add_path: bool,
    out: &mut Vec<Nlri>,
) -> Result<(), NlriError> {
    let max_bits: u8 = match afi {
        Afi::IPV4 => 32,
        Afi::IPV6 => 128,
        other => return Err(NlriError::Family(AfiSafi::new(other, Safi::UNICAST))),
    };
    while !input.is_empty() {
        let (i, path_id) = if add_path {
            let (i, id) = wire::u32(input).map_err(|_| NlriError::Truncated)?;
            (i, Some(id))
        } else {
            (input, None)
        };
        let (i, len) = wire::u8(i).map_err(|_| NlriError::Truncated)?;
        if len > max_bits {
            return Err(NlriError::PrefixTooLong(len));
        }
        let (i, bytes) =
            wire::take(i, usize::from(len).div_ceil(8)).map_err(|_| NlriError::Truncated)?;
        let prefix = make_prefix(afi, bytes, len).ok_or(NlriError::PrefixTooLong(len))?;
        out.push(Nlri { prefix, path_id });
        input = i;
    }
    Ok(())
}

fn make_prefix(afi: Afi, bytes: &[u8], len: u8) -> Option<IpNetwork> {
    if afi == Afi::IPV4 {
        let mut octets = [0u8; 4];
        octets.get_mut(..bytes.len())?.copy_from_slice(bytes);
        let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
        let addr = Ipv4Addr::from(u32::from_be_bytes(octets) & mask);
        Ipv4Network::new(addr, len).ok().map(IpNetwork::V4)
    } else {
        let mut octets = [0u8; 16];
        octets.get_mut(..bytes.len())?.copy_from_slice(bytes);
        let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
        let addr = Ipv6Addr::from(u128::from_be_bytes(octets) & mask);
        Ipv6Network::new(addr, len).ok().map(IpNetwork::V6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> IpNetwork {
        s.parse().unwrap()
    }

    #[test]
    fn ipv4_bytes() {
        // 10.0.0.0/8, 192.0.2.0/24, 0.0.0.0/0, 198.51.100.128/25
        let wire = [8, 10, 24, 192, 0, 2, 0, 25, 198, 51, 100, 128];
        let got = decode_prefixes(&wire, Afi::IPV4, false).unwrap();
        let want: Vec<_> = [
            "10.0.0.0/8",
            "192.0.2.0/24",
            "0.0.0.0/0",
            "198.51.100.128/25",
        ]
        .iter()
        .map(|s| Nlri::new(p(s)))
        .collect();
        assert_eq!(got, want);
        let mut buf = BytesMut::new();
        for n in &want {
            n.encode(false, &mut buf);
        }
        assert_eq!(&buf[..], &wire[..]);
    }

    #[test]
    fn host_bits_cleared() {
        let got = decode_prefixes(&[7, 0xff], Afi::IPV4, false).unwrap();
        assert_eq!(got, vec![Nlri::new(p("254.0.0.0/7"))]);
    }

    #[test]
    fn add_path_bytes() {
        let wire = [0, 0, 0, 7, 48, 0x20, 0x01, 0x0d, 0xb8, 0, 1];
        let got = decode_prefixes(&wire, Afi::IPV6, true).unwrap();
        assert_eq!(got, vec![Nlri::with_path_id(p("2001:db8:1::/48"), 7)]);
        assert_eq!(got[0].wire_len(true), wire.len());
    }

    #[test]
    fn errors() {
        assert_eq!(
            decode_prefixes(&[33, 1, 2, 3, 4, 5], Afi::IPV4, false),
            Err(NlriError::PrefixTooLong(33))
        );
        assert_eq!(
            decode_prefixes(&[24, 1, 2], Afi::IPV4, false),
            Err(NlriError::Truncated)
        );
        assert_eq!(
            decode_prefixes(&[0, 0, 1], Afi::IPV4, true),
            Err(NlriError::Truncated)
        );
        assert_eq!(
            decode_prefixes(&[129], Afi::IPV6, false),
            Err(NlriError::PrefixTooLong(129))
        );
    }
}

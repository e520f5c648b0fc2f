//! The suite's gRPC contracts (generated from `proto/*.proto` by tonic/prost)
//! and the conversions between their wire types and the domain types the
//! daemons compute with (`IpNetwork` prefixes, `IpAddr` nexthops, [`Source`]).
//!
//! Every conversion from the wire is fallible: a client can send anything, and
//! a bad prefix becomes a [`ConvError`] naming what is wrong, never a panic.

pub mod transport;
pub mod zclient;

/// zebrad's service: route push, redistribution, nexthop tracking, interfaces.
pub mod zebra {
    tonic::include_proto!("zebra.v1");
}

/// ospfd's management service: summary, interfaces, neighbors, database, routes.
pub mod ospf {
    tonic::include_proto!("ospf.v1");
}

/// bgpd's management service: neighbors, RIBs, resets.
pub mod bgp {
    tonic::include_proto!("bgp.v1");
}

/// Every daemon's running configuration and log (vtysh's configure mode,
/// `show running-config`, `write memory`, `show logging`).
pub mod config {
    tonic::include_proto!("config.v1");
}

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnetwork::{IpNetwork, Ipv4Network, Ipv6Network};

/// A wire value that does not make a valid domain value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvError {
    #[error("address must be 4 or 16 bytes, got {0}")]
    AddressLength(usize),
    #[error("prefix length {len} is too long for {family}")]
    PrefixLength { len: u32, family: &'static str },
    #[error("prefix {0} has host bits set")]
    HostBits(String),
    #[error("missing field `{0}`")]
    Missing(&'static str),
    #[error("unknown {what} value {value}")]
    UnknownEnum { what: &'static str, value: i32 },
}

/// Where a route comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    Connected,
    Static,
    Kernel,
    Anycast,
    Ospf,
    Bgp,
}

impl Source {
    pub const ALL: [Source; 6] = [
        Source::Connected,
        Source::Static,
        Source::Kernel,
        Source::Anycast,
        Source::Ospf,
        Source::Bgp,
    ];

    /// Default administrative distance (connected 0, static 1, eBGP 20,
    /// OSPF 110). A BGP client sets 20 or 200 per route (eBGP/iBGP).
    pub fn default_distance(self) -> u8 {
        match self {
            Source::Connected | Source::Kernel => 0,
            Source::Static | Source::Anycast => 1,
            Source::Bgp => 20,
            Source::Ospf => 110,
        }
    }

    /// The kernel's `rtm_protocol` for routes zebrad installs for this
    /// source, so `ip route` tells who installed what. `None`: zebrad does
    /// not install routes of this source (the kernel owns them).
    pub fn kernel_protocol(self) -> Option<u8> {
        match self {
            Source::Bgp => Some(186),
            Source::Ospf => Some(188),
            Source::Static => Some(196),
            Source::Anycast => Some(199),
            Source::Connected | Source::Kernel => None,
        }
    }

    /// The source owning a kernel protocol id zebrad installs with.
    pub fn from_kernel_protocol(proto: u8) -> Option<Source> {
        Source::ALL
            .into_iter()
            .find(|s| s.kernel_protocol() == Some(proto))
    }

    /// FRR's one-letter route code.
    pub fn code(self) -> char {
        match self {
            Source::Connected => 'C',
            Source::Static => 'S',
            Source::Kernel => 'K',
            Source::Anycast => 'A',
            Source::Ospf => 'O',
            Source::Bgp => 'B',
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Source::Connected => "connected",
            Source::Static => "static",
            Source::Kernel => "kernel",
            Source::Anycast => "anycast",
            Source::Ospf => "ospf",
            Source::Bgp => "bgp",
        }
    }

    pub fn from_name(s: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|x| x.name() == s)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<Source> for zebra::RouteSource {
    fn from(s: Source) -> Self {
        match s {
            Source::Connected => zebra::RouteSource::Connected,
            Source::Static => zebra::RouteSource::Static,
            Source::Kernel => zebra::RouteSource::Kernel,
            Source::Anycast => zebra::RouteSource::Anycast,
            Source::Ospf => zebra::RouteSource::Ospf,
            Source::Bgp => zebra::RouteSource::Bgp,
        }
    }
}

impl TryFrom<i32> for Source {
    type Error = ConvError;
    fn try_from(v: i32) -> Result<Self, ConvError> {
        let bad = ConvError::UnknownEnum {
            what: "RouteSource",
            value: v,
        };
        match zebra::RouteSource::try_from(v).map_err(|_| bad.clone())? {
            zebra::RouteSource::Connected => Ok(Source::Connected),
            zebra::RouteSource::Static => Ok(Source::Static),
            zebra::RouteSource::Kernel => Ok(Source::Kernel),
            zebra::RouteSource::Anycast => Ok(Source::Anycast),
            zebra::RouteSource::Ospf => Ok(Source::Ospf),
            zebra::RouteSource::Bgp => Ok(Source::Bgp),
            zebra::RouteSource::Unspecified => Err(bad),
        }
    }
}

/// An address from its wire form (4 or 16 bytes).
pub fn addr_from_bytes(b: &[u8]) -> Result<IpAddr, ConvError> {
    match b.len() {
        4 => Ok(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            Ok(IpAddr::V6(Ipv6Addr::from(a)))
        }
        n => Err(ConvError::AddressLength(n)),
    }
}

/// An address in its wire form.
pub fn addr_to_bytes(a: IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// A prefix from the wire; host bits must be zero.
pub fn prefix_from_wire(p: &zebra::Prefix) -> Result<IpNetwork, ConvError> {
    let addr = addr_from_bytes(&p.addr)?;
    let (max, family) = match addr {
        IpAddr::V4(_) => (32, "IPv4"),
        IpAddr::V6(_) => (128, "IPv6"),
    };
    if p.len > max {
        return Err(ConvError::PrefixLength { len: p.len, family });
    }
    // The length was checked above, so construction cannot fail.
    let net = IpNetwork::new(addr, p.len as u8)
        .map_err(|_| ConvError::PrefixLength { len: p.len, family })?;
    if net.network() != addr {
        return Err(ConvError::HostBits(format!("{addr}/{}", p.len)));
    }
    Ok(net)
}

/// An address with its prefix length from the wire (host bits allowed), as
/// for an interface address.
pub fn ifaddr_from_wire(p: &zebra::Prefix) -> Result<IpNetwork, ConvError> {
    let addr = addr_from_bytes(&p.addr)?;
    let family = if addr.is_ipv4() { "IPv4" } else { "IPv6" };
    IpNetwork::new(addr, p.len.min(255) as u8)
        .map_err(|_| ConvError::PrefixLength { len: p.len, family })
}

/// A prefix (or interface address) in its wire form.
pub fn prefix_to_wire(p: IpNetwork) -> zebra::Prefix {
    zebra::Prefix {
        addr: addr_to_bytes(p.ip()),
        len: u32::from(p.prefix()),
    }
}

/// The network of `p` with host bits cleared.
pub fn canonical(p: IpNetwork) -> IpNetwork {
    match p {
        IpNetwork::V4(n) => IpNetwork::V4(Ipv4Network::new(n.network(), n.prefix()).unwrap_or(n)),
        IpNetwork::V6(n) => IpNetwork::V6(Ipv6Network::new(n.network(), n.prefix()).unwrap_or(n)),
    }
}

/// Parse "192.0.2.0/24" or "2001:db8::/32" (a bare address is a host route).
pub fn parse_prefix(s: &str) -> Result<IpNetwork, String> {
    let net: IpNetwork = s
        .parse()
        .map_err(|e| format!("`{s}` is not a prefix: {e}"))?;
    if net.network() != net.ip() {
        return Err(format!(
            "`{s}` has host bits set (did you mean {}/{}?)",
            net.network(),
            net.prefix()
        ));
    }
    Ok(net)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_round_trip() {
        for s in [
            "192.0.2.0/24",
            "0.0.0.0/0",
            "2001:db8::/32",
            "2001:db8::1/128",
        ] {
            let p: IpNetwork = s.parse().unwrap();
            assert_eq!(prefix_from_wire(&prefix_to_wire(p)).unwrap(), p);
        }
    }

    #[test]
    fn bad_prefixes_are_errors() {
        let w = zebra::Prefix {
            addr: vec![1, 2, 3],
            len: 8,
        };
        assert_eq!(prefix_from_wire(&w), Err(ConvError::AddressLength(3)));
        let w = zebra::Prefix {
            addr: vec![192, 0, 2, 0],
            len: 33,
        };
        assert!(matches!(
            prefix_from_wire(&w),
            Err(ConvError::PrefixLength { .. })
        ));
        let w = zebra::Prefix {
            addr: vec![192, 0, 2, 1],
            len: 24,
        };
        assert!(matches!(prefix_from_wire(&w), Err(ConvError::HostBits(_))));
        assert!(parse_prefix("192.0.2.1/24")
            .unwrap_err()
            .contains("192.0.2.0/24"));
    }

    #[test]
    fn source_ids() {
        for s in Source::ALL {
            assert_eq!(Source::try_from(zebra::RouteSource::from(s) as i32), Ok(s));
            if let Some(p) = s.kernel_protocol() {
                assert_eq!(Source::from_kernel_protocol(p), Some(s));
            }
            assert_eq!(Source::from_name(s.name()), Some(s));
        }
        assert!(Source::try_from(0).is_err());
        assert!(Source::try_from(99).is_err());
    }
}

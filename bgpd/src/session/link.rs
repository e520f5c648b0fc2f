//! The link under a session (RFC 2545 §3, RFC 8950 §3): the interface that
//! holds our session address, whether the peer is on one of its subnets,
//! and our IPv6 link-local address there, which goes in an IPv6 next hop
//! beside the global one when the peer shares the subnet.
//!
//! A peer on a link-local address (RFC 4291 §2.5.6, RFC 4007 §6) is
//! named with its interface: its address means something on that link
//! only, so our dials carry the interface's index as scope id and a
//! connection from that address counts as the peer's only when it arrived
//! on that interface ([`arrived_on`]).
//!
//! Reads the kernel's address list (getifaddrs) once per established
//! session; the matching itself is plain code over that list. Never
//! decides what a peer is sent: the export rules do.

use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use ipnetwork::IpNetwork;

/// One address of one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfAddr {
    pub ifname: String,
    pub net: IpNetwork,
}

/// The link a directly connected session runs over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionLink {
    pub ifname: String,
    /// Our link-local address on it, if it has one.
    pub link_local: Option<Ipv6Addr>,
}

/// The link of a session from `local` to `remote`: the interface holding
/// `local`, when `remote` is on one of that interface's subnets. `None`
/// for a multihop peer or when the addresses cannot be read.
pub fn session_link(local: IpAddr, remote: IpAddr) -> Option<SessionLink> {
    match interface_addresses() {
        Ok(list) => link_of(&list, local, remote),
        Err(e) => {
            tracing::warn!(%local, error = %e, "cannot read interface addresses");
            None
        }
    }
}

/// [`session_link`] over a given address list.
pub fn link_of(list: &[IfAddr], local: IpAddr, remote: IpAddr) -> Option<SessionLink> {
    let ifname = &list.iter().find(|a| a.net.ip() == local)?.ifname;
    let on_link = list
        .iter()
        .any(|a| &a.ifname == ifname && a.net.prefix() > 0 && a.net.contains(remote));
    if !on_link {
        return None;
    }
    let link_local = list.iter().find_map(|a| match a.net {
        IpNetwork::V6(n) if &a.ifname == ifname && n.ip().is_unicast_link_local() => Some(n.ip()),
        _ => None,
    });
    Some(SessionLink {
        ifname: ifname.clone(),
        link_local,
    })
}

/// The index of interface `ifname`.
pub fn ifindex(ifname: &str) -> io::Result<u32> {
    nix::net::if_::if_nametoindex(ifname)
        .map_err(|e| io::Error::new(io::ErrorKind::NotFound, format!("interface {ifname}: {e}")))
}

/// Whether a connection from `from` arrived on the interface of a peer
/// configured with `interface` (whose index `index_of` looks up): always
/// for a peer without one, and for one with an interface only when the
/// connection's scope id is that interface's index (a peer with the same
/// link-local address on another link is someone else).
pub fn arrived_on(
    interface: Option<&str>,
    from: SocketAddr,
    index_of: impl Fn(&str) -> Option<u32>,
) -> bool {
    let Some(ifname) = interface else {
        return true;
    };
    match from {
        SocketAddr::V6(a) => index_of(ifname).is_some_and(|i| i != 0 && i == a.scope_id()),
        SocketAddr::V4(_) => false,
    }
}

/// Every address of every interface, with its prefix length.
fn interface_addresses() -> nix::Result<Vec<IfAddr>> {
    let mut out = Vec::new();
    for a in nix::ifaddrs::getifaddrs()? {
        let (Some(addr), Some(mask)) = (a.address, a.netmask) else {
            continue;
        };
        let net = if let (Some(ip), Some(m)) = (addr.as_sockaddr_in(), mask.as_sockaddr_in()) {
            IpNetwork::new(IpAddr::V4(ip.ip()), m.ip().to_bits().count_ones() as u8)
        } else if let (Some(ip), Some(m)) = (addr.as_sockaddr_in6(), mask.as_sockaddr_in6()) {
            IpNetwork::new(IpAddr::V6(ip.ip()), m.ip().to_bits().count_ones() as u8)
        } else {
            continue;
        };
        if let Ok(net) = net {
            out.push(IfAddr {
                ifname: a.interface_name,
                net,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(ifname: &str, net: &str) -> IfAddr {
        IfAddr {
            ifname: ifname.into(),
            net: net.parse().unwrap(),
        }
    }

    fn list() -> Vec<IfAddr> {
        vec![
            a("lo", "127.0.0.1/8"),
            a("eth0", "2001:db8:1::1/64"),
            a("eth0", "fe80::1/64"),
            a("eth1", "192.0.2.1/30"),
            a("eth1", "fe80::2/64"),
            a("eth2", "2001:db8:2::1/64"),
        ]
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn peer_on_the_subnet_gets_our_link_local() {
        assert_eq!(
            link_of(&list(), ip("2001:db8:1::1"), ip("2001:db8:1::2")),
            Some(SessionLink {
                ifname: "eth0".into(),
                link_local: Some("fe80::1".parse().unwrap()),
            })
        );
        assert_eq!(
            link_of(&list(), ip("192.0.2.1"), ip("192.0.2.2")).map(|l| l.link_local),
            Some(Some("fe80::2".parse().unwrap()))
        );
        // No link-local address on the interface.
        assert_eq!(
            link_of(&list(), ip("2001:db8:2::1"), ip("2001:db8:2::9")),
            Some(SessionLink {
                ifname: "eth2".into(),
                link_local: None,
            })
        );
    }

    #[test]
    fn inbound_connection_matches_address_and_interface() {
        let index = |n: &str| match n {
            "eth0" => Some(2),
            "eth1" => Some(3),
            _ => None,
        };
        let from = |scope: u32| {
            SocketAddr::V6(std::net::SocketAddrV6::new(
                "fe80::2".parse().unwrap(),
                40000,
                0,
                scope,
            ))
        };
        // fe80::2 on eth0 is the neighbor "fe80::2 interface eth0" ...
        assert!(arrived_on(Some("eth0"), from(2), index));
        // ... fe80::2 on eth1 is not, nor is one without a scope.
        assert!(!arrived_on(Some("eth0"), from(3), index));
        assert!(!arrived_on(Some("eth0"), from(0), index));
        assert!(arrived_on(Some("eth1"), from(3), index));
        // An interface that is gone matches nothing.
        assert!(!arrived_on(Some("eth9"), from(2), index));
        // A neighbor without an interface takes its address from anywhere.
        assert!(arrived_on(None, from(3), index));
        assert!(arrived_on(None, "192.0.2.2:179".parse().unwrap(), index));
    }

    #[test]
    fn multihop_or_unknown_address_has_no_link() {
        // The peer is beyond the subnet (multihop).
        assert_eq!(
            link_of(&list(), ip("2001:db8:1::1"), ip("2001:db8:9::1")),
            None
        );
        // Our address is not on any interface.
        assert_eq!(
            link_of(&list(), ip("2001:db8:7::1"), ip("2001:db8:7::2")),
            None
        );
    }
}

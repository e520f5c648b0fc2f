//! Interfaces and their addresses, as the kernel reports them.
//!
//! Owns reading links (`RTM_GETLINK`/`RTM_NEWLINK`, `struct ifinfomsg`) and
//! addresses (`RTM_GETADDR`/`RTM_NEWADDR`, `struct ifaddrmsg`) over
//! rtnetlink (RFC 3549, rtnetlink(7)) into plain [`Link`] records and
//! `(ifindex, address/len)` pairs. The same conversions serve the dumps here
//! and the notifications of [`crate::fib::monitor`].
//!
//! Never: configures links or addresses; it only reads.

use std::io;
use std::net::IpAddr;

use ipnetwork::IpNetwork;
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkInfo, LinkMessage};
use netlink_packet_route::RouteNetlinkMessage;

use crate::fib::nl;
use crate::vtep::discover::VxlanInfo;

/// One network interface.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Link {
    pub index: u32,
    pub name: String,
    /// `IFF_UP`: configured up.
    pub admin_up: bool,
    /// Carrier: `IFF_LOWER_UP` or `IFF_RUNNING`; a loopback counts as up when
    /// it is admin up.
    pub oper_up: bool,
    pub mtu: u32,
    /// Hardware address (empty when the link has none).
    pub mac: Vec<u8>,
    /// `IFLA_INFO_KIND` ("veth", "bridge", "vxlan"...), "loopback" for a
    /// loopback, "" when the kernel does not say.
    pub kind: String,
    /// Index of the master (bridge) device, 0 = none.
    pub master: u32,
    /// The VXLAN attributes of a `vxlan` device.
    pub vxlan: Option<VxlanInfo>,
}

/// Reads a link from an `RTM_NEWLINK` message (dump or notification).
pub fn link_from_message(m: &LinkMessage) -> Link {
    let flags = m.header.flags;
    let loopback = flags.contains(LinkFlags::Loopback);
    let admin_up = flags.contains(LinkFlags::Up);
    let mut link = Link {
        index: m.header.index,
        name: String::new(),
        admin_up,
        oper_up: flags.intersects(LinkFlags::LowerUp | LinkFlags::Running)
            || (loopback && admin_up),
        mtu: 0,
        mac: Vec::new(),
        kind: if loopback {
            "loopback".to_string()
        } else {
            String::new()
        },
        master: 0,
        vxlan: crate::vtep::discover::vxlan_from_message(m),
    };
    for a in &m.attributes {
        match a {
            LinkAttribute::IfName(n) => link.name = n.clone(),
            LinkAttribute::Mtu(mtu) => link.mtu = *mtu,
            LinkAttribute::Address(mac) => link.mac = mac.clone(),
            LinkAttribute::Controller(i) => link.master = *i,
            LinkAttribute::LinkInfo(infos) => {
                for i in infos {
                    if let LinkInfo::Kind(k) = i {
                        link.kind = k.to_string();
                    }
                }
            }
            _ => {}
        }
    }
    link
}

/// Reads an address from an `RTM_NEWADDR`/`RTM_DELADDR` message: the
/// interface index and the local address with its prefix length. For IPv4
/// the local address is `IFA_LOCAL` (`IFA_ADDRESS` is the peer on
/// point-to-point links); IPv6 only has `IFA_ADDRESS`.
pub fn addr_from_message(m: &AddressMessage) -> Option<(u32, IpNetwork)> {
    let mut local: Option<IpAddr> = None;
    let mut address: Option<IpAddr> = None;
    for a in &m.attributes {
        match a {
            AddressAttribute::Local(ip) => local = Some(*ip),
            AddressAttribute::Address(ip) => address = Some(*ip),
            _ => {}
        }
    }
    let ip = local.or(address)?;
    let net = IpNetwork::new(ip, m.header.prefix_len).ok()?;
    Some((m.header.index, net))
}

/// Every link of the calling thread's network namespace.
pub async fn dump_links() -> io::Result<Vec<Link>> {
    nl::dump(
        RouteNetlinkMessage::GetLink(LinkMessage::default()),
        |m| match m {
            RouteNetlinkMessage::NewLink(l) => Some(link_from_message(&l)),
            _ => None,
        },
    )
    .await
}

/// Every address (IPv4 and IPv6, link-local included) with its interface
/// index and prefix length.
pub async fn dump_addrs() -> io::Result<Vec<(u32, IpNetwork)>> {
    nl::dump(
        RouteNetlinkMessage::GetAddress(AddressMessage::default()),
        |m| match m {
            RouteNetlinkMessage::NewAddress(a) => addr_from_message(&a),
            _ => None,
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_route::link::InfoKind;
    use netlink_packet_route::AddressFamily;

    #[test]
    fn link_fields() {
        let mut m = LinkMessage::default();
        m.header.index = 7;
        m.header.flags = LinkFlags::Up | LinkFlags::LowerUp | LinkFlags::Broadcast;
        m.attributes = vec![
            LinkAttribute::IfName("veth0".into()),
            LinkAttribute::Mtu(1500),
            LinkAttribute::Address(vec![2, 0, 0, 0, 0, 1]),
            LinkAttribute::Controller(3),
            LinkAttribute::LinkInfo(vec![LinkInfo::Kind(InfoKind::Veth)]),
        ];
        let l = link_from_message(&m);
        assert_eq!(
            l,
            Link {
                index: 7,
                name: "veth0".into(),
                admin_up: true,
                oper_up: true,
                mtu: 1500,
                mac: vec![2, 0, 0, 0, 0, 1],
                kind: "veth".into(),
                master: 3,
                vxlan: None,
            }
        );
    }

    #[test]
    fn loopback_is_up_when_admin_up() {
        let mut m = LinkMessage::default();
        m.header.index = 1;
        m.header.flags = LinkFlags::Up | LinkFlags::Loopback;
        let l = link_from_message(&m);
        assert!(l.oper_up);
        assert_eq!(l.kind, "loopback");
        m.header.flags = LinkFlags::Loopback;
        assert!(!link_from_message(&m).oper_up);
    }

    #[test]
    fn ipv4_address_prefers_local() {
        let mut m = AddressMessage::default();
        m.header.family = AddressFamily::Inet;
        m.header.index = 4;
        m.header.prefix_len = 24;
        m.attributes = vec![
            AddressAttribute::Address("192.0.2.9".parse().unwrap()),
            AddressAttribute::Local("192.0.2.1".parse().unwrap()),
        ];
        assert_eq!(
            addr_from_message(&m),
            Some((4, "192.0.2.1/24".parse().unwrap()))
        );
        m.attributes.clear();
        assert_eq!(addr_from_message(&m), None);
    }
}

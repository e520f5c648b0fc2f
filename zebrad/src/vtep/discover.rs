//! Discovery: the kernel's VXLAN devices, bridge FDB and neighbor entries as
//! rtnetlink (RFC 3549, rtnetlink(7)) reports them.
//!
//! Owns reading `IFLA_INFO_DATA` of `vxlan` links (`IFLA_VXLAN_ID`,
//! `_LOCAL`/`_LOCAL6`, `_PORT`, `_LEARNING`), `AF_BRIDGE` neighbor messages
//! (the bridge FDB and the FDB of VXLAN devices, `bridge fdb show`) and
//! `AF_INET`/`AF_INET6` neighbor messages (`ip neigh show`) into plain
//! [`FdbEntry`]/[`NeighEntry`] records, for the start-up dumps here and the
//! `RTNLGRP_NEIGH` notifications of [`crate::fib::monitor`].
//!
//! Never: writes to the kernel, or decides what an entry means for EVPN
//! (that is [`super::local`] and [`super::program`]).

use std::io;
use std::net::IpAddr;

use netlink_packet_route::link::{InfoData, InfoVxlan, LinkAttribute, LinkInfo, LinkMessage};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::Mac;
use crate::fib::nl;

/// The VXLAN part of a link (`ip -d link show` of a `vxlan` device).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VxlanInfo {
    pub vni: u32,
    /// `IFLA_VXLAN_LOCAL` / `IFLA_VXLAN_LOCAL6`.
    pub local: Option<IpAddr>,
    /// Destination UDP port (`IFLA_VXLAN_PORT`); 0 when the kernel did not say.
    pub port: u16,
    pub learning: bool,
}

/// The VXLAN attributes of a link message, if it is a VXLAN device.
pub fn vxlan_from_message(m: &LinkMessage) -> Option<VxlanInfo> {
    let infos = m.attributes.iter().find_map(|a| match a {
        LinkAttribute::LinkInfo(i) => Some(i),
        _ => None,
    })?;
    let data = infos.iter().find_map(|i| match i {
        LinkInfo::Data(InfoData::Vxlan(d)) => Some(d),
        _ => None,
    })?;
    let mut v = VxlanInfo {
        vni: 0,
        local: None,
        port: 0,
        learning: true,
    };
    let mut has_id = false;
    for a in data {
        match a {
            InfoVxlan::Id(id) => {
                v.vni = *id;
                has_id = true;
            }
            InfoVxlan::Local(a) => v.local = Some(IpAddr::V4(*a)),
            InfoVxlan::Local6(a) => v.local = Some(IpAddr::V6(*a)),
            InfoVxlan::Port(p) => v.port = *p,
            InfoVxlan::Learning(l) => v.learning = *l,
            _ => {}
        }
    }
    has_id.then_some(v)
}

/// One `AF_BRIDGE` neighbor message: an entry of a bridge's FDB (`master`)
/// or of a VXLAN device's own FDB (`self`, with a destination VTEP).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FdbEntry {
    /// The port (bridge FDB) or the device (self FDB).
    pub ifindex: u32,
    pub mac: Mac,
    /// `NDA_MASTER`: the bridge, for a bridge FDB entry.
    pub master: u32,
    /// `NDA_DST`: the remote VTEP of a VXLAN FDB entry.
    pub dst: Option<IpAddr>,
    /// `NTF_SELF`: the device's own table (VXLAN), not the bridge's.
    pub self_: bool,
    /// `NTF_EXT_LEARNED`: put there by a control plane.
    pub ext_learned: bool,
    /// `NUD_PERMANENT`: a port's own address (or a static "permanent" entry).
    pub permanent: bool,
    /// `NUD_NOARP`: a static entry (`bridge fdb add .. static`).
    pub static_: bool,
}

/// One `AF_INET`/`AF_INET6` neighbor message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NeighEntry {
    pub ifindex: u32,
    pub ip: IpAddr,
    /// Missing for incomplete or failed entries.
    pub mac: Option<Mac>,
    /// Resolved: reachable, stale, delay, probe, permanent or noarp.
    pub valid: bool,
    pub ext_learned: bool,
    /// `NDA_PROTOCOL` (0 when absent).
    pub protocol: u8,
}

/// A neighbor-table change, from a dump or a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NeighEvent {
    Fdb { entry: FdbEntry, removed: bool },
    Neigh { entry: NeighEntry, removed: bool },
}

fn mac_of(v: &[u8]) -> Option<Mac> {
    <[u8; 6]>::try_from(v).ok()
}

/// Reads a neighbor message (`RTM_NEWNEIGH`/`RTM_DELNEIGH`) of any family
/// zebrad cares about; `None` for others or undecodable ones.
pub fn neigh_from_message(m: &NeighbourMessage, removed: bool) -> Option<NeighEvent> {
    let h = &m.header;
    let state = u16::from(h.state);
    let mut lladdr = None;
    let mut dst: Option<IpAddr> = None;
    let mut master = 0;
    let mut protocol = 0u8;
    for a in &m.attributes {
        match a {
            NeighbourAttribute::LinkLayerAddress(v) => lladdr = mac_of(v),
            NeighbourAttribute::Destination(d) => {
                dst = match d {
                    NeighbourAddress::Inet(a) => Some(IpAddr::V4(*a)),
                    NeighbourAddress::Inet6(a) => Some(IpAddr::V6(*a)),
                    NeighbourAddress::Other(b) => proto::addr_from_bytes(b).ok(),
                    _ => None,
                }
            }
            NeighbourAttribute::Controller(i) => master = *i,
            NeighbourAttribute::Protocol(p) => protocol = u8::from(*p),
            _ => {}
        }
    }
    let ext_learned = h.flags.contains(NeighbourFlags::ExtLearned);
    match h.family {
        AddressFamily::Bridge => Some(NeighEvent::Fdb {
            entry: FdbEntry {
                ifindex: h.ifindex,
                mac: lladdr?,
                master,
                dst,
                self_: h.flags.contains(NeighbourFlags::Own),
                ext_learned,
                permanent: state & u16::from(NeighbourState::Permanent) != 0,
                static_: state & u16::from(NeighbourState::Noarp) != 0,
            },
            removed,
        }),
        AddressFamily::Inet | AddressFamily::Inet6 => {
            const VALID: u16 = 0x02 | 0x04 | 0x08 | 0x10 | 0x40 | 0x80;
            Some(NeighEvent::Neigh {
                entry: NeighEntry {
                    ifindex: h.ifindex,
                    ip: dst?,
                    mac: lladdr,
                    valid: state & VALID != 0 && lladdr.is_some(),
                    ext_learned,
                    protocol,
                },
                removed,
            })
        }
        _ => None,
    }
}

/// The event a neighbor notification stands for, if any.
pub fn neigh_event(msg: &RouteNetlinkMessage) -> Option<NeighEvent> {
    match msg {
        RouteNetlinkMessage::NewNeighbour(m) => neigh_from_message(m, false),
        RouteNetlinkMessage::DelNeighbour(m) => neigh_from_message(m, true),
        _ => None,
    }
}

/// Every entry of every bridge FDB and VXLAN FDB (`bridge fdb show`).
pub async fn dump_fdb() -> io::Result<Vec<FdbEntry>> {
    let mut req = NeighbourMessage::default();
    req.header.family = AddressFamily::Bridge;
    nl::dump(
        RouteNetlinkMessage::GetNeighbour(req),
        |m| match neigh_event(&m) {
            Some(NeighEvent::Fdb { entry, .. }) => Some(entry),
            _ => None,
        },
    )
    .await
}

/// Every IPv4 and IPv6 neighbor entry (`ip neigh show`).
pub async fn dump_neighbors() -> io::Result<Vec<NeighEntry>> {
    let mut out = Vec::new();
    for family in [AddressFamily::Inet, AddressFamily::Inet6] {
        let mut req = NeighbourMessage::default();
        req.header.family = family;
        out.extend(
            nl::dump(
                RouteNetlinkMessage::GetNeighbour(req),
                |m| match neigh_event(&m) {
                    Some(NeighEvent::Neigh { entry, .. }) => Some(entry),
                    _ => None,
                },
            )
            .await?,
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_route::link::InfoKind;
    use netlink_packet_route::route::RouteProtocol;

    #[test]
    fn vxlan_info() {
        let mut m = LinkMessage::default();
        m.attributes = vec![LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Vxlan),
            LinkInfo::Data(InfoData::Vxlan(vec![
                InfoVxlan::Id(100),
                InfoVxlan::Local("192.0.2.1".parse().unwrap()),
                InfoVxlan::Port(4789),
                InfoVxlan::Learning(false),
            ])),
        ])];
        assert_eq!(
            vxlan_from_message(&m),
            Some(VxlanInfo {
                vni: 100,
                local: Some("192.0.2.1".parse().unwrap()),
                port: 4789,
                learning: false,
            })
        );
        m.attributes = vec![LinkAttribute::LinkInfo(vec![LinkInfo::Kind(
            InfoKind::Veth,
        )])];
        assert_eq!(vxlan_from_message(&m), None);
    }

    /// A VXLAN device over an IPv6 underlay: its local VTEP comes from
    /// `IFLA_VXLAN_LOCAL6`.
    #[test]
    fn vxlan_info_ipv6_local() {
        let mut m = LinkMessage::default();
        m.attributes = vec![LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Vxlan),
            LinkInfo::Data(InfoData::Vxlan(vec![
                InfoVxlan::Id(100),
                InfoVxlan::Local6("2001:db8::1".parse().unwrap()),
                InfoVxlan::Port(4789),
            ])),
        ])];
        let v = vxlan_from_message(&m).unwrap();
        assert_eq!(v.local, Some("2001:db8::1".parse().unwrap()));
    }

    /// A remote MAC toward an IPv6 VTEP: the bridge family gives `dst` as
    /// 16 raw bytes.
    #[test]
    fn fdb_entry_ipv6_dst() {
        let mut m = NeighbourMessage::default();
        m.header.family = AddressFamily::Bridge;
        m.header.ifindex = 5;
        m.header.flags = NeighbourFlags::Own | NeighbourFlags::ExtLearned;
        m.header.state = NeighbourState::Noarp;
        let vtep: std::net::Ipv6Addr = "2001:db8::2".parse().unwrap();
        m.attributes = vec![
            NeighbourAttribute::LinkLayerAddress(vec![2, 0, 0, 0, 0, 1]),
            NeighbourAttribute::Destination(NeighbourAddress::Other(vtep.octets().to_vec())),
        ];
        let Some(NeighEvent::Fdb { entry, .. }) = neigh_from_message(&m, false) else {
            panic!("not an fdb entry");
        };
        assert_eq!(entry.dst, Some(IpAddr::V6(vtep)));
    }

    #[test]
    fn fdb_and_neighbor_entries() {
        let mut m = NeighbourMessage::default();
        m.header.family = AddressFamily::Bridge;
        m.header.ifindex = 5;
        m.header.flags = NeighbourFlags::Own | NeighbourFlags::ExtLearned;
        m.header.state = NeighbourState::Noarp;
        m.attributes = vec![
            NeighbourAttribute::LinkLayerAddress(vec![2, 0, 0, 0, 0, 1]),
            NeighbourAttribute::Destination(NeighbourAddress::Other(vec![192, 0, 2, 2])),
        ];
        let Some(NeighEvent::Fdb { entry, removed }) = neigh_from_message(&m, false) else {
            panic!("not an fdb entry");
        };
        assert!(!removed && entry.self_ && entry.ext_learned && entry.static_);
        assert_eq!(entry.dst, Some("192.0.2.2".parse().unwrap()));
        assert_eq!(entry.mac, [2, 0, 0, 0, 0, 1]);
        // A MAC of the wrong length is not an entry.
        m.attributes = vec![NeighbourAttribute::LinkLayerAddress(vec![1, 2, 3])];
        assert_eq!(neigh_from_message(&m, false), None);

        let mut n = NeighbourMessage::default();
        n.header.family = AddressFamily::Inet;
        n.header.ifindex = 4;
        n.header.state = NeighbourState::Reachable;
        n.attributes = vec![
            NeighbourAttribute::Destination(NeighbourAddress::Inet(
                "198.51.100.9".parse().unwrap(),
            )),
            NeighbourAttribute::LinkLayerAddress(vec![2, 0, 0, 0, 0, 9]),
            NeighbourAttribute::Protocol(RouteProtocol::from(11u8)),
        ];
        let Some(NeighEvent::Neigh { entry, .. }) = neigh_from_message(&n, false) else {
            panic!("not a neighbor");
        };
        assert!(entry.valid && !entry.ext_learned);
        assert_eq!(entry.protocol, 11);
        n.header.state = NeighbourState::Failed;
        n.attributes.remove(1);
        let Some(NeighEvent::Neigh { entry, .. }) = neigh_from_message(&n, false) else {
            panic!("not a neighbor");
        };
        assert!(!entry.valid);
    }
}

//! Translation between zebrad's FIB types and rtnetlink route messages.
//!
//! Owns: building `RTM_NEWROUTE` / `RTM_DELROUTE` bodies (`struct rtmsg` +
//! attributes, see rtnetlink(7) and `include/uapi/linux/rtnetlink.h`) with
//! netlink-packet-route's `RouteMessage`, and reading `RouteMessage`s from
//! dumps and notifications back into [`FibRoute`].
//!
//! Conventions used on the wire:
//! - the table always goes in `RTA_TABLE`; `rtm_table` carries it too when it
//!   fits in a byte, else `RT_TABLE_UNSPEC`;
//! - one nexthop: `RTA_OIF` and/or `RTA_GATEWAY` (`RTA_VIA` when the gateway
//!   is of the other family); several: `RTA_MULTIPATH` with
//!   `rtnh_hops = weight - 1`;
//! - blackhole / unreachable / prohibit are route types without nexthops;
//! - deletes carry the protocol id, `RT_SCOPE_NOWHERE` and `RTN_UNSPEC`, so
//!   the kernel matches any type/scope but only our protocol.
//!
//! Never: sends anything; performs I/O.

use std::net::IpAddr;

use ipnetwork::IpNetwork;
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteHeader, RouteMessage, RouteNextHop,
    RouteProtocol, RouteScope, RouteType, RouteVia,
};
use netlink_packet_route::AddressFamily;

use super::{FibKind, FibNexthop, FibRoute};

/// The local table: addresses of this host, owned by the kernel.
pub const RT_TABLE_LOCAL: u32 = 255;
/// `RTPROT_KERNEL`: routes the kernel made (connected subnets).
pub const RTPROT_KERNEL: u8 = 2;

fn family(prefix: &IpNetwork) -> AddressFamily {
    match prefix {
        IpNetwork::V4(_) => AddressFamily::Inet,
        IpNetwork::V6(_) => AddressFamily::Inet6,
    }
}

fn header(prefix: &IpNetwork, table: u32, protocol: u8) -> RouteHeader {
    RouteHeader {
        address_family: family(prefix),
        destination_prefix_length: prefix.prefix(),
        table: u8::try_from(table)
            .ok()
            .filter(|t| u32::from(*t) == table)
            .unwrap_or(RouteHeader::RT_TABLE_UNSPEC),
        protocol: RouteProtocol::from(protocol),
        ..RouteHeader::default()
    }
}

/// Attributes common to adds and deletes: destination, table, metric.
fn key_attributes(prefix: &IpNetwork, table: u32, priority: u32) -> Vec<RouteAttribute> {
    let mut attrs = Vec::with_capacity(5);
    attrs.push(RouteAttribute::Destination(RouteAddress::from(
        prefix.network(),
    )));
    attrs.push(RouteAttribute::Table(table));
    if priority != 0 {
        attrs.push(RouteAttribute::Priority(priority));
    }
    attrs
}

fn gateway_attribute(prefix: &IpNetwork, gw: IpAddr) -> RouteAttribute {
    match (prefix, gw) {
        (IpNetwork::V4(_), IpAddr::V4(_)) | (IpNetwork::V6(_), IpAddr::V6(_)) => {
            RouteAttribute::Gateway(RouteAddress::from(gw))
        }
        (_, IpAddr::V4(a)) => RouteAttribute::Via(RouteVia::Inet(a)),
        (_, IpAddr::V6(a)) => RouteAttribute::Via(RouteVia::Inet6(a)),
    }
}

fn weight_to_hops(weight: u16) -> u8 {
    u8::try_from(weight.clamp(1, 256) - 1).unwrap_or(u8::MAX)
}

/// The body of an `RTM_NEWROUTE` that creates or replaces `r`.
pub fn replace_message(r: &FibRoute) -> RouteMessage {
    let mut m = RouteMessage::default();
    m.header = header(&r.prefix, r.table, r.protocol);
    m.attributes = key_attributes(&r.prefix, r.table, r.priority);
    m.header.kind = match r.kind {
        FibKind::Unicast => RouteType::Unicast,
        FibKind::Blackhole => RouteType::BlackHole,
        FibKind::Unreachable => RouteType::Unreachable,
        FibKind::Prohibit => RouteType::Prohibit,
    };
    m.header.scope = RouteScope::Universe;
    if r.kind != FibKind::Unicast {
        return m;
    }
    if r.nh_id != 0 {
        m.attributes.push(RouteAttribute::NhId(r.nh_id));
        return m;
    }
    match r.nexthops.as_slice() {
        [] => {}
        [nh] => {
            if nh.ifindex != 0 {
                m.attributes.push(RouteAttribute::Oif(nh.ifindex));
            }
            match nh.gateway {
                Some(gw) => m.attributes.push(gateway_attribute(&r.prefix, gw)),
                // Straight onto the link, as `ip route add .. dev X` does.
                None if r.prefix.is_ipv4() => m.header.scope = RouteScope::Link,
                None => {}
            }
        }
        many => {
            let hops = many
                .iter()
                .map(|nh| {
                    let mut h = RouteNextHop::default();
                    h.hops = weight_to_hops(nh.weight);
                    h.interface_index = nh.ifindex;
                    if let Some(gw) = nh.gateway {
                        h.attributes.push(gateway_attribute(&r.prefix, gw));
                    }
                    h
                })
                .collect();
            m.attributes.push(RouteAttribute::MultiPath(hops));
        }
    }
    m
}

/// The body of an `RTM_DELROUTE` for our route at `prefix` in `table`.
/// `priority` 0 matches any metric.
pub fn delete_message(prefix: &IpNetwork, table: u32, protocol: u8, priority: u32) -> RouteMessage {
    let mut m = RouteMessage::default();
    m.header = header(prefix, table, protocol);
    m.header.scope = RouteScope::NoWhere;
    m.header.kind = RouteType::Unspec;
    m.attributes = key_attributes(prefix, table, priority);
    m
}

/// Why a kernel route is not reported as a [`FibRoute`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// Not IPv4/IPv6 (MPLS, multicast routing families...).
    Family,
    /// Local, broadcast, multicast, throw... (not a type we install).
    Type,
    /// The local table (255).
    LocalTable,
    /// `proto kernel`: connected routes, learned from addresses instead.
    Kernel,
    /// A cached clone (`RTM_F_CLONED`), not a FIB entry.
    Cloned,
    /// The destination attribute does not fit the prefix length.
    Malformed,
}

/// Reads a route from a dump or notification. Routes of the local table,
/// of `proto kernel`, cached clones and types we never install are skipped.
pub fn route_from_message(m: &RouteMessage) -> Result<FibRoute, Skip> {
    let h = &m.header;
    let v4 = match h.address_family {
        AddressFamily::Inet => true,
        AddressFamily::Inet6 => false,
        _ => return Err(Skip::Family),
    };
    let kind = match h.kind {
        RouteType::Unicast => FibKind::Unicast,
        RouteType::BlackHole => FibKind::Blackhole,
        RouteType::Unreachable => FibKind::Unreachable,
        RouteType::Prohibit => FibKind::Prohibit,
        _ => return Err(Skip::Type),
    };
    if h.flags.contains(RouteFlags::Cloned) {
        return Err(Skip::Cloned);
    }
    let protocol = u8::from(h.protocol);
    if protocol == RTPROT_KERNEL {
        return Err(Skip::Kernel);
    }
    let mut table = u32::from(h.table);
    let mut priority = 0;
    let mut dst: Option<IpAddr> = None;
    let mut single = FibNexthop {
        gateway: None,
        ifindex: 0,
        weight: 1,
    };
    let mut multi: Option<Vec<FibNexthop>> = None;
    let mut nh_id = 0;
    for a in &m.attributes {
        match a {
            RouteAttribute::Destination(d) => dst = route_address(d),
            RouteAttribute::Table(t) => table = *t,
            RouteAttribute::Priority(p) => priority = *p,
            RouteAttribute::Oif(i) => single.ifindex = *i,
            RouteAttribute::Gateway(g) => single.gateway = route_address(g),
            RouteAttribute::Via(v) => single.gateway = via_address(v),
            RouteAttribute::MultiPath(hops) => {
                multi = Some(hops.iter().map(nexthop_from).collect());
            }
            // With nexthop objects the kernel also reports the object's
            // gateway and interface (`nexthop_compat_mode`, on by default).
            RouteAttribute::NhId(id) => nh_id = *id,
            _ => {}
        }
    }
    if table == RT_TABLE_LOCAL {
        return Err(Skip::LocalTable);
    }
    let len = h.destination_prefix_length;
    let addr = dst.unwrap_or(if v4 {
        IpAddr::from([0u8; 4])
    } else {
        IpAddr::from([0u8; 16])
    });
    let prefix = IpNetwork::new(addr, len).map_err(|_| Skip::Malformed)?;
    if prefix.is_ipv4() != v4 {
        return Err(Skip::Malformed);
    }
    let nexthops = match (kind, multi) {
        (FibKind::Unicast, Some(hops)) => hops,
        (FibKind::Unicast, None) if single.gateway.is_some() || single.ifindex != 0 => vec![single],
        _ => Vec::new(),
    };
    Ok(FibRoute {
        prefix,
        table,
        protocol,
        priority,
        kind,
        nexthops,
        nh_id,
    })
}

fn nexthop_from(h: &RouteNextHop) -> FibNexthop {
    let gateway = h.attributes.iter().find_map(|a| match a {
        RouteAttribute::Gateway(g) => route_address(g),
        RouteAttribute::Via(v) => via_address(v),
        _ => None,
    });
    FibNexthop {
        gateway,
        ifindex: h.interface_index,
        weight: u16::from(h.hops) + 1,
    }
}

fn route_address(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteAddress::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

fn via_address(v: &RouteVia) -> Option<IpAddr> {
    match v {
        RouteVia::Inet(v4) => Some(IpAddr::V4(*v4)),
        RouteVia::Inet6(v6) => Some(IpAddr::V6(*v6)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::{Emitable, Parseable};

    fn route(prefix: &str, nexthops: Vec<FibNexthop>) -> FibRoute {
        FibRoute {
            prefix: prefix.parse().unwrap(),
            table: 254,
            protocol: 186,
            priority: 20,
            kind: FibKind::Unicast,
            nexthops,
            nh_id: 0,
        }
    }

    fn nh(gw: &str, ifindex: u32, weight: u16) -> FibNexthop {
        FibNexthop {
            gateway: Some(gw.parse().unwrap()),
            ifindex,
            weight,
        }
    }

    /// Emits and re-parses a message, as the kernel would see and echo it.
    fn wire(m: &RouteMessage) -> RouteMessage {
        let mut buf = vec![0u8; m.buffer_len()];
        m.emit(&mut buf);
        RouteMessage::parse(&buf).unwrap()
    }

    #[test]
    fn single_nexthop_round_trips() {
        let r = route("198.51.100.0/24", vec![nh("192.0.2.1", 3, 1)]);
        let m = replace_message(&r);
        assert_eq!(m.header.table, 254);
        assert_eq!(m.header.kind, RouteType::Unicast);
        assert_eq!(m.header.scope, RouteScope::Universe);
        assert_eq!(route_from_message(&wire(&m)), Ok(r));
    }

    #[test]
    fn host_bits_are_masked() {
        let mut r = route("198.51.100.77/24", vec![nh("192.0.2.1", 0, 1)]);
        let back = route_from_message(&wire(&replace_message(&r))).unwrap();
        r.prefix = "198.51.100.0/24".parse().unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn big_table_goes_in_rta_table_only() {
        let mut r = route("203.0.113.0/24", vec![nh("192.0.2.1", 0, 1)]);
        r.table = 1000;
        let m = replace_message(&r);
        assert_eq!(m.header.table, RouteHeader::RT_TABLE_UNSPEC);
        assert!(m.attributes.contains(&RouteAttribute::Table(1000)));
        assert_eq!(route_from_message(&wire(&m)).unwrap().table, 1000);
    }

    #[test]
    fn multipath_weights_become_hops() {
        let r = route(
            "198.51.100.0/24",
            vec![nh("192.0.2.1", 3, 1), nh("192.0.2.2", 3, 256)],
        );
        let m = replace_message(&r);
        let hops = m
            .attributes
            .iter()
            .find_map(|a| match a {
                RouteAttribute::MultiPath(h) => Some(h.clone()),
                _ => None,
            })
            .unwrap();
        assert_eq!(hops.len(), 2);
        assert_eq!(hops[0].hops, 0);
        assert_eq!(hops[1].hops, 255);
        assert!(!m
            .attributes
            .iter()
            .any(|a| matches!(a, RouteAttribute::Gateway(_))));
        assert_eq!(route_from_message(&wire(&m)), Ok(r));
    }

    #[test]
    fn ipv6_multipath_round_trips() {
        let r = route(
            "2001:db8:1::/48",
            vec![nh("2001:db8::1", 4, 1), nh("fe80::2", 5, 3)],
        );
        assert_eq!(route_from_message(&wire(&replace_message(&r))), Ok(r));
    }

    #[test]
    fn v4_over_v6_gateway_uses_via() {
        let r = route("198.51.100.0/24", vec![nh("2001:db8::1", 4, 1)]);
        let m = replace_message(&r);
        assert!(m
            .attributes
            .iter()
            .any(|a| matches!(a, RouteAttribute::Via(_))));
        assert_eq!(route_from_message(&wire(&m)), Ok(r));
    }

    #[test]
    fn connected_style_route_has_link_scope() {
        let r = route(
            "198.51.100.0/24",
            vec![FibNexthop {
                gateway: None,
                ifindex: 7,
                weight: 1,
            }],
        );
        let m = replace_message(&r);
        assert_eq!(m.header.scope, RouteScope::Link);
        assert_eq!(route_from_message(&wire(&m)), Ok(r));
    }

    #[test]
    fn blackhole_has_no_nexthop() {
        let mut r = route("203.0.113.0/24", vec![nh("192.0.2.1", 3, 1)]);
        r.kind = FibKind::Blackhole;
        let m = replace_message(&r);
        assert_eq!(m.header.kind, RouteType::BlackHole);
        assert!(!m.attributes.iter().any(|a| matches!(
            a,
            RouteAttribute::Gateway(_) | RouteAttribute::Oif(_) | RouteAttribute::MultiPath(_)
        )));
        r.nexthops.clear();
        assert_eq!(route_from_message(&wire(&m)), Ok(r));
    }

    #[test]
    fn delete_matches_any_type_but_our_protocol() {
        let p: IpNetwork = "2001:db8::/32".parse().unwrap();
        let m = delete_message(&p, 1000, 188, 0);
        assert_eq!(m.header.kind, RouteType::Unspec);
        assert_eq!(m.header.scope, RouteScope::NoWhere);
        assert_eq!(u8::from(m.header.protocol), 188);
        assert_eq!(m.header.destination_prefix_length, 32);
        assert!(!m
            .attributes
            .iter()
            .any(|a| matches!(a, RouteAttribute::Priority(_))));
        let m = delete_message(&p, 254, 188, 5);
        assert!(m.attributes.contains(&RouteAttribute::Priority(5)));
    }

    #[test]
    fn default_route_has_no_destination_but_parses() {
        let r = route("0.0.0.0/0", vec![nh("192.0.2.1", 0, 1)]);
        let mut m = replace_message(&r);
        m.attributes
            .retain(|a| !matches!(a, RouteAttribute::Destination(_)));
        assert_eq!(route_from_message(&wire(&m)), Ok(r));
    }

    #[test]
    fn kernel_and_local_routes_are_skipped() {
        let mut r = route("192.0.2.0/24", vec![]);
        r.protocol = RTPROT_KERNEL;
        r.nexthops = vec![FibNexthop {
            gateway: None,
            ifindex: 2,
            weight: 1,
        }];
        assert_eq!(route_from_message(&replace_message(&r)), Err(Skip::Kernel));
        r.protocol = 186;
        r.table = RT_TABLE_LOCAL;
        assert_eq!(
            route_from_message(&replace_message(&r)),
            Err(Skip::LocalTable)
        );
        let mut m = replace_message(&route("192.0.2.1/32", vec![]));
        m.header.kind = RouteType::Local;
        assert_eq!(route_from_message(&m), Err(Skip::Type));
    }
}

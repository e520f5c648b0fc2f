//! RIB selection, resolution and lifecycle, step by step.

use super::*;
use crate::fib::nhobj::DumpedNexthop;
use crate::fib::ObjectBody;

fn net(s: &str) -> IpNetwork {
    s.parse().unwrap()
}
fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn via(prefix: &str, gws: &[&str]) -> RouteIn {
    RouteIn {
        prefix: net(prefix),
        table: MAIN_TABLE,
        distance: None,
        metric: 0,
        tag: 0,
        kind: RouteKind::Unicast,
        nexthops: gws
            .iter()
            .map(|g| NexthopIn {
                gateway: Some(ip(g)),
                ifname: None,
                weight: 1,
            })
            .collect(),
    }
}

/// A RIB with eth0 (index 2, 192.0.2.1/24) and eth1 (index 3, 198.51.100.1/24) up.
fn lab() -> Rib {
    let mut rib = Rib::new(RibConfig::default());
    rib.link_update(2, "eth0", true);
    rib.link_update(3, "eth1", true);
    rib.addr_added(2, net("192.0.2.1/24"));
    rib.addr_added(3, net("198.51.100.1/24"));
    rib.take_output();
    rib
}

/// (prefix, [(gateway, ifindex)], protocol) of each Replace op.
type Replaced = (IpNetwork, Vec<(Option<IpAddr>, u32)>, u8);

fn replaced(out: &Output) -> Vec<Replaced> {
    out.fib
        .iter()
        .filter_map(|op| match op {
            FibOp::Replace(r) => Some((
                r.prefix,
                r.nexthops.iter().map(|n| (n.gateway, n.ifindex)).collect(),
                r.protocol,
            )),
            _ => None,
        })
        .collect()
}

fn deleted(out: &Output) -> Vec<IpNetwork> {
    out.fib
        .iter()
        .filter_map(|op| match op {
            FibOp::Delete { prefix, .. } => Some(*prefix),
            _ => None,
        })
        .collect()
}

#[test]
fn connected_routes_are_not_installed_but_resolve() {
    let mut rib = lab();
    let v = rib.show(MAIN_TABLE, Some(false), None);
    assert_eq!(v.len(), 2);
    assert!(v
        .iter()
        .all(|r| r.source == Source::Connected && r.selected && r.installed));
    let s = rib.client(Source::Static, "config");
    rib.add(s, &via("203.0.113.0/24", &["192.0.2.2"])).unwrap();
    rib.settle();
    let out = rib.take_output();
    assert_eq!(
        replaced(&out),
        vec![(net("203.0.113.0/24"), vec![(Some(ip("192.0.2.2")), 2)], 196)]
    );
}

#[test]
fn lowest_distance_wins_then_falls_back() {
    let mut rib = lab();
    let s = rib.client(Source::Static, "config");
    let b = rib.client(Source::Bgp, "default");
    rib.add(b, &via("203.0.113.0/24", &["198.51.100.2"]))
        .unwrap();
    rib.add(s, &via("203.0.113.0/24", &["192.0.2.2"])).unwrap();
    rib.settle();
    let out = rib.take_output();
    // One op for the prefix, with the static route's nexthop.
    assert_eq!(
        replaced(&out),
        vec![(net("203.0.113.0/24"), vec![(Some(ip("192.0.2.2")), 2)], 196)]
    );
    rib.remove_route(s, MAIN_TABLE, net("203.0.113.0/24"));
    rib.settle();
    let out = rib.take_output();
    assert_eq!(
        replaced(&out),
        vec![(
            net("203.0.113.0/24"),
            vec![(Some(ip("198.51.100.2")), 3)],
            186
        )]
    );
    rib.remove_route(b, MAIN_TABLE, net("203.0.113.0/24"));
    rib.settle();
    assert_eq!(deleted(&rib.take_output()), vec![net("203.0.113.0/24")]);
    assert!(rib
        .show(MAIN_TABLE, None, Some((net("203.0.113.0/24"), false)))
        .is_empty());
}

#[test]
fn lower_metric_wins_at_equal_distance() {
    let mut rib = lab();
    let a = rib.client(Source::Bgp, "a");
    let b = rib.client(Source::Bgp, "b");
    let mut r1 = via("203.0.113.0/24", &["192.0.2.2"]);
    r1.metric = 10;
    let mut r2 = via("203.0.113.0/24", &["198.51.100.2"]);
    r2.metric = 5;
    rib.add(a, &r1).unwrap();
    rib.add(b, &r2).unwrap();
    rib.settle();
    let out = rib.take_output();
    assert_eq!(replaced(&out)[0].1, vec![(Some(ip("198.51.100.2")), 3)]);
}

#[test]
fn ecmp_up_to_the_limit() {
    let mut rib = lab();
    let s = rib.client(Source::Static, "config");
    rib.add(s, &via("203.0.113.0/24", &["192.0.2.2", "198.51.100.2"]))
        .unwrap();
    rib.settle();
    let out = rib.take_output();
    assert_eq!(replaced(&out)[0].1.len(), 2);
    rib.set_config(RibConfig {
        ecmp_max: 1,
        ..RibConfig::default()
    });
    let out = rib.take_output();
    assert_eq!(replaced(&out)[0].1.len(), 1, "{out:?}");
}

#[test]
fn recursive_resolution_follows_the_covering_route() {
    let mut rib = lab();
    let s = rib.client(Source::Static, "config");
    // 203.0.113.0/24 via 198.51.100.77? No: via 10-less documentation host
    // 192.0.2.200 is connected; use a gateway inside another static route.
    rib.add(s, &via("198.51.100.128/25", &["192.0.2.2"]))
        .unwrap();
    rib.add(s, &via("203.0.113.0/24", &["198.51.100.200"]))
        .unwrap();
    rib.settle();
    let out = rib.take_output();
    let r = replaced(&out);
    // 198.51.100.200 is in 198.51.100.128/25 (more specific than the
    // connected /24), so the route resolves recursively through 192.0.2.2.
    let t = r.iter().find(|x| x.0 == net("203.0.113.0/24")).unwrap();
    assert_eq!(t.1, vec![(Some(ip("192.0.2.2")), 2)]);
    let v = rib.show(MAIN_TABLE, None, Some((net("203.0.113.0/24"), false)));
    assert!(v[0].status[0].recursive);
    // The covering route goes: the gateway falls back to the connected /24.
    rib.remove_route(s, MAIN_TABLE, net("198.51.100.128/25"));
    rib.settle();
    let out = rib.take_output();
    let r = replaced(&out);
    assert_eq!(
        r,
        vec![(
            net("203.0.113.0/24"),
            vec![(Some(ip("198.51.100.200")), 3)],
            196
        )]
    );
}

#[test]
fn unresolvable_route_is_kept_and_installed_when_it_resolves() {
    let mut rib = lab();
    let s = rib.client(Source::Static, "config");
    rib.add(s, &via("198.18.0.0/15", &["203.0.113.9"])).unwrap();
    rib.settle();
    assert!(rib.take_output().fib.is_empty());
    let v = rib.show(MAIN_TABLE, None, Some((net("198.18.0.0/15"), false)));
    assert!(!v[0].selected && !v[0].installed);
    rib.link_update(4, "eth2", true);
    rib.addr_added(4, net("203.0.113.1/24"));
    let out = rib.take_output();
    assert_eq!(
        replaced(&out),
        vec![(
            net("198.18.0.0/15"),
            vec![(Some(ip("203.0.113.9")), 4)],
            196
        )]
    );
}

#[test]
fn default_route_does_not_resolve_nexthops() {
    let mut rib = lab();
    let s = rib.client(Source::Static, "config");
    rib.add(s, &via("0.0.0.0/0", &["192.0.2.2"])).unwrap();
    rib.add(s, &via("203.0.113.0/24", &["198.18.0.1"])).unwrap();
    rib.settle();
    let out = rib.take_output();
    assert_eq!(replaced(&out).len(), 1, "only the default route: {out:?}");
}

#[test]
fn link_down_withdraws_and_link_up_restores() {
    let mut rib = lab();
    let s = rib.client(Source::Static, "config");
    rib.add(s, &via("203.0.113.0/24", &["192.0.2.2", "198.51.100.2"]))
        .unwrap();
    rib.settle();
    rib.take_output();
    rib.link_update(2, "eth0", false);
    let out = rib.take_output();
    assert_eq!(replaced(&out)[0].1, vec![(Some(ip("198.51.100.2")), 3)]);
    rib.link_update(3, "eth1", false);
    assert_eq!(deleted(&rib.take_output()), vec![net("203.0.113.0/24")]);
    rib.link_update(2, "eth0", true);
    rib.link_update(3, "eth1", true);
    let out = rib.take_output();
    let last = replaced(&out).pop().unwrap();
    assert_eq!(last.1.len(), 2);
}

#[test]
fn interface_route_and_blackhole() {
    let mut rib = lab();
    let s = rib.client(Source::Static, "config");
    let mut r = via("203.0.113.0/24", &[]);
    r.nexthops = vec![NexthopIn {
        gateway: None,
        ifname: Some("eth1".into()),
        weight: 1,
    }];
    rib.add(s, &r).unwrap();
    let mut bh = via("198.18.0.0/15", &[]);
    bh.kind = RouteKind::Blackhole;
    rib.add(s, &bh).unwrap();
    r.nexthops[0].ifname = Some("nope".into());
    assert!(rib.add(s, &r).unwrap_err().contains("unknown interface"));
    rib.settle();
    let out = rib.take_output();
    assert_eq!(out.fib.len(), 2);
    assert!(out
        .fib
        .iter()
        .any(|op| matches!(op, FibOp::Replace(r) if r.kind == FibKind::Blackhole && r.nexthops.is_empty())));
    assert!(replaced(&out).contains(&(net("203.0.113.0/24"), vec![(None, 3)], 196)));
}

#[test]
fn tables_are_separate() {
    let mut rib = lab();
    let s = rib.client(Source::Static, "config");
    let mut r = via("203.0.113.0/24", &["192.0.2.2"]);
    r.table = 1000;
    rib.add(s, &r).unwrap();
    rib.settle();
    let out = rib.take_output();
    match &out.fib[0] {
        FibOp::Replace(f) => assert_eq!(f.table, 1000),
        o => panic!("{o:?}"),
    }
    assert!(rib
        .show(MAIN_TABLE, None, Some((net("203.0.113.0/24"), false)))
        .is_empty());
    assert_eq!(rib.show(1000, None, None).len(), 1);
}

#[test]
fn stale_routes_of_a_gone_client_expire() {
    let mut rib = lab();
    let (b, _) = rib.connect(Source::Bgp, "default");
    rib.add(b, &via("203.0.113.0/24", &["192.0.2.2"])).unwrap();
    rib.add(b, &via("198.18.0.0/15", &["192.0.2.2"])).unwrap();
    rib.settle();
    rib.take_output();
    let t0 = Instant::now();
    rib.disconnect(b, Duration::from_secs(120), t0);
    assert!(
        rib.take_output().fib.is_empty(),
        "nothing leaves the kernel yet"
    );
    assert!(
        rib.show(MAIN_TABLE, None, None)
            .iter()
            .filter(|r| r.stale)
            .count()
            == 2
    );
    assert_eq!(rib.expire_stale(t0 + Duration::from_secs(60)), 0);
    assert_eq!(rib.expire_stale(t0 + Duration::from_secs(121)), 2);
    let mut d = deleted(&rib.take_output());
    d.sort();
    assert_eq!(d, vec![net("198.18.0.0/15"), net("203.0.113.0/24")]);
}

#[test]
fn a_returning_client_replaces_its_stale_routes_without_a_flap() {
    let mut rib = lab();
    let (b, _) = rib.connect(Source::Bgp, "default");
    rib.add(b, &via("203.0.113.0/24", &["192.0.2.2"])).unwrap();
    rib.add(b, &via("198.18.0.0/15", &["192.0.2.2"])).unwrap();
    rib.settle();
    rib.take_output();
    rib.disconnect(b, Duration::from_secs(120), Instant::now());
    let (b2, stale) = rib.connect(Source::Bgp, "default");
    assert_eq!((b2, stale), (b, 2));
    rib.add(b, &via("203.0.113.0/24", &["192.0.2.2"])).unwrap();
    rib.settle();
    assert!(
        rib.take_output().fib.is_empty(),
        "same route again: no kernel change"
    );
    rib.end_of_rib(b);
    assert_eq!(deleted(&rib.take_output()), vec![net("198.18.0.0/15")]);
    assert!(rib.clients()[b as usize].stale_deadline.is_none());
}

#[test]
fn adopted_kernel_routes_go_to_the_returning_client() {
    let mut rib = lab();
    let t0 = Instant::now();
    let k = FibRoute {
        prefix: net("203.0.113.0/24"),
        table: MAIN_TABLE,
        protocol: 186,
        priority: KERNEL_PRIORITY,
        kind: FibKind::Unicast,
        nexthops: vec![FibNexthop {
            gateway: Some(ip("192.0.2.2")),
            ifindex: 2,
            weight: 1,
        }],
        nh_id: 0,
    };
    rib.adopt(Source::Bgp, &k, Duration::from_secs(120), t0);
    rib.settle();
    assert!(rib.take_output().fib.is_empty());
    let v = rib.show(MAIN_TABLE, None, Some((net("203.0.113.0/24"), false)));
    assert!(v[0].stale && v[0].installed);
    let (b, stale) = rib.connect(Source::Bgp, "default");
    assert_eq!(stale, 1);
    rib.add(b, &via("203.0.113.0/24", &["192.0.2.2"])).unwrap();
    rib.settle();
    rib.end_of_rib(b);
    let out = rib.take_output();
    assert!(deleted(&out).is_empty(), "{out:?}");
    let v = rib.show(MAIN_TABLE, None, Some((net("203.0.113.0/24"), false)));
    assert_eq!(v.len(), 1);
    assert!(!v[0].stale && v[0].installed && v[0].instance == "default");
    let adopted = rib
        .clients()
        .iter()
        .find(|c| c.instance.is_empty())
        .unwrap();
    assert_eq!((adopted.routes, adopted.stale_routes), (0, 0));
    assert!(adopted.stale_deadline.is_none());
}

#[test]
fn kernel_errors_and_outside_deletions() {
    let mut rib = lab();
    let s = rib.client(Source::Static, "config");
    rib.add(s, &via("203.0.113.0/24", &["192.0.2.2"])).unwrap();
    rib.settle();
    rib.take_output();
    assert!(rib.kernel_route_deleted(MAIN_TABLE, net("203.0.113.0/24"), KERNEL_PRIORITY));
    assert_eq!(replaced(&rib.take_output()).len(), 1);
    assert_eq!(rib.stats().fib_reinstalled, 1);
    // A deletion of a route we do not have installed is not ours.
    assert!(!rib.kernel_route_deleted(MAIN_TABLE, net("198.18.0.0/15"), KERNEL_PRIORITY));
    rib.fib_outcome(&FibOutcome {
        target: FibTarget::Route(MAIN_TABLE, net("203.0.113.0/24"), KERNEL_PRIORITY),
        replace: true,
        error: Some(-101),
    });
    let v = rib.show(MAIN_TABLE, None, Some((net("203.0.113.0/24"), false)));
    assert!(v[0].selected && !v[0].installed);
    assert_eq!(v[0].fib_err, 101);
    assert_eq!(rib.stats().fib_errors, 1);
}

#[test]
fn nexthop_tracking_reports_changes() {
    let mut rib = lab();
    let st = rib
        .nht_register(MAIN_TABLE, ip("203.0.113.5"), true)
        .unwrap();
    assert!(!st.resolved);
    let o = rib.client(Source::Ospf, "default");
    let mut r = via("203.0.113.0/24", &["192.0.2.2"]);
    r.metric = 30;
    rib.add(o, &r).unwrap();
    rib.settle();
    let out = rib.take_output();
    assert_eq!(out.nht.len(), 1);
    let (_, a, st) = &out.nht[0];
    assert_eq!(*a, ip("203.0.113.5"));
    assert!(st.resolved);
    assert_eq!(st.metric, 30);
    assert_eq!(st.via, Some(net("203.0.113.0/24")));
    assert_eq!(st.via_source, Some(Source::Ospf));
    rib.remove_route(o, MAIN_TABLE, net("203.0.113.0/24"));
    rib.settle();
    let out = rib.take_output();
    assert!(!out.nht[0].2.resolved);
}

#[test]
fn redistribution_reports_selected_changes() {
    let mut rib = lab();
    rib.redist_wanted = true;
    let s = rib.client(Source::Static, "config");
    rib.add(s, &via("203.0.113.0/24", &["192.0.2.2"])).unwrap();
    rib.settle();
    let out = rib.take_output();
    assert_eq!(out.redist.len(), 1);
    assert_eq!(out.redist[0].new.as_ref().unwrap().source, Source::Static);
    rib.remove_route(s, MAIN_TABLE, net("203.0.113.0/24"));
    rib.settle();
    let out = rib.take_output();
    assert_eq!(out.redist[0].old, Some(Source::Static));
    assert!(out.redist[0].new.is_none());
    let dump = rib.selected_routes(&[Source::Connected], &[MAIN_TABLE]);
    assert_eq!(dump.len(), 2);
}

#[test]
fn a_prefix_changed_twice_in_one_flush_is_one_redistribution_change() {
    let mut rib = lab();
    rib.redist_wanted = true;
    let s = rib.client(Source::Static, "config");
    let a = rib.client(Source::Anycast, "services");
    rib.add(s, &via("203.0.113.0/24", &["192.0.2.2"])).unwrap();
    rib.settle();
    rib.take_output();
    // Selected and withdrawn again before the owner flushes: subscribers
    // must see nothing for the anycast route, the static one stays.
    rib.add(a, &via("203.0.113.0/24", &["192.0.2.2"])).unwrap();
    rib.settle();
    rib.remove_route(a, MAIN_TABLE, net("203.0.113.0/24"));
    rib.settle();
    let out = rib.take_output();
    assert_eq!(out.redist.len(), 1);
    assert_eq!(out.redist[0].old, Some(Source::Static));
    assert_eq!(
        out.redist[0].new.as_ref().map(|n| n.source),
        Some(Source::Static)
    );
    // Added and removed in one flush: no change at all.
    rib.add(a, &via("203.0.113.128/25", &["192.0.2.2"]))
        .unwrap();
    rib.settle();
    rib.remove_route(a, MAIN_TABLE, net("203.0.113.128/25"));
    rib.settle();
    let out = rib.take_output();
    assert!(out.redist.is_empty(), "{:?}", out.redist);
}

#[test]
fn many_routes_share_one_group() {
    let mut rib = lab();
    let b = rib.client(Source::Bgp, "default");
    for i in 0..1000u32 {
        let p = format!("198.18.{}.{}/32", i / 256, i % 256);
        rib.add(b, &via(&p, &["192.0.2.2"])).unwrap();
    }
    rib.settle();
    assert_eq!(rib.take_output().fib.len(), 1000);
    // Two connected groups plus the one shared BGP group.
    assert_eq!(rib.groups.len(), 3);
    for i in (0..1000u32).rev() {
        let p = format!("198.18.{}.{}/32", i / 256, i % 256);
        rib.remove_route(b, MAIN_TABLE, net(&p));
    }
    rib.settle();
    assert_eq!(rib.take_output().fib.len(), 1000);
    assert_eq!(rib.groups.len(), 2);
    assert_eq!(rib.route_count(), 2);
}

#[test]
fn tags_are_kept_and_a_prefix_record_stays_small() {
    let mut rib = lab();
    let s = rib.client(Source::Static, "config");
    let mut r = via("203.0.113.0/24", &["192.0.2.2"]);
    r.tag = 42;
    rib.add(s, &r).unwrap();
    rib.settle();
    assert_eq!(
        rib.show(MAIN_TABLE, None, Some((net("203.0.113.0/24"), false)))[0].tag,
        42
    );
    // A new tag is a change of the route (the group holds the tag).
    r.tag = 7;
    rib.add(s, &r).unwrap();
    rib.settle();
    assert_eq!(
        rib.show(MAIN_TABLE, None, Some((net("203.0.113.0/24"), false)))[0].tag,
        7
    );
    // A million of these are the RIB's memory: keep them at 32 bytes.
    assert!(
        std::mem::size_of::<Dest>() <= 32,
        "{}",
        std::mem::size_of::<Dest>()
    );
}

#[test]
fn ipv4_route_via_ipv6_gateway() {
    // RFC 8950: bgpd hands over an IPv4 route whose next hop is IPv6; it
    // resolves through the IPv6 connected subnet and goes to the kernel
    // with the IPv6 gateway (RTA_VIA), and follows that subnet.
    let mut rib = lab();
    rib.addr_added(3, net("2001:db8:1::1/64"));
    let b = rib.client(Source::Bgp, "default");
    rib.add(b, &via("203.0.113.0/24", &["2001:db8:1::2"]))
        .unwrap();
    rib.settle();
    let out = rib.take_output();
    assert_eq!(
        replaced(&out),
        vec![(
            net("203.0.113.0/24"),
            vec![(Some(ip("2001:db8:1::2")), 3)],
            186
        )]
    );
    // Nexthop tracking answers for the IPv6 address.
    assert!(rib.nht_state(MAIN_TABLE, ip("2001:db8:1::2")).resolved);
    // An IPv6 route with an IPv4 gateway is refused.
    assert!(rib.add(b, &via("2001:db8:9::/48", &["192.0.2.2"])).is_err());
    // The subnet goes: the route leaves the kernel.
    rib.addr_removed(3, net("2001:db8:1::1/64"));
    rib.settle();
    assert_eq!(deleted(&rib.take_output()), vec![net("203.0.113.0/24")]);
}

#[test]
fn route_limit_per_client_rejects_new_prefixes_and_keeps_the_rest() {
    let mut rib = lab();
    rib.set_config(RibConfig {
        max_routes_per_client: 2,
        ..RibConfig::default()
    });
    let (b, _) = rib.connect(Source::Bgp, "default");
    let (s, _) = rib.connect(Source::Static, "default");
    rib.add(b, &via("203.0.113.0/25", &["192.0.2.2"])).unwrap();
    rib.add(b, &via("203.0.113.128/25", &["192.0.2.2"]))
        .unwrap();
    let err = rib
        .add(b, &via("198.18.0.0/15", &["192.0.2.2"]))
        .unwrap_err();
    assert!(err.contains("route limit"), "{err}");
    assert!(err.contains("rib.max_routes_per_client = 2"), "{err}");
    // A route it holds may still change; another client is not affected.
    rib.add(b, &via("203.0.113.0/25", &["198.51.100.2"]))
        .unwrap();
    rib.add(s, &via("198.18.0.0/15", &["192.0.2.3"])).unwrap();
    rib.settle();
    let shown: Vec<_> = rib
        .show(MAIN_TABLE, None, None)
        .iter()
        .map(|r| r.prefix)
        .collect();
    assert!(shown.contains(&net("203.0.113.0/25")), "{shown:?}");
    assert!(shown.contains(&net("203.0.113.128/25")), "{shown:?}");
    assert!(shown.contains(&net("198.18.0.0/15")), "{shown:?}");
    // After a withdrawal there is room again.
    rib.remove_route(b, MAIN_TABLE, net("203.0.113.128/25"));
    rib.add(b, &via("198.51.100.128/25", &["192.0.2.2"]))
        .unwrap();
}

/// The kernel as far as kernel nexthop objects go: objects and routes
/// (prefix -> object id, 0 inline). Deleting an object takes its routes
/// with it, and a link going down takes its objects out of their groups
/// (an emptied group goes, with its routes), as the kernel does.
#[derive(Default)]
struct KernelModel {
    objs: HashMap<u32, ObjectBody>,
    /// `nh_protocol` of each object.
    protos: HashMap<u32, u8>,
    routes: HashMap<IpNetwork, u32>,
}

/// A nexthop object notification, as the monitor passes it on.
#[derive(Debug, Clone)]
enum Notice {
    New(DumpedNexthop),
    Del(DumpedNexthop),
}

impl KernelModel {
    fn apply(&mut self, ops: &[FibOp]) {
        for op in ops {
            match op {
                FibOp::Nexthop(o) => {
                    if let ObjectBody::Group(members) = &o.body {
                        for m in members {
                            assert!(
                                matches!(self.objs.get(&m.id), Some(ObjectBody::Single { .. })),
                                "group {} names member {} before it exists",
                                o.id,
                                m.id
                            );
                        }
                    }
                    self.objs.insert(o.id, o.body.clone());
                    self.protos.insert(o.id, o.protocol);
                }
                FibOp::DeleteNexthop { id } => {
                    let held = self.objs.values().any(
                        |b| matches!(b, ObjectBody::Group(m) if m.iter().any(|m| m.id == *id)),
                    );
                    assert!(!held, "member {id} deleted while a group holds it");
                    self.objs.remove(id);
                    self.routes.retain(|_, n| n != id);
                }
                FibOp::Replace(r) => {
                    assert!(
                        r.nh_id == 0 || self.objs.contains_key(&r.nh_id),
                        "{} names object {} before it exists",
                        r.prefix,
                        r.nh_id
                    );
                    self.routes.insert(r.prefix, r.nh_id);
                }
                FibOp::Delete { prefix, .. } => {
                    self.routes.remove(prefix);
                }
            }
        }
    }

    /// What the kernel does when a link goes down.
    fn link_down(&mut self, ifindex: u32) {
        let gone: Vec<u32> = self
            .objs
            .iter()
            .filter(|(_, b)| matches!(b, ObjectBody::Single { ifindex: i, .. } if *i == ifindex))
            .map(|(&id, _)| id)
            .collect();
        let mut dead = gone.clone();
        for (&id, b) in self.objs.iter_mut() {
            if let ObjectBody::Group(members) = b {
                members.retain(|m| !gone.contains(&m.id));
                if members.is_empty() {
                    dead.push(id);
                }
            }
        }
        for id in dead {
            self.objs.remove(&id);
            self.routes.retain(|_, n| *n != id);
        }
    }

    /// Object `id` as a notification reports it.
    fn dumped(&self, id: u32) -> DumpedNexthop {
        let protocol = self.protos.get(&id).copied().unwrap_or(0);
        match self.objs.get(&id) {
            Some(ObjectBody::Single {
                family,
                gateway,
                ifindex,
            }) => DumpedNexthop {
                id,
                protocol,
                family: *family,
                gateway: *gateway,
                ifindex: *ifindex,
                group: Vec::new(),
                blackhole: false,
            },
            Some(ObjectBody::Group(members)) => DumpedNexthop {
                id,
                protocol,
                family: 0,
                gateway: None,
                ifindex: 0,
                group: members.clone(),
                blackhole: false,
            },
            None => panic!("no object {id}"),
        }
    }

    /// What the kernel does on `ip nexthop del id ID`: the object goes,
    /// with the routes naming it, and out of its groups (an emptied group
    /// goes too, with its routes). The notifications, in the kernel's
    /// order: the deletion, then each group changed or deleted.
    fn outside_delete(&mut self, id: u32) -> Vec<Notice> {
        let mut n = vec![Notice::Del(self.dumped(id))];
        self.objs.remove(&id);
        self.routes.retain(|_, nh| *nh != id);
        let mut groups: Vec<u32> = self
            .objs
            .iter()
            .filter(|(_, b)| matches!(b, ObjectBody::Group(m) if m.iter().any(|m| m.id == id)))
            .map(|(&g, _)| g)
            .collect();
        groups.sort_unstable();
        for g in groups {
            if let Some(ObjectBody::Group(m)) = self.objs.get_mut(&g) {
                m.retain(|m| m.id != id);
                if m.is_empty() {
                    n.extend(self.outside_delete(g));
                } else {
                    n.push(Notice::New(self.dumped(g)));
                }
            }
        }
        n
    }

    /// What the kernel does on `ip nexthop replace id ID via GW dev IF`
    /// (no `proto`: the object's protocol becomes 0).
    fn outside_replace(&mut self, id: u32, gateway: &str, ifindex: u32) -> Vec<Notice> {
        let gateway = ip(gateway);
        self.objs.insert(
            id,
            ObjectBody::Single {
                family: if gateway.is_ipv4() { 2 } else { 10 },
                gateway: Some(gateway),
                ifindex,
            },
        );
        self.protos.insert(id, 0);
        vec![Notice::New(self.dumped(id))]
    }

    /// Every object as notifications of its creation (what the echoes of
    /// zebrad's own writes look like).
    fn echoes(&self) -> Vec<Notice> {
        let mut ids: Vec<u32> = self.objs.keys().copied().collect();
        ids.sort_unstable();
        ids.into_iter()
            .map(|id| Notice::New(self.dumped(id)))
            .collect()
    }

    fn prefixes(&self) -> Vec<IpNetwork> {
        let mut v: Vec<IpNetwork> = self.routes.keys().copied().collect();
        v.sort();
        v
    }
}

/// Feeds nexthop notifications to the RIB as the daemon does (the
/// routes' re-installs once at the end); returns how many it repaired.
fn notify(rib: &mut Rib, notices: &[Notice]) -> usize {
    let n = notices
        .iter()
        .filter(|n| match n {
            Notice::New(d) => rib.kernel_nexthop_changed(d).is_some(),
            Notice::Del(d) => rib.kernel_nexthop_deleted(d).is_some(),
        })
        .count();
    rib.reinstall_repaired();
    n
}

/// The prefixes the RIB believes installed by zebrad.
fn installed(rib: &Rib) -> Vec<IpNetwork> {
    let mut v: Vec<IpNetwork> = rib
        .show(MAIN_TABLE, None, None)
        .iter()
        .filter(|r| r.installed && r.source != Source::Connected)
        .map(|r| r.prefix)
        .collect();
    v.sort();
    v
}

fn lab_with_objects() -> Rib {
    let mut rib = lab();
    rib.enable_kernel_nexthops(&[], &[186, 196]);
    rib
}

#[test]
fn routes_share_one_kernel_nexthop_object_created_first_deleted_last() {
    let mut rib = lab_with_objects();
    let mut k = KernelModel::default();
    let b = rib.client(Source::Bgp, "default");
    rib.add(b, &via("203.0.113.0/25", &["192.0.2.2"])).unwrap();
    rib.add(b, &via("203.0.113.128/25", &["192.0.2.2"]))
        .unwrap();
    rib.settle();
    let out = rib.take_output();
    let id = match out.fib.as_slice() {
        [FibOp::Nexthop(o), FibOp::Replace(r1), FibOp::Replace(r2)] => {
            assert_eq!(
                *o,
                crate::fib::NexthopObject::single(o.id, 186, ip("192.0.2.2"), 2)
            );
            assert_eq!((r1.nh_id, r2.nh_id), (o.id, o.id));
            o.id
        }
        other => panic!("unexpected ops {other:?}"),
    };
    k.apply(&out.fib);
    assert_eq!(rib.kernel_nexthops().len(), 1);
    assert_eq!(rib.kernel_nexthops()[0].refs, 1, "one group holds it");

    // Another gateway: a second object for that route only.
    rib.add(b, &via("203.0.113.128/25", &["198.51.100.2"]))
        .unwrap();
    rib.settle();
    let out = rib.take_output();
    assert!(
        matches!(out.fib.as_slice(), [FibOp::Nexthop(o), FibOp::Replace(r)] if o.id != id && r.nh_id == o.id)
    );
    k.apply(&out.fib);

    // The last route through the first object goes, then the object.
    rib.remove_route(b, MAIN_TABLE, net("203.0.113.0/25"));
    rib.settle();
    let out = rib.take_output();
    assert!(
        matches!(out.fib.as_slice(), [FibOp::Delete { .. }, FibOp::DeleteNexthop { id: d }] if *d == id)
    );
    k.apply(&out.fib);
    assert_eq!(k.prefixes(), installed(&rib));
    assert_eq!(rib.kernel_nexthops().len(), 1);
}

#[test]
fn kernel_objects_follow_resolution_changes_and_link_flaps() {
    let mut rib = lab_with_objects();
    let mut k = KernelModel::default();
    let s = rib.client(Source::Static, "config");
    let b = rib.client(Source::Bgp, "default");
    // A BGP next hop resolved recursively through a static route.
    rib.add(s, &via("203.0.113.0/24", &["192.0.2.2"])).unwrap();
    rib.add(b, &via("203.0.113.64/26", &["203.0.113.9"]))
        .unwrap();
    rib.add(b, &via("203.0.113.128/25", &["203.0.113.9"]))
        .unwrap();
    rib.settle();
    k.apply(&rib.take_output().fib);
    assert_eq!(k.prefixes(), installed(&rib));
    assert_eq!(k.routes.len(), 3);
    assert!(k.routes.values().all(|&n| n != 0));

    // The static route moves to eth1: the BGP routes follow it onto new
    // objects, and nothing is left on the old ones.
    rib.add(s, &via("203.0.113.0/24", &["198.51.100.2"]))
        .unwrap();
    rib.settle();
    let out = rib.take_output();
    k.apply(&out.fib);
    assert_eq!(k.prefixes(), installed(&rib));
    assert!(out
        .fib
        .iter()
        .any(|op| matches!(op, FibOp::DeleteNexthop { .. })));
    assert!(k
        .objs
        .values()
        .all(|b| matches!(b, ObjectBody::Single { ifindex: 3, .. })));
    assert_eq!(rib.kernel_nexthops().len(), k.objs.len());

    // eth1 goes down: the kernel drops its objects and their routes.
    k.link_down(3);
    rib.link_update(3, "eth1", false);
    rib.settle();
    k.apply(&rib.take_output().fib);
    assert_eq!(k.prefixes(), installed(&rib));
    assert!(installed(&rib).is_empty());
    // And up again: objects re-created before the routes name them.
    rib.link_update(3, "eth1", true);
    rib.settle();
    k.apply(&rib.take_output().fib);
    assert_eq!(k.routes.len(), 3);
    assert_eq!(k.prefixes(), installed(&rib));
}

#[test]
fn multipath_routes_name_a_group_object_blackholes_stay_inline() {
    let mut rib = lab_with_objects();
    let mut k = KernelModel::default();
    let b = rib.client(Source::Bgp, "default");
    rib.add(b, &via("203.0.113.0/24", &["192.0.2.2", "198.51.100.2"]))
        .unwrap();
    rib.add(b, &via("203.0.113.0/25", &["192.0.2.2"])).unwrap();
    let mut bh = via("198.51.100.128/25", &[]);
    bh.kind = RouteKind::Blackhole;
    rib.add(b, &bh).unwrap();
    rib.settle();
    k.apply(&rib.take_output().fib);
    let objects = rib.kernel_nexthops();
    assert_eq!(objects.len(), 3, "two members, one group: {objects:?}");
    let group = objects.iter().find(|o| o.group).unwrap();
    assert_eq!(group.legs.len(), 2);
    assert_eq!(k.routes[&net("203.0.113.0/24")], group.id);
    assert_ne!(
        k.routes[&net("203.0.113.0/25")],
        0,
        "a member shared by a single route"
    );
    assert_eq!(k.routes[&net("198.51.100.128/25")], 0, "blackhole inline");

    // One leg down: the kernel keeps the group with the other member; the
    // RIB moves the route to a single object and the group goes.
    k.link_down(3);
    rib.link_update(3, "eth1", false);
    rib.settle();
    k.apply(&rib.take_output().fib);
    assert_eq!(k.prefixes(), installed(&rib));
    assert!(!rib.kernel_nexthops().iter().any(|o| o.group));
    // Up again: a group again, created after its members.
    rib.link_update(3, "eth1", true);
    rib.settle();
    k.apply(&rib.take_output().fib);
    assert_eq!(k.prefixes(), installed(&rib));
    let group = rib.kernel_nexthops().into_iter().find(|o| o.group).unwrap();
    assert_eq!(k.routes[&net("203.0.113.0/24")], group.id);
    // Everything withdrawn: every object deleted, groups before members.
    for p in ["203.0.113.0/24", "203.0.113.0/25", "198.51.100.128/25"] {
        rib.remove_route(b, MAIN_TABLE, net(p));
    }
    rib.settle();
    k.apply(&rib.take_output().fib);
    assert!(k.routes.is_empty() && k.objs.is_empty());
    assert!(rib.kernel_nexthops().is_empty());
}

/// Routes through a single object A (192.0.2.2), a group G of A and B
/// (198.51.100.2) and B alone, all applied to a kernel model.
fn lab_with_shared_objects() -> (Rib, KernelModel, u32, u32, u32) {
    let mut rib = lab_with_objects();
    let mut k = KernelModel::default();
    let b = rib.client(Source::Bgp, "default");
    rib.add(b, &via("203.0.113.0/26", &["192.0.2.2"])).unwrap();
    rib.add(b, &via("203.0.113.64/26", &["192.0.2.2"])).unwrap();
    rib.add(b, &via("203.0.113.128/26", &["192.0.2.2", "198.51.100.2"]))
        .unwrap();
    rib.add(b, &via("203.0.113.192/26", &["198.51.100.2"]))
        .unwrap();
    rib.settle();
    k.apply(&rib.take_output().fib);
    let objs = rib.kernel_nexthops();
    let id_of = |gw: &str| {
        objs.iter()
            .find(|o| !o.group && o.legs[0].1 == ip(gw))
            .map(|o| o.id)
            .unwrap()
    };
    let (a, bb) = (id_of("192.0.2.2"), id_of("198.51.100.2"));
    let g = objs.iter().find(|o| o.group).map(|o| o.id).unwrap();
    assert_eq!(k.routes[&net("203.0.113.0/26")], a);
    assert_eq!(k.routes[&net("203.0.113.128/26")], g);
    (rib, k, a, bb, g)
}

#[test]
fn an_object_deleted_from_outside_is_recreated_with_its_routes() {
    let (mut rib, mut k, a, b, g) = lab_with_shared_objects();
    let before = k.objs.clone();
    // The echoes of zebrad's own writes change nothing.
    assert_eq!(notify(&mut rib, &k.echoes()), 0);
    assert!(rib.take_output().fib.is_empty());

    // `ip nexthop del id A`: the kernel drops A's two routes without a
    // word and takes A out of G.
    let notices = k.outside_delete(a);
    assert_eq!(k.routes.len(), 2);
    assert!(matches!(&k.objs[&g], ObjectBody::Group(m) if m.len() == 1));
    assert!(notify(&mut rib, &notices) >= 1);
    let out = rib.take_output();
    // A first, then G whole again (members first), then A's routes (the
    // model checks the order); G's and B's routes were not touched.
    assert!(
        matches!(&out.fib[0], FibOp::Nexthop(o) if o.id == a),
        "{:?}",
        out.fib
    );
    assert!(out
        .fib
        .iter()
        .any(|op| matches!(op, FibOp::Nexthop(o) if o.id == g)));
    let mut again = replaced(&out);
    again.sort();
    assert_eq!(
        again.iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![net("203.0.113.0/26"), net("203.0.113.64/26")]
    );
    k.apply(&out.fib);
    assert_eq!(k.objs, before);
    assert_eq!(k.prefixes(), installed(&rib));
    assert_eq!(k.routes[&net("203.0.113.0/26")], a);
    assert!(rib.stats().nexthops_repaired >= 1);
    assert!(rib.kernel_nexthops().iter().all(|o| o.in_kernel));

    // The group deleted from outside: re-created (its members are there),
    // then its route.
    let notices = k.outside_delete(g);
    assert_eq!(k.routes.len(), 3);
    assert_eq!(notify(&mut rib, &notices), 1);
    let out = rib.take_output();
    assert!(matches!(&out.fib[2], FibOp::Nexthop(o) if o.id == g));
    assert_eq!(
        replaced(&out).iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![net("203.0.113.128/26")]
    );
    k.apply(&out.fib);
    assert_eq!(k.objs, before);
    assert_eq!(k.prefixes(), installed(&rib));

    // Both members deleted: the kernel empties and deletes G as well;
    // everything comes back, members before the group.
    let mut notices = k.outside_delete(b);
    notices.extend(k.outside_delete(a));
    assert!(!k.objs.contains_key(&g));
    assert!(k.routes.is_empty());
    notify(&mut rib, &notices);
    let out = rib.take_output();
    assert_eq!(replaced(&out).len(), 4, "each route once for the burst");
    k.apply(&out.fib);
    assert_eq!(k.objs, before);
    assert_eq!(k.prefixes(), installed(&rib));
    assert_eq!(k.routes.len(), 4);
}

#[test]
fn an_object_replaced_from_outside_is_written_back_others_are_left_alone() {
    let (mut rib, mut k, a, _, g) = lab_with_shared_objects();
    let before = k.objs.clone();
    let repaired = rib.stats().nexthops_repaired;

    // `ip nexthop replace id A via 192.0.2.9 dev eth0`: ours written back,
    // the routes keep naming A.
    let notices = k.outside_replace(a, "192.0.2.9", 2);
    assert_eq!(notify(&mut rib, &notices), 1);
    let out = rib.take_output();
    assert!(
        matches!(out.fib.as_slice(), [FibOp::Nexthop(o)] if o.id == a && o.protocol == 186),
        "{:?}",
        out.fib
    );
    k.apply(&out.fib);
    assert_eq!(k.objs, before);
    assert_eq!(rib.stats().nexthops_repaired, repaired + 1);
    // Its echo (and the others') change nothing.
    assert_eq!(notify(&mut rib, &k.echoes()), 0);
    assert!(rib.take_output().fib.is_empty());

    // A group with a member taken out (what the kernel reports for G
    // after its member was deleted) is sent back whole.
    let mut short = k.dumped(g);
    short.group.truncate(1);
    assert_eq!(notify(&mut rib, &[Notice::New(short)]), 1);
    assert!(
        matches!(rib.take_output().fib.as_slice(), [FibOp::Nexthop(_), FibOp::Nexthop(_), FibOp::Nexthop(o)] if o.id == g)
    );

    // Someone else's object (id 7, proto static of another daemon):
    // added, replaced, deleted; nothing happens.
    let other = DumpedNexthop {
        id: 7,
        protocol: 4,
        family: 2,
        gateway: Some(ip("192.0.2.7")),
        ifindex: 2,
        group: Vec::new(),
        blackhole: false,
    };
    let notices = [Notice::New(other.clone()), Notice::Del(other)];
    assert_eq!(notify(&mut rib, &notices), 0);
    assert!(rib.take_output().fib.is_empty());

    // zebrad deleting its own object: the echo of the delete is not an
    // outside change.
    let b = rib.client(Source::Bgp, "default");
    for p in ["203.0.113.0/26", "203.0.113.64/26", "203.0.113.128/26"] {
        rib.remove_route(b, MAIN_TABLE, net(p));
    }
    rib.settle();
    let out = rib.take_output();
    let gone: Vec<u32> = out
        .fib
        .iter()
        .filter_map(|op| match op {
            FibOp::DeleteNexthop { id } => Some(*id),
            _ => None,
        })
        .collect();
    assert_eq!(gone, vec![g, a], "the group before its member");
    let echoes: Vec<Notice> = gone.iter().map(|&id| Notice::Del(k.dumped(id))).collect();
    k.apply(&out.fib);
    assert_eq!(notify(&mut rib, &echoes), 0);
    assert!(rib.take_output().fib.is_empty());
    assert_eq!(rib.stats().nexthops_repaired, repaired + 2);
}

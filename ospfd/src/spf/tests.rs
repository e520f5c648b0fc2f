//! SPF on known graphs. Addressing: router n has router ID 10.0.0.n and a
//! loopback stub 10.0.0.n/32; the point-to-point link between routers i < j
//! is 10.i.j.0/24 with addresses 10.i.j.i and 10.i.j.j. The calculating
//! router is R1, whose interface toward router j has ifindex j.

use std::net::Ipv4Addr;

use ipnetwork::Ipv4Network;

use super::*;
use crate::lsa::{
    AsExternalLsa, ExternalMetricType, Lsa, LsaBody, LsaHeader, LsaType, NetworkLsa, RouterFlags,
    RouterLink, RouterLinkType, RouterLsa, SummaryLsa, INITIAL_SEQUENCE_NUMBER, MAX_AGE,
};
use crate::lsdb::Lsdb;
use crate::options::Options;

fn rid(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, n)
}

fn net(s: &str) -> Ipv4Network {
    s.parse().unwrap()
}

fn link_addr(a: u8, b: u8, owner: u8) -> Ipv4Addr {
    let (i, j) = if a < b { (a, b) } else { (b, a) };
    Ipv4Addr::new(10, i, j, owner)
}

fn link(link_type: RouterLinkType, id: Ipv4Addr, data: Ipv4Addr, metric: u16) -> RouterLink {
    RouterLink {
        link_id: id,
        link_data: data,
        link_type,
        metric,
    }
}

fn lsa(lsa_type: LsaType, lsid: Ipv4Addr, adv: Ipv4Addr, body: LsaBody) -> Lsa {
    Lsa::new(
        LsaHeader::new(0, Options::E, lsa_type, lsid, adv, INITIAL_SEQUENCE_NUMBER),
        body,
    )
    .unwrap()
}

fn router_lsa(id: u8, flags: RouterFlags, links: Vec<RouterLink>) -> Lsa {
    lsa(
        LsaType::ROUTER,
        rid(id),
        rid(id),
        LsaBody::Router(RouterLsa { flags, links }),
    )
}

/// Router-LSAs for point-to-point links `(i, j, cost)`, with a loopback
/// stub per router and a stub per link subnet.
fn p2p_area(routers: &[u8], edges: &[(u8, u8, u16)], flags: &[(u8, RouterFlags)]) -> Lsdb {
    let mut db = Lsdb::new();
    for &r in routers {
        let mut links = vec![link(RouterLinkType::Stub, rid(r), Ipv4Addr::BROADCAST, 0)];
        for &(i, j, cost) in edges {
            let other = match r {
                _ if r == i => j,
                _ if r == j => i,
                _ => continue,
            };
            links.push(link(
                RouterLinkType::PointToPoint,
                rid(other),
                link_addr(i, j, r),
                cost,
            ));
            links.push(link(
                RouterLinkType::Stub,
                link_addr(i, j, 0),
                Ipv4Addr::new(255, 255, 255, 0),
                cost,
            ));
        }
        let f = flags
            .iter()
            .find(|(x, _)| *x == r)
            .map(|(_, f)| *f)
            .unwrap_or_default();
        db.install(router_lsa(r, f, links), 0);
    }
    db
}

/// R1's interfaces toward its neighbors in `edges`.
fn r1_interfaces(edges: &[(u8, u8, u16)]) -> Vec<LocalInterface> {
    edges
        .iter()
        .filter(|(i, _, _)| *i == 1)
        .map(|&(_, j, _)| LocalInterface {
            ifindex: u32::from(j),
            address: Some(Ipv4Network::new(link_addr(1, j, 1), 24).unwrap()),
        })
        .collect()
}

fn run(db: &Lsdb, ifaces: &[LocalInterface], external: &Lsdb) -> RoutingTable {
    calculate(
        rid(1),
        &[AreaInput {
            area_id: BACKBONE,
            lsdb: db,
            interfaces: ifaces,
        }],
        external,
        0,
    )
}

fn nh(ifindex: u32, gw: Option<Ipv4Addr>) -> NextHop {
    NextHop {
        ifindex,
        gateway: gw,
    }
}

#[test]
fn line() {
    let edges = [(1, 2, 10), (2, 3, 10)];
    let db = p2p_area(&[1, 2, 3], &edges, &[]);
    let ifaces = r1_interfaces(&edges);
    let t = run(&db, &ifaces, &Lsdb::new());

    let r3 = &t.networks[&net("10.0.0.3/32")];
    assert_eq!(r3.path_type, PathType::IntraArea);
    assert_eq!(r3.cost, 20);
    assert_eq!(r3.nexthops, vec![nh(2, Some(link_addr(1, 2, 2)))]);

    let far_link = &t.networks[&net("10.2.3.0/24")];
    assert_eq!(far_link.cost, 20);
    assert_eq!(far_link.nexthops, vec![nh(2, Some(link_addr(1, 2, 2)))]);

    // R1's own stubs: the link subnet is on-link, the loopback has no
    // interface and so no next hop.
    let own = &t.networks[&net("10.1.2.0/24")];
    assert_eq!((own.cost, own.nexthops.clone()), (10, vec![nh(2, None)]));
    assert!(t.networks[&net("10.0.0.1/32")].nexthops.is_empty());
    assert_eq!(t.networks.len(), 5);
}

#[test]
fn ring_keeps_equal_cost_next_hops() {
    let edges = [(1, 2, 10), (2, 3, 10), (3, 4, 10), (1, 4, 10)];
    let db = p2p_area(&[1, 2, 3, 4], &edges, &[]);
    let ifaces = r1_interfaces(&edges);
    let t = run(&db, &ifaces, &Lsdb::new());

    let r3 = &t.networks[&net("10.0.0.3/32")];
    assert_eq!(r3.cost, 20);
    assert_eq!(
        r3.nexthops,
        vec![
            nh(2, Some(link_addr(1, 2, 2))),
            nh(4, Some(link_addr(1, 4, 4)))
        ]
    );
    // 10.2.3.0/24 is 20 through R2 (its stub) but 30 through R4.
    assert_eq!(
        t.networks[&net("10.2.3.0/24")].nexthops,
        vec![nh(2, Some(link_addr(1, 2, 2)))]
    );
    // Unequal ring: raising R1-R4 to 15 leaves one path to R3.
    let edges = [(1, 2, 10), (2, 3, 10), (3, 4, 10), (1, 4, 15)];
    let db = p2p_area(&[1, 2, 3, 4], &edges, &[]);
    let t = run(&db, &r1_interfaces(&edges), &Lsdb::new());
    assert_eq!(t.networks[&net("10.0.0.3/32")].nexthops.len(), 1);
}

#[test]
fn one_way_link_is_not_used() {
    // R3 does not list R2: the bidirectional check drops R3.
    let edges = [(1, 2, 10), (2, 3, 10)];
    let mut db = p2p_area(&[1, 2], &edges, &[]);
    db.install(
        router_lsa(
            3,
            RouterFlags::empty(),
            vec![link(RouterLinkType::Stub, rid(3), Ipv4Addr::BROADCAST, 0)],
        ),
        0,
    );
    let t = run(&db, &r1_interfaces(&edges), &Lsdb::new());
    assert!(!t.networks.contains_key(&net("10.0.0.3/32")));
    // R2's own stub toward R3 is still there.
    assert!(t.networks.contains_key(&net("10.2.3.0/24")));
}

#[test]
fn max_age_lsa_is_ignored() {
    let edges = [(1, 2, 10), (2, 3, 10)];
    let mut db = p2p_area(&[1, 2, 3], &edges, &[]);
    let key = crate::lsa::LsaKey::new(LsaType::ROUTER, rid(3), rid(3));
    let flushed = db.get(&key).unwrap().lsa().with_age(MAX_AGE);
    db.install(flushed, 0);
    let t = run(&db, &r1_interfaces(&edges), &Lsdb::new());
    assert!(!t.networks.contains_key(&net("10.0.0.3/32")));
    // And an LSA that ages out by itself is ignored too.
    let db = p2p_area(&[1, 2, 3], &edges, &[]);
    let ifaces = r1_interfaces(&edges);
    let areas = [AreaInput {
        area_id: BACKBONE,
        lsdb: &db,
        interfaces: &ifaces,
    }];
    let t = calculate(rid(1), &areas, &Lsdb::new(), u64::from(MAX_AGE));
    assert!(t.networks.is_empty());
}

/// R1, R2 and R3 on the broadcast network 192.0.2.0/24 whose DR is R2
/// (192.0.2.2); R3 also has a point-to-point link to R4.
#[test]
fn broadcast_network_with_dr() {
    let lan = |n: u8| Ipv4Addr::new(192, 0, 2, n);
    let dr = lan(2);
    let mut db = Lsdb::new();
    for r in [1u8, 2, 3] {
        let mut links = vec![
            link(RouterLinkType::Stub, rid(r), Ipv4Addr::BROADCAST, 0),
            link(RouterLinkType::Transit, dr, lan(r), 10),
        ];
        if r == 3 {
            links.push(link(
                RouterLinkType::PointToPoint,
                rid(4),
                link_addr(3, 4, 3),
                5,
            ));
        }
        db.install(router_lsa(r, RouterFlags::empty(), links), 0);
    }
    db.install(
        router_lsa(
            4,
            RouterFlags::empty(),
            vec![
                link(RouterLinkType::PointToPoint, rid(3), link_addr(3, 4, 4), 5),
                link(RouterLinkType::Stub, rid(4), Ipv4Addr::BROADCAST, 1),
            ],
        ),
        0,
    );
    db.install(
        lsa(
            LsaType::NETWORK,
            dr,
            rid(2),
            LsaBody::Network(NetworkLsa {
                mask: Ipv4Addr::new(255, 255, 255, 0),
                attached_routers: vec![rid(1), rid(2), rid(3)],
            }),
        ),
        0,
    );
    let ifaces = [LocalInterface {
        ifindex: 7,
        address: Some(net("192.0.2.1/24")),
    }];
    let t = run(&db, &ifaces, &Lsdb::new());

    let lan_route = &t.networks[&net("192.0.2.0/24")];
    assert_eq!(
        (lan_route.cost, lan_route.nexthops.clone()),
        (10, vec![nh(7, None)])
    );
    // A router on the LAN: its LAN address is the gateway.
    let r3 = &t.networks[&net("10.0.0.3/32")];
    assert_eq!(
        (r3.cost, r3.nexthops.clone()),
        (10, vec![nh(7, Some(lan(3)))])
    );
    // Beyond it, the next hop is inherited.
    let r4 = &t.networks[&net("10.0.0.4/32")];
    assert_eq!(
        (r4.cost, r4.nexthops.clone()),
        (16, vec![nh(7, Some(lan(3)))])
    );
    assert_eq!(
        t.networks[&net("10.0.0.2/32")].nexthops,
        vec![nh(7, Some(lan(2)))]
    );

    // Without the network-LSA, nothing past R1 is reachable.
    let mut db2 = Lsdb::new();
    for (k, e) in db.iter() {
        if k.lsa_type == LsaType::ROUTER {
            db2.install(e.lsa().clone(), 0);
        }
    }
    let t = run(&db2, &ifaces, &Lsdb::new());
    assert!(!t.networks.contains_key(&net("10.0.0.3/32")));
}

#[test]
fn unnumbered_point_to_point() {
    let mut db = Lsdb::new();
    // Link data of an unnumbered link is the ifindex.
    db.install(
        router_lsa(
            1,
            RouterFlags::empty(),
            vec![link(
                RouterLinkType::PointToPoint,
                rid(2),
                Ipv4Addr::from(5u32),
                10,
            )],
        ),
        0,
    );
    db.install(
        router_lsa(
            2,
            RouterFlags::empty(),
            vec![
                link(
                    RouterLinkType::PointToPoint,
                    rid(1),
                    Ipv4Addr::from(9u32),
                    10,
                ),
                link(RouterLinkType::Stub, rid(2), Ipv4Addr::BROADCAST, 0),
            ],
        ),
        0,
    );
    let ifaces = [LocalInterface {
        ifindex: 5,
        address: None,
    }];
    let t = run(&db, &ifaces, &Lsdb::new());
    assert_eq!(t.networks[&net("10.0.0.2/32")].nexthops, vec![nh(5, None)]);
}

fn external(adv: u8, prefix: &str, mt: ExternalMetricType, metric: u32, fa: Ipv4Addr) -> Lsa {
    let p = net(prefix);
    lsa(
        LsaType::AS_EXTERNAL,
        p.network(),
        rid(adv),
        LsaBody::AsExternal(AsExternalLsa {
            mask: p.mask(),
            metric_type: mt,
            metric,
            forwarding_address: fa,
            route_tag: 0,
        }),
    )
}

#[test]
fn external_e1_e2_and_forwarding_address() {
    use ExternalMetricType::{Type1, Type2};
    let none = Ipv4Addr::UNSPECIFIED;
    let edges = [(1, 2, 10), (2, 3, 10)];
    let db = p2p_area(
        &[1, 2, 3],
        &edges,
        &[(2, RouterFlags::E), (3, RouterFlags::E)],
    );
    let ifaces = r1_interfaces(&edges);
    let via_r2 = vec![nh(2, Some(link_addr(1, 2, 2)))];
    let mut ext = Lsdb::new();
    // E1 beats E2 whatever the metrics.
    ext.install(external(2, "203.0.113.0/24", Type2, 1, none), 0);
    ext.install(external(3, "203.0.113.0/24", Type1, 50, none), 0);
    // Between E2 routes, the type-2 metric first...
    ext.install(external(2, "198.51.100.0/24", Type2, 30, none), 0);
    ext.install(external(3, "198.51.100.0/24", Type2, 20, none), 0);
    // ...then the cost to the ASBR.
    ext.install(external(2, "198.51.100.128/25", Type2, 20, none), 0);
    ext.install(external(3, "198.51.100.128/25", Type2, 20, none), 0);
    // A forwarding address reached through an internal route.
    ext.install(
        external(3, "192.0.2.0/24", Type2, 7, Ipv4Addr::new(10, 2, 3, 9)),
        0,
    );
    // An unreachable forwarding address: no route.
    ext.install(
        external(3, "192.0.2.128/25", Type2, 7, Ipv4Addr::new(172, 16, 0, 1)),
        0,
    );
    // An external for an intra-area prefix never replaces it.
    ext.install(external(3, "10.0.0.2/32", Type1, 1, none), 0);
    // From a router that is not an ASBR: ignored.
    let db_no_e = p2p_area(&[1, 2, 3], &edges, &[]);
    let t_no_e = run(&db_no_e, &ifaces, &ext);
    assert!(!t_no_e.networks.contains_key(&net("203.0.113.0/24")));

    let t = run(&db, &ifaces, &ext);
    let r = &t.networks[&net("203.0.113.0/24")];
    assert_eq!(
        (r.path_type, r.cost, r.type2_cost),
        (PathType::External1, 70, 0)
    );
    let r = &t.networks[&net("198.51.100.0/24")];
    assert_eq!(
        (r.path_type, r.cost, r.type2_cost),
        (PathType::External2, 20, 20)
    );
    let r = &t.networks[&net("198.51.100.128/25")];
    assert_eq!((r.cost, r.type2_cost), (10, 20));
    assert_eq!(r.nexthops, via_r2);
    let r = &t.networks[&net("192.0.2.0/24")];
    // 10.2.3.0/24 costs 20 (R2's stub), so does the forwarding address.
    assert_eq!(
        (r.path_type, r.cost, r.type2_cost),
        (PathType::External2, 20, 7)
    );
    assert_eq!(r.nexthops, via_r2);
    assert!(!t.networks.contains_key(&net("192.0.2.128/25")));
    assert_eq!(
        t.networks[&net("10.0.0.2/32")].path_type,
        PathType::IntraArea
    );
}

fn summary(lsa_type: LsaType, adv: u8, lsid: Ipv4Addr, mask: Ipv4Addr, metric: u32) -> Lsa {
    let s = SummaryLsa { mask, metric };
    let body = if lsa_type == LsaType::SUMMARY_NETWORK {
        LsaBody::SummaryNetwork(s)
    } else {
        LsaBody::SummaryRouter(s)
    };
    lsa(lsa_type, lsid, rid(adv), body)
}

#[test]
fn inter_area_summaries() {
    let area1 = Ipv4Addr::new(0, 0, 0, 1);
    let edges = [(1, 2, 10), (1, 3, 30)];
    // R2 and R3 are ABRs of area 1; R3 is farther.
    let mut db = p2p_area(
        &[1, 2, 3],
        &edges,
        &[(2, RouterFlags::B), (3, RouterFlags::B)],
    );
    let p = net("198.51.100.0/24");
    db.install(
        summary(LsaType::SUMMARY_NETWORK, 2, p.network(), p.mask(), 5),
        0,
    );
    db.install(
        summary(LsaType::SUMMARY_NETWORK, 3, p.network(), p.mask(), 1),
        0,
    );
    // A summary of an intra-area prefix is ignored.
    db.install(
        summary(LsaType::SUMMARY_NETWORK, 2, rid(3), Ipv4Addr::BROADCAST, 1),
        0,
    );
    // Unreachable metric: ignored.
    let q = net("203.0.113.0/24");
    db.install(
        summary(
            LsaType::SUMMARY_NETWORK,
            2,
            q.network(),
            q.mask(),
            crate::lsa::LS_INFINITY,
        ),
        0,
    );
    // R2 also announces ASBR 10.0.0.9 at 7.
    db.install(
        summary(LsaType::SUMMARY_ROUTER, 2, rid(9), Ipv4Addr::UNSPECIFIED, 7),
        0,
    );
    let ifaces = r1_interfaces(&edges);
    let mut ext = Lsdb::new();
    ext.install(
        external(
            9,
            "192.0.2.0/24",
            ExternalMetricType::Type1,
            3,
            Ipv4Addr::UNSPECIFIED,
        ),
        0,
    );
    let t = calculate(
        rid(1),
        &[AreaInput {
            area_id: area1,
            lsdb: &db,
            interfaces: &ifaces,
        }],
        &ext,
        0,
    );
    let r = &t.networks[&p];
    assert_eq!(
        (r.path_type, r.cost, r.area),
        (PathType::InterArea, 15, area1)
    );
    assert_eq!(r.nexthops, vec![nh(2, Some(link_addr(1, 2, 2)))]);
    assert_eq!(
        t.networks[&net("10.0.0.3/32")].path_type,
        PathType::IntraArea
    );
    assert!(!t.networks.contains_key(&q));
    let asbr = &t.routers[&(rid(9), area1)];
    assert_eq!(
        (asbr.path_type, asbr.cost, asbr.asbr),
        (PathType::InterArea, 17, true)
    );
    let e = &t.networks[&net("192.0.2.0/24")];
    assert_eq!((e.path_type, e.cost), (PathType::External1, 20));

    // A summary from a router without the B bit is ignored.
    let mut db = p2p_area(&[1, 2], &[(1, 2, 10)], &[]);
    db.install(
        summary(LsaType::SUMMARY_NETWORK, 2, p.network(), p.mask(), 5),
        0,
    );
    let ifaces = r1_interfaces(&[(1, 2, 10)]);
    let t = run(&db, &ifaces, &Lsdb::new());
    assert!(!t.networks.contains_key(&p));
}

#[test]
fn abr_uses_backbone_summaries_only() {
    let area1 = Ipv4Addr::new(0, 0, 0, 1);
    // Backbone: R1 - R2 (ABR). Area 1: R1 - R3 (ABR).
    let bb = {
        let mut db = p2p_area(&[1, 2], &[(1, 2, 10)], &[(2, RouterFlags::B)]);
        db.install(
            summary(
                LsaType::SUMMARY_NETWORK,
                2,
                Ipv4Addr::new(198, 51, 100, 0),
                Ipv4Addr::new(255, 255, 255, 0),
                5,
            ),
            0,
        );
        db
    };
    let a1 = {
        let mut db = p2p_area(&[1, 3], &[(1, 3, 10)], &[(3, RouterFlags::B)]);
        db.install(
            summary(
                LsaType::SUMMARY_NETWORK,
                3,
                Ipv4Addr::new(203, 0, 113, 0),
                Ipv4Addr::new(255, 255, 255, 0),
                5,
            ),
            0,
        );
        db
    };
    let i_bb = r1_interfaces(&[(1, 2, 10)]);
    let i_a1 = r1_interfaces(&[(1, 3, 10)]);
    let t = calculate(
        rid(1),
        &[
            AreaInput {
                area_id: BACKBONE,
                lsdb: &bb,
                interfaces: &i_bb,
            },
            AreaInput {
                area_id: area1,
                lsdb: &a1,
                interfaces: &i_a1,
            },
        ],
        &Lsdb::new(),
        0,
    );
    assert!(t.networks.contains_key(&net("198.51.100.0/24")));
    assert!(!t.networks.contains_key(&net("203.0.113.0/24")));
    // Both areas' intra-area routes are present.
    assert_eq!(t.networks[&net("10.0.0.3/32")].area, area1);
    assert_eq!(t.networks[&net("10.0.0.2/32")].area, BACKBONE);
}

#[test]
fn no_own_router_lsa_gives_empty_table() {
    let db = p2p_area(&[2, 3], &[(2, 3, 10)], &[]);
    let t = run(&db, &[], &Lsdb::new());
    assert!(t.networks.is_empty());
}

/// R1 reaches R4 at equal cost through the LAN 192.0.2.0/24 (DR R2) and
/// through the point-to-point link to R3: one gateway on the LAN, one on
/// the link.
#[test]
fn equal_cost_through_lan_and_point_to_point() {
    let lan = |n: u8| Ipv4Addr::new(192, 0, 2, n);
    let mask = Ipv4Addr::new(255, 255, 255, 0);
    let mut db = Lsdb::new();
    let p2p = |a: u8, b: u8, cost| {
        link(
            RouterLinkType::PointToPoint,
            rid(b),
            link_addr(a, b, a),
            cost,
        )
    };
    let lo = |r: u8| link(RouterLinkType::Stub, rid(r), Ipv4Addr::BROADCAST, 0);
    db.install(
        router_lsa(
            1,
            RouterFlags::empty(),
            vec![
                lo(1),
                link(RouterLinkType::Transit, lan(2), lan(1), 10),
                p2p(1, 3, 10),
            ],
        ),
        0,
    );
    db.install(
        router_lsa(
            2,
            RouterFlags::empty(),
            vec![
                lo(2),
                link(RouterLinkType::Transit, lan(2), lan(2), 10),
                p2p(2, 4, 10),
            ],
        ),
        0,
    );
    db.install(
        router_lsa(
            3,
            RouterFlags::empty(),
            vec![lo(3), p2p(3, 1, 10), p2p(3, 4, 10)],
        ),
        0,
    );
    db.install(
        router_lsa(
            4,
            RouterFlags::empty(),
            vec![lo(4), p2p(4, 2, 10), p2p(4, 3, 10)],
        ),
        0,
    );
    db.install(
        lsa(
            LsaType::NETWORK,
            lan(2),
            rid(2),
            LsaBody::Network(NetworkLsa {
                mask,
                attached_routers: vec![rid(1), rid(2)],
            }),
        ),
        0,
    );
    let ifaces = [
        LocalInterface {
            ifindex: 7,
            address: Some(net("192.0.2.1/24")),
        },
        LocalInterface {
            ifindex: 3,
            address: Some(Ipv4Network::new(link_addr(1, 3, 1), 24).unwrap()),
        },
    ];
    let t = run(&db, &ifaces, &Lsdb::new());
    let r4 = &t.networks[&net("10.0.0.4/32")];
    assert_eq!(r4.cost, 20);
    assert_eq!(
        r4.nexthops,
        vec![nh(3, Some(link_addr(1, 3, 3))), nh(7, Some(lan(2)))]
    );
    assert_eq!(
        t.routers.len(),
        0,
        "no ABR or ASBR bits: none recorded as such"
    );
}

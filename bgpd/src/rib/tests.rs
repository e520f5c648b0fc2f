//! Tests of the RIB: decision tie-breakers, export rules, withdrawals,
//! packing and policy defaults. Every UPDATE the RIB produces is decoded
//! with the packet module to check what a peer would see.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use bytes::Bytes;
use ipnetwork::IpNetwork;

use super::*;
use crate::packet::{
    decode_message, AsPath, AttributeIssue, Community, Message, MpNextHop, MpReach, Nlri, Origin,
    ParsedUpdate, PathAttributes, Problem, SessionCaps, Update, UpdateAction, UpdateReport,
};
use crate::policy::{Action, Entry, Match, Policies, RouteMap, Set};

mod add_path;
mod aggregate;
mod extended_next_hop;
mod fib;
mod graceful;
mod roles;

const LOCAL_AS: u32 = 65000;

/// A batch's output with the FIB queue drained whole: what peers and
/// zebrad get.
#[derive(Debug)]
struct Out {
    to_peers: Vec<(PeerId, Vec<Bytes>)>,
    nht_register: Vec<IpAddr>,
    nht_unregister: Vec<IpAddr>,
    zebra_add: Vec<ZebraRoute>,
    zebra_del: Vec<IpNetwork>,
}

trait TakeAll {
    fn take_all(&mut self) -> Out;
}

impl TakeAll for Rib {
    fn take_all(&mut self) -> Out {
        let out = self.take_output();
        let fib = self.take_fib(usize::MAX);
        Out {
            to_peers: out.to_peers,
            nht_register: out.nht_register,
            nht_unregister: out.nht_unregister,
            zebra_add: fib.add,
            zebra_del: fib.del,
        }
    }
}

impl Out {
    fn is_empty(&self) -> bool {
        self.to_peers.is_empty()
            && self.nht_register.is_empty()
            && self.nht_unregister.is_empty()
            && self.zebra_add.is_empty()
            && self.zebra_del.is_empty()
    }
}

fn p(s: &str) -> IpNetwork {
    s.parse().unwrap()
}

fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn cfg() -> RibConfig {
    RibConfig {
        local_as: LOCAL_AS,
        router_id: v4("10.255.0.1"),
        multipath_ebgp: 1,
        multipath_ibgp: 1,
        always_compare_med: false,
        cluster_id: None,
    }
}

fn accept_all() -> Policies {
    let mut pol = Policies::new();
    pol.add_route_map(
        "all",
        RouteMap::new(vec![entry(10, Action::Permit, vec![], vec![])]),
    );
    pol
}

fn entry(seq: u32, action: Action, matches: Vec<Match>, sets: Vec<Set>) -> Entry {
    Entry {
        seq,
        action,
        matches,
        sets,
        flow: None,
    }
}

/// Peer `id` at 192.0.2.`id`, remote router id 10.0.0.`id`.
fn peer(id: PeerId, remote_as: u32) -> PeerInfo {
    let ibgp = remote_as == LOCAL_AS;
    let idb = id as u8;
    PeerInfo {
        id,
        addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, idb)),
        remote_as,
        remote_id: Ipv4Addr::new(10, 0, 0, idb),
        ibgp,
        caps: SessionCaps::four_octet(),
        local_addr: IpAddr::V4(v4("192.0.2.254")),
        local_v6_global: Some("2001:db8::fe".parse().unwrap()),
        local_v6_link_local: None,
        next_hop_self: false,
        allowas_in: 0,
        families: vec![AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST],
        policy: crate::policy::Bindings {
            import: (!ibgp).then(|| "all".to_string()),
            export: (!ibgp).then(|| "all".to_string()),
            ..Default::default()
        },
        rr_client: false,
        enhanced_route_refresh: false,
        graceful_restart: None,
        add_path_send: Default::default(),
        interface: None,
    }
}

fn rib_with(cfg: RibConfig, peers: &[PeerInfo]) -> Rib {
    let mut rib = Rib::new(cfg, accept_all());
    for info in peers {
        rib.peer_up(info.clone(), Instant::now());
    }
    rib.take_all();
    rib
}

fn attrs(path: &[u32], nh: &str) -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(path.iter().copied())),
        next_hop: Some(v4(nh)),
        ..PathAttributes::default()
    }
}

fn announce(a: PathAttributes, prefixes: &[&str]) -> ParsedUpdate {
    let (v4s, v6s): (Vec<IpNetwork>, Vec<IpNetwork>) =
        prefixes.iter().map(|s| p(s)).partition(|n| n.is_ipv4());
    ParsedUpdate {
        update: Update {
            attributes: a,
            nlri: v4s.into_iter().map(Nlri::new).collect(),
            mp_reach: (!v6s.is_empty()).then(|| MpReach {
                family: AfiSafi::IPV6_UNICAST,
                nlri: v6s.into_iter().map(Nlri::new).collect(),
            }),
            ..Update::default()
        },
        report: UpdateReport::default(),
    }
}

fn withdraw(prefixes: &[&str]) -> ParsedUpdate {
    ParsedUpdate {
        update: Update {
            withdrawn: prefixes.iter().map(|s| Nlri::new(p(s))).collect(),
            ..Update::default()
        },
        report: UpdateReport::default(),
    }
}

fn send(rib: &mut Rib, id: PeerId, u: ParsedUpdate) {
    rib.update(id, &u, Instant::now());
}

/// Answer every pending registration as reachable with metric 0.
fn resolve_all(rib: &mut Rib) -> Out {
    let out = rib.take_all();
    for nh in &out.nht_register {
        rib.nexthop_update(*nh, true, 0);
    }
    let mut next = rib.take_all();
    next.zebra_add.splice(0..0, out.zebra_add);
    next
}

/// What a peer sees: announcements (prefix → attributes) and withdrawals.
#[derive(Debug, Default)]
struct Seen {
    announced: BTreeMap<IpNetwork, PathAttributes>,
    withdrawn: Vec<IpNetwork>,
    eor: Vec<AfiSafi>,
    messages: usize,
    other: Vec<Message>,
}

fn seen(out: &Out, id: PeerId) -> Seen {
    seen_with(out, id, &SessionCaps::four_octet())
}

/// [`seen`] for a peer whose session negotiated `caps`.
fn seen_with(out: &Out, id: PeerId, caps: &SessionCaps) -> Seen {
    let mut s = Seen::default();
    for (peer, msgs) in &out.to_peers {
        if *peer != id {
            continue;
        }
        for m in msgs {
            s.messages += 1;
            let d = decode_message(m, caps).expect("RIB output decodes");
            assert_eq!(d.report.action, UpdateAction::Normal);
            let Message::Update(u) = d.message else {
                s.other.push(d.message);
                continue;
            };
            if let Some(f) = u.end_of_rib_family() {
                s.eor.push(f);
                continue;
            }
            for (_, n) in u.reachable() {
                s.announced.insert(n.prefix, u.attributes.clone());
            }
            s.withdrawn.extend(u.withdrawn.iter().map(|n| n.prefix));
            s.withdrawn.extend(
                u.mp_unreach
                    .iter()
                    .flat_map(|m| m.withdrawn.iter().map(|n| n.prefix)),
            );
        }
    }
    s
}

fn best_of(rib: &Rib, prefix: &str) -> Option<PathView> {
    let pfx = p(prefix);
    rib.loc_rib(AfiSafi::of(&pfx), Some(pfx))
        .into_iter()
        .find(|v| v.best)
}

fn loser_reason(rib: &Rib, prefix: &str) -> Option<Reason> {
    let pfx = p(prefix);
    rib.loc_rib(AfiSafi::of(&pfx), Some(pfx))
        .into_iter()
        .find(|v| !v.best)
        .and_then(|v| v.reason)
}

/// Two peers announce 203.0.113.0/24 with attributes `a` and `b`;
/// returns the winner and the loser's reason.
fn duel(
    cfg: RibConfig,
    pa: PeerInfo,
    a: PathAttributes,
    pb: PeerInfo,
    b: PathAttributes,
) -> (PeerId, Option<Reason>) {
    let (ida, idb) = (pa.id, pb.id);
    let mut rib = rib_with(cfg, &[pa, pb]);
    send(&mut rib, ida, announce(a, &["203.0.113.0/24"]));
    send(&mut rib, idb, announce(b, &["203.0.113.0/24"]));
    resolve_all(&mut rib);
    let best = best_of(&rib, "203.0.113.0/24").expect("a best path");
    (best.peer, loser_reason(&rib, "203.0.113.0/24"))
}

// ---------------------------------------------------------------- decision

#[test]
fn local_pref_higher_wins() {
    let a = PathAttributes {
        local_pref: Some(200),
        ..attrs(&[65001, 65002, 65003], "198.51.100.1")
    };
    let b = PathAttributes {
        local_pref: Some(100),
        ..attrs(&[65001], "198.51.100.2")
    };
    let r = duel(cfg(), peer(1, LOCAL_AS), a, peer(2, LOCAL_AS), b);
    assert_eq!(
        r,
        (1, Some(Reason::LocalPref)),
        "beats a shorter AS path too"
    );
}

#[test]
fn ebgp_local_pref_is_ignored() {
    let a = PathAttributes {
        local_pref: Some(500),
        ..attrs(&[65001, 65009], "198.51.100.1")
    };
    let b = attrs(&[65002], "198.51.100.2");
    let r = duel(cfg(), peer(1, 65001), a, peer(2, 65002), b);
    assert_eq!(r, (2, Some(Reason::AsPathLength)));
}

#[test]
fn locally_originated_wins() {
    let mut rib = rib_with(cfg(), &[peer(1, LOCAL_AS)]);
    send(
        &mut rib,
        1,
        announce(attrs(&[], "198.51.100.1"), &["203.0.113.0/24"]),
    );
    rib.originate(p("203.0.113.0/24"), Origin::Incomplete, None, None, vec![]);
    resolve_all(&mut rib);
    assert_eq!(best_of(&rib, "203.0.113.0/24").unwrap().peer, LOCAL_PEER);
    // As in FRR: local routes weigh 32768, received ones 0.
    assert_eq!(loser_reason(&rib, "203.0.113.0/24"), Some(Reason::Weight));
}

/// `network PREFIX route-map NAME`: the map's sets on the local path, a
/// deny (or a map that no longer permits) withdraws the network.
#[test]
fn network_through_its_route_map() {
    let mut pol = accept_all();
    pol.add_prefix_list(
        "ONLY",
        crate::policy::PrefixList::new(vec![crate::policy::PrefixListEntry {
            seq: 10,
            action: Action::Permit,
            prefix: p("203.0.113.0/24"),
            ge: None,
            le: None,
        }]),
    );
    pol.add_route_map(
        "TAG",
        RouteMap::new(vec![entry(
            10,
            Action::Permit,
            vec![Match::PrefixList("ONLY".into())],
            vec![
                Set::Med(42),
                Set::Community {
                    values: vec![Community::new(65000, 9)],
                    additive: false,
                },
            ],
        )]),
    );
    let mut rib = rib_with(cfg(), &[peer(1, LOCAL_AS)]);
    rib.set_policies(pol, &[]);
    resolve_all(&mut rib);
    assert!(rib.originate_network(p("203.0.113.0/24"), Some("TAG")));
    resolve_all(&mut rib);
    let best = best_of(&rib, "203.0.113.0/24").unwrap();
    assert_eq!(best.peer, LOCAL_PEER);
    assert_eq!(best.attrs.med, Some(42));
    assert_eq!(best.attrs.communities, vec![Community::new(65000, 9)]);
    assert_eq!(best.attrs.origin, Some(Origin::Igp));
    // Not in ONLY: the map denies, nothing originated.
    assert!(!rib.originate_network(p("198.51.100.0/24"), Some("TAG")));
    resolve_all(&mut rib);
    assert!(best_of(&rib, "198.51.100.0/24").is_none());
    // An unknown map denies too; a network originated before is withdrawn.
    assert!(!rib.originate_network(p("203.0.113.0/24"), Some("NOPE")));
    resolve_all(&mut rib);
    assert!(best_of(&rib, "203.0.113.0/24").is_none());
    // Without a map: plain.
    assert!(rib.originate_network(p("203.0.113.0/24"), None));
    resolve_all(&mut rib);
    assert_eq!(best_of(&rib, "203.0.113.0/24").unwrap().attrs.med, None);
    assert_eq!(rib.policies().route_map("TAG").unwrap().invoked(), 2);
}

#[test]
fn weight_set_on_import_wins_before_local_pref() {
    let mut pol = accept_all();
    pol.add_route_map(
        "w",
        RouteMap::new(vec![entry(
            10,
            Action::Permit,
            vec![],
            vec![Set::Weight(10)],
        )]),
    );
    let mut p1 = peer(1, LOCAL_AS);
    p1.policy.import = Some("w".into());
    let mut rib = Rib::new(cfg(), pol);
    rib.peer_up(p1, Instant::now());
    rib.peer_up(peer(2, LOCAL_AS), Instant::now());
    rib.take_all();
    let a = attrs(&[65001], "198.51.100.1");
    let b = PathAttributes {
        local_pref: Some(200),
        ..attrs(&[65001], "198.51.100.2")
    };
    send(&mut rib, 1, announce(a, &["203.0.113.0/24"]));
    send(&mut rib, 2, announce(b, &["203.0.113.0/24"]));
    resolve_all(&mut rib);
    let best = best_of(&rib, "203.0.113.0/24").unwrap();
    assert_eq!((best.peer, best.attrs.weight), (1, 10));
    assert_eq!(loser_reason(&rib, "203.0.113.0/24"), Some(Reason::Weight));
}

#[test]
fn shorter_as_path_wins_set_counts_one() {
    let mut a = attrs(&[65001], "198.51.100.1");
    a.as_path = Some(AsPath {
        segments: vec![
            crate::packet::AsSegment {
                kind: crate::packet::SegmentType::Sequence,
                asns: vec![65001],
            },
            crate::packet::AsSegment {
                kind: crate::packet::SegmentType::Set,
                asns: vec![1, 2, 3, 4],
            },
        ],
    });
    let b = attrs(&[65002, 65003, 65004], "198.51.100.2");
    let r = duel(cfg(), peer(1, 65001), a, peer(2, 65002), b);
    assert_eq!(r, (1, Some(Reason::AsPathLength)));
}

#[test]
fn lower_origin_wins() {
    let a = PathAttributes {
        origin: Some(Origin::Incomplete),
        ..attrs(&[65001], "198.51.100.1")
    };
    let b = PathAttributes {
        origin: Some(Origin::Egp),
        ..attrs(&[65002], "198.51.100.2")
    };
    let r = duel(cfg(), peer(1, 65001), a, peer(2, 65002), b);
    assert_eq!(r, (2, Some(Reason::Origin)));
}

#[test]
fn med_only_within_neighbor_as() {
    // Same neighbour AS: lower MED wins even though it arrived later.
    let a = PathAttributes {
        med: Some(20),
        ..attrs(&[65001, 65100], "198.51.100.1")
    };
    let b = PathAttributes {
        med: Some(10),
        ..attrs(&[65001, 65200], "198.51.100.2")
    };
    let r = duel(cfg(), peer(1, 65001), a.clone(), peer(2, 65001), b.clone());
    assert_eq!(r, (2, Some(Reason::Med)));

    // Different neighbour AS: MED ignored, the older path wins.
    let a2 = PathAttributes {
        as_path: Some(AsPath::from_sequence([65001, 65100])),
        ..a.clone()
    };
    let b2 = PathAttributes {
        as_path: Some(AsPath::from_sequence([65002, 65200])),
        ..b.clone()
    };
    let r = duel(
        cfg(),
        peer(1, 65001),
        a2.clone(),
        peer(2, 65002),
        b2.clone(),
    );
    assert_eq!(r, (1, Some(Reason::OlderPath)));

    // always-compare-med: MED decides across ASes.
    let c = RibConfig {
        always_compare_med: true,
        ..cfg()
    };
    let r = duel(c, peer(1, 65001), a2, peer(2, 65002), b2);
    assert_eq!(r, (2, Some(Reason::Med)));
}

#[test]
fn missing_med_is_zero() {
    let a = attrs(&[65001, 65100], "198.51.100.1");
    let b = PathAttributes {
        med: Some(1),
        ..attrs(&[65001, 65200], "198.51.100.2")
    };
    let r = duel(cfg(), peer(2, 65001), b, peer(1, 65001), a);
    assert_eq!(r, (1, Some(Reason::Med)));
}

#[test]
fn ebgp_over_ibgp() {
    let a = attrs(&[65001], "198.51.100.1");
    let b = attrs(&[65001], "198.51.100.2");
    let r = duel(cfg(), peer(1, LOCAL_AS), a, peer(2, 65001), b);
    assert_eq!(r, (2, Some(Reason::ExternalOverInternal)));
}

#[test]
fn lower_igp_metric_wins() {
    let mut rib = rib_with(cfg(), &[peer(1, LOCAL_AS), peer(2, LOCAL_AS)]);
    send(
        &mut rib,
        1,
        announce(attrs(&[65001], "198.51.100.1"), &["203.0.113.0/24"]),
    );
    send(
        &mut rib,
        2,
        announce(attrs(&[65001], "198.51.100.2"), &["203.0.113.0/24"]),
    );
    rib.take_all();
    rib.nexthop_update(IpAddr::V4(v4("198.51.100.1")), true, 20);
    rib.nexthop_update(IpAddr::V4(v4("198.51.100.2")), true, 10);
    rib.take_all();
    assert_eq!(best_of(&rib, "203.0.113.0/24").unwrap().peer, 2);
    assert_eq!(
        loser_reason(&rib, "203.0.113.0/24"),
        Some(Reason::IgpMetric)
    );
}

#[test]
fn oldest_ebgp_path_wins() {
    // Peer 2 has the lower router id but arrived second.
    let a = attrs(&[65001], "198.51.100.1");
    let b = attrs(&[65002], "198.51.100.2");
    let r = duel(cfg(), peer(3, 65001), a, peer(2, 65002), b);
    assert_eq!(r, (3, Some(Reason::OlderPath)));
}

#[test]
fn lower_router_id_and_originator_id() {
    let a = attrs(&[65001], "198.51.100.1");
    let b = attrs(&[65001], "198.51.100.2");
    let r = duel(
        cfg(),
        peer(3, LOCAL_AS),
        a.clone(),
        peer(2, LOCAL_AS),
        b.clone(),
    );
    assert_eq!(r, (2, Some(Reason::RouterId)));
    // ORIGINATOR_ID replaces the peer's router id.
    let a = PathAttributes {
        originator_id: Some(v4("10.0.0.1")),
        ..a
    };
    let r = duel(cfg(), peer(3, LOCAL_AS), a, peer(2, LOCAL_AS), b);
    assert_eq!(r, (3, Some(Reason::RouterId)));
}

#[test]
fn shorter_cluster_list_then_peer_address() {
    let a = PathAttributes {
        originator_id: Some(v4("10.9.9.9")),
        cluster_list: vec![v4("10.1.1.1"), v4("10.1.1.2")],
        ..attrs(&[65001], "198.51.100.1")
    };
    let b = PathAttributes {
        originator_id: Some(v4("10.9.9.9")),
        cluster_list: vec![v4("10.1.1.3")],
        ..attrs(&[65001], "198.51.100.2")
    };
    let r = duel(
        cfg(),
        peer(2, LOCAL_AS),
        a.clone(),
        peer(3, LOCAL_AS),
        b.clone(),
    );
    assert_eq!(r, (3, Some(Reason::ClusterListLength)));
    let b = PathAttributes {
        cluster_list: vec![v4("10.1.1.3"), v4("10.1.1.4")],
        ..b
    };
    let r = duel(cfg(), peer(3, LOCAL_AS), b, peer(2, LOCAL_AS), a);
    assert_eq!(r, (2, Some(Reason::PeerAddress)));
}

#[test]
fn multipath_set_goes_to_zebra() {
    let c = RibConfig {
        multipath_ebgp: 4,
        ..cfg()
    };
    let mut rib = rib_with(
        c,
        &[
            peer(1, 65001),
            peer(2, 65001),
            peer(3, 65001),
            peer(4, 65002),
        ],
    );
    for id in 1..=3u32 {
        let nh = format!("198.51.100.{id}");
        send(
            &mut rib,
            id,
            announce(attrs(&[65001, 65100], &nh), &["203.0.113.0/24"]),
        );
    }
    // Another neighbour AS: same length, not in the set.
    send(
        &mut rib,
        4,
        announce(attrs(&[65002, 65100], "198.51.100.4"), &["203.0.113.0/24"]),
    );
    let out = resolve_all(&mut rib);
    let route = out.zebra_add.last().expect("installed");
    assert_eq!(
        route.nexthops,
        (1..=3)
            .map(|i| IpAddr::V4(Ipv4Addr::new(198, 51, 100, i)))
            .collect::<Vec<_>>()
    );
    assert!(!route.ibgp);
    let views = rib.loc_rib(AfiSafi::IPV4_UNICAST, Some(p("203.0.113.0/24")));
    assert_eq!(views.iter().filter(|v| v.multipath).count(), 3);
    assert!(views.iter().any(|v| v.peer == 4 && !v.multipath));
}

#[test]
fn multipath_limit_respected() {
    let c = RibConfig {
        multipath_ebgp: 2,
        ..cfg()
    };
    let mut rib = rib_with(c, &[peer(1, 65001), peer(2, 65001), peer(3, 65001)]);
    for id in 1..=3u32 {
        let nh = format!("198.51.100.{id}");
        send(
            &mut rib,
            id,
            announce(attrs(&[65001], &nh), &["203.0.113.0/24"]),
        );
    }
    let out = resolve_all(&mut rib);
    assert_eq!(out.zebra_add.last().unwrap().nexthops.len(), 2);
}

#[test]
fn as_loop_rejected_unless_allowas_in() {
    let looped = attrs(&[65001, LOCAL_AS, 65100], "198.51.100.1");
    let mut rib = rib_with(cfg(), &[peer(1, 65001)]);
    send(&mut rib, 1, announce(looped.clone(), &["203.0.113.0/24"]));
    let out = resolve_all(&mut rib);
    assert!(best_of(&rib, "203.0.113.0/24").is_none());
    assert!(out.zebra_add.is_empty());
    let view = rib.adj_rib_in(1, AfiSafi::IPV4_UNICAST);
    assert_eq!(view.len(), 1);
    assert!(!view[0].accepted);
    assert_eq!(view[0].reason, Some(Reason::AsLoop));
    assert_eq!(
        rib.peer_counts(1)[0].1,
        PeerCounts {
            received: 1,
            accepted: 0,
            advertised: 0
        }
    );

    let mut info = peer(1, 65001);
    info.allowas_in = 1;
    let mut rib = rib_with(cfg(), &[info]);
    send(&mut rib, 1, announce(looped, &["203.0.113.0/24"]));
    resolve_all(&mut rib);
    assert_eq!(best_of(&rib, "203.0.113.0/24").unwrap().peer, 1);
    // Twice our AS is still too many for allowas-in 1.
    send(
        &mut rib,
        1,
        announce(
            attrs(&[65001, LOCAL_AS, LOCAL_AS], "198.51.100.1"),
            &["203.0.113.0/24"],
        ),
    );
    resolve_all(&mut rib);
    assert!(best_of(&rib, "203.0.113.0/24").is_none());
}

#[test]
fn nexthop_reachability_drives_best_and_zebra() {
    let mut rib = rib_with(cfg(), &[peer(1, 65001), peer(2, 65002)]);
    send(
        &mut rib,
        1,
        announce(attrs(&[65001], "198.51.100.1"), &["203.0.113.0/24"]),
    );
    send(
        &mut rib,
        2,
        announce(attrs(&[65002, 65003], "198.51.100.2"), &["203.0.113.0/24"]),
    );
    let out = rib.take_all();
    assert_eq!(out.nht_register.len(), 2);
    assert!(
        out.zebra_add.is_empty(),
        "pending next hops: nothing installed"
    );
    assert!(best_of(&rib, "203.0.113.0/24").is_none());
    let nh1 = IpAddr::V4(v4("198.51.100.1"));
    let nh2 = IpAddr::V4(v4("198.51.100.2"));
    rib.nexthop_update(nh1, true, 1);
    rib.nexthop_update(nh2, true, 1);
    let out = rib.take_all();
    assert_eq!(out.zebra_add.len(), 1);
    assert_eq!(out.zebra_add[0].nexthops, vec![nh1]);
    // Unreachable: the longer path takes over.
    rib.nexthop_update(nh1, false, 0);
    let out = rib.take_all();
    assert_eq!(best_of(&rib, "203.0.113.0/24").unwrap().peer, 2);
    assert_eq!(out.zebra_add[0].nexthops, vec![nh2]);
    assert_eq!(
        loser_reason(&rib, "203.0.113.0/24"),
        Some(Reason::NextHopUnreachable)
    );
    // Peer 2 is told about the change of best path? It is the source now:
    // it gets a withdrawal of what it had (peer 1's path).
    let s = seen(&out, 2);
    assert_eq!(s.withdrawn, vec![p("203.0.113.0/24")]);
    // Back again.
    rib.nexthop_update(nh1, true, 1);
    let out = rib.take_all();
    assert_eq!(best_of(&rib, "203.0.113.0/24").unwrap().peer, 1);
    assert_eq!(out.zebra_add[0].nexthops, vec![nh1]);
    // Both unreachable: deleted from zebra.
    rib.nexthop_update(nh1, false, 0);
    rib.nexthop_update(nh2, false, 0);
    let out = rib.take_all();
    assert_eq!(out.zebra_del, vec![p("203.0.113.0/24")]);
}

// ------------------------------------------------------------------ export

#[test]
fn ebgp_export_prepends_sets_next_hop_strips_local_pref() {
    let mut rib = rib_with(cfg(), &[peer(1, LOCAL_AS), peer(2, 65002)]);
    let a = PathAttributes {
        local_pref: Some(300),
        med: Some(50),
        ..attrs(&[65001], "198.51.100.1")
    };
    send(&mut rib, 1, announce(a, &["203.0.113.0/24"]));
    let out = resolve_all(&mut rib);
    let s = seen(&out, 2);
    let got = &s.announced[&p("203.0.113.0/24")];
    assert_eq!(got.as_path, Some(AsPath::from_sequence([LOCAL_AS, 65001])));
    assert_eq!(got.next_hop, Some(v4("192.0.2.254")));
    assert_eq!(got.local_pref, None);
    assert_eq!(got.med, None, "MED from another AS not propagated");
    assert_eq!(rib.peer_counts(2)[0].1.advertised, 1);
    assert_eq!(rib.adj_rib_out(2, AfiSafi::IPV4_UNICAST).len(), 1);
}

#[test]
fn locally_set_med_kept_toward_ebgp() {
    let mut rib = rib_with(cfg(), &[peer(2, 65002)]);
    rib.originate(p("203.0.113.0/24"), Origin::Igp, None, Some(7), vec![]);
    let out = rib.take_all();
    let s = seen(&out, 2);
    let got = &s.announced[&p("203.0.113.0/24")];
    assert_eq!(got.med, Some(7));
    assert_eq!(got.as_path, Some(AsPath::from_sequence([LOCAL_AS])));
    assert!(out.zebra_add.is_empty(), "local routes are not installed");
}

#[test]
fn ibgp_export_keeps_next_hop_adds_local_pref_and_split_horizon() {
    let mut rib = rib_with(
        cfg(),
        &[peer(1, 65001), peer(2, LOCAL_AS), peer(3, LOCAL_AS)],
    );
    send(
        &mut rib,
        1,
        announce(attrs(&[65001], "198.51.100.1"), &["203.0.113.0/24"]),
    );
    send(
        &mut rib,
        2,
        announce(attrs(&[65005], "198.51.100.2"), &["198.18.0.0/15"]),
    );
    let out = resolve_all(&mut rib);
    let s = seen(&out, 3);
    let got = &s.announced[&p("203.0.113.0/24")];
    assert_eq!(got.next_hop, Some(v4("198.51.100.1")));
    assert_eq!(got.local_pref, Some(100));
    assert_eq!(got.as_path, Some(AsPath::from_sequence([65001])));
    assert!(
        !s.announced.contains_key(&p("198.18.0.0/15")),
        "iBGP-learned not sent to iBGP"
    );
    // next-hop-self toward an iBGP peer.
    let mut info = peer(4, LOCAL_AS);
    info.next_hop_self = true;
    rib.peer_up(info, Instant::now());
    let out = rib.take_all();
    let s = seen(&out, 4);
    assert_eq!(
        s.announced[&p("203.0.113.0/24")].next_hop,
        Some(v4("192.0.2.254"))
    );
    assert_eq!(s.eor, vec![AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST]);
}

#[test]
fn route_reflection() {
    let c = RibConfig {
        cluster_id: Some(v4("10.255.255.1")),
        ..cfg()
    };
    let mut client = peer(1, LOCAL_AS);
    client.rr_client = true;
    let mut client2 = peer(2, LOCAL_AS);
    client2.rr_client = true;
    let nonclient = peer(3, LOCAL_AS);
    let nonclient2 = peer(4, LOCAL_AS);
    let mut rib = rib_with(c, &[client, client2, nonclient, nonclient2]);
    send(
        &mut rib,
        1,
        announce(attrs(&[65001], "198.51.100.1"), &["203.0.113.0/24"]),
    );
    send(
        &mut rib,
        3,
        announce(attrs(&[65003], "198.51.100.3"), &["198.18.0.0/15"]),
    );
    let out = resolve_all(&mut rib);
    // Client route: to everyone but its source.
    for id in [2, 3, 4] {
        let s = seen(&out, id);
        let got = &s.announced[&p("203.0.113.0/24")];
        assert_eq!(got.originator_id, Some(v4("10.0.0.1")));
        assert_eq!(got.cluster_list, vec![v4("10.255.255.1")]);
        assert_eq!(got.next_hop, Some(v4("198.51.100.1")));
    }
    assert!(!seen(&out, 1).announced.contains_key(&p("203.0.113.0/24")));
    // Non-client route: to clients only.
    assert!(seen(&out, 1).announced.contains_key(&p("198.18.0.0/15")));
    assert!(seen(&out, 2).announced.contains_key(&p("198.18.0.0/15")));
    assert!(!seen(&out, 4).announced.contains_key(&p("198.18.0.0/15")));
    // Our own cluster id in CLUSTER_LIST: dropped on receipt.
    let looped = PathAttributes {
        originator_id: Some(v4("10.0.0.9")),
        cluster_list: vec![v4("10.255.255.1")],
        ..attrs(&[65009], "198.51.100.3")
    };
    send(&mut rib, 3, announce(looped, &["192.0.2.128/25"]));
    resolve_all(&mut rib);
    assert!(best_of(&rib, "192.0.2.128/25").is_none());
    assert_eq!(
        rib.adj_rib_in(3, AfiSafi::IPV4_UNICAST)
            .iter()
            .find(|v| v.prefix == p("192.0.2.128/25"))
            .unwrap()
            .reason,
        Some(Reason::ClusterLoop)
    );
    // ORIGINATOR_ID = our router id: dropped too.
    let mine = PathAttributes {
        originator_id: Some(v4("10.255.0.1")),
        ..attrs(&[65009], "198.51.100.3")
    };
    send(&mut rib, 1, announce(mine, &["192.0.2.64/26"]));
    resolve_all(&mut rib);
    assert!(best_of(&rib, "192.0.2.64/26").is_none());
}

#[test]
fn well_known_communities() {
    let mut rib = rib_with(cfg(), &[peer(1, 65001), peer(2, 65002), peer(3, LOCAL_AS)]);
    let no_export = PathAttributes {
        communities: vec![Community::NO_EXPORT],
        ..attrs(&[65001], "198.51.100.1")
    };
    let no_adv = PathAttributes {
        communities: vec![Community::NO_ADVERTISE],
        ..attrs(&[65001], "198.51.100.1")
    };
    send(&mut rib, 1, announce(no_export, &["203.0.113.0/24"]));
    send(&mut rib, 1, announce(no_adv, &["198.18.0.0/15"]));
    let out = resolve_all(&mut rib);
    let ebgp = seen(&out, 2);
    let ibgp = seen(&out, 3);
    assert!(ebgp.announced.is_empty());
    assert_eq!(
        ibgp.announced.keys().copied().collect::<Vec<_>>(),
        vec![p("203.0.113.0/24")]
    );
    assert_eq!(
        ibgp.announced[&p("203.0.113.0/24")].communities,
        vec![Community::NO_EXPORT]
    );
    // Both are still installed locally.
    assert_eq!(out.zebra_add.len(), 2);
}

#[test]
fn no_echo_to_source_within_a_group() {
    // Same export policy and kind: one update group.
    let mut rib = rib_with(cfg(), &[peer(1, 65001), peer(2, 65002), peer(3, 65003)]);
    assert_eq!(rib.update_groups(), 1);
    send(
        &mut rib,
        1,
        announce(attrs(&[65001], "198.51.100.1"), &["203.0.113.0/24"]),
    );
    let out = resolve_all(&mut rib);
    assert!(seen(&out, 1).announced.is_empty());
    assert_eq!(seen(&out, 2).announced.len(), 1);
    assert_eq!(seen(&out, 3).announced.len(), 1);
    // Peer 2 now sends a better path: peer 1 gets it, peer 2 gets a
    // withdrawal of the path it had from peer 1, peer 3 gets the new one.
    send(
        &mut rib,
        2,
        announce(attrs(&[65002], "198.51.100.2"), &["203.0.113.0/24"]),
    );
    let nh2 = IpAddr::V4(v4("198.51.100.2"));
    rib.take_all();
    rib.nexthop_update(nh2, true, 0);
    // Peer 1's path arrived first (older); make peer 2's win by MED? No:
    // different ASes. Withdraw peer 1's instead.
    send(&mut rib, 1, withdraw(&["203.0.113.0/24"]));
    let out = rib.take_all();
    let s1 = seen(&out, 1);
    let s2 = seen(&out, 2);
    let s3 = seen(&out, 3);
    assert_eq!(
        s1.announced[&p("203.0.113.0/24")].as_path,
        Some(AsPath::from_sequence([LOCAL_AS, 65002]))
    );
    assert_eq!(s2.withdrawn, vec![p("203.0.113.0/24")]);
    assert!(s2.announced.is_empty());
    assert_eq!(
        s3.announced[&p("203.0.113.0/24")].as_path,
        Some(AsPath::from_sequence([LOCAL_AS, 65002]))
    );
}

#[test]
fn ipv6_next_hop_global_and_link_local() {
    let mut p2 = peer(2, 65002);
    p2.local_v6_link_local = Some("fe80::fe".parse().unwrap());
    let mut rib = rib_with(cfg(), &[peer(1, 65001), p2, peer(3, 65003)]);
    let a = PathAttributes {
        next_hop: None,
        mp_next_hop: Some(MpNextHop::V6 {
            global: "2001:db8:1::1".parse().unwrap(),
            link_local: Some("fe80::1".parse().unwrap()),
        }),
        ..attrs(&[65001], "198.51.100.1")
    };
    send(&mut rib, 1, announce(a, &["2001:db8:100::/48"]));
    let out = resolve_all(&mut rib);
    assert_eq!(out.nht_register.len(), 0, "registered in the first batch");
    let want_ll = Some(MpNextHop::V6 {
        global: "2001:db8::fe".parse().unwrap(),
        link_local: Some("fe80::fe".parse().unwrap()),
    });
    assert_eq!(
        seen(&out, 2).announced[&p("2001:db8:100::/48")].mp_next_hop,
        want_ll
    );
    assert_eq!(
        seen(&out, 3).announced[&p("2001:db8:100::/48")].mp_next_hop,
        Some(MpNextHop::V6 {
            global: "2001:db8::fe".parse().unwrap(),
            link_local: None,
        })
    );
    assert_eq!(
        out.zebra_add[0].nexthops,
        vec![IpAddr::V6("2001:db8:1::1".parse::<Ipv6Addr>().unwrap())]
    );
}

// -------------------------------------------------------------- withdrawal

#[test]
fn last_path_withdrawn() {
    let mut rib = rib_with(cfg(), &[peer(1, 65001), peer(2, 65002)]);
    send(
        &mut rib,
        1,
        announce(
            attrs(&[65001], "198.51.100.1"),
            &["203.0.113.0/24", "198.18.0.0/15"],
        ),
    );
    resolve_all(&mut rib);
    send(&mut rib, 1, withdraw(&["203.0.113.0/24"]));
    let out = rib.take_all();
    assert_eq!(seen(&out, 2).withdrawn, vec![p("203.0.113.0/24")]);
    assert_eq!(out.zebra_del, vec![p("203.0.113.0/24")]);
    assert_eq!(rib.prefix_count(AfiSafi::IPV4_UNICAST), 1);
    assert_eq!(rib.peer_counts(2)[0].1.advertised, 1);
    // Withdrawing the last path of the next hop unregisters it.
    send(&mut rib, 1, withdraw(&["198.18.0.0/15"]));
    let out = rib.take_all();
    assert_eq!(out.nht_unregister, vec![IpAddr::V4(v4("198.51.100.1"))]);
    assert_eq!(rib.prefix_count(AfiSafi::IPV4_UNICAST), 0);
}

#[test]
fn treat_as_withdraw_removes_all_nlri() {
    let mut rib = rib_with(cfg(), &[peer(1, 65001), peer(2, 65002)]);
    send(
        &mut rib,
        1,
        announce(
            attrs(&[65001], "198.51.100.1"),
            &["203.0.113.0/24", "2001:db8:5::/48"],
        ),
    );
    let mut u = announce(attrs(&[65001], "198.51.100.1"), &["203.0.113.0/24"]);
    u.update.attributes.next_hop = Some(v4("198.51.100.1"));
    u.update.attributes.mp_next_hop = Some(MpNextHop::V6 {
        global: "2001:db8:1::1".parse().unwrap(),
        link_local: None,
    });
    send(&mut rib, 1, u);
    resolve_all(&mut rib);
    assert!(best_of(&rib, "203.0.113.0/24").is_some());
    let mut bad = announce(attrs(&[65001], "198.51.100.1"), &["203.0.113.0/24"]);
    bad.report.action = UpdateAction::TreatAsWithdraw {
        reasons: vec![AttributeIssue {
            type_code: 1,
            problem: Problem::Value,
        }],
    };
    send(&mut rib, 1, bad);
    let out = rib.take_all();
    assert!(best_of(&rib, "203.0.113.0/24").is_none());
    assert_eq!(seen(&out, 2).withdrawn, vec![p("203.0.113.0/24")]);
    assert_eq!(out.zebra_del, vec![p("203.0.113.0/24")]);
}

#[test]
fn peer_down_withdraws_its_paths() {
    let mut rib = rib_with(cfg(), &[peer(1, 65001), peer(2, 65002), peer(3, 65003)]);
    send(
        &mut rib,
        1,
        announce(attrs(&[65001], "198.51.100.1"), &["203.0.113.0/24"]),
    );
    send(
        &mut rib,
        2,
        announce(
            attrs(&[65002, 65009], "198.51.100.2"),
            &["203.0.113.0/24", "198.18.0.0/15"],
        ),
    );
    resolve_all(&mut rib);
    rib.peer_down(1);
    let out = rib.take_all();
    // Peer 3 gets the replacement, peer 2 a withdrawal (its own path is best now).
    let s3 = seen(&out, 3);
    assert_eq!(
        s3.announced[&p("203.0.113.0/24")].as_path,
        Some(AsPath::from_sequence([LOCAL_AS, 65002, 65009]))
    );
    assert_eq!(seen(&out, 2).withdrawn, vec![p("203.0.113.0/24")]);
    assert!(seen(&out, 1).messages == 0);
    assert_eq!(out.zebra_add.len(), 1);
    assert!(rib.peer_counts(1).is_empty());
    rib.peer_down(2);
    let out = rib.take_all();
    let mut w = seen(&out, 3).withdrawn;
    w.sort();
    assert_eq!(w, vec![p("198.18.0.0/15"), p("203.0.113.0/24")]);
    assert_eq!(out.zebra_del.len(), 2);
    assert_eq!(rib.tracked_nexthops(), 0);
}

// ----------------------------------------------------------------- packing

fn many_prefixes(n: u32) -> Vec<IpNetwork> {
    (0..n)
        .map(|i| IpNetwork::new(IpAddr::V4(Ipv4Addr::from((10u32 << 24) | (i << 8))), 24).unwrap())
        .collect()
}

#[test]
fn ten_thousand_prefixes_pack_into_few_messages() {
    let mut rib = rib_with(cfg(), &[peer(1, 65001), peer(2, 65002)]);
    let prefixes = many_prefixes(10_000);
    for chunk in prefixes.chunks(500) {
        let u = ParsedUpdate {
            update: Update {
                attributes: attrs(&[65001], "198.51.100.1"),
                nlri: chunk.iter().map(|n| Nlri::new(*n)).collect(),
                ..Update::default()
            },
            report: UpdateReport::default(),
        };
        rib.update(1, &u, Instant::now());
    }
    let out = resolve_all(&mut rib);
    let msgs: &Vec<Bytes> = &out.to_peers.iter().find(|(id, _)| *id == 2).unwrap().1;
    // Attributes toward peer 2: ORIGIN (4) + AS_PATH 2 ASNs (3+2+8) + NEXT_HOP (7).
    let attr_len = 4 + 13 + 7;
    let budget = 4096 - 23 - attr_len;
    let per = budget / 4;
    assert_eq!(msgs.len(), 10_000usize.div_ceil(per));
    let s = seen(&out, 2);
    assert_eq!(s.announced.len(), 10_000);
    // Withdrawing them all: 4096 - 23 bytes of 4-byte prefixes each.
    for chunk in prefixes.chunks(500) {
        let u = ParsedUpdate {
            update: Update {
                withdrawn: chunk.iter().map(|n| Nlri::new(*n)).collect(),
                ..Update::default()
            },
            report: UpdateReport::default(),
        };
        rib.update(1, &u, Instant::now());
    }
    let out = rib.take_all();
    let s = seen(&out, 2);
    assert_eq!(s.withdrawn.len(), 10_000);
    assert_eq!(s.messages, 10_000usize.div_ceil((4096 - 23) / 4));
}

// ------------------------------------------------------------------ policy

#[test]
fn rfc8212_ebgp_without_policies_exchanges_nothing() {
    let mut quiet = peer(1, 65001);
    quiet.policy = Default::default();
    let mut rib = rib_with(cfg(), &[quiet, peer(2, 65002), peer(3, LOCAL_AS)]);
    send(
        &mut rib,
        1,
        announce(attrs(&[65001], "198.51.100.1"), &["203.0.113.0/24"]),
    );
    send(
        &mut rib,
        2,
        announce(attrs(&[65002], "198.51.100.2"), &["198.18.0.0/15"]),
    );
    let out = resolve_all(&mut rib);
    assert!(
        best_of(&rib, "203.0.113.0/24").is_none(),
        "nothing accepted"
    );
    assert!(seen(&out, 1).announced.is_empty(), "nothing sent");
    assert_eq!(seen(&out, 3).announced.len(), 1);
    assert_eq!(rib.peer_counts(1)[0].1.received, 1);
    assert_eq!(rib.peer_counts(1)[0].1.accepted, 0);
    // iBGP peers default to accept all (peer 3 had no policies).
    send(
        &mut rib,
        3,
        announce(attrs(&[], "198.51.100.3"), &["192.0.2.0/25"]),
    );
    resolve_all(&mut rib);
    assert_eq!(best_of(&rib, "192.0.2.0/25").unwrap().peer, 3);
}

/// 203.0.113.0/24 and its more specifics.
fn only_203() -> crate::policy::PrefixList {
    crate::policy::PrefixList::new(vec![crate::policy::PrefixListEntry {
        seq: 5,
        action: Action::Permit,
        prefix: p("203.0.113.0/24"),
        ge: None,
        le: Some(32),
    }])
}

#[test]
fn prefix_list_policy_and_reload() {
    let mut pol = accept_all();
    pol.add_prefix_list("only-203", only_203());
    pol.add_route_map(
        "in-203",
        RouteMap::new(vec![entry(
            10,
            Action::Permit,
            vec![Match::PrefixList("only-203".into())],
            vec![Set::LocalPref(250)],
        )]),
    );
    let mut p1 = peer(1, 65001);
    p1.policy.import = Some("in-203".into());
    let mut rib = Rib::new(cfg(), pol.clone());
    rib.peer_up(p1, Instant::now());
    rib.peer_up(peer(2, 65002), Instant::now());
    rib.peer_up(peer(3, LOCAL_AS), Instant::now());
    rib.take_all();
    send(
        &mut rib,
        1,
        announce(
            attrs(&[65001], "198.51.100.1"),
            &["203.0.113.0/25", "198.18.0.0/15"],
        ),
    );
    let out = resolve_all(&mut rib);
    assert!(best_of(&rib, "198.18.0.0/15").is_none(), "implicit deny");
    assert_eq!(
        best_of(&rib, "203.0.113.0/25").unwrap().attrs.local_pref,
        Some(250)
    );
    assert_eq!(
        seen(&out, 3).announced[&p("203.0.113.0/25")].local_pref,
        Some(250)
    );
    // Reload: export to peer 2 now rejects everything, import accepts all.
    let mut pol2 = pol;
    pol2.add_route_map(
        "in-203",
        RouteMap::new(vec![entry(10, Action::Permit, vec![], vec![])]),
    );
    pol2.add_route_map("all", RouteMap::new(vec![]));
    rib.set_policies(pol2, &[]);
    let out = rib.take_all();
    assert_eq!(best_of(&rib, "198.18.0.0/15").unwrap().peer, 1);
    assert_eq!(seen(&out, 2).withdrawn, vec![p("203.0.113.0/25")]);
    assert!(seen(&out, 2).announced.is_empty());
    let s3 = seen(&out, 3);
    assert_eq!(s3.announced[&p("203.0.113.0/25")].local_pref, Some(100));
    assert!(s3.announced.contains_key(&p("198.18.0.0/15")));
}

#[test]
fn rebinding_a_neighbor_sends_only_the_difference() {
    use crate::policy::Bindings;
    let mut pol = accept_all();
    pol.add_prefix_list("only-203", only_203());
    pol.add_route_map(
        "med-9",
        RouteMap::new(vec![entry(10, Action::Permit, vec![], vec![Set::Med(9)])]),
    );
    let mut rib = Rib::new(cfg(), pol.clone());
    // Peers 2 and 4 share an update group; 2 gets a new export below.
    for info in [peer(1, 65001), peer(2, 65002), peer(4, 65004)] {
        rib.peer_up(info, Instant::now());
    }
    rib.take_all();
    send(
        &mut rib,
        1,
        announce(
            attrs(&[65001], "198.51.100.1"),
            &["203.0.113.0/25", "198.18.0.0/15"],
        ),
    );
    resolve_all(&mut rib);
    assert_eq!(rib.update_groups(), 1);
    let out_policy = Bindings {
        import: Some("all".into()),
        export: Some("med-9".into()),
        prefix_list_out: Some("only-203".into()),
        ..Bindings::default()
    };
    // Peer 1's import now only lets 203.0.113.0/25 through.
    let in_policy = Bindings {
        import: Some("all".into()),
        export: Some("all".into()),
        prefix_list_in: Some("only-203".into()),
        ..Bindings::default()
    };
    rib.set_policies(pol, &[(2, out_policy), (1, in_policy)]);
    let out = rib.take_all();
    assert!(best_of(&rib, "198.18.0.0/15").is_none(), "re-imported");
    let s2 = seen(&out, 2);
    assert_eq!(s2.withdrawn, vec![p("198.18.0.0/15")]);
    assert_eq!(s2.announced[&p("203.0.113.0/25")].med, Some(9));
    let s4 = seen(&out, 4);
    assert_eq!(
        s4.withdrawn,
        vec![p("198.18.0.0/15")],
        "only the import change"
    );
    assert!(s4.announced.is_empty());
    assert!(
        s2.eor.is_empty() && s2.other.is_empty(),
        "no refresh, no reset"
    );
    assert_eq!(rib.peer_counts(2)[0].1.advertised, 1);
    // A later batch uses the new group normally.
    send(
        &mut rib,
        1,
        announce(attrs(&[65001], "198.51.100.1"), &["203.0.113.128/25"]),
    );
    let out = rib.take_all();
    assert_eq!(seen(&out, 2).announced[&p("203.0.113.128/25")].med, Some(9));
    assert_eq!(seen(&out, 4).announced[&p("203.0.113.128/25")].med, None);
}

#[test]
fn graceful_shutdown_received_and_sent() {
    // Peer 3 (iBGP) and peer 4 (eBGP) are in maintenance toward us.
    let mut p3 = peer(3, LOCAL_AS);
    p3.policy.graceful_shutdown = true;
    let mut p4 = peer(4, 65004);
    p4.policy.graceful_shutdown = true;
    let mut rib = rib_with(cfg(), &[peer(1, 65001), peer(2, 65002), p3, p4]);
    // RFC 8326: a received GSHUT route gets LOCAL_PREF 0 and loses.
    let gshut = PathAttributes {
        communities: vec![Community::GRACEFUL_SHUTDOWN],
        ..attrs(&[65001], "198.51.100.1")
    };
    send(&mut rib, 1, announce(gshut, &["203.0.113.0/24"]));
    send(
        &mut rib,
        2,
        announce(attrs(&[65002, 65010], "198.51.100.2"), &["203.0.113.0/24"]),
    );
    let out = resolve_all(&mut rib);
    let best = best_of(&rib, "203.0.113.0/24").unwrap();
    assert_eq!(best.peer, 2, "the longer path wins over GSHUT");
    assert_eq!(
        loser_reason(&rib, "203.0.113.0/24"),
        Some(Reason::LocalPref)
    );
    let s3 = seen(&out, 3);
    let a3 = &s3.announced[&p("203.0.113.0/24")];
    assert_eq!(a3.local_pref, Some(0));
    assert!(a3.communities.contains(&Community::GRACEFUL_SHUTDOWN));
    let a4 = &seen(&out, 4).announced[&p("203.0.113.0/24")];
    assert_eq!(a4.local_pref, None);
    assert!(a4.communities.contains(&Community::GRACEFUL_SHUTDOWN));
    let a1 = &seen(&out, 1).announced[&p("203.0.113.0/24")];
    assert!(
        a1.communities.is_empty(),
        "not in maintenance toward peer 1"
    );
}

#[test]
fn route_refresh_resends_with_borr_eorr() {
    let mut p2 = peer(2, 65002);
    p2.enhanced_route_refresh = true;
    let mut rib = rib_with(cfg(), &[peer(1, 65001), p2]);
    send(
        &mut rib,
        1,
        announce(attrs(&[65001], "198.51.100.1"), &["203.0.113.0/24"]),
    );
    resolve_all(&mut rib);
    rib.route_refresh(2, AfiSafi::IPV4_UNICAST);
    let out = rib.take_all();
    let s = seen(&out, 2);
    assert_eq!(s.announced.len(), 1);
    use crate::packet::route_refresh::RouteRefreshSubtype;
    use crate::packet::RouteRefresh;
    assert_eq!(
        s.other,
        vec![
            Message::RouteRefresh(RouteRefresh::new(
                AfiSafi::IPV4_UNICAST,
                RouteRefreshSubtype::Begin
            )),
            Message::RouteRefresh(RouteRefresh::new(
                AfiSafi::IPV4_UNICAST,
                RouteRefreshSubtype::End
            )),
        ]
    );
    let first = &out.to_peers[0].1[0];
    assert!(matches!(
        decode_message(first, &SessionCaps::four_octet())
            .unwrap()
            .message,
        Message::RouteRefresh(_)
    ));
}

#[test]
fn peer_up_dumps_table_then_end_of_rib() {
    let mut rib = rib_with(cfg(), &[peer(1, 65001)]);
    send(
        &mut rib,
        1,
        announce(
            attrs(&[65001], "198.51.100.1"),
            &["203.0.113.0/24", "198.18.0.0/15"],
        ),
    );
    resolve_all(&mut rib);
    rib.peer_up(peer(2, 65002), Instant::now());
    let out = rib.take_all();
    let s = seen(&out, 2);
    assert_eq!(s.announced.len(), 2);
    assert_eq!(s.eor, vec![AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST]);
    let last = out.to_peers[0].1.last().unwrap();
    let d = decode_message(last, &SessionCaps::four_octet()).unwrap();
    let Message::Update(u) = d.message else {
        panic!()
    };
    assert_eq!(u.end_of_rib_family(), Some(AfiSafi::IPV6_UNICAST));
    assert_eq!(rib.peer_counts(2)[0].1.advertised, 2);
}

#[test]
fn replacing_a_path_with_same_attributes_sends_nothing() {
    let mut rib = rib_with(cfg(), &[peer(1, 65001), peer(2, 65002)]);
    send(
        &mut rib,
        1,
        announce(attrs(&[65001], "198.51.100.1"), &["203.0.113.0/24"]),
    );
    resolve_all(&mut rib);
    send(
        &mut rib,
        1,
        announce(attrs(&[65001], "198.51.100.1"), &["203.0.113.0/24"]),
    );
    let out = rib.take_all();
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn update_group_members_share_encoded_messages() {
    let mut rib = rib_with(
        cfg(),
        &[peer(1, 65001), peer(2, LOCAL_AS), peer(3, LOCAL_AS)],
    );
    assert_eq!(rib.update_groups(), 2);
    send(
        &mut rib,
        1,
        announce(attrs(&[65001], "198.51.100.1"), &["203.0.113.0/24"]),
    );
    let out = resolve_all(&mut rib);
    let msgs = |id: PeerId| &out.to_peers.iter().find(|(p, _)| *p == id).unwrap().1;
    let (a, b) = (msgs(2), msgs(3));
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].as_ptr(), b[0].as_ptr(), "one encoding for the group");
}

#[test]
fn ipv6_withdrawal_uses_mp_unreach() {
    let mut rib = rib_with(cfg(), &[peer(1, 65001), peer(2, 65002)]);
    let a = PathAttributes {
        next_hop: None,
        mp_next_hop: Some(MpNextHop::V6 {
            global: "2001:db8:1::1".parse().unwrap(),
            link_local: None,
        }),
        ..attrs(&[65001], "198.51.100.1")
    };
    send(&mut rib, 1, announce(a, &["2001:db8:100::/48"]));
    resolve_all(&mut rib);
    let w = ParsedUpdate {
        update: Update {
            mp_unreach: Some(crate::packet::MpUnreach {
                family: AfiSafi::IPV6_UNICAST,
                withdrawn: vec![Nlri::new(p("2001:db8:100::/48"))],
            }),
            ..Update::default()
        },
        report: UpdateReport::default(),
    };
    send(&mut rib, 1, w);
    let out = rib.take_all();
    assert_eq!(seen(&out, 2).withdrawn, vec![p("2001:db8:100::/48")]);
    assert_eq!(out.zebra_del, vec![p("2001:db8:100::/48")]);
    assert_eq!(rib.prefix_count(AfiSafi::IPV6_UNICAST), 0);
}

#[test]
fn withdraw_local_route() {
    let mut rib = rib_with(cfg(), &[peer(2, 65002), peer(3, LOCAL_AS)]);
    rib.originate(
        p("203.0.113.0/24"),
        Origin::Igp,
        None,
        None,
        vec![Community::new(65000, 1)],
    );
    let out = rib.take_all();
    let s3 = seen(&out, 3);
    let got = &s3.announced[&p("203.0.113.0/24")];
    assert_eq!(
        got.next_hop,
        Some(v4("192.0.2.254")),
        "local routes: next hop self"
    );
    assert_eq!(got.local_pref, Some(100));
    assert_eq!(got.communities, vec![Community::new(65000, 1)]);
    rib.withdraw_local(p("203.0.113.0/24"));
    let out = rib.take_all();
    assert_eq!(seen(&out, 2).withdrawn, vec![p("203.0.113.0/24")]);
    assert_eq!(seen(&out, 3).withdrawn, vec![p("203.0.113.0/24")]);
    assert!(out.zebra_del.is_empty(), "never installed");
}

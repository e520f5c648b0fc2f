//! Aggregation (RFC 4271 §9.2.2.2) through the RIB: the aggregate comes
//! and goes with its contributors, goes to zebrad as a blackhole, carries
//! ATOMIC_AGGREGATE and AGGREGATOR or an AS_SET, and summary-only
//! suppresses the contributors toward peers.

use super::*;
use crate::packet::SegmentType;

const AGG: &str = "198.51.100.0/24";
const C1: &str = "198.51.100.0/25";
const C2: &str = "198.51.100.128/25";

fn agg(summary_only: bool, as_set: bool) -> AggregateConfig {
    AggregateConfig {
        prefix: p(AGG),
        summary_only,
        as_set,
    }
}

/// Peer 1 (AS 65001) sends both contributors; peer 2 (AS 65002) listens.
fn setup(a: AggregateConfig) -> (Rib, Out) {
    let mut rib = rib_with(cfg(), &[peer(1, 65001), peer(2, 65002)]);
    rib.set_aggregates(vec![a]);
    rib.take_all();
    let mut x = attrs(&[65001], "198.51.100.1");
    x.communities = vec![Community::new(65001, 7)];
    send(&mut rib, 1, announce(x, &[C1]));
    let mut y = attrs(&[65001, 65010], "198.51.100.1");
    y.origin = Some(Origin::Incomplete);
    send(&mut rib, 1, announce(y, &[C2]));
    let out = resolve_all(&mut rib);
    (rib, out)
}

#[test]
fn aggregate_follows_its_contributors() {
    let (mut rib, out) = setup(agg(false, false));
    let s = seen(&out, 2);
    let a = &s.announced[&p(AGG)];
    assert!(a.atomic_aggregate);
    assert_eq!(
        a.aggregator.map(|g| (g.asn, g.address)),
        Some((LOCAL_AS, v4("10.255.0.1")))
    );
    assert_eq!(a.origin, Some(Origin::Igp));
    assert_eq!(a.as_path, Some(AsPath::from_sequence([LOCAL_AS])));
    assert!(s.announced.contains_key(&p(C1)) && s.announced.contains_key(&p(C2)));
    // A blackhole toward zebrad.
    let z = out
        .zebra_add
        .iter()
        .find(|r| r.prefix == p(AGG))
        .expect("in FIB");
    assert!(z.blackhole && z.nexthops.is_empty());
    let v = best_of(&rib, AGG).unwrap();
    assert!(v.aggregate && v.peer == LOCAL_PEER);
    // One contributor gone: still there; both gone: withdrawn.
    send(&mut rib, 1, withdraw(&[C1]));
    let out = rib.take_all();
    assert!(!seen(&out, 2).withdrawn.contains(&p(AGG)));
    send(&mut rib, 1, withdraw(&[C2]));
    let out = rib.take_all();
    let s = seen(&out, 2);
    assert!(s.withdrawn.contains(&p(AGG)), "{s:?}");
    assert!(out.zebra_del.contains(&p(AGG)));
    assert!(best_of(&rib, AGG).is_none());
}

#[test]
fn summary_only_suppresses_contributors_toward_peers() {
    let (mut rib, out) = setup(agg(true, false));
    let s = seen(&out, 2);
    assert!(s.announced.contains_key(&p(AGG)));
    assert!(
        !s.announced.contains_key(&p(C1)) && !s.announced.contains_key(&p(C2)),
        "{s:?}"
    );
    // Still in the Loc-RIB and the FIB.
    let c = best_of(&rib, C1).unwrap();
    assert!(c.suppressed);
    assert!(out.zebra_add.iter().any(|r| r.prefix == p(C1)));
    // A peer coming up later gets the aggregate only.
    rib.peer_up(peer(3, 65003), Instant::now());
    let s3 = seen(&rib.take_all(), 3);
    assert_eq!(s3.announced.keys().collect::<Vec<_>>(), vec![&p(AGG)]);
    // summary_only off by a reload: the contributors go out.
    rib.set_aggregates(vec![agg(false, false)]);
    let s = seen(&rib.take_all(), 2);
    assert!(s.announced.contains_key(&p(C1)) && s.announced.contains_key(&p(C2)));
    // Aggregate removed: withdrawn.
    rib.set_aggregates(vec![]);
    let s = seen(&rib.take_all(), 2);
    assert!(s.withdrawn.contains(&p(AGG)));
}

#[test]
fn as_set_carries_the_contributors() {
    let (_rib, out) = setup(agg(false, true));
    let a = &seen(&out, 2).announced[&p(AGG)];
    assert!(!a.atomic_aggregate);
    assert_eq!(a.origin, Some(Origin::Incomplete));
    let segs = &a.as_path.as_ref().unwrap().segments;
    assert_eq!(segs[0].asns, vec![LOCAL_AS]);
    assert_eq!(segs[1].kind, SegmentType::Set);
    assert_eq!(segs[1].asns, vec![65001, 65010]);
    assert_eq!(a.communities, vec![Community::new(65001, 7)]);
}

#[test]
fn summary_only_holds_for_add_path_peers_too() {
    let mut rib = rib_with(cfg(), &[peer(1, 65001)]);
    rib.set_aggregates(vec![agg(true, false)]);
    rib.take_all();
    send(
        &mut rib,
        1,
        announce(attrs(&[65001], "198.51.100.1"), &[C1, C2]),
    );
    resolve_all(&mut rib);
    let mut ap = peer(9, 65009);
    ap.caps = SessionCaps {
        add_path_tx: vec![AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST],
        ..SessionCaps::four_octet()
    };
    ap.add_path_send = AddPathSend::All;
    rib.peer_up(ap, Instant::now());
    let rx = SessionCaps {
        add_path_rx: vec![AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST],
        ..SessionCaps::four_octet()
    };
    let s = seen_with(&rib.take_all(), 9, &rx);
    assert_eq!(s.announced.keys().collect::<Vec<_>>(), vec![&p(AGG)]);
    // A change of a contributor sends nothing for it.
    send(
        &mut rib,
        1,
        announce(attrs(&[65001, 65011], "198.51.100.1"), &[C1]),
    );
    let s = seen_with(&rib.take_all(), 9, &rx);
    assert!(!s.announced.contains_key(&p(C1)), "{s:?}");
}

#[test]
fn ipv6_aggregate() {
    let mut rib = rib_with(cfg(), &[peer(1, 65001), peer(2, 65002)]);
    rib.set_aggregates(vec![AggregateConfig {
        prefix: p("2001:db8:100::/40"),
        summary_only: false,
        as_set: false,
    }]);
    rib.take_all();
    let mut a = attrs(&[65001], "198.51.100.1");
    a.next_hop = None;
    a.mp_next_hop = Some(MpNextHop::V6 {
        global: "2001:db8::1".parse().unwrap(),
        link_local: None,
    });
    send(&mut rib, 1, announce(a, &["2001:db8:100::/48"]));
    let out = resolve_all(&mut rib);
    let agg = p("2001:db8:100::/40");
    assert!(seen(&out, 2).announced.contains_key(&agg));
    assert!(out.zebra_add.iter().any(|r| r.prefix == agg && r.blackhole));
}

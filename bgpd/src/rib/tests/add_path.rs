//! ADD-PATH (RFC 7911): several paths of one peer told apart by their
//! path ids when receiving; when sending, every path (or the best N) with
//! stable ids, split horizon per path, withdrawal by id.

use super::*;

const A: &str = "203.0.113.0/24";

fn rx_caps() -> SessionCaps {
    SessionCaps {
        add_path_rx: vec![AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST],
        ..SessionCaps::four_octet()
    }
}

/// A peer that sends us path ids.
fn rx_peer(id: PeerId, remote_as: u32) -> PeerInfo {
    let mut info = peer(id, remote_as);
    info.caps = rx_caps();
    info
}

/// An announcement of `prefix` with path id `id`.
fn announce_id(a: PathAttributes, prefix: &str, id: u32) -> ParsedUpdate {
    let mut u = announce(a, &[prefix]);
    for n in u.update.nlri.iter_mut() {
        n.path_id = Some(id);
    }
    u
}

fn withdraw_id(prefix: &str, id: u32) -> ParsedUpdate {
    let mut u = withdraw(&[prefix]);
    for n in u.update.withdrawn.iter_mut() {
        n.path_id = Some(id);
    }
    u
}

fn paths(rib: &Rib, prefix: &str) -> Vec<PathView> {
    let pfx = p(prefix);
    rib.loc_rib(AfiSafi::of(&pfx), Some(pfx))
}

fn ids(rib: &Rib, prefix: &str) -> Vec<(PeerId, Option<u32>)> {
    let mut v: Vec<_> = paths(rib, prefix)
        .iter()
        .map(|v| (v.peer, v.rx_path_id))
        .collect();
    v.sort();
    v
}

#[test]
fn paths_of_one_peer_are_kept_apart_by_path_id() {
    let mut rib = rib_with(cfg(), &[rx_peer(1, 65001)]);
    send(
        &mut rib,
        1,
        announce_id(attrs(&[65001, 1], "192.0.2.1"), A, 1),
    );
    send(
        &mut rib,
        1,
        announce_id(attrs(&[65001, 2], "192.0.2.2"), A, 2),
    );
    resolve_all(&mut rib);
    assert_eq!(ids(&rib, A), vec![(1, Some(1)), (1, Some(2))]);
    assert_eq!(rib.peer_counts(1)[0].1.received, 2);
    // A new announcement of id 2 replaces id 2 only.
    send(
        &mut rib,
        1,
        announce_id(attrs(&[65001, 3], "192.0.2.2"), A, 2),
    );
    resolve_all(&mut rib);
    assert_eq!(ids(&rib, A), vec![(1, Some(1)), (1, Some(2))]);
    // A withdrawal carries the id: just that path goes.
    send(&mut rib, 1, withdraw_id(A, 1));
    resolve_all(&mut rib);
    assert_eq!(ids(&rib, A), vec![(1, Some(2))]);
    assert_eq!(rib.peer_counts(1)[0].1.received, 1);
    // Withdrawing an id never announced changes nothing.
    send(&mut rib, 1, withdraw_id(A, 7));
    resolve_all(&mut rib);
    assert_eq!(ids(&rib, A), vec![(1, Some(2))]);
}

#[test]
fn paths_without_add_path_have_no_id() {
    let mut rib = rib_with(cfg(), &[peer(1, 65001)]);
    send(&mut rib, 1, announce(attrs(&[65001], "192.0.2.1"), &[A]));
    resolve_all(&mut rib);
    assert_eq!(ids(&rib, A), vec![(1, None)]);
}

#[test]
fn equal_paths_of_one_peer_lowest_path_id_wins() {
    // iBGP: no "oldest eBGP path" step before the id.
    let mut rib = rib_with(cfg(), &[rx_peer(1, LOCAL_AS)]);
    send(&mut rib, 1, announce_id(attrs(&[65001], "192.0.2.1"), A, 9));
    send(&mut rib, 1, announce_id(attrs(&[65001], "192.0.2.1"), A, 4));
    resolve_all(&mut rib);
    let v = paths(&rib, A);
    let best = v.iter().find(|v| v.best).expect("a best path");
    assert_eq!(best.rx_path_id, Some(4));
    let other = v.iter().find(|v| !v.best).expect("the other path");
    assert_eq!(other.reason, Some(Reason::PathId));
    // The decision before the path id is unchanged: a shorter AS path
    // with a higher id still wins.
    send(&mut rib, 1, announce_id(attrs(&[], "192.0.2.1"), A, 9));
    resolve_all(&mut rib);
    let best = best_of(&rib, A).expect("a best path");
    assert_eq!(best.rx_path_id, Some(9));
    assert_eq!(loser_reason(&rib, A), Some(Reason::AsPathLength));
}

#[test]
fn session_drop_removes_every_path_of_the_peer() {
    let mut rib = rib_with(cfg(), &[rx_peer(1, 65001), peer(2, 65002)]);
    for id in [1, 2, 3] {
        send(
            &mut rib,
            1,
            announce_id(attrs(&[65001], "192.0.2.1"), A, id),
        );
    }
    send(&mut rib, 2, announce(attrs(&[65002, 9], "192.0.2.2"), &[A]));
    resolve_all(&mut rib);
    assert_eq!(paths(&rib, A).len(), 4);
    rib.peer_down(1);
    let out = rib.take_all();
    assert_eq!(ids(&rib, A), vec![(2, None)]);
    assert_eq!(out.zebra_add.len(), 1, "the other peer's path installed");
    rib.peer_down(2);
    let out = rib.take_all();
    assert!(paths(&rib, A).is_empty());
    assert_eq!(out.zebra_del, vec![p(A)]);
}

#[test]
fn without_add_path_a_second_announcement_replaces() {
    // A path id of 0 from a peer with ADD-PATH is the same key as no id.
    let mut rib = rib_with(cfg(), &[rx_peer(1, 65001)]);
    send(&mut rib, 1, announce_id(attrs(&[65001], "192.0.2.1"), A, 0));
    send(
        &mut rib,
        1,
        announce_id(attrs(&[65001, 5], "192.0.2.1"), A, 0),
    );
    resolve_all(&mut rib);
    assert_eq!(ids(&rib, A), vec![(1, Some(0))]);
}

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

fn tx_caps() -> SessionCaps {
    SessionCaps {
        add_path_tx: vec![AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST],
        ..SessionCaps::four_octet()
    }
}

/// A peer that sends us path ids.
fn rx_peer(id: PeerId, remote_as: u32) -> PeerInfo {
    let mut info = peer(id, remote_as);
    info.caps = rx_caps();
    info
}

/// A peer we send path ids to, with `send` paths.
fn tx_peer(id: PeerId, remote_as: u32, send: AddPathSend) -> PeerInfo {
    let mut info = peer(id, remote_as);
    info.caps = tx_caps();
    info.add_path_send = send;
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

/// What an ADD-PATH receiver sees: announcements and withdrawals with
/// their path ids, in order.
#[derive(Debug, Default)]
struct SeenIds {
    announced: Vec<(IpNetwork, u32, PathAttributes)>,
    withdrawn: Vec<(IpNetwork, u32)>,
}

impl SeenIds {
    fn ids(&self) -> Vec<u32> {
        let mut v: Vec<u32> = self.announced.iter().map(|(_, id, _)| *id).collect();
        v.sort();
        v
    }
    fn as_paths(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .announced
            .iter()
            .map(|(_, _, a)| {
                a.as_path
                    .as_ref()
                    .map(|p| p.to_string())
                    .unwrap_or_default()
            })
            .collect();
        v.sort();
        v
    }
}

fn seen_ids(out: &Out, id: PeerId) -> SeenIds {
    let mut s = SeenIds::default();
    for (peer, msgs) in &out.to_peers {
        if *peer != id {
            continue;
        }
        for m in msgs {
            let d = decode_message(m, &rx_caps()).expect("RIB output decodes");
            let Message::Update(u) = d.message else {
                continue;
            };
            if u.end_of_rib_family().is_some() {
                continue;
            }
            for (_, n) in u.reachable() {
                let id = n.path_id.expect("an ADD-PATH id");
                s.announced.push((n.prefix, id, u.attributes.clone()));
            }
            let mp = u.mp_unreach.iter().flat_map(|m| m.withdrawn.iter());
            for n in u.withdrawn.iter().chain(mp) {
                s.withdrawn
                    .push((n.prefix, n.path_id.expect("an ADD-PATH id")));
            }
        }
    }
    s
}

/// Peers 1, 2 and 3 (eBGP, AS 6500x) announce A with AS paths of length
/// 1, 2 and 3; peer 9 (eBGP) gets ADD-PATH with `send`.
fn three_upstreams(send: AddPathSend) -> (Rib, Out) {
    let mut rib = rib_with(
        cfg(),
        &[
            peer(1, 65001),
            peer(2, 65002),
            peer(3, 65003),
            tx_peer(9, 65009, send),
        ],
    );
    send_paths(&mut rib, &[1, 2, 3]);
    let out = resolve_all(&mut rib);
    (rib, out)
}

fn send_paths(rib: &mut Rib, peers: &[PeerId]) {
    for &id in peers {
        let asn = 65000 + id;
        let path: Vec<u32> = std::iter::repeat_n(asn, id as usize).collect();
        send(
            rib,
            id,
            announce(attrs(&path, &format!("192.0.2.{id}")), &[A]),
        );
    }
}

#[test]
fn every_path_goes_to_an_add_path_peer_with_its_own_id() {
    let (mut rib, out) = three_upstreams(AddPathSend::All);
    let s = seen_ids(&out, 9);
    assert_eq!(s.ids(), vec![1, 2, 3], "{s:?}");
    assert_eq!(
        s.as_paths(),
        vec![
            "65000 65001",
            "65000 65002 65002",
            "65000 65003 65003 65003"
        ]
    );
    assert_eq!(rib.peer_counts(9)[0].1.advertised, 3);
    // A peer without ADD-PATH still gets the best path only.
    let plain = seen(&out, 1);
    assert!(plain.announced.is_empty(), "its own path is the best");
    let plain = seen(&out, 2);
    assert_eq!(plain.announced.len(), 1);
    // Withdrawing one path withdraws exactly its id.
    let id_of = |s: &SeenIds, asn: u32| {
        s.announced
            .iter()
            .find(|(_, _, a)| a.as_path.as_ref().and_then(|p| p.asns().nth(1)) == Some(asn))
            .map(|(_, id, _)| *id)
            .expect("announced")
    };
    let id2 = id_of(&s, 65002);
    send(&mut rib, 2, withdraw(&[A]));
    let out = rib.take_all();
    let w = seen_ids(&out, 9);
    assert_eq!(w.withdrawn, vec![(p(A), id2)]);
    assert!(w.announced.is_empty(), "{w:?}");
    // The others keep their ids when one changes.
    let id3 = id_of(&s, 65003);
    send(&mut rib, 3, announce(attrs(&[65003, 7], "192.0.2.3"), &[A]));
    let out = rib.take_all();
    let c = seen_ids(&out, 9);
    assert_eq!(c.announced.len(), 1);
    assert_eq!(c.ids(), vec![id3]);
    assert!(c.withdrawn.is_empty());
    assert_eq!(
        rib.adj_rib_out(9, AfiSafi::IPV4_UNICAST)
            .iter()
            .map(|v| v.tx_path_id)
            .collect::<Vec<_>>(),
        vec![Some(id_of(&s, 65001)), Some(id3)]
    );
}

#[test]
fn best_n_sends_the_first_n_in_decision_order() {
    let (mut rib, out) = three_upstreams(AddPathSend::Best(2));
    let s = seen_ids(&out, 9);
    assert_eq!(
        s.as_paths(),
        vec!["65000 65001", "65000 65002 65002"],
        "the two shortest AS paths"
    );
    // The best goes: the third becomes one of the best two.
    send(&mut rib, 1, withdraw(&[A]));
    let out = rib.take_all();
    let c = seen_ids(&out, 9);
    assert_eq!(c.as_paths(), vec!["65000 65003 65003 65003"]);
    assert_eq!(c.withdrawn.len(), 1);
    let (_, gone) = c.withdrawn[0];
    assert!(
        !c.ids().contains(&gone),
        "a new path never takes the id of one withdrawn in the same batch"
    );
}

#[test]
fn split_horizon_and_ibgp_rules_per_path() {
    // Peer 1 (eBGP) and peer 4 (iBGP, not a reflector client) send us
    // ADD-PATH-capable sessions: 1 never gets its own path back, and an
    // iBGP-learned path never goes to the iBGP peer.
    let mut rib = rib_with(
        cfg(),
        &[
            tx_peer(1, 65001, AddPathSend::All),
            peer(2, 65002),
            tx_peer(4, LOCAL_AS, AddPathSend::All),
            peer(5, LOCAL_AS),
        ],
    );
    send_paths(&mut rib, &[1, 2]);
    send(&mut rib, 5, announce(attrs(&[65055], "192.0.2.5"), &[A]));
    let out = resolve_all(&mut rib);
    let to1 = seen_ids(&out, 1);
    assert_eq!(
        to1.as_paths(),
        vec!["65000 65002 65002", "65000 65055"],
        "not its own"
    );
    let to4 = seen_ids(&out, 4);
    assert_eq!(
        to4.as_paths(),
        vec!["65001", "65002 65002"],
        "the eBGP paths, not the iBGP one"
    );
}

#[test]
fn a_new_add_path_session_gets_every_path_and_a_dropped_source_is_withdrawn() {
    let mut rib = rib_with(cfg(), &[peer(1, 65001), peer(2, 65002)]);
    send_paths(&mut rib, &[1, 2]);
    resolve_all(&mut rib);
    rib.peer_up(tx_peer(9, 65009, AddPathSend::All), Instant::now());
    let out = rib.take_all();
    let s = seen_ids(&out, 9);
    assert_eq!(s.ids(), vec![1, 2]);
    rib.peer_down(1);
    let out = rib.take_all();
    let w = seen_ids(&out, 9);
    assert_eq!(w.withdrawn.len(), 1);
    assert!(w.announced.is_empty());
    assert_eq!(rib.peer_counts(9)[0].1.advertised, 1);
    // A route refresh sends what is left, with the same id.
    let kept = rib.adj_rib_out(9, AfiSafi::IPV4_UNICAST);
    assert_eq!(kept.len(), 1);
    rib.route_refresh(9, AfiSafi::IPV4_UNICAST);
    let out = rib.take_all();
    let r = seen_ids(&out, 9);
    assert_eq!(r.ids(), vec![kept[0].tx_path_id.unwrap()]);
}

#[test]
fn paths_received_with_ids_are_sent_with_ours() {
    // Two paths from one ADD-PATH peer go on to another ADD-PATH peer as
    // two paths (our ids, not theirs).
    let mut rib = rib_with(
        cfg(),
        &[rx_peer(1, 65001), tx_peer(9, 65009, AddPathSend::All)],
    );
    send(
        &mut rib,
        1,
        announce_id(attrs(&[65001, 1], "192.0.2.1"), A, 70),
    );
    send(
        &mut rib,
        1,
        announce_id(attrs(&[65001, 2], "192.0.2.11"), A, 80),
    );
    let out = resolve_all(&mut rib);
    let s = seen_ids(&out, 9);
    assert_eq!(s.ids(), vec![1, 2]);
    send(&mut rib, 1, withdraw_id(A, 80));
    let out = rib.take_all();
    let w = seen_ids(&out, 9);
    assert_eq!(w.withdrawn.len(), 1);
}

#[test]
fn graceful_restart_keeps_then_sweeps_each_path_id() {
    let now = Instant::now();
    let mut info = rx_peer(1, 65001);
    info.graceful_restart = Some(PeerGr {
        restart_time: std::time::Duration::from_secs(120),
        stale_time: std::time::Duration::from_secs(360),
        families: vec![AfiSafi::IPV4_UNICAST],
        forwarding: vec![AfiSafi::IPV4_UNICAST],
    });
    let mut rib = rib_with(cfg(), &[info.clone()]);
    send(
        &mut rib,
        1,
        announce_id(attrs(&[65001, 1], "192.0.2.1"), A, 1),
    );
    send(
        &mut rib,
        1,
        announce_id(attrs(&[65001, 2], "192.0.2.1"), A, 2),
    );
    resolve_all(&mut rib);
    rib.peer_restarting(1, now);
    rib.take_all();
    assert_eq!(rib.stale_paths(1), 2);
    assert_eq!(ids(&rib, A), vec![(1, Some(1)), (1, Some(2))]);
    // The new session sends id 1 again; its End-of-RIB sweeps id 2 only.
    rib.peer_up(info, now);
    rib.take_all();
    send(
        &mut rib,
        1,
        announce_id(attrs(&[65001, 1], "192.0.2.1"), A, 1),
    );
    rib.take_all();
    assert_eq!(rib.stale_paths(1), 1);
    rib.end_of_rib(1, AfiSafi::IPV4_UNICAST);
    rib.take_all();
    assert_eq!(ids(&rib, A), vec![(1, Some(1))]);
    assert_eq!(rib.stale_paths(1), 0);
}

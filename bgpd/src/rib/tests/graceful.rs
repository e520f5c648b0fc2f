//! Graceful Restart helper mode (RFC 4724 §4.2): stale paths kept while the
//! peer restarts, refreshed by its new session, swept at End-of-RIB or when
//! the timers run out.

use std::time::Duration;

use super::*;

const A: &str = "203.0.113.0/24";
const B: &str = "198.51.100.0/24";

/// Peer 1 (AS 65001) with Graceful Restart for IPv4 (`forwarding`: F bit).
fn gr_peer(forwarding: bool) -> PeerInfo {
    let mut info = peer(1, 65001);
    info.graceful_restart = Some(PeerGr {
        restart_time: Duration::from_secs(120),
        stale_time: Duration::from_secs(360),
        families: vec![AfiSafi::IPV4_UNICAST],
        forwarding: if forwarding {
            vec![AfiSafi::IPV4_UNICAST]
        } else {
            Vec::new()
        },
    });
    info
}

/// Peer 1 announced A and B (installed, sent to peer 2), then restarted.
fn restarted(now: Instant) -> Rib {
    let mut rib = rib_with(cfg(), &[gr_peer(true), peer(2, 65002)]);
    send(&mut rib, 1, announce(attrs(&[65001], "192.0.2.1"), &[A, B]));
    let out = resolve_all(&mut rib);
    assert_eq!(out.zebra_add.len(), 2);
    rib.peer_restarting(1, now);
    let out = rib.take_all();
    assert!(out.zebra_del.is_empty(), "stale routes stay installed");
    assert!(seen(&out, 2).withdrawn.is_empty(), "and advertised");
    assert_eq!(rib.stale_paths(1), 2);
    let b = best_of(&rib, A).unwrap();
    assert_eq!((b.peer, b.stale), (1, true));
    rib
}

fn eor_v4() -> ParsedUpdate {
    ParsedUpdate {
        update: Update::end_of_rib(AfiSafi::IPV4_UNICAST),
        report: UpdateReport::default(),
    }
}

#[test]
fn end_of_rib_removes_what_was_not_relearned() {
    let now = Instant::now();
    let mut rib = restarted(now);
    rib.peer_up(gr_peer(true), now);
    let out = rib.take_all();
    assert!(out.zebra_del.is_empty());
    assert_eq!(
        seen(&out, 1).eor,
        vec![AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST]
    );
    // The new session sends A again, the same attributes: fresh now.
    send(&mut rib, 1, announce(attrs(&[65001], "192.0.2.1"), &[A]));
    let out = rib.take_all();
    assert!(out.zebra_add.is_empty() && out.zebra_del.is_empty());
    assert_eq!(rib.stale_paths(1), 1);
    assert!(!best_of(&rib, A).unwrap().stale);
    assert!(best_of(&rib, B).unwrap().stale);
    assert!(rib.gr_status(1, now).is_some());
    send(&mut rib, 1, eor_v4());
    rib.end_of_rib(1, AfiSafi::IPV4_UNICAST);
    let out = rib.take_all();
    assert_eq!(out.zebra_del, vec![p(B)]);
    assert_eq!(seen(&out, 2).withdrawn, vec![p(B)]);
    assert_eq!(best_of(&rib, A).unwrap().peer, 1);
    assert_eq!(rib.stale_paths(1), 0);
    assert!(rib.gr_status(1, now).is_none());
    let counts = rib.peer_counts(1);
    let v4c = counts
        .iter()
        .find(|(f, _)| *f == AfiSafi::IPV4_UNICAST)
        .unwrap()
        .1;
    assert_eq!((v4c.received, v4c.accepted), (1, 1));
}

#[test]
fn changed_path_replaces_stale_one() {
    let now = Instant::now();
    let mut rib = restarted(now);
    rib.peer_up(gr_peer(true), now);
    rib.take_all();
    send(
        &mut rib,
        1,
        announce(attrs(&[65001, 65010], "192.0.2.1"), &[A]),
    );
    let out = rib.take_all();
    assert_eq!(seen(&out, 2).announced.len(), 1);
    rib.end_of_rib(1, AfiSafi::IPV4_UNICAST);
    rib.take_all();
    let best = best_of(&rib, A).unwrap();
    assert_eq!(best.attrs.as_path.as_ref().unwrap().length(), 2);
    assert!(best_of(&rib, B).is_none());
}

#[test]
fn restart_time_expiry_removes_stale_routes() {
    let now = Instant::now();
    let mut rib = restarted(now);
    assert!(!rib.expire_stale(now + Duration::from_secs(119)));
    assert_eq!(rib.stale_paths(1), 2);
    assert!(rib.expire_stale(now + Duration::from_secs(121)));
    let out = rib.take_all();
    let mut del = out.zebra_del.clone();
    del.sort();
    assert_eq!(del, vec![p(B), p(A)]);
    assert_eq!(seen(&out, 2).withdrawn.len(), 2);
    assert!(best_of(&rib, A).is_none());
}

#[test]
fn stale_time_runs_from_the_new_session() {
    let now = Instant::now();
    let mut rib = restarted(now);
    let later = now + Duration::from_secs(100);
    rib.peer_up(gr_peer(true), later);
    rib.take_all();
    // Past the restart time but within the stale time: kept.
    assert!(!rib.expire_stale(now + Duration::from_secs(200)));
    assert!(rib.expire_stale(later + Duration::from_secs(361)));
    assert_eq!(rib.take_all().zebra_del.len(), 2);
}

#[test]
fn no_forwarding_bit_on_return_drops_stale_at_once() {
    let now = Instant::now();
    let mut rib = restarted(now);
    rib.peer_up(gr_peer(false), now);
    let out = rib.take_all();
    assert_eq!(out.zebra_del.len(), 2);
    assert_eq!(rib.stale_paths(1), 0);
}

#[test]
fn hard_down_while_stale_flushes() {
    let now = Instant::now();
    let mut rib = restarted(now);
    rib.peer_up(gr_peer(true), now);
    rib.take_all();
    rib.peer_down(1);
    assert_eq!(rib.take_all().zebra_del.len(), 2);
}

#[test]
fn peer_without_graceful_restart_is_flushed() {
    let mut rib = rib_with(cfg(), &[peer(1, 65001), peer(2, 65002)]);
    send(&mut rib, 1, announce(attrs(&[65001], "192.0.2.1"), &[A]));
    resolve_all(&mut rib);
    rib.peer_restarting(1, Instant::now());
    let out = rib.take_all();
    assert_eq!(out.zebra_del, vec![p(A)]);
    assert_eq!(seen(&out, 2).withdrawn, vec![p(A)]);
}

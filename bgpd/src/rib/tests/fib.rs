//! The FIB queue: zebrad gets each changed prefix once, in its state when
//! taken, in batches of the size asked for, a take resuming where the
//! last stopped; a prefix gone before it was
//! taken is a removal and then leaves the table.

use super::*;

const A: &str = "203.0.113.0/24";
const B: &str = "198.51.100.0/24";

#[test]
fn a_prefix_changed_twice_is_queued_once_in_its_last_state() {
    let mut rib = rib_with(cfg(), &[peer(1, 65001), peer(2, 65002)]);
    send(
        &mut rib,
        1,
        announce(attrs(&[65001, 65010], "192.0.2.1"), &[A]),
    );
    resolve_all_peers_only(&mut rib);
    assert_eq!(rib.fib_pending(), 1);
    // A shorter path from peer 2 replaces it before zebrad took it.
    send(&mut rib, 2, announce(attrs(&[65002], "192.0.2.2"), &[A]));
    resolve_all_peers_only(&mut rib);
    assert_eq!(rib.fib_pending(), 1, "queued once");
    let batch = rib.take_fib(usize::MAX);
    assert_eq!(batch.add.len(), 1);
    assert_eq!(batch.add[0].nexthops, vec![IpAddr::V4(v4("192.0.2.2"))]);
    assert!(batch.del.is_empty());
    assert_eq!(rib.fib_pending(), 0);
}

#[test]
fn batches_take_at_most_what_is_asked() {
    let mut rib = rib_with(cfg(), &[peer(1, 65001)]);
    send(&mut rib, 1, announce(attrs(&[65001], "192.0.2.1"), &[A, B]));
    resolve_all_peers_only(&mut rib);
    assert_eq!(rib.fib_pending(), 2);
    let first = rib.take_fib(1);
    assert_eq!(first.add.len() + first.del.len(), 1);
    let second = rib.take_fib(10);
    assert_eq!(second.add.len(), 1);
    assert_ne!(first.add[0].prefix, second.add[0].prefix);
    assert!(rib.take_fib(10).is_empty());
}

#[test]
fn a_prefix_gone_before_it_was_taken_is_removed_then_forgotten() {
    let mut rib = rib_with(cfg(), &[peer(1, 65001)]);
    send(&mut rib, 1, announce(attrs(&[65001], "192.0.2.1"), &[A]));
    resolve_all_peers_only(&mut rib);
    send(&mut rib, 1, withdraw(&[A]));
    rib.take_output();
    assert_eq!(rib.fib_pending(), 1);
    assert_eq!(rib.tables.len(Fam::V4), 1, "kept for the removal");
    let batch = rib.take_fib(usize::MAX);
    assert_eq!(batch.del, vec![p(A)]);
    assert!(batch.add.is_empty());
    assert_eq!(rib.tables.len(Fam::V4), 0, "then the slot goes");
    // The prefix can come back in the same slot.
    send(&mut rib, 1, announce(attrs(&[65001], "192.0.2.1"), &[A]));
    resolve_all_peers_only(&mut rib);
    assert_eq!(rib.take_fib(usize::MAX).add.len(), 1);
}

#[test]
fn takes_resume_where_the_last_stopped_and_take_each_prefix_once() {
    let mut rib = rib_with(cfg(), &[peer(1, 65001)]);
    let names: Vec<String> = (0..200).map(|i| format!("10.0.{i}.0/24")).collect();
    let all: Vec<&str> = names.iter().map(String::as_str).collect();
    send(&mut rib, 1, announce(attrs(&[65001], "192.0.2.1"), &all));
    resolve_all_peers_only(&mut rib);
    assert_eq!(rib.fib_pending(), 200);
    let first = rib.take_fib(70);
    assert_eq!(first.add.len(), 70);
    // One already taken changes again: it waits behind the others.
    let again = first.add[0].prefix;
    send(
        &mut rib,
        1,
        announce(attrs(&[65001], "192.0.2.9"), &[&again.to_string()]),
    );
    resolve_all_peers_only(&mut rib);
    assert_eq!(rib.fib_pending(), 131);
    let rest = rib.take_fib(130);
    assert!(rest.add.iter().all(|r| r.prefix != again));
    let last = rib.take_fib(10);
    assert_eq!(
        last.add.iter().map(|r| r.prefix).collect::<Vec<_>>(),
        vec![again]
    );
    let mut seen: Vec<IpNetwork> = first
        .add
        .iter()
        .chain(&rest.add)
        .map(|r| r.prefix)
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 200);
    assert_eq!(rib.fib_pending(), 0);
}

#[test]
fn without_zebrad_the_queue_is_discarded_and_gone_prefixes_forgotten() {
    let mut rib = rib_with(cfg(), &[peer(1, 65001)]);
    send(&mut rib, 1, announce(attrs(&[65001], "192.0.2.1"), &[A, B]));
    resolve_all_peers_only(&mut rib);
    send(&mut rib, 1, withdraw(&[A]));
    rib.take_output();
    assert_eq!(rib.fib_pending(), 2);
    rib.discard_fib();
    assert_eq!(rib.fib_pending(), 0);
    assert_eq!(rib.tables.len(Fam::V4), 1, "only B is left");
    // B is queued again when it changes.
    send(&mut rib, 1, withdraw(&[B]));
    rib.take_output();
    assert_eq!(rib.take_fib(usize::MAX).del, vec![p(B)]);
}

#[test]
fn resync_queues_every_installed_route_and_no_local_one() {
    let mut rib = rib_with(cfg(), &[peer(1, 65001)]);
    send(&mut rib, 1, announce(attrs(&[65001], "192.0.2.1"), &[A]));
    rib.originate(p(B), Origin::Igp, None, None, Vec::new());
    resolve_all_peers_only(&mut rib);
    rib.take_fib(usize::MAX);
    assert_eq!(rib.fib_pending(), 0);
    rib.fib_resync();
    let batch = rib.take_fib(usize::MAX);
    assert_eq!(batch.add.len(), 1);
    assert_eq!(batch.add[0].prefix, p(A));
    assert!(batch.del.is_empty());
}

/// Answer the batch's nexthop registrations, leaving the FIB queue alone.
fn resolve_all_peers_only(rib: &mut Rib) {
    let out = rib.take_output();
    for nh in &out.nht_register {
        rib.nexthop_update(*nh, true, 0);
    }
    rib.take_output();
}

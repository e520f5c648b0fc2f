//! MAC mobility and duplicate-MAC detection (RFC 7432 §15) between two of
//! our leaves through the route-reflecting spine (topology in
//! `evpn_util`). h3 (02:00:00:00:03:03, 198.51.100.3) first sits behind
//! leaf2; then a host with the same MAC and IP shows up behind leaf1 (the
//! VM moved): leaf1 advertises it with sequence number 1 and leaf2's kernel
//! points the MAC at leaf1's VTEP. Then both copies talk at once (a
//! duplicate): after 5 moves within 180 s the MAC is frozen, logged and
//! shown by `show bgp l2vpn evpn`; `clear evpn dup-addr` releases it.

mod evpn_util;

use evpn_util::*;
use serde_json::Value;
use topotests::{try_wait_until, wait_until, Node};

/// The type-2 MAC-only route of `mac` from `vtep` in `node`'s table.
fn mac_route(node: &Node, mac: &str, vtep: &str) -> Option<Value> {
    let want = format!("[2]:[0]:[48]:[{mac}]");
    evpn_paths(node, Some(2))
        .into_iter()
        .find(|(p, v)| p == &want && v["nexthops"][0]["ip"] == vtep)
        .map(|(_, v)| v)
}

/// A host with h3's MAC and IP behind `leaf` that sends nothing unless
/// asked (no IPv6: no router or neighbor solicitations of its own).
fn quiet_host(t: &Leaves, name: &str, leaf: &Node) -> Node {
    let h = t.lab.node(name);
    h.must(&["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"]);
    h.must(&["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"]);
    t.lab.link(&h, "eth0", leaf, name);
    h.must(&["ip", "link", "set", "eth0", "address", H3_MAC]);
    h.add_addr("eth0", "198.51.100.3/24");
    h
}

fn duplicates(node: &Node) -> Vec<Value> {
    vtysh_json(node, "show bgp l2vpn evpn json")["duplicateMacs"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn evpn_mac_moves_and_duplicate_is_frozen() {
    if !can_run(&["bridge"]) {
        return;
    }
    let t = leaves("evpn_mac_moves_and_duplicate_is_frozen", "", false);
    wait_kernel(&t.leaf1, "203.0.113.2/32", "192.0.2.2");
    wait_kernel(&t.leaf2, "203.0.113.1/32", "192.0.2.6");

    // h3 behind leaf2.
    let h3 = quiet_host(&t, "h3", &t.leaf2);
    t.leaf2
        .must(&["ip", "link", "set", "h3", "master", "br100"]);
    wait_until(T, "h3 reaches leaf2", || h3.reachable("198.51.100.253"));
    let r = try_wait_until(T, "leaf1 points h3's MAC at leaf2", || {
        fdb(&t.leaf1).contains(&format!("{H3_MAC} 203.0.113.2 self extern_learn"))
    });
    assert!(r.is_ok(), "{r:?}: {:?}", fdb(&t.leaf1));
    let first = mac_route(&t.leaf1, H3_MAC, "203.0.113.2").expect("leaf2's route");
    assert_eq!(first["seq"], 0, "{first:#}");

    // It moves: the same MAC and IP behind leaf1, while leaf2 still has
    // it (h3 stays silent there).
    let h3b = quiet_host(&t, "h3b", &t.leaf1);
    t.leaf1
        .must(&["ip", "link", "set", "h3b", "master", "br100"]);
    wait_until(T, "the moved h3 reaches leaf1", || {
        h3b.reachable("198.51.100.254")
    });
    let mut last = None;
    let r = try_wait_until(T, "leaf2 sees h3 behind leaf1 with sequence 1", || {
        last = mac_route(&t.leaf2, H3_MAC, "203.0.113.1");
        last.as_ref().is_some_and(|v| {
            v["seq"] == 1
                && v["bestpath"] == true
                && v["extendedCommunity"]["string"]
                    .as_str()
                    .is_some_and(|s| s.contains("MM:1"))
        })
    });
    assert!(r.is_ok(), "{r:?}: {last:#?}");
    let r = try_wait_until(T, "leaf2's kernel points h3's MAC at leaf1", || {
        fdb(&t.leaf2).contains(&format!("{H3_MAC} 203.0.113.1 self extern_learn"))
    });
    assert!(r.is_ok(), "{r:?}: {:?}", fdb(&t.leaf2));
    // leaf2 no longer advertises it.
    let r = try_wait_until(T, "leaf1 drops leaf2's old route", || {
        mac_route(&t.leaf1, H3_MAC, "203.0.113.2").is_none()
    });
    assert!(r.is_ok(), "{r:?}");

    // Both copies talk: the MAC flaps between the leaves until it is
    // frozen (5 moves in 180 s).
    let r = try_wait_until(T, "a duplicate MAC frozen", || {
        let _ = h3.reachable("198.51.100.253");
        let _ = h3b.reachable("198.51.100.254");
        !duplicates(&t.leaf1).is_empty() || !duplicates(&t.leaf2).is_empty()
    });
    assert!(
        r.is_ok(),
        "{r:?}: leaf1 {}\nleaf2 {}",
        vtysh(&t.leaf1, "show bgp l2vpn evpn").unwrap_or_default(),
        vtysh(&t.leaf2, "show bgp l2vpn evpn").unwrap_or_default()
    );
    let (node, d) = [&t.leaf1, &t.leaf2]
        .into_iter()
        .find_map(|n| duplicates(n).into_iter().next().map(|d| (n, d)))
        .expect("a duplicate");
    assert_eq!(d["mac"], H3_MAC, "{d:#}");
    assert_eq!(d["vni"], 100, "{d:#}");
    assert!(d["moves"].as_u64().is_some_and(|m| m >= 5), "{d:#}");
    let text = vtysh(node, "show bgp l2vpn evpn").unwrap_or_default();
    assert!(text.contains("Duplicate MACs (frozen)"), "{text}");

    // The operator removes the second copy and clears the freeze (FRR's
    // `clear evpn dup-addr`): the MAC is no longer a duplicate.
    t.leaf1.must(&["ip", "link", "set", "h3b", "nomaster"]);
    let out = vtysh(node, &format!("clear evpn dup-addr vni 100 mac {H3_MAC}")).expect("clear");
    assert_eq!(out.trim(), "1 duplicate MAC(s) cleared");
    assert!(duplicates(node).is_empty());
    assert!(
        vtysh(node, "clear evpn dup-addr vni 0").is_err(),
        "VNI 0 is refused"
    );
}

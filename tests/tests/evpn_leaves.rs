//! EVPN between two leaves through a spine that reflects routes (RFC 7432,
//! RFC 8365, RFC 4456), every router ours (zebrad + bgpd): the underlay is
//! iBGP IPv4 unicast (each leaf announces its VTEP /32; the spine sets
//! itself as next hop), the overlay L2VPN EVPN on the same sessions. The
//! kernel's own VXLAN and bridge devices (learning off on the VXLAN port)
//! carry the hosts' traffic, which can only cross if bgpd learned the other
//! leaf's type 3 and type 2 routes and zebrad programmed them.
//!
//! Topology: leaf1 eth0 192.0.2.1/30 -- spine eth0 192.0.2.2/30; leaf2 eth0
//! 192.0.2.5/30 -- spine eth1 192.0.2.6/30; all AS 65000, the spine a route
//! reflector with both leaves as clients. VTEPs 203.0.113.1/32 and
//! 203.0.113.2/32 on `lo`; on each leaf br100 (198.51.100.254 / .253) with
//! vx100 (VNI 100) and a host port. h1 (198.51.100.1, 02:00:00:00:01:01)
//! behind leaf1, h2 (198.51.100.2, 02:00:00:00:02:02) behind leaf2; in the
//! mobility test h3 (02:00:00:00:03:03) behind leaf2 later shows up behind
//! leaf1.

mod evpn_util;

use evpn_util::*;
use serde_json::Value;
use topotests::wait_until;

#[test]
fn evpn_leaves_ping_through_a_route_reflector() {
    if !can_run(&["bridge"]) {
        return;
    }
    let t = leaves("evpn_leaves_ping_through_a_route_reflector", "", false);
    // Each leaf's VTEP is reachable from the other through the spine.
    wait_kernel(&t.leaf1, "203.0.113.2/32", "192.0.2.2");
    wait_kernel(&t.leaf2, "203.0.113.1/32", "192.0.2.6");

    // Each leaf learns its host (MAC and ARP entry) by talking to it.
    wait_until(T, "leaf1 reaches h1", || t.leaf1.reachable("198.51.100.1"));
    wait_until(T, "leaf2 reaches h2", || t.leaf2.reachable("198.51.100.2"));

    // The kernel tables hold exactly the other leaf's VTEP, MAC and MAC+IP.
    wait_tables(
        &t.leaf1,
        &expected_fdb("203.0.113.2", &[H2_MAC]),
        &set(&[&format!("198.51.100.2 {H2_MAC}")]),
    );
    wait_tables(
        &t.leaf2,
        &expected_fdb("203.0.113.1", &[H1_MAC]),
        &set(&[&format!("198.51.100.1 {H1_MAC}")]),
    );
    wait_until(T, "h1 pings h2 across the overlay", || {
        t.h1.reachable("198.51.100.2")
    });
    assert!(t.h2.reachable("198.51.100.1"));

    // What bgpd shows, in FRR's layout: leaf1 has its own type 3 and the
    // reflected one of leaf2, with the PMSI tunnel toward leaf2's VTEP.
    let t3 = evpn_paths(&t.leaf1, Some(3));
    let remote: Vec<&Value> = t3
        .iter()
        .filter(|(p, _)| p == "[3]:[0]:[32]:[203.0.113.2]")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(remote.len(), 1, "{t3:#?}");
    assert_eq!(remote[0]["bestpath"], true, "{t3:#?}");
    assert_eq!(remote[0]["pathFrom"], "internal", "{t3:#?}");
    assert_eq!(remote[0]["originatorId"], "192.0.2.5", "{t3:#?}");
    assert_eq!(remote[0]["nexthops"][0]["ip"], "203.0.113.2", "{t3:#?}");
    assert!(
        remote[0]["extendedCommunity"]["string"]
            .as_str()
            .is_some_and(|s| s.contains("RT:65000:100") && s.contains("ET:8")),
        "{t3:#?}"
    );
    let t2 = evpn_paths(&t.leaf1, Some(2));
    assert!(
        t2.iter()
            .any(|(p, _)| p == &format!("[2]:[0]:[48]:[{H2_MAC}]:[32]:[198.51.100.2]")),
        "{t2:#?}"
    );
    // The spine reflects but has no VNI: it holds both leaves' routes.
    assert!(evpn_paths(&t.spine, Some(3)).len() >= 2);

    // h2's port goes away and leaf2 forgets it: its routes are withdrawn
    // and leaf1's kernel drops them; the flood entry stays.
    t.leaf2.must_sh(&format!(
        "ip link set h2 down && bridge fdb del {H2_MAC} dev h2 master 2>/dev/null; \
         ip neigh del 198.51.100.2 dev br100 2>/dev/null; true"
    ));
    wait_tables(&t.leaf1, &expected_fdb("203.0.113.2", &[]), &set(&[]));
}

/// eBGP leaf `asn` toward `peer` (AS `peer_as`) for the underlay and EVPN.
fn ebgp_leaf(asn: u32, router_id: &str, vtep: &str, peer: &str, peer_as: u32) -> String {
    format!(
        r#"{}
[[neighbor]]
address = "{peer}"
remote_as = {peer_as}
families = ["ipv4-unicast", "l2vpn-evpn"]
import = "ALL"
export = "ALL"
"#,
        ours_head(asn, router_id, &format!("networks = [\"{vtep}/32\"]"))
    )
}

#[test]
fn evpn_leaves_over_ebgp() {
    if !can_run(&["bridge"]) {
        return;
    }
    // leaf1 (AS 65001) eth0 192.0.2.1/30 -- leaf2 (AS 65002) eth0 .2; the
    // route targets differ in their AS part (65001:100, 65002:100) and
    // still import into VNI 100, as with FRR's derived RTs.
    let lab = topotests::Lab::new("evpn_leaves_over_ebgp");
    let leaf1 = lab.node("leaf1");
    let leaf2 = lab.node("leaf2");
    lab.link(&leaf1, "eth0", &leaf2, "eth0");
    leaf1.add_addr("eth0", "192.0.2.1/30");
    leaf2.add_addr("eth0", "192.0.2.2/30");
    let h1 = host(&lab, "h1", &leaf1, H1_MAC, "198.51.100.1");
    let h2 = host(&lab, "h2", &leaf2, H2_MAC, "198.51.100.2");
    vxlan(&leaf1, "203.0.113.1", "198.51.100.254", "h1");
    vxlan(&leaf2, "203.0.113.2", "198.51.100.253", "h2");
    start_ours(
        &leaf1,
        &ebgp_leaf(65001, "192.0.2.1", "203.0.113.1", "192.0.2.2", 65002),
    );
    start_ours(
        &leaf2,
        &ebgp_leaf(65002, "192.0.2.2", "203.0.113.2", "192.0.2.1", 65001),
    );
    wait_established(&leaf1, "192.0.2.2");
    wait_kernel(&leaf1, "203.0.113.2/32", "192.0.2.2");
    wait_kernel(&leaf2, "203.0.113.1/32", "192.0.2.1");
    wait_until(T, "leaf1 reaches h1", || leaf1.reachable("198.51.100.1"));
    wait_until(T, "leaf2 reaches h2", || leaf2.reachable("198.51.100.2"));
    wait_tables(
        &leaf1,
        &expected_fdb("203.0.113.2", &[H2_MAC]),
        &set(&[&format!("198.51.100.2 {H2_MAC}")]),
    );
    wait_tables(
        &leaf2,
        &expected_fdb("203.0.113.1", &[H1_MAC]),
        &set(&[&format!("198.51.100.1 {H1_MAC}")]),
    );
    wait_until(T, "h1 pings h2 across the overlay", || {
        h1.reachable("198.51.100.2")
    });
    assert!(h2.reachable("198.51.100.1"));
    // The route came over eBGP: leaf2's AS in the path, the next hop still
    // leaf2's VTEP (never the session address).
    let t3 = evpn_paths(&leaf1, Some(3));
    let (_, p) = t3
        .iter()
        .find(|(p, _)| p == "[3]:[0]:[32]:[203.0.113.2]")
        .unwrap_or_else(|| panic!("{t3:#?}"));
    assert_eq!(p["pathFrom"], "external", "{p:#}");
    assert_eq!(p["path"], "65002", "{p:#}");
    assert_eq!(p["nexthops"][0]["ip"], "203.0.113.2", "{p:#}");
    assert!(
        p["extendedCommunity"]["string"]
            .as_str()
            .is_some_and(|s| s.contains("RT:65002:100")),
        "{p:#}"
    );
}

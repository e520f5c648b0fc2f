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

mod bgp_util;

use std::collections::BTreeSet;

use bgp_util::*;
use serde_json::Value;
use topotests::{try_wait_until, wait_until, Lab, Node};

const H1_MAC: &str = "02:00:00:00:01:01";
const H2_MAC: &str = "02:00:00:00:02:02";

pub struct Leaves {
    pub lab: Lab,
    pub leaf1: Node,
    pub leaf2: Node,
    pub spine: Node,
    pub h1: Node,
    pub h2: Node,
}

/// The kernel side of a leaf: the VTEP address, br100 with vx100 (VNI 100,
/// learning off) and the host port `host`.
fn vxlan(leaf: &Node, vtep: &str, svi: &str, host: &str) {
    leaf.must(&["ip", "addr", "add", &format!("{vtep}/32"), "dev", "lo"]);
    leaf.must_sh(&format!(
        "ip link add br100 type bridge && \
         ip link add vx100 type vxlan id 100 local {vtep} dstport 4789 nolearning && \
         ip link set vx100 master br100 && \
         bridge link set dev vx100 learning off && \
         ip link set {host} master br100 && \
         ip addr add {svi}/24 dev br100 && \
         ip link set br100 up && ip link set vx100 up"
    ));
}

fn host(lab: &Lab, name: &str, leaf: &Node, mac: &str, ip: &str) -> Node {
    let h = lab.node(name);
    lab.link(&h, "eth0", leaf, name);
    h.must(&["ip", "link", "set", "eth0", "address", mac]);
    h.add_addr("eth0", &format!("{ip}/24"));
    h
}

fn leaf_conf(router_id: &str, vtep: &str, spine: &str, evpn: &str) -> String {
    format!(
        r#"{}
[[neighbor]]
address = "{spine}"
remote_as = 65000
families = ["ipv4-unicast", "l2vpn-evpn"]

{evpn}
"#,
        ours_head(65000, router_id, &format!("networks = [\"{vtep}/32\"]"))
    )
}

fn spine_conf() -> String {
    let mut c = ours_head(65000, "192.0.2.2", "");
    for leaf in ["192.0.2.1", "192.0.2.5"] {
        c.push_str(&format!(
            r#"
[[neighbor]]
address = "{leaf}"
remote_as = 65000
families = ["ipv4-unicast", "l2vpn-evpn"]
rr_client = true
next_hop_self = true
"#
        ));
    }
    c
}

/// Builds the lab and starts every daemon; `evpn` is each leaf's `[evpn]`
/// section.
pub fn leaves(test: &str, evpn: &str) -> Leaves {
    let lab = Lab::new(test);
    let leaf1 = lab.node("leaf1");
    let leaf2 = lab.node("leaf2");
    let spine = lab.node("spine");
    lab.link(&leaf1, "eth0", &spine, "eth0");
    lab.link(&leaf2, "eth0", &spine, "eth1");
    leaf1.add_addr("eth0", "192.0.2.1/30");
    spine.add_addr("eth0", "192.0.2.2/30");
    leaf2.add_addr("eth0", "192.0.2.5/30");
    spine.add_addr("eth1", "192.0.2.6/30");
    spine.must(&["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    let h1 = host(&lab, "h1", &leaf1, H1_MAC, "198.51.100.1");
    let h2 = host(&lab, "h2", &leaf2, H2_MAC, "198.51.100.2");
    vxlan(&leaf1, "203.0.113.1", "198.51.100.254", "h1");
    vxlan(&leaf2, "203.0.113.2", "198.51.100.253", "h2");
    start_ours(&spine, &spine_conf());
    start_ours(
        &leaf1,
        &leaf_conf("192.0.2.1", "203.0.113.1", "192.0.2.2", evpn),
    );
    start_ours(
        &leaf2,
        &leaf_conf("192.0.2.5", "203.0.113.2", "192.0.2.6", evpn),
    );
    wait_established(&spine, "192.0.2.1");
    wait_established(&spine, "192.0.2.5");
    Leaves {
        lab,
        leaf1,
        leaf2,
        spine,
        h1,
        h2,
    }
}

/// The VXLAN device's FDB as "mac dst flags..." lines (its own permanent
/// bridge entry left out).
pub fn fdb(leaf: &Node) -> BTreeSet<String> {
    let out = leaf.must(&["bridge", "-j", "fdb", "show", "dev", "vx100"]);
    let v: Value = serde_json::from_str(&out).expect("bridge -j");
    v.as_array()
        .into_iter()
        .flatten()
        .filter(|e| {
            !(e["master"].is_string()
                && e["state"].as_str() == Some("permanent")
                && e["dst"].is_null())
        })
        .map(|e| {
            let mut s = format!(
                "{} {}",
                e["mac"].as_str().unwrap_or("?"),
                e["dst"].as_str().unwrap_or("-")
            );
            for f in e["flags"].as_array().into_iter().flatten() {
                s.push(' ');
                s.push_str(f.as_str().unwrap_or("?"));
            }
            if let Some(m) = e["master"].as_str() {
                s.push_str(" master ");
                s.push_str(m);
            }
            s
        })
        .collect()
}

/// zebrad's neighbor entries on the bridge as "ip mac" lines.
pub fn neighs(leaf: &Node) -> BTreeSet<String> {
    let out = leaf.must(&["ip", "-j", "neigh", "show", "dev", "br100"]);
    let v: Value = serde_json::from_str(&out).expect("ip -j neigh");
    v.as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["protocol"].as_str() == Some("zebra"))
        .map(|e| {
            format!(
                "{} {}",
                e["dst"].as_str().unwrap_or("?"),
                e["lladdr"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

pub fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// What a leaf's VXLAN FDB holds for a remote VTEP and the MACs behind it.
pub fn expected_fdb(vtep: &str, macs: &[&str]) -> BTreeSet<String> {
    let mut s = set(&[&format!("00:00:00:00:00:00 {vtep} self")]);
    for mac in macs {
        s.insert(format!("{mac} {vtep} self extern_learn"));
        s.insert(format!("{mac} - extern_learn master br100"));
    }
    s
}

pub fn wait_tables(leaf: &Node, fdb_want: &BTreeSet<String>, neigh_want: &BTreeSet<String>) {
    let (mut f, mut n) = (BTreeSet::new(), BTreeSet::new());
    let r = try_wait_until(T, "FDB and neighbor tables as expected", || {
        f = fdb(leaf);
        n = neighs(leaf);
        &f == fdb_want && &n == neigh_want
    });
    if let Err(e) = r {
        panic!(
            "{e} on {}: fdb {f:?} (want {fdb_want:?}), neigh {n:?} (want {neigh_want:?}); bgp: {}",
            leaf.name(),
            vtysh(leaf, "show bgp l2vpn evpn").unwrap_or_default()
        );
    }
}

/// `show bgp l2vpn evpn [route type N] json` → (prefix text, path) pairs.
pub fn evpn_paths(node: &Node, route_type: Option<u8>) -> Vec<(String, Value)> {
    let cmd = match route_type {
        Some(t) => format!("show bgp l2vpn evpn route type {t} json"),
        None => "show bgp l2vpn evpn json".to_string(),
    };
    let v = vtysh_json(node, &cmd);
    let mut out = Vec::new();
    for (rd, routes) in v.as_object().into_iter().flatten() {
        let Some(routes) = routes.as_object() else {
            continue;
        };
        if routes.get("rd").is_none() {
            continue;
        }
        let _ = rd;
        for (prefix, r) in routes {
            for p in r["paths"].as_array().into_iter().flatten() {
                for p in p.as_array().into_iter().flatten() {
                    out.push((prefix.clone(), p.clone()));
                }
            }
        }
    }
    out
}

#[test]
fn evpn_leaves_ping_through_a_route_reflector() {
    if !can_run(&["bridge"]) {
        return;
    }
    let t = leaves("evpn_leaves_ping_through_a_route_reflector", "");
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

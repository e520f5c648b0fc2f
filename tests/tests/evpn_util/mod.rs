//! Shared by the EVPN topology tests (`evpn_*.rs`): two of our leaves (and
//! optionally an FRR one) behind a route-reflecting spine of ours, the
//! kernel's VXLAN and bridge devices, and readers of the kernel's FDB and
//! neighbor tables and of `show bgp l2vpn evpn json`.
//!
//! Topology: leaf1 eth0 192.0.2.1/30 -- spine eth0 192.0.2.2/30; leaf2 eth0
//! 192.0.2.5/30 -- spine eth1 192.0.2.6/30; with FRR, leaf3 eth0
//! 192.0.2.9/30 -- spine eth2 192.0.2.10/30. All AS 65000, the spine a
//! route reflector with the leaves as clients and next-hop-self for the
//! underlay (each leaf announces its VTEP /32). VTEPs 203.0.113.N/32 on
//! `lo`; on each leaf br100 (198.51.100.254 / .253 / .252) with vx100
//! (VNI 100, learning off) and host ports. Hosts: h1 (198.51.100.1,
//! 02:00:00:00:01:01) behind leaf1, h2 (.2, 02:00:00:00:02:02) behind
//! leaf2, h3 (.3, 02:00:00:00:03:03) behind leaf3.
#![allow(dead_code)]

#[path = "../bgp_util/mod.rs"]
mod bgp_util;

pub use bgp_util::*;
use std::collections::BTreeSet;

use serde_json::Value;
use topotests::{try_wait_until, Lab, Node};

pub const H1_MAC: &str = "02:00:00:00:01:01";
pub const H2_MAC: &str = "02:00:00:00:02:02";
pub const H3_MAC: &str = "02:00:00:00:03:03";

pub struct Leaves {
    pub lab: Lab,
    pub leaf1: Node,
    pub leaf2: Node,
    pub spine: Node,
    pub h1: Node,
    pub h2: Node,
    /// FRR's leaf and its host, when asked for.
    pub frr: Option<(Node, Node, topotests::frr::Frr)>,
}

/// The kernel side of a leaf: the VTEP address (IPv4 or IPv6) on `lo`,
/// br100 with vx100 (VNI 100, local `vtep`, learning off) and the host
/// port `host`.
pub fn vxlan(leaf: &Node, vtep: &str, svi: &str, host: &str) {
    let len = if vtep.contains(':') { 128 } else { 32 };
    leaf.add_addr("lo", &format!("{vtep}/{len}"));
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

pub fn host(lab: &Lab, name: &str, leaf: &Node, mac: &str, ip: &str) -> Node {
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

fn spine_conf(with_frr: bool, gr: bool) -> String {
    let extra = if gr {
        "graceful_restart = true\nrestart_time = 90"
    } else {
        ""
    };
    let mut c = ours_head(65000, "192.0.2.2", extra);
    let leaves: &[&str] = if with_frr {
        &["192.0.2.1", "192.0.2.5", "192.0.2.9"]
    } else {
        &["192.0.2.1", "192.0.2.5"]
    };
    for leaf in leaves {
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

/// FRR as leaf3: iBGP to the spine, its VTEP announced, every local VNI
/// advertised; with `gr`, Graceful Restart (RFC 4724) on.
pub fn frr_leaf(gr: bool) -> String {
    let gr = if gr {
        " bgp graceful-restart\n bgp graceful-restart preserve-fw-state\n"
    } else {
        ""
    };
    format!("{FRR_LEAF_HEAD}{gr}{FRR_LEAF_REST}")
}

const FRR_LEAF_HEAD: &str = "\
hostname leaf3
log stdout informational
router bgp 65000
 bgp router-id 192.0.2.9
";

const FRR_LEAF_REST: &str = "\
 neighbor 192.0.2.10 remote-as 65000
 address-family ipv4 unicast
  network 203.0.113.3/32
 exit-address-family
 address-family l2vpn evpn
  neighbor 192.0.2.10 activate
  advertise-all-vni
 exit-address-family
";

/// Builds the lab and starts every daemon; `evpn` is each leaf's `[evpn]`
/// section; with `with_frr`, FRR is a third leaf.
pub fn leaves(test: &str, evpn: &str, with_frr: bool) -> Leaves {
    leaves_gr(test, evpn, with_frr, false)
}

/// [`leaves`], with Graceful Restart on the spine and FRR when `gr`.
pub fn leaves_gr(test: &str, evpn: &str, with_frr: bool, gr: bool) -> Leaves {
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
    let frr = with_frr.then(|| {
        let leaf3 = lab.node("leaf3");
        lab.link(&leaf3, "eth0", &spine, "eth2");
        leaf3.add_addr("eth0", "192.0.2.9/30");
        spine.add_addr("eth2", "192.0.2.10/30");
        let h3 = host(&lab, "h3", &leaf3, H3_MAC, "198.51.100.3");
        vxlan(&leaf3, "203.0.113.3", "198.51.100.252", "h3");
        let f = topotests::frr::start(&leaf3, "bgpd", &frr_leaf(gr));
        (leaf3, h3, f)
    });
    start_ours(&spine, &spine_conf(with_frr, gr));
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
    if with_frr {
        wait_established(&spine, "192.0.2.9");
    }
    Leaves {
        lab,
        leaf1,
        leaf2,
        spine,
        h1,
        h2,
        frr,
    }
}

/// vx100's FDB (see `topotests::vxlan::fdb`).
pub fn fdb(leaf: &Node) -> BTreeSet<String> {
    topotests::vxlan::fdb(leaf, "vx100")
}

/// zebrad's neighbor entries on br100.
pub fn neighs(leaf: &Node) -> BTreeSet<String> {
    topotests::vxlan::zebra_neighbors(leaf, "br100")
}

pub fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// What vx100's FDB holds for a remote VTEP and the MACs behind it.
pub fn expected_fdb(vtep: &str, macs: &[&str]) -> BTreeSet<String> {
    topotests::vxlan::expected_fdb(vtep, macs, "br100")
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

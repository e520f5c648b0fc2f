//! BGP neighbors on IPv6 link-local addresses (`interface = "eth0"`), end
//! to end with FRR 8.4 (`neighbor fe80::X interface eth0`) and BIRD 2
//! (`neighbor fe80::X%eth0`), on a link that has only the kernel's
//! link-local addresses. IPv6 routes and IPv4 routes (RFC 8950 extended
//! next hop) cross both ways and land in our kernel `via fe80::X dev eth0`
//! and `via inet6 fe80::X dev eth0`; the peer's routes go when its session
//! drops.
//!
//! With FRR the peer is passive, so our dial (scope id of eth0) makes the
//! session; with BIRD we are passive, so the listener must take BIRD's
//! connection from fe80::X on eth0 as the neighbor's.
//!
//! Two parallel links to one BIRD, one link-local neighbor on each, give
//! multipath routes whose legs are each on their own link (`via fe80::A
//! dev eth0` and `via fe80::B dev eth1`): the interface travels with the
//! next hop instead of being guessed from a connected fe80::/64.
//!
//! A fourth test gives a node on another of our links the neighbor's
//! link-local address: its connection is refused, the neighbor's is
//! taken.
//!
//! Topology: r1 (ours) eth0 fe80::/64 only, lo 203.0.113.1/32 and
//! 2001:db8:ff::1/128 -- r2 (FRR or BIRD) eth0 fe80::/64 only, lo
//! 198.51.100.2/32 and 2001:db8:ff::2/128.

mod bgp_util;

use bgp_util::*;
use serde_json::Value;
use topotests::{try_wait_until, Lab, Node, Proc, Signal};

const OURS_LO4: &str = "203.0.113.1/32";
const OURS_LO6: &str = "2001:db8:ff::1/128";
const PEER_LO4: &str = "198.51.100.2/32";
const PEER_LO6: &str = "2001:db8:ff::2/128";

/// Two nodes joined by a veth with link-local addresses only; returns
/// their link-local addresses once DAD has finished.
fn ll_pair(test: &str) -> (Lab, Node, Node, String, String) {
    let lab = Lab::new(test);
    let r1 = lab.node("r1");
    let r2 = lab.node("r2");
    lab.link(&r1, "eth0", &r2, "eth0");
    r1.add_addr("lo", OURS_LO4);
    r1.add_addr("lo", OURS_LO6);
    r2.add_addr("lo", PEER_LO4);
    r2.add_addr("lo", PEER_LO6);
    let l1 = wait_link_local(&r1, "eth0");
    let l2 = wait_link_local(&r2, "eth0");
    (lab, r1, r2, l1, l2)
}

/// `node`'s link-local address on `ifname` once it is no longer tentative.
fn wait_link_local(node: &Node, ifname: &str) -> String {
    let mut last = String::new();
    let ll = || {
        let out = node
            .exec(&["ip", "-j", "-6", "addr", "show", "dev", ifname])
            .unwrap_or_default();
        let v: Vec<Value> = serde_json::from_str(&out).unwrap_or_default();
        v.iter()
            .filter_map(|i| i["addr_info"].as_array())
            .flatten()
            .filter(|a| a["scope"] == "link" && a["tentative"].is_null())
            .find_map(|a| a["local"].as_str().map(str::to_string))
    };
    let r = try_wait_until(T, &format!("{}'s link-local address", node.name()), || {
        last = ll().unwrap_or_default();
        last.starts_with("fe80")
    });
    if let Err(e) = r {
        panic!(
            "{e}: {}",
            node.exec(&["ip", "-6", "addr"]).unwrap_or_default()
        );
    }
    last
}

fn ours_conf(peer_ll: &str, remote_as: u32, passive: bool, networks: &[&str]) -> String {
    let nets: Vec<String> = networks.iter().map(|n| format!("\"{n}\"")).collect();
    format!(
        r#"{}
[[neighbor]]
address = "{peer_ll}"
interface = "eth0"
remote_as = {remote_as}
passive = {passive}
families = ["ipv4-unicast", "ipv6-unicast"]
extended_nexthop = true
import = "ALL"
export = "ALL"
"#,
        ours_head(
            65000,
            "192.0.2.1",
            &format!("networks = [{}]", nets.join(", "))
        )
    )
}

/// Waits until our kernel has `prefix` (proto bgp) through `gw` on eth0;
/// an IPv4 prefix `via inet6`.
fn wait_kernel_ll(node: &Node, prefix: &str, gw: &str) {
    let mut last = None;
    let r = try_wait_until(
        T,
        &format!("{prefix} via {gw} dev eth0 in {}'s kernel", node.name()),
        || {
            last = kernel_bgp(node, prefix);
            last.as_ref().is_some_and(|r| {
                let via = if prefix.contains(':') {
                    r["gateway"].as_str()
                } else {
                    (r["via"]["family"] == "inet6")
                        .then(|| r["via"]["host"].as_str())
                        .flatten()
                };
                via == Some(gw) && r["dev"] == "eth0"
            })
        },
    );
    if let Err(e) = r {
        panic!(
            "{e}; last: {last:?}; all: {}{}",
            node.exec(&["ip", "-4", "route"]).unwrap_or_default(),
            node.exec(&["ip", "-6", "route"]).unwrap_or_default()
        );
    }
}

/// Our side once the session is up: the neighbor shows its interface, the
/// peer's loopbacks are in our RIB with its link-local next hop and in
/// our kernel through it on eth0.
fn check_ours(r1: &Node, peer_ll: &str) {
    wait_established(r1, peer_ll);
    let n = neighbor(r1, peer_ll);
    assert_eq!(n["interface"], "eth0", "{n:#}");
    assert_eq!(
        n["extendedNexthopInfo"]["families"],
        serde_json::json!(["ipv4-unicast"]),
        "{n:#}"
    );
    let text = vtysh(r1, &format!("show bgp neighbors {peer_ll}")).unwrap_or_default();
    assert!(text.contains("Interface: eth0"), "{text}");
    for p in [PEER_LO6, PEER_LO4] {
        // The peer's link-local address is in the next hop (BIRD puts ::
        // in the global field, FRR its link-local address).
        let b = wait_best(r1, p);
        let ips: Vec<&str> = b["nexthops"]
            .as_array()
            .map(|a| a.iter().filter_map(|n| n["ip"].as_str()).collect())
            .unwrap_or_default();
        assert!(ips.contains(&peer_ll), "{b:#}");
        wait_kernel_ll(r1, p, peer_ll);
    }
}

/// Withdraw ours by reloading bgpd without the networks.
fn withdraw_ours(r1: &Node, b: &Proc, peer_ll: &str, remote_as: u32, passive: bool) {
    r1.write_file("bgpd.toml", &ours_conf(peer_ll, remote_as, passive, &[]));
    b.signal(Signal::SIGHUP);
}

fn frr_conf(our_ll: &str) -> String {
    format!(
        r#"hostname frr
log stdout informational
!
route-map ALL permit 10
!
router bgp 64502
 bgp router-id 198.51.100.2
 no bgp default ipv4-unicast
 no bgp network import-check
 neighbor {our_ll} remote-as 65000
 neighbor {our_ll} interface eth0
 neighbor {our_ll} passive
 neighbor {our_ll} capability extended-nexthop
 neighbor {our_ll} timers 10 30
 !
 address-family ipv4 unicast
  network {PEER_LO4}
  neighbor {our_ll} activate
  neighbor {our_ll} route-map ALL in
  neighbor {our_ll} route-map ALL out
 exit-address-family
 address-family ipv6 unicast
  network {PEER_LO6}
  neighbor {our_ll} activate
  neighbor {our_ll} route-map ALL in
  neighbor {our_ll} route-map ALL out
 exit-address-family
!
"#
    )
}

/// Our IPv4 and IPv6 loopbacks in `peer`'s kernel via our link-local
/// address (IPv4 as `via inet6`, RFC 8950).
fn wait_our_loopbacks_via(peer: &Node, our_ll: &str, who: &str) {
    let ok = try_wait_until(T, &format!("our loopbacks in {who}'s kernel"), || {
        let v4 = peer
            .exec(&["ip", "-4", "route", "show", OURS_LO4])
            .unwrap_or_default();
        let v6 = peer
            .exec(&["ip", "-6", "route", "show", OURS_LO6])
            .unwrap_or_default();
        v4.contains(&format!("via inet6 {our_ll} dev eth0")) && v6.contains(our_ll)
    });
    assert!(
        ok.is_ok(),
        "{ok:?}: {}{}",
        peer.exec(&["ip", "-4", "route"]).unwrap_or_default(),
        peer.exec(&["ip", "-6", "route"]).unwrap_or_default()
    );
}

#[test]
fn bgp_link_local_frr() {
    if !can_run(&["/usr/lib/frr/bgpd", "/usr/lib/frr/zebra", "vtysh"]) {
        return;
    }
    let (_lab, r1, r2, our_ll, peer_ll) = ll_pair("bgp_ll_frr");
    let (_z, b) = start_ours(
        &r1,
        &ours_conf(&peer_ll, 64502, false, &[OURS_LO4, OURS_LO6]),
    );
    let frr = start_frr(&r2, &frr_conf(&our_ll));
    frr.wait_established(&our_ll);
    check_ours(&r1, &peer_ll);

    // Ours -> FRR: both loopbacks valid there, through our link-local
    // address (RFC 2545 §3), and in FRR's kernel.
    for p in [OURS_LO6, OURS_LO4] {
        let mut fp = Vec::new();
        let ok = try_wait_until(T, &format!("{p} valid in FRR"), || {
            fp = frr.paths(p);
            fp.first().is_some_and(|f| f["valid"] == true)
        });
        assert!(
            ok.is_ok(),
            "{ok:?}: {fp:?} {}",
            frr.vtysh(&[&format!("show bgp neighbors {our_ll}")])
        );
        let ips: Vec<&str> = fp[0]["nexthops"]
            .as_array()
            .map(|a| a.iter().filter_map(|n| n["ip"].as_str()).collect())
            .unwrap_or_default();
        assert!(ips.contains(&our_ll.as_str()), "{fp:?}");
    }
    wait_our_loopbacks_via(&r2, &our_ll, "FRR");

    // We withdraw: gone from FRR.
    withdraw_ours(&r1, &b, &peer_ll, 64502, false);
    let ok = try_wait_until(T, "our loopbacks gone from FRR", || {
        frr.paths(OURS_LO4).is_empty() && frr.paths(OURS_LO6).is_empty()
    });
    assert!(ok.is_ok(), "{ok:?}");

    // FRR shuts the session down: its routes leave our kernel.
    let out = frr.vtysh(&[
        "configure terminal",
        "router bgp 64502",
        &format!("neighbor {our_ll} shutdown"),
    ]);
    assert!(!out.contains('%'), "FRR vtysh: {out}");
    wait_not_established(&r1, &peer_ll, T);
    wait_kernel_gone(&r1, PEER_LO4, T);
    wait_kernel_gone(&r1, PEER_LO6, T);
    assert!(paths(&r1, PEER_LO6).is_empty());
    b.assert_running();
}

fn bird_conf(our_ll: &str) -> String {
    format!(
        r#"router id 198.51.100.2;
log stderr all;
protocol device {{ }}
protocol static s4 {{
  ipv4;
  route {PEER_LO4} via "lo";
}}
protocol static s6 {{
  ipv6;
  route {PEER_LO6} via "lo";
}}
protocol kernel k4 {{
  ipv4 {{ import none; export where source = RTS_BGP; }};
}}
protocol kernel k6 {{
  ipv6 {{ import none; export where source = RTS_BGP; }};
}}
protocol bgp peer1 {{
  local as 64503;
  neighbor {our_ll}%eth0 as 65000;
  connect retry time 1;
  error wait time 1, 2;
  ipv4 {{ extended next hop on; import all; export where source = RTS_STATIC; }};
  ipv6 {{ import all; export where source = RTS_STATIC; }};
}}
"#
    )
}

#[test]
fn bgp_link_local_bird() {
    if !can_run(&["bird", "birdc"]) {
        return;
    }
    let (_lab, r1, r2, our_ll, peer_ll) = ll_pair("bgp_ll_bird");
    // Passive: BIRD's connection must be matched to the neighbor by its
    // address and the interface it arrived on.
    let (_z, b) = start_ours(
        &r1,
        &ours_conf(&peer_ll, 64503, true, &[OURS_LO4, OURS_LO6]),
    );
    let bird = start_bird(&r2, &bird_conf(&our_ll));
    bird.wait_established("peer1");
    check_ours(&r1, &peer_ll);

    // Ours -> BIRD, with our link-local next hop, and into its kernel.
    for p in [OURS_LO6, OURS_LO4] {
        let r = bird.wait_route(p);
        assert!(r.contains(&our_ll), "{r}");
    }
    wait_our_loopbacks_via(&r2, &our_ll, "BIRD");

    // We withdraw: gone from BIRD.
    withdraw_ours(&r1, &b, &peer_ll, 64503, true);
    let ok = try_wait_until(T, "our loopbacks gone from BIRD", || {
        !bird.has_route(OURS_LO4) && !bird.has_route(OURS_LO6)
    });
    assert!(ok.is_ok(), "{ok:?}: {}", bird.route(OURS_LO6));

    // BIRD's session goes down: its routes leave our kernel.
    bird.cmd("disable peer1");
    wait_not_established(&r1, &peer_ll, T);
    wait_kernel_gone(&r1, PEER_LO4, T);
    wait_kernel_gone(&r1, PEER_LO6, T);
    b.assert_running();
}

#[test]
fn bgp_link_local_same_address_on_another_interface_is_refused() {
    if !can_run(&["bird", "birdc"]) {
        return;
    }
    let (lab, r1, r2, our_ll, peer_ll) = ll_pair("bgp_ll_other_if");
    // r3, on our eth1, takes the neighbor's link-local address (which is
    // the neighbor's on eth0 only) and dials us from it.
    let r3 = lab.node("r3");
    lab.link(&r1, "eth1", &r3, "eth0");
    let our_ll_eth1 = wait_link_local(&r1, "eth1");
    r3.add_addr("eth0", &format!("{peer_ll}/64"));
    let (_z, b) = start_ours(&r1, &ours_conf(&peer_ll, 64503, true, &[OURS_LO6]));
    let impostor = bird_conf(&our_ll_eth1).replace(
        "  local as 64503;\n",
        &format!("  local {peer_ll} as 64503;\n"),
    );
    let bird3 = start_bird(&r3, &impostor);
    let refused = "connection from the neighbor's address on another interface closed";
    let ok = try_wait_until(T, "r3's connection refused", || b.log().contains(refused));
    assert!(ok.is_ok(), "{ok:?}: {}", b.log());
    assert_ne!(state(&r1, &peer_ll), "Established");
    assert!(!bird3.cmd("show protocols peer1").contains("Established"));

    // The neighbor itself, on eth0, is taken.
    let bird2 = start_bird(&r2, &bird_conf(&our_ll));
    bird2.wait_established("peer1");
    wait_established(&r1, &peer_ll);
    wait_kernel_ll(&r1, PEER_LO6, &peer_ll);
    assert!(!bird3.cmd("show protocols peer1").contains("Established"));
    b.assert_running();
}

/// The (gateway, device) legs of a kernel route, single or multipath, IPv6
/// gateway or IPv4 `via inet6`.
fn legs(r: &Value) -> Vec<(String, String)> {
    let leg = |n: &Value| {
        let gw = n["gateway"]
            .as_str()
            .or_else(|| n["via"]["host"].as_str())
            .unwrap_or_default();
        (
            gw.to_string(),
            n["dev"].as_str().unwrap_or_default().to_string(),
        )
    };
    let mut v: Vec<(String, String)> = match r["nexthops"].as_array() {
        Some(a) => a.iter().map(leg).collect(),
        None => vec![leg(r)],
    };
    v.sort();
    v
}

#[test]
fn bgp_link_local_two_links_multipath() {
    if !can_run(&["bird", "birdc"]) {
        return;
    }
    let (lab, r1, r2, our_a, peer_a) = ll_pair("bgp_ll_two_links");
    lab.link(&r1, "eth1", &r2, "eth1");
    let our_b = wait_link_local(&r1, "eth1");
    let peer_b = wait_link_local(&r2, "eth1");
    let neighbor_b = format!(
        r#"
[[neighbor]]
address = "{peer_b}"
interface = "eth1"
remote_as = 64503
families = ["ipv4-unicast", "ipv6-unicast"]
extended_nexthop = true
import = "ALL"
export = "ALL"
"#
    );
    let conf = ours_conf(&peer_a, 64503, false, &[]).replace(
        "connect_retry = 1\n",
        "connect_retry = 1\nmultipath_ebgp = 2\n",
    ) + &neighbor_b;
    let (_z, b) = start_ours(&r1, &conf);
    let bird_b = format!(
        r#"protocol bgp peer2 {{
  local as 64503;
  neighbor {our_b}%eth1 as 65000;
  connect retry time 1;
  error wait time 1, 2;
  ipv4 {{ extended next hop on; import all; export where source = RTS_STATIC; }};
  ipv6 {{ import all; export where source = RTS_STATIC; }};
}}
"#
    );
    let bird = start_bird(&r2, &(bird_conf(&our_a) + &bird_b));
    bird.wait_established("peer1");
    bird.wait_established("peer2");
    wait_established(&r1, &peer_a);
    wait_established(&r1, &peer_b);
    let mut want = vec![
        (peer_a.clone(), "eth0".to_string()),
        (peer_b.clone(), "eth1".to_string()),
    ];
    want.sort();
    for p in [PEER_LO6, PEER_LO4] {
        let mut last = None;
        let ok = try_wait_until(T, &format!("{p} over both links"), || {
            last = kernel_bgp(&r1, p);
            last.as_ref().is_some_and(|r| legs(r) == want)
        });
        assert!(
            ok.is_ok(),
            "{ok:?}: {last:?}; {}{}",
            r1.exec(&["ip", "-4", "route"]).unwrap_or_default(),
            r1.exec(&["ip", "-6", "route"]).unwrap_or_default()
        );
    }

    // One link's session goes: its leg goes, the other stays.
    bird.cmd("disable peer2");
    wait_not_established(&r1, &peer_b, T);
    let want_a = vec![(peer_a.clone(), "eth0".to_string())];
    for p in [PEER_LO6, PEER_LO4] {
        let mut last = None;
        let ok = try_wait_until(T, &format!("{p} over eth0 only"), || {
            last = kernel_bgp(&r1, p);
            last.as_ref().is_some_and(|r| legs(r) == want_a)
        });
        assert!(ok.is_ok(), "{ok:?}: {last:?}");
    }
    b.assert_running();
}

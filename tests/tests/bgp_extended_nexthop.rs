//! Extended next hop (RFC 8950) end to end: IPv4 routes over an IPv6-only
//! link between our bgpd (with our zebrad) and FRR 8.4 (`neighbor X
//! capability extended-nexthop`), and between ours and BIRD 2 (`ipv4 {
//! extended next hop on; }`). Each side announces its loopback /32; both
//! kernels get the other's as `via inet6 ...`, a ping between the
//! loopbacks passes, and withdrawals remove the routes.
//!
//! Topology: r1 (ours) eth0 2001:db8:1::1/64, lo 203.0.113.1/32 -- r2 (FRR
//! or BIRD) eth0 2001:db8:1::2/64, lo 198.51.100.2/32. No IPv4 address on
//! the link.

mod bgp_util;

use std::time::Duration;

use bgp_util::*;
use serde_json::Value;
use topotests::{try_wait_until, Lab, Node, Signal};

const OURS_LO: &str = "203.0.113.1/32";
const PEER_LO: &str = "198.51.100.2/32";
const OURS_V6: &str = "2001:db8:1::1";
const PEER_V6: &str = "2001:db8:1::2";

/// Two nodes joined by an IPv6-only veth, each with an IPv4 loopback /32.
fn v6_only_pair(test: &str) -> (Lab, Node, Node) {
    let lab = Lab::new(test);
    let r1 = lab.node("r1");
    let r2 = lab.node("r2");
    lab.link(&r1, "eth0", &r2, "eth0");
    r1.add_addr("eth0", &format!("{OURS_V6}/64"));
    r2.add_addr("eth0", &format!("{PEER_V6}/64"));
    r1.add_addr("lo", OURS_LO);
    r2.add_addr("lo", PEER_LO);
    (lab, r1, r2)
}

/// Our bgpd: AS 65000, `networks` originated, the peer over IPv6 with IPv4
/// unicast and the Extended Next Hop capability.
fn ours_conf(remote_as: u32, networks: &[&str]) -> String {
    let nets: Vec<String> = networks.iter().map(|n| format!("\"{n}\"")).collect();
    format!(
        r#"{}
[[neighbor]]
address = "{PEER_V6}"
remote_as = {remote_as}
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

/// The kernel's BGP route to `prefix` (an IPv4 /32), if any, from `ip -j`.
fn kernel_route(node: &Node, prefix: &str, proto: Option<&str>) -> Option<Value> {
    let bare = prefix.strip_suffix("/32").unwrap_or(prefix);
    let mut args = vec!["ip", "-j", "-4", "route", "show", "table", "254"];
    if let Some(p) = proto {
        args.extend(["proto", p]);
    }
    let out = node.exec(&args).unwrap_or_default();
    let v: Vec<Value> = serde_json::from_str(&out).unwrap_or_default();
    v.into_iter().find(|r| r["dst"].as_str() == Some(bare))
}

/// Whether `r` goes `via inet6 <gw>` (iproute2's JSON: `"via": {"family":
/// "inet6", "host": ...}`).
fn via_inet6(r: &Value) -> Option<String> {
    (r["via"]["family"] == "inet6")
        .then(|| r["via"]["host"].as_str().map(str::to_string))
        .flatten()
}

/// Waits until `node`'s kernel holds `prefix` via an IPv6 gateway (of the
/// given protocol when `proto` is set); returns the gateway.
fn wait_kernel_via_v6(node: &Node, prefix: &str, proto: Option<&str>) -> String {
    let mut last = None;
    let r = try_wait_until(
        T,
        &format!("{prefix} via inet6 in {}'s kernel", node.name()),
        || {
            last = kernel_route(node, prefix, proto);
            last.as_ref().and_then(via_inet6).is_some()
        },
    );
    if let Err(e) = r {
        panic!(
            "{e}; last: {last:?}; all: {}",
            node.exec(&["ip", "-4", "route"]).unwrap_or_default()
        );
    }
    last.as_ref().and_then(via_inet6).unwrap_or_default()
}

fn wait_kernel_route_gone(node: &Node, prefix: &str, proto: Option<&str>) {
    let mut last = None;
    let r = try_wait_until(T, &format!("{prefix} gone from {}", node.name()), || {
        last = kernel_route(node, prefix, proto);
        last.is_none()
    });
    if let Err(e) = r {
        panic!("{e}; still there: {last:?}");
    }
}

/// Pings `to` from `from` with our loopback as the source: IPv4 packets
/// that cross the IPv6-only link both ways.
fn assert_ping(node: &Node, from: &str, to: &str) {
    let mut last = String::new();
    let r = try_wait_until(T, &format!("ping {to} from {from}"), || {
        match node.exec_timeout(
            &["ping", "-c", "1", "-W", "1", "-I", from, to],
            Duration::from_secs(5),
        ) {
            Ok(out) => {
                last = out;
                true
            }
            Err(e) => {
                last = format!("{e}");
                false
            }
        }
    });
    if let Err(e) = r {
        panic!("{e}; last: {last}");
    }
}

/// Our side's checks once the session is up: the capability negotiated,
/// the peer's loopback learned with its IPv6 next hop and in the kernel
/// via inet6.
fn check_ours(r1: &Node) {
    wait_established(r1, PEER_V6);
    let n = neighbor(r1, PEER_V6);
    let e = &n["extendedNexthopInfo"];
    assert_eq!(e["advertised"], true, "{n:#}");
    assert_eq!(e["received"], true, "{n:#}");
    assert_eq!(e["families"], serde_json::json!(["ipv4-unicast"]), "{n:#}");
    let p = wait_best(r1, PEER_LO);
    assert_eq!(nexthop(&p), PEER_V6, "{p:#}");
    let gw = wait_kernel_via_v6(r1, PEER_LO, Some("186"));
    assert_eq!(gw, PEER_V6);
    // Text output names it too.
    let text = vtysh(r1, &format!("show bgp neighbors {PEER_V6}")).unwrap_or_default();
    assert!(
        text.contains("Extended nexthop: advertised and received"),
        "{text}"
    );
}

/// `node`'s link-local address on eth0 (the kernel's, from its MAC).
fn link_local(node: &Node) -> String {
    let out = node
        .exec(&["ip", "-j", "-6", "addr", "show", "dev", "eth0"])
        .unwrap_or_default();
    let v: Vec<Value> = serde_json::from_str(&out).unwrap_or_default();
    v.iter()
        .filter_map(|i| i["addr_info"].as_array())
        .flatten()
        .filter(|a| a["scope"] == "link")
        .find_map(|a| a["local"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// Waits until eth0 of `node` has its link-local address (it comes with
/// DAD, after the link is up).
fn wait_link_local(node: &Node) -> String {
    let r = try_wait_until(T, &format!("{}'s link-local address", node.name()), || {
        link_local(node).starts_with("fe80")
    });
    if let Err(e) = r {
        panic!(
            "{e}: {}",
            node.exec(&["ip", "-6", "addr"]).unwrap_or_default()
        );
    }
    link_local(node)
}

/// Withdraw ours by reloading bgpd without the network.
fn withdraw_ours(r1: &Node, b: &topotests::Proc, remote_as: u32) {
    r1.write_file("bgpd.toml", &ours_conf(remote_as, &[]));
    b.signal(Signal::SIGHUP);
}

fn frr_conf() -> String {
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
 neighbor {OURS_V6} remote-as 65000
 neighbor {OURS_V6} capability extended-nexthop
 neighbor {OURS_V6} timers connect 1
 neighbor {OURS_V6} timers 10 30
 !
 address-family ipv4 unicast
  network {PEER_LO}
  neighbor {OURS_V6} activate
  neighbor {OURS_V6} route-map ALL in
  neighbor {OURS_V6} route-map ALL out
 exit-address-family
!
"#
    )
}

#[test]
fn bgp_extended_nexthop_frr() {
    if !can_run(&["/usr/lib/frr/bgpd", "/usr/lib/frr/zebra", "vtysh", "ping"]) {
        return;
    }
    let (_lab, r1, r2) = v6_only_pair("bgp_enh_frr");
    let our_ll = wait_link_local(&r1);
    let (_z, b) = start_ours(&r1, &ours_conf(64502, &[OURS_LO]));
    let frr = start_frr(&r2, &frr_conf());
    frr.wait_established(OURS_V6);
    check_ours(&r1);

    // Ours -> FRR: an IPv4 route with our IPv6 next hop, valid there and
    // in FRR's kernel via inet6.
    let mut fp = Vec::new();
    let ok = try_wait_until(T, &format!("{OURS_LO} valid in FRR"), || {
        fp = frr.paths(OURS_LO);
        fp.first().is_some_and(|f| f["valid"] == true)
    });
    assert!(
        ok.is_ok(),
        "{ok:?}: {fp:?} {}",
        frr.vtysh(&[&format!("show bgp neighbors {OURS_V6}")])
    );
    // RFC 2545 §3: our global and link-local addresses in the next hop.
    let ips: Vec<&str> = fp[0]["nexthops"]
        .as_array()
        .map(|a| a.iter().filter_map(|n| n["ip"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ips, [OURS_V6, our_ll.as_str()], "{fp:?}");
    let nb = frr.json(&format!("show bgp neighbors {OURS_V6} json"));
    let cap = &nb[OURS_V6]["neighborCapabilities"]["extendedNexthop"];
    assert_eq!(cap, "advertisedAndReceived", "{nb:#}");
    wait_kernel_via_v6(&r2, OURS_LO, None);

    // Traffic between the loopbacks crosses the IPv6-only link.
    assert_ping(&r1, "203.0.113.1", "198.51.100.2");

    // FRR withdraws (MP_UNREACH_NLRI): gone from our RIB and kernel.
    let out = frr.vtysh(&[
        "configure terminal",
        "router bgp 64502",
        "address-family ipv4 unicast",
        &format!("no network {PEER_LO}"),
    ]);
    assert!(!out.contains('%'), "FRR vtysh: {out}");
    wait_kernel_route_gone(&r1, PEER_LO, Some("186"));
    assert!(paths(&r1, PEER_LO).is_empty());

    // We withdraw: gone from FRR and its kernel.
    withdraw_ours(&r1, &b, 64502);
    let ok = try_wait_until(T, &format!("{OURS_LO} gone from FRR"), || {
        frr.paths(OURS_LO).is_empty()
    });
    assert!(ok.is_ok(), "{ok:?}");
    wait_kernel_route_gone(&r2, OURS_LO, None);
    assert_eq!(state(&r1, PEER_V6), "Established");
    b.assert_running();
}

fn bird_conf() -> String {
    format!(
        r#"router id 198.51.100.2;
log stderr all;
protocol device {{ }}
protocol direct {{ ipv6; }}
protocol static s1 {{
  ipv4;
  route {PEER_LO} via "lo";
}}
protocol kernel k4 {{
  ipv4 {{ import none; export where source = RTS_BGP; }};
}}
protocol bgp peer1 {{
  local {PEER_V6} as 64503;
  neighbor {OURS_V6} as 65000;
  connect retry time 1;
  error wait time 1, 2;
  ipv4 {{ extended next hop on; import all; export where source = RTS_STATIC; }};
  ipv6 {{ import none; export none; }};
}}
"#
    )
}

#[test]
fn bgp_extended_nexthop_bird() {
    if !can_run(&["bird", "birdc", "ping"]) {
        return;
    }
    let (_lab, r1, r2) = v6_only_pair("bgp_enh_bird");
    let our_ll = wait_link_local(&r1);
    let (_z, b) = start_ours(&r1, &ours_conf(64503, &[OURS_LO]));
    let bird = start_bird(&r2, &bird_conf());
    bird.wait_established("peer1");
    check_ours(&r1);

    // Ours -> BIRD, and into its kernel via inet6.
    let r = bird.wait_route(OURS_LO);
    assert!(
        r.contains(&format!("BGP.next_hop: {OURS_V6} {our_ll}")),
        "{r}"
    );
    // BIRD forwards to the link-local address on a direct eBGP session.
    let gw = wait_kernel_via_v6(&r2, OURS_LO, None);
    assert!(gw == OURS_V6 || gw == our_ll, "{gw}");

    assert_ping(&r1, "203.0.113.1", "198.51.100.2");

    // BIRD withdraws (the static route goes).
    let conf = bird_conf().replace(&format!("  route {PEER_LO} via \"lo\";\n"), "");
    bird.reconfigure(&conf);
    wait_kernel_route_gone(&r1, PEER_LO, Some("186"));
    assert!(paths(&r1, PEER_LO).is_empty());

    // We withdraw.
    withdraw_ours(&r1, &b, 64503);
    let ok = try_wait_until(T, &format!("{OURS_LO} gone from BIRD"), || {
        !bird.has_route(OURS_LO)
    });
    assert!(ok.is_ok(), "{ok:?}: {}", bird.route(OURS_LO));
    wait_kernel_route_gone(&r2, OURS_LO, None);
    assert_eq!(state(&r1, PEER_V6), "Established");
    b.assert_running();
}

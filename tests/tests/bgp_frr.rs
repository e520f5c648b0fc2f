//! Our bgpd (with our zebrad) against FRR 8.4 (zebra + bgpd): eBGP over
//! IPv4 and IPv6, attributes both ways, routes in and out of the kernel,
//! withdraw by `no network`, and the session dropping when FRR dies.
//!
//! Topology (bgp_util::pair): r1 (ours) eth0 192.0.2.1/30, 2001:db8:1::1/64
//! -- r2 (FRR) eth0 192.0.2.2/30, 2001:db8:1::2/64.

mod bgp_util;

use std::time::{Duration, Instant};

use bgp_util::*;

/// FRR's bgpd.conf: AS 64502 toward `neighbor` (AS 65000), `networks`
/// originated with MED 42, community 64502:7, large community 64502:1:2 and
/// a prepended 64510.
fn frr_conf(neighbor: &str, networks: &[&str]) -> String {
    let v6 = neighbor.contains(':');
    let af = if v6 { "ipv6" } else { "ipv4" };
    let nets: String = networks
        .iter()
        .map(|n| format!("  network {n} route-map SETATTR\n"))
        .collect();
    let activate = if v6 {
        format!("  neighbor {neighbor} activate\n")
    } else {
        String::new()
    };
    format!(
        r#"hostname frr
log stdout informational
!
route-map SETATTR permit 10
 set metric 42
 set community 64502:7 additive
 set large-community 64502:1:2 additive
 set as-path prepend 64510
!
route-map ALL permit 10
!
router bgp 64502
 bgp router-id 192.0.2.2
 no bgp default ipv4-unicast
 no bgp network import-check
 neighbor {neighbor} remote-as 65000
 neighbor {neighbor} timers connect 1
 neighbor {neighbor} timers 10 30
 !
 address-family {af} unicast
{nets}  neighbor {neighbor} activate
{activate}  neighbor {neighbor} route-map ALL in
  neighbor {neighbor} route-map ALL out
 exit-address-family
!
"#
    )
}

fn ours_conf(neighbor: &str, networks: &[&str]) -> String {
    let nets: Vec<String> = networks.iter().map(|n| format!("\"{n}\"")).collect();
    format!(
        r#"{}
[[route_map]]
name = "OUT"
entries = [ {{ seq = 10, action = "permit", set = {{ med = 77, community = ["65000:77"], community_additive = true }} }} ]

[[neighbor]]
address = "{neighbor}"
remote_as = 64502
import = "ALL"
export = "OUT"
"#,
        ours_head(
            65000,
            "192.0.2.1",
            &format!("networks = [{}]", nets.join(", "))
        )
    )
}

fn frr_strings(v: &serde_json::Value, key: &str) -> String {
    v[key]["string"].as_str().unwrap_or("").to_string()
}

fn run(test: &str, v6: bool) {
    if !can_run(&["/usr/lib/frr/bgpd", "/usr/lib/frr/zebra", "vtysh"]) {
        return;
    }
    let (_lab, r1, r2) = pair(test);
    let (frr_peer, our_peer) = if v6 {
        ("2001:db8:1::1", "2001:db8:1::2")
    } else {
        ("192.0.2.1", "192.0.2.2")
    };
    let (theirs, theirs2, ours) = if v6 {
        (
            "2001:db8:aaaa::/48",
            "2001:db8:aaab::/48",
            "2001:db8:bbbb::/48",
        )
    } else {
        ("198.51.100.0/25", "198.51.100.128/25", "203.0.113.0/25")
    };
    let (_z, b) = start_ours(&r1, &ours_conf(our_peer, &[ours]));
    let frr = start_frr(&r2, &frr_conf(frr_peer, &[theirs, theirs2]));
    wait_established(&r1, our_peer);
    frr.wait_established(frr_peer);

    // FRR -> ours.
    let p = wait_best(&r1, theirs);
    assert_attrs(&p, &[64502, 64510], Some(42), &["64502:7"], &["64502:1:2"]);
    assert_eq!(nexthop(&p), our_peer, "{p:#}");
    let k = wait_kernel(&r1, theirs, our_peer);
    assert_eq!(k["metric"].as_u64(), Some(METRIC), "{k}");
    wait_kernel(&r1, theirs2, our_peer);

    // ours -> FRR.
    let mut fp = Vec::new();
    let ok = topotests::try_wait_until(T, &format!("{ours} in FRR"), || {
        fp = frr.paths(ours);
        !fp.is_empty()
    });
    assert!(ok.is_ok(), "{ok:?}: {}", frr.vtysh(&["show bgp summary"]));
    let f = &fp[0];
    assert_eq!(frr_strings(f, "aspath"), "65000", "{f:#}");
    assert_eq!(f["metric"].as_u64(), Some(77), "{f:#}");
    assert_eq!(frr_strings(f, "community"), "65000:77", "{f:#}");
    let nh = f["nexthops"][0]["ip"].as_str().unwrap_or("");
    assert_eq!(nh, frr_peer, "{f:#}");
    assert_eq!(f["valid"], true, "{f:#}");

    // Withdrawn on FRR's side.
    let af = if v6 { "ipv6" } else { "ipv4" };
    let out = frr.vtysh(&[
        "configure terminal",
        "router bgp 64502",
        &format!("address-family {af} unicast"),
        &format!("no network {theirs} route-map SETATTR"),
    ]);
    assert!(!out.contains('%'), "FRR vtysh: {out}");
    wait_kernel_gone(&r1, theirs, T);
    assert!(paths(&r1, theirs).is_empty());
    assert!(kernel_bgp(&r1, theirs2).is_some());
    assert_eq!(state(&r1, our_peer), "Established");

    // FRR's bgpd dies: the session drops, its routes leave at once.
    let t0 = Instant::now();
    frr.daemon.kill();
    wait_kernel_gone(&r1, theirs2, Duration::from_secs(15));
    assert!(t0.elapsed() < Duration::from_secs(15));
    wait_not_established(&r1, our_peer, Duration::from_secs(5));
    b.assert_running();
}

#[test]
fn bgp_frr_ebgp_v4() {
    run("bgp_frr_ebgp_v4", false);
}

#[test]
fn bgp_frr_ebgp_v6() {
    run("bgp_frr_ebgp_v6", true);
}

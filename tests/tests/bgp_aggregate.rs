//! Aggregation (RFC 4271 §9.2.2.2, FRR's `aggregate-address`) between FRR
//! 8.4 and BIRD 2.0.12: FRR sends two more-specifics, ours advertises the
//! aggregate to BIRD with and without summary-only (the contributors seen
//! on BIRD's side or not), with as-set (the AS_SET on BIRD's side), holds
//! it in the kernel as a blackhole, and withdraws it with its last
//! contributor. The changes go through vtysh's `aggregate-address`.
//!
//! Topology (bgp_util::trio): r2 FRR AS 64502 eth0 192.0.2.2 -- r1 (ours,
//! AS 65000) eth0 192.0.2.1, eth1 192.0.2.5 -- r3 BIRD AS 64503 192.0.2.6.

mod bgp_util;

use bgp_util::*;
use serde_json::Value;
use topotests::{try_wait_until, Node};

const AGG: &str = "198.51.100.0/24";
const C1: &str = "198.51.100.0/25";
const C2: &str = "198.51.100.128/25";

fn ours_conf() -> String {
    format!(
        r#"{}
[[aggregate]]
prefix = "{AGG}"

[[neighbor]]
address = "192.0.2.2"
remote_as = 64502
import = "ALL"
export = "ALL"
hold_time = 9

[[neighbor]]
address = "192.0.2.6"
remote_as = 64503
import = "ALL"
export = "ALL"
hold_time = 9
"#,
        ours_head(65000, "192.0.2.1", "")
    )
}

fn frr_conf() -> String {
    format!(
        r#"hostname r2
log stdout informational
!
route-map ALL permit 10
!
route-map C2 permit 10
 set community 64502:2
!
router bgp 64502
 bgp router-id 192.0.2.2
 no bgp default ipv4-unicast
 no bgp network import-check
 neighbor 192.0.2.1 remote-as 65000
 neighbor 192.0.2.1 timers connect 1
 neighbor 192.0.2.1 timers 3 9
 !
 address-family ipv4 unicast
  network {C1}
  network {C2} route-map C2
  neighbor 192.0.2.1 activate
  neighbor 192.0.2.1 route-map ALL in
  neighbor 192.0.2.1 route-map ALL out
 exit-address-family
!
"#
    )
}

const BIRD: &str = r#"router id 192.0.2.6;
protocol device { }
protocol bgp r1 {
  local 192.0.2.6 as 64503;
  neighbor 192.0.2.5 as 65000;
  connect retry time 1;
  hold time 9;
  ipv4 { import all; export none; };
}
"#;

/// Waits until BIRD's table holds (or not) the two contributors.
fn wait_contributors_at_bird(bird: &Bird, present: bool) {
    let mut last = String::new();
    let r = try_wait_until(T, &format!("contributors at BIRD: {present}"), || {
        last = bird.cmd("show route");
        [C1, C2].iter().all(|c| bird.has_route(c) == present)
    });
    if let Err(e) = r {
        panic!("{e}; {last}");
    }
}

/// Waits until BIRD's route to the aggregate satisfies `ok`; returns it.
fn wait_bird_aggregate(bird: &Bird, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let mut last = String::new();
    let r = try_wait_until(T, &format!("aggregate at BIRD: {what}"), || {
        last = bird.route(AGG);
        last.lines().any(|l| l.starts_with(AGG)) && ok(&last)
    });
    if let Err(e) = r {
        panic!("{e}; last: {last}");
    }
    last
}

/// The kernel's BGP blackhole for the aggregate (None when absent).
fn kernel_blackhole(node: &Node) -> Option<Value> {
    kernel_bgp(node, AGG).filter(|r| r["type"] == "blackhole")
}

fn configure(node: &Node, name: &str, line: &str) {
    vtysh_configure(
        node,
        name,
        &format!("configure\nrouter bgp 65000\n{line}\nend\n"),
    );
}

#[test]
fn bgp_aggregate_frr_to_bird() {
    if !can_run(&["/usr/lib/frr/bgpd", "/usr/lib/frr/zebra", "vtysh", "bird"]) {
        return;
    }
    let (_lab, r1, r2, r3) = trio("bgp_aggregate_frr_to_bird");
    let (_z, b) = start_ours(&r1, &ours_conf());
    let frr = start_frr(&r2, &frr_conf());
    let bird = start_bird(&r3, BIRD);
    wait_established(&r1, "192.0.2.2");
    wait_established(&r1, "192.0.2.6");
    bird.wait_established("r1");

    // Plain: the aggregate with ATOMIC_AGGREGATE and our AGGREGATOR, the
    // contributors too; a blackhole in our kernel.
    let a = wait_bird_aggregate(&bird, "atomic", |r| r.contains("atomic"));
    assert!(a.contains("BGP.aggregator: 192.0.2.1 AS65000"), "{a}");
    assert!(a.contains("BGP.as_path: 65000\n"), "{a}");
    wait_contributors_at_bird(&bird, true);
    let ours = wait_best(&r1, AGG);
    assert_eq!(ours["aggregate"], true, "{ours:#}");
    assert_eq!(ours["atomicAggregate"], true, "{ours:#}");
    topotests::wait_for(T, "aggregate blackhole in r1's kernel", || {
        kernel_blackhole(&r1)
    });
    let table = vtysh(&r1, "show bgp ipv4 unicast").unwrap_or_default();
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("*>a") && l.contains(AGG)),
        "{table}"
    );

    // summary-only: BIRD loses the contributors, keeps the aggregate; we
    // keep them in the Loc-RIB and the kernel.
    configure(
        &r1,
        "summary.conf",
        &format!("aggregate-address {AGG} summary-only"),
    );
    wait_contributors_at_bird(&bird, false);
    assert!(bird.has_route(AGG));
    let c = wait_best(&r1, C1);
    assert_eq!(c["suppressed"], true, "{c:#}");
    wait_kernel(&r1, C1, "192.0.2.2");
    let table = vtysh(&r1, "show bgp ipv4 unicast").unwrap_or_default();
    assert!(
        table.lines().any(|l| l.starts_with("s>") && l.contains(C1)),
        "{table}"
    );

    // as-set: the AS_SET of the contributors, their community, no
    // ATOMIC_AGGREGATE.
    configure(
        &r1,
        "asset.conf",
        &format!("aggregate-address {AGG} summary-only as-set"),
    );
    let a = wait_bird_aggregate(&bird, "AS_SET", |r| r.contains("{64502}"));
    assert!(a.contains("BGP.as_path: 65000 {64502}"), "{a}");
    assert!(!a.contains("atomic"), "{a}");
    assert!(a.contains("(64502,2)"), "{a}");
    wait_contributors_at_bird(&bird, false);

    // The last contributor goes: so does the aggregate, everywhere.
    let out = frr.vtysh(&[
        "configure terminal",
        "router bgp 64502",
        "address-family ipv4 unicast",
        &format!("no network {C1}"),
    ]);
    assert!(!out.contains('%'), "FRR: {out}");
    wait_kernel_gone(&r1, C1, T);
    assert!(bird.has_route(AGG), "one contributor left keeps it");
    let out = frr.vtysh(&[
        "configure terminal",
        "router bgp 64502",
        "address-family ipv4 unicast",
        &format!("no network {C2} route-map C2"),
    ]);
    assert!(!out.contains('%'), "FRR: {out}");
    let r = try_wait_until(T, "aggregate gone from BIRD", || !bird.has_route(AGG));
    assert!(r.is_ok(), "{r:?}: {}", bird.cmd("show route"));
    let r = try_wait_until(T, "blackhole gone", || kernel_blackhole(&r1).is_none());
    assert!(r.is_ok(), "{r:?}");
    assert!(paths(&r1, AGG).is_empty());
    b.assert_running();
}

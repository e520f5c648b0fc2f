//! Three of our own routers: r1 (AS 65001) eBGP to r2 and to r3, r2 and r3
//! iBGP in AS 65002. r3 learns each of r1's prefixes twice, directly (eBGP)
//! and through r2 (iBGP, next-hop-self), and picks by the decision process:
//!
//! - 203.0.113.0/26: r2 sets LOCAL_PREF 200 on import → via r2;
//! - 203.0.113.64/26: r1 sends MED 10 to r2 and MED 50 to r3 (same
//!   neighbor AS) → the lower MED, via r2, although eBGP beats iBGP later;
//! - 203.0.113.128/26: all equal → eBGP over iBGP, direct.
//!
//! The kernel's next hops follow; when r2's bgpd dies r3 falls back to the
//! direct paths.
//!
//! Links: r1 eth0 192.0.2.1/30 -- r2 eth0 .2; r1 eth1 192.0.2.5/30 -- r3
//! eth0 .6; r2 eth1 192.0.2.9/30 -- r3 eth1 .10.

mod bgp_util;

use bgp_util::*;
use serde_json::Value;

const A: &str = "203.0.113.0/26";
const B: &str = "203.0.113.64/26";
const C: &str = "203.0.113.128/26";

fn r1_conf() -> String {
    format!(
        r#"{}
[[prefix_list]]
name = "PB"
entries = [ {{ seq = 10, action = "permit", prefix = "{B}" }} ]

[[route_map]]
name = "TO-R2"
entries = [
  {{ seq = 10, action = "permit", match = {{ prefix_list = "PB" }}, set = {{ med = 10 }} }},
  {{ seq = 20, action = "permit" }},
]

[[route_map]]
name = "TO-R3"
entries = [
  {{ seq = 10, action = "permit", match = {{ prefix_list = "PB" }}, set = {{ med = 50 }} }},
  {{ seq = 20, action = "permit" }},
]

[[neighbor]]
address = "192.0.2.2"
remote_as = 65002
import = "ALL"
export = "TO-R2"

[[neighbor]]
address = "192.0.2.6"
remote_as = 65002
import = "ALL"
export = "TO-R3"
"#,
        ours_head(
            65001,
            "192.0.2.1",
            &format!("networks = [\"{A}\", \"{B}\", \"{C}\"]")
        )
    )
}

fn r2_conf() -> String {
    format!(
        r#"{}
[[prefix_list]]
name = "PA"
entries = [ {{ seq = 10, action = "permit", prefix = "{A}" }} ]

[[route_map]]
name = "FROM-R1"
entries = [
  {{ seq = 10, action = "permit", match = {{ prefix_list = "PA" }}, set = {{ local_pref = 200 }} }},
  {{ seq = 20, action = "permit" }},
]

[[neighbor]]
address = "192.0.2.1"
remote_as = 65001
import = "FROM-R1"
export = "ALL"

[[neighbor]]
address = "192.0.2.10"
remote_as = 65002
next_hop_self = true
"#,
        ours_head(65002, "192.0.2.2", "")
    )
}

fn r3_conf() -> String {
    format!(
        r#"{}
[[neighbor]]
address = "192.0.2.5"
remote_as = 65001
import = "ALL"
export = "ALL"

[[neighbor]]
address = "192.0.2.9"
remote_as = 65002
next_hop_self = true
"#,
        ours_head(65002, "192.0.2.6", "")
    )
}

/// Waits until r3 holds two paths for `prefix` and the best one has next
/// hop `nh`; returns (best, all paths).
fn wait_two_paths(r3: &topotests::Node, prefix: &str, nh: &str) -> (Value, Vec<Value>) {
    let mut last = Vec::new();
    let ok =
        topotests::try_wait_until(T, &format!("two paths for {prefix}, best via {nh}"), || {
            last = paths(r3, prefix);
            last.len() == 2
                && last
                    .iter()
                    .any(|p| p["bestpath"] == true && nexthop(p) == nh)
        });
    assert!(ok.is_ok(), "{ok:?}: {last:#?}");
    let best: Vec<&Value> = last.iter().filter(|p| p["bestpath"] == true).collect();
    assert_eq!(best.len(), 1, "exactly one best: {last:#?}");
    (best[0].clone(), last)
}

#[test]
fn bgp_chain_best_path_choices() {
    if !can_run(&[]) {
        return;
    }
    let lab = topotests::Lab::new("bgp_chain_best_path_choices");
    let r1 = lab.node("r1");
    let r2 = lab.node("r2");
    let r3 = lab.node("r3");
    lab.link(&r1, "eth0", &r2, "eth0");
    lab.link(&r1, "eth1", &r3, "eth0");
    lab.link(&r2, "eth1", &r3, "eth1");
    r1.add_addr("eth0", "192.0.2.1/30");
    r2.add_addr("eth0", "192.0.2.2/30");
    r1.add_addr("eth1", "192.0.2.5/30");
    r3.add_addr("eth0", "192.0.2.6/30");
    r2.add_addr("eth1", "192.0.2.9/30");
    r3.add_addr("eth1", "192.0.2.10/30");
    start_ours(&r1, &r1_conf());
    let (_z2, b2) = start_ours(&r2, &r2_conf());
    start_ours(&r3, &r3_conf());
    wait_established(&r1, "192.0.2.2");
    wait_established(&r1, "192.0.2.6");
    wait_established(&r3, "192.0.2.9");

    // LOCAL_PREF: the iBGP path through r2 (200) beats the direct one.
    let (best, all) = wait_two_paths(&r3, A, "192.0.2.9");
    assert_eq!(best["locPrf"].as_u64(), Some(200), "{all:#?}");
    assert_eq!(best["pathFrom"], "internal", "{all:#?}");
    assert_eq!(best["asPath"], serde_json::json!([65001]), "{all:#?}");
    wait_kernel(&r3, A, "192.0.2.9");

    // MED: 10 through r2 beats 50 direct (same neighbor AS).
    let (best, all) = wait_two_paths(&r3, B, "192.0.2.9");
    assert_eq!(best["metric"].as_u64(), Some(10), "{all:#?}");
    let other = all
        .iter()
        .find(|p| p["bestpath"] != true)
        .cloned()
        .unwrap_or_default();
    assert_eq!(other["metric"].as_u64(), Some(50), "{all:#?}");
    assert_eq!(nexthop(&other), "192.0.2.5", "{all:#?}");
    wait_kernel(&r3, B, "192.0.2.9");

    // Equal otherwise: eBGP over iBGP.
    let (best, all) = wait_two_paths(&r3, C, "192.0.2.5");
    assert_eq!(best["pathFrom"], "external", "{all:#?}");
    wait_kernel(&r3, C, "192.0.2.5");

    // r2 sees its own eBGP paths as best (LOCAL_PREF 200 on A).
    let p = wait_best(&r2, A);
    assert_eq!(p["locPrf"].as_u64(), Some(200), "{p:#}");
    assert_eq!(nexthop(&p), "192.0.2.1", "{p:#}");

    // r2's bgpd dies: r3 falls back to the direct paths.
    b2.kill();
    wait_kernel(&r3, A, "192.0.2.5");
    wait_kernel(&r3, B, "192.0.2.5");
    let p = wait_best(&r3, B);
    assert_eq!(p["metric"].as_u64(), Some(50), "{p:#}");
    assert_eq!(paths(&r3, A).len(), 1);
}

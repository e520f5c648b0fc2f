//! Hostile OSPF packets on a segment (RFC 2328 §8.2, D.5; tests/tests/
//! ospf_util/hostile.py sends them from a raw socket): each kind is dropped
//! by our ospfd and counted under its reason in `show ip ospf json`
//! (`droppedPackets`), while our adjacency with FRR on the same segment
//! stays Full (FRR's state-change counter for us does not move) and the
//! routes learned over it stay in the kernel. The LS Updates whose LSAs
//! are bad are spoofed from FRR's address and router ID, so they pass the
//! neighbor checks and the LSAs themselves are examined (§13 step 1).
//!
//! Topology: one LAN (switch `sw`): r1 (ours) 198.51.100.1/29, r2 (FRR)
//! 198.51.100.2/29, r3 (hostile sender) 198.51.100.3/29; loopbacks
//! 192.0.2.1/32 and 192.0.2.2/32.

#[path = "ospf_common.rs"]
mod common;

use std::time::Duration;

use common::*;
use serde_json::Value;
use topotests::{bin, try_wait_until, Node};

const T: Duration = Duration::from_secs(60);
const SENDER: &str = include_str!("ospf_util/hostile.py");
/// Copies of each packet sent; each must be counted.
const COUNT: u64 = 3;

/// (case, the drop counter it must raise).
const CASES: &[(&str, &str)] = &[
    ("bad_checksum", "bad_checksum"),
    ("bad_version", "bad_version"),
    ("area_mismatch", "area_mismatch"),
    ("auth_failure", "auth_failure"),
    ("auth_type_unknown", "auth_failure"),
    ("unknown_type", "unknown_type"),
    ("too_short", "too_short"),
    ("header_without_auth", "bad_length"),
    ("truncated", "bad_length"),
    ("absurd_length", "bad_length"),
    ("length_below_header", "bad_length"),
    ("hello_truncated_body", "bad_body"),
    // Spoofed from FRR: the LSA is set aside (§13 step 1), the packet kept.
    ("lsa_bad_checksum", "bad_lsa"),
    ("lsa_bad_body", "bad_lsa"),
    // LSA framing broken: the whole packet goes.
    ("lsa_truncated", "bad_body"),
    ("lsa_absurd_length", "bad_body"),
    ("lsa_count_overrun", "bad_lsa"),
];

fn drops(node: &Node) -> Value {
    let run = node.run_dir().to_string_lossy().into_owned();
    let out = node
        .exec_timeout(
            &[
                &bin("vtysh").to_string_lossy(),
                "--run-dir",
                &run,
                "-c",
                "show ip ospf json",
            ],
            Duration::from_secs(15),
        )
        .unwrap_or_default();
    serde_json::from_str::<Value>(&out).unwrap_or(Value::Null)["droppedPackets"].clone()
}

fn frr_neighbor(frr: &topotests::frr::Frr) -> Value {
    frr.json("show ip ospf neighbor detail json")["neighbors"]["192.0.2.1"][0].clone()
}

#[test]
fn ospf_hostile_packets_are_dropped_and_counted() {
    if !can_run(&["/usr/lib/frr/ospfd", "python3"]) {
        return;
    }
    let lab = lab("ospf_hostile");
    let r1 = lab.node("r1");
    let r2 = lab.node("r2");
    let r3 = lab.node("r3");
    lab.lan("sw", &[(&r1, "eth0"), (&r2, "eth0"), (&r3, "eth0")]);
    r1.add_addr("eth0", "198.51.100.1/29");
    r2.add_addr("eth0", "198.51.100.2/29");
    r3.add_addr("eth0", "198.51.100.3/29");
    r1.add_addr("lo", "192.0.2.1/32");
    r2.add_addr("lo", "192.0.2.2/32");
    let (_z, o) = start_ours(
        &r1,
        &our_config(
            "192.0.2.1",
            &[
                ("eth0", "0.0.0.0", "priority = 10"),
                ("lo", "0.0.0.0", "passive = true"),
            ],
            "",
        ),
    );
    let frr = start_frr(
        &r2,
        &format!(
            "hostname frr\nlog stdout informational\n!\ninterface eth0\n ip ospf hello-interval {HELLO}\n ip ospf dead-interval {DEAD}\n!\nrouter ospf\n ospf router-id 192.0.2.2\n network 198.51.100.0/29 area 0\n network 192.0.2.2/32 area 0\n!\n"
        ),
    );
    wait_full(&r1, 1, T);
    wait_route(&r1, "192.0.2.2/32", &["198.51.100.2"], T);
    wait_route(&r2, "192.0.2.1/32", &["198.51.100.1"], T);
    let mut last = Value::Null;
    let ok = try_wait_until(T, "FRR Full with us", || {
        last = frr_neighbor(&frr);
        last["nbrState"]
            .as_str()
            .is_some_and(|s| s.starts_with("Full"))
    });
    assert!(ok.is_ok(), "{ok:?}: {last:#}");
    let changes = last["stateChangeCounter"].clone();
    assert!(changes.is_u64(), "FRR's state-change counter: {last:#}");

    let script = r3.write_file("hostile.py", SENDER);
    let script = script.to_string_lossy().into_owned();
    for (case, counter) in CASES {
        let before = drops(&r1)[*counter].as_u64().unwrap_or(0);
        let out = r3.exec_timeout(
            &["python3", &script, "198.51.100.3", case, &COUNT.to_string()],
            Duration::from_secs(20),
        );
        assert!(out.is_ok(), "{case}: sender failed: {out:?}");
        let mut d = Value::Null;
        let ok = try_wait_until(
            Duration::from_secs(10),
            &format!("{case}: {counter} + {COUNT}"),
            || {
                d = drops(&r1);
                d[*counter].as_u64().unwrap_or(0) == before + COUNT
            },
        );
        assert!(ok.is_ok(), "{ok:?}: droppedPackets {d:#}; sent {out:?}");
        // Nothing else changed: one neighbor, Full, FRR's view the same,
        // the route learned over it still in the kernel.
        assert_eq!(
            our_neighbors(&r1),
            vec![("192.0.2.2".to_string(), "Full".to_string())],
            "after {case}"
        );
        let n = frr_neighbor(&frr);
        assert_eq!(n["stateChangeCounter"], changes, "after {case}: {n:#}");
        assert_eq!(
            gateways(&r1, "192.0.2.2/32"),
            Some(vec!["198.51.100.2".to_string()]),
            "after {case}"
        );
        o.assert_running();
    }
}

//! Our bgpd against a hand-made peer (bgp_util/speaker.py, a small Python
//! script writing BGP messages byte by byte in the peer's namespace):
//!
//! - RFC 7606: UPDATEs with a malformed ORIGIN (5) and a MED of length 3 are
//!   treated as withdraw (a prefix held before is withdrawn, a new one is
//!   never installed): the session stays Established, the prefix leaves
//!   our table and the kernel, `treatAsWithdraw` counts them.
//! - RFC 6793: with a 4-octet local AS toward a peer without the 4-octet AS
//!   capability, our OPEN carries AS_TRANS (23456), our UPDATEs AS_PATH
//!   [23456] plus AS4_PATH [our AS], and a path relayed by the 2-octet
//!   speaker comes back with the real 4-octet AS numbers.
//!
//! - One prefix per UPDATE, sent at once: UPDATEs repeating the attributes
//!   of one shortly before join its routes inside bgpd; withdrawals,
//!   changed attributes, interleaved paths and treat-as-withdraw between
//!   them keep their order, and
//!   512 of them in one write all arrive; the same for IPv6 in
//!   MP_REACH_NLRI. A link-local next hop alone from this directly
//!   connected peer is installed on the session's interface.
//!
//! Topology (bgp_util::pair): r1 (ours) 192.0.2.1/30 -- r2 (speaker)
//! 192.0.2.2/30.

mod bgp_util;

use std::path::Path;

use bgp_util::*;
use serde_json::{json, Value};
use topotests::{try_wait_until, Node, Proc};

const SPEAKER: &str = include_str!("bgp_util/speaker.py");

fn ours_conf(asn: u32, remote: u32, networks: &str) -> String {
    format!(
        r#"{}
[[neighbor]]
address = "192.0.2.2"
remote_as = {remote}
passive = true
import = "ALL"
export = "ALL"
"#,
        ours_head(asn, "192.0.2.1", &format!("networks = [{networks}]"))
    )
}

fn start_speaker(node: &Node, my_as: u32, as4: bool, scenario: &str) -> (Proc, std::path::PathBuf) {
    let script = node.write_file("speaker.py", SPEAKER);
    let ctl = node.dir().join("ctl");
    std::fs::create_dir_all(&ctl).expect("ctl dir");
    let p = node.spawn(
        "speaker",
        &[
            "python3",
            &s(&script),
            "192.0.2.1",
            &my_as.to_string(),
            if as4 { "as4" } else { "as2" },
            &s(&ctl),
            scenario,
        ],
    );
    (p, ctl)
}

fn go(ctl: &Path, step: &str) {
    std::fs::write(ctl.join(step), "").expect("control file");
}

fn report(ctl: &Path) -> Value {
    std::fs::read_to_string(ctl.join("report.json"))
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(Value::Null)
}

fn taw(r1: &Node) -> u64 {
    neighbor(r1, "192.0.2.2")["treatAsWithdraw"]
        .as_u64()
        .unwrap_or(u64::MAX)
}

#[test]
fn bgp_raw_malformed_attributes_treat_as_withdraw() {
    if !can_run(&["python3"]) {
        return;
    }
    let (_lab, r1, r2) = pair("bgp_raw_malformed");
    let (_z, b) = start_ours(&r1, &ours_conf(65000, 64505, ""));
    let (sp, ctl) = start_speaker(&r2, 64505, true, "malformed");
    wait_established(&r1, "192.0.2.2");
    for p in ["198.51.100.0/25", "198.51.100.128/25", "203.0.113.128/25"] {
        wait_kernel(&r1, p, "192.0.2.2");
    }
    assert_eq!(taw(&r1), 0);

    // Malformed ORIGIN for a prefix we hold: withdrawn, session up.
    go(&ctl, "go1");
    wait_kernel_gone(&r1, "198.51.100.0/25", T);
    assert!(paths(&r1, "198.51.100.0/25").is_empty());
    let mut n = Value::Null;
    let ok = try_wait_until(T, "treatAsWithdraw = 2", || {
        n = neighbor(&r1, "192.0.2.2");
        n["treatAsWithdraw"] == 2
    });
    assert!(ok.is_ok(), "{ok:?}: {n:#}");
    assert_eq!(n["bgpState"], "Established", "{n:#}");
    assert!(kernel_bgp(&r1, "198.51.100.128/25").is_some());
    // The malformed UPDATE for a new prefix installed nothing.
    assert!(paths(&r1, "203.0.113.0/26").is_empty());
    assert!(kernel_bgp(&r1, "203.0.113.0/26").is_none());

    // Bad MED length.
    go(&ctl, "go2");
    wait_kernel_gone(&r1, "198.51.100.128/25", T);
    assert!(paths(&r1, "198.51.100.128/25").is_empty());
    let ok = try_wait_until(T, "treatAsWithdraw = 3", || {
        n = neighbor(&r1, "192.0.2.2");
        n["treatAsWithdraw"] == 3
    });
    assert!(ok.is_ok(), "{ok:?}: {n:#}");
    assert_eq!(n["bgpState"], "Established", "{n:#}");
    assert_eq!(n["connectionsDropped"], 0, "{n:#}");

    // A good UPDATE again is accepted on the same session.
    go(&ctl, "go3");
    wait_kernel(&r1, "198.51.100.0/25", "192.0.2.2");
    assert!(kernel_bgp(&r1, "203.0.113.128/25").is_some());
    sp.assert_running();
    let rep = report(&ctl);
    assert_eq!(
        rep["notifications"],
        json!([]),
        "no NOTIFICATION sent: {rep:#}"
    );
    assert_eq!(state(&r1, "192.0.2.2"), "Established");
    go(&ctl, "stop");
    b.assert_running();
}

#[test]
fn bgp_raw_as4_toward_a_two_octet_peer() {
    if !can_run(&["python3"]) {
        return;
    }
    let (_lab, r1, r2) = pair("bgp_raw_as4");
    let (_z, b) = start_ours(&r1, &ours_conf(4200000001, 64502, "\"203.0.113.0/25\""));
    let (_sp, ctl) = start_speaker(&r2, 64502, false, "as2");
    wait_established(&r1, "192.0.2.2");
    let n = neighbor(&r1, "192.0.2.2");
    assert_eq!(n["remoteAs"], 64502, "{n:#}");
    assert_eq!(n["localAs"].as_u64(), Some(4200000001), "{n:#}");

    // What the 2-octet peer got from us.
    let mut rep = Value::Null;
    let ok = try_wait_until(T, "our UPDATE for 203.0.113.0/25 at the speaker", || {
        rep = report(&ctl);
        rep["updates"]
            .as_array()
            .is_some_and(|u| u.iter().any(|u| u["nlri"] == json!(["203.0.113.0/25"])))
    });
    assert!(ok.is_ok(), "{ok:?}: {rep:#}");
    assert_eq!(rep["open"]["my_as"], 23456, "AS_TRANS in our OPEN: {rep:#}");
    assert_eq!(
        rep["open"]["as4"].as_u64(),
        Some(4200000001),
        "4-octet AS capability: {rep:#}"
    );
    let u = rep["updates"]
        .as_array()
        .and_then(|u| u.iter().find(|u| u["nlri"] == json!(["203.0.113.0/25"])))
        .cloned()
        .unwrap_or_default();
    assert_eq!(u["attrs"]["as_path"], json!([23456]), "{u:#}");
    assert_eq!(u["attrs"]["as4_path"], json!([4200000001u64]), "{u:#}");
    assert_eq!(u["attrs"]["next_hop"], "192.0.2.1", "{u:#}");

    // A path relayed by the 2-octet speaker: the real AS numbers.
    let p = wait_best(&r1, "203.0.113.128/25");
    assert_eq!(p["asPath"], json!([64502, 4200000003u64]), "{p:#}");
    wait_kernel(&r1, "203.0.113.128/25", "192.0.2.2");
    go(&ctl, "stop");
    b.assert_running();
}

#[test]
fn bgp_raw_one_prefix_per_update() {
    if !can_run(&["python3"]) {
        return;
    }
    let (_lab, r1, r2) = pair("bgp_raw_repeats");
    let conf = ours_conf(65000, 64506, "").replace(
        "export = \"ALL\"\n",
        "export = \"ALL\"\nfamilies = [\"ipv4-unicast\", \"ipv6-unicast\"]\n",
    );
    let (_z, b) = start_ours(&r1, &conf);
    let (sp, ctl) = start_speaker(&r2, 64506, true, "repeats");
    wait_established(&r1, "192.0.2.2");
    let p = |k: u32| format!("203.0.113.{}/28", 16 * k);

    // The last one sent (203.0.113.192/28 moved to MED 20): everything
    // before it has been read.
    let ok = try_wait_until(T, "203.0.113.192/28 with MED 20", || {
        best(&r1, &p(12)).is_some_and(|b| b["metric"] == 20)
    });
    assert!(ok.is_ok(), "{ok:?}: {:#?}", paths(&r1, &p(12)));
    for (k, med) in [
        (2, 20),
        (3, 10),
        (4, 10),
        (5, 10),
        (6, 10),
        (9, 10),
        (10, 10),
        (11, 10),
        (12, 20),
        (13, 10),
        (14, 10),
        (15, 20),
    ] {
        let b = wait_best(&r1, &p(k));
        assert_attrs(&b, &[64506], Some(med), &[], &[]);
        wait_kernel(&r1, &p(k), "192.0.2.2");
    }
    // Withdrawn alone, withdrawn beside an announcement, treat-as-withdraw
    // after an announcement, treat-as-withdraw for a new prefix.
    for k in [1, 0, 7, 8] {
        assert!(
            paths(&r1, &p(k)).is_empty(),
            "{}: {:#?}",
            p(k),
            paths(&r1, &p(k))
        );
        assert!(kernel_bgp(&r1, &p(k)).is_none(), "{} in the kernel", p(k));
    }
    let n = neighbor(&r1, "192.0.2.2");
    assert_eq!(n["treatAsWithdraw"], 2, "{n:#}");
    assert_eq!(n["bgpState"], "Established", "{n:#}");
    let accepted =
        |n: &Value| n["addressFamilyInfo"]["ipv4-unicast"]["acceptedPrefixCounter"].clone();
    assert_eq!(accepted(&n), 12, "{n:#}");

    go(&ctl, "go1");
    let mut n = Value::Null;
    let ok = try_wait_until(T, "524 prefixes accepted", || {
        n = neighbor(&r1, "192.0.2.2");
        accepted(&n) == 12 + 512
    });
    assert!(ok.is_ok(), "{ok:?}: {n:#}");
    for h in [
        "198.51.100.0/32",
        "198.51.100.255/32",
        "203.0.113.0/32",
        "203.0.113.255/32",
    ] {
        assert_attrs(&wait_best(&r1, h), &[64506], Some(20), &[], &[]);
    }
    wait_kernel(&r1, "203.0.113.255/32", "192.0.2.2");
    assert_eq!(n["bgpState"], "Established", "{n:#}");

    // IPv6 in MP_REACH_NLRI, one prefix per UPDATE, a withdrawal in
    // MP_UNREACH_NLRI and a changed MED between them.
    go(&ctl, "go2");
    let q = |k: u32| format!("2001:db8:{:x}::/48", 0x10 + k);
    wait_kernel(&r1, &q(4), "2001:db8:1::2");
    for (k, med) in [(0, 30), (2, 40), (3, 30), (4, 30)] {
        assert_attrs(&wait_best(&r1, &q(k)), &[64506], Some(med), &[], &[]);
    }
    assert!(paths(&r1, &q(1)).is_empty(), "{:#?}", paths(&r1, &q(1)));
    let n = neighbor(&r1, "192.0.2.2");
    assert_eq!(
        n["addressFamilyInfo"]["ipv6-unicast"]["acceptedPrefixCounter"], 4,
        "{n:#}"
    );
    assert_eq!(n["bgpState"], "Established", "{n:#}");

    // A link-local next hop from this directly connected peer is on the
    // session's link: zebrad gets it with the interface (it refuses a
    // link-local gateway without one).
    go(&ctl, "go3");
    let mut last = None;
    let ok = try_wait_until(T, "2001:db8:20::/48 via fe80:: dev eth0", || {
        last = kernel_bgp(&r1, "2001:db8:20::/48");
        last.as_ref().is_some_and(|r| {
            r["dev"] == "eth0"
                && r["gateway"]
                    .as_str()
                    .is_some_and(|g| g.starts_with("fe80:"))
        })
    });
    assert!(ok.is_ok(), "{ok:?}: {last:?}");
    sp.assert_running();
    go(&ctl, "stop");
    b.assert_running();
}

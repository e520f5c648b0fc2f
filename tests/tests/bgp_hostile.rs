//! Our bgpd against a hostile peer (bgp_util/hostile.py, one malformed
//! message per connection, written byte by byte) while a well-behaved BIRD
//! peer stays Established with its routes in the kernel the whole time.
//!
//! Every class of malformed message of RFC 4271 §6 and RFC 7606 gets the
//! exact reaction the RFCs require, checked on the wire and in our tables:
//!
//! - session reset: the NOTIFICATION's code, subcode and data as received
//!   by the hostile peer, then the close (header errors §6.1, OPEN errors
//!   §6.2, UPDATE errors that cannot be contained §6.3 / RFC 7606 §3-5,
//!   FSM errors §6.6 with the RFC 6608 subcodes, ROUTE-REFRESH length RFC
//!   7313 §5);
//! - treat-as-withdraw (RFC 7606 §2, §7): the prefix the peer announced
//!   before leaves our table and the kernel, the session stays up with no
//!   NOTIFICATION, `treatAsWithdraw` counts it;
//! - attribute discard: the route is updated without the attribute.
//!
//! After each case BIRD's session has never dropped and its prefix is in the
//! kernel via BIRD.
//!
//! Topology: r2 (hostile, AS 64505) 192.0.2.2/30 -- r1 (ours, AS 65000)
//! 192.0.2.1/30, 192.0.2.5/30 -- r3 (BIRD, AS 64501) 192.0.2.6/30.

mod bgp_util;

use std::path::{Path, PathBuf};
use std::time::Duration;

use bgp_util::*;
use serde_json::Value;
use topotests::{try_wait_until, Node};

const HOSTILE: &str = include_str!("bgp_util/hostile.py");
const HOSTILE_AS: u32 = 64505;
const BIRD_PREFIX: &str = "198.51.100.0/24";

/// The reaction a case must get.
enum Want {
    /// NOTIFICATION code/subcode; the data as hex, or `SENT` for "the data
    /// is (part of) what was sent" (the offending attribute or message).
    Notify(u8, u8, &'static str),
    /// RFC 7606 treat-as-withdraw, session kept.
    Withdraw,
    /// Attribute discard: the route stays, `check` holds on its path.
    Discard(fn(&Value) -> bool),
}

/// Marks a NOTIFICATION whose data must be a piece of the bytes sent.
const SENT: &str = "<sent>";

use Want::*;

fn cases() -> Vec<(&'static str, Want)> {
    vec![
        // RFC 4271 §6.1: data is the bad Length / Type field.
        ("header_marker", Notify(1, 1, "")),
        ("header_length_short", Notify(1, 2, "0012")),
        ("header_length_keepalive", Notify(1, 2, "0014")),
        ("header_length_huge", Notify(1, 2, "1001")),
        // The header alone: the answer cannot wait for the body.
        ("header_length_huge_no_body", Notify(1, 2, "1001")),
        ("header_type", Notify(1, 3, "09")),
        // §6.2: the version data is the largest version we support.
        ("open_version", Notify(2, 1, "0004")),
        // No data required; like FRR we echo the 2-octet My AS (64999).
        ("open_peer_as", Notify(2, 2, "fde7")),
        ("open_hold_1", Notify(2, 6, "")),
        ("open_hold_2", Notify(2, 6, "")),
        ("open_bgp_id", Notify(2, 3, "")),
        ("open_opt_param", Notify(2, 4, "")),
        ("open_short", Notify(1, 2, "0015")),
        // §6.6 with RFC 6608's subcodes.
        ("fsm_keepalive_in_opensent", Notify(5, 1, "")),
        ("fsm_update_in_openconfirm", Notify(5, 2, "")),
        ("fsm_open_in_established", Notify(5, 3, "")),
        // §6.3 and RFC 7606 §3-5: what cannot be contained resets.
        ("update_withdrawn_length", Notify(3, 1, "")),
        ("update_attr_length", Notify(3, 1, "")),
        ("update_nlri_33", Notify(3, 10, "")),
        ("update_withdrawn_33", Notify(3, 10, "")),
        ("update_nlri_truncated", Notify(3, 10, "")),
        ("update_unknown_well_known", Notify(3, 2, "4063020102")),
        ("update_mp_reach_twice", Notify(3, 1, "")),
        ("update_mp_reach_nh_len", Notify(3, 9, SENT)),
        ("update_mp_reach_flags", Notify(3, 4, SENT)),
        ("update_mp_reach_overrun", Notify(3, 1, SENT)),
        // RFC 7313 §5: the data is the whole ROUTE-REFRESH message.
        ("route_refresh_length", Notify(7, 1, SENT)),
        // RFC 7606 §7: treat-as-withdraw.
        ("taw_origin_value", Withdraw),
        ("taw_origin_length", Withdraw),
        ("taw_origin_flags", Withdraw),
        ("taw_missing_origin", Withdraw),
        ("taw_missing_as_path", Withdraw),
        ("taw_missing_next_hop", Withdraw),
        ("taw_next_hop_length", Withdraw),
        ("taw_next_hop_multicast", Withdraw),
        ("taw_as_path_segment_type", Withdraw),
        ("taw_as_path_overrun", Withdraw),
        ("taw_attribute_overrun", Withdraw),
        ("taw_med_length", Withdraw),
        ("taw_as_path_confed_from_ebgp", Withdraw),
        ("taw_communities_length", Withdraw),
        ("taw_large_communities_length", Withdraw),
        ("taw_ext_communities_length", Withdraw),
        // RFC 7606 §7.7, §7.6, §3(g), §7.5: attribute discard.
        (
            "discard_aggregator_length",
            Discard(|p| p["aggregator"].is_null()),
        ),
        (
            "discard_atomic_aggregate_length",
            Discard(|p| p["atomicAggregate"] == false),
        ),
        ("discard_duplicate_med", Discard(|_| true)),
        (
            "discard_ebgp_local_pref_length",
            Discard(|p| p["locPrf"].is_null() || p["locPrf"] == 100),
        ),
    ]
}

fn ours_conf() -> String {
    format!(
        r#"{}
[[neighbor]]
address = "192.0.2.2"
remote_as = {HOSTILE_AS}
passive = true
import = "ALL"
export = "ALL"

[[neighbor]]
address = "192.0.2.6"
remote_as = 64501
import = "ALL"
export = "ALL"
"#,
        ours_head(65000, "192.0.2.1", "")
    )
}

fn bird_conf() -> String {
    format!(
        r#"router id 192.0.2.6;
log stderr all;
protocol device {{ }}
protocol static s1 {{
  ipv4;
  route {BIRD_PREFIX} blackhole;
}}
protocol bgp ours {{
  local 192.0.2.6 as 64501;
  neighbor 192.0.2.5 as 65000;
  connect retry time 1;
  ipv4 {{ import all; export all; }};
}}
"#
    )
}

struct Hostile {
    node: Node,
    script: PathBuf,
    ctl: PathBuf,
}

impl Hostile {
    fn report(&self, case: &str) -> Value {
        std::fs::read_to_string(self.ctl.join(format!("{case}.json")))
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(Value::Null)
    }

    /// A case that ends the session: runs the speaker to its end and
    /// returns its report.
    fn run(&self, case: &str) -> Value {
        let (script, ctl) = (s(&self.script), s(&self.ctl));
        let r = self
            .node
            .exec_timeout(&args(case, &script, &ctl), Duration::from_secs(40));
        assert!(r.is_ok(), "{case}: hostile.py failed: {r:?}");
        self.report(case)
    }
}

/// The speaker's command line for `case`.
fn args<'a>(case: &'a str, script: &'a str, ctl: &'a str) -> [&'a str; 6] {
    ["python3", script, "192.0.2.1", "64505", ctl, case]
}

fn go(ctl: &Path, file: &str) {
    std::fs::write(ctl.join(file), "").expect("control file");
}

fn taw(r1: &Node) -> u64 {
    neighbor(r1, "192.0.2.2")["treatAsWithdraw"]
        .as_u64()
        .unwrap_or(u64::MAX)
}

/// BIRD's session never dropped and its prefix is in the kernel via BIRD.
fn assert_bird_unharmed(r1: &Node, case: &str, established: u64) {
    let n = neighbor(r1, "192.0.2.6");
    assert_eq!(n["bgpState"], "Established", "after {case}: {n:#}");
    assert_eq!(n["connectionsDropped"], 0, "after {case}: {n:#}");
    assert!(
        n["bgpTimerUpMsec"].as_u64().unwrap_or(0) >= established,
        "after {case}: BIRD's session restarted: {n:#}"
    );
    let k = kernel_bgp(r1, BIRD_PREFIX);
    assert!(
        k.as_ref().is_some_and(|r| gateways(r) == ["192.0.2.6"]),
        "after {case}: {BIRD_PREFIX} via 192.0.2.6 not in the kernel: {k:?}"
    );
}

fn check_notification(case: &str, rep: &Value, code: u8, subcode: u8, data: &str) {
    let n = &rep["notifications"];
    assert_eq!(
        n.as_array().map(Vec::len),
        Some(1),
        "{case}: one NOTIFICATION expected: {rep:#}"
    );
    assert_eq!(n[0]["code"], code, "{case}: {rep:#}");
    assert_eq!(n[0]["subcode"], subcode, "{case}: {rep:#}");
    let got = n[0]["data"].as_str().unwrap_or("?");
    if data == SENT {
        let sent = rep["sent"].as_str().unwrap_or("");
        assert!(
            !got.is_empty() && sent.contains(got),
            "{case}: data {got} is not part of what was sent ({sent})"
        );
    } else {
        assert_eq!(got, data, "{case}: NOTIFICATION data: {rep:#}");
    }
    assert_eq!(rep["closed"], true, "{case}: bgpd closed after: {rep:#}");
}

fn keep_case(r1: &Node, h: &Hostile, case: &str, want: &Want) {
    let prefix = {
        // The speaker announces its case's prefix first; find it in the
        // report once the session is up.
        let (script, ctl) = (s(&h.script), s(&h.ctl));
        let p = h
            .node
            .spawn(&format!("hostile-{case}"), &args(case, &script, &ctl));
        wait_established(r1, "192.0.2.2");
        let mut prefix = String::new();
        let ok = try_wait_until(T, &format!("{case}: a baseline prefix"), || {
            let out = vtysh(r1, "show bgp ipv4 unicast json").unwrap_or_default();
            let v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
            if let Some(m) = v["routes"].as_object() {
                for (k, paths) in m {
                    if k.starts_with("203.0.113.")
                        && paths[0]["peerId"] == "192.0.2.2"
                        && paths[0]["metric"] == 1
                    {
                        prefix = k.clone();
                        return true;
                    }
                }
            }
            false
        });
        assert!(ok.is_ok(), "{ok:?}");
        wait_kernel(r1, &prefix, "192.0.2.2");
        let before = taw(r1);
        go(&h.ctl, &format!("{case}.go"));
        match want {
            Withdraw => {
                let ok = try_wait_until(T, &format!("{case}: treatAsWithdraw + 1"), || {
                    taw(r1) == before + 1
                });
                assert!(ok.is_ok(), "{ok:?}: {:#}", neighbor(r1, "192.0.2.2"));
                wait_kernel_gone(r1, &prefix, T);
                assert!(paths(r1, &prefix).is_empty(), "{case}: {prefix} still held");
            }
            Discard(check) => {
                let mut last = None;
                let ok = try_wait_until(T, &format!("{case}: {prefix} updated"), || {
                    last = best(r1, &prefix);
                    last.as_ref().is_some_and(|p| p["metric"] == 2)
                });
                assert!(ok.is_ok(), "{ok:?}: {last:?}");
                let p = last.unwrap_or_default();
                assert!(check(&p), "{case}: attribute not discarded: {p:#}");
                assert_eq!(taw(r1), before, "{case}: not a withdraw");
                wait_kernel(r1, &prefix, "192.0.2.2");
            }
            Notify(..) => unreachable!("not a keep case"),
        }
        // The same session is still up: no NOTIFICATION, no close.
        let n = neighbor(r1, "192.0.2.2");
        assert_eq!(n["bgpState"], "Established", "{case}: {n:#}");
        let rep = h.report(case);
        assert_eq!(
            rep["notifications"],
            serde_json::json!([]),
            "{case}: {rep:#}"
        );
        assert_eq!(rep["closed"], false, "{case}: {rep:#}");
        go(&h.ctl, &format!("{case}.done"));
        assert!(
            p.wait_exit(Duration::from_secs(10)).is_some(),
            "{case}: speaker did not exit"
        );
        prefix
    };
    // The speaker hung up: its routes go.
    wait_not_established(r1, "192.0.2.2", T);
    wait_kernel_gone(r1, &prefix, T);
}

#[test]
fn bgp_hostile_peer_gets_the_rfc_reaction() {
    if !can_run(&["python3", "bird", "birdc"]) {
        return;
    }
    let (lab, r1, r2) = pair("bgp_hostile");
    let r3 = lab.node("r3");
    lab.link(&r1, "eth1", &r3, "eth0");
    r1.add_addr("eth1", "192.0.2.5/30");
    r3.add_addr("eth0", "192.0.2.6/30");

    let (_z, b) = start_ours(&r1, &ours_conf());
    let bird = start_bird(&r3, &bird_conf());
    wait_established(&r1, "192.0.2.6");
    bird.wait_established("ours");
    wait_kernel(&r1, BIRD_PREFIX, "192.0.2.6");

    let script = r2.write_file("hostile.py", HOSTILE);
    let ctl = r2.dir().join("ctl");
    std::fs::create_dir_all(&ctl).expect("ctl dir");
    let h = Hostile {
        node: r2.clone(),
        script,
        ctl,
    };
    let mut up = 0;
    for (case, want) in cases() {
        eprintln!("case {case}");
        match &want {
            Notify(code, subcode, data) => {
                let rep = h.run(case);
                check_notification(case, &rep, *code, *subcode, data);
                wait_not_established(&r1, "192.0.2.2", T);
            }
            Withdraw | Discard(_) => keep_case(&r1, &h, case, &want),
        }
        b.assert_running();
        bird.proc.assert_running();
        assert_bird_unharmed(&r1, case, up);
        up = neighbor(&r1, "192.0.2.6")["bgpTimerUpMsec"]
            .as_u64()
            .unwrap_or(0);
    }
    // BIRD still has our view: it kept the session through all of it.
    let p = bird.cmd("show protocols ours");
    assert!(p.contains("Established"), "{p}");
}

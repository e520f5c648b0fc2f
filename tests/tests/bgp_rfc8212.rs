//! RFC 8212: an eBGP neighbor without policies exchanges nothing; `show bgp
//! neighbors json` says why (`policyNote`), `show bgp summary json` shows
//! `peerState: Policy`. Adding the policies by SIGHUP reload opens each
//! direction without resetting the session.
//!
//! Topology (bgp_util::pair): r1 (ours) 192.0.2.1/30 -- r2 (BIRD) .2/30.

mod bgp_util;

use std::time::Duration;

use bgp_util::*;
use topotests::{try_wait_until, Signal};

const BIRD: &str = r#"router id 192.0.2.2;
log stderr all;
protocol device { }
protocol static s1 {
  ipv4;
  route 198.51.100.0/25 blackhole;
}
protocol bgp peer1 {
  local 192.0.2.2 as 64501;
  neighbor 192.0.2.1 as 65000;
  connect retry time 1;
  ipv4 { import all; export all; };
}
"#;

fn ours(import: bool, export: bool) -> String {
    format!(
        r#"{}
[[neighbor]]
address = "192.0.2.2"
remote_as = 64501
{}{}"#,
        ours_head(65000, "192.0.2.1", "networks = [\"203.0.113.0/25\"]"),
        if import { "import = \"ALL\"\n" } else { "" },
        if export { "export = \"ALL\"\n" } else { "" },
    )
}

#[test]
fn bgp_rfc8212_no_policy_no_exchange() {
    if !can_run(&["bird", "birdc"]) {
        return;
    }
    let (_lab, r1, r2) = pair("bgp_rfc8212_no_policy_no_exchange");
    let (_z, b) = start_ours(&r1, &ours(false, false));
    let bird = start_bird(&r2, BIRD);
    wait_established(&r1, "192.0.2.2");
    bird.wait_established("peer1");

    // BIRD sends its route; we receive it and accept nothing.
    let mut n = serde_json::Value::Null;
    let ok = try_wait_until(T, "BIRD's prefix received", || {
        n = neighbor(&r1, "192.0.2.2");
        n["addressFamilyInfo"]["ipv4-unicast"]["receivedPrefixCounter"].as_u64() >= Some(1)
            || n["messageStats"]["received"]["updates"].as_u64() >= Some(2)
    });
    assert!(ok.is_ok(), "{ok:?}: {n:#}");
    std::thread::sleep(Duration::from_secs(2));
    let n = neighbor(&r1, "192.0.2.2");
    let note = n["policyNote"].as_str().unwrap_or("");
    assert!(
        note.contains("RFC 8212") && note.contains("import and export"),
        "policyNote: {n:#}"
    );
    let fam = &n["addressFamilyInfo"]["ipv4-unicast"];
    assert_eq!(fam["acceptedPrefixCounter"], 0, "{n:#}");
    assert_eq!(fam["sentPrefixCounter"], 0, "{n:#}");
    // bgpd keeps the rejected path (so a reload can apply a new import
    // policy without a refresh) but it must be neither valid nor best.
    let ps = paths(&r1, "198.51.100.0/25");
    assert!(
        ps.iter()
            .all(|p| p["bestpath"] == false && p["valid"] == false),
        "rejected by RFC 8212 yet usable: {ps:#?}"
    );
    assert!(kernel_bgp(&r1, "198.51.100.0/25").is_none());
    assert!(
        !bird.has_route("203.0.113.0/25"),
        "BIRD got our prefix: {}",
        bird.route("203.0.113.0/25")
    );
    let sum = vtysh_json(&r1, "show bgp ipv4 unicast summary json");
    assert_eq!(
        sum["ipv4Unicast"]["peers"]["192.0.2.2"]["peerState"], "Policy",
        "{sum:#}"
    );
    let text = vtysh(&r1, "show bgp neighbors 192.0.2.2").unwrap_or_default();
    assert!(text.contains("RFC 8212"), "{text}");

    // Import added by reload: BIRD's route is accepted, still nothing sent.
    let flaps = n["connectionsDropped"].as_u64();
    std::fs::write(r1.dir().join("bgpd.toml"), ours(true, false)).expect("write");
    b.signal(Signal::SIGHUP);
    wait_kernel(&r1, "198.51.100.0/25", "192.0.2.2");
    let n = neighbor(&r1, "192.0.2.2");
    let note = n["policyNote"].as_str().unwrap_or("");
    assert!(note.contains("without export"), "policyNote: {n:#}");
    assert!(!bird.has_route("203.0.113.0/25"));

    // Export added: BIRD gets our prefix; the session never reset.
    std::fs::write(r1.dir().join("bgpd.toml"), ours(true, true)).expect("write");
    b.signal(Signal::SIGHUP);
    bird.wait_route("203.0.113.0/25");
    let n = neighbor(&r1, "192.0.2.2");
    assert_eq!(n["policyNote"], "", "{n:#}");
    assert_eq!(n["bgpState"], "Established", "{n:#}");
    assert_eq!(n["connectionsDropped"].as_u64(), flaps, "{n:#}");
}

//! Graceful Restart (RFC 4724) between our bgpd (with our zebrad) and FRR
//! 8.4, with a checker polling the kernel all along:
//!
//! - helper: FRR's bgpd is killed; we keep its routes (stale) in the
//!   kernel; it comes back (with the R bit) without one of them; after its
//!   End-of-RIB only that one leaves our kernel, the other never did.
//! - restarting speaker: our bgpd is killed and started again; zebrad keeps
//!   our routes, FRR (helper) keeps ours; after every End-of-RIB only the
//!   route FRR stopped announcing leaves the kernel, on neither side does
//!   a kept route flap.
//!
//! Topology (bgp_util::pair): r1 (ours) eth0 192.0.2.1/30 -- r2 (FRR) eth0
//! 192.0.2.2/30.

mod bgp_util;

use std::time::Duration;

use bgp_util::*;
use topotests::{Checker, Node};

const THEIRS: &str = "198.51.100.0/25";
const THEIRS2: &str = "198.51.100.128/25";
const OURS: &str = "203.0.113.0/25";

fn frr_conf(networks: &[&str]) -> String {
    let nets: String = networks
        .iter()
        .map(|n| format!("  network {n}\n"))
        .collect();
    format!(
        r#"hostname frr
log stdout informational
!
route-map ALL permit 10
!
router bgp 64502
 bgp router-id 192.0.2.2
 no bgp default ipv4-unicast
 no bgp network import-check
 bgp graceful-restart
 bgp graceful-restart preserve-fw-state
 bgp graceful-restart restart-time 60
 neighbor 192.0.2.1 remote-as 65000
 neighbor 192.0.2.1 timers connect 1
 neighbor 192.0.2.1 timers 10 30
 !
 address-family ipv4 unicast
{nets}  neighbor 192.0.2.1 activate
  neighbor 192.0.2.1 route-map ALL in
  neighbor 192.0.2.1 route-map ALL out
 exit-address-family
!
"#
    )
}

fn ours_conf() -> String {
    format!(
        r#"{}
[[neighbor]]
address = "192.0.2.2"
remote_as = 64502
import = "ALL"
export = "ALL"
"#,
        ours_head(
            65000,
            "192.0.2.1",
            &format!("graceful_restart = true\nrestart_time = 90\nnetworks = [\"{OURS}\"]")
        )
    )
}

/// Polls `node`'s kernel for the BGP route `prefix` every 50 ms.
fn checker(node: &Node, prefix: &str) -> Checker {
    let (n, p) = (node.clone(), prefix.to_string());
    Checker::start(move || kernel_bgp(&n, &p).is_some())
}

fn gr_info(node: &Node) -> serde_json::Value {
    neighbor(node, "192.0.2.2")["gracefulRestartInfo"].clone()
}

#[test]
fn bgp_gr_helper_keeps_frr_routes() {
    if !can_run(&["/usr/lib/frr/bgpd", "/usr/lib/frr/zebra", "vtysh"]) {
        return;
    }
    let (_lab, r1, r2) = pair("bgp_gr_helper");
    let (_z, b) = start_ours(&r1, &ours_conf());
    let mut frr = start_frr(&r2, &frr_conf(&[THEIRS, THEIRS2]));
    wait_established(&r1, "192.0.2.2");
    frr.wait_established("192.0.2.1");
    wait_kernel(&r1, THEIRS, "192.0.2.2");
    wait_kernel(&r1, THEIRS2, "192.0.2.2");

    let g = gr_info(&r1);
    assert_eq!(g["advertised"], true, "{g:#}");
    assert_eq!(g["received"], true, "{g:#}");
    assert_eq!(g["remoteRestartTimer"], 60, "{g:#}");
    assert_eq!(g["remoteFamilies"][0], "ipv4-unicast", "{g:#}");
    assert_eq!(g["remoteForwardingPreserved"][0], "ipv4-unicast", "{g:#}");
    let text = vtysh(&r1, "show bgp neighbors 192.0.2.2").unwrap_or_default();
    assert!(
        text.contains("Graceful restart: advertised and received"),
        "{text}"
    );
    // FRR sees ours too.
    let fg = frr.json("show bgp neighbors 192.0.2.1 json");
    let fcap = &fg["192.0.2.1"]["neighborCapabilities"]["gracefulRestart"];
    assert_eq!(fcap, "advertisedAndReceived", "{fg:#}");

    let checker = checker(&r1, THEIRS);
    frr.daemon.kill();
    wait_not_established(&r1, "192.0.2.2", Duration::from_secs(10));
    let mut g = serde_json::Value::Null;
    let ok = topotests::try_wait_until(T, "stale routes shown", || {
        g = gr_info(&r1);
        // Both routes, and ours that FRR reflects back (kept in
        // Adj-RIB-In, rejected by the AS loop check).
        g["stalePaths"].as_u64().unwrap_or(0) >= 2
    });
    assert!(ok.is_ok(), "{ok:?}: {g:#}");
    assert_eq!(g["staleFamilies"][0], "ipv4-unicast", "{g:#}");
    assert!(kernel_bgp(&r1, THEIRS2).is_some(), "stale route kept");
    let p = best(&r1, THEIRS2).unwrap_or_default();
    assert_eq!(p["stale"], true, "{p:#}");

    // FRR comes back restarting, without THEIRS2.
    frr.restart_daemon("bgpd", &frr_conf(&[THEIRS]), &[]);
    wait_established(&r1, "192.0.2.2");
    wait_kernel_gone(&r1, THEIRS2, T);
    let g = gr_info(&r1);
    assert_eq!(g["stalePaths"], 0, "{g:#}");
    assert!(best(&r1, THEIRS).is_some());
    let (missing, polls) = checker.finish();
    assert!(polls > 5, "checker ran {polls} times");
    assert_eq!(missing, 0, "{THEIRS} left the kernel during the restart");
    b.assert_running();
}

#[test]
fn bgp_gr_restarting_speaker_keeps_kernel() {
    if !can_run(&["/usr/lib/frr/bgpd", "/usr/lib/frr/zebra", "vtysh"]) {
        return;
    }
    let (_lab, r1, r2) = pair("bgp_gr_restart");
    let (_z, b) = start_ours(&r1, &ours_conf());
    let frr = start_frr(&r2, &frr_conf(&[THEIRS, THEIRS2]));
    wait_established(&r1, "192.0.2.2");
    frr.wait_established("192.0.2.1");
    wait_kernel(&r1, THEIRS, "192.0.2.2");
    wait_kernel(&r1, THEIRS2, "192.0.2.2");
    wait_kernel(&r2, OURS, "192.0.2.1");

    let ours_checker = checker(&r1, THEIRS);
    let frr_checker = checker(&r2, OURS);
    b.kill();
    // FRR keeps our route as a helper.
    let ok = topotests::try_wait_until(T, "FRR marks our route stale", || {
        frr.paths(OURS).iter().any(|p| p["stale"] == true)
    });
    assert!(ok.is_ok(), "{ok:?}: {:#?}", frr.paths(OURS));
    // While we are away FRR stops announcing THEIRS2.
    let out = frr.vtysh(&[
        "configure terminal",
        "router bgp 64502",
        "address-family ipv4 unicast",
        &format!("no network {THEIRS2}"),
    ]);
    assert!(!out.contains('%'), "FRR vtysh: {out}");
    assert!(
        kernel_bgp(&r1, THEIRS2).is_some(),
        "zebrad keeps our routes"
    );

    let cfg = r1.dir().join("bgpd.toml");
    let b2 = start_bgpd(&r1, &cfg);
    wait_established(&r1, "192.0.2.2");
    // Converged (every End-of-RIB in): the route not re-learned goes.
    wait_kernel_gone(&r1, THEIRS2, T);
    assert!(kernel_bgp(&r1, THEIRS).is_some());
    let ok = topotests::try_wait_until(T, "FRR's copy of our route fresh again", || {
        frr.paths(OURS).iter().any(|p| p["stale"] != true)
    });
    assert!(ok.is_ok(), "{ok:?}: {:#?}", frr.paths(OURS));
    let (missing, polls) = ours_checker.finish();
    assert!(polls > 5, "checker ran {polls} times");
    assert_eq!(missing, 0, "{THEIRS} left our kernel during our restart");
    let (missing, _) = frr_checker.finish();
    assert_eq!(missing, 0, "{OURS} left FRR's kernel during our restart");
    b2.assert_running();
}

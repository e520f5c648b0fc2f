//! Neighbors added and removed at runtime through vtysh's configure mode
//! (config.v1 ApplyConfig, applied by difference): with a BIRD session up,
//! `neighbor 192.0.2.6 remote-as 64503` (plus route maps and a TCP-MD5
//! key) brings up a GoBGP session, `no neighbor 192.0.2.6` removes it; the
//! BIRD session's uptime keeps counting and it never flaps. The running
//! configuration vtysh shows never holds the key.
//!
//! Topology: r1 (ours) eth0 192.0.2.1/30 -- r2 (BIRD) 192.0.2.2/30;
//! r1 eth1 192.0.2.5/30 -- r3 (GoBGP) 192.0.2.6/30.

mod bgp_util;

use bgp_util::*;
use topotests::{try_wait_until, Node};

const BIRD_CONF: &str = r#"router id 192.0.2.2;
protocol device { }
protocol static { ipv4; route 198.51.100.2/32 blackhole; }
protocol bgp ours {
  local 192.0.2.2 as 64501;
  neighbor 192.0.2.1 as 65000;
  connect retry time 1;
  ipv4 { import all; export all; };
}
"#;

const KEY: &str = "runtime-key-9";

fn ours_conf() -> String {
    format!(
        r#"{}
[[neighbor]]
address = "192.0.2.2"
remote_as = 64501
import = "ALL"
export = "ALL"
"#,
        ours_head(65000, "192.0.2.1", "")
    )
}

fn uptime_ms(node: &Node, addr: &str) -> u64 {
    neighbor(node, addr)["bgpTimerUpMsec"].as_u64().unwrap_or(0)
}

#[test]
fn bgp_peering_runtime_neighbor_added_and_removed() {
    if !can_run(&["bird", "gobgpd", "gobgp"]) {
        return;
    }
    let (_lab, r1, r2, r3) = trio("bgp_peering_runtime");
    let (_z, b) = start_ours(&r1, &ours_conf());
    let _bird = start_bird(&r2, BIRD_CONF);
    let g = start_gobgp(
        &r3,
        &gobgp_conf(
            64503,
            "192.0.2.6",
            "192.0.2.5",
            &format!("auth-password = \"{KEY}\""),
        ),
    );
    g.cmd(&["global", "rib", "add", "198.51.100.3/32", "-a", "ipv4"]);
    wait_established(&r1, "192.0.2.2");
    let up0 = uptime_ms(&r1, "192.0.2.2");

    // Added at runtime.
    vtysh_configure(
        &r1,
        "add.conf",
        &format!(
            "configure\nrouter bgp 65000\nneighbor 192.0.2.6 remote-as 64503\n\
             neighbor 192.0.2.6 password {KEY}\n\
             neighbor 192.0.2.6 route-map ALL in\nneighbor 192.0.2.6 route-map ALL out\nend\n"
        ),
    );
    wait_established(&r1, "192.0.2.6");
    g.wait_established("192.0.2.5");
    wait_kernel(&r1, "198.51.100.3/32", "192.0.2.6");
    let shown = vtysh(&r1, "show running-config bgpd").unwrap_or_default();
    assert!(
        shown.contains("192.0.2.6") && shown.contains("<hidden>"),
        "{shown}"
    );
    assert!(!shown.contains(KEY), "{shown}");

    // Removed at runtime.
    vtysh_configure(
        &r1,
        "del.conf",
        "configure\nrouter bgp 65000\nno neighbor 192.0.2.6\nend\n",
    );
    let r = try_wait_until(T, "192.0.2.6 gone", || neighbor(&r1, "192.0.2.6").is_null());
    assert!(r.is_ok(), "{r:?}");
    wait_kernel_gone(&r1, "198.51.100.3/32", T);

    // The BIRD session was never touched: up all along, uptime counting
    // (whole seconds).
    std::thread::sleep(std::time::Duration::from_secs(2));
    let n = neighbor(&r1, "192.0.2.2");
    assert_eq!(n["bgpState"], "Established", "{n:#}");
    assert_eq!(n["connectionsDropped"], 0, "{n:#}");
    assert!(uptime_ms(&r1, "192.0.2.2") > up0, "{n:#}");
    assert!(kernel_bgp(&r1, "198.51.100.2/32").is_some());
    b.assert_running();
}

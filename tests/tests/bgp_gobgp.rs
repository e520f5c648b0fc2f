//! Our bgpd (with our zebrad) against GoBGP 3: eBGP over IPv4, attributes
//! both ways, routes in and out of the kernel, withdraw by `gobgp global
//! rib del`, and the session dropping when gobgpd dies.
//!
//! Topology (bgp_util::pair): r1 (ours) eth0 192.0.2.1/30 -- r2 (GoBGP)
//! eth0 192.0.2.2/30.

mod bgp_util;

use std::time::{Duration, Instant};

use bgp_util::*;

fn ours_conf() -> String {
    format!(
        r#"{}
[[route_map]]
name = "OUT"
entries = [ {{ seq = 10, action = "permit", set = {{ med = 77, community = ["65000:77"], community_additive = true }} }} ]

[[neighbor]]
address = "192.0.2.2"
remote_as = 64503
import = "ALL"
export = "OUT"
"#,
        ours_head(65000, "192.0.2.1", "networks = [\"203.0.113.0/25\"]")
    )
}

#[test]
fn bgp_gobgp_ebgp_v4() {
    if !can_run(&["gobgpd", "gobgp"]) {
        return;
    }
    let (_lab, r1, r2) = pair("bgp_gobgp_ebgp_v4");
    let (_z, b) = start_ours(&r1, &ours_conf());
    let g = start_gobgp(&r2, &gobgp_conf(64503, "192.0.2.2", "192.0.2.1", ""));
    for (p, extra) in [("198.51.100.0/25", true), ("198.51.100.128/25", false)] {
        let mut args = vec!["global", "rib", "add", p, "-a", "ipv4"];
        if extra {
            args.extend([
                "aspath",
                "64510",
                "med",
                "42",
                "community",
                "64503:7",
                "large-community",
                "64503:1:2",
            ]);
        }
        g.cmd(&args);
    }
    wait_established(&r1, "192.0.2.2");
    g.wait_established("192.0.2.1");

    // GoBGP -> ours.
    let p = wait_best(&r1, "198.51.100.0/25");
    assert_attrs(&p, &[64503, 64510], Some(42), &["64503:7"], &["64503:1:2"]);
    assert_eq!(nexthop(&p), "192.0.2.2", "{p:#}");
    let k = wait_kernel(&r1, "198.51.100.0/25", "192.0.2.2");
    assert_eq!(k["metric"].as_u64(), Some(METRIC), "{k}");
    wait_kernel(&r1, "198.51.100.128/25", "192.0.2.2");

    // ours -> GoBGP.
    let mut gp = Vec::new();
    let ok = topotests::try_wait_until(T, "203.0.113.0/25 in GoBGP", || {
        gp = g.paths("203.0.113.0/25");
        !gp.is_empty()
    });
    assert!(ok.is_ok(), "{ok:?}: {}", g.cmd(&["global", "rib"]));
    let attrs = gp[0]["attrs"].to_string();
    // type 2 AS_PATH [65000], type 4 MED 77, type 8 community 65000:77
    // (4259840077), type 3 next hop 192.0.2.1.
    assert!(attrs.contains("\"asns\":[65000]"), "{attrs}");
    assert!(attrs.contains("\"metric\":77"), "{attrs}");
    assert!(attrs.contains("4259840077"), "{attrs}");
    assert!(attrs.contains("\"nexthop\":\"192.0.2.1\""), "{attrs}");

    // Withdrawn on GoBGP's side.
    g.cmd(&["global", "rib", "del", "198.51.100.0/25", "-a", "ipv4"]);
    wait_kernel_gone(&r1, "198.51.100.0/25", T);
    assert!(paths(&r1, "198.51.100.0/25").is_empty());
    assert!(kernel_bgp(&r1, "198.51.100.128/25").is_some());
    assert_eq!(state(&r1, "192.0.2.2"), "Established");

    // gobgpd dies.
    let t0 = Instant::now();
    g.proc.kill();
    wait_kernel_gone(&r1, "198.51.100.128/25", Duration::from_secs(15));
    assert!(t0.elapsed() < Duration::from_secs(15));
    wait_not_established(&r1, "192.0.2.2", Duration::from_secs(5));
    b.assert_running();
}

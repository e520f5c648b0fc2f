//! Maximum prefixes (RFC 4486) against GoBGP: `max_prefixes = 10`, warning
//! at 70 %, teardown with a 6-second restart. GoBGP announces 8 (warning
//! logged), then 12: our bgpd sends Cease/1 with AFI/SAFI/limit, the
//! session goes down and its routes leave the kernel, `show bgp neighbors`
//! says why and when it restarts; GoBGP withdraws the extra ones and the
//! session comes back by itself after the restart time. A BIRD session on
//! the same bgpd never flaps.
//!
//! Topology: r1 (ours) eth0 192.0.2.1/30 -- r2 (GoBGP) 192.0.2.2/30;
//! r1 eth1 192.0.2.5/30 -- r3 (BIRD) 192.0.2.6/30.

mod bgp_util;

use std::time::Duration;

use bgp_util::*;
use topotests::try_wait_until;

const BIRD_CONF: &str = r#"router id 192.0.2.6;
protocol device { }
protocol static { ipv4; route 203.0.113.128/25 blackhole; }
protocol bgp ours {
  local 192.0.2.6 as 64501;
  neighbor 192.0.2.5 as 65000;
  connect retry time 1;
  ipv4 { import all; export all; };
}
"#;

fn ours_conf() -> String {
    format!(
        r#"{}
[[neighbor]]
address = "192.0.2.2"
remote_as = 64503
import = "ALL"
export = "ALL"
max_prefixes = 10
max_prefixes_warning = 70
max_prefixes_restart = 6

[[neighbor]]
address = "192.0.2.6"
remote_as = 64501
import = "ALL"
export = "ALL"
max_prefixes = 1000
"#,
        ours_head(65000, "192.0.2.1", "")
    )
}

fn prefix(i: u32) -> String {
    format!("198.51.100.{i}/32")
}

#[test]
fn bgp_peering_limits_gobgp_torn_down_and_restarted() {
    if !can_run(&["bird", "gobgpd", "gobgp"]) {
        return;
    }
    let (_lab, r1, r2, r3) = trio("bgp_peering_limits");
    let (_z, b) = start_ours(&r1, &ours_conf());
    let g = start_gobgp(&r2, &gobgp_conf(64503, "192.0.2.2", "192.0.2.1", ""));
    let bird = start_bird(&r3, BIRD_CONF);
    wait_established(&r1, "192.0.2.2");
    wait_established(&r1, "192.0.2.6");
    bird.wait_established("ours");
    wait_kernel(&r1, "203.0.113.128/25", "192.0.2.6");

    // 8 of 10: past the 70 % warning, still up.
    for i in 1..=8 {
        g.cmd(&["global", "rib", "add", &prefix(i), "-a", "ipv4"]);
    }
    wait_kernel(&r1, &prefix(8), "192.0.2.2");
    let r = try_wait_until(T, "warning threshold logged", || {
        b.log()
            .contains("prefix count passed the warning threshold")
    });
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(state(&r1, "192.0.2.2"), "Established");

    // 12 of 10: Cease/1, down, routes gone.
    for i in 9..=12 {
        g.cmd(&["global", "rib", "add", &prefix(i), "-a", "ipv4"]);
    }
    let n = wait_not_established(&r1, "192.0.2.2", T);
    wait_kernel_gone(&r1, &prefix(1), T);
    let mut n = n;
    let r = try_wait_until(T, "limit shown as reached", || {
        n = neighbor(&r1, "192.0.2.2");
        n["prefixLimit"]["limitReached"] == true
    });
    assert!(r.is_ok(), "{r:?}: {n:#}");
    let reset = n["lastResetDueTo"].as_str().unwrap_or("");
    assert!(
        reset.contains("Maximum Number of Prefixes Reached"),
        "{n:#}"
    );
    assert_eq!(n["prefixLimit"]["families"][0]["max"], 10, "{n:#}");
    assert!(
        n["prefixLimit"]["restartRemainingSecs"]
            .as_u64()
            .unwrap_or(0)
            <= 6
    );
    let text = vtysh(&r1, "show bgp neighbors 192.0.2.2").unwrap_or_default();
    assert!(text.contains("exceeded the max. no. of prefixes"), "{text}");
    // GoBGP got the Cease with RFC 4486's data.
    let gn = g.cmd(&["neighbor", "192.0.2.1"]);
    assert!(!gn.contains("BGP state = established"), "{gn}");

    // GoBGP withdraws the extra ones; after the 6 s the session is back.
    for i in 9..=12 {
        g.cmd(&["global", "rib", "del", &prefix(i), "-a", "ipv4"]);
    }
    let t0 = std::time::Instant::now();
    wait_established(&r1, "192.0.2.2");
    assert!(t0.elapsed() <= Duration::from_secs(6) + T);
    wait_kernel(&r1, &prefix(8), "192.0.2.2");
    assert_eq!(
        neighbor(&r1, "192.0.2.2")["prefixLimit"]["limitReached"],
        false
    );

    // The BIRD session never dropped.
    assert_eq!(state(&r1, "192.0.2.6"), "Established");
    assert_eq!(neighbor(&r1, "192.0.2.6")["connectionsDropped"], 0);
    assert!(kernel_bgp(&r1, "203.0.113.128/25").is_some());
    b.assert_running();
}

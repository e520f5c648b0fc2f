//! FRR (zebra + bgpd, `advertise-all-vni`) as a third EVPN leaf beside two
//! of ours, all through our route-reflecting spine (topology in
//! `evpn_util`): FRR's host reaches ours and the reverse, which needs FRR
//! to understand our type 2/3 routes (RT, ET:8, PMSI ingress replication)
//! and ours to understand FRR's; our kernel tables hold FRR's VTEP and
//! MAC, FRR's BGP table our routes. Then Graceful Restart (RFC 4724) for
//! EVPN: FRR's bgpd is killed and started again while a checker polls our
//! leaf's FDB; the spine keeps FRR's routes stale and goes on reflecting
//! them, so FRR's MAC never leaves our kernel.

mod evpn_util;

use evpn_util::*;
use std::time::Duration;

use topotests::{try_wait_until, wait_until, Checker};

#[test]
fn evpn_frr_leaf_interoperates() {
    if !can_run(&["bridge", "/usr/lib/frr/bgpd", "/usr/lib/frr/zebra"]) {
        return;
    }
    let t = leaves("evpn_frr_leaf_interoperates", "", true);
    let Some((leaf3, h3, frr)) = &t.frr else {
        unreachable!("asked for FRR")
    };
    wait_kernel(&t.leaf1, "203.0.113.3/32", "192.0.2.2");

    wait_until(T, "leaf1 reaches h1", || t.leaf1.reachable("198.51.100.1"));
    wait_until(T, "leaf2 reaches h2", || t.leaf2.reachable("198.51.100.2"));
    wait_until(T, "leaf3 reaches h3", || leaf3.reachable("198.51.100.3"));

    // Our leaf holds FRR's VTEP and host, and leaf2's.
    let mut want = expected_fdb("203.0.113.3", &[H3_MAC]);
    want.extend(expected_fdb("203.0.113.2", &[H2_MAC]));
    wait_tables(
        &t.leaf1,
        &want,
        &set(&[
            &format!("198.51.100.3 {H3_MAC}"),
            &format!("198.51.100.2 {H2_MAC}"),
        ]),
    );

    // FRR holds ours: our type 3 and h1's MAC/IP, imported into VNI 100.
    let mut last = serde_json::Value::Null;
    let r = try_wait_until(T, "FRR has leaf1's type 2 and 3 routes", || {
        last = frr.json("show bgp l2vpn evpn json");
        let s = last.to_string();
        s.contains("[3]:[0]:[32]:[203.0.113.1]") && s.contains(&format!("[2]:[0]:[48]:[{H1_MAC}]"))
    });
    if let Err(e) = r {
        panic!("{e}: {last:#}");
    }
    let r = try_wait_until(T, "FRR's zebra has h1 behind leaf1", || {
        frr.vtysh(&["show evpn mac vni 100"])
            .lines()
            .any(|l| l.contains(H1_MAC) && l.contains("203.0.113.1"))
    });
    if let Err(e) = r {
        panic!(
            "{e}: {}",
            frr.vtysh(&["show evpn mac vni 100", "show evpn vni 100"])
        );
    }

    wait_until(T, "h1 pings h3 (FRR's host)", || {
        t.h1.reachable("198.51.100.3")
    });
    wait_until(T, "h3 pings h1", || h3.reachable("198.51.100.1"));
    wait_until(T, "h3 pings h2", || h3.reachable("198.51.100.2"));
}

/// The spine's EVPN paths from FRR's leaf that are stale.
fn stale_from_frr(spine: &topotests::Node) -> usize {
    let j = vtysh_json(spine, "show bgp l2vpn evpn json");
    let mut n = 0;
    let mut stack = vec![&j];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::Object(o) => {
                if o.get("stale") == Some(&serde_json::Value::Bool(true)) {
                    n += 1;
                }
                stack.extend(o.values());
            }
            serde_json::Value::Array(a) => stack.extend(a.iter()),
            _ => {}
        }
    }
    n
}

#[test]
fn evpn_frr_leaf_restart_keeps_the_overlay() {
    if !can_run(&["bridge", "/usr/lib/frr/bgpd", "/usr/lib/frr/zebra"]) {
        return;
    }
    let mut t = leaves_gr("evpn_frr_leaf_restart_keeps_the_overlay", "", true, true);
    wait_kernel(&t.leaf1, "203.0.113.3/32", "192.0.2.2");
    let want = format!("{H3_MAC} 203.0.113.3 self extern_learn");
    let r = try_wait_until(T, "leaf1 points FRR's host at FRR's VTEP", || {
        fdb(&t.leaf1).contains(&want)
    });
    assert!(r.is_ok(), "{r:?}: {:?}", fdb(&t.leaf1));
    wait_until(T, "h1 pings h3 (FRR's host)", || {
        t.h1.reachable("198.51.100.3")
    });

    let leaf1 = t.leaf1.clone();
    let w = want.clone();
    let checker = Checker::start(move || fdb(&leaf1).contains(&w));
    let Some((_, _, frr)) = &mut t.frr else {
        unreachable!("asked for FRR")
    };
    frr.daemon.kill();
    wait_not_established(&t.spine, "192.0.2.9", Duration::from_secs(10));
    let r = try_wait_until(T, "the spine keeps FRR's EVPN routes stale", || {
        stale_from_frr(&t.spine) >= 2
    });
    assert!(
        r.is_ok(),
        "{r:?}: {}",
        vtysh(&t.spine, "show bgp l2vpn evpn").unwrap_or_default()
    );
    // (FRR's own zebra drops its EVPN entries while its bgpd is down, so
    // h1 cannot ping h3 now; what this side keeps is checked by `checker`.)

    frr.restart_daemon("bgpd", &frr_leaf(true), &[]);
    wait_established(&t.spine, "192.0.2.9");
    let r = try_wait_until(T, "FRR's End-of-RIB clears the stale marks", || {
        stale_from_frr(&t.spine) == 0
    });
    assert!(
        r.is_ok(),
        "{r:?}: {}",
        vtysh(&t.spine, "show bgp l2vpn evpn").unwrap_or_default()
    );
    let (missing, polls) = checker.finish();
    assert!(polls > 5, "checker ran {polls} times");
    assert_eq!(missing, 0, "FRR's MAC left leaf1's FDB during the restart");
    assert!(fdb(&t.leaf1).contains(&want));
    wait_until(T, "h1 pings h3 after the restart", || {
        t.h1.reachable("198.51.100.3")
    });
}

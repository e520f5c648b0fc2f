//! FRR (zebra + bgpd, `advertise-all-vni`) as a third EVPN leaf beside two
//! of ours, all through our route-reflecting spine (topology in
//! `evpn_util`): FRR's host reaches ours and the reverse, which needs FRR
//! to understand our type 2/3 routes (RT, ET:8, PMSI ingress replication)
//! and ours to understand FRR's; our kernel tables hold FRR's VTEP and
//! MAC, FRR's BGP table our routes.

mod evpn_util;

use evpn_util::*;
use topotests::{try_wait_until, wait_until};

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

//! Our bgpd as a route reflector (RFC 4456) for two FRR clients: each
//! client's route reaches the other with ORIGINATOR_ID = the originating
//! client's router id and CLUSTER_LIST = our configured cluster id, the
//! next hop unchanged, and lands in the other client's kernel; a withdrawal
//! is reflected too.
//!
//! Topology (bgp_util::trio): r2 (FRR, 192.0.2.2) -- r1 (ours, the
//! reflector, 192.0.2.1 / 192.0.2.5) -- r3 (FRR, 192.0.2.6), all AS 65000.

mod bgp_util;

use bgp_util::*;
use serde_json::Value;
use topotests::wait_until;

const CLUSTER: &str = "203.0.113.254";
/// r2 originates this one, r3 the other.
const FROM_R2: &str = "198.51.100.0/25";
const FROM_R3: &str = "198.51.100.128/25";

fn client(router_id: &str, us: &str, network: &str) -> String {
    format!(
        r#"hostname frr
log stdout informational
!
router bgp 65000
 bgp router-id {router_id}
 no bgp default ipv4-unicast
 no bgp network import-check
 neighbor {us} remote-as 65000
 neighbor {us} timers connect 1
 neighbor {us} timers 10 30
 !
 address-family ipv4 unicast
  network {network}
  neighbor {us} activate
 exit-address-family
!
"#
    )
}

fn ours() -> String {
    format!(
        r#"{}
[[neighbor]]
address = "192.0.2.2"
remote_as = 65000
rr_client = true

[[neighbor]]
address = "192.0.2.6"
remote_as = 65000
rr_client = true
"#,
        ours_head(65000, "192.0.2.1", &format!("cluster_id = \"{CLUSTER}\""))
    )
}

/// The reflected path of `prefix` at `frr`, once it has one.
fn reflected(frr: &Frr, prefix: &str) -> Value {
    let mut last = Vec::new();
    let found = topotests::try_wait_until(T, &format!("FRR holds {prefix}"), || {
        last = frr.paths(prefix);
        !last.is_empty()
    });
    if let Err(e) = found {
        panic!("{e}; last: {last:?}");
    }
    last.swap_remove(0)
}

fn assert_reflected(path: &Value, originator: &str) {
    assert_eq!(path["originatorId"], originator, "{path:#}");
    let list: Vec<&str> = path["clusterList"]["list"]
        .as_array()
        .map(|l| l.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert_eq!(list, vec![CLUSTER], "{path:#}");
    assert_eq!(
        path["nexthops"][0]["ip"], originator,
        "next hop unchanged: {path:#}"
    );
}

#[test]
fn bgp_route_reflector_with_frr_clients() {
    if !can_run(&["/usr/lib/frr/bgpd", "/usr/lib/frr/zebra"]) {
        return;
    }
    let (_lab, r1, r2, r3) = trio("bgp_route_reflector_with_frr_clients");
    // The clients reach each other's next hop through r1.
    r2.must(&["ip", "route", "add", "192.0.2.4/30", "via", "192.0.2.1"]);
    r3.must(&["ip", "route", "add", "192.0.2.0/30", "via", "192.0.2.5"]);
    let (_z, _b) = start_ours(&r1, &ours());
    let f2 = start_frr(&r2, &client("192.0.2.2", "192.0.2.1", FROM_R2));
    let f3 = start_frr(&r3, &client("192.0.2.6", "192.0.2.5", FROM_R3));
    wait_established(&r1, "192.0.2.2");
    wait_established(&r1, "192.0.2.6");

    // Each client gets the other's route, reflected.
    assert_reflected(&reflected(&f3, FROM_R2), "192.0.2.2");
    assert_reflected(&reflected(&f2, FROM_R3), "192.0.2.6");
    // And installs it (FRR resolves the unchanged next hop through r1).
    wait_until(T, "r3's kernel holds r2's route", || {
        r3.route(254, FROM_R2).is_some()
    });
    wait_until(T, "r2's kernel holds r3's route", || {
        r2.route(254, FROM_R3).is_some()
    });
    // The reflector itself shows both as iBGP paths from its clients.
    assert_eq!(wait_best(&r1, FROM_R2)["peerId"], "192.0.2.2");

    // A withdrawal is reflected.
    f2.vtysh(&[
        "configure terminal",
        "router bgp 65000",
        "address-family ipv4 unicast",
        &format!("no network {FROM_R2}"),
    ]);
    wait_until(T, "r3 loses r2's route", || f3.paths(FROM_R2).is_empty());
    assert!(!f2.paths(FROM_R3).is_empty(), "the other route stays");
}

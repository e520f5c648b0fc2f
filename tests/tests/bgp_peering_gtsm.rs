//! GTSM (RFC 5082) with FRR: a directly connected FRR with `ttl-security
//! hops 1` and our `ttl_security = true` reach Established (both send TTL
//! 255 and require 254); a second FRR two hops away (through a forwarding
//! node, `ebgp-multihop 2`) toward which we also set `ttl_security` never
//! does: its segments arrive with TTL 1 and our kernel drops them.
//!
//! Topology:
//!   r1 (ours) eth0 192.0.2.1/30 -- r2 (FRR) 192.0.2.2/30
//!   r1 eth1 192.0.2.5/30 -- r3 (forwards) 192.0.2.6/30, r3 eth1
//!   192.0.2.9/30 -- r4 (FRR) 192.0.2.10/30

mod bgp_util;

use std::time::Duration;

use bgp_util::*;
use topotests::Lab;

fn frr_conf(router_id: &str, asn: u32, peer: &str, extra: &str) -> String {
    format!(
        r#"hostname frr
log stdout informational
!
route-map ALL permit 10
!
router bgp {asn}
 bgp router-id {router_id}
 no bgp default ipv4-unicast
 no bgp network import-check
 neighbor {peer} remote-as 65000
 neighbor {peer} timers connect 1
 neighbor {peer} timers 10 30
 neighbor {peer} {extra}
 !
 address-family ipv4 unicast
  network 198.51.100.{last}/32
  neighbor {peer} activate
  neighbor {peer} route-map ALL in
  neighbor {peer} route-map ALL out
 exit-address-family
!
"#,
        last = asn - 64500
    )
}

fn ours_conf() -> String {
    format!(
        r#"{}
[[neighbor]]
address = "192.0.2.2"
remote_as = 64502
ttl_security = true
import = "ALL"
export = "ALL"

[[neighbor]]
address = "192.0.2.10"
remote_as = 64504
ttl_security = true
import = "ALL"
export = "ALL"
"#,
        ours_head(65000, "192.0.2.1", "")
    )
}

#[test]
fn bgp_peering_gtsm_frr_one_hop_up_two_hops_refused() {
    if !can_run(&["/usr/lib/frr/bgpd"]) {
        return;
    }
    let lab = Lab::new("bgp_peering_gtsm");
    let (r1, r2, r3, r4) = (
        lab.node("r1"),
        lab.node("r2"),
        lab.node("r3"),
        lab.node("r4"),
    );
    lab.link(&r1, "eth0", &r2, "eth0");
    lab.link(&r1, "eth1", &r3, "eth0");
    lab.link(&r3, "eth1", &r4, "eth0");
    r1.add_addr("eth0", "192.0.2.1/30");
    r2.add_addr("eth0", "192.0.2.2/30");
    r1.add_addr("eth1", "192.0.2.5/30");
    r3.add_addr("eth0", "192.0.2.6/30");
    r3.add_addr("eth1", "192.0.2.9/30");
    r4.add_addr("eth0", "192.0.2.10/30");
    r3.must(&["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    r1.must(&["ip", "route", "add", "192.0.2.8/30", "via", "192.0.2.6"]);
    r4.must(&["ip", "route", "add", "192.0.2.4/30", "via", "192.0.2.9"]);
    assert!(
        r1.reachable("192.0.2.10"),
        "r4 must be reachable through r3"
    );

    let (_z, b) = start_ours(&r1, &ours_conf());
    let near = start_frr(
        &r2,
        &frr_conf("192.0.2.2", 64502, "192.0.2.1", "ttl-security hops 1"),
    );
    let far = start_frr(
        &r4,
        &frr_conf("192.0.2.10", 64504, "192.0.2.5", "ebgp-multihop 2"),
    );

    wait_established(&r1, "192.0.2.2");
    near.wait_established("192.0.2.1");
    wait_kernel(&r1, "198.51.100.2/32", "192.0.2.2");
    let n = neighbor(&r1, "192.0.2.2");
    assert_eq!(n["ttlSecurity"], true, "{n:#}");

    // The far peer: TCP may even connect (the SYN passes the listener),
    // but nothing it sends with TTL 1 is taken; no session, ever.
    for _ in 0..10 {
        std::thread::sleep(Duration::from_secs(1));
        assert_ne!(state(&r1, "192.0.2.10"), "Established");
        far.daemon.assert_running();
    }
    // The path works and our TTL-255 OPENs reach the far FRR, but what it
    // sends (TTL 1 on arrival) is dropped by our kernel's minimum TTL, not
    // by routing: no KEEPALIVE ever reaches our bgpd. (Its first OPEN on a
    // connection it opened may slip in before the accepted socket gets
    // the check; that is the window of a listening socket shared by all
    // peers, and it never gives a session.)
    let mut v = serde_json::Value::Null;
    let r = topotests::try_wait_until(T, "the far FRR received our OPEN", || {
        v = serde_json::from_str(&far.vtysh(&["show bgp neighbors 192.0.2.5 json"]))
            .unwrap_or_default();
        v["192.0.2.5"]["messageStats"]["opensRecv"]
            .as_u64()
            .unwrap_or(0)
            > 0
    });
    assert!(r.is_ok(), "{r:?}: {v:#}");
    let ours = neighbor(&r1, "192.0.2.10");
    assert_ne!(ours["bgpState"], "Established", "{ours:#}");
    assert_eq!(
        ours["messageStats"]["received"]["keepalives"], 0,
        "{ours:#}"
    );
    assert!(paths(&r1, "198.51.100.4/32").is_empty());

    // The near session never dropped meanwhile.
    assert_eq!(state(&r1, "192.0.2.2"), "Established");
    assert_eq!(neighbor(&r1, "192.0.2.2")["connectionsDropped"], 0);
    b.assert_running();
}

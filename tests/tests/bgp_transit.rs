//! Our bgpd as a transit between BIRD and FRR: a route BIRD originates with
//! MED, community and large community reaches FRR through us with the
//! AS_PATH grown by our AS, the communities and large communities intact
//! (optional transitive), the MED not passed on to another AS (RFC 4271
//! 5.1.4), and our address as the next hop; withdrawn at BIRD, it leaves FRR.
//!
//! Links: r2 (BIRD, AS 64501) eth0 192.0.2.2/30 -- r1 (ours, AS 65000) eth0
//! 192.0.2.1/30; r1 eth1 192.0.2.5/30 -- r3 (FRR, AS 64502) eth0 .6/30.

mod bgp_util;

use bgp_util::*;

fn bird_conf(routes: &str) -> String {
    format!(
        r#"router id 192.0.2.2;
log stderr all;
protocol device {{ }}
protocol static s1 {{
  ipv4;
{routes}}}
filter out_attrs {{
  bgp_med = 42;
  bgp_community.add((64501,7));
  bgp_large_community.add((64501,1,2));
  accept;
}}
protocol bgp peer1 {{
  local 192.0.2.2 as 64501;
  neighbor 192.0.2.1 as 65000;
  connect retry time 1;
  ipv4 {{ import all; export filter out_attrs; }};
}}
"#
    )
}

const FRR: &str = r#"hostname frr
log stdout informational
!
route-map ALL permit 10
!
router bgp 64502
 bgp router-id 192.0.2.6
 no bgp default ipv4-unicast
 neighbor 192.0.2.5 remote-as 65000
 neighbor 192.0.2.5 timers connect 1
 !
 address-family ipv4 unicast
  neighbor 192.0.2.5 activate
  neighbor 192.0.2.5 route-map ALL in
  neighbor 192.0.2.5 route-map ALL out
 exit-address-family
!
"#;

#[test]
fn bgp_transit_bird_to_frr() {
    if !can_run(&[
        "bird",
        "birdc",
        "/usr/lib/frr/bgpd",
        "/usr/lib/frr/zebra",
        "vtysh",
    ]) {
        return;
    }
    let (_lab, r1, r2, r3) = trio("bgp_transit_bird_to_frr");
    start_ours(
        &r1,
        &format!(
            r#"{}
[[neighbor]]
address = "192.0.2.2"
remote_as = 64501
import = "ALL"
export = "ALL"

[[neighbor]]
address = "192.0.2.6"
remote_as = 64502
import = "ALL"
export = "ALL"
"#,
            ours_head(65000, "192.0.2.1", "")
        ),
    );
    let bird = start_bird(&r2, &bird_conf("  route 198.51.100.0/25 blackhole;\n"));
    let frr = start_frr(&r3, FRR);
    wait_established(&r1, "192.0.2.2");
    wait_established(&r1, "192.0.2.6");
    let p = wait_best(&r1, "198.51.100.0/25");
    assert_attrs(&p, &[64501], Some(42), &["64501:7"], &["64501:1:2"]);

    let mut fp = Vec::new();
    let ok = topotests::try_wait_until(T, "198.51.100.0/25 in FRR", || {
        fp = frr.paths("198.51.100.0/25");
        !fp.is_empty()
    });
    assert!(ok.is_ok(), "{ok:?}: {}", frr.vtysh(&["show bgp summary"]));
    let f = &fp[0];
    assert_eq!(f["aspath"]["string"], "65000 64501", "{f:#}");
    assert_eq!(f["community"]["string"], "64501:7", "{f:#}");
    assert_eq!(f["largeCommunity"]["string"], "64501:1:2", "{f:#}");
    assert!(
        f["metric"].is_null(),
        "MED must not cross to another AS: {f:#}"
    );
    assert_eq!(f["nexthops"][0]["ip"], "192.0.2.5", "{f:#}");
    assert_eq!(f["valid"], true, "{f:#}");
    // FRR installs it into its own kernel through its zebra.
    let mut k = String::new();
    let ok = topotests::try_wait_until(T, "198.51.100.0/25 in FRR's kernel", || {
        k = r3
            .exec(&["ip", "-4", "route", "show", "198.51.100.0/25"])
            .unwrap_or_default();
        k.contains("via 192.0.2.5")
    });
    assert!(ok.is_ok(), "{ok:?}: {k}");

    // Withdrawn at BIRD: gone from FRR.
    bird.reconfigure(&bird_conf(""));
    let ok = topotests::try_wait_until(T, "198.51.100.0/25 withdrawn from FRR", || {
        frr.paths("198.51.100.0/25").is_empty()
    });
    assert!(ok.is_ok(), "{ok:?}: {:?}", frr.paths("198.51.100.0/25"));
    wait_kernel_gone(&r1, "198.51.100.0/25", T);
}

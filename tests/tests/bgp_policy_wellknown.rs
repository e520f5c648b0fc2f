//! The well-known communities of RFC 1997 honoured between real peers:
//! GoBGP sends four routes, one plain and one each with NO_EXPORT,
//! NO_ADVERTISE and NO_EXPORT_SUBCONFED. We keep all four; BIRD (eBGP)
//! gets only the plain one; FRR (iBGP) gets all but NO_ADVERTISE, with
//! the communities intact, and the plain one with the LOCAL_PREF our
//! export route map sets toward iBGP.
//!
//! Topology: r1 (ours, AS 65000) in the middle: eth0 192.0.2.1/30 -- r2
//! (GoBGP, AS 64502) 192.0.2.2; eth1 192.0.2.5/30 -- r3 (BIRD, AS 64503)
//! 192.0.2.6; eth2 192.0.2.9/30 -- r4 (FRR, AS 65000) 192.0.2.10.

mod bgp_util;

use bgp_util::*;
use topotests::try_wait_until;

const PLAIN: &str = "198.51.100.0/26";
/// (prefix, community as GoBGP takes it, as FRR prints it)
const MARKED: [(&str, &str, &str); 3] = [
    ("198.51.100.64/26", "65535:65281", "noExport"),
    ("198.51.100.128/26", "65535:65282", "noAdvertise"),
    ("198.51.100.192/26", "65535:65283", "localAs"),
];

const BIRD: &str = r#"
router id 192.0.2.6;
protocol device { scan time 1; }
protocol bgp r1 {
  local 192.0.2.6 as 64503;
  neighbor 192.0.2.5 as 65000;
  connect retry time 1;
  ipv4 { import all; export none; };
}
"#;

const FRR: &str = r#"hostname r4
log stdout informational
!
router bgp 65000
 bgp router-id 192.0.2.10
 no bgp default ipv4-unicast
 neighbor 192.0.2.9 remote-as 65000
 neighbor 192.0.2.9 timers connect 1
 !
 address-family ipv4 unicast
  neighbor 192.0.2.9 activate
 exit-address-family
!
"#;

fn ours() -> String {
    format!(
        r#"{}
[[neighbor]]
address = "192.0.2.2"
remote_as = 64502
import = "ALL"
export = "ALL"

[[neighbor]]
address = "192.0.2.6"
remote_as = 64503
import = "ALL"
export = "ALL"

[[prefix_list]]
name = "PLAIN"
entries = [ {{ seq = 10, action = "permit", prefix = "{PLAIN}" }} ]

[[route_map]]
name = "TO-IBGP"
entries = [
  {{ seq = 10, action = "permit", match = {{ prefix_list = "PLAIN" }}, set = {{ local_pref = 300 }} }},
  {{ seq = 20, action = "permit" }},
]

[[neighbor]]
address = "192.0.2.10"
remote_as = 65000
export = "TO-IBGP"
"#,
        ours_head(65000, "192.0.2.1", "")
    )
}

#[test]
fn bgp_well_known_communities_with_gobgp_bird_frr() {
    if !can_run(&[
        "gobgpd",
        "gobgp",
        "bird",
        "birdc",
        "/usr/lib/frr/bgpd",
        "/usr/lib/frr/zebra",
        "vtysh",
    ]) {
        return;
    }
    let (lab, r1, r2, r3) = trio("bgp_well_known_communities_with_gobgp_bird_frr");
    let r4 = lab.node("r4");
    lab.link(&r1, "eth2", &r4, "eth0");
    r1.add_addr("eth2", "192.0.2.9/30");
    r4.add_addr("eth0", "192.0.2.10/30");
    let (_z, b) = start_ours(&r1, &ours());
    let g = start_gobgp(&r2, &gobgp_conf(64502, "192.0.2.2", "192.0.2.1", ""));
    g.cmd(&["global", "rib", "add", "-a", "ipv4", PLAIN, "origin", "igp"]);
    for (p, c, _) in MARKED {
        g.cmd(&["global", "rib", "add", "-a", "ipv4", p, "community", c]);
    }
    let bird = start_bird(&r3, BIRD);
    let frr = start_frr(&r4, FRR);
    for peer in ["192.0.2.2", "192.0.2.6", "192.0.2.10"] {
        wait_established(&r1, peer);
    }
    bird.wait_established("r1");
    frr.wait_established("192.0.2.9");

    // We keep all four.
    wait_best(&r1, PLAIN);
    for (p, _, _) in MARKED {
        wait_best(&r1, p);
    }
    // iBGP: all but NO_ADVERTISE, communities kept.
    for (p, _, name) in MARKED.iter().filter(|m| m.2 != "noAdvertise") {
        let mut last = Vec::new();
        let r = try_wait_until(T, &format!("{p} at FRR"), || {
            last = frr.paths(p);
            !last.is_empty()
        });
        assert!(r.is_ok(), "{r:?}: {last:#?}");
        let comms = last[0]["community"]["list"].to_string();
        assert!(comms.contains(name), "{name} on {p}: {last:#?}");
    }
    // `set local_pref` toward iBGP, seen in FRR's table.
    let mut last = Vec::new();
    let r = try_wait_until(T, "PLAIN at FRR with LOCAL_PREF 300", || {
        last = frr.paths(PLAIN);
        last.first().is_some_and(|p| p["locPrf"] == 300)
    });
    assert!(r.is_ok(), "{r:?}: {last:#?}");
    // eBGP: the plain one only.
    bird.wait_route(PLAIN);
    for (p, _, _) in MARKED {
        assert!(!bird.has_route(p), "{p} leaked to eBGP: {}", bird.route(p));
    }
    let (no_adv, _, _) = MARKED[1];
    assert!(
        frr.paths(no_adv).is_empty(),
        "NO_ADVERTISE sent to iBGP: {:#?}",
        frr.paths(no_adv)
    );
    b.assert_running();
}

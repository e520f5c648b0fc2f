//! Peer groups and dynamic neighbors (FRR's `bgp listen range`): our bgpd
//! has a `[[peer_group]] TOR` (remote AS, TCP-MD5 key, policies) and a
//! `[[listen_range]]` 192.0.2.0/28 into it with `limit = 1`; no neighbor
//! is configured. BIRD and FRR on the same LAN dial us with the group's
//! key (installed on the listening socket for the whole prefix,
//! TCP_MD5SIG_EXT). One becomes a dynamic neighbor, shown as such with its
//! group, its routes in the kernel; the other is refused while the range
//! is full. When the first one's session ends it is removed, and the
//! other gets in.
//!
//! Topology: one LAN, r1 (ours) 192.0.2.1/24, r2 (BIRD) 192.0.2.2/24,
//! r3 (FRR) 192.0.2.3/24.

mod bgp_util;

use bgp_util::*;
use serde_json::Value;
use topotests::{try_wait_until, Lab, Node};

const KEY: &str = "tor-group-key";

const BIRD_CONF: &str = r#"router id 192.0.2.2;
protocol device { }
protocol static { ipv4; route 198.51.100.2/32 blackhole; }
protocol bgp ours {
  local 192.0.2.2 as 64512;
  neighbor 192.0.2.1 as 65000;
  password "tor-group-key";
  connect retry time 1;
  ipv4 { import all; export all; };
}
"#;

const FRR_CONF: &str = r#"hostname frr
log stdout informational
!
route-map ALL permit 10
!
router bgp 64512
 bgp router-id 192.0.2.3
 no bgp default ipv4-unicast
 no bgp network import-check
 neighbor 192.0.2.1 remote-as 65000
 neighbor 192.0.2.1 password tor-group-key
 neighbor 192.0.2.1 timers connect 1
 neighbor 192.0.2.1 timers 10 30
 !
 address-family ipv4 unicast
  network 198.51.100.3/32
  neighbor 192.0.2.1 activate
  neighbor 192.0.2.1 route-map ALL in
  neighbor 192.0.2.1 route-map ALL out
 exit-address-family
!
"#;

fn ours_conf() -> String {
    format!(
        r#"{}
[[peer_group]]
name = "TOR"
remote_as = 64512
password = "{KEY}"
import = "ALL"
export = "ALL"

[[listen_range]]
prefix = "192.0.2.0/28"
peer_group = "TOR"
limit = 1
"#,
        ours_head(65000, "192.0.2.1", "networks = [\"203.0.113.0/24\"]")
    )
}

/// Our neighbors as `show bgp neighbors json` lists them.
fn all(node: &Node) -> serde_json::Map<String, Value> {
    vtysh(node, "show bgp neighbors json")
        .ok()
        .and_then(|o| serde_json::from_str::<Value>(&o).ok())
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default()
}

fn established(node: &Node) -> Vec<String> {
    all(node)
        .into_iter()
        .filter(|(_, n)| n["bgpState"] == "Established")
        .map(|(a, _)| a)
        .collect()
}

#[test]
fn bgp_peering_dynamic_neighbors_from_a_listen_range() {
    if !can_run(&["bird", "/usr/lib/frr/bgpd"]) {
        return;
    }
    let lab = Lab::new("bgp_peering_dynamic");
    let (r1, r2, r3) = (lab.node("r1"), lab.node("r2"), lab.node("r3"));
    lab.lan("sw", &[(&r1, "eth0"), (&r2, "eth0"), (&r3, "eth0")]);
    r1.add_addr("eth0", "192.0.2.1/24");
    r2.add_addr("eth0", "192.0.2.2/24");
    r3.add_addr("eth0", "192.0.2.3/24");
    let (_z, b) = start_ours(&r1, &ours_conf());
    assert!(all(&r1).is_empty(), "no neighbor configured");
    let bird = start_bird(&r2, BIRD_CONF);
    let mut frr = Some(start_frr(&r3, FRR_CONF));

    // One of the two gets in (limit 1).
    let mut up = Vec::new();
    let r = try_wait_until(T, "a dynamic neighbor Established", || {
        up = established(&r1);
        !up.is_empty()
    });
    assert!(r.is_ok(), "{r:?}: {:#?}", all(&r1));
    assert_eq!(up.len(), 1, "{up:?}");
    let first = up[0].clone();
    let n = neighbor(&r1, &first);
    assert_eq!(n["dynamicPeer"], true, "{n:#}");
    assert_eq!(n["peerGroup"], "TOR", "{n:#}");
    assert_eq!(n["tcpMd5"], true, "{n:#}");
    let (route, other) = if first == "192.0.2.2" {
        ("198.51.100.2/32", "192.0.2.3")
    } else {
        ("198.51.100.3/32", "192.0.2.2")
    };
    wait_kernel(&r1, route, &first);
    let text = vtysh(&r1, &format!("show bgp neighbors {first}")).unwrap_or_default();
    assert!(text.contains("peer-group TOR (dynamic neighbor)"), "{text}");
    assert!(!text.contains(KEY));
    // The other stays out while the range is full.
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(all(&r1).get(other).is_none(), "{:#?}", all(&r1));
    let r = try_wait_until(T, "the refusal logged", || {
        b.log().contains("listen range at its limit")
    });
    assert!(r.is_ok(), "{r:?}");

    // The first one's session ends: it is removed, the other gets in.
    if first == "192.0.2.2" {
        bird.proc.kill();
    } else if let Some(f) = frr.take() {
        f.daemon.kill();
    }
    let r = try_wait_until(T, "the first dynamic neighbor removed", || {
        !all(&r1).contains_key(&first)
    });
    assert!(r.is_ok(), "{r:?}: {:#?}", all(&r1));
    wait_kernel_gone(&r1, route, T);
    wait_established(&r1, other);
    assert_eq!(neighbor(&r1, other)["dynamicPeer"], true);
    b.assert_running();
}

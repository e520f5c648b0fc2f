//! TCP-MD5 (RFC 2385) between our bgpd and BIRD 2, FRR and GoBGP, each
//! with its own key (one read from a `password_file`), and a fifth peer
//! (BIRD) whose key differs: it never gets a session, our side counts and
//! explains the failed connection attempts, and the other three sessions
//! never flap. The keys appear nowhere in `show` output, JSON, the running
//! configuration or bgpd's log.
//!
//! Topology: r1 (ours) in the middle, one /30 link to each peer:
//!   r1 eth0 192.0.2.1  -- r2 (BIRD)  192.0.2.2
//!   r1 eth1 192.0.2.5  -- r3 (FRR)   192.0.2.6
//!   r1 eth2 192.0.2.9  -- r4 (GoBGP) 192.0.2.10
//!   r1 eth3 192.0.2.13 -- r5 (BIRD, wrong key) 192.0.2.14

mod bgp_util;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use bgp_util::*;
use topotests::{try_wait_until, Lab};

const BIRD_KEY: &str = "bird-md5-Key";
const FRR_KEY: &str = "frr-md5-key-2";
const GOBGP_KEY: &str = "gobgp-Secret-3";
const R5_OURS: &str = "ours-for-r5";
const R5_THEIRS: &str = "theirs-for-r5";

fn bird_conf(local: &str, asn: u32, key: &str) -> String {
    format!(
        r#"router id {local};
protocol device {{ }}
protocol static {{ ipv4; route 198.51.100.{last}/32 blackhole; }}
protocol bgp ours {{
  local {local} as {asn};
  neighbor {peer} as 65000;
  password "{key}";
  connect retry time 1;
  ipv4 {{ import all; export all; }};
}}
"#,
        last = asn - 64500,
        peer = peer_of(local),
    )
}

/// Our address on the /30 of a peer address.
fn peer_of(addr: &str) -> String {
    let last: u8 = addr
        .rsplit('.')
        .next()
        .and_then(|x| x.parse().ok())
        .unwrap_or(0);
    format!("192.0.2.{}", last - 1)
}

const FRR_CONF: &str = r#"hostname frr
log stdout informational
!
route-map ALL permit 10
!
router bgp 64502
 bgp router-id 192.0.2.6
 no bgp default ipv4-unicast
 no bgp network import-check
 neighbor 192.0.2.5 remote-as 65000
 neighbor 192.0.2.5 password frr-md5-key-2
 neighbor 192.0.2.5 timers connect 1
 neighbor 192.0.2.5 timers 10 30
 !
 address-family ipv4 unicast
  network 198.51.100.2/32
  neighbor 192.0.2.5 activate
  neighbor 192.0.2.5 route-map ALL in
  neighbor 192.0.2.5 route-map ALL out
 exit-address-family
!
"#;

fn ours_conf(key_file: &str) -> String {
    format!(
        r#"{}
[[neighbor]]
address = "192.0.2.2"
remote_as = 64501
password = "{BIRD_KEY}"
import = "ALL"
export = "ALL"

[[neighbor]]
address = "192.0.2.6"
remote_as = 64502
password = "{FRR_KEY}"
import = "ALL"
export = "ALL"

[[neighbor]]
address = "192.0.2.10"
remote_as = 64503
password_file = "{key_file}"
import = "ALL"
export = "ALL"

[[neighbor]]
address = "192.0.2.14"
remote_as = 64505
password = "{R5_OURS}"
import = "ALL"
export = "ALL"
"#,
        ours_head(65000, "192.0.2.1", "networks = [\"203.0.113.0/24\"]")
    )
}

fn flaps(node: &topotests::Node, addr: &str) -> u64 {
    neighbor(node, addr)["connectionsDropped"]
        .as_u64()
        .unwrap_or(u64::MAX)
}

/// The sum of the kernel's TcpExtTCPMD5* counters in `nstat` output.
fn md5_failures(nstat: &str) -> u64 {
    nstat
        .lines()
        .filter(|l| l.starts_with("TcpExtTCPMD5"))
        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum()
}

#[test]
fn bgp_peering_md5_bird_frr_gobgp_and_a_wrong_key() {
    if !can_run(&["bird", "/usr/lib/frr/bgpd", "gobgpd", "gobgp"]) {
        return;
    }
    let lab = Lab::new("bgp_peering_md5");
    let r1 = lab.node("r1");
    let peers: Vec<_> = ["r2", "r3", "r4", "r5"]
        .iter()
        .map(|n| lab.node(n))
        .collect();
    for (i, p) in peers.iter().enumerate() {
        lab.link(&r1, &format!("eth{i}"), p, "eth0");
        r1.add_addr(&format!("eth{i}"), &format!("192.0.2.{}/30", 4 * i + 1));
        p.add_addr("eth0", &format!("192.0.2.{}/30", 4 * i + 2));
    }
    let key_file = r1.write_file("gobgp.key", &format!("{GOBGP_KEY}\n"));
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let conf = ours_conf(&s(&key_file));

    // A world-readable key file is refused at load, naming the file.
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let bad = r1.write_file("bad.toml", &conf);
    let out = r1
        .exec(&[&s(&topotests::bin("bgpd")), "--check", "-f", &s(&bad)])
        .expect_err("a world-readable key file must be refused");
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(
        text.contains(&s(&key_file)) && text.contains("0644"),
        "{text}"
    );
    assert!(!text.contains(GOBGP_KEY), "{text}");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();

    let (_z, b) = start_ours(&r1, &conf);
    let bird = start_bird(&peers[0], &bird_conf("192.0.2.2", 64501, BIRD_KEY));
    let frr = start_frr(&peers[1], FRR_CONF);
    let g = start_gobgp(
        &peers[2],
        &gobgp_conf(
            64503,
            "192.0.2.10",
            "192.0.2.9",
            &format!("auth-password = \"{GOBGP_KEY}\""),
        ),
    );
    let wrong = start_bird(&peers[3], &bird_conf("192.0.2.14", 64505, R5_THEIRS));

    for a in ["192.0.2.2", "192.0.2.6", "192.0.2.10"] {
        wait_established(&r1, a);
    }
    bird.wait_established("ours");
    frr.wait_established("192.0.2.5");
    g.wait_established("192.0.2.9");
    // Routes flow over the signed sessions.
    wait_kernel(&r1, "198.51.100.1/32", "192.0.2.2");
    wait_kernel(&r1, "198.51.100.2/32", "192.0.2.6");
    bird.wait_route("203.0.113.0/24");

    // The peer with the other key: no session, a clear counter and reason.
    let mut last = serde_json::Value::Null;
    let r = try_wait_until(T, "failed connects to 192.0.2.14 counted", || {
        last = neighbor(&r1, "192.0.2.14");
        last["connectFailures"].as_u64().unwrap_or(0) >= 2
    });
    assert!(r.is_ok(), "{r:?}: {last:#}");
    assert_ne!(last["bgpState"], "Established", "{last:#}");
    assert_eq!(last["tcpMd5"], true);
    assert!(
        last["lastConnectError"]
            .as_str()
            .unwrap_or("")
            .contains("TCP-MD5"),
        "{last:#}"
    );
    assert!(!wrong.cmd("show protocols ours").contains("Established"));
    // The kernels dropped the mis-signed segments (both sides count).
    let mut stats = String::new();
    let r = try_wait_until(T, "TCP-MD5 failures counted", || {
        stats = [&r1, &peers[3]]
            .iter()
            .map(|n| {
                n.exec(&["nstat", "-az", "TcpExtTCPMD5*"])
                    .unwrap_or_default()
            })
            .collect();
        md5_failures(&stats) > 0
    });
    assert!(r.is_ok(), "{r:?}: {stats}");

    // The good sessions never dropped meanwhile.
    std::thread::sleep(Duration::from_secs(3));
    for a in ["192.0.2.2", "192.0.2.6", "192.0.2.10"] {
        assert_eq!(state(&r1, a), "Established", "{a}");
        assert_eq!(flaps(&r1, a), 0, "{a}");
    }

    // No key anywhere: show, JSON, running configuration, log.
    let shown = vtysh(&r1, "show bgp neighbors").unwrap_or_default()
        + &vtysh(&r1, "show bgp neighbors json").unwrap_or_default()
        + &vtysh(&r1, "show running-config bgpd").unwrap_or_default();
    assert!(shown.contains("<hidden>"), "{shown}");
    for key in [BIRD_KEY, FRR_KEY, GOBGP_KEY, R5_OURS] {
        assert!(!shown.contains(key), "{key} shown: {shown}");
        assert!(!b.log().contains(key), "{key} in bgpd's log");
    }
    b.assert_running();
}

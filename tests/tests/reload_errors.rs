//! A configuration with an error, on SIGHUP and on gRPC ApplyConfig, leaves
//! the running daemon exactly as it was and reports the error with file,
//! line and key: bgpd (its session with BIRD stays up, never reset, the
//! route it learned stays in the kernel and the one it announces stays at
//! BIRD) and ospfd (its adjacency with FRR stays Full, FRR's state-change
//! counter does not move, the route stays). zebrad's own case is in
//! zebrad_static.rs (`zebrad_bad_config_is_rejected`).

mod bgp_util;

use std::time::Duration;

use proto::config::config_client::ConfigClient;
use proto::config::ApplyConfigRequest;
use proto::transport::{connect, Address};
use topotests::{Node, Proc, Signal};

/// `ApplyConfig` with `text` on `daemon`'s socket in `node`: (ok, error).
fn apply(node: &Node, daemon: &str, text: &str) -> (bool, String) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let ch = connect(&Address::Unix(node.socket(daemon)))
            .await
            .expect("connect");
        let r = ConfigClient::new(ch)
            .apply_config(ApplyConfigRequest {
                text: text.to_string(),
            })
            .await
            .expect("ApplyConfig")
            .into_inner();
        (r.ok, r.error)
    })
}

/// Waits (bounded) for `needle` in what `p` logged after byte `from`.
fn wait_log(p: &Proc, from: usize, needle: &str) -> String {
    topotests::wait_for(
        Duration::from_secs(10),
        &format!("`{needle}` in {}'s log", p.name()),
        || {
            let log = p.log();
            let new = log.get(from..).unwrap_or("").to_string();
            new.contains(needle).then_some(new)
        },
    )
}

#[test]
fn bgpd_bad_reload_changes_nothing() {
    use bgp_util::*;
    if !can_run(&["bird", "birdc"]) {
        return;
    }
    let (_lab, r1, r2) = pair("reload_errors_bgpd");
    let good = format!(
        r#"{}
[[neighbor]]
address = "192.0.2.2"
remote_as = 64501
import = "ALL"
export = "ALL"
"#,
        ours_head(65000, "192.0.2.1", "networks = [\"203.0.113.0/25\"]")
    );
    let (_z, b) = start_ours(&r1, &good);
    let bird = start_bird(
        &r2,
        r#"router id 192.0.2.2;
protocol device { }
protocol static s1 { ipv4; route 198.51.100.0/25 blackhole; }
protocol bgp peer1 {
  local 192.0.2.2 as 64501;
  neighbor 192.0.2.1 as 65000;
  connect retry time 1;
  ipv4 { import all; export all; };
}
"#,
    );
    wait_established(&r1, "192.0.2.2");
    wait_kernel(&r1, "198.51.100.0/25", "192.0.2.2");
    bird.wait_route("203.0.113.0/25");
    let before = neighbor(&r1, "192.0.2.2");

    // A neighbor address that is not one (line 15 of the file).
    let bad = good.replace("address = \"192.0.2.2\"", "address = \"192.0.2.999\"");
    let line = bad
        .lines()
        .position(|l| l.contains("192.0.2.999"))
        .map(|i| i + 1)
        .unwrap_or(0);
    let cfg = r1.dir().join("bgpd.toml");
    std::fs::write(&cfg, &bad).expect("write");
    let from = b.log().len();
    b.signal(Signal::SIGHUP);
    let log = wait_log(&b, from, "reload refused");
    let want = format!("bgpd.toml:{line}: neighbor.address");
    assert!(log.contains(&want), "{want} in {log}");

    let (ok, err) = apply(&r1, "bgpd", &bad);
    assert!(!ok, "ApplyConfig accepted a bad text");
    assert!(err.contains(&format!(":{line}: neighbor.address")), "{err}");

    // Nothing changed: same session (never reset), same routes.
    std::thread::sleep(Duration::from_secs(2));
    let after = neighbor(&r1, "192.0.2.2");
    assert_eq!(after["bgpState"], "Established", "{after:#}");
    assert_eq!(after["connectionsDropped"], before["connectionsDropped"]);
    assert!(
        after["bgpTimerUpMsec"].as_u64() >= before["bgpTimerUpMsec"].as_u64(),
        "{before:#} {after:#}"
    );
    assert!(kernel_bgp(&r1, "198.51.100.0/25").is_some());
    assert!(bird.has_route("203.0.113.0/25"));
    let running = vtysh(&r1, "show running-config").unwrap_or_default();
    assert!(
        running.contains("192.0.2.2") && !running.contains("192.0.2.999"),
        "{running}"
    );
    b.assert_running();
}

#[path = "ospf_common.rs"]
mod ospf_common;

#[test]
fn ospfd_bad_reload_changes_nothing() {
    use ospf_common::*;
    if !can_run(&["/usr/lib/frr/ospfd"]) {
        return;
    }
    let t = Duration::from_secs(60);
    let lab = lab("reload_errors_ospfd");
    let r1 = lab.node("r1");
    let r2 = lab.node("r2");
    lab.link(&r1, "eth0", &r2, "eth0");
    r1.add_addr("eth0", "198.51.100.1/29");
    r2.add_addr("eth0", "198.51.100.2/29");
    r2.add_addr("lo", "192.0.2.2/32");
    let good = our_config("192.0.2.1", &[("eth0", "0.0.0.0", "")], "");
    let (_z, o) = start_ours(&r1, &good);
    let frr = start_frr(
        &r2,
        &format!(
            "hostname frr\n!\ninterface eth0\n ip ospf hello-interval {HELLO}\n ip ospf dead-interval {DEAD}\n!\nrouter ospf\n ospf router-id 192.0.2.2\n network 198.51.100.0/29 area 0\n network 192.0.2.2/32 area 0\n!\n"
        ),
    );
    wait_full(&r1, 1, t);
    wait_route(&r1, "192.0.2.2/32", &["198.51.100.2"], t);
    let counter = || {
        frr.json("show ip ospf neighbor detail json")["neighbors"]["192.0.2.1"][0]
            ["stateChangeCounter"]
            .clone()
    };
    let changes = counter();
    assert!(changes.is_u64(), "FRR's state-change counter: {changes}");

    // A hello interval out of range.
    let bad = good.replace(&format!("hello_interval = {HELLO}"), "hello_interval = 0");
    let line = bad
        .lines()
        .position(|l| l == "hello_interval = 0")
        .map(|i| i + 1)
        .unwrap_or(0);
    std::fs::write(r1.dir().join("ospfd.toml"), &bad).expect("write");
    let from = o.log().len();
    o.signal(Signal::SIGHUP);
    let log = wait_log(&o, from, "reload refused");
    let want = format!("ospfd.toml:{line}: interface.hello_interval");
    assert!(log.contains(&want), "{want} in {log}");

    let (ok, err) = apply(&r1, "ospfd", &bad);
    assert!(!ok, "ApplyConfig accepted a bad text");
    assert!(
        err.contains(&format!(":{line}: interface.hello_interval")),
        "{err}"
    );

    // Nothing changed: still Full, never reset, the route stays; Hellos
    // still every second (FRR's dead interval is 4 s).
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(
        our_neighbors(&r1),
        vec![("192.0.2.2".to_string(), "Full".to_string())]
    );
    assert_eq!(counter(), changes);
    assert_eq!(
        gateways(&r1, "192.0.2.2/32"),
        Some(vec!["198.51.100.2".to_string()])
    );
    o.assert_running();
}

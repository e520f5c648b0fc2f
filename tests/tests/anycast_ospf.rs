//! An anycast service redistributed into OSPF: our zebrad checks a TCP
//! server (a tiny Python program the test starts) and our ospfd
//! redistributes the service prefix as an AS-external-LSA with the
//! service's `metric`; BIRD's OSPF learns and installs it. When the server
//! dies the service (down action depref) stays advertised with its
//! `depref_metric`; a second service with the default down action leaves
//! OSPF altogether.
//!
//! Topology: r1 (our zebrad + ospfd) eth0 198.51.100.1/30 -- r3 (BIRD)
//! eth0 198.51.100.2/30, point-to-point, area 0.

#[path = "ospf_common.rs"]
mod common;

use std::time::Duration;

use common::*;
use topotests::services::tcp_server;
use topotests::{try_wait_until, wait_until, Node};

const T: Duration = Duration::from_secs(60);

const SERVICES: &str = r#"
[[service]]
name = "web"
prefixes = ["203.0.113.10/32"]
interface = "lo"
interval = 0.5
fast_interval = 0.2
rise = 2
fall = 2
metric = 25
down_action = "depref"
depref_metric = 500
[[service.check]]
type = "tcp"
target = "127.0.0.1:9000"
timeout = 0.5

[[service]]
name = "api"
prefixes = ["203.0.113.11/32"]
interface = "lo"
interval = 0.5
fast_interval = 0.2
rise = 2
fall = 2
[[service.check]]
type = "tcp"
target = "127.0.0.1:9000"
timeout = 0.5
"#;

const BIRD: &str = r#"router id 192.0.2.3;
protocol device { scan time 1; }
protocol kernel { ipv4 { export all; }; }
protocol ospf v2 o1 {
  ipv4 { import all; export none; };
  area 0 {
    interface "eth0" { type ptp; hello 1; dead 4; retransmit 2; };
  };
}
"#;

fn birdc(node: &Node, cmd: &str) -> String {
    let sock = node.dir().join("bird.ctl").to_string_lossy().into_owned();
    let mut args = vec!["birdc", "-s", &sock];
    args.extend(cmd.split_whitespace());
    node.exec(&args)
        .unwrap_or_else(|e| format!("birdc failed: {e}"))
}

fn wait_bird(node: &Node, prefix: &str, want: &str) -> String {
    let mut last = String::new();
    let r = try_wait_until(T, &format!("BIRD: {prefix} with `{want}`"), || {
        last = birdc(node, &format!("show route {prefix} all"));
        last.contains(want)
    });
    if let Err(e) = r {
        panic!("{e}: {last}");
    }
    last
}

#[test]
fn anycast_into_ospf() {
    if !can_run(&["bird", "birdc", "python3"]) {
        return;
    }
    let lab = lab("anycast_ospf");
    let r1 = lab.node("r1");
    let r3 = lab.node("r3");
    lab.link(&r1, "eth0", &r3, "eth0");
    r1.add_addr("eth0", "198.51.100.1/30");
    r3.add_addr("eth0", "198.51.100.2/30");
    let srv = tcp_server(&r1, "tcp1", 9000);
    let (z, _o) = start_ours_with(
        &r1,
        SERVICES,
        &our_config(
            "192.0.2.1",
            &[("eth0", "0.0.0.0", "type = \"point-to-point\"")],
            "[[redistribute]]\nsource = \"anycast\"\nmetric = 20\n",
        ),
    );
    let _bird = start_bird(&r3, BIRD);
    wait_full(&r1, 1, T);

    // Healthy: the external LSA carries the service's metric (25); the
    // service without a metric gets ospfd's redistribute metric (20).
    let r = wait_bird(&r3, "203.0.113.10/32", "OSPF.metric2: 25");
    assert!(r.contains("198.51.100.1"), "{r}");
    wait_bird(&r3, "203.0.113.11/32", "OSPF.metric2: 20");
    wait_until(T, "BIRD installs 203.0.113.10/32", || {
        kernel_routes(&r3, "12")
            .iter()
            .any(|(d, g)| d == "203.0.113.10/32" && g == &["198.51.100.1".to_string()])
    });

    // The server dies: web stays advertised with its depref metric, api
    // leaves OSPF.
    srv.kill();
    wait_bird(&r3, "203.0.113.10/32", "OSPF.metric2: 500");
    let mut last = String::new();
    try_wait_until(T, "203.0.113.11/32 gone from BIRD", || {
        last = birdc(&r3, "show route 203.0.113.11/32");
        !last.lines().any(|l| l.starts_with("203.0.113.11/32"))
    })
    .unwrap_or_else(|e| panic!("{e}: {last}"));

    // Back: the healthy metric again.
    let _srv = tcp_server(&r1, "tcp2", 9000);
    wait_bird(&r3, "203.0.113.10/32", "OSPF.metric2: 25");
    wait_bird(&r3, "203.0.113.11/32", "OSPF.metric2: 20");
    z.assert_running();
}

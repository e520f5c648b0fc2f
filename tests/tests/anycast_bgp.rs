//! Anycast service health checking end to end: zebrad checks a TCP service,
//! puts its prefix on `lo` and in the RIB (source anycast) while healthy,
//! bgpd redistributes it to BIRD; a dead service is withdrawn before its
//! address leaves `lo`, and comes back after `rise` passing checks; on
//! SIGTERM zebrad withdraws the prefix before it exits.
//!
//! Topology: site (our zebrad + bgpd, AS 65000) eth0 192.0.2.1/30 --
//! upstream (BIRD 2, AS 64501) eth0 192.0.2.2/30. The service is
//! 203.0.113.10/32 on site's lo, checked by a TCP connect to a Python HTTP
//! server the test starts on 127.0.0.1:8080 inside site.

mod bgp_util;

use std::time::{Duration, Instant};

use bgp_util::*;
use proto::transport::{connect, Address};
use proto::zebra::zebra_client::ZebraClient;
use proto::zebra::{ShowServicesReply, ShowServicesRequest};
use topotests::{try_wait_until, wait_until, Lab, Node, Proc, Signal};

const PREFIX: &str = "203.0.113.10/32";
const PORT: &str = "8080";
const INTERVAL: Duration = Duration::from_secs(2);
const FAST: Duration = Duration::from_secs(1);
const RISE: u32 = 2;
const FALL: u32 = 2;
const REMOVE_DELAY: Duration = Duration::from_secs(2);
/// BGP propagation and polling on top of the health checks.
const MARGIN: Duration = Duration::from_secs(3);

fn zebrad_conf() -> String {
    format!(
        r#"[[service]]
name = "web"
prefixes = ["{PREFIX}"]
interface = "lo"
interval = {}
fast_interval = {}
rise = {RISE}
fall = {FALL}
remove_delay = {}
[[service.check]]
type = "tcp"
target = "127.0.0.1:{PORT}"
timeout = 0.5
"#,
        INTERVAL.as_secs(),
        FAST.as_secs(),
        REMOVE_DELAY.as_secs()
    )
}

fn bgpd_conf() -> String {
    format!(
        r#"{}
[[redistribute]]
source = "anycast"

[[neighbor]]
address = "192.0.2.2"
remote_as = 64501
import = "ALL"
export = "ALL"
"#,
        ours_head(65000, "192.0.2.1", "")
    )
}

const BIRD_CONF: &str = r#"router id 192.0.2.2;
log stderr all;
protocol device { }
protocol bgp site {
  local 192.0.2.2 as 64501;
  neighbor 192.0.2.1 as 65000;
  connect retry time 1;
  error wait time 1, 2;
  ipv4 { import all; export none; };
}
"#;

fn on_lo(node: &Node) -> bool {
    node.exec(&["ip", "-4", "-o", "addr", "show", "dev", "lo"])
        .unwrap_or_default()
        .contains("203.0.113.10/32")
}

fn start_server(node: &Node, name: &str) -> Proc {
    let p = node.spawn(
        name,
        &["python3", "-m", "http.server", "--bind", "127.0.0.1", PORT],
    );
    wait_until(Duration::from_secs(20), "the HTTP server listening", || {
        p.assert_running();
        node.tcp_connect("127.0.0.1", 8080).is_ok()
    });
    p
}

fn services(node: &Node) -> ShowServicesReply {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    rt.block_on(async {
        let ch = connect(&Address::Unix(node.socket("zebrad")))
            .await
            .expect("connect to zebrad");
        ZebraClient::new(ch)
            .show_services(ShowServicesRequest {
                name: String::new(),
            })
            .await
            .expect("ShowServices")
            .into_inner()
    })
}

/// Polls BIRD and lo until the route is gone from BIRD; returns when it
/// went and asserts the address was still on lo then.
fn wait_withdrawn_before_address(bird: &Bird, site: &Node, within: Duration) -> Duration {
    let t0 = Instant::now();
    loop {
        let lo = on_lo(site);
        let learned = bird.has_route(PREFIX);
        if !learned {
            assert!(
                lo || t0.elapsed() > REMOVE_DELAY,
                "the address left lo before the route left BIRD"
            );
            return t0.elapsed();
        }
        assert!(lo, "the address left lo while BIRD still had the route");
        assert!(
            t0.elapsed() < within,
            "{PREFIX} still in BIRD after {:?}",
            t0.elapsed()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn anycast_bgp_withdraw_and_return() {
    if !can_run(&["bird", "birdc", "python3"]) {
        return;
    }
    let lab = Lab::new("anycast_bgp");
    let site = lab.node("site");
    let up = lab.node("upstream");
    lab.link(&site, "eth0", &up, "eth0");
    site.add_addr("eth0", "192.0.2.1/30");
    up.add_addr("eth0", "192.0.2.2/30");

    let zcfg = site.write_file("zebrad.toml", &zebrad_conf());
    let run = s(&site.run_dir());
    let z = site.spawn_env(
        "zebrad",
        &[
            &s(&topotests::bin("zebrad")),
            "-f",
            &s(&zcfg),
            "--run-dir",
            &run,
        ],
        &[("ZEBRAD_LOG", "info")],
    );
    z.wait_socket(&site.socket("zebrad"), Duration::from_secs(20));
    let bcfg = site.write_file("bgpd.toml", &bgpd_conf());
    let _b = start_bgpd(&site, &bcfg);
    let bird = start_bird(&up, BIRD_CONF);
    wait_established(&site, "192.0.2.2");
    bird.wait_established("site");

    // No server yet: the service is confirmed down; nothing on lo, nothing
    // advertised.
    try_wait_until(T, "service web down", || {
        services(&site).services[0].state == "down"
    })
    .unwrap_or_else(|e| panic!("{e}: {:?}", services(&site)));
    assert!(!on_lo(&site));
    assert!(!bird.has_route(PREFIX));

    // Server up: after `rise` checks the address is on lo and BIRD learns
    // the prefix from us.
    let server = start_server(&site, "http1");
    let t0 = Instant::now();
    let r = bird.wait_route(PREFIX);
    assert!(r.contains("BGP.as_path: 65000"), "{r}");
    assert!(on_lo(&site), "advertised without the address on lo");
    let rise_time = t0.elapsed();
    assert!(
        rise_time < INTERVAL + FAST * RISE + MARGIN,
        "came up after {rise_time:?}"
    );
    let st = &services(&site).services[0];
    assert_eq!(st.state, "up", "{st:?}");
    assert!(
        st.advertised && st.address_present && !st.depreferred,
        "{st:?}"
    );
    assert_eq!(st.interface, "lo");
    assert!(st.checks[0].passing, "{st:?}");
    assert_eq!(st.checks[0].kind, "tcp");
    // The anycast route is in the kernel's main table as proto 199, dev lo.
    let k = site
        .exec(&["ip", "-4", "route", "show", "table", "254", "proto", "199"])
        .unwrap_or_default();
    assert!(k.contains("203.0.113.10 dev lo"), "{k}");

    // Server dies: BIRD loses the prefix within the next regular check plus
    // (fall - 1) fast checks and a margin; the route goes before the address.
    server.kill();
    let gone = wait_withdrawn_before_address(&bird, &site, INTERVAL + FAST * FALL + MARGIN);
    eprintln!("withdrawn {gone:?} after the server died");
    wait_until(REMOVE_DELAY + MARGIN, "the address off lo", || {
        !on_lo(&site)
    });
    let st = &services(&site).services[0];
    assert_eq!(st.state, "down", "{st:?}");
    assert_eq!(st.flaps, 1);
    assert!(
        !st.checks[0].passing && st.checks[0].failures >= 2,
        "{st:?}"
    );
    assert!(st.reason.contains("failed"), "{}", st.reason);

    // zebrad's log: withdrawn, then the addresses removed.
    let log = z.log();
    let w = log
        .rfind("service prefixes withdrawn")
        .expect("withdrawal logged");
    let a = log
        .rfind("service addresses removed")
        .expect("removal logged");
    assert!(w < a, "address removed before the withdrawal:\n{log}");
    assert!(
        log.contains("service=web") || log.contains("service=\"web\""),
        "{log}"
    );

    // Server back: the prefix returns after `rise` passing checks.
    let _server = start_server(&site, "http2");
    let t0 = Instant::now();
    bird.wait_route(PREFIX);
    assert!(on_lo(&site));
    assert!(
        t0.elapsed() < INTERVAL + FAST * RISE + MARGIN,
        "{:?}",
        t0.elapsed()
    );
    assert_eq!(services(&site).services[0].state, "up");
    z.assert_running();

    // SIGTERM: the prefix leaves BIRD by a BGP withdrawal while zebrad
    // still runs (the session stays up), then zebrad exits (bounded) and
    // the address is off lo.
    z.signal(Signal::SIGTERM);
    let t0 = Instant::now();
    loop {
        let gone = !bird.has_route(PREFIX);
        let running = z.is_running();
        if gone {
            assert!(running, "zebrad exited before BIRD lost the prefix");
            break;
        }
        assert!(
            t0.elapsed() < MARGIN,
            "{PREFIX} still in BIRD after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        z.wait_exit(Duration::from_secs(10)).is_some(),
        "zebrad did not exit"
    );
    assert!(!on_lo(&site), "the address stayed on lo after the stop");
    assert_eq!(state(&site, "192.0.2.2"), "Established");
}

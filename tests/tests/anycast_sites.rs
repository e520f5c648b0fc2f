//! Anycast services on two sites behind one upstream router, end to end:
//! our zebrad + bgpd on each site, BIRD 2 as the upstream, and as the
//! services an HTTP server, a TCP server and a DNS responder (tiny Python
//! programs the test starts inside the sites), plus a load-balancer
//! reporter over gRPC.
//!
//! Topology: site a (AS 65001) eth0 192.0.2.1/30 -- upstream (BIRD, AS
//! 64501) eth0 192.0.2.2/30; site b (AS 65002) eth0 192.0.2.5/30 --
//! upstream eth1 192.0.2.6/30. The upstream exports everything to both
//! sites, so each site learns the other's anycast paths.
//!
//! Services (addresses on each site's lo):
//! - web 203.0.113.10/32 (HTTP check, both sites): communities, large
//!   communities and MED on the route; last-site protection with
//!   prepends; drained with `anycast drain web` (GRACEFUL_SHUTDOWN, then
//!   withdrawn).
//! - dns 203.0.113.53/32 (DNS query check, site a): stop/start within
//!   fall x fast-interval and rise.
//! - tcp 203.0.113.20/32 (TCP check, site a): the maintenance file drains.
//! - lb 203.0.113.30/32 (site a, load-balancer reports only, TTL 2 s).
//! - flappy 203.0.113.40/32 (TCP check, site a, damping): held down.

mod bgp_util;

use std::time::{Duration, Instant};

use bgp_util::*;
use proto::transport::{connect, Address};
use proto::zebra::load_balancer_client::LoadBalancerClient;
use proto::zebra::zebra_client::ZebraClient;
use proto::zebra::{HealthReport, ServiceStatus, ShowServicesRequest};
use topotests::services::{dns_responder, http_server, tcp_server};
use topotests::{try_wait_until, wait_until, Lab, Node, Proc, Signal};

const WEB: &str = "203.0.113.10/32";
const DNS: &str = "203.0.113.53/32";
const TCP: &str = "203.0.113.20/32";
const LB: &str = "203.0.113.30/32";
const FLAPPY: &str = "203.0.113.40/32";
const FAST: f64 = 0.2;
const FALL: u32 = 2;
const RISE: u32 = 2;
const DRAIN: u64 = 3;
/// BGP propagation to BIRD and polling, on top of the health checks.
const MARGIN: Duration = Duration::from_secs(3);

fn zebrad_conf(site: &Node, all: bool) -> String {
    let common = format!(
        "interface = \"lo\"\ninterval = 0.5\nfast_interval = {FAST}\nrise = {RISE}\nfall = {FALL}\nremove_delay = 1\n"
    );
    let mut c = format!(
        r#"[[service]]
name = "web"
prefixes = ["{WEB}"]
{common}med = 10
communities = ["65000:100"]
large_communities = ["65000:1:2"]
last_site = true
depref_prepend = 2
depref_communities = ["65000:666"]
drain_time = {DRAIN}
[[service.check]]
type = "http"
url = "http://127.0.0.1:8080/"
timeout = 0.5
"#
    );
    if all {
        let maint = s(&site.dir().join("tcp.down"));
        c.push_str(&format!(
            r#"
[[service]]
name = "dns"
prefixes = ["{DNS}"]
{common}[[service.check]]
type = "dns"
server = "127.0.0.1:5353"
name = "example.com"
qtype = "A"
rcode = "NOERROR"
timeout = 0.5

[[service]]
name = "tcp"
prefixes = ["{TCP}"]
{common}drain_time = 0
maintenance_file = "{maint}"
[[service.check]]
type = "tcp"
target = "127.0.0.1:9000"
timeout = 0.5

[[service]]
name = "lb"
prefixes = ["{LB}"]
interface = "lo"
lb_ttl = 2
lb_only = true

[[service]]
name = "flappy"
prefixes = ["{FLAPPY}"]
interface = "lo"
interval = 0.2
fast_interval = 0.2
rise = 1
fall = 1
remove_delay = 0
[[service.check]]
type = "tcp"
target = "127.0.0.1:9001"
timeout = 0.3
[service.damping]
penalty = 1000
suppress = 1500
reuse = 500
half_life = 30
max_hold = 60
"#
        ));
    }
    c
}

fn bgpd_conf(asn: u32, id: &str, peer: &str) -> String {
    format!(
        r#"{}
[[redistribute]]
source = "anycast"

[[neighbor]]
address = "{peer}"
remote_as = 64501
import = "ALL"
export = "ALL"
"#,
        ours_head(asn, id, "")
    )
}

const BIRD_CONF: &str = r#"router id 192.0.2.2;
log stderr all;
protocol device { }
protocol bgp a {
  local 192.0.2.2 as 64501;
  neighbor 192.0.2.1 as 65001;
  connect retry time 1;
  error wait time 1, 2;
  ipv4 { import all; export all; };
}
protocol bgp b {
  local 192.0.2.6 as 64501;
  neighbor 192.0.2.5 as 65002;
  connect retry time 1;
  error wait time 1, 2;
  ipv4 { import all; export all; };
}
"#;

fn start_site(site: &Node, all: bool, asn: u32, id: &str, peer: &str) -> (Proc, Proc) {
    let zcfg = site.write_file("zebrad.toml", &zebrad_conf(site, all));
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
    let bcfg = site.write_file("bgpd.toml", &bgpd_conf(asn, id, peer));
    let b = start_bgpd(site, &bcfg);
    (z, b)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("tokio runtime")
}

fn service(node: &Node, name: &str) -> ServiceStatus {
    rt().block_on(async {
        let ch = connect(&Address::Unix(node.socket("zebrad")))
            .await
            .expect("connect to zebrad");
        ZebraClient::new(ch)
            .show_services(ShowServicesRequest { name: name.into() })
            .await
            .expect("ShowServices")
            .into_inner()
            .services
            .pop()
            .expect("the service")
    })
}

fn wait_effective(node: &Node, name: &str, state: &str, within: Duration) -> ServiceStatus {
    let mut last = None;
    let r = try_wait_until(within, &format!("{name} {state}"), || {
        let s = service(node, name);
        let ok = s.effective == state;
        last = Some(s);
        ok
    });
    if let Err(e) = r {
        panic!("{e}: {last:?}");
    }
    last.expect("polled")
}

fn report(node: &Node, healthy: bool) -> String {
    rt().block_on(async {
        let ch = connect(&Address::Unix(node.socket("zebrad")))
            .await
            .expect("connect to zebrad");
        LoadBalancerClient::new(ch)
            .report_health(HealthReport {
                service: "lb".into(),
                healthy,
                ttl_ms: 0,
                reporter: "test-lb".into(),
                reason: "pool".into(),
            })
            .await
            .expect("ReportHealth")
            .into_inner()
            .state
    })
}

/// The AS paths BIRD has for `prefix`, sorted.
fn as_paths(bird: &Bird, prefix: &str) -> Vec<String> {
    let mut v: Vec<String> = bird
        .route(prefix)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("BGP.as_path:"))
        .map(|p| p.trim().to_string())
        .collect();
    v.sort();
    v
}

fn wait_paths(bird: &Bird, prefix: &str, want: &[&str], within: Duration) {
    let mut last = Vec::new();
    let r = try_wait_until(within, &format!("{prefix} paths {want:?} in BIRD"), || {
        last = as_paths(bird, prefix);
        last == want
    });
    if let Err(e) = r {
        panic!("{e}; last {last:?}: {}", bird.route(prefix));
    }
}

fn wait_gone(bird: &Bird, prefix: &str, within: Duration) -> Duration {
    let t0 = Instant::now();
    let r = try_wait_until(within, &format!("{prefix} gone from BIRD"), || {
        !bird.has_route(prefix)
    });
    if let Err(e) = r {
        panic!("{e}: {}", bird.route(prefix));
    }
    t0.elapsed()
}

fn on_lo(node: &Node, prefix: &str) -> bool {
    node.exec(&["ip", "-4", "-o", "addr", "show", "dev", "lo"])
        .unwrap_or_default()
        .contains(prefix)
}

#[test]
fn anycast_two_sites() {
    if !can_run(&["bird", "birdc", "python3"]) {
        return;
    }
    let lab = Lab::new("anycast_sites");
    let a = lab.node("a");
    let b = lab.node("b");
    let up = lab.node("upstream");
    lab.link(&a, "eth0", &up, "eth0");
    lab.link(&b, "eth0", &up, "eth1");
    a.add_addr("eth0", "192.0.2.1/30");
    up.add_addr("eth0", "192.0.2.2/30");
    b.add_addr("eth0", "192.0.2.5/30");
    up.add_addr("eth1", "192.0.2.6/30");

    let bird = start_bird(&up, BIRD_CONF);
    let (za, _ba) = start_site(&a, true, 65001, "192.0.2.1", "192.0.2.2");
    let (zb, _bb) = start_site(&b, false, 65002, "192.0.2.5", "192.0.2.6");
    wait_established(&a, "192.0.2.2");
    wait_established(&b, "192.0.2.6");
    bird.wait_established("a");
    bird.wait_established("b");

    let mut web_a = http_server(&a, "http-a", 8080);
    let web_b = http_server(&b, "http-b", 8080);
    let mut dns = dns_responder(&a, "dns", 5353);
    let _tcp = tcp_server(&a, "tcp9000", 9000);

    // 1. The upstream learns each healthy service's prefix, web from both
    // sites, with the configured attributes.
    wait_paths(&bird, WEB, &["65001", "65002"], T);
    let r = bird.route(WEB);
    assert!(r.contains("BGP.med: 10"), "{r}");
    assert!(r.contains("(65000,100)"), "{r}");
    assert!(r.contains("(65000, 1, 2)"), "{r}");
    bird.wait_route(DNS);
    bird.wait_route(TCP);
    assert!(on_lo(&a, "203.0.113.53/32"));
    let st = service(&a, "dns");
    assert_eq!(st.effective, "up", "{st:?}");
    assert_eq!(st.checks[0].kind, "dns");
    assert!(!st.history.is_empty() && st.history[0].passed, "{st:?}");

    // 2. The DNS responder dies: withdrawn within fall x fast interval
    // (after the regular check that sees it first) plus the margin, before
    // the address leaves lo; back after `rise` passing checks.
    dns.kill();
    let gone = wait_gone(
        &bird,
        DNS,
        Duration::from_secs_f64(0.5 + FAST * FALL as f64) + MARGIN,
    );
    eprintln!("dns withdrawn {gone:?} after its responder died");
    let st = service(&a, "dns");
    assert_eq!(st.effective, "down", "{st:?}");
    wait_until(MARGIN, "the dns address off lo", || {
        !on_lo(&a, "203.0.113.53/32")
    });
    dns = dns_responder(&a, "dns2", 5353);
    bird.wait_route(DNS);
    assert!(on_lo(&a, "203.0.113.53/32"));
    dns.assert_running();

    // 3. Drain from vtysh: GRACEFUL_SHUTDOWN on the route at the upstream,
    // then withdrawn after drain_time; undrain brings it back without it.
    let out = vtysh(&a, "anycast drain web").expect("vtysh anycast drain");
    assert!(out.contains("GRACEFUL_SHUTDOWN"), "{out}");
    let t0 = Instant::now();
    let mut last = String::new();
    try_wait_until(MARGIN, "web from a with graceful-shutdown", || {
        last = bird.route(WEB);
        last.contains("(65535,0)")
    })
    .unwrap_or_else(|e| panic!("{e}: {last}"));
    assert!(t0.elapsed() < Duration::from_secs(DRAIN), "{last}");
    let j = vtysh_json(&a, "show anycast service web json");
    assert_eq!(j[0]["drain"], "graceful-shutdown", "{j}");
    wait_paths(&bird, WEB, &["65002"], Duration::from_secs(DRAIN) + MARGIN);
    assert!(
        t0.elapsed() >= Duration::from_secs(DRAIN) - Duration::from_millis(500),
        "withdrawn before the drain time: {:?}",
        t0.elapsed()
    );
    assert_eq!(service(&a, "web").effective, "drained");
    let out = vtysh(&a, "anycast undrain web").expect("vtysh anycast undrain");
    assert!(out.contains("not drained"), "{out}");
    wait_paths(&bird, WEB, &["65001", "65002"], MARGIN);
    assert!(!bird.route(WEB).contains("(65535,0)"));

    // 4. The maintenance file drains the tcp service (drain_time 0: at
    // once); removing it brings the service back.
    let maint = a.dir().join("tcp.down");
    std::fs::write(&maint, b"").expect("maintenance file");
    wait_gone(&bird, TCP, MARGIN);
    let st = service(&a, "tcp");
    assert_eq!(
        (st.effective.as_str(), st.drain_source.as_str()),
        ("drained", "maintenance-file"),
        "{st:?}"
    );
    std::fs::remove_file(&maint).expect("remove the maintenance file");
    bird.wait_route(TCP);

    // 5. A load balancer's reports with a TTL of 2 s: advertised while it
    // reports healthy, withdrawn when it goes silent.
    assert!(!bird.has_route(LB));
    assert_eq!(report(&a, true), "up");
    bird.wait_route(LB);
    for _ in 0..3 {
        std::thread::sleep(Duration::from_secs(1));
        assert_eq!(report(&a, true), "up");
    }
    assert!(
        bird.has_route(LB),
        "withdrawn although the reports came in time"
    );
    let silent = Instant::now();
    wait_gone(&bird, LB, Duration::from_secs(2) + MARGIN);
    assert!(silent.elapsed() >= Duration::from_millis(1500));
    let st = service(&a, "lb");
    assert_eq!(
        (st.effective.as_str(), st.lb_state.as_str()),
        ("down", "expired"),
        "{st:?}"
    );
    assert!(st.reason.contains("expired"), "{st:?}");

    // 6. A flapping service is held down: two flaps pass the suppress
    // threshold; the server stays up but the prefix stays withdrawn.
    let mut f = tcp_server(&a, "flap1", 9001);
    bird.wait_route(FLAPPY);
    for n in 2..=3 {
        f.kill();
        wait_gone(&bird, FLAPPY, MARGIN);
        f = tcp_server(&a, &format!("flap{n}"), 9001);
        if n == 2 {
            bird.wait_route(FLAPPY);
        }
    }
    let st = wait_effective(&a, "flappy", "held-down", MARGIN);
    assert!(
        st.suppressed && st.flaps == 2 && st.hold_remaining_secs > 0,
        "{st:?}"
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(!bird.has_route(FLAPPY), "advertised while held down");
    let sum = vtysh(&a, "show anycast services").expect("show anycast services");
    assert!(sum.contains("held-down"), "{sum}");

    // 7. Both sites fail. a fails first: b still has the service, so a
    // withdraws; then b fails: nobody else has it, so b stays advertised
    // depreferred (last-site protection).
    web_a.kill();
    wait_paths(&bird, WEB, &["65002"], T);
    let st = wait_effective(&a, "web", "down", T);
    assert!(st.reason.contains("another site"), "{st:?}");
    web_b.kill();
    let st = wait_effective(&b, "web", "last-site", T);
    assert!(st.last_site && st.advertised && st.depreferred, "{st:?}");
    wait_paths(&bird, WEB, &["65002 65002 65002"], T);
    let r = bird.route(WEB);
    assert!(r.contains("(65000,666)"), "{r}");
    assert!(
        zb.log().contains("no other site advertises"),
        "last-site not logged"
    );
    // a recovers: b sees a's path and withdraws.
    web_a = http_server(&a, "http-a2", 8080);
    wait_paths(&bird, WEB, &["65001"], T);
    let st = wait_effective(&b, "web", "down", T);
    assert!(!st.advertised, "{st:?}");
    web_a.assert_running();

    // 8. SIGTERM on a: every prefix leaves BIRD while zebrad still runs.
    za.signal(Signal::SIGTERM);
    let t0 = Instant::now();
    loop {
        // b may re-advertise web (last site) right after a's withdrawal.
        let gone = !as_paths(&bird, WEB).contains(&"65001".to_string()) && !bird.has_route(DNS);
        if gone {
            assert!(
                za.is_running(),
                "zebrad exited before BIRD lost the prefixes"
            );
            break;
        }
        assert!(t0.elapsed() < MARGIN, "still in BIRD after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        za.wait_exit(Duration::from_secs(10)).is_some(),
        "zebrad did not exit"
    );
    // b, down with nobody else left, is the last site again.
    wait_effective(&b, "web", "last-site", T);
    wait_paths(&bird, WEB, &["65002 65002 65002"], T);
    zb.assert_running();
}

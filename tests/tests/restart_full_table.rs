//! Crashes with a full table (issue 9): 1,000,000 IPv4 routes learned from
//! BIRD over eBGP and installed by our zebrad, plus OSPF routes from the
//! same BIRD; then bgpd, zebrad and ospfd are each killed with SIGKILL and
//! started again while a thread follows the kernel's route notifications.
//!
//! What must hold after each restart:
//! - the kernel never loses a route that should stay: the only deletions
//!   the watcher sees are of the routes BIRD withdrew while our daemon was
//!   down (graceful restart on the BGP side, zebrad's stale retention for
//!   its clients, zebrad's adoption of its own routes at start);
//! - no stale route outlives its timers: those withdrawn routes do leave
//!   the kernel once the restarted daemon has converged;
//! - every RIB, the kernel and the peer agree again: the kernel holds
//!   exactly the routes BIRD announces, bgpd's table as many.
//!
//! Topology: r1 (ours: zebrad, bgpd, ospfd) eth0 192.0.2.1/30 -- r2 (BIRD:
//! BGP AS 65001 with graceful restart, OSPF) eth0 192.0.2.2/30.
//! `FULL_TABLE_ROUTES` changes the table size (default 1,000,000).

mod bgp_util;

use std::time::{Duration, Instant};

use bgp_util::*;
use topotests::netlink::{RouteCounter, RouteWatcher, RTM_DELROUTE, RTNLGRP_IPV4_ROUTE};
use topotests::{bin, try_wait_until, Node, Proc};

const RT_PROT_BGP: u8 = 186;
const RT_PROT_OSPF: u8 = 188;
const MAIN: u32 = 254;
/// Withdrawn by BIRD while bgpd is down.
const GONE_BGP: &str = "203.0.113.0/25";
/// Withdrawn by BIRD while zebrad is down.
const GONE_ZEBRA: &str = "203.0.113.128/25";
/// BIRD's stub network (r2's lo) in OSPF.
const OSPF_ROUTE: &str = "198.51.100.0/25";

fn routes() -> usize {
    std::env::var("FULL_TABLE_ROUTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

/// A bound that grows with the table: debug builds install a million
/// routes in well under a minute; three minutes leaves room for a loaded
/// machine.
fn big_wait() -> Duration {
    Duration::from_secs(60 + (routes() as u64 * 120) / 1_000_000)
}

fn bird_conf(routes_file: &str) -> String {
    format!(
        r#"router id 192.0.2.2;
protocol device {{ scan time 1; }}
include "{routes_file}";
protocol static gone_bgp {{ ipv4; route {GONE_BGP} blackhole; }}
protocol static gone_zebra {{ ipv4; route {GONE_ZEBRA} blackhole; }}
protocol bgp ours {{
  local 192.0.2.2 as 65001;
  neighbor 192.0.2.1 as 65000;
  graceful restart on;
  ipv4 {{ import none; export where source = RTS_STATIC; }};
}}
protocol ospf v2 o {{
  ipv4 {{ import none; export none; }};
  area 0 {{
    interface "eth0" {{ type broadcast; hello 1; dead 4; retransmit 2; }};
    interface "lo" {{ stub yes; }};
  }};
}}
"#
    )
}

/// The i-th /24 from 1.0.0.0 upward (as bench_bgp).
fn prefix(i: usize) -> String {
    let n = (1u32 << 24) + ((i as u32) << 8);
    let [a, b, c, _] = n.to_be_bytes();
    format!("{a}.{b}.{c}.0/24")
}

struct Ours {
    zebrad: Proc,
    bgpd: Proc,
    ospfd: Proc,
}

impl Ours {
    fn spawn(node: &Node, name: &str) -> Proc {
        let run = s(&node.run_dir());
        let cfg = node.dir().join(format!("{name}.toml"));
        let p = node.spawn_env(
            name,
            &[&s(&bin(name)), "-f", &s(&cfg), "--run-dir", &run],
            &[
                ("ZEBRAD_LOG", "info"),
                ("BGPD_LOG", "info"),
                ("OSPFD_LOG", "info"),
            ],
        );
        // zebrad reads the kernel (a million routes) before it listens.
        p.wait_socket(&node.socket(name), big_wait());
        p
    }

    fn start(node: &Node) -> Ours {
        node.write_file("zebrad.toml", "[rib]\nstale_time = 120\n");
        node.write_file(
            "bgpd.toml",
            &format!(
                "{}\n[[neighbor]]\naddress = \"192.0.2.2\"\nremote_as = 65001\nimport = \"ALL\"\nexport = \"ALL\"\n",
                ours_head(65000, "192.0.2.1", "graceful_restart = true\nrestart_time = 120")
            ),
        );
        node.write_file(
            "ospfd.toml",
            "router_id = \"192.0.2.1\"\n[[interface]]\nname = \"eth0\"\narea = \"0.0.0.0\"\nhello_interval = 1\ndead_interval = 4\nretransmit_interval = 2\n",
        );
        let zebrad = Self::spawn(node, "zebrad");
        let bgpd = Self::spawn(node, "bgpd");
        let ospfd = Self::spawn(node, "ospfd");
        Ours {
            zebrad,
            bgpd,
            ospfd,
        }
    }
}

/// Counts the kernel's deletions of BGP and OSPF routes in the main table.
fn deletion_watcher(node: &Node) -> RouteWatcher {
    RouteWatcher::follow(node.ns(), RTNLGRP_IPV4_ROUTE, i64::MAX, move |t, h| {
        // struct rtmsg after the header: table at +4, protocol at +5.
        let ours = h.get(20) == Some(&(MAIN as u8))
            && matches!(h.get(21), Some(&RT_PROT_BGP) | Some(&RT_PROT_OSPF));
        i64::from(t == RTM_DELROUTE && ours)
    })
    .expect("route watcher")
}

fn kernel_count(node: &Node, protocol: u8) -> usize {
    RouteCounter::in_namespace(node.ns())
        .and_then(|mut c| c.count_proto(MAIN, false, protocol))
        .unwrap_or(0)
}

/// Waits until the kernel holds `n` BGP routes; panics with the count.
fn wait_bgp_routes(node: &Node, n: usize, what: &str) {
    let mut have = 0;
    let r = try_wait_until(big_wait(), what, || {
        have = kernel_count(node, RT_PROT_BGP);
        if have != n {
            std::thread::sleep(Duration::from_millis(900));
        }
        have == n
    });
    assert!(r.is_ok(), "{r:?}: {have} of {n} BGP routes in the kernel");
}

fn bgp_table_size(node: &Node) -> u64 {
    let j = vtysh_json(node, "show bgp summary json");
    j["ipv4Unicast"]["peers"]["192.0.2.2"]["pfxRcd"]
        .as_u64()
        .unwrap_or(0)
}

/// `ip route show exact PREFIX` (one line, not a JSON dump of a million).
fn has_kernel_route(node: &Node, prefix: &str) -> bool {
    node.exec(&[
        "ip", "-4", "route", "show", "table", "main", "exact", prefix,
    ])
    .is_ok_and(|o| !o.trim().is_empty())
}

fn wait_ospf_full(node: &Node) {
    let r = try_wait_until(T, "OSPF adjacency with BIRD Full", || {
        vtysh(node, "show ip ospf neighbor").is_ok_and(|o| {
            o.lines()
                .any(|l| l.contains("192.0.2.2") && l.contains("Full"))
        })
    });
    assert!(
        r.is_ok(),
        "{r:?}: {:?}",
        vtysh(node, "show ip ospf neighbor")
    );
}

#[test]
fn kill_nine_with_a_full_table_loses_nothing() {
    if !can_run(&["bird", "birdc"]) {
        return;
    }
    let n = routes();
    let (lab, r1, r2) = pair("kill_nine_with_a_full_table_loses_nothing");
    let mut table = String::with_capacity(n * 36);
    table.push_str("protocol static table_full {\n ipv4;\n");
    for i in 0..n {
        table.push_str("route ");
        table.push_str(&prefix(i));
        table.push_str(" blackhole;\n");
    }
    table.push_str("}\n");
    let routes_file = r2.write_file("routes.conf", &table);
    r2.add_addr("lo", "198.51.100.1/25");
    r2.must(&["ip", "link", "set", "lo", "up"]);
    drop(table);
    let bird = start_bird(&r2, &bird_conf(&s(&routes_file)));
    let mut ours = Ours::start(&r1);
    wait_established(&r1, "192.0.2.2");
    // BIRD's full table plus the two routes it withdraws later.
    let started = Instant::now();
    wait_bgp_routes(&r1, n + 2, "the full table in r1's kernel");
    eprintln!(
        "{n} routes learned and installed in {:?}",
        started.elapsed()
    );
    wait_ospf_full(&r1);
    let r = try_wait_until(T, "BIRD's OSPF route in the kernel", || {
        has_kernel_route(&r1, OSPF_ROUTE)
    });
    assert!(
        r.is_ok(),
        "{r:?}: {:?} {:?} {}",
        vtysh(&r1, "show ip ospf route"),
        r1.exec(&["ip", "route", "show", "proto", "ospf"]),
        bird.cmd("show ospf state")
    );

    let mut deletions = deletion_watcher(&r1);

    // 1. bgpd killed; BIRD withdraws GONE_BGP meanwhile.
    ours.bgpd.kill();
    let r = try_wait_until(T, "BIRD sees the session drop", || {
        !bird.cmd("show protocols ours").contains("Established")
    });
    assert!(r.is_ok(), "{r:?}");
    bird.cmd("disable gone_bgp");
    ours.bgpd = Ours::spawn(&r1, "bgpd");
    wait_established(&r1, "192.0.2.2");
    let r = try_wait_until(
        big_wait(),
        "GONE_BGP leaves the kernel (stale sweep)",
        || !has_kernel_route(&r1, GONE_BGP),
    );
    assert!(r.is_ok(), "{r:?}");
    wait_bgp_routes(&r1, n + 1, "the table after bgpd's restart");
    assert_eq!(
        deletions.count(),
        1,
        "a route that should stay left the kernel while bgpd restarted"
    );
    let r = try_wait_until(big_wait(), "bgpd's table complete again", || {
        bgp_table_size(&r1) == n as u64 + 1
    });
    assert!(r.is_ok(), "{r:?}: {}", bgp_table_size(&r1));

    // 2. zebrad killed; BIRD withdraws GONE_ZEBRA meanwhile (bgpd, still
    // up, learns it; zebrad adopts the kernel's routes at start and drops
    // the ones bgpd does not push again).
    ours.zebrad.kill();
    bird.cmd("disable gone_zebra");
    ours.zebrad = Ours::spawn(&r1, "zebrad");
    let r = try_wait_until(big_wait(), "GONE_ZEBRA leaves the kernel", || {
        !has_kernel_route(&r1, GONE_ZEBRA)
    });
    assert!(r.is_ok(), "{r:?}");
    wait_bgp_routes(&r1, n, "the table after zebrad's restart");
    assert_eq!(
        deletions.count(),
        2,
        "a route that should stay left the kernel while zebrad restarted"
    );
    assert!(has_kernel_route(&r1, OSPF_ROUTE));

    // 3. ospfd killed: its route stays while it is away and after.
    ours.ospfd.kill();
    assert!(has_kernel_route(&r1, OSPF_ROUTE));
    ours.ospfd = Ours::spawn(&r1, "ospfd");
    wait_ospf_full(&r1);
    // Its End-of-RIB (once converged) ends zebrad's stale wait.
    let r = try_wait_until(T, "ospfd's End-of-RIB in zebrad", || {
        let z = vtysh_json(&r1, "show zebra json");
        z["clients"].as_array().into_iter().flatten().any(|c| {
            c["source"] == "ospf" && c["connected"] == true && c["staleExpiresInSecs"] == 0
        })
    });
    assert!(r.is_ok(), "{r:?}");
    assert!(has_kernel_route(&r1, OSPF_ROUTE));
    assert_eq!(
        deletions.count(),
        2,
        "a route that should stay left the kernel while ospfd restarted"
    );
    assert!(!deletions.overflowed(), "route notifications were lost");
    deletions.stop();

    // Everyone agrees.
    assert_eq!(kernel_count(&r1, RT_PROT_BGP), n);
    assert_eq!(bgp_table_size(&r1), n as u64);
    // No client is gone with routes left behind, nothing waits to expire.
    let z = vtysh_json(&r1, "show zebra json");
    for c in z["clients"].as_array().into_iter().flatten() {
        let gone_with_routes = c["connected"] == false && c["routes"].as_u64() != Some(0);
        assert!(
            !gone_with_routes && c["staleExpiresInSecs"].as_u64() == Some(0),
            "{z:#}"
        );
    }
    for p in [&ours.zebrad, &ours.bgpd, &ours.ospfd] {
        p.assert_running();
    }
    bird.proc.assert_running();
    drop(lab);
}

//! Self-tests of the test bed: namespaces, links, addresses, processes and
//! cleanup, including cleanup after a panicking test.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use topotests::netlink::RouteWatcher;
use topotests::sweep::list_namespaces;
use topotests::{have_program, wait_until, Lab, RouteCounter};

fn two_nodes(lab: &Lab) -> (topotests::Node, topotests::Node) {
    let r1 = lab.node("r1");
    let r2 = lab.node("r2");
    lab.link(&r1, "eth0", &r2, "eth0");
    r1.add_addr("eth0", "192.0.2.1/24");
    r2.add_addr("eth0", "192.0.2.2/24");
    r1.add_addr("eth0", "2001:db8::1/64");
    r2.add_addr("eth0", "2001:db8::2/64");
    (r1, r2)
}

#[test]
fn link_addresses_and_cleanup() {
    let lab = Lab::new("link_addresses_and_cleanup");
    let (r1, r2) = two_nodes(&lab);
    let names = lab.namespaces();
    assert_eq!(names.len(), 2);
    for ns in &names {
        assert!(list_namespaces().contains(ns), "{ns} missing");
        assert!(ns.len() <= 32, "{ns} too long");
    }
    // Each node sees only its own interfaces.
    let links = r1.must(&["ip", "-o", "link", "show"]);
    assert!(links.contains("eth0") && links.contains("lo"), "{links}");
    assert!(r1
        .must(&["ip", "addr", "show", "dev", "eth0"])
        .contains("192.0.2.1/24"));
    wait_until(Duration::from_secs(10), "r1 reaches r2 over IPv4", || {
        r1.reachable("192.0.2.2")
    });
    wait_until(Duration::from_secs(10), "r2 reaches r1 over IPv6", || {
        r2.reachable("2001:db8::1")
    });
    // A connected route shows up in the kernel's main table.
    let routes = r1.routes(254, false);
    assert!(
        routes.iter().any(|r| r["dst"] == "192.0.2.0/24"),
        "{routes:?}"
    );
    assert!(r1.route(254, "192.0.2.0/24").is_some());
    assert!(r1.routes(100, false).is_empty());
    // Errors carry stderr.
    let e = r1
        .exec(&[
            "ip",
            "route",
            "add",
            "198.51.100.0/24",
            "via",
            "203.0.113.9",
        ])
        .unwrap_err();
    assert!(!e.stderr.is_empty(), "{e:?}");
    drop(lab);
    let left = list_namespaces();
    for ns in &names {
        assert!(!left.contains(ns), "{ns} left behind");
    }
}

#[test]
fn tcp_to_a_spawned_listener() {
    if !have_program("python3") {
        eprintln!("python3 not installed: skipping");
        return;
    }
    let lab = Lab::new("tcp_to_a_spawned_listener");
    let (r1, r2) = two_nodes(&lab);
    let srv = r2.spawn(
        "http",
        &[
            "python3",
            "-m",
            "http.server",
            "--bind",
            "192.0.2.2",
            "8080",
        ],
    );
    wait_until(Duration::from_secs(15), "TCP to r2:8080", || {
        srv.assert_running();
        r1.tcp_connect("192.0.2.2", 8080).is_ok()
    });
    let ok = r1.tcp_connect("192.0.2.2", 8080).unwrap();
    assert!(ok.contains("connected"));
    // The same port is closed in r1's own namespace: isolation.
    assert!(r1.tcp_connect("127.0.0.1", 8080).is_err());
    assert!(srv.is_running());
    let st = srv.stop().expect("stopped");
    assert!(!st.success() || st.code() == Some(0));
    assert!(!srv.is_running());
}

#[test]
fn processes_are_stopped_on_drop() {
    let lab = Lab::new("processes_are_stopped_on_drop");
    let n = lab.node("h1");
    // A process that ignores SIGTERM, with a child: SIGKILL of the group.
    let p = n.spawn(
        "stubborn",
        &["sh", "-c", "trap '' TERM; echo ready; sleep 300 & wait"],
    );
    let q = n.spawn("sleeper", &["sleep", "300"]);
    wait_until(Duration::from_secs(10), "stubborn shell ready", || {
        p.log().contains("ready")
    });
    let (pid_p, pid_q) = (p.pid(), q.pid());
    assert!(p.is_running() && q.is_running());
    assert!(p.status_kib("VmRSS").is_some());
    let log = p.log_path().to_path_buf();
    assert!(log.exists());
    let t = std::time::Instant::now();
    drop(lab);
    assert!(
        t.elapsed() >= topotests::lab::STOP_GRACE,
        "SIGTERM was ignored, so the lab had to wait and escalate"
    );
    for pid in [pid_p, pid_q] {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}/cmdline")).exists()
                || std::fs::read(format!("/proc/{pid}/cmdline"))
                    .map(|c| c.is_empty())
                    .unwrap_or(true),
            "process {pid} survived the lab"
        );
    }
}

#[test]
fn a_panicking_test_still_cleans_up() {
    let mut names = Vec::new();
    let mut dir = None;
    let r = catch_unwind(AssertUnwindSafe(|| {
        let lab = Lab::new("a_panicking_test_still_cleans_up");
        let (r1, _r2) = two_nodes(&lab);
        r1.spawn("sleeper", &["sleep", "300"]);
        names = lab.namespaces();
        dir = Some(lab.dir().to_path_buf());
        panic!("deliberate failure");
    }));
    assert!(r.is_err());
    assert_eq!(names.len(), 2);
    let left = list_namespaces();
    for ns in &names {
        assert!(!left.contains(ns), "{ns} left behind after a panic");
    }
    // The directory is kept for the post-mortem; remove it here.
    if let Some(d) = dir {
        assert!(d.join("r1").join("sleeper.log").exists());
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn lan_and_route_counter() {
    let lab = Lab::new("lan_and_route_counter");
    let a = lab.node("a");
    let b = lab.node("b");
    let c = lab.node("c");
    lab.lan("sw", &[(&a, "eth0"), (&b, "eth0"), (&c, "eth0")]);
    for (n, ip) in [
        (&a, "198.51.100.1/24"),
        (&b, "198.51.100.2/24"),
        (&c, "198.51.100.3/24"),
    ] {
        n.add_addr("eth0", ip);
    }
    wait_until(
        Duration::from_secs(10),
        "a reaches c through the bridge",
        || a.reachable("198.51.100.3"),
    );
    let mut counter = RouteCounter::in_namespace(a.ns()).expect("counter");
    assert_eq!(counter.count(100, false).unwrap(), 0);
    let watcher = RouteWatcher::start(a.ns(), 100, false, 5).expect("watcher");
    a.must_sh(
        "for i in 1 2 3 4 5; do ip route add 203.0.113.$i/32 via 198.51.100.2 table 100; done",
    );
    a.must(&[
        "ip",
        "-6",
        "route",
        "add",
        "2001:db8:1::/48",
        "dev",
        "eth0",
        "table",
        "100",
    ]);
    assert_eq!(counter.count(100, false).unwrap(), 5);
    assert_eq!(counter.count(100, true).unwrap(), 1);
    assert_eq!(a.routes(100, false).len(), 5);
    wait_until(Duration::from_secs(5), "5 route notifications", || {
        watcher.reached_at().is_some()
    });
    assert_eq!(watcher.count(), 5);
    assert!(!watcher.overflowed());
    // Another node's table is its own.
    let mut cb = RouteCounter::in_namespace(b.ns()).expect("counter");
    assert_eq!(cb.count(100, false).unwrap(), 0);
}

#[test]
fn stale_namespaces_of_dead_processes_are_swept() {
    let lab = Lab::new("stale_namespaces_of_dead_processes_are_swept");
    drop(lab);
    // A namespace named as if made by a process that no longer exists.
    let pid = (4_000_000..4_194_304)
        .find(|p| !topotests::sweep::pid_alive(*p))
        .expect("a free pid");
    let ns = format!("rt{pid}-0-ghost");
    topotests::cmd::run(&["ip", "netns", "add", &ns]).unwrap();
    let removed = topotests::sweep_stale_namespaces();
    assert!(removed.contains(&ns), "{removed:?}");
    assert!(!list_namespaces().contains(&ns));
}

//! zebrad's life cycle and its clients': routes survive a crash or a stop
//! and a restart without a gap, a disconnected client's routes stay stale
//! for its stale time and then leave, end-of-RIB after a reconnect removes
//! what was not re-sent, and zebrad's own routes from a previous life that
//! are no longer wanted are removed after the stale time at restart, while
//! routes it did not install are never touched.
//!
//! Topology (zebrad_util.rs): r1 (zebrad) eth0 192.0.2.1/24,
//! 2001:db8:1::1/64 -- r2; r1 eth1 198.51.100.1/24 -- r3.

#[path = "zebrad_util.rs"]
mod util;

use std::time::{Duration, Instant};

use proto::zebra::RouteSource;
use topotests::{wait_until, Signal};
use util::*;

const STATICS: &str = r#"
[rib]
stale_time = 3

[[static]]
prefix = "203.0.113.0/25"
via = "192.0.2.2"

[[static]]
prefix = "203.0.113.128/25"
via = ["192.0.2.2", "198.51.100.2"]

[[static]]
prefix = "203.0.113.0/24"
via = "198.51.100.2"
table = 1000

[[static]]
prefix = "2001:db8:2::/48"
via = "2001:db8:1::2"

[[static]]
prefix = "198.51.100.128/25"
kind = "blackhole"
table = 1000
"#;

const EXPECT: [(u32, &str); 5] = [
    (MAIN, "203.0.113.0/25"),
    (MAIN, "203.0.113.128/25"),
    (1000, "203.0.113.0/24"),
    (MAIN, "2001:db8:2::/48"),
    (1000, "198.51.100.128/25"),
];

fn restart_keeps_routes(test: &str, sig: Signal) {
    let t = topo(test);
    let r1 = &t.r1;
    let cfg = r1.write_file("zebrad.toml", STATICS);
    let z = start_zebrad(r1, &cfg);
    wait_until(SOON, "all static routes in the kernel", || {
        missing(r1, STATIC, &EXPECT).is_empty()
    });

    let watch = PresenceWatch::start(r1, STATIC, &EXPECT);
    match sig {
        Signal::SIGKILL => {
            assert!(z.kill().is_some(), "zebrad did not die on SIGKILL");
        }
        _ => {
            z.signal(sig);
            let st = z.wait_exit(Duration::from_secs(10));
            assert!(st.is_some(), "zebrad did not stop on {sig}");
        }
    }
    // Down: the kernel keeps forwarding.
    let m = missing(r1, STATIC, &EXPECT);
    assert!(m.is_empty(), "routes gone while zebrad is down: {m:?}");
    std::thread::sleep(Duration::from_millis(500));
    let m = missing(r1, STATIC, &EXPECT);
    assert!(m.is_empty(), "routes gone while zebrad is down: {m:?}");

    let started = Instant::now();
    let z2 = start_zebrad(r1, &cfg);
    let zc = Zc::new(&r1.socket("zebrad"));
    wait_until(SOON, "zebrad shows its 5 routes installed", || {
        let st = zc.status();
        st.rib_routes >= 5 && st.fib_routes >= 5
    });
    for (table, p) in EXPECT {
        let e = zc.show_prefix(if table == MAIN { 0 } else { table }, p);
        assert!(
            e.iter().any(|e| e.selected && e.installed),
            "{p} table {table} after restart: {e:?}"
        );
    }
    // Past the stale time of the adopted routes (3 s) and a margin: the
    // re-announced statics must not expire with them.
    let until = started + Duration::from_secs(6);
    while Instant::now() < until {
        z2.assert_running();
        std::thread::sleep(Duration::from_millis(200));
    }
    let (polls, gaps) = watch.finish();
    assert!(polls > 10, "only {polls} polls");
    assert!(
        gaps.is_empty(),
        "routes missing during the restart ({polls} polls): {gaps:?}"
    );
    for (table, p) in EXPECT {
        let e = zc.show_prefix(if table == MAIN { 0 } else { table }, p);
        assert!(
            e.iter().any(|e| e.selected && e.installed && !e.stale),
            "{p} table {table} after the stale time: {e:?}"
        );
    }
    let st = zc.status();
    assert_eq!(st.fib_errors, 0, "{st:?}");
    z2.assert_running();
}

#[test]
fn zebrad_restart_after_sigkill_keeps_routes() {
    restart_keeps_routes("zebrad_restart_after_sigkill_keeps_routes", Signal::SIGKILL);
}

#[test]
fn zebrad_restart_after_sigterm_keeps_routes() {
    restart_keeps_routes("zebrad_restart_after_sigterm_keeps_routes", Signal::SIGTERM);
}

#[test]
fn zebrad_disconnected_client_routes_go_stale_then_leave() {
    let t = topo("zebrad_disconnected_client_routes_go_stale_then_leave");
    let r1 = &t.r1;
    let cfg = r1.write_file("zebrad.toml", "[rib]\nstale_time = 120\n");
    let z = start_zebrad(r1, &cfg);
    let zc = Zc::new(&r1.socket("zebrad"));
    let mut c = zc.pusher(RouteSource::Bgp, "stale", 3);
    let rep = c.batch(
        1,
        vec![
            route("203.0.113.0/25", &["192.0.2.2"], 0),
            route("203.0.113.128/25", &["198.51.100.2"], 0),
            route("2001:db8:2::/48", &["2001:db8:1::2"], 0),
        ],
        vec![],
        false,
    );
    assert_eq!(rep.accepted, 3, "{rep:?}");
    assert!(rep.rejected.is_empty(), "{rep:?}");
    let r = wait_route(r1, MAIN, "203.0.113.0/25", BGP, SOON);
    assert_route(&r, &["192.0.2.2 eth0"]);
    wait_route(r1, MAIN, "203.0.113.128/25", BGP, SOON);
    wait_route(r1, MAIN, "2001:db8:2::/48", BGP, SOON);

    c.close();
    let gone_at = Instant::now();
    wait_until(SOON, "Status: the client disconnected", || {
        zc.status()
            .clients
            .iter()
            .any(|c| c.instance == "stale" && !c.connected)
    });
    assert!(
        route_of(r1, MAIN, "203.0.113.0/25", BGP).is_some(),
        "routes left at once on disconnect"
    );
    let e = zc.show_prefix(0, "203.0.113.0/25");
    assert!(e.iter().any(|e| e.stale && e.installed), "{e:?}");

    // They leave within the stale time (3 s) and a margin, not before ~2 s.
    wait_gone(r1, MAIN, "203.0.113.0/25", BGP, Duration::from_secs(10));
    let after = gone_at.elapsed();
    assert!(
        after >= Duration::from_secs(2),
        "stale routes left after {after:?}, before the client's stale time of 3 s"
    );
    wait_gone(r1, MAIN, "203.0.113.128/25", BGP, Duration::from_secs(3));
    wait_gone(r1, MAIN, "2001:db8:2::/48", BGP, Duration::from_secs(3));
    assert!(zc.show_prefix(0, "203.0.113.0/25").is_empty());
    z.assert_running();
}

#[test]
fn zebrad_reconnect_and_end_of_rib_keep_only_resent_routes() {
    let t = topo("zebrad_reconnect_and_end_of_rib_keep_only_resent_routes");
    let r1 = &t.r1;
    let cfg = r1.write_file("zebrad.toml", "");
    let z = start_zebrad(r1, &cfg);
    let zc = Zc::new(&r1.socket("zebrad"));
    let mut c = zc.pusher(RouteSource::Bgp, "gr", 30);
    let rep = c.batch(
        1,
        vec![
            route("203.0.113.0/25", &["192.0.2.2"], 0),
            route("203.0.113.128/25", &["198.51.100.2"], 0),
        ],
        vec![],
        false,
    );
    assert_eq!(rep.accepted, 2, "{rep:?}");
    wait_route(r1, MAIN, "203.0.113.0/25", BGP, SOON);
    wait_route(r1, MAIN, "203.0.113.128/25", BGP, SOON);
    c.close();
    wait_until(SOON, "Status: the client disconnected", || {
        zc.status()
            .clients
            .iter()
            .any(|c| c.instance == "gr" && !c.connected)
    });

    // Back well within its 30 s: one route re-sent, then end-of-RIB.
    let watch = PresenceWatch::start(r1, BGP, &[(MAIN, "203.0.113.0/25")]);
    let mut c = zc.pusher(RouteSource::Bgp, "gr", 30);
    assert_eq!(c.hello.stale_routes, 2, "hello reply: {:?}", c.hello);
    let rep = c.batch(
        1,
        vec![route("203.0.113.0/25", &["192.0.2.2"], 0)],
        vec![],
        false,
    );
    assert_eq!(rep.accepted, 1, "{rep:?}");
    // Not yet end-of-RIB: the other one is still there (stale).
    assert!(route_of(r1, MAIN, "203.0.113.128/25", BGP).is_some());
    let rep = c.batch(2, vec![], vec![], true);
    assert!(rep.rejected.is_empty(), "{rep:?}");
    wait_gone(r1, MAIN, "203.0.113.128/25", BGP, SOON);
    let r = wait_route(r1, MAIN, "203.0.113.0/25", BGP, SOON);
    assert_route(&r, &["192.0.2.2 eth0"]);
    let e = zc.show_prefix(0, "203.0.113.0/25");
    assert!(e.iter().any(|e| e.installed && !e.stale), "{e:?}");
    assert!(zc.show_prefix(0, "203.0.113.128/25").is_empty());
    let (_, gaps) = watch.finish();
    assert!(gaps.is_empty(), "re-sent route went missing: {gaps:?}");
    z.assert_running();
    drop(c);
}

#[test]
fn zebrad_removes_its_unwanted_leftovers_after_restart() {
    let t = topo("zebrad_removes_its_unwanted_leftovers_after_restart");
    let r1 = &t.r1;
    let cfg = r1.write_file("zebrad.toml", STATICS);
    let z = start_zebrad(r1, &cfg);
    {
        let zc = Zc::new(&r1.socket("zebrad"));
        let mut c = zc.pusher(RouteSource::Bgp, "old", 3);
        let rep = c.batch(
            1,
            vec![route("198.51.100.192/26", &["192.0.2.2"], 0)],
            vec![],
            false,
        );
        assert_eq!(rep.accepted, 1, "{rep:?}");
        wait_route(r1, MAIN, "198.51.100.192/26", BGP, SOON);
        wait_until(SOON, "all static routes in the kernel", || {
            missing(r1, STATIC, &EXPECT).is_empty()
        });
        z.kill();
    }
    // Routes zebrad did not install, some with its protocol ids.
    for args in [
        &[
            "ip",
            "route",
            "add",
            "203.0.113.64/26",
            "via",
            "192.0.2.2",
            "proto",
            "196",
            "metric",
            "50",
        ][..],
        &[
            "ip",
            "route",
            "add",
            "203.0.113.192/26",
            "via",
            "198.51.100.2",
            "proto",
            "186",
        ][..],
        &[
            "ip",
            "route",
            "add",
            "203.0.113.224/27",
            "via",
            "198.51.100.2",
            "table",
            "1000",
        ][..],
    ] {
        r1.must(args);
    }

    // The new life wants only one of the old statics.
    r1.write_file(
        "zebrad.toml",
        "[rib]\nstale_time = 3\n\n[[static]]\nprefix = \"203.0.113.0/25\"\nvia = \"192.0.2.2\"\n",
    );
    let watch = PresenceWatch::start(r1, STATIC, &[(MAIN, "203.0.113.0/25")]);
    let started = Instant::now();
    let z2 = start_zebrad(r1, &cfg);
    let zc = Zc::new(&r1.socket("zebrad"));
    // The static client is complete at start (the config re-announces all
    // it wants, then ends its RIB): old statics may go at once, and at the
    // latest after the stale time.
    let old_statics = [
        (MAIN, "203.0.113.128/25"),
        (1000, "203.0.113.0/24"),
        (MAIN, "2001:db8:2::/48"),
        (1000, "198.51.100.128/25"),
    ];
    for (table, p) in old_statics {
        wait_gone(r1, table, p, STATIC, Duration::from_secs(12));
    }
    // Nobody re-announces the BGP route: adopted, kept for the stale time
    // (3 s), then removed.
    if started.elapsed() < Duration::from_secs(2) {
        assert!(
            route_of(r1, MAIN, "198.51.100.192/26", BGP).is_some(),
            "an adopted BGP route was flushed at once"
        );
        let e = zc.show_prefix(0, "198.51.100.192/26");
        assert!(e.iter().any(|e| e.stale), "adopted route not stale: {e:?}");
    }
    wait_gone(r1, MAIN, "198.51.100.192/26", BGP, Duration::from_secs(12));
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "the adopted BGP route was removed after {:?}, before the stale time of 3 s",
        started.elapsed()
    );
    let (_, gaps) = watch.finish();
    assert!(gaps.is_empty(), "the wanted static went missing: {gaps:?}");
    let r = wait_route(r1, MAIN, "203.0.113.0/25", STATIC, SOON);
    assert_route(&r, &["192.0.2.2 eth0"]);

    // Never touched: a different metric, a different table entry, a route
    // of another installer.
    let r = r1
        .route(MAIN, "203.0.113.64/26")
        .expect("metric-50 proto-196 route removed");
    assert_eq!(r["metric"].as_u64(), Some(50), "{r}");
    assert!(
        route_of(r1, MAIN, "203.0.113.192/26", BGP).is_some(),
        "a proto-186 route zebrad did not install (metric 0) was removed"
    );
    assert!(
        r1.route(1000, "203.0.113.224/27").is_some(),
        "a boot route in table 1000 was removed"
    );
    let st = zc.status();
    assert!(st.rib_routes >= 1 && st.fib_routes >= 1, "{st:?}");
    z2.assert_running();
}

#[test]
fn zebrad_client_takes_back_its_routes_after_restart() {
    let t = topo("zebrad_client_takes_back_its_routes_after_restart");
    let r1 = &t.r1;
    let cfg = r1.write_file("zebrad.toml", "[rib]\nstale_time = 30\n");
    let z = start_zebrad(r1, &cfg);
    {
        let zc = Zc::new(&r1.socket("zebrad"));
        let mut c = zc.pusher(RouteSource::Bgp, "default", 30);
        let rep = c.batch(
            1,
            vec![
                route("203.0.113.0/25", &["192.0.2.2"], 0),
                route("203.0.113.128/25", &["192.0.2.2", "198.51.100.2"], 0),
            ],
            vec![],
            false,
        );
        assert_eq!(rep.accepted, 2, "{rep:?}");
        wait_route(r1, MAIN, "203.0.113.0/25", BGP, SOON);
        wait_route_nh(
            r1,
            MAIN,
            "203.0.113.128/25",
            BGP,
            &["192.0.2.2 eth0", "198.51.100.2 eth1"],
        );
        z.kill();
    }
    let watch = PresenceWatch::start(r1, BGP, &[(MAIN, "203.0.113.0/25")]);
    start_zebrad(r1, &cfg);
    let zc = Zc::new(&r1.socket("zebrad"));
    // The client comes back (as bgpd would after zebrad's restart): zebrad
    // hands it its adopted routes as stale ones of its own.
    let mut c = zc.pusher(RouteSource::Bgp, "default", 30);
    assert_eq!(c.hello.stale_routes, 2, "hello reply: {:?}", c.hello);
    let rep = c.batch(
        1,
        vec![route("203.0.113.0/25", &["192.0.2.2"], 0)],
        vec![],
        true,
    );
    assert_eq!(rep.accepted, 1, "{rep:?}");
    wait_gone(r1, MAIN, "203.0.113.128/25", BGP, SOON);
    let (polls, gaps) = watch.finish();
    assert!(
        gaps.is_empty(),
        "re-sent route missing ({polls} polls): {gaps:?}"
    );
    let e = zc.show_prefix(0, "203.0.113.0/25");
    assert!(
        e.iter()
            .any(|e| e.installed && !e.stale && e.instance == "default"),
        "{e:?}"
    );
    drop(c);
}

//! zebrad's static routes and rules, seen through the kernel's own eyes
//! (`ip -j route` / `ip -j rule` inside the namespace): tables, IPv6,
//! blackholes, ECMP, recursive resolution, rules and SIGHUP reloads, link
//! down/up, routes deleted from outside, and bad configurations.
//!
//! Topology (zebrad_util.rs): r1 (zebrad) eth0 192.0.2.1/24,
//! 2001:db8:1::1/64 -- r2; r1 eth1 198.51.100.1/24 -- r3.

#[path = "zebrad_util.rs"]
mod util;

use std::time::Duration;

use topotests::{wait_until, Signal};
use util::*;

#[test]
fn zebrad_static_routes_in_tables_v6_and_blackhole() {
    let t = topo("zebrad_static_routes_in_tables_v6_and_blackhole");
    let r1 = &t.r1;
    let cfg = r1.write_file(
        "zebrad.toml",
        r#"
[[static]]
prefix = "203.0.113.0/25"
via = "192.0.2.2"

[[static]]
prefix = "203.0.113.0/24"
via = "198.51.100.2"
table = 1000

[[static]]
prefix = "2001:db8:2::/48"
via = "2001:db8:1::2"

[[static]]
prefix = "203.0.113.128/26"
kind = "blackhole"

[[static]]
prefix = "203.0.113.192/27"
interface = "eth1"
"#,
    );
    let z = start_zebrad(r1, &cfg);

    let r = wait_route(r1, MAIN, "203.0.113.0/25", STATIC, SOON);
    assert_route(&r, &["192.0.2.2 eth0"]);
    let r = wait_route(r1, 1000, "203.0.113.0/24", STATIC, SOON);
    assert_route(&r, &["198.51.100.2 eth1"]);
    assert!(
        route_of(r1, MAIN, "203.0.113.0/24", STATIC).is_none(),
        "the table-1000 route leaked into main"
    );
    let r = wait_route(r1, MAIN, "2001:db8:2::/48", STATIC, SOON);
    assert_route(&r, &["2001:db8:1::2 eth0"]);
    let r = wait_route(r1, MAIN, "203.0.113.128/26", STATIC, SOON);
    assert_eq!(r["type"].as_str(), Some("blackhole"), "{r}");
    assert_eq!(r["metric"].as_u64(), Some(METRIC), "{r}");
    let r = wait_route(r1, MAIN, "203.0.113.192/27", STATIC, SOON);
    assert_route(&r, &[" eth1"]);

    // zebrad's own view agrees.
    let zc = Zc::new(&r1.socket("zebrad"));
    wait_until(SOON, "Status: 5 routes in the FIB", || {
        zc.status().fib_routes >= 5
    });
    let st = zc.status();
    assert_eq!(st.fib_errors, 0, "{st:?}");
    for (table, p) in [
        (0, "203.0.113.0/25"),
        (1000, "203.0.113.0/24"),
        (0, "2001:db8:2::/48"),
        (0, "203.0.113.128/26"),
    ] {
        let e = zc.show_prefix(table, p);
        assert!(
            e.iter().any(|e| e.selected && e.installed && !e.stale),
            "{p} table {table}: {e:?}"
        );
    }
    z.assert_running();
}

#[test]
fn zebrad_static_ecmp_and_weights() {
    let t = topo("zebrad_static_ecmp_and_weights");
    let r1 = &t.r1;
    let cfg = r1.write_file(
        "zebrad.toml",
        r#"
[[static]]
prefix = "203.0.113.0/25"
via = ["192.0.2.2", "198.51.100.2"]

[[static]]
prefix = "203.0.113.128/25"
nexthop = [{ via = "192.0.2.2", weight = 3 }, { via = "198.51.100.2" }]
"#,
    );
    let z = start_zebrad(r1, &cfg);
    let r = wait_route(r1, MAIN, "203.0.113.0/25", STATIC, SOON);
    assert!(r["nexthops"].is_array(), "not multipath: {r}");
    assert_route(&r, &["192.0.2.2 eth0", "198.51.100.2 eth1"]);

    let r = wait_route(r1, MAIN, "203.0.113.128/25", STATIC, SOON);
    assert_route(&r, &["192.0.2.2 eth0", "198.51.100.2 eth1"]);
    let weights: Vec<(String, u64)> = r["nexthops"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|n| {
                    (
                        n["gateway"].as_str().unwrap_or("").to_string(),
                        n["weight"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert!(
        weights.contains(&("192.0.2.2".into(), 3)) && weights.contains(&("198.51.100.2".into(), 1)),
        "weights: {r}"
    );
    z.assert_running();
}

#[test]
fn zebrad_static_recursive_resolution() {
    let t = topo("zebrad_static_recursive_resolution");
    let r1 = &t.r1;
    // 203.0.113.5 is only reachable through another static route; at first
    // that route is not configured: the recursive one waits.
    let recursive = r#"
[[static]]
prefix = "198.51.100.192/26"
via = "203.0.113.5"
"#;
    let cfg = r1.write_file("zebrad.toml", recursive);
    let z = start_zebrad(r1, &cfg);
    let zc = Zc::new(&r1.socket("zebrad"));
    wait_until(SOON, "the unresolvable static in the RIB", || {
        !zc.show_prefix(0, "198.51.100.192/26").is_empty()
    });
    let e = zc.show_prefix(0, "198.51.100.192/26");
    assert!(
        e.iter().all(|e| !e.installed),
        "installed unresolved: {e:?}"
    );
    assert!(
        route_of(r1, MAIN, "198.51.100.192/26", STATIC).is_none(),
        "an unresolvable route reached the kernel"
    );

    // The resolving route appears: both go in, the recursive one via the
    // resolving route's gateway.
    r1.write_file(
        "zebrad.toml",
        &format!("{recursive}\n[[static]]\nprefix = \"203.0.113.0/25\"\nvia = \"192.0.2.2\"\n"),
    );
    z.signal(Signal::SIGHUP);
    let r = wait_route(r1, MAIN, "203.0.113.0/25", STATIC, SOON);
    assert_route(&r, &["192.0.2.2 eth0"]);
    let r = wait_route_nh(r1, MAIN, "198.51.100.192/26", STATIC, &["192.0.2.2 eth0"]);
    assert_route(&r, &["192.0.2.2 eth0"]);
    let e = zc.show_prefix(0, "198.51.100.192/26");
    assert!(
        e.iter()
            .any(|e| e.installed && e.nexthops.iter().any(|n| n.recursive && n.active)),
        "ShowRoutes should mark the nexthop recursive and active: {e:?}"
    );

    // And goes away again: the recursive route leaves the kernel but stays
    // in the RIB.
    r1.write_file("zebrad.toml", recursive);
    z.signal(Signal::SIGHUP);
    wait_gone(r1, MAIN, "203.0.113.0/25", STATIC, SOON);
    wait_gone(r1, MAIN, "198.51.100.192/26", STATIC, SOON);
    let e = zc.show_prefix(0, "198.51.100.192/26");
    assert!(
        !e.is_empty() && e.iter().all(|e| !e.installed),
        "kept, not installed: {e:?}"
    );
    z.assert_running();
}

fn rules(node: &topotests::Node, v6: bool) -> Vec<serde_json::Value> {
    let fam = if v6 { "-6" } else { "-4" };
    let out = node.must(&["ip", "-j", fam, "rule"]);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("bad JSON ({e}): {out}"))
}

fn has_rule(node: &topotests::Node, v6: bool, prio: u64, src: &str, table: &str) -> bool {
    let (addr, len) = src.split_once('/').expect("prefix");
    rules(node, v6).iter().any(|r| {
        r["priority"].as_u64() == Some(prio)
            && r["src"].as_str() == Some(addr)
            && r["srclen"].as_u64() == len.parse().ok()
            && r["table"].as_str() == Some(table)
    })
}

#[test]
fn zebrad_rules_and_reload_without_touching_unchanged_routes() {
    let t = topo("zebrad_rules_and_reload_without_touching_unchanged_routes");
    let r1 = &t.r1;
    let kept = r#"
[[static]]
prefix = "203.0.113.0/25"
via = "192.0.2.2"
table = 1000
"#;
    let cfg = r1.write_file(
        "zebrad.toml",
        &format!(
            "{kept}
[[rule]]
priority = 100
from = \"192.0.2.0/24\"
table = 1000

[[rule]]
priority = 101
from = \"2001:db8:1::/64\"
table = 1000
"
        ),
    );
    // A rule zebrad did not make: it must survive every reload.
    r1.must(&[
        "ip",
        "rule",
        "add",
        "pref",
        "200",
        "from",
        "198.51.100.0/24",
        "table",
        "2000",
    ]);
    let z = start_zebrad(r1, &cfg);
    wait_route(r1, 1000, "203.0.113.0/25", STATIC, SOON);
    wait_until(SOON, "rule 100 from 192.0.2.0/24 to table 1000", || {
        has_rule(r1, false, 100, "192.0.2.0/24", "1000")
    });
    wait_until(SOON, "rule 101 from 2001:db8:1::/64 to table 1000", || {
        has_rule(r1, true, 101, "2001:db8:1::/64", "1000")
    });

    // Reload with the rules gone, the table-1000 route unchanged and one new
    // route; watch the kernel's route notifications meanwhile.
    let mon = r1.spawn("ipmon", &["ip", "monitor", "route"]);
    let watch = PresenceWatch::start(r1, STATIC, &[(1000, "203.0.113.0/25")]);
    // `ip monitor` listens once it reports a change of our own making
    // (repeated: it may not have subscribed yet the first time).
    let mut probe = 0u32;
    wait_until(Duration::from_secs(10), "ip monitor reports", || {
        let op = if probe.is_multiple_of(2) {
            "add"
        } else {
            "del"
        };
        probe += 1;
        r1.must(&[
            "ip",
            "route",
            op,
            "192.0.2.240/28",
            "dev",
            "eth0",
            "table",
            "3000",
        ]);
        mon.log().contains("192.0.2.240/28")
    });
    r1.write_file(
        "zebrad.toml",
        &format!("{kept}\n[[static]]\nprefix = \"203.0.113.128/25\"\nvia = \"192.0.2.2\"\n"),
    );
    z.signal(Signal::SIGHUP);
    wait_route(r1, MAIN, "203.0.113.128/25", STATIC, SOON);
    wait_until(SOON, "rules 100 and 101 removed", || {
        !rules(r1, false).iter().any(|r| r["priority"] == 100)
            && !rules(r1, true).iter().any(|r| r["priority"] == 101)
    });
    wait_until(SOON, "the new route in `ip monitor`", || {
        mon.log().contains("203.0.113.128/25")
    });
    // Anything zebrad sent in the same reload has been notified by now;
    // allow a little more for stragglers.
    std::thread::sleep(Duration::from_millis(500));
    let (polls, gaps) = watch.finish();
    let seen = mon.log();
    mon.stop();
    assert!(
        !seen.contains("203.0.113.0/25"),
        "the unchanged route was rewritten by the reload:\n{seen}"
    );
    assert!(
        gaps.is_empty(),
        "unchanged route missing during reload ({polls} polls): {gaps:?}"
    );
    assert!(
        has_rule(r1, false, 200, "198.51.100.0/24", "2000"),
        "zebrad removed a rule it did not install: {:?}",
        rules(r1, false)
    );
    z.assert_running();
}

#[test]
fn zebrad_link_down_and_up() {
    let t = topo("zebrad_link_down_and_up");
    let r1 = &t.r1;
    let cfg = r1.write_file(
        "zebrad.toml",
        r#"
[[static]]
prefix = "203.0.113.0/25"
via = ["192.0.2.2", "198.51.100.2"]

[[static]]
prefix = "203.0.113.128/25"
via = "192.0.2.2"
"#,
    );
    let z = start_zebrad(r1, &cfg);
    let both = ["192.0.2.2 eth0", "198.51.100.2 eth1"];
    wait_route_nh(r1, MAIN, "203.0.113.0/25", STATIC, &both);
    wait_route_nh(r1, MAIN, "203.0.113.128/25", STATIC, &["192.0.2.2 eth0"]);

    for round in 0..2 {
        r1.must(&["ip", "link", "set", "eth0", "down"]);
        let r = wait_route_nh(r1, MAIN, "203.0.113.0/25", STATIC, &["198.51.100.2 eth1"]);
        assert_route(&r, &["198.51.100.2 eth1"]);
        wait_gone(r1, MAIN, "203.0.113.128/25", STATIC, SOON);

        r1.must(&["ip", "link", "set", "eth0", "up"]);
        let r = wait_route_nh(r1, MAIN, "203.0.113.0/25", STATIC, &both);
        assert!(r["nexthops"].is_array(), "round {round}: {r}");
        let r = wait_route_nh(r1, MAIN, "203.0.113.128/25", STATIC, &["192.0.2.2 eth0"]);
        assert_route(&r, &["192.0.2.2 eth0"]);
    }
    z.assert_running();
}

#[test]
fn zebrad_reinstalls_routes_deleted_from_outside() {
    let t = topo("zebrad_reinstalls_routes_deleted_from_outside");
    let r1 = &t.r1;
    let cfg = r1.write_file(
        "zebrad.toml",
        r#"
[[static]]
prefix = "203.0.113.0/24"
via = "192.0.2.2"

[[static]]
prefix = "203.0.113.0/24"
via = "198.51.100.2"
table = 1000

[[static]]
prefix = "2001:db8:2::/48"
via = "2001:db8:1::2"
"#,
    );
    let z = start_zebrad(r1, &cfg);
    let zc = Zc::new(&r1.socket("zebrad"));
    // A protocol's route too.
    let mut bgp = zc.pusher(proto::zebra::RouteSource::Bgp, "outside", 0);
    let rep = bgp.batch(
        1,
        vec![route("203.0.113.128/25", &["192.0.2.2"], 0)],
        vec![],
        false,
    );
    assert_eq!(rep.accepted, 1, "{rep:?}");
    wait_route(r1, MAIN, "203.0.113.0/24", STATIC, SOON);
    wait_route(r1, 1000, "203.0.113.0/24", STATIC, SOON);
    wait_route(r1, MAIN, "2001:db8:2::/48", STATIC, SOON);
    wait_route(r1, MAIN, "203.0.113.128/25", BGP, SOON);
    let before = zc.status().fib_reinstalled;

    r1.must(&[
        "ip",
        "route",
        "del",
        "203.0.113.0/24",
        "proto",
        "196",
        "metric",
        "20",
    ]);
    let r = wait_route(r1, MAIN, "203.0.113.0/24", STATIC, SOON);
    assert_route(&r, &["192.0.2.2 eth0"]);

    r1.must(&["ip", "route", "del", "203.0.113.0/24", "table", "1000"]);
    let r = wait_route(r1, 1000, "203.0.113.0/24", STATIC, SOON);
    assert_route(&r, &["198.51.100.2 eth1"]);

    r1.must(&[
        "ip",
        "-6",
        "route",
        "del",
        "2001:db8:2::/48",
        "proto",
        "196",
    ]);
    let r = wait_route(r1, MAIN, "2001:db8:2::/48", STATIC, SOON);
    assert_route(&r, &["2001:db8:1::2 eth0"]);

    r1.must(&["ip", "route", "del", "203.0.113.128/25", "proto", "186"]);
    let r = wait_route(r1, MAIN, "203.0.113.128/25", BGP, SOON);
    assert_route(&r, &["192.0.2.2 eth0"]);

    wait_until(SOON, "Status counts 4 reinstalls", || {
        zc.status().fib_reinstalled >= before + 4
    });
    z.assert_running();
    drop(bgp);
}

#[test]
fn zebrad_bad_config_is_rejected() {
    let t = topo("zebrad_bad_config_is_rejected");
    let r1 = &t.r1;
    let good = r1.write_file(
        "good.toml",
        "[rib]\nstale_time = 30\n\n[[static]]\nprefix = \"203.0.113.0/25\"\nvia = \"192.0.2.2\"\n",
    );
    let g = good.to_string_lossy().into_owned();
    let (code, out) = run_zebrad(r1, &["--check", "-f", &g]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("OK"), "{out}");

    // (file, text, what the error must say)
    let cases = [
        (
            "bad.toml",
            "[[static]]\nprefix = \"203.0.113.0/24\"\nvia = \"nonsense\"\n",
            "bad.toml:3: static.via:",
        ),
        (
            "range.toml",
            "[rib]\necmp_max = 0\n",
            "range.toml:2: rib.ecmp_max:",
        ),
        (
            "hostbits.toml",
            "\n[[static]]\nprefix = \"192.0.2.1/24\"\nvia = \"192.0.2.2\"\n",
            "hostbits.toml:3: static.prefix:",
        ),
        ("unknown.toml", "[rib]\nbogus = 1\n", "unknown.toml:2: "),
        (
            "table.toml",
            "[[rule]]\npriority = 10\ntable = 255\n",
            "table.toml:3: rule.table:",
        ),
    ];
    for (file, text, want) in cases {
        let p = r1.write_file(file, text);
        let p = p.to_string_lossy().into_owned();
        let (code, out) = run_zebrad(r1, &["--check", "-f", &p]);
        assert!(
            code.is_some_and(|c| c != 0),
            "--check {file}: {code:?} {out}"
        );
        assert!(
            out.contains(want),
            "--check {file}: want `{want}` in: {out}"
        );
        // A plain start refuses it the same way (and does not start).
        let (code, out) = run_zebrad(r1, &["-f", &p]);
        assert!(code.is_some_and(|c| c != 0), "start {file}: {code:?} {out}");
        assert!(out.contains(want), "start {file}: want `{want}` in: {out}");
    }
    assert!(out_has_bogus(r1), "the unknown key is named");
    assert!(
        std::os::unix::net::UnixStream::connect(r1.socket("zebrad")).is_err(),
        "a zebrad with a bad config is listening"
    );

    // Running with a good config; a bad one on SIGHUP changes nothing.
    let z = start_zebrad(r1, &good);
    wait_route(r1, MAIN, "203.0.113.0/25", STATIC, SOON);
    let from = log_len(&z);
    std::fs::write(
        &good,
        "[rib]\nstale_time = 30\n\n[[static]]\nprefix = \"203.0.113.128/25\"\nvia = \"nonsense\"\n",
    )
    .expect("write");
    z.signal(Signal::SIGHUP);
    let log = wait_log(&z, from, "reload refused", SOON);
    assert!(log.contains("good.toml:6: static.via"), "{log}");
    z.assert_running();
    let zc = Zc::new(&r1.socket("zebrad"));
    let rep = zc.reload();
    assert!(
        !rep.ok && rep.error.contains("good.toml:6: static.via"),
        "{rep:?}"
    );
    assert!(route_of(r1, MAIN, "203.0.113.0/25", STATIC).is_some());
    assert!(!zc.show_prefix(0, "203.0.113.0/25").is_empty());

    // Fixed: the reload applies.
    std::fs::write(
        &good,
        "[rib]\nstale_time = 30\n\n[[static]]\nprefix = \"203.0.113.128/25\"\nvia = \"192.0.2.2\"\n",
    )
    .expect("write");
    z.signal(Signal::SIGHUP);
    wait_route(r1, MAIN, "203.0.113.128/25", STATIC, SOON);
    wait_gone(r1, MAIN, "203.0.113.0/25", STATIC, SOON);
    z.assert_running();
}

/// The unknown-key error names the key.
fn out_has_bogus(r1: &topotests::Node) -> bool {
    let p = r1.dir().join("unknown.toml");
    let (_, out) = run_zebrad(r1, &["--check", "-f", &p.to_string_lossy()]);
    out.contains("bogus")
}

//! Our bgpd (with our zebrad) against BIRD 2: eBGP and iBGP over IPv4 and
//! IPv6, attributes both ways, routes in and out of the kernel, route
//! refresh, hold-timer expiry and NOTIFICATIONs both ways.
//!
//! Topology (bgp_util::pair): r1 (ours) eth0 192.0.2.1/30, 2001:db8:1::1/64
//! -- r2 (BIRD) eth0 192.0.2.2/30, 2001:db8:1::2/64.

mod bgp_util;

use std::time::{Duration, Instant};

use bgp_util::*;
use topotests::{try_wait_until, Signal};

/// BIRD's config: AS `asn`, one BGP protocol `peer1` toward `neighbor` (AS
/// `remote`), static routes `statics` exported with MED 42, community
/// (asn,7), large community (asn,1,2) and a prepended 64510.
fn bird_conf(asn: u32, remote: u32, neighbor: &str, statics: &[&str], extra: &str) -> String {
    let v6 = neighbor.contains(':');
    let (chan, local) = if v6 {
        ("ipv6", "2001:db8:1::2")
    } else {
        ("ipv4", "192.0.2.2")
    };
    let routes: String = statics
        .iter()
        .map(|p| format!("  route {p} blackhole;\n"))
        .collect();
    format!(
        r#"router id 192.0.2.2;
log stderr all;
protocol device {{ }}
protocol static s1 {{
  {chan};
{routes}}}
filter out_attrs {{
  if source = RTS_STATIC then {{
    bgp_med = 42;
    bgp_community.add(({asn},7));
    bgp_large_community.add(({asn},1,2));
    bgp_path.prepend(64510);
  }}
  accept;
}}
protocol bgp peer1 {{
  local {local} as {asn};
  neighbor {neighbor} as {remote};
  connect retry time 1;
  error wait time 1, 2;
{extra}
  {chan} {{ import all; export filter out_attrs; }};
}}
"#
    )
}

fn ours_conf(asn: u32, neighbor: &str, remote: u32, networks: &[&str], nb_extra: &str) -> String {
    let nets: Vec<String> = networks.iter().map(|n| format!("\"{n}\"")).collect();
    format!(
        r#"{}
[[route_map]]
name = "OUT"
entries = [ {{ seq = 10, action = "permit", set = {{ med = 77, community = ["65000:77"], community_additive = true }} }} ]

[[neighbor]]
address = "{neighbor}"
remote_as = {remote}
import = "ALL"
export = "OUT"
{nb_extra}
"#,
        ours_head(
            asn,
            "192.0.2.1",
            &format!("networks = [{}]", nets.join(", "))
        )
    )
}

/// eBGP over IPv4: Established, attributes both ways, kernel, withdraw by
/// reconfiguration, and the session dropping when BIRD dies.
#[test]
fn bgp_bird_ebgp_v4() {
    if !can_run(&["bird", "birdc"]) {
        return;
    }
    let (_lab, r1, r2) = pair("bgp_bird_ebgp_v4");
    let (_z, b) = start_ours(
        &r1,
        &ours_conf(65000, "192.0.2.2", 64501, &["203.0.113.0/25"], ""),
    );
    let conf = bird_conf(
        64501,
        65000,
        "192.0.2.1",
        &["198.51.100.0/25", "198.51.100.128/25"],
        "",
    );
    let bird = start_bird(&r2, &conf);
    wait_established(&r1, "192.0.2.2");
    bird.wait_established("peer1");

    // BIRD -> ours: attributes intact, in the kernel via BIRD.
    let p = wait_best(&r1, "198.51.100.0/25");
    assert_attrs(&p, &[64501, 64510], Some(42), &["64501:7"], &["64501:1:2"]);
    assert_eq!(nexthop(&p), "192.0.2.2", "{p:#}");
    let k = wait_kernel(&r1, "198.51.100.0/25", "192.0.2.2");
    assert_eq!(k["metric"].as_u64(), Some(METRIC), "{k}");
    wait_kernel(&r1, "198.51.100.128/25", "192.0.2.2");

    // ours -> BIRD: MED and community from our export policy, our AS.
    let r = bird.wait_route("203.0.113.0/25");
    assert!(r.contains("BGP.as_path: 65000"), "{r}");
    assert!(r.contains("BGP.med: 77"), "{r}");
    assert!(r.contains("(65000,77)"), "{r}");
    assert!(r.contains("BGP.next_hop: 192.0.2.1"), "{r}");

    // Withdraw one prefix on BIRD's side: it leaves our table and kernel,
    // the other stays.
    bird.reconfigure(&bird_conf(
        64501,
        65000,
        "192.0.2.1",
        &["198.51.100.128/25"],
        "",
    ));
    wait_kernel_gone(&r1, "198.51.100.0/25", T);
    assert!(paths(&r1, "198.51.100.0/25").is_empty());
    assert!(kernel_bgp(&r1, "198.51.100.128/25").is_some());
    assert_eq!(state(&r1, "192.0.2.2"), "Established");

    // BIRD dies: TCP closes, the session drops and its routes leave at once
    // (well before the 90 s hold time).
    let t0 = Instant::now();
    bird.proc.kill();
    wait_kernel_gone(&r1, "198.51.100.128/25", Duration::from_secs(15));
    assert!(t0.elapsed() < Duration::from_secs(15));
    let n = wait_not_established(&r1, "192.0.2.2", Duration::from_secs(5));
    assert!(paths(&r1, "198.51.100.128/25").is_empty(), "{n:#}");
    b.assert_running();
}

/// iBGP over IPv4: BIRD `direct`, LOCAL_PREF carried, no AS prepended by
/// either side, routes in the kernel both ways.
#[test]
fn bgp_bird_ibgp_v4() {
    if !can_run(&["bird", "birdc"]) {
        return;
    }
    let (_lab, r1, r2) = pair("bgp_bird_ibgp_v4");
    start_ours(
        &r1,
        &ours_conf(65000, "192.0.2.2", 65000, &["203.0.113.0/25"], ""),
    );
    let bird = start_bird(
        &r2,
        &bird_conf(
            65000,
            65000,
            "192.0.2.1",
            &["198.51.100.0/25"],
            "  direct;\n",
        ),
    );
    wait_established(&r1, "192.0.2.2");
    let n = neighbor(&r1, "192.0.2.2");
    assert_eq!(n["nbrInternalLink"], true, "{n:#}");
    let p = wait_best(&r1, "198.51.100.0/25");
    assert_attrs(&p, &[64510], Some(42), &["65000:7"], &["65000:1:2"]);
    assert_eq!(p["pathFrom"], "internal", "{p:#}");
    assert_eq!(p["locPrf"].as_u64(), Some(100), "{p:#}");
    wait_kernel(&r1, "198.51.100.0/25", "192.0.2.2");
    let r = bird.wait_route("203.0.113.0/25");
    assert!(r.contains("BGP.local_pref: 100"), "{r}");
    assert!(
        !r.contains("BGP.as_path: 65000"),
        "no AS prepended over iBGP: {r}"
    );
    assert!(r.contains("BGP.med: 77"), "{r}");
    // Withdrawn on BIRD's side: gone from our kernel.
    bird.reconfigure(&bird_conf(65000, 65000, "192.0.2.1", &[], "  direct;\n"));
    wait_kernel_gone(&r1, "198.51.100.0/25", T);
}

/// eBGP over IPv6 (session on 2001:db8:1::/64): IPv6 prefixes both ways,
/// attributes, the next hop, the kernel; withdraw.
#[test]
fn bgp_bird_ebgp_v6() {
    if !can_run(&["bird", "birdc"]) {
        return;
    }
    let (_lab, r1, r2) = pair("bgp_bird_ebgp_v6");
    start_ours(
        &r1,
        &ours_conf(65000, "2001:db8:1::2", 64501, &["2001:db8:bbbb::/48"], ""),
    );
    let bird = start_bird(
        &r2,
        &bird_conf(
            64501,
            65000,
            "2001:db8:1::1",
            &["2001:db8:aaaa::/48", "2001:db8:aaab::/48"],
            "",
        ),
    );
    wait_established(&r1, "2001:db8:1::2");
    let p = wait_best(&r1, "2001:db8:aaaa::/48");
    assert_attrs(&p, &[64501, 64510], Some(42), &["64501:7"], &["64501:1:2"]);
    assert_eq!(nexthop(&p), "2001:db8:1::2", "{p:#}");
    let k = wait_kernel(&r1, "2001:db8:aaaa::/48", "2001:db8:1::2");
    assert_eq!(k["dev"], "eth0", "{k}");
    let r = bird.wait_route("2001:db8:bbbb::/48");
    assert!(r.contains("BGP.as_path: 65000"), "{r}");
    assert!(r.contains("BGP.med: 77"), "{r}");
    assert!(r.contains("BGP.next_hop: 2001:db8:1::1"), "{r}");
    bird.reconfigure(&bird_conf(
        64501,
        65000,
        "2001:db8:1::1",
        &["2001:db8:aaab::/48"],
        "",
    ));
    wait_kernel_gone(&r1, "2001:db8:aaaa::/48", T);
    assert!(kernel_bgp(&r1, "2001:db8:aaab::/48").is_some());
}

/// iBGP over IPv6.
#[test]
fn bgp_bird_ibgp_v6() {
    if !can_run(&["bird", "birdc"]) {
        return;
    }
    let (_lab, r1, r2) = pair("bgp_bird_ibgp_v6");
    start_ours(
        &r1,
        &ours_conf(65000, "2001:db8:1::2", 65000, &["2001:db8:bbbb::/48"], ""),
    );
    let bird = start_bird(
        &r2,
        &bird_conf(
            65000,
            65000,
            "2001:db8:1::1",
            &["2001:db8:aaaa::/48"],
            "  direct;\n",
        ),
    );
    wait_established(&r1, "2001:db8:1::2");
    let p = wait_best(&r1, "2001:db8:aaaa::/48");
    assert_eq!(p["pathFrom"], "internal", "{p:#}");
    assert_eq!(p["locPrf"].as_u64(), Some(100), "{p:#}");
    assert_attrs(&p, &[64510], Some(42), &["65000:7"], &["65000:1:2"]);
    wait_kernel(&r1, "2001:db8:aaaa::/48", "2001:db8:1::2");
    let r = bird.wait_route("2001:db8:bbbb::/48");
    assert!(r.contains("BGP.local_pref: 100"), "{r}");
    bird.reconfigure(&bird_conf(
        65000,
        65000,
        "2001:db8:1::1",
        &[],
        "  direct;\n",
    ));
    wait_kernel_gone(&r1, "2001:db8:aaaa::/48", T);
}

/// Route refresh (`clear bgp ADDR soft in`), NOTIFICATION sent (`clear bgp
/// *`: BIRD sees a Cease) and received (`birdc disable`: an administrative
/// shutdown with its message).
///
/// BIRD shows a NOTIFICATION it received as "Last error" in `show
/// protocols all` only until the session is up again, which is a second or
/// two later (its error wait and our connect retry are 1 s): a poll of
/// birdc slower than that under load misses it. Its log keeps the line, so
/// the test reads the log.
#[test]
fn bgp_bird_refresh_and_notifications() {
    if !can_run(&["bird", "birdc"]) {
        return;
    }
    let (_lab, r1, r2) = pair("bgp_bird_refresh_and_notifications");
    start_ours(
        &r1,
        &ours_conf(65000, "192.0.2.2", 64501, &["203.0.113.0/25"], ""),
    );
    let bird = start_bird(
        &r2,
        &bird_conf(64501, 65000, "192.0.2.1", &["198.51.100.0/25"], ""),
    );
    wait_established(&r1, "192.0.2.2");
    wait_kernel(&r1, "198.51.100.0/25", "192.0.2.2");
    let caps = neighbor(&r1, "192.0.2.2")["neighborCapabilities"].to_string();
    assert!(
        caps.to_lowercase().contains("refresh"),
        "route refresh capability: {caps}"
    );

    // Soft in: we send a ROUTE-REFRESH, BIRD sends its routes again.
    let n0 = neighbor(&r1, "192.0.2.2");
    let rr0 = n0["messageStats"]["sent"]["routeRefresh"]
        .as_u64()
        .unwrap_or(0);
    let up0 = n0["messageStats"]["received"]["updates"]
        .as_u64()
        .unwrap_or(0);
    vtysh(&r1, "clear bgp 192.0.2.2 soft in").expect("clear soft in");
    let mut last = n0.clone();
    let ok = try_wait_until(T, "a ROUTE-REFRESH sent and BIRD's UPDATEs again", || {
        last = neighbor(&r1, "192.0.2.2");
        last["messageStats"]["sent"]["routeRefresh"]
            .as_u64()
            .unwrap_or(0)
            > rr0
            && last["messageStats"]["received"]["updates"]
                .as_u64()
                .unwrap_or(0)
                > up0
    });
    assert!(ok.is_ok(), "{ok:?}: {last:#}");
    assert_eq!(
        last["bgpState"], "Established",
        "soft reset keeps the session: {last:#}"
    );
    assert!(kernel_bgp(&r1, "198.51.100.0/25").is_some());
    assert!(!wait_best(&r1, "198.51.100.0/25").is_null());

    // Hard clear: we send a Cease; BIRD shows it received one.
    let notif0 = last["messageStats"]["sent"]["notifications"]
        .as_u64()
        .unwrap_or(0);
    vtysh(&r1, "clear bgp *").expect("clear bgp *");
    let ok = try_wait_until(T, "BIRD logging our Cease", || {
        bird.proc
            .log()
            .contains("peer1: Received: Administrative reset")
    });
    assert!(ok.is_ok(), "{ok:?}: {}", bird.proc.log());
    let n = neighbor(&r1, "192.0.2.2");
    assert!(
        n["messageStats"]["sent"]["notifications"]
            .as_u64()
            .unwrap_or(0)
            > notif0,
        "{n:#}"
    );
    // And it comes back.
    wait_established(&r1, "192.0.2.2");
    wait_kernel(&r1, "198.51.100.0/25", "192.0.2.2");

    // BIRD shuts the session down administratively, with a message.
    let out = bird.cmd("disable peer1 \"maintenance\"");
    assert!(out.contains("disabled"), "{out}");
    let n = wait_not_established(&r1, "192.0.2.2", T);
    wait_kernel_gone(&r1, "198.51.100.0/25", Duration::from_secs(10));
    let n = if n["lastResetDueTo"].as_str().unwrap_or("").is_empty() {
        neighbor(&r1, "192.0.2.2")
    } else {
        n
    };
    let why = n["lastResetDueTo"].as_str().unwrap_or("");
    assert!(
        why.contains("Notification received") && why.contains("Cease"),
        "lastResetDueTo: {n:#}"
    );
    assert_eq!(n["lastShutdownDescription"], "maintenance", "{n:#}");
}

/// Hold timer: BIRD stopped (SIGSTOP) sends no more keepalives; with a 3 s
/// hold time our session goes down with "Hold Timer Expired" and the routes
/// leave the kernel.
#[test]
fn bgp_bird_hold_timer_expires() {
    if !can_run(&["bird", "birdc"]) {
        return;
    }
    let (_lab, r1, r2) = pair("bgp_bird_hold_timer_expires");
    start_ours(
        &r1,
        &ours_conf(65000, "192.0.2.2", 64501, &[], "hold_time = 3"),
    );
    let bird = start_bird(
        &r2,
        &bird_conf(
            64501,
            65000,
            "192.0.2.1",
            &["198.51.100.0/25"],
            "  hold time 3;\n  startup hold time 3;\n",
        ),
    );
    wait_established(&r1, "192.0.2.2");
    wait_kernel(&r1, "198.51.100.0/25", "192.0.2.2");
    let n = neighbor(&r1, "192.0.2.2");
    assert_eq!(n["bgpTimerHoldTimeMsecs"].as_u64(), Some(3000), "{n:#}");
    // Still up after several hold times of keepalives.
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(state(&r1, "192.0.2.2"), "Established");
    bird.proc.signal(Signal::SIGSTOP);
    let t0 = Instant::now();
    // The negotiated 3 s, not a default 90 s: down within the bound (no
    // tighter, which a loaded machine's vtysh polls could miss).
    let n = wait_not_established(&r1, "192.0.2.2", Duration::from_secs(10));
    let held = t0.elapsed();
    wait_kernel_gone(&r1, "198.51.100.0/25", Duration::from_secs(5));
    let n = if n["lastResetDueTo"].as_str().unwrap_or("").is_empty() {
        neighbor(&r1, "192.0.2.2")
    } else {
        n
    };
    bird.proc.signal(Signal::SIGCONT);
    assert!(
        n["lastResetDueTo"]
            .as_str()
            .unwrap_or("")
            .contains("Hold Timer Expired"),
        "after {held:?}: {n:#}"
    );
}

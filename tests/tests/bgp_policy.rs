//! bgpd's policy language against FRR: route maps with prefix, AS-path and
//! community (standard, large) lists, `on_match next`, deny and implicit
//! deny; sets seen on both sides (our Loc-RIB inbound, FRR's `show bgp
//! ipv4 json` outbound); a received GRACEFUL_SHUTDOWN route at LOCAL_PREF
//! 0; then the policies changed by SIGHUP (and the neighbor put in
//! graceful shutdown), re-evaluated without resetting the session (FRR
//! counts one established connection). A second test changes a route map
//! and a prefix list through vtysh's configure mode (config.v1
//! ApplyConfig, the gRPC a controller uses too): inbound re-evaluated from
//! the Adj-RIB-In, outbound re-sent by difference, seen on both sides,
//! the session kept.
//!
//! Topology (bgp_util::pair): r1 (ours, AS 65000) 192.0.2.1/30 -- r2 (FRR,
//! AS 64502) 192.0.2.2/30.

mod bgp_util;

use bgp_util::*;
use topotests::{try_wait_until, Signal};

/// FRR originates three prefixes: TAGGED (MED 42, community 64502:7,
/// large 64502:1:2, prepended 64510), DROPPED (community 64502:666) and
/// PLAIN (nothing set).
const TAGGED: &str = "198.51.100.0/25";
const DROPPED: &str = "198.51.100.128/26";
const PLAIN: &str = "198.51.100.192/26";
/// FRR sends this one with GRACEFUL_SHUTDOWN (RFC 8326).
const GSHUT: &str = "198.51.100.64/26";
/// We originate OURS (sent, with our sets) and OTHER (denied outbound).
const OURS: &str = "203.0.113.0/25";
const OTHER: &str = "203.0.113.128/25";

const FRR: &str = r#"hostname frr
log stdout informational
!
route-map TAG permit 10
 set metric 42
 set community 64502:7 additive
 set large-community 64502:1:2 additive
 set as-path prepend 64510
!
route-map BLACKHOLE permit 10
 set community 64502:666
!
route-map GSHUT permit 10
 set community graceful-shutdown
!
route-map ALL permit 10
!
router bgp 64502
 bgp router-id 192.0.2.2
 no bgp default ipv4-unicast
 no bgp network import-check
 neighbor 192.0.2.1 remote-as 65000
 neighbor 192.0.2.1 timers connect 1
 neighbor 192.0.2.1 timers 10 30
 !
 address-family ipv4 unicast
  network 198.51.100.0/25 route-map TAG
  network 198.51.100.128/26 route-map BLACKHOLE
  network 198.51.100.192/26
  network 198.51.100.64/26 route-map GSHUT
  neighbor 192.0.2.1 activate
  neighbor 192.0.2.1 route-map ALL in
  neighbor 192.0.2.1 route-map ALL out
 exit-address-family
!
"#;

/// Our config; `v2` is the changed policy applied by SIGHUP: TAGGED denied
/// inbound, MED 88 and no prepend outbound, the neighbor in graceful
/// shutdown.
fn ours(v2: bool) -> String {
    let (in_first, out_set) = if v2 {
        (
            r#"{ seq = 5, action = "deny", match = { prefix_list = "TAGGED" } },"#,
            r#"med = 88, community = ["65000:88"]"#,
        )
    } else {
        (
            "",
            r#"med = 77, community = ["65000:77", "65000:78"], large_community = ["65000:7:7"],
        extcommunity_rt = ["65000:100"], as_path_prepend = [65000, 65000]"#,
        )
    };
    format!(
        r#"{head}
[[prefix_list]]
name = "OURS"
entries = [ {{ seq = 10, action = "permit", prefix = "203.0.113.0/25" }} ]

[[prefix_list]]
name = "TAGGED"
entries = [ {{ seq = 10, action = "permit", prefix = "{TAGGED}" }} ]

[[as_path_list]]
name = "VIA-64510"
entries = [ {{ seq = 10, action = "permit", regex = "_64510$" }} ]

[[community_list]]
name = "BH"
kind = "standard"
entries = [ {{ seq = 10, action = "permit", values = ["64502:666"] }} ]

[[community_list]]
name = "L"
kind = "large"
entries = [ {{ seq = 10, action = "permit", values = ["64502:1:2"] }} ]

[[community_list]]
name = "THEIRS"
kind = "expanded"
entries = [ {{ seq = 10, action = "permit", regex = "^64502:" }} ]

[[route_map]]
name = "IN"
entries = [
  {in_first}
  {{ seq = 10, action = "deny", match = {{ community = "BH" }} }},
  {{ seq = 20, action = "permit", match = {{ as_path = "VIA-64510", large_community = "L" }},
    set = {{ local_pref = 250, community = ["65000:100"], community_additive = true, community_delete = "THEIRS" }},
    on_match = "next" }},
  {{ seq = 30, action = "permit", match = {{ med = 42 }}, set = {{ origin = "incomplete" }} }},
  {{ seq = 40, action = "permit", match = {{ peer = "192.0.2.2" }}, set = {{ med = 5 }} }},
]

[[route_map]]
name = "OUT"
entries = [
  {{ seq = 10, action = "permit", match = {{ prefix_list = "OURS" }},
    set = {{ {out_set} }} }},
]

[[neighbor]]
address = "192.0.2.2"
remote_as = 64502
import = "IN"
export = "OUT"
graceful_shutdown = {v2}
"#,
        head = ours_head(
            65000,
            "192.0.2.1",
            &format!("networks = [\"{OURS}\", \"{OTHER}\"]")
        ),
    )
}

fn text(v: &serde_json::Value, key: &str) -> String {
    v[key]["string"].as_str().unwrap_or("").to_string()
}

/// FRR's path for `prefix` once `ok` holds for it.
fn frr_wait(
    frr: &Frr,
    prefix: &str,
    what: &str,
    ok: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let mut last = serde_json::Value::Null;
    let r = try_wait_until(T, what, || {
        last = frr.paths(prefix).into_iter().next().unwrap_or_default();
        ok(&last)
    });
    assert!(r.is_ok(), "{r:?}: {last:#}");
    last
}

fn frr_connections(frr: &Frr) -> u64 {
    let n = frr.json("show bgp neighbors 192.0.2.1 json");
    n["192.0.2.1"]["connectionsEstablished"]
        .as_u64()
        .unwrap_or(0)
}

#[test]
fn bgp_policy_route_maps_with_frr() {
    if !can_run(&["/usr/lib/frr/bgpd", "/usr/lib/frr/zebra", "vtysh"]) {
        return;
    }
    let (_lab, r1, r2) = pair("bgp_policy_route_maps_with_frr");
    let (_z, b) = start_ours(&r1, &ours(false));
    let frr = start_frr(&r2, FRR);
    wait_established(&r1, "192.0.2.2");
    frr.wait_established("192.0.2.1");

    // Inbound: seq 20 (AS path, large community) sets and goes on to seq
    // 30 (MED 42); 64502:7 deleted by the expanded list, ours added.
    let p = wait_best(&r1, TAGGED);
    assert_eq!(p["locPrf"].as_u64(), Some(250), "{p:#}");
    assert_eq!(p["origin"], "incomplete", "{p:#}");
    assert_attrs(
        &p,
        &[64502, 64510],
        Some(42),
        &["65000:100"],
        &["64502:1:2"],
    );
    let comms = p["community"].to_string();
    assert!(!comms.contains("64502:7"), "community_delete: {p:#}");
    // PLAIN: only seq 40 (match peer) applies.
    let p = wait_best(&r1, PLAIN);
    assert_eq!(p["metric"].as_u64(), Some(5), "{p:#}");
    assert_eq!(p["origin"], "IGP", "{p:#}");
    // GSHUT: LOCAL_PREF 0 whatever the route map did.
    let p = wait_best(&r1, GSHUT);
    assert_eq!(p["locPrf"].as_u64(), Some(0), "{p:#}");
    // DROPPED: denied by seq 10 (kept in the Adj-RIB-In, never best).
    assert!(best(&r1, DROPPED).is_none(), "{:#?}", paths(&r1, DROPPED));

    // Outbound: OURS with every set; OTHER matches nothing (implicit deny).
    let f = frr_wait(&frr, OURS, "OURS at FRR with MED 77", |f| {
        f["metric"].as_u64() == Some(77)
    });
    assert_eq!(text(&f, "aspath"), "65000 65000 65000", "{f:#}");
    assert_eq!(text(&f, "community"), "65000:77 65000:78", "{f:#}");
    assert_eq!(text(&f, "largeCommunity"), "65000:7:7", "{f:#}");
    assert_eq!(text(&f, "extendedCommunity"), "RT:65000:100", "{f:#}");
    assert!(frr.paths(OTHER).is_empty(), "{:#?}", frr.paths(OTHER));
    let conns = frr_connections(&frr);
    assert_eq!(conns, 1);

    // SIGHUP with changed route maps: re-evaluated in place.
    std::fs::write(r1.dir().join("bgpd.toml"), ours(true)).expect("write");
    b.signal(Signal::SIGHUP);
    let f = frr_wait(&frr, OURS, "OURS at FRR with MED 88", |f| {
        f["metric"].as_u64() == Some(88)
    });
    assert_eq!(text(&f, "aspath"), "65000", "{f:#}");
    assert_eq!(text(&f, "community"), "65000:88 graceful-shutdown", "{f:#}");
    let n = neighbor(&r1, "192.0.2.2");
    assert_eq!(n["gracefulShutdown"], true, "{n:#}");
    let gone = try_wait_until(T, "TAGGED denied after reload", || {
        best(&r1, TAGGED).is_none()
    });
    assert!(gone.is_ok(), "{gone:?}: {:#?}", paths(&r1, TAGGED));
    assert_eq!(
        best(&r1, PLAIN).map(|p| p["metric"].clone()),
        Some(5.into())
    );
    assert_eq!(frr_connections(&frr), conns, "the session was reset");
    assert_eq!(state(&r1, "192.0.2.2"), "Established");
}

/// The change a controller (or an operator in vtysh) applies over gRPC:
/// TAGGED denied inbound, OTHER permitted by the prefix list OUT uses,
/// MED 88 and no prepend outbound.
const CHANGE: &str = "configure
ip prefix-list OURS seq 20 permit 203.0.113.128/25
route-map IN deny 5
 match ip address prefix-list TAGGED
route-map OUT permit 10
 set metric 88
 no set as-path prepend
end
";

#[test]
fn bgp_policy_changed_over_grpc_with_frr() {
    if !can_run(&["/usr/lib/frr/bgpd", "/usr/lib/frr/zebra", "vtysh"]) {
        return;
    }
    let (_lab, r1, r2) = pair("bgp_policy_changed_over_grpc_with_frr");
    let (_z, b) = start_ours(&r1, &ours(false));
    let frr = start_frr(&r2, FRR);
    wait_established(&r1, "192.0.2.2");
    frr.wait_established("192.0.2.1");
    wait_best(&r1, TAGGED);
    frr_wait(&frr, OURS, "OURS at FRR with MED 77", |f| {
        f["metric"].as_u64() == Some(77)
    });
    assert!(frr.paths(OTHER).is_empty(), "{:#?}", frr.paths(OTHER));
    let conns = frr_connections(&frr);
    let dropped = neighbor(&r1, "192.0.2.2")["connectionsDropped"].clone();
    let rm = vtysh_json(&r1, "show route-map OUT json");
    let sent = rm["OUT"]["rules"][0]["invoked"].as_u64().unwrap_or(0);
    assert!(sent >= 1, "{rm:#}");

    vtysh_configure(&r1, "change.conf", CHANGE);

    // Outbound by difference: OURS changed, OTHER now sent.
    let f = frr_wait(&frr, OURS, "OURS at FRR with MED 88", |f| {
        f["metric"].as_u64() == Some(88)
    });
    assert_eq!(text(&f, "aspath"), "65000", "{f:#}");
    let f = frr_wait(&frr, OTHER, "OTHER at FRR", |f| {
        f["metric"].as_u64() == Some(88)
    });
    assert_eq!(text(&f, "aspath"), "65000", "{f:#}");
    // Inbound from the Adj-RIB-In: TAGGED denied, PLAIN kept as it was.
    let gone = try_wait_until(T, "TAGGED denied after the change", || {
        best(&r1, TAGGED).is_none()
    });
    assert!(gone.is_ok(), "{gone:?}: {:#?}", paths(&r1, TAGGED));
    assert_eq!(
        best(&r1, PLAIN).map(|p| p["metric"].clone()),
        Some(5.into())
    );
    // The new deny entry ran on what FRR had sent, and the map shows it.
    let rm = vtysh_json(&r1, "show route-map IN json");
    let first = &rm["IN"]["rules"][0];
    assert_eq!(first["sequenceNumber"], 5, "{rm:#}");
    assert_eq!(first["type"], "deny", "{rm:#}");
    assert!(first["invoked"].as_u64() >= Some(1), "{rm:#}");
    let pl = vtysh_json(&r1, "show ip prefix-list OURS json");
    assert_eq!(
        pl["BGP"]["OURS"]["entries"].as_array().map(Vec::len),
        Some(2),
        "{pl:#}"
    );
    // One session throughout, on both sides.
    assert_eq!(frr_connections(&frr), conns, "FRR saw the session reset");
    assert_eq!(
        neighbor(&r1, "192.0.2.2")["connectionsDropped"],
        dropped,
        "we reset the session"
    );
    assert_eq!(state(&r1, "192.0.2.2"), "Established");
    b.assert_running();
}

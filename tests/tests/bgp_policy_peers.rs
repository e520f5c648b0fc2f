//! bgpd's policy language against BIRD 2 and GoBGP 3, one route map pair
//! for both: every match inbound (prefix list with ge/le, AS-path list
//! with `_`, community standard and expanded, large, extended, next hop,
//! origin, local-pref, MED, peer) chained with `on_match goto` (skipping
//! an entry that would match) and `continue N`, and every set outbound
//! seen on the peer (BIRD's `show route all`, GoBGP's `global rib -j`):
//! MED, community replace, large and extended communities (RT and SoO),
//! AS-path prepend, origin, next hop address and self, community additive
//! then delete; an unmatched route not sent. Inbound sets (local-pref,
//! weight, AS-path exclude, community additive and delete, large
//! community delete, origin, MED) are seen in our Loc-RIB, and a deny by
//! an expanded community list. `show route-map` and `show ip prefix-list`
//! count what matched; `clear route-map counter` and `clear ip|ipv6
//! prefix-list` (whole lists and the entries covering a prefix) reset
//! them, unknown names are refused, and a soft inbound refresh makes them
//! count again.
//!
//! With BIRD also over IPv6: an IPv6 prefix list (a more specific deny
//! before a permit with `le`) inbound, MED and an IPv6 third-party next
//! hop outbound.
//!
//! Topology (bgp_util::pair): r1 (ours, AS 65000) 192.0.2.1/30 and
//! 198.51.100.241/28 -- r2 (the peer, AS 64502) 192.0.2.2/30 and
//! 198.51.100.242/28 (the /28 makes 198.51.100.253 a usable third-party
//! next hop).

mod bgp_util;

use bgp_util::*;
use topotests::try_wait_until;

/// The peer's routes: R1 with every attribute, R2 plain, R3 and R4 for the
/// prefix list's ge/le, R5 with a community our map denies.
const R1: &str = "198.51.100.0/26";
const R2: &str = "198.51.100.64/26";
const R3: &str = "198.51.100.128/27";
const R4: &str = "198.51.100.160/28";
const R5: &str = "198.51.100.192/26";
/// Ours: O1 with every set, O2 with next hop self and community
/// additive then delete, O3 denied (no entry matches).
const O1: &str = "203.0.113.0/26";
const O2: &str = "203.0.113.64/26";
const O3: &str = "203.0.113.128/26";
/// IPv6 (BIRD): V6A permitted by the prefix list's `le 56`, V6B denied by
/// its first entry; O6 ours, sent with MED 66 and next hop ::99.
const V6A: &str = "2001:db8:100::/48";
const V6B: &str = "2001:db8:100:100::/56";
const O6: &str = "2001:db8:300::/48";

const BIRD: &str = r#"
router id 192.0.2.2;
protocol device { scan time 1; }
protocol static s4 {
  ipv4;
  route 198.51.100.0/26 blackhole;
  route 198.51.100.64/26 blackhole;
  route 198.51.100.128/27 blackhole;
  route 198.51.100.160/28 blackhole;
  route 198.51.100.192/26 blackhole;
}
filter to_r1 {
  if net = 198.51.100.0/26 then {
    bgp_path.prepend(64511); bgp_path.prepend(64510);
    bgp_med = 42; bgp_origin = ORIGIN_EGP;
    bgp_community.add((64502, 7));
    bgp_large_community.add((64502, 1, 2));
    bgp_ext_community.add((rt, 64502, 100));
  }
  if net = 198.51.100.192/26 then bgp_community.add((64502, 666));
  if source = RTS_STATIC then accept;
  reject;
}
protocol bgp r1 {
  local 192.0.2.2 as 64502;
  neighbor 192.0.2.1 as 65000;
  connect retry time 1;
  ipv4 { import all; export filter to_r1; };
}
protocol static s6 {
  ipv6;
  route 2001:db8:100::/48 blackhole;
  route 2001:db8:100:100::/56 blackhole;
}
protocol bgp r1v6 {
  local 2001:db8:1::2 as 64502;
  neighbor 2001:db8:1::1 as 65000;
  connect retry time 1;
  ipv6 { import all; export where source = RTS_STATIC; };
}
"#;

fn ours(v6: bool) -> String {
    format!(
        r#"{head}
[[prefix_list]]
name = "GELE"
entries = [ {{ seq = 10, action = "permit", prefix = "198.51.100.128/25", ge = 26, le = 27 }} ]

[[prefix_list]]
name = "NH"
entries = [ {{ seq = 10, action = "permit", prefix = "192.0.2.0/30", le = 32 }} ]

[[prefix_list]]
name = "O1"
entries = [ {{ seq = 10, action = "permit", prefix = "{O1}" }} ]

[[prefix_list]]
name = "O2"
entries = [ {{ seq = 10, action = "permit", prefix = "{O2}" }} ]

[[as_path_list]]
name = "VIA-64510"
entries = [ {{ seq = 10, action = "permit", regex = "_64510_" }} ]

[[community_list]]
name = "STD"
entries = [ {{ seq = 10, action = "permit", values = ["64502:7"] }} ]

[[community_list]]
name = "BAD"
kind = "expanded"
entries = [ {{ seq = 10, action = "permit", regex = "_64502:666_" }} ]

[[community_list]]
name = "LG"
kind = "large"
entries = [ {{ seq = 10, action = "permit", values = ["64502:1:2"] }} ]

[[community_list]]
name = "EXT"
kind = "extended"
entries = [ {{ seq = 10, action = "permit", values = ["rt 64502:100"] }} ]

[[community_list]]
name = "OUR1"
entries = [ {{ seq = 10, action = "permit", values = ["65000:1"] }} ]

[[route_map]]
name = "IN"
entries = [
  {{ seq = 5, action = "deny", match = {{ community = "BAD" }} }},
  {{ seq = 10, action = "permit", match = {{ as_path = "VIA-64510", community = "STD" }},
    set = {{ local_pref = 200, as_path_exclude = [64511] }}, on_match = "goto 20" }},
  {{ seq = 15, action = "permit", match = {{ as_path = "VIA-64510" }}, set = {{ local_pref = 999 }} }},
  {{ seq = 20, action = "permit", match = {{ large_community = "LG", extcommunity = "EXT" }},
    set = {{ community = ["65000:20"], community_additive = true, community_delete = "STD" }},
    continue = 30 }},
  {{ seq = 30, action = "permit", match = {{ med = 42, origin = "egp" }},
    set = {{ origin = "incomplete", community_delete = "LG" }}, on_match = "next" }},
  {{ seq = 40, action = "permit", match = {{ local_pref = 200 }}, set = {{ med = 5 }} }},
  {{ seq = 50, action = "permit", match = {{ prefix_list = "GELE" }}, set = {{ local_pref = 150, weight = 7 }} }},
  {{ seq = 60, action = "permit", match = {{ next_hop = "NH", peer = "192.0.2.2" }}, set = {{ med = 60 }} }},
]

[[route_map]]
name = "OUT"
entries = [
  {{ seq = 10, action = "permit", match = {{ prefix_list = "O1" }},
    set = {{ med = 77, community = ["65000:77", "65000:78"], large_community = ["65000:7:7"],
      extcommunity_rt = ["65000:100"], extcommunity_soo = ["65000:1"], as_path_prepend = [65000, 65000],
      origin = "incomplete", next_hop = "198.51.100.253" }} }},
  {{ seq = 20, action = "permit", match = {{ prefix_list = "O2" }},
    set = {{ community = ["65000:1", "65000:2"] }}, on_match = "next" }},
  {{ seq = 30, action = "permit", match = {{ prefix_list = "O2" }},
    set = {{ community = ["65000:3"], community_additive = true, community_delete = "OUR1",
      next_hop = "self" }} }},
]

[[neighbor]]
address = "192.0.2.2"
remote_as = 64502
import = "IN"
export = "OUT"
{v6}"#,
        head = ours_head(
            65000,
            "192.0.2.1",
            &format!("networks = [\"{O1}\", \"{O2}\", \"{O3}\", \"{O6}\"]")
        ),
        v6 = if v6 { V6 } else { "" },
    )
}

/// An IPv6 session (BIRD only): an IPv6 prefix list with `le`, whose
/// more specific deny entry comes first, inbound; MED and a third-party
/// IPv6 next hop outbound.
const V6: &str = r#"
[[prefix_list]]
name = "V6"
entries = [
  { seq = 10, action = "deny", prefix = "2001:db8:100:100::/56" },
  { seq = 20, action = "permit", prefix = "2001:db8:100::/48", le = 56 },
]

[[prefix_list]]
name = "O6"
entries = [ { seq = 10, action = "permit", prefix = "2001:db8:300::/48" } ]

[[route_map]]
name = "IN6"
entries = [
  { seq = 10, action = "permit", match = { prefix_list = "V6" }, set = { local_pref = 160 } },
]

[[route_map]]
name = "OUT6"
entries = [
  { seq = 10, action = "permit", match = { prefix_list = "O6" },
    set = { med = 66, next_hop = "2001:db8:1::99" } },
]

[[neighbor]]
address = "2001:db8:1::2"
remote_as = 64502
families = ["ipv6-unicast"]
import = "IN6"
export = "OUT6"
"#;

/// BIRD's `show route PREFIX all` once it holds `prefix` with `want`.
fn bird_wait(bird: &Bird, prefix: &str, want: &str) -> String {
    let mut last = String::new();
    let r = try_wait_until(T, &format!("{prefix} in BIRD with {want}"), || {
        last = bird.route(prefix);
        last.contains(want)
    });
    assert!(r.is_ok(), "{r:?}: {last}");
    last
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The lab with our bgpd on r1 and the extra /28 on both ends.
fn lab(
    test: &str,
    v6: bool,
) -> (
    topotests::Lab,
    topotests::Node,
    topotests::Node,
    topotests::Proc,
    topotests::Proc,
) {
    let (lab, r1, r2) = pair(test);
    r1.add_addr("eth0", "198.51.100.241/28");
    r2.add_addr("eth0", "198.51.100.242/28");
    let (z, b) = start_ours(&r1, &ours(v6));
    (lab, r1, r2, z, b)
}

/// What our import map made of the peer's routes, in our Loc-RIB.
fn check_inbound(r1: &topotests::Node) {
    // R1: seq 10 (AS path with `_`, standard community) -> goto 20,
    // skipping 15 (large, extended) -> continue 30 (MED, origin) -> 40
    // (the local-pref seq 10 set).
    let p = wait_best(r1, R1);
    assert_eq!(p["locPrf"].as_u64(), Some(200), "{p:#}");
    assert_attrs(&p, &[64502, 64510], Some(5), &["65000:20"], &[]);
    assert_eq!(strings(&p["largeCommunity"]), Vec::<String>::new(), "{p:#}");
    assert!(
        !strings(&p["community"]).contains(&"64502:7".to_string()),
        "community_delete: {p:#}"
    );
    assert_eq!(p["origin"], "incomplete", "{p:#}");
    assert_eq!(strings(&p["extendedCommunity"]), ["rt 64502:100"], "{p:#}");
    // R2: only seq 60 (next hop in NH, peer).
    let p = wait_best(r1, R2);
    assert_eq!(p["metric"].as_u64(), Some(60), "{p:#}");
    assert!(p["locPrf"].is_null() || p["locPrf"] == 100, "{p:#}");
    // R3 (/27) is in GELE's ge 26 le 27; R4 (/28) is not.
    let p = wait_best(r1, R3);
    assert_eq!(p["locPrf"].as_u64(), Some(150), "{p:#}");
    assert_eq!(p["weight"].as_u64(), Some(7), "{p:#}");
    let p = wait_best(r1, R4);
    assert_eq!(p["metric"].as_u64(), Some(60), "{p:#}");
    assert_ne!(p["locPrf"].as_u64(), Some(150), "{p:#}");
    // R5: denied by seq 5 (expanded list).
    assert!(best(r1, R5).is_none(), "{:#?}", paths(r1, R5));
}

/// The counters of `show route-map` and `show ip prefix-list`: the deny
/// and every entry ran, except seq 15 that the goto skips.
fn check_counters(r1: &topotests::Node) {
    let rm = vtysh_json(r1, "show route-map IN json");
    let rules = rm["IN"]["rules"].as_array().cloned().unwrap_or_default();
    assert_eq!(rules.len(), 8, "{rm:#}");
    for r in &rules {
        if r["sequenceNumber"] == 15 {
            assert_eq!(r["invoked"], 0, "{r:#} in {rm:#}");
        } else {
            assert!(r["invoked"].as_u64() >= Some(1), "{r:#} in {rm:#}");
        }
    }
    let text = vtysh(r1, "show route-map IN").unwrap_or_default();
    assert!(text.contains("  Action:\n    Goto 20\n"), "{text}");
    assert!(text.contains("    large-comm-list LG delete\n"), "{text}");
    assert!(rm["IN"]["invoked"].as_u64() >= Some(5), "{rm:#}");
    let text = vtysh(r1, "show route-map IN").unwrap_or_default();
    assert!(
        text.contains("  Match clauses:\n    as-path VIA-64510\n    community STD\n"),
        "{text}"
    );
    let pl = vtysh_json(r1, "show ip prefix-list GELE json");
    assert!(
        pl["BGP"]["GELE"]["entries"][0]["hitCount"].as_u64() >= Some(1),
        "{pl:#}"
    );
}

/// The route map's counters, its own then its entries'.
fn route_map_counts(r1: &topotests::Node, name: &str) -> (u64, Vec<u64>) {
    let rm = vtysh_json(r1, &format!("show route-map {name} json"));
    let entries = rm[name]["rules"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["invoked"].as_u64()).collect())
        .unwrap_or_default();
    (rm[name]["invoked"].as_u64().unwrap_or(u64::MAX), entries)
}

/// The hit counts of a prefix list's entries of one family.
fn prefix_list_hits(r1: &topotests::Node, v6: bool, name: &str) -> Vec<u64> {
    let ip = if v6 { "ipv6" } else { "ip" };
    let pl = vtysh_json(r1, &format!("show {ip} prefix-list detail {name} json"));
    pl["BGP"][name]["entries"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["hitCount"].as_u64()).collect())
        .unwrap_or_default()
}

/// `clear route-map counter` and `clear ip|ipv6 prefix-list` (FRR's
/// words): the counters go to zero, unknown names are errors, and a soft
/// inbound refresh (the peer sends its routes again) counts again.
fn check_clearing(r1: &topotests::Node) {
    let (total, entries) = route_map_counts(r1, "IN");
    assert!(total >= 5 && entries.iter().any(|&n| n > 0), "{entries:?}");
    assert!(prefix_list_hits(r1, false, "GELE").iter().any(|&n| n > 0));
    let out = vtysh(r1, "clear route-map counter IN").expect("clear route-map counter IN");
    assert_eq!(out.trim(), "", "FRR prints nothing");
    let (total, entries) = route_map_counts(r1, "IN");
    assert_eq!((total, entries.len()), (0, 8), "{entries:?}");
    assert!(entries.iter().all(|&n| n == 0), "{entries:?}");
    vtysh(r1, "clear ip prefix-list GELE").expect("clear ip prefix-list GELE");
    let hits = prefix_list_hits(r1, false, "GELE");
    assert!(!hits.is_empty() && hits.iter().all(|&n| n == 0), "{hits:?}");
    // V6: seq 10 is 2001:db8:100:100::/56, seq 20 2001:db8:100::/48; the
    // /48 is covered by seq 20 alone.
    let v6 = prefix_list_hits(r1, true, "V6");
    assert!(v6.len() == 2 && v6.iter().all(|&n| n >= 1), "{v6:?}");
    vtysh(r1, "clear ipv6 prefix-list V6 2001:db8:100::/48").expect("clear ipv6 prefix-list");
    let after = prefix_list_hits(r1, true, "V6");
    assert_eq!(after, vec![v6[0], 0], "before {v6:?}");
    // Unknown names, as FRR says it.
    let e = vtysh(r1, "clear route-map counter NOPE").expect_err("unknown route map");
    assert!(e.stderr.contains("'route-map NOPE' not found"), "{e}");
    let e = vtysh(r1, "clear ip prefix-list NOPE").expect_err("unknown prefix list");
    assert!(e.stderr.contains("Can't find specified prefix-list"), "{e}");
    let e = vtysh(r1, "clear ip prefix-list GELE 2001:db8::/32").expect_err("wrong family");
    assert!(e.stderr.contains("not an IPv4 prefix"), "{e}");
    // The peer sends its routes again: the map and the list count again.
    vtysh(r1, "clear bgp 192.0.2.2 soft in").expect("clear bgp soft in");
    let mut last = (0, Vec::new());
    let r = try_wait_until(T, "route map IN counting again", || {
        last = route_map_counts(r1, "IN");
        last.0 >= 5
    });
    assert!(r.is_ok(), "{r:?}: {last:?}");
    assert!(last.1.iter().any(|&n| n > 0), "{last:?}");
    assert!(prefix_list_hits(r1, false, "GELE").iter().any(|&n| n > 0));
    // Every route map and every IPv4 entry at once.
    vtysh(r1, "clear route-map counter").expect("clear route-map counter");
    vtysh(r1, "clear ip prefix-list").expect("clear ip prefix-list");
    for name in ["IN", "OUT", "IN6", "OUT6"] {
        let (total, entries) = route_map_counts(r1, name);
        assert!(
            total == 0 && entries.iter().all(|&n| n == 0),
            "{name}: {entries:?}"
        );
    }
    assert!(prefix_list_hits(r1, false, "GELE").iter().all(|&n| n == 0));
    assert_eq!(
        prefix_list_hits(r1, true, "V6"),
        vec![v6[0], 0],
        "IPv6 untouched"
    );
}

#[test]
fn bgp_policy_every_match_and_set_with_bird() {
    if !can_run(&["bird", "birdc"]) {
        return;
    }
    let (_lab, r1, r2, _z, b) = lab("bgp_policy_every_match_and_set_with_bird", true);
    let bird = start_bird(&r2, BIRD);
    wait_established(&r1, "192.0.2.2");
    bird.wait_established("r1");
    check_inbound(&r1);

    // Outbound, in BIRD.
    let o1 = bird_wait(&bird, O1, "BGP.med: 77");
    for want in [
        "BGP.origin: Incomplete",
        "BGP.as_path: 65000 65000 65000",
        "BGP.next_hop: 198.51.100.253",
        "(65000,77) (65000,78)",
        "(rt, 65000, 100) (ro, 65000, 1)",
        "(65000, 7, 7)",
    ] {
        assert!(o1.contains(want), "{want} in BIRD's {O1}:\n{o1}");
    }
    let o2 = bird_wait(&bird, O2, "BGP.community:");
    for want in [
        "BGP.next_hop: 192.0.2.1",
        "BGP.community: (65000,2) (65000,3)",
        "BGP.as_path: 65000",
        "BGP.origin: IGP",
    ] {
        assert!(o2.contains(want), "{want} in BIRD's {O2}:\n{o2}");
    }
    assert!(!bird.has_route(O3), "{}", bird.route(O3));

    // IPv6: the prefix list's order and `le`, both ways.
    wait_established(&r1, "2001:db8:1::2");
    let p = wait_best(&r1, V6A);
    assert_eq!(p["locPrf"].as_u64(), Some(160), "{p:#}");
    let o6 = bird_wait(&bird, O6, "BGP.med: 66");
    assert!(o6.contains("BGP.next_hop: 2001:db8:1::99"), "{o6}");
    assert!(best(&r1, V6B).is_none(), "{:#?}", paths(&r1, V6B));
    let pl = vtysh_json(&r1, "show ipv6 prefix-list V6 json");
    let hits: Vec<u64> = pl["BGP"]["V6"]["entries"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["hitCount"].as_u64()).collect())
        .unwrap_or_default();
    assert!(hits.len() == 2 && hits.iter().all(|&h| h >= 1), "{pl:#}");
    check_counters(&r1);
    check_clearing(&r1);
    b.assert_running();
}

/// GoBGP's attribute of `type` on its path for `prefix` (its JSON).
fn gobgp_attr(path: &serde_json::Value, kind: u64) -> serde_json::Value {
    path["attrs"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["type"].as_u64() == Some(kind)))
        .cloned()
        .unwrap_or_default()
}

/// GoBGP's path for `prefix` once `ok` holds for it.
fn gobgp_wait(
    g: &Gobgp,
    prefix: &str,
    what: &str,
    ok: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let mut last = serde_json::Value::Null;
    let r = try_wait_until(T, what, || {
        last = g.paths(prefix).into_iter().next().unwrap_or_default();
        ok(&last)
    });
    assert!(r.is_ok(), "{r:?}: {last:#}");
    last
}

#[test]
fn bgp_policy_every_match_and_set_with_gobgp() {
    if !can_run(&["gobgpd", "gobgp"]) {
        return;
    }
    let (_lab, r1, r2, _z, b) = lab("bgp_policy_every_match_and_set_with_gobgp", false);
    let g = start_gobgp(&r2, &gobgp_conf(64502, "192.0.2.2", "192.0.2.1", ""));
    // The same five routes as BIRD's (GoBGP's default origin is
    // incomplete; R1 says egp).
    g.cmd(&[
        "global",
        "rib",
        "add",
        "-a",
        "ipv4",
        R1,
        "origin",
        "egp",
        "aspath",
        "64510 64511",
        "med",
        "42",
        "community",
        "64502:7",
        "large-community",
        "64502:1:2",
        "rt",
        "64502:100",
    ]);
    for p in [R2, R3, R4] {
        g.cmd(&["global", "rib", "add", "-a", "ipv4", p, "origin", "igp"]);
    }
    g.cmd(&[
        "global",
        "rib",
        "add",
        "-a",
        "ipv4",
        R5,
        "community",
        "64502:666",
    ]);
    wait_established(&r1, "192.0.2.2");
    g.wait_established("192.0.2.1");
    check_inbound(&r1);

    // Outbound, in GoBGP's RIB: type 1 ORIGIN (2: incomplete), 2 AS_PATH,
    // 3 NEXT_HOP, 4 MED, 8 COMMUNITIES, 16 extended, 32 large.
    let o1 = gobgp_wait(&g, O1, "O1 in GoBGP with MED 77", |p| {
        gobgp_attr(p, 4)["metric"] == 77
    });
    assert_eq!(gobgp_attr(&o1, 1)["value"], 2, "{o1:#}");
    assert_eq!(
        gobgp_attr(&o1, 2)["as_paths"][0]["asns"],
        serde_json::json!([65000, 65000, 65000]),
        "{o1:#}"
    );
    assert_eq!(gobgp_attr(&o1, 3)["nexthop"], "198.51.100.253", "{o1:#}");
    // 65000:77 and 65000:78 as 32-bit values.
    let c = |asn: u64, v: u64| asn << 16 | v;
    assert_eq!(
        gobgp_attr(&o1, 8)["communities"],
        serde_json::json!([c(65000, 77), c(65000, 78)]),
        "{o1:#}"
    );
    assert_eq!(
        gobgp_attr(&o1, 16)["value"],
        serde_json::json!([
            { "type": 0, "subtype": 2, "value": "65000:100" },
            { "type": 0, "subtype": 3, "value": "65000:1" }
        ]),
        "{o1:#}"
    );
    assert_eq!(
        gobgp_attr(&o1, 32)["value"],
        serde_json::json!([{ "ASN": 65000, "LocalData1": 7, "LocalData2": 7 }]),
        "{o1:#}"
    );
    let o2 = gobgp_wait(&g, O2, "O2 in GoBGP with communities", |p| {
        !gobgp_attr(p, 8).is_null()
    });
    assert_eq!(
        gobgp_attr(&o2, 8)["communities"],
        serde_json::json!([c(65000, 2), c(65000, 3)]),
        "{o2:#}"
    );
    assert_eq!(gobgp_attr(&o2, 3)["nexthop"], "192.0.2.1", "{o2:#}");
    assert_eq!(gobgp_attr(&o2, 1)["value"], 0, "{o2:#}");
    assert!(g.paths(O3).is_empty(), "{:#?}", g.paths(O3));
    check_counters(&r1);
    b.assert_running();
}

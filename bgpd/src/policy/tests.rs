//! The policy engine as an operator sees it: the spec's TOML parsed, then
//! every match and set, `continue`/`on_match`, deny and implicit deny, on
//! routes built by hand.

use std::net::{IpAddr, Ipv4Addr};

use ipnetwork::IpNetwork;

use super::*;
use crate::packet::{
    AsPath, Community, ExtendedCommunity, LargeCommunity, MpNextHop, Origin, PathAttributes,
};

fn p(s: &str) -> IpNetwork {
    s.parse().unwrap()
}

const HEAD: &str = "[bgp]\nasn = 65000\nrouter_id = \"192.0.2.1\"\n";

const LISTS: &str = r#"
[[prefix_list]]
name = "CUSTOMER"
entries = [ { seq = 10, action = "permit", prefix = "198.51.100.0/24", le = 32 } ]

[[prefix_list]]
name = "NH"
entries = [ { seq = 10, action = "permit", prefix = "192.0.2.0/24", le = 32 } ]

[[as_path_list]]
name = "VIA-65001"
entries = [ { seq = 10, action = "permit", regex = "_65001_" } ]

[[community_list]]
name = "BLACKHOLE"
kind = "standard"
entries = [ { seq = 10, action = "permit", values = ["65000:666", "no-export"] } ]

[[community_list]]
name = "OURS"
kind = "expanded"
entries = [ { seq = 10, action = "permit", regex = "^65000:" } ]

[[community_list]]
name = "L"
kind = "large"
entries = [ { seq = 10, action = "permit", values = ["65000:1:1"] } ]

[[community_list]]
name = "E"
kind = "extended"
entries = [ { seq = 10, action = "permit", values = ["rt 65000:100"] } ]

[[community_list]]
name = "E2"
kind = "extended"
entries = [ { seq = 10, action = "permit", values = ["rt:65000:100", "soo:65000:1"] } ]
"#;

fn policies(maps: &str) -> Policies {
    let text = format!("{HEAD}{LISTS}{maps}");
    match crate::config::parse("t.toml", &text) {
        Ok(c) => c.policies,
        Err(e) => panic!("{e}"),
    }
}

fn route_attrs() -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence([65002, 65001])),
        next_hop: Some(Ipv4Addr::new(192, 0, 2, 2)),
        med: Some(5),
        communities: vec![Community::new(65000, 666), Community::NO_EXPORT],
        large_communities: vec![LargeCommunity::new(65000, 1, 1)],
        extended_communities: vec![ExtendedCommunity::route_target(65000, 100)],
        ..PathAttributes::default()
    }
}

const PEER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));

/// Run map `name` on 198.51.100.0/24 from PEER: the modified attributes,
/// or None when denied.
fn run(pol: &Policies, name: &str, prefix: &str, a: &PathAttributes) -> Option<PathAttributes> {
    let prefix = p(prefix);
    let r = Route {
        prefix: &prefix,
        peer: Some(PEER),
    };
    match pol.evaluate(name, &r, a) {
        Verdict::Reject => None,
        Verdict::Accept(applied) => {
            let mut out = a.clone();
            let env = Env {
                prefix: &prefix,
                self_v4: Some(Ipv4Addr::new(192, 0, 2, 1)),
                self_v6: None,
                original: a,
            };
            pol.apply(&applied, &mut out, &env);
            Some(out)
        }
    }
}

/// A route map with one permit entry matching `cond` and setting MED 77.
fn one_match(cond: &str) -> Policies {
    policies(&format!(
        "[[route_map]]\nname = \"M\"\nentries = [ {{ seq = 10, action = \"permit\", match = {{ {cond} }}, set = {{ med = 77 }} }} ]\n"
    ))
}

#[test]
fn every_match_holds_and_fails() {
    let a = route_attrs();
    let cases: &[(&str, &str, PathAttributes)] = &[
        ("prefix_list = \"CUSTOMER\"", "203.0.113.0/24", a.clone()),
        (
            "as_path = \"VIA-65001\"",
            "198.51.100.0/24",
            PathAttributes {
                as_path: Some(AsPath::from_sequence([65002, 650011])),
                ..a.clone()
            },
        ),
        (
            "community = \"BLACKHOLE\"",
            "198.51.100.0/24",
            PathAttributes {
                communities: vec![Community::new(65000, 666)],
                ..a.clone()
            },
        ),
        (
            "community = \"OURS\"",
            "198.51.100.0/24",
            PathAttributes {
                communities: vec![Community::new(65001, 1)],
                ..a.clone()
            },
        ),
        (
            "large_community = \"L\"",
            "198.51.100.0/24",
            PathAttributes {
                large_communities: vec![],
                ..a.clone()
            },
        ),
        (
            "extcommunity = \"E\"",
            "198.51.100.0/24",
            PathAttributes {
                extended_communities: vec![ExtendedCommunity::route_target(65000, 1)],
                ..a.clone()
            },
        ),
        (
            "next_hop = \"NH\"",
            "198.51.100.0/24",
            PathAttributes {
                next_hop: Some(Ipv4Addr::new(203, 0, 113, 1)),
                ..a.clone()
            },
        ),
        (
            "origin = \"igp\"",
            "198.51.100.0/24",
            PathAttributes {
                origin: Some(Origin::Incomplete),
                ..a.clone()
            },
        ),
        (
            "local_pref = 100",
            "198.51.100.0/24",
            PathAttributes {
                local_pref: Some(200),
                ..a.clone()
            },
        ),
        (
            "med = 5",
            "198.51.100.0/24",
            PathAttributes {
                med: None,
                ..a.clone()
            },
        ),
        ("peer = \"192.0.2.3\"", "198.51.100.0/24", a.clone()),
    ];
    for (cond, miss_prefix, miss_attrs) in cases {
        let pol = one_match(cond);
        let peer_case = cond.starts_with("peer");
        if !peer_case {
            let hit = run(&pol, "M", "198.51.100.0/24", &a);
            assert_eq!(hit.map(|x| x.med), Some(Some(77)), "{cond} should match");
        }
        assert!(
            run(&pol, "M", miss_prefix, miss_attrs).is_none(),
            "{cond} should not match (implicit deny)"
        );
    }
    let pol = one_match("peer = \"192.0.2.2\"");
    assert!(run(&pol, "M", "198.51.100.0/24", &a).is_some());
    // vtysh's `rt:ASN:N` form: both values needed.
    let pol = one_match("extcommunity = \"E2\"");
    assert!(run(&pol, "M", "198.51.100.0/24", &a).is_none());
    let mut soo = ExtendedCommunity::route_target(65000, 1);
    soo.0[1] = 0x03;
    let mut both = a.clone();
    both.extended_communities.push(soo);
    assert!(run(&pol, "M", "198.51.100.0/24", &both).is_some());
    // All conditions of an entry must hold.
    let pol = one_match("prefix_list = \"CUSTOMER\", med = 6");
    assert!(run(&pol, "M", "198.51.100.0/24", &a).is_none());
}

#[test]
fn every_set() {
    let pol = policies(
        r#"
[[route_map]]
name = "S"
entries = [ { seq = 10, action = "permit", set = {
    weight = 5, local_pref = 200, med = 10,
    community = ["65000:1"], community_additive = true,
    large_community = ["65000:2:2"], large_community_additive = true,
    extcommunity_rt = ["65000:200"], extcommunity_soo = ["65000:1"],
    as_path_prepend = [65000, 65000], as_path_exclude = [65002],
    next_hop = "203.0.113.9", origin = "incomplete" } } ]

[[route_map]]
name = "REPLACE"
entries = [ { seq = 10, action = "permit", set = { community = ["65000:2"], large_community = ["none"], next_hop = "self" } } ]

[[route_map]]
name = "DELETE"
entries = [ { seq = 10, action = "permit", set = { community_delete = "OURS", next_hop = "unchanged" } } ]

[[route_map]]
name = "NONE"
entries = [ { seq = 10, action = "permit", set = { community = ["none"] } } ]
"#,
    );
    let a = route_attrs();
    let out = run(&pol, "S", "198.51.100.0/24", &a).unwrap();
    assert_eq!(out.weight, 5);
    assert_eq!(out.local_pref, Some(200));
    assert_eq!(out.med, Some(10));
    assert_eq!(
        out.communities,
        vec![
            Community::new(65000, 666),
            Community::NO_EXPORT,
            Community::new(65000, 1)
        ]
    );
    assert_eq!(
        out.large_communities,
        vec![
            LargeCommunity::new(65000, 1, 1),
            LargeCommunity::new(65000, 2, 2)
        ]
    );
    let ext: Vec<String> = out
        .extended_communities
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(ext, ["rt 65000:100", "rt 65000:200", "soo 65000:1"]);
    assert_eq!(out.as_path.unwrap().to_string(), "65000 65000 65001");
    assert_eq!(out.next_hop, Some(Ipv4Addr::new(203, 0, 113, 9)));
    assert_eq!(out.origin, Some(Origin::Incomplete));

    let out = run(&pol, "REPLACE", "198.51.100.0/24", &a).unwrap();
    assert_eq!(out.communities, vec![Community::new(65000, 2)]);
    assert!(out.large_communities.is_empty());
    assert_eq!(out.next_hop, Some(Ipv4Addr::new(192, 0, 2, 1)), "self");

    let mut moved = a.clone();
    moved.next_hop = Some(Ipv4Addr::new(192, 0, 2, 1));
    let prefix = p("198.51.100.0/24");
    let Verdict::Accept(applied) = pol.evaluate(
        "DELETE",
        &Route {
            prefix: &prefix,
            peer: None,
        },
        &a,
    ) else {
        panic!("DELETE permits")
    };
    let env = Env {
        prefix: &prefix,
        self_v4: None,
        self_v6: None,
        original: &a,
    };
    pol.apply(&applied, &mut moved, &env);
    assert_eq!(
        moved.communities,
        vec![Community::NO_EXPORT],
        "65000:666 deleted"
    );
    assert_eq!(
        moved.next_hop, a.next_hop,
        "unchanged restores the original"
    );

    let out = run(&pol, "NONE", "198.51.100.0/24", &a).unwrap();
    assert!(out.communities.is_empty());
}

#[test]
fn ipv6_next_hop_set() {
    let pol = policies(
        "[[route_map]]\nname = \"V6\"\nentries = [ { seq = 10, action = \"permit\", set = { next_hop = \"2001:db8::9\" } } ]\n",
    );
    let a = PathAttributes {
        mp_next_hop: Some(MpNextHop::V6 {
            global: "2001:db8::1".parse().unwrap(),
            link_local: Some("fe80::1".parse().unwrap()),
        }),
        ..PathAttributes::default()
    };
    let out = run(&pol, "V6", "2001:db8:1::/48", &a).unwrap();
    assert_eq!(
        out.mp_next_hop,
        Some(MpNextHop::V6 {
            global: "2001:db8::9".parse().unwrap(),
            link_local: None
        })
    );
    // An IPv6 address on an IPv4 route changes nothing.
    let a4 = route_attrs();
    assert_eq!(run(&pol, "V6", "198.51.100.0/24", &a4).unwrap(), a4);
}

#[test]
fn deny_first_match_and_implicit_deny() {
    let pol = policies(
        r#"
[[route_map]]
name = "M"
entries = [
  { seq = 20, action = "permit", set = { local_pref = 50 } },
  { seq = 10, action = "deny", match = { community = "BLACKHOLE" } },
]

[[route_map]]
name = "EMPTY"
entries = []
"#,
    );
    let a = route_attrs();
    assert!(
        run(&pol, "M", "198.51.100.0/24", &a).is_none(),
        "seq 10 first"
    );
    let clean = PathAttributes {
        communities: vec![],
        ..a.clone()
    };
    assert_eq!(
        run(&pol, "M", "198.51.100.0/24", &clean)
            .unwrap()
            .local_pref,
        Some(50)
    );
    assert!(run(&pol, "EMPTY", "198.51.100.0/24", &a).is_none());
    assert!(run(&pol, "UNDEFINED", "198.51.100.0/24", &a).is_none());
}

#[test]
fn continue_and_on_match() {
    let pol = policies(
        r#"
[[route_map]]
name = "C"
entries = [
  { seq = 10, action = "permit", set = { community = ["65000:1"] }, continue = true },
  # Sees the community seq 10 set.
  { seq = 20, action = "permit", match = { community = "OURS" }, set = { local_pref = 300 }, on_match = "goto 40" },
  { seq = 30, action = "permit", set = { med = 1 } },
  { seq = 40, action = "permit", match = { med = 99 }, set = { med = 2 } },
]

[[route_map]]
name = "D"
entries = [
  { seq = 10, action = "permit", set = { local_pref = 10 }, continue = 30 },
  { seq = 20, action = "permit", set = { med = 20 } },
  { seq = 30, action = "deny", match = { local_pref = 10 } },
]

[[route_map]]
name = "STOP"
entries = [
  { seq = 10, action = "permit", set = { local_pref = 10 } },
  { seq = 20, action = "permit", set = { med = 20 } },
]
"#,
    );
    let a = PathAttributes {
        med: Some(5),
        ..PathAttributes::default()
    };
    let out = run(&pol, "C", "198.51.100.0/24", &a).unwrap();
    assert_eq!(out.communities, vec![Community::new(65000, 1)]);
    assert_eq!(out.local_pref, Some(300));
    assert_eq!(
        out.med,
        Some(5),
        "30 skipped by goto, 40 does not match: permit"
    );
    assert!(
        run(&pol, "D", "198.51.100.0/24", &a).is_none(),
        "a later deny matching the modified route rejects"
    );
    let out = run(&pol, "STOP", "198.51.100.0/24", &a).unwrap();
    assert_eq!(
        (out.local_pref, out.med),
        (Some(10), Some(5)),
        "first permit stops"
    );
}

#[test]
fn filter_checks_prefix_list_then_route_map() {
    let pol = policies(
        "[[route_map]]\nname = \"ALL\"\nentries = [ { seq = 10, action = \"permit\", set = { med = 1 } } ]\n",
    );
    let a = route_attrs();
    let ok = p("198.51.100.0/25");
    let bad = p("203.0.113.0/24");
    let r = |prefix| Route { prefix, peer: None };
    let f = Filter {
        prefix_list: Some("CUSTOMER"),
        route_map: Some("ALL"),
    };
    assert!(matches!(pol.filter(f, &r(&ok), &a), Some(Verdict::Accept(x)) if !x.is_none()));
    assert_eq!(pol.filter(f, &r(&bad), &a), Some(Verdict::Reject));
    let only_list = Filter {
        prefix_list: Some("CUSTOMER"),
        route_map: None,
    };
    assert_eq!(
        pol.filter(only_list, &r(&ok), &a),
        Some(Verdict::Accept(Applied::NONE))
    );
    assert_eq!(
        pol.filter(Filter::default(), &r(&ok), &a),
        None,
        "RFC 8212 is the caller's"
    );
}

#[test]
fn family_policy_overrides_route_maps() {
    let b = Bindings {
        import: Some("IN".into()),
        export: Some("OUT".into()),
        prefix_list_in: Some("PL".into()),
        prefix_list_out: None,
        family: vec![(
            crate::packet::AfiSafi::IPV6_UNICAST,
            FamilyPolicy {
                import: Some("V6-IN".into()),
                export: None,
            },
        )],
        graceful_shutdown: false,
    };
    let v4 = crate::packet::AfiSafi::IPV4_UNICAST;
    let v6 = crate::packet::AfiSafi::IPV6_UNICAST;
    assert_eq!(b.inbound(v4).route_map, Some("IN"));
    assert_eq!(b.inbound(v6).route_map, Some("V6-IN"));
    assert_eq!(b.inbound(v6).prefix_list, Some("PL"));
    assert_eq!(b.outbound(v6).route_map, Some("OUT"));
    assert_eq!(b.outbound_only().import, None);
}

fn err(extra: &str) -> common::config::ConfigError {
    crate::config::parse("t.toml", &format!("{HEAD}{LISTS}{extra}")).unwrap_err()
}

#[test]
fn config_errors_name_the_key() {
    let cases = [
        (
            "[[route_map]]\nname = \"M\"\nentries = [ { seq = 10, action = \"permit\", match = { prefix_list = \"NOPE\" } } ]\n",
            "route_map.entries.match.prefix_list",
        ),
        (
            "[[route_map]]\nname = \"M\"\nentries = [ { seq = 10, action = \"permit\", match = { community = \"L\" } } ]\n",
            "route_map.entries.match.community",
        ),
        (
            "[[route_map]]\nname = \"M\"\nentries = [ { seq = 10, action = \"permit\", on_match = \"goto 5\" } ]\n",
            "route_map.entries.on_match",
        ),
        (
            "[[route_map]]\nname = \"M\"\nentries = [ { seq = 10, action = \"permit\", continue = 10 } ]\n",
            "route_map.entries.continue",
        ),
        (
            "[[route_map]]\nname = \"M\"\nentries = [ { seq = 10, action = \"deny\", set = { med = 1 } } ]\n",
            "route_map.entries.set",
        ),
        (
            "[[route_map]]\nname = \"M\"\nentries = [ { seq = 10, action = \"permit\" }, { seq = 10, action = \"deny\" } ]\n",
            "route_map.entries.seq",
        ),
        (
            "[[route_map]]\nname = \"M\"\nentries = [ { seq = 10, action = \"permit\", set = { community = [\"65536:1\"] } } ]\n",
            "route_map.entries.set.community",
        ),
        (
            "[[as_path_list]]\nname = \"A\"\nentries = [ { action = \"permit\", regex = \"(\" } ]\n",
            "as_path_list.entries.regex",
        ),
        (
            "[[community_list]]\nname = \"X\"\nkind = \"expanded\"\nentries = [ { action = \"permit\", values = [\"1:1\"] } ]\n",
            "community_list.entries.regex",
        ),
        (
            "[[community_list]]\nname = \"X\"\nkind = \"extended\"\nentries = [ { action = \"permit\", values = [\"65000:1\"] } ]\n",
            "community_list.entries.values",
        ),
        (
            "[[neighbor]]\naddress = \"192.0.2.2\"\nremote_as = 65001\nimport = \"NOPE\"\n",
            "neighbor.import",
        ),
        (
            "[[neighbor]]\naddress = \"192.0.2.2\"\nremote_as = 65001\nprefix_list_out = \"NOPE\"\n",
            "neighbor.prefix_list_out",
        ),
        (
            "[[route_map]]\nname = \"M\"\nentries = []\n[[neighbor]]\naddress = \"192.0.2.2\"\nremote_as = 65001\nfamily_policy = { \"ipv6-unicast\" = { import = \"NOPE\" } }\n",
            "neighbor.family_policy.import",
        ),
    ];
    for (text, key) in cases {
        let e = err(text);
        assert_eq!(e.key, key, "{e}");
        assert!(e.line > 3, "{e}");
    }
}

#[test]
fn clear_counters_of_one_or_every_map_and_list() {
    let pol = policies(
        r#"
[[route_map]]
name = "M"
entries = [ { seq = 10, action = "permit", match = { prefix_list = "CUSTOMER" }, set = { med = 7 } } ]

[[route_map]]
name = "N"
entries = [ { seq = 10, action = "permit" } ]
"#,
    );
    let a = route_attrs();
    for _ in 0..3 {
        assert!(run(&pol, "M", "198.51.100.0/24", &a).is_some());
        assert!(run(&pol, "N", "198.51.100.0/24", &a).is_some());
    }
    let counts = |pol: &Policies| {
        let m = pol.route_map("M").unwrap();
        let n = pol.route_map("N").unwrap();
        let pl = pol.prefix_list("CUSTOMER").unwrap();
        (m.invoked(), m.entry_invoked(0), n.invoked(), pl.hits(0))
    };
    assert_eq!(counts(&pol), (3, 3, 3, 3));
    assert_eq!(pol.clear_route_map_counts(Some("M")), Ok(1));
    assert_eq!(counts(&pol), (0, 0, 3, 3), "only M, and not its lists");
    assert_eq!(
        pol.clear_route_map_counts(Some("NOPE")),
        Err(ClearError::RouteMap("NOPE".into()))
    );
    assert_eq!(
        ClearError::RouteMap("NOPE".into()).to_string(),
        "'route-map NOPE' not found"
    );
    // The IPv6 entries of CUSTOMER: none.
    assert_eq!(
        pol.clear_prefix_list_counts(true, Some("CUSTOMER"), None),
        Ok(0)
    );
    assert_eq!(counts(&pol).3, 3);
    let other = p("203.0.113.0/24");
    assert_eq!(
        pol.clear_prefix_list_counts(false, Some("CUSTOMER"), Some(&other)),
        Ok(0)
    );
    let inside = p("198.51.100.128/25");
    assert_eq!(
        pol.clear_prefix_list_counts(false, Some("CUSTOMER"), Some(&inside)),
        Ok(1)
    );
    assert_eq!(counts(&pol), (0, 0, 3, 0));
    assert!(matches!(
        pol.clear_prefix_list_counts(false, Some("NOPE"), None),
        Err(ClearError::PrefixList(_))
    ));
    // Counting goes on from zero; then every map and list at once.
    assert!(run(&pol, "M", "198.51.100.0/24", &a).is_some());
    assert_eq!(counts(&pol), (1, 1, 3, 1));
    assert_eq!(pol.clear_route_map_counts(None), Ok(2));
    assert_eq!(pol.clear_prefix_list_counts(false, None, None), Ok(2));
    assert_eq!(counts(&pol), (0, 0, 0, 0));
}

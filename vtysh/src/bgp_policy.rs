//! bgpd's routing policy in FRR's show formats: `show route-map [NAME]`,
//! `show ip|ipv6 prefix-list [detail] [NAME]`, `show bgp
//! as-path-access-list [NAME]`, `show bgp community-list|
//! large-community-list|extcommunity-list [NAME]`, each with `json`, and
//! the counters reset as FRR's `clear route-map counter [NAME]` and
//! `clear ip|ipv6 prefix-list [NAME [PREFIX]]` do (bgp.proto
//! `ClearPolicyCounters`). bgpd sends the clauses already in FRR's words
//! with the counters (bgp.proto `Policy`); parsing and rendering here are
//! pure.

use std::fmt::Write;

use ipnetwork::IpNetwork;
use proto::bgp as pb;
use proto::bgp::bgp_client::BgpClient;
use proto::bgp::policy_request::Kind;
use proto::transport::{self, Address};
use serde_json::{json, Map, Value};

/// Which attribute a community-list command shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Communities {
    Standard,
    Large,
    Extended,
}

impl Communities {
    /// Whether a list of bgpd's `kind` belongs to this command.
    fn has(self, kind: &str) -> bool {
        match self {
            Communities::Standard => matches!(kind, "standard" | "expanded"),
            Communities::Large => kind.starts_with("large"),
            Communities::Extended => kind.starts_with("extended"),
        }
    }

    /// FRR's heading word ("Named Community standard list X").
    fn heading(self) -> &'static str {
        match self {
            Communities::Standard => "Community",
            Communities::Large => "large community",
            Communities::Extended => "extended community",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyCmd {
    /// `show route-map [NAME]`
    RouteMap { name: Option<String> },
    /// `show ip|ipv6 prefix-list [detail] [NAME]`
    PrefixList {
        v6: bool,
        detail: bool,
        name: Option<String>,
    },
    /// `show bgp as-path-access-list [NAME]`
    AsPathList { name: Option<String> },
    /// `show bgp community-list|large-community-list|extcommunity-list [NAME]`
    CommunityList {
        which: Communities,
        name: Option<String>,
    },
    /// `clear route-map counter [NAME]`
    ClearRouteMap { name: Option<String> },
    /// `clear ip|ipv6 prefix-list [NAME [PREFIX]]`: with a prefix, the
    /// entries covering it.
    ClearPrefixList {
        v6: bool,
        name: Option<String>,
        prefix: Option<IpNetwork>,
    },
}

/// The words after `show bgp` that name a policy list.
pub const BGP_WORDS: [&str; 4] = [
    "as-path-access-list",
    "community-list",
    "large-community-list",
    "extcommunity-list",
];

fn one_name(words: &[&str]) -> Result<Option<String>, String> {
    match words {
        [] => Ok(None),
        [n] => Ok(Some(n.to_string())),
        [_, x, ..] => Err(format!("% Unexpected `{x}`")),
    }
}

/// `show bgp WORD [NAME]`, WORD one of [`BGP_WORDS`] (already resolved).
pub fn parse_bgp(word: &str, rest: &[&str]) -> Result<PolicyCmd, String> {
    let name = one_name(rest)?;
    Ok(match word {
        "as-path-access-list" => PolicyCmd::AsPathList { name },
        "large-community-list" => PolicyCmd::CommunityList {
            which: Communities::Large,
            name,
        },
        "extcommunity-list" => PolicyCmd::CommunityList {
            which: Communities::Extended,
            name,
        },
        _ => PolicyCmd::CommunityList {
            which: Communities::Standard,
            name,
        },
    })
}

/// `show ip|ipv6 prefix-list [detail] [NAME]`: the words after `prefix-list`.
pub fn parse_prefix_list(v6: bool, rest: &[&str]) -> Result<PolicyCmd, String> {
    let (detail, rest) = match rest {
        [d, more @ ..] if d.eq_ignore_ascii_case("detail") => (true, more),
        _ => (false, rest),
    };
    Ok(PolicyCmd::PrefixList {
        v6,
        detail,
        name: one_name(rest)?,
    })
}

/// `show route-map [NAME]`: the words after `route-map`.
pub fn parse_route_map(rest: &[&str]) -> Result<PolicyCmd, String> {
    Ok(PolicyCmd::RouteMap {
        name: one_name(rest)?,
    })
}

/// `clear route-map counter [NAME]`: the words after `route-map`.
pub fn parse_clear_route_map(rest: &[&str]) -> Result<PolicyCmd, String> {
    match rest {
        [w, more @ ..] if !w.is_empty() && "counter".starts_with(&w.to_ascii_lowercase()) => {
            Ok(PolicyCmd::ClearRouteMap {
                name: one_name(more)?,
            })
        }
        [x, ..] => Err(format!(
            "% Unknown command: `{x}` (clear route-map counter [NAME])"
        )),
        [] => Err("% Incomplete command: clear route-map counter [NAME]".into()),
    }
}

/// `clear ip|ipv6 prefix-list [NAME [PREFIX]]`: the words after
/// `prefix-list`; the prefix is of the command's family.
pub fn parse_clear_prefix_list(v6: bool, rest: &[&str]) -> Result<PolicyCmd, String> {
    let (name, prefix) = match rest {
        [] => (None, None),
        [n] => (Some(n.to_string()), None),
        [n, p] => {
            let net = proto::parse_prefix(p).map_err(|e| format!("% {e}"))?;
            if net.is_ipv6() != v6 {
                let fam = if v6 { "IPv6" } else { "IPv4" };
                return Err(format!("% `{p}` is not an {fam} prefix"));
            }
            (Some(n.to_string()), Some(net))
        }
        [_, _, x, ..] => return Err(format!("% Unexpected `{x}`")),
    };
    Ok(PolicyCmd::ClearPrefixList { v6, name, prefix })
}

/// Resets counters (`clear route-map counter`, `clear ip|ipv6
/// prefix-list`): nothing printed, as FRR; with `json`, how many were
/// reset. An unknown name is bgpd's NOT_FOUND, in FRR's words.
async fn clear(
    c: &mut BgpClient<tonic::transport::Channel>,
    cmd: &PolicyCmd,
    json: bool,
) -> Result<String, String> {
    use pb::clear_policy_counters_request::Kind as ClearKind;
    let req = match cmd {
        PolicyCmd::ClearRouteMap { name } => pb::ClearPolicyCountersRequest {
            kind: ClearKind::RouteMap as i32,
            name: name.clone().unwrap_or_default(),
            ipv6: false,
            prefix: None,
        },
        PolicyCmd::ClearPrefixList { v6, name, prefix } => pb::ClearPolicyCountersRequest {
            kind: ClearKind::PrefixList as i32,
            name: name.clone().unwrap_or_default(),
            ipv6: *v6,
            prefix: prefix.map(|p| pb::Prefix {
                addr: proto::addr_to_bytes(p.network()),
                len: u32::from(p.prefix()),
            }),
        },
        _ => return Err("% not a clear command".into()),
    };
    let r = c
        .clear_policy_counters(req)
        .await
        .map_err(|e| format!("% bgpd: {}", e.message()))?
        .into_inner();
    Ok(if json {
        serde_json::to_string_pretty(&json!({ "cleared": r.cleared })).unwrap_or_default() + "\n"
    } else {
        String::new()
    })
}

/// Runs a policy command against bgpd's socket.
pub async fn run(cmd: &PolicyCmd, json: bool, addr: &Address) -> Result<String, String> {
    let ch = transport::connect(addr)
        .await
        .map_err(|e| format!("% bgpd is not running (cannot connect to {addr}): {e}"))?;
    let mut c = BgpClient::new(ch).max_decoding_message_size(transport::MAX_MESSAGE_SIZE);
    let (kind, name) = match cmd {
        PolicyCmd::RouteMap { name } => (Kind::RouteMap, name),
        PolicyCmd::PrefixList { name, .. } => (Kind::PrefixList, name),
        PolicyCmd::AsPathList { name } => (Kind::AsPathList, name),
        PolicyCmd::CommunityList { name, .. } => (Kind::CommunityList, name),
        PolicyCmd::ClearRouteMap { .. } | PolicyCmd::ClearPrefixList { .. } => {
            return clear(&mut c, cmd, json).await
        }
    };
    let r = c
        .policy(pb::PolicyRequest {
            kind: kind as i32,
            name: name.clone().unwrap_or_default(),
        })
        .await
        .map_err(|e| format!("% bgpd: {}", e.message()))?
        .into_inner();
    let pretty = |v: Value| serde_json::to_string_pretty(&v).unwrap_or_default() + "\n";
    Ok(match (cmd, json) {
        (PolicyCmd::RouteMap { name }, false) => route_maps(&r, name.as_deref()),
        (PolicyCmd::RouteMap { .. }, true) => pretty(route_maps_json(&r)),
        (PolicyCmd::PrefixList { v6, detail, name }, false) => {
            if name.is_some() && r.prefix_lists.is_empty() {
                return Err("% Can't find specified prefix-list".into());
            }
            prefix_lists(&r, *v6, *detail)
        }
        (PolicyCmd::PrefixList { v6, .. }, true) => pretty(prefix_lists_json(&r, *v6)),
        (PolicyCmd::AsPathList { .. }, false) => as_path_lists(&r),
        (PolicyCmd::AsPathList { .. }, true) => pretty(as_path_lists_json(&r)),
        (PolicyCmd::CommunityList { which, .. }, false) => community_lists(&r, *which),
        (PolicyCmd::CommunityList { which, .. }, true) => pretty(community_lists_json(&r, *which)),
        (PolicyCmd::ClearRouteMap { .. } | PolicyCmd::ClearPrefixList { .. }, _) => String::new(),
    })
}

/// `show route-map` as FRR's lib/routemap.c prints it.
pub fn route_maps(r: &pb::PolicyReply, name: Option<&str>) -> String {
    let mut o = String::from("BGP:\n");
    if let (Some(n), true) = (name, r.route_maps.is_empty()) {
        let _ = writeln!(o, "BGP: 'route-map {n}' not found");
    }
    for m in &r.route_maps {
        let _ = writeln!(
            o,
            "route-map: {} Invoked: {} Optimization: disabled Processed Change: false",
            m.name, m.invoked
        );
        for e in &m.entries {
            let _ = writeln!(o, " {}, sequence {} Invoked {}", e.action, e.seq, e.invoked);
            o.push_str("  Match clauses:\n");
            for c in &e.matches {
                let _ = writeln!(o, "    {c}");
            }
            o.push_str("  Set clauses:\n");
            for c in &e.sets {
                let _ = writeln!(o, "    {c}");
            }
            o.push_str("  Call clause:\n  Action:\n");
            let _ = writeln!(o, "    {}", e.exit);
        }
    }
    o
}

/// `show route-map json`: FRR's keys.
pub fn route_maps_json(r: &pb::PolicyReply) -> Value {
    let mut out = Map::new();
    for m in &r.route_maps {
        let rules: Vec<Value> = m
            .entries
            .iter()
            .map(|e| {
                json!({
                    "sequenceNumber": e.seq,
                    "type": e.action,
                    "invoked": e.invoked,
                    "matchClauses": e.matches,
                    "setClauses": e.sets,
                    "action": e.exit,
                })
            })
            .collect();
        out.insert(
            m.name.clone(),
            json!({
                "invoked": m.invoked,
                "disabledOptimization": true,
                "processedChange": false,
                "rules": rules,
            }),
        );
    }
    Value::Object(out)
}

fn prefix_of(e: &pb::PrefixListEntry) -> Option<IpNetwork> {
    let p = e.prefix.as_ref()?;
    let a = proto::addr_from_bytes(&p.addr).ok()?;
    IpNetwork::new(a, u8::try_from(p.len).ok()?).ok()
}

/// The entries of a list of one family (a list holds both); `None` when
/// the list has entries but none of this family.
fn family_entries(l: &pb::PrefixList, v6: bool) -> Option<Vec<(&pb::PrefixListEntry, IpNetwork)>> {
    let v: Vec<_> = l
        .entries
        .iter()
        .filter_map(|e| prefix_of(e).map(|p| (e, p)))
        .filter(|(_, p)| p.is_ipv6() == v6)
        .collect();
    if v.is_empty() && !l.entries.is_empty() {
        None
    } else {
        Some(v)
    }
}

fn entry_line(e: &pb::PrefixListEntry, p: &IpNetwork) -> String {
    let mut s = format!("seq {} {} {p}", e.seq, e.action);
    if e.ge > 0 {
        let _ = write!(s, " ge {}", e.ge);
    }
    if e.le > 0 {
        let _ = write!(s, " le {}", e.le);
    }
    s
}

/// `show ip prefix-list [detail]` as FRR's lib/plist.c prints it.
pub fn prefix_lists(r: &pb::PolicyReply, v6: bool, detail: bool) -> String {
    let ip = if v6 { "ipv6" } else { "ip" };
    let mut o = String::new();
    for l in &r.prefix_lists {
        let Some(entries) = family_entries(l, v6) else {
            continue;
        };
        if detail {
            let _ = writeln!(o, "BGP: {ip} prefix-list {}:", l.name);
            let ranges = entries.iter().filter(|(e, _)| e.ge > 0 || e.le > 0).count();
            let first = entries.first().map_or(0, |(e, _)| e.seq);
            let last = entries.last().map_or(0, |(e, _)| e.seq);
            let _ = writeln!(
                o,
                "   count: {}, range entries: {ranges}, sequences: {first} - {last}",
                entries.len()
            );
        } else {
            let _ = writeln!(
                o,
                "BGP: {ip} prefix-list {}: {} entries",
                l.name,
                entries.len()
            );
        }
        for (e, p) in &entries {
            let _ = write!(o, "   {}", entry_line(e, p));
            if detail {
                let _ = write!(o, " (hit count: {})", e.hits);
            }
            o.push('\n');
        }
    }
    o
}

/// `show ip prefix-list json`: FRR's keys under the daemon's name, with
/// each entry's hit count.
pub fn prefix_lists_json(r: &pb::PolicyReply, v6: bool) -> Value {
    let mut lists = Map::new();
    for l in &r.prefix_lists {
        let Some(entries) = family_entries(l, v6) else {
            continue;
        };
        let entries: Vec<Value> = entries
            .iter()
            .map(|(e, p)| {
                let mut v = json!({
                    "sequenceNumber": e.seq,
                    "type": e.action,
                    "prefix": p.to_string(),
                    "hitCount": e.hits,
                });
                if e.ge > 0 {
                    v["minimumPrefixLength"] = json!(e.ge);
                }
                if e.le > 0 {
                    v["maximumPrefixLength"] = json!(e.le);
                }
                v
            })
            .collect();
        lists.insert(
            l.name.clone(),
            json!({
                "addressFamily": if v6 { "IPv6" } else { "IPv4" },
                "entries": entries,
            }),
        );
    }
    json!({ "BGP": lists })
}

/// `show bgp as-path-access-list` as FRR's bgpd/bgp_filter.c prints it.
pub fn as_path_lists(r: &pb::PolicyReply) -> String {
    let mut o = String::new();
    for l in &r.as_path_lists {
        let _ = writeln!(o, "AS path access list {}", l.name);
        for e in &l.entries {
            let _ = writeln!(o, "    seq {} {} {}", e.seq, e.action, e.regex);
        }
        o.push('\n');
    }
    o
}

pub fn as_path_lists_json(r: &pb::PolicyReply) -> Value {
    let mut out = Map::new();
    for l in &r.as_path_lists {
        let entries: Vec<Value> = l
            .entries
            .iter()
            .map(|e| json!({ "sequenceNumber": e.seq, "type": e.action, "regex": e.regex }))
            .collect();
        out.insert(l.name.clone(), json!({ "entries": entries }));
    }
    Value::Object(out)
}

/// `standard` or `expanded`, as FRR's heading says.
fn style(kind: &str) -> &'static str {
    if kind.ends_with("expanded") {
        "expanded"
    } else {
        "standard"
    }
}

/// `show bgp community-list` (and the large and extended ones) as FRR's
/// bgpd/bgp_vty.c prints them.
pub fn community_lists(r: &pb::PolicyReply, which: Communities) -> String {
    let mut o = String::new();
    for l in r.community_lists.iter().filter(|l| which.has(&l.kind)) {
        let _ = writeln!(
            o,
            "Named {} {} list {}",
            which.heading(),
            style(&l.kind),
            l.name
        );
        for e in &l.entries {
            let _ = writeln!(o, "    seq {} {} {}", e.seq, e.action, e.value);
        }
    }
    o
}

pub fn community_lists_json(r: &pb::PolicyReply, which: Communities) -> Value {
    let mut out = Map::new();
    for l in r.community_lists.iter().filter(|l| which.has(&l.kind)) {
        let entries: Vec<Value> = l
            .entries
            .iter()
            .map(|e| json!({ "sequenceNumber": e.seq, "type": e.action, "value": e.value }))
            .collect();
        out.insert(
            l.name.clone(),
            json!({ "style": style(&l.kind), "kind": l.kind, "entries": entries }),
        );
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply() -> pb::PolicyReply {
        let pfx = |a: &str, len| {
            Some(pb::Prefix {
                addr: proto::addr_to_bytes(a.parse().unwrap()),
                len,
            })
        };
        pb::PolicyReply {
            route_maps: vec![pb::RouteMap {
                name: "IN".into(),
                invoked: 3,
                entries: vec![pb::RouteMapEntry {
                    seq: 10,
                    action: "permit".into(),
                    invoked: 2,
                    matches: vec!["ip address prefix-list P".into()],
                    sets: vec!["metric 42".into()],
                    exit: "Continue to next entry".into(),
                }],
            }],
            prefix_lists: vec![
                pb::PrefixList {
                    name: "P".into(),
                    entries: vec![
                        pb::PrefixListEntry {
                            seq: 10,
                            action: "permit".into(),
                            prefix: pfx("198.51.100.0", 24),
                            ge: 0,
                            le: 32,
                            hits: 4,
                        },
                        pb::PrefixListEntry {
                            seq: 20,
                            action: "deny".into(),
                            prefix: pfx("2001:db8::", 32),
                            ge: 48,
                            le: 0,
                            hits: 0,
                        },
                    ],
                },
                pb::PrefixList {
                    name: "V6".into(),
                    entries: vec![pb::PrefixListEntry {
                        seq: 5,
                        action: "permit".into(),
                        prefix: pfx("2001:db8::", 32),
                        ge: 0,
                        le: 0,
                        hits: 1,
                    }],
                },
            ],
            as_path_lists: vec![pb::AsPathList {
                name: "A".into(),
                entries: vec![pb::AsPathListEntry {
                    seq: 10,
                    action: "permit".into(),
                    regex: "_65001_".into(),
                }],
            }],
            community_lists: vec![
                pb::CommunityList {
                    name: "C".into(),
                    kind: "expanded".into(),
                    entries: vec![pb::CommunityListEntry {
                        seq: 10,
                        action: "permit".into(),
                        value: "^65000:".into(),
                    }],
                },
                pb::CommunityList {
                    name: "L".into(),
                    kind: "large".into(),
                    entries: vec![pb::CommunityListEntry {
                        seq: 10,
                        action: "deny".into(),
                        value: "65000:1:1".into(),
                    }],
                },
            ],
        }
    }

    #[test]
    fn parse_forms() {
        assert_eq!(
            parse_route_map(&["IN"]),
            Ok(PolicyCmd::RouteMap {
                name: Some("IN".into())
            })
        );
        assert_eq!(
            parse_prefix_list(true, &["detail"]),
            Ok(PolicyCmd::PrefixList {
                v6: true,
                detail: true,
                name: None
            })
        );
        assert_eq!(
            parse_bgp("large-community-list", &[]),
            Ok(PolicyCmd::CommunityList {
                which: Communities::Large,
                name: None
            })
        );
        assert!(parse_bgp("community-list", &["A", "B"]).is_err());
    }

    #[test]
    fn route_map_as_frr_prints_it() {
        let r = reply();
        let t = route_maps(&r, None);
        assert!(t.contains("route-map: IN Invoked: 3 "), "{t}");
        assert!(t.contains(" permit, sequence 10 Invoked 2\n  Match clauses:\n    ip address prefix-list P\n  Set clauses:\n    metric 42\n  Call clause:\n  Action:\n    Continue to next entry\n"), "{t}");
        let j = route_maps_json(&r);
        assert_eq!(j["IN"]["rules"][0]["invoked"], 2);
        assert_eq!(
            j["IN"]["rules"][0]["matchClauses"][0],
            "ip address prefix-list P"
        );
        assert!(
            route_maps(&pb::PolicyReply::default(), Some("X")).contains("'route-map X' not found")
        );
    }

    #[test]
    fn prefix_lists_by_family() {
        let r = reply();
        let t = prefix_lists(&r, false, false);
        assert_eq!(
            t,
            "BGP: ip prefix-list P: 1 entries\n   seq 10 permit 198.51.100.0/24 le 32\n"
        );
        let t = prefix_lists(&r, true, true);
        assert!(t.contains("BGP: ipv6 prefix-list P:\n   count: 1, range entries: 1, sequences: 20 - 20\n   seq 20 deny 2001:db8::/32 ge 48 (hit count: 0)\n"), "{t}");
        assert!(
            t.contains("seq 5 permit 2001:db8::/32 (hit count: 1)"),
            "{t}"
        );
        let j = prefix_lists_json(&r, false);
        assert_eq!(j["BGP"]["P"]["entries"][0]["hitCount"], 4);
        assert_eq!(j["BGP"]["P"]["entries"][0]["maximumPrefixLength"], 32);
        assert!(j["BGP"].get("V6").is_none());
    }

    #[test]
    fn lists_as_frr_prints_them() {
        let r = reply();
        assert_eq!(
            as_path_lists(&r),
            "AS path access list A\n    seq 10 permit _65001_\n\n"
        );
        assert_eq!(
            community_lists(&r, Communities::Standard),
            "Named Community expanded list C\n    seq 10 permit ^65000:\n"
        );
        assert_eq!(
            community_lists(&r, Communities::Large),
            "Named large community standard list L\n    seq 10 deny 65000:1:1\n"
        );
        assert!(community_lists(&r, Communities::Extended).is_empty());
        assert_eq!(
            community_lists_json(&r, Communities::Large)["L"]["kind"],
            "large"
        );
        assert_eq!(
            as_path_lists_json(&r)["A"]["entries"][0]["regex"],
            "_65001_"
        );
    }
}

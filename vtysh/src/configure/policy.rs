//! Configure-mode words for bgpd's policy, in FRR's words, onto the TOML of
//! the shared policy spec (README, bgpd section): `route-map NAME
//! permit|deny SEQ` with its `match`/`set`/`on-match`/`continue` lines
//! (`[[route_map]]`), `bgp as-path access-list` (`[[as_path_list]]`) and
//! `bgp community-list` / `large-community-list` / `extcommunity-list`
//! (`[[community_list]]` with its `kind`).
//!
//! Pure: a line becomes [`Op::Seq`] edits of bgpd's document; bgpd's own
//! loader validates the result (an undefined list named in a route map is
//! refused there, with file, line and key).

use super::{int, ip, kw, need, no_more, Daemon, Mode, NamedList, Op, SeqEdit, Step, Val};

/// The words of `route-map` mode, for `?` and Tab.
pub const ROUTE_MAP_WORDS: &[(&str, &str)] = &[
    ("match", "match ip address prefix-list|as-path|community|large-community|extcommunity|ip next-hop prefix-list|origin|local-preference|metric|peer"),
    ("set", "set local-preference|metric|weight|community|comm-list|large-community|extcommunity|as-path|ip next-hop|origin"),
    ("on-match", "on-match next | on-match goto SEQ"),
    ("continue", "continue [SEQ]: go on with a later entry"),
    ("no", "remove a setting"),
    ("do", "run an exec command"),
    ("exit", "one level up"),
    ("end", "back to exec mode"),
];

pub const MATCH_WORDS: &[(&str, &str)] = &[
    (
        "ip",
        "ip address prefix-list NAME | ip next-hop prefix-list NAME",
    ),
    (
        "ipv6",
        "ipv6 address prefix-list NAME | ipv6 next-hop prefix-list NAME",
    ),
    ("as-path", "as-path NAME: a bgp as-path access-list"),
    ("community", "community NAME: a bgp community-list"),
    (
        "large-community",
        "large-community NAME: a bgp large-community-list",
    ),
    ("extcommunity", "extcommunity NAME: a bgp extcommunity-list"),
    ("origin", "origin igp|egp|incomplete"),
    ("local-preference", "local-preference N"),
    ("metric", "metric N (MED)"),
    ("peer", "peer ADDRESS: routes from this neighbor"),
];

pub const SET_WORDS: &[(&str, &str)] = &[
    ("local-preference", "local-preference N"),
    ("metric", "metric N (MED)"),
    ("weight", "weight N"),
    (
        "community",
        "community VALUE... [additive] | community none",
    ),
    ("comm-list", "comm-list NAME delete"),
    ("large-community", "large-community VALUE... [additive]"),
    ("extcommunity", "extcommunity rt|soo VALUE..."),
    ("as-path", "as-path prepend ASN... | as-path exclude ASN..."),
    ("ip", "ip next-hop ADDRESS|peer-address|unchanged"),
    ("ipv6", "ipv6 next-hop global ADDRESS"),
    ("origin", "origin igp|egp|incomplete"),
];

/// `bgp ...` words at the top of configure mode.
pub const BGP_LIST_WORDS: &[(&str, &str)] = &[
    (
        "as-path",
        "as-path access-list NAME [seq N] permit|deny REGEX",
    ),
    (
        "community-list",
        "community-list standard|expanded NAME [seq N] permit|deny VALUE...|REGEX",
    ),
    (
        "large-community-list",
        "large-community-list standard|expanded NAME [seq N] permit|deny VALUE...|REGEX",
    ),
    (
        "extcommunity-list",
        "extcommunity-list standard|expanded NAME [seq N] permit|deny rt|soo VALUE...|REGEX",
    ),
];

fn unknown(w: &[&str]) -> String {
    format!("% Unknown command: {}", w.join(" "))
}

fn route_map(name: &str) -> NamedList {
    NamedList {
        aot: "route_map",
        name: name.to_string(),
        head: Vec::new(),
        what: "route map",
    }
}

/// `route-map NAME permit|deny SEQ` (enters the entry) and `no route-map
/// NAME [permit|deny SEQ]`.
pub fn route_map_line(neg: bool, w: &[&str]) -> Result<Step, String> {
    let name = need(w, 1)?;
    let list = route_map(name);
    let Some(action) = w.get(2) else {
        if neg {
            return Ok(edit(list, None, SeqEdit::Remove));
        }
        return Err("% Command incomplete".into());
    };
    let action = kw(action, &["permit", "deny"])
        .ok_or_else(|| format!("% Unknown action {action} (permit, deny)"))?;
    let seq = int(need(w, 3)?, "sequence number")?;
    if !(1..=65535).contains(&seq) {
        return Err(format!("% Sequence number {seq} out of 1-65535"));
    }
    no_more(w, 4)?;
    if neg {
        return Ok(edit(list, Some(seq), SeqEdit::Remove));
    }
    Ok(Step::Enter(
        Mode::RouteMap {
            name: name.to_string(),
            seq,
        },
        vec![(
            Daemon::Bgpd,
            Op::Seq {
                list,
                seq: Some(seq),
                edit: SeqEdit::Keys {
                    sub: None,
                    create: true,
                    keys: vec![("action", Some(Val::Str(action.into())))],
                },
            },
        )],
    ))
}

fn edit(list: NamedList, seq: Option<i64>, edit: SeqEdit) -> Step {
    Step::Edit(vec![(Daemon::Bgpd, Op::Seq { list, seq, edit })])
}

/// A line inside `route-map NAME permit|deny SEQ`.
pub fn entry_line(neg: bool, w: &[&str], name: &str, seq: i64) -> Result<Step, String> {
    let keys = |sub: Option<&'static str>, keys: Vec<(&'static str, Option<Val>)>| {
        Ok(edit(
            route_map(name),
            Some(seq),
            SeqEdit::Keys {
                sub,
                create: false,
                keys,
            },
        ))
    };
    match kw(need(w, 0)?, &["match", "set", "on-match", "continue"]) {
        Some("match") => {
            let (key, v) = match_clause(neg, &w[1..])?;
            keys(Some("match"), vec![(key, v)])
        }
        Some("set") => keys(Some("set"), set_clause(neg, &w[1..])?),
        Some("on-match") => {
            let v = if neg {
                None
            } else {
                Some(Val::Str(match kw(need(w, 1)?, &["next", "goto"]) {
                    Some("next") => {
                        no_more(w, 2)?;
                        "next".into()
                    }
                    Some(_) => {
                        let to = int(need(w, 2)?, "sequence number")?;
                        if to <= seq {
                            return Err(format!("% on-match goto {to} must go forward from {seq}"));
                        }
                        no_more(w, 3)?;
                        format!("goto {to}")
                    }
                    None => return Err(unknown(w)),
                }))
            };
            keys(None, vec![("on_match", v)])
        }
        Some("continue") => {
            let v = if neg {
                None
            } else {
                match w.get(1) {
                    Some(n) => {
                        let to = int(n, "sequence number")?;
                        if to <= seq {
                            return Err(format!("% continue {to} must go forward from {seq}"));
                        }
                        no_more(w, 2)?;
                        Some(Val::Int(to))
                    }
                    None => Some(Val::Bool(true)),
                }
            };
            keys(None, vec![("continue", v)])
        }
        _ => Err(unknown(w)),
    }
}

/// `match ...`: the key of the entry's `match` table and its value.
fn match_clause(neg: bool, w: &[&str]) -> Result<(&'static str, Option<Val>), String> {
    // The value is the word at `at`; `no match X` may omit it.
    let named = |key: &'static str, at: usize| -> Result<(&'static str, Option<Val>), String> {
        if neg && w.get(at).is_none() {
            return Ok((key, None));
        }
        let v = need(w, at)?;
        no_more(w, at + 1)?;
        Ok((key, (!neg).then(|| Val::Str(v.to_string()))))
    };
    let number = |key: &'static str| -> Result<(&'static str, Option<Val>), String> {
        if neg {
            return Ok((key, None));
        }
        let n = int(need(w, 1)?, key)?;
        if n < 0 || n > i64::from(u32::MAX) {
            return Err(format!("% {key} {n} out of 0-4294967295"));
        }
        no_more(w, 2)?;
        Ok((key, Some(Val::Int(n))))
    };
    let words: Vec<&str> = MATCH_WORDS.iter().map(|(w, _)| *w).collect();
    match kw(need(w, 0)?, &words) {
        Some("ip" | "ipv6") => {
            let key = match kw(need(w, 1)?, &["address", "next-hop"]) {
                Some("address") => "prefix_list",
                Some(_) => "next_hop",
                None => return Err(unknown(w)),
            };
            if kw(need(w, 2)?, &["prefix-list"]).is_none() {
                return Err(format!(
                    "% bgpd matches {} through a prefix list: `prefix-list NAME`",
                    if key == "next_hop" {
                        "next hops"
                    } else {
                        "addresses"
                    }
                ));
            }
            named(key, 3)
        }
        Some("as-path") => named("as_path", 1),
        Some("community") => {
            if w.get(2).is_some_and(|x| kw(x, &["exact-match"]).is_some()) {
                return Err("% exact-match is not in bgpd's route maps".into());
            }
            named("community", 1)
        }
        Some("large-community") => named("large_community", 1),
        Some("extcommunity") => named("extcommunity", 1),
        Some("origin") => {
            if neg && w.get(1).is_none() {
                return Ok(("origin", None));
            }
            let o = origin(need(w, 1)?)?;
            no_more(w, 2)?;
            Ok(("origin", (!neg).then(|| Val::Str(o.into()))))
        }
        Some("local-preference") => number("local_pref"),
        Some("metric") => number("med"),
        Some("peer") => {
            if neg && w.get(1).is_none() {
                return Ok(("peer", None));
            }
            let a = ip(need(w, 1)?)?;
            no_more(w, 2)?;
            Ok(("peer", (!neg).then(|| Val::Str(a.to_string()))))
        }
        _ => Err(unknown(w)),
    }
}

fn origin(s: &str) -> Result<&'static str, String> {
    kw(s, &["igp", "egp", "incomplete"])
        .ok_or_else(|| format!("% Origin igp, egp or incomplete, not `{s}`"))
}

/// A community value as FRR writes it: `ASN:VALUE` or a well-known name.
fn community(s: &str) -> Result<String, String> {
    const WELL_KNOWN: &[&str] = &[
        "no-export",
        "no-advertise",
        "local-AS",
        "no-peer",
        "blackhole",
        "graceful-shutdown",
        "internet",
    ];
    if let Some(k) = WELL_KNOWN.iter().find(|k| k.eq_ignore_ascii_case(s)) {
        return Ok((*k).to_string());
    }
    match s.split_once(':') {
        Some((a, b)) if a.parse::<u16>().is_ok() && b.parse::<u16>().is_ok() => Ok(s.into()),
        _ => Err(format!(
            "% Malformed community {s} (ASN:VALUE or a well-known name)"
        )),
    }
}

fn large_community(s: &str) -> Result<String, String> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() == 3 && parts.iter().all(|p| p.parse::<u32>().is_ok()) {
        Ok(s.into())
    } else {
        Err(format!(
            "% Malformed large community {s} (GLOBAL:DATA1:DATA2)"
        ))
    }
}

/// An extended community value of a route target or site of origin:
/// `ASN:N` or `A.B.C.D:N`.
fn ext_value(s: &str) -> Result<String, String> {
    match s.rsplit_once(':') {
        Some((a, n))
            if n.parse::<u32>().is_ok()
                && (a.parse::<u32>().is_ok() || a.parse::<std::net::Ipv4Addr>().is_ok()) =>
        {
            Ok(s.into())
        }
        _ => Err(format!(
            "% Malformed extended community {s} (ASN:N or A.B.C.D:N)"
        )),
    }
}

fn asns(w: &[&str]) -> Result<Val, String> {
    if w.is_empty() {
        return Err("% Command incomplete".into());
    }
    w.iter()
        .map(|a| {
            a.parse::<u32>()
                .map(|n| Val::Int(n.into()))
                .map_err(|_| format!("% Malformed AS number: {a}"))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Val::Arr)
}

/// `set ...`: the keys of the entry's `set` table.
fn set_clause(neg: bool, w: &[&str]) -> Result<Vec<(&'static str, Option<Val>)>, String> {
    let number = |key: &'static str| -> Result<Vec<(&'static str, Option<Val>)>, String> {
        if neg {
            return Ok(vec![(key, None)]);
        }
        let n = int(need(w, 1)?, key)?;
        if n < 0 || n > i64::from(u32::MAX) {
            return Err(format!("% {key} {n} out of 0-4294967295"));
        }
        no_more(w, 2)?;
        Ok(vec![(key, Some(Val::Int(n)))])
    };
    let words: Vec<&str> = SET_WORDS.iter().map(|(w, _)| *w).collect();
    Ok(match kw(need(w, 0)?, &words) {
        Some("local-preference") => number("local_pref")?,
        Some("metric") => number("med")?,
        Some("weight") => number("weight")?,
        Some("community") => {
            if neg {
                return Ok(vec![("community", None), ("community_additive", None)]);
            }
            let mut vals: Vec<&str> = w[1..].to_vec();
            let additive = vals.last().is_some_and(|x| *x == "additive");
            if additive {
                vals.pop();
            }
            let vals: Vec<Val> = if vals.len() == 1 && vals[0] == "none" {
                Vec::new()
            } else if vals.is_empty() {
                return Err("% Command incomplete".into());
            } else {
                vals.iter()
                    .map(|v| community(v).map(Val::Str))
                    .collect::<Result<_, _>>()?
            };
            vec![
                ("community", Some(Val::Arr(vals))),
                ("community_additive", additive.then_some(Val::Bool(true))),
            ]
        }
        Some("comm-list") => {
            if neg {
                return Ok(vec![("community_delete", None)]);
            }
            let name = need(w, 1)?;
            if kw(need(w, 2)?, &["delete"]).is_none() {
                return Err(unknown(w));
            }
            no_more(w, 3)?;
            vec![("community_delete", Some(Val::Str(name.into())))]
        }
        Some("large-community") => {
            if neg {
                return Ok(vec![
                    ("large_community", None),
                    ("large_community_additive", None),
                ]);
            }
            let mut vals: Vec<&str> = w[1..].to_vec();
            let additive = vals.last().is_some_and(|x| *x == "additive");
            if additive {
                vals.pop();
            }
            if vals.is_empty() {
                return Err("% Command incomplete".into());
            }
            let vals: Vec<Val> = vals
                .iter()
                .map(|v| large_community(v).map(Val::Str))
                .collect::<Result<_, _>>()?;
            vec![
                ("large_community", Some(Val::Arr(vals))),
                (
                    "large_community_additive",
                    additive.then_some(Val::Bool(true)),
                ),
            ]
        }
        Some("extcommunity") => {
            let key = match kw(need(w, 1)?, &["rt", "soo"]) {
                Some("rt") => "extcommunity_rt",
                Some(_) => "extcommunity_soo",
                None => return Err("% extcommunity rt|soo VALUE...".into()),
            };
            if neg {
                return Ok(vec![(key, None)]);
            }
            if w.len() < 3 {
                return Err("% Command incomplete".into());
            }
            let vals: Vec<Val> = w[2..]
                .iter()
                .map(|v| ext_value(v).map(Val::Str))
                .collect::<Result<_, _>>()?;
            vec![(key, Some(Val::Arr(vals)))]
        }
        Some("as-path") => {
            let key = match kw(need(w, 1)?, &["prepend", "exclude"]) {
                Some("prepend") => "as_path_prepend",
                Some(_) => "as_path_exclude",
                None => return Err("% as-path prepend|exclude ASN...".into()),
            };
            if neg {
                return Ok(vec![(key, None)]);
            }
            vec![(key, Some(asns(&w[2..])?))]
        }
        Some(fam @ ("ip" | "ipv6")) => {
            if kw(need(w, 1)?, &["next-hop"]).is_none() {
                return Err(unknown(w));
            }
            if neg {
                return Ok(vec![("next_hop", None)]);
            }
            let mut at = 2;
            if fam == "ipv6" && w.get(2).is_some_and(|x| kw(x, &["global"]).is_some()) {
                at = 3;
            }
            let v = need(w, at)?;
            no_more(w, at + 1)?;
            let nh = match kw(v, &["peer-address", "unchanged", "self"]) {
                // FRR's peer-address: toward a peer, our own address.
                Some("peer-address" | "self") => "self".to_string(),
                Some(u) => u.to_string(),
                None => {
                    let a = ip(v)?;
                    if a.is_ipv6() != (fam == "ipv6") {
                        return Err(format!("% {a} is not an {fam} address"));
                    }
                    a.to_string()
                }
            };
            vec![("next_hop", Some(Val::Str(nh)))]
        }
        Some("origin") => {
            if neg {
                return Ok(vec![("origin", None)]);
            }
            let o = origin(need(w, 1)?)?;
            no_more(w, 2)?;
            vec![("origin", Some(Val::Str(o.into())))]
        }
        _ => return Err(unknown(w)),
    })
}

/// `bgp as-path access-list ...`, `bgp community-list ...`,
/// `bgp large-community-list ...`, `bgp extcommunity-list ...` (`w[0]` is
/// `bgp`).
pub fn list_line(neg: bool, w: &[&str]) -> Result<Step, String> {
    let words: Vec<&str> = BGP_LIST_WORDS.iter().map(|(w, _)| *w).collect();
    let which = kw(need(w, 1)?, &words).ok_or_else(|| unknown(w))?;
    let (list, mut i) = if which == "as-path" {
        if kw(need(w, 2)?, &["access-list"]).is_none() {
            return Err(unknown(w));
        }
        (
            NamedList {
                aot: "as_path_list",
                name: need(w, 3)?.to_string(),
                head: Vec::new(),
                what: "as-path access-list",
            },
            4,
        )
    } else {
        let expanded = match kw(need(w, 2)?, &["standard", "expanded"]) {
            Some(k) => k == "expanded",
            None => {
                return Err(format!(
                    "% {which} standard|expanded NAME (numbered lists are not supported)"
                ))
            }
        };
        let kind = match (which, expanded) {
            ("community-list", false) => "standard",
            ("community-list", true) => "expanded",
            ("large-community-list", false) => "large",
            ("large-community-list", true) => "large-expanded",
            (_, false) => "extended",
            (_, true) => "extended-expanded",
        };
        (
            NamedList {
                aot: "community_list",
                name: need(w, 3)?.to_string(),
                // Removing needs no kind: the name says which list.
                head: if neg {
                    Vec::new()
                } else {
                    vec![("kind", Val::Str(kind.into()))]
                },
                what: which.trim_end_matches("-list"),
            },
            4,
        )
    };
    let mut seq = None;
    if w.get(i).and_then(|x| kw(x, &["seq"])).is_some() {
        seq = Some(int(need(w, i + 1)?, "sequence number")?);
        i += 2;
    }
    let Some(action) = w.get(i) else {
        if neg {
            return Ok(edit(list, seq, SeqEdit::Remove));
        }
        return Err("% Command incomplete".into());
    };
    if neg {
        // `no ... NAME [seq N] permit X`: FRR removes the matching entry;
        // the seq names it here.
        return match seq {
            Some(_) => Ok(edit(list, seq, SeqEdit::Remove)),
            None => {
                Err("% Name the entry: no ... NAME seq N (or the whole list: no ... NAME)".into())
            }
        };
    }
    let action = kw(action, &["permit", "deny"])
        .ok_or_else(|| format!("% Unknown action {action} (permit, deny)"))?;
    let rest = &w[i + 1..];
    if rest.is_empty() {
        return Err("% Command incomplete".into());
    }
    let regex = |rest: &[&str]| -> Result<Val, String> {
        let r = rest.join(" ");
        // bgpd compiles it with `_` as FRR's boundary; check the rest now.
        regex::Regex::new(&r.replace('_', "(^|$|[ {},])"))
            .map_err(|e| format!("% Bad regular expression {r}: {e}"))?;
        Ok(Val::Str(r))
    };
    let kind = list
        .head
        .first()
        .and_then(|(_, v)| match v {
            Val::Str(s) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let body = if list.aot == "as_path_list" || kind.ends_with("expanded") {
        ("regex", regex(rest)?)
    } else {
        let vals: Vec<Val> = match kind.as_str() {
            "standard" => rest
                .iter()
                .map(|v| community(v).map(Val::Str))
                .collect::<Result<_, _>>()?,
            "large" => rest
                .iter()
                .map(|v| large_community(v).map(Val::Str))
                .collect::<Result<_, _>>()?,
            // extended: `rt VALUE soo VALUE ...` as "rt:VALUE", "soo:VALUE".
            _ => {
                if !rest.len().is_multiple_of(2) {
                    return Err(
                        "% extcommunity-list standard NAME permit|deny rt|soo VALUE ...".into(),
                    );
                }
                rest.chunks(2)
                    .map(|p| {
                        let t = kw(p[0], &["rt", "soo"])
                            .ok_or_else(|| format!("% rt or soo, not `{}`", p[0]))?;
                        Ok(Val::Str(format!("{t}:{}", ext_value(p[1])?)))
                    })
                    .collect::<Result<_, String>>()?
            }
        };
        ("values", Val::Arr(vals))
    };
    Ok(edit(
        list,
        seq,
        SeqEdit::Put(vec![("action", Val::Str(action.into())), body]),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::tests::run;
    use super::*;

    const BGP: &str = "[bgp]\nasn = 65000\n";

    #[test]
    fn route_map_entries_match_and_set() {
        let c = Mode::Config;
        let t = run(&c, BGP, "route-map FROM-TRANSIT permit 10").unwrap();
        assert!(
            t.contains("[[route_map]]\nname = \"FROM-TRANSIT\"\nentries = [{ seq = 10, action = \"permit\" }]"),
            "{t}"
        );
        let m = Mode::RouteMap {
            name: "FROM-TRANSIT".into(),
            seq: 10,
        };
        let mut t = t;
        for line in [
            "match ip address prefix-list CUSTOMER",
            "match as-path VIA-65001",
            "match community BLACKHOLE",
            "match large-community L",
            "match extcommunity E",
            "match ip next-hop prefix-list NH-LIST",
            "match origin igp",
            "match local-preference 100",
            "match metric 0",
            "match peer 192.0.2.2",
            "set local-preference 200",
            "set metric 10",
            "set weight 0",
            "set community 65000:1 no-export additive",
            "set comm-list LIST delete",
            "set large-community 65000:1:1 additive",
            "set extcommunity rt 65000:100",
            "set extcommunity soo 65000:1",
            "set as-path prepend 65000 65000",
            "set as-path exclude 65001",
            "set ip next-hop peer-address",
            "set origin igp",
            "on-match goto 30",
            "continue 20",
        ] {
            t = run(&m, &t, line).unwrap_or_else(|e| panic!("{line}: {e}"));
        }
        let doc: toml_edit::DocumentMut = t.parse().unwrap();
        let e = &doc["route_map"][0]["entries"][0];
        let m_ = e.get("match").unwrap();
        assert_eq!(m_["prefix_list"].as_str(), Some("CUSTOMER"), "{t}");
        assert_eq!(m_["as_path"].as_str(), Some("VIA-65001"));
        assert_eq!(m_["community"].as_str(), Some("BLACKHOLE"));
        assert_eq!(m_["large_community"].as_str(), Some("L"));
        assert_eq!(m_["extcommunity"].as_str(), Some("E"));
        assert_eq!(m_["next_hop"].as_str(), Some("NH-LIST"));
        assert_eq!(m_["origin"].as_str(), Some("igp"));
        assert_eq!(m_["local_pref"].as_integer(), Some(100));
        assert_eq!(m_["med"].as_integer(), Some(0));
        assert_eq!(m_["peer"].as_str(), Some("192.0.2.2"));
        let s = e.get("set").unwrap();
        assert_eq!(s["local_pref"].as_integer(), Some(200));
        assert_eq!(s["med"].as_integer(), Some(10));
        assert_eq!(s["weight"].as_integer(), Some(0));
        assert_eq!(
            s["community"].to_string().trim(),
            "[\"65000:1\", \"no-export\"]"
        );
        assert_eq!(s["community_additive"].as_bool(), Some(true));
        assert_eq!(s["community_delete"].as_str(), Some("LIST"));
        assert_eq!(s["large_community"].to_string().trim(), "[\"65000:1:1\"]");
        assert_eq!(s["large_community_additive"].as_bool(), Some(true));
        assert_eq!(s["extcommunity_rt"].to_string().trim(), "[\"65000:100\"]");
        assert_eq!(s["extcommunity_soo"].to_string().trim(), "[\"65000:1\"]");
        assert_eq!(s["as_path_prepend"].to_string().trim(), "[65000, 65000]");
        assert_eq!(s["as_path_exclude"].to_string().trim(), "[65001]");
        assert_eq!(s["next_hop"].as_str(), Some("self"));
        assert_eq!(s["origin"].as_str(), Some("igp"));
        assert_eq!(e["on_match"].as_str(), Some("goto 30"));
        assert_eq!(e["continue"].as_integer(), Some(20));

        // Removing: a match, all of `set community`, the continue.
        let t = run(&m, &t, "no match as-path").unwrap();
        let t = run(&m, &t, "no set community").unwrap();
        let t = run(&m, &t, "no continue").unwrap();
        assert!(
            !t.contains(" as_path =")
                && !t.contains(" community_additive")
                && !t.contains(" community = ["),
            "{t}"
        );
        assert!(!t.contains("continue"), "{t}");
        // Re-entering with another action keeps the clauses.
        let t = run(&c, &t, "route-map FROM-TRANSIT deny 10").unwrap();
        assert!(
            t.contains("action = \"deny\"") && t.contains("prefix_list = \"CUSTOMER\""),
            "{t}"
        );
        // A second entry is ordered by seq; continue goes forward only.
        let t = run(&c, &t, "route-map FROM-TRANSIT permit 5").unwrap();
        assert!(
            t.find("seq = 5").unwrap() < t.find("seq = 10").unwrap(),
            "{t}"
        );
        assert!(run(&m, &t, "continue 5").unwrap_err().contains("forward"));
        let t = run(
            &Mode::RouteMap {
                name: "FROM-TRANSIT".into(),
                seq: 5,
            },
            &t,
            "continue",
        )
        .unwrap();
        assert!(t.contains("continue = true"), "{t}");
        let t = run(&c, &t, "no route-map FROM-TRANSIT permit 5").unwrap();
        assert!(!t.contains("seq = 5"), "{t}");
        let t = run(&c, &t, "no route-map FROM-TRANSIT").unwrap();
        assert!(!t.contains("route_map"), "{t}");
        // Malformed values are refused before anything is sent.
        assert!(run(&m, BGP, "set community 65000").is_err());
        assert!(run(&m, BGP, "set as-path prepend x").is_err());
        assert!(run(&m, BGP, "set ip next-hop 2001:db8::1").is_err());
        assert!(run(&m, BGP, "match ip address CUSTOMER").is_err());
        assert!(run(&c, BGP, "route-map X permit").is_err());
        // An entry must exist before its clauses.
        assert!(run(&m, BGP, "set metric 1")
            .unwrap_err()
            .contains("No such route map"));
    }

    #[test]
    fn as_path_and_community_lists() {
        let c = Mode::Config;
        let t = run(&c, BGP, "bgp as-path access-list VIA-65001 permit _65001_").unwrap();
        assert!(
            t.contains("[[as_path_list]]\nname = \"VIA-65001\"\nentries = [{ seq = 5, action = \"permit\", regex = \"_65001_\" }]"),
            "{t}"
        );
        let t = run(
            &c,
            &t,
            "bgp as-path access-list VIA-65001 seq 20 deny ^65002 .*$",
        )
        .unwrap();
        assert!(
            t.contains("{ seq = 20, action = \"deny\", regex = \"^65002 .*$\" }"),
            "{t}"
        );
        assert!(run(&c, &t, "bgp as-path access-list X permit (").is_err());
        let t = run(&c, &t, "no bgp as-path access-list VIA-65001 seq 20").unwrap();
        assert!(!t.contains("seq = 20"), "{t}");

        let t = run(
            &c,
            BGP,
            "bgp community-list standard BLACKHOLE permit 65000:666 no-export",
        )
        .unwrap();
        assert!(
            t.contains("name = \"BLACKHOLE\"\nkind = \"standard\"\nentries = [{ seq = 5, action = \"permit\", values = [\"65000:666\", \"no-export\"] }]"),
            "{t}"
        );
        let t = run(
            &c,
            &t,
            "bgp community-list standard BLACKHOLE seq 20 permit 65000:1",
        )
        .unwrap();
        assert!(t.contains("seq = 20"), "{t}");
        // The kind of an existing list cannot change under it.
        assert!(run(
            &c,
            &t,
            "bgp community-list expanded BLACKHOLE permit ^65000:.*"
        )
        .unwrap_err()
        .contains("kind"));
        let t = run(&c, BGP, "bgp community-list expanded EXP permit ^65000:.*").unwrap();
        assert!(
            t.contains("kind = \"expanded\"") && t.contains("regex = \"^65000:.*\""),
            "{t}"
        );
        let t = run(
            &c,
            BGP,
            "bgp large-community-list standard L permit 65000:1:1",
        )
        .unwrap();
        assert!(
            t.contains("kind = \"large\"") && t.contains("values = [\"65000:1:1\"]"),
            "{t}"
        );
        let t = run(&c, BGP, "bgp large-community-list expanded LE deny ^65000:").unwrap();
        assert!(t.contains("kind = \"large-expanded\""), "{t}");
        let t = run(
            &c,
            BGP,
            "bgp extcommunity-list standard E permit rt 65000:100 soo 192.0.2.1:7",
        )
        .unwrap();
        assert!(
            t.contains("kind = \"extended\"")
                && t.contains("values = [\"rt:65000:100\", \"soo:192.0.2.1:7\"]"),
            "{t}"
        );
        let t = run(&c, BGP, "bgp extcommunity-list expanded EE permit ^rt").unwrap();
        assert!(t.contains("kind = \"extended-expanded\""), "{t}");
        let t = run(&c, &t, "no bgp extcommunity-list expanded EE").unwrap();
        assert!(!t.contains("EE"), "{t}");
        assert!(run(&c, BGP, "bgp community-list standard B permit 65000").is_err());
        assert!(run(&c, BGP, "bgp community-list B permit 65000:1").is_err());
    }
}

//! The policy sections of bgpd's configuration file: `[[prefix_list]]`,
//! `[[as_path_list]]`, `[[community_list]]`, `[[route_map]]`, and a
//! neighbor's bindings (`import`, `export`, `prefix_list_in`,
//! `prefix_list_out`, `family_policy`) and the route maps of originated
//! networks (`bgp.network_policy`). The shape is FRR's, word for word
//! (see conf/bgpd.toml and the README's policy section).
//!
//! Owns validation: every name a route map or a neighbor uses must be
//! defined, sequence numbers are unique, `goto`/`continue` go forward,
//! regular expressions compile. Errors name the file, line and key.

use std::collections::BTreeMap;

use common::config::{ConfigError, Locator};
use serde::Deserialize;
use toml::Spanned;

use super::{
    Action, AsPathEntry, AsPathList, Bindings, CommunityKind, CommunityList, CommunityListEntry,
    Entry, FamilyPolicy, Flow, Match, NextHopSet, Pattern, Policies, PrefixList, PrefixListEntry,
    RouteMap, Rule, Set,
};
use crate::evpn::community::RouteTarget;
use crate::packet::{Community, ExtendedCommunity, LargeCommunity, Origin};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrefixList {
    name: Spanned<String>,
    #[serde(default)]
    entries: Vec<Spanned<RawPlEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlEntry {
    seq: Option<Spanned<i64>>,
    action: Spanned<String>,
    prefix: Spanned<String>,
    ge: Option<Spanned<i64>>,
    le: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAsPathList {
    name: Spanned<String>,
    #[serde(default)]
    entries: Vec<Spanned<RawAsPathEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAsPathEntry {
    seq: Option<Spanned<i64>>,
    action: Spanned<String>,
    regex: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCommunityList {
    name: Spanned<String>,
    kind: Option<Spanned<String>>,
    #[serde(default)]
    entries: Vec<Spanned<RawCommunityEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCommunityEntry {
    seq: Option<Spanned<i64>>,
    action: Spanned<String>,
    values: Option<Vec<Spanned<String>>>,
    regex: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRouteMap {
    name: Spanned<String>,
    #[serde(default)]
    entries: Vec<Spanned<RawRmEntry>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawContinue {
    Next(bool),
    Goto(i64),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRmEntry {
    seq: Spanned<i64>,
    action: Spanned<String>,
    #[serde(rename = "match", default)]
    matches: Option<RawMatch>,
    set: Option<RawSet>,
    on_match: Option<Spanned<String>>,
    #[serde(rename = "continue")]
    cont: Option<Spanned<RawContinue>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMatch {
    prefix_list: Option<Spanned<String>>,
    as_path: Option<Spanned<String>>,
    community: Option<Spanned<String>>,
    large_community: Option<Spanned<String>>,
    extcommunity: Option<Spanned<String>>,
    next_hop: Option<Spanned<String>>,
    origin: Option<Spanned<String>>,
    local_pref: Option<Spanned<i64>>,
    med: Option<Spanned<i64>>,
    peer: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSet {
    weight: Option<Spanned<i64>>,
    local_pref: Option<Spanned<i64>>,
    med: Option<Spanned<i64>>,
    community: Option<Vec<Spanned<String>>>,
    community_additive: Option<bool>,
    community_delete: Option<Spanned<String>>,
    large_community: Option<Vec<Spanned<String>>>,
    large_community_additive: Option<bool>,
    extcommunity_rt: Option<Vec<Spanned<String>>>,
    extcommunity_soo: Option<Vec<Spanned<String>>>,
    as_path_prepend: Option<Vec<Spanned<i64>>>,
    as_path_exclude: Option<Vec<Spanned<i64>>>,
    next_hop: Option<Spanned<String>>,
    origin: Option<Spanned<String>>,
}

/// A neighbor's `family_policy` value for one family.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawFamilyPolicy {
    import: Option<Spanned<String>>,
    export: Option<Spanned<String>>,
}

/// One originated network's `bgp.network_policy` value (FRR's `network
/// PREFIX route-map NAME`).
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawNetworkPolicy {
    route_map: Option<Spanned<String>>,
}

/// `bgp.network_policy = { "PREFIX" = { route_map = "NAME" } }`: each
/// prefix one of `networks` (same text after normalisation), each route
/// map defined. Returns (prefix, route map) pairs.
pub fn network_route_maps(
    loc: &Locator<'_>,
    pol: &Policies,
    raw: &Option<Spanned<BTreeMap<String, RawNetworkPolicy>>>,
    networks: &[ipnetwork::IpNetwork],
) -> Result<Vec<(ipnetwork::IpNetwork, String)>, ConfigError> {
    let mut out = Vec::new();
    let Some(np) = raw else {
        return Ok(out);
    };
    for (key, p) in np.get_ref() {
        let prefix = match proto::parse_prefix(key) {
            Ok(p) if networks.contains(&p) => p,
            Ok(p) => {
                return loc.err(
                    np.span(),
                    "bgp.network_policy",
                    format!("{p} is not in bgp.networks"),
                )
            }
            Err(e) => return loc.err(np.span(), "bgp.network_policy", e),
        };
        if let Some(m) = &p.route_map {
            let name = defined(
                loc,
                m,
                "bgp.network_policy.route_map",
                "route map",
                pol.route_map(m.get_ref()).is_some(),
            )?;
            out.push((prefix, name));
        }
    }
    Ok(out)
}

/// The policy keys of one `[[neighbor]]`.
pub struct RawBindings<'a> {
    pub import: &'a Option<Spanned<String>>,
    pub export: &'a Option<Spanned<String>>,
    pub prefix_list_in: &'a Option<Spanned<String>>,
    pub prefix_list_out: &'a Option<Spanned<String>>,
    pub family_policy: &'a Option<Spanned<BTreeMap<String, RawFamilyPolicy>>>,
    /// The neighbor's `graceful_shutdown`, or the global one.
    pub graceful_shutdown: bool,
}

/// The policy sections of the file.
pub struct RawSections<'a> {
    pub prefix_lists: &'a [Spanned<RawPrefixList>],
    pub as_path_lists: &'a [Spanned<RawAsPathList>],
    pub community_lists: &'a [Spanned<RawCommunityList>],
    pub route_maps: &'a [Spanned<RawRouteMap>],
}

const ACTIONS: [(&str, Action); 2] = [("permit", Action::Permit), ("deny", Action::Deny)];
const ORIGINS: [(&str, Origin); 3] = [
    ("igp", Origin::Igp),
    ("egp", Origin::Egp),
    ("incomplete", Origin::Incomplete),
];

fn u32_of(loc: &Locator<'_>, v: &Spanned<i64>, key: &str) -> Result<u32, ConfigError> {
    Ok(loc.int(v, key, 0, i64::from(u32::MAX))? as u32)
}

/// An entry's sequence number: given (1..), or 5, 10, 15... by position
/// as FRR numbers unnumbered lines.
fn seq_of(
    loc: &Locator<'_>,
    seq: &Option<Spanned<i64>>,
    i: usize,
    used: &mut Vec<u32>,
    at: std::ops::Range<usize>,
    key: &str,
) -> Result<u32, ConfigError> {
    let s = match seq {
        Some(s) => loc.int(s, key, 1, i64::from(u32::MAX))? as u32,
        None => u32::try_from(i + 1)
            .unwrap_or(u32::MAX / 5)
            .saturating_mul(5),
    };
    if used.contains(&s) {
        return loc.err(at, key, format!("sequence {s} is used twice"));
    }
    used.push(s);
    Ok(s)
}

fn unique<'a>(
    loc: &Locator<'_>,
    seen: &mut Vec<&'a str>,
    name: &'a Spanned<String>,
    key: &str,
) -> Result<(), ConfigError> {
    if seen.contains(&name.get_ref().as_str()) {
        return loc.err(
            name.span(),
            key,
            format!("`{}` is defined twice", name.get_ref()),
        );
    }
    seen.push(name.get_ref());
    Ok(())
}

fn pattern(loc: &Locator<'_>, v: &Spanned<String>, key: &str) -> Result<Pattern, ConfigError> {
    Pattern::new(v.get_ref()).or_else(|e| {
        loc.err(
            v.span(),
            key,
            format!("`{}` is not a regular expression: {e}", v.get_ref()),
        )
    })
}

fn community(loc: &Locator<'_>, v: &Spanned<String>, key: &str) -> Result<Community, ConfigError> {
    v.get_ref()
        .parse()
        .or_else(|e: crate::packet::attribute::community::BadCommunity| {
            loc.err(v.span(), key, e.to_string())
        })
}

fn large(loc: &Locator<'_>, v: &Spanned<String>, key: &str) -> Result<LargeCommunity, ConfigError> {
    v.get_ref().parse().or_else(
        |e: crate::packet::attribute::community::BadLargeCommunity| {
            loc.err(v.span(), key, e.to_string())
        },
    )
}

/// A route target or site of origin (`ASN:N`, `IPv4:N`); `soo` selects
/// subtype 3 (RFC 4360 §5).
fn ext(
    loc: &Locator<'_>,
    v: &str,
    soo: bool,
    at: &Spanned<String>,
    key: &str,
) -> Result<ExtendedCommunity, ConfigError> {
    match v.parse::<RouteTarget>() {
        Ok(rt) => {
            let mut c = rt.community();
            if soo {
                c.0[1] = 0x03;
            }
            Ok(c)
        }
        Err(_) => loc.err(
            at.span(),
            key,
            format!("`{v}` is not ASN:VALUE or IPv4:VALUE"),
        ),
    }
}

/// Parse and validate every policy section.
pub fn parse(loc: &Locator<'_>, raw: &RawSections<'_>) -> Result<Policies, ConfigError> {
    let mut pol = Policies::new();
    let mut seen = Vec::new();
    for pl in raw.prefix_lists {
        let x = pl.get_ref();
        unique(loc, &mut seen, &x.name, "prefix_list.name")?;
        let mut used = Vec::new();
        let mut entries = Vec::new();
        for (i, e) in x.entries.iter().enumerate() {
            let at = e.span();
            let e = e.get_ref();
            let seq = seq_of(loc, &e.seq, i, &mut used, at, "prefix_list.entries.seq")?;
            let action = loc.choice(&e.action, "prefix_list.entries.action", &ACTIONS)?;
            let prefix = loc.prefix(&e.prefix, "prefix_list.entries.prefix")?;
            let max = if prefix.is_ipv4() { 32 } else { 128 };
            let ge = match &e.ge {
                Some(g) => {
                    Some(
                        loc.int(g, "prefix_list.entries.ge", i64::from(prefix.prefix()), max)?
                            as u8,
                    )
                }
                None => None,
            };
            let lo = i64::from(ge.unwrap_or(prefix.prefix()));
            let le = match &e.le {
                Some(l) => Some(loc.int(l, "prefix_list.entries.le", lo, max)? as u8),
                None => None,
            };
            entries.push(PrefixListEntry {
                seq,
                action,
                prefix,
                ge,
                le,
            });
        }
        pol.add_prefix_list(x.name.get_ref().clone(), PrefixList::new(entries));
    }
    let mut seen = Vec::new();
    for l in raw.as_path_lists {
        let x = l.get_ref();
        unique(loc, &mut seen, &x.name, "as_path_list.name")?;
        let mut used = Vec::new();
        let mut entries = Vec::new();
        for (i, e) in x.entries.iter().enumerate() {
            let at = e.span();
            let e = e.get_ref();
            entries.push(AsPathEntry {
                seq: seq_of(loc, &e.seq, i, &mut used, at, "as_path_list.entries.seq")?,
                action: loc.choice(&e.action, "as_path_list.entries.action", &ACTIONS)?,
                pattern: pattern(loc, &e.regex, "as_path_list.entries.regex")?,
            });
        }
        pol.add_as_path_list(x.name.get_ref().clone(), AsPathList::new(entries));
    }
    let mut seen = Vec::new();
    for l in raw.community_lists {
        let x = l.get_ref();
        unique(loc, &mut seen, &x.name, "community_list.name")?;
        let kind = match &x.kind {
            Some(k) => loc.choice(k, "community_list.kind", &CommunityKind::NAMES)?,
            None => CommunityKind::Standard,
        };
        let mut used = Vec::new();
        let mut entries = Vec::new();
        for (i, e) in x.entries.iter().enumerate() {
            let at = e.span();
            let e = e.get_ref();
            let seq = seq_of(
                loc,
                &e.seq,
                i,
                &mut used,
                at.clone(),
                "community_list.entries.seq",
            )?;
            let action = loc.choice(&e.action, "community_list.entries.action", &ACTIONS)?;
            let rule = match (kind.is_expanded(), &e.values, &e.regex) {
                (true, None, Some(r)) => {
                    Rule::Regex(pattern(loc, r, "community_list.entries.regex")?)
                }
                (false, Some(v), None) if !v.is_empty() => {
                    let key = "community_list.entries.values";
                    match kind.attr() {
                        super::community_list::CommunityAttr::Communities => Rule::Communities(
                            v.iter()
                                .map(|s| community(loc, s, key))
                                .collect::<Result<_, _>>()?,
                        ),
                        super::community_list::CommunityAttr::Large => Rule::Large(
                            v.iter()
                                .map(|s| large(loc, s, key))
                                .collect::<Result<_, _>>()?,
                        ),
                        super::community_list::CommunityAttr::Extended => {
                            let mut out = Vec::new();
                            for s in v {
                                // `rt ASN:N` as FRR writes it, or `rt:ASN:N`.
                                let (word, val) =
                                    s.get_ref().split_once([' ', ':']).unwrap_or(("", ""));
                                let soo = match word {
                                    "rt" => false,
                                    "soo" => true,
                                    _ => {
                                        return loc.err(
                                            s.span(),
                                            key,
                                            format!(
                                                "`{}` is not `rt ASN:N` or `soo ASN:N`",
                                                s.get_ref()
                                            ),
                                        )
                                    }
                                };
                                out.push(ext(loc, val.trim(), soo, s, key)?);
                            }
                            Rule::Extended(out)
                        }
                    }
                }
                (true, _, _) => {
                    return loc.err(
                        at,
                        "community_list.entries.regex",
                        format!(
                            "a {} list entry needs `regex` (and no `values`)",
                            kind.name()
                        ),
                    )
                }
                (false, _, _) => {
                    return loc.err(
                        at,
                        "community_list.entries.values",
                        format!(
                            "a {} list entry needs non-empty `values` (and no `regex`)",
                            kind.name()
                        ),
                    )
                }
            };
            entries.push(CommunityListEntry { seq, action, rule });
        }
        pol.add_community_list(x.name.get_ref().clone(), CommunityList::new(kind, entries));
    }
    let mut seen = Vec::new();
    for m in raw.route_maps {
        let x = m.get_ref();
        unique(loc, &mut seen, &x.name, "route_map.name")?;
        let mut used = Vec::new();
        let mut entries = Vec::new();
        for e in &x.entries {
            let at = e.span();
            let e = e.get_ref();
            let seq = seq_of(
                loc,
                &Some(e.seq.clone()),
                0,
                &mut used,
                at.clone(),
                "route_map.entries.seq",
            )?;
            let action = loc.choice(&e.action, "route_map.entries.action", &ACTIONS)?;
            let matches = match &e.matches {
                Some(m) => matches(loc, &pol, m)?,
                None => Vec::new(),
            };
            let sets = match &e.set {
                Some(s) => sets(loc, &pol, s)?,
                None => Vec::new(),
            };
            if action == Action::Deny && !sets.is_empty() {
                return loc.err(at, "route_map.entries.set", "a deny entry sets nothing");
            }
            let goto = |n: i64, span, key: &str| -> Result<Flow, ConfigError> {
                if n <= i64::from(seq) || n > i64::from(u32::MAX) {
                    return loc.err(
                        span,
                        key,
                        format!("goto {n} must be after this entry's seq {seq}"),
                    );
                }
                Ok(Flow::Goto(n as u32))
            };
            let on_match = match &e.on_match {
                Some(v) => {
                    let text = v.get_ref().trim();
                    match text.strip_prefix("goto ").map(|n| n.trim().parse::<i64>()) {
                        _ if text == "next" => Some(Flow::Next),
                        Some(Ok(n)) => Some(goto(n, v.span(), "route_map.entries.on_match")?),
                        _ => {
                            return loc.err(
                                v.span(),
                                "route_map.entries.on_match",
                                format!("`{text}` is not `next` or `goto SEQ`"),
                            )
                        }
                    }
                }
                None => None,
            };
            let cont = match &e.cont {
                Some(c) => match c.get_ref() {
                    RawContinue::Next(true) => Some(Flow::Next),
                    RawContinue::Next(false) => None,
                    RawContinue::Goto(n) => Some(goto(*n, c.span(), "route_map.entries.continue")?),
                },
                None => None,
            };
            if on_match.is_some() && cont.is_some() {
                return loc.err(
                    at,
                    "route_map.entries.continue",
                    "give `on_match` or `continue`, not both",
                );
            }
            if action == Action::Deny && (on_match.is_some() || cont.is_some()) {
                return loc.err(
                    at,
                    "route_map.entries.continue",
                    "a deny entry ends evaluation",
                );
            }
            entries.push(Entry {
                seq,
                action,
                matches,
                sets,
                flow: on_match.or(cont),
            });
        }
        pol.add_route_map(x.name.get_ref().clone(), RouteMap::new(entries));
    }
    Ok(pol)
}

fn defined(
    loc: &Locator<'_>,
    v: &Spanned<String>,
    key: &str,
    what: &str,
    exists: bool,
) -> Result<String, ConfigError> {
    if !exists {
        return loc.err(v.span(), key, format!("no {what} `{}`", v.get_ref()));
    }
    Ok(v.get_ref().clone())
}

fn community_list_of(
    loc: &Locator<'_>,
    pol: &Policies,
    v: &Spanned<String>,
    key: &str,
    want: super::community_list::CommunityAttr,
) -> Result<String, ConfigError> {
    match pol.community_list(v.get_ref()) {
        Some(l) if l.kind.attr() == want => Ok(v.get_ref().clone()),
        Some(l) => loc.err(
            v.span(),
            key,
            format!("`{}` is a {} community list", v.get_ref(), l.kind.name()),
        ),
        None => loc.err(
            v.span(),
            key,
            format!("no community list `{}`", v.get_ref()),
        ),
    }
}

fn matches(loc: &Locator<'_>, pol: &Policies, m: &RawMatch) -> Result<Vec<Match>, ConfigError> {
    use super::community_list::CommunityAttr;
    type Ctor = fn(String) -> Match;
    let key = |k: &str| format!("route_map.entries.match.{k}");
    let mut out = Vec::new();
    for (v, k, ctor) in [
        (&m.prefix_list, "prefix_list", Match::PrefixList as Ctor),
        (&m.next_hop, "next_hop", Match::NextHop),
    ] {
        if let Some(v) = v {
            let exists = pol.prefix_list(v.get_ref()).is_some();
            out.push(ctor(defined(loc, v, &key(k), "prefix list", exists)?));
        }
    }
    if let Some(v) = &m.as_path {
        let exists = pol.as_path_list(v.get_ref()).is_some();
        out.push(Match::AsPath(defined(
            loc,
            v,
            &key("as_path"),
            "AS-path list",
            exists,
        )?));
    }
    for (v, k, attr, ctor) in [
        (
            &m.community,
            "community",
            CommunityAttr::Communities,
            Match::Community as Ctor,
        ),
        (
            &m.large_community,
            "large_community",
            CommunityAttr::Large,
            Match::LargeCommunity,
        ),
        (
            &m.extcommunity,
            "extcommunity",
            CommunityAttr::Extended,
            Match::ExtCommunity,
        ),
    ] {
        if let Some(v) = v {
            out.push(ctor(community_list_of(loc, pol, v, &key(k), attr)?));
        }
    }
    if let Some(v) = &m.origin {
        out.push(Match::Origin(loc.choice(
            v,
            "route_map.entries.match.origin",
            &ORIGINS,
        )?));
    }
    if let Some(v) = &m.local_pref {
        out.push(Match::LocalPref(u32_of(
            loc,
            v,
            "route_map.entries.match.local_pref",
        )?));
    }
    if let Some(v) = &m.med {
        out.push(Match::Med(u32_of(loc, v, "route_map.entries.match.med")?));
    }
    if let Some(v) = &m.peer {
        out.push(Match::Peer(loc.addr(v, "route_map.entries.match.peer")?));
    }
    Ok(out)
}

/// A list of values, where `["none"]` is the empty list (FRR's `set
/// community none`: remove them all).
fn none_or<T>(
    v: &[Spanned<String>],
    parse: impl Fn(&Spanned<String>) -> Result<T, ConfigError>,
) -> Result<Vec<T>, ConfigError> {
    match v {
        [one] if one.get_ref() == "none" => Ok(Vec::new()),
        _ => v.iter().map(parse).collect(),
    }
}

fn sets(loc: &Locator<'_>, pol: &Policies, s: &RawSet) -> Result<Vec<Set>, ConfigError> {
    let mut out = Vec::new();
    if let Some(v) = &s.weight {
        out.push(Set::Weight(u32_of(loc, v, "route_map.entries.set.weight")?));
    }
    if let Some(v) = &s.local_pref {
        out.push(Set::LocalPref(u32_of(
            loc,
            v,
            "route_map.entries.set.local_pref",
        )?));
    }
    if let Some(v) = &s.med {
        out.push(Set::Med(u32_of(loc, v, "route_map.entries.set.med")?));
    }
    if let Some(v) = &s.community {
        let key = "route_map.entries.set.community";
        let values = none_or(v, |c| community(loc, c, key))?;
        out.push(Set::Community {
            values,
            additive: s.community_additive.unwrap_or(false),
        });
    }
    if let Some(v) = &s.community_delete {
        let k = "route_map.entries.set.community_delete";
        out.push(Set::CommunityDelete(defined(
            loc,
            v,
            k,
            "community list",
            pol.community_list(v.get_ref()).is_some(),
        )?));
    }
    if let Some(v) = &s.large_community {
        let key = "route_map.entries.set.large_community";
        let values = none_or(v, |c| large(loc, c, key))?;
        out.push(Set::LargeCommunity {
            values,
            additive: s.large_community_additive.unwrap_or(false),
        });
    }
    let mut exts = Vec::new();
    for (list, soo, key) in [
        (
            &s.extcommunity_rt,
            false,
            "route_map.entries.set.extcommunity_rt",
        ),
        (
            &s.extcommunity_soo,
            true,
            "route_map.entries.set.extcommunity_soo",
        ),
    ] {
        for v in list.iter().flatten() {
            exts.push(ext(loc, v.get_ref(), soo, v, key)?);
        }
    }
    if !exts.is_empty() {
        out.push(Set::ExtCommunity(exts));
    }
    for (list, key, prepend) in [
        (
            &s.as_path_prepend,
            "route_map.entries.set.as_path_prepend",
            true,
        ),
        (
            &s.as_path_exclude,
            "route_map.entries.set.as_path_exclude",
            false,
        ),
    ] {
        if let Some(v) = list {
            let asns = v
                .iter()
                .map(|a| loc.int(a, key, 1, i64::from(u32::MAX)).map(|x| x as u32))
                .collect::<Result<Vec<_>, _>>()?;
            out.push(if prepend {
                Set::AsPathPrepend(asns)
            } else {
                Set::AsPathExclude(asns)
            });
        }
    }
    if let Some(v) = &s.next_hop {
        let key = "route_map.entries.set.next_hop";
        out.push(Set::NextHop(match v.get_ref().as_str() {
            "self" => NextHopSet::SelfAddr,
            "unchanged" => NextHopSet::Unchanged,
            _ => NextHopSet::Addr(loc.addr(v, key)?),
        }));
    }
    if let Some(v) = &s.origin {
        out.push(Set::Origin(loc.choice(
            v,
            "route_map.entries.set.origin",
            &ORIGINS,
        )?));
    }
    Ok(out)
}

/// A neighbor's bindings; every route map and prefix list named must
/// exist (an unknown name would deny everything).
pub fn bindings(
    loc: &Locator<'_>,
    pol: &Policies,
    raw: &RawBindings<'_>,
) -> Result<Bindings, ConfigError> {
    let map = |v: &Option<Spanned<String>>, key: &str| -> Result<Option<String>, ConfigError> {
        v.as_ref()
            .map(|v| {
                defined(
                    loc,
                    v,
                    key,
                    "route map",
                    pol.route_map(v.get_ref()).is_some(),
                )
            })
            .transpose()
    };
    let list = |v: &Option<Spanned<String>>, key: &str| -> Result<Option<String>, ConfigError> {
        v.as_ref()
            .map(|v| {
                defined(
                    loc,
                    v,
                    key,
                    "prefix list",
                    pol.prefix_list(v.get_ref()).is_some(),
                )
            })
            .transpose()
    };
    let mut family = Vec::new();
    if let Some(fp) = raw.family_policy {
        for (name, p) in fp.get_ref() {
            let Some(af) = crate::config::parse_family(name) else {
                return loc.err(
                    fp.span(),
                    "neighbor.family_policy",
                    format!("`{name}` is not ipv4-unicast or ipv6-unicast"),
                );
            };
            family.push((
                af,
                FamilyPolicy {
                    import: map(&p.import, "neighbor.family_policy.import")?,
                    export: map(&p.export, "neighbor.family_policy.export")?,
                },
            ));
        }
    }
    Ok(Bindings {
        import: map(raw.import, "neighbor.import")?,
        export: map(raw.export, "neighbor.export")?,
        prefix_list_in: list(raw.prefix_list_in, "neighbor.prefix_list_in")?,
        prefix_list_out: list(raw.prefix_list_out, "neighbor.prefix_list_out")?,
        family,
        graceful_shutdown: raw.graceful_shutdown,
    })
}

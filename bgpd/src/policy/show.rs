//! The policy objects in FRR's words, for `show route-map`, `show ip
//! prefix-list`, `show bgp as-path-access-list` and `show bgp
//! community-list` (FRR's lib/routemap.c and bgpd/bgp_routemap.c print a
//! clause as its command without `match`/`set`). An operator reads the
//! same lines FRR would print for the policy they translated.
//!
//! Owns the text of clauses and entries. Never does I/O; the gRPC
//! conversion (bgpd's api.rs) puts these strings on the wire.

use std::fmt::Write;

use super::community_list::CommunityAttr;
use super::{Flow, Match, NextHopSet, Policies, Rule, Set};
use crate::packet::Origin;

fn origin(o: Origin) -> &'static str {
    match o {
        Origin::Igp => "igp",
        Origin::Egp => "egp",
        Origin::Incomplete => "incomplete",
    }
}

fn joined<T: ToString>(v: &[T]) -> String {
    v.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A `match` clause as FRR prints it.
pub fn match_text(m: &Match) -> String {
    match m {
        Match::PrefixList(n) => format!("ip address prefix-list {n}"),
        Match::AsPath(n) => format!("as-path {n}"),
        Match::Community(n) => format!("community {n}"),
        Match::LargeCommunity(n) => format!("large-community {n}"),
        Match::ExtCommunity(n) => format!("extcommunity {n}"),
        Match::NextHop(n) => format!("ip next-hop prefix-list {n}"),
        Match::Origin(o) => format!("origin {}", origin(*o)),
        Match::LocalPref(v) => format!("local-preference {v}"),
        Match::Med(v) => format!("metric {v}"),
        Match::Peer(a) => format!("peer {a}"),
    }
}

/// A `set` clause as FRR prints it (the list's kind names the
/// attribute a `delete` applies to).
pub fn set_text(s: &Set, pol: &Policies) -> String {
    let values = |word: &str, v: String, additive: bool| match (v.is_empty(), additive) {
        (true, _) => format!("{word} none"),
        (false, true) => format!("{word} {v} additive"),
        (false, false) => format!("{word} {v}"),
    };
    match s {
        Set::Weight(v) => format!("weight {v}"),
        Set::LocalPref(v) => format!("local-preference {v}"),
        Set::Med(v) => format!("metric {v}"),
        Set::Community {
            values: v,
            additive,
        } => values("community", joined(v), *additive),
        Set::LargeCommunity {
            values: v,
            additive,
        } => values("large-community", joined(v), *additive),
        Set::CommunityDelete(n) => {
            let word = match pol.community_list(n).map(|l| l.kind.attr()) {
                Some(CommunityAttr::Large) => "large-comm-list",
                Some(CommunityAttr::Extended) => "extended-comm-list",
                _ => "comm-list",
            };
            format!("{word} {n} delete")
        }
        Set::ExtCommunity(v) => {
            // `rt A B soo C`: each value's word once, FRR's `set
            // extcommunity rt|soo` lines merged.
            let mut out = String::from("extcommunity");
            let mut last = "";
            for c in v {
                let text = c.to_string();
                let (word, value) = text.split_once(' ').unwrap_or(("", text.as_str()));
                if word != last {
                    let _ = write!(out, " {word}");
                    last = if word == "rt" { "rt" } else { "soo" };
                }
                let _ = write!(out, " {value}");
            }
            out
        }
        Set::AsPathPrepend(v) => format!("as-path prepend {}", joined(v)),
        Set::AsPathExclude(v) => format!("as-path exclude {}", joined(v)),
        Set::NextHop(NextHopSet::SelfAddr) => "ip next-hop self".into(),
        Set::NextHop(NextHopSet::Unchanged) => "ip next-hop unchanged".into(),
        Set::NextHop(NextHopSet::Addr(a)) if a.is_ipv6() => format!("ipv6 next-hop global {a}"),
        Set::NextHop(NextHopSet::Addr(a)) => format!("ip next-hop {a}"),
        Set::Origin(o) => format!("origin {}", origin(*o)),
    }
}

/// Where evaluation goes after an entry, in FRR's words ("Action:").
pub fn flow_text(f: Option<Flow>) -> String {
    match f {
        None => "Exit routemap".into(),
        Some(Flow::Next) => "Continue to next entry".into(),
        Some(Flow::Goto(n)) => format!("Goto {n}"),
    }
}

/// What a community-list entry tests, as its `permit|deny` line ends.
pub fn rule_text(r: &Rule) -> String {
    match r {
        Rule::Communities(v) => joined(v),
        Rule::Large(v) => joined(v),
        Rule::Extended(v) => joined(v),
        Rule::Regex(p) => p.text().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{Community, ExtendedCommunity, LargeCommunity};

    #[test]
    fn clauses_in_frr_words() {
        let pol = Policies::new();
        assert_eq!(
            match_text(&Match::PrefixList("P".into())),
            "ip address prefix-list P"
        );
        assert_eq!(match_text(&Match::Origin(Origin::Egp)), "origin egp");
        assert_eq!(match_text(&Match::Med(5)), "metric 5");
        assert_eq!(
            set_text(
                &Set::Community {
                    values: vec![Community::new(65000, 1), Community::NO_EXPORT],
                    additive: true
                },
                &pol
            ),
            "community 65000:1 no-export additive"
        );
        assert_eq!(
            set_text(
                &Set::LargeCommunity {
                    values: vec![],
                    additive: false
                },
                &pol
            ),
            "large-community none"
        );
        assert_eq!(
            set_text(
                &Set::LargeCommunity {
                    values: vec![LargeCommunity::new(1, 2, 3)],
                    additive: false
                },
                &pol
            ),
            "large-community 1:2:3"
        );
        let mut soo = ExtendedCommunity::route_target(65000, 1);
        soo.0[1] = 0x03;
        assert_eq!(
            set_text(
                &Set::ExtCommunity(vec![
                    ExtendedCommunity::route_target(65000, 100),
                    ExtendedCommunity::route_target(65000, 101),
                    soo
                ]),
                &pol
            ),
            "extcommunity rt 65000:100 65000:101 soo 65000:1"
        );
        assert_eq!(
            set_text(&Set::CommunityDelete("X".into()), &pol),
            "comm-list X delete"
        );
        assert_eq!(
            set_text(&Set::AsPathPrepend(vec![65000, 65000]), &pol),
            "as-path prepend 65000 65000"
        );
        assert_eq!(
            set_text(
                &Set::NextHop(NextHopSet::Addr("2001:db8::1".parse().unwrap())),
                &pol
            ),
            "ipv6 next-hop global 2001:db8::1"
        );
        assert_eq!(flow_text(None), "Exit routemap");
        assert_eq!(flow_text(Some(Flow::Goto(30))), "Goto 30");
    }
}

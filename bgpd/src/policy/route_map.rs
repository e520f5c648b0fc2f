//! Route maps (FRR `route-map NAME permit|deny SEQ`): ordered entries,
//! each a set of conditions (all must hold) and, for a permit, a set of
//! modifications. The first entry whose conditions hold decides: a deny
//! rejects, a permit applies its sets and stops, unless it says
//! `on_match next`, `on_match goto N` or `continue [N]`, in which case
//! evaluation goes on (forward only) with the modified route; a later
//! deny that matches still rejects. No entry matching is a deny.
//!
//! Owns the entry semantics and the order of application. Evaluation is
//! split from modification: [`RouteMap::evaluate`] returns the entries
//! that apply (a [`Chain`]) and [`RouteMap::apply`] replays their sets, so
//! the RIB caches one modified attribute set per (input set, chain).
//! Never does I/O or logging per route.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use ipnetwork::IpNetwork;

use super::hits::Counters;
use super::{Action, Policies};
use crate::packet::{
    AsPath, Community, ExtendedCommunity, LargeCommunity, MpNextHop, Origin, PathAttributes,
};

/// A condition of an entry (FRR `match ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// `match ip[v6] address prefix-list NAME`.
    PrefixList(String),
    /// `match as-path NAME`.
    AsPath(String),
    /// `match community NAME` (standard or expanded list).
    Community(String),
    /// `match large-community NAME`.
    LargeCommunity(String),
    /// `match extcommunity NAME`.
    ExtCommunity(String),
    /// `match ip[v6] next-hop prefix-list NAME`: the next hop as a host
    /// prefix.
    NextHop(String),
    Origin(Origin),
    /// `match local-preference N` (absent counts as 100, the decision's
    /// default).
    LocalPref(u32),
    /// `match metric N` (absent counts as 0).
    Med(u32),
    /// `match peer ADDR`: the neighbor the route was learned from.
    Peer(IpAddr),
}

/// Where `set ip next-hop` points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextHopSet {
    /// Our address on the session (`next-hop-self`).
    SelfAddr,
    /// The next hop the route arrived with, not rewritten toward eBGP
    /// (`set ip next-hop unchanged`).
    Unchanged,
    Addr(IpAddr),
}

/// A modification of a permit entry (FRR `set ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Set {
    /// FRR's weight (this router only, before LOCAL_PREF).
    Weight(u32),
    LocalPref(u32),
    Med(u32),
    /// Replace the communities (empty: `set community none`), or add to
    /// them (`additive`).
    Community {
        values: Vec<Community>,
        additive: bool,
    },
    /// `set comm-list NAME delete` (and the large and extended forms):
    /// remove the values the list selects from its kind's attribute.
    CommunityDelete(String),
    LargeCommunity {
        values: Vec<LargeCommunity>,
        additive: bool,
    },
    /// `set extcommunity rt|soo ...`: added to those present (as FRR).
    ExtCommunity(Vec<ExtendedCommunity>),
    /// `set as-path prepend A B`: the path becomes `A B <path>`.
    AsPathPrepend(Vec<u32>),
    /// `set as-path exclude A`: every occurrence removed.
    AsPathExclude(Vec<u32>),
    NextHop(NextHopSet),
    Origin(Origin),
}

/// Where evaluation goes after a permit entry applied its sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// `on-match next` / `continue`: the following entry.
    Next,
    /// `on-match goto N` / `continue N`: the first entry with seq >= N
    /// (always after the current one).
    Goto(u32),
}

/// One `route-map NAME permit|deny SEQ` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: u32,
    pub action: Action,
    pub matches: Vec<Match>,
    pub sets: Vec<Set>,
    pub flow: Option<Flow>,
}

/// The entries (indices into the map) whose sets apply, in order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Chain {
    /// The common case: one entry (or none, see [`Chain::NONE`]).
    One(u16),
    Many(Arc<[u16]>),
}

impl Chain {
    /// An acceptance that modifies nothing.
    pub const NONE: Chain = Chain::One(u16::MAX);

    fn indices(&self) -> &[u16] {
        match self {
            Chain::One(u16::MAX) => &[],
            Chain::One(i) => std::slice::from_ref(i),
            Chain::Many(v) => v,
        }
    }
}

/// What the route being evaluated is, besides its attributes.
#[derive(Debug, Clone, Copy)]
pub struct Route<'a> {
    pub prefix: &'a IpNetwork,
    /// The neighbor it was learned from (None: originated here).
    pub peer: Option<IpAddr>,
}

/// What `set` needs from the session the route crosses.
#[derive(Debug, Clone, Copy)]
pub struct Env<'a> {
    pub prefix: &'a IpNetwork,
    /// Our addresses on the session (`next_hop = "self"`).
    pub self_v4: Option<Ipv4Addr>,
    pub self_v6: Option<Ipv6Addr>,
    /// The attributes before this stage (`next_hop = "unchanged"`).
    pub original: &'a PathAttributes,
}

/// An ordered route map. It counts its evaluations and, per entry, the
/// routes whose conditions held (FRR's "Invoked").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteMap {
    entries: Vec<Entry>,
    hits: Counters,
}

impl RouteMap {
    pub fn new(mut entries: Vec<Entry>) -> Self {
        entries.sort_by_key(|e| e.seq);
        let hits = Counters::new(entries.len());
        Self { entries, hits }
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// How many routes the map was run on.
    pub fn invoked(&self) -> u64 {
        self.hits.total.get()
    }

    /// How many routes met the conditions of entry `i`.
    pub fn entry_invoked(&self, i: usize) -> u64 {
        self.hits.entries.get(i).map_or(0, |h| h.get())
    }

    /// Reset the map's count and its entries' (`clear route-map counter`).
    pub fn clear_counts(&self) {
        self.hits.clear();
    }

    /// Keep the counts of `old` when the entries did not change (reload).
    pub fn keep_counts(&self, old: &RouteMap) {
        if self.entries == old.entries {
            self.hits.take_from(&old.hits);
        }
    }

    /// The entries that apply to a route, or `None` when it is denied.
    pub fn evaluate(&self, pol: &Policies, r: &Route<'_>, attrs: &PathAttributes) -> Option<Chain> {
        self.hits.total.bump();
        let mut first: Option<u16> = None;
        let mut more: Vec<u16> = Vec::new();
        // The route as modified so far, once an entry continues.
        let mut scratch: Option<PathAttributes> = None;
        let mut i = 0;
        while let Some(e) = self.entries.get(i) {
            let cur = scratch.as_ref().unwrap_or(attrs);
            if !e.matches.iter().all(|m| pol.matches(m, r, cur)) {
                i += 1;
                continue;
            }
            self.hits.entry(i);
            if e.action == Action::Deny {
                return None;
            }
            let idx = u16::try_from(i).unwrap_or(u16::MAX - 1);
            match first {
                None => first = Some(idx),
                Some(_) => more.push(idx),
            }
            let Some(flow) = e.flow else { break };
            if !e.sets.is_empty() {
                let s = scratch.get_or_insert_with(|| attrs.clone());
                let env = Env {
                    prefix: r.prefix,
                    self_v4: None,
                    self_v6: None,
                    original: attrs,
                };
                apply_sets(pol, &e.sets, s, &env);
            }
            i = match flow {
                Flow::Next => i + 1,
                Flow::Goto(seq) => self
                    .entries
                    .iter()
                    .position(|x| x.seq >= seq)
                    .map_or(self.entries.len(), |j| j.max(i + 1)),
            };
        }
        let first = first?;
        Some(if more.is_empty() {
            Chain::One(first)
        } else {
            more.insert(0, first);
            Chain::Many(more.into())
        })
    }

    /// Apply the sets of the entries of `chain` to `attrs`.
    pub fn apply(&self, pol: &Policies, chain: &Chain, attrs: &mut PathAttributes, env: &Env<'_>) {
        for &i in chain.indices() {
            if let Some(e) = self.entries.get(usize::from(i)) {
                apply_sets(pol, &e.sets, attrs, env);
            }
        }
    }

    /// Whether any entry reads the peer (`match peer`).
    pub fn uses_peer(&self) -> bool {
        self.entries
            .iter()
            .any(|e| e.matches.iter().any(|m| matches!(m, Match::Peer(_))))
    }
}

fn add_unique<T: PartialEq + Copy>(to: &mut Vec<T>, values: &[T]) {
    for v in values {
        if !to.contains(v) {
            to.push(*v);
        }
    }
}

fn apply_sets(pol: &Policies, sets: &[Set], a: &mut PathAttributes, env: &Env<'_>) {
    for s in sets {
        match s {
            Set::Weight(v) => a.weight = *v,
            Set::LocalPref(v) => a.local_pref = Some(*v),
            Set::Med(v) => a.med = Some(*v),
            Set::Community { values, additive } => {
                if !additive {
                    a.communities.clear();
                }
                add_unique(&mut a.communities, values);
            }
            Set::CommunityDelete(list) => {
                // The list's kind says which attribute (FRR's comm-list,
                // large-comm-list and extcommunity-list delete).
                use super::community_list::CommunityAttr;
                if let Some(l) = pol.community_list(list) {
                    match l.kind.attr() {
                        CommunityAttr::Communities => a.communities.retain(|c| !l.selects(c)),
                        CommunityAttr::Large => a.large_communities.retain(|c| !l.selects_large(c)),
                        CommunityAttr::Extended => {
                            a.extended_communities.retain(|c| !l.selects_extended(c))
                        }
                    }
                }
            }
            Set::LargeCommunity { values, additive } => {
                if !additive {
                    a.large_communities.clear();
                }
                add_unique(&mut a.large_communities, values);
            }
            Set::ExtCommunity(values) => add_unique(&mut a.extended_communities, values),
            Set::AsPathPrepend(asns) => {
                let path = a.as_path.get_or_insert_with(AsPath::default);
                for asn in asns.iter().rev() {
                    path.prepend(*asn);
                }
            }
            Set::AsPathExclude(asns) => {
                if let Some(path) = &mut a.as_path {
                    for seg in &mut path.segments {
                        seg.asns.retain(|x| !asns.contains(x));
                    }
                    path.segments.retain(|s| !s.asns.is_empty());
                }
            }
            Set::NextHop(nh) => set_next_hop(a, *nh, env),
            Set::Origin(o) => a.origin = Some(*o),
        }
    }
}

fn set_next_hop(a: &mut PathAttributes, nh: NextHopSet, env: &Env<'_>) {
    let v4 = env.prefix.is_ipv4();
    let addr = match nh {
        NextHopSet::Addr(x) => Some(x),
        NextHopSet::SelfAddr if v4 => env.self_v4.map(IpAddr::V4),
        NextHopSet::SelfAddr => env.self_v6.map(IpAddr::V6),
        NextHopSet::Unchanged => {
            let o = env.original;
            if v4 {
                a.next_hop = o.next_hop.or(match o.mp_next_hop {
                    Some(MpNextHop::V4(x)) => Some(x),
                    _ => None,
                });
            } else if let Some(MpNextHop::V6 { global, .. }) = o.mp_next_hop {
                a.mp_next_hop = Some(MpNextHop::V6 {
                    global,
                    link_local: None,
                });
            }
            None
        }
    };
    match (addr, v4) {
        (Some(IpAddr::V4(x)), true) => {
            a.next_hop = Some(x);
            a.mp_next_hop = None;
        }
        (Some(IpAddr::V6(global)), false) => {
            a.mp_next_hop = Some(MpNextHop::V6 {
                global,
                link_local: None,
            })
        }
        // A next hop of the other family (or none known): unchanged.
        _ => {}
    }
}

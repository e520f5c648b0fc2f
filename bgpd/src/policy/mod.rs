//! Routing policy: bgpd's one policy engine, FRR's words and semantics.
//! Prefix lists, AS-path lists, community lists (standard, expanded,
//! large, extended) and route maps with `continue`/`on_match`, bound to a
//! neighbor inbound and outbound, per address family (RFC 4271 §9.1.1 and
//! §9.1.3: the import and export stages).
//!
//! Owns the configuration objects and their evaluation: given a route, a
//! neighbor's [`Filter`] says reject, or accept with the route-map entries
//! whose sets apply. RFC 8212's default (an eBGP session without a policy
//! exchanges nothing) is applied by the RIB, which knows the session kind;
//! this module only evaluates what is configured.
//!
//! Never does: I/O, logging per route, or touching the RIB. Evaluation is
//! split from modification ([`Policies::filter`] then [`Policies::apply`])
//! so the RIB caches the modified attribute sets per (input set,
//! [`Applied`]).

pub mod as_path_list;
pub mod community_list;
pub mod config;
pub mod hits;
pub mod prefix_list;
pub mod route_map;
pub mod show;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;

use ipnetwork::IpNetwork;

use crate::packet::{AfiSafi, MpNextHop, PathAttributes};

pub use as_path_list::{AsPathEntry, AsPathList, Pattern};
pub use community_list::{CommunityKind, CommunityList, CommunityListEntry, Rule};
pub use prefix_list::{PrefixList, PrefixListEntry};
pub use route_map::{Chain, Entry, Env, Flow, Match, NextHopSet, Route, RouteMap, Set};

/// Permit or deny, for the entries of every list and route map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Permit,
    Deny,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Permit => "permit",
            Action::Deny => "deny",
        }
    }
}

/// What a filter accepted with: which route map (index) and which of its
/// entries apply. [`Applied::NONE`] modifies nothing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Applied {
    map: u32,
    chain: Chain,
}

impl Applied {
    pub const NONE: Applied = Applied {
        map: u32::MAX,
        chain: Chain::NONE,
    };

    pub fn is_none(&self) -> bool {
        self.map == u32::MAX || self.chain == Chain::NONE
    }
}

/// What a policy decided for one route.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Verdict {
    Reject,
    Accept(Applied),
}

/// The policy of one direction of one neighbor for one family: the prefix
/// list is checked first, then the route map.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Filter<'a> {
    pub prefix_list: Option<&'a str>,
    pub route_map: Option<&'a str>,
}

impl Filter<'_> {
    /// Nothing configured (RFC 8212 applies to eBGP).
    pub fn is_empty(&self) -> bool {
        self.prefix_list.is_none() && self.route_map.is_none()
    }
}

/// Route maps of one family overriding the neighbor's (FRR's
/// `address-family ... neighbor X route-map Y in|out`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FamilyPolicy {
    pub import: Option<String>,
    pub export: Option<String>,
}

/// A neighbor's policy: `import`/`export` route maps, prefix lists, and
/// per-family overrides.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Bindings {
    pub import: Option<String>,
    pub export: Option<String>,
    pub prefix_list_in: Option<String>,
    pub prefix_list_out: Option<String>,
    pub family: Vec<(AfiSafi, FamilyPolicy)>,
    /// Maintenance (RFC 8326): every route sent carries GRACEFUL_SHUTDOWN,
    /// with LOCAL_PREF 0 toward iBGP (the neighbor's `graceful_shutdown`
    /// or `bgp.graceful_shutdown`).
    pub graceful_shutdown: bool,
}

impl Bindings {
    fn family(&self, fam: AfiSafi) -> Option<&FamilyPolicy> {
        self.family.iter().find(|(f, _)| *f == fam).map(|(_, p)| p)
    }

    pub fn inbound(&self, fam: AfiSafi) -> Filter<'_> {
        Filter {
            prefix_list: self.prefix_list_in.as_deref(),
            route_map: self
                .family(fam)
                .and_then(|p| p.import.as_deref())
                .or(self.import.as_deref()),
        }
    }

    pub fn outbound(&self, fam: AfiSafi) -> Filter<'_> {
        Filter {
            prefix_list: self.prefix_list_out.as_deref(),
            route_map: self
                .family(fam)
                .and_then(|p| p.export.as_deref())
                .or(self.export.as_deref()),
        }
    }

    /// Only what applies outbound (what peers of one update group share).
    pub fn outbound_only(&self) -> Bindings {
        Bindings {
            import: None,
            export: self.export.clone(),
            prefix_list_in: None,
            prefix_list_out: self.prefix_list_out.clone(),
            graceful_shutdown: self.graceful_shutdown,
            family: self
                .family
                .iter()
                .filter(|(_, p)| p.export.is_some())
                .map(|(f, p)| {
                    (
                        *f,
                        FamilyPolicy {
                            import: None,
                            export: p.export.clone(),
                        },
                    )
                })
                .collect(),
        }
    }

    /// Every route map and list named, with the key that names it.
    pub fn names(&self) -> Vec<(&'static str, &str)> {
        let mut v = Vec::new();
        for (key, n) in [
            ("import", &self.import),
            ("export", &self.export),
            ("prefix_list_in", &self.prefix_list_in),
            ("prefix_list_out", &self.prefix_list_out),
        ] {
            if let Some(n) = n {
                v.push((key, n.as_str()));
            }
        }
        for (_, p) in &self.family {
            for (key, n) in [
                ("family_policy.import", &p.import),
                ("family_policy.export", &p.export),
            ] {
                if let Some(n) = n {
                    v.push((key, n.as_str()));
                }
            }
        }
        v
    }
}

/// A counter reset naming an object that does not exist, in FRR's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClearError {
    #[error("'route-map {0}' not found")]
    RouteMap(String),
    #[error("Can't find specified prefix-list {0}")]
    PrefixList(String),
}

/// FNV-1a: names are looked up once per route, SipHash would dominate.
#[derive(Default, Clone, Copy)]
struct NameHasher(u64);

impl Hasher for NameHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type NameMap<V> = HashMap<String, V, BuildHasherDefault<NameHasher>>;

/// Every list and route map, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policies {
    prefix_lists: NameMap<PrefixList>,
    as_path_lists: NameMap<AsPathList>,
    community_lists: NameMap<CommunityList>,
    route_maps: Vec<(String, RouteMap)>,
    map_index: NameMap<u32>,
}

impl Policies {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add_prefix_list(&mut self, name: impl Into<String>, list: PrefixList) {
        self.prefix_lists.insert(name.into(), list);
    }

    pub fn add_as_path_list(&mut self, name: impl Into<String>, list: AsPathList) {
        self.as_path_lists.insert(name.into(), list);
    }

    pub fn add_community_list(&mut self, name: impl Into<String>, list: CommunityList) {
        self.community_lists.insert(name.into(), list);
    }

    /// Add (or replace) a route map.
    pub fn add_route_map(&mut self, name: impl Into<String>, map: RouteMap) {
        let name = name.into();
        match self.map_index.get(&name) {
            Some(&i) => {
                if let Some(slot) = self.route_maps.get_mut(i as usize) {
                    slot.1 = map;
                }
            }
            None => {
                let i = u32::try_from(self.route_maps.len()).unwrap_or(u32::MAX - 1);
                self.map_index.insert(name.clone(), i);
                self.route_maps.push((name, map));
            }
        }
    }

    pub fn prefix_list(&self, name: &str) -> Option<&PrefixList> {
        self.prefix_lists.get(name)
    }

    pub fn as_path_list(&self, name: &str) -> Option<&AsPathList> {
        self.as_path_lists.get(name)
    }

    pub fn community_list(&self, name: &str) -> Option<&CommunityList> {
        self.community_lists.get(name)
    }

    pub fn route_map(&self, name: &str) -> Option<&RouteMap> {
        let i = *self.map_index.get(name)?;
        self.route_maps.get(i as usize).map(|(_, m)| m)
    }

    /// Sorted by name, for `show`.
    pub fn prefix_lists(&self) -> Vec<(&str, &PrefixList)> {
        sorted(&self.prefix_lists)
    }

    pub fn as_path_lists(&self) -> Vec<(&str, &AsPathList)> {
        sorted(&self.as_path_lists)
    }

    pub fn community_lists(&self) -> Vec<(&str, &CommunityList)> {
        sorted(&self.community_lists)
    }

    pub fn route_maps(&self) -> Vec<(&str, &RouteMap)> {
        let mut v: Vec<_> = self
            .route_maps
            .iter()
            .map(|(n, m)| (n.as_str(), m))
            .collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v
    }

    /// Carry the counters of the route maps and prefix lists that a reload
    /// left unchanged (same name, same entries) from `old`.
    pub fn keep_counts(&self, old: &Policies) {
        for (name, m) in &self.route_maps {
            if let Some(o) = old.route_map(name) {
                m.keep_counts(o);
            }
        }
        for (name, l) in &self.prefix_lists {
            if let Some(o) = old.prefix_lists.get(name) {
                l.keep_counts(o);
            }
        }
    }

    /// `clear route-map counter [NAME]`: reset the counts of one route map
    /// or of every one. Returns how many maps were reset.
    pub fn clear_route_map_counts(&self, name: Option<&str>) -> Result<usize, ClearError> {
        match name {
            Some(n) => {
                self.route_map(n)
                    .ok_or_else(|| ClearError::RouteMap(n.to_string()))?
                    .clear_counts();
                Ok(1)
            }
            None => {
                for (_, m) in &self.route_maps {
                    m.clear_counts();
                }
                Ok(self.route_maps.len())
            }
        }
    }

    /// `clear ip|ipv6 prefix-list [NAME [PREFIX]]`: reset the hit counts
    /// of one family's entries of one list or of every list, given a
    /// prefix only of the entries covering it. Returns how many entries
    /// were reset.
    pub fn clear_prefix_list_counts(
        &self,
        v6: bool,
        name: Option<&str>,
        within: Option<&IpNetwork>,
    ) -> Result<usize, ClearError> {
        match name {
            Some(n) => Ok(self
                .prefix_lists
                .get(n)
                .ok_or_else(|| ClearError::PrefixList(n.to_string()))?
                .clear_counts(v6, within)),
            None => Ok(self
                .prefix_lists
                .values()
                .map(|l| l.clear_counts(v6, within))
                .sum()),
        }
    }

    /// Run route map `name` on a route. An unknown map rejects everything.
    pub fn evaluate(&self, name: &str, r: &Route<'_>, attrs: &PathAttributes) -> Verdict {
        let Some(&i) = self.map_index.get(name) else {
            return Verdict::Reject;
        };
        let Some((_, map)) = self.route_maps.get(i as usize) else {
            return Verdict::Reject;
        };
        match map.evaluate(self, r, attrs) {
            Some(chain) => Verdict::Accept(Applied { map: i, chain }),
            None => Verdict::Reject,
        }
    }

    /// Run a neighbor's filter: `None` when nothing is configured (the
    /// caller applies RFC 8212), else the verdict. An unknown prefix list
    /// or route map rejects everything.
    pub fn filter(&self, f: Filter<'_>, r: &Route<'_>, attrs: &PathAttributes) -> Option<Verdict> {
        if f.is_empty() {
            return None;
        }
        if let Some(pl) = f.prefix_list {
            if !self
                .prefix_lists
                .get(pl)
                .is_some_and(|l| l.permits(r.prefix))
            {
                return Some(Verdict::Reject);
            }
        }
        Some(match f.route_map {
            Some(name) => self.evaluate(name, r, attrs),
            None => Verdict::Accept(Applied::NONE),
        })
    }

    /// Apply what `filter`/`evaluate` accepted with.
    pub fn apply(&self, applied: &Applied, attrs: &mut PathAttributes, env: &Env<'_>) {
        if applied.is_none() {
            return;
        }
        if let Some((_, map)) = self.route_maps.get(applied.map as usize) {
            map.apply(self, &applied.chain, attrs, env);
        }
    }

    /// Whether one condition holds for a route.
    pub fn matches(&self, m: &Match, r: &Route<'_>, a: &PathAttributes) -> bool {
        match m {
            Match::PrefixList(n) => self
                .prefix_lists
                .get(n)
                .is_some_and(|l| l.permits(r.prefix)),
            Match::AsPath(n) => self
                .as_path_lists
                .get(n)
                .is_some_and(|l| l.permits(a.as_path.as_ref())),
            Match::Community(n) | Match::LargeCommunity(n) | Match::ExtCommunity(n) => {
                self.community_lists.get(n).is_some_and(|l| l.permits(a))
            }
            Match::NextHop(n) => {
                let nh = match (a.mp_next_hop, a.next_hop) {
                    (Some(MpNextHop::V6 { global, .. }), _) => Some(IpAddr::V6(global)),
                    (Some(MpNextHop::V4(x)), _) | (None, Some(x)) => Some(IpAddr::V4(x)),
                    _ => None,
                };
                nh.is_some_and(|nh| {
                    self.prefix_lists
                        .get(n)
                        .is_some_and(|l| l.permits(&IpNetwork::from(nh)))
                })
            }
            Match::Origin(o) => a.origin == Some(*o),
            Match::LocalPref(v) => a.local_pref.unwrap_or(100) == *v,
            Match::Med(v) => a.med.unwrap_or(0) == *v,
            Match::Peer(p) => r.peer == Some(*p),
        }
    }
}

fn sorted<V>(m: &NameMap<V>) -> Vec<(&str, &V)> {
    let mut v: Vec<_> = m.iter().map(|(n, x)| (n.as_str(), x)).collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v
}

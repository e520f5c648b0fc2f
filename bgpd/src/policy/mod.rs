//! Routing policy: prefix lists and named policies (a first cut of FRR's
//! route-maps), shared by bgpd's import and export stages.
//!
//! Owns the configuration objects and their evaluation: given a prefix and
//! its path attributes, a policy says reject, or accept with the set
//! actions of the term that matched. RFC 8212's default (an eBGP session
//! without a policy exchanges nothing) is applied by the RIB, which knows
//! the session kind; this module only evaluates what is configured.
//!
//! Never does: I/O, logging per route, or touching the RIB. Evaluation is
//! split from modification ([`Policies::evaluate`] then
//! [`Policies::apply`]) so the RIB can cache the modified attribute sets
//! per (input set, term).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use ipnetwork::IpNetwork;

use crate::packet::{Community, PathAttributes};

/// Permit or deny, for prefix-list entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Permit,
    Deny,
}

/// One `seq N permit|deny PREFIX [ge G] [le L]` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixListEntry {
    pub seq: u32,
    pub action: Action,
    pub prefix: IpNetwork,
    pub ge: Option<u8>,
    pub le: Option<u8>,
}

impl PrefixListEntry {
    /// FRR semantics: without ge/le the length must be equal; `ge` alone
    /// means up to the family's maximum; `le` alone means from the
    /// entry's own length.
    pub fn matches(&self, p: &IpNetwork) -> bool {
        let max = match p {
            IpNetwork::V4(_) => 32,
            IpNetwork::V6(_) => 128,
        };
        let same_family = matches!(
            (p, &self.prefix),
            (IpNetwork::V4(_), IpNetwork::V4(_)) | (IpNetwork::V6(_), IpNetwork::V6(_))
        );
        if !same_family || p.prefix() < self.prefix.prefix() || !self.prefix.contains(p.network()) {
            return false;
        }
        let len = p.prefix();
        let (lo, hi) = match (self.ge, self.le) {
            (None, None) => (self.prefix.prefix(), self.prefix.prefix()),
            (ge, le) => (ge.unwrap_or(self.prefix.prefix()), le.unwrap_or(max)),
        };
        lo <= len && len <= hi
    }
}

/// An ordered prefix list: the first matching entry decides, and a prefix
/// no entry matches is denied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrefixList {
    entries: Vec<PrefixListEntry>,
}

impl PrefixList {
    pub fn new(mut entries: Vec<PrefixListEntry>) -> Self {
        entries.sort_by_key(|e| e.seq);
        Self { entries }
    }

    pub fn entries(&self) -> &[PrefixListEntry] {
        &self.entries
    }

    /// True when the prefix is permitted.
    pub fn permits(&self, p: &IpNetwork) -> bool {
        self.entries
            .iter()
            .find(|e| e.matches(p))
            .is_some_and(|e| e.action == Action::Permit)
    }
}

/// A condition of a term. An enum so route-map match clauses can be added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// The prefix is permitted by this prefix list (an unknown list
    /// matches nothing).
    PrefixList(String),
    /// The path carries this community.
    Community(Community),
}

/// A modification applied when a term accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetAction {
    LocalPref(u32),
    Med(u32),
    /// Add communities to those present (FRR's `additive`).
    CommunityAdd(Vec<Community>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Accept,
    Reject,
}

/// One term: if every match holds, the disposition applies (with the set
/// actions when it accepts) and evaluation stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub matches: Vec<Match>,
    pub disposition: Disposition,
    pub set: Vec<SetAction>,
}

/// A named, ordered list of terms; a route no term matches is rejected.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    pub terms: Vec<Term>,
}

/// What a policy decided for one route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    Reject,
    /// Accepted by term `term` (index in the policy), or by a default
    /// (`term == NO_TERM`) that modifies nothing.
    Accept {
        term: u16,
    },
}

/// The term index of an acceptance that sets nothing.
pub const NO_TERM: u16 = u16::MAX;

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

/// Every prefix list and policy, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policies {
    prefix_lists: NameMap<PrefixList>,
    policies: NameMap<Policy>,
}

impl Policies {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add_prefix_list(&mut self, name: impl Into<String>, list: PrefixList) {
        self.prefix_lists.insert(name.into(), list);
    }

    pub fn add_policy(&mut self, name: impl Into<String>, policy: Policy) {
        self.policies.insert(name.into(), policy);
    }

    pub fn prefix_list(&self, name: &str) -> Option<&PrefixList> {
        self.prefix_lists.get(name)
    }

    pub fn policy(&self, name: &str) -> Option<&Policy> {
        self.policies.get(name)
    }

    /// Run policy `name` on a route. An unknown policy rejects everything.
    pub fn evaluate(&self, name: &str, prefix: &IpNetwork, attrs: &PathAttributes) -> Verdict {
        let Some(policy) = self.policies.get(name) else {
            return Verdict::Reject;
        };
        for (i, term) in policy.terms.iter().enumerate() {
            let hit = term.matches.iter().all(|m| match m {
                Match::PrefixList(list) => self
                    .prefix_lists
                    .get(list)
                    .is_some_and(|l| l.permits(prefix)),
                Match::Community(c) => attrs.communities.contains(c),
            });
            if hit {
                return match term.disposition {
                    Disposition::Reject => Verdict::Reject,
                    Disposition::Accept => Verdict::Accept {
                        term: u16::try_from(i).unwrap_or(NO_TERM - 1),
                    },
                };
            }
        }
        Verdict::Reject
    }

    /// Apply the set actions of `term` of policy `name` to `attrs`.
    pub fn apply(&self, name: &str, term: u16, attrs: &mut PathAttributes) {
        if term == NO_TERM {
            return;
        }
        let Some(term) = self
            .policies
            .get(name)
            .and_then(|p| p.terms.get(usize::from(term)))
        else {
            return;
        };
        for set in &term.set {
            match set {
                SetAction::LocalPref(v) => attrs.local_pref = Some(*v),
                SetAction::Med(v) => attrs.med = Some(*v),
                SetAction::CommunityAdd(cs) => {
                    for c in cs {
                        if !attrs.communities.contains(c) {
                            attrs.communities.push(*c);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> IpNetwork {
        s.parse().unwrap()
    }

    fn entry(
        seq: u32,
        action: Action,
        prefix: &str,
        ge: Option<u8>,
        le: Option<u8>,
    ) -> PrefixListEntry {
        PrefixListEntry {
            seq,
            action,
            prefix: p(prefix),
            ge,
            le,
        }
    }

    #[test]
    fn exact_ge_le_and_implicit_deny() {
        let list = PrefixList::new(vec![
            entry(20, Action::Permit, "10.0.0.0/8", Some(16), Some(24)),
            entry(10, Action::Deny, "10.1.0.0/16", None, None),
            entry(30, Action::Permit, "192.0.2.0/24", None, None),
            entry(40, Action::Permit, "2001:db8::/32", None, Some(48)),
            entry(50, Action::Permit, "198.51.100.0/24", Some(28), None),
        ]);
        assert!(!list.permits(&p("10.1.0.0/16")), "seq 10 denies first");
        assert!(list.permits(&p("10.1.2.0/24")));
        assert!(list.permits(&p("10.2.0.0/16")));
        assert!(!list.permits(&p("10.0.0.0/8")), "shorter than ge");
        assert!(!list.permits(&p("10.2.3.0/25")), "longer than le");
        assert!(list.permits(&p("192.0.2.0/24")));
        assert!(!list.permits(&p("192.0.2.0/25")), "exact without ge/le");
        assert!(list.permits(&p("2001:db8::/32")));
        assert!(list.permits(&p("2001:db8:1::/48")));
        assert!(!list.permits(&p("2001:db8:1::/49")));
        assert!(list.permits(&p("198.51.100.16/28")));
        assert!(list.permits(&p("198.51.100.1/32")), "ge alone: up to /32");
        assert!(!list.permits(&p("198.51.100.0/27")));
        assert!(!list.permits(&p("203.0.113.0/24")), "implicit deny");
        assert!(!list.permits(&p("::/0")), "family mismatch");
    }

    #[test]
    fn policy_terms_in_order() {
        let mut pol = Policies::new();
        pol.add_prefix_list(
            "customers",
            PrefixList::new(vec![entry(
                5,
                Action::Permit,
                "192.0.2.0/24",
                None,
                Some(32),
            )]),
        );
        pol.add_policy(
            "in",
            Policy {
                terms: vec![
                    Term {
                        matches: vec![Match::PrefixList("customers".into())],
                        disposition: Disposition::Accept,
                        set: vec![
                            SetAction::LocalPref(200),
                            SetAction::CommunityAdd(vec![Community::new(65000, 1)]),
                        ],
                    },
                    Term {
                        matches: vec![Match::PrefixList("missing".into())],
                        disposition: Disposition::Accept,
                        set: vec![],
                    },
                    Term {
                        matches: vec![],
                        disposition: Disposition::Accept,
                        set: vec![SetAction::Med(7)],
                    },
                ],
            },
        );
        let a = PathAttributes {
            communities: vec![Community::new(65000, 9)],
            ..PathAttributes::default()
        };
        let v = pol.evaluate("in", &p("192.0.2.128/25"), &a);
        assert_eq!(v, Verdict::Accept { term: 0 });
        let mut b = a.clone();
        pol.apply("in", 0, &mut b);
        assert_eq!(b.local_pref, Some(200));
        assert_eq!(
            b.communities,
            vec![Community::new(65000, 9), Community::new(65000, 1)]
        );
        assert_eq!(
            pol.evaluate("in", &p("203.0.113.0/24"), &a),
            Verdict::Accept { term: 2 }
        );
        assert_eq!(
            pol.evaluate("nope", &p("203.0.113.0/24"), &a),
            Verdict::Reject
        );
        let mut c = a.clone();
        pol.apply("in", NO_TERM, &mut c);
        assert_eq!(c, a);
    }

    #[test]
    fn policy_without_match_rejects() {
        let mut pol = Policies::new();
        pol.add_policy(
            "only-community",
            Policy {
                terms: vec![Term {
                    matches: vec![Match::Community(Community::new(1, 1))],
                    disposition: Disposition::Accept,
                    set: vec![],
                }],
            },
        );
        let a = PathAttributes::default();
        assert_eq!(
            pol.evaluate("only-community", &p("192.0.2.0/24"), &a),
            Verdict::Reject
        );
    }
}

//! Community lists (FRR `bgp community-list`, `bgp large-community-list`,
//! `bgp extcommunity-list`), standard and expanded. A standard entry
//! matches when every one of its values is on the route; an expanded
//! entry matches when its regular expression matches the route's values as
//! text (space-separated, as `show` writes them). The first matching entry
//! decides; no match is a deny. RFC 1997 (communities), RFC 8092 (large),
//! RFC 4360 (extended).
//!
//! Owns matching a list against a route and telling which single values a
//! list selects (`set community_delete`). Never does I/O.

use super::as_path_list::Pattern;
use super::Action;
use crate::packet::{Community, ExtendedCommunity, LargeCommunity, PathAttributes};

/// Which attribute a list reads and how its entries are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommunityKind {
    Standard,
    Expanded,
    Large,
    LargeExpanded,
    Extended,
    ExtendedExpanded,
}

/// The attribute a community list applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommunityAttr {
    Communities,
    Large,
    Extended,
}

impl CommunityKind {
    pub const NAMES: [(&'static str, CommunityKind); 6] = [
        ("standard", Self::Standard),
        ("expanded", Self::Expanded),
        ("large", Self::Large),
        ("large-expanded", Self::LargeExpanded),
        ("extended", Self::Extended),
        ("extended-expanded", Self::ExtendedExpanded),
    ];

    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, k)| *k == self)
            .map_or("standard", |(n, _)| n)
    }

    pub fn attr(self) -> CommunityAttr {
        match self {
            Self::Standard | Self::Expanded => CommunityAttr::Communities,
            Self::Large | Self::LargeExpanded => CommunityAttr::Large,
            Self::Extended | Self::ExtendedExpanded => CommunityAttr::Extended,
        }
    }

    pub fn is_expanded(self) -> bool {
        matches!(
            self,
            Self::Expanded | Self::LargeExpanded | Self::ExtendedExpanded
        )
    }
}

/// What one entry tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// All of these are present.
    Communities(Vec<Community>),
    Large(Vec<LargeCommunity>),
    Extended(Vec<ExtendedCommunity>),
    /// The expression matches the values' text.
    Regex(Pattern),
}

/// One `seq N permit|deny ...` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunityListEntry {
    pub seq: u32,
    pub action: Action,
    pub rule: Rule,
}

/// An ordered community list of one kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunityList {
    pub kind: CommunityKind,
    entries: Vec<CommunityListEntry>,
}

fn text<T: ToString>(values: &[T]) -> String {
    values
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

impl CommunityList {
    pub fn new(kind: CommunityKind, mut entries: Vec<CommunityListEntry>) -> Self {
        entries.sort_by_key(|e| e.seq);
        Self { kind, entries }
    }

    pub fn entries(&self) -> &[CommunityListEntry] {
        &self.entries
    }

    /// True when the route's values of this list's attribute are
    /// permitted.
    pub fn permits(&self, a: &PathAttributes) -> bool {
        let text = match (self.kind.is_expanded(), self.kind.attr()) {
            (false, _) => String::new(),
            (true, CommunityAttr::Communities) => text(&a.communities),
            (true, CommunityAttr::Large) => text(&a.large_communities),
            (true, CommunityAttr::Extended) => text(&a.extended_communities),
        };
        self.entries
            .iter()
            .find(|e| match &e.rule {
                Rule::Communities(v) => v.iter().all(|c| a.communities.contains(c)),
                Rule::Large(v) => v.iter().all(|c| a.large_communities.contains(c)),
                Rule::Extended(v) => v.iter().all(|c| a.extended_communities.contains(c)),
                Rule::Regex(p) => p.is_match(&text),
            })
            .is_some_and(|e| e.action == Action::Permit)
    }

    /// For `set community_delete`: is this single value selected (the
    /// first entry that matches it alone is a permit)?
    pub fn selects(&self, c: &Community) -> bool {
        self.selects_value(|rule| match rule {
            Rule::Communities(v) => v.contains(c),
            Rule::Regex(p) => p.is_match(&c.to_string()),
            _ => false,
        })
    }

    pub fn selects_large(&self, c: &LargeCommunity) -> bool {
        self.selects_value(|rule| match rule {
            Rule::Large(v) => v.contains(c),
            Rule::Regex(p) => p.is_match(&c.to_string()),
            _ => false,
        })
    }

    pub fn selects_extended(&self, c: &ExtendedCommunity) -> bool {
        self.selects_value(|rule| match rule {
            Rule::Extended(v) => v.contains(c),
            Rule::Regex(p) => p.is_match(&c.to_string()),
            _ => false,
        })
    }

    fn selects_value(&self, hit: impl Fn(&Rule) -> bool) -> bool {
        self.entries
            .iter()
            .find(|e| hit(&e.rule))
            .is_some_and(|e| e.action == Action::Permit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Community {
        s.parse().unwrap()
    }

    #[test]
    fn standard_needs_all_values() {
        let l = CommunityList::new(
            CommunityKind::Standard,
            vec![
                CommunityListEntry {
                    seq: 10,
                    action: Action::Deny,
                    rule: Rule::Communities(vec![c("65000:666")]),
                },
                CommunityListEntry {
                    seq: 20,
                    action: Action::Permit,
                    rule: Rule::Communities(vec![c("65000:1"), c("no-export")]),
                },
            ],
        );
        let mut a = PathAttributes {
            communities: vec![c("65000:1")],
            ..PathAttributes::default()
        };
        assert!(!l.permits(&a), "one of two values");
        a.communities.push(Community::NO_EXPORT);
        assert!(l.permits(&a));
        a.communities.push(c("65000:666"));
        assert!(!l.permits(&a), "seq 10 denies first");
        assert!(l.selects(&c("65000:1")));
        assert!(!l.selects(&c("65000:666")));
        assert!(!l.selects(&c("65000:2")));
    }

    #[test]
    fn expanded_kinds_match_text() {
        let l = CommunityList::new(
            CommunityKind::Expanded,
            vec![CommunityListEntry {
                seq: 10,
                action: Action::Permit,
                rule: Rule::Regex(Pattern::new("^65000:.*").unwrap()),
            }],
        );
        let a = PathAttributes {
            communities: vec![c("65000:7"), c("65001:1")],
            ..PathAttributes::default()
        };
        assert!(l.permits(&a));
        assert!(!l.permits(&PathAttributes::default()));
        assert!(l.selects(&c("65000:7")));
        assert!(!l.selects(&c("65001:1")));
        let large = CommunityList::new(
            CommunityKind::LargeExpanded,
            vec![CommunityListEntry {
                seq: 10,
                action: Action::Permit,
                rule: Rule::Regex(Pattern::new("_65000:1:[0-9]+$").unwrap()),
            }],
        );
        let a = PathAttributes {
            large_communities: vec![LargeCommunity::new(65000, 1, 5)],
            ..PathAttributes::default()
        };
        assert!(large.permits(&a));
        assert!(!large.permits(&PathAttributes::default()));
        let ext = CommunityList::new(
            CommunityKind::ExtendedExpanded,
            vec![CommunityListEntry {
                seq: 10,
                action: Action::Permit,
                rule: Rule::Regex(Pattern::new("^rt 65000:").unwrap()),
            }],
        );
        let a = PathAttributes {
            extended_communities: vec![ExtendedCommunity::route_target(65000, 100)],
            ..PathAttributes::default()
        };
        assert!(ext.permits(&a));
        assert!(ext.selects_extended(&ExtendedCommunity::route_target(65000, 1)));
        assert!(!ext.selects_extended(&ExtendedCommunity::route_target(65001, 1)));
    }

    #[test]
    fn large_and_extended_standard() {
        let l = CommunityList::new(
            CommunityKind::Large,
            vec![CommunityListEntry {
                seq: 10,
                action: Action::Permit,
                rule: Rule::Large(vec![LargeCommunity::new(65000, 1, 1)]),
            }],
        );
        let a = PathAttributes {
            large_communities: vec![LargeCommunity::new(65000, 1, 1)],
            ..PathAttributes::default()
        };
        assert!(l.permits(&a));
        assert!(!l.permits(&PathAttributes::default()));
        assert!(l.selects_large(&LargeCommunity::new(65000, 1, 1)));
        let e = CommunityList::new(
            CommunityKind::Extended,
            vec![CommunityListEntry {
                seq: 10,
                action: Action::Permit,
                rule: Rule::Extended(vec![ExtendedCommunity::route_target(65000, 100)]),
            }],
        );
        let a = PathAttributes {
            extended_communities: vec![ExtendedCommunity::route_target(65000, 100)],
            ..PathAttributes::default()
        };
        assert!(e.permits(&a));
        assert!(!e.permits(&PathAttributes::default()));
    }
}

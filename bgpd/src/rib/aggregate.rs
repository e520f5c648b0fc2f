//! Route aggregation (RFC 4271 §9.2.2.2; FRR's `aggregate-address`): a
//! configured prefix originated while at least one more-specific route is
//! in the Loc-RIB, with the attributes its contributors summarize to, and
//! the contributors suppressed toward peers under `summary_only`.
//!
//! Owns the aggregate configuration, which aggregates a batch touched
//! (and by which prefixes, so the contributor set follows the changes and
//! the table is scanned only for a new aggregate), their contributor
//! sets, which prefixes are suppressed, and the
//! summary of contributors' attributes: ORIGIN IGP, an empty AS_PATH and
//! ATOMIC_AGGREGATE; with `as_set` the worst ORIGIN, an AS_SET of every
//! contributor AS, their communities and large communities merged, and no
//! ATOMIC_AGGREGATE; AGGREGATOR = our AS and router id always. A locally
//! originated path carrying AGGREGATOR is one of these aggregates (the
//! RIB installs it as a blackhole, as FRR does, so that traffic for an
//! uncovered part of it is dropped rather than looped). Never touches the
//! tables itself: the RIB scans and originates.

use std::collections::{BTreeMap, BTreeSet};

use ipnetwork::IpNetwork;

use crate::packet::{Aggregator, AsPath, AsSegment, Origin, PathAttributes, SegmentType};

use super::{RibConfig, LOCAL_WEIGHT};

/// One `[[aggregate]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AggregateConfig {
    pub prefix: IpNetwork,
    /// Suppress the contributors toward every peer (they stay in the
    /// Loc-RIB and the kernel).
    pub summary_only: bool,
    /// AS_SET of the contributors' ASes instead of ATOMIC_AGGREGATE.
    pub as_set: bool,
}

/// One aggregate's state.
#[derive(Debug)]
struct Aggregate {
    cfg: AggregateConfig,
    /// New (or reconfigured): its contributors are found by a table scan.
    rescan: bool,
    /// More-specific prefixes whose best path changed in this batch.
    changed: BTreeSet<IpNetwork>,
    /// The more-specific prefixes with a best path.
    contributors: BTreeSet<IpNetwork>,
}

/// What the RIB recomputes for one aggregate after a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Touched {
    pub cfg: AggregateConfig,
    /// Find every contributor by a scan (else update from `changed`).
    pub rescan: bool,
    pub changed: Vec<IpNetwork>,
}

/// Every configured aggregate, and the prefixes suppressed by them.
#[derive(Debug, Default)]
pub(crate) struct Aggregates {
    list: Vec<Aggregate>,
}

/// Whether `inner` is strictly more specific than, and inside, `outer`.
pub(crate) fn more_specific(outer: &IpNetwork, inner: &IpNetwork) -> bool {
    inner.prefix() > outer.prefix()
        && match (outer, inner) {
            (IpNetwork::V4(o), IpNetwork::V4(i)) => o.contains(i.network()),
            (IpNetwork::V6(o), IpNetwork::V6(i)) => o.contains(i.network()),
            _ => false,
        }
}

impl Aggregates {
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub fn configs(&self) -> impl Iterator<Item = &AggregateConfig> {
        self.list.iter().map(|a| &a.cfg)
    }

    /// Replaces the configuration; returns the prefixes of aggregates
    /// that are gone (the RIB withdraws them). Every aggregate is
    /// recomputed at the next batch.
    pub fn set(&mut self, cfgs: Vec<AggregateConfig>) -> Vec<IpNetwork> {
        let gone = self
            .list
            .iter()
            .filter(|a| !cfgs.iter().any(|c| c.prefix == a.cfg.prefix))
            .map(|a| a.cfg.prefix)
            .collect();
        let mut old: BTreeMap<IpNetwork, Aggregate> = std::mem::take(&mut self.list)
            .into_iter()
            .map(|a| (a.cfg.prefix, a))
            .collect();
        self.list = cfgs
            .into_iter()
            .map(|cfg| {
                let contributors = old
                    .remove(&cfg.prefix)
                    .map(|a| a.contributors)
                    .unwrap_or_default();
                Aggregate {
                    // Kept contributors are right; a new one has none yet.
                    rescan: contributors.is_empty(),
                    cfg,
                    changed: BTreeSet::new(),
                    contributors,
                }
            })
            .collect();
        // Every aggregate is recomputed at the next batch (its summary
        // attributes may have changed with the configuration).
        for a in &mut self.list {
            a.changed.insert(a.cfg.prefix);
        }
        gone
    }

    /// A prefix's best path changed: the aggregates covering it need a
    /// recomputation.
    pub fn touch(&mut self, prefix: &IpNetwork) {
        for a in &mut self.list {
            if more_specific(&a.cfg.prefix, prefix) {
                a.changed.insert(*prefix);
            }
        }
    }

    /// The aggregates to recompute, with what changed under them (and
    /// clears it).
    pub fn take_touched(&mut self) -> Vec<Touched> {
        let mut out = Vec::new();
        for a in &mut self.list {
            if a.rescan || !a.changed.is_empty() {
                let changed = std::mem::take(&mut a.changed);
                out.push(Touched {
                    cfg: a.cfg.clone(),
                    rescan: std::mem::take(&mut a.rescan),
                    // The aggregate's own prefix only marks a refresh.
                    changed: changed.into_iter().filter(|p| *p != a.cfg.prefix).collect(),
                });
            }
        }
        out
    }

    /// Updates the contributors of `prefix`'s aggregate: `found` replaces
    /// them after a scan; else each of `changed` is in or out as `has_best`
    /// says. Returns the contributors, sorted.
    pub fn update_contributors(
        &mut self,
        prefix: &IpNetwork,
        found: Option<Vec<IpNetwork>>,
        changed: &[IpNetwork],
        mut has_best: impl FnMut(&IpNetwork) -> bool,
    ) -> Vec<IpNetwork> {
        let Some(a) = self.list.iter_mut().find(|a| a.cfg.prefix == *prefix) else {
            return Vec::new();
        };
        match found {
            Some(all) => a.contributors = all.into_iter().collect(),
            None => {
                for p in changed {
                    if has_best(p) {
                        a.contributors.insert(*p);
                    } else {
                        a.contributors.remove(p);
                    }
                }
            }
        }
        a.contributors.iter().copied().collect()
    }

    /// Whether `prefix` is kept from peers: a more-specific of a
    /// summary-only aggregate (which is active whenever such a prefix has
    /// a best path, so this needs no state).
    pub fn is_suppressed(&self, prefix: &IpNetwork) -> bool {
        self.list
            .iter()
            .any(|a| a.cfg.summary_only && more_specific(&a.cfg.prefix, prefix))
    }

    /// Whether `prefix` is a configured aggregate.
    pub fn is_aggregate(&self, prefix: &IpNetwork) -> bool {
        self.list.iter().any(|a| a.cfg.prefix == *prefix)
    }
}

/// The attributes of an aggregate over `contributors` (their Loc-RIB
/// attributes).
pub(crate) fn summarize(
    cfg: &RibConfig,
    agg: &AggregateConfig,
    contributors: &[&PathAttributes],
) -> PathAttributes {
    let mut out = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::default()),
        atomic_aggregate: !agg.as_set,
        aggregator: Some(Aggregator {
            asn: cfg.local_as,
            address: cfg.router_id,
        }),
        weight: LOCAL_WEIGHT,
        ..PathAttributes::default()
    };
    if agg.as_set {
        let mut asns = BTreeSet::new();
        let mut communities = BTreeSet::new();
        let mut large = BTreeSet::new();
        for a in contributors {
            if let Some(o) = a.origin {
                out.origin = out.origin.max(Some(o));
            }
            if let Some(p) = &a.as_path {
                asns.extend(p.asns());
            }
            communities.extend(a.communities.iter().copied());
            large.extend(a.large_communities.iter().copied());
        }
        if !asns.is_empty() {
            out.as_path = Some(AsPath {
                segments: vec![AsSegment {
                    kind: SegmentType::Set,
                    asns: asns.into_iter().collect(),
                }],
            });
        }
        out.communities = communities.into_iter().collect();
        out.large_communities = large.into_iter().collect();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::Community;

    fn p(s: &str) -> IpNetwork {
        s.parse().unwrap()
    }

    fn cfg() -> RibConfig {
        RibConfig {
            local_as: 65000,
            router_id: "192.0.2.1".parse().unwrap(),
            multipath_ebgp: 1,
            multipath_ibgp: 1,
            always_compare_med: false,
            cluster_id: None,
        }
    }

    #[test]
    fn more_specific_only() {
        let agg = p("198.51.100.0/24");
        assert!(more_specific(&agg, &p("198.51.100.0/25")));
        assert!(more_specific(&agg, &p("198.51.100.77/32")));
        assert!(!more_specific(&agg, &agg));
        assert!(!more_specific(&agg, &p("198.51.0.0/16")));
        assert!(!more_specific(&agg, &p("203.0.113.0/25")));
        assert!(!more_specific(&agg, &p("2001:db8::/48")));
    }

    #[test]
    fn summary_without_and_with_as_set() {
        let a = PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence([65001, 65010])),
            communities: vec![Community::new(65001, 1)],
            ..PathAttributes::default()
        };
        let b = PathAttributes {
            origin: Some(Origin::Incomplete),
            as_path: Some(AsPath::from_sequence([65002])),
            communities: vec![Community::new(65002, 2)],
            ..PathAttributes::default()
        };
        let plain = AggregateConfig {
            prefix: p("198.51.100.0/24"),
            summary_only: false,
            as_set: false,
        };
        let s = summarize(&cfg(), &plain, &[&a, &b]);
        assert_eq!(s.origin, Some(Origin::Igp));
        assert_eq!(s.as_path, Some(AsPath::default()));
        assert!(s.atomic_aggregate);
        assert_eq!(s.aggregator.map(|g| g.asn), Some(65000));
        assert!(s.communities.is_empty());
        let set = AggregateConfig {
            as_set: true,
            ..plain
        };
        let s = summarize(&cfg(), &set, &[&a, &b]);
        assert_eq!(s.origin, Some(Origin::Incomplete), "the worst");
        assert!(!s.atomic_aggregate);
        let seg = &s.as_path.unwrap().segments[0];
        assert_eq!(seg.kind, SegmentType::Set);
        assert_eq!(seg.asns, vec![65001, 65002, 65010]);
        assert_eq!(
            s.communities,
            vec![Community::new(65001, 1), Community::new(65002, 2)]
        );
    }

    #[test]
    fn contributors_follow_the_changes_after_one_scan() {
        let mut aggs = Aggregates::default();
        let agg = AggregateConfig {
            prefix: p("192.0.2.0/24"),
            summary_only: false,
            as_set: false,
        };
        aggs.set(vec![agg.clone()]);
        let t = aggs.take_touched();
        assert_eq!(t.len(), 1);
        assert!(t[0].rescan, "a new aggregate is scanned");
        assert!(t[0].changed.is_empty());
        let c = aggs.update_contributors(&agg.prefix, Some(vec![p("192.0.2.0/25")]), &[], |_| {
            unreachable!("a scan's result is taken as it is")
        });
        assert_eq!(c, vec![p("192.0.2.0/25")]);
        assert!(aggs.take_touched().is_empty(), "nothing changed since");

        // Changes outside it are ignored; inside it, followed one by one.
        aggs.touch(&p("198.51.100.0/25"));
        aggs.touch(&p("192.0.2.128/25"));
        aggs.touch(&p("192.0.2.0/25"));
        aggs.touch(&p("192.0.2.0/24"));
        let t = aggs.take_touched();
        assert_eq!(t.len(), 1);
        assert!(!t[0].rescan);
        assert_eq!(t[0].changed, vec![p("192.0.2.0/25"), p("192.0.2.128/25")]);
        let c = aggs.update_contributors(&agg.prefix, None, &t[0].changed, |x| {
            *x == p("192.0.2.128/25")
        });
        assert_eq!(c, vec![p("192.0.2.128/25")]);

        // A reload keeps the contributors (no scan) but recomputes.
        aggs.set(vec![AggregateConfig {
            as_set: true,
            ..agg.clone()
        }]);
        let t = aggs.take_touched();
        assert!(!t[0].rescan && t[0].changed.is_empty() && t[0].cfg.as_set);
        assert_eq!(
            aggs.update_contributors(&agg.prefix, None, &[], |_| false),
            vec![p("192.0.2.128/25")]
        );
    }

    #[test]
    fn suppression_is_the_summary_only_more_specifics() {
        let mut aggs = Aggregates::default();
        aggs.set(vec![
            AggregateConfig {
                prefix: p("198.51.100.0/24"),
                summary_only: true,
                as_set: false,
            },
            AggregateConfig {
                prefix: p("203.0.113.0/24"),
                summary_only: false,
                as_set: false,
            },
        ]);
        aggs.touch(&p("198.51.100.0/25"));
        assert_eq!(aggs.take_touched().len(), 2, "new aggregates: all");
        aggs.touch(&p("198.51.100.0/25"));
        assert_eq!(aggs.take_touched()[0].cfg.prefix, p("198.51.100.0/24"));
        assert!(aggs.take_touched().is_empty());
        assert!(aggs.is_suppressed(&p("198.51.100.0/25")));
        assert!(!aggs.is_suppressed(&p("198.51.100.0/24")));
        assert!(
            !aggs.is_suppressed(&p("203.0.113.0/25")),
            "not summary-only"
        );
        assert_eq!(
            aggs.set(vec![]),
            vec![p("198.51.100.0/24"), p("203.0.113.0/24")]
        );
        assert!(!aggs.is_suppressed(&p("198.51.100.0/25")));
    }
}

//! Maximum prefixes per neighbor and family (RFC 4486 §4, FRR's
//! `neighbor X maximum-prefix N [THRESHOLD] [restart M | warning-only]`).
//!
//! Owns the per-neighbor state of the limit: which thresholds were
//! reported in this session, whether the limit tore the session down and
//! until when it stays down. A plain state machine fed with the
//! Adj-RIB-In counts after each UPDATE of a limited neighbor (never
//! consulted for a neighbor without a limit) and with the clock; the
//! daemon performs what it returns (a Cease/1 through the session, a
//! `Start` when the restart time is over).

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::config::{LimitAction, PrefixLimit};
use crate::packet::AfiSafi;

/// What the daemon does after a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Log: the count passed the warning threshold.
    Threshold {
        family: AfiSafi,
        count: u64,
        max: u32,
    },
    /// Log only (`max_prefixes_action = "warning"`).
    Exceeded {
        family: AfiSafi,
        count: u64,
        max: u32,
    },
    /// Tear the session down with Cease/1 and keep it down.
    Teardown {
        family: AfiSafi,
        count: u64,
        max: u32,
    },
}

/// The limit's state for one neighbor.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LimitState {
    /// Families whose warning threshold was reported in this session.
    warned: BTreeSet<AfiSafi>,
    /// Families whose limit was reported (warning-only) in this session.
    exceeded: BTreeSet<AfiSafi>,
    /// Torn down by the limit: `Some(None)` until cleared, `Some(Some(t))`
    /// until `t`.
    tripped: Option<Option<Instant>>,
}

impl LimitState {
    /// Checks the counts of an Established session (`(family, received)`).
    pub fn check(
        &mut self,
        limit: &PrefixLimit,
        counts: &[(AfiSafi, u64)],
        now: Instant,
    ) -> Vec<Verdict> {
        let mut out = Vec::new();
        if self.tripped.is_some() {
            return out;
        }
        for &(family, count) in counts {
            let Some(max) = limit.max_for(family) else {
                continue;
            };
            if count > u64::from(max) {
                match limit.action {
                    LimitAction::Teardown => {
                        let until = (limit.restart > 0)
                            .then(|| now + Duration::from_secs(u64::from(limit.restart)));
                        self.tripped = Some(until);
                        out.push(Verdict::Teardown { family, count, max });
                        return out;
                    }
                    LimitAction::Warning => {
                        if self.exceeded.insert(family) {
                            out.push(Verdict::Exceeded { family, count, max });
                        }
                    }
                }
            } else if count * 100 >= u64::from(max) * u64::from(limit.warning_percent)
                && self.warned.insert(family)
            {
                out.push(Verdict::Threshold { family, count, max });
            }
        }
        out
    }

    /// A new session starts: thresholds are reported again.
    pub fn session_down(&mut self) {
        self.warned.clear();
        self.exceeded.clear();
    }

    /// Whether the limit holds the session down.
    pub fn tripped(&self) -> bool {
        self.tripped.is_some()
    }

    /// Seconds until the automatic restart (`None`: not tripped, or down
    /// until cleared).
    pub fn restart_in(&self, now: Instant) -> Option<Duration> {
        self.tripped
            .flatten()
            .map(|t| t.saturating_duration_since(now))
    }

    /// True once when the restart time has passed: the daemon starts the
    /// session again.
    pub fn restart_due(&mut self, now: Instant) -> bool {
        match self.tripped {
            Some(Some(t)) if now >= t => {
                self.tripped = None;
                true
            }
            _ => false,
        }
    }

    /// `clear bgp`: true when the limit held the session down (the daemon
    /// starts it again).
    pub fn clear(&mut self) -> bool {
        self.tripped.take().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn limit(action: LimitAction, restart: u32) -> PrefixLimit {
        PrefixLimit {
            max: BTreeMap::from([(AfiSafi::IPV4_UNICAST, 100)]),
            warning_percent: 75,
            action,
            restart,
        }
    }

    #[test]
    fn warns_once_then_tears_down_and_restarts_after_the_time() {
        let l = limit(LimitAction::Teardown, 30);
        let mut s = LimitState::default();
        let t0 = Instant::now();
        let v4 = AfiSafi::IPV4_UNICAST;
        assert!(s.check(&l, &[(v4, 74)], t0).is_empty());
        assert_eq!(
            s.check(&l, &[(v4, 75)], t0),
            vec![Verdict::Threshold {
                family: v4,
                count: 75,
                max: 100
            }]
        );
        assert!(s.check(&l, &[(v4, 100)], t0).is_empty());
        // Only IPv4 is limited.
        assert!(s.check(&l, &[(AfiSafi::IPV6_UNICAST, 1000)], t0).is_empty());
        assert_eq!(
            s.check(&l, &[(v4, 101)], t0),
            vec![Verdict::Teardown {
                family: v4,
                count: 101,
                max: 100
            }]
        );
        assert!(s.tripped());
        assert!(s.check(&l, &[(v4, 500)], t0).is_empty());
        assert_eq!(s.restart_in(t0), Some(Duration::from_secs(30)));
        assert!(!s.restart_due(t0 + Duration::from_secs(29)));
        assert!(s.restart_due(t0 + Duration::from_secs(30)));
        assert!(!s.tripped());
        assert!(!s.restart_due(t0 + Duration::from_secs(31)));
    }

    #[test]
    fn restart_zero_waits_for_clear() {
        let l = limit(LimitAction::Teardown, 0);
        let mut s = LimitState::default();
        let t0 = Instant::now();
        s.check(&l, &[(AfiSafi::IPV4_UNICAST, 101)], t0);
        assert!(!s.restart_due(t0 + Duration::from_secs(1_000_000)));
        assert_eq!(s.restart_in(t0), None);
        assert!(s.clear());
        assert!(!s.clear());
    }

    #[test]
    fn warning_only_never_tears_down() {
        let l = limit(LimitAction::Warning, 0);
        let mut s = LimitState::default();
        let t0 = Instant::now();
        let v4 = AfiSafi::IPV4_UNICAST;
        let v = s.check(&l, &[(v4, 200)], t0);
        assert!(matches!(v[..], [Verdict::Exceeded { count: 200, .. }]));
        assert!(s.check(&l, &[(v4, 300)], t0).is_empty());
        assert!(!s.tripped());
        s.session_down();
        assert_eq!(s.check(&l, &[(v4, 300)], t0).len(), 1);
    }
}

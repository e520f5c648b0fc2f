//! Nexthop tracking state (RFC 4271 §9.1.2.1: a route whose NEXT_HOP is
//! unresolvable is excluded from the decision process).
//!
//! Owns the reference-counted set of next hops the RIB's paths use and
//! what zebrad last said about each. A next hop is registered when the
//! first path uses it and unregistered when the last one goes; until
//! zebrad answers it is `Pending` and its paths are not eligible.
//!
//! Never does: I/O (registrations are queued in the RIB's output), or
//! deciding which prefixes to re-run (the RIB scans for changed next hops
//! once per batch).

use std::net::IpAddr;

use super::table::{FastMap, FastSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NhState {
    Pending,
    Unreachable,
    Reachable(u32),
}

#[derive(Debug)]
struct Entry {
    state: NhState,
    refs: u32,
}

#[derive(Debug, Default)]
pub(crate) struct Nht {
    entries: FastMap<IpAddr, Entry>,
    /// Next hops whose state changed since the last batch.
    pub changed: FastSet<IpAddr>,
    pub register: Vec<IpAddr>,
    pub unregister: Vec<IpAddr>,
}

impl Nht {
    pub fn state(&self, addr: &IpAddr) -> NhState {
        self.entries.get(addr).map_or(NhState::Pending, |e| e.state)
    }

    /// Apply a reference-count change.
    pub fn adjust(&mut self, addr: IpAddr, delta: i64) {
        if delta == 0 {
            return;
        }
        let entry = self.entries.entry(addr).or_insert_with(|| Entry {
            state: NhState::Pending,
            refs: 0,
        });
        let was = entry.refs;
        let now = (i64::from(was) + delta).clamp(0, i64::from(u32::MAX)) as u32;
        entry.refs = now;
        if was == 0 && now > 0 {
            self.unregister.retain(|a| *a != addr);
            self.register.push(addr);
        }
        if now == 0 {
            self.entries.remove(&addr);
            if was > 0 {
                let queued = self.register.len();
                self.register.retain(|a| *a != addr);
                if queued == self.register.len() {
                    self.unregister.push(addr);
                }
            }
        }
    }

    /// zebrad's answer; returns whether anything changed.
    pub fn update(&mut self, addr: IpAddr, reachable: bool, metric: u32) -> bool {
        let Some(entry) = self.entries.get_mut(&addr) else {
            return false;
        };
        let state = if reachable {
            NhState::Reachable(metric)
        } else {
            NhState::Unreachable
        };
        if entry.state == state {
            return false;
        }
        entry.state = state;
        self.changed.insert(addr);
        true
    }

    pub fn tracked(&self) -> usize {
        self.entries.len()
    }
}

/// Per-call accumulation of reference changes, so a 500-prefix UPDATE
/// touches the next-hop map once rather than 500 times.
#[derive(Debug, Default)]
pub(crate) struct NhDeltas(Vec<(IpAddr, i64)>);

impl NhDeltas {
    pub fn add(&mut self, addr: IpAddr, delta: i64) {
        if let Some(e) = self.0.iter_mut().rev().find(|(a, _)| *a == addr) {
            e.1 += delta;
        } else {
            self.0.push((addr, delta));
        }
    }

    pub fn apply(&mut self, nht: &mut Nht) {
        for (addr, delta) in self.0.drain(..) {
            nht.adjust(addr, delta);
        }
    }

    /// Flush when the list grows (withdrawals of many next hops).
    pub fn maybe_apply(&mut self, nht: &mut Nht) {
        if self.0.len() > 32 {
            self.apply(nht);
        }
    }
}

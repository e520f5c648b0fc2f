//! MAC mobility (RFC 7432 §15): where each MAC of each VNI is, the moves
//! between VTEPs, and duplicate-MAC detection (§15.1: a MAC that moves
//! `max_moves` times within `window` is frozen, as FRR's
//! `dup-addr-detection max-moves 5 time 180` does).
//!
//! Owns the per-MAC move history. Never chooses the winning route (the RIB
//! does, by sequence number) and never reads a clock (callers pass `now`).

use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use tracing::warn;

use super::nlri::Mac;

/// Where a MAC lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Local,
    Remote(IpAddr),
}

/// A MAC found duplicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    pub vni: u32,
    pub mac: Mac,
    /// Where it was when frozen.
    pub location: Location,
    pub moves: u32,
    pub since: Instant,
}

#[derive(Debug, Default)]
struct History {
    at: Option<Location>,
    moves: VecDeque<Instant>,
    total_moves: u32,
    frozen: Option<Instant>,
}

/// Move histories of every MAC.
#[derive(Debug)]
pub struct Mobility {
    detection: bool,
    max_moves: u32,
    window: Duration,
    macs: BTreeMap<(u32, Mac), History>,
}

impl Mobility {
    pub fn new(detection: bool, max_moves: u32, window: Duration) -> Self {
        Self {
            detection,
            max_moves: max_moves.max(1),
            window,
            macs: BTreeMap::new(),
        }
    }

    /// The MAC is now at `at`. A change of place is a move; returns true
    /// when this move makes it a duplicate (it is frozen from now on).
    pub fn located(&mut self, vni: u32, mac: Mac, at: Location, now: Instant) -> bool {
        let h = self.macs.entry((vni, mac)).or_default();
        let moved = h.at.is_some_and(|prev| prev != at);
        h.at = Some(at);
        if !moved || h.frozen.is_some() {
            return false;
        }
        h.total_moves += 1;
        h.moves.push_back(now);
        while h
            .moves
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > self.window)
        {
            h.moves.pop_front();
        }
        if self.detection && h.moves.len() >= self.max_moves as usize {
            h.frozen = Some(now);
            warn!(
                vni,
                %mac,
                moves = h.moves.len(),
                window_secs = self.window.as_secs(),
                "duplicate MAC detected: frozen"
            );
            return true;
        }
        false
    }

    /// The MAC left every VTEP (no route, no local entry).
    pub fn gone(&mut self, vni: u32, mac: Mac) {
        if let Some(h) = self.macs.get_mut(&(vni, mac)) {
            if h.frozen.is_none() && h.moves.is_empty() {
                self.macs.remove(&(vni, mac));
            } else {
                h.at = None;
            }
        }
    }

    pub fn is_frozen(&self, vni: u32, mac: Mac) -> bool {
        self.macs
            .get(&(vni, mac))
            .is_some_and(|h| h.frozen.is_some())
    }

    /// Moves seen since the MAC was first learned.
    pub fn moves(&self, vni: u32, mac: Mac) -> u32 {
        self.macs.get(&(vni, mac)).map_or(0, |h| h.total_moves)
    }

    pub fn duplicates(&self) -> Vec<Duplicate> {
        self.macs
            .iter()
            .filter_map(|(&(vni, mac), h)| {
                Some(Duplicate {
                    vni,
                    mac,
                    location: h.at.unwrap_or(Location::Local),
                    moves: h.total_moves,
                    since: h.frozen?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_moves_in_the_window_freeze() {
        let mut m = Mobility::new(true, 5, Duration::from_secs(180));
        let mac = Mac([2, 0, 0, 0, 0, 1]);
        let t0 = Instant::now();
        let a = Location::Remote("192.0.2.2".parse().unwrap());
        assert!(!m.located(100, mac, Location::Local, t0));
        // Re-learning in the same place is not a move.
        assert!(!m.located(100, mac, Location::Local, t0));
        for i in 0..4 {
            let at = if i % 2 == 0 { a } else { Location::Local };
            assert!(!m.located(100, mac, at, t0 + Duration::from_secs(i)));
        }
        assert_eq!(m.moves(100, mac), 4);
        assert!(m.located(100, mac, a, t0 + Duration::from_secs(10)));
        assert!(m.is_frozen(100, mac));
        assert_eq!(m.duplicates().len(), 1);
        assert!(!m.is_frozen(200, mac));
    }

    #[test]
    fn slow_moves_do_not_freeze() {
        let mut m = Mobility::new(true, 3, Duration::from_secs(10));
        let mac = Mac([2, 0, 0, 0, 0, 2]);
        let t0 = Instant::now();
        let r = Location::Remote("192.0.2.3".parse().unwrap());
        m.located(1, mac, Location::Local, t0);
        for i in 1..10u64 {
            let at = if i % 2 == 1 { r } else { Location::Local };
            assert!(!m.located(1, mac, at, t0 + Duration::from_secs(i * 6)));
        }
        assert!(!m.is_frozen(1, mac));
        // Detection off: never frozen.
        let mut off = Mobility::new(false, 2, Duration::from_secs(10));
        off.located(1, mac, Location::Local, t0);
        for i in 1..10u64 {
            let at = if i % 2 == 1 { r } else { Location::Local };
            off.located(1, mac, at, t0);
        }
        assert!(!off.is_frozen(1, mac));
    }
}

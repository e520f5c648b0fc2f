//! MAC mobility (RFC 7432 §15): where each MAC of each VNI is, the moves
//! between VTEPs, and duplicate-MAC detection (§15.1: a MAC that moves
//! `max_moves` times within `window` is frozen, as FRR's
//! `dup-addr-detection max-moves 5 time 180` does). A frozen MAC thaws
//! after `freeze_time` when one is set (FRR's `freeze N`; otherwise it
//! stays frozen, FRR's `freeze permanent`) or when an operator clears it
//! (`clear evpn dup-addr`); it then starts with a clean history.
//!
//! Owns the per-MAC move history. Never chooses the winning route (the RIB
//! does, by sequence number) and never reads a clock (callers pass `now`).

use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use tracing::{info, warn};

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
    /// `None`: frozen until cleared by hand.
    freeze_time: Option<Duration>,
    macs: BTreeMap<(u32, Mac), History>,
}

impl Mobility {
    pub fn new(
        detection: bool,
        max_moves: u32,
        window: Duration,
        freeze_time: Option<Duration>,
    ) -> Self {
        Self {
            detection,
            max_moves: max_moves.max(1),
            window,
            freeze_time,
            macs: BTreeMap::new(),
        }
    }

    /// A reload: new detection settings; histories are kept.
    pub fn set_params(
        &mut self,
        detection: bool,
        max_moves: u32,
        window: Duration,
        freeze_time: Option<Duration>,
    ) {
        self.detection = detection;
        self.max_moves = max_moves.max(1);
        self.window = window;
        self.freeze_time = freeze_time;
    }

    /// Unfreezes the MACs frozen for `freeze_time` by `now`; returns how
    /// many.
    pub fn thaw(&mut self, now: Instant) -> usize {
        let Some(t) = self.freeze_time else { return 0 };
        let due: Vec<(u32, Mac)> = self
            .macs
            .iter()
            .filter(|(_, h)| {
                h.frozen
                    .is_some_and(|f| now.saturating_duration_since(f) >= t)
            })
            .map(|(k, _)| *k)
            .collect();
        for (vni, mac) in &due {
            info!(vni, %mac, freeze_secs = t.as_secs(), "duplicate MAC thawed");
            self.reset(*vni, *mac);
        }
        due.len()
    }

    /// `clear evpn dup-addr`: unfreezes the duplicates of `vni` (0: every
    /// VNI), only `mac` when given; returns how many.
    pub fn clear(&mut self, vni: u32, mac: Option<Mac>) -> usize {
        let hit: Vec<(u32, Mac)> = self
            .macs
            .iter()
            .filter(|((v, m), h)| {
                h.frozen.is_some() && (vni == 0 || *v == vni) && mac.is_none_or(|x| x == *m)
            })
            .map(|(k, _)| *k)
            .collect();
        for (v, m) in &hit {
            info!(vni = v, mac = %m, "duplicate MAC cleared by the operator");
            self.reset(*v, *m);
        }
        hit.len()
    }

    /// A clean history: no moves, not frozen, still where it is.
    fn reset(&mut self, vni: u32, mac: Mac) {
        if let Some(h) = self.macs.get_mut(&(vni, mac)) {
            h.frozen = None;
            h.moves.clear();
            h.total_moves = 0;
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
        let mut m = Mobility::new(true, 5, Duration::from_secs(180), None);
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
        let mut m = Mobility::new(true, 3, Duration::from_secs(10), None);
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
        let mut off = Mobility::new(false, 2, Duration::from_secs(10), None);
        off.located(1, mac, Location::Local, t0);
        for i in 1..10u64 {
            let at = if i % 2 == 1 { r } else { Location::Local };
            off.located(1, mac, at, t0);
        }
        assert!(!off.is_frozen(1, mac));
    }

    #[test]
    fn frozen_macs_thaw_after_the_freeze_time_or_when_cleared() {
        let a = Location::Remote("192.0.2.2".parse().unwrap());
        let t0 = Instant::now();
        let freeze = |m: &mut Mobility, vni, mac| {
            for i in 0..3u64 {
                let at = if i % 2 == 0 { a } else { Location::Local };
                m.located(vni, mac, at, t0 + Duration::from_secs(i));
            }
        };
        let (x, y) = (Mac([2, 0, 0, 0, 0, 3]), Mac([2, 0, 0, 0, 0, 4]));
        let mut m = Mobility::new(
            true,
            2,
            Duration::from_secs(60),
            Some(Duration::from_secs(30)),
        );
        m.located(1, x, Location::Local, t0);
        freeze(&mut m, 1, x);
        assert!(m.is_frozen(1, x));
        assert_eq!(m.thaw(t0 + Duration::from_secs(20)), 0);
        assert_eq!(m.thaw(t0 + Duration::from_secs(40)), 1);
        assert!(!m.is_frozen(1, x));
        assert_eq!(m.moves(1, x), 0, "a clean history");
        // Permanent freeze: only the operator clears it, per VNI and MAC.
        let mut p = Mobility::new(true, 2, Duration::from_secs(60), None);
        for (vni, mac) in [(1, x), (1, y), (2, x)] {
            p.located(vni, mac, Location::Local, t0);
            freeze(&mut p, vni, mac);
        }
        assert_eq!(p.thaw(t0 + Duration::from_secs(86_400)), 0);
        assert_eq!(p.clear(1, Some(y)), 1);
        assert!(p.is_frozen(1, x) && !p.is_frozen(1, y));
        assert_eq!(p.clear(0, None), 2);
        assert!(p.duplicates().is_empty());
    }
}

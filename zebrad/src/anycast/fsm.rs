//! The health state machine of one service, and its flap damping.
//!
//! Owns: turning a sequence of check rounds (each passing or failing) into a
//! confirmed health (`Up`/`Down`) with rise/fall counting, telling whether a
//! change is pending (so the caller re-checks at the fast interval), and
//! flap damping (a penalty per flap that decays exponentially with a
//! half-life; suppressed above a threshold, reused below another, as BGP
//! route flap damping in RFC 2439 does).
//!
//! Never: runs checks, reads the clock or touches the RIB: `now` is passed
//! in, and every decision is returned to the caller. Plain synchronous code.

use std::time::{Duration, Instant};

/// Confirmed health of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Started, nothing confirmed yet (treated as down).
    Init,
    Up,
    Down,
}

impl Health {
    pub fn name(self) -> &'static str {
        match self {
            Health::Init => "init",
            Health::Up => "up",
            Health::Down => "down",
        }
    }
}

/// Rise/fall thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Consecutive passing rounds that make a service up.
    pub rise: u32,
    /// Consecutive failing rounds that make it down.
    pub fall: u32,
}

/// Flap damping parameters (RFC 2439's names).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DampingParams {
    /// Penalty added at each flap (a fall from up to down).
    pub penalty: f64,
    /// Suppressed when the penalty goes above this.
    pub suppress: f64,
    /// Reused when the decayed penalty goes below this.
    pub reuse: f64,
    /// The penalty halves every `half_life`.
    pub half_life: Duration,
    /// The penalty never exceeds the value that decays to `reuse` in this
    /// time, so no service is held down longer.
    pub max_hold: Duration,
}

impl Default for DampingParams {
    fn default() -> Self {
        DampingParams {
            penalty: 1000.0,
            suppress: 2000.0,
            reuse: 750.0,
            half_life: Duration::from_secs(60),
            max_hold: Duration::from_secs(240),
        }
    }
}

/// A state change, with the reason for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    pub from: Health,
    pub to: Health,
    pub reason: String,
}

/// Flap damping state.
#[derive(Debug, Clone)]
pub struct Damping {
    params: DampingParams,
    penalty: f64,
    at: Instant,
    suppressed: bool,
}

impl Damping {
    pub fn new(params: DampingParams, now: Instant) -> Damping {
        Damping {
            params,
            penalty: 0.0,
            at: now,
            suppressed: false,
        }
    }

    fn ceiling(&self) -> f64 {
        let hl = self.params.half_life.as_secs_f64().max(0.001);
        self.params.reuse * 2f64.powf(self.params.max_hold.as_secs_f64() / hl)
    }

    /// The penalty decayed to `now`.
    pub fn penalty(&self, now: Instant) -> f64 {
        let dt = now.saturating_duration_since(self.at).as_secs_f64();
        let hl = self.params.half_life.as_secs_f64().max(0.001);
        self.penalty * 0.5f64.powf(dt / hl)
    }

    /// A flap: the penalty grows; suppressed above the threshold.
    pub fn flap(&mut self, now: Instant) {
        self.penalty = (self.penalty(now) + self.params.penalty).min(self.ceiling());
        self.at = now;
        if self.penalty > self.params.suppress {
            self.suppressed = true;
        }
    }

    /// Whether the service is held down at `now`; updates the suppression
    /// (reuse below the reuse threshold). Returns (suppressed, changed).
    pub fn update(&mut self, now: Instant) -> (bool, bool) {
        let was = self.suppressed;
        if self.suppressed && self.penalty(now) < self.params.reuse {
            self.suppressed = false;
        }
        (self.suppressed, was != self.suppressed)
    }

    pub fn suppressed(&self) -> bool {
        self.suppressed
    }

    /// How long until reuse, if suppressed.
    pub fn remaining(&self, now: Instant) -> Option<Duration> {
        if !self.suppressed {
            return None;
        }
        let p = self.penalty(now);
        if p <= self.params.reuse {
            return Some(Duration::ZERO);
        }
        let hl = self.params.half_life.as_secs_f64();
        Some(Duration::from_secs_f64(hl * (p / self.params.reuse).log2()))
    }
}

/// The health state machine of one service.
#[derive(Debug, Clone)]
pub struct Fsm {
    th: Thresholds,
    health: Health,
    since: Instant,
    /// Consecutive rounds that disagree with `health` (toward a change).
    streak: u32,
    /// Which way the streak goes (true: passing).
    streak_ok: bool,
    flaps: u32,
    reason: String,
    damping: Option<Damping>,
}

impl Fsm {
    pub fn new(th: Thresholds, damping: Option<DampingParams>, now: Instant) -> Fsm {
        Fsm {
            th: Thresholds {
                rise: th.rise.max(1),
                fall: th.fall.max(1),
            },
            health: Health::Init,
            since: now,
            streak: 0,
            streak_ok: false,
            flaps: 0,
            reason: "started".into(),
            damping: damping.map(|p| Damping::new(p, now)),
        }
    }

    pub fn health(&self) -> Health {
        self.health
    }
    pub fn since(&self) -> Instant {
        self.since
    }
    pub fn reason(&self) -> &str {
        &self.reason
    }
    pub fn flaps(&self) -> u32 {
        self.flaps
    }
    pub fn streak(&self) -> u32 {
        self.streak
    }
    pub fn damping(&self) -> Option<&Damping> {
        self.damping.as_ref()
    }

    /// Whether a change is pending: the last rounds disagree with the
    /// confirmed health (or nothing is confirmed yet). The caller checks at
    /// the fast interval then.
    pub fn pending(&self) -> bool {
        self.health == Health::Init || self.streak > 0
    }

    /// A name for operators: up, down, init, or pending-up/pending-down.
    pub fn state_name(&self) -> &'static str {
        match (self.health, self.streak > 0) {
            (Health::Init, _) => "init",
            (Health::Up, false) => "up",
            (Health::Up, true) => "pending-down",
            (Health::Down, false) => "down",
            (Health::Down, true) => "pending-up",
        }
    }

    /// One check round's result. Returns the transition, if any.
    pub fn step(&mut self, ok: bool, detail: &str, now: Instant) -> Option<Transition> {
        let agrees = match self.health {
            Health::Up => ok,
            Health::Down => !ok,
            Health::Init => false,
        };
        if agrees {
            self.streak = 0;
            return None;
        }
        if self.streak == 0 || self.streak_ok != ok {
            self.streak = 0;
            self.streak_ok = ok;
        }
        self.streak += 1;
        let need = if ok { self.th.rise } else { self.th.fall };
        if self.streak < need {
            return None;
        }
        let from = self.health;
        let to = if ok { Health::Up } else { Health::Down };
        let reason = if ok {
            format!("{} consecutive checks passed ({detail})", self.streak)
        } else {
            format!("{} consecutive checks failed ({detail})", self.streak)
        };
        self.health = to;
        self.since = now;
        self.streak = 0;
        self.reason = reason.clone();
        if from == Health::Up && to == Health::Down {
            self.flaps += 1;
            if let Some(d) = &mut self.damping {
                d.flap(now);
            }
        }
        Some(Transition { from, to, reason })
    }

    /// Whether the service may be advertised as healthy at `now`: up and
    /// not held down by damping. The bool says whether the suppression
    /// changed (the caller logs and re-evaluates).
    pub fn healthy(&mut self, now: Instant) -> (bool, bool) {
        let (suppressed, changed) = match &mut self.damping {
            Some(d) => d.update(now),
            None => (false, false),
        };
        (self.health == Health::Up && !suppressed, changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fsm(rise: u32, fall: u32) -> (Fsm, Instant) {
        let t = Instant::now();
        (Fsm::new(Thresholds { rise, fall }, None, t), t)
    }

    #[test]
    fn rises_after_rise_passes_and_falls_after_fall_failures() {
        let (mut f, t) = fsm(2, 3);
        assert_eq!(f.state_name(), "init");
        assert!(f.pending());
        assert_eq!(f.step(true, "ok", t), None);
        let tr = f.step(true, "ok", t + Duration::from_secs(1)).unwrap();
        assert_eq!((tr.from, tr.to), (Health::Init, Health::Up));
        assert!(tr.reason.contains("2 consecutive checks passed"));
        assert_eq!(f.since(), t + Duration::from_secs(1));
        assert!(!f.pending());
        assert_eq!(f.step(false, "refused", t), None);
        assert_eq!(f.state_name(), "pending-down");
        assert!(f.pending());
        // A pass in between resets the count.
        assert_eq!(f.step(true, "ok", t), None);
        assert!(!f.pending());
        assert_eq!(f.step(false, "x", t), None);
        assert_eq!(f.step(false, "x", t), None);
        let tr = f.step(false, "refused", t).unwrap();
        assert_eq!((tr.from, tr.to), (Health::Up, Health::Down));
        assert!(tr.reason.contains("refused"));
        assert_eq!(f.flaps(), 1);
        assert_eq!(f.state_name(), "down");
    }

    #[test]
    fn init_goes_down_after_fall_failures() {
        let (mut f, t) = fsm(2, 2);
        assert_eq!(f.step(false, "x", t), None);
        let tr = f.step(false, "x", t).unwrap();
        assert_eq!((tr.from, tr.to), (Health::Init, Health::Down));
        assert_eq!(f.flaps(), 0, "init to down is no flap");
        assert_eq!(f.step(true, "ok", t), None);
        assert_eq!(f.state_name(), "pending-up");
        // Direction change restarts the streak.
        assert_eq!(f.step(false, "x", t), None);
        assert_eq!(f.step(true, "ok", t), None);
        assert!(f.step(true, "ok", t).is_some());
    }

    #[test]
    fn rise_one_is_immediate() {
        let (mut f, t) = fsm(1, 1);
        assert_eq!(f.step(true, "ok", t).map(|x| x.to), Some(Health::Up));
        assert_eq!(f.step(false, "x", t).map(|x| x.to), Some(Health::Down));
    }

    #[test]
    fn damping_suppresses_and_reuses() {
        let t = Instant::now();
        let p = DampingParams {
            penalty: 1000.0,
            suppress: 1500.0,
            reuse: 500.0,
            half_life: Duration::from_secs(10),
            max_hold: Duration::from_secs(60),
        };
        let mut f = Fsm::new(Thresholds { rise: 1, fall: 1 }, Some(p), t);
        f.step(true, "ok", t);
        assert_eq!(f.healthy(t), (true, false));
        f.step(false, "x", t); // flap 1: 1000
        f.step(true, "ok", t);
        assert_eq!(f.healthy(t), (true, false));
        f.step(false, "x", t); // flap 2: 2000 > 1500
        f.step(true, "ok", t);
        assert_eq!(f.health(), Health::Up);
        assert_eq!(f.healthy(t), (false, false), "held down since the flap");
        assert!(f.damping().unwrap().suppressed());
        let d = f.damping().unwrap();
        assert!((d.penalty(t) - 2000.0).abs() < 1e-6);
        // 2000 -> 500 takes two half-lives.
        let rem = d.remaining(t).unwrap();
        assert!((rem.as_secs_f64() - 20.0).abs() < 0.01, "{rem:?}");
        let t1 = t + Duration::from_secs(10);
        assert_eq!(f.healthy(t1), (false, false));
        assert!((f.damping().unwrap().penalty(t1) - 1000.0).abs() < 1e-6);
        let t2 = t + Duration::from_secs(21);
        assert_eq!(f.healthy(t2), (true, true), "reused");
        assert_eq!(f.damping().unwrap().remaining(t2), None);
    }

    #[test]
    fn damping_penalty_is_capped_by_max_hold() {
        let t = Instant::now();
        let p = DampingParams {
            penalty: 1000.0,
            suppress: 1500.0,
            reuse: 500.0,
            half_life: Duration::from_secs(10),
            max_hold: Duration::from_secs(30),
        };
        let mut d = Damping::new(p, t);
        for _ in 0..20 {
            d.flap(t);
        }
        // Ceiling: 500 * 2^3 = 4000.
        assert!((d.penalty(t) - 4000.0).abs() < 1e-6);
        assert!(d.remaining(t).unwrap() <= Duration::from_secs(30));
    }
}

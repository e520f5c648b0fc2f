//! Bounded waiting: every wait in a topology test has a deadline, and a
//! timeout names what was awaited.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often a condition is polled.
pub const POLL: Duration = Duration::from_millis(100);

/// Poll `cond` until it holds; `Err` naming `what` after `timeout`.
pub fn try_wait_until(
    timeout: Duration,
    what: &str,
    mut cond: impl FnMut() -> bool,
) -> Result<(), String> {
    let start = Instant::now();
    loop {
        if cond() {
            return Ok(());
        }
        if start.elapsed() >= timeout {
            return Err(format!("timed out after {timeout:?} waiting for: {what}"));
        }
        std::thread::sleep(POLL.min(timeout.saturating_sub(start.elapsed())));
    }
}

/// Poll `cond` until it holds; panics naming `what` after `timeout`.
pub fn wait_until(timeout: Duration, what: &str, cond: impl FnMut() -> bool) {
    if let Err(e) = try_wait_until(timeout, what, cond) {
        panic!("{e}");
    }
}

/// Poll `f` until it returns `Some`, and return that; panics naming `what`
/// after `timeout`.
pub fn wait_for<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let mut found = None;
    wait_until(timeout, what, || {
        found = f();
        found.is_some()
    });
    match found {
        Some(v) => v,
        None => panic!("{what}: condition held but produced no value"),
    }
}

/// A condition polled every 50 ms in a thread while a test disturbs the
/// network (a daemon killed and restarted): counts the polls where it did
/// not hold, so a test can assert that something never disappeared.
pub struct Checker {
    stop: Arc<AtomicBool>,
    missing: Arc<AtomicU64>,
    polls: Arc<AtomicU64>,
    thread: Option<JoinHandle<()>>,
}

impl Checker {
    /// Starts polling `holds`.
    pub fn start(holds: impl Fn() -> bool + Send + 'static) -> Checker {
        let stop = Arc::new(AtomicBool::new(false));
        let missing = Arc::new(AtomicU64::new(0));
        let polls = Arc::new(AtomicU64::new(0));
        let (s, m, c) = (stop.clone(), missing.clone(), polls.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                if !holds() {
                    m.fetch_add(1, Ordering::Relaxed);
                }
                c.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Checker {
            stop,
            missing,
            polls,
            thread: Some(thread),
        }
    }

    /// Stops polling; returns (polls where it did not hold, polls).
    pub fn finish(mut self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        (
            self.missing.load(Ordering::Relaxed),
            self.polls.load(Ordering::Relaxed),
        )
    }
}

impl Drop for Checker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded() {
        let mut n = 0;
        wait_until(Duration::from_secs(5), "three polls", || {
            n += 1;
            n >= 3
        });
        let e = try_wait_until(Duration::from_millis(50), "never", || false).unwrap_err();
        assert!(e.contains("never"));
        assert_eq!(wait_for(Duration::from_secs(1), "value", || Some(7)), 7);
    }
}

//! Bounded waiting: every wait in a topology test has a deadline, and a
//! timeout names what was awaited.

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

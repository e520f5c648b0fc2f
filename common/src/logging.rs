//! Logging shared by the daemons: `tracing` to stderr (so systemd's journal
//! picks it up), ANSI colours only on a terminal, the level from the
//! daemon's environment variable, else its config, else `info`.
//!
//! Two things operators reach through vtysh: the level can be changed while
//! the daemon runs ([`set_level`], from an applied configuration's
//! `[log] level`), and the most recent lines are kept in a bounded ring
//! ([`RING_LINES`]) that `show logging` reads ([`snapshot`]).

use std::collections::VecDeque;
use std::sync::{Mutex, OnceLock};

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, EnvFilter, Registry};

/// How many recent log lines a daemon keeps for `show logging`.
pub const RING_LINES: usize = 1000;

struct State {
    filter: reload::Handle<EnvFilter, Registry>,
    level: Mutex<String>,
}

static STATE: OnceLock<State> = OnceLock::new();
static RING: Mutex<VecDeque<String>> = Mutex::new(VecDeque::new());

/// Installs the subscriber. `env_var` (e.g. `ZEBRAD_LOG`) wins over
/// `configured`; both take `tracing` filter syntax ("debug", "bgpd=trace").
pub fn init(env_var: &str, configured: Option<&str>) {
    let mut level = std::env::var(env_var)
        .ok()
        .or_else(|| configured.map(str::to_string))
        .unwrap_or_else(|| "info".into());
    let filter = EnvFilter::try_new(&level).unwrap_or_else(|_| {
        level = "info".into();
        EnvFilter::new("info")
    });
    let (filter, handle) = reload::Layer::new(filter);
    let stderr = tracing_subscriber::fmt::layer()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let ring = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(|| RingWriter(Vec::new()));
    if tracing_subscriber::registry()
        .with(filter)
        .with(stderr)
        .with(ring)
        .try_init()
        .is_ok()
    {
        let _ = STATE.set(State {
            filter: handle,
            level: Mutex::new(level),
        });
    }
}

/// The filter in effect ("info", "bgpd=debug").
pub fn level() -> String {
    STATE
        .get()
        .and_then(|s| s.level.lock().ok().map(|l| l.clone()))
        .unwrap_or_default()
}

/// Changes the filter while running.
pub fn set_level(level: &str) -> Result<(), String> {
    let state = STATE
        .get()
        .ok_or_else(|| "logging is not initialised".to_string())?;
    let filter = EnvFilter::try_new(level).map_err(|e| e.to_string())?;
    state.filter.reload(filter).map_err(|e| e.to_string())?;
    if let Ok(mut l) = state.level.lock() {
        *l = level.to_string();
    }
    tracing::info!(level, "log level changed");
    Ok(())
}

/// The level, destination and the `n` most recent lines (all kept if 0).
pub fn snapshot(n: usize) -> proto::config::LoggingReply {
    let lines = RING
        .lock()
        .map(|r| {
            let skip = if n == 0 { 0 } else { r.len().saturating_sub(n) };
            r.iter().skip(skip).cloned().collect()
        })
        .unwrap_or_default();
    proto::config::LoggingReply {
        level: level(),
        destination: "stderr".into(),
        lines,
        capacity: RING_LINES as u32,
    }
}

fn push_lines(text: &str) {
    if let Ok(mut r) = RING.lock() {
        for l in text.lines().filter(|l| !l.is_empty()) {
            if r.len() == RING_LINES {
                r.pop_front();
            }
            r.push_back(l.to_string());
        }
    }
}

/// Collects one event's formatted text; the lines go into the ring when
/// the event is complete (the writer is dropped).
struct RingWriter(Vec<u8>);

impl std::io::Write for RingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for RingWriter {
    fn drop(&mut self) {
        push_lines(&String::from_utf8_lossy(&self.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_keeps_the_most_recent_lines_and_level_changes() {
        init("COMMON_TEST_LOG_UNSET", Some("info"));
        for i in 0..(RING_LINES + 5) {
            tracing::info!(n = i, "line");
        }
        tracing::debug!("hidden");
        let s = snapshot(0);
        assert_eq!(s.lines.len(), RING_LINES);
        assert!(
            s.lines.last().unwrap().contains("n=1004"),
            "{:?}",
            s.lines.last()
        );
        assert!(!s.lines.iter().any(|l| l.contains("hidden")));
        assert_eq!(snapshot(3).lines.len(), 3);
        assert_eq!(level(), "info");
        set_level("debug").unwrap();
        tracing::debug!("shown");
        assert!(snapshot(2).lines.iter().any(|l| l.contains("shown")));
        assert_eq!(snapshot(0).level, "debug");
        assert!(set_level("no=such=filter=").is_err());
    }
}

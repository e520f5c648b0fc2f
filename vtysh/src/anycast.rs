//! zebrad's anycast services in the shell: `show anycast services` (one line
//! each: state, since when, checks passing/failing, flaps, hold-down) and
//! `show anycast service NAME` (every check's last result and latency).
//! Pure rendering from the `ShowServices` reply.

use std::fmt::Write;

use proto::zebra as pb;
use serde_json::{json, Value};

use crate::render::age;

fn prefixes(s: &pb::ServiceStatus) -> String {
    s.prefixes
        .iter()
        .filter_map(|p| proto::ifaddr_from_wire(p).ok())
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `show anycast services`.
pub fn summary(r: &pb::ShowServicesReply) -> String {
    if r.services.is_empty() {
        return "No anycast services configured.\n".into();
    }
    let mut o = format!(
        "{:<16} {:<13} {:>10} {:>7} {:>5} {:>9} {:<10} Prefixes\n",
        "Service", "State", "Since", "Checks", "Flaps", "Hold-down", "Advertised"
    );
    for s in &r.services {
        let passing = s.checks.iter().filter(|c| c.passing).count();
        let hold = if s.suppressed {
            format!("{}s", s.hold_remaining_secs)
        } else {
            "-".into()
        };
        let adv = match (s.advertised, s.depreferred) {
            (true, true) => "depref",
            (true, false) => "yes",
            _ => "no",
        };
        let _ = writeln!(
            o,
            "{:<16} {:<13} {:>10} {:>7} {:>5} {:>9} {:<10} {}",
            s.name,
            s.state,
            age(s.since_secs),
            format!("{passing}/{}", s.checks.len()),
            s.flaps,
            hold,
            adv,
            prefixes(s)
        );
    }
    o
}

/// `show anycast service NAME`.
pub fn detail(r: &pb::ShowServicesReply) -> String {
    let mut o = String::new();
    for s in &r.services {
        let _ = writeln!(
            o,
            "Service {} is {}, for {}",
            s.name,
            s.state,
            age(s.since_secs)
        );
        if !s.reason.is_empty() {
            let _ = writeln!(o, "  Last change: {}", s.reason);
        }
        let _ = writeln!(
            o,
            "  Prefixes: {}{}",
            prefixes(s),
            if s.interface.is_empty() {
                String::new()
            } else {
                format!(
                    " on {} (address {})",
                    s.interface,
                    if s.address_present {
                        "present"
                    } else {
                        "absent"
                    }
                )
            }
        );
        let _ = writeln!(
            o,
            "  Advertised: {}{}, metric {}",
            if s.advertised { "yes" } else { "no" },
            if s.depreferred { " (depreferred)" } else { "" },
            s.metric
        );
        let _ = writeln!(
            o,
            "  Rise {} / fall {}, streak {}, checks combined with `{}`",
            s.rise, s.fall, s.streak, s.combine
        );
        let _ = writeln!(
            o,
            "  Flaps {}, damping penalty {}{}",
            s.flaps,
            s.penalty,
            if s.suppressed {
                format!(", held down for {}s more", s.hold_remaining_secs)
            } else {
                String::new()
            }
        );
        let _ = writeln!(o, "  Checks:");
        for c in &s.checks {
            let _ = writeln!(
                o,
                "    {:<8} {:<30} {:<5} {:>8.1} ms  {}s ago  passed {} failed {}  {}",
                c.kind,
                c.target,
                if c.passing { "pass" } else { "FAIL" },
                c.latency_us as f64 / 1000.0,
                c.checked_ms_ago / 1000,
                c.passes,
                c.failures,
                c.detail
            );
        }
        o.push('\n');
    }
    o
}

pub fn json(r: &pb::ShowServicesReply) -> Value {
    Value::Array(
        r.services
            .iter()
            .map(|s| {
                json!({
                    "name": s.name,
                    "state": s.state,
                    "sinceSecs": s.since_secs,
                    "reason": s.reason,
                    "prefixes": s.prefixes.iter().filter_map(|p| proto::ifaddr_from_wire(p).ok()).map(|p| p.to_string()).collect::<Vec<_>>(),
                    "interface": s.interface,
                    "advertised": s.advertised,
                    "depreferred": s.depreferred,
                    "metric": s.metric,
                    "addressPresent": s.address_present,
                    "combine": s.combine,
                    "streak": s.streak,
                    "rise": s.rise,
                    "fall": s.fall,
                    "flaps": s.flaps,
                    "penalty": s.penalty,
                    "suppressed": s.suppressed,
                    "holdRemainingSecs": s.hold_remaining_secs,
                    "checks": s.checks.iter().map(|c| json!({
                        "kind": c.kind, "target": c.target, "passing": c.passing, "detail": c.detail,
                        "latencyUs": c.latency_us, "checkedMsAgo": c.checked_ms_ago,
                        "passes": c.passes, "failures": c.failures,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_state_and_checks() {
        let r = pb::ShowServicesReply {
            services: vec![pb::ServiceStatus {
                name: "dns".into(),
                state: "up".into(),
                since_secs: 65,
                prefixes: vec![proto::prefix_to_wire("203.0.113.10/32".parse().unwrap())],
                interface: "lo".into(),
                advertised: true,
                address_present: true,
                checks: vec![pb::CheckStatus {
                    kind: "dns".into(),
                    target: "127.0.0.1:53".into(),
                    passing: true,
                    latency_us: 1500,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let t = summary(&r);
        assert!(
            t.contains("dns")
                && t.contains("00:01:05")
                && t.contains("1/1")
                && t.contains("203.0.113.10/32"),
            "{t}"
        );
        let d = detail(&r);
        assert!(
            d.contains("Service dns is up") && d.contains("1.5 ms"),
            "{d}"
        );
        assert_eq!(json(&r)[0]["prefixes"][0], "203.0.113.10/32");
    }
}

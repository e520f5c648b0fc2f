//! zebrad's anycast services in the shell: `show anycast services` (one line
//! each: effective state, health, since when, checks passing/failing,
//! flaps, hold-down, drain and last-site), `show anycast service NAME`
//! (every check's last result, the recent probe history with latency,
//! drain, load-balancer reports), and `anycast drain NAME` /
//! `anycast undrain NAME` (zebrad's `LoadBalancer` service). Parsing and
//! rendering are pure; [`drain`] is the one call to zebrad.

use std::fmt::Write;

use proto::zebra as pb;
use serde_json::{json, Value};

use crate::render::age;

/// `anycast drain NAME` / `anycast undrain NAME` after the first word.
pub fn parse(rest: &[&str]) -> Result<crate::command::Command, String> {
    let usage = "% Incomplete command: anycast drain|undrain NAME";
    let (verb, name) = match rest {
        [v, n] => (*v, *n),
        [v] if ["drain", "undrain"]
            .iter()
            .any(|k| k.starts_with(&v.to_ascii_lowercase())) =>
        {
            return Err(usage.into())
        }
        _ => return Err(usage.into()),
    };
    let on = match verb.to_ascii_lowercase().as_str() {
        v if !v.is_empty() && "drain".starts_with(v) => true,
        v if v.len() > 1 && "undrain".starts_with(v) => false,
        _ => {
            return Err(format!(
                "% Unknown command: anycast {verb} (expected drain, undrain)"
            ))
        }
    };
    Ok(crate::command::Command::AnycastDrain {
        name: name.to_string(),
        on,
    })
}

/// Drains or undrains `name` through zebrad's `LoadBalancer` service;
/// returns the service's status after it.
pub async fn drain(
    ch: tonic::transport::Channel,
    name: &str,
    on: bool,
) -> Result<pb::ServiceStatus, String> {
    let mut c = pb::load_balancer_client::LoadBalancerClient::new(ch);
    let req = pb::DrainRequest {
        service: name.to_string(),
        reason: "vtysh".into(),
    };
    let r = if on {
        c.drain(req).await
    } else {
        c.undrain(req).await
    }
    .map_err(|e| format!("% {}", e.message()))?
    .into_inner();
    r.status
        .ok_or_else(|| "% zebrad answered without the service's status".to_string())
}

/// One line after a drain or undrain.
pub fn drained(s: &pb::ServiceStatus) -> String {
    match s.drain.as_str() {
        "graceful-shutdown" => format!(
            "Service {}: draining, advertised with GRACEFUL_SHUTDOWN for {:.1}s more, then withdrawn\n",
            s.name,
            s.drain_remaining_ms as f64 / 1000.0
        ),
        "withdrawn" => format!("Service {}: drained, withdrawn\n", s.name),
        _ => format!("Service {}: not drained, {}\n", s.name, effective(s)),
    }
}

fn effective(s: &pb::ServiceStatus) -> &str {
    if s.effective.is_empty() {
        &s.state
    } else {
        &s.effective
    }
}

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
        "{:<16} {:<17} {:<12} {:>10} {:>7} {:>5} {:>9} {:<10} Prefixes\n",
        "Service", "State", "Health", "Since", "Checks", "Flaps", "Hold-down", "Advertised"
    );
    for s in &r.services {
        let passing = s.checks.iter().filter(|c| c.passing).count();
        let hold = if s.suppressed {
            format!("{}s", s.hold_remaining_secs)
        } else {
            "-".into()
        };
        let adv = match (s.advertised, s.depreferred, s.drain.as_str()) {
            (true, _, "graceful-shutdown") => "gshut",
            (true, true, _) => "depref",
            (true, false, _) => "yes",
            _ => "no",
        };
        let _ = writeln!(
            o,
            "{:<16} {:<17} {:<12} {:>10} {:>7} {:>5} {:>9} {:<10} {}",
            s.name,
            effective(s),
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
            "Service {} is {} (health {}, for {})",
            s.name,
            effective(s),
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
        if !s.drain.is_empty() {
            let _ = writeln!(
                o,
                "  Drained by {}: {}{}",
                s.drain_source,
                s.drain,
                if s.drain == "graceful-shutdown" {
                    format!(
                        ", withdrawn in {:.1}s",
                        s.drain_remaining_ms as f64 / 1000.0
                    )
                } else {
                    String::new()
                }
            );
        }
        if s.last_site_protection {
            let _ = writeln!(
                o,
                "  Last-site protection: {}",
                if s.last_site {
                    "ACTIVE, no other site advertises the prefixes; kept advertised depreferred"
                } else {
                    "configured"
                }
            );
        }
        if !s.lb_state.is_empty() {
            let _ = writeln!(
                o,
                "  Load-balancer reports{}: {}{}{}",
                if s.lb_only {
                    " (alone decide)"
                } else {
                    " (with the checks)"
                },
                s.lb_state,
                if s.lb_reporter.is_empty() {
                    String::new()
                } else {
                    format!(" from {}", s.lb_reporter)
                },
                if s.lb_state == "healthy" || s.lb_state == "unhealthy" {
                    format!(", expires in {:.1}s", s.lb_ttl_remaining_ms as f64 / 1000.0)
                } else {
                    String::new()
                }
            );
        }
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
        if !s.history.is_empty() {
            let _ = writeln!(o, "  Recent probes (newest first):");
            for h in &s.history {
                let _ = writeln!(
                    o,
                    "    {:>7.1}s ago  {:<8} {:<30} {:<5} {:>8.1} ms  {}",
                    h.ms_ago as f64 / 1000.0,
                    h.kind,
                    h.target,
                    if h.passed { "pass" } else { "FAIL" },
                    h.latency_us as f64 / 1000.0,
                    h.detail
                );
            }
        }
        o.push('\n');
    }
    o
}

pub fn json(r: &pb::ShowServicesReply) -> Value {
    Value::Array(r.services.iter().map(service_json).collect())
}

pub fn service_json(s: &pb::ServiceStatus) -> Value {
    json!({
        "effective": effective(s),
        "drain": s.drain,
        "drainSource": s.drain_source,
        "drainRemainingMs": s.drain_remaining_ms,
        "lastSite": s.last_site,
        "lastSiteProtection": s.last_site_protection,
        "lbState": s.lb_state,
        "lbReporter": s.lb_reporter,
        "lbTtlRemainingMs": s.lb_ttl_remaining_ms,
        "lbOnly": s.lb_only,
        "history": s.history.iter().map(|h| json!({
            "kind": h.kind, "target": h.target, "passed": h.passed, "detail": h.detail,
            "latencyUs": h.latency_us, "msAgo": h.ms_ago,
        })).collect::<Vec<_>>(),
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

    #[test]
    fn renders_drain_last_site_and_history() {
        let s = pb::ServiceStatus {
            name: "web".into(),
            state: "down".into(),
            effective: "last-site".into(),
            advertised: true,
            depreferred: true,
            last_site: true,
            last_site_protection: true,
            lb_state: "expired".into(),
            lb_reporter: "haproxy1".into(),
            history: vec![pb::CheckRecord {
                kind: "http".into(),
                target: "127.0.0.1:80".into(),
                passed: false,
                detail: "status 503".into(),
                latency_us: 2500,
                ms_ago: 1200,
            }],
            ..Default::default()
        };
        let r = pb::ShowServicesReply {
            services: vec![s.clone()],
        };
        let t = summary(&r);
        assert!(t.contains("last-site") && t.contains("depref"), "{t}");
        let d = detail(&r);
        assert!(d.contains("Last-site protection: ACTIVE"), "{d}");
        assert!(d.contains("expired from haproxy1"), "{d}");
        assert!(
            d.contains("1.2s ago") && d.contains("status 503") && d.contains("2.5 ms"),
            "{d}"
        );
        assert_eq!(json(&r)[0]["history"][0]["passed"], false);
        assert_eq!(json(&r)[0]["effective"], "last-site");
        let mut g = s;
        g.drain = "graceful-shutdown".into();
        g.drain_remaining_ms = 2500;
        assert!(
            drained(&g).contains("GRACEFUL_SHUTDOWN for 2.5s"),
            "{}",
            drained(&g)
        );
    }

    #[test]
    fn parses_drain_and_undrain() {
        use crate::command::Command;
        assert_eq!(
            parse(&["drain", "web"]),
            Ok(Command::AnycastDrain {
                name: "web".into(),
                on: true
            })
        );
        assert_eq!(
            parse(&["undr", "web"]),
            Ok(Command::AnycastDrain {
                name: "web".into(),
                on: false
            })
        );
        assert!(parse(&["drain"]).is_err());
        assert!(parse(&["frobnicate", "web"]).is_err());
    }
}

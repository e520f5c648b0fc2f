//! Configure-mode words for zebrad's anycast services: `anycast service
//! NAME` enters the service (`[[service]]` of zebrad's TOML, every key of
//! conf/zebrad.toml), whose lines set its prefixes, interface, checks
//! (`[[service.check]]`), timers, attributes and damping. zebrad applies
//! the result by difference: an unchanged service keeps running, a changed
//! one restarts its checks, a removed one is withdrawn.
//!
//! Pure: a line becomes edits of zebrad's document; zebrad's loader
//! validates the result (a service without prefixes is refused there).

use super::{int, kw, need, no_more, prefix, Daemon, Mode, Op, Step, Target, Val};

/// The words of `anycast service` mode, for `?` and Tab.
pub const SERVICE_WORDS: &[(&str, &str)] = &[
    ("prefix", "prefix PREFIX: a prefix of the service (repeat for more)"),
    ("interface", "interface IFNAME: where zebrad adds the addresses"),
    ("check", "check tcp ADDR:PORT | http|https URL [status N] [body TEXT] [host NAME] | icmp ADDR | dns SERVER NAME [qtype T] [rcode R] | command CMD..."),
    ("combine", "combine all|any: how the checks make one result"),
    ("interval", "interval SECONDS between check rounds"),
    ("fast-interval", "fast-interval SECONDS while a change is pending"),
    ("timeout", "timeout SECONDS of each check"),
    ("rise", "rise N passing rounds to go up"),
    ("fall", "fall N failing rounds to go down"),
    ("down-action", "down-action withdraw|depref"),
    ("depref-metric", "depref-metric N while depreferred"),
    ("remove-delay", "remove-delay SECONDS between withdrawal and address removal"),
    ("metric", "metric N of the RIB route"),
    ("med", "med N: BGP MED"),
    ("community", "community ASN:VALUE..."),
    ("large-community", "large-community GLOBAL:DATA1:DATA2..."),
    ("prepend", "prepend N copies of the local AS"),
    ("depref-med", "depref-med N"),
    ("depref-community", "depref-community ASN:VALUE..."),
    ("depref-large-community", "depref-large-community GLOBAL:DATA1:DATA2..."),
    ("depref-prepend", "depref-prepend N"),
    ("last-site", "last-site protection"),
    ("drain-time", "drain-time SECONDS of GRACEFUL_SHUTDOWN before withdrawal"),
    ("maintenance-file", "maintenance-file PATH: drained while it exists"),
    ("lb-ttl", "lb-ttl SECONDS: use load-balancer reports"),
    ("lb-only", "the load-balancer reports alone decide"),
    ("damping", "damping [penalty N] [suppress N] [reuse N] [half-life S] [max-hold S]"),
    ("no", "remove a setting"),
    ("do", "run an exec command"),
    ("exit", "one level up"),
    ("end", "back to exec mode"),
];

fn target(name: &str) -> Target {
    Target::Entry {
        aot: "service",
        key: "name",
        id: Val::Str(name.to_string()),
    }
}

/// `anycast service NAME` (enters it) and `no anycast service NAME`.
pub fn service_line(neg: bool, w: &[&str]) -> Result<Step, String> {
    if kw(need(w, 1)?, &["service"]).is_none() {
        return Err(format!(
            "% Unknown command: {} (anycast service NAME)",
            w.join(" ")
        ));
    }
    let name = need(w, 2)?;
    no_more(w, 3)?;
    if name.chars().any(char::is_whitespace) || name.is_empty() {
        return Err(format!("% Malformed service name {name}"));
    }
    if neg {
        return Ok(Step::Edit(vec![(
            Daemon::Zebrad,
            Op::Remove {
                target: target(name),
                missing: "% No such anycast service",
            },
        )]));
    }
    Ok(Step::Enter(
        Mode::AnycastService(name.to_string()),
        Vec::new(),
    ))
}

/// Seconds as zebrad takes them: an integer or a fraction.
fn secs(s: &str) -> Result<Val, String> {
    if let Ok(i) = s.parse::<i64>() {
        return Ok(Val::Int(i));
    }
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() && f >= 0.0 => Ok(Val::Float(f)),
        _ => Err(format!("% Malformed number of seconds: {s}")),
    }
}

/// A line inside `anycast service NAME`.
pub fn line(neg: bool, w: &[&str], name: &str) -> Result<Step, String> {
    let words: Vec<&str> = SERVICE_WORDS.iter().map(|(w, _)| *w).collect();
    let word =
        kw(need(w, 0)?, &words).ok_or_else(|| format!("% Unknown command: {}", w.join(" ")))?;
    // Every setting but the first prefix needs the service to exist; the
    // first `prefix` creates it.
    let set = |key: &'static str, v: Option<Val>| Op::Set {
        target: target(name),
        create: false,
        missing: "% The service has no prefix yet: prefix PREFIX first",
        keys: vec![(key, v)],
    };
    let arg = |f: fn(&str) -> Result<Val, String>| -> Result<Option<Val>, String> {
        if neg {
            return Ok(None);
        }
        let v = f(need(w, 1)?)?;
        no_more(w, 2)?;
        Ok(Some(v))
    };
    let number = |s: &str| int(s, "number").map(Val::Int);
    let text = |s: &str| Ok(Val::Str(s.to_string()));
    let list = |vals: &[&str]| -> Result<Option<Val>, String> {
        if neg {
            return Ok(None);
        }
        if vals.is_empty() {
            return Err("% Command incomplete".into());
        }
        Ok(Some(Val::Arr(
            vals.iter().map(|v| Val::Str(v.to_string())).collect(),
        )))
    };
    let flag = |key: &'static str| set(key, (!neg).then_some(Val::Bool(true)));
    let op = match word {
        "prefix" => {
            let p = prefix(need(w, 1)?)?;
            no_more(w, 2)?;
            Op::List {
                target: target(name),
                key: "prefixes",
                val: Val::Str(p.to_string()),
                add: !neg,
                drop_empty: false,
            }
        }
        "interface" => set("interface", arg(text)?),
        "combine" => set(
            "combine",
            arg(|s| {
                kw(s, &["all", "any"])
                    .map(|k| Val::Str(k.into()))
                    .ok_or_else(|| format!("% combine all or any, not `{s}`"))
            })?,
        ),
        "interval" => set("interval", arg(secs)?),
        "fast-interval" => set("fast_interval", arg(secs)?),
        "timeout" => set("timeout", arg(secs)?),
        "rise" => set("rise", arg(number)?),
        "fall" => set("fall", arg(number)?),
        "down-action" => set(
            "down_action",
            arg(|s| {
                kw(s, &["withdraw", "depref"])
                    .map(|k| Val::Str(k.into()))
                    .ok_or_else(|| format!("% down-action withdraw or depref, not `{s}`"))
            })?,
        ),
        "depref-metric" => set("depref_metric", arg(number)?),
        "remove-delay" => set("remove_delay", arg(secs)?),
        "metric" => set("metric", arg(number)?),
        "med" => set("med", arg(number)?),
        "community" => set("communities", list(&w[1..])?),
        "large-community" => set("large_communities", list(&w[1..])?),
        "prepend" => set("prepend", arg(number)?),
        "depref-med" => set("depref_med", arg(number)?),
        "depref-community" => set("depref_communities", list(&w[1..])?),
        "depref-large-community" => set("depref_large_communities", list(&w[1..])?),
        "depref-prepend" => set("depref_prepend", arg(number)?),
        "last-site" => flag("last_site"),
        "drain-time" => set("drain_time", arg(secs)?),
        "maintenance-file" => set("maintenance_file", arg(text)?),
        "lb-ttl" => set("lb_ttl", arg(secs)?),
        "lb-only" => flag("lb_only"),
        "check" => check(neg, &w[1..], name)?,
        "damping" => {
            let mut keys = Vec::new();
            if neg {
                return Ok(Step::Edit(vec![(Daemon::Zebrad, set("damping", None))]));
            }
            let mut i = 1;
            while let Some(x) = w.get(i) {
                let key = match kw(
                    x,
                    &["penalty", "suppress", "reuse", "half-life", "max-hold"],
                ) {
                    Some("penalty") => "penalty",
                    Some("suppress") => "suppress",
                    Some("reuse") => "reuse",
                    Some("half-life") => "half_life",
                    Some(_) => "max_hold",
                    None => return Err(format!("% Unknown damping setting `{x}`")),
                };
                let v = need(w, i + 1)?;
                let v = if key == "half_life" || key == "max_hold" {
                    secs(v)?
                } else {
                    Val::Int(int(v, key)?)
                };
                keys.push((key, Some(v)));
                i += 2;
            }
            Op::Nested {
                target: target(name),
                missing: "% The service has no prefix yet: prefix PREFIX first",
                path: vec!["damping".into()],
                keys,
            }
        }
        _ => return Err(format!("% Unknown command: {}", w.join(" "))),
    };
    Ok(Step::Edit(vec![(Daemon::Zebrad, op)]))
}

/// `check TYPE ...`: one `[[service.check]]`; `no check TYPE [WHAT]`
/// removes the checks of that type (with that target, URL, server or
/// command).
fn check(neg: bool, w: &[&str], name: &str) -> Result<Op, String> {
    let kind = kw(
        need(w, 0)?,
        &["tcp", "http", "https", "icmp", "dns", "command"],
    )
    .ok_or_else(|| "% check tcp|http|https|icmp|dns|command ...".to_string())?;
    let what = match kind {
        "tcp" | "icmp" => "target",
        "http" | "https" => "url",
        "dns" => "server",
        _ => "command",
    };
    let mut fields = vec![("type", Val::Str(kind.into()))];
    let first = if kind == "command" {
        (w.len() > 1).then(|| w[1..].join(" "))
    } else {
        w.get(1).map(|s| s.to_string())
    };
    if neg {
        if let Some(f) = first {
            fields.push((what, Val::Str(f)));
        }
        return Ok(Op::Sub {
            target: target(name),
            aot: "check",
            fields,
            add: false,
        });
    }
    let first = first.ok_or_else(|| "% Command incomplete".to_string())?;
    fields.push((what, Val::Str(first)));
    if kind == "command" {
        return Ok(Op::Sub {
            target: target(name),
            aot: "check",
            fields,
            add: true,
        });
    }
    let mut i = 2;
    if kind == "dns" {
        fields.push(("name", Val::Str(need(w, 2)?.to_string())));
        i = 3;
    }
    while let Some(x) = w.get(i) {
        let options: &[&str] = match kind {
            "http" => &["status", "body", "host", "timeout"],
            "https" => &["status", "body", "host", "timeout", "ca-file", "insecure"],
            "dns" => &["qtype", "rcode", "timeout"],
            _ => &["timeout"],
        };
        let o = kw(x, options).ok_or_else(|| format!("% Unknown check option `{x}`"))?;
        if o == "insecure" {
            fields.push(("insecure", Val::Bool(true)));
            i += 1;
            continue;
        }
        let v = need(w, i + 1)?;
        fields.push(match o {
            "status" => ("status", Val::Int(int(v, "status")?)),
            "timeout" => ("timeout", secs(v)?),
            "ca-file" => ("ca_file", Val::Str(v.into())),
            "body" => ("body", Val::Str(v.into())),
            "host" => ("host", Val::Str(v.into())),
            "qtype" => ("qtype", Val::Str(v.to_ascii_uppercase())),
            _ => ("rcode", Val::Str(v.to_ascii_uppercase())),
        });
        i += 2;
    }
    Ok(Op::Sub {
        target: target(name),
        aot: "check",
        fields,
        add: true,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::run;
    use super::*;

    #[test]
    fn services_are_built_line_by_line() {
        let z = "# zebrad\n[rib]\necmp_max = 4\n";
        assert_eq!(
            super::super::parse(&Mode::Config, "anycast service dns").unwrap(),
            Step::Enter(Mode::AnycastService("dns".into()), vec![])
        );
        let m = Mode::AnycastService("dns".into());
        assert!(run(&m, z, "interval 1")
            .unwrap_err()
            .contains("prefix PREFIX first"));
        let mut t = z.to_string();
        for l in [
            "prefix 203.0.113.53/32",
            "prefix 2001:db8:53::53/128",
            "interface lo",
            "check dns 127.0.0.1:53 example.com qtype a",
            "check tcp 127.0.0.1:53",
            "check http http://127.0.0.1:8080/health status 200 body OK",
            "check command test ! -e /etc/maintenance",
            "interval 0.5",
            "rise 2",
            "fall 3",
            "down-action depref",
            "community 65000:100 65000:101",
            "last-site",
            "damping penalty 1000 half-life 60",
        ] {
            t = run(&m, &t, l).unwrap_or_else(|e| panic!("{l}: {e}"));
        }
        assert!(t.starts_with(z), "{t}");
        assert!(
            t.contains("[[service]]\nname = \"dns\"\nprefixes = [\"203.0.113.53/32\", \"2001:db8:53::53/128\"]"),
            "{t}"
        );
        for want in [
            "interface = \"lo\"",
            "interval = 0.5",
            "rise = 2",
            "fall = 3",
            "down_action = \"depref\"",
            "communities = [\"65000:100\", \"65000:101\"]",
            "last_site = true",
            "damping = { penalty = 1000, half_life = 60 }",
            "[[service.check]]\ntype = \"dns\"\nserver = \"127.0.0.1:53\"\nname = \"example.com\"\nqtype = \"A\"",
            "[[service.check]]\ntype = \"tcp\"\ntarget = \"127.0.0.1:53\"",
            "type = \"http\"\nurl = \"http://127.0.0.1:8080/health\"\nstatus = 200\nbody = \"OK\"",
            "command = \"test ! -e /etc/maintenance\"",
        ] {
            assert!(t.contains(want), "{want:?} missing in\n{t}");
        }
        // The same check twice is one check.
        let again = run(&m, &t, "check tcp 127.0.0.1:53").unwrap();
        assert_eq!(again.matches("type = \"tcp\"").count(), 1, "{again}");
        let t = run(&m, &t, "no check tcp").unwrap();
        assert!(!t.contains("type = \"tcp\""), "{t}");
        let t = run(&m, &t, "no check http http://127.0.0.1:8080/health").unwrap();
        assert!(!t.contains("type = \"http\""), "{t}");
        assert!(run(&m, &t, "no check icmp")
            .unwrap_err()
            .contains("No such check"));
        let t = run(&m, &t, "no last-site").unwrap();
        assert!(!t.contains("last_site"), "{t}");
        let t = run(&m, &t, "no damping").unwrap();
        assert!(!t.contains("damping"), "{t}");
        let t = run(&Mode::Config, &t, "no anycast service dns").unwrap();
        assert_eq!(t, z);
        assert!(run(&m, z, "interval soon").is_err());
        assert!(run(&m, z, "prefix 203.0.113.1/24").is_err());
    }
}

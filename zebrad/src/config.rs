//! zebrad's configuration file (TOML; every key is documented in
//! `conf/zebrad.toml`): the API listeners, RIB tunables, static routes and
//! policy-routing rules.
//!
//! Loading validates everything and reports the first problem with the file,
//! line and key, so `zebrad --check` tells an operator exactly what to fix.
//! This module only parses and validates; applying a config (and the
//! difference on reload) is the daemon's job.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnetwork::IpNetwork;
use serde::Deserialize;
use toml::Spanned;

use crate::rib::{NexthopIn, RouteIn, RouteKind, MAIN_TABLE};

/// A config problem, located.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {key}: {msg}")]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub key: String,
    pub msg: String,
}

/// The validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Unix socket path; None: `<run-dir>/zebrad.sock`.
    pub socket: Option<PathBuf>,
    /// TCP listen address, only when asked for.
    pub tcp: Option<String>,
    pub ecmp_max: usize,
    pub stale_time: u64,
    pub resolve_via_default: bool,
    pub log_level: Option<String>,
    pub statics: Vec<RouteIn>,
    pub rules: Vec<Rule>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            socket: None,
            tcp: None,
            ecmp_max: 16,
            stale_time: 120,
            resolve_via_default: false,
            log_level: None,
            statics: Vec::new(),
            rules: Vec::new(),
        }
    }
}

/// A policy-routing rule, as `ip rule` has them.
pub type Rule = crate::fib::FibRule;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    api: RawApi,
    #[serde(default)]
    rib: RawRib,
    #[serde(default)]
    log: RawLog,
    #[serde(default, rename = "static")]
    statics: Vec<Spanned<RawStatic>>,
    #[serde(default, rename = "rule")]
    rules: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawApi {
    socket: Option<String>,
    tcp: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRib {
    ecmp_max: Option<Spanned<i64>>,
    stale_time: Option<Spanned<i64>>,
    resolve_via_default: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLog {
    level: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatic {
    prefix: Spanned<String>,
    via: Option<Spanned<OneOrMany>>,
    interface: Option<Spanned<String>>,
    #[serde(default)]
    nexthop: Vec<Spanned<RawNexthop>>,
    kind: Option<Spanned<String>>,
    table: Option<Spanned<i64>>,
    distance: Option<Spanned<i64>>,
    metric: Option<Spanned<i64>>,
    tag: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNexthop {
    via: Option<Spanned<String>>,
    interface: Option<String>,
    weight: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    priority: Spanned<i64>,
    from: Option<Spanned<String>>,
    to: Option<Spanned<String>>,
    iif: Option<String>,
    oif: Option<String>,
    fwmark: Option<Spanned<i64>>,
    fwmask: Option<Spanned<i64>>,
    table: Spanned<i64>,
    family: Option<Spanned<String>>,
}

struct Locator<'a> {
    file: &'a str,
    text: &'a str,
}

impl Locator<'_> {
    fn line(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())]
            .bytes()
            .filter(|&b| b == b'\n')
            .count()
            + 1
    }
    fn err<T>(
        &self,
        span: std::ops::Range<usize>,
        key: &str,
        msg: impl Into<String>,
    ) -> Result<T, ConfigError> {
        Err(ConfigError {
            file: self.file.to_string(),
            line: self.line(span.start),
            key: key.to_string(),
            msg: msg.into(),
        })
    }
    fn int(&self, v: &Spanned<i64>, key: &str, min: i64, max: i64) -> Result<i64, ConfigError> {
        let n = *v.get_ref();
        if n < min || n > max {
            return self.err(v.span(), key, format!("{n} is out of range {min}..={max}"));
        }
        Ok(n)
    }
    fn prefix(&self, v: &Spanned<String>, key: &str) -> Result<IpNetwork, ConfigError> {
        proto::parse_prefix(v.get_ref()).or_else(|e| self.err(v.span(), key, e))
    }
    fn addr(
        &self,
        s: &str,
        span: std::ops::Range<usize>,
        key: &str,
    ) -> Result<IpAddr, ConfigError> {
        s.parse()
            .or_else(|_| self.err(span, key, format!("`{s}` is not an IP address")))
    }
}

/// Reads and validates a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: file.clone(),
        line: 0,
        key: String::new(),
        msg: format!("cannot read: {e}"),
    })?;
    parse(&file, &text)
}

/// Validates config text; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
    let loc = Locator { file, text };
    let raw: Raw = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| loc.line(s.start)).unwrap_or(0);
        // The parser's message names the offending key ("unknown field `x`").
        let msg = e.message().trim().to_string();
        let key = msg
            .split('`')
            .nth(1)
            .map(str::to_string)
            .unwrap_or_default();
        ConfigError {
            file: file.to_string(),
            line,
            key,
            msg,
        }
    })?;
    let mut cfg = Config {
        socket: raw.api.socket.map(PathBuf::from),
        ..Config::default()
    };
    if let Some(t) = raw.api.tcp {
        if t.get_ref().parse::<std::net::SocketAddr>().is_err() {
            return loc.err(
                t.span(),
                "api.tcp",
                format!("`{}` is not an address:port", t.get_ref()),
            );
        }
        cfg.tcp = Some(t.into_inner());
    }
    if let Some(v) = &raw.rib.ecmp_max {
        cfg.ecmp_max = loc.int(v, "rib.ecmp_max", 1, 256)? as usize;
    }
    if let Some(v) = &raw.rib.stale_time {
        cfg.stale_time = loc.int(v, "rib.stale_time", 0, 86400)? as u64;
    }
    cfg.resolve_via_default = raw.rib.resolve_via_default.unwrap_or(false);
    if let Some(l) = raw.log.level {
        let ok = ["error", "warn", "info", "debug", "trace"];
        if !ok.contains(&l.get_ref().as_str()) {
            return loc.err(
                l.span(),
                "log.level",
                format!("must be one of {}", ok.join(", ")),
            );
        }
        cfg.log_level = Some(l.into_inner());
    }
    for s in &raw.statics {
        let route = static_route(&loc, s)?;
        if let Some(dup) = cfg
            .statics
            .iter()
            .find(|r| r.prefix == route.prefix && r.table == route.table)
        {
            return loc.err(
                s.get_ref().prefix.span(),
                "static.prefix",
                format!("{} in table {} is configured twice", dup.prefix, dup.table),
            );
        }
        cfg.statics.push(route);
    }
    for r in &raw.rules {
        cfg.rules.push(rule(&loc, r)?);
    }
    Ok(cfg)
}

fn static_route(loc: &Locator, s: &Spanned<RawStatic>) -> Result<RouteIn, ConfigError> {
    let r = s.get_ref();
    let prefix = loc.prefix(&r.prefix, "static.prefix")?;
    let kind = match r.kind.as_ref().map(|k| (k.get_ref().as_str(), k.span())) {
        None | Some(("unicast", _)) => RouteKind::Unicast,
        Some(("blackhole", _)) => RouteKind::Blackhole,
        Some(("unreachable", _)) => RouteKind::Unreachable,
        Some(("prohibit", _)) => RouteKind::Prohibit,
        Some((k, span)) => {
            return loc.err(
                span,
                "static.kind",
                format!("`{k}` is not one of unicast, blackhole, unreachable, prohibit"),
            )
        }
    };
    let mut nexthops = Vec::new();
    let family_ok = |a: &IpAddr| a.is_ipv4() == prefix.is_ipv4();
    if let Some(v) = &r.via {
        let gws = match v.get_ref() {
            OneOrMany::One(g) => vec![g.clone()],
            OneOrMany::Many(g) => g.clone(),
        };
        for g in gws {
            let a = loc.addr(&g, v.span(), "static.via")?;
            if !family_ok(&a) {
                return loc.err(
                    v.span(),
                    "static.via",
                    format!("{a} is not of {prefix}'s family"),
                );
            }
            nexthops.push(NexthopIn {
                gateway: Some(a),
                ifname: r.interface.as_ref().map(|i| i.get_ref().clone()),
                weight: 1,
            });
        }
    } else if let Some(i) = &r.interface {
        nexthops.push(NexthopIn {
            gateway: None,
            ifname: Some(i.get_ref().clone()),
            weight: 1,
        });
    }
    for nh in &r.nexthop {
        let n = nh.get_ref();
        let gateway = match &n.via {
            Some(v) => {
                let a = loc.addr(v.get_ref(), v.span(), "static.nexthop.via")?;
                if !family_ok(&a) {
                    return loc.err(
                        v.span(),
                        "static.nexthop.via",
                        format!("{a} is not of {prefix}'s family"),
                    );
                }
                Some(a)
            }
            None => None,
        };
        if gateway.is_none() && n.interface.is_none() {
            return loc.err(nh.span(), "static.nexthop", "needs `via` or `interface`");
        }
        let weight = match &n.weight {
            Some(w) => loc.int(w, "static.nexthop.weight", 1, 256)? as u16,
            None => 1,
        };
        nexthops.push(NexthopIn {
            gateway,
            ifname: n.interface.clone(),
            weight,
        });
    }
    if kind == RouteKind::Unicast && nexthops.is_empty() {
        return loc.err(
            s.span(),
            "static",
            format!("{prefix}: a unicast route needs `via`, `interface` or `nexthop` (or kind = \"blackhole\")"),
        );
    }
    if kind != RouteKind::Unicast && !nexthops.is_empty() {
        return loc.err(
            s.span(),
            "static.kind",
            format!("a {} route takes no nexthop", kind.name()),
        );
    }
    let table = match &r.table {
        Some(t) => table_id(loc, t, "static.table")?,
        None => MAIN_TABLE,
    };
    let distance = match &r.distance {
        Some(d) => Some(loc.int(d, "static.distance", 1, 255)? as u8),
        None => None,
    };
    let metric = match &r.metric {
        Some(m) => loc.int(m, "static.metric", 0, u32::MAX as i64)? as u32,
        None => 0,
    };
    let tag = match &r.tag {
        Some(m) => loc.int(m, "static.tag", 0, u32::MAX as i64)? as u32,
        None => 0,
    };
    Ok(RouteIn {
        prefix,
        table,
        distance,
        metric,
        tag,
        kind,
        nexthops,
    })
}

fn table_id(loc: &Locator, t: &Spanned<i64>, key: &str) -> Result<u32, ConfigError> {
    let n = loc.int(t, key, 1, u32::MAX as i64)?;
    if n == 255 {
        return loc.err(t.span(), key, "table 255 is the kernel's local table");
    }
    Ok(n as u32)
}

fn rule(loc: &Locator, r: &Spanned<RawRule>) -> Result<Rule, ConfigError> {
    let x = r.get_ref();
    let priority = loc.int(&x.priority, "rule.priority", 1, 32765)? as u32;
    let table = table_id(loc, &x.table, "rule.table")?;
    let from = x
        .from
        .as_ref()
        .map(|f| loc.prefix(f, "rule.from"))
        .transpose()?;
    let to =
        x.to.as_ref()
            .map(|f| loc.prefix(f, "rule.to"))
            .transpose()?;
    let fam = from.or(to).map(|p| p.is_ipv6());
    let v6 = match &x.family {
        Some(f) => match f.get_ref().as_str() {
            "ipv4" => false,
            "ipv6" => true,
            o => {
                return loc.err(
                    f.span(),
                    "rule.family",
                    format!("`{o}` is not ipv4 or ipv6"),
                )
            }
        },
        None => fam.unwrap_or(false),
    };
    if let (Some(a), Some(b)) = (from, to) {
        if a.is_ipv6() != b.is_ipv6() {
            return loc.err(
                r.span(),
                "rule.to",
                "`from` and `to` are of different families",
            );
        }
    }
    if fam.is_some_and(|f| f != v6) {
        return loc.err(
            r.span(),
            "rule.family",
            "does not match the family of `from`/`to`",
        );
    }
    let fwmark = x
        .fwmark
        .as_ref()
        .map(|m| {
            loc.int(m, "rule.fwmark", 0, u32::MAX as i64)
                .map(|v| v as u32)
        })
        .transpose()?;
    let fwmask = x
        .fwmask
        .as_ref()
        .map(|m| {
            loc.int(m, "rule.fwmask", 0, u32::MAX as i64)
                .map(|v| v as u32)
        })
        .transpose()?;
    if fwmask.is_some() && fwmark.is_none() {
        return loc.err(r.span(), "rule.fwmask", "needs `fwmark`");
    }
    Ok(Rule {
        priority,
        v6,
        from,
        to,
        iif: x.iif.clone(),
        oif: x.oif.clone(),
        fwmark,
        fwmask,
        table,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_config() {
        let c = parse(
            "z.toml",
            r#"
[api]
socket = "/run/x/zebrad.sock"
tcp = "127.0.0.1:2600"
[rib]
ecmp_max = 8
stale_time = 30
[log]
level = "debug"

[[static]]
prefix = "203.0.113.0/24"
via = ["192.0.2.2", "198.51.100.2"]

[[static]]
prefix = "198.18.0.0/15"
kind = "blackhole"
table = 1000

[[static]]
prefix = "2001:db8:1::/48"
nexthop = [{ via = "2001:db8::2", interface = "eth0", weight = 3 }]
distance = 5

[[rule]]
priority = 100
from = "192.0.2.0/24"
iif = "eth0"
fwmark = 16
table = 1000
"#,
        )
        .unwrap();
        assert_eq!(c.ecmp_max, 8);
        assert_eq!(c.stale_time, 30);
        assert_eq!(c.statics.len(), 3);
        assert_eq!(c.statics[0].nexthops.len(), 2);
        assert_eq!(c.statics[1].kind, RouteKind::Blackhole);
        assert_eq!(c.statics[1].table, 1000);
        assert_eq!(c.statics[2].nexthops[0].weight, 3);
        assert_eq!(c.statics[2].distance, Some(5));
        assert_eq!(c.rules[0].table, 1000);
        assert!(!c.rules[0].v6);
    }

    #[test]
    fn empty_config_is_the_default() {
        assert_eq!(parse("z.toml", "").unwrap(), Config::default());
    }

    fn err(text: &str) -> ConfigError {
        parse("z.toml", text).unwrap_err()
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let e = err("[rib]\necmp_max = 0\n");
        assert_eq!((e.line, e.key.as_str()), (2, "rib.ecmp_max"));
        assert!(e.to_string().starts_with("z.toml:2: rib.ecmp_max:"), "{e}");

        let e = err("\n[[static]]\nprefix = \"192.0.2.1/24\"\nvia = \"192.0.2.2\"\n");
        assert_eq!((e.line, e.key.as_str()), (3, "static.prefix"));
        assert!(e.msg.contains("192.0.2.0/24"), "{e}");

        let e = err("[[static]]\nprefix = \"203.0.113.0/24\"\nvia = \"nonsense\"\n");
        assert_eq!((e.line, e.key.as_str()), (3, "static.via"));

        let e = err("[rib]\nbogus = 1\n");
        assert_eq!((e.line, e.key.as_str()), (2, "bogus"), "{e}");

        let e = err("[[static]]\nprefix = \"203.0.113.0/24\"\n");
        assert_eq!(e.key, "static");

        let e = err("[[static]]\nprefix = \"203.0.113.0/24\"\nvia = \"2001:db8::1\"\n");
        assert!(e.msg.contains("family"));

        let e = err("[[rule]]\npriority = 10\ntable = 255\n");
        assert_eq!((e.line, e.key.as_str()), (3, "rule.table"));

        let e = err("[[static]]\nprefix = \"203.0.113.0/24\"\nvia = \"192.0.2.2\"\n[[static]]\nprefix = \"203.0.113.0/24\"\nkind = \"blackhole\"\n");
        assert_eq!(e.line, 5);
        assert!(e.msg.contains("twice"));

        let e = err("[rib\n");
        assert_eq!(e.line, 1);
    }
}

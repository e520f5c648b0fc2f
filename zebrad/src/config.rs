//! zebrad's configuration file (TOML; every key is documented in
//! `conf/zebrad.toml`): the API listeners, RIB tunables, static routes,
//! policy-routing rules and anycast services.
//!
//! Loading validates everything and reports the first problem with the file,
//! line and key, so `zebrad --check` tells an operator exactly what to fix.
//! This module only parses and validates; applying a config (and the
//! difference on reload) is the daemon's job.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::config::Locator;
use serde::Deserialize;
use toml::Spanned;

use crate::rib::{NexthopIn, RouteIn, RouteKind, MAIN_TABLE};

pub use common::config::ConfigError;

/// Room for two full tables (about 1M IPv4 and 220k IPv6 routes each).
pub const DEFAULT_MAX_ROUTES_PER_CLIENT: u64 = 4_000_000;

/// The validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The gRPC listeners (`[api]`, see `common::api`).
    pub api: proto::transport::ApiConfig,
    pub ecmp_max: usize,
    pub stale_time: u64,
    pub resolve_via_default: bool,
    /// `[rib] nexthop_objects`: install routes through kernel nexthop
    /// objects when the kernel has them (read at start only).
    pub nexthop_objects: bool,
    /// `[rib] max_routes_per_client`: routes one client (one PushRoutes
    /// stream's source and instance) may hold; more are rejected.
    pub max_routes_per_client: u64,
    pub log_level: Option<String>,
    pub statics: Vec<RouteIn>,
    pub rules: Vec<Rule>,
    pub services: Vec<crate::anycast::Service>,
    /// `[anycast] maintenance_file`: every service is drained while it exists.
    pub maintenance_file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            api: Default::default(),
            ecmp_max: 16,
            stale_time: 120,
            resolve_via_default: false,
            nexthop_objects: true,
            max_routes_per_client: DEFAULT_MAX_ROUTES_PER_CLIENT,
            log_level: None,
            statics: Vec::new(),
            rules: Vec::new(),
            services: Vec::new(),
            maintenance_file: None,
        }
    }
}

/// A policy-routing rule, as `ip rule` has them.
pub type Rule = crate::fib::FibRule;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    api: common::api::RawApi,
    #[serde(default)]
    rib: RawRib,
    #[serde(default)]
    log: RawLog,
    #[serde(default, rename = "static")]
    statics: Vec<Spanned<RawStatic>>,
    #[serde(default, rename = "rule")]
    rules: Vec<Spanned<RawRule>>,
    #[serde(default, rename = "service")]
    services: Vec<Spanned<RawService>>,
    #[serde(default)]
    anycast: RawAnycast,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAnycast {
    maintenance_file: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRib {
    ecmp_max: Option<Spanned<i64>>,
    stale_time: Option<Spanned<i64>>,
    resolve_via_default: Option<bool>,
    nexthop_objects: Option<bool>,
    max_routes_per_client: Option<Spanned<i64>>,
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

/// A number of seconds, integer or not.
#[derive(Deserialize, Clone, Copy)]
#[serde(untagged)]
enum Secs {
    Int(i64),
    Float(f64),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    name: Spanned<String>,
    prefixes: Spanned<Vec<String>>,
    interface: Option<Spanned<String>>,
    combine: Option<Spanned<String>>,
    interval: Option<Spanned<Secs>>,
    fast_interval: Option<Spanned<Secs>>,
    timeout: Option<Spanned<Secs>>,
    rise: Option<Spanned<i64>>,
    fall: Option<Spanned<i64>>,
    down_action: Option<Spanned<String>>,
    depref_metric: Option<Spanned<i64>>,
    remove_delay: Option<Spanned<Secs>>,
    metric: Option<Spanned<i64>>,
    med: Option<Spanned<i64>>,
    communities: Option<Spanned<Vec<String>>>,
    large_communities: Option<Spanned<Vec<String>>>,
    prepend: Option<Spanned<i64>>,
    depref_med: Option<Spanned<i64>>,
    depref_communities: Option<Spanned<Vec<String>>>,
    depref_large_communities: Option<Spanned<Vec<String>>>,
    depref_prepend: Option<Spanned<i64>>,
    last_site: Option<bool>,
    drain_time: Option<Spanned<Secs>>,
    maintenance_file: Option<Spanned<String>>,
    lb_ttl: Option<Spanned<Secs>>,
    lb_only: Option<bool>,
    #[serde(default)]
    check: Vec<Spanned<RawCheck>>,
    damping: Option<Spanned<RawDamping>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    #[serde(rename = "type")]
    kind: Spanned<String>,
    target: Option<Spanned<String>>,
    url: Option<Spanned<String>>,
    host: Option<String>,
    status: Option<Spanned<i64>>,
    body: Option<String>,
    server: Option<Spanned<String>>,
    name: Option<Spanned<String>>,
    qtype: Option<Spanned<String>>,
    rcode: Option<Spanned<String>>,
    command: Option<Spanned<String>>,
    ca_file: Option<Spanned<String>>,
    insecure: Option<Spanned<bool>>,
    timeout: Option<Spanned<Secs>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDamping {
    half_life: Option<Spanned<Secs>>,
    penalty: Option<Spanned<i64>>,
    suppress: Option<Spanned<i64>>,
    reuse: Option<Spanned<i64>>,
    max_hold: Option<Spanned<Secs>>,
}

/// A duration in seconds within `min..=max`.
fn secs(
    loc: &Locator,
    v: &Spanned<Secs>,
    key: &str,
    min: f64,
    max: f64,
) -> Result<Duration, ConfigError> {
    let n = match *v.get_ref() {
        Secs::Int(i) => i as f64,
        Secs::Float(f) => f,
    };
    if !(min..=max).contains(&n) {
        return loc.err(
            v.span(),
            key,
            format!("{n} seconds is out of range {min}..={max}"),
        );
    }
    Ok(Duration::from_secs_f64(n))
}

/// Reads and validates a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    parse(&path.display().to_string(), &common::config::read(path)?)
}

/// Validates config text; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
    let loc = Locator::new(file, text);
    let raw: Raw = loc.parse()?;
    let mut cfg = Config {
        api: common::api::parse(&loc, &raw.api)?,
        ..Config::default()
    };
    if let Some(v) = &raw.rib.ecmp_max {
        cfg.ecmp_max = loc.int(v, "rib.ecmp_max", 1, 256)? as usize;
    }
    if let Some(v) = &raw.rib.stale_time {
        cfg.stale_time = loc.int(v, "rib.stale_time", 0, 86400)? as u64;
    }
    cfg.resolve_via_default = raw.rib.resolve_via_default.unwrap_or(false);
    cfg.nexthop_objects = raw.rib.nexthop_objects.unwrap_or(true);
    if let Some(v) = &raw.rib.max_routes_per_client {
        cfg.max_routes_per_client = loc.int(v, "rib.max_routes_per_client", 1, 100_000_000)? as u64;
    }
    cfg.log_level = loc.log_level(&raw.log.level, "log.level")?;
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
    if let Some(f) = &raw.anycast.maintenance_file {
        cfg.maintenance_file = Some(file_path(&loc, f, "anycast.maintenance_file")?);
    }
    for s in &raw.services {
        let svc = service(&loc, s)?;
        if cfg.services.iter().any(|o| o.name == svc.name) {
            return loc.err(
                s.get_ref().name.span(),
                "service.name",
                format!("service `{}` is configured twice", svc.name),
            );
        }
        for p in &svc.prefixes {
            if let Some(o) = cfg.services.iter().find(|o| o.prefixes.contains(p)) {
                return loc.err(
                    s.get_ref().prefixes.span(),
                    "service.prefixes",
                    format!("{p} is already a prefix of service `{}`", o.name),
                );
            }
        }
        cfg.services.push(svc);
    }
    Ok(cfg)
}

fn service(loc: &Locator, s: &Spanned<RawService>) -> Result<crate::anycast::Service, ConfigError> {
    use crate::anycast::{Combine, DownAction, Service};
    let r = s.get_ref();
    let name = r.name.get_ref().trim().to_string();
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return loc.err(
            r.name.span(),
            "service.name",
            "must be non-empty, without spaces",
        );
    }
    let mut prefixes = Vec::new();
    for p in r.prefixes.get_ref() {
        let net = proto::parse_prefix(p)
            .or_else(|e| loc.err(r.prefixes.span(), "service.prefixes", e))?;
        if !prefixes.contains(&net) {
            prefixes.push(net);
        }
    }
    if prefixes.is_empty() {
        return loc.err(
            r.prefixes.span(),
            "service.prefixes",
            "needs at least one prefix",
        );
    }
    let mut svc = Service::new(&name, prefixes, Vec::new());
    if let Some(i) = &r.interface {
        if i.get_ref().is_empty() {
            return loc.err(i.span(), "service.interface", "is empty");
        }
        svc.interface = Some(i.get_ref().clone());
    }
    if let Some(c) = &r.combine {
        svc.combine = loc.choice(
            c,
            "service.combine",
            &[("all", Combine::All), ("any", Combine::Any)],
        )?;
    }
    if let Some(v) = &r.interval {
        svc.interval = secs(loc, v, "service.interval", 0.05, 3600.0)?;
    }
    if let Some(v) = &r.fast_interval {
        svc.fast_interval = secs(loc, v, "service.fast_interval", 0.05, 3600.0)?;
    }
    if let Some(v) = &r.remove_delay {
        svc.remove_delay = secs(loc, v, "service.remove_delay", 0.0, 600.0)?;
    }
    let timeout = match &r.timeout {
        Some(v) => secs(loc, v, "service.timeout", 0.01, 600.0)?,
        None => Duration::from_secs(1),
    };
    if let Some(v) = &r.rise {
        svc.rise = loc.int(v, "service.rise", 1, 1000)? as u32;
    }
    if let Some(v) = &r.fall {
        svc.fall = loc.int(v, "service.fall", 1, 1000)? as u32;
    }
    if let Some(d) = &r.down_action {
        svc.down_action = loc.choice(
            d,
            "service.down_action",
            &[
                ("withdraw", DownAction::Withdraw),
                ("depref", DownAction::Depref),
            ],
        )?;
    }
    if let Some(v) = &r.depref_metric {
        svc.depref_metric = loc.int(v, "service.depref_metric", 1, u32::MAX as i64)? as u32;
    }
    for c in &r.check {
        svc.checks.push(check(loc, c, timeout)?);
    }
    if let Some(v) = &r.metric {
        svc.metric = loc.int(v, "service.metric", 0, u32::MAX as i64)? as u32;
    }
    svc.attrs = attrs(
        loc,
        "service",
        &r.med,
        &r.communities,
        &r.large_communities,
        &r.prepend,
    )?;
    svc.depref = attrs(
        loc,
        "service.depref",
        &r.depref_med,
        &r.depref_communities,
        &r.depref_large_communities,
        &r.depref_prepend,
    )?;
    svc.last_site = r.last_site.unwrap_or(false);
    if let Some(v) = &r.drain_time {
        svc.drain_time = secs(loc, v, "service.drain_time", 0.0, 3600.0)?;
    }
    if let Some(f) = &r.maintenance_file {
        svc.maintenance_file = Some(file_path(loc, f, "service.maintenance_file")?);
    }
    let lb_only = r.lb_only.unwrap_or(false);
    match &r.lb_ttl {
        Some(v) => {
            svc.lb = Some(crate::anycast::LbUse {
                ttl: secs(loc, v, "service.lb_ttl", 0.1, 86400.0)?,
                only: lb_only,
            })
        }
        None if lb_only => {
            return loc.err(
                s.span(),
                "service.lb_only",
                "needs `lb_ttl` (load-balancer reports)",
            )
        }
        None => {}
    }
    if lb_only && !svc.checks.is_empty() {
        return loc.err(
            s.span(),
            "service.lb_only",
            format!("service `{name}` has checks; `lb_only` services have none"),
        );
    }
    if svc.checks.is_empty() && !lb_only {
        return loc.err(
            s.span(),
            "service.check",
            format!("service `{name}` needs at least one [[service.check]] (or lb_only)"),
        );
    }
    if let Some(d) = &r.damping {
        let x = d.get_ref();
        let mut p = crate::anycast::fsm::DampingParams::default();
        if let Some(v) = &x.half_life {
            p.half_life = secs(loc, v, "service.damping.half_life", 1.0, 86400.0)?;
        }
        if let Some(v) = &x.max_hold {
            p.max_hold = secs(loc, v, "service.damping.max_hold", 1.0, 86400.0)?;
        }
        if let Some(v) = &x.penalty {
            p.penalty = loc.int(v, "service.damping.penalty", 1, 1_000_000)? as f64;
        }
        if let Some(v) = &x.suppress {
            p.suppress = loc.int(v, "service.damping.suppress", 1, 1_000_000)? as f64;
        }
        if let Some(v) = &x.reuse {
            p.reuse = loc.int(v, "service.damping.reuse", 1, 1_000_000)? as f64;
        }
        if p.reuse >= p.suppress {
            return loc.err(
                d.span(),
                "service.damping.reuse",
                "must be below `suppress`",
            );
        }
        svc.damping = Some(p);
    }
    Ok(svc)
}

/// An absolute file path.
fn file_path(loc: &Locator, v: &Spanned<String>, key: &str) -> Result<PathBuf, ConfigError> {
    let p = PathBuf::from(v.get_ref());
    if !p.is_absolute() {
        return loc.err(v.span(), key, "must be an absolute path");
    }
    Ok(p)
}

/// `ASN:VALUE` (RFC 1997), each part 0..=65535.
fn community(s: &str) -> Result<u32, String> {
    let (a, b) = s
        .split_once(':')
        .ok_or_else(|| format!("`{s}` is not ASN:VALUE"))?;
    let a: u16 = a
        .parse()
        .map_err(|_| format!("`{s}`: ASN is not 0..=65535"))?;
    let b: u16 = b
        .parse()
        .map_err(|_| format!("`{s}`: value is not 0..=65535"))?;
    Ok(u32::from(a) << 16 | u32::from(b))
}

/// `GLOBAL:DATA1:DATA2` (RFC 8092), each a 32-bit number.
fn large_community(s: &str) -> Result<(u32, u32, u32), String> {
    let v: Vec<&str> = s.split(':').collect();
    let [g, a, b] = v[..] else {
        return Err(format!("`{s}` is not GLOBAL:DATA1:DATA2"));
    };
    let n = |x: &str| {
        x.parse::<u32>()
            .map_err(|_| format!("`{s}`: `{x}` is not a 32-bit number"))
    };
    Ok((n(g)?, n(a)?, n(b)?))
}

/// A service's BGP attributes from `{prefix}med`, `communities`, ...
fn attrs(
    loc: &Locator,
    key: &str,
    med: &Option<Spanned<i64>>,
    communities: &Option<Spanned<Vec<String>>>,
    large: &Option<Spanned<Vec<String>>>,
    prepend: &Option<Spanned<i64>>,
) -> Result<crate::anycast::advert::Attrs, ConfigError> {
    let k = |name: &str| {
        if key == "service" {
            format!("service.{name}")
        } else {
            format!("service.depref_{name}")
        }
    };
    let mut a = crate::anycast::advert::Attrs::default();
    if let Some(v) = med {
        a.med = Some(loc.int(v, &k("med"), 0, u32::MAX as i64)? as u32);
    }
    if let Some(v) = prepend {
        a.prepend = loc.int(v, &k("prepend"), 0, 16)? as u32;
    }
    if let Some(v) = communities {
        for c in v.get_ref() {
            a.communities
                .push(community(c).or_else(|e| loc.err(v.span(), &k("communities"), e))?);
        }
    }
    if let Some(v) = large {
        for c in v.get_ref() {
            a.large_communities.push(
                large_community(c).or_else(|e| loc.err(v.span(), &k("large_communities"), e))?,
            );
        }
    }
    Ok(a)
}

fn socket_addr(
    loc: &Locator,
    v: &Spanned<String>,
    key: &str,
) -> Result<std::net::SocketAddr, ConfigError> {
    v.get_ref().parse().or_else(|_| {
        loc.err(
            v.span(),
            key,
            format!(
                "`{}` is not address:port (IPv6 as [addr]:port)",
                v.get_ref()
            ),
        )
    })
}

/// Splits `SCHEME://HOST[:PORT]/PATH` (HOST an IP address, IPv6 in
/// brackets; SCHEME `http`, port 80 by default, or `https`, 443) into the
/// socket address, the host text and the path.
fn http_url(
    url: &str,
    scheme: &str,
    default_port: u16,
) -> Result<(std::net::SocketAddr, String, String), String> {
    let rest = url
        .strip_prefix(scheme)
        .and_then(|r| r.strip_prefix("://"))
        .ok_or_else(|| format!("`{url}` does not start with {scheme}://"))?;
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    let (host, port) = if let Some(h) = hostport.strip_prefix('[') {
        let (h, p) = h
            .split_once(']')
            .ok_or_else(|| format!("`{url}`: unclosed ["))?;
        (h, p.strip_prefix(':').unwrap_or(""))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p),
            None => (hostport, ""),
        }
    };
    let ip: IpAddr = host
        .parse()
        .map_err(|_| format!("`{url}`: the host must be an IP address"))?;
    let port: u16 = if port.is_empty() {
        default_port
    } else {
        port.parse().map_err(|_| format!("`{url}`: bad port"))?
    };
    Ok((
        std::net::SocketAddr::new(ip, port),
        hostport.to_string(),
        path,
    ))
}

fn check(
    loc: &Locator,
    c: &Spanned<RawCheck>,
    default_timeout: Duration,
) -> Result<crate::anycast::Check, ConfigError> {
    use crate::anycast::check::{QTYPES, RCODES};
    use crate::anycast::{Check, CheckKind};
    let x = c.get_ref();
    let need = |v: &Option<Spanned<String>>, key: &str| -> Result<Spanned<String>, ConfigError> {
        match v {
            Some(v) => Ok(v.clone()),
            None => loc.err(
                c.span(),
                key,
                format!(
                    "a {} check needs `{}`",
                    x.kind.get_ref(),
                    key.rsplit('.').next().unwrap_or(key)
                ),
            ),
        }
    };
    let kind = match x.kind.get_ref().as_str() {
        "tcp" => CheckKind::Tcp {
            target: socket_addr(
                loc,
                &need(&x.target, "service.check.target")?,
                "service.check.target",
            )?,
        },
        scheme @ ("http" | "https") => {
            let https = scheme == "https";
            let url = need(&x.url, "service.check.url")?;
            let (target, hostport, path) =
                http_url(url.get_ref(), scheme, if https { 443 } else { 80 })
                    .or_else(|e| loc.err(url.span(), "service.check.url", e))?;
            let status = match &x.status {
                Some(s) => loc.int(s, "service.check.status", 100, 599)? as u16,
                None => 200,
            };
            let host = x.host.clone().unwrap_or(hostport);
            let body = x.body.clone();
            if !https {
                if let Some(f) = &x.ca_file {
                    return loc.err(f.span(), "service.check.ca_file", "only for https checks");
                }
                if let Some(i) = &x.insecure {
                    return loc.err(i.span(), "service.check.insecure", "only for https checks");
                }
                CheckKind::Http {
                    target,
                    host,
                    path,
                    status,
                    body,
                }
            } else {
                https_check(loc, c, target, host, path, status, body)?
            }
        }
        "icmp" => CheckKind::Icmp {
            target: loc.addr(
                &need(&x.target, "service.check.target")?,
                "service.check.target",
            )?,
        },
        "dns" => {
            let server = socket_addr(
                loc,
                &need(&x.server, "service.check.server")?,
                "service.check.server",
            )?;
            let name = need(&x.name, "service.check.name")?;
            let qtype = match &x.qtype {
                Some(q) => match QTYPES
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(q.get_ref()))
                {
                    Some((_, v)) => *v,
                    None => {
                        return loc.err(
                            q.span(),
                            "service.check.qtype",
                            format!(
                                "`{}` is not one of {}",
                                q.get_ref(),
                                QTYPES.map(|x| x.0).join(", ")
                            ),
                        )
                    }
                },
                None => 1,
            };
            let rcode = match &x.rcode {
                Some(q) => match RCODES
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(q.get_ref()))
                {
                    Some((_, v)) => *v,
                    None => {
                        return loc.err(
                            q.span(),
                            "service.check.rcode",
                            format!(
                                "`{}` is not one of {}",
                                q.get_ref(),
                                RCODES.map(|x| x.0).join(", ")
                            ),
                        )
                    }
                },
                None => 0,
            };
            if let Err(e) = crate::anycast::check::dns_query(0, name.get_ref(), qtype) {
                return loc.err(name.span(), "service.check.name", e);
            }
            CheckKind::Dns {
                server,
                name: name.get_ref().clone(),
                qtype,
                rcode,
            }
        }
        "command" => {
            let cmd = need(&x.command, "service.check.command")?;
            if cmd.get_ref().trim().is_empty() {
                return loc.err(cmd.span(), "service.check.command", "is empty");
            }
            CheckKind::Command {
                command: cmd.get_ref().clone(),
            }
        }
        o => {
            return loc.err(
                x.kind.span(),
                "service.check.type",
                format!("`{o}` is not one of tcp, http, https, icmp, dns, command"),
            )
        }
    };
    let timeout = match &x.timeout {
        Some(v) => secs(loc, v, "service.check.timeout", 0.01, 600.0)?,
        None => default_timeout,
    };
    Ok(Check { kind, timeout })
}

/// The TLS half of an `https` check: the Host header must make a server
/// name; `ca_file` (read now) or `insecure`, not both.
fn https_check(
    loc: &Locator,
    c: &Spanned<RawCheck>,
    target: std::net::SocketAddr,
    host: String,
    path: String,
    status: u16,
    body: Option<String>,
) -> Result<crate::anycast::CheckKind, ConfigError> {
    let x = c.get_ref();
    if let Err(e) = crate::anycast::check::tls::server_name(&host) {
        return loc.err(c.span(), "service.check.host", e);
    }
    let insecure = x.insecure.as_ref().is_some_and(|i| *i.get_ref());
    if let (Some(f), true) = (&x.ca_file, insecure) {
        return loc.err(
            f.span(),
            "service.check.ca_file",
            "`ca_file` and `insecure = true` exclude each other",
        );
    }
    let ca_file = x.ca_file.as_ref().map(|f| Path::new(f.get_ref()));
    let tls = crate::anycast::check::TlsClient::new(ca_file, insecure).or_else(|e| {
        let (span, key) = match &x.ca_file {
            Some(f) => (f.span(), "service.check.ca_file"),
            None => (c.span(), "service.check"),
        };
        loc.err(span, key, e)
    })?;
    Ok(crate::anycast::CheckKind::Https {
        target,
        host,
        path,
        status,
        body,
        tls,
    })
}

fn static_route(loc: &Locator<'_>, s: &Spanned<RawStatic>) -> Result<RouteIn, ConfigError> {
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
            let a = loc.addr_at(&g, v.span(), "static.via")?;
            if !family_ok(&a) {
                return loc.err(
                    v.span(),
                    "static.via",
                    format!("{a} is not of {prefix}'s family"),
                );
            }
            if crate::rib::nexthop::needs_interface(&a) && r.interface.is_none() {
                return loc.err(
                    v.span(),
                    "static.via",
                    format!("link-local gateway {a} needs `interface`"),
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
                let a = loc.addr(v, "static.nexthop.via")?;
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
        if let (Some(a), None) = (gateway, &n.interface) {
            if crate::rib::nexthop::needs_interface(&a) {
                return loc.err(
                    nh.span(),
                    "static.nexthop",
                    format!("link-local gateway {a} needs `interface`"),
                );
            }
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

fn table_id(loc: &Locator<'_>, t: &Spanned<i64>, key: &str) -> Result<u32, ConfigError> {
    let n = loc.int(t, key, 1, u32::MAX as i64)?;
    if n == 255 {
        return loc.err(t.span(), key, "table 255 is the kernel's local table");
    }
    Ok(n as u32)
}

fn rule(loc: &Locator<'_>, r: &Spanned<RawRule>) -> Result<Rule, ConfigError> {
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
        Some(f) => loc.choice(f, "rule.family", &[("ipv4", false), ("ipv6", true)])?,
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
[rib]
ecmp_max = 8
stale_time = 30
max_routes_per_client = 1500000
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
        assert_eq!(c.api.socket, Some(PathBuf::from("/run/x/zebrad.sock")));
        assert_eq!(c.ecmp_max, 8);
        assert_eq!(c.stale_time, 30);
        assert_eq!(c.max_routes_per_client, 1_500_000);
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

        // A link-local gateway names its interface.
        let e = err("[[static]]\nprefix = \"2001:db8:1::/48\"\nvia = \"fe80::2\"\n");
        assert_eq!((e.line, e.key.as_str()), (3, "static.via"), "{e}");
        assert!(e.msg.contains("interface"), "{e}");
        let e =
            err("[[static]]\nprefix = \"2001:db8:1::/48\"\nnexthop = [ { via = \"fe80::2\" } ]\n");
        assert_eq!(e.key, "static.nexthop", "{e}");
        let ok = parse(
            "z.toml",
            "[[static]]\nprefix = \"2001:db8:1::/48\"\nvia = \"fe80::2\"\ninterface = \"eth0\"\n",
        );
        assert!(ok.is_ok(), "{ok:?}");

        let e = err("[[rule]]\npriority = 10\ntable = 255\n");
        assert_eq!((e.line, e.key.as_str()), (3, "rule.table"));

        let e = err("[[static]]\nprefix = \"203.0.113.0/24\"\nvia = \"192.0.2.2\"\n[[static]]\nprefix = \"203.0.113.0/24\"\nkind = \"blackhole\"\n");
        assert_eq!(e.line, 5);
        assert!(e.msg.contains("twice"));

        let e = err("[rib\n");
        assert_eq!(e.line, 1);
    }

    const SERVICE: &str = r#"
[[service]]
name = "dns"
prefixes = ["203.0.113.53/32", "2001:db8:53::53/128"]
interface = "lo"
combine = "any"
interval = 5
fast_interval = 0.5
timeout = 0.8
rise = 3
fall = 1
down_action = "depref"
depref_metric = 5000
remove_delay = 1.5
[[service.check]]
type = "dns"
server = "127.0.0.1:53"
name = "example.com"
qtype = "AAAA"
rcode = "NXDOMAIN"
[[service.check]]
type = "http"
url = "http://[::1]:8080/health"
status = 204
body = "ok"
timeout = 2
[[service.check]]
type = "tcp"
target = "127.0.0.1:53"
[[service.check]]
type = "command"
command = "test -e /run/ok"
[service.damping]
half_life = 30
suppress = 3000

[[service]]
name = "web"
prefixes = ["203.0.113.80/32"]
[[service.check]]
type = "http"
url = "http://127.0.0.1/"
"#;

    #[test]
    fn services() {
        use crate::anycast::{CheckKind, Combine, DownAction};
        let c = parse("z.toml", SERVICE).unwrap();
        let s = &c.services[0];
        assert_eq!(s.name, "dns");
        assert_eq!(s.prefixes.len(), 2);
        assert_eq!(s.interface.as_deref(), Some("lo"));
        assert_eq!(s.combine, Combine::Any);
        assert_eq!(s.interval, Duration::from_secs(5));
        assert_eq!(s.fast_interval, Duration::from_millis(500));
        assert_eq!((s.rise, s.fall), (3, 1));
        assert_eq!((s.down_action, s.depref_metric), (DownAction::Depref, 5000));
        assert_eq!(s.remove_delay, Duration::from_millis(1500));
        assert_eq!(
            s.checks[0].kind,
            CheckKind::Dns {
                server: "127.0.0.1:53".parse().unwrap(),
                name: "example.com".into(),
                qtype: 28,
                rcode: 3
            }
        );
        assert_eq!(s.checks[0].timeout, Duration::from_millis(800));
        assert_eq!(
            s.checks[1].kind,
            CheckKind::Http {
                target: "[::1]:8080".parse().unwrap(),
                host: "[::1]:8080".into(),
                path: "/health".into(),
                status: 204,
                body: Some("ok".into())
            }
        );
        assert_eq!(s.checks[1].timeout, Duration::from_secs(2));
        let d = s.damping.unwrap();
        assert_eq!(
            (d.half_life, d.suppress, d.reuse),
            (Duration::from_secs(30), 3000.0, 750.0)
        );
        let w = &c.services[1];
        assert_eq!((w.rise, w.fall, w.interval), (2, 2, Duration::from_secs(1)));
        assert_eq!(w.fast_interval, Duration::from_secs(1));
        assert_eq!(w.down_action, DownAction::Withdraw);
        assert_eq!(w.damping, None);
        let CheckKind::Http { target, path, .. } = &w.checks[0].kind else {
            panic!()
        };
        assert_eq!((target.port(), path.as_str()), (80, "/"));
    }

    #[test]
    fn service_errors_name_line_and_key() {
        let svc = |body: &str| {
            format!("[[service]]\nname = \"s\"\nprefixes = [\"203.0.113.1/32\"]\n{body}")
        };
        let chk = "[[service.check]]\ntype = \"tcp\"\ntarget = \"127.0.0.1:80\"\n";
        let e = err(&svc(""));
        assert_eq!(e.key, "service.check");
        let e = err(&svc(&format!("rise = 0\n{chk}")));
        assert_eq!((e.line, e.key.as_str()), (4, "service.rise"));
        let e = err(&svc(&format!("interval = -1\n{chk}")));
        assert_eq!((e.line, e.key.as_str()), (4, "service.interval"));
        let e = err(&svc(&format!("down_action = \"panic\"\n{chk}")));
        assert_eq!((e.line, e.key.as_str()), (4, "service.down_action"));
        let e = err(&svc(
            "[[service.check]]\ntype = \"tcp\"\ntarget = \"localhost\"\n",
        ));
        assert_eq!((e.line, e.key.as_str()), (6, "service.check.target"));
        let e = err(&svc("[[service.check]]\ntype = \"ping\"\n"));
        assert_eq!((e.line, e.key.as_str()), (5, "service.check.type"));
        let e = err(&svc(
            "[[service.check]]\ntype = \"http\"\nurl = \"https://192.0.2.1/\"\n",
        ));
        assert_eq!((e.line, e.key.as_str()), (6, "service.check.url"));
        let e = err(&svc("[[service.check]]\ntype = \"dns\"\nserver = \"127.0.0.1:53\"\nname = \"x\"\nrcode = \"BOGUS\"\n"));
        assert_eq!((e.line, e.key.as_str()), (8, "service.check.rcode"));
        let e = err(&svc(
            "[[service.check]]\ntype = \"dns\"\nserver = \"127.0.0.1:53\"\n",
        ));
        assert_eq!(e.key, "service.check.name");
        let e = err("[[service]]\nname = \"s\"\nprefixes = [\"203.0.113.1/24\"]\n");
        assert_eq!((e.line, e.key.as_str()), (3, "service.prefixes"));
        let two = format!("{}{chk}{}{chk}", svc(""), svc("").replace("\"s\"", "\"t\""));
        let e = err(&two);
        assert!(e.msg.contains("already a prefix of service `s`"), "{e}");
        let two = format!(
            "{}{chk}{}{chk}",
            svc(""),
            svc("").replace("203.0.113.1", "203.0.113.2")
        );
        let e = err(&two);
        assert_eq!(e.key, "service.name");
        let e = err(&svc(&format!("bogus = 1\n{chk}")));
        assert_eq!((e.line, e.key.as_str()), (4, "bogus"));
        let e = err(&svc(&format!("{chk}[service.damping]\nsuppress = 100\n")));
        assert_eq!(e.key, "service.damping.reuse");
    }

    #[test]
    fn https_and_icmp_checks() {
        use crate::anycast::check::TlsClient;
        use crate::anycast::CheckKind;
        let svc = |body: &str| {
            format!("[[service]]\nname = \"s\"\nprefixes = [\"203.0.113.1/32\"]\n{body}")
        };
        let c = parse(
            "z.toml",
            &svc("[[service.check]]\ntype = \"https\"\nurl = \"https://[2001:db8::1]/ready\"\nhost = \"svc.example\"\ninsecure = true\nbody = \"up\"\n[[service.check]]\ntype = \"icmp\"\ntarget = \"2001:db8::1\"\ntimeout = 0.3\n"),
        )
        .unwrap();
        let s = &c.services[0];
        assert_eq!(
            s.checks[0].kind,
            CheckKind::Https {
                target: "[2001:db8::1]:443".parse().unwrap(),
                host: "svc.example".into(),
                path: "/ready".into(),
                status: 200,
                body: Some("up".into()),
                tls: TlsClient::new(None, true).unwrap(),
            }
        );
        assert_eq!(
            s.checks[1].kind,
            CheckKind::Icmp {
                target: "2001:db8::1".parse().unwrap()
            }
        );
        assert_eq!(s.checks[1].timeout, Duration::from_millis(300));

        let dir = std::env::temp_dir().join(format!("zebrad-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca = dir.join("ca.pem");
        let ck = rcgen::generate_simple_self_signed(vec!["svc.example".into()]).unwrap();
        std::fs::write(&ca, ck.cert.pem()).unwrap();
        let https = |extra: &str| {
            svc(&format!(
                "[[service.check]]\ntype = \"https\"\nurl = \"https://192.0.2.1:8443\"\n{extra}"
            ))
        };
        let c = parse("z.toml", &https(&format!("ca_file = {:?}\n", ca))).unwrap();
        let CheckKind::Https {
            target, host, tls, ..
        } = &c.services[0].checks[0].kind
        else {
            panic!()
        };
        assert_eq!((target.port(), host.as_str()), (8443, "192.0.2.1:8443"));
        assert_eq!(tls, &TlsClient::new(Some(&ca), false).unwrap());

        let e = err(&https(&format!("ca_file = {:?}\ninsecure = true\n", ca)));
        assert_eq!((e.line, e.key.as_str()), (7, "service.check.ca_file"));
        let e = err(&https("ca_file = \"/nonexistent/ca.pem\"\n"));
        assert_eq!((e.line, e.key.as_str()), (7, "service.check.ca_file"));
        assert!(e.msg.contains("cannot read"), "{e}");
        let e = err(&https("host = \"bad host\"\n"));
        assert_eq!(e.key, "service.check.host");
        let e = err(&svc(
            "[[service.check]]\ntype = \"https\"\nurl = \"http://192.0.2.1/\"\n",
        ));
        assert_eq!((e.line, e.key.as_str()), (6, "service.check.url"));
        let e = err(&svc(
            "[[service.check]]\ntype = \"http\"\nurl = \"http://192.0.2.1/\"\ninsecure = true\n",
        ));
        assert_eq!((e.line, e.key.as_str()), (7, "service.check.insecure"));
        let e = err(&svc(
            "[[service.check]]\ntype = \"icmp\"\ntarget = \"localhost\"\n",
        ));
        assert_eq!((e.line, e.key.as_str()), (6, "service.check.target"));
        let e = err(&svc("[[service.check]]\ntype = \"icmp\"\n"));
        assert_eq!(e.key, "service.check.target");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn service_attributes_drain_last_site_and_load_balancer() {
        let c = parse(
            "t.toml",
            r#"
[anycast]
maintenance_file = "/run/anycast/maintenance"

[[service]]
name = "web"
prefixes = ["203.0.113.1/32"]
metric = 20
med = 10
communities = ["65000:100"]
large_communities = ["65000:1:2"]
prepend = 1
down_action = "withdraw"
depref_med = 500
depref_prepend = 3
depref_communities = ["65000:666"]
last_site = true
drain_time = 2.5
maintenance_file = "/run/anycast/web.down"
lb_ttl = 5
[[service.check]]
type = "tcp"
target = "127.0.0.1:80"

[[service]]
name = "lb"
prefixes = ["203.0.113.2/32"]
lb_ttl = 3
lb_only = true
"#,
        )
        .unwrap();
        assert_eq!(
            c.maintenance_file.as_deref(),
            Some(Path::new("/run/anycast/maintenance"))
        );
        let s = &c.services[0];
        assert_eq!(s.metric, 20);
        assert_eq!(s.attrs.med, Some(10));
        assert_eq!(s.attrs.communities, [65000 << 16 | 100]);
        assert_eq!(s.attrs.large_communities, [(65000, 1, 2)]);
        assert_eq!(s.attrs.prepend, 1);
        assert_eq!(
            (s.depref.med, s.depref.prepend, s.depref.communities.clone()),
            (Some(500), 3, vec![65000 << 16 | 666])
        );
        assert!(s.last_site);
        assert_eq!(s.drain_time, Duration::from_millis(2500));
        assert_eq!(
            s.lb,
            Some(crate::anycast::LbUse {
                ttl: Duration::from_secs(5),
                only: false
            })
        );
        assert!(c.services[1].checks.is_empty());
        assert!(c.services[1].lb.is_some_and(|l| l.only));

        let svc = |body: &str| {
            format!("[[service]]\nname = \"s\"\nprefixes = [\"203.0.113.1/32\"]\n{body}")
        };
        let chk = "[[service.check]]\ntype = \"tcp\"\ntarget = \"127.0.0.1:80\"\n";
        let e = err(&svc(&format!("communities = [\"65536:1\"]\n{chk}")));
        assert_eq!((e.line, e.key.as_str()), (4, "service.communities"));
        let e = err(&svc(&format!(
            "depref_large_communities = [\"1:2\"]\n{chk}"
        )));
        assert_eq!(
            (e.line, e.key.as_str()),
            (4, "service.depref_large_communities")
        );
        let e = err(&svc(&format!("prepend = 40\n{chk}")));
        assert_eq!(e.key, "service.prepend");
        let e = err(&svc(&format!("maintenance_file = \"rel/path\"\n{chk}")));
        assert_eq!(e.key, "service.maintenance_file");
        let e = err(&svc("lb_only = true\n"));
        assert_eq!(e.key, "service.lb_only");
        let e = err(&svc(&format!("lb_ttl = 3\nlb_only = true\n{chk}")));
        assert_eq!(e.key, "service.lb_only");
    }
}

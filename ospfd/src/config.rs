//! ospfd's configuration file (TOML; every key is documented in
//! `conf/ospfd.toml`): router ID, reference bandwidth, SPF throttle,
//! areas, interfaces with their timers and authentication, and
//! redistribution.
//!
//! Loading validates everything and reports the first problem with the
//! file, line and key, so `ospfd --check` says exactly what to fix. This
//! module only parses and validates; applying the result is the daemon's
//! job.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use common::config::Locator;
use proto::Source;
use serde::Deserialize;
use toml::Spanned;

use crate::area::AreaConfig;
use crate::instance::{InstanceConfig, SpfThrottle};
use crate::interface::{IfaceParams, IfaceType};
use crate::lsa::ExternalMetricType;
use crate::packet::{AuthConfig, Md5Key, MD5_DIGEST_LEN};

pub use common::config::ConfigError;

/// One redistributed source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Redistribute {
    pub source: Source,
    pub metric: u32,
    pub metric_type: ExternalMetricType,
}

/// The validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub router_id: Ipv4Addr,
    pub reference_bandwidth: u32,
    pub spf: SpfThrottle,
    pub areas: Vec<AreaConfig>,
    pub interfaces: Vec<IfaceParams>,
    /// Authentication by interface name.
    pub auth: Vec<(String, AuthConfig)>,
    pub redistribute: Vec<Redistribute>,
    pub log_level: Option<String>,
    /// The gRPC listeners (`[api]`, see `common::api`; the top-level
    /// `socket` key is the same as `api.socket`).
    pub api: proto::transport::ApiConfig,
    /// Where zebrad listens; None: `<run-dir>/zebrad.sock`.
    pub zebrad: Option<String>,
}

impl Config {
    /// The core's part of the configuration.
    pub fn instance(&self) -> InstanceConfig {
        InstanceConfig {
            router_id: self.router_id,
            spf: self.spf,
            areas: self.areas.clone(),
            interfaces: self.interfaces.clone(),
            asbr: !self.redistribute.is_empty(),
        }
    }

    /// The authentication of interface `name`.
    pub fn auth_of(&self, name: &str) -> AuthConfig {
        self.auth
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, a)| a.clone())
            .unwrap_or(AuthConfig::Null)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    router_id: Spanned<String>,
    reference_bandwidth: Option<Spanned<i64>>,
    socket: Option<Spanned<String>>,
    zebrad: Option<String>,
    #[serde(default)]
    api: common::api::RawApi,
    #[serde(default)]
    log: RawLog,
    #[serde(default)]
    spf: RawSpf,
    #[serde(default, rename = "area")]
    areas: Vec<Spanned<RawArea>>,
    #[serde(default, rename = "interface")]
    interfaces: Vec<Spanned<RawIface>>,
    #[serde(default)]
    redistribute: Vec<Spanned<RawRedist>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLog {
    level: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSpf {
    delay: Option<Spanned<i64>>,
    initial_hold: Option<Spanned<i64>>,
    max_hold: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum AreaId {
    Num(i64),
    Dotted(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArea {
    id: Spanned<AreaId>,
    #[serde(rename = "type")]
    kind: Option<Spanned<String>>,
    default_cost: Option<Spanned<i64>>,
    #[serde(default)]
    ranges: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIface {
    name: Spanned<String>,
    area: Spanned<AreaId>,
    #[serde(rename = "type")]
    kind: Option<Spanned<String>>,
    cost: Option<Spanned<i64>>,
    priority: Option<Spanned<i64>>,
    hello_interval: Option<Spanned<i64>>,
    dead_interval: Option<Spanned<i64>>,
    retransmit_interval: Option<Spanned<i64>>,
    transmit_delay: Option<Spanned<i64>>,
    passive: Option<bool>,
    authentication: Option<Spanned<RawAuth>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAuth {
    #[serde(rename = "type")]
    kind: Spanned<String>,
    key: Option<Spanned<String>>,
    /// The key in a file of its own (not readable by every user).
    key_file: Option<Spanned<String>>,
    key_id: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRedist {
    source: Spanned<String>,
    metric: Option<Spanned<i64>>,
    metric_type: Option<Spanned<i64>>,
}

/// ospfd's own value kinds, on top of the shared locator.
trait OspfLocator {
    fn area_id(&self, v: &Spanned<AreaId>, key: &str) -> Result<Ipv4Addr, ConfigError>;
}

impl OspfLocator for Locator<'_> {
    fn area_id(&self, v: &Spanned<AreaId>, key: &str) -> Result<Ipv4Addr, ConfigError> {
        match v.get_ref() {
            AreaId::Num(n) if (0..=i64::from(u32::MAX)).contains(n) => {
                Ok(Ipv4Addr::from(*n as u32))
            }
            AreaId::Num(n) => self.err(v.span(), key, format!("{n} is not an area ID")),
            AreaId::Dotted(s) => s.parse().or_else(|_| {
                self.err(
                    v.span(),
                    key,
                    format!("`{s}` is not an area ID (a number or dotted quad)"),
                )
            }),
        }
    }
}

/// Reads and validates a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    parse(&path.display().to_string(), &common::config::read(path)?)
}

/// Validates config text; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
    let loc = Locator::new(file, text);
    let raw: Raw = loc.parse()?;
    let router_id: Ipv4Addr = match raw.router_id.get_ref().parse() {
        Ok(a) if a != Ipv4Addr::UNSPECIFIED => a,
        _ => {
            return loc.err(
                raw.router_id.span(),
                "router_id",
                format!(
                    "`{}` is not a router ID (a non-zero dotted quad)",
                    raw.router_id.get_ref()
                ),
            )
        }
    };
    let reference_bandwidth = loc.opt_int(
        &raw.reference_bandwidth,
        "reference_bandwidth",
        1,
        4_294_967,
        100,
    )? as u32;
    let log_level = loc.log_level(&raw.log.level, "log.level")?;
    let spf = SpfThrottle {
        delay: loc.opt_int(&raw.spf.delay, "spf.delay", 0, 600_000, 0)? as u64,
        initial_hold: loc.opt_int(&raw.spf.initial_hold, "spf.initial_hold", 0, 600_000, 50)?
            as u64,
        max_hold: loc.opt_int(&raw.spf.max_hold, "spf.max_hold", 0, 600_000, 5000)? as u64,
    };
    if spf.max_hold < spf.initial_hold {
        let span = raw.spf.max_hold.as_ref().map(|s| s.span()).unwrap_or(0..0);
        return loc.err(span, "spf.max_hold", "must not be below spf.initial_hold");
    }

    let mut areas: Vec<AreaConfig> = Vec::new();
    for a in &raw.areas {
        let r = a.get_ref();
        let id = loc.area_id(&r.id, "area.id")?;
        if areas.iter().any(|x| x.id == id) {
            return loc.err(r.id.span(), "area.id", format!("area {id} defined twice"));
        }
        let stub = match r.kind.as_ref().map(|k| (k.get_ref().as_str(), k.span())) {
            None | Some(("normal", _)) => false,
            Some(("stub", _)) => true,
            Some((other, span)) => {
                return loc.err(
                    span,
                    "area.type",
                    format!("`{other}` is not an area type (normal, stub)"),
                )
            }
        };
        if stub && id == Ipv4Addr::UNSPECIFIED {
            return loc.err(
                r.id.span(),
                "area.type",
                "the backbone cannot be a stub area",
            );
        }
        let mut ranges = Vec::new();
        for g in &r.ranges {
            let net = match proto::parse_prefix(g.get_ref()) {
                Ok(ipnetwork::IpNetwork::V4(n)) => n,
                Ok(_) => return loc.err(g.span(), "area.ranges", "IPv4 prefixes only"),
                Err(e) => return loc.err(g.span(), "area.ranges", e),
            };
            ranges.push(net);
        }
        areas.push(AreaConfig {
            id,
            stub,
            stub_default_cost: loc.opt_int(&r.default_cost, "area.default_cost", 0, 0xff_ffff, 1)?
                as u32,
            ranges,
        });
    }

    let default_cost = (reference_bandwidth / 10).clamp(1, 65535) as u16;
    let mut interfaces: Vec<IfaceParams> = Vec::new();
    let mut auth = Vec::new();
    let mut names = BTreeSet::new();
    for i in &raw.interfaces {
        let r = i.get_ref();
        let name = r.name.get_ref().clone();
        if name.is_empty() || name.len() > 15 {
            return loc.err(
                r.name.span(),
                "interface.name",
                "must be 1 to 15 characters",
            );
        }
        if !names.insert(name.clone()) {
            return loc.err(
                r.name.span(),
                "interface.name",
                format!("interface {name} configured twice"),
            );
        }
        let area = loc.area_id(&r.area, "interface.area")?;
        let mut p = IfaceParams::new(&name, area);
        p.kind = match r.kind.as_ref().map(|k| (k.get_ref().as_str(), k.span())) {
            None | Some(("broadcast", _)) => IfaceType::Broadcast,
            Some(("point-to-point", _)) => IfaceType::PointToPoint,
            Some((other, span)) => {
                return loc.err(
                    span,
                    "interface.type",
                    format!("`{other}` is not a network type (broadcast, point-to-point)"),
                )
            }
        };
        p.cost = loc.opt_int(&r.cost, "interface.cost", 1, 65535, i64::from(default_cost))? as u16;
        p.priority = loc.opt_int(&r.priority, "interface.priority", 0, 255, 1)? as u8;
        p.hello_interval =
            loc.opt_int(&r.hello_interval, "interface.hello_interval", 1, 65535, 10)? as u16;
        p.dead_interval = loc.opt_int(
            &r.dead_interval,
            "interface.dead_interval",
            1,
            65535,
            4 * i64::from(p.hello_interval),
        )? as u32;
        if p.dead_interval <= u32::from(p.hello_interval) {
            let span = r
                .dead_interval
                .as_ref()
                .map(|s| s.span())
                .unwrap_or(r.name.span());
            return loc.err(
                span,
                "interface.dead_interval",
                "must be longer than hello_interval",
            );
        }
        p.retransmit_interval = loc.opt_int(
            &r.retransmit_interval,
            "interface.retransmit_interval",
            1,
            65535,
            5,
        )? as u16;
        p.transmit_delay =
            loc.opt_int(&r.transmit_delay, "interface.transmit_delay", 1, 65535, 1)? as u16;
        p.passive = r.passive.unwrap_or(false);
        if let Some(a) = &r.authentication {
            let ar = a.get_ref();
            let key = |what: &str| -> Result<String, ConfigError> {
                match (&ar.key, &ar.key_file) {
                    (Some(k), None) => Ok(k.get_ref().clone()),
                    (None, Some(f)) => loc.secret_file(f, "interface.authentication.key_file"),
                    (Some(_), Some(f)) => loc.err(
                        f.span(),
                        "interface.authentication.key_file",
                        "give `key` or `key_file`, not both",
                    ),
                    (None, None) => loc.err(
                        a.span(),
                        "interface.authentication.key",
                        format!("{what} authentication needs a key (`key` or `key_file`)"),
                    ),
                }
            };
            let cfg = match ar.kind.get_ref().as_str() {
                "null" | "none" => AuthConfig::Null,
                "simple" => {
                    let k = key("simple")?;
                    if k.len() > 8 {
                        return loc.err(
                            ar.key.as_ref().map(|k| k.span()).unwrap_or(a.span()),
                            "interface.authentication.key",
                            "a simple password is at most 8 characters",
                        );
                    }
                    AuthConfig::simple(k.as_bytes())
                }
                "md5" => {
                    let k = key("md5")?;
                    let id = match &ar.key_id {
                        Some(v) => loc.int(v, "interface.authentication.key_id", 1, 255)? as u8,
                        None => 1,
                    };
                    let Some(mk) = Md5Key::new(id, k.as_bytes()) else {
                        return loc.err(
                            ar.key.as_ref().map(|k| k.span()).unwrap_or(a.span()),
                            "interface.authentication.key",
                            "an MD5 key is at most 16 characters",
                        );
                    };
                    p.auth_trailer = MD5_DIGEST_LEN;
                    AuthConfig::Md5 {
                        send: mk,
                        accept: Vec::new(),
                    }
                }
                other => {
                    return loc.err(
                        ar.kind.span(),
                        "interface.authentication.type",
                        format!("`{other}` is not an authentication type (null, simple, md5)"),
                    )
                }
            };
            auth.push((name.clone(), cfg));
        }
        if !areas.iter().any(|a| a.id == area) {
            areas.push(AreaConfig::normal(area));
        }
        interfaces.push(p);
    }

    let mut redistribute: Vec<Redistribute> = Vec::new();
    for r in &raw.redistribute {
        let rr = r.get_ref();
        let source = match Source::from_name(rr.source.get_ref()) {
            Some(
                s @ (Source::Connected
                | Source::Static
                | Source::Bgp
                | Source::Anycast
                | Source::Kernel),
            ) => s,
            _ => {
                return loc.err(
                    rr.source.span(),
                    "redistribute.source",
                    format!(
                        "`{}` cannot be redistributed (connected, static, kernel, bgp, anycast)",
                        rr.source.get_ref()
                    ),
                )
            }
        };
        if redistribute.iter().any(|x| x.source == source) {
            return loc.err(
                rr.source.span(),
                "redistribute.source",
                format!("{source} redistributed twice"),
            );
        }
        let metric = loc.opt_int(&rr.metric, "redistribute.metric", 0, 0xff_fffe, 20)? as u32;
        let metric_type = match loc.opt_int(&rr.metric_type, "redistribute.metric_type", 1, 2, 2)? {
            1 => ExternalMetricType::Type1,
            _ => ExternalMetricType::Type2,
        };
        redistribute.push(Redistribute {
            source,
            metric,
            metric_type,
        });
    }

    let mut api = common::api::parse(&loc, &raw.api)?;
    if let Some(sock) = &raw.socket {
        if raw.api.has_socket() {
            return loc.err(sock.span(), "socket", "set either `socket` or `api.socket`");
        }
        api.socket = Some(PathBuf::from(sock.get_ref()));
    }
    Ok(Config {
        router_id,
        reference_bandwidth,
        spf,
        areas,
        interfaces,
        auth,
        redistribute,
        log_level,
        api,
        zebrad: raw.zebrad,
    })
}

/// Convenience for a prefix list in tests.
#[cfg(test)]
fn net(s: &str) -> ipnetwork::Ipv4Network {
    s.parse()
        .unwrap_or_else(|_| ipnetwork::Ipv4Network::from(Ipv4Addr::UNSPECIFIED))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_config_is_valid() {
        let text = include_str!("../../conf/ospfd.toml");
        let cfg = parse("conf/ospfd.toml", text).unwrap();
        assert_eq!(cfg.router_id, Ipv4Addr::new(192, 0, 2, 1));
        assert!(!cfg.interfaces.is_empty());
    }

    #[test]
    fn key_file_restricted_and_never_shown() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("ospfd-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let write = |name: &str, text: &str, mode: u32| {
            let p = dir.join(name);
            std::fs::write(&p, text).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        write("md5.key", "s3cret-md5\n", 0o600);
        write("simple.key", "pw8chars", 0o640);
        write("open.key", "visible\n", 0o644);
        let file = dir.join("ospfd.toml");
        let file = file.to_string_lossy();
        let conf = |auth: &str| {
            format!(
                "router_id = \"192.0.2.1\"\n[[interface]]\nname = \"eth0\"\narea = 0\n\n\nauthentication = {auth}\n"
            )
        };
        // Relative to the config file's directory; the final newline is
        // not part of the key.
        let cfg = parse(
            &file,
            &conf(r#"{ type = "md5", key_id = 2, key_file = "md5.key" }"#),
        )
        .unwrap();
        let want = AuthConfig::Md5 {
            send: Md5Key::new(2, b"s3cret-md5").unwrap(),
            accept: Vec::new(),
        };
        assert_eq!(cfg.auth_of("eth0"), want);
        let abs = dir.join("simple.key");
        let cfg = parse(
            &file,
            &conf(&format!(
                r#"{{ type = "simple", key_file = "{}" }}"#,
                abs.display()
            )),
        )
        .unwrap();
        assert_eq!(cfg.auth_of("eth0"), AuthConfig::simple(b"pw8chars"));
        // Neither the config's nor the key's Debug shows a secret.
        let shown = format!("{cfg:?}");
        assert!(
            !shown.contains("pw8chars") && !shown.contains("112, 119"),
            "{shown}"
        );
        // World-readable: refused at its file, line and key.
        let e = parse(&file, &conf(r#"{ type = "md5", key_file = "open.key" }"#)).unwrap_err();
        assert_eq!(e.key, "interface.authentication.key_file");
        assert_eq!(e.line, 7);
        assert!(e.msg.contains("readable by every user"), "{e}");
        assert!(!e.to_string().contains("visible"), "{e}");
        // Missing, or both ways at once.
        let e = parse(&file, &conf(r#"{ type = "md5", key_file = "none.key" }"#)).unwrap_err();
        assert_eq!(e.key, "interface.authentication.key_file");
        let e = parse(
            &file,
            &conf(r#"{ type = "md5", key = "x", key_file = "md5.key" }"#),
        )
        .unwrap_err();
        assert!(e.msg.contains("not both"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn full_config() {
        let cfg = parse(
            "t.toml",
            r#"
router_id = "192.0.2.1"
reference_bandwidth = 1000
[spf]
delay = 10
initial_hold = 100
max_hold = 1000
[[area]]
id = 1
type = "stub"
default_cost = 5
ranges = ["203.0.113.0/24"]
[[interface]]
name = "eth0"
area = "0.0.0.0"
type = "point-to-point"
hello_interval = 1
dead_interval = 4
authentication = { type = "md5", key_id = 3, key = "secret" }
[[interface]]
name = "eth1"
area = 1
passive = true
[[redistribute]]
source = "static"
metric = 30
metric_type = 1
"#,
        )
        .unwrap();
        assert_eq!(cfg.spf.max_hold, 1000);
        assert_eq!(cfg.areas.len(), 2);
        assert!(cfg.areas[0].stub);
        assert_eq!(cfg.areas[0].ranges, vec![net("203.0.113.0/24")]);
        assert_eq!(cfg.interfaces[0].kind, IfaceType::PointToPoint);
        assert_eq!(cfg.interfaces[0].cost, 100);
        assert_eq!(cfg.interfaces[0].auth_trailer, 16);
        assert!(cfg.interfaces[1].passive);
        assert!(matches!(cfg.auth_of("eth0"), AuthConfig::Md5 { .. }));
        assert_eq!(cfg.redistribute[0].metric_type, ExternalMetricType::Type1);
    }

    #[test]
    fn errors_name_line_and_key() {
        let e = parse(
            "t.toml",
            "router_id = \"192.0.2.1\"\n[[interface]]\nname = \"eth0\"\narea = 0\ncost = 0\n",
        )
        .unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (5, "interface.cost"));
        assert!(
            e.to_string().starts_with("t.toml:5: interface.cost:"),
            "{e}"
        );
        let e = parse("t.toml", "router_id = \"x\"\n").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (1, "router_id"));
        let e = parse("t.toml", "router_id = \"192.0.2.1\"\nbogus = 1\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.msg.contains("bogus"), "{e}");
        let e = parse(
            "t.toml",
            "router_id = \"192.0.2.1\"\n[[redistribute]]\nsource = \"ospf\"\n",
        )
        .unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (3, "redistribute.source"));
        let e = parse(
            "t.toml",
            "router_id = \"192.0.2.1\"\n[[area]]\nid = 0\ntype = \"stub\"\n",
        )
        .unwrap_err();
        assert_eq!(e.key, "area.type");
    }
}

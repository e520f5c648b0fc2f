//! Configure mode: FRR's configuration words (`router bgp`, `neighbor ...
//! remote-as`, `ip route`, `ip prefix-list`, `route-map`, `bgp
//! as-path access-list`, `bgp community-list`, `router ospf`, `interface`,
//! `anycast service`, `log level`) turned into edits of the daemons' TOML
//! documents. The policy words live in [`policy`], the anycast service
//! words in [`anycast`].
//!
//! A line is parsed here, in the current [`Mode`], into a [`Step`]: enter
//! another mode, or [`Op`]s on one daemon's configuration. [`apply`] makes
//! an op's change in a `toml_edit` document, which keeps the operator's
//! comments and layout wherever the keys still exist. The shell fetches the
//! running text, applies the ops and hands the result to the daemon, which
//! validates it with its own loader and applies it by difference. Parsing
//! and editing are pure; nothing here talks to a daemon.

use std::net::IpAddr;

use ipnetwork::IpNetwork;
use toml_edit::{value, Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value};

pub mod anycast;
pub mod policy;

/// Which daemon's configuration an op edits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Daemon {
    Zebrad,
    Bgpd,
    Ospfd,
}

impl Daemon {
    pub const ALL: [Daemon; 3] = [Daemon::Zebrad, Daemon::Bgpd, Daemon::Ospfd];

    pub fn name(self) -> &'static str {
        match self {
            Daemon::Zebrad => "zebrad",
            Daemon::Bgpd => "bgpd",
            Daemon::Ospfd => "ospfd",
        }
    }

    pub fn from_name(s: &str) -> Option<Daemon> {
        Daemon::ALL.into_iter().find(|d| d.name() == s)
    }
}

/// Where the shell is, as FRR's prompt says it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Exec,
    Config,
    RouterBgp,
    /// `address-family ipv4|ipv6 unicast` under `router bgp`.
    BgpFamily(&'static str),
    RouterOspf,
    Interface(String),
    /// `route-map NAME permit|deny SEQ`: one entry of a route map.
    RouteMap {
        name: String,
        seq: i64,
    },
    /// `anycast service NAME`: one of zebrad's `[[service]]`s.
    AnycastService(String),
}

impl Mode {
    /// The part of the prompt after the hostname.
    pub fn prompt(&self) -> &'static str {
        match self {
            Mode::Exec => "# ",
            Mode::Config => "(config)# ",
            Mode::RouterBgp | Mode::RouterOspf => "(config-router)# ",
            Mode::BgpFamily(_) => "(config-router-af)# ",
            Mode::Interface(_) => "(config-if)# ",
            Mode::RouteMap { .. } => "(config-route-map)# ",
            Mode::AnycastService(_) => "(config-anycast)# ",
        }
    }

    /// `exit`: one level up.
    pub fn up(&self) -> Mode {
        match self {
            Mode::Exec | Mode::Config => Mode::Exec,
            Mode::BgpFamily(_) => Mode::RouterBgp,
            _ => Mode::Config,
        }
    }
}

/// A scalar TOML value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Int(i64),
    Str(String),
    Bool(bool),
    /// Seconds with a fraction (`interval = 0.5`).
    Float(f64),
    /// An array (community values, prepended ASNs).
    Arr(Vec<Val>),
}

impl Val {
    fn to_value(&self) -> Value {
        match self {
            Val::Int(i) => Value::from(*i),
            Val::Str(s) => Value::from(s.as_str()),
            Val::Bool(b) => Value::from(*b),
            Val::Float(f) => Value::from(*f),
            Val::Arr(a) => {
                let mut arr: Array = a.iter().map(Val::to_value).collect();
                arr.fmt();
                Value::Array(arr)
            }
        }
    }

    /// Whether a value in the file is this one (addresses and prefixes
    /// compared as such, so `2001:db8::1` matches `2001:DB8:0::1`).
    fn matches(&self, v: &Value) -> bool {
        match (self, v) {
            (Val::Int(a), Value::Integer(b)) => *a == *b.value(),
            (Val::Bool(a), Value::Boolean(b)) => *a == *b.value(),
            (Val::Float(a), Value::Float(b)) => *a == *b.value(),
            (Val::Str(a), Value::String(b)) => {
                let b = b.value();
                if let (Ok(x), Ok(y)) = (a.parse::<IpAddr>(), b.parse::<IpAddr>()) {
                    return x == y;
                }
                if let (Ok(x), Ok(y)) = (a.parse::<IpNetwork>(), b.parse::<IpNetwork>()) {
                    return x == y;
                }
                a == b
            }
            (Val::Arr(a), Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.matches(y))
            }
            _ => false,
        }
    }
}

/// Where in a document an op acts.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// A top-level table (`bgp`, `log`, `spf`), or the root with "".
    Table(&'static str),
    /// The entry of an array of tables (`[[neighbor]]`) whose `key` is `id`.
    Entry {
        aot: &'static str,
        key: &'static str,
        id: Val,
    },
}

/// One change to one daemon's document.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Sets keys (or removes them, with None). A missing entry is created
    /// when `create`, else the change is refused with `missing`.
    Set {
        target: Target,
        create: bool,
        missing: &'static str,
        keys: Vec<(&'static str, Option<Val>)>,
    },
    /// Adds a value to, or removes it from, an array key (a single value
    /// in the file counts as an array of one). An entry left with the array
    /// empty is removed when `drop_empty`.
    List {
        target: Target,
        key: &'static str,
        val: Val,
        add: bool,
        drop_empty: bool,
    },
    /// Removes the entry.
    Remove {
        target: Target,
        missing: &'static str,
    },
    /// Sets (or removes, with None) keys of a table nested in the entry
    /// along `path` (`family_policy."ipv6-unicast"`, `damping`), created as
    /// inline tables; tables left empty are removed. The entry must exist.
    Nested {
        target: Target,
        missing: &'static str,
        path: Vec<String>,
        keys: Vec<(&'static str, Option<Val>)>,
    },
    /// Adds a table to an array of tables inside the entry
    /// (`[[service.check]]`) unless an equal one is there, or removes
    /// every one whose keys include `fields`.
    Sub {
        target: Target,
        aot: &'static str,
        fields: Vec<(&'static str, Val)>,
        add: bool,
    },
    /// An edit of one entry (by `seq`) of a named list of entries:
    /// `[[prefix_list]]`, `[[route_map]]`, `[[as_path_list]]`,
    /// `[[community_list]]` (each `{ name, entries = [{ seq, ... }] }`).
    Seq {
        list: NamedList,
        seq: Option<i64>,
        edit: SeqEdit,
    },
    /// `router bgp ASN` must name the running AS.
    Asn(u32),
}

/// A named list of entries in a daemon's document.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedList {
    /// The array of tables (`prefix_list`, `route_map`, ...).
    pub aot: &'static str,
    pub name: String,
    /// Keys of the list itself, set when the list is written (a community
    /// list's `kind`); a list that exists with another value is refused.
    pub head: Vec<(&'static str, Val)>,
    /// What the operator calls it, for messages ("prefix list").
    pub what: &'static str,
}

/// What happens to the entry of a [`NamedList`].
#[derive(Debug, Clone, PartialEq)]
pub enum SeqEdit {
    /// The entry becomes these keys (after `seq`), replacing it whole; a
    /// missing `seq` is FRR's: 5 more than the highest.
    Put(Vec<(&'static str, Val)>),
    /// Keys of the entry (`sub` None) or of its inline table `sub`
    /// (`match`, `set`) set, or removed with None. A missing entry is
    /// created when `create`, else refused.
    Keys {
        sub: Option<&'static str>,
        create: bool,
        keys: Vec<(&'static str, Option<Val>)>,
    },
    /// Removes the entry, or the whole list when `seq` is None.
    Remove,
}

/// What a configure-mode line does.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Change mode (after the ops, if any, were applied).
    Enter(Mode, Vec<(Daemon, Op)>),
    /// Edit daemons' configurations, staying in the mode.
    Edit(Vec<(Daemon, Op)>),
}

fn kw<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let w = word.to_ascii_lowercase();
    if let Some(e) = candidates.iter().find(|c| **c == w) {
        return Some(e);
    }
    let hits: Vec<&&str> = candidates.iter().filter(|c| c.starts_with(&w)).collect();
    match hits.as_slice() {
        [one] => Some(one),
        _ => None,
    }
}

fn need<'a>(w: &[&'a str], i: usize) -> Result<&'a str, String> {
    w.get(i)
        .copied()
        .ok_or_else(|| "% Command incomplete".to_string())
}

fn int(s: &str, what: &str) -> Result<i64, String> {
    s.parse::<i64>()
        .map_err(|_| format!("% Malformed {what}: {s}"))
}

fn ip(s: &str) -> Result<IpAddr, String> {
    s.parse::<IpAddr>()
        .map_err(|_| format!("% Malformed address: {s}"))
}

fn prefix(s: &str) -> Result<IpNetwork, String> {
    let p: IpNetwork = s.parse().map_err(|_| format!("% Malformed prefix: {s}"))?;
    if p.network() != p.ip() {
        return Err(format!("% Prefix {s} has host bits set"));
    }
    Ok(p)
}

fn no_more(w: &[&str], i: usize) -> Result<(), String> {
    match w.get(i) {
        Some(x) => Err(format!("% Unknown command: `{x}`")),
        None => Ok(()),
    }
}

/// The words of the configure modes, for `?` and Tab.
pub const CONFIG_WORDS: &[(&str, &str)] = &[
    ("router", "router bgp ASN | router ospf"),
    ("interface", "interface NAME: OSPF settings of an interface"),
    ("ip", "ip route PREFIX GATEWAY|IFNAME|blackhole [DISTANCE] [table N] | ip prefix-list NAME [seq N] permit|deny PREFIX [ge N] [le N]"),
    ("ipv6", "ipv6 route ... | ipv6 prefix-list ..."),
    ("log", "log level error|warn|info|debug|trace [zebrad|bgpd|ospfd]"),
    ("route-map", "route-map NAME permit|deny SEQ: an entry of a route map"),
    ("bgp", "bgp as-path access-list | community-list | large-community-list | extcommunity-list"),
    ("anycast", "anycast service NAME: a health-checked service of zebrad"),
    ("no", "remove a setting"),
    ("do", "run an exec command (do show ...)"),
    ("write", "save the running configuration (write memory)"),
    ("exit", "one level up"),
    ("end", "back to exec mode"),
];

pub const BGP_WORDS: &[(&str, &str)] = &[
    ("neighbor", "neighbor ADDRESS remote-as|peer-group|description|shutdown|passive|password|ebgp-multihop|update-source|port|timers|route-map|prefix-list|next-hop-self|route-reflector-client|allowas-in|activate|capability|addpath-tx-all-paths|addpath-tx-best-selected"),
    ("network", "network PREFIX [route-map NAME]: originate a prefix"),
    ("aggregate-address", "aggregate-address PREFIX [summary-only] [as-set]: originate an aggregate"),
    ("address-family", "address-family ipv4|ipv6 [unicast]"),
    ("exit-address-family", "leave the address family"),
    ("no", "remove a setting"),
    ("do", "run an exec command"),
    ("exit", "one level up"),
    ("end", "back to exec mode"),
];

pub const NEIGHBOR_WORDS: &[(&str, &str)] = &[
    (
        "remote-as",
        "AS number of the neighbor (same as ours: iBGP)",
    ),
    ("description", "free text"),
    ("shutdown", "administratively down"),
    ("passive", "only accept connections"),
    ("ebgp-multihop", "eBGP multihop [TTL]"),
    ("update-source", "local ADDRESS of the session"),
    ("port", "TCP port"),
    ("timers", "timers KEEPALIVE HOLDTIME"),
    ("route-map", "route-map NAME in|out"),
    ("next-hop-self", "iBGP: our address as next hop"),
    ("route-reflector-client", "RFC 4456 client"),
    ("allowas-in", "accept our AS in the path [N times]"),
    (
        "capability",
        "capability extended-nexthop: IPv4 routes with IPv6 next hops (RFC 8950)",
    ),
    (
        "addpath-tx-all-paths",
        "ADD-PATH (RFC 7911): send every path (and receive paths)",
    ),
    (
        "addpath-tx-best-selected",
        "addpath-tx-best-selected N: ADD-PATH, send the best N paths (2-64)",
    ),
    ("activate", "enable the address family (in address-family)"),
    ("password", "password SECRET: TCP MD5 signatures (RFC 2385)"),
    ("prefix-list", "prefix-list NAME in|out"),
    ("ttl-security", "ttl-security hops 1: GTSM (RFC 5082)"),
    (
        "interface",
        "interface IFNAME: the link of a link-local (fe80::) neighbor",
    ),
    (
        "maximum-prefix",
        "maximum-prefix N [THRESHOLD%] [restart MINUTES | warning-only]",
    ),
    (
        "peer-group",
        "peer-group NAME: inherit the group's settings",
    ),
];

pub const OSPF_WORDS: &[(&str, &str)] = &[
    (
        "area",
        "area ID stub [default-cost N] | area ID range PREFIX",
    ),
    ("passive-interface", "passive-interface IFNAME"),
    (
        "redistribute",
        "redistribute connected|static|kernel|bgp|anycast [metric N] [metric-type 1|2]",
    ),
    ("timers", "timers throttle spf DELAY INITIAL MAX (ms)"),
    ("no", "remove a setting"),
    ("do", "run an exec command"),
    ("exit", "one level up"),
    ("end", "back to exec mode"),
];

pub const INTERFACE_WORDS: &[(&str, &str)] = &[
    ("ip", "ip ospf area|cost|priority|hello-interval|dead-interval|retransmit-interval|transmit-delay|network|passive"),
    ("no", "remove a setting"),
    ("do", "run an exec command"),
    ("exit", "one level up"),
    ("end", "back to exec mode"),
];

/// The words a mode offers (for `?` and Tab).
pub fn words(mode: &Mode) -> &'static [(&'static str, &'static str)] {
    match mode {
        Mode::Exec => &[],
        Mode::Config => CONFIG_WORDS,
        Mode::RouterBgp | Mode::BgpFamily(_) => BGP_WORDS,
        Mode::RouterOspf => OSPF_WORDS,
        Mode::Interface(_) => INTERFACE_WORDS,
        Mode::RouteMap { .. } => policy::ROUTE_MAP_WORDS,
        Mode::AnycastService(_) => anycast::SERVICE_WORDS,
    }
}

/// Parses one configure-mode line (without `do`, `end`, `exit`, `write`,
/// which the shell handles).
pub fn parse(mode: &Mode, line: &str) -> Result<Step, String> {
    let all: Vec<&str> = line.split_whitespace().collect();
    let (neg, w) = match all.first().and_then(|x| kw(x, &["no"])) {
        Some(_) => (true, &all[1..]),
        None => (false, &all[..]),
    };
    let first = need(w, 0)?;
    let r = match mode {
        Mode::Exec => return Err("% Not in configure mode".into()),
        Mode::Config => return config_line(neg, w, first),
        Mode::RouterBgp => bgp_line(neg, w, first, None),
        Mode::BgpFamily(f) => bgp_line(neg, w, first, Some(f)),
        Mode::RouterOspf => ospf_line(neg, w, first),
        Mode::Interface(name) => interface_line(neg, w, first, name),
        Mode::RouteMap { name, seq } => policy::entry_line(neg, w, name, *seq),
        Mode::AnycastService(name) => anycast::line(neg, w, name),
    };
    // As in FRR, a line the mode does not know is tried at the top of
    // configure mode (`route-map X permit 20` right after entry 10).
    match r {
        Err(e) if e.starts_with("% Unknown command") => config_line(neg, w, first).map_err(|_| e),
        r => r,
    }
}

fn config_line(neg: bool, w: &[&str], first: &str) -> Result<Step, String> {
    let unknown = || format!("% Unknown command: {}", w.join(" "));
    match kw(
        first,
        &[
            "router",
            "interface",
            "ip",
            "ipv6",
            "log",
            "route-map",
            "bgp",
            "anycast",
        ],
    ) {
        Some("route-map") => policy::route_map_line(neg, w),
        Some("bgp") => policy::list_line(neg, w),
        Some("anycast") => anycast::service_line(neg, w),
        Some("router") if !neg => match kw(need(w, 1)?, &["bgp", "ospf"]) {
            Some("bgp") => {
                let asn = need(w, 2)?
                    .parse::<u32>()
                    .map_err(|_| format!("% Malformed AS number: {}", w[2]))?;
                no_more(w, 3)?;
                Ok(Step::Enter(
                    Mode::RouterBgp,
                    vec![(Daemon::Bgpd, Op::Asn(asn))],
                ))
            }
            Some("ospf") => {
                no_more(w, 2)?;
                Ok(Step::Enter(Mode::RouterOspf, Vec::new()))
            }
            _ => Err(unknown()),
        },
        Some("interface") if !neg => {
            let name = need(w, 1)?;
            no_more(w, 2)?;
            Ok(Step::Enter(Mode::Interface(name.to_string()), Vec::new()))
        }
        Some(fam @ ("ip" | "ipv6")) => match kw(need(w, 1)?, &["route", "prefix-list"]) {
            Some("route") => static_route(neg, fam == "ipv6", &w[2..]),
            Some("prefix-list") => prefix_list(neg, fam == "ipv6", &w[2..]),
            _ => Err(unknown()),
        },
        Some("log") => {
            if kw(need(w, 1)?, &["level"]).is_none() {
                return Err(unknown());
            }
            let (level, rest) = if neg {
                (None, 2)
            } else {
                let l = need(w, 2)?;
                let level = kw(l, &common_levels()).ok_or_else(|| {
                    format!("% Unknown log level {l} (error, warn, info, debug, trace)")
                })?;
                (Some(Val::Str(level.to_string())), 3)
            };
            let daemons: Vec<Daemon> = match w.get(rest) {
                Some(d) => vec![Daemon::from_name(d)
                    .ok_or_else(|| format!("% Unknown daemon {d} (zebrad, bgpd, ospfd)"))?],
                None => Daemon::ALL.to_vec(),
            };
            no_more(w, rest + 1)?;
            Ok(Step::Edit(
                daemons
                    .into_iter()
                    .map(|d| {
                        (
                            d,
                            Op::Set {
                                target: Target::Table("log"),
                                create: true,
                                missing: "",
                                keys: vec![("level", level.clone())],
                            },
                        )
                    })
                    .collect(),
            ))
        }
        _ => Err(unknown()),
    }
}

fn common_levels() -> [&'static str; 5] {
    ["error", "warn", "info", "debug", "trace"]
}

/// `ip route PREFIX (GATEWAY|IFNAME|blackhole|reject) [DISTANCE] [table N]`.
fn static_route(neg: bool, v6: bool, w: &[&str]) -> Result<Step, String> {
    let p = prefix(need(w, 0)?)?;
    if p.is_ipv6() != v6 {
        return Err(format!(
            "% {p} is not an {} prefix",
            if v6 { "IPv6" } else { "IPv4" }
        ));
    }
    let target = Target::Entry {
        aot: "static",
        key: "prefix",
        id: Val::Str(p.to_string()),
    };
    let Some(nh) = w.get(1) else {
        if !neg {
            return Err("% Command incomplete".into());
        }
        return Ok(Step::Edit(vec![(
            Daemon::Zebrad,
            Op::Remove {
                target,
                missing: "% No such static route",
            },
        )]));
    };
    let mut keys: Vec<(&'static str, Option<Val>)> = Vec::new();
    let mut i = 2;
    if let Some(d) = w.get(i).filter(|d| d.parse::<i64>().is_ok()) {
        keys.push(("distance", Some(Val::Int(int(d, "distance")?))));
        i += 1;
    }
    if w.get(i).and_then(|x| kw(x, &["table"])).is_some() {
        keys.push(("table", Some(Val::Int(int(need(w, i + 1)?, "table")?))));
        i += 2;
    }
    no_more(w, i)?;
    let kind = kw(nh, &["blackhole", "reject", "Null0"]).map(|k| match k {
        "reject" => "unreachable",
        _ => "blackhole",
    });
    let op = if let Some(kind) = kind {
        if neg {
            Op::Remove {
                target,
                missing: "% No such static route",
            }
        } else {
            keys.push(("kind", Some(Val::Str(kind.into()))));
            keys.push(("via", None));
            keys.push(("interface", None));
            Op::Set {
                target,
                create: true,
                missing: "",
                keys,
            }
        }
    } else if let Ok(gw) = nh.parse::<IpAddr>() {
        if gw.is_ipv6() != v6 {
            return Err(format!("% Gateway {gw} is not of the prefix's family"));
        }
        if !neg && !keys.is_empty() {
            // Distance/table with a gateway: set them, then add the gateway.
            return Ok(Step::Edit(vec![
                (
                    Daemon::Zebrad,
                    Op::Set {
                        target: target.clone(),
                        create: true,
                        missing: "",
                        keys,
                    },
                ),
                (
                    Daemon::Zebrad,
                    Op::List {
                        target,
                        key: "via",
                        val: Val::Str(gw.to_string()),
                        add: true,
                        drop_empty: false,
                    },
                ),
            ]));
        }
        Op::List {
            target,
            key: "via",
            val: Val::Str(gw.to_string()),
            add: !neg,
            drop_empty: true,
        }
    } else if neg {
        Op::Remove {
            target,
            missing: "% No such static route",
        }
    } else {
        keys.push(("interface", Some(Val::Str(nh.to_string()))));
        Op::Set {
            target,
            create: true,
            missing: "",
            keys,
        }
    };
    Ok(Step::Edit(vec![(Daemon::Zebrad, op)]))
}

/// `ip prefix-list NAME [seq N] permit|deny PREFIX [ge N] [le N]` into
/// bgpd's `[[prefix_list]]`.
fn prefix_list(neg: bool, v6: bool, w: &[&str]) -> Result<Step, String> {
    let name = need(w, 0)?.to_string();
    let mut i = 1;
    let mut seq = None;
    if w.get(i).and_then(|x| kw(x, &["seq"])).is_some() {
        seq = Some(int(need(w, i + 1)?, "sequence number")?);
        i += 2;
    }
    let list = NamedList {
        aot: "prefix_list",
        name,
        head: Vec::new(),
        what: "prefix list",
    };
    let Some(action) = w.get(i) else {
        if neg {
            return Ok(Step::Edit(vec![(
                Daemon::Bgpd,
                Op::Seq {
                    list,
                    seq,
                    edit: SeqEdit::Remove,
                },
            )]));
        }
        return Err("% Command incomplete".into());
    };
    let action = kw(action, &["permit", "deny"])
        .ok_or_else(|| format!("% Unknown action {action} (permit, deny)"))?;
    let p = prefix(need(w, i + 1)?)?;
    if p.is_ipv6() != v6 {
        return Err(format!("% {p} is not of this prefix list's family"));
    }
    i += 2;
    let mut keys = vec![
        ("action", Val::Str(action.to_string())),
        ("prefix", Val::Str(p.to_string())),
    ];
    while let Some(x) = w.get(i) {
        match kw(x, &["ge", "le"]) {
            Some(k @ ("ge" | "le")) => keys.push((k, Val::Int(int(need(w, i + 1)?, "length")?))),
            _ => return Err(format!("% Unknown command: `{x}`")),
        }
        i += 2;
    }
    let edit = if neg {
        SeqEdit::Remove
    } else {
        SeqEdit::Put(keys)
    };
    Ok(Step::Edit(vec![(
        Daemon::Bgpd,
        Op::Seq { list, seq, edit },
    )]))
}

fn neighbor_target(addr: IpAddr) -> Target {
    Target::Entry {
        aot: "neighbor",
        key: "address",
        id: Val::Str(addr.to_string()),
    }
}

const NO_REMOTE_AS: &str = "% Specify remote-as or peer-group commands first";

fn bgp_line(neg: bool, w: &[&str], first: &str, family: Option<&str>) -> Result<Step, String> {
    let unknown = || format!("% Unknown command: {}", w.join(" "));
    match kw(
        first,
        &[
            "neighbor",
            "network",
            "aggregate-address",
            "address-family",
            "exit-address-family",
        ],
    ) {
        Some("aggregate-address") => aggregate_address(neg, w, family),
        Some("address-family") if !neg => {
            let f = kw(need(w, 1)?, &["ipv4", "ipv6"]).ok_or_else(unknown)?;
            if let Some(x) = w.get(2) {
                kw(x, &["unicast"]).ok_or_else(|| format!("% Only unicast families: `{x}`"))?;
            }
            no_more(w, 3)?;
            Ok(Step::Enter(
                Mode::BgpFamily(if f == "ipv6" {
                    "ipv6-unicast"
                } else {
                    "ipv4-unicast"
                }),
                Vec::new(),
            ))
        }
        Some("exit-address-family") => Ok(Step::Enter(Mode::RouterBgp, Vec::new())),
        Some("network") => network(neg, w, family),
        Some("neighbor") => {
            let who = need(w, 1)?;
            let peer = match who.parse::<IpAddr>() {
                Ok(addr) => Peer::Neighbor(addr),
                // FRR: a word that is not an address names a peer group.
                Err(_) if who.chars().next().is_some_and(char::is_alphabetic) => {
                    Peer::Group(who.to_string())
                }
                Err(_) => return Err(format!("% Malformed address: {who}")),
            };
            neighbor(neg, &peer, &w[2..], family).map(|op| Step::Edit(vec![(Daemon::Bgpd, op)]))
        }
        _ => Err(unknown()),
    }
}

/// `network PREFIX [route-map NAME]` (in `router bgp` or its address
/// family, whose family the prefix must be): the prefix in
/// `bgp.networks`, its route map in `bgp.network_policy` (a `network`
/// without one removes it, as FRR). `no network PREFIX` removes both.
fn network(neg: bool, w: &[&str], family: Option<&str>) -> Result<Step, String> {
    let p = prefix(need(w, 1)?)?;
    if family.is_some() && (family == Some("ipv6-unicast")) != p.is_ipv6() {
        return Err(format!("% {p} is not of this address family"));
    }
    let map = match w.get(2) {
        None => None,
        Some(x) => {
            kw(x, &["route-map"]).ok_or_else(|| format!("% Unknown option: `{x}`"))?;
            let name = need(w, 3)?;
            no_more(w, 4)?;
            Some(name)
        }
    };
    let policy = Op::Nested {
        target: Target::Table("bgp"),
        missing: "% No [bgp] table",
        path: vec!["network_policy".into(), p.to_string()],
        keys: vec![(
            "route_map",
            map.filter(|_| !neg).map(|m| Val::Str(m.to_string())),
        )],
    };
    let list = Op::List {
        target: Target::Table("bgp"),
        key: "networks",
        val: Val::Str(p.to_string()),
        add: !neg,
        drop_empty: false,
    };
    Ok(Step::Edit(vec![
        (Daemon::Bgpd, list),
        (Daemon::Bgpd, policy),
    ]))
}

/// `aggregate-address PREFIX [summary-only] [as-set]` (FRR's words, in
/// `router bgp` or its address family): a `[[aggregate]]` entry.
fn aggregate_address(neg: bool, w: &[&str], family: Option<&str>) -> Result<Step, String> {
    let p = prefix(need(w, 1)?)?;
    let v6 = family == Some("ipv6-unicast");
    if family.is_some() && v6 != p.is_ipv6() {
        return Err(format!("% {p} is not of this address family"));
    }
    let target = Target::Entry {
        aot: "aggregate",
        key: "prefix",
        id: Val::Str(p.to_string()),
    };
    let (mut summary_only, mut as_set) = (false, false);
    for x in w.iter().skip(2) {
        match kw(x, &["summary-only", "as-set"]) {
            Some("summary-only") => summary_only = true,
            Some("as-set") => as_set = true,
            _ => return Err(format!("% Unknown option: `{x}`")),
        }
    }
    let op = if neg {
        Op::Remove {
            target,
            missing: "% No such aggregate",
        }
    } else {
        Op::Set {
            target,
            create: true,
            missing: "% No such aggregate",
            keys: vec![
                ("summary_only", summary_only.then_some(Val::Bool(true))),
                ("as_set", as_set.then_some(Val::Bool(true))),
            ],
        }
    };
    Ok(Step::Edit(vec![(Daemon::Bgpd, op)]))
}

/// What `neighbor X` names: a neighbor by address, or a peer group
/// (`[[peer_group]]`) by name.
enum Peer {
    Neighbor(IpAddr),
    Group(String),
}

const NO_GROUP: &str = "% Create the peer group first: neighbor NAME peer-group";

fn neighbor(neg: bool, peer: &Peer, w: &[&str], family: Option<&str>) -> Result<Op, String> {
    let (target, missing, gone) = match peer {
        Peer::Neighbor(addr) => (neighbor_target(*addr), NO_REMOTE_AS, "% No such neighbor"),
        Peer::Group(name) => (
            Target::Entry {
                aot: "peer_group",
                key: "name",
                id: Val::Str(name.clone()),
            },
            NO_GROUP,
            "% No such peer group",
        ),
    };
    let Some(word) = w.first() else {
        if neg {
            return Ok(Op::Remove {
                target,
                missing: gone,
            });
        }
        return Err("% Command incomplete".into());
    };
    // `neighbor NAME peer-group`: the group itself.
    if let (Peer::Group(_), 1) = (peer, w.len()) {
        if kw(word, &["peer-group"]).is_some() {
            return Ok(if neg {
                Op::Remove {
                    target,
                    missing: gone,
                }
            } else {
                Op::Set {
                    target,
                    create: true,
                    missing: "",
                    keys: Vec::new(),
                }
            });
        }
    }
    let set = |keys: Vec<(&'static str, Option<Val>)>| Op::Set {
        target: target.clone(),
        create: false,
        missing,
        keys,
    };
    let flag = |key: &'static str| set(vec![(key, (!neg).then_some(Val::Bool(true)))]);
    let arg = |i: usize| need(w, i);
    let word = kw(
        word,
        &[
            "remote-as",
            "description",
            "shutdown",
            "passive",
            "ebgp-multihop",
            "update-source",
            "port",
            "timers",
            "route-map",
            "next-hop-self",
            "route-reflector-client",
            "allowas-in",
            "activate",
            "password",
            "ttl-security",
            "maximum-prefix",
            "prefix-list",
            "peer-group",
            "capability",
            "addpath-tx-all-paths",
            "addpath-tx-best-selected",
            "interface",
        ],
    )
    .ok_or_else(|| format!("% Unknown neighbor command: `{word}`"))?;
    Ok(match word {
        "remote-as" if neg => match peer {
            Peer::Neighbor(_) => Op::Remove {
                target,
                missing: gone,
            },
            Peer::Group(_) => set(vec![("remote_as", None)]),
        },
        "remote-as" => {
            let asn = arg(1)?
                .parse::<u32>()
                .map_err(|_| format!("% Malformed AS number: {}", w[1]))?;
            no_more(w, 2)?;
            Op::Set {
                target,
                create: matches!(peer, Peer::Neighbor(_)),
                missing,
                keys: vec![("remote_as", Some(Val::Int(asn.into())))],
            }
        }
        "description" => set(vec![(
            "description",
            (!neg)
                .then(|| w[1..].join(" "))
                .filter(|d| !d.is_empty())
                .map(Val::Str),
        )]),
        "shutdown" => flag("shutdown"),
        "passive" => flag("passive"),
        "next-hop-self" => flag("next_hop_self"),
        "capability" => {
            kw(arg(1)?, &["extended-nexthop"])
                .ok_or_else(|| format!("% Unknown capability: `{}`", w[1]))?;
            no_more(w, 2)?;
            flag("extended_nexthop")
        }
        // FRR's words: ADD-PATH both ways, sending all or the best N.
        "addpath-tx-all-paths" | "addpath-tx-best-selected" if neg => {
            set(vec![("add_path", None), ("add_path_send", None)])
        }
        "addpath-tx-all-paths" => {
            no_more(w, 1)?;
            set(vec![
                ("add_path", Some(Val::Str("both".into()))),
                ("add_path_send", Some(Val::Str("all".into()))),
            ])
        }
        "addpath-tx-best-selected" => {
            let n = int(arg(1)?, "path count")?;
            if !(2..=64).contains(&n) {
                return Err(format!("% best-selected takes 2 to 64 paths, not {n}"));
            }
            no_more(w, 2)?;
            set(vec![
                ("add_path", Some(Val::Str("both".into()))),
                ("add_path_send", Some(Val::Str(format!("best-{n}")))),
            ])
        }
        "route-reflector-client" => flag("rr_client"),
        "ebgp-multihop" => set(vec![(
            "multihop",
            if neg {
                None
            } else {
                Some(Val::Int(match w.get(1) {
                    Some(t) => int(t, "TTL")?,
                    None => 255,
                }))
            },
        )]),
        "allowas-in" => set(vec![(
            "allowas_in",
            if neg {
                None
            } else {
                Some(Val::Int(match w.get(1) {
                    Some(t) => int(t, "count")?,
                    None => 3,
                }))
            },
        )]),
        "update-source" => set(vec![(
            "source",
            if neg {
                None
            } else {
                Some(Val::Str(ip(arg(1)?)?.to_string()))
            },
        )]),
        // FRR's `neighbor fe80::2 interface eth0`: a link-local neighbor.
        "interface" => set(vec![(
            "interface",
            if neg {
                None
            } else {
                no_more(w, 2)?;
                Some(Val::Str(arg(1)?.to_string()))
            },
        )]),
        "port" => set(vec![(
            "port",
            if neg {
                None
            } else {
                Some(Val::Int(int(arg(1)?, "port")?))
            },
        )]),
        "timers" => set(vec![(
            "hold_time",
            if neg {
                None
            } else {
                // FRR: timers KEEPALIVE HOLDTIME; bgpd derives keepalives
                // from the hold time (a third of it).
                arg(1)?;
                Some(Val::Int(int(arg(2)?, "hold time")?))
            },
        )]),
        "route-map" | "prefix-list" => {
            // `no neighbor X route-map [NAME] in`: the name may be left out.
            let dir = if neg { w.get(2).or(w.get(1)) } else { w.get(2) }
                .copied()
                .ok_or_else(|| "% Command incomplete".to_string())?;
            let inbound = match kw(dir, &["in", "out"]) {
                Some(d) => d == "in",
                None => return Err(format!("% Direction in or out, not `{dir}`")),
            };
            let v = if neg {
                None
            } else {
                no_more(w, 3)?;
                Some(Val::Str(arg(1)?.to_string()))
            };
            match (word, family) {
                // In an address family, a route map is that family's
                // (`family_policy`); the neighbor's own applies to the rest.
                ("route-map", Some(f)) => Op::Nested {
                    target,
                    missing: NO_REMOTE_AS,
                    path: vec!["family_policy".into(), f.to_string()],
                    keys: vec![(if inbound { "import" } else { "export" }, v)],
                },
                ("route-map", None) => set(vec![(if inbound { "import" } else { "export" }, v)]),
                _ => set(vec![(
                    if inbound {
                        "prefix_list_in"
                    } else {
                        "prefix_list_out"
                    },
                    v,
                )]),
            }
        }
        "password" => set(vec![(
            "password",
            if neg {
                None
            } else {
                no_more(w, 2)?;
                Some(Val::Str(arg(1)?.to_string()))
            },
        )]),
        "peer-group" if matches!(peer, Peer::Group(_)) => {
            return Err("% A peer group is not a member of another".into())
        }
        "peer-group" => set(vec![(
            "peer_group",
            if neg {
                None
            } else {
                no_more(w, 2)?;
                Some(Val::Str(arg(1)?.to_string()))
            },
        )]),
        "activate" => {
            let f = family.unwrap_or("ipv4-unicast");
            Op::List {
                target,
                key: "families",
                val: Val::Str(f.to_string()),
                add: !neg,
                drop_empty: false,
            }
        }
        "ttl-security" => {
            if !neg {
                // bgpd's GTSM is for directly connected peers.
                match (w.get(1), w.get(2)) {
                    (Some(h), Some(&"1")) if kw(h, &["hops"]).is_some() => no_more(w, 3)?,
                    _ => return Err("% bgpd supports `ttl-security hops 1`".into()),
                }
            }
            flag("ttl_security")
        }
        "maximum-prefix" => {
            const KEYS: [&str; 4] = [
                "max_prefixes",
                "max_prefixes_warning",
                "max_prefixes_restart",
                "max_prefixes_action",
            ];
            if neg {
                set(KEYS.iter().map(|k| (*k, None)).collect())
            } else {
                // FRR: maximum-prefix N [THRESHOLD] [restart MINUTES | warning-only]
                let max = int(arg(1)?, "maximum")?;
                let mut warning = None;
                let mut restart = None;
                let mut action = "teardown";
                let mut i = 2;
                while let Some(x) = w.get(i) {
                    match kw(x, &["restart", "warning-only"]) {
                        Some("restart") => {
                            restart = Some(int(arg(i + 1)?, "restart minutes")? * 60);
                            i += 2;
                        }
                        Some(_) => {
                            action = "warning";
                            i += 1;
                        }
                        None => {
                            warning = Some(int(x, "threshold")?);
                            i += 1;
                        }
                    }
                }
                set(vec![
                    (KEYS[0], Some(Val::Int(max))),
                    (KEYS[1], warning.map(Val::Int)),
                    (KEYS[2], restart.map(Val::Int)),
                    (KEYS[3], Some(Val::Str(action.into()))),
                ])
            }
        }
        _ => return Err(format!("% Unknown neighbor command: `{word}`")),
    })
}

fn ospf_line(neg: bool, w: &[&str], first: &str) -> Result<Step, String> {
    let unknown = || format!("% Unknown command: {}", w.join(" "));
    let op = match kw(
        first,
        &["area", "passive-interface", "redistribute", "timers"],
    ) {
        Some("area") => {
            let id = need(w, 1)?.to_string();
            let target = Target::Entry {
                aot: "area",
                key: "id",
                id: area_id(&id)?,
            };
            match kw(need(w, 2)?, &["stub", "range"]) {
                Some("stub") => {
                    let mut keys = vec![(
                        "type",
                        Some(Val::Str(if neg { "normal" } else { "stub" }.into())),
                    )];
                    if let (Some(_), Some(c)) =
                        (w.get(3).and_then(|x| kw(x, &["default-cost"])), w.get(4))
                    {
                        keys.push(("default_cost", Some(Val::Int(int(c, "cost")?))));
                    }
                    Op::Set {
                        target,
                        create: true,
                        missing: "",
                        keys,
                    }
                }
                Some("range") => Op::List {
                    target,
                    key: "ranges",
                    val: Val::Str(prefix(need(w, 3)?)?.to_string()),
                    add: !neg,
                    drop_empty: false,
                },
                _ => return Err(unknown()),
            }
        }
        Some("passive-interface") => Op::Set {
            target: Target::Entry {
                aot: "interface",
                key: "name",
                id: Val::Str(need(w, 1)?.to_string()),
            },
            create: false,
            missing: "% OSPF does not run on that interface (interface NAME, ip ospf area A)",
            keys: vec![("passive", (!neg).then_some(Val::Bool(true)))],
        },
        Some("redistribute") => {
            let src = kw(
                need(w, 1)?,
                &["connected", "static", "kernel", "bgp", "anycast"],
            )
            .ok_or_else(unknown)?;
            let target = Target::Entry {
                aot: "redistribute",
                key: "source",
                id: Val::Str(src.into()),
            };
            if neg {
                Op::Remove {
                    target,
                    missing: "% Not redistributed",
                }
            } else {
                let mut keys = Vec::new();
                let mut i = 2;
                while let Some(x) = w.get(i) {
                    match kw(x, &["metric", "metric-type"]) {
                        Some("metric") => {
                            keys.push(("metric", Some(Val::Int(int(need(w, i + 1)?, "metric")?))))
                        }
                        Some(_) => keys.push((
                            "metric_type",
                            Some(Val::Int(int(need(w, i + 1)?, "metric type")?)),
                        )),
                        None => return Err(unknown()),
                    }
                    i += 2;
                }
                Op::Set {
                    target,
                    create: true,
                    missing: "",
                    keys,
                }
            }
        }
        Some("timers") => {
            if kw(need(w, 1)?, &["throttle"]).is_none() || kw(need(w, 2)?, &["spf"]).is_none() {
                return Err(unknown());
            }
            let keys = if neg {
                vec![("delay", None), ("initial_hold", None), ("max_hold", None)]
            } else {
                no_more(w, 6)?;
                vec![
                    ("delay", Some(Val::Int(int(need(w, 3)?, "delay")?))),
                    ("initial_hold", Some(Val::Int(int(need(w, 4)?, "hold")?))),
                    ("max_hold", Some(Val::Int(int(need(w, 5)?, "hold")?))),
                ]
            };
            Op::Set {
                target: Target::Table("spf"),
                create: true,
                missing: "",
                keys,
            }
        }
        _ => return Err(unknown()),
    };
    Ok(Step::Edit(vec![(Daemon::Ospfd, op)]))
}

/// An area id as ospfd takes it: a number or a dotted quad (kept as typed).
fn area_id(s: &str) -> Result<Val, String> {
    if let Ok(n) = s.parse::<u32>() {
        return Ok(Val::Str(std::net::Ipv4Addr::from(n).to_string()));
    }
    s.parse::<std::net::Ipv4Addr>()
        .map(|a| Val::Str(a.to_string()))
        .map_err(|_| format!("% Malformed area id: {s}"))
}

fn interface_line(neg: bool, w: &[&str], first: &str, name: &str) -> Result<Step, String> {
    let unknown = || format!("% Unknown command: {}", w.join(" "));
    if kw(first, &["ip"]).is_none() || kw(need(w, 1)?, &["ospf"]).is_none() {
        return Err(unknown());
    }
    let target = Target::Entry {
        aot: "interface",
        key: "name",
        id: Val::Str(name.to_string()),
    };
    let setting = kw(
        need(w, 2)?,
        &[
            "area",
            "cost",
            "priority",
            "hello-interval",
            "dead-interval",
            "retransmit-interval",
            "transmit-delay",
            "network",
            "passive",
        ],
    )
    .ok_or_else(unknown)?;
    let set = |key: &'static str, v: Option<Val>| Op::Set {
        target: target.clone(),
        create: false,
        missing: "% OSPF does not run on this interface yet: ip ospf area AREA first",
        keys: vec![(key, v)],
    };
    let num = |key: &'static str| -> Result<Op, String> {
        Ok(set(
            key,
            if neg {
                None
            } else {
                Some(Val::Int(int(need(w, 3)?, key)?))
            },
        ))
    };
    let op = match setting {
        "area" if neg => Op::Remove {
            target,
            missing: "% OSPF does not run on this interface",
        },
        "area" => Op::Set {
            target,
            create: true,
            missing: "",
            keys: vec![("area", Some(area_id(need(w, 3)?)?))],
        },
        "cost" => num("cost")?,
        "priority" => num("priority")?,
        "hello-interval" => num("hello_interval")?,
        "dead-interval" => num("dead_interval")?,
        "retransmit-interval" => num("retransmit_interval")?,
        "transmit-delay" => num("transmit_delay")?,
        "network" => set(
            "type",
            if neg {
                None
            } else {
                let t = kw(need(w, 3)?, &["broadcast", "point-to-point"])
                    .ok_or_else(|| "% Network type broadcast or point-to-point".to_string())?;
                Some(Val::Str(t.into()))
            },
        ),
        _ => set("passive", (!neg).then_some(Val::Bool(true))),
    };
    Ok(Step::Edit(vec![(Daemon::Ospfd, op)]))
}

// ---------------------------------------------------------------------------
// Edits of the document.

fn find_entry<'a>(
    doc: &'a mut DocumentMut,
    aot: &str,
    key: &str,
    id: &Val,
) -> Option<&'a mut Table> {
    doc.get_mut(aot)?
        .as_array_of_tables_mut()?
        .iter_mut()
        .find(|t| {
            t.get(key)
                .and_then(Item::as_value)
                .is_some_and(|v| id.matches(v))
        })
}

fn table<'a>(
    doc: &'a mut DocumentMut,
    target: &Target,
    create: bool,
    missing: &str,
) -> Result<&'a mut Table, String> {
    match target {
        Target::Table("") => Ok(doc.as_table_mut()),
        Target::Table(name) => {
            if doc.get(name).is_none() {
                if !create {
                    return Err(missing.to_string());
                }
                doc.insert(name, Item::Table(Table::new()));
            }
            doc.get_mut(name)
                .and_then(Item::as_table_mut)
                .ok_or_else(|| format!("% `{name}` in the configuration is not a table"))
        }
        Target::Entry { aot, key, id } => {
            if find_entry(doc, aot, key, id).is_none() {
                if !create {
                    return Err(missing.to_string());
                }
                if doc.get(aot).is_none() {
                    doc.insert(aot, Item::ArrayOfTables(ArrayOfTables::new()));
                }
                let mut t = Table::new();
                t.insert(key, Item::Value(id.to_value()));
                doc.get_mut(aot)
                    .and_then(Item::as_array_of_tables_mut)
                    .ok_or_else(|| format!("% `{aot}` in the configuration is not [[{aot}]]"))?
                    .push(t);
            }
            find_entry(doc, aot, key, id).ok_or_else(|| missing.to_string())
        }
    }
}

fn remove_entry(doc: &mut DocumentMut, target: &Target, missing: &str) -> Result<(), String> {
    let Target::Entry { aot, key, id } = target else {
        return Err("% Only entries are removed".into());
    };
    let list = doc
        .get_mut(aot)
        .and_then(Item::as_array_of_tables_mut)
        .ok_or_else(|| missing.to_string())?;
    let idx = list
        .iter()
        .position(|t| {
            t.get(key)
                .and_then(Item::as_value)
                .is_some_and(|v| id.matches(v))
        })
        .ok_or_else(|| missing.to_string())?;
    list.remove(idx);
    if list.is_empty() {
        doc.remove(aot);
    }
    Ok(())
}

/// Makes `op`'s change in `doc`.
pub fn apply(doc: &mut DocumentMut, op: &Op) -> Result<(), String> {
    match op {
        Op::Asn(asn) => {
            let running = doc
                .get("bgp")
                .and_then(|b| b.get("asn"))
                .and_then(Item::as_integer);
            match running {
                Some(r) if r == i64::from(*asn) => Ok(()),
                Some(r) => Err(format!("% BGP is already running; AS is {r}")),
                None => Err("% bgpd's configuration has no bgp.asn".into()),
            }
        }
        Op::Set {
            target,
            create,
            missing,
            keys,
        } => {
            let t = table(doc, target, *create, missing)?;
            for (k, v) in keys {
                match v {
                    Some(v) => match t.get_mut(k).and_then(Item::as_value_mut) {
                        // Keep the key's place, its comment and spacing.
                        Some(old) => {
                            let decor = old.decor().clone();
                            *old = v.to_value();
                            *old.decor_mut() = decor;
                        }
                        None => {
                            t.insert(k, value(v.to_value()));
                        }
                    },
                    None => {
                        t.remove(k);
                    }
                }
            }
            Ok(())
        }
        Op::List {
            target,
            key,
            val,
            add,
            drop_empty,
        } => {
            let t = table(doc, target, *add, "% No such entry")?;
            let mut arr = match t.get(key).and_then(Item::as_value) {
                Some(Value::Array(a)) => a.clone(),
                Some(v) => {
                    let mut a = Array::new();
                    a.push(v.clone());
                    a
                }
                None => Array::new(),
            };
            let present = arr.iter().position(|v| val.matches(v));
            match (add, present) {
                (true, Some(_)) => return Ok(()),
                (true, None) => arr.push(val.to_value()),
                (false, Some(i)) => {
                    arr.remove(i);
                }
                (false, None) => return Err("% No such value".into()),
            }
            arr.fmt();
            let empty = arr.is_empty();
            match t.get_mut(key).and_then(Item::as_value_mut) {
                Some(old) => {
                    let decor = old.decor().clone();
                    *old = Value::Array(arr);
                    *old.decor_mut() = decor;
                }
                None => {
                    t.insert(key, value(arr));
                }
            }
            if empty && !*add {
                if *drop_empty {
                    return remove_entry(doc, target, "% No such entry");
                }
                t.remove(key);
            }
            Ok(())
        }
        Op::Remove { target, missing } => remove_entry(doc, target, missing),
        Op::Seq { list, seq, edit } => seq_edit(doc, list, *seq, edit),
        Op::Nested {
            target,
            missing,
            path,
            keys,
        } => nested_edit(table(doc, target, false, missing)?, path, keys),
        Op::Sub {
            target,
            aot,
            fields,
            add,
        } => sub_edit(
            table(doc, target, false, "% No such entry")?,
            aot,
            fields,
            *add,
        ),
    }
}

/// The entries array of list `list`, created when `create`.
fn entries<'a>(
    doc: &'a mut DocumentMut,
    list: &NamedList,
    create: bool,
) -> Result<&'a mut Array, String> {
    let target = Target::Entry {
        aot: list.aot,
        key: "name",
        id: Val::Str(list.name.clone()),
    };
    let missing = format!("% No such {} {}", list.what, list.name);
    let t = table(doc, &target, create, &missing)?;
    for (k, v) in &list.head {
        match t.get(k).and_then(Item::as_value) {
            Some(old) if !v.matches(old) => {
                return Err(format!(
                    "% {} {} exists with {k} {old}",
                    list.what,
                    list.name,
                    old = old.to_string().trim()
                ))
            }
            Some(_) => {}
            None => {
                t.insert(k, value(v.to_value()));
            }
        }
    }
    if t.get("entries").is_none() {
        if !create {
            return Err(missing);
        }
        t.insert("entries", value(Array::new()));
    }
    t.get_mut("entries")
        .and_then(Item::as_value_mut)
        .and_then(Value::as_array_mut)
        .ok_or_else(|| {
            format!(
                "% entries of {} {} is not an inline array (`entries = [...]`): edit the file",
                list.what, list.name
            )
        })
}

/// Makes an [`Op::Seq`] change: entries stay ordered by `seq`.
fn seq_edit(
    doc: &mut DocumentMut,
    list: &NamedList,
    seq: Option<i64>,
    edit: &SeqEdit,
) -> Result<(), String> {
    let target = Target::Entry {
        aot: list.aot,
        key: "name",
        id: Val::Str(list.name.clone()),
    };
    let name = &list.name;
    if *edit == SeqEdit::Remove {
        let Some(seq) = seq else {
            return remove_entry(doc, &target, &format!("% No such {} {name}", list.what));
        };
        let arr = entries(doc, list, false)?;
        let idx = arr
            .iter()
            .position(|v| entry_seq(v) == Some(seq))
            .ok_or_else(|| format!("% No entry seq {seq} in {name}"))?;
        arr.remove(idx);
        return Ok(());
    }
    let create = match edit {
        SeqEdit::Keys { create, .. } => *create,
        _ => true,
    };
    let arr = entries(doc, list, create)?;
    // FRR: without seq, 5 more than the highest.
    let seq = seq.unwrap_or_else(|| arr.iter().filter_map(entry_seq).max().unwrap_or(0) + 5);
    let at = arr.iter().position(|v| entry_seq(v) == Some(seq));
    let mut it = match (edit, at) {
        (SeqEdit::Keys { .. }, Some(i)) => arr
            .get(i)
            .and_then(Value::as_inline_table)
            .cloned()
            .ok_or_else(|| format!("% Entry seq {seq} of {name} is not an inline table"))?,
        (SeqEdit::Keys { create: false, .. }, None) => {
            return Err(format!("% No entry seq {seq} in {} {name}", list.what))
        }
        _ => {
            let mut it = InlineTable::new();
            it.insert("seq", Value::from(seq));
            it
        }
    };
    match edit {
        SeqEdit::Put(keys) => {
            for (k, v) in keys {
                it.insert(*k, v.to_value());
            }
        }
        SeqEdit::Keys { sub, keys, .. } => {
            let t = match sub {
                None => &mut it,
                Some(sub) => {
                    if it.get(sub).is_none() {
                        it.insert(*sub, Value::InlineTable(InlineTable::new()));
                    }
                    it.get_mut(sub)
                        .and_then(Value::as_inline_table_mut)
                        .ok_or_else(|| format!("% `{sub}` of entry seq {seq} is not a table"))?
                }
            };
            for (k, v) in keys {
                match v {
                    Some(v) => {
                        t.insert(*k, v.to_value());
                    }
                    None => {
                        t.remove(k);
                    }
                }
            }
            t.fmt();
            if let Some(sub) = sub {
                if it
                    .get(sub)
                    .and_then(Value::as_inline_table)
                    .is_some_and(InlineTable::is_empty)
                {
                    it.remove(sub);
                }
            }
        }
        SeqEdit::Remove => {}
    }
    it.fmt();
    match at {
        Some(i) => {
            arr.replace(i, it);
        }
        None => {
            let after = arr
                .iter()
                .position(|v| entry_seq(v).is_some_and(|s| s > seq));
            let at = after.unwrap_or(arr.len());
            arr.insert(at, it);
        }
    }
    Ok(())
}

/// Sets or removes `keys` in the table at `path` below `t`, creating
/// inline tables on the way and removing those left empty.
fn nested_edit(
    t: &mut dyn toml_edit::TableLike,
    path: &[String],
    keys: &[(&'static str, Option<Val>)],
) -> Result<(), String> {
    let Some((first, rest)) = path.split_first() else {
        for (k, v) in keys {
            match v {
                Some(v) => {
                    t.insert(k, value(v.to_value()));
                }
                None => {
                    t.remove(k);
                }
            }
        }
        return Ok(());
    };
    if t.get(first).is_none() {
        if keys.iter().all(|(_, v)| v.is_none()) {
            return Ok(());
        }
        t.insert(first, value(Value::InlineTable(InlineTable::new())));
    }
    let inner = t
        .get_mut(first)
        .and_then(Item::as_table_like_mut)
        .ok_or_else(|| format!("% `{first}` in the configuration is not a table"))?;
    nested_edit(inner, rest, keys)?;
    if inner.is_empty() {
        t.remove(first);
    } else if let Some(it) = t.get_mut(first).and_then(Item::as_inline_table_mut) {
        it.fmt();
    }
    Ok(())
}

fn sub_edit(
    t: &mut Table,
    aot: &str,
    fields: &[(&'static str, Val)],
    add: bool,
) -> Result<(), String> {
    let has = |e: &Table| {
        fields.iter().all(|(k, v)| {
            e.get(k)
                .and_then(Item::as_value)
                .is_some_and(|x| v.matches(x))
        })
    };
    if t.get(aot).is_none() {
        if !add {
            return Err(format!("% No such {aot}"));
        }
        t.insert(aot, Item::ArrayOfTables(ArrayOfTables::new()));
    }
    let list = t
        .get_mut(aot)
        .and_then(Item::as_array_of_tables_mut)
        .ok_or_else(|| format!("% `{aot}` in the configuration is not [[...{aot}]]"))?;
    if add {
        let same = list.iter().any(|e| has(e) && e.len() == fields.len());
        if !same {
            let mut e = Table::new();
            for (k, v) in fields {
                e.insert(k, value(v.to_value()));
            }
            list.push(e);
        }
        return Ok(());
    }
    let before = list.len();
    list.retain(|e| !has(e));
    if list.len() == before {
        return Err(format!("% No such {aot}"));
    }
    if list.is_empty() {
        t.remove(aot);
    }
    Ok(())
}

fn entry_seq(v: &Value) -> Option<i64> {
    v.as_inline_table()?.get("seq")?.as_integer()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BGP: &str = "# bgpd of r1\n[bgp]\nasn = 65000   # our AS\nrouter_id = \"192.0.2.1\"\n\n# the transit\n[[neighbor]]\naddress = \"192.0.2.2\"\nremote_as = 65001 # them\n";

    pub fn run(mode: &Mode, text: &str, line: &str) -> Result<String, String> {
        let mut doc: DocumentMut = text.parse().map_err(|e| format!("{e}"))?;
        let ops = match parse(mode, line)? {
            Step::Edit(ops) | Step::Enter(_, ops) => ops,
        };
        for (_, op) in ops {
            apply(&mut doc, &op)?;
        }
        Ok(doc.to_string())
    }

    #[test]
    fn neighbor_commands_edit_the_table_and_keep_comments() {
        let m = Mode::RouterBgp;
        let t = run(&m, BGP, "neighbor 192.0.2.2 description transit A").unwrap();
        assert!(t.contains("description = \"transit A\""), "{t}");
        assert!(
            t.contains("# the transit") && t.contains("# our AS") && t.contains("# them"),
            "{t}"
        );
        let t = run(&m, &t, "neighbor 192.0.2.2 remote-as 65002").unwrap();
        assert!(t.contains("remote_as = 65002 # them"), "{t}");
        let t = run(&m, &t, "neighbor 198.51.100.2 remote-as 65000").unwrap();
        assert!(
            t.contains("address = \"198.51.100.2\"\nremote_as = 65000"),
            "{t}"
        );
        let t = run(&m, &t, "nei 198.51.100.2 shut").unwrap();
        assert!(t.contains("shutdown = true"), "{t}");
        let t = run(&m, &t, "no neighbor 198.51.100.2 shutdown").unwrap();
        assert!(!t.contains("shutdown"), "{t}");
        let t = run(&m, &t, "neighbor 198.51.100.2 route-map IMPORT in").unwrap();
        assert!(t.contains("import = \"IMPORT\""), "{t}");
        let t = run(&m, &t, "no neighbor 198.51.100.2").unwrap();
        assert!(!t.contains("198.51.100.2"), "{t}");
        assert_eq!(
            run(&m, BGP, "neighbor 203.0.113.9 description x").unwrap_err(),
            NO_REMOTE_AS
        );
        let t = run(&m, BGP, "neighbor 192.0.2.2 capability extended-nexthop").unwrap();
        assert!(t.contains("extended_nexthop = true"), "{t}");
        let t = run(&m, &t, "no neighbor 192.0.2.2 capability extended-nexthop").unwrap();
        assert!(!t.contains("extended_nexthop"), "{t}");
        assert!(run(&m, BGP, "neighbor 192.0.2.2 capability dynamic").is_err());
        let t = run(&m, BGP, "neighbor 192.0.2.2 addpath-tx-best-selected 3").unwrap();
        assert!(t.contains("add_path = \"both\""), "{t}");
        assert!(t.contains("add_path_send = \"best-3\""), "{t}");
        let t = run(&m, &t, "neighbor 192.0.2.2 addpath-tx-all-paths").unwrap();
        assert!(t.contains("add_path_send = \"all\""), "{t}");
        let t = run(&m, &t, "no neighbor 192.0.2.2 addpath-tx-all-paths").unwrap();
        assert!(!t.contains("add_path"), "{t}");
        assert!(run(&m, BGP, "neighbor 192.0.2.2 addpath-tx-best-selected 1").is_err());
        let t = run(&m, BGP, "neighbor 192.0.2.2 password s3cret").unwrap();
        assert!(t.contains("password = \"s3cret\""), "{t}");
        let t = run(&m, &t, "neighbor 192.0.2.2 prefix-list CUST in").unwrap();
        let t = run(&m, &t, "neighbor 192.0.2.2 prefix-list OURS out").unwrap();
        assert!(
            t.contains("prefix_list_in = \"CUST\"\nprefix_list_out = \"OURS\""),
            "{t}"
        );
        let t = run(&m, &t, "no neighbor 192.0.2.2 prefix-list in").unwrap();
        assert!(!t.contains("prefix_list_in"), "{t}");
        let t = run(&m, &t, "neighbor 192.0.2.2 route-map FROM-TRANSIT in").unwrap();
        assert!(t.contains("import = \"FROM-TRANSIT\""), "{t}");
        // In an address family, the route map is the family's.
        let v6 = Mode::BgpFamily("ipv6-unicast");
        let t = run(&v6, &t, "neighbor 192.0.2.2 route-map V6-IN in").unwrap();
        let t = run(&v6, &t, "neighbor 192.0.2.2 route-map V6-OUT out").unwrap();
        assert!(
            t.contains(
                "family_policy = { ipv6-unicast = { import = \"V6-IN\", export = \"V6-OUT\" } }"
            ),
            "{t}"
        );
        let t = run(&v6, &t, "no neighbor 192.0.2.2 route-map V6-IN in").unwrap();
        let t = run(&v6, &t, "no neighbor 192.0.2.2 route-map out").unwrap();
        assert!(!t.contains("family_policy"), "{t}");
        assert!(t.contains("import = \"FROM-TRANSIT\""), "{t}");
        // Peer groups: defined, given settings, joined.
        assert_eq!(
            run(&m, BGP, "neighbor TOR remote-as 65010").unwrap_err(),
            NO_GROUP
        );
        let t = run(&m, BGP, "neighbor TOR peer-group").unwrap();
        let t = run(&m, &t, "neighbor TOR remote-as 65010").unwrap();
        let t = run(&m, &t, "neighbor TOR route-map FROM-TOR in").unwrap();
        assert!(
            t.contains("[[peer_group]]\nname = \"TOR\"\nremote_as = 65010\nimport = \"FROM-TOR\""),
            "{t}"
        );
        let t = run(&m, &t, "neighbor 192.0.2.2 peer-group TOR").unwrap();
        assert!(t.contains("peer_group = \"TOR\""), "{t}");
        let t = run(&m, &t, "no neighbor TOR peer-group").unwrap();
        assert!(!t.contains("[[peer_group]]"), "{t}");
        assert!(run(&m, BGP, "neighbor 192.0.2.2 route-map X sideways").is_err());
        let t = run(&m, &t, "no neighbor 192.0.2.2 password").unwrap();
        assert!(!t.contains("password"), "{t}");
        let t = run(&m, BGP, "neighbor 192.0.2.2 ttl-security hops 1").unwrap();
        assert!(t.contains("ttl_security = true"), "{t}");
        assert!(run(&m, BGP, "neighbor 192.0.2.2 ttl-security hops 2").is_err());
        let t = run(
            &m,
            BGP,
            "neighbor 192.0.2.2 maximum-prefix 1000 80 restart 5",
        )
        .unwrap();
        assert!(
            t.contains("max_prefixes = 1000")
                && t.contains("max_prefixes_warning = 80")
                && t.contains("max_prefixes_restart = 300")
                && t.contains("max_prefixes_action = \"teardown\""),
            "{t}"
        );
        let t = run(&m, &t, "no neighbor 192.0.2.2 maximum-prefix").unwrap();
        assert!(!t.contains("max_prefixes"), "{t}");
        let t = run(&m, BGP, "neighbor 192.0.2.2 maximum-prefix 10 warning-only").unwrap();
        assert!(t.contains("max_prefixes_action = \"warning\""), "{t}");
        let af = Mode::BgpFamily("ipv6-unicast");
        let t = run(&af, BGP, "neighbor 192.0.2.2 activate").unwrap();
        assert!(t.contains("families = [\"ipv6-unicast\"]"), "{t}");
        let t = run(&m, BGP, "network 203.0.113.0/24").unwrap();
        assert!(t.contains("networks = [\"203.0.113.0/24\"]"), "{t}");
        let t = run(&m, &t, "no network 203.0.113.0/24").unwrap();
        assert!(!t.contains("203.0.113.0/24"), "{t}");
        assert!(run(&m, BGP, "network 203.0.113.1/24")
            .unwrap_err()
            .contains("host bits"));
    }

    #[test]
    fn network_route_map_and_family() {
        let m = Mode::RouterBgp;
        let t = run(&m, BGP, "network 203.0.113.0/24 route-map TAG").unwrap();
        assert!(t.contains("networks = [\"203.0.113.0/24\"]"), "{t}");
        assert!(
            t.contains("network_policy = { \"203.0.113.0/24\" = { route_map = \"TAG\" } }"),
            "{t}"
        );
        // Again without a route map: the map goes, the network stays.
        let t2 = run(&m, &t, "network 203.0.113.0/24").unwrap();
        assert!(t2.contains("networks = [\"203.0.113.0/24\"]"), "{t2}");
        assert!(!t2.contains("network_policy"), "{t2}");
        let t3 = run(&m, &t, "no network 203.0.113.0/24").unwrap();
        assert!(!t3.contains("203.0.113.0/24"), "{t3}");
        let af = Mode::BgpFamily("ipv6-unicast");
        let t = run(&af, BGP, "network 2001:db8:5::/48 route-map TAG").unwrap();
        assert!(
            t.contains("\"2001:db8:5::/48\" = { route_map = \"TAG\" }"),
            "{t}"
        );
        assert!(run(&af, BGP, "network 203.0.113.0/24")
            .unwrap_err()
            .contains("not of this address family"));
        let v4 = Mode::BgpFamily("ipv4-unicast");
        assert!(run(&v4, BGP, "network 2001:db8:5::/48").is_err());
        assert!(run(&m, BGP, "network 203.0.113.0/24 route-map").is_err());
        assert!(run(&m, BGP, "network 203.0.113.0/24 route-map A B").is_err());
        assert!(run(&m, BGP, "network 203.0.113.0/24 backdoor").is_err());
    }

    #[test]
    fn aggregate_address_words() {
        let m = Mode::RouterBgp;
        let t = run(&m, BGP, "aggregate-address 198.51.100.0/24 summary-only").unwrap();
        assert!(t.contains("[[aggregate]]"), "{t}");
        assert!(t.contains("prefix = \"198.51.100.0/24\""), "{t}");
        assert!(t.contains("summary_only = true"), "{t}");
        assert!(!t.contains("as_set"), "{t}");
        let t = run(&m, &t, "aggregate-address 198.51.100.0/24 as-set").unwrap();
        assert!(
            t.contains("as_set = true") && !t.contains("summary_only"),
            "{t}"
        );
        let t = run(&m, &t, "no aggregate-address 198.51.100.0/24").unwrap();
        assert!(!t.contains("aggregate"), "{t}");
        let af = Mode::BgpFamily("ipv6-unicast");
        let t = run(&af, BGP, "aggregate-address 2001:db8::/32").unwrap();
        assert!(t.contains("prefix = \"2001:db8::/32\""), "{t}");
        assert!(run(&af, BGP, "aggregate-address 198.51.100.0/24").is_err());
        assert!(run(&m, BGP, "aggregate-address 198.51.100.0/24 everything").is_err());
    }

    #[test]
    fn a_line_of_the_top_mode_works_in_a_sub_mode() {
        let rm = Mode::RouteMap {
            name: "X".into(),
            seq: 10,
        };
        match parse(&rm, "route-map X permit 20").unwrap() {
            Step::Enter(Mode::RouteMap { name, seq }, ops) => {
                assert_eq!((name.as_str(), seq, ops.len()), ("X", 20, 1))
            }
            s => panic!("{s:?}"),
        }
        assert_eq!(
            parse(&Mode::RouterOspf, "interface eth1").unwrap(),
            Step::Enter(Mode::Interface("eth1".into()), vec![])
        );
        // The sub-mode's own error stays when the top mode does not know
        // the line either.
        assert!(parse(&rm, "bogus words")
            .unwrap_err()
            .starts_with("% Unknown command"));
    }

    #[test]
    fn router_bgp_checks_the_as() {
        assert!(run(&Mode::Config, BGP, "router bgp 65000").is_ok());
        assert!(run(&Mode::Config, BGP, "router bgp 65009")
            .unwrap_err()
            .contains("AS is 65000"));
        assert_eq!(
            parse(&Mode::Config, "router bgp 65000").unwrap(),
            Step::Enter(Mode::RouterBgp, vec![(Daemon::Bgpd, Op::Asn(65000))])
        );
        assert_eq!(
            parse(&Mode::RouterBgp, "address-family ipv6 unicast").unwrap(),
            Step::Enter(Mode::BgpFamily("ipv6-unicast"), vec![])
        );
    }

    #[test]
    fn static_routes() {
        let z = "# zebrad\n[rib]\necmp_max = 16\n";
        let c = Mode::Config;
        let t = run(&c, z, "ip route 203.0.113.0/24 192.0.2.2").unwrap();
        assert!(
            t.contains("[[static]]\nprefix = \"203.0.113.0/24\"\nvia = [\"192.0.2.2\"]"),
            "{t}"
        );
        let t = run(&c, &t, "ip route 203.0.113.0/24 198.51.100.2").unwrap();
        assert!(t.contains("via = [\"192.0.2.2\", \"198.51.100.2\"]"), "{t}");
        let t = run(&c, &t, "no ip route 203.0.113.0/24 192.0.2.2").unwrap();
        assert!(t.contains("via = [\"198.51.100.2\"]"), "{t}");
        let t = run(&c, &t, "no ip route 203.0.113.0/24 198.51.100.2").unwrap();
        assert!(!t.contains("static"), "{t}");
        let t = run(&c, z, "ipv6 route 2001:db8:1::/48 blackhole 10 table 100").unwrap();
        assert!(
            t.contains("kind = \"blackhole\"")
                && t.contains("distance = 10")
                && t.contains("table = 100"),
            "{t}"
        );
        let t = run(&c, z, "ip route 203.0.113.0/24 eth0").unwrap();
        assert!(t.contains("interface = \"eth0\""), "{t}");
        assert!(run(&c, z, "ip route 2001:db8::/32 192.0.2.1").is_err());
        assert!(run(&c, z, "no ip route 203.0.113.0/24")
            .unwrap_err()
            .contains("No such"));
        // A gateway spelled as a single string in the file is extended.
        let t = run(
            &c,
            "[[static]]\nprefix = \"203.0.113.0/24\"\nvia = \"192.0.2.2\" # gw\n",
            "ip route 203.0.113.0/24 192.0.2.3",
        )
        .unwrap();
        assert!(
            t.contains("via = [\"192.0.2.2\", \"192.0.2.3\"] # gw"),
            "{t}"
        );
    }

    #[test]
    fn link_local_neighbor_names_its_interface() {
        // FRR's words: `neighbor fe80::2 interface eth0`.
        let m = Mode::RouterBgp;
        let t = run(&m, BGP, "neighbor fe80::2 remote-as 65002").unwrap();
        let t = run(&m, &t, "neighbor fe80::2 interface eth0").unwrap();
        assert!(
            t.contains("address = \"fe80::2\"\nremote_as = 65002\ninterface = \"eth0\""),
            "{t}"
        );
        assert!(run(&m, &t, "neighbor fe80::2 interface eth0 eth1").is_err());
        let t = run(&m, &t, "no neighbor fe80::2 interface").unwrap();
        assert!(!t.contains("interface"), "{t}");
    }

    #[test]
    fn prefix_lists_ordered_by_seq() {
        let c = Mode::Config;
        let t = run(&c, BGP, "ip prefix-list CUST permit 198.51.100.0/24 le 32").unwrap();
        assert!(
            t.contains("{ seq = 5, action = \"permit\", prefix = \"198.51.100.0/24\", le = 32 }"),
            "{t}"
        );
        let t = run(&c, &t, "ip prefix-list CUST seq 3 deny 0.0.0.0/0").unwrap();
        let a = t.find("seq = 3").unwrap();
        let b = t.find("seq = 5").unwrap();
        assert!(a < b, "{t}");
        let t = run(&c, &t, "no ip prefix-list CUST seq 3").unwrap();
        assert!(!t.contains("seq = 3"), "{t}");
        let t = run(&c, &t, "no ip prefix-list CUST").unwrap();
        assert!(!t.contains("CUST"), "{t}");
    }

    #[test]
    fn ospf_and_log() {
        let o = "router_id = \"192.0.2.1\"\n[[interface]]\nname = \"eth0\"\narea = \"0.0.0.0\"\n";
        let i = Mode::Interface("eth0".into());
        let t = run(&i, o, "ip ospf cost 20").unwrap();
        assert!(t.contains("cost = 20"), "{t}");
        let t = run(&Mode::Interface("eth1".into()), o, "ip ospf area 1").unwrap();
        assert!(t.contains("name = \"eth1\"\narea = \"0.0.0.1\""), "{t}");
        assert!(run(&Mode::Interface("eth1".into()), o, "ip ospf cost 5").is_err());
        let t = run(&Mode::RouterOspf, o, "timers throttle spf 0 50 5000").unwrap();
        assert!(
            t.contains("[spf]\ndelay = 0\ninitial_hold = 50\nmax_hold = 5000"),
            "{t}"
        );
        let t = run(&Mode::RouterOspf, o, "area 1 stub").unwrap();
        assert!(t.contains("id = \"0.0.0.1\"\ntype = \"stub\""), "{t}");
        let t = run(
            &Mode::Config,
            "[log]\nlevel = \"info\" # default\n",
            "log level debug",
        )
        .unwrap();
        assert_eq!(t, "[log]\nlevel = \"debug\" # default\n");
        match parse(&Mode::Config, "log level debug bgpd").unwrap() {
            Step::Edit(ops) => assert_eq!(ops.len(), 1),
            s => panic!("{s:?}"),
        }
        assert_eq!(
            match parse(&Mode::Config, "log level debug").unwrap() {
                Step::Edit(ops) => ops.len(),
                _ => 0,
            },
            3
        );
    }
}

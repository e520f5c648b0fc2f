//! bgpd's configuration file (TOML; every key is documented in
//! `conf/bgpd.toml`): the local speaker, neighbors, originated networks,
//! redistribution, and the policy sections (parsed by `policy::config`).
//!
//! Loading validates everything and reports the first problem with the file,
//! line and key. This module only parses and validates; the daemon turns it
//! into sessions and RIB settings.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::config::Locator;
use ipnetwork::IpNetwork;
use serde::Deserialize;
use toml::Spanned;

use crate::packet::nlri::AfiSafi;
use crate::policy::config::{
    RawAsPathList, RawBindings, RawCommunityList, RawFamilyPolicy, RawNetworkPolicy, RawPrefixList,
    RawRouteMap, RawSections,
};
use crate::policy::{Bindings, Policies};

pub use add_path::AddPathConfig;
pub use common::config::ConfigError;
pub use peering::{LimitAction, PrefixLimit};

mod add_path;
mod peering;

/// The validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub asn: u32,
    pub router_id: Ipv4Addr,
    /// Route-reflector cluster id (RFC 4456 §7); None: the router id.
    pub cluster_id: Option<Ipv4Addr>,
    /// TCP port to listen on (179); 0 disables listening.
    pub listen_port: u16,
    /// Addresses to listen on (default: 0.0.0.0 and ::).
    pub listen: Vec<IpAddr>,
    pub hold_time: u16,
    pub connect_retry: Duration,
    pub multipath_ebgp: usize,
    pub multipath_ibgp: usize,
    pub always_compare_med: bool,
    /// Graceful Restart (RFC 4724): advertised to every neighbor, helper
    /// for neighbors that advertise it too; `None` when off.
    pub graceful_restart: Option<GracefulRestartConfig>,
    pub log_level: Option<String>,
    /// The gRPC listeners (`[api]`, see `common::api`).
    pub api: proto::transport::ApiConfig,
    /// zebrad's socket; None: `<run-dir>/zebrad.sock`.
    pub zebra_socket: Option<PathBuf>,
    /// Whether to talk to zebrad at all (install routes, track nexthops).
    pub zebra: bool,
    pub networks: Vec<IpNetwork>,
    /// The route maps of networks (`bgp.network_policy`, FRR's `network
    /// PREFIX route-map NAME`): applied to the local path, a deny keeps
    /// the network from being originated.
    pub network_route_maps: Vec<(IpNetwork, String)>,
    /// `[[aggregate]]` (RFC 4271 §9.2.2.2, FRR `aggregate-address`).
    pub aggregates: Vec<crate::rib::AggregateConfig>,
    pub redistribute: Vec<Redistribute>,
    pub neighbors: Vec<Neighbor>,
    /// Dynamic neighbors: connections accepted from these ranges.
    pub listen_ranges: Vec<ListenRange>,
    /// Prefix lists, AS-path lists, community lists and route maps.
    pub policies: Policies,
    /// L2VPN EVPN (`[evpn]`).
    pub evpn: crate::evpn::config::EvpnConfig,
}

impl Config {
    /// The route map of network `p` (`bgp.network_policy`).
    pub fn network_route_map(&self, p: &IpNetwork) -> Option<&str> {
        self.network_route_maps
            .iter()
            .find(|(n, _)| n == p)
            .map(|(_, m)| m.as_str())
    }
}

/// `[bgp] graceful_restart = true` with its timers (RFC 4724 §3, §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GracefulRestartConfig {
    /// Restart Time we advertise: how long peers keep our routes while our
    /// session is down (seconds, at most 4095).
    pub restart_time: u16,
    /// How long we keep a restarting peer's stale routes once its session
    /// is back, waiting for its End-of-RIB (seconds).
    pub stale_time: u16,
}

/// `[[listen_range]]` (FRR `bgp listen range PREFIX peer-group NAME`):
/// a connection from an address in `prefix` becomes a dynamic neighbor of
/// the group, built from `template` with the peer's address, and goes away
/// when its session ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenRange {
    pub prefix: IpNetwork,
    pub peer_group: String,
    /// Most dynamic neighbors at once from this range.
    pub limit: u32,
    /// The group's settings as a neighbor (address: the range's network).
    pub template: Neighbor,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redistribute {
    /// connected, static, kernel, anycast, ospf
    pub source: proto::Source,
    pub med: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neighbor {
    pub address: IpAddr,
    pub remote_as: u32,
    pub description: String,
    pub passive: bool,
    /// eBGP multihop TTL; None: directly connected (TTL 1 for eBGP).
    pub multihop: Option<u8>,
    pub source: Option<IpAddr>,
    pub port: u16,
    pub hold_time: u16,
    pub families: Vec<AfiSafi>,
    /// Route maps and prefix lists in and out, per family.
    pub policy: Bindings,
    pub next_hop_self: bool,
    pub allowas_in: u8,
    pub rr_client: bool,
    pub shutdown: bool,
    /// Advertise the Extended Next Hop capability for IPv4 unicast (RFC
    /// 8950): IPv4 routes with IPv6 next hops, e.g. over an IPv6-only
    /// link. Off by default, as in FRR and BIRD.
    pub extended_next_hop: bool,
    /// ADD-PATH (RFC 7911) for the neighbor's unicast families.
    pub add_path: AddPathConfig,
    /// TCP-MD5 key (RFC 2385); shown as `<hidden>` everywhere.
    pub password: Option<crate::session::Password>,
    /// GTSM (RFC 5082): TTL 255 out, at least 254 in.
    pub ttl_security: bool,
    /// Maximum prefixes per family (RFC 4486 Cease/1 when exceeded).
    pub prefix_limit: Option<PrefixLimit>,
    /// The `[[peer_group]]` it inherits from.
    pub peer_group: Option<String>,
    /// Our BGP role toward the neighbor (RFC 9234; FRR `local-role`):
    /// advertised in OPEN, checked against the neighbor's, and the
    /// Only-to-Customer rules follow it. eBGP only.
    pub role: Option<crate::packet::Role>,
    /// Refuse a neighbor that announces no role (FRR `strict-mode`).
    pub strict_role: bool,
    /// The interface of a link-local neighbor (FRR `neighbor fe80::2
    /// interface eth0`, BIRD `neighbor fe80::2%eth0`): the session and the
    /// peer's link-local next hops are scoped to it.
    pub interface: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    bgp: Spanned<RawBgp>,
    #[serde(default)]
    log: RawLog,
    #[serde(default)]
    zebra: RawZebra,
    #[serde(default)]
    api: common::api::RawApi,
    #[serde(default, rename = "neighbor")]
    neighbors: Vec<Spanned<RawNeighbor>>,
    #[serde(default, rename = "peer_group")]
    peer_groups: Vec<Spanned<RawNeighbor>>,
    #[serde(default, rename = "listen_range")]
    listen_ranges: Vec<Spanned<RawListenRange>>,
    #[serde(default, rename = "redistribute")]
    redistribute: Vec<Spanned<RawRedist>>,
    #[serde(default, rename = "aggregate")]
    aggregates: Vec<Spanned<RawAggregate>>,
    #[serde(default, rename = "prefix_list")]
    prefix_lists: Vec<Spanned<RawPrefixList>>,
    #[serde(default, rename = "as_path_list")]
    as_path_lists: Vec<Spanned<RawAsPathList>>,
    #[serde(default, rename = "community_list")]
    community_lists: Vec<Spanned<RawCommunityList>>,
    #[serde(default, rename = "route_map")]
    route_maps: Vec<Spanned<RawRouteMap>>,
    #[serde(default)]
    evpn: crate::evpn::config::RawEvpn,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBgp {
    asn: Spanned<i64>,
    router_id: Spanned<String>,
    cluster_id: Option<Spanned<String>>,
    listen_port: Option<Spanned<i64>>,
    listen: Option<Vec<Spanned<String>>>,
    hold_time: Option<Spanned<i64>>,
    connect_retry: Option<Spanned<i64>>,
    multipath_ebgp: Option<Spanned<i64>>,
    multipath_ibgp: Option<Spanned<i64>>,
    always_compare_med: Option<bool>,
    graceful_shutdown: Option<bool>,
    graceful_restart: Option<bool>,
    restart_time: Option<Spanned<i64>>,
    stale_time: Option<Spanned<i64>>,
    #[serde(default)]
    networks: Vec<Spanned<String>>,
    network_policy: Option<Spanned<std::collections::BTreeMap<String, RawNetworkPolicy>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLog {
    level: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawZebra {
    socket: Option<String>,
    enabled: Option<bool>,
}

/// A `[[neighbor]]` or a `[[peer_group]]` (same keys; a group has a
/// `name` instead of an `address`, and its keys are the defaults of the
/// neighbors that name it).
#[derive(Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct RawNeighbor {
    address: Option<Spanned<String>>,
    name: Option<Spanned<String>>,
    peer_group: Option<Spanned<String>>,
    remote_as: Option<Spanned<i64>>,
    description: Option<String>,
    passive: Option<bool>,
    multihop: Option<Spanned<i64>>,
    source: Option<Spanned<String>>,
    port: Option<Spanned<i64>>,
    hold_time: Option<Spanned<i64>>,
    families: Option<Vec<Spanned<String>>>,
    import: Option<Spanned<String>>,
    export: Option<Spanned<String>>,
    prefix_list_in: Option<Spanned<String>>,
    prefix_list_out: Option<Spanned<String>>,
    family_policy: Option<Spanned<std::collections::BTreeMap<String, RawFamilyPolicy>>>,
    graceful_shutdown: Option<bool>,
    next_hop_self: Option<bool>,
    allowas_in: Option<Spanned<i64>>,
    rr_client: Option<bool>,
    shutdown: Option<bool>,
    extended_nexthop: Option<Spanned<bool>>,
    add_path: Option<Spanned<String>>,
    family_add_path: Option<Spanned<std::collections::BTreeMap<String, Spanned<String>>>>,
    add_path_send: Option<Spanned<String>>,
    password: Option<Spanned<String>>,
    password_file: Option<Spanned<String>>,
    ttl_security: Option<bool>,
    max_prefixes: Option<Spanned<i64>>,
    family_max_prefixes: Option<Spanned<std::collections::BTreeMap<String, Spanned<i64>>>>,
    max_prefixes_warning: Option<Spanned<i64>>,
    max_prefixes_action: Option<Spanned<String>>,
    max_prefixes_restart: Option<Spanned<i64>>,
    role: Option<Spanned<String>>,
    strict_role: Option<Spanned<bool>>,
    interface: Option<Spanned<String>>,
}

impl RawNeighbor {
    /// Takes every key this neighbor does not set from its peer group.
    fn inherit(&mut self, g: &RawNeighbor) {
        macro_rules! inherit {
            ($($f:ident),*) => { $( if self.$f.is_none() { self.$f = g.$f.clone(); } )* };
        }
        inherit!(
            remote_as,
            description,
            passive,
            multihop,
            source,
            port,
            hold_time,
            families,
            import,
            export,
            prefix_list_in,
            prefix_list_out,
            family_policy,
            next_hop_self,
            allowas_in,
            rr_client,
            shutdown,
            ttl_security,
            max_prefixes,
            family_max_prefixes,
            max_prefixes_warning,
            max_prefixes_action,
            max_prefixes_restart,
            extended_nexthop,
            graceful_shutdown,
            add_path,
            family_add_path,
            add_path_send,
            role,
            strict_role
        );
        // One key, two spellings: a neighbor's own of either wins.
        if self.password.is_none() && self.password_file.is_none() {
            self.password = g.password.clone();
            self.password_file = g.password_file.clone();
        }
    }

    fn prefix_limit(&self) -> peering::RawPrefixLimit {
        peering::RawPrefixLimit {
            max_prefixes: self.max_prefixes.clone(),
            family_max_prefixes: self.family_max_prefixes.clone(),
            max_prefixes_warning: self.max_prefixes_warning.clone(),
            max_prefixes_action: self.max_prefixes_action.clone(),
            max_prefixes_restart: self.max_prefixes_restart.clone(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawListenRange {
    prefix: Spanned<String>,
    peer_group: Spanned<String>,
    limit: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAggregate {
    prefix: Spanned<String>,
    summary_only: Option<bool>,
    as_set: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRedist {
    source: Spanned<String>,
    med: Option<Spanned<i64>>,
}

/// Reads and validates a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    parse(&path.display().to_string(), &common::config::read(path)?)
}

/// Parses a family name as FRR and BIRD operators write it.
pub fn parse_family(s: &str) -> Option<AfiSafi> {
    match s {
        "ipv4-unicast" | "ipv4" => Some(AfiSafi::IPV4_UNICAST),
        "ipv6-unicast" | "ipv6" => Some(AfiSafi::IPV6_UNICAST),
        "l2vpn-evpn" | "evpn" => Some(AfiSafi::L2VPN_EVPN),
        _ => None,
    }
}

/// Validates config text; `file` names it in errors.
pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
    let loc = Locator::new(file, text);
    let raw: Raw = loc.parse()?;
    let b = raw.bgp.get_ref();
    let gshut = b.graceful_shutdown.unwrap_or(false);
    let asn = loc.int(&b.asn, "bgp.asn", 1, u32::MAX as i64)? as u32;
    let router_id = match b.router_id.get_ref().parse::<Ipv4Addr>() {
        Ok(a) if !a.is_unspecified() => a,
        _ => {
            return loc.err(
                b.router_id.span(),
                "bgp.router_id",
                format!("`{}` is not a nonzero IPv4 address", b.router_id.get_ref()),
            )
        }
    };
    let cluster_id = match &b.cluster_id {
        None => None,
        Some(c) => match c.get_ref().parse::<Ipv4Addr>() {
            Ok(a) if !a.is_unspecified() => Some(a),
            _ => {
                return loc.err(
                    c.span(),
                    "bgp.cluster_id",
                    format!("`{}` is not a nonzero IPv4 address", c.get_ref()),
                )
            }
        },
    };
    let listen_port = match &b.listen_port {
        Some(p) => loc.int(p, "bgp.listen_port", 0, 65535)? as u16,
        None => 179,
    };
    let listen = match &b.listen {
        Some(v) => v
            .iter()
            .map(|a| loc.addr(a, "bgp.listen"))
            .collect::<Result<Vec<_>, _>>()?,
        None => vec![
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
        ],
    };
    let hold_time = match &b.hold_time {
        Some(h) => hold(&loc, h, "bgp.hold_time")?,
        None => 90,
    };
    let connect_retry = Duration::from_secs(match &b.connect_retry {
        Some(c) => loc.int(c, "bgp.connect_retry", 1, 65535)? as u64,
        None => 30,
    });
    let multipath_ebgp = match &b.multipath_ebgp {
        Some(m) => loc.int(m, "bgp.multipath_ebgp", 1, 256)? as usize,
        None => 1,
    };
    let multipath_ibgp = match &b.multipath_ibgp {
        Some(m) => loc.int(m, "bgp.multipath_ibgp", 1, 256)? as usize,
        None => 1,
    };
    let restart_time = match &b.restart_time {
        Some(t) => loc.int(t, "bgp.restart_time", 1, 4095)? as u16,
        None => 120,
    };
    let stale_time = match &b.stale_time {
        Some(t) => loc.int(t, "bgp.stale_time", 1, 3600)? as u16,
        None => 360,
    };
    let graceful_restart = b
        .graceful_restart
        .unwrap_or(false)
        .then_some(GracefulRestartConfig {
            restart_time,
            stale_time,
        });
    let mut networks = Vec::new();
    for n in &b.networks {
        networks.push(loc.prefix(n, "bgp.networks")?);
    }
    let mut aggregates: Vec<crate::rib::AggregateConfig> = Vec::new();
    for a in &raw.aggregates {
        let x = a.get_ref();
        let prefix = loc.prefix(&x.prefix, "aggregate.prefix")?;
        if aggregates.iter().any(|o| o.prefix == prefix) {
            return loc.err(
                x.prefix.span(),
                "aggregate.prefix",
                format!("{prefix} is aggregated twice"),
            );
        }
        if networks.contains(&prefix) {
            return loc.err(
                x.prefix.span(),
                "aggregate.prefix",
                format!("{prefix} is also in bgp.networks: originate it one way"),
            );
        }
        aggregates.push(crate::rib::AggregateConfig {
            prefix,
            summary_only: x.summary_only.unwrap_or(false),
            as_set: x.as_set.unwrap_or(false),
        });
    }
    let log_level = loc.log_level(&raw.log.level, "log.level")?;
    let mut redistribute = Vec::new();
    for r in &raw.redistribute {
        let x = r.get_ref();
        let source = match proto::Source::from_name(x.source.get_ref()) {
            Some(s) if s != proto::Source::Bgp => s,
            _ => {
                return loc.err(
                    x.source.span(),
                    "redistribute.source",
                    format!(
                        "`{}` is not one of connected, static, kernel, anycast, ospf",
                        x.source.get_ref()
                    ),
                )
            }
        };
        let med = x
            .med
            .as_ref()
            .map(|m| {
                loc.int(m, "redistribute.med", 0, u32::MAX as i64)
                    .map(|v| v as u32)
            })
            .transpose()?;
        redistribute.push(Redistribute { source, med });
    }
    let policies = crate::policy::config::parse(
        &loc,
        &RawSections {
            prefix_lists: &raw.prefix_lists,
            as_path_lists: &raw.as_path_lists,
            community_lists: &raw.community_lists,
            route_maps: &raw.route_maps,
        },
    )?;
    let network_route_maps =
        crate::policy::config::network_route_maps(&loc, &policies, &b.network_policy, &networks)?;
    let groups = peer_groups(&loc, &raw.peer_groups)?;
    let defaults = Defaults {
        asn,
        hold_time,
        policies: &policies,
        gshut,
    };
    let mut neighbors: Vec<Neighbor> = Vec::new();
    for n in &raw.neighbors {
        let x = with_group(&loc, n, &groups)?;
        let Some(addr) = &x.address else {
            return loc.err(n.span(), "neighbor.address", "is missing");
        };
        let address = loc.addr(addr, "neighbor.address")?;
        if neighbors.iter().any(|m| m.address == address) {
            return loc.err(
                addr.span(),
                "neighbor.address",
                format!("{address} is configured twice"),
            );
        }
        neighbors.push(neighbor(&loc, &x, n.span(), address, &defaults)?);
    }
    let listen_ranges = listen_ranges(&loc, &raw.listen_ranges, &groups, &defaults)?;
    Ok(Config {
        asn,
        router_id,
        cluster_id,
        listen_port,
        listen,
        hold_time,
        connect_retry,
        multipath_ebgp,
        multipath_ibgp,
        always_compare_med: b.always_compare_med.unwrap_or(false),
        graceful_restart,
        log_level,
        api: common::api::parse(&loc, &raw.api)?,
        zebra_socket: raw.zebra.socket.map(PathBuf::from),
        zebra: raw.zebra.enabled.unwrap_or(true),
        networks,
        network_route_maps,
        aggregates,
        redistribute,
        neighbors,
        listen_ranges,
        policies,
        evpn: crate::evpn::config::parse(&loc, &raw.evpn)?,
    })
}

/// The `[[peer_group]]` tables by name: each has a `name`, no `address`
/// and no `peer_group` of its own.
fn peer_groups(
    loc: &Locator<'_>,
    raw: &[Spanned<RawNeighbor>],
) -> Result<std::collections::BTreeMap<String, Spanned<RawNeighbor>>, ConfigError> {
    let mut out = std::collections::BTreeMap::new();
    for g in raw {
        let x = g.get_ref();
        let Some(name) = &x.name else {
            return loc.err(g.span(), "peer_group.name", "is missing");
        };
        if let Some(a) = &x.address {
            return loc.err(
                a.span(),
                "peer_group.address",
                "a peer group has no address; its neighbors name it with peer_group",
            );
        }
        if let Some(p) = &x.peer_group {
            return loc.err(p.span(), "peer_group.peer_group", "peer groups do not nest");
        }
        if let Some(i) = &x.interface {
            return loc.err(
                i.span(),
                "peer_group.interface",
                "an interface belongs to one link-local neighbor, not to a group",
            );
        }
        if out.insert(name.get_ref().clone(), g.clone()).is_some() {
            return loc.err(
                name.span(),
                "peer_group.name",
                format!("`{}` is defined twice", name.get_ref()),
            );
        }
    }
    Ok(out)
}

/// A neighbor with the keys of its peer group merged in.
fn with_group(
    loc: &Locator<'_>,
    n: &Spanned<RawNeighbor>,
    groups: &std::collections::BTreeMap<String, Spanned<RawNeighbor>>,
) -> Result<RawNeighbor, ConfigError> {
    let mut x = n.get_ref().clone();
    if let Some(name) = &x.name {
        return loc.err(
            name.span(),
            "neighbor.name",
            "a neighbor has an address; `name` belongs to a [[peer_group]]",
        );
    }
    if let Some(g) = x.peer_group.clone() {
        match groups.get(g.get_ref()) {
            Some(group) => x.inherit(group.get_ref()),
            None => {
                return loc.err(
                    g.span(),
                    "neighbor.peer_group",
                    format!("no peer_group `{}`", g.get_ref()),
                )
            }
        }
    }
    Ok(x)
}

/// `[[listen_range]]`s with the template neighbor of their group.
fn listen_ranges(
    loc: &Locator<'_>,
    raw: &[Spanned<RawListenRange>],
    groups: &std::collections::BTreeMap<String, Spanned<RawNeighbor>>,
    defaults: &Defaults<'_>,
) -> Result<Vec<ListenRange>, ConfigError> {
    let mut out: Vec<ListenRange> = Vec::new();
    for r in raw {
        let x = r.get_ref();
        let prefix = loc.prefix(&x.prefix, "listen_range.prefix")?;
        if matches!(prefix, IpNetwork::V6(n) if n.ip().is_unicast_link_local()) {
            return loc.err(
                x.prefix.span(),
                "listen_range.prefix",
                format!("{prefix} is link-local: such a neighbor is configured with its interface ([[neighbor]] interface), not from a range"),
            );
        }
        if out
            .iter()
            .any(|o| o.prefix.contains(prefix.network()) || prefix.contains(o.prefix.network()))
        {
            return loc.err(
                x.prefix.span(),
                "listen_range.prefix",
                format!("{prefix} overlaps another listen range"),
            );
        }
        let Some(group) = groups.get(x.peer_group.get_ref()) else {
            return loc.err(
                x.peer_group.span(),
                "listen_range.peer_group",
                format!("no peer_group `{}`", x.peer_group.get_ref()),
            );
        };
        let mut g = group.get_ref().clone();
        g.peer_group = Some(x.peer_group.clone());
        let template = neighbor(loc, &g, group.span(), prefix.network(), defaults)?;
        out.push(ListenRange {
            prefix,
            peer_group: x.peer_group.get_ref().clone(),
            limit: loc.opt_int(&x.limit, "listen_range.limit", 1, 100_000, 100)? as u32,
            template,
        });
    }
    Ok(out)
}

/// What a neighbor takes from `[bgp]` and the policy sections.
struct Defaults<'p> {
    asn: u32,
    hold_time: u16,
    policies: &'p Policies,
    /// `bgp.graceful_shutdown`, the default of the neighbor's.
    gshut: bool,
}

/// A `[[neighbor]]` after its peer group's keys were merged in; `span` is
/// its table (errors about missing keys point there).
fn neighbor(
    loc: &Locator<'_>,
    x: &RawNeighbor,
    span: std::ops::Range<usize>,
    address: IpAddr,
    defaults: &Defaults<'_>,
) -> Result<Neighbor, ConfigError> {
    let Defaults {
        hold_time,
        policies,
        gshut,
        ..
    } = *defaults;
    let remote_as = match &x.remote_as {
        Some(r) => loc.int(r, "neighbor.remote_as", 1, u32::MAX as i64)? as u32,
        None => {
            return loc.err(
                span,
                "neighbor.remote_as",
                "is missing (in the neighbor and in its peer_group)",
            )
        }
    };
    let families = match &x.families {
        Some(v) => {
            let mut f = Vec::new();
            for s in v {
                match parse_family(s.get_ref()) {
                    Some(af) => f.push(af),
                    None => {
                        return loc.err(
                            s.span(),
                            "neighbor.families",
                            format!(
                                "`{}` is not ipv4-unicast, ipv6-unicast or l2vpn-evpn",
                                s.get_ref()
                            ),
                        )
                    }
                }
            }
            f
        }
        // Like FRR: the session's own family by default.
        None => vec![if address.is_ipv4() {
            AfiSafi::IPV4_UNICAST
        } else {
            AfiSafi::IPV6_UNICAST
        }],
    };
    let extended_next_hop = match &x.extended_nexthop {
        Some(e) if *e.get_ref() && !families.contains(&AfiSafi::IPV4_UNICAST) => {
            return loc.err(
                e.span(),
                "neighbor.extended_nexthop",
                "is for IPv4 routes: add ipv4-unicast to the neighbor's families",
            )
        }
        Some(e) => *e.get_ref(),
        None => false,
    };
    let policy = crate::policy::config::bindings(
        loc,
        policies,
        &RawBindings {
            import: &x.import,
            export: &x.export,
            prefix_list_in: &x.prefix_list_in,
            prefix_list_out: &x.prefix_list_out,
            family_policy: &x.family_policy,
            graceful_shutdown: x.graceful_shutdown.unwrap_or(gshut),
        },
    )?;
    let source = x
        .source
        .as_ref()
        .map(|s| loc.addr(s, "neighbor.source"))
        .transpose()?;
    if let Some(s) = source {
        if s.is_ipv4() != address.is_ipv4() {
            return loc.err(
                span.clone(),
                "neighbor.source",
                "is not of the neighbor address's family",
            );
        }
    }
    let multihop = x
        .multihop
        .as_ref()
        .map(|m| loc.int(m, "neighbor.multihop", 1, 255).map(|v| v as u8))
        .transpose()?;
    let interface = peering::interface(loc, &x.interface, address, multihop, source, span.clone())?;
    let prefix_limit = peering::prefix_limit(loc, &x.prefix_limit(), &families, "neighbor")?;
    let ttl_security = x.ttl_security.unwrap_or(false);
    if ttl_security && multihop.is_some() {
        return loc.err(
            span,
            "neighbor.ttl_security",
            "ttl_security (GTSM, one hop) and multihop exclude each other",
        );
    }
    let (role, strict_role) = role(loc, x, defaults.asn, remote_as)?;
    let add_path = add_path::add_path(
        loc,
        &add_path::RawAddPath {
            add_path: &x.add_path,
            family_add_path: &x.family_add_path,
            add_path_send: &x.add_path_send,
        },
        &families,
        "neighbor",
    )?;
    Ok(Neighbor {
        address,
        remote_as,
        description: x.description.clone().unwrap_or_default(),
        passive: x.passive.unwrap_or(false),
        multihop,
        source,
        port: match &x.port {
            Some(p) => loc.int(p, "neighbor.port", 1, 65535)? as u16,
            None => 179,
        },
        hold_time: match &x.hold_time {
            Some(h) => hold(loc, h, "neighbor.hold_time")?,
            None => hold_time,
        },
        families,
        policy,
        next_hop_self: x.next_hop_self.unwrap_or(false),
        allowas_in: x
            .allowas_in
            .as_ref()
            .map(|a| loc.int(a, "neighbor.allowas_in", 0, 10).map(|v| v as u8))
            .transpose()?
            .unwrap_or(0),
        rr_client: x.rr_client.unwrap_or(false),
        shutdown: x.shutdown.unwrap_or(false),
        extended_next_hop,
        add_path,
        password: peering::password(loc, &x.password, &x.password_file, "neighbor")?,
        ttl_security,
        prefix_limit,
        peer_group: x.peer_group.as_ref().map(|g| g.get_ref().clone()),
        role,
        strict_role,
        interface,
    })
}

/// `role` and `strict_role` (RFC 9234): roles are for eBGP sessions, and
/// strict mode needs a role.
fn role(
    loc: &Locator<'_>,
    x: &RawNeighbor,
    local_as: u32,
    remote_as: u32,
) -> Result<(Option<crate::packet::Role>, bool), ConfigError> {
    let strict = x.strict_role.as_ref().is_some_and(|s| *s.get_ref());
    let Some(r) = &x.role else {
        if let Some(s) = x.strict_role.as_ref().filter(|_| strict) {
            return loc.err(s.span(), "neighbor.strict_role", "needs a `role`");
        }
        return Ok((None, false));
    };
    let Some(role) = crate::packet::Role::parse(r.get_ref()) else {
        return loc.err(
            r.span(),
            "neighbor.role",
            format!(
                "`{}` is not provider, customer, rs, rs-client or peer",
                r.get_ref()
            ),
        );
    };
    if remote_as == local_as {
        return loc.err(
            r.span(),
            "neighbor.role",
            "BGP roles are for eBGP sessions (RFC 9234 §4); this neighbor is iBGP",
        );
    }
    Ok((Some(role), strict))
}

/// A hold time: 0 (no keepalives) or 3..=65535 (RFC 4271 §4.2).
fn hold(loc: &Locator<'_>, v: &Spanned<i64>, key: &str) -> Result<u16, ConfigError> {
    let n = loc.int(v, key, 0, 65535)?;
    if n == 1 || n == 2 {
        return loc.err(
            v.span(),
            key,
            "must be 0 or at least 3 seconds (RFC 4271 §4.2)",
        );
    }
    Ok(n as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
[bgp]
asn = 65000
router_id = "192.0.2.1"
listen_port = 1179
hold_time = 30
networks = ["203.0.113.0/24"]
multipath_ebgp = 4
graceful_restart = true
restart_time = 90

[[redistribute]]
source = "static"
med = 10

[[prefix_list]]
name = "DOC"
entries = [
  { seq = 10, action = "permit", prefix = "198.51.100.0/24", le = 32 },
  { seq = 20, action = "deny", prefix = "0.0.0.0/0", le = 32 },
]

[[route_map]]
name = "IN"
entries = [
  { seq = 10, action = "permit", match = { prefix_list = "DOC" }, set = { local_pref = 200, community = ["65000:1"], community_additive = true } },
]

[[route_map]]
name = "ALL"
entries = [ { seq = 10, action = "permit" } ]

[[neighbor]]
address = "192.0.2.2"
remote_as = 65001
description = "upstream"
import = "IN"
export = "ALL"

[[neighbor]]
address = "2001:db8::2"
remote_as = 65000
families = ["ipv6-unicast", "ipv4-unicast"]
passive = true
extended_nexthop = true
"#;

    #[test]
    fn full_config() {
        let c = parse("b.toml", FULL).unwrap();
        assert_eq!(c.asn, 65000);
        assert_eq!(c.listen_port, 1179);
        assert_eq!(c.neighbors.len(), 2);
        assert_eq!(c.neighbors[0].hold_time, 30);
        assert_eq!(c.neighbors[0].families, vec![AfiSafi::IPV4_UNICAST]);
        assert_eq!(c.neighbors[1].families.len(), 2);
        assert!(c.neighbors[1].passive);
        assert!(!c.neighbors[0].extended_next_hop);
        assert!(c.neighbors[1].extended_next_hop);
        assert_eq!(
            c.policies.prefix_list("DOC").unwrap().entries()[0].le,
            Some(32)
        );
        let e = &c.policies.route_map("IN").unwrap().entries()[0];
        assert!(e.sets.contains(&crate::policy::Set::LocalPref(200)));
        assert!(e.sets.contains(&crate::policy::Set::Community {
            values: vec![crate::packet::Community::new(65000, 1)],
            additive: true
        }));
        assert!(c.policies.route_map("ALL").is_some());
        assert_eq!(c.neighbors[0].policy.import.as_deref(), Some("IN"));
        assert_eq!(c.redistribute[0].source, proto::Source::Static);
        assert_eq!(c.multipath_ebgp, 4);
        assert_eq!(
            c.graceful_restart,
            Some(GracefulRestartConfig {
                restart_time: 90,
                stale_time: 360
            })
        );
    }

    fn err(text: &str) -> ConfigError {
        parse("b.toml", text).unwrap_err()
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let e = err("[bgp]\nasn = 65000\nrouter_id = \"x\"\n");
        assert_eq!((e.line, e.key.as_str()), (3, "bgp.router_id"));
        assert!(e.to_string().starts_with("b.toml:3: bgp.router_id:"));
        let e = err("[bgp]\nasn = 65000\nrouter_id = \"192.0.2.1\"\nrestart_time = 5000\n");
        assert_eq!((e.line, e.key.as_str()), (4, "bgp.restart_time"));
        let e = err("[bgp]\nasn = 65000\nrouter_id = \"192.0.2.1\"\nhold_time = 2\n");
        assert_eq!((e.line, e.key.as_str()), (4, "bgp.hold_time"));
        let e = err("[bgp]\nasn = 65000\nrouter_id = \"192.0.2.1\"\n[[neighbor]]\naddress = \"192.0.2.2\"\nremote_as = 1\nimport = \"NOPE\"\n");
        assert_eq!((e.line, e.key.as_str()), (7, "neighbor.import"));
        let e = err("[bgp]\nasn = 65000\nrouter_id = \"192.0.2.1\"\n[[neighbor]]\naddress = \"192.0.2.2\"\nremote_az = 1\n");
        assert_eq!(e.line, 6);
        assert!(e.msg.contains("remote_az"), "{e}");
        let e = err("[bgp]\nasn = 65000\nrouter_id = \"192.0.2.1\"\n[[neighbor]]\naddress = \"192.0.2.2\"\nremote_as = 1\nfamilies = [\"l2vpn\"]\n");
        assert_eq!(e.key, "neighbor.families");
        let e = err("[bgp]\nasn = 65000\nrouter_id = \"192.0.2.1\"\ncluster_id = \"10.0\"\n");
        assert_eq!((e.line, e.key.as_str()), (4, "bgp.cluster_id"));
        let e = err("[bgp]\nasn = 0\nrouter_id = \"192.0.2.1\"\n");
        assert_eq!(e.key, "bgp.asn");
        let e = err("[bgp]\nasn = 65000\nrouter_id = \"192.0.2.1\"\n[[prefix_list]]\nname = \"A\"\nentries = [{ action = \"permit\", prefix = \"192.0.2.0/24\", ge = 8 }]\n");
        assert_eq!(e.key, "prefix_list.entries.ge");
        let e = err("[bgp]\nasn = 65000\nrouter_id = \"192.0.2.1\"\n[[neighbor]]\naddress = \"2001:db8::2\"\nremote_as = 1\nextended_nexthop = true\n");
        assert_eq!((e.line, e.key.as_str()), (7, "neighbor.extended_nexthop"));
        let e = err("asn = 1\n");
        assert!(!e.msg.is_empty());
    }

    #[test]
    fn network_route_maps() {
        let head = "[bgp]\nasn = 65000\nrouter_id = \"192.0.2.1\"\n";
        let maps =
            "[[route_map]]\nname = \"TAG\"\nentries = [ { seq = 10, action = \"permit\" } ]\n";
        let c = parse(
            "b.toml",
            &format!("{head}networks = [\"192.0.2.0/24\", \"2001:db8:5::/48\"]\nnetwork_policy = {{ \"2001:db8:5::/48\" = {{ route_map = \"TAG\" }} }}\n{maps}"),
        )
        .unwrap();
        let v6: IpNetwork = "2001:db8:5::/48".parse().unwrap();
        assert_eq!(c.network_route_map(&v6), Some("TAG"));
        assert_eq!(c.network_route_map(&"192.0.2.0/24".parse().unwrap()), None);
        let e = err(&format!("{head}networks = [\"192.0.2.0/24\"]\nnetwork_policy = {{ \"192.0.2.0/24\" = {{ route_map = \"NOPE\" }} }}\n{maps}"));
        assert_eq!(
            (e.line, e.key.as_str()),
            (5, "bgp.network_policy.route_map")
        );
        assert!(e.msg.contains("no route map `NOPE`"), "{e}");
        let e = err(&format!("{head}networks = [\"192.0.2.0/24\"]\nnetwork_policy = {{ \"198.51.100.0/24\" = {{ route_map = \"TAG\" }} }}\n{maps}"));
        assert_eq!((e.line, e.key.as_str()), (5, "bgp.network_policy"));
        assert!(e.msg.contains("not in bgp.networks"), "{e}");
        let e = err(&format!("{head}networks = [\"192.0.2.0/24\"]\nnetwork_policy = {{ \"192.0.2.1/24\" = {{ route_map = \"TAG\" }} }}\n{maps}"));
        assert_eq!(e.key, "bgp.network_policy");
        let e = err(&format!("{head}networks = [\"192.0.2.0/24\"]\nnetwork_policy = {{ \"192.0.2.0/24\" = {{ route-map = \"TAG\" }} }}\n{maps}"));
        assert!(e.msg.contains("route-map"), "{e}");
    }

    #[test]
    fn add_path_keys() {
        use crate::packet::capability::AddPathMode;
        use crate::rib::AddPathSend;
        let head = "[bgp]\nasn = 65000\nrouter_id = \"192.0.2.1\"\n";
        let c = parse(
            "b.toml",
            &format!("{head}[[peer_group]]\nname = \"RR\"\nremote_as = 65000\nadd_path = \"both\"\nadd_path_send = \"best-3\"\n[[neighbor]]\naddress = \"192.0.2.2\"\npeer_group = \"RR\"\n[[neighbor]]\naddress = \"192.0.2.3\"\nremote_as = 1\nadd_path = \"receive\"\n[[neighbor]]\naddress = \"192.0.2.4\"\nremote_as = 1\n"),
        )
        .unwrap();
        let v4 = AfiSafi::IPV4_UNICAST;
        assert_eq!(c.neighbors[0].add_path.mode(v4), Some(AddPathMode::Both));
        assert_eq!(c.neighbors[0].add_path.send, AddPathSend::Best(3));
        assert_eq!(c.neighbors[1].add_path.mode(v4), Some(AddPathMode::Receive));
        assert_eq!(c.neighbors[1].add_path.send, AddPathSend::All);
        assert_eq!(c.neighbors[2].add_path.mode(v4), None);
        assert!(c.neighbors[2].add_path.families.is_empty());
        // Per family: an override, "off" included.
        let c = parse(
            "b.toml",
            &format!("{head}[[neighbor]]\naddress = \"192.0.2.2\"\nremote_as = 1\nfamilies = [\"ipv4-unicast\", \"ipv6-unicast\", \"l2vpn-evpn\"]\nadd_path = \"receive\"\nfamily_add_path = {{ \"ipv6-unicast\" = \"both\" }}\n[[neighbor]]\naddress = \"192.0.2.3\"\nremote_as = 1\nfamilies = [\"ipv4-unicast\", \"ipv6-unicast\"]\nadd_path = \"both\"\nfamily_add_path = {{ \"ipv4-unicast\" = \"off\" }}\n"),
        )
        .unwrap();
        assert_eq!(
            c.neighbors[0].add_path.families,
            vec![
                (v4, AddPathMode::Receive),
                (AfiSafi::IPV6_UNICAST, AddPathMode::Both)
            ]
        );
        assert_eq!(
            c.neighbors[1].add_path.families,
            vec![(AfiSafi::IPV6_UNICAST, AddPathMode::Both)]
        );
        let nb = format!("{head}[[neighbor]]\naddress = \"192.0.2.2\"\nremote_as = 1\n");
        let e = err(&format!("{nb}add_path = \"sometimes\"\n"));
        assert_eq!((e.line, e.key.as_str()), (7, "neighbor.add_path"));
        let e = err(&format!(
            "{nb}add_path = \"both\"\nadd_path_send = \"best-1\"\n"
        ));
        assert_eq!((e.line, e.key.as_str()), (8, "neighbor.add_path_send"));
        let e = err(&format!(
            "{nb}add_path = \"both\"\nadd_path_send = \"best-65\"\n"
        ));
        assert_eq!(e.key, "neighbor.add_path_send");
        let e = err(&format!(
            "{nb}add_path = \"send\"\nadd_path_send = \"most\"\n"
        ));
        assert_eq!(e.key, "neighbor.add_path_send");
        let e = err(&format!(
            "{nb}add_path = \"receive\"\nadd_path_send = \"all\"\n"
        ));
        assert_eq!((e.line, e.key.as_str()), (8, "neighbor.add_path_send"));
        let e = err(&format!(
            "{nb}family_add_path = {{ \"ipv6-unicast\" = \"both\" }}\n"
        ));
        assert_eq!((e.line, e.key.as_str()), (7, "neighbor.family_add_path"));
        let e = err(&format!(
            "{nb}family_add_path = {{ \"ipv4-unicast\" = \"maybe\" }}\n"
        ));
        assert_eq!(e.key, "neighbor.family_add_path");
        let e = err(&format!("{nb}add_path = \"off\"\n"));
        assert_eq!(e.key, "neighbor.add_path");
    }

    const PEERING: &str = r#"
[bgp]
asn = 65000
router_id = "192.0.2.1"

[[peer_group]]
name = "TOR"
remote_as = 65010
password = "tor-key"
ttl_security = true
max_prefixes = 1000
max_prefixes_restart = 30

[[neighbor]]
address = "192.0.2.2"
peer_group = "TOR"
max_prefixes_action = "warning"

[[neighbor]]
address = "192.0.2.3"
peer_group = "TOR"
remote_as = 65011
password = "own-key"
family_max_prefixes = { "ipv4-unicast" = 10 }

[[listen_range]]
prefix = "198.51.100.0/24"
peer_group = "TOR"
limit = 20
"#;

    #[test]
    fn peer_groups_listen_ranges_and_limits() {
        let c = parse("b.toml", PEERING).unwrap();
        let (a, b) = (&c.neighbors[0], &c.neighbors[1]);
        assert_eq!((a.remote_as, b.remote_as), (65010, 65011));
        assert_eq!(
            a.password,
            Some(crate::session::Password::new("tor-key").unwrap())
        );
        assert_eq!(
            b.password,
            Some(crate::session::Password::new("own-key").unwrap())
        );
        assert!(a.ttl_security && b.ttl_security);
        assert_eq!(a.peer_group.as_deref(), Some("TOR"));
        let la = a.prefix_limit.as_ref().unwrap();
        assert_eq!(la.max_for(AfiSafi::IPV4_UNICAST), Some(1000));
        assert_eq!(
            (la.action, la.restart, la.warning_percent),
            (LimitAction::Warning, 30, 75)
        );
        let lb = b.prefix_limit.as_ref().unwrap();
        assert_eq!(lb.max_for(AfiSafi::IPV4_UNICAST), Some(10));
        assert_eq!(lb.action, LimitAction::Teardown);
        let r = &c.listen_ranges[0];
        assert_eq!((r.limit, r.peer_group.as_str()), (20, "TOR"));
        assert_eq!(r.template.remote_as, 65010);
        assert_eq!(r.template.families, vec![AfiSafi::IPV4_UNICAST]);
        assert!(!format!("{c:?}").contains("tor-key"));
    }

    #[test]
    fn peering_errors_name_the_key() {
        let head = "[bgp]\nasn = 65000\nrouter_id = \"192.0.2.1\"\n";
        let e = err(&format!("{head}[[neighbor]]\naddress = \"192.0.2.2\"\nremote_as = 1\nttl_security = true\nmultihop = 2\n"));
        assert_eq!(e.key, "neighbor.ttl_security");
        let e = err(&format!(
            "{head}[[neighbor]]\naddress = \"192.0.2.2\"\npeer_group = \"X\"\n"
        ));
        assert_eq!((e.line, e.key.as_str()), (6, "neighbor.peer_group"));
        let e = err(&format!("{head}[[neighbor]]\naddress = \"192.0.2.2\"\n"));
        assert_eq!(e.key, "neighbor.remote_as");
        let e = err(&format!(
            "{head}[[neighbor]]\naddress = \"192.0.2.2\"\nremote_as = 1\npassword = \"<hidden>\"\n"
        ));
        assert_eq!(e.key, "neighbor.password");
        let e = err(&format!(
            "{head}[[neighbor]]\naddress = \"192.0.2.2\"\nremote_as = 1\npassword = \"{}\"\n",
            "x".repeat(81)
        ));
        assert_eq!(e.key, "neighbor.password");
        let e = err(&format!("{head}[[neighbor]]\naddress = \"192.0.2.2\"\nremote_as = 1\nmax_prefixes_restart = 5\n"));
        assert_eq!(e.key, "neighbor.max_prefixes");
        let e = err(&format!("{head}[[neighbor]]\naddress = \"192.0.2.2\"\nremote_as = 1\nmax_prefixes = 5\nmax_prefixes_action = \"drop\"\n"));
        assert_eq!(e.key, "neighbor.max_prefixes_action");
        let e = err(&format!(
            "{head}[[peer_group]]\nname = \"A\"\naddress = \"192.0.2.2\"\n"
        ));
        assert_eq!(e.key, "peer_group.address");
        let e = err(&format!("{head}[[peer_group]]\nname = \"A\"\n[[listen_range]]\nprefix = \"192.0.2.0/24\"\npeer_group = \"A\"\n"));
        assert_eq!(e.key, "neighbor.remote_as");
        let e = err(&format!("{head}[[neighbor]]\naddress = \"192.0.2.2\"\nremote_as = 1\npassword_file = \"/nonexistent/key\"\n"));
        assert_eq!((e.line, e.key.as_str()), (7, "neighbor.password_file"));
    }

    #[test]
    fn roles_from_neighbor_and_group() {
        let head = "[bgp]\nasn = 65000\nrouter_id = \"192.0.2.1\"\n";
        let c = parse(
            "b.toml",
            &format!(
                "{head}[[peer_group]]\nname = \"UP\"\nremote_as = 65010\nrole = \"customer\"\nstrict_role = true\n\
                 [[neighbor]]\naddress = \"192.0.2.2\"\npeer_group = \"UP\"\n\
                 [[neighbor]]\naddress = \"192.0.2.3\"\nremote_as = 65003\nrole = \"rs\"\n"
            ),
        )
        .unwrap();
        assert_eq!(c.neighbors[0].role, Some(crate::packet::Role::Customer));
        assert!(c.neighbors[0].strict_role);
        assert_eq!(c.neighbors[1].role, Some(crate::packet::Role::RouteServer));
        assert!(!c.neighbors[1].strict_role);
        let e = err(&format!(
            "{head}[[neighbor]]\naddress = \"192.0.2.2\"\nremote_as = 1\nrole = \"transit\"\n"
        ));
        assert_eq!((e.line, e.key.as_str()), (7, "neighbor.role"));
        let e = err(&format!(
            "{head}[[neighbor]]\naddress = \"192.0.2.2\"\nremote_as = 65000\nrole = \"peer\"\n"
        ));
        assert_eq!(e.key, "neighbor.role");
        assert!(e.msg.contains("eBGP"), "{e}");
        let e = err(&format!(
            "{head}[[neighbor]]\naddress = \"192.0.2.2\"\nremote_as = 1\nstrict_role = true\n"
        ));
        assert_eq!((e.line, e.key.as_str()), (7, "neighbor.strict_role"));
    }

    #[test]
    fn link_local_neighbors_name_their_interface() {
        let head = "[bgp]\nasn = 65000\nrouter_id = \"192.0.2.1\"\n";
        let c = parse(
            "b.toml",
            &format!("{head}[[neighbor]]\naddress = \"fe80::2\"\nremote_as = 1\ninterface = \"eth0\"\n[[neighbor]]\naddress = \"2001:db8::2\"\nremote_as = 1\n"),
        )
        .unwrap();
        assert_eq!(c.neighbors[0].interface.as_deref(), Some("eth0"));
        assert_eq!(c.neighbors[1].interface, None);
        // A link-local neighbor without its interface: the table is named.
        let e = err(&format!(
            "{head}[[neighbor]]\naddress = \"fe80::2\"\nremote_as = 1\n"
        ));
        assert_eq!((e.line, e.key.as_str()), (4, "neighbor.interface"));
        assert!(e.msg.contains("link-local"), "{e}");
        // An interface on a global (or IPv4) neighbor: the key is named.
        for a in ["2001:db8::2", "192.0.2.2"] {
            let e = err(&format!(
                "{head}[[neighbor]]\naddress = \"{a}\"\nremote_as = 1\ninterface = \"eth0\"\n"
            ));
            assert_eq!((e.line, e.key.as_str()), (7, "neighbor.interface"), "{e}");
        }
        for bad in ["", "a-name-longer-than-15", "eth0%1", "eth 0"] {
            let e = err(&format!(
                "{head}[[neighbor]]\naddress = \"fe80::2\"\nremote_as = 1\ninterface = \"{bad}\"\n"
            ));
            assert_eq!((e.line, e.key.as_str()), (7, "neighbor.interface"), "{e}");
        }
        let e = err(&format!("{head}[[neighbor]]\naddress = \"fe80::2\"\nremote_as = 1\ninterface = \"eth0\"\nmultihop = 2\n"));
        assert_eq!(e.key, "neighbor.multihop");
        let e = err(&format!("{head}[[neighbor]]\naddress = \"fe80::2\"\nremote_as = 1\ninterface = \"eth0\"\nsource = \"fe80::1\"\n"));
        assert_eq!(e.key, "neighbor.source");
        let e = err(&format!(
            "{head}[[peer_group]]\nname = \"A\"\nremote_as = 1\ninterface = \"eth0\"\n"
        ));
        assert_eq!((e.line, e.key.as_str()), (7, "peer_group.interface"));
        let e = err(&format!("{head}[[peer_group]]\nname = \"A\"\nremote_as = 1\n[[listen_range]]\nprefix = \"fe80::/64\"\npeer_group = \"A\"\n"));
        assert_eq!((e.line, e.key.as_str()), (8, "listen_range.prefix"));
    }
}

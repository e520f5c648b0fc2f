//! bgpd's management gRPC service (`proto/proto/bgp.proto`): neighbors,
//! the RIBs and resets, for vtysh and operators' scripts. Requests go to
//! the daemon task as [`Cmd`]s; the conversions from RIB and session state
//! to the wire live here. It holds no state of its own; requests are
//! checked by [`request`] first.

pub mod request;

use std::time::Instant;

use proto::bgp as pb;
use proto::bgp::bgp_server::Bgp;
use tokio::sync::{mpsc, oneshot};
use tonic::{Request, Response, Status};

use crate::config::Neighbor;
use crate::daemon::{Cmd, Daemon};
use crate::packet::attribute::{MpNextHop, Origin, PathAttributes};
use crate::packet::capability::AddPathMode;
use crate::packet::notification::OpenSubcode;
use crate::packet::{Afi, AfiSafi, Capability, ErrorCode, Open};
use crate::policy::{show, Policies};
use crate::rib::{AddPathSend, PathView, PeerInfo, Reason, LOCAL_PEER};
use crate::session::limit::LimitState;
use crate::session::{MessageCounts, PeerId, SessionHandle, State};

/// The service: a handle on the daemon task.
#[derive(Clone)]
pub struct BgpService {
    cmds: mpsc::Sender<Cmd>,
}

impl BgpService {
    pub fn new(cmds: mpsc::Sender<Cmd>) -> Self {
        BgpService { cmds }
    }

    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Cmd) -> Result<T, Status> {
        let (tx, rx) = oneshot::channel();
        self.cmds
            .send(make(tx))
            .await
            .map_err(|_| Status::unavailable("bgpd is shutting down"))?;
        rx.await
            .map_err(|_| Status::internal("bgpd dropped the request"))
    }
}

/// A refused request: INVALID_ARGUMENT with the reason.
fn invalid(e: request::RequestError) -> Status {
    Status::invalid_argument(e.to_string())
}

#[tonic::async_trait]
impl Bgp for BgpService {
    async fn neighbors(
        &self,
        r: Request<pb::NeighborsRequest>,
    ) -> Result<Response<pb::NeighborsReply>, Status> {
        let addr = request::neighbors(&r.into_inner()).map_err(invalid)?;
        Ok(Response::new(
            self.ask(|reply| Cmd::Neighbors { addr, reply }).await?,
        ))
    }

    async fn rib(&self, r: Request<pb::RibRequest>) -> Result<Response<pb::RibReply>, Status> {
        let query = request::rib(&r.into_inner()).map_err(invalid)?;
        let out = self.ask(|reply| Cmd::Rib { query, reply }).await?;
        out.map(Response::new).map_err(Status::invalid_argument)
    }

    async fn reset(
        &self,
        r: Request<pb::ResetRequest>,
    ) -> Result<Response<pb::ResetReply>, Status> {
        let query = request::reset(&r.into_inner()).map_err(invalid)?;
        let n = self.ask(|reply| Cmd::Reset { query, reply }).await?;
        Ok(Response::new(pb::ResetReply { neighbors: n }))
    }

    async fn evpn(&self, r: Request<pb::EvpnRequest>) -> Result<Response<pb::EvpnReply>, Status> {
        let route_type = request::evpn(&r.into_inner()).map_err(invalid)?;
        Ok(Response::new(
            self.ask(|reply| Cmd::Evpn { route_type, reply }).await?,
        ))
    }

    async fn clear_evpn_duplicates(
        &self,
        r: Request<pb::ClearEvpnDuplicatesRequest>,
    ) -> Result<Response<pb::ClearEvpnDuplicatesReply>, Status> {
        let request::ClearDuplicatesQuery { vni, mac } =
            request::clear_evpn_duplicates(&r.into_inner()).map_err(invalid)?;
        let cleared = self
            .ask(|reply| Cmd::ClearEvpnDuplicates { vni, mac, reply })
            .await?;
        Ok(Response::new(pb::ClearEvpnDuplicatesReply { cleared }))
    }

    async fn policy(
        &self,
        r: Request<pb::PolicyRequest>,
    ) -> Result<Response<pb::PolicyReply>, Status> {
        let req = r.into_inner();
        Ok(Response::new(
            self.ask(|reply| Cmd::Policy { req, reply }).await?,
        ))
    }

    async fn clear_policy_counters(
        &self,
        r: Request<pb::ClearPolicyCountersRequest>,
    ) -> Result<Response<pb::ClearPolicyCountersReply>, Status> {
        let query = request::clear_policy_counters(&r.into_inner()).map_err(invalid)?;
        let n = self
            .ask(|reply| Cmd::ClearPolicyCounters { query, reply })
            .await?
            .map_err(|e| Status::not_found(e.to_string()))?;
        Ok(Response::new(pb::ClearPolicyCountersReply {
            cleared: u32::try_from(n).unwrap_or(u32::MAX),
        }))
    }
}

/// Reset the counters a `ClearPolicyCounters` request names.
pub fn clear_policy_counters(
    pol: &Policies,
    q: &request::ClearCountersQuery,
) -> Result<usize, crate::policy::ClearError> {
    match q {
        request::ClearCountersQuery::RouteMaps { name } => {
            pol.clear_route_map_counts(name.as_deref())
        }
        request::ClearCountersQuery::PrefixLists { v6, name, within } => {
            pol.clear_prefix_list_counts(*v6, name.as_deref(), within.as_ref())
        }
    }
}

/// The route maps and lists a `Policy` request asks for, with their
/// counters, clauses in FRR's words (`policy::show`).
pub fn policy_reply(pol: &Policies, req: &pb::PolicyRequest) -> pb::PolicyReply {
    use pb::policy_request::Kind;
    let kind = Kind::try_from(req.kind).unwrap_or(Kind::All);
    let wants = |k: Kind, name: &str| {
        (kind == Kind::All || kind == k) && (req.name.is_empty() || req.name == name)
    };
    let mut out = pb::PolicyReply::default();
    for (name, m) in pol.route_maps() {
        if !wants(Kind::RouteMap, name) {
            continue;
        }
        out.route_maps.push(pb::RouteMap {
            name: name.to_string(),
            invoked: m.invoked(),
            entries: m
                .entries()
                .iter()
                .enumerate()
                .map(|(i, e)| pb::RouteMapEntry {
                    seq: e.seq,
                    action: e.action.name().into(),
                    invoked: m.entry_invoked(i),
                    matches: e.matches.iter().map(show::match_text).collect(),
                    sets: e.sets.iter().map(|s| show::set_text(s, pol)).collect(),
                    exit: show::flow_text(e.flow),
                })
                .collect(),
        });
    }
    for (name, l) in pol.prefix_lists() {
        if !wants(Kind::PrefixList, name) {
            continue;
        }
        out.prefix_lists.push(pb::PrefixList {
            name: name.to_string(),
            entries: l
                .entries()
                .iter()
                .enumerate()
                .map(|(i, e)| pb::PrefixListEntry {
                    seq: e.seq,
                    action: e.action.name().into(),
                    prefix: Some(pb::Prefix {
                        addr: proto::addr_to_bytes(e.prefix.network()),
                        len: u32::from(e.prefix.prefix()),
                    }),
                    ge: e.ge.map_or(0, u32::from),
                    le: e.le.map_or(0, u32::from),
                    hits: l.hits(i),
                })
                .collect(),
        });
    }
    for (name, l) in pol.as_path_lists() {
        if !wants(Kind::AsPathList, name) {
            continue;
        }
        out.as_path_lists.push(pb::AsPathList {
            name: name.to_string(),
            entries: l
                .entries()
                .iter()
                .map(|e| pb::AsPathListEntry {
                    seq: e.seq,
                    action: e.action.name().into(),
                    regex: e.pattern.text().to_string(),
                })
                .collect(),
        });
    }
    for (name, l) in pol.community_lists() {
        if !wants(Kind::CommunityList, name) {
            continue;
        }
        out.community_lists.push(pb::CommunityList {
            name: name.to_string(),
            kind: l.kind.name().into(),
            entries: l
                .entries()
                .iter()
                .map(|e| pb::CommunityListEntry {
                    seq: e.seq,
                    action: e.action.name().into(),
                    value: show::rule_text(&e.rule),
                })
                .collect(),
        });
    }
    out
}

fn counters(m: &MessageCounts) -> pb::MessageCounters {
    pb::MessageCounters {
        opens: m.open,
        updates: m.update,
        keepalives: m.keepalive,
        notifications: m.notification,
        route_refreshes: m.route_refresh,
        total: m.total(),
    }
}

pub fn family_name(f: AfiSafi) -> &'static str {
    match f {
        AfiSafi::IPV4_UNICAST => "ipv4-unicast",
        AfiSafi::IPV6_UNICAST => "ipv6-unicast",
        AfiSafi::L2VPN_EVPN => "l2vpn-evpn",
        _ => "unknown",
    }
}

/// A capability the peer announced, in FRR's words.
fn capability_text(c: &Capability) -> String {
    match c {
        Capability::Multiprotocol(f) => format!("Address Family {}", family_name(*f)),
        Capability::RouteRefresh => "Route refresh".into(),
        Capability::EnhancedRouteRefresh => "Enhanced Route Refresh".into(),
        Capability::FourOctetAs(a) => format!("4 Byte AS ({a})"),
        Capability::GracefulRestart(g) => format!(
            "Graceful Restart (restart time {}s{}{})",
            g.restart_time,
            if g.restart_state { ", R" } else { "" },
            g.families
                .iter()
                .map(|f| format!(
                    ", {}{}",
                    family_name(f.family),
                    if f.forwarding_preserved { " F" } else { "" }
                ))
                .collect::<String>()
        ),
        Capability::ExtendedMessage => "Extended Message".into(),
        Capability::ExtendedNextHop(e) => format!(
            "Extended nexthop ({})",
            e.iter()
                .map(|e| format!(
                    "{} over {}",
                    family_name(e.nlri),
                    match e.next_hop_afi {
                        Afi::IPV6 => "IPv6",
                        Afi::IPV4 => "IPv4",
                        _ => "unknown",
                    }
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Capability::AddPath(e) => format!(
            "AddPath ({})",
            e.iter()
                .map(|(f, m)| format!("{} {}", family_name(*f), add_path_word(Some(*m))))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Capability::Role(r) => format!("Role ({r})"),
        Capability::Unknown { code, .. } => format!("Unknown capability {code}"),
    }
}

/// An ADD-PATH Send/Receive value in the words of the config.
fn add_path_word(m: Option<AddPathMode>) -> &'static str {
    match m {
        None => "",
        Some(AddPathMode::Receive) => "receive",
        Some(AddPathMode::Send) => "send",
        Some(AddPathMode::Both) => "both",
    }
}

/// ADD-PATH per unicast family of a neighbor: advertised (config),
/// received (the peer's last OPEN), negotiated (the session's caps).
fn add_path(cfg: &Neighbor, remote: Option<&Open>, up: Option<&PeerInfo>) -> pb::AddPath {
    let families = cfg
        .families
        .iter()
        .filter(|f| f.is_prefix_family())
        .map(|&f| pb::AddPathFamily {
            family: family_name(f).into(),
            advertised: add_path_word(cfg.add_path.mode(f)).into(),
            received: add_path_word(
                remote.and_then(|o| o.add_path().find(|(x, _)| *x == f).map(|(_, m)| m)),
            )
            .into(),
            rx: up.is_some_and(|u| u.caps.add_path_rx(f)),
            tx: up.is_some_and(|u| u.caps.add_path_tx(f)),
        })
        .collect();
    pb::AddPath {
        families,
        send: match cfg.add_path.send {
            AddPathSend::All => "all".into(),
            AddPathSend::Best(n) => format!("best-{n}"),
        },
    }
}

fn state_name(s: State) -> String {
    format!("{s:?}")
}

/// One neighbor for `show bgp neighbors` / `summary`.
pub fn neighbor(
    d: &Daemon,
    id: PeerId,
    cfg: &Neighbor,
    h: &SessionHandle,
    up: Option<&PeerInfo>,
    limit: &LimitState,
    dynamic: bool,
) -> pb::Neighbor {
    let s = h.stats.snapshot();
    let caps = s
        .remote_open
        .as_ref()
        .map(|o| o.capabilities.iter().map(capability_text).collect())
        .unwrap_or_default();
    let families = cfg
        .families
        .iter()
        .map(|f| {
            let c = if *f == AfiSafi::L2VPN_EVPN {
                let e = d.evpn().counts(id);
                crate::rib::PeerCounts {
                    received: e.received,
                    accepted: e.accepted,
                    advertised: e.advertised,
                }
            } else {
                d.rib()
                    .peer_counts(id)
                    .into_iter()
                    .find(|(x, _)| x == f)
                    .map(|(_, c)| c)
                    .unwrap_or_default()
            };
            pb::FamilyCounters {
                family: family_name(*f).into(),
                received: c.received,
                accepted: c.accepted,
                advertised: c.advertised,
            }
        })
        .collect();
    let uptime = match s.uptime() {
        Some(u) => u.as_secs(),
        None => s
            .last_error_at
            .and_then(|t| t.elapsed().ok())
            .map(|e| e.as_secs())
            .unwrap_or_else(|| d.uptime().as_secs()),
    };
    pb::Neighbor {
        address: proto::addr_to_bytes(cfg.address),
        remote_as: cfg.remote_as,
        local_as: d.config().asn,
        description: cfg.description.clone(),
        state: state_name(s.state),
        uptime_secs: uptime,
        remote_id: s
            .remote_open
            .as_ref()
            .map(|o| o.bgp_id.octets().to_vec())
            .or_else(|| up.map(|u| u.remote_id.octets().to_vec()))
            .unwrap_or_default(),
        hold_time: s.hold_time as u32,
        keepalive: s.keepalive_time as u32,
        configured_hold_time: cfg.hold_time as u32,
        capabilities: caps,
        sent: Some(counters(&s.msgs_out)),
        received: Some(counters(&s.msgs_in)),
        families,
        last_error: s
            .last_error
            .as_ref()
            .map(|e| e.to_string())
            .unwrap_or_default(),
        last_shutdown_message: s
            .last_notification_received
            .as_ref()
            .and_then(|n| n.shutdown_communication())
            .and_then(|r| r.ok())
            .map(str::to_string)
            .unwrap_or_default(),
        flaps: s.flaps as u32,
        ibgp: cfg.remote_as == d.config().asn,
        local_address: s
            .local_addr
            .map(|a| proto::addr_to_bytes(a.ip()))
            .unwrap_or_default(),
        local_port: s.local_addr.map(|a| a.port() as u32).unwrap_or(0),
        remote_port: s.remote_addr.map(|a| a.port() as u32).unwrap_or(0),
        import_policy: cfg.policy.import.clone().unwrap_or_default(),
        export_policy: cfg.policy.export.clone().unwrap_or_default(),
        policy_note: d.rfc8212_note(cfg),
        graceful_shutdown: cfg.policy.graceful_shutdown,
        treat_as_withdraw: s.updates_treat_as_withdraw,
        graceful_restart: Some(graceful_restart(d, id, s.remote_open.as_ref())),
        extended_nexthop: Some(pb::ExtendedNexthop {
            advertised: cfg.extended_next_hop && cfg.families.contains(&AfiSafi::IPV4_UNICAST),
            received: s
                .remote_open
                .as_ref()
                .is_some_and(|o| o.extended_next_hop().next().is_some()),
            families: up.map_or_else(Vec::new, |u| {
                u.caps
                    .extended_next_hop
                    .iter()
                    .map(|f| family_name(*f).into())
                    .collect()
            }),
        }),
        tcp_md5: cfg.password.is_some(),
        ttl_security: cfg.ttl_security,
        connect_failures: s.connect_failures,
        last_connect_error: s.last_connect_error.clone().unwrap_or_default(),
        peer_group: cfg.peer_group.clone().unwrap_or_default(),
        dynamic,
        prefix_limit: cfg
            .prefix_limit
            .as_ref()
            .map(|l| prefix_limit(d, id, l, limit)),
        add_path: Some(add_path(cfg, s.remote_open.as_ref(), up)),
        role: Some(role(d, id, cfg, &s)),
        interface: cfg.interface.clone().unwrap_or_default(),
    }
}

/// The BGP role of a neighbor (RFC 9234): configured, announced, the
/// result of the §4.2 check on the last OPEN, and the leaks dropped.
fn role(d: &Daemon, id: PeerId, cfg: &Neighbor, s: &crate::session::StatsSnapshot) -> pb::BgpRole {
    let ebgp = cfg.remote_as != d.config().asn;
    let ours = cfg.role.filter(|_| ebgp);
    let remote = s
        .remote_open
        .as_ref()
        .filter(|_| s.state == State::Established);
    let announced = remote.map(crate::packet::role::announced);
    let mismatch = |n: &Option<crate::packet::Notification>| {
        n.as_ref()
            .is_some_and(|n| n.error == ErrorCode::Open(OpenSubcode::RoleMismatch))
    };
    let negotiation = match (ours, remote) {
        (None, _) => String::new(),
        (Some(_), None) if mismatch(&s.last_notification_sent) => {
            "mismatch (NOTIFICATION 2/11 sent)".into()
        }
        (Some(_), None) if mismatch(&s.last_notification_received) => {
            "mismatch (NOTIFICATION 2/11 received)".into()
        }
        (Some(_), None) => String::new(),
        (Some(_), Some(open)) => match crate::packet::role::check(ours, cfg.strict_role, open) {
            Ok(Some(_)) => "ok".into(),
            Ok(None) => "no role received".into(),
            Err(e) => format!("mismatch: {e}"),
        },
    };
    pb::BgpRole {
        local_role: ours.map(|r| r.name().to_string()).unwrap_or_default(),
        strict: cfg.strict_role,
        peer_role: match announced {
            Some(Ok(Some(r))) => r.name().into(),
            Some(Err(crate::packet::role::RoleMismatch::UnknownValue(v))) => {
                format!("unknown ({v})")
            }
            Some(Err(_)) => "conflicting".into(),
            _ => String::new(),
        },
        negotiation,
        leaks: d.rib().peer_leaks(id),
        mismatches: s.role_mismatches,
    }
}

/// The maximum-prefix settings and state of a neighbor.
fn prefix_limit(
    d: &Daemon,
    id: PeerId,
    l: &crate::config::PrefixLimit,
    state: &LimitState,
) -> pb::PrefixLimit {
    let counts = d.rib().peer_counts(id);
    pb::PrefixLimit {
        families: l
            .max
            .iter()
            .map(|(f, max)| pb::FamilyLimit {
                family: family_name(*f).into(),
                max: *max,
                received: counts
                    .iter()
                    .find(|(x, _)| x == f)
                    .map_or(0, |(_, c)| c.received),
            })
            .collect(),
        warning_percent: u32::from(l.warning_percent),
        action: match l.action {
            crate::config::LimitAction::Teardown => "teardown",
            crate::config::LimitAction::Warning => "warning",
        }
        .into(),
        restart_secs: l.restart,
        tripped: state.tripped(),
        restart_remaining_secs: state
            .restart_in(std::time::Instant::now())
            .map_or(0, |r| r.as_secs()),
    }
}

/// Graceful Restart as negotiated with `id` and its helper state.
fn graceful_restart(d: &Daemon, id: PeerId, remote: Option<&Open>) -> pb::GracefulRestart {
    let names = |fs: &mut dyn Iterator<Item = AfiSafi>| fs.map(|f| family_name(f).into()).collect();
    let local = d.config().graceful_restart;
    let theirs = remote.and_then(Open::graceful_restart);
    let status = d.rib().gr_status(id, Instant::now());
    pb::GracefulRestart {
        advertised: local.is_some(),
        received: theirs.is_some(),
        remote_restart_time: theirs.map_or(0, |g| u32::from(g.restart_time)),
        remote_restart_state: theirs.is_some_and(|g| g.restart_state),
        remote_families: theirs.map_or_else(Vec::new, |g| {
            names(&mut g.families.iter().map(|f| f.family))
        }),
        remote_forwarding: theirs.map_or_else(Vec::new, |g| {
            names(
                &mut g
                    .families
                    .iter()
                    .filter(|f| f.forwarding_preserved)
                    .map(|f| f.family),
            )
        }),
        stale_families: status
            .as_ref()
            .map_or_else(Vec::new, |s| names(&mut s.stale_families.iter().copied())),
        stale_remaining_secs: status.as_ref().map_or(0, |s| s.remaining.as_secs()),
        stale_paths: d.rib().stale_paths(id) as u64,
        local_restart_time: local.map_or(0, |g| u32::from(g.restart_time)),
    }
}

fn as_path_text(a: &PathAttributes) -> (String, Vec<u32>) {
    match &a.as_path {
        Some(p) => (p.to_string(), p.asns().collect()),
        None => (String::new(), Vec::new()),
    }
}

fn next_hop(a: &PathAttributes) -> Vec<u8> {
    match (&a.mp_next_hop, a.next_hop) {
        // The address forwarded to: the link-local one when the global
        // field is `::` or link-local (RFC 2545 §3, link-local peers).
        (Some(m @ MpNextHop::V6 { .. }), _) => proto::addr_to_bytes(m.forwarding()),
        (Some(MpNextHop::V4(v4)), _) => v4.octets().to_vec(),
        (None, Some(v4)) => v4.octets().to_vec(),
        _ => Vec::new(),
    }
}

/// A RIB path on the wire.
/// ORIGIN as `show` words it.
fn origin_text(a: &PathAttributes) -> &'static str {
    match a.origin {
        Some(Origin::Igp) => "IGP",
        Some(Origin::Egp) => "EGP",
        _ => "incomplete",
    }
}

pub fn path(d: &Daemon, v: &PathView) -> pb::Path {
    let a = &v.attrs;
    let (text, asns) = as_path_text(a);
    pb::Path {
        prefix: Some(pb::Prefix {
            addr: proto::addr_to_bytes(v.prefix.ip()),
            len: v.prefix.prefix() as u32,
        }),
        next_hop: next_hop(a),
        peer: if v.peer == LOCAL_PEER {
            Vec::new()
        } else {
            d.peer_addr(v.peer)
                .map(proto::addr_to_bytes)
                .unwrap_or_default()
        },
        as_path: asns,
        as_path_text: text,
        origin: origin_text(a).into(),
        has_med: a.med.is_some(),
        med: a.med.unwrap_or(0),
        has_local_pref: a.local_pref.is_some(),
        local_pref: a.local_pref.unwrap_or(0),
        communities: a.communities.iter().map(|c| c.to_string()).collect(),
        large_communities: a.large_communities.iter().map(|c| c.to_string()).collect(),
        ext_communities: a
            .extended_communities
            .iter()
            .map(|c| c.to_string())
            .collect(),
        best: v.best,
        multipath: v.multipath,
        valid: v.accepted
            && !matches!(
                v.reason,
                Some(
                    Reason::PolicyRejected
                        | Reason::AsLoop
                        | Reason::OriginatorLoop
                        | Reason::ClusterLoop
                        | Reason::RouteLeak
                        | Reason::NoNextHop
                        | Reason::NextHopPending
                        | Reason::NextHopUnreachable
                )
            ),
        ibgp: v.peer != LOCAL_PEER && d.peer_is_ibgp(v.peer),
        age_secs: 0,
        weight: if v.peer == LOCAL_PEER {
            crate::rib::LOCAL_WEIGHT
        } else {
            v.attrs.weight
        },
        igp_metric: 0,
        reason: v.reason.map(|r| format!("{r:?}")).unwrap_or_default(),
        originator_id: a
            .originator_id
            .map(|o| o.octets().to_vec())
            .unwrap_or_default(),
        cluster_list: a.cluster_list.iter().map(|c| c.octets().to_vec()).collect(),
        stale: v.stale,
        atomic_aggregate: a.atomic_aggregate,
        aggregator: a
            .aggregator
            .as_ref()
            .map(|g| format!("{} {}", g.asn, g.address))
            .unwrap_or_default(),
        has_rx_path_id: v.rx_path_id.is_some(),
        rx_path_id: v.rx_path_id.unwrap_or(0),
        has_tx_path_id: v.tx_path_id.is_some(),
        tx_path_id: v.tx_path_id.unwrap_or(0),
        has_otc: a.otc.is_some(),
        otc: a.otc.unwrap_or(0),
        aggregate: v.aggregate,
        suppressed: v.suppressed,
    }
}

/// `show bgp ...` tables: the paths `q` selects.
pub fn rib_reply(d: &Daemon, q: &request::RibQuery) -> Result<pb::RibReply, String> {
    let neighbor = |addr| d.peer_id(addr).ok_or_else(|| format!("no neighbor {addr}"));
    let views = match q.table {
        request::RibTable::LocRib => d.rib().loc_rib(q.family, q.prefix),
        request::RibTable::AdjRibIn(addr) => d.rib().adj_rib_in(neighbor(addr)?, q.family),
        request::RibTable::AdjRibOut(addr) => d.rib().adj_rib_out(neighbor(addr)?, q.family),
    };
    Ok(pb::RibReply {
        paths: views
            .iter()
            .filter(|v| q.prefix.is_none_or(|x| x == v.prefix))
            .map(|v| path(d, v))
            .collect(),
        local_as: d.config().asn,
        router_id: d.config().router_id.octets().to_vec(),
    })
}

/// `show bgp l2vpn evpn [route type 2|3]`: every EVPN path, and the MACs
/// found duplicate.
pub fn evpn_reply(d: &Daemon, route_type: Option<u8>) -> pb::EvpnReply {
    use crate::evpn::community::describe;
    use crate::evpn::mobility::Location;
    use crate::evpn::nlri::EvpnRoute;
    let paths = d
        .evpn()
        .routes(route_type)
        .into_iter()
        .map(|v| {
            let a = &v.path.attrs;
            let (text, _) = as_path_text(a);
            let mut p = pb::EvpnPath {
                rd: v.key.rd().map(|r| r.to_string()).unwrap_or_default(),
                route_type: u32::from(v.key.route_type()),
                prefix: v.key.to_string(),
                next_hop: next_hop(a),
                peer: if v.path.peer == LOCAL_PEER {
                    Vec::new()
                } else {
                    d.peer_addr(v.path.peer)
                        .map(proto::addr_to_bytes)
                        .unwrap_or_default()
                },
                best: v.best,
                valid: v.path.rejected.is_none(),
                ibgp: v.path.peer != LOCAL_PEER && d.peer_is_ibgp(v.path.peer),
                as_path_text: text,
                origin: origin_text(a).into(),
                has_local_pref: a.local_pref.is_some(),
                local_pref: a.local_pref.unwrap_or(0),
                has_med: a.med.is_some(),
                med: a.med.unwrap_or(0),
                ext_communities: a.extended_communities.iter().map(describe).collect(),
                seq: v.path.seq(),
                sticky: v.path.sticky(),
                stale: v.path.stale,
                originator_id: a
                    .originator_id
                    .map(|o| o.octets().to_vec())
                    .unwrap_or_default(),
                cluster_list: a.cluster_list.iter().map(|c| c.octets().to_vec()).collect(),
                reason: v
                    .path
                    .rejected
                    .map(|r| format!("{r:?}"))
                    .unwrap_or_default(),
                pmsi_vtep: a
                    .pmsi_tunnel
                    .as_ref()
                    .and_then(|t| t.endpoint())
                    .map(proto::addr_to_bytes)
                    .unwrap_or_default(),
                ..pb::EvpnPath::default()
            };
            match &v.path.route {
                EvpnRoute::MacIp(r) => {
                    p.ethernet_tag = r.ethernet_tag;
                    p.mac = r.mac.0.to_vec();
                    p.ip = r.ip.map(proto::addr_to_bytes).unwrap_or_default();
                    p.esi = r.esi.to_string();
                    p.vni = r.vni;
                }
                EvpnRoute::Imet(r) => {
                    p.ethernet_tag = r.ethernet_tag;
                    p.ip = proto::addr_to_bytes(r.originator);
                    p.vni = a.pmsi_tunnel.as_ref().map_or(0, |t| t.label);
                }
                EvpnRoute::Other { .. } => {}
            }
            p
        })
        .collect();
    let now = std::time::Instant::now();
    pb::EvpnReply {
        paths,
        local_as: d.config().asn,
        router_id: d.config().router_id.octets().to_vec(),
        duplicates: d
            .evpn()
            .duplicates()
            .into_iter()
            .map(|x| pb::EvpnDuplicate {
                vni: x.vni,
                mac: x.mac.0.to_vec(),
                vtep: match x.location {
                    Location::Local => Vec::new(),
                    Location::Remote(a) => proto::addr_to_bytes(a),
                },
                moves: x.moves,
                frozen_secs: now.saturating_duration_since(x.since).as_secs(),
            })
            .collect(),
    }
}

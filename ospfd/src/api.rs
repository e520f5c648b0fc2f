//! The management gRPC service (`proto/proto/ospf.proto`, served on
//! `<run-dir>/ospfd.sock`): read-only views of the instance for vtysh.
//!
//! The service never touches the protocol state itself: each call becomes
//! a request on a bounded channel to the daemon's loop, which owns the
//! [`Instance`] and answers with a snapshot built by the `*_reply`
//! functions here. Requests are checked by [`request`] first.

pub mod request;

use std::net::Ipv4Addr;

use proto::ospf::ospf_server::Ospf;
use proto::ospf::{
    AreaSummary, DatabaseReply, DatabaseRequest, DropCounter, InterfaceInfo, InterfacesReply,
    InterfacesRequest, LsaInfo, NeighborInfo, NeighborsReply, NeighborsRequest, RouteInfo,
    RouteNexthop, RouterLinkInfo, RouterRouteInfo, RoutesReply, RoutesRequest, SummaryReply,
    SummaryRequest,
};
use tokio::sync::{mpsc, oneshot};
use tonic::{Request, Response, Status};

use crate::instance::{secs, Instance, Millis, Scope};
use crate::interface::IsmState;
use crate::lsa::{ExternalMetricType, LsaBody, LsaType};
use crate::neighbor::NsmState;
use common::running::ConfigRequest;

use crate::packet::AuthConfig;
use crate::spf::{NextHop, PathType};

/// A question for the daemon's loop.
#[derive(Debug)]
pub enum ApiRequest {
    Summary(oneshot::Sender<SummaryReply>),
    /// One interface by name; `None`: all.
    Interfaces(Option<String>, oneshot::Sender<InterfacesReply>),
    Neighbors(oneshot::Sender<NeighborsReply>),
    Database(request::DatabaseQuery, oneshot::Sender<DatabaseReply>),
    Routes(oneshot::Sender<RoutesReply>),
    /// Running configuration: get, apply, write (config.proto).
    Config(ConfigRequest),
}

impl From<ConfigRequest> for ApiRequest {
    fn from(r: ConfigRequest) -> Self {
        ApiRequest::Config(r)
    }
}

/// The tonic service: forwards to the daemon's loop.
#[derive(Clone)]
pub struct OspfService {
    tx: mpsc::Sender<ApiRequest>,
}

impl OspfService {
    pub fn new(tx: mpsc::Sender<ApiRequest>) -> Self {
        OspfService { tx }
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> ApiRequest,
    ) -> Result<Response<T>, Status> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(make(tx))
            .await
            .map_err(|_| Status::unavailable("ospfd is shutting down"))?;
        rx.await
            .map(Response::new)
            .map_err(|_| Status::unavailable("ospfd is shutting down"))
    }
}

/// A refused request: INVALID_ARGUMENT with the reason.
fn invalid(e: request::RequestError) -> Status {
    Status::invalid_argument(e.to_string())
}

#[tonic::async_trait]
impl Ospf for OspfService {
    async fn summary(&self, _: Request<SummaryRequest>) -> Result<Response<SummaryReply>, Status> {
        self.ask(ApiRequest::Summary).await
    }
    async fn interfaces(
        &self,
        r: Request<InterfacesRequest>,
    ) -> Result<Response<InterfacesReply>, Status> {
        let name = request::interfaces(&r.into_inner()).map_err(invalid)?;
        self.ask(|tx| ApiRequest::Interfaces(name, tx)).await
    }
    async fn neighbors(
        &self,
        _: Request<NeighborsRequest>,
    ) -> Result<Response<NeighborsReply>, Status> {
        self.ask(ApiRequest::Neighbors).await
    }
    async fn database(
        &self,
        r: Request<DatabaseRequest>,
    ) -> Result<Response<DatabaseReply>, Status> {
        let q = request::database(&r.into_inner()).map_err(invalid)?;
        self.ask(|tx| ApiRequest::Database(q, tx)).await
    }
    async fn routes(&self, _: Request<RoutesRequest>) -> Result<Response<RoutesReply>, Status> {
        self.ask(ApiRequest::Routes).await
    }
}

fn ip(a: Ipv4Addr) -> String {
    if a.is_unspecified() {
        String::new()
    } else {
        a.to_string()
    }
}

/// The reply to Summary.
pub fn summary_reply(inst: &Instance, reference_bandwidth: u32, now: Millis) -> SummaryReply {
    let s = secs(now);
    let mut areas = Vec::new();
    for a in inst.areas.values() {
        let count = |t: LsaType| a.lsdb.iter_type(t).count() as u32;
        let ifaces: Vec<_> = inst
            .ifaces
            .values()
            .filter(|i| i.params.area == a.id)
            .collect();
        areas.push(AreaSummary {
            area_id: a.id.to_string(),
            stub: a.cfg.stub,
            stub_default_cost: a.cfg.stub_default_cost,
            interfaces: ifaces.len() as u32,
            active_interfaces: ifaces.iter().filter(|i| i.is_up()).count() as u32,
            full_adjacencies: ifaces
                .iter()
                .flat_map(|i| i.neighbors.values())
                .filter(|n| n.state == NsmState::Full)
                .count() as u32,
            lsa_count: a.lsdb.len() as u32,
            router_lsas: count(LsaType::ROUTER),
            network_lsas: count(LsaType::NETWORK),
            summary_lsas: count(LsaType::SUMMARY_NETWORK),
            asbr_summary_lsas: count(LsaType::SUMMARY_ROUTER),
            lsa_checksum_sum: a
                .lsdb
                .iter()
                .map(|(_, e)| u32::from(e.lsa().header().checksum))
                .sum(),
            ranges: a.cfg.ranges.iter().map(|r| r.to_string()).collect(),
        });
    }
    let _ = s;
    SummaryReply {
        router_id: inst.router_id.to_string(),
        uptime_secs: now.saturating_sub(inst.started_at) / 1000,
        abr: inst.is_abr(),
        asbr: inst.asbr,
        spf_delay: inst.spf_throttle.delay as u32,
        spf_initial_hold: inst.spf_throttle.initial_hold as u32,
        spf_max_hold: inst.spf_throttle.max_hold as u32,
        spf_current_hold: inst.spf.hold as u32,
        spf_runs: inst.spf.runs,
        spf_last_ago: inst
            .spf
            .last_run
            .map(|t| now.saturating_sub(t))
            .unwrap_or(0),
        spf_last_duration_us: inst.spf.last_duration_us,
        external_lsas: inst.external.len() as u32,
        external_checksum_sum: inst
            .external
            .iter()
            .map(|(_, e)| u32::from(e.lsa().header().checksum))
            .sum(),
        reference_bandwidth,
        areas,
        drops: inst
            .drops
            .iter()
            .map(|(r, c)| DropCounter {
                reason: r.to_string(),
                count: *c,
            })
            .collect(),
        routes: inst.table.networks.len() as u32,
    }
}

/// The reply to Interfaces.
pub fn interfaces_reply(
    inst: &Instance,
    name: Option<&str>,
    auth: impl Fn(&str) -> AuthConfig,
    now: Millis,
) -> InterfacesReply {
    let mut out = Vec::new();
    for i in inst.ifaces.values() {
        if name.is_some_and(|n| i.params.name != n) {
            continue;
        }
        let rid_of = |addr: Ipv4Addr| -> String {
            if addr.is_unspecified() {
                return String::new();
            }
            if addr == i.ip() {
                return inst.router_id.to_string();
            }
            i.neighbor_by_addr(addr)
                .map(|n| n.router_id.to_string())
                .unwrap_or_default()
        };
        let network_type = if i.state == IsmState::Loopback {
            "LOOPBACK"
        } else {
            i.params.kind.name()
        };
        out.push(InterfaceInfo {
            name: i.params.name.clone(),
            ifindex: i.ifindex,
            link_up: i.link_up,
            ospf_up: i.is_up(),
            address: i.addr.map(|a| a.ip().to_string()).unwrap_or_default(),
            prefix_len: i.addr.map(|a| u32::from(a.prefix())).unwrap_or(0),
            area_id: i.params.area.to_string(),
            network_type: network_type.to_string(),
            cost: u32::from(i.params.cost),
            state: i.state.name().to_string(),
            priority: u32::from(i.params.priority),
            dr_id: rid_of(i.dr),
            dr_address: ip(i.dr),
            bdr_id: rid_of(i.bdr),
            bdr_address: ip(i.bdr),
            hello_interval: u32::from(i.params.hello_interval),
            dead_interval: i.params.dead_interval,
            retransmit_interval: u32::from(i.params.retransmit_interval),
            transmit_delay: u32::from(i.params.transmit_delay),
            hello_due: i.hello_due.map(|d| d.saturating_sub(now)).unwrap_or(0),
            neighbors: i.neighbors.len() as u32,
            adjacent_neighbors: i
                .neighbors
                .values()
                .filter(|n| n.state == NsmState::Full)
                .count() as u32,
            passive: i.params.passive,
            mtu: u32::from(i.mtu),
            auth: match auth(&i.params.name) {
                AuthConfig::Null => "null",
                AuthConfig::Simple(_) => "simple",
                AuthConfig::Md5 { .. } => "md5",
            }
            .to_string(),
            hello_in: i.stats.hello_in,
            hello_out: i.stats.hello_out,
            dd_in: i.stats.dd_in,
            dd_out: i.stats.dd_out,
            lsr_in: i.stats.lsr_in,
            lsr_out: i.stats.lsr_out,
            lsu_in: i.stats.lsu_in,
            lsu_out: i.stats.lsu_out,
            ack_in: i.stats.ack_in,
            ack_out: i.stats.ack_out,
            state_changes: i.state_changes,
        });
    }
    InterfacesReply { interfaces: out }
}

/// The reply to Neighbors.
pub fn neighbors_reply(inst: &Instance, now: Millis) -> NeighborsReply {
    let mut out = Vec::new();
    for i in inst.ifaces.values() {
        for n in i.neighbors.values() {
            let role = if i.params.kind != crate::interface::IfaceType::Broadcast {
                ""
            } else if n.addr == i.dr {
                "DR"
            } else if n.addr == i.bdr {
                "Backup"
            } else {
                "DROther"
            };
            out.push(NeighborInfo {
                router_id: n.router_id.to_string(),
                priority: u32::from(n.priority),
                state: n.state.name().to_string(),
                role: role.to_string(),
                dead_due: n.inactivity_due.saturating_sub(now),
                address: n.addr.to_string(),
                ifname: i.params.name.clone(),
                if_address: i.ip().to_string(),
                area_id: i.params.area.to_string(),
                retransmit_count: n.rxmt.len() as u32,
                request_count: n.requests.len() as u32,
                summary_count: n.summary.len() as u32,
                up_time: now.saturating_sub(n.since),
                state_changes: n.state_changes,
                dr: ip(n.dr),
                bdr: ip(n.bdr),
                options: u32::from(n.options.0),
            });
        }
    }
    NeighborsReply { neighbors: out }
}

/// The reply to Database.
pub fn database_reply(inst: &Instance, req: &request::DatabaseQuery, now: Millis) -> DatabaseReply {
    let s = secs(now);
    let mut scopes: Vec<Scope> = inst.areas.keys().map(|a| Scope::Area(*a)).collect();
    scopes.push(Scope::As);
    let mut lsas = Vec::new();
    for scope in scopes {
        let Some(db) = inst.lsdb(scope) else { continue };
        for (key, e) in db.iter() {
            if req.lsa_type.is_some_and(|t| t != key.lsa_type) {
                continue;
            }
            let h = e.header_at(s);
            let mut info = LsaInfo {
                lsa_type: u32::from(key.lsa_type.0),
                lsid: key.lsid.to_string(),
                adv_router: key.adv_rtr.to_string(),
                age: u32::from(h.age_value()),
                seq: h.seq as u32,
                checksum: u32::from(h.checksum),
                length: u32::from(h.length),
                options: u32::from(h.options.0),
                area_id: match scope {
                    Scope::Area(a) => a.to_string(),
                    Scope::As => String::new(),
                },
                self_originated: key.adv_rtr == inst.router_id,
                ..Default::default()
            };
            if req.detail {
                match e.lsa().body() {
                    LsaBody::Router(r) => {
                        info.router_flags = u32::from(r.flags.0);
                        info.links = r
                            .links
                            .iter()
                            .map(|l| RouterLinkInfo {
                                link_type: u32::from(l.link_type.to_u8()),
                                link_id: l.link_id.to_string(),
                                link_data: l.link_data.to_string(),
                                metric: u32::from(l.metric),
                            })
                            .collect();
                    }
                    LsaBody::Network(n) => {
                        info.mask = n.mask.to_string();
                        info.attached = n.attached_routers.iter().map(|a| a.to_string()).collect();
                    }
                    LsaBody::SummaryNetwork(x) | LsaBody::SummaryRouter(x) => {
                        info.mask = x.mask.to_string();
                        info.metric = x.metric;
                    }
                    LsaBody::AsExternal(x) => {
                        info.mask = x.mask.to_string();
                        info.metric = x.metric;
                        info.metric_type = match x.metric_type {
                            ExternalMetricType::Type1 => 1,
                            ExternalMetricType::Type2 => 2,
                        };
                        info.forwarding = x.forwarding_address.to_string();
                        info.tag = x.route_tag;
                    }
                    LsaBody::Unknown(_) => {}
                }
            }
            lsas.push(info);
        }
    }
    DatabaseReply {
        router_id: inst.router_id.to_string(),
        lsas,
    }
}

fn path_type(p: PathType) -> &'static str {
    match p {
        PathType::IntraArea => "intra-area",
        PathType::InterArea => "inter-area",
        PathType::External1 => "external-1",
        PathType::External2 => "external-2",
    }
}

fn nexthops(inst: &Instance, nhs: &[NextHop]) -> Vec<RouteNexthop> {
    nhs.iter()
        .map(|n| RouteNexthop {
            gateway: n.gateway.map(|g| g.to_string()).unwrap_or_default(),
            ifname: inst.iface_name(n.ifindex).unwrap_or("").to_string(),
        })
        .collect()
}

/// The reply to Routes.
pub fn routes_reply(inst: &Instance) -> RoutesReply {
    RoutesReply {
        networks: inst
            .table
            .networks
            .iter()
            .map(|(p, r)| RouteInfo {
                prefix: p.to_string(),
                path_type: path_type(r.path_type).to_string(),
                cost: r.cost,
                type2_cost: r.type2_cost,
                area_id: r.area.to_string(),
                nexthops: nexthops(inst, &r.nexthops),
            })
            .collect(),
        routers: inst
            .table
            .routers
            .iter()
            .map(|((rid, _), r)| RouterRouteInfo {
                router_id: rid.to_string(),
                path_type: path_type(r.path_type).to_string(),
                cost: r.cost,
                area_id: r.area.to_string(),
                abr: r.abr,
                asbr: r.asbr,
                nexthops: nexthops(inst, &r.nexthops),
            })
            .collect(),
    }
}

//! zebrad's gRPC service (`proto/proto/zebra.proto`): converts what clients
//! send into domain types, rejecting bad input with a reason per route, and
//! hands it to the RIB task as [`RibCmd`]s. It holds no routing state.
//!
//! Each client stream is one task, so a slow or hostile client only delays
//! itself; the RIB task's bounded command queue is the backpressure.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use proto::zebra as pb;
use proto::zebra::zebra_server::Zebra;
use proto::Source;
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};
use tracing::warn;

use crate::daemon::{RibCmd, SUB_QUEUE};
use crate::rib::{NexthopIn, RouteIn, RouteKind, MAIN_TABLE};
use crate::vtep;

/// Most routes one batch may carry.
pub const MAX_BATCH_ROUTES: usize = 200_000;

/// The service: a handle on the RIB task.
#[derive(Clone)]
pub struct ZebraService {
    cmds: mpsc::Sender<RibCmd>,
    next_sub: Arc<AtomicU64>,
}

impl ZebraService {
    pub fn new(cmds: mpsc::Sender<RibCmd>) -> Self {
        ZebraService {
            cmds,
            next_sub: Arc::new(AtomicU64::new(1)),
        }
    }

    /// Hands a command to the RIB task.
    async fn send(&self, cmd: RibCmd) -> Result<(), Status> {
        self.cmds
            .send(cmd)
            .await
            .map_err(|_| Status::unavailable("zebrad is shutting down"))
    }

    /// A command with one answer.
    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> RibCmd) -> Result<T, Status> {
        let (tx, rx) = oneshot::channel();
        self.send(make(tx)).await?;
        rx.await
            .map_err(|_| Status::internal("the RIB task dropped the request"))
    }

    /// A subscription: the RIB task feeds the returned stream through a
    /// queue of `queue` messages.
    async fn subscribe<T>(
        &self,
        queue: usize,
        make: impl FnOnce(mpsc::Sender<Result<T, Status>>) -> RibCmd,
    ) -> Result<Response<Stream<T>>, Status> {
        let (tx, rx) = mpsc::channel(queue);
        self.send(make(tx)).await?;
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

fn table_of(t: u32) -> u32 {
    if t == 0 {
        MAIN_TABLE
    } else {
        t
    }
}

/// A route from the wire, validated.
pub fn route_from_wire(r: &pb::Route) -> Result<RouteIn, String> {
    let prefix = proto::prefix_from_wire(r.prefix.as_ref().ok_or("missing prefix")?)
        .map_err(|e| e.to_string())?;
    let kind = match pb::RouteKind::try_from(r.kind) {
        Ok(pb::RouteKind::Unicast) => RouteKind::Unicast,
        Ok(pb::RouteKind::Blackhole) => RouteKind::Blackhole,
        Ok(pb::RouteKind::Unreachable) => RouteKind::Unreachable,
        Ok(pb::RouteKind::Prohibit) => RouteKind::Prohibit,
        Err(_) => return Err(format!("unknown route kind {}", r.kind)),
    };
    if r.distance > 255 {
        return Err(format!("distance {} is over 255", r.distance));
    }
    if r.table == 255 {
        return Err("table 255 is the kernel's local table".into());
    }
    let mut nexthops = Vec::with_capacity(r.nexthops.len());
    for nh in &r.nexthops {
        let gateway = if nh.gateway.is_empty() {
            None
        } else {
            let g = proto::addr_from_bytes(&nh.gateway).map_err(|e| e.to_string())?;
            if g.is_ipv4() && prefix.is_ipv6() {
                return Err(format!("gateway {g} for an IPv6 prefix"));
            }
            if crate::rib::nexthop::needs_interface(&g) && nh.ifname.is_empty() {
                return Err(format!(
                    "link-local gateway {g} without an interface (ifname)"
                ));
            }
            Some(g)
        };
        if nh.weight > 256 {
            return Err(format!("weight {} is over 256", nh.weight));
        }
        nexthops.push(NexthopIn {
            gateway,
            ifname: (!nh.ifname.is_empty()).then(|| nh.ifname.clone()),
            weight: nh.weight.max(1) as u16,
        });
    }
    Ok(RouteIn {
        prefix,
        table: table_of(r.table),
        distance: (r.distance != 0).then_some(r.distance as u8),
        metric: r.metric,
        tag: r.tag,
        kind,
        nexthops,
    })
}

fn route_error(prefix: Option<&pb::Prefix>, table: u32, reason: String) -> pb::RouteError {
    pb::RouteError {
        key: Some(pb::RouteKey {
            prefix: prefix.cloned(),
            table,
        }),
        reason,
    }
}

fn sources_from_wire(v: &[i32]) -> Result<Vec<Source>, Status> {
    v.iter()
        .map(|&s| Source::try_from(s).map_err(|e| Status::invalid_argument(e.to_string())))
        .collect()
}

type Stream<T> = ReceiverStream<Result<T, Status>>;

#[tonic::async_trait]
impl Zebra for ZebraService {
    type PushRoutesStream = Stream<pb::PushReply>;

    async fn push_routes(
        &self,
        request: Request<Streaming<pb::PushRequest>>,
    ) -> Result<Response<Self::PushRoutesStream>, Status> {
        let mut stream = request.into_inner();
        let first = stream
            .message()
            .await?
            .ok_or_else(|| Status::invalid_argument("empty stream"))?;
        let Some(pb::push_request::Msg::Hello(hello)) = first.msg else {
            return Err(Status::invalid_argument("the first message must be Hello"));
        };
        let source =
            Source::try_from(hello.source).map_err(|e| Status::invalid_argument(e.to_string()))?;
        if matches!(source, Source::Connected | Source::Kernel) {
            return Err(Status::invalid_argument(format!(
                "routes of source {source} come from the kernel, not from clients"
            )));
        }
        let stale_time =
            (hello.stale_time != 0).then(|| Duration::from_secs(hello.stale_time as u64));
        let instance = if hello.instance.is_empty() {
            "default".to_string()
        } else {
            hello.instance
        };
        let (client, stale) = self
            .ask(|reply| RibCmd::Hello {
                source,
                instance: instance.clone(),
                stale_time,
                reply,
            })
            .await?;
        let (tx, rx) = mpsc::channel(64);
        let _ = tx
            .send(Ok(pb::PushReply {
                seq: 0,
                accepted: 0,
                rejected: Vec::new(),
                stale_routes: stale as u32,
            }))
            .await;
        let cmds = self.cmds.clone();
        tokio::spawn(async move {
            loop {
                let msg = match stream.message().await {
                    Ok(Some(m)) => m,
                    Ok(None) => break,
                    Err(e) => {
                        warn!(%source, %instance, error = %e, "client stream failed");
                        break;
                    }
                };
                let batch = match msg.msg {
                    Some(pb::push_request::Msg::Batch(b)) => b,
                    Some(pb::push_request::Msg::Hello(_)) | None => {
                        let _ = tx
                            .send(Err(Status::invalid_argument("Hello may only come first")))
                            .await;
                        break;
                    }
                };
                if batch.add.len() + batch.del.len() > MAX_BATCH_ROUTES {
                    let _ = tx
                        .send(Err(Status::resource_exhausted(format!(
                            "a batch carries at most {MAX_BATCH_ROUTES} routes"
                        ))))
                        .await;
                    break;
                }
                let mut add = Vec::with_capacity(batch.add.len());
                let mut rejected = Vec::new();
                for r in &batch.add {
                    match route_from_wire(r) {
                        Ok(r) => add.push(r),
                        Err(reason) => {
                            rejected.push(route_error(r.prefix.as_ref(), r.table, reason))
                        }
                    }
                }
                let mut del = Vec::with_capacity(batch.del.len());
                for k in &batch.del {
                    match k
                        .prefix
                        .as_ref()
                        .ok_or_else(|| "missing prefix".to_string())
                        .and_then(|p| proto::prefix_from_wire(p).map_err(|e| e.to_string()))
                    {
                        Ok(p) => del.push((table_of(k.table), p)),
                        Err(reason) => {
                            rejected.push(route_error(k.prefix.as_ref(), k.table, reason))
                        }
                    }
                }
                let cmd = RibCmd::Batch {
                    client,
                    seq: batch.seq,
                    add,
                    del,
                    end_of_rib: batch.end_of_rib,
                    rejected,
                    reply: tx.clone(),
                };
                if cmds.send(cmd).await.is_err() {
                    break;
                }
            }
            let _ = cmds.send(RibCmd::Disconnect { client }).await;
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    type RedistributeStream = Stream<pb::RedistBatch>;

    async fn redistribute(
        &self,
        request: Request<pb::RedistRequest>,
    ) -> Result<Response<Self::RedistributeStream>, Status> {
        let req = request.into_inner();
        let sources = sources_from_wire(&req.sources)?;
        let v6 = match pb::AddressFamily::try_from(req.family) {
            Ok(pb::AddressFamily::Ipv4) => Some(false),
            Ok(pb::AddressFamily::Ipv6) => Some(true),
            Ok(pb::AddressFamily::Unspecified) => None,
            Err(_) => return Err(Status::invalid_argument("unknown address family")),
        };
        let tables = req.tables.iter().map(|&t| table_of(t)).collect();
        self.subscribe(SUB_QUEUE, |tx| RibCmd::Redistribute {
            sources,
            v6,
            tables,
            tx,
        })
        .await
    }

    type TrackNexthopsStream = Stream<pb::NexthopUpdate>;

    async fn track_nexthops(
        &self,
        request: Request<Streaming<pb::NexthopRegistration>>,
    ) -> Result<Response<Self::TrackNexthopsStream>, Status> {
        let mut stream = request.into_inner();
        let sub = self.next_sub.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(SUB_QUEUE);
        let cmds = self.cmds.clone();
        tokio::spawn(async move {
            while let Ok(Some(reg)) = stream.message().await {
                let parse = |v: &[Vec<u8>]| -> Result<Vec<std::net::IpAddr>, Status> {
                    v.iter()
                        .map(|b| {
                            proto::addr_from_bytes(b)
                                .map_err(|e| Status::invalid_argument(e.to_string()))
                        })
                        .collect()
                };
                let (register, unregister) = match (parse(&reg.register), parse(&reg.unregister)) {
                    (Ok(a), Ok(b)) => (a, b),
                    (Err(e), _) | (_, Err(e)) => {
                        let _ = tx.send(Err(e)).await;
                        break;
                    }
                };
                let cmd = RibCmd::Nht {
                    sub,
                    table: reg.table,
                    register,
                    unregister,
                    tx: tx.clone(),
                };
                if cmds.send(cmd).await.is_err() {
                    break;
                }
            }
            let _ = cmds.send(RibCmd::NhtGone { sub }).await;
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    type WatchInterfacesStream = Stream<pb::InterfaceEvent>;

    async fn watch_interfaces(
        &self,
        _request: Request<pb::InterfaceRequest>,
    ) -> Result<Response<Self::WatchInterfacesStream>, Status> {
        self.subscribe(SUB_QUEUE, |tx| RibCmd::WatchInterfaces { tx })
            .await
    }

    async fn list_interfaces(
        &self,
        _request: Request<pb::InterfaceRequest>,
    ) -> Result<Response<pb::InterfaceList>, Status> {
        Ok(Response::new(
            self.ask(|reply| RibCmd::ListInterfaces { reply }).await?,
        ))
    }

    async fn show_routes(
        &self,
        request: Request<pb::ShowRoutesRequest>,
    ) -> Result<Response<pb::ShowRoutesReply>, Status> {
        let req = request.into_inner();
        Ok(Response::new(
            self.ask(|reply| RibCmd::ShowRoutes { req, reply })
                .await??,
        ))
    }

    async fn show_rules(
        &self,
        _request: Request<pb::ShowRulesRequest>,
    ) -> Result<Response<pb::ShowRulesReply>, Status> {
        Ok(Response::new(
            self.ask(|reply| RibCmd::ShowRules { reply }).await?,
        ))
    }

    async fn show_nexthop_groups(
        &self,
        _request: Request<pb::ShowNexthopGroupsRequest>,
    ) -> Result<Response<pb::ShowNexthopGroupsReply>, Status> {
        Ok(Response::new(
            self.ask(|reply| RibCmd::ShowNexthopGroups { reply })
                .await?,
        ))
    }

    async fn status(
        &self,
        _request: Request<pb::StatusRequest>,
    ) -> Result<Response<pb::StatusReply>, Status> {
        Ok(Response::new(
            self.ask(|reply| RibCmd::Status { reply }).await?,
        ))
    }

    async fn show_services(
        &self,
        request: Request<pb::ShowServicesRequest>,
    ) -> Result<Response<pb::ShowServicesReply>, Status> {
        let name = request.into_inner().name;
        Ok(Response::new(
            self.ask(|reply| RibCmd::ShowServices { name, reply })
                .await?,
        ))
    }

    async fn reload(
        &self,
        _request: Request<pb::ReloadRequest>,
    ) -> Result<Response<pb::ReloadReply>, Status> {
        Ok(Response::new(
            self.ask(|reply| RibCmd::Reload { reply: Some(reply) })
                .await?,
        ))
    }

    type WatchEvpnStream = Stream<pb::EvpnLocalUpdate>;

    async fn watch_evpn(
        &self,
        request: Request<pb::WatchEvpnRequest>,
    ) -> Result<Response<Self::WatchEvpnStream>, Status> {
        let vnis = request.into_inner().vnis;
        self.subscribe(SUB_QUEUE, |tx| RibCmd::WatchEvpn { vnis, tx })
            .await
    }

    type PushEvpnStream = Stream<pb::EvpnPushReply>;

    async fn push_evpn(
        &self,
        request: Request<Streaming<pb::EvpnPushRequest>>,
    ) -> Result<Response<Self::PushEvpnStream>, Status> {
        let mut stream = request.into_inner();
        let first = stream
            .message()
            .await?
            .ok_or_else(|| Status::invalid_argument("empty stream"))?;
        let Some(pb::evpn_push_request::Msg::Hello(hello)) = first.msg else {
            return Err(Status::invalid_argument(
                "the first message must be EvpnHello",
            ));
        };
        if hello.client.is_empty() {
            return Err(Status::invalid_argument("EvpnHello needs a client name"));
        }
        let name = hello.client;
        let stale_time =
            (hello.stale_time != 0).then(|| Duration::from_secs(hello.stale_time as u64));
        let (client, stale) = self
            .ask(|reply| RibCmd::EvpnHello {
                name: name.clone(),
                stale_time,
                reply,
            })
            .await?;
        let (tx, rx) = mpsc::channel(64);
        let _ = tx
            .send(Ok(pb::EvpnPushReply {
                stale_entries: stale as u32,
                ..Default::default()
            }))
            .await;
        let cmds = self.cmds.clone();
        tokio::spawn(async move {
            loop {
                let msg = match stream.message().await {
                    Ok(Some(m)) => m,
                    Ok(None) => break,
                    Err(e) => {
                        warn!(client = %name, error = %e, "EVPN client stream failed");
                        break;
                    }
                };
                let Some(pb::evpn_push_request::Msg::Batch(b)) = msg.msg else {
                    let _ = tx
                        .send(Err(Status::invalid_argument(
                            "EvpnHello may only come first",
                        )))
                        .await;
                    break;
                };
                let (batch, rejected) = evpn_batch_from_wire(&b);
                if batch.len() + rejected.len() > MAX_BATCH_ROUTES {
                    let _ = tx
                        .send(Err(Status::resource_exhausted(format!(
                            "a batch carries at most {MAX_BATCH_ROUTES} entries"
                        ))))
                        .await;
                    break;
                }
                let cmd = RibCmd::EvpnBatch {
                    client,
                    seq: b.seq,
                    batch,
                    rejected,
                    reply: tx.clone(),
                };
                if cmds.send(cmd).await.is_err() {
                    break;
                }
            }
            let _ = cmds.send(RibCmd::EvpnDisconnect { client }).await;
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn show_evpn(
        &self,
        request: Request<pb::ShowEvpnRequest>,
    ) -> Result<Response<pb::ShowEvpnReply>, Status> {
        let req = request.into_inner();
        Ok(Response::new(
            self.ask(|reply| RibCmd::ShowEvpn { req, reply }).await?,
        ))
    }
}

/// Largest VNI (24 bits, RFC 7348 section 5).
const MAX_VNI: u32 = (1 << 24) - 1;

fn vni_from_wire(v: u32) -> Result<u32, String> {
    if v == 0 || v > MAX_VNI {
        return Err(format!("VNI {v} is not in 1..={MAX_VNI}"));
    }
    Ok(v)
}

fn mac_from_wire(m: &[u8]) -> Result<vtep::Mac, String> {
    let mac: vtep::Mac = m
        .try_into()
        .map_err(|_| format!("a MAC is 6 bytes, got {}", m.len()))?;
    if mac == [0; 6] || mac[0] & 1 != 0 {
        return Err(format!("{} is not a unicast MAC", vtep::fmt_mac(&mac)));
    }
    Ok(mac)
}

fn vtep_from_wire(v: &[u8]) -> Result<std::net::IpAddr, String> {
    let a = proto::addr_from_bytes(v).map_err(|e| e.to_string())?;
    if a.is_unspecified() || a.is_multicast() || a.is_loopback() {
        return Err(format!("{a} is not a VTEP address"));
    }
    Ok(a)
}

fn evpn_reject(vni: u32, mac: &[u8], ip: &[u8], vtep: &[u8], reason: String) -> pb::EvpnRejected {
    pb::EvpnRejected {
        vni,
        mac: mac.to_vec(),
        ip: ip.to_vec(),
        vtep: vtep.to_vec(),
        reason,
    }
}

/// A batch from the wire: what is valid, and a reason for each entry that is not.
pub fn evpn_batch_from_wire(b: &pb::EvpnBatch) -> (vtep::Batch, Vec<pb::EvpnRejected>) {
    let mut out = vtep::Batch {
        end_of_rib: b.end_of_rib,
        ..vtep::Batch::default()
    };
    let mut rej = Vec::new();
    for (list, add) in [(&b.vtep_add, true), (&b.vtep_del, false)] {
        for v in list {
            match vni_from_wire(v.vni).and_then(|n| Ok((n, vtep_from_wire(&v.vtep)?))) {
                Ok(k) if add => out.vtep_add.push(k),
                Ok(k) => out.vtep_del.push(k),
                Err(r) => rej.push(evpn_reject(v.vni, &[], &[], &v.vtep, r)),
            }
        }
    }
    for m in &b.mac_add {
        let e = vni_from_wire(m.vni).and_then(|n| {
            Ok((
                n,
                mac_from_wire(&m.mac)?,
                vtep::MacEntry {
                    vtep: vtep_from_wire(&m.vtep)?,
                    seq: m.seq,
                    sticky: m.sticky,
                },
            ))
        });
        match e {
            Ok(e) => out.mac_add.push(e),
            Err(r) => rej.push(evpn_reject(m.vni, &m.mac, &[], &m.vtep, r)),
        }
    }
    for m in &b.mac_del {
        match vni_from_wire(m.vni).and_then(|n| Ok((n, mac_from_wire(&m.mac)?))) {
            Ok(k) => out.mac_del.push(k),
            Err(r) => rej.push(evpn_reject(m.vni, &m.mac, &[], &[], r)),
        }
    }
    for m in &b.macip_add {
        let e = vni_from_wire(m.vni).and_then(|n| {
            Ok((
                n,
                proto::addr_from_bytes(&m.ip).map_err(|e| e.to_string())?,
                vtep::MacIpEntry {
                    mac: mac_from_wire(&m.mac)?,
                    vtep: vtep_from_wire(&m.vtep)?,
                },
            ))
        });
        match e {
            Ok(e) => out.macip_add.push(e),
            Err(r) => rej.push(evpn_reject(m.vni, &m.mac, &m.ip, &m.vtep, r)),
        }
    }
    for m in &b.macip_del {
        match vni_from_wire(m.vni)
            .and_then(|n| Ok((n, proto::addr_from_bytes(&m.ip).map_err(|e| e.to_string())?)))
        {
            Ok(k) => out.macip_del.push(k),
            Err(r) => rej.push(evpn_reject(m.vni, &[], &m.ip, &[], r)),
        }
    }
    (out, rej)
}

/// The load-balancer service (`LoadBalancer` in zebra.proto): health
/// reports with a TTL, drain/undrain and the stream of anycast service
/// state changes, for load balancers, orchestrators and vtysh.
#[tonic::async_trait]
impl proto::zebra::load_balancer_server::LoadBalancer for ZebraService {
    async fn report_health(
        &self,
        request: Request<pb::HealthReport>,
    ) -> Result<Response<pb::HealthReportReply>, Status> {
        let req = request.into_inner();
        if req.service.is_empty() {
            return Err(Status::invalid_argument("no service named"));
        }
        let state = self
            .ask(|reply| RibCmd::LbReport { req, reply })
            .await?
            .map_err(Status::not_found)?;
        Ok(Response::new(pb::HealthReportReply { state }))
    }

    async fn drain(
        &self,
        request: Request<pb::DrainRequest>,
    ) -> Result<Response<pb::DrainReply>, Status> {
        self.drain_cmd(request.into_inner(), true).await
    }

    async fn undrain(
        &self,
        request: Request<pb::DrainRequest>,
    ) -> Result<Response<pb::DrainReply>, Status> {
        self.drain_cmd(request.into_inner(), false).await
    }

    type WatchServicesStream = Stream<pb::ServiceEvent>;

    async fn watch_services(
        &self,
        request: Request<pb::WatchServicesRequest>,
    ) -> Result<Response<Self::WatchServicesStream>, Status> {
        let service = request.into_inner().service;
        self.subscribe(crate::anycast::WATCH_QUEUE, |tx| RibCmd::WatchServices {
            service,
            tx,
        })
        .await
    }
}

impl ZebraService {
    async fn drain_cmd(
        &self,
        req: pb::DrainRequest,
        on: bool,
    ) -> Result<Response<pb::DrainReply>, Status> {
        let status = self
            .ask(|reply| RibCmd::Drain { req, on, reply })
            .await?
            .map_err(Status::not_found)?;
        Ok(Response::new(pb::DrainReply {
            status: Some(status),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(prefix: &str, gw: &str) -> pb::Route {
        let p: ipnetwork::IpNetwork = prefix.parse().unwrap();
        pb::Route {
            prefix: Some(proto::prefix_to_wire(p)),
            nexthops: vec![pb::Nexthop {
                gateway: proto::addr_to_bytes(gw.parse().unwrap()),
                ifname: String::new(),
                weight: 0,
            }],
            ..Default::default()
        }
    }

    #[test]
    fn routes_from_the_wire() {
        let r = route_from_wire(&wire("203.0.113.0/24", "192.0.2.1")).unwrap();
        assert_eq!(r.table, MAIN_TABLE);
        assert_eq!(r.distance, None);
        assert_eq!(r.nexthops[0].weight, 1);
        let mut bad = wire("2001:db8::/32", "192.0.2.1");
        assert!(route_from_wire(&bad).unwrap_err().contains("IPv6"));
        bad = wire("203.0.113.0/24", "192.0.2.1");
        bad.distance = 300;
        assert!(route_from_wire(&bad).is_err());
        bad = wire("203.0.113.0/24", "192.0.2.1");
        bad.prefix = None;
        assert!(route_from_wire(&bad).is_err());
        bad = wire("203.0.113.0/24", "192.0.2.1");
        bad.nexthops[0].gateway = vec![1, 2, 3];
        assert!(route_from_wire(&bad).is_err());
        bad = wire("203.0.113.0/24", "192.0.2.1");
        bad.kind = 42;
        assert!(route_from_wire(&bad).is_err());
        // A link-local gateway names its interface (IPv4 over it too).
        bad = wire("2001:db8::/32", "fe80::2");
        assert!(route_from_wire(&bad).unwrap_err().contains("link-local"));
        bad = wire("203.0.113.0/24", "fe80::2");
        assert!(route_from_wire(&bad).unwrap_err().contains("link-local"));
        let mut good = wire("2001:db8::/32", "fe80::2");
        good.nexthops[0].ifname = "eth0".into();
        let r = route_from_wire(&good).unwrap();
        assert_eq!(r.nexthops[0].ifname.as_deref(), Some("eth0"));
        assert!(route_from_wire(&wire("2001:db8::/32", "2001:db8::1")).is_ok());
    }

    #[test]
    fn evpn_batches_from_the_wire() {
        let b = pb::EvpnBatch {
            vtep_add: vec![
                pb::RemoteVtep {
                    vni: 100,
                    vtep: vec![192, 0, 2, 2],
                },
                pb::RemoteVtep {
                    vni: 1 << 24,
                    vtep: vec![192, 0, 2, 2],
                },
            ],
            mac_add: vec![
                pb::RemoteMac {
                    vni: 100,
                    mac: vec![2, 0, 0, 0, 0, 1],
                    vtep: vec![192, 0, 2, 2],
                    seq: 3,
                    sticky: true,
                },
                pb::RemoteMac {
                    vni: 100,
                    mac: vec![1, 0, 0x5e, 0, 0, 1],
                    vtep: vec![192, 0, 2, 2],
                    ..Default::default()
                },
                pb::RemoteMac {
                    vni: 100,
                    mac: vec![2, 0, 0, 0, 0, 2],
                    vtep: vec![127, 0, 0, 1],
                    ..Default::default()
                },
            ],
            macip_add: vec![pb::RemoteMacIp {
                vni: 100,
                ip: vec![1, 2, 3],
                mac: vec![2, 0, 0, 0, 0, 1],
                vtep: vec![192, 0, 2, 2],
            }],
            ..Default::default()
        };
        let (ok, rej) = evpn_batch_from_wire(&b);
        assert_eq!(ok.vtep_add.len(), 1);
        assert_eq!(ok.mac_add.len(), 1);
        assert!(ok.mac_add[0].2.sticky);
        assert_eq!(rej.len(), 4);
        assert!(rej[0].reason.contains("VNI"));
    }
}

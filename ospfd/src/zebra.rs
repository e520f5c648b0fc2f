//! The link to zebrad: interfaces and addresses in (WatchInterfaces),
//! redistributed routes in (Redistribute), OSPF routes out (PushRoutes:
//! Hello{source OSPF}, then batches). Reconnects forever; after each
//! (re)connection the daemon resends every route with `end_of_rib`, so
//! zebrad drops whatever a previous session left stale.
//!
//! Owns only the gRPC streams. It never decides which routes exist: the
//! daemon sends it batches, and it hands what zebrad says back as
//! [`ZebraEvent`]s.

use std::time::Duration;

use ipnetwork::{IpNetwork, Ipv4Network};
use proto::transport::{connect, Address};
use proto::zebra::zebra_client::ZebraClient;
use proto::zebra::{
    interface_event, push_request, AddressFamily, Hello, InterfaceRequest, Nexthop, PushRequest,
    RedistRequest, Route, RouteBatch, RouteKey, RouteSource,
};
use proto::Source;
use tokio::sync::mpsc;
use tokio_stream::StreamExt;
use tracing::{info, warn};

use crate::instance::RouteEntry;

/// Administrative distance of OSPF routes.
pub const OSPF_DISTANCE: u32 = 110;

/// What zebrad told us.
#[derive(Debug)]
pub enum ZebraEvent {
    /// A session is up: the daemon must resend every route.
    Connected,
    Disconnected,
    Interface {
        ifindex: u32,
        name: String,
        up: bool,
        mtu: u32,
        loopback: bool,
        addr: Option<Ipv4Network>,
    },
    InterfaceRemoved(u32),
    /// Redistributed routes: (source, prefix, present, the route's own
    /// metric: an anycast service's, when it sets one).
    Redist(Vec<(Source, Ipv4Network, bool, Option<u32>)>),
}

/// A batch of route changes for zebrad.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub add: Vec<RouteEntry>,
    pub del: Vec<Ipv4Network>,
    pub end_of_rib: bool,
}

fn prefix(p: Ipv4Network) -> proto::zebra::Prefix {
    proto::prefix_to_wire(IpNetwork::V4(
        Ipv4Network::new(p.network(), p.prefix()).unwrap_or(p),
    ))
}

fn to_route(r: &RouteEntry) -> Route {
    Route {
        prefix: Some(prefix(r.prefix)),
        nexthops: r
            .nexthops
            .iter()
            .map(|(gw, ifname)| Nexthop {
                gateway: gw.octets().to_vec(),
                ifname: ifname.clone(),
                weight: 0,
            })
            .collect(),
        distance: OSPF_DISTANCE,
        metric: r.metric,
        ..Default::default()
    }
}

/// The metric a redistributed route asks for: an anycast service's
/// `metric` (or `depref_metric` while depreferred), carried with its
/// attributes; capped to the 24 bits of an AS-external-LSA (RFC 2328 A.4.5).
fn own_metric(r: &proto::zebra::RedistRoute) -> Option<u32> {
    let m = r.route.as_ref()?.metric;
    (r.attributes.is_some() && m != 0).then_some(m.min(0xff_ffff))
}

/// The interface's OSPF address: its first IPv4 address outside 127/8.
fn pick_addr(i: &proto::zebra::Interface) -> Option<Ipv4Network> {
    i.addresses.iter().find_map(|a| {
        let p = a.prefix.as_ref()?;
        match proto::ifaddr_from_wire(p).ok()? {
            IpNetwork::V4(n) if !n.ip().is_loopback() => Some(n),
            _ => None,
        }
    })
}

/// Runs the zebrad session forever: connects, streams, reconnects.
pub async fn run(
    addr: Address,
    redist: Vec<Source>,
    events: mpsc::Sender<ZebraEvent>,
    mut batches: mpsc::Receiver<Batch>,
) {
    let mut backoff = Duration::from_millis(200);
    loop {
        match session(&addr, &redist, &events, &mut batches).await {
            Ok(()) => return,
            Err(e) => {
                warn!(zebrad = %addr, error = %e, "zebrad session ended; reconnecting");
                if events.send(ZebraEvent::Disconnected).await.is_err() {
                    return;
                }
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

async fn session(
    addr: &Address,
    redist: &[Source],
    events: &mpsc::Sender<ZebraEvent>,
    batches: &mut mpsc::Receiver<Batch>,
) -> Result<(), String> {
    let ch = connect(addr).await.map_err(|e| e.to_string())?;
    let mut client = ZebraClient::new(ch)
        .max_decoding_message_size(proto::transport::MAX_MESSAGE_SIZE)
        .max_encoding_message_size(proto::transport::MAX_MESSAGE_SIZE);
    let mut ifaces = client
        .watch_interfaces(InterfaceRequest {})
        .await
        .map_err(|e| e.to_string())?
        .into_inner();
    let mut redist_stream = if redist.is_empty() {
        None
    } else {
        let sources = redist
            .iter()
            .map(|s| RouteSource::from(*s) as i32)
            .collect();
        Some(
            client
                .redistribute(RedistRequest {
                    sources,
                    family: AddressFamily::Ipv4 as i32,
                    tables: Vec::new(),
                })
                .await
                .map_err(|e| e.to_string())?
                .into_inner(),
        )
    };
    let (ptx, prx) = mpsc::channel::<PushRequest>(64);
    ptx.send(PushRequest {
        msg: Some(push_request::Msg::Hello(Hello {
            source: RouteSource::Ospf as i32,
            instance: "default".into(),
            stale_time: 0,
        })),
    })
    .await
    .map_err(|e| e.to_string())?;
    let mut replies = client
        .push_routes(tokio_stream::wrappers::ReceiverStream::new(prx))
        .await
        .map_err(|e| e.to_string())?
        .into_inner();
    // Batches queued while disconnected are obsolete: a full resync follows.
    while batches.try_recv().is_ok() {}
    info!(zebrad = %addr, "connected to zebrad");
    events
        .send(ZebraEvent::Connected)
        .await
        .map_err(|e| e.to_string())?;
    let mut seq = 0u64;
    loop {
        tokio::select! {
            b = batches.recv() => {
                let Some(b) = b else { return Ok(()) };
                seq += 1;
                let batch = RouteBatch {
                    seq,
                    add: b.add.iter().map(to_route).collect(),
                    del: b.del.iter().map(|p| RouteKey { prefix: Some(prefix(*p)), table: 0 }).collect(),
                    end_of_rib: b.end_of_rib,
                };
                ptx.send(PushRequest { msg: Some(push_request::Msg::Batch(batch)) })
                    .await
                    .map_err(|e| e.to_string())?;
            }
            r = replies.next() => {
                match r {
                    Some(Ok(reply)) => {
                        for rej in &reply.rejected {
                            warn!(reason = %rej.reason, "zebrad rejected a route");
                        }
                    }
                    Some(Err(e)) => return Err(e.to_string()),
                    None => return Err("route push stream closed".into()),
                }
            }
            ev = ifaces.next() => {
                let ev = match ev {
                    Some(Ok(ev)) => ev,
                    Some(Err(e)) => return Err(e.to_string()),
                    None => return Err("interface stream closed".into()),
                };
                let out = match ev.event {
                    Some(interface_event::Event::Update(i)) => Some(ZebraEvent::Interface {
                        ifindex: i.index,
                        name: i.name.clone(),
                        up: i.admin_up && i.oper_up,
                        mtu: i.mtu,
                        loopback: i.kind == "loopback" || i.name == "lo",
                        addr: pick_addr(&i),
                    }),
                    Some(interface_event::Event::Removed(idx)) => Some(ZebraEvent::InterfaceRemoved(idx)),
                    _ => None,
                };
                if let Some(out) = out {
                    events.send(out).await.map_err(|e| e.to_string())?;
                }
            }
            b = async {
                match redist_stream.as_mut() {
                    Some(s) => s.next().await,
                    None => std::future::pending().await,
                }
            } => {
                let b = match b {
                    Some(Ok(b)) => b,
                    Some(Err(e)) => return Err(e.to_string()),
                    None => return Err("redistribution stream closed".into()),
                };
                let mut changes = Vec::new();
                for (list, present) in [(&b.add, true), (&b.del, false)] {
                    for r in list.iter() {
                        let Ok(src) = Source::try_from(r.source) else { continue };
                        let Some(p) = r.route.as_ref().and_then(|r| r.prefix.as_ref()) else { continue };
                        if let Ok(IpNetwork::V4(n)) = proto::prefix_from_wire(p) {
                            changes.push((src, n, present, own_metric(r)));
                        }
                    }
                }
                if !changes.is_empty() {
                    events.send(ZebraEvent::Redist(changes)).await.map_err(|e| e.to_string())?;
                }
            }
        }
    }
}

#[cfg(test)]
mod own_metric_tests {
    use super::*;

    #[test]
    fn a_route_with_attributes_brings_its_metric() {
        let mut r = proto::zebra::RedistRoute {
            route: Some(Route {
                metric: 30,
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(own_metric(&r), None, "no attributes: the configured metric");
        r.attributes = Some(Default::default());
        assert_eq!(own_metric(&r), Some(30));
        r.route.as_mut().unwrap().metric = 0;
        assert_eq!(own_metric(&r), None, "metric 0: not set");
        r.route.as_mut().unwrap().metric = u32::MAX;
        assert_eq!(own_metric(&r), Some(0xff_ffff));
    }
}

//! The client side of zebrad's contract, for protocol daemons: one task that
//! keeps a connection to zebrad, pushes the daemon's routes in batches,
//! tracks nexthops and follows redistribution, and after zebrad restarts (or
//! the connection drops) reconnects and resynchronises everything by itself.
//!
//! Routes are not copied here (a full table would cost its size twice): on
//! every (re)connect the task reports [`ZEvent::Connected`] and the daemon
//! re-sends its routes from its own tables, ending with `end_of_rib` when it
//! has converged; zebrad keeps forwarding with the stale copies meanwhile.
//! Route commands given while disconnected are dropped (the resync covers
//! them). Nexthop registrations are small and are kept and replayed here.

use std::collections::HashSet;
use std::net::IpAddr;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tracing::{debug, info, warn};

use crate::transport::{self, Address};
use crate::zebra as pb;
use crate::zebra::zebra_client::ZebraClient;

/// Routes per batch sent to zebrad.
pub const BATCH: usize = 5_000;

/// What the daemon asks of the client task.
#[derive(Debug)]
pub enum ZCmd {
    /// Add or replace these routes, remove those (prefix, table); with
    /// `end_of_rib`, the daemon has sent everything it has since the last
    /// `Connected` and zebrad drops what remains stale.
    Routes {
        add: Vec<pb::Route>,
        del: Vec<pb::RouteKey>,
        end_of_rib: bool,
    },
    /// Track (or stop tracking) these nexthop addresses in the main table.
    Nexthops {
        register: Vec<IpAddr>,
        unregister: Vec<IpAddr>,
    },
    /// Remote VTEPs, MACs and MAC+IPs (with `evpn_client` set); the task
    /// numbers the batch. Dropped while disconnected, like routes: the
    /// daemon re-sends everything on `Connected`.
    Evpn(pb::EvpnBatch),
}

/// What the client task tells the daemon.
#[derive(Debug)]
pub enum ZEvent {
    /// (Re)connected: send every route again, then `end_of_rib`.
    Connected,
    Disconnected(String),
    /// A tracked nexthop's resolution (now, and on every change).
    Nexthop(pb::NexthopState),
    /// Redistributed routes: a dump after each (re)connect, then deltas.
    Redist(pb::RedistBatch),
    /// Interface state, when asked for with `watch_interfaces`.
    Interface(pb::InterfaceEvent),
    /// Local VXLAN state (with `evpn_client` set): a dump after each
    /// (re)connect, then deltas.
    EvpnLocal(pb::EvpnLocalUpdate),
}

/// How the client introduces itself and what it follows.
#[derive(Debug, Clone)]
pub struct ZConfig {
    pub addr: Address,
    pub source: pb::RouteSource,
    pub instance: String,
    /// Seconds zebrad keeps our routes after we disconnect; 0: its default.
    pub stale_time: u32,
    pub redistribute: Vec<pb::RouteSource>,
    pub watch_interfaces: bool,
    /// Follow local VXLAN state (WatchEvpn) and push remote state
    /// (PushEvpn) under this client name.
    pub evpn_client: Option<String>,
}

/// Commands queued for the client task.
const CMD_QUEUE: usize = 2;
/// Requests queued for the push stream, on top of the one being written.
const PUSH_QUEUE: usize = 1;

/// Starts the client task. Send [`ZCmd`]s on the returned sender; events
/// arrive on `events`. The channel is short on purpose: a route batch here
/// is protobuf (about 130 bytes a route plus three allocations), so what
/// waits for zebrad should wait in the daemon's own compact queue (bgpd:
/// the RIB's FIB queue). With the push stream's queue, at most about five
/// batches exist at once (two here, one in the task's hands, one queued,
/// one being written), enough to keep zebrad busy: it takes longer to
/// install a batch than bgpd takes to build the next.
pub fn spawn(cfg: ZConfig, events: mpsc::Sender<ZEvent>) -> mpsc::Sender<ZCmd> {
    let (tx, rx) = mpsc::channel(CMD_QUEUE);
    tokio::spawn(run(cfg, rx, events));
    tx
}

struct State {
    nexthops: HashSet<IpAddr>,
}

async fn run(cfg: ZConfig, mut cmds: mpsc::Receiver<ZCmd>, events: mpsc::Sender<ZEvent>) {
    let mut st = State {
        nexthops: HashSet::new(),
    };
    let mut delay = Duration::from_millis(200);
    loop {
        match session(&cfg, &mut st, &mut cmds, &events).await {
            Ok(()) => return, // the daemon is gone
            Err(e) => {
                debug!(error = %e, "zebrad session ended");
                if events.send(ZEvent::Disconnected(e)).await.is_err() {
                    return;
                }
            }
        }
        // Keep recording the desired state while waiting to reconnect.
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => break,
                c = cmds.recv() => match c {
                    Some(c) => apply(&mut st, &c),
                    None => return,
                },
            }
        }
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

fn apply(st: &mut State, c: &ZCmd) {
    match c {
        ZCmd::Routes { .. } | ZCmd::Evpn(_) => {}
        ZCmd::Nexthops {
            register,
            unregister,
        } => {
            for a in unregister {
                st.nexthops.remove(a);
            }
            st.nexthops.extend(register.iter().copied());
        }
    }
}

/// One connection: returns Ok when the daemon dropped its sender, Err with
/// the reason when the connection failed.
async fn session(
    cfg: &ZConfig,
    st: &mut State,
    cmds: &mut mpsc::Receiver<ZCmd>,
    events: &mpsc::Sender<ZEvent>,
) -> Result<(), String> {
    let ch = transport::connect(&cfg.addr)
        .await
        .map_err(|e| format!("connect {}: {e}", cfg.addr))?;
    let mut client = ZebraClient::new(ch)
        .max_decoding_message_size(transport::MAX_MESSAGE_SIZE)
        .max_encoding_message_size(transport::MAX_MESSAGE_SIZE);

    // Route push stream: Hello; the daemon re-sends its routes on Connected.
    let (push_tx, push_rx) = mpsc::channel::<pb::PushRequest>(PUSH_QUEUE);
    push_tx
        .send(pb::PushRequest {
            msg: Some(pb::push_request::Msg::Hello(pb::Hello {
                source: cfg.source as i32,
                instance: cfg.instance.clone(),
                stale_time: cfg.stale_time,
            })),
        })
        .await
        .map_err(|e| e.to_string())?;
    let mut replies = client
        .push_routes(ReceiverStream::new(push_rx))
        .await
        .map_err(|e| format!("PushRoutes: {}", e.message()))?
        .into_inner();
    let mut seq = 0u64;
    info!("connected to zebrad");

    // Nexthop tracking stream.
    let (nht_tx, nht_rx) = mpsc::channel::<pb::NexthopRegistration>(16);
    if !st.nexthops.is_empty() {
        let _ = nht_tx
            .send(pb::NexthopRegistration {
                register: st
                    .nexthops
                    .iter()
                    .map(|a| crate::addr_to_bytes(*a))
                    .collect(),
                unregister: Vec::new(),
                table: 0,
            })
            .await;
    }
    let mut nht = client
        .track_nexthops(ReceiverStream::new(nht_rx))
        .await
        .map_err(|e| format!("TrackNexthops: {}", e.message()))?
        .into_inner();

    let mut redist = if cfg.redistribute.is_empty() {
        None
    } else {
        Some(
            client
                .redistribute(pb::RedistRequest {
                    sources: cfg.redistribute.iter().map(|s| *s as i32).collect(),
                    family: pb::AddressFamily::Unspecified as i32,
                    tables: Vec::new(),
                })
                .await
                .map_err(|e| format!("Redistribute: {}", e.message()))?
                .into_inner(),
        )
    };
    let mut ifaces = if cfg.watch_interfaces {
        Some(
            client
                .watch_interfaces(pb::InterfaceRequest {})
                .await
                .map_err(|e| format!("WatchInterfaces: {}", e.message()))?
                .into_inner(),
        )
    } else {
        None
    };
    let (evpn_tx, mut evpn_local, mut evpn_replies) = match &cfg.evpn_client {
        Some(name) => {
            let local = client
                .watch_evpn(pb::WatchEvpnRequest { vnis: Vec::new() })
                .await
                .map_err(|e| format!("WatchEvpn: {}", e.message()))?
                .into_inner();
            let (tx, rx) = mpsc::channel::<pb::EvpnPushRequest>(4);
            tx.send(pb::EvpnPushRequest {
                msg: Some(pb::evpn_push_request::Msg::Hello(pb::EvpnHello {
                    client: name.clone(),
                    stale_time: cfg.stale_time,
                })),
            })
            .await
            .map_err(|e| e.to_string())?;
            let replies = client
                .push_evpn(ReceiverStream::new(rx))
                .await
                .map_err(|e| format!("PushEvpn: {}", e.message()))?
                .into_inner();
            (Some(tx), Some(local), Some(replies))
        }
        None => (None, None, None),
    };
    let mut evpn_seq = 0u64;
    let _ = events.send(ZEvent::Connected).await;

    loop {
        tokio::select! {
            c = cmds.recv() => {
                let Some(c) = c else { return Ok(()) };
                apply(st, &c);
                match c {
                    ZCmd::Routes { add, del, end_of_rib } => {
                        // Large changes go in several batches; End-of-RIB
                        // rides on the last one.
                        let mut add = add.into_iter().peekable();
                        let mut del = del.into_iter().peekable();
                        loop {
                            seq += 1;
                            let d: Vec<pb::RouteKey> = del.by_ref().take(BATCH).collect();
                            let a: Vec<pb::Route> = add.by_ref().take(BATCH).collect();
                            let last = add.peek().is_none() && del.peek().is_none();
                            let b = pb::RouteBatch {
                                seq,
                                add: a,
                                del: d,
                                end_of_rib: end_of_rib && last,
                            };
                            push_tx
                                .send(pb::PushRequest { msg: Some(pb::push_request::Msg::Batch(b)) })
                                .await
                                .map_err(|e| e.to_string())?;
                            if last {
                                break;
                            }
                        }
                    }
                    ZCmd::Evpn(mut b) => {
                        let Some(tx) = &evpn_tx else { continue };
                        evpn_seq += 1;
                        b.seq = evpn_seq;
                        tx.send(pb::EvpnPushRequest { msg: Some(pb::evpn_push_request::Msg::Batch(b)) })
                            .await
                            .map_err(|e| e.to_string())?;
                    }
                    ZCmd::Nexthops { register, unregister } => {
                        nht_tx
                            .send(pb::NexthopRegistration {
                                register: register.iter().map(|a| crate::addr_to_bytes(*a)).collect(),
                                unregister: unregister.iter().map(|a| crate::addr_to_bytes(*a)).collect(),
                                table: 0,
                            })
                            .await
                            .map_err(|e| e.to_string())?;
                    }
                }
            }
            r = replies.message() => match r {
                Ok(Some(rep)) => {
                    for e in &rep.rejected {
                        warn!(reason = %e.reason, "zebrad rejected a route");
                    }
                }
                Ok(None) => return Err("zebrad closed the route stream".into()),
                Err(e) => return Err(format!("route stream: {}", e.message())),
            },
            u = nht.message() => match u {
                Ok(Some(u)) => {
                    for s in u.states {
                        if events.send(ZEvent::Nexthop(s)).await.is_err() {
                            return Ok(());
                        }
                    }
                }
                Ok(None) => return Err("zebrad closed the nexthop stream".into()),
                Err(e) => return Err(format!("nexthop stream: {}", e.message())),
            },
            b = next_opt(&mut redist) => match b {
                Ok(Some(b)) => {
                    if events.send(ZEvent::Redist(b)).await.is_err() {
                        return Ok(());
                    }
                }
                Ok(None) => return Err("zebrad closed the redistribution stream".into()),
                Err(e) => return Err(format!("redistribution stream: {}", e.message())),
            },
            u = next_opt(&mut evpn_local) => match u {
                Ok(Some(u)) => {
                    if events.send(ZEvent::EvpnLocal(u)).await.is_err() {
                        return Ok(());
                    }
                }
                Ok(None) => return Err("zebrad closed the EVPN local stream".into()),
                Err(e) => return Err(format!("EVPN local stream: {}", e.message())),
            },
            r = next_opt(&mut evpn_replies) => match r {
                Ok(Some(rep)) => {
                    for e in &rep.rejected {
                        warn!(vni = e.vni, reason = %e.reason, "zebrad rejected an EVPN entry");
                    }
                }
                Ok(None) => return Err("zebrad closed the EVPN push stream".into()),
                Err(e) => return Err(format!("EVPN push stream: {}", e.message())),
            },
            i = next_opt(&mut ifaces) => match i {
                Ok(Some(i)) => {
                    if events.send(ZEvent::Interface(i)).await.is_err() {
                        return Ok(());
                    }
                }
                Ok(None) => return Err("zebrad closed the interface stream".into()),
                Err(e) => return Err(format!("interface stream: {}", e.message())),
            },
        }
    }
}

/// The next message of an optional stream; pending forever when absent.
async fn next_opt<T>(s: &mut Option<tonic::Streaming<T>>) -> Result<Option<T>, tonic::Status> {
    match s {
        Some(s) => s.message().await,
        None => std::future::pending().await,
    }
}

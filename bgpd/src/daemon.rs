//! The bgpd task: the single owner of the RIB, the neighbors' session
//! handles and the link to zebrad. Session events, zebrad events (nexthop
//! tracking, redistribution) and management requests reach it through
//! bounded channels; it feeds them to the [`Rib`] and carries out the RIB's
//! output: UPDATE bytes to sessions, best paths to zebrad (distance 20 for
//! eBGP, 200 for iBGP), nexthop registrations.
//!
//! It never encodes or decodes messages itself (the session and RIB
//! modules do) and never blocks on one peer: each session has its own task
//! and queue.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ipnetwork::IpNetwork;
use proto::zclient::{self, ZCmd, ZConfig, ZEvent};
use proto::zebra as zpb;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tracing::{error, info, warn};

use common::running::{refused, ConfigRequest, RunningConfig};

use crate::config::{self, Config, Neighbor};
use crate::evpn::nlri::Mac;
use crate::evpn::rib::{EvpnRib, LocalDevice, RemoteDelta};
use crate::packet::attribute::Origin;
use crate::packet::attribute::{AsPath, Community, LargeCommunity};
use crate::packet::{AfiSafi, Capability, Open};
use crate::packet::{ParsedUpdate, PathAttributes};
use crate::rib::{PeerGr, PeerInfo, Rib, RibConfig, RibOutput, ZebraRoute, LOCAL_WEIGHT};
use crate::session::limit::{LimitState, Verdict};
use crate::session::{
    self, DownReason, Dynamic, GrConfig, Listening, Password, SessionCommand, SessionConfig,
    SessionEvent, SessionHandle, SessionMap, State,
};

/// Depth of the management command queue.
pub const CMD_QUEUE: usize = 64;
/// Connections from listen ranges waiting for the daemon.
const DYNAMIC_QUEUE: usize = 64;
/// Routes the RIB takes from the sessions before it runs the decision and
/// hands the peers their UPDATEs (`flush`).
const ROUND_ROUTES: usize = 4096;
/// How long a dynamic neighbor may take to reach Established before it
/// is removed again.
const DYNAMIC_GRACE: Duration = Duration::from_secs(30);

/// Management requests (from the gRPC service and signals).
pub enum Cmd {
    Neighbors {
        addr: Option<IpAddr>,
        reply: oneshot::Sender<proto::bgp::NeighborsReply>,
    },
    Rib {
        query: crate::api::request::RibQuery,
        reply: oneshot::Sender<Result<proto::bgp::RibReply, String>>,
    },
    Reset {
        query: crate::api::request::ResetQuery,
        reply: oneshot::Sender<u32>,
    },
    Evpn {
        /// 2 or 3; `None`: every type.
        route_type: Option<u8>,
        reply: oneshot::Sender<proto::bgp::EvpnReply>,
    },
    ClearEvpnDuplicates {
        vni: u32,
        mac: Option<Mac>,
        reply: oneshot::Sender<u32>,
    },
    /// Route maps and lists with their counters (`show route-map`, ...).
    Policy {
        req: proto::bgp::PolicyRequest,
        reply: oneshot::Sender<proto::bgp::PolicyReply>,
    },
    /// `clear route-map counter`, `clear ip|ipv6 prefix-list`: how many
    /// were reset, or the unknown name.
    ClearPolicyCounters {
        query: crate::api::request::ClearCountersQuery,
        reply: oneshot::Sender<Result<usize, crate::policy::ClearError>>,
    },
    Reload,
    /// Running configuration: get, apply, write (config.proto).
    Config(ConfigRequest),
}

impl From<ConfigRequest> for Cmd {
    fn from(r: ConfigRequest) -> Self {
        Cmd::Config(r)
    }
}

struct Peer {
    cfg: Neighbor,
    handle: SessionHandle,
    /// Set while Established.
    up: Option<PeerInfo>,
    /// Families whose End-of-RIB the peer sent in this session.
    eor: Vec<AfiSafi>,
    /// Maximum-prefix state (used only when `cfg.prefix_limit` is set).
    limit: LimitState,
    /// A dynamic neighbor: the listen range it came from.
    dynamic: Option<IpNetwork>,
    created: Instant,
}

/// The daemon's state.
pub struct Daemon {
    cfg: Config,
    cfg_path: Option<PathBuf>,
    /// The running configuration's text (vtysh's configure mode).
    running: RunningConfig,
    rib: Rib,
    evpn: EvpnRib,
    /// zebrad's EVPN dump in progress after a reconnect: what it reported.
    evpn_dump: Option<EvpnDump>,
    /// zebrad (re)connected: push every remote VTEP/MAC/MAC+IP again.
    evpn_resync: bool,
    peers: BTreeMap<session::PeerId, Peer>,
    next_id: session::PeerId,
    sessions: SessionMap,
    /// The listening sockets (TCP-MD5 keys are installed on them per peer).
    listeners: Vec<Listening>,
    /// Listen ranges shared with the listeners, and the intake of their
    /// connections (taken by `run`).
    dynamic: Dynamic,
    dynamic_rx: Option<mpsc::Receiver<(IpAddr, TcpStream)>>,
    dynamic_tx: mpsc::Sender<(IpAddr, TcpStream)>,
    events: mpsc::Sender<SessionEvent>,
    zebra: Option<mpsc::Sender<ZCmd>>,
    /// Prefixes originated from redistribution, with the source that gave them.
    redistributed: HashMap<IpNetwork, proto::Source>,
    /// Whether zebrad has been told End-of-RIB for this start: every
    /// neighbor that came up sent its End-of-RIB, or the deferral ran out.
    /// Until then zebrad keeps our routes of a previous life (stale), so a
    /// bgpd restart does not empty the kernel.
    converged: bool,
    /// End-of-RIB is owed to zebrad: sent with the batch that empties the
    /// RIB's FIB queue (what was queued before it must reach zebrad first).
    zebra_eor: bool,
    started: Instant,
}

/// Local EVPN state zebrad reported in its dump (see `Daemon::evpn_dump`).
#[derive(Default)]
struct EvpnDump {
    vnis: std::collections::BTreeSet<u32>,
    macs: std::collections::BTreeSet<(u32, Mac)>,
    neighbors: std::collections::BTreeSet<(u32, IpAddr)>,
}

/// The longest bgpd waits for its neighbors' End-of-RIB before telling
/// zebrad to drop routes of a previous life that were not re-learned.
pub const CONVERGE_DEFER: Duration = Duration::from_secs(60);

fn rib_config(c: &Config) -> RibConfig {
    RibConfig {
        local_as: c.asn,
        router_id: c.router_id,
        multipath_ebgp: c.multipath_ebgp,
        multipath_ibgp: c.multipath_ibgp,
        always_compare_med: c.always_compare_med,
        cluster_id: c.cluster_id,
    }
}

impl Daemon {
    /// Builds the daemon, starts the listeners, the sessions and the zebrad
    /// link. Returns it with the receivers its loop reads.
    pub async fn start(
        cfg: Config,
        cfg_path: Option<PathBuf>,
        run_dir: &std::path::Path,
    ) -> std::io::Result<(
        Daemon,
        mpsc::Receiver<SessionEvent>,
        Option<mpsc::Receiver<ZEvent>>,
    )> {
        // Shallow: decoded UPDATEs waiting here hold their routes in memory
        // (an event carries up to `UpdateBatch::MESSAGES` of them), so
        // backpressure must reach the peer's TCP window instead.
        let (etx, erx) = mpsc::channel(16);
        let sessions = session::session_map();
        let dynamic = Dynamic::default();
        let (dyn_tx, dynamic_rx) = mpsc::channel(DYNAMIC_QUEUE);
        dynamic.set(
            cfg.listen_ranges.iter().map(|r| r.prefix).collect(),
            dyn_tx.clone(),
        );
        let mut listeners = Vec::new();
        if cfg.listen_port != 0 {
            for a in &cfg.listen {
                let bind = SocketAddr::new(*a, cfg.listen_port);
                match session::spawn_listener(bind, sessions.clone(), dynamic.clone()).await {
                    Ok(l) => listeners.push(l),
                    // An IPv6 listener on a host without IPv6 is not fatal.
                    Err(e) => warn!(%bind, error = %e, "cannot listen"),
                }
            }
        }
        let (zebra, zrx) = if cfg.zebra {
            let (ztx, zrx) = mpsc::channel(4096);
            let path = cfg
                .zebra_socket
                .clone()
                .unwrap_or_else(|| proto::transport::socket_path(run_dir, "zebrad"));
            let zc = ZConfig {
                addr: proto::transport::Address::Unix(path),
                source: zpb::RouteSource::Bgp,
                instance: "default".into(),
                stale_time: 0,
                redistribute: cfg
                    .redistribute
                    .iter()
                    .map(|r| zpb::RouteSource::from(r.source))
                    .collect(),
                watch_interfaces: false,
                evpn_client: cfg
                    .neighbors
                    .iter()
                    .any(|n| n.families.contains(&AfiSafi::L2VPN_EVPN))
                    .then(|| "bgp".to_string()),
            };
            (Some(zclient::spawn(zc, ztx)), Some(zrx))
        } else {
            (None, None)
        };
        let rib = Rib::new(rib_config(&cfg), cfg.policies.clone());
        let evpn = EvpnRib::new(rib_config(&cfg), cfg.evpn.clone());
        let mut d = Daemon {
            cfg: cfg.clone(),
            running: RunningConfig::new(
                "bgpd",
                cfg_path.clone(),
                cfg_path
                    .as_deref()
                    .and_then(|p| std::fs::read_to_string(p).ok())
                    .unwrap_or_default(),
            ),
            cfg_path,
            rib,
            evpn,
            evpn_dump: None,
            evpn_resync: false,
            peers: BTreeMap::new(),
            next_id: 1,
            sessions,
            listeners,
            dynamic,
            dynamic_rx: Some(dynamic_rx),
            dynamic_tx: dyn_tx,
            events: etx,
            zebra,
            redistributed: HashMap::new(),
            converged: false,
            zebra_eor: false,
            started: Instant::now(),
        };
        for n in &cfg.neighbors {
            d.add_peer(n.clone());
        }
        for r in &cfg.listen_ranges {
            d.range_md5(r, true);
        }
        for p in &cfg.networks {
            d.rib.originate_network(*p, cfg.network_route_map(p));
        }
        d.rib.set_aggregates(cfg.aggregates.clone());
        d.flush().await;
        info!(asn = cfg.asn, router_id = %cfg.router_id, neighbors = cfg.neighbors.len(), "bgpd started");
        Ok((d, erx, zrx))
    }

    /// Tells zebrad End-of-RIB once every neighbor that is up sent its own,
    /// or when [`CONVERGE_DEFER`] has passed.
    async fn check_converged(&mut self) {
        if self.converged {
            return;
        }
        let all_in = self.peers.values().filter(|p| !p.cfg.shutdown).all(|p| {
            p.up.as_ref()
                .is_some_and(|u| u.families.iter().all(|f| p.eor.contains(f)))
        });
        if !all_in && self.started.elapsed() < CONVERGE_DEFER {
            return;
        }
        self.converged = true;
        info!(
            after_secs = self.started.elapsed().as_secs(),
            "converged: zebrad drops our routes of a previous life that were not re-learned"
        );
        self.zebra_eor = self.zebra.is_some();
    }

    fn session_config(&self, id: session::PeerId, n: &Neighbor) -> SessionConfig {
        SessionConfig {
            id,
            remote_addr: n.address,
            remote_port: n.port,
            local_addr: n.source,
            local_as: self.cfg.asn,
            remote_as: n.remote_as,
            router_id: self.cfg.router_id,
            hold_time: n.hold_time,
            connect_retry: self.cfg.connect_retry,
            passive: n.passive,
            multihop: n.multihop,
            families: n.families.clone(),
            graceful_restart: self.cfg.graceful_restart.map(|g| GrConfig {
                restart_time: g.restart_time,
                // zebrad keeps our routes in the kernel while we restart.
                forwarding_preserved: self.cfg.zebra,
                restart_state: !self.converged,
            }),
            extended_message: true,
            extended_next_hop: n.extended_next_hop,
            add_path: n.add_path.families.clone(),
            role: n.role,
            strict_role: n.strict_role,
            description: n.description.clone(),
            password: n.password.clone(),
            ttl_security: n.ttl_security,
            interface: n.interface.clone(),
        }
    }

    fn add_peer(&mut self, n: Neighbor) {
        self.add_peer_from(n, None);
    }

    fn add_peer_from(&mut self, n: Neighbor, dynamic: Option<IpNetwork>) -> SessionHandle {
        let id = self.next_id;
        self.next_id += 1;
        if let Some(key) = &n.password {
            self.listen_md5(n.address, None, Some(key));
        }
        let handle = session::spawn_session(self.session_config(id, &n), self.events.clone());
        if n.shutdown {
            let _ = handle.tx.try_send(SessionCommand::Stop {
                communication: None,
            });
        }
        if let Ok(mut m) = self.sessions.lock() {
            m.insert(n.address, handle.clone());
        }
        if self.rfc8212_blocks(&n) {
            warn!(peer = %n.address, "RFC 8212: eBGP neighbor without import/export policy exchanges no routes");
        }
        self.peers.insert(
            id,
            Peer {
                cfg: n,
                handle: handle.clone(),
                up: None,
                eor: Vec::new(),
                limit: LimitState::default(),
                dynamic,
                created: Instant::now(),
            },
        );
        handle
    }

    fn remove_peer(&mut self, id: session::PeerId) {
        if let Some(p) = self.peers.remove(&id) {
            if let Ok(mut m) = self.sessions.lock() {
                m.remove(&p.cfg.address);
            }
            if p.cfg.password.is_some() {
                self.listen_md5(p.cfg.address, None, None);
            }
            let _ = p.handle.tx.try_send(SessionCommand::Stop {
                communication: Some("neighbor removed from the configuration".into()),
            });
            if p.up.is_some() {
                self.rib.peer_down(id);
                self.evpn.peer_down(id);
            }
        }
    }

    /// Installs (or removes) a TCP-MD5 key on every listening socket of
    /// the address's family. A failure leaves the peer unable to connect
    /// to us (our own dials still carry the key): logged, never fatal.
    fn listen_md5(&self, addr: IpAddr, prefix_len: Option<u8>, key: Option<&Password>) {
        for l in &self.listeners {
            if let Err(e) = l.set_md5(addr, prefix_len, key) {
                error!(peer = %addr, listener = %l.local, error = %e, "cannot set the TCP-MD5 key on the listening socket");
            }
        }
    }

    /// RFC 8212: whether an eBGP neighbor lacks a policy (route map or
    /// prefix list) inbound and outbound for one of its families.
    fn rfc8212_gaps(&self, n: &Neighbor) -> (bool, bool) {
        if n.remote_as == self.cfg.asn {
            return (false, false);
        }
        let gap = |f: fn(&crate::policy::Bindings, AfiSafi) -> bool| {
            n.families.iter().any(|af| f(&n.policy, *af))
        };
        (
            gap(|b, af| b.inbound(af).is_empty()),
            gap(|b, af| b.outbound(af).is_empty()),
        )
    }

    fn rfc8212_blocks(&self, n: &Neighbor) -> bool {
        let (i, o) = self.rfc8212_gaps(n);
        i || o
    }

    /// Runs until `cmds` closes.
    pub async fn run(
        mut self,
        mut events: mpsc::Receiver<SessionEvent>,
        mut zebra: Option<mpsc::Receiver<ZEvent>>,
        mut cmds: mpsc::Receiver<Cmd>,
    ) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut dynamic = self.dynamic_rx.take();
        loop {
            // zebrad is fed from the FIB queue as fast as it takes batches;
            // the RIB goes on meanwhile.
            let zebra_room = self
                .zebra
                .clone()
                .filter(|_| self.rib.fib_pending() > 0 || self.zebra_eor);
            tokio::select! {
                _ = tick.tick() => {
                    self.rib.expire_stale(Instant::now());
                    self.evpn.tick(Instant::now());
                    self.restart_limited(Instant::now());
                    self.expire_dynamic(Instant::now());
                    self.check_converged().await
                }
                ev = events.recv() => {
                    let Some(ev) = ev else { break };
                    let now = Instant::now();
                    // Take whatever else is queued so the RIB works in
                    // batches, up to ROUND_ROUTES so that peers get their
                    // UPDATEs in a steady stream rather than in bursts.
                    let mut routes = ev.routes();
                    self.session_event(ev, now);
                    while routes < ROUND_ROUTES {
                        match events.try_recv() {
                            Ok(ev) => {
                                routes += ev.routes();
                                self.session_event(ev, now);
                            }
                            Err(_) => break,
                        }
                    }
                }
                c = recv_opt(&mut dynamic) => match c {
                    Some((ip, stream)) => self.dynamic_connection(ip, stream),
                    None => dynamic = None,
                },
                z = recv_opt(&mut zebra) => match z {
                    Some(z) => self.zebra_event(z),
                    None => zebra = None,
                },
                c = cmds.recv() => match c {
                    Some(c) => self.command(c).await,
                    None => break,
                },
                permit = reserve_opt(zebra_room) => match permit {
                    Some(p) => self.feed_zebra(p),
                    None => {
                        error!("zebrad client task stopped");
                        self.zebra = None;
                    }
                },
            }
            self.flush().await;
        }
    }

    fn session_event(&mut self, ev: SessionEvent, now: Instant) {
        match ev {
            SessionEvent::Established {
                id,
                caps,
                local_open,
                remote_open,
                local_addr,
                remote_addr,
            } => {
                let Some(p) = self.peers.get_mut(&id) else {
                    return;
                };
                let ibgp = p.cfg.remote_as == self.cfg.asn;
                let families = negotiated_families(&p.cfg.families, &local_open, &remote_open);
                let enhanced_route_refresh = remote_open
                    .capabilities
                    .iter()
                    .any(|c| matches!(c, Capability::EnhancedRouteRefresh));
                let (v6_global, v6_ll) = v6_addresses(local_addr.ip(), remote_addr.ip());
                let info = PeerInfo {
                    id,
                    addr: p.cfg.address,
                    remote_as: p.cfg.remote_as,
                    remote_id: remote_open.bgp_id,
                    ibgp,
                    enhanced_route_refresh,
                    caps: *caps,
                    local_addr: local_addr.ip(),
                    local_v6_global: v6_global,
                    local_v6_link_local: v6_ll,
                    next_hop_self: p.cfg.next_hop_self,
                    allowas_in: p.cfg.allowas_in,
                    families,
                    policy: p.cfg.policy.clone(),
                    rr_client: p.cfg.rr_client,
                    graceful_restart: self.cfg.graceful_restart.and_then(|g| {
                        PeerGr::negotiate(
                            &local_open,
                            &remote_open,
                            Duration::from_secs(u64::from(g.stale_time)),
                        )
                    }),
                    add_path_send: p.cfg.add_path.send,
                    // A link-local next hop from a directly connected
                    // peer is on the session's link, whatever the
                    // session's addresses.
                    interface: p
                        .cfg
                        .interface
                        .clone()
                        .or_else(|| {
                            session::link::session_link(local_addr.ip(), remote_addr.ip())
                                .map(|k| k.ifname)
                        })
                        .map(std::sync::Arc::from),
                };
                info!(peer = %p.cfg.address, remote_as = p.cfg.remote_as, "session established");
                p.up = Some(info.clone());
                self.evpn.peer_up(info.clone(), now);
                self.rib.peer_up(info, now);
            }
            SessionEvent::Updates { id, batch } => {
                for update in batch.iter() {
                    self.update(id, update, now);
                }
                // Back to the session to be freed there, if its queue has
                // room to spare for the commands that matter.
                if let Some(p) = self.peers.get(&id) {
                    if p.handle.tx.capacity() > session::COMMAND_QUEUE / 2 {
                        let _ = p.handle.tx.try_send(SessionCommand::Recycle(batch));
                    }
                }
            }
            SessionEvent::RouteRefresh { id, family, .. } => {
                self.rib.route_refresh(id, family);
            }
            SessionEvent::Down { id, reason } => {
                if let Some(p) = self.peers.get_mut(&id) {
                    info!(peer = %p.cfg.address, %reason, "session down");
                    p.eor.clear();
                    p.limit.session_down();
                    if p.up.take().is_some() {
                        // RFC 4724 §4.2: a session lost without a
                        // NOTIFICATION is a restart; the RIB keeps the
                        // routes if the peer advertised Graceful Restart.
                        match reason {
                            DownReason::TcpClosed | DownReason::TcpError(_) => {
                                self.rib.peer_restarting(id, now);
                                self.evpn.peer_restarting(id, now);
                            }
                            _ => {
                                self.rib.peer_down(id);
                                self.evpn.peer_down(id);
                            }
                        }
                    }
                    if p.dynamic.is_some() {
                        info!(peer = %p.cfg.address, "dynamic neighbor removed: its session ended");
                        self.remove_peer(id);
                    }
                }
            }
        }
    }

    /// One UPDATE of a peer: its routes into both RIBs, End-of-RIB, then
    /// the peer's prefix limit.
    fn update(&mut self, id: session::PeerId, update: &ParsedUpdate, now: Instant) {
        let Some(p) = self.peers.get_mut(&id).filter(|p| p.up.is_some()) else {
            return;
        };
        let eor = update.update.end_of_rib_family();
        if let Some(f) = eor {
            if !p.eor.contains(&f) {
                p.eor.push(f);
            }
        }
        self.evpn.update(id, update);
        self.rib.update(id, update, now);
        if let Some(f) = eor {
            self.rib.end_of_rib(id, f);
            self.evpn.end_of_rib(id, f);
        }
        self.check_prefix_limit(id, now);
    }

    /// Maximum prefixes (RFC 4486): after an UPDATE of a limited peer,
    /// compare its Adj-RIB-In counts with the limit.
    fn check_prefix_limit(&mut self, id: session::PeerId, now: Instant) {
        let Some(p) = self.peers.get_mut(&id) else {
            return;
        };
        let Some(limit) = &p.cfg.prefix_limit else {
            return;
        };
        let counts: Vec<(AfiSafi, u64)> = self
            .rib
            .peer_counts(id)
            .into_iter()
            .map(|(f, c)| (f, c.received))
            .collect();
        for v in p.limit.check(limit, &counts, now) {
            let peer = p.cfg.address;
            match v {
                Verdict::Threshold { family, count, max } => {
                    warn!(%peer, %family, count, max, percent = limit.warning_percent, "prefix count passed the warning threshold")
                }
                Verdict::Exceeded { family, count, max } => {
                    warn!(%peer, %family, count, max, "maximum prefixes exceeded (warning only)")
                }
                Verdict::Teardown { family, count, max } => {
                    error!(%peer, %family, count, max, restart_secs = limit.restart, "maximum prefixes exceeded: Cease/1, session down");
                    if p.handle
                        .tx
                        .try_send(SessionCommand::PrefixLimitExceeded { family, max })
                        .is_err()
                    {
                        warn!(%peer, "session queue full: the prefix-limit teardown is retried");
                        p.limit.clear();
                    }
                }
            }
        }
    }

    /// A connection from a listen range (FRR `bgp listen range`): a new
    /// dynamic neighbor of the range's peer group, passive, built from the
    /// group's settings, unless the range is at its limit.
    fn dynamic_connection(&mut self, ip: IpAddr, stream: TcpStream) {
        if let Some(h) = self.sessions.lock().ok().and_then(|m| m.get(&ip).cloned()) {
            // It became a neighbor meanwhile: its session takes it.
            let _ = h.inbound.try_send(stream);
            return;
        }
        let Some(range) = self
            .cfg
            .listen_ranges
            .iter()
            .find(|r| r.prefix.contains(ip))
            .cloned()
        else {
            info!(peer = %ip, "connection from outside every listen range closed");
            return;
        };
        let members = self
            .peers
            .values()
            .filter(|p| p.dynamic == Some(range.prefix))
            .count();
        if members >= range.limit as usize {
            warn!(peer = %ip, range = %range.prefix, limit = range.limit, "listen range at its limit: connection closed");
            return;
        }
        let mut n = range.template.clone();
        n.address = ip;
        n.passive = true;
        info!(peer = %ip, range = %range.prefix, peer_group = %range.peer_group, "dynamic neighbor accepted");
        let handle = self.add_peer_from(n, Some(range.prefix));
        let _ = handle.inbound.try_send(stream);
    }

    /// Dynamic neighbors whose connection failed before Established.
    fn expire_dynamic(&mut self, now: Instant) {
        let stale: Vec<session::PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| {
                p.dynamic.is_some()
                    && p.up.is_none()
                    && now.duration_since(p.created) >= DYNAMIC_GRACE
                    && matches!(p.handle.stats.state(), State::Idle | State::Active)
            })
            .map(|(&id, _)| id)
            .collect();
        for id in stale {
            self.remove_peer(id);
        }
    }

    /// Installs (or removes) a listen range's TCP-MD5 key for the whole
    /// prefix (`TCP_MD5SIG_EXT`) on the listening sockets.
    fn range_md5(&self, r: &config::ListenRange, install: bool) {
        if let Some(key) = &r.template.password {
            let key = install.then_some(key);
            self.listen_md5(r.prefix.network(), Some(r.prefix.prefix()), key);
        }
    }

    /// Sessions the prefix limit held down whose restart time is over.
    fn restart_limited(&mut self, now: Instant) {
        for p in self.peers.values_mut() {
            if p.limit.restart_due(now) {
                info!(peer = %p.cfg.address, "maximum-prefix restart time over: starting the session");
                let _ = p.handle.tx.try_send(SessionCommand::Start);
            }
        }
    }

    fn zebra_event(&mut self, z: ZEvent) {
        match z {
            ZEvent::Connected => {
                info!("connected to zebrad; sending our routes");
                self.rib.fib_resync();
                self.zebra_eor = self.converged;
                self.evpn_resync = true;
                self.evpn.remote_resync();
                self.evpn_dump = Some(EvpnDump::default());
            }
            ZEvent::EvpnLocal(u) => self.evpn_local(u),
            ZEvent::Disconnected(why) => warn!(%why, "lost zebrad; reconnecting"),
            ZEvent::Nexthop(st) => {
                if let Ok(a) = proto::addr_from_bytes(&st.address) {
                    self.rib.nexthop_update(a, st.resolved, st.metric);
                }
            }
            ZEvent::Redist(b) => {
                for r in &b.del {
                    if let Some(p) = r.route.as_ref().and_then(|r| r.prefix.as_ref()) {
                        if let Ok(p) = proto::prefix_from_wire(p) {
                            if self.redistributed.remove(&p).is_some()
                                && !self.cfg.networks.contains(&p)
                            {
                                self.rib.withdraw_local(p);
                            }
                        }
                    }
                }
                for r in &b.add {
                    let Ok(source) = proto::Source::try_from(r.source) else {
                        continue;
                    };
                    let Some(route) = &r.route else { continue };
                    let Some(Ok(p)) = route.prefix.as_ref().map(proto::prefix_from_wire) else {
                        continue;
                    };
                    let med = self
                        .cfg
                        .redistribute
                        .iter()
                        .find(|x| x.source == source)
                        .and_then(|x| x.med);
                    // The route's own gateway is a fine next hop for iBGP;
                    // eBGP export rewrites it to ours anyway.
                    let nh = route
                        .nexthops
                        .first()
                        .and_then(|n| proto::addr_from_bytes(&n.gateway).ok());
                    self.redistributed.insert(p, source);
                    match &r.attributes {
                        Some(a) => {
                            let attrs = redist_attrs(a, self.cfg.asn, med);
                            self.rib.originate_attrs(p, nh, attrs);
                        }
                        None => self
                            .rib
                            .originate(p, Origin::Incomplete, nh, med, Vec::new()),
                    }
                }
            }
            ZEvent::Interface(_) => {}
        }
    }

    /// zebrad's local VXLAN state: VNIs, MACs and neighbors become
    /// originated routes.
    fn evpn_local(&mut self, u: zpb::EvpnLocalUpdate) {
        let addr = |b: &[u8]| proto::addr_from_bytes(b).ok();
        for v in &u.vni_removed {
            self.evpn.vni_removed(*v);
        }
        for d in u.vni_update {
            if let Some(dump) = &mut self.evpn_dump {
                dump.vnis.insert(d.vni);
            }
            self.evpn.vni_update(
                d.vni,
                LocalDevice {
                    ifname: d.ifname,
                    bridge: d.bridge,
                    vtep: addr(&d.local_vtep),
                    up: d.up,
                },
            );
        }
        for m in &u.mac_del {
            if let Some(mac) = Mac::from_slice(&m.mac) {
                self.evpn.mac_del(m.vni, mac);
            }
        }
        for m in &u.mac_add {
            let Some(mac) = Mac::from_slice(&m.mac) else {
                warn!(vni = m.vni, "zebrad sent a MAC that is not 6 bytes");
                continue;
            };
            if let Some(dump) = &mut self.evpn_dump {
                dump.macs.insert((m.vni, mac));
            }
            self.evpn.mac_add(m.vni, mac, m.sticky);
        }
        for n in &u.neigh_del {
            if let Some(ip) = addr(&n.ip) {
                self.evpn.neighbor_del(n.vni, ip);
            }
        }
        for n in &u.neigh_add {
            let (Some(ip), Some(mac)) = (addr(&n.ip), Mac::from_slice(&n.mac)) else {
                warn!(vni = n.vni, "zebrad sent a malformed neighbor");
                continue;
            };
            if let Some(dump) = &mut self.evpn_dump {
                dump.neighbors.insert((n.vni, ip));
            }
            self.evpn.neighbor_add(n.vni, ip, mac);
        }
        if u.end_of_dump {
            if let Some(dump) = self.evpn_dump.take() {
                self.evpn
                    .local_retain(&dump.vnis, &dump.macs, &dump.neighbors);
            }
        }
    }

    /// Carries out the EVPN RIB's output: UPDATEs, and remote state to
    /// zebrad.
    async fn flush_evpn(&mut self) {
        let out = self.evpn.take_output(Instant::now());
        for (id, msgs) in out.to_peers {
            if let Some(p) = self.peers.get(&id) {
                if p.handle.tx.send(SessionCommand::Send(msgs)).await.is_err() {
                    warn!(peer = %p.cfg.address, "session task is gone");
                }
            }
        }
        let resync = std::mem::take(&mut self.evpn_resync);
        if out.remote.is_empty() && !resync {
            return;
        }
        if let Some(z) = &self.zebra {
            if z.send(ZCmd::Evpn(evpn_batch(&out.remote, resync)))
                .await
                .is_err()
            {
                error!("zebrad client task stopped");
            }
        }
    }

    /// Carries out the RIB's output.
    async fn flush(&mut self) {
        self.flush_evpn().await;
        let out: RibOutput = self.rib.take_output();
        if self.zebra.is_none() {
            // No zebrad to install into.
            self.rib.discard_fib();
        }
        if out.is_empty() {
            return;
        }
        for (id, msgs) in out.to_peers {
            if let Some(p) = self.peers.get(&id) {
                // Awaiting here applies backpressure from a slow peer; its
                // queue is deep enough that this is rare.
                if p.handle.tx.send(SessionCommand::Send(msgs)).await.is_err() {
                    warn!(peer = %p.cfg.address, "session task is gone");
                }
            }
        }
        if let Some(z) = self.zebra.clone() {
            if !out.nht_register.is_empty() || !out.nht_unregister.is_empty() {
                let _ = z
                    .send(ZCmd::Nexthops {
                        register: out.nht_register,
                        unregister: out.nht_unregister,
                    })
                    .await;
            }
        } else {
            // Without zebrad every next hop counts as reachable.
            for a in out.nht_register {
                self.rib.nexthop_update(a, true, 0);
            }
        }
    }

    /// One batch from the RIB's FIB queue to zebrad, now that the client
    /// task has room for it; End-of-RIB rides on the batch that empties
    /// the queue.
    fn feed_zebra(&mut self, permit: mpsc::OwnedPermit<ZCmd>) {
        let batch = self.rib.take_fib(zclient::BATCH);
        let end_of_rib = self.zebra_eor && self.rib.fib_pending() == 0;
        if end_of_rib {
            self.zebra_eor = false;
            info!("End-of-RIB to zebrad");
        }
        permit.send(ZCmd::Routes {
            add: batch.add.iter().map(zebra_route).collect(),
            del: batch
                .del
                .iter()
                .map(|p| zpb::RouteKey {
                    prefix: Some(proto::prefix_to_wire(*p)),
                    table: 0,
                })
                .collect(),
            end_of_rib,
        });
    }

    async fn command(&mut self, c: Cmd) {
        match c {
            Cmd::Neighbors { addr, reply } => {
                let _ = reply.send(self.neighbors(addr));
            }
            Cmd::Rib { query, reply } => {
                let _ = reply.send(crate::api::rib_reply(self, &query));
            }
            Cmd::Reset { query: req, reply } => {
                let target = req.neighbor;
                let mut n = 0;
                let ids: Vec<session::PeerId> = self
                    .peers
                    .iter()
                    .filter(|(_, p)| target.is_none_or(|a| a == p.cfg.address))
                    .map(|(&id, _)| id)
                    .collect();
                for id in ids {
                    n += 1;
                    let Some(p) = self.peers.get_mut(&id) else {
                        continue;
                    };
                    if req.soft_in || req.soft_out {
                        if req.soft_in {
                            for f in &p.cfg.families {
                                let _ = p.handle.tx.send(SessionCommand::RequestRefresh(*f)).await;
                            }
                        }
                        if req.soft_out {
                            let fams = p.cfg.families.clone();
                            for f in fams {
                                self.rib.route_refresh(id, f);
                            }
                        }
                    } else if p.limit.clear() {
                        // Held down by the maximum-prefix limit: start it.
                        info!(peer = %p.cfg.address, "clear bgp: starting the session the prefix limit held down");
                        let _ = p.handle.tx.send(SessionCommand::Start).await;
                    } else {
                        info!(peer = %p.cfg.address, "clear bgp: resetting the session");
                        let _ = p.handle.tx.send(SessionCommand::Reset).await;
                    }
                }
                let _ = reply.send(n);
            }
            Cmd::Evpn { route_type, reply } => {
                let _ = reply.send(crate::api::evpn_reply(self, route_type));
            }
            Cmd::ClearEvpnDuplicates { vni, mac, reply } => {
                let n = self.evpn.clear_duplicates(vni, mac);
                let _ = reply.send(u32::try_from(n).unwrap_or(u32::MAX));
            }
            Cmd::Policy { req, reply } => {
                let _ = reply.send(crate::api::policy_reply(self.rib.policies(), &req));
            }
            Cmd::ClearPolicyCounters { query, reply } => {
                let r = crate::api::clear_policy_counters(self.rib.policies(), &query);
                match &r {
                    Ok(n) => info!(?query, cleared = n, "policy counters cleared"),
                    Err(e) => info!(?query, error = %e, "policy counters not cleared"),
                }
                let _ = reply.send(r);
            }
            Cmd::Reload => self.reload(),
            Cmd::Config(req) => {
                if let Some((text, reply)) = self.running.serve(req) {
                    let r = match config::parse(&self.running.file_name(), &text) {
                        Ok(new) => {
                            let levels = (self.cfg.log_level.clone(), new.log_level.clone());
                            let changes = self.apply(new);
                            let levels = (levels.0.as_deref(), levels.1.as_deref());
                            self.running.applied(text, levels, changes)
                        }
                        Err(e) => refused(e),
                    };
                    let _ = reply.send(r);
                }
            }
        }
    }

    /// SIGHUP: the config file applied by difference (see [`Daemon::apply`]).
    fn reload(&mut self) {
        let Some(path) = self.cfg_path.clone() else {
            warn!("reload: started without a config file");
            return;
        };
        let parsed = common::config::read(&path)
            .and_then(|text| config::parse(&path.display().to_string(), &text).map(|c| (c, text)));
        match parsed {
            Ok((new, text)) => {
                let levels = (self.cfg.log_level.clone(), new.log_level.clone());
                let changes = self.apply(new);
                let levels = (levels.0.as_deref(), levels.1.as_deref());
                self.running.applied(text, levels, changes);
            }
            Err(e) => error!(error = %e, "reload refused; the running configuration stays"),
        }
    }

    /// Applies a new configuration by difference: neighbors added, removed
    /// or changed (only those are reset), policies re-evaluated without
    /// resetting sessions, networks originated or withdrawn. Returns what
    /// changed, one line each.
    fn apply(&mut self, new: Config) -> Vec<String> {
        let mut changes = Vec::new();
        if new.asn != self.cfg.asn
            || new.router_id != self.cfg.router_id
            || new.cluster_id != self.cfg.cluster_id
        {
            warn!("reload: the AS number, router id and cluster id change only with a restart");
            changes
                .push("the AS number, router id and cluster id change only with a restart".into());
        }
        self.evpn.set_config(new.evpn.clone());
        // A neighbor whose only change is its policy keeps its session:
        // its routes are re-evaluated (inbound from the Adj-RIB-In kept
        // before policy, outbound by sending the difference).
        let mut rebind = Vec::new();
        for (&id, p) in self.peers.iter_mut() {
            let Some(n) = new.neighbors.iter().find(|n| n.address == p.cfg.address) else {
                continue;
            };
            let same_but_policy = Neighbor {
                policy: n.policy.clone(),
                ..p.cfg.clone()
            } == *n;
            if n.policy != p.cfg.policy && same_but_policy {
                info!(peer = %n.address, "reload: neighbor policy changed, session kept");
                changes.push(format!("neighbor {} policy re-evaluated", n.address));
                p.cfg.policy = n.policy.clone();
                if let Some(info) = &mut p.up {
                    info.policy = n.policy.clone();
                }
                rebind.push((id, n.policy.clone()));
            }
        }
        let policies_changed = new.policies != self.cfg.policies;
        if policies_changed || !rebind.is_empty() {
            let policies = new.policies.clone();
            policies.keep_counts(self.rib.policies());
            self.rib.set_policies(policies, &rebind);
            info!("reload: policies re-evaluated");
            changes.push("policies re-evaluated".into());
        }
        for p in &self.cfg.networks {
            if !new.networks.contains(p) {
                self.rib.withdraw_local(*p);
                changes.push(format!("network {p} withdrawn"));
            }
        }
        for p in &new.networks {
            let map = new.network_route_map(p);
            let known = self.cfg.networks.contains(p);
            // New, another route map, or its route map's policies changed.
            if !known || map != self.cfg.network_route_map(p) || (map.is_some() && policies_changed)
            {
                let what = if self.rib.originate_network(*p, map) {
                    "originated"
                } else {
                    "denied by its route map"
                };
                changes.push(format!("network {p} {what}"));
            }
        }
        if new.aggregates != self.cfg.aggregates {
            self.rib.set_aggregates(new.aggregates.clone());
            changes.push("aggregates changed".to_string());
        }
        if new.listen_ranges != self.cfg.listen_ranges {
            for r in &self.cfg.listen_ranges {
                self.range_md5(r, false);
            }
            for r in &new.listen_ranges {
                self.range_md5(r, true);
            }
            self.dynamic.set(
                new.listen_ranges.iter().map(|r| r.prefix).collect(),
                self.dynamic_tx.clone(),
            );
            changes.push("listen ranges set".into());
        }
        let gone: Vec<session::PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| match p.dynamic {
                // A dynamic neighbor stays while its range is unchanged.
                Some(prefix) => {
                    new.neighbors.iter().any(|n| n.address == p.cfg.address)
                        || !new
                            .listen_ranges
                            .iter()
                            .any(|r| r.prefix == prefix && self.cfg.listen_ranges.contains(r))
                }
                None => !new.neighbors.contains(&p.cfg),
            })
            .map(|(&id, _)| id)
            .collect();
        for id in gone {
            if let Some(p) = self.peers.get(&id) {
                changes.push(format!("neighbor {} removed", p.cfg.address));
            }
            self.remove_peer(id);
        }
        for n in &new.neighbors {
            if !self.peers.values().any(|p| p.cfg == *n) {
                info!(peer = %n.address, "reload: neighbor added or changed");
                changes.push(format!("neighbor {} set", n.address));
                self.add_peer(n.clone());
            }
        }
        if new.redistribute != self.cfg.redistribute {
            warn!("reload: redistribution changes only with a restart");
            changes.push("redistribution changes only with a restart".into());
        }
        self.cfg = new;
        changes
    }

    fn neighbors(&self, addr: Option<IpAddr>) -> proto::bgp::NeighborsReply {
        let mut out = proto::bgp::NeighborsReply {
            local_as: self.cfg.asn,
            router_id: self.cfg.router_id.octets().to_vec(),
            loc_rib_prefixes: (self.rib.prefix_count(AfiSafi::IPV4_UNICAST)
                + self.rib.prefix_count(AfiSafi::IPV6_UNICAST))
                as u64,
            loc_rib_paths: self
                .peers
                .keys()
                .flat_map(|&id| self.rib.peer_counts(id))
                .map(|(_, c)| c.accepted)
                .sum(),
            neighbors: Vec::new(),
        };
        for (&id, p) in &self.peers {
            if addr.is_some_and(|a| a != p.cfg.address) {
                continue;
            }
            out.neighbors.push(crate::api::neighbor(
                self,
                id,
                &p.cfg,
                &p.handle,
                p.up.as_ref(),
                &p.limit,
                p.dynamic.is_some(),
            ));
        }
        out
    }

    pub fn rib(&self) -> &Rib {
        &self.rib
    }

    pub fn evpn(&self) -> &EvpnRib {
        &self.evpn
    }

    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn peer_id(&self, addr: IpAddr) -> Option<session::PeerId> {
        self.peers
            .iter()
            .find(|(_, p)| p.cfg.address == addr)
            .map(|(&id, _)| id)
    }

    pub fn peer_addr(&self, id: session::PeerId) -> Option<IpAddr> {
        self.peers.get(&id).map(|p| p.cfg.address)
    }

    pub fn peer_is_ibgp(&self, id: session::PeerId) -> bool {
        self.peers
            .get(&id)
            .is_some_and(|p| p.cfg.remote_as == self.cfg.asn)
    }

    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    pub fn rfc8212_note(&self, n: &Neighbor) -> String {
        if !self.rfc8212_blocks(n) {
            return String::new();
        }
        let which = match self.rfc8212_gaps(n) {
            (true, true) => "import and export",
            (true, false) => "import",
            _ => "export",
        };
        format!("RFC 8212: eBGP neighbor without {which} policy: nothing is exchanged in that direction")
    }

    pub fn state_of(h: &SessionHandle) -> State {
        h.stats.state()
    }
}

/// Our IPv6 next hops for a session: the global address of the session if
/// it is IPv6, with our link-local address on that link when the peer
/// shares its subnet (RFC 2545 §3); only the link-local one when the
/// session runs over link-local addresses.
fn v6_addresses(local: IpAddr, remote: IpAddr) -> (Option<Ipv6Addr>, Option<Ipv6Addr>) {
    match local {
        IpAddr::V6(l) if l.is_unicast_link_local() => (None, Some(l)),
        IpAddr::V6(l) => (
            Some(l),
            session::link::session_link(local, remote).and_then(|k| k.link_local),
        ),
        IpAddr::V4(_) => (None, None),
    }
}

/// The remote EVPN state change as zebrad's batch; `end_of_rib` after a
/// resync (everything was sent again).
fn evpn_batch(d: &RemoteDelta, end_of_rib: bool) -> zpb::EvpnBatch {
    let ip = |a: &IpAddr| proto::addr_to_bytes(*a);
    zpb::EvpnBatch {
        seq: 0,
        vtep_add: d
            .vtep_add
            .iter()
            .map(|(vni, v)| zpb::RemoteVtep {
                vni: *vni,
                vtep: ip(v),
            })
            .collect(),
        vtep_del: d
            .vtep_del
            .iter()
            .map(|(vni, v)| zpb::RemoteVtep {
                vni: *vni,
                vtep: ip(v),
            })
            .collect(),
        mac_add: d
            .mac_add
            .iter()
            .map(|(vni, mac, r)| zpb::RemoteMac {
                vni: *vni,
                mac: mac.0.to_vec(),
                vtep: ip(&r.vtep),
                seq: r.seq,
                sticky: r.sticky,
            })
            .collect(),
        mac_del: d
            .mac_del
            .iter()
            .map(|(vni, mac)| zpb::RemoteMac {
                vni: *vni,
                mac: mac.0.to_vec(),
                ..Default::default()
            })
            .collect(),
        macip_add: d
            .macip_add
            .iter()
            .map(|(vni, addr, mac, vtep)| zpb::RemoteMacIp {
                vni: *vni,
                ip: ip(addr),
                mac: mac.0.to_vec(),
                vtep: ip(vtep),
            })
            .collect(),
        macip_del: d
            .macip_del
            .iter()
            .map(|(vni, addr)| zpb::RemoteMacIp {
                vni: *vni,
                ip: ip(addr),
                ..Default::default()
            })
            .collect(),
        end_of_rib,
    }
}

fn zebra_route(r: &ZebraRoute) -> zpb::Route {
    zpb::Route {
        prefix: Some(proto::prefix_to_wire(r.prefix)),
        nexthops: r
            .nexthops
            .iter()
            .map(|n| zpb::Nexthop {
                gateway: proto::addr_to_bytes(*n),
                // A link-local gateway goes with the interface of the peer
                // that sent it; others are resolved by zebrad.
                ifname: r
                    .scopes
                    .iter()
                    .find(|(a, _)| IpAddr::V6(*a) == *n)
                    .map(|(_, i)| i.to_string())
                    .unwrap_or_default(),
                weight: 1,
            })
            .collect(),
        // Our aggregates: local BGP routes, distance 200 as in FRR.
        distance: if r.ibgp || r.blackhole { 200 } else { 20 },
        metric: r.med,
        table: 0,
        tag: 0,
        kind: if r.blackhole {
            zpb::RouteKind::Blackhole
        } else {
            zpb::RouteKind::Unicast
        } as i32,
    }
}

/// The families both sides announced (RFC 4760 §8); a speaker without any
/// Multiprotocol capability speaks IPv4 unicast only.
pub fn negotiated_families(configured: &[AfiSafi], local: &Open, remote: &Open) -> Vec<AfiSafi> {
    let of = |o: &Open| {
        let f: Vec<AfiSafi> = o.families().collect();
        if f.is_empty() {
            vec![AfiSafi::IPV4_UNICAST]
        } else {
            f
        }
    };
    let (l, r) = (of(local), of(remote));
    configured
        .iter()
        .copied()
        .filter(|f| l.contains(f) && r.contains(f))
        .collect()
}

async fn recv_opt<T>(r: &mut Option<mpsc::Receiver<T>>) -> Option<T> {
    match r {
        Some(r) => r.recv().await,
        None => std::future::pending().await,
    }
}

/// Room for one more command on `tx`; never ready without a sender, `None`
/// when the receiving task is gone.
async fn reserve_opt<T>(tx: Option<mpsc::Sender<T>>) -> Option<mpsc::OwnedPermit<T>> {
    match tx {
        Some(tx) => tx.reserve_owned().await.ok(),
        None => std::future::pending().await,
    }
}

/// The local path of a redistributed route that carries its own attributes
/// (an anycast service's communities, large communities, MED and AS-path
/// prepends; zebra.proto `RouteAttributes`). It weighs LOCAL_WEIGHT as
/// every local route, except a last-resort route (anycast last-site
/// protection): weight 0 and LOCAL_PREF 0, so that any path learned from a
/// peer wins over it (RFC 4271 §9.1.1) and reaches zebrad, which then
/// withdraws it; eBGP export strips LOCAL_PREF and weight as usual.
fn redist_attrs(a: &zpb::RouteAttributes, local_as: u32, med: Option<u32>) -> PathAttributes {
    let mut as_path = AsPath::default();
    for _ in 0..a.as_path_prepend.min(16) {
        as_path.prepend(local_as);
    }
    PathAttributes {
        origin: Some(Origin::Incomplete),
        as_path: Some(as_path),
        med: a.med.or(med),
        local_pref: a.last_resort.then_some(0),
        weight: if a.last_resort { 0 } else { LOCAL_WEIGHT },
        communities: a.communities.iter().map(|&c| Community(c)).collect(),
        large_communities: a
            .large_communities
            .iter()
            .map(|l| LargeCommunity::new(l.global_admin, l.local_data1, l.local_data2))
            .collect(),
        ..PathAttributes::default()
    }
}

#[cfg(test)]
mod redist_tests {
    use super::*;

    #[test]
    fn redistributed_attributes_become_the_local_path() {
        let a = zpb::RouteAttributes {
            communities: vec![65000 << 16 | 100, 0xffff_0000],
            large_communities: vec![zpb::LargeCommunity {
                global_admin: 65000,
                local_data1: 1,
                local_data2: 2,
            }],
            med: Some(50),
            as_path_prepend: 2,
            last_resort: true,
        };
        let p = redist_attrs(&a, 65001, Some(7));
        assert_eq!(p.med, Some(50));
        assert_eq!(
            p.communities,
            [Community(65000 << 16 | 100), Community::GRACEFUL_SHUTDOWN]
        );
        assert_eq!(p.large_communities, [LargeCommunity::new(65000, 1, 2)]);
        assert_eq!(
            p.as_path.as_ref().map(|x| x.asns().collect::<Vec<_>>()),
            Some(vec![65001, 65001])
        );
        assert_eq!(p.local_pref, Some(0));
        assert_eq!(
            (p.local_pref, p.weight),
            (Some(0), 0),
            "last resort: any learned path wins"
        );
        let p = redist_attrs(&zpb::RouteAttributes::default(), 65001, Some(7));
        assert_eq!((p.local_pref, p.weight), (None, LOCAL_WEIGHT));
        assert_eq!((p.med, p.local_pref), (Some(7), None));
        assert_eq!(p.as_path.map(|x| x.length()), Some(0));
    }
}

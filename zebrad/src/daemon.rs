//! The RIB task: the single owner of the [`Rib`], the kernel's view and the
//! subscribers. Everything reaches it as a [`RibCmd`] or a kernel event
//! through bounded channels; it applies the change to the RIB and carries out
//! the RIB's [`Output`]: kernel ops to the FIB writer, route changes to
//! redistribution subscribers, nexthop changes to trackers.
//!
//! Start-up order matters for forwarding: the kernel monitor is opened
//! first (so nothing is missed), then links, addresses and routes are
//! dumped; zebrad's own routes from an earlier life are adopted as stale
//! (nothing is flushed). Static routes from the config are re-announced at
//! once and, the config being the whole static set, adopted static routes
//! not in it are removed then; adopted routes of protocol clients (bgp,
//! ospf, ...) wait for their client to come back, and those nobody
//! re-announces expire after the stale time.
//!
//! VXLAN tunnel endpoints ([`crate::vtep`]) live here too: their remote
//! entries are programmed by a second writer (bridge FDB and neighbor
//! entries) as the RIB's nexthop tracking says their VTEPs are reachable.
//!
//! Anycast services ([`crate::anycast`]) live here too: the manager's check
//! and address tasks report through a bounded channel, the RIB task applies
//! the resulting routes as the `anycast` client, and starts address
//! removals only after the withdrawals went out (see `run`).

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ipnetwork::IpNetwork;
use proto::zebra as pb;
use proto::Source;
use tokio::sync::{mpsc, oneshot};
use tonic::Status;
use tracing::{debug, error, info, warn};

use common::running::{refused, ConfigRequest, RunningConfig};

use crate::anycast;
use crate::config::{self, Config, Rule};
use crate::fib::{self, FibOutcome, FibWriter, KernelEvent, NlWriter};
use crate::iface::{self, Link};
use crate::rib::{
    ClientId, NhtState, RedistChange, Rib, RibConfig, RouteIn, RouteView, MAIN_TABLE,
};
use crate::vtep::program::{VtepOp, VtepOutcome};
use crate::vtep::reach::VtepReach;
use crate::vtep::{self, Vtep};

/// Depth of the command channel into the RIB task. Small on purpose: a
/// route batch waiting here holds its routes in memory, so while the kernel
/// is the bottleneck the backlog must stay in the client (gRPC flow
/// control), not in zebrad (a deep queue cost 130 bytes per route at 1M).
pub const CMD_QUEUE: usize = 4;
/// Depth of a subscriber's channel; a subscriber that falls further behind
/// is dropped (it reconnects and gets a fresh dump) instead of stalling the RIB.
pub const SUB_QUEUE: usize = 1024;
/// Routes per redistribution message of a dump.
const DUMP_CHUNK: usize = 10_000;

pub type Reply<T> = oneshot::Sender<T>;

/// The anycast manager's view of the RIB (`$rib`: `&Rib`).
macro_rules! anycast_env {
    ($rib:expr) => {
        anycast::Env {
            ifindex: &|n| $rib.ifindex(n),
            elsewhere: &|p| $rib.learned_elsewhere(MAIN_TABLE, p),
        }
    };
}

/// What the API (and signals) ask of the RIB task.
pub enum RibCmd {
    Hello {
        source: Source,
        instance: String,
        stale_time: Option<Duration>,
        reply: Reply<(ClientId, u64)>,
    },
    Batch {
        client: ClientId,
        seq: u64,
        add: Vec<RouteIn>,
        del: Vec<(u32, IpNetwork)>,
        end_of_rib: bool,
        /// Rejections found while converting from the wire.
        rejected: Vec<pb::RouteError>,
        reply: mpsc::Sender<Result<pb::PushReply, Status>>,
    },
    Disconnect {
        client: ClientId,
    },
    Redistribute {
        sources: Vec<Source>,
        v6: Option<bool>,
        tables: Vec<u32>,
        tx: mpsc::Sender<Result<pb::RedistBatch, Status>>,
    },
    Nht {
        sub: u64,
        table: u32,
        register: Vec<IpAddr>,
        unregister: Vec<IpAddr>,
        tx: mpsc::Sender<Result<pb::NexthopUpdate, Status>>,
    },
    NhtGone {
        sub: u64,
    },
    WatchInterfaces {
        tx: mpsc::Sender<Result<pb::InterfaceEvent, Status>>,
    },
    ListInterfaces {
        reply: Reply<pb::InterfaceList>,
    },
    ShowRoutes {
        req: pb::ShowRoutesRequest,
        reply: Reply<Result<pb::ShowRoutesReply, Status>>,
    },
    ShowRules {
        reply: Reply<pb::ShowRulesReply>,
    },
    ShowNexthopGroups {
        reply: Reply<pb::ShowNexthopGroupsReply>,
    },
    Status {
        reply: Reply<pb::StatusReply>,
    },
    Reload {
        reply: Option<Reply<pb::ReloadReply>>,
    },
    /// Running configuration: get, apply, write (config.proto).
    Config(ConfigRequest),
    ShowServices {
        name: String,
        reply: Reply<pb::ShowServicesReply>,
    },
    /// VXLAN/EVPN: a push client says Hello.
    EvpnHello {
        name: String,
        stale_time: Option<Duration>,
        reply: Reply<(vtep::ClientId, usize)>,
    },
    EvpnBatch {
        client: vtep::ClientId,
        seq: u64,
        batch: vtep::Batch,
        rejected: Vec<pb::EvpnRejected>,
        reply: mpsc::Sender<Result<pb::EvpnPushReply, Status>>,
    },
    EvpnDisconnect {
        client: vtep::ClientId,
    },
    WatchEvpn {
        vnis: Vec<u32>,
        tx: mpsc::Sender<Result<pb::EvpnLocalUpdate, Status>>,
    },
    ShowEvpn {
        req: pb::ShowEvpnRequest,
        reply: Reply<pb::ShowEvpnReply>,
    },
    /// Drain (or undrain) an anycast service.
    Drain {
        req: pb::DrainRequest,
        on: bool,
        reply: Reply<Result<pb::ServiceStatus, String>>,
    },
    /// A load balancer's health report.
    LbReport {
        req: pb::HealthReport,
        reply: Reply<Result<String, String>>,
    },
    /// Subscribe to anycast service state changes.
    WatchServices {
        service: String,
        tx: mpsc::Sender<Result<pb::ServiceEvent, Status>>,
    },
    /// A clean stop: anycast prefixes are withdrawn (and flushed to the
    /// subscribers) before the reply, which carries the service addresses
    /// (ifindex, address) the caller removes once the protocols had time
    /// to send the withdrawals.
    Shutdown {
        reply: Reply<(usize, Vec<(u32, IpNetwork)>)>,
    },
}

struct RedistSub {
    sources: Vec<Source>,
    v6: Option<bool>,
    tables: Vec<u32>,
    tx: mpsc::Sender<Result<pb::RedistBatch, Status>>,
}

struct NhtSub {
    tracked: HashSet<(u32, IpAddr)>,
    tx: mpsc::Sender<Result<pb::NexthopUpdate, Status>>,
}

impl From<ConfigRequest> for RibCmd {
    fn from(r: ConfigRequest) -> Self {
        RibCmd::Config(r)
    }
}

/// The RIB task's state.
pub struct Daemon {
    rib: Rib,
    cfg: Config,
    cfg_path: Option<PathBuf>,
    /// The running configuration's text (vtysh's configure mode).
    running: RunningConfig,
    writer: FibWriter,
    links: HashMap<u32, Link>,
    static_client: ClientId,
    /// Static routes waiting for an interface that does not exist yet.
    pending_statics: Vec<RouteIn>,
    rules: Vec<(Rule, Option<String>)>,
    redist: Vec<RedistSub>,
    nht: HashMap<u64, NhtSub>,
    iface_watchers: Vec<mpsc::Sender<Result<pb::InterfaceEvent, Status>>>,
    client_stale: HashMap<ClientId, Duration>,
    started: Instant,
    anycast: anycast::Manager,
    anycast_client: ClientId,
    anycast_rx: Option<mpsc::Receiver<anycast::Event>>,
    vtep: Vtep,
    vtep_writer: NlWriter<VtepOp>,
    vtep_rx: Option<mpsc::Receiver<Vec<VtepOutcome>>>,
    evpn_stale: HashMap<vtep::ClientId, Duration>,
    /// Anycast prefixes whose attributes changed (not their route): sent
    /// to the subscribers again at the next flush.
    anycast_refresh: Vec<IpNetwork>,
}

fn reach_of(st: &NhtState) -> VtepReach {
    VtepReach {
        resolved: st.resolved,
        via: st.via,
        via_source: st.via_source,
    }
}

/// The nexthop-tracking callback [`Vtep`] registers its VTEPs with.
fn vtep_nht(rib: &mut Rib) -> impl FnMut(IpAddr, bool) -> Option<VtepReach> + '_ {
    move |addr, add| {
        rib.nht_register(MAIN_TABLE, addr, add)
            .map(|st| reach_of(&st))
    }
}

/// Kernel protocol ids zebrad installs with.
pub fn our_protocols() -> Vec<u8> {
    Source::ALL
        .iter()
        .filter_map(|s| s.kernel_protocol())
        .collect()
}

/// The protocol id zebrad's rules carry.
pub fn rule_protocol() -> u8 {
    Source::Static.kernel_protocol().unwrap_or(196)
}

impl Daemon {
    /// Reads the kernel, adopts zebrad's leftovers, applies the config, and
    /// returns the daemon with the channels it reads from.
    pub async fn start(
        cfg: Config,
        cfg_path: Option<PathBuf>,
        run_dir: Option<PathBuf>,
    ) -> std::io::Result<(
        Daemon,
        mpsc::Receiver<KernelEvent>,
        mpsc::Receiver<Vec<FibOutcome>>,
    )> {
        let (ktx, krx) = mpsc::channel(65536);
        fib::spawn_monitor(our_protocols(), ktx)?;
        let (otx, orx) = mpsc::channel(1024);
        // Only failures come back: the RIB assumes success (and clears
        // the prefix's last error) when it emits an op.
        let writer = fib::writer::spawn_writer_with(
            fib::WriterConfig {
                report_success: false,
                // A few batches ahead keep the kernel busy; more only
                // hold memory.
                queue_batches: 4,
                // Without acks nothing fills the receive buffer: pack more.
                per_send: 512,
                ..fib::WriterConfig::default()
            },
            otx,
        )?;
        let (vtx, vrx) = mpsc::channel(1024);
        let vtep_writer = fib::spawn_nl_writer(
            fib::WriterConfig {
                report_success: false,
                queue_batches: 4,
                per_send: 512,
                ..fib::WriterConfig::default()
            },
            vtx,
        )?;
        let mut rib = Rib::new(rib_config(&cfg));
        let mut links = HashMap::new();
        for l in iface::dump_links().await? {
            rib.link_update(l.index, &l.name, l.admin_up && l.oper_up);
            links.insert(l.index, l);
        }
        for (ifindex, addr) in iface::dump_addrs().await? {
            rib.addr_added(ifindex, addr);
        }
        if cfg.nexthop_objects {
            // Before adopting routes: they may name objects of ours.
            match fib::dump_nexthops().await {
                Ok(found) => {
                    info!(
                        objects = found.len(),
                        "routes go in through kernel nexthop objects"
                    );
                    rib.enable_kernel_nexthops(&found, &our_protocols());
                }
                Err(e) => {
                    warn!(error = %e, "this kernel has no nexthop objects: routes carry their nexthops inline")
                }
            }
        }
        let stale = Duration::from_secs(cfg.stale_time);
        let now = Instant::now();
        let (mut adopted, mut kernel) = (0u64, 0u64);
        for r in fib::dump_routes().await? {
            match Source::from_kernel_protocol(r.protocol) {
                Some(src) if r.priority == crate::rib::KERNEL_PRIORITY => {
                    rib.adopt(src, &r, stale, now);
                    adopted += 1;
                }
                Some(_) => {}
                None => {
                    rib.kernel_route_added(&r);
                    kernel += 1;
                }
            }
        }
        rib.settle();
        info!(
            links = links.len(),
            adopted, kernel, "read the kernel; adopted routes stay until re-announced or stale"
        );
        let mut vtep = Vtep::new(run_dir);
        vtep.start(
            &links,
            &vtep::discover::dump_fdb().await?,
            &vtep::discover::dump_neighbors().await?,
            stale,
            now,
        );
        let (static_client, _) = rib.connect(Source::Static, "config");
        let (anycast_client, _) = rib.connect(Source::Anycast, "services");
        let (atx, arx) = mpsc::channel(anycast::EVENT_QUEUE);
        let text = cfg_path
            .as_deref()
            .and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_default();
        let mut d = Daemon {
            rib,
            cfg: Config::default(),
            running: RunningConfig::new("zebrad", cfg_path.clone(), text),
            cfg_path,
            writer,
            links,
            static_client,
            pending_statics: Vec::new(),
            rules: Vec::new(),
            redist: Vec::new(),
            nht: HashMap::new(),
            iface_watchers: Vec::new(),
            client_stale: HashMap::new(),
            started: Instant::now(),
            anycast: anycast::Manager::new(atx),
            anycast_client,
            anycast_rx: Some(arx),
            vtep,
            vtep_writer,
            vtep_rx: Some(vrx),
            evpn_stale: HashMap::new(),
            anycast_refresh: Vec::new(),
        };
        d.apply_config(cfg).await;
        d.rib.end_of_rib(static_client);
        // Services start unconfirmed: anycast routes of an earlier life go
        // until the checks confirm them again.
        d.rib.end_of_rib(anycast_client);
        d.flush().await;
        Ok((d, krx, orx))
    }

    /// Runs until `cmds` closes.
    pub async fn run(
        mut self,
        mut cmds: mpsc::Receiver<RibCmd>,
        mut kernel: mpsc::Receiver<KernelEvent>,
        mut outcomes: mpsc::Receiver<Vec<FibOutcome>>,
    ) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let (Some(mut anycast_rx), Some(mut vtep_rx)) =
            (self.anycast_rx.take(), self.vtep_rx.take())
        else {
            error!("the RIB task was started twice");
            return;
        };
        loop {
            tokio::select! {
                Some(ev) = anycast_rx.recv() => {
                    let rib = &self.rib;
                    let env = anycast_env!(rib);
                    let actions = self.anycast.event(ev, Instant::now(), &env);
                    self.apply_anycast(actions);
                }
                c = cmds.recv() => match c {
                    Some(c) => {
                        let routes = matches!(c, RibCmd::Batch { .. } | RibCmd::Disconnect { .. });
                        self.command(c).await;
                        if routes {
                            // Another site's route may have come or gone.
                            let rib = &self.rib;
                            let env = anycast_env!(rib);
                            let actions = self.anycast.rib_changed(Instant::now(), &env);
                            self.apply_anycast(actions);
                        }
                    }
                    None => break,
                },
                Some(ev) = kernel.recv() => {
                    self.kernel_event(ev).await;
                    // Drain what else is queued before flushing once.
                    while let Ok(ev) = kernel.try_recv() {
                        self.kernel_event(ev).await;
                    }
                    let n = self.rib.reinstall_repaired();
                    if n > 0 {
                        info!(routes = n, "routes naming re-created nexthop objects re-installed");
                    }
                }
                Some(batch) = vtep_rx.recv() => self.vtep.outcomes(&batch),
                Some(batch) = outcomes.recv() => {
                    for o in &batch {
                        match (o.error, o.target) {
                            (Some(errno), fib::FibTarget::Route(table, prefix, _)) => {
                                if o.replace {
                                    warn!(%prefix, table, errno, "kernel refused route");
                                } else if errno.abs() != libc::ESRCH {
                                    debug!(%prefix, table, errno, "kernel refused delete");
                                }
                            }
                            (Some(errno), fib::FibTarget::Nexthop(id)) => {
                                if o.replace {
                                    warn!(id, errno, "kernel refused nexthop object");
                                } else if errno.abs() != libc::ENOENT {
                                    debug!(id, errno, "kernel refused nexthop object delete");
                                }
                            }
                            (None, _) => {}
                        }
                        self.rib.fib_outcome(o);
                    }
                }
                _ = tick.tick() => {
                    let n = self.rib.expire_stale(Instant::now());
                    if n > 0 {
                        info!(routes = n, "stale routes expired");
                    }
                    let rib = &self.rib;
                    let env = anycast_env!(rib);
                    let actions = self.anycast.tick(Instant::now(), &env);
                    self.apply_anycast(actions);
                    self.vtep.tick(Instant::now(), &mut vtep_nht(&mut self.rib));
                }
            }
            self.flush().await;
            // Withdrawals are out: addresses may start leaving now.
            let rib = &self.rib;
            self.anycast.start_removals(&|n| rib.ifindex(n));
        }
    }

    /// Applies anycast route changes as the anycast client.
    fn apply_anycast(&mut self, actions: Vec<anycast::RibAction>) {
        if actions.is_empty() {
            return;
        }
        for a in actions {
            match a {
                anycast::RibAction::Add(r) => {
                    if let Err(e) = self.rib.add(self.anycast_client, &r) {
                        warn!(prefix = %r.prefix, reason = %e, "anycast route refused");
                    }
                }
                anycast::RibAction::Del(p) => {
                    self.rib.remove_route(self.anycast_client, MAIN_TABLE, p)
                }
                anycast::RibAction::Refresh(p) => self.anycast_refresh.push(p),
            }
        }
        self.rib.settle();
    }

    /// Whether an address notification is a service address that must not
    /// become a connected route (it would hide the anycast route).
    fn anycast_address(&self, ifindex: u32, addr: IpNetwork) -> bool {
        self.links
            .get(&ifindex)
            .is_some_and(|l| self.anycast.owns_address(&l.name, addr))
    }

    /// Drops connected routes of service addresses already on their
    /// interface (found at start or when a reload adds a service).
    fn hide_anycast_addresses(&mut self) {
        for (ifname, p) in self.anycast.owned_addresses() {
            if let Some(ix) = self.rib.ifindex(&ifname) {
                self.rib.addr_removed(ix, p);
            }
        }
    }

    /// Carries out the RIB's output.
    async fn flush(&mut self) {
        let out = self.rib.take_output();
        if !out.fib.is_empty() && self.writer.submit(out.fib).await.is_err() {
            error!("the FIB writer stopped; kernel changes are lost");
        }
        if !out.redist.is_empty() {
            self.send_redist(&out.redist);
        }
        let refresh: Vec<RedistChange> = std::mem::take(&mut self.anycast_refresh)
            .into_iter()
            .filter_map(|p| {
                let r = self.rib.selected(MAIN_TABLE, p)?;
                (r.source == Source::Anycast).then_some(RedistChange {
                    table: MAIN_TABLE,
                    prefix: p,
                    old: Some(Source::Anycast),
                    new: Some(r),
                })
            })
            .collect();
        if !refresh.is_empty() && !self.redist.is_empty() {
            self.send_redist(&refresh);
        }
        for (table, addr, st) in out.nht {
            if table == MAIN_TABLE {
                self.vtep
                    .nht_changed(addr, reach_of(&st), &mut vtep_nht(&mut self.rib));
            }
            self.send_nht(table, addr, &st);
        }
        let ops = self.vtep.take_ops();
        if !ops.is_empty() && self.vtep_writer.submit(ops).await.is_err() {
            error!("the VTEP writer stopped; FDB/neighbor changes are lost");
        }
    }

    fn send_redist(&mut self, changes: &[RedistChange]) {
        self.redist.retain(|s| {
            let mut b = pb::RedistBatch::default();
            for c in changes {
                if !s.tables.contains(&c.table) || s.v6.is_some_and(|v6| v6 != c.prefix.is_ipv6()) {
                    continue;
                }
                match &c.new {
                    Some(n) if s.sources.contains(&n.source) => {
                        b.add
                            .push(redist_route(c.table, c.prefix, n, &self.anycast))
                    }
                    _ => {
                        if let Some(old) = c.old.filter(|o| s.sources.contains(o)) {
                            b.del.push(pb::RedistRoute {
                                source: pb::RouteSource::from(old) as i32,
                                instance: String::new(),
                                route: Some(pb::Route {
                                    prefix: Some(proto::prefix_to_wire(c.prefix)),
                                    table: c.table,
                                    ..Default::default()
                                }),
                                attributes: None,
                            });
                        }
                    }
                }
            }
            if b.add.is_empty() && b.del.is_empty() {
                return !s.tx.is_closed();
            }
            match s.tx.try_send(Ok(b)) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    warn!("redistribution subscriber too slow; dropped (it must resubscribe)");
                    let _ =
                        s.tx.try_send(Err(Status::resource_exhausted("subscriber too slow")));
                    false
                }
                Err(_) => false,
            }
        });
        if self.redist.is_empty() {
            self.rib.redist_wanted = false;
        }
    }

    fn send_nht(&mut self, table: u32, addr: IpAddr, st: &NhtState) {
        let msg = nht_state(&self.rib, table, addr, st);
        self.nht.retain(|_, s| {
            if !s.tracked.contains(&(table, addr)) {
                return !s.tx.is_closed();
            }
            s.tx.try_send(Ok(pb::NexthopUpdate {
                states: vec![msg.clone()],
            }))
            .is_ok()
        });
    }

    async fn kernel_event(&mut self, ev: KernelEvent) {
        match ev {
            KernelEvent::Link(l) => {
                let up = l.admin_up && l.oper_up;
                let was = self.links.get(&l.index).map(|o| o.admin_up && o.oper_up);
                if was != Some(up) {
                    info!(interface = %l.name, up, "link state");
                }
                self.rib.link_update(l.index, &l.name, up);
                let vxlan_or_bridge = l.vxlan.is_some() || l.kind == "bridge";
                let moved = self
                    .links
                    .get(&l.index)
                    .map(|o| (o.master, o.admin_up && o.oper_up))
                    != Some((l.master, up));
                self.links.insert(l.index, l.clone());
                if vxlan_or_bridge || moved {
                    self.vtep.links(&self.links, &mut vtep_nht(&mut self.rib));
                }
                self.notify_iface(l.index);
                self.retry_pending_statics();
            }
            KernelEvent::LinkRemoved(i) => {
                self.rib.link_removed(i);
                self.links.remove(&i);
                self.vtep.link_removed(i);
                self.vtep.links(&self.links, &mut vtep_nht(&mut self.rib));
                for w in &self.iface_watchers {
                    let _ = w.try_send(Ok(pb::InterfaceEvent {
                        event: Some(pb::interface_event::Event::Removed(i)),
                    }));
                }
            }
            KernelEvent::AddrAdded { ifindex, addr } => {
                if self.anycast_address(ifindex, addr) {
                    debug!(%addr, ifindex, "service address: its route is the anycast one");
                    return;
                }
                self.rib.addr_added(ifindex, addr);
                self.notify_iface(ifindex);
            }
            KernelEvent::AddrRemoved { ifindex, addr } => {
                self.rib.addr_removed(ifindex, addr);
                self.notify_iface(ifindex);
            }
            KernelEvent::RouteAdded(r) => {
                if Source::from_kernel_protocol(r.protocol).is_none() {
                    self.rib.kernel_route_added(&r);
                    self.rib.settle();
                }
            }
            KernelEvent::RouteDeleted(r) => match Source::from_kernel_protocol(r.protocol) {
                Some(_) => {
                    if self.rib.kernel_route_deleted(r.table, r.prefix, r.priority) {
                        warn!(prefix = %r.prefix, table = r.table, "our route was deleted from outside; re-installing");
                    }
                }
                None => {
                    self.rib.kernel_route_removed(&r);
                    self.rib.settle();
                }
            },
            KernelEvent::NexthopDeleted(d) => {
                if let Some(o) = self.rib.kernel_nexthop_deleted(&d) {
                    warn!(
                        id = o.id,
                        gateway = ?d.gateway,
                        ifindex = d.ifindex,
                        group = o.group,
                        refs = o.refs,
                        "our nexthop object was deleted from outside; re-creating it and re-installing its routes"
                    );
                }
            }
            KernelEvent::NexthopAdded(d) => {
                if let Some(o) = self.rib.kernel_nexthop_changed(&d) {
                    warn!(
                        id = o.id,
                        gateway = ?d.gateway,
                        ifindex = d.ifindex,
                        members = ?d.group.iter().map(|m| m.id).collect::<Vec<_>>(),
                        protocol = d.protocol,
                        ours = ?o.legs,
                        "our nexthop object was replaced from outside; writing ours back"
                    );
                }
            }
            KernelEvent::Neigh(ev) => self.vtep.neigh_event(&ev),
            KernelEvent::Overrun => {
                warn!("kernel notifications lost; resynchronising");
                self.resync().await;
            }
        }
    }

    /// After lost notifications: re-read links, addresses and our routes.
    async fn resync(&mut self) {
        if let Ok(links) = iface::dump_links().await {
            for l in links {
                self.rib
                    .link_update(l.index, &l.name, l.admin_up && l.oper_up);
                self.links.insert(l.index, l);
            }
        }
        if let Ok(addrs) = iface::dump_addrs().await {
            let now: HashSet<(u32, IpNetwork)> = addrs.into_iter().collect();
            let known: Vec<(u32, IpNetwork)> = self
                .rib
                .interfaces()
                .iter()
                .flat_map(|(&i, s)| s.addrs.iter().map(move |a| (i, *a)))
                .collect();
            for (i, a) in &known {
                if !now.contains(&(*i, *a)) {
                    self.rib.addr_removed(*i, *a);
                }
            }
            for (i, a) in now {
                if !self.anycast_address(i, a) {
                    self.rib.addr_added(i, a);
                }
            }
        }
        if self.rib.kernel_nexthops_enabled() {
            // Objects first: the routes re-installed below may name them.
            match fib::dump_nexthops().await {
                Ok(found) => {
                    let present: HashSet<u32> = found.iter().map(|n| n.id).collect();
                    let n = self.rib.resync_kernel_nexthops(&present);
                    if n > 0 {
                        warn!(
                            objects = n,
                            "nexthop objects missing from the kernel re-created"
                        );
                    }
                    // A replace from outside whose notification was lost.
                    for d in &found {
                        if let Some(o) = self.rib.kernel_nexthop_changed(d) {
                            warn!(
                                id = o.id,
                                gateway = ?d.gateway,
                                ifindex = d.ifindex,
                                protocol = d.protocol,
                                "our nexthop object was changed from outside; writing ours back"
                            );
                        }
                    }
                }
                Err(e) => error!(error = %e, "cannot dump nexthop objects to resynchronise"),
            }
        }
        match fib::dump_routes().await {
            Ok(routes) => {
                let ours: HashSet<(u32, IpNetwork)> = routes
                    .iter()
                    .filter(|r| {
                        Source::from_kernel_protocol(r.protocol).is_some()
                            && r.priority == crate::rib::KERNEL_PRIORITY
                    })
                    .map(|r| (r.table, r.prefix))
                    .collect();
                let n = self.rib.reconcile(&ours);
                if n > 0 {
                    warn!(routes = n, "routes missing from the kernel re-installed");
                }
            }
            Err(e) => error!(error = %e, "cannot dump routes to resynchronise"),
        }
        match (
            vtep::discover::dump_fdb().await,
            vtep::discover::dump_neighbors().await,
        ) {
            (Ok(fdb), Ok(neighs)) => {
                self.vtep.links(&self.links, &mut vtep_nht(&mut self.rib));
                self.vtep.resync_local(&fdb, &neighs);
            }
            (Err(e), _) | (_, Err(e)) => {
                error!(error = %e, "cannot dump the FDB and neighbors to resynchronise")
            }
        }
    }

    fn notify_iface(&mut self, index: u32) {
        if self.iface_watchers.is_empty() {
            return;
        }
        if let Some(i) = self.interface(index) {
            self.iface_watchers.retain(|w| {
                w.try_send(Ok(pb::InterfaceEvent {
                    event: Some(pb::interface_event::Event::Update(i.clone())),
                }))
                .is_ok()
            });
        }
    }

    fn interface(&self, index: u32) -> Option<pb::Interface> {
        let l = self.links.get(&index)?;
        let addrs = self
            .rib
            .interfaces()
            .get(&index)
            .map(|s| s.addrs.clone())
            .unwrap_or_default();
        Some(pb::Interface {
            index,
            name: l.name.clone(),
            admin_up: l.admin_up,
            oper_up: l.oper_up,
            mtu: l.mtu,
            mac: l.mac.clone(),
            kind: l.kind.clone(),
            addresses: addrs
                .into_iter()
                .map(|a| pb::InterfaceAddress {
                    prefix: Some(proto::prefix_to_wire(a)),
                })
                .collect(),
            master: l.master,
        })
    }

    fn interfaces(&self) -> Vec<pb::Interface> {
        let mut v: Vec<pb::Interface> = self
            .links
            .keys()
            .filter_map(|&i| self.interface(i))
            .collect();
        v.sort_by_key(|i| i.index);
        v
    }

    async fn command(&mut self, c: RibCmd) {
        match c {
            RibCmd::Hello {
                source,
                instance,
                stale_time,
                reply,
            } => {
                let (id, stale) = self.rib.connect(source, &instance);
                if let Some(t) = stale_time {
                    self.client_stale.insert(id, t);
                }
                info!(%source, %instance, stale_routes = stale, "client connected");
                let _ = reply.send((id, stale));
            }
            RibCmd::Batch {
                client,
                seq,
                add,
                del,
                end_of_rib,
                mut rejected,
                reply,
            } => {
                let mut accepted = 0u32;
                for r in &add {
                    match self.rib.add(client, r) {
                        Ok(()) => accepted += 1,
                        Err(reason) => rejected.push(pb::RouteError {
                            key: Some(pb::RouteKey {
                                prefix: Some(proto::prefix_to_wire(r.prefix)),
                                table: r.table,
                            }),
                            reason,
                        }),
                    }
                }
                // Bulk withdrawals in descending order (KERNEL-NOTES.md).
                let mut del = del;
                if del.len() > 1 {
                    del.sort_by(|a, b| b.cmp(a));
                }
                for (table, prefix) in del {
                    self.rib.remove_route(client, table, prefix);
                    accepted += 1;
                }
                self.rib.settle();
                if end_of_rib {
                    self.rib.end_of_rib(client);
                }
                let _ = reply
                    .send(Ok(pb::PushReply {
                        seq,
                        accepted,
                        rejected,
                        stale_routes: 0,
                    }))
                    .await;
            }
            RibCmd::Disconnect { client } => {
                let t = self
                    .client_stale
                    .get(&client)
                    .copied()
                    .unwrap_or(Duration::from_secs(self.cfg.stale_time));
                if let Some(c) = self.rib.clients().get(client as usize) {
                    info!(source = %c.source, instance = %c.instance, stale_secs = t.as_secs(), "client disconnected; its routes are kept stale");
                }
                self.rib.disconnect(client, t, Instant::now());
            }
            RibCmd::Redistribute {
                sources,
                v6,
                tables,
                tx,
            } => {
                let tables = if tables.is_empty() {
                    vec![MAIN_TABLE]
                } else {
                    tables
                };
                let dump: Vec<pb::RedistRoute> = self
                    .rib
                    .selected_routes(&sources, &tables)
                    .into_iter()
                    .filter(|(_, p, _)| v6.is_none_or(|v6| v6 == p.is_ipv6()))
                    .map(|(t, p, r)| redist_route(t, p, &r, &self.anycast))
                    .collect();
                let n = dump.len();
                let mut chunks: Vec<Vec<pb::RedistRoute>> =
                    dump.chunks(DUMP_CHUNK).map(|c| c.to_vec()).collect();
                if chunks.is_empty() {
                    chunks.push(Vec::new());
                }
                let last = chunks.len() - 1;
                for (i, add) in chunks.into_iter().enumerate() {
                    let b = pb::RedistBatch {
                        add,
                        del: Vec::new(),
                        end_of_dump: i == last,
                    };
                    if tx.send(Ok(b)).await.is_err() {
                        return;
                    }
                }
                debug!(routes = n, "redistribution dump sent");
                self.redist.push(RedistSub {
                    sources,
                    v6,
                    tables,
                    tx,
                });
                self.rib.redist_wanted = true;
            }
            RibCmd::Nht {
                sub,
                table,
                register,
                unregister,
                tx,
            } => {
                let table = if table == 0 { MAIN_TABLE } else { table };
                let mut states = Vec::new();
                let entry = self.nht.entry(sub).or_insert_with(|| NhtSub {
                    tracked: HashSet::new(),
                    tx: tx.clone(),
                });
                let mut newly = Vec::new();
                for a in register {
                    if entry.tracked.insert((table, a)) {
                        newly.push(a);
                    }
                }
                let mut gone = Vec::new();
                for a in unregister {
                    if entry.tracked.remove(&(table, a)) {
                        gone.push(a);
                    }
                }
                for a in newly {
                    if let Some(st) = self.rib.nht_register(table, a, true) {
                        states.push(nht_state(&self.rib, table, a, &st));
                    }
                }
                for a in gone {
                    self.rib.nht_register(table, a, false);
                }
                if !states.is_empty() {
                    let _ = tx.send(Ok(pb::NexthopUpdate { states })).await;
                }
            }
            RibCmd::NhtGone { sub } => {
                if let Some(s) = self.nht.remove(&sub) {
                    for (t, a) in s.tracked {
                        self.rib.nht_register(t, a, false);
                    }
                }
            }
            RibCmd::WatchInterfaces { tx } => {
                for i in self.interfaces() {
                    if tx
                        .send(Ok(pb::InterfaceEvent {
                            event: Some(pb::interface_event::Event::Update(i)),
                        }))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                let _ = tx
                    .send(Ok(pb::InterfaceEvent {
                        event: Some(pb::interface_event::Event::EndOfDump(true)),
                    }))
                    .await;
                self.iface_watchers.push(tx);
            }
            RibCmd::ListInterfaces { reply } => {
                let _ = reply.send(pb::InterfaceList {
                    interfaces: self.interfaces(),
                });
            }
            RibCmd::ShowRoutes { req, reply } => {
                let _ = reply.send(self.show_routes(&req));
            }
            RibCmd::ShowRules { reply } => {
                let rules = self
                    .rules
                    .iter()
                    .map(|(r, err)| pb::RuleEntry {
                        priority: r.priority,
                        family: if r.v6 {
                            pb::AddressFamily::Ipv6
                        } else {
                            pb::AddressFamily::Ipv4
                        } as i32,
                        from: r.from.map(proto::prefix_to_wire),
                        to: r.to.map(proto::prefix_to_wire),
                        iif: r.iif.clone().unwrap_or_default(),
                        oif: r.oif.clone().unwrap_or_default(),
                        fwmark: r.fwmark.unwrap_or(0),
                        fwmask: r.fwmask.unwrap_or(0),
                        table: r.table,
                        installed: err.is_none(),
                        error: err.clone().unwrap_or_default(),
                    })
                    .collect();
                let _ = reply.send(pb::ShowRulesReply { rules });
            }
            RibCmd::ShowNexthopGroups { reply } => {
                let nexthops = self
                    .rib
                    .kernel_nexthops()
                    .into_iter()
                    .map(|o| pb::KernelNexthopEntry {
                        id: o.id,
                        protocol: Source::from_kernel_protocol(o.protocol)
                            .map_or_else(|| o.protocol.to_string(), |s| s.name().to_string()),
                        group: o.group,
                        legs: o
                            .legs
                            .iter()
                            .map(|&(id, gateway, ifindex, weight)| pb::KernelNexthopLeg {
                                id,
                                gateway: gateway.to_string(),
                                ifindex,
                                interface: self.rib.ifname(ifindex).unwrap_or_default().to_string(),
                                weight: u32::from(weight),
                            })
                            .collect(),
                        ref_count: o.refs,
                        installed: o.in_kernel,
                    })
                    .collect();
                let _ = reply.send(pb::ShowNexthopGroupsReply {
                    enabled: self.rib.kernel_nexthops_enabled(),
                    nexthops,
                });
            }
            RibCmd::Status { reply } => {
                let st = self.rib.stats();
                let now = Instant::now();
                let clients = self
                    .rib
                    .clients()
                    .iter()
                    .filter(|c| c.connected || c.routes > 0)
                    .map(|c| pb::ClientInfo {
                        source: pb::RouteSource::from(c.source) as i32,
                        instance: c.instance.clone(),
                        connected: c.connected,
                        routes: c.routes,
                        stale_expires_in_secs: c
                            .stale_deadline
                            .map(|d| d.saturating_duration_since(now).as_secs())
                            .unwrap_or(0),
                    })
                    .collect();
                let _ = reply.send(pb::StatusReply {
                    version: env!("CARGO_PKG_VERSION").to_string(),
                    uptime_secs: self.started.elapsed().as_secs(),
                    rib_routes: self.rib.route_count() as u64,
                    fib_routes: st.fib_routes,
                    fib_errors: st.fib_errors,
                    fib_reinstalled: st.fib_reinstalled,
                    nexthops_repaired: st.nexthops_repaired,
                    clients,
                    ecmp_max: self.rib.config().ecmp_max as u32,
                });
            }
            RibCmd::Reload { reply } => {
                let r = self.reload().await;
                if let Some(reply) = reply {
                    let _ = reply.send(r);
                }
            }
            RibCmd::Config(req) => {
                if let Some((text, reply)) = self.running.serve(req) {
                    let r = match config::parse(&self.running.file_name(), &text) {
                        Ok(cfg) => {
                            let levels = (self.cfg.log_level.clone(), cfg.log_level.clone());
                            let changes = self.apply_config(cfg).await;
                            let levels = (levels.0.as_deref(), levels.1.as_deref());
                            self.running.applied(text, levels, changes)
                        }
                        Err(e) => refused(e),
                    };
                    let _ = reply.send(r);
                }
            }
            RibCmd::ShowServices { name, reply } => {
                let _ = reply.send(self.anycast.show(&name, Instant::now()));
            }
            RibCmd::EvpnHello {
                name,
                stale_time,
                reply,
            } => {
                let t = stale_time.unwrap_or(Duration::from_secs(self.cfg.stale_time));
                let (id, stale) = self.vtep.hello(&name, t, Instant::now());
                self.evpn_stale.insert(id, t);
                info!(client = %name, stale_entries = stale, "EVPN client connected");
                let _ = reply.send((id, stale));
            }
            RibCmd::EvpnBatch {
                client,
                seq,
                batch,
                rejected,
                reply,
            } => {
                let accepted = self.vtep.batch(client, batch, &mut vtep_nht(&mut self.rib));
                let _ = reply
                    .send(Ok(pb::EvpnPushReply {
                        seq,
                        accepted: accepted as u32,
                        rejected,
                        stale_entries: 0,
                    }))
                    .await;
            }
            RibCmd::EvpnDisconnect { client } => {
                let t = self
                    .evpn_stale
                    .get(&client)
                    .copied()
                    .unwrap_or(Duration::from_secs(self.cfg.stale_time));
                info!(client = %self.vtep.table.client_name(client), stale_secs = t.as_secs(), "EVPN client disconnected; its entries are kept stale");
                self.vtep.disconnect(client, t, Instant::now());
            }
            RibCmd::WatchEvpn { vnis, tx } => self.vtep.watch(vnis, tx).await,
            RibCmd::ShowEvpn { req, reply } => {
                let _ = reply.send(self.vtep.show(&req));
            }
            RibCmd::Drain { req, on, reply } => {
                let rib = &self.rib;
                let env = anycast_env!(rib);
                let r = self.anycast.drain(
                    &req.service,
                    on,
                    "operator",
                    &req.reason,
                    Instant::now(),
                    &env,
                );
                let r = r.map(|(actions, st)| {
                    self.apply_anycast(actions);
                    st
                });
                let _ = reply.send(r);
            }
            RibCmd::LbReport { req, reply } => {
                let rib = &self.rib;
                let env = anycast_env!(rib);
                let r = self
                    .anycast
                    .lb_report(&req, Instant::now(), &env)
                    .map(|(actions, st)| {
                        self.apply_anycast(actions);
                        st
                    });
                let _ = reply.send(r);
            }
            RibCmd::WatchServices { service, tx } => self.anycast.watch(service, tx),
            RibCmd::Shutdown { reply } => {
                let (actions, addrs) = self.anycast.shutdown();
                let withdrawn = actions.len();
                self.apply_anycast(actions);
                self.flush().await;
                let addrs = addrs
                    .into_iter()
                    .filter_map(|(i, p)| self.rib.ifindex(&i).map(|x| (x, p)))
                    .collect();
                let _ = reply.send((withdrawn, addrs));
            }
        }
    }

    async fn reload(&mut self) -> pb::ReloadReply {
        let Some(path) = self.cfg_path.clone() else {
            return pb::ReloadReply {
                ok: false,
                error: "zebrad was started without a config file".into(),
                changes: Vec::new(),
            };
        };
        let parsed = common::config::read(&path)
            .and_then(|text| config::parse(&path.display().to_string(), &text).map(|c| (c, text)));
        match parsed {
            Ok((cfg, text)) => {
                let levels = (self.cfg.log_level.clone(), cfg.log_level.clone());
                let changes = self.apply_config(cfg).await;
                let levels = (levels.0.as_deref(), levels.1.as_deref());
                let changes = self.running.applied(text, levels, changes).changes;
                info!(changes = changes.len(), "configuration reloaded");
                pb::ReloadReply {
                    ok: true,
                    error: String::new(),
                    changes,
                }
            }
            Err(e) => {
                error!(error = %e, "reload refused; the running configuration stays");
                pb::ReloadReply {
                    ok: false,
                    error: e.to_string(),
                    changes: Vec::new(),
                }
            }
        }
    }

    /// Applies `cfg` as a difference against the running one: unchanged
    /// static routes and rules are not touched. Returns what changed.
    async fn apply_config(&mut self, cfg: Config) -> Vec<String> {
        let mut changes = Vec::new();
        if cfg.nexthop_objects != self.cfg.nexthop_objects {
            warn!(
                nexthop_objects = cfg.nexthop_objects,
                "rib.nexthop_objects takes effect at the next start"
            );
            changes.push("rib.nexthop_objects changed: takes effect at the next start".into());
        }
        self.rib.set_config(rib_config(&cfg));
        let old: Vec<RouteIn> = self.cfg.statics.clone();
        for r in &old {
            if !cfg
                .statics
                .iter()
                .any(|n| n.prefix == r.prefix && n.table == r.table)
            {
                self.rib.remove_route(self.static_client, r.table, r.prefix);
                changes.push(format!("static {} table {} removed", r.prefix, r.table));
            }
        }
        let was_pending = std::mem::take(&mut self.pending_statics);
        for r in &cfg.statics {
            if old.contains(r) && !was_pending.contains(r) {
                continue;
            }
            match self.rib.add(self.static_client, r) {
                Ok(()) => changes.push(format!("static {} table {} set", r.prefix, r.table)),
                Err(e) => {
                    warn!(prefix = %r.prefix, table = r.table, reason = %e, "static route waits");
                    self.pending_statics.push(r.clone());
                }
            }
        }
        self.rib.settle();
        changes.extend(self.apply_rules(&cfg.rules).await);
        self.anycast
            .set_maintenance_file(cfg.maintenance_file.clone());
        let (actions, svc_changes) = self.anycast.apply(&cfg.services, Instant::now());
        self.apply_anycast(actions);
        self.hide_anycast_addresses();
        changes.extend(svc_changes);
        self.cfg = cfg;
        changes
    }

    fn retry_pending_statics(&mut self) {
        if self.pending_statics.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending_statics);
        for r in pending {
            match self.rib.add(self.static_client, &r) {
                Ok(()) => info!(prefix = %r.prefix, "static route's interface appeared"),
                Err(_) => self.pending_statics.push(r),
            }
        }
        self.rib.settle();
    }

    /// Makes the kernel's rules of our protocol exactly `want`.
    async fn apply_rules(&mut self, want: &[Rule]) -> Vec<String> {
        let mut changes = Vec::new();
        let proto = rule_protocol();
        let have = match fib::dump_rules(proto).await {
            Ok(h) => h,
            Err(e) => {
                error!(error = %e, "cannot read the kernel's rules");
                Vec::new()
            }
        };
        for r in &have {
            if !want.contains(r) {
                match fib::del_rule(r, proto).await {
                    Ok(()) => changes.push(format!("rule {} removed", r.priority)),
                    Err(e) => warn!(priority = r.priority, error = %e, "cannot remove rule"),
                }
            }
        }
        let mut state = Vec::new();
        for r in want {
            let err = if have.contains(r) {
                None
            } else {
                match fib::add_rule(r, proto).await {
                    Ok(()) => {
                        changes.push(format!("rule {} → table {} installed", r.priority, r.table));
                        None
                    }
                    Err(e) => {
                        warn!(priority = r.priority, error = %e, "cannot install rule");
                        Some(e.to_string())
                    }
                }
            };
            state.push((r.clone(), err));
        }
        self.rules = state;
        changes
    }

    fn show_routes(&self, req: &pb::ShowRoutesRequest) -> Result<pb::ShowRoutesReply, Status> {
        let v6 = match pb::AddressFamily::try_from(req.family) {
            Ok(pb::AddressFamily::Ipv4) => Some(false),
            Ok(pb::AddressFamily::Ipv6) => Some(true),
            _ => None,
        };
        let filter = match &req.prefix {
            Some(p) if !p.addr.is_empty() => {
                let net = if req.longest {
                    proto::ifaddr_from_wire(p)
                } else {
                    proto::prefix_from_wire(p)
                }
                .map_err(|e| Status::invalid_argument(e.to_string()))?;
                Some((net, req.longest))
            }
            _ => None,
        };
        let tables = if req.all_tables {
            self.rib.tables()
        } else {
            vec![if req.table == 0 {
                MAIN_TABLE
            } else {
                req.table
            }]
        };
        let mut routes = Vec::new();
        for t in tables {
            for v in self.rib.show(t, v6, filter) {
                routes.push(self.rib_entry(&v));
            }
        }
        Ok(pb::ShowRoutesReply { routes })
    }

    fn rib_entry(&self, v: &RouteView) -> pb::RibEntry {
        let name = |i: u32| self.rib.ifname(i).unwrap_or("").to_string();
        let nexthops = v
            .nexthops
            .iter()
            .enumerate()
            .map(|(i, nh)| {
                let st = v.status.get(i);
                let leg = st.and_then(|s| s.legs.first());
                let recursive = st.is_some_and(|s| s.recursive);
                pb::RibNexthop {
                    gateway: nh.gateway.map(proto::addr_to_bytes).unwrap_or_default(),
                    ifname: if nh.ifindex != 0 {
                        name(nh.ifindex)
                    } else {
                        leg.map(|l| name(l.ifindex)).unwrap_or_default()
                    },
                    weight: nh.weight as u32,
                    active: st.is_some_and(|s| s.active),
                    recursive,
                    resolved_gateway: if recursive {
                        leg.and_then(|l| l.gateway)
                            .map(proto::addr_to_bytes)
                            .unwrap_or_default()
                    } else {
                        Vec::new()
                    },
                    resolved_ifname: leg.map(|l| name(l.ifindex)).unwrap_or_default(),
                    resolved: if recursive {
                        st.map(|s| {
                            s.legs
                                .iter()
                                .map(|l| pb::Nexthop {
                                    gateway: l
                                        .gateway
                                        .map(proto::addr_to_bytes)
                                        .unwrap_or_default(),
                                    ifname: name(l.ifindex),
                                    weight: l.weight as u32,
                                })
                                .collect()
                        })
                        .unwrap_or_default()
                    } else {
                        Vec::new()
                    },
                }
            })
            .collect();
        pb::RibEntry {
            source: pb::RouteSource::from(v.source) as i32,
            instance: v.instance.clone(),
            prefix: Some(proto::prefix_to_wire(v.prefix)),
            table: v.table,
            distance: v.distance as u32,
            metric: v.metric,
            tag: v.tag,
            kind: kind_to_wire(v.kind) as i32,
            nexthops,
            selected: v.selected,
            installed: v.installed,
            stale: v.stale,
            age_secs: v.age.as_secs(),
            fib_error: if v.fib_err != 0 {
                std::io::Error::from_raw_os_error(v.fib_err as i32).to_string()
            } else {
                String::new()
            },
        }
    }
}

fn rib_config(cfg: &Config) -> RibConfig {
    RibConfig {
        ecmp_max: cfg.ecmp_max,
        resolve_via_default: cfg.resolve_via_default,
        max_routes_per_client: cfg.max_routes_per_client,
    }
}

pub fn kind_to_wire(k: crate::rib::RouteKind) -> pb::RouteKind {
    use crate::rib::RouteKind as K;
    match k {
        K::Unicast => pb::RouteKind::Unicast,
        K::Blackhole => pb::RouteKind::Blackhole,
        K::Unreachable => pb::RouteKind::Unreachable,
        K::Prohibit => pb::RouteKind::Prohibit,
    }
}

fn redist_route(
    table: u32,
    prefix: IpNetwork,
    r: &crate::rib::SelectedRoute,
    anycast: &anycast::Manager,
) -> pb::RedistRoute {
    pb::RedistRoute {
        attributes: (r.source == Source::Anycast && table == MAIN_TABLE)
            .then(|| anycast.attributes(prefix))
            .flatten(),
        source: pb::RouteSource::from(r.source) as i32,
        instance: r.instance.clone(),
        route: Some(pb::Route {
            prefix: Some(proto::prefix_to_wire(prefix)),
            nexthops: r
                .nexthops
                .iter()
                .map(|n| pb::Nexthop {
                    gateway: n.gateway.map(proto::addr_to_bytes).unwrap_or_default(),
                    ifname: String::new(),
                    weight: n.weight as u32,
                })
                .collect(),
            distance: r.distance as u32,
            metric: r.metric,
            table,
            tag: r.tag,
            kind: kind_to_wire(r.kind) as i32,
        }),
    }
}

fn nht_state(rib: &Rib, table: u32, addr: IpAddr, st: &NhtState) -> pb::NexthopState {
    pb::NexthopState {
        address: proto::addr_to_bytes(addr),
        resolved: st.resolved,
        via_prefix: st.via.map(proto::prefix_to_wire),
        via_source: st
            .via_source
            .map(|s| pb::RouteSource::from(s) as i32)
            .unwrap_or(0),
        metric: st.metric,
        nexthops: st
            .legs
            .iter()
            .map(|l| pb::Nexthop {
                gateway: l.gateway.map(proto::addr_to_bytes).unwrap_or_default(),
                ifname: rib.ifname(l.ifindex).unwrap_or("").to_string(),
                weight: l.weight as u32,
            })
            .collect(),
        table,
    }
}

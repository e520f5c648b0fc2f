//! The async shell around the pure [`Instance`]: one loop that owns it and
//! feeds it packets from the interface sockets, interface and
//! redistribution events from zebrad, management queries and timer
//! expiries, then performs the actions it returns (send, open and close
//! sockets, join AllDRouters, push route batches to zebrad).
//!
//! Packets are decoded and authenticated here (per-interface settings, the
//! MD5 sequence number kept non-decreasing as FRR does: the larger of the
//! clock's seconds and last plus one); a packet that fails is counted under
//! its reason and logged at debug level. Nothing here makes a protocol
//! decision.

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ipnetwork::Ipv4Network;
use proto::transport::Address;
use proto::Source;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use common::running::{refused, RunningConfig};

use crate::api::{self, ApiRequest};
use crate::config::Config;
use crate::instance::{Action, ExternalRoute, Instance, Millis};
use crate::net::{Datagram, OspfSocket};
use crate::packet::Packet;
use crate::reconfig::Link;
use crate::zebra::{self, Batch, ZebraEvent};

/// Queue depth between the tasks and the loop.
const QUEUE: usize = 1024;

struct IfSocket {
    sock: OspfSocket,
    reader: JoinHandle<()>,
    crypto_seq: u32,
}

/// The daemon's loop state.
pub struct Daemon {
    cfg: Config,
    inst: Instance,
    start: Instant,
    sockets: HashMap<u32, IfSocket>,
    push_tx: mpsc::Sender<Batch>,
    pkt_tx: mpsc::Sender<(u32, Datagram)>,
    /// Redistributed prefixes and the sources that have them.
    /// Redistributed prefixes: each source that has it, with the route's
    /// own metric when it carries one (an anycast service's).
    redist: BTreeMap<Ipv4Network, BTreeMap<Source, Option<u32>>>,
    /// The running configuration's text (vtysh's configure mode).
    running: RunningConfig,
    /// zebrad's view of every interface by name, OSPF's or not, so one
    /// added to OSPF by a reload comes up at once.
    links: BTreeMap<String, Link>,
    /// zebrad has our routes but not yet the End-of-RIB that makes it drop
    /// the stale ones of our previous life: sent once converged (see
    /// [`Instance::converged`]), or after [`EOR_DEFER_MAX`].
    eor_pending: bool,
    /// Converged once: later reconnections to zebrad end with End-of-RIB
    /// at once.
    converged: bool,
}

/// The longest a (re)started ospfd keeps zebrad's stale OSPF routes
/// waiting for its End-of-RIB.
const EOR_DEFER_MAX: Millis = 60_000;

impl Daemon {
    fn now(&self) -> Millis {
        self.start.elapsed().as_millis() as u64
    }

    /// Runs until SIGTERM or Ctrl-C.
    pub async fn run(
        cfg: Config,
        running: RunningConfig,
        zebrad: Address,
        mut api_rx: mpsc::Receiver<ApiRequest>,
    ) -> Result<(), String> {
        let start = Instant::now();
        let inst = Instance::new(cfg.instance(), 0);
        let (ev_tx, mut ev_rx) = mpsc::channel::<ZebraEvent>(QUEUE);
        let (push_tx, push_rx) = mpsc::channel::<Batch>(QUEUE);
        let (pkt_tx, mut pkt_rx) = mpsc::channel::<(u32, Datagram)>(QUEUE);
        let sources: Vec<Source> = cfg.redistribute.iter().map(|r| r.source).collect();
        let zebra_task = tokio::spawn(zebra::run(zebrad, sources, ev_tx, push_rx));
        let mut d = Daemon {
            cfg,
            inst,
            start,
            sockets: HashMap::new(),
            push_tx,
            pkt_tx,
            redist: BTreeMap::new(),
            running,
            links: BTreeMap::new(),
            eor_pending: false,
            converged: false,
        };
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| e.to_string())?;
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .map_err(|e| e.to_string())?;
        loop {
            let deadline = start + Duration::from_millis(d.inst.next_deadline());
            tokio::select! {
                _ = tokio::time::sleep_until(deadline.into()) => {}
                ev = ev_rx.recv() => match ev {
                    Some(ev) => d.zebra_event(ev),
                    None => return Err("zebrad task ended".into()),
                },
                p = pkt_rx.recv() => {
                    if let Some((ifindex, dgram)) = p {
                        d.packet(ifindex, dgram);
                    }
                }
                r = api_rx.recv() => {
                    if let Some(r) = r {
                        d.api(r);
                    }
                }
                _ = hup.recv() => d.reload(),
                _ = term.recv() => { info!("SIGTERM: stopping"); break; }
                _ = tokio::signal::ctrl_c() => { info!("interrupted: stopping"); break; }
            }
            let now = d.now();
            d.inst.poll(now);
            d.perform();
            d.check_converged(now);
        }
        zebra_task.abort();
        for (_, s) in d.sockets.drain() {
            s.reader.abort();
        }
        Ok(())
    }

    /// After a start: End-of-RIB to zebrad once the instance has converged
    /// (or waited long enough), so only routes not learned again leave the
    /// kernel.
    fn check_converged(&mut self, now: Millis) {
        if self.converged && !self.eor_pending {
            return;
        }
        let waited = now.saturating_sub(self.inst.started_at) >= EOR_DEFER_MAX;
        if !(self.inst.converged(now) || waited) {
            return;
        }
        if !self.converged {
            info!(
                after_ms = now,
                "converged: zebrad may drop our routes of a previous life"
            );
        }
        self.converged = true;
        if std::mem::take(&mut self.eor_pending) {
            self.push(Batch {
                add: Vec::new(),
                del: Vec::new(),
                end_of_rib: true,
            });
        }
    }

    fn zebra_event(&mut self, ev: ZebraEvent) {
        let now = self.now();
        match ev {
            ZebraEvent::Connected => {
                let add = self.inst.all_routes();
                info!(
                    routes = add.len(),
                    "zebrad session up: resending every route"
                );
                self.push(Batch {
                    add,
                    del: Vec::new(),
                    end_of_rib: self.converged,
                });
                self.eor_pending = !self.converged;
                self.check_converged(now);
            }
            ZebraEvent::Disconnected => {}
            ZebraEvent::Interface {
                ifindex,
                name,
                up,
                mtu,
                loopback,
                addr,
            } => {
                self.inst
                    .interface_update(&name, ifindex, up, mtu, addr, loopback, now);
                self.links.retain(|n, l| l.ifindex != ifindex || *n == name);
                self.links.insert(
                    name,
                    Link {
                        ifindex,
                        up,
                        mtu,
                        addr,
                        loopback,
                    },
                );
            }
            ZebraEvent::InterfaceRemoved(ifindex) => {
                self.links.retain(|_, l| l.ifindex != ifindex);
                self.inst.interface_removed(ifindex, now);
            }
            ZebraEvent::Redist(changes) => {
                let mut out = Vec::new();
                for (src, prefix, present, own) in changes {
                    if prefix.prefix() == 0 {
                        // A default route is originated on purpose, not by
                        // redistribution (as FRR's default-information).
                        continue;
                    }
                    let set = self.redist.entry(prefix).or_default();
                    if present {
                        set.insert(src, own);
                    } else {
                        set.remove(&src);
                    }
                    let route = self
                        .cfg
                        .redistribute
                        .iter()
                        .find_map(|r| set.get(&r.source).map(|own| (r, own)))
                        .map(|(r, own)| ExternalRoute {
                            metric: own.unwrap_or(r.metric),
                            metric_type: r.metric_type,
                        });
                    if set.is_empty() {
                        self.redist.remove(&prefix);
                    }
                    out.push((prefix, route));
                }
                self.inst.redistribute(out, now);
            }
        }
    }

    fn packet(&mut self, ifindex: u32, d: Datagram) {
        let now = self.now();
        let Some(name) = self.inst.iface_name(ifindex).map(str::to_string) else {
            return;
        };
        let auth = self.cfg.auth_of(&name);
        match Packet::decode(&d.payload, &auth) {
            Ok((p, info)) => self.inst.receive(ifindex, d.src, d.dst, p, info, now),
            Err(e) => {
                debug!(interface = %name, src = %d.src, error = %e, "packet dropped");
                self.inst.count_drop(e.counter_name());
            }
        }
    }

    fn api(&mut self, r: ApiRequest) {
        let now = self.now();
        let inst = &self.inst;
        match r {
            ApiRequest::Summary(tx) => {
                let _ = tx.send(api::summary_reply(inst, self.cfg.reference_bandwidth, now));
            }
            ApiRequest::Interfaces(name, tx) => {
                let cfg = &self.cfg;
                let _ = tx.send(api::interfaces_reply(
                    inst,
                    name.as_deref(),
                    |n| cfg.auth_of(n),
                    now,
                ));
            }
            ApiRequest::Neighbors(tx) => {
                let _ = tx.send(api::neighbors_reply(inst, now));
            }
            ApiRequest::Database(req, tx) => {
                let _ = tx.send(api::database_reply(inst, &req, now));
            }
            ApiRequest::Routes(tx) => {
                let _ = tx.send(api::routes_reply(inst));
            }
            ApiRequest::Config(req) => {
                if let Some((text, reply)) = self.running.serve(req) {
                    let r = match crate::config::parse(&self.running.file_name(), &text) {
                        Ok(new) => match self.apply(new) {
                            Ok((levels, changes)) => {
                                let levels = (levels.0.as_deref(), levels.1.as_deref());
                                self.running.applied(text, levels, changes)
                            }
                            Err(e) => refused(e),
                        },
                        Err(e) => refused(e),
                    };
                    let _ = reply.send(r);
                }
            }
        }
    }

    /// SIGHUP: the config file applied by difference, as configure mode's
    /// ApplyConfig (see [`Daemon::apply`]); a file that does not load, or
    /// that changes what takes a restart, changes nothing.
    fn reload(&mut self) {
        let Some(path) = self.running.path.clone() else {
            warn!("reload: started without a config file");
            return;
        };
        let parsed = common::config::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|text| {
                crate::config::parse(&path.display().to_string(), &text)
                    .map(|c| (c, text))
                    .map_err(|e| e.to_string())
            });
        match parsed.and_then(|(new, text)| self.apply(new).map(|r| (r, text))) {
            Ok(((levels, changes), text)) => {
                info!(changes = changes.len(), "reload: configuration applied");
                let levels = (levels.0.as_deref(), levels.1.as_deref());
                self.running.applied(text, levels, changes);
            }
            Err(e) => warn!(error = %e, "reload refused; the running configuration stays"),
        }
    }

    /// Applies a new configuration by difference: areas and interfaces
    /// (added, removed, changed: see [`crate::reconfig`]), authentication
    /// (used from the next packet), the SPF throttle and the log level. The
    /// router ID, reference bandwidth, redistribution and the sockets take
    /// a restart: such a text is refused, naming what differs, and nothing
    /// changes. Returns the (old, new) log levels and what changed.
    #[allow(clippy::type_complexity)]
    fn apply(
        &mut self,
        new: Config,
    ) -> Result<((Option<String>, Option<String>), Vec<String>), String> {
        let old = &self.cfg;
        let fixed = [
            ("router_id", old.router_id != new.router_id),
            (
                "reference_bandwidth",
                old.reference_bandwidth != new.reference_bandwidth,
            ),
            ("redistribute", old.redistribute != new.redistribute),
            ("api", old.api != new.api || old.zebrad != new.zebrad),
        ];
        let differ: Vec<&str> = fixed.iter().filter(|(_, d)| *d).map(|(k, _)| *k).collect();
        if !differ.is_empty() {
            return Err(format!(
                "ospfd applies {} only at restart (edit, `write memory`, restart ospfd)",
                differ.join(", ")
            ));
        }
        let now = self.now();
        let mut changes = Vec::new();
        if new.areas != old.areas || new.interfaces != old.interfaces {
            changes = self
                .inst
                .reconfigure(&new.areas, &new.interfaces, &self.links, now);
            for c in &changes {
                info!(change = %c, "OSPF reconfigured");
            }
        }
        if new.auth != old.auth {
            changes.push("authentication changed".to_string());
        }
        if new.spf != old.spf {
            self.inst.set_spf_throttle(new.spf);
            changes.push("spf throttle set".to_string());
        }
        let levels = (old.log_level.clone(), new.log_level.clone());
        self.cfg = new;
        Ok((levels, changes))
    }

    fn push(&self, b: Batch) {
        if let Err(e) = self.push_tx.try_send(b) {
            // The zebrad task is behind or reconnecting; the resync after
            // reconnecting carries everything.
            warn!(error = %e, "route batch for zebrad dropped");
        }
    }

    /// Performs the instance's actions.
    fn perform(&mut self) {
        for a in self.inst.take_actions() {
            match a {
                Action::Send {
                    ifindex,
                    dst,
                    packet,
                } => self.send(ifindex, dst, &packet),
                Action::Open {
                    ifindex,
                    name,
                    addr,
                } => self.open(ifindex, &name, addr),
                Action::Close { ifindex } => {
                    if let Some(s) = self.sockets.remove(&ifindex) {
                        s.reader.abort();
                        info!(interface = %s.sock.ifname, "OSPF socket closed");
                    }
                }
                Action::JoinDRouters { ifindex, join } => {
                    if let Some(s) = self.sockets.get(&ifindex) {
                        if let Err(e) = s.sock.set_all_drouters(join) {
                            warn!(interface = %s.sock.ifname, error = %e, join, "AllDRouters membership");
                        }
                    }
                }
                Action::Routes { add, del } => {
                    debug!(add = add.len(), del = del.len(), "routes to zebrad");
                    self.push(Batch {
                        add,
                        del,
                        end_of_rib: false,
                    });
                }
            }
        }
    }

    fn open(&mut self, ifindex: u32, name: &str, addr: Ipv4Addr) {
        if let Some(old) = self.sockets.remove(&ifindex) {
            old.reader.abort();
        }
        let sock = match OspfSocket::open(name, ifindex, addr) {
            Ok(s) => s,
            Err(e) => {
                warn!(interface = %name, error = %e, "cannot open the OSPF socket");
                return;
            }
        };
        let reader_sock = sock.clone();
        let tx = self.pkt_tx.clone();
        let reader = tokio::spawn(async move {
            let mut buf = vec![0u8; 65536];
            loop {
                match reader_sock.recv(&mut buf).await {
                    Ok(Some(d)) => {
                        if tx.send((ifindex, d)).await.is_err() {
                            return;
                        }
                    }
                    Ok(None) => {}
                    Err(e) => {
                        warn!(interface = %reader_sock.ifname, error = %e, "receive failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
        info!(interface = %name, ifindex, %addr, "OSPF socket open");
        self.sockets.insert(
            ifindex,
            IfSocket {
                sock,
                reader,
                crypto_seq: 0,
            },
        );
    }

    fn send(&mut self, ifindex: u32, dst: Ipv4Addr, packet: &Packet) {
        let Some(name) = self.inst.iface_name(ifindex).map(str::to_string) else {
            return;
        };
        let auth = self.cfg.auth_of(&name);
        let Some(s) = self.sockets.get_mut(&ifindex) else {
            return;
        };
        let clock = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as u32)
            .unwrap_or(0);
        s.crypto_seq = clock.max(s.crypto_seq.wrapping_add(1));
        let bytes = packet.encode(&auth, s.crypto_seq);
        if let Err(e) = s.sock.send(dst, &bytes) {
            debug!(interface = %name, %dst, error = %e, "send failed");
        }
    }
}

/// The zebrad address from the config or the run directory.
pub fn zebrad_address(cfg: &Config, run_dir: &std::path::Path) -> Address {
    match &cfg.zebrad {
        Some(a) => Address::parse(a),
        None => Address::Unix(proto::transport::socket_path(run_dir, "zebrad")),
    }
}

/// The management socket path.
pub fn socket_path(cfg: &Config, run_dir: &std::path::Path) -> PathBuf {
    cfg.api
        .socket
        .clone()
        .unwrap_or_else(|| proto::transport::socket_path(run_dir, "ospfd"))
}

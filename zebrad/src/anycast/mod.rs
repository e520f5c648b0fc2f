//! Anycast services: health-checked service prefixes that enter the RIB as
//! routes of source `anycast` while healthy (bgpd and ospfd redistribute
//! them) and leave it when not.
//!
//! Owns: the services of the config, their health state machines
//! ([`fsm`]), the check tasks ([`check`]; one task per service, reporting
//! each round through a bounded channel), the service addresses on their
//! interface ([`addr`]), and the order of things: on the way up the
//! address goes on the interface first and the route enters the RIB once
//! the kernel confirmed it; on the way down the route leaves the RIB first
//! (the owner flushes the withdrawal to subscribers) and the address is
//! removed only after `remove_delay`, so in-flight connections finish.
//!
//! The [`Manager`] lives in the RIB task and never blocks it: netlink
//! address changes and checks run in their own tasks and report back as
//! [`Event`]s; route changes come back to the owner as [`RibAction`]s.
//!
//! Kernel: an anycast route is put in the RIB with the service's interface
//! as nexthop (or as a blackhole when the service has no interface), so the
//! FIB writer installs `PREFIX dev lo proto 199` in the main table. That
//! route changes no forwarding (the address on the interface makes the
//! local table answer first) but shows in `ip route` which service prefixes
//! this host advertises. The connected route the kernel would report for a
//! service's own address is not entered in the RIB (the owner filters it,
//! see [`Manager::owns_address`]): it would win over the anycast route
//! (distance 0) and hide it from redistribution.
//!
//! Never: talks to routing protocols (they see only RIB routes), edits
//! addresses it does not own (only the prefixes of configured services,
//! only on the configured interface), or reads the clock inside the state
//! machine.

pub mod addr;
pub mod check;
pub mod fsm;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipnetwork::IpNetwork;
use proto::zebra as pb;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::rib::{NexthopIn, RouteIn, RouteKind, MAIN_TABLE};
use check::Outcome;
use fsm::{DampingParams, Fsm, Health, Thresholds};

/// Depth of the channel from check and address tasks to the RIB task.
pub const EVENT_QUEUE: usize = 256;

/// How several checks combine into one result per round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    /// Every check must pass.
    All,
    /// One passing check is enough.
    Any,
}

/// What happens to the prefixes while a service is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownAction {
    /// Leave the RIB (the default).
    Withdraw,
    /// Stay in the RIB with `depref_metric` as the route's metric.
    Depref,
}

/// One probe of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub kind: CheckKind,
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckKind {
    /// A TCP connection to `target` is accepted.
    Tcp { target: SocketAddr },
    /// `GET path` on `target` answers `status` (and contains `body`).
    Http {
        target: SocketAddr,
        host: String,
        path: String,
        status: u16,
        body: Option<String>,
    },
    /// `GET path` over TLS on `target` answers `status` (and contains
    /// `body`); the certificate is verified for `host` (see
    /// [`check::TlsClient`]).
    Https {
        target: SocketAddr,
        host: String,
        path: String,
        status: u16,
        body: Option<String>,
        tls: check::TlsClient,
    },
    /// An ICMP (or ICMPv6) echo request to `target` is answered.
    Icmp { target: std::net::IpAddr },
    /// A query for `name`/`qtype` to `server` over UDP answers `rcode`.
    Dns {
        server: SocketAddr,
        name: String,
        qtype: u16,
        rcode: u8,
    },
    /// `sh -c command` exits with status 0.
    Command { command: String },
}

impl CheckKind {
    /// (kind, target) for operators.
    pub fn describe(&self) -> (&'static str, String) {
        match self {
            CheckKind::Tcp { target } => ("tcp", target.to_string()),
            CheckKind::Http {
                target, host, path, ..
            } => ("http", format!("{target} {host}{path}")),
            CheckKind::Https {
                target, host, path, ..
            } => ("https", format!("{target} {host}{path}")),
            CheckKind::Icmp { target } => ("icmp", target.to_string()),
            CheckKind::Dns {
                server,
                name,
                qtype,
                ..
            } => ("dns", format!("{server} {name} type {qtype}")),
            CheckKind::Command { command } => ("command", command.clone()),
        }
    }
}

/// A service as configured (validated by `config`).
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub name: String,
    pub prefixes: Vec<IpNetwork>,
    /// Where the addresses go (e.g. "lo"); None: the operator manages them.
    pub interface: Option<String>,
    pub checks: Vec<Check>,
    pub combine: Combine,
    pub interval: Duration,
    /// The interval while a change is pending.
    pub fast_interval: Duration,
    pub rise: u32,
    pub fall: u32,
    pub down_action: DownAction,
    pub depref_metric: u32,
    /// How long after the withdrawal the addresses leave the interface.
    pub remove_delay: Duration,
    pub damping: Option<DampingParams>,
}

impl Service {
    /// Defaults for everything but name, prefixes and checks.
    pub fn new(name: &str, prefixes: Vec<IpNetwork>, checks: Vec<Check>) -> Service {
        Service {
            name: name.to_string(),
            prefixes,
            interface: None,
            checks,
            combine: Combine::All,
            interval: Duration::from_secs(2),
            fast_interval: Duration::from_secs(1),
            rise: 2,
            fall: 2,
            down_action: DownAction::Withdraw,
            depref_metric: 1000,
            remove_delay: Duration::from_secs(2),
            damping: None,
        }
    }

    /// The RIB route of `prefix` with `metric`.
    pub fn route(&self, prefix: IpNetwork, metric: u32) -> RouteIn {
        let (kind, nexthops) = match &self.interface {
            Some(i) => (
                RouteKind::Unicast,
                vec![NexthopIn {
                    gateway: None,
                    ifname: Some(i.clone()),
                    weight: 1,
                }],
            ),
            None => (RouteKind::Blackhole, Vec::new()),
        };
        RouteIn {
            prefix,
            table: MAIN_TABLE,
            distance: None,
            metric,
            tag: 0,
            kind,
            nexthops,
        }
    }
}

/// What check and address tasks report to the RIB task.
#[derive(Debug)]
pub enum Event {
    /// One round of a service's checks, in configured order.
    Round { id: u64, results: Vec<Outcome> },
    /// The addresses are on the interface (or could not be added).
    AddrAdded { id: u64, result: Result<(), String> },
    /// The addresses are off the interface (or could not be removed).
    AddrRemoved { id: u64, result: Result<(), String> },
}

/// A change the owner applies to the RIB as the anycast client.
#[derive(Debug, Clone, PartialEq)]
pub enum RibAction {
    Add(RouteIn),
    Del(IpNetwork),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AddrState {
    Absent,
    Adding,
    Present,
    Removing,
}

#[derive(Debug, Clone, Default)]
struct CheckState {
    last: Option<(Outcome, Instant)>,
    passes: u64,
    failures: u64,
}

struct Svc {
    id: u64,
    cfg: Arc<Service>,
    fsm: Fsm,
    checks: Vec<CheckState>,
    interval: watch::Sender<Duration>,
    checker: JoinHandle<()>,
    addr: AddrState,
    /// The metric the prefixes are in the RIB with, if they are.
    advertised: Option<u32>,
    removal: Option<JoinHandle<()>>,
    remove_queued: bool,
    suppressed: bool,
}

impl Svc {
    fn needs_addr(&self) -> bool {
        self.cfg.interface.is_some()
    }
}

/// The services, owned by the RIB task.
pub struct Manager {
    svcs: Vec<Svc>,
    /// Services gone by a reload, whose addresses still have to go.
    retiring: Vec<Arc<Service>>,
    tx: mpsc::Sender<Event>,
    next_id: u64,
}

impl Manager {
    /// A manager reporting on `tx`; no services yet.
    pub fn new(tx: mpsc::Sender<Event>) -> Manager {
        Manager {
            svcs: Vec::new(),
            retiring: Vec::new(),
            tx,
            next_id: 1,
        }
    }

    /// Whether `addr` on interface `ifname` is a service's address (its
    /// connected route must not enter the RIB).
    pub fn owns_address(&self, ifname: &str, addr: IpNetwork) -> bool {
        let p = proto::canonical(addr);
        self.svcs
            .iter()
            .any(|s| s.cfg.interface.as_deref() == Some(ifname) && s.cfg.prefixes.contains(&p))
    }

    /// Every (interface, prefix) the services own.
    pub fn owned_addresses(&self) -> Vec<(String, IpNetwork)> {
        self.svcs
            .iter()
            .filter_map(|s| s.cfg.interface.clone().map(|i| (i, s)))
            .flat_map(|(i, s)| s.cfg.prefixes.iter().map(move |p| (i.clone(), *p)))
            .collect()
    }

    /// Applies the configured services: unchanged ones keep running, the
    /// others are withdrawn and (re)started. Returns RIB changes and a
    /// description of what changed.
    pub fn apply(&mut self, services: &[Service], now: Instant) -> (Vec<RibAction>, Vec<String>) {
        let mut actions = Vec::new();
        let mut changes = Vec::new();
        let mut keep = Vec::new();
        for s in std::mem::take(&mut self.svcs) {
            if services.iter().any(|n| *n == *s.cfg) {
                keep.push(s);
                continue;
            }
            info!(service = %s.cfg.name, "service removed or changed; withdrawing");
            changes.push(format!("service {} stopped", s.cfg.name));
            actions.extend(self.retire(s));
        }
        self.svcs = keep;
        for n in services {
            if self.svcs.iter().any(|s| *s.cfg == *n) {
                continue;
            }
            changes.push(format!("service {} started", n.name));
            self.start(Arc::new(n.clone()), now);
        }
        (actions, changes)
    }

    fn start(&mut self, cfg: Arc<Service>, now: Instant) {
        let id = self.next_id;
        self.next_id += 1;
        let (itx, irx) = watch::channel(cfg.fast_interval);
        let checker = tokio::spawn(checker(id, cfg.clone(), irx, self.tx.clone()));
        info!(service = %cfg.name, prefixes = ?cfg.prefixes, checks = cfg.checks.len(), "service started; down until {} checks pass", cfg.rise);
        self.svcs.push(Svc {
            id,
            fsm: Fsm::new(
                Thresholds {
                    rise: cfg.rise,
                    fall: cfg.fall,
                },
                cfg.damping,
                now,
            ),
            checks: vec![CheckState::default(); cfg.checks.len()],
            interval: itx,
            checker,
            addr: AddrState::Absent,
            advertised: None,
            removal: None,
            remove_queued: false,
            suppressed: false,
            cfg,
        });
    }

    fn retire(&mut self, s: Svc) -> Vec<RibAction> {
        s.checker.abort();
        if let Some(r) = &s.removal {
            r.abort();
        }
        let mut actions = Vec::new();
        if s.advertised.is_some() {
            actions.extend(s.cfg.prefixes.iter().map(|p| RibAction::Del(*p)));
        }
        if s.needs_addr() && s.addr != AddrState::Absent {
            self.retiring.push(s.cfg.clone());
        }
        actions
    }

    /// Handles a report; returns the RIB changes that follow.
    pub fn event(
        &mut self,
        ev: Event,
        now: Instant,
        ifindex: &dyn Fn(&str) -> Option<u32>,
    ) -> Vec<RibAction> {
        match ev {
            Event::Round { id, results } => {
                let Some(i) = self.find(id) else {
                    return Vec::new();
                };
                self.round(i, results, now);
                self.reconcile(i, now, ifindex)
            }
            Event::AddrAdded { id, result } => {
                let Some(i) = self.find(id) else {
                    return Vec::new();
                };
                let s = &mut self.svcs[i];
                if s.addr != AddrState::Adding {
                    return Vec::new();
                }
                match result {
                    Ok(()) => {
                        info!(service = %s.cfg.name, interface = s.cfg.interface.as_deref().unwrap_or(""), "service addresses added");
                        s.addr = AddrState::Present;
                    }
                    Err(e) => {
                        warn!(service = %s.cfg.name, error = %e, "cannot add the service addresses; retrying after the next check");
                        s.addr = AddrState::Absent;
                    }
                }
                self.reconcile(i, now, ifindex)
            }
            Event::AddrRemoved { id, result } => {
                if let Some(i) = self.find(id) {
                    let s = &mut self.svcs[i];
                    if s.addr == AddrState::Removing {
                        s.addr = AddrState::Absent;
                        s.removal = None;
                        match result {
                            Ok(()) => info!(service = %s.cfg.name, "service addresses removed"),
                            Err(e) => {
                                warn!(service = %s.cfg.name, error = %e, "cannot remove the service addresses")
                            }
                        }
                    }
                }
                Vec::new()
            }
        }
    }

    fn find(&self, id: u64) -> Option<usize> {
        self.svcs.iter().position(|s| s.id == id)
    }

    fn round(&mut self, i: usize, results: Vec<Outcome>, now: Instant) {
        let s = &mut self.svcs[i];
        for (st, o) in s.checks.iter_mut().zip(&results) {
            if o.ok {
                st.passes += 1;
            } else {
                st.failures += 1;
            }
            st.last = Some((o.clone(), now));
        }
        let ok = match s.cfg.combine {
            Combine::All => results.iter().all(|o| o.ok),
            Combine::Any => results.iter().any(|o| o.ok),
        };
        let detail = results
            .iter()
            .zip(&s.cfg.checks)
            .find(|(o, _)| o.ok != ok || !ok)
            .or_else(|| results.iter().zip(&s.cfg.checks).next())
            .map(|(o, c)| {
                format!(
                    "{} {}: {}",
                    c.kind.describe().0,
                    c.kind.describe().1,
                    o.detail
                )
            })
            .unwrap_or_else(|| "no checks".into());
        if let Some(t) = s.fsm.step(ok, &detail, now) {
            info!(service = %s.cfg.name, from = t.from.name(), to = t.to.name(), reason = %t.reason, flaps = s.fsm.flaps(), "service state changed");
        }
        let iv = if s.fsm.pending() {
            s.cfg.fast_interval
        } else {
            s.cfg.interval
        };
        s.interval.send_if_modified(|v| {
            let changed = *v != iv;
            *v = iv;
            changed
        });
    }

    /// Brings addresses and RIB routes of service `i` in line with its
    /// health at `now`.
    fn reconcile(
        &mut self,
        i: usize,
        now: Instant,
        ifindex: &dyn Fn(&str) -> Option<u32>,
    ) -> Vec<RibAction> {
        let tx = self.tx.clone();
        let s = &mut self.svcs[i];
        let (healthy, supp_changed) = s.fsm.healthy(now);
        let suppressed = s.fsm.damping().is_some_and(|d| d.suppressed());
        if supp_changed || suppressed != s.suppressed {
            s.suppressed = suppressed;
            if suppressed {
                let hold = s
                    .fsm
                    .damping()
                    .and_then(|d| d.remaining(now))
                    .unwrap_or_default();
                warn!(service = %s.cfg.name, flaps = s.fsm.flaps(), hold_secs = hold.as_secs(), "service flaps: held down (damping)");
            } else {
                info!(service = %s.cfg.name, "damping penalty decayed: service no longer held down");
            }
        }
        let want = if healthy {
            Some(0)
        } else if s.cfg.down_action == DownAction::Depref && s.fsm.health() != Health::Init {
            Some(s.cfg.depref_metric)
        } else {
            None
        };
        let mut actions = Vec::new();
        match want {
            Some(metric) => {
                if s.needs_addr() && s.addr != AddrState::Present {
                    if s.addr != AddrState::Adding {
                        let iface = s.cfg.interface.clone().unwrap_or_default();
                        let Some(ix) = ifindex(&iface) else {
                            warn!(service = %s.cfg.name, interface = %iface, "service is healthy but its interface does not exist; not advertised");
                            return actions;
                        };
                        s.addr = AddrState::Adding;
                        s.remove_queued = false;
                        let removal = s.removal.take();
                        let (id, prefixes) = (s.id, s.cfg.prefixes.clone());
                        tokio::spawn(async move {
                            if let Some(r) = removal {
                                r.abort();
                                let _ = r.await;
                            }
                            let mut result = Ok(());
                            for p in prefixes {
                                if let Err(e) = addr::add(ix, p).await {
                                    result = Err(format!("{p}: {e}"));
                                    break;
                                }
                            }
                            let _ = tx.send(Event::AddrAdded { id, result }).await;
                        });
                    }
                    return actions;
                }
                if s.advertised != Some(metric) {
                    let reason = if metric == 0 {
                        "healthy".to_string()
                    } else if s.suppressed {
                        "held down by damping; down action depref".to_string()
                    } else {
                        format!("down ({}); down action depref", s.fsm.reason())
                    };
                    info!(service = %s.cfg.name, metric, %reason, "service prefixes advertised");
                    s.advertised = Some(metric);
                    actions.extend(
                        s.cfg
                            .prefixes
                            .iter()
                            .map(|p| RibAction::Add(s.cfg.route(*p, metric))),
                    );
                }
            }
            None => {
                if s.advertised.take().is_some() {
                    let reason = if s.suppressed && s.fsm.health() == Health::Up {
                        "held down by damping".to_string()
                    } else {
                        s.fsm.reason().to_string()
                    };
                    info!(service = %s.cfg.name, %reason, "service prefixes withdrawn");
                    actions.extend(s.cfg.prefixes.iter().map(|p| RibAction::Del(*p)));
                }
                if s.needs_addr() && s.addr == AddrState::Present {
                    s.remove_queued = true;
                }
            }
        }
        actions
    }

    /// Re-evaluates every service (damping decays with time). Call about
    /// once a second.
    pub fn tick(&mut self, now: Instant, ifindex: &dyn Fn(&str) -> Option<u32>) -> Vec<RibAction> {
        let mut actions = Vec::new();
        for i in 0..self.svcs.len() {
            if self.svcs[i].fsm.damping().is_some() {
                actions.extend(self.reconcile(i, now, ifindex));
            }
        }
        actions
    }

    /// Starts the delayed removal of addresses whose routes were withdrawn.
    /// The owner calls it after it flushed the withdrawals to subscribers,
    /// so an address never goes before its route.
    pub fn start_removals(&mut self, ifindex: &dyn Fn(&str) -> Option<u32>) {
        for cfg in std::mem::take(&mut self.retiring) {
            if let Some(ix) = cfg.interface.as_deref().and_then(ifindex) {
                let prefixes = cfg.prefixes.clone();
                let (name, delay) = (cfg.name.clone(), cfg.remove_delay);
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    for p in prefixes {
                        if let Err(e) = addr::del(ix, p).await {
                            warn!(service = %name, prefix = %p, error = %e, "cannot remove a retired service's address");
                        }
                    }
                    info!(service = %name, "retired service's addresses removed");
                });
            }
        }
        for s in &mut self.svcs {
            if !std::mem::take(&mut s.remove_queued) || s.addr != AddrState::Present {
                continue;
            }
            let Some(ix) = s.cfg.interface.as_deref().and_then(ifindex) else {
                s.addr = AddrState::Absent;
                continue;
            };
            s.addr = AddrState::Removing;
            let (id, prefixes, delay, tx) = (
                s.id,
                s.cfg.prefixes.clone(),
                s.cfg.remove_delay,
                self.tx.clone(),
            );
            info!(service = %s.cfg.name, delay_ms = delay.as_millis() as u64, "service addresses leave after the delay");
            s.removal = Some(tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let mut result = Ok(());
                for p in prefixes {
                    if let Err(e) = addr::del(ix, p).await {
                        result = Err(format!("{p}: {e}"));
                    }
                }
                let _ = tx.send(Event::AddrRemoved { id, result }).await;
            }));
        }
    }

    /// Stops every service for a clean exit: checks end, and every
    /// advertised prefix is withdrawn. Returns the withdrawals and the
    /// addresses to remove once they went out.
    pub fn shutdown(&mut self) -> (Vec<RibAction>, Vec<(String, IpNetwork)>) {
        let mut actions = Vec::new();
        let mut addrs = Vec::new();
        for s in std::mem::take(&mut self.svcs) {
            s.checker.abort();
            if let Some(r) = &s.removal {
                r.abort();
            }
            if s.advertised.is_some() {
                info!(service = %s.cfg.name, reason = "zebrad stops", "service prefixes withdrawn");
                actions.extend(s.cfg.prefixes.iter().map(|p| RibAction::Del(*p)));
            }
            if let (Some(i), true) = (&s.cfg.interface, s.addr != AddrState::Absent) {
                addrs.extend(s.cfg.prefixes.iter().map(|p| (i.clone(), *p)));
            }
        }
        for cfg in std::mem::take(&mut self.retiring) {
            if let Some(i) = &cfg.interface {
                addrs.extend(cfg.prefixes.iter().map(|p| (i.clone(), *p)));
            }
        }
        (actions, addrs)
    }

    /// The services' state for operators; `name` selects one (empty: all).
    pub fn show(&self, name: &str, now: Instant) -> pb::ShowServicesReply {
        let services = self
            .svcs
            .iter()
            .filter(|s| name.is_empty() || s.cfg.name == name)
            .map(|s| {
                let damping = s.fsm.damping();
                pb::ServiceStatus {
                    name: s.cfg.name.clone(),
                    state: s.fsm.state_name().to_string(),
                    since_secs: now.saturating_duration_since(s.fsm.since()).as_secs(),
                    reason: s.fsm.reason().to_string(),
                    prefixes: s
                        .cfg
                        .prefixes
                        .iter()
                        .map(|p| proto::prefix_to_wire(*p))
                        .collect(),
                    interface: s.cfg.interface.clone().unwrap_or_default(),
                    advertised: s.advertised.is_some(),
                    metric: s.advertised.unwrap_or(0),
                    depreferred: s.advertised.is_some_and(|m| m != 0),
                    address_present: s.addr == AddrState::Present,
                    combine: match s.cfg.combine {
                        Combine::All => "all",
                        Combine::Any => "any",
                    }
                    .to_string(),
                    streak: s.fsm.streak(),
                    rise: s.cfg.rise,
                    fall: s.cfg.fall,
                    flaps: s.fsm.flaps(),
                    penalty: damping.map(|d| d.penalty(now).round() as u32).unwrap_or(0),
                    suppressed: damping.is_some_and(|d| d.suppressed()),
                    hold_remaining_secs: damping
                        .and_then(|d| d.remaining(now))
                        .map(|d| d.as_secs())
                        .unwrap_or(0),
                    checks: s
                        .cfg
                        .checks
                        .iter()
                        .zip(&s.checks)
                        .map(|(c, st)| {
                            let (kind, target) = c.kind.describe();
                            let (ok, detail, latency_us, ago) = match &st.last {
                                Some((o, at)) => (
                                    o.ok,
                                    o.detail.clone(),
                                    o.latency.as_micros() as u64,
                                    now.saturating_duration_since(*at).as_millis() as u64,
                                ),
                                None => (false, "not run yet".to_string(), 0, 0),
                            };
                            pb::CheckStatus {
                                kind: kind.to_string(),
                                target,
                                passing: ok,
                                detail,
                                latency_us,
                                checked_ms_ago: ago,
                                passes: st.passes,
                                failures: st.failures,
                            }
                        })
                        .collect(),
                }
            })
            .collect();
        pb::ShowServicesReply { services }
    }
}

/// How long a clean stop waits, after withdrawing, for the protocol
/// daemons to send the withdrawals before the addresses go and zebrad exits.
pub const STOP_LINGER: Duration = Duration::from_secs(1);

/// A clean stop (SIGTERM): asks the RIB task to withdraw every anycast
/// prefix (flushed to the subscribers before it answers), waits
/// [`STOP_LINGER`] while the gRPC server still runs so bgpd/ospfd send the
/// withdrawals, then removes the service addresses. Bounded: about 3 s at
/// most. The caller keeps serving gRPC while this runs.
pub async fn stop(cmds: &mpsc::Sender<crate::daemon::RibCmd>) {
    const STEP: Duration = Duration::from_secs(1);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let asked = tokio::time::timeout(STEP, async {
        cmds.send(crate::daemon::RibCmd::Shutdown { reply: tx })
            .await
            .ok()?;
        rx.await.ok()
    })
    .await;
    let Ok(Some((withdrawn, addrs))) = asked else {
        warn!("the RIB task did not answer the stop; anycast prefixes may stay advertised");
        return;
    };
    if withdrawn > 0 {
        info!(
            prefixes = withdrawn,
            linger_ms = STOP_LINGER.as_millis() as u64,
            "anycast prefixes withdrawn; waiting for the protocols to send it"
        );
        tokio::time::sleep(STOP_LINGER).await;
    }
    for (ix, p) in addrs {
        match tokio::time::timeout(STEP, addr::del(ix, p)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => warn!(prefix = %p, error = %e, "cannot remove a service address"),
            Err(_) => warn!(prefix = %p, "removing a service address timed out"),
        }
    }
}

/// One service's check loop: every round runs all checks concurrently and
/// reports; rounds start `interval` apart (start to start), the interval
/// being what the RIB task last set (fast while a change is pending).
async fn checker(
    id: u64,
    cfg: Arc<Service>,
    mut interval: watch::Receiver<Duration>,
    tx: mpsc::Sender<Event>,
) {
    loop {
        let start = tokio::time::Instant::now();
        let results = futures::future::join_all(cfg.checks.iter().map(check::run)).await;
        if tx.send(Event::Round { id, results }).await.is_err() {
            return;
        }
        loop {
            let d = *interval.borrow_and_update();
            tokio::select! {
                _ = tokio::time::sleep_until(start + d) => break,
                r = interval.changed() => if r.is_err() { return },
            }
        }
    }
}

#[cfg(test)]
mod tests;

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
//! What is advertised, and with which attributes, is decided in
//! [`advert`] from the health (checks and load-balancer reports with a
//! TTL, combined), the drain (operator, gRPC or maintenance file:
//! GRACEFUL_SHUTDOWN first, then withdrawn) and, for last-site
//! protection, whether the RIB holds another site's route for the
//! prefixes. Every change of that effective state is logged with its
//! reason and streamed to `WatchServices` subscribers.
//!
//! Never: talks to routing protocols (they see only RIB routes), edits
//! addresses it does not own (only the prefixes of configured services,
//! only on the configured interface), or reads the clock inside the state
//! machine.

pub mod addr;
pub mod advert;
pub mod check;
pub mod fsm;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ipnetwork::IpNetwork;
use proto::zebra as pb;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::rib::{NexthopIn, RouteIn, RouteKind, MAIN_TABLE};
use advert::{Advert, Attrs, DrainPhase, State};
use check::Outcome;
use fsm::{DampingParams, Fsm, Health, Thresholds};

/// Probes kept per service for `show anycast service NAME`.
pub const HISTORY: usize = 32;
/// Depth of a `WatchServices` subscriber's queue; a subscriber further
/// behind is dropped.
pub const WATCH_QUEUE: usize = 256;

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

/// How a service uses load-balancer reports (`LoadBalancer.ReportHealth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LbUse {
    /// A report's time-to-live when the reporter gives none.
    pub ttl: Duration,
    /// The reports alone decide (the service has no checks); otherwise
    /// both the checks and the reports must say healthy.
    pub only: bool,
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
    /// The routes' metric while healthy (ospfd's external metric).
    pub metric: u32,
    /// BGP attributes while healthy.
    pub attrs: Attrs,
    /// BGP attributes while down and advertised depreferred (MED defaults
    /// to `depref_metric`).
    pub depref: Attrs,
    /// Last-site protection: down, but kept advertised depreferred while
    /// no other site's route for the prefixes is in the RIB.
    pub last_site: bool,
    /// How long a drain advertises GRACEFUL_SHUTDOWN before withdrawing.
    pub drain_time: Duration,
    /// Drained while this file exists (else the global one, if any).
    pub maintenance_file: Option<PathBuf>,
    pub lb: Option<LbUse>,
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
            interval: Duration::from_secs(1),
            fast_interval: Duration::from_secs(1),
            rise: 2,
            fall: 2,
            down_action: DownAction::Withdraw,
            depref_metric: 1000,
            remove_delay: Duration::from_secs(2),
            damping: None,
            metric: 0,
            attrs: Attrs::default(),
            depref: Attrs::default(),
            last_site: false,
            drain_time: Duration::from_secs(30),
            maintenance_file: None,
            lb: None,
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
    /// A deadline passed (drain time, load-balancer TTL): re-evaluate.
    Wake { id: u64 },
}

/// What the manager needs to know of the RIB task's world.
pub struct Env<'a> {
    /// The index of an interface by name.
    pub ifindex: &'a dyn Fn(&str) -> Option<u32>,
    /// Whether the RIB holds a route for the prefix learned from another
    /// site (bgp or ospf).
    pub elsewhere: &'a dyn Fn(IpNetwork) -> bool,
}

/// A change the owner applies to the RIB as the anycast client.
#[derive(Debug, Clone, PartialEq)]
pub enum RibAction {
    Add(RouteIn),
    Del(IpNetwork),
    /// Same route, other protocol attributes: redistribute it again.
    Refresh(IpNetwork),
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

/// One probe in the history.
#[derive(Debug, Clone)]
struct Record {
    check: usize,
    outcome: Outcome,
    at: Instant,
}

/// The last load-balancer report.
#[derive(Debug, Clone)]
struct LbReport {
    healthy: bool,
    expires: Instant,
    reporter: String,
    reason: String,
}

/// Why and since when a service is drained.
#[derive(Debug, Clone)]
struct Drain {
    since: Instant,
    /// operator | maintenance-file | load-balancer
    source: &'static str,
    reason: String,
}

struct Svc {
    id: u64,
    cfg: Arc<Service>,
    fsm: Fsm,
    checks: Vec<CheckState>,
    interval: watch::Sender<Duration>,
    checker: JoinHandle<()>,
    addr: AddrState,
    /// How the prefixes are in the RIB, if they are.
    advertised: Option<Advert>,
    removal: Option<JoinHandle<()>>,
    remove_queued: bool,
    suppressed: bool,
    state: State,
    state_since: Instant,
    cause: String,
    history: VecDeque<Record>,
    lb: Option<LbReport>,
    /// Drained by an operator (vtysh, gRPC).
    operator_drain: Option<Drain>,
    /// Drained by the maintenance file.
    file_drain: Option<Drain>,
}

impl Svc {
    fn needs_addr(&self) -> bool {
        self.cfg.interface.is_some()
    }

    /// The drain in force (the earliest one), if any.
    fn drain(&self) -> Option<&Drain> {
        match (&self.operator_drain, &self.file_drain) {
            (Some(a), Some(b)) => Some(if a.since <= b.since { a } else { b }),
            (a, b) => a.as_ref().or(b.as_ref()),
        }
    }

    fn drain_phase(&self, now: Instant) -> Option<DrainPhase> {
        self.drain().map(|d| {
            if now < d.since + self.cfg.drain_time {
                DrainPhase::GracefulShutdown
            } else {
                DrainPhase::Withdrawn
            }
        })
    }

    /// The load-balancer's word: Up, Down (unhealthy or expired) or Init
    /// (no report yet), with a reason when not Up.
    fn lb_health(&self, now: Instant) -> (Health, String) {
        match &self.lb {
            None => (Health::Init, "no load-balancer report yet".into()),
            Some(r) if now >= r.expires => (
                Health::Down,
                format!("load-balancer report from {} expired", r.reporter),
            ),
            Some(r) if r.healthy => (Health::Up, String::new()),
            Some(r) => (
                Health::Down,
                format!(
                    "load balancer {} reports unhealthy: {}",
                    r.reporter, r.reason
                ),
            ),
        }
    }

    /// Health from checks and load-balancer reports, with the reason.
    fn health(&self, now: Instant) -> (Health, String) {
        let checks = (self.fsm.health(), self.fsm.reason().to_string());
        let Some(lb) = self.cfg.lb else {
            return checks;
        };
        let rep = self.lb_health(now);
        if lb.only {
            return rep;
        }
        match (checks.0, rep.0) {
            (Health::Up, Health::Up) => checks,
            (Health::Down, _) => checks,
            (_, Health::Down) => rep,
            (Health::Init, _) => checks,
            (_, Health::Init) => rep,
        }
    }

    fn lb_state(&self, now: Instant) -> &'static str {
        match (&self.cfg.lb, &self.lb) {
            (None, _) => "",
            (Some(_), None) => "none yet",
            (Some(_), Some(r)) if now >= r.expires => "expired",
            (Some(_), Some(r)) if r.healthy => "healthy",
            _ => "unhealthy",
        }
    }
}

/// A `WatchServices` subscriber.
struct Watcher {
    service: String,
    tx: mpsc::Sender<Result<pb::ServiceEvent, tonic::Status>>,
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Sends `ev` to the watchers of its service; drops the slow and gone.
fn publish(watchers: &mut Vec<Watcher>, ev: &pb::ServiceEvent) {
    watchers.retain(|w| {
        if !w.service.is_empty() && w.service != ev.service {
            return !w.tx.is_closed();
        }
        match w.tx.try_send(Ok(ev.clone())) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                warn!("service watcher too slow; dropped (it must watch again)");
                false
            }
            Err(_) => false,
        }
    });
}

/// The services, owned by the RIB task.
pub struct Manager {
    svcs: Vec<Svc>,
    /// Services gone by a reload, whose addresses still have to go.
    retiring: Vec<Arc<Service>>,
    tx: mpsc::Sender<Event>,
    next_id: u64,
    /// The global maintenance file: every service is drained while it exists.
    maintenance_file: Option<PathBuf>,
    watchers: Vec<Watcher>,
}

impl Manager {
    /// A manager reporting on `tx`; no services yet.
    pub fn new(tx: mpsc::Sender<Event>) -> Manager {
        Manager {
            svcs: Vec::new(),
            retiring: Vec::new(),
            tx,
            next_id: 1,
            maintenance_file: None,
            watchers: Vec::new(),
        }
    }

    /// Sets the global maintenance file.
    pub fn set_maintenance_file(&mut self, path: Option<PathBuf>) {
        self.maintenance_file = path;
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
            state: State::Init,
            state_since: now,
            cause: "started".into(),
            history: VecDeque::with_capacity(HISTORY),
            lb: None,
            operator_drain: None,
            file_drain: None,
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
    pub fn event(&mut self, ev: Event, now: Instant, env: &Env) -> Vec<RibAction> {
        match ev {
            Event::Round { id, results } => {
                let Some(i) = self.find(id) else {
                    return Vec::new();
                };
                self.round(i, results, now);
                self.reconcile(i, now, env)
            }
            Event::Wake { id } => match self.find(id) {
                Some(i) => self.reconcile(i, now, env),
                None => Vec::new(),
            },
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
                self.reconcile(i, now, env)
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
        for (k, (st, o)) in s.checks.iter_mut().zip(&results).enumerate() {
            if o.ok {
                st.passes += 1;
            } else {
                st.failures += 1;
            }
            st.last = Some((o.clone(), now));
            if s.history.len() == HISTORY {
                s.history.pop_back();
            }
            s.history.push_front(Record {
                check: k,
                outcome: o.clone(),
                at: now,
            });
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
            info!(service = %s.cfg.name, from = t.from.name(), to = t.to.name(), reason = %t.reason, flaps = s.fsm.flaps(), "service health changed");
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
    /// health, drain and the RIB at `now`; logs and publishes a change of
    /// its effective state with the reason.
    fn reconcile(&mut self, i: usize, now: Instant, env: &Env) -> Vec<RibAction> {
        let tx = self.tx.clone();
        let s = &mut self.svcs[i];
        let (_, supp_changed) = s.fsm.healthy(now);
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
        let (health, why) = s.health(now);
        let elsewhere = s.cfg.prefixes.iter().all(|p| (env.elsewhere)(*p));
        let inputs = advert::Inputs {
            health,
            suppressed,
            drain: s.drain_phase(now),
            elsewhere,
        };
        let (state, want) = advert::decide(&s.cfg, &inputs);
        let cause = match state {
            State::Up => why,
            State::Init => format!("not confirmed yet ({why})"),
            State::Down if s.cfg.last_site && elsewhere && health != Health::Up => {
                format!("{why}; another site advertises the prefixes")
            }
            State::Down | State::Depref => why,
            State::LastSite => format!(
                "{why}; no other site advertises the prefixes: kept advertised depreferred (last-site protection)"
            ),
            State::HeldDown => format!(
                "held down by flap damping ({} flaps, {} s left)",
                s.fsm.flaps(),
                s.fsm
                    .damping()
                    .and_then(|d| d.remaining(now))
                    .unwrap_or_default()
                    .as_secs()
            ),
            State::GracefulShutdown | State::Drained => s
                .drain()
                .map(|d| format!("drained by {}: {}", d.source, d.reason))
                .unwrap_or_default(),
        };
        if state != s.state {
            let prev = s.state;
            s.state = state;
            s.state_since = now;
            s.cause = cause.clone();
            if matches!(state, State::LastSite) {
                warn!(service = %s.cfg.name, from = prev.name(), to = state.name(), reason = %cause, "service state changed");
            } else {
                info!(service = %s.cfg.name, from = prev.name(), to = state.name(), reason = %cause, "service state changed");
            }
            let ev = pb::ServiceEvent {
                service: s.cfg.name.clone(),
                state: state.name().into(),
                previous: prev.name().into(),
                reason: cause,
                unix_ms: unix_ms(),
                advertised: want.is_some(),
            };
            publish(&mut self.watchers, &ev);
        }
        let s = &mut self.svcs[i];
        let mut actions = Vec::new();
        match want {
            Some(adv) => {
                if s.needs_addr() && s.addr != AddrState::Present {
                    if s.addr != AddrState::Adding {
                        let iface = s.cfg.interface.clone().unwrap_or_default();
                        let Some(ix) = (env.ifindex)(&iface) else {
                            warn!(service = %s.cfg.name, interface = %iface, "service is to be advertised but its interface does not exist");
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
                if s.advertised.as_ref() != Some(&adv) {
                    info!(service = %s.cfg.name, metric = adv.metric, state = s.state.name(), communities = ?adv.attrs.communities, med = ?adv.attrs.med, prepend = adv.attrs.as_path_prepend, "service prefixes advertised");
                    let same_route = s
                        .advertised
                        .as_ref()
                        .is_some_and(|a| a.metric == adv.metric);
                    for p in &s.cfg.prefixes {
                        actions.push(if same_route {
                            RibAction::Refresh(*p)
                        } else {
                            RibAction::Add(s.cfg.route(*p, adv.metric))
                        });
                    }
                    s.advertised = Some(adv);
                }
            }
            None => {
                if s.advertised.take().is_some() {
                    info!(service = %s.cfg.name, state = s.state.name(), reason = %s.cause, "service prefixes withdrawn");
                    actions.extend(s.cfg.prefixes.iter().map(|p| RibAction::Del(*p)));
                }
                if s.needs_addr() && s.addr == AddrState::Present {
                    s.remove_queued = true;
                }
            }
        }
        actions
    }

    /// Re-evaluates every service: damping decays with time, maintenance
    /// files come and go. Call about once a second.
    pub fn tick(&mut self, now: Instant, env: &Env) -> Vec<RibAction> {
        let mut actions = Vec::new();
        for i in 0..self.svcs.len() {
            let s = &mut self.svcs[i];
            let file = s
                .cfg
                .maintenance_file
                .as_ref()
                .or(self.maintenance_file.as_ref());
            let present = file.is_some_and(|f| f.exists());
            if present != s.file_drain.is_some() {
                let f = file.map(|f| f.display().to_string()).unwrap_or_default();
                if present {
                    info!(service = %s.cfg.name, file = %f, "maintenance file present: draining");
                    s.file_drain = Some(Drain {
                        since: now,
                        source: "maintenance-file",
                        reason: format!("{f} exists"),
                    });
                    self.wake_at(i, now + self.svcs[i].cfg.drain_time);
                } else {
                    info!(service = %s.cfg.name, file = %f, "maintenance file gone: undrained");
                    s.file_drain = None;
                }
            }
            actions.extend(self.reconcile(i, now, env));
        }
        actions
    }

    /// Re-evaluates the services whose state depends on the RIB (down with
    /// last-site protection). Call after the RIB changed.
    pub fn rib_changed(&mut self, now: Instant, env: &Env) -> Vec<RibAction> {
        let mut actions = Vec::new();
        for i in 0..self.svcs.len() {
            let s = &self.svcs[i];
            if s.cfg.last_site && matches!(s.state, State::Down | State::LastSite) {
                actions.extend(self.reconcile(i, now, env));
            }
        }
        actions
    }

    /// Sends a [`Event::Wake`] for service `i` at `at`.
    fn wake_at(&self, i: usize, at: Instant) {
        let (id, tx) = (self.svcs[i].id, self.tx.clone());
        tokio::spawn(async move {
            tokio::time::sleep_until(at.into()).await;
            let _ = tx.send(Event::Wake { id }).await;
        });
    }

    /// Drains (`on`) or undrains service `name` for an operator or a load
    /// balancer. Returns the RIB changes and the service's status.
    pub fn drain(
        &mut self,
        name: &str,
        on: bool,
        source: &'static str,
        reason: &str,
        now: Instant,
        env: &Env,
    ) -> Result<(Vec<RibAction>, pb::ServiceStatus), String> {
        let i = self
            .svcs
            .iter()
            .position(|s| s.cfg.name == name)
            .ok_or_else(|| format!("no anycast service {name}"))?;
        let s = &mut self.svcs[i];
        let reason = if reason.is_empty() {
            format!("{source} request")
        } else {
            reason.to_string()
        };
        if on && s.operator_drain.is_none() {
            info!(service = %name, source, %reason, drain_secs = s.cfg.drain_time.as_secs_f64(), "drain: GRACEFUL_SHUTDOWN, then withdrawal");
            s.operator_drain = Some(Drain {
                since: now,
                source,
                reason,
            });
            self.wake_at(i, now + self.svcs[i].cfg.drain_time);
        } else if !on && s.operator_drain.is_some() {
            info!(service = %name, source, %reason, "undrain");
            s.operator_drain = None;
        }
        let actions = self.reconcile(i, now, env);
        Ok((actions, self.status(i, now)))
    }

    /// A load balancer's health report for service `name`.
    pub fn lb_report(
        &mut self,
        r: &pb::HealthReport,
        now: Instant,
        env: &Env,
    ) -> Result<(Vec<RibAction>, String), String> {
        let i = self
            .svcs
            .iter()
            .position(|s| s.cfg.name == r.service)
            .ok_or_else(|| format!("no anycast service {}", r.service))?;
        let s = &mut self.svcs[i];
        let lb = s.cfg.lb.ok_or_else(|| {
            format!(
                "service {} does not use load-balancer reports (set lb_ttl)",
                r.service
            )
        })?;
        let ttl = if r.ttl_ms == 0 {
            lb.ttl
        } else {
            Duration::from_millis(r.ttl_ms as u64)
        };
        let reporter = if r.reporter.is_empty() {
            "unnamed".to_string()
        } else {
            r.reporter.clone()
        };
        let changed =
            s.lb.as_ref()
                .is_none_or(|o| o.healthy != r.healthy || now >= o.expires);
        if changed {
            info!(service = %r.service, reporter = %reporter, healthy = r.healthy, ttl_ms = ttl.as_millis() as u64, reason = %r.reason, "load-balancer report");
        }
        s.lb = Some(LbReport {
            healthy: r.healthy,
            expires: now + ttl,
            reporter,
            reason: r.reason.clone(),
        });
        self.wake_at(i, now + ttl);
        let actions = self.reconcile(i, now, env);
        Ok((actions, self.svcs[i].state.name().to_string()))
    }

    /// Subscribes `tx` to the state changes of `service` (empty: all);
    /// the current states go first.
    pub fn watch(
        &mut self,
        service: String,
        tx: mpsc::Sender<Result<pb::ServiceEvent, tonic::Status>>,
    ) {
        for s in &self.svcs {
            if !service.is_empty() && s.cfg.name != service {
                continue;
            }
            let _ = tx.try_send(Ok(pb::ServiceEvent {
                service: s.cfg.name.clone(),
                state: s.state.name().into(),
                previous: String::new(),
                reason: s.cause.clone(),
                unix_ms: unix_ms(),
                advertised: s.advertised.is_some(),
            }));
        }
        self.watchers.push(Watcher { service, tx });
    }

    /// The protocol attributes of an advertised service prefix.
    pub fn attributes(&self, prefix: IpNetwork) -> Option<pb::RouteAttributes> {
        self.svcs
            .iter()
            .find(|s| s.cfg.prefixes.contains(&prefix))
            .and_then(|s| s.advertised.as_ref())
            .map(|a| a.attrs.clone())
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
        let services = (0..self.svcs.len())
            .filter(|&i| name.is_empty() || self.svcs[i].cfg.name == name)
            .map(|i| self.status(i, now))
            .collect();
        pb::ShowServicesReply { services }
    }

    /// The status of service `i`.
    fn status(&self, i: usize, now: Instant) -> pb::ServiceStatus {
        let s = &self.svcs[i];
        let damping = s.fsm.damping();
        pb::ServiceStatus {
            name: s.cfg.name.clone(),
            state: s.fsm.state_name().to_string(),
            since_secs: now.saturating_duration_since(s.fsm.since()).as_secs(),
            reason: s.cause.clone(),
            prefixes: s
                .cfg
                .prefixes
                .iter()
                .map(|p| proto::prefix_to_wire(*p))
                .collect(),
            interface: s.cfg.interface.clone().unwrap_or_default(),
            advertised: s.advertised.is_some(),
            metric: s.advertised.as_ref().map_or(0, |a| a.metric),
            depreferred: matches!(s.state, State::Depref | State::LastSite | State::HeldDown)
                && s.advertised.is_some(),
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
            drain: match s.drain_phase(now) {
                None => "",
                Some(DrainPhase::GracefulShutdown) => "graceful-shutdown",
                Some(DrainPhase::Withdrawn) => "withdrawn",
            }
            .into(),
            drain_source: s.drain().map(|d| d.source).unwrap_or("").into(),
            drain_remaining_ms: s
                .drain()
                .map(|d| {
                    (d.since + s.cfg.drain_time)
                        .saturating_duration_since(now)
                        .as_millis() as u64
                })
                .unwrap_or(0),
            last_site: s.state == State::LastSite,
            last_site_protection: s.cfg.last_site,
            lb_state: s.lb_state(now).into(),
            lb_reporter: s
                .lb
                .as_ref()
                .map(|r| r.reporter.clone())
                .unwrap_or_default(),
            lb_ttl_remaining_ms: s
                .lb
                .as_ref()
                .map(|r| r.expires.saturating_duration_since(now).as_millis() as u64)
                .unwrap_or(0),
            lb_only: s.cfg.lb.is_some_and(|l| l.only),
            history: s
                .history
                .iter()
                .filter_map(|r| {
                    let c = s.cfg.checks.get(r.check)?;
                    let (kind, target) = c.kind.describe();
                    Some(pb::CheckRecord {
                        kind: kind.into(),
                        target,
                        passed: r.outcome.ok,
                        detail: r.outcome.detail.clone(),
                        latency_us: r.outcome.latency.as_micros() as u64,
                        ms_ago: now.saturating_duration_since(r.at).as_millis() as u64,
                    })
                })
                .collect(),
            effective: s.state.name().into(),
        }
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
    if cfg.checks.is_empty() {
        return;
    }
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

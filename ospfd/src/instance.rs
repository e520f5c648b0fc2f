//! One OSPFv2 router instance as a pure state machine: the hub that the
//! interface (ISM, §9), neighbor (NSM, §10), flooding (§13), origination
//! (§12.4) and area (§12.4.3, §3.6) modules extend with their `impl`
//! blocks.
//!
//! Owns every piece of protocol state: areas and their link-state
//! databases, the AS-external database, interfaces with their neighbors,
//! the routing table and what was last pushed to zebrad. Events enter
//! through the `pub fn`s here and in the sibling modules, each with the
//! current time `now` in milliseconds of a monotonic clock; results leave as
//! [`Action`]s the caller takes with [`Instance::take_actions`]. It never
//! reads a clock, never opens a socket and never blocks: the async shell in
//! `daemon` performs the actions and calls [`Instance::poll`] at
//! [`Instance::next_deadline`].

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use ipnetwork::Ipv4Network;

use crate::area::{Area, AreaConfig};
use crate::interface::{IfaceParams, Interface};
use crate::lsa::{ExternalMetricType, LsaKey};
use crate::lsdb::{Lsdb, Seconds};
use crate::packet::Packet;
use crate::spf::{self, NextHop, RoutingTable};

/// Milliseconds of the caller's monotonic clock.
pub type Millis = u64;

/// Seconds of `now`, the unit of LSA ages.
pub fn secs(now: Millis) -> Seconds {
    now / 1000
}

/// Where an LSA lives and floods (§12.1.3 flooding scope).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Area(Ipv4Addr),
    As,
}

/// Something the shell must do.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Start speaking OSPF on an interface: open its socket and join
    /// AllSPFRouters.
    Open {
        ifindex: u32,
        name: String,
        addr: Ipv4Addr,
    },
    /// Stop speaking OSPF on an interface.
    Close { ifindex: u32 },
    /// Join (or leave) AllDRouters on an interface (while DR or BDR).
    JoinDRouters { ifindex: u32, join: bool },
    /// Send a packet out of an interface to `dst`.
    Send {
        ifindex: u32,
        dst: Ipv4Addr,
        packet: Packet,
    },
    /// The difference of the routes to install since the last one.
    Routes {
        add: Vec<RouteEntry>,
        del: Vec<Ipv4Network>,
    },
}

/// A route as pushed to zebrad.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteEntry {
    pub prefix: Ipv4Network,
    pub metric: u32,
    /// (gateway, interface name), sorted.
    pub nexthops: Vec<(Ipv4Addr, String)>,
}

/// A route redistributed into OSPF as an AS-external-LSA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExternalRoute {
    pub metric: u32,
    pub metric_type: ExternalMetricType,
}

/// The SPF throttle (FRR's `timers throttle spf`), in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpfThrottle {
    pub delay: u64,
    pub initial_hold: u64,
    pub max_hold: u64,
}

impl Default for SpfThrottle {
    fn default() -> Self {
        SpfThrottle {
            delay: 0,
            initial_hold: 50,
            max_hold: 5000,
        }
    }
}

/// Instance-wide settings.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceConfig {
    pub router_id: Ipv4Addr,
    pub spf: SpfThrottle,
    pub areas: Vec<AreaConfig>,
    pub interfaces: Vec<IfaceParams>,
    /// True when some source is redistributed (the router is an ASBR).
    pub asbr: bool,
}

/// Per-reason counters of dropped packets.
pub type DropCounters = BTreeMap<&'static str, u64>;

/// SPF scheduling state.
#[derive(Clone, Debug, Default)]
pub(crate) struct SpfState {
    pub due: Option<Millis>,
    pub last_run: Option<Millis>,
    pub hold: u64,
    pub runs: u64,
    pub last_duration_us: u64,
}

/// The OSPF instance.
#[derive(Debug)]
pub struct Instance {
    pub router_id: Ipv4Addr,
    pub(crate) spf_throttle: SpfThrottle,
    pub asbr: bool,
    pub areas: BTreeMap<Ipv4Addr, Area>,
    /// Interfaces by name.
    pub ifaces: BTreeMap<String, Interface>,
    /// The AS-external-LSAs (§12.1.3: AS flooding scope).
    pub external: Lsdb,
    /// Routes redistributed into OSPF.
    pub redistributed: BTreeMap<Ipv4Network, ExternalRoute>,
    pub table: RoutingTable,
    /// What zebrad was last told, by prefix.
    pub(crate) pushed: BTreeMap<Ipv4Network, RouteEntry>,
    pub(crate) spf: SpfState,
    /// When each self-originated LSA was last originated (MinLSInterval).
    pub(crate) originated_at: BTreeMap<(Scope, LsaKey), Millis>,
    /// Self-originated LSAs to re-originate even with unchanged contents
    /// (a newer instance arrived from the network, or refresh).
    pub(crate) force_originate: BTreeSet<(Scope, LsaKey)>,
    /// When the self-originated LSAs must be looked at again.
    pub(crate) originate_due: Option<Millis>,
    /// MaxAge LSAs already flooded, waiting for acknowledgements.
    pub(crate) flushing: BTreeSet<(Scope, LsaKey)>,
    /// Next once-a-second aging check.
    pub(crate) age_due: Millis,
    pub drops: DropCounters,
    pub(crate) actions: Vec<Action>,
    pub(crate) dd_seq_seed: u32,
    pub started_at: Millis,
}

impl Instance {
    pub fn new(cfg: InstanceConfig, now: Millis) -> Instance {
        let mut areas = BTreeMap::new();
        for a in cfg.areas {
            areas.insert(a.id, Area::new(a));
        }
        let mut ifaces = BTreeMap::new();
        for p in cfg.interfaces {
            areas
                .entry(p.area)
                .or_insert_with(|| Area::new(AreaConfig::normal(p.area)));
            ifaces.insert(p.name.clone(), Interface::new(p));
        }
        Instance {
            router_id: cfg.router_id,
            spf_throttle: cfg.spf,
            asbr: cfg.asbr,
            areas,
            ifaces,
            external: Lsdb::new(),
            redistributed: BTreeMap::new(),
            table: RoutingTable::default(),
            pushed: BTreeMap::new(),
            spf: SpfState {
                hold: cfg.spf.initial_hold,
                ..SpfState::default()
            },
            originated_at: BTreeMap::new(),
            force_originate: BTreeSet::new(),
            originate_due: None,
            flushing: BTreeSet::new(),
            age_due: now + 1000,
            drops: BTreeMap::new(),
            actions: Vec::new(),
            dd_seq_seed: (now as u32).wrapping_mul(2_654_435_761) | 1,
            started_at: now,
        }
    }

    /// The actions produced since the last call.
    /// A new SPF throttle (a configuration change); the current hold
    /// starts again from the new initial hold.
    pub fn set_spf_throttle(&mut self, t: SpfThrottle) {
        self.spf_throttle = t;
        self.spf.hold = t.initial_hold;
    }

    pub fn take_actions(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.actions)
    }

    /// Counts a dropped packet.
    pub fn count_drop(&mut self, reason: &'static str) {
        tracing::debug!(reason, "dropped");
        *self.drops.entry(reason).or_default() += 1;
    }

    /// The database of a scope.
    pub fn lsdb(&self, scope: Scope) -> Option<&Lsdb> {
        match scope {
            Scope::As => Some(&self.external),
            Scope::Area(a) => self.areas.get(&a).map(|a| &a.lsdb),
        }
    }

    pub(crate) fn lsdb_mut(&mut self, scope: Scope) -> Option<&mut Lsdb> {
        match scope {
            Scope::As => Some(&mut self.external),
            Scope::Area(a) => self.areas.get_mut(&a).map(|a| &mut a.lsdb),
        }
    }

    /// The scope an LSA of `lsa_type` received in `area` belongs to.
    pub(crate) fn scope_of(lsa_type: crate::lsa::LsaType, area: Ipv4Addr) -> Scope {
        if lsa_type.is_as_scoped() {
            Scope::As
        } else {
            Scope::Area(area)
        }
    }

    /// The name of the interface with `ifindex`.
    pub fn iface_name(&self, ifindex: u32) -> Option<&str> {
        self.ifaces
            .values()
            .find(|i| i.ifindex == ifindex && i.ifindex != 0)
            .map(|i| i.params.name.as_str())
    }

    /// True when this router is an area border router: interfaces up in
    /// more than one area.
    pub fn is_abr(&self) -> bool {
        let active: BTreeSet<Ipv4Addr> = self
            .ifaces
            .values()
            .filter(|i| i.is_up())
            .map(|i| i.params.area)
            .collect();
        active.len() > 1
    }

    /// Whether the routing table is worth an End-of-RIB to zebrad after a
    /// start: a dead interval has passed (every neighbor's Hello heard),
    /// no interface is still waiting to elect its DR, every neighbor we
    /// want an adjacency with is Full (the others 2-Way), and no LSA
    /// origination or SPF run is pending. Before that, zebrad keeps the routes of our previous life,
    /// so the kernel does not lose a route we are about to learn again.
    pub fn converged(&self, now: Millis) -> bool {
        let dead = self
            .ifaces
            .values()
            .map(|i| u64::from(i.params.dead_interval) * 1000)
            .max()
            .unwrap_or(0);
        use crate::neighbor::NsmState;
        let syncing = self.ifaces.values().any(|i| {
            i.wait_due.is_some()
                || i.neighbors.values().any(|n| {
                    !(n.state == NsmState::Full
                        || (n.state == NsmState::TwoWay && !i.adjacency_wanted(n)))
                })
        });
        now >= self.started_at + dead
            && !syncing
            && self.originate_due.is_none()
            && self.spf.due.is_none()
            && self.transit_links_resolved(now)
    }

    /// Whether every transit link is seen both ways (§16.1 step 2 needs
    /// that): each transit link of a live router-LSA finds a live
    /// network-LSA that lists the router, and each router a live
    /// network-LSA lists has a transit link to it in its router-LSA. Not
    /// the case for a moment after a DR change (the new DR's network-LSA
    /// is not originated yet) or after our own restart (the neighbors
    /// turned their links to us into stub links when our Hellos stopped
    /// listing them, and turn them back only after their MinLSInterval):
    /// routes behind that segment are missing meanwhile.
    fn transit_links_resolved(&self, now: Millis) -> bool {
        use crate::lsa::{LsaBody, LsaType, RouterLinkType};
        let t = secs(now);
        self.areas.values().all(|a| {
            a.lsdb.iter_type(LsaType::ROUTER).all(|(_, e)| {
                let LsaBody::Router(r) = e.lsa().body() else {
                    return true;
                };
                let router = e.lsa().header().adv_rtr;
                e.is_max_age(t)
                    || r.links
                        .iter()
                        .filter(|l| l.link_type == RouterLinkType::Transit)
                        .all(|l| {
                            a.lsdb.iter_id(LsaType::NETWORK, l.link_id).any(|(_, n)| {
                                !n.is_max_age(t)
                                    && matches!(n.lsa().body(), LsaBody::Network(net)
                                        if net.attached_routers.contains(&router))
                            })
                        })
            }) && a.lsdb.iter_type(LsaType::NETWORK).all(|(key, e)| {
                let LsaBody::Network(net) = e.lsa().body() else {
                    return true;
                };
                e.is_max_age(t)
                    || net.attached_routers.iter().all(|&r| {
                        a.lsdb
                            .get(&crate::lsa::LsaKey::new(LsaType::ROUTER, r, r))
                            .is_some_and(|re| {
                                !re.is_max_age(t)
                                    && matches!(re.lsa().body(), LsaBody::Router(rl)
                                    if rl.links.iter().any(|l| {
                                        l.link_type == RouterLinkType::Transit
                                            && l.link_id == key.lsid
                                    }))
                            })
                    })
            })
        })
    }

    /// The earliest time [`Instance::poll`] has something to do.
    pub fn next_deadline(&self) -> Millis {
        let mut t = self.age_due;
        let mut take = |d: Option<Millis>| {
            if let Some(d) = d {
                t = t.min(d);
            }
        };
        take(self.spf.due);
        take(self.originate_due);
        for i in self.ifaces.values() {
            take(i.hello_due);
            take(i.wait_due);
            take(i.ack_due);
            for n in i.neighbors.values() {
                take(Some(n.inactivity_due));
                take(n.dd_rxmt_due);
                take(n.lsr_rxmt_due);
                take(n.rxmt_due);
            }
        }
        t
    }

    /// Runs every timer that has expired at `now`.
    pub fn poll(&mut self, now: Millis) {
        let names: Vec<String> = self.ifaces.keys().cloned().collect();
        for name in &names {
            self.iface_timers(name, now);
        }
        if now >= self.age_due {
            self.age_due = now + 1000;
            self.aging(now);
        }
        if self.originate_due.is_some_and(|d| now >= d) {
            self.originate_due = None;
            self.reconcile_self(now);
        }
        if self.spf.due.is_some_and(|d| now >= d) {
            self.run_spf(now);
        }
    }

    /// Asks for a routing table calculation, throttled (FRR's
    /// `timers throttle spf delay initial-hold max-hold`): the first after
    /// a quiet period runs after `delay`; while changes keep coming, each
    /// waits the current hold, which doubles up to `max_hold`.
    pub(crate) fn schedule_spf(&mut self, now: Millis) {
        if self.spf.due.is_some() {
            return;
        }
        let t = self.spf_throttle;
        let due = match self.spf.last_run {
            Some(last) if now.saturating_sub(last) < self.spf.hold => {
                let due = (last + self.spf.hold).max(now + t.delay);
                self.spf.hold = (self.spf.hold * 2).min(t.max_hold).max(t.initial_hold);
                due
            }
            _ => {
                self.spf.hold = t.initial_hold;
                now + t.delay
            }
        };
        self.spf.due = Some(due);
    }

    /// §16: the routing table calculation, then the routes' difference for
    /// zebrad and the summaries an ABR originates from the new table.
    pub(crate) fn run_spf(&mut self, now: Millis) {
        self.spf.due = None;
        self.spf.last_run = Some(now);
        self.spf.runs += 1;
        let started = std::time::Instant::now();
        let mut locals: BTreeMap<Ipv4Addr, Vec<spf::LocalInterface>> = BTreeMap::new();
        for i in self.ifaces.values().filter(|i| i.is_up()) {
            locals
                .entry(i.params.area)
                .or_default()
                .push(spf::LocalInterface {
                    ifindex: i.ifindex,
                    address: i.addr,
                });
        }
        let empty = Vec::new();
        let inputs: Vec<spf::AreaInput<'_>> = self
            .areas
            .values()
            .filter(|a| locals.contains_key(&a.id))
            .map(|a| spf::AreaInput {
                area_id: a.id,
                lsdb: &a.lsdb,
                interfaces: locals.get(&a.id).unwrap_or(&empty),
            })
            .collect();
        let table = spf::calculate(self.router_id, &inputs, &self.external, secs(now));
        self.spf.last_duration_us = started.elapsed().as_micros() as u64;
        self.table = table;
        self.push_routes();
        // Summaries and the ABR's default route follow the table.
        self.reconcile_self(now);
    }

    /// The routes zebrad should hold: every route with a gateway (routes to
    /// directly attached networks are zebrad's connected routes).
    pub(crate) fn wanted_routes(&self) -> BTreeMap<Ipv4Network, RouteEntry> {
        let mut out = BTreeMap::new();
        for (prefix, r) in &self.table.networks {
            let mut nhs: Vec<(Ipv4Addr, String)> = r
                .nexthops
                .iter()
                .filter_map(|nh: &NextHop| {
                    let gw = nh.gateway?;
                    let name = self.iface_name(nh.ifindex)?;
                    Some((gw, name.to_string()))
                })
                .collect();
            if nhs.is_empty() {
                continue;
            }
            nhs.sort();
            nhs.dedup();
            let metric = match r.path_type {
                spf::PathType::External2 => r.type2_cost,
                _ => r.cost,
            };
            out.insert(
                *prefix,
                RouteEntry {
                    prefix: *prefix,
                    metric,
                    nexthops: nhs,
                },
            );
        }
        out
    }

    /// Emits the difference between the wanted routes and the pushed ones.
    fn push_routes(&mut self) {
        let wanted = self.wanted_routes();
        let mut add = Vec::new();
        let mut del = Vec::new();
        for (p, r) in &wanted {
            if self.pushed.get(p) != Some(r) {
                add.push(r.clone());
            }
        }
        for p in self.pushed.keys() {
            if !wanted.contains_key(p) {
                del.push(*p);
            }
        }
        self.pushed = wanted;
        if !add.is_empty() || !del.is_empty() {
            self.actions.push(Action::Routes { add, del });
        }
    }

    /// Every route zebrad should hold, for a resync after reconnecting.
    pub fn all_routes(&self) -> Vec<RouteEntry> {
        self.pushed.values().cloned().collect()
    }

    /// Sets the redistributed routes that changed (`None`: withdrawn).
    pub fn redistribute(
        &mut self,
        changes: Vec<(Ipv4Network, Option<ExternalRoute>)>,
        now: Millis,
    ) {
        for (p, r) in changes {
            match r {
                Some(r) => {
                    self.redistributed.insert(p, r);
                }
                None => {
                    self.redistributed.remove(&p);
                }
            }
        }
        self.reconcile_self(now);
    }

    /// Once a second (§14): flood LSAs that reached MaxAge, remove flushed
    /// ones nobody needs any more, refresh our own at LSRefreshTime.
    fn aging(&mut self, now: Millis) {
        let s = secs(now);
        let mut scopes: Vec<Scope> = self.areas.keys().map(|a| Scope::Area(*a)).collect();
        scopes.push(Scope::As);
        for scope in scopes {
            let Some(db) = self.lsdb(scope) else { continue };
            let aged = db.max_aged(s);
            let refresh = db.refresh_due(self.router_id, s);
            for key in aged {
                if self.flushing.insert((scope, key)) {
                    // Reached MaxAge by aging: flood it so others drop it too.
                    if let Some(lsa) = self.lsdb(scope).and_then(|d| d.get(&key)) {
                        let lsa = lsa.lsa().with_age(crate::lsa::MAX_AGE);
                        self.flood(scope, &lsa, None, now);
                    }
                    self.schedule_spf(now);
                } else if !self.in_any_rxmt(scope, &key) && !self.any_exchanging(scope) {
                    if let Some(db) = self.lsdb_mut(scope) {
                        db.remove(&key);
                    }
                    self.flushing.remove(&(scope, key));
                }
            }
            for key in refresh {
                self.force_originate.insert((scope, key));
            }
        }
        if !self.force_originate.is_empty() {
            self.reconcile_self(now);
        }
    }

    /// True when `key` waits on some neighbor's retransmission list.
    pub(crate) fn in_any_rxmt(&self, scope: Scope, key: &LsaKey) -> bool {
        self.ifaces
            .values()
            .filter(|i| match scope {
                Scope::As => true,
                Scope::Area(a) => i.params.area == a,
            })
            .any(|i| i.neighbors.values().any(|n| n.rxmt.contains_key(key)))
    }

    /// True when some neighbor of the scope is in Exchange or Loading
    /// (§13 step 4, §14).
    pub(crate) fn any_exchanging(&self, scope: Scope) -> bool {
        use crate::neighbor::NsmState;
        self.ifaces
            .values()
            .filter(|i| match scope {
                Scope::As => true,
                Scope::Area(a) => i.params.area == a,
            })
            .any(|i| {
                i.neighbors
                    .values()
                    .any(|n| matches!(n.state, NsmState::Exchange | NsmState::Loading))
            })
    }

    /// A fresh DD sequence number for a new exchange.
    pub(crate) fn next_dd_seq(&mut self) -> u32 {
        self.dd_seq_seed = self
            .dd_seq_seed
            .wrapping_mul(1_103_515_245)
            .wrapping_add(12345);
        self.dd_seq_seed >> 1
    }
}

//! The RIB: every client's routes, per kernel table and address family, in a
//! prefix tree; the selection of the best route per prefix; the resolution of
//! nexthops (directly connected or recursive through other routes); and the
//! list of kernel changes that follow from it.
//!
//! Selection is the convention of FRR's zebra: among the routes whose
//! nexthops resolve, the lowest administrative distance wins, then the lowest
//! metric; the winner's resolved nexthops (up to the ECMP limit) are what the
//! kernel gets. A route whose nexthops do not resolve is kept but not
//! selected, and is selected again when they resolve (RFC 4271 §9.1.2.1 asks
//! the same of BGP).
//!
//! This module is plain synchronous code with a single owner (the RIB task in
//! `daemon`). It never talks to the kernel or to clients: every operation
//! leaves its consequences in an [`Output`] that the owner carries out.

pub mod kernel_nh;
pub mod nexthop;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use ipnetwork::{IpNetwork, Ipv4Network, Ipv6Network};
use prefix_trie::PrefixMap;
use proto::Source;
use smallvec::SmallVec;

use crate::fib::nhobj::DumpedNexthop;
use crate::fib::{FibKind, FibNexthop, FibOp, FibOutcome, FibRoute, FibTarget};
use kernel_nh::ObjView;
pub use nexthop::{GroupKey, Groups, Leg, Nexthop, NexthopStatus, Resolution, RouteKind};

/// The kernel's main table.
pub const MAIN_TABLE: u32 = 254;
/// The kernel route priority (metric) of every route zebrad installs, so
/// routes an administrator adds by hand (priority 0) are never replaced.
pub const KERNEL_PRIORITY: u32 = 20;

const F_STALE: u8 = 1;

/// A client of the RIB: one (source, instance), e.g. (bgp, "default").
pub type ClientId = u16;

/// A route as a client gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteIn {
    pub prefix: IpNetwork,
    pub table: u32,
    /// None: the source's default.
    pub distance: Option<u8>,
    pub metric: u32,
    pub tag: u32,
    pub kind: RouteKind,
    pub nexthops: Vec<NexthopIn>,
}

/// A nexthop as a client gives it: an interface by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NexthopIn {
    pub gateway: Option<IpAddr>,
    pub ifname: Option<String>,
    pub weight: u16,
}

/// A client's route as stored: compact, its nexthops shared in a group.
#[derive(Debug, Clone, Copy)]
struct RibRoute {
    client: ClientId,
    distance: u8,
    flags: u8,
    metric: u32,
    /// Its nexthop group, which also holds the kind and the tag.
    group: u32,
    /// Seconds since the RIB started, when it last changed.
    changed: u32,
}

/// Everything the RIB holds for one prefix in one table.
#[derive(Debug, Default)]
struct Dest {
    routes: SmallVec<[RibRoute; 1]>,
    /// The group installed in the kernel, plus one (0: nothing installed).
    installed: u32,
    /// The client whose route is selected, plus one (0: none).
    best: u16,
    /// The kernel's last error (errno) installing this prefix.
    fib_err: u16,
}

#[derive(Debug, Default)]
struct Table {
    v4: PrefixMap<Ipv4Network, Dest>,
    v6: PrefixMap<Ipv6Network, Dest>,
}

impl Table {
    fn get(&self, p: &IpNetwork) -> Option<&Dest> {
        match p {
            IpNetwork::V4(n) => self.v4.get(n),
            IpNetwork::V6(n) => self.v6.get(n),
        }
    }
    fn get_mut(&mut self, p: &IpNetwork) -> Option<&mut Dest> {
        match p {
            IpNetwork::V4(n) => self.v4.get_mut(n),
            IpNetwork::V6(n) => self.v6.get_mut(n),
        }
    }
    fn entry(&mut self, p: &IpNetwork) -> &mut Dest {
        match p {
            IpNetwork::V4(n) => self.v4.entry(*n).or_default(),
            IpNetwork::V6(n) => self.v6.entry(*n).or_default(),
        }
    }
    fn remove(&mut self, p: &IpNetwork) {
        match p {
            IpNetwork::V4(n) => {
                self.v4.remove(n);
            }
            IpNetwork::V6(n) => {
                self.v6.remove(n);
            }
        }
    }
    /// Covering entries of `addr`, longest prefix first.
    fn covering(&self, addr: IpAddr) -> Vec<(IpNetwork, &Dest)> {
        let mut v: Vec<(IpNetwork, &Dest)> = match addr {
            IpAddr::V4(a) => match Ipv4Network::new(a, 32) {
                Ok(h) => self
                    .v4
                    .cover(&h)
                    .map(|(p, d)| (IpNetwork::V4(p), d))
                    .collect(),
                Err(_) => Vec::new(),
            },
            IpAddr::V6(a) => match Ipv6Network::new(a, 128) {
                Ok(h) => self
                    .v6
                    .cover(&h)
                    .map(|(p, d)| (IpNetwork::V6(p), d))
                    .collect(),
                Err(_) => Vec::new(),
            },
        };
        v.sort_by_key(|(p, _)| std::cmp::Reverse(p.prefix()));
        v
    }
    fn len(&self) -> usize {
        self.v4.len() + self.v6.len()
    }
    fn prefixes(&self) -> Vec<IpNetwork> {
        self.v4
            .keys()
            .map(IpNetwork::V4)
            .chain(self.v6.keys().map(IpNetwork::V6))
            .collect()
    }
}

/// A client's bookkeeping.
#[derive(Debug, Clone)]
pub struct Client {
    pub source: Source,
    pub instance: String,
    pub connected: bool,
    /// When its stale routes are removed, if it has any.
    pub stale_deadline: Option<Instant>,
    pub routes: u64,
    pub stale_routes: u64,
}

/// An interface as the RIB needs it.
#[derive(Debug, Clone, Default)]
pub struct IfState {
    pub name: String,
    pub up: bool,
    pub addrs: Vec<IpNetwork>,
}

/// A change of the selected route of a prefix, for redistribution.
#[derive(Debug, Clone, PartialEq)]
pub struct RedistChange {
    pub table: u32,
    pub prefix: IpNetwork,
    /// The source of the route selected before, if any.
    pub old: Option<Source>,
    /// The route selected now.
    pub new: Option<SelectedRoute>,
}

/// Merges several changes of one prefix within one output (a route selected
/// and withdrawn again in the same flush) into one: the first `old`, the last
/// `new`, at the place of the first. Subscribers apply a batch's deletions
/// before its additions, so two changes of one prefix in one batch would be
/// applied out of order.
fn coalesce_redist(changes: &mut Vec<RedistChange>) {
    if changes.len() < 2 {
        return;
    }
    let mut at: HashMap<(u32, IpNetwork), usize> = HashMap::with_capacity(changes.len());
    let mut merged: Vec<RedistChange> = Vec::with_capacity(changes.len());
    for c in changes.drain(..) {
        match at.entry((c.table, c.prefix)) {
            std::collections::hash_map::Entry::Occupied(e) => merged[*e.get()].new = c.new,
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(merged.len());
                merged.push(c);
            }
        }
    }
    merged.retain(|c| c.old.is_some() || c.new.is_some());
    *changes = merged;
}

/// A selected route as shown to subscribers and operators.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectedRoute {
    pub source: Source,
    pub instance: String,
    pub distance: u8,
    pub metric: u32,
    pub tag: u32,
    pub kind: RouteKind,
    pub nexthops: Vec<Nexthop>,
}

/// The resolution of a tracked nexthop address.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NhtState {
    pub resolved: bool,
    pub via: Option<IpNetwork>,
    pub via_source: Option<Source>,
    pub metric: u32,
    pub legs: Vec<Leg>,
}

/// What a RIB operation asks the owner to do.
#[derive(Debug, Default)]
pub struct Output {
    pub fib: Vec<FibOp>,
    pub redist: Vec<RedistChange>,
    /// Tracked addresses whose resolution changed: (table, address, state).
    pub nht: Vec<(u32, IpAddr, NhtState)>,
}

/// Tunables.
#[derive(Debug, Clone)]
pub struct RibConfig {
    pub ecmp_max: usize,
    pub resolve_via_default: bool,
    /// Routes one client may hold through [`Rib::add`]; a new prefix
    /// beyond it is rejected, what the client holds is kept.
    pub max_routes_per_client: u64,
}

impl Default for RibConfig {
    fn default() -> Self {
        RibConfig {
            ecmp_max: 16,
            resolve_via_default: false,
            max_routes_per_client: u64::MAX,
        }
    }
}

/// Counters for `show` and status.
#[derive(Debug, Default, Clone, Copy)]
pub struct RibStats {
    pub fib_routes: u64,
    pub fib_errors: u64,
    pub fib_reinstalled: u64,
    /// Our kernel nexthop objects deleted or replaced from outside and
    /// written back.
    pub nexthops_repaired: u64,
}

/// A route entry for operator queries.
#[derive(Debug, Clone)]
pub struct RouteView {
    pub table: u32,
    pub prefix: IpNetwork,
    pub source: Source,
    pub instance: String,
    pub distance: u8,
    pub metric: u32,
    pub tag: u32,
    pub kind: RouteKind,
    pub nexthops: Vec<Nexthop>,
    pub status: Vec<NexthopStatus>,
    pub selected: bool,
    pub installed: bool,
    pub stale: bool,
    pub age: Duration,
    pub fib_err: u16,
}

/// The RIB.
pub struct Rib {
    cfg: RibConfig,
    epoch: Instant,
    tables: BTreeMap<u32, Table>,
    groups: Groups,
    clients: Vec<Client>,
    ifaces: HashMap<u32, IfState>,
    /// Gateways of groups and tracked addresses (host routes, refcounted),
    /// to find quickly whether a changed prefix may change a resolution.
    gw_v4: PrefixMap<Ipv4Network, u32>,
    gw_v6: PrefixMap<Ipv6Network, u32>,
    /// Tracked nexthops: (table, address) -> (number of registrations, last state).
    nht: HashMap<(u32, IpAddr), (u32, NhtState)>,
    /// Whether someone subscribed to redistribution (changes are only
    /// reported then).
    pub redist_wanted: bool,
    /// Kernel nexthop objects the groups' routes name.
    knh: kernel_nh::KernelNexthops,
    /// Objects re-created after an outside deletion whose routes wait for
    /// `reinstall_repaired`.
    nh_repaired: HashSet<u32>,
    // Work pending until `settle`.
    dirty: Vec<(u32, IpNetwork)>,
    resolution_dirty: bool,
    out: Output,
    stats: RibStats,
}

impl Rib {
    pub fn new(cfg: RibConfig) -> Rib {
        Rib {
            cfg,
            epoch: Instant::now(),
            tables: BTreeMap::new(),
            groups: Groups::default(),
            clients: Vec::new(),
            ifaces: HashMap::new(),
            gw_v4: PrefixMap::new(),
            gw_v6: PrefixMap::new(),
            nht: HashMap::new(),
            redist_wanted: false,
            knh: kernel_nh::KernelNexthops::default(),
            nh_repaired: HashSet::new(),
            dirty: Vec::new(),
            resolution_dirty: false,
            out: Output::default(),
            stats: RibStats::default(),
        }
    }

    pub fn set_config(&mut self, cfg: RibConfig) {
        let changed = cfg.ecmp_max != self.cfg.ecmp_max
            || cfg.resolve_via_default != self.cfg.resolve_via_default;
        self.cfg = cfg;
        if changed {
            self.resolution_dirty = true;
            self.settle();
        }
    }

    /// Installs routes through kernel nexthop objects from now on (call
    /// at start, before adopting routes, with every object the kernel has).
    pub fn enable_kernel_nexthops(
        &mut self,
        found: &[crate::fib::nhobj::DumpedNexthop],
        our_protocols: &[u8],
    ) {
        self.knh.enable(found, our_protocols);
    }

    /// The kernel nexthop objects, for `show`.
    pub fn kernel_nexthops(&self) -> Vec<kernel_nh::ObjView> {
        self.knh.view()
    }

    /// Whether routes go in through kernel nexthop objects.
    pub fn kernel_nexthops_enabled(&self) -> bool {
        self.knh.enabled()
    }

    /// After a resync dump of the kernel's nexthop objects: re-creates the
    /// ones in use that are gone. Returns how many.
    pub fn resync_kernel_nexthops(&mut self, present: &HashSet<u32>) -> usize {
        self.knh.resync(present, &mut self.out.fib)
    }

    pub fn config(&self) -> &RibConfig {
        &self.cfg
    }

    pub fn stats(&self) -> RibStats {
        self.stats
    }

    /// Takes what the owner must carry out.
    pub fn take_output(&mut self) -> Output {
        let mut out = std::mem::take(&mut self.out);
        coalesce_redist(&mut out.redist);
        out
    }

    // ---------------------------------------------------------------- clients

    /// The client id of (source, instance), registering it if new.
    pub fn client(&mut self, source: Source, instance: &str) -> ClientId {
        if let Some(i) = self
            .clients
            .iter()
            .position(|c| c.source == source && c.instance == instance)
        {
            return i as ClientId;
        }
        self.clients.push(Client {
            source,
            instance: instance.to_string(),
            connected: false,
            stale_deadline: None,
            routes: 0,
            stale_routes: 0,
        });
        (self.clients.len() - 1) as ClientId
    }

    pub fn clients(&self) -> &[Client] {
        &self.clients
    }

    /// A client (re)connected. Routes adopted from the kernel at start for
    /// the same source (instance "") are handed to it, stale, so its
    /// re-announcements replace them without a flap. Returns its id and the
    /// number of its stale routes.
    pub fn connect(&mut self, source: Source, instance: &str) -> (ClientId, u64) {
        let id = self.client(source, instance);
        if !instance.is_empty() {
            let adopted = self
                .clients
                .iter()
                .position(|c| c.source == source && c.instance.is_empty() && c.routes > 0);
            if let Some(a) = adopted {
                self.merge_client(a as ClientId, id);
            }
        }
        let c = &mut self.clients[id as usize];
        c.connected = true;
        (id, c.stale_routes)
    }

    /// Moves every route of `from` to `to`, stale.
    fn merge_client(&mut self, from: ClientId, to: ClientId) {
        let mut moved = 0u64;
        for t in self.tables.values_mut() {
            let fix = |d: &mut Dest| {
                if d.routes.iter().any(|r| r.client == to) {
                    // `to` already has a route here: the adopted one goes.
                    return false;
                }
                let mut any = false;
                for r in d.routes.iter_mut().filter(|r| r.client == from) {
                    r.client = to;
                    r.flags |= F_STALE;
                    any = true;
                }
                if d.best == from + 1 {
                    d.best = to + 1;
                }
                any
            };
            for (_, d) in t.v4.iter_mut() {
                if fix(d) {
                    moved += 1;
                }
            }
            for (_, d) in t.v6.iter_mut() {
                if fix(d) {
                    moved += 1;
                }
            }
        }
        // Whatever is left with `from` (duplicates) is removed.
        self.remove_client_routes(from, false);
        let from_c = &mut self.clients[from as usize];
        let deadline = from_c.stale_deadline.take();
        from_c.routes = from_c.routes.saturating_sub(moved);
        from_c.stale_routes = from_c.stale_routes.saturating_sub(moved);
        let to_c = &mut self.clients[to as usize];
        to_c.routes += moved;
        to_c.stale_routes += moved;
        if to_c.stale_deadline.is_none() {
            to_c.stale_deadline = deadline;
        }
        self.settle();
    }

    /// A client went away: its routes stay, stale, until `stale_time` ends.
    pub fn disconnect(&mut self, id: ClientId, stale_time: Duration, now: Instant) {
        let Some(c) = self.clients.get_mut(id as usize) else {
            return;
        };
        c.connected = false;
        if c.routes == 0 {
            return;
        }
        c.stale_deadline = Some(now + stale_time);
        let mut n = 0;
        for t in self.tables.values_mut() {
            for (_, d) in t.v4.iter_mut() {
                n += mark_stale(d, id);
            }
            for (_, d) in t.v6.iter_mut() {
                n += mark_stale(d, id);
            }
        }
        self.clients[id as usize].stale_routes = n;
    }

    /// The client re-sent everything: its routes still stale go now.
    pub fn end_of_rib(&mut self, id: ClientId) {
        self.remove_client_routes(id, true);
        if let Some(c) = self.clients.get_mut(id as usize) {
            c.stale_deadline = None;
            c.stale_routes = 0;
        }
        self.settle();
    }

    /// Removes stale routes whose time ran out. Returns how many went.
    pub fn expire_stale(&mut self, now: Instant) -> u64 {
        let due: Vec<ClientId> = self
            .clients
            .iter()
            .enumerate()
            .filter(|(_, c)| c.stale_deadline.is_some_and(|d| d <= now))
            .map(|(i, _)| i as ClientId)
            .collect();
        let mut n = 0;
        for id in due {
            n += self.clients[id as usize].stale_routes;
            self.remove_client_routes(id, true);
            let c = &mut self.clients[id as usize];
            c.stale_deadline = None;
            c.stale_routes = 0;
        }
        if n > 0 {
            self.settle();
        }
        n
    }

    /// The earliest stale deadline, for the owner's timer.
    pub fn next_stale_deadline(&self) -> Option<Instant> {
        self.clients.iter().filter_map(|c| c.stale_deadline).min()
    }

    fn remove_client_routes(&mut self, id: ClientId, only_stale: bool) {
        let mut victims = Vec::new();
        for (&tid, t) in &self.tables {
            for p in t.prefixes() {
                if let Some(d) = t.get(&p) {
                    if d.routes
                        .iter()
                        .any(|r| r.client == id && (!only_stale || r.flags & F_STALE != 0))
                    {
                        victims.push((tid, p));
                    }
                }
            }
        }
        // Bulk deletions go out in descending order: ascending ones are
        // quadratic in the kernel's trie (KERNEL-NOTES.md).
        victims.reverse();
        for (tid, p) in victims {
            self.remove_route(id, tid, p);
        }
    }

    // ----------------------------------------------------------------- routes

    /// Adds or replaces `client`'s route for (table, prefix). Unknown
    /// interface names are an error; nothing changes then.
    pub fn add(&mut self, client: ClientId, r: &RouteIn) -> Result<(), String> {
        let (source, held) = self
            .clients
            .get(client as usize)
            .map(|c| (c.source, c.routes))
            .ok_or("unknown client")?;
        let max = self.cfg.max_routes_per_client;
        if held >= max && !self.holds(client, r.table, &r.prefix) {
            return Err(format!(
                "route limit reached: this client holds {held} routes, the most allowed (rib.max_routes_per_client = {max})"
            ));
        }
        let mut nexthops = Vec::with_capacity(r.nexthops.len());
        for nh in &r.nexthops {
            let ifindex = match &nh.ifname {
                Some(n) => self
                    .ifindex(n)
                    .ok_or_else(|| format!("unknown interface {n}"))?,
                None => 0,
            };
            if nh.gateway.is_none() && ifindex == 0 {
                return Err("a nexthop needs a gateway or an interface".into());
            }
            if let Some(g) = nh.gateway {
                if g.is_ipv4() != r.prefix.is_ipv4() && !r.prefix.is_ipv4() {
                    return Err(format!("gateway {g} is not of the prefix's family"));
                }
            }
            nexthops.push(Nexthop {
                gateway: nh.gateway,
                ifindex,
                weight: nh.weight.clamp(1, 256),
            });
        }
        if r.kind == RouteKind::Unicast && nexthops.is_empty() {
            return Err("a unicast route needs at least one nexthop".into());
        }
        if r.kind != RouteKind::Unicast {
            nexthops.clear();
        }
        nexthops.sort();
        nexthops.dedup();
        let key = GroupKey {
            protocol: source.kernel_protocol().unwrap_or(0),
            table: r.table,
            kind: r.kind,
            nexthops,
            tag: r.tag,
        };
        let route = RibRoute {
            client,
            distance: r.distance.unwrap_or(source.default_distance()),
            flags: 0,
            metric: r.metric,
            group: 0,
            changed: self.now_secs(),
        };
        self.put_route(client, r.table, r.prefix, key, route);
        Ok(())
    }

    fn put_route(
        &mut self,
        client: ClientId,
        table: u32,
        prefix: IpNetwork,
        key: GroupKey,
        mut route: RibRoute,
    ) {
        let (gid, created) = self.groups.acquire(key);
        if created {
            self.on_group_created(gid);
        }
        route.group = gid;
        let dest = self.tables.entry(table).or_default().entry(&prefix);
        let mut released = None;
        let mut was_stale = false;
        if let Some(old) = dest.routes.iter_mut().find(|x| x.client == client) {
            if old.group == gid && old.distance == route.distance && old.metric == route.metric {
                // Same route again: it is only refreshed (no longer stale).
                was_stale = old.flags & F_STALE != 0;
                old.flags &= !F_STALE;
                released = Some(gid);
            } else {
                was_stale = old.flags & F_STALE != 0;
                released = Some(old.group);
                *old = route;
                self.dirty.push((table, prefix));
            }
        } else {
            dest.routes.push(route);
            self.dirty.push((table, prefix));
            if let Some(c) = self.clients.get_mut(client as usize) {
                c.routes += 1;
            }
        }
        if was_stale {
            if let Some(c) = self.clients.get_mut(client as usize) {
                c.stale_routes = c.stale_routes.saturating_sub(1);
            }
        }
        if let Some(g) = released {
            self.release_group(g);
        }
    }

    /// Whether `client` has a route for (table, prefix).
    fn holds(&self, client: ClientId, table: u32, prefix: &IpNetwork) -> bool {
        self.tables
            .get(&table)
            .and_then(|t| t.get(prefix))
            .is_some_and(|d| d.routes.iter().any(|x| x.client == client))
    }

    /// Removes `client`'s route for (table, prefix), if it has one.
    pub fn remove_route(&mut self, client: ClientId, table: u32, prefix: IpNetwork) {
        let Some(t) = self.tables.get_mut(&table) else {
            return;
        };
        let Some(d) = t.get_mut(&prefix) else { return };
        let Some(pos) = d.routes.iter().position(|r| r.client == client) else {
            return;
        };
        let r = d.routes.remove(pos);
        self.dirty.push((table, prefix));
        if let Some(c) = self.clients.get_mut(client as usize) {
            c.routes = c.routes.saturating_sub(1);
            if r.flags & F_STALE != 0 {
                c.stale_routes = c.stale_routes.saturating_sub(1);
            }
        }
        self.release_group(r.group);
    }

    /// Prefixes `client` has routes for, in `table` (all tables if None).
    pub fn client_prefixes(&self, client: ClientId, table: Option<u32>) -> Vec<(u32, IpNetwork)> {
        let mut v = Vec::new();
        for (&tid, t) in &self.tables {
            if table.is_some_and(|x| x != tid) {
                continue;
            }
            for p in t.prefixes() {
                if t.get(&p)
                    .is_some_and(|d| d.routes.iter().any(|r| r.client == client))
                {
                    v.push((tid, p));
                }
            }
        }
        v
    }

    fn release_group(&mut self, gid: u32) {
        let last = self.groups.get(gid).is_some_and(|g| g.refs == 1);
        if last {
            self.on_group_freed(gid);
        }
        self.groups.release(gid);
    }

    fn on_group_created(&mut self, gid: u32) {
        let gws: Vec<IpAddr> = self
            .groups
            .get(gid)
            .map(|g| g.key.nexthops.iter().filter_map(|n| n.gateway).collect())
            .unwrap_or_default();
        for gw in gws {
            self.gw_ref(gw, 1);
        }
        self.resolve_group(gid);
    }

    fn on_group_freed(&mut self, gid: u32) {
        if let Some(g) = self.groups.get(gid).filter(|g| g.knh != 0) {
            self.knh.release(g.knh);
        }
        let gws: Vec<IpAddr> = self
            .groups
            .get(gid)
            .map(|g| g.key.nexthops.iter().filter_map(|n| n.gateway).collect())
            .unwrap_or_default();
        for gw in gws {
            self.gw_ref(gw, -1);
        }
    }

    fn gw_ref(&mut self, gw: IpAddr, delta: i32) {
        fn bump<P: prefix_trie::Prefix + Copy>(m: &mut PrefixMap<P, u32>, p: P, delta: i32) {
            let e = m.entry(p).or_default();
            let n = (*e as i64 + delta as i64).max(0) as u32;
            *e = n;
            if n == 0 {
                m.remove(&p);
            }
        }
        match gw {
            IpAddr::V4(a) => {
                if let Ok(h) = Ipv4Network::new(a, 32) {
                    bump(&mut self.gw_v4, h, delta)
                }
            }
            IpAddr::V6(a) => {
                if let Ok(h) = Ipv6Network::new(a, 128) {
                    bump(&mut self.gw_v6, h, delta)
                }
            }
        }
    }

    /// Whether a change of `p` may change how a gateway resolves.
    fn covers_gateway(&self, p: &IpNetwork) -> bool {
        match p {
            IpNetwork::V4(n) => self.gw_v4.children(n).next().is_some(),
            IpNetwork::V6(n) => self.gw_v6.children(n).next().is_some(),
        }
    }

    fn now_secs(&self) -> u32 {
        self.epoch.elapsed().as_secs() as u32
    }

    // ------------------------------------------------------------- interfaces

    pub fn ifindex(&self, name: &str) -> Option<u32> {
        self.ifaces
            .iter()
            .find(|(_, i)| i.name == name)
            .map(|(&k, _)| k)
    }

    pub fn ifname(&self, index: u32) -> Option<&str> {
        self.ifaces.get(&index).map(|i| i.name.as_str())
    }

    pub fn interfaces(&self) -> &HashMap<u32, IfState> {
        &self.ifaces
    }

    /// A link appeared or changed.
    pub fn link_update(&mut self, index: u32, name: &str, up: bool) {
        let e = self.ifaces.entry(index).or_default();
        let changed = e.up != up || e.name != name;
        e.name = name.to_string();
        e.up = up;
        if !up {
            self.knh.link_down(index);
        }
        if changed {
            self.resolution_dirty = true;
            self.settle();
        }
    }

    /// A link went away, with its addresses.
    pub fn link_removed(&mut self, index: u32) {
        let Some(st) = self.ifaces.remove(&index) else {
            return;
        };
        self.knh.link_down(index);
        for a in st.addrs {
            self.sync_connected(a);
        }
        self.resolution_dirty = true;
        self.settle();
    }

    pub fn addr_added(&mut self, index: u32, addr: IpNetwork) {
        let e = self.ifaces.entry(index).or_default();
        if !e.addrs.contains(&addr) {
            e.addrs.push(addr);
            self.sync_connected(addr);
            self.settle();
        }
    }

    pub fn addr_removed(&mut self, index: u32, addr: IpNetwork) {
        if let Some(e) = self.ifaces.get_mut(&index) {
            let before = e.addrs.len();
            e.addrs.retain(|a| *a != addr);
            if e.addrs.len() != before {
                self.sync_connected(addr);
                self.settle();
            }
        }
    }

    /// Recomputes the connected route of `addr`'s subnet from the
    /// interfaces that have an address in it.
    fn sync_connected(&mut self, addr: IpNetwork) {
        let prefix = proto::canonical(addr);
        let mut nexthops: Vec<Nexthop> = self
            .ifaces
            .iter()
            .filter(|(_, i)| i.addrs.iter().any(|a| proto::canonical(*a) == prefix))
            .map(|(&ifindex, _)| Nexthop {
                gateway: None,
                ifindex,
                weight: 1,
            })
            .collect();
        nexthops.sort();
        let client = self.client(Source::Connected, "kernel");
        self.clients[client as usize].connected = true;
        if nexthops.is_empty() {
            self.remove_route(client, MAIN_TABLE, prefix);
        } else {
            let key = GroupKey {
                protocol: 0,
                table: MAIN_TABLE,
                kind: RouteKind::Unicast,
                nexthops,
                tag: 0,
            };
            let route = RibRoute {
                client,
                distance: 0,
                flags: 0,
                metric: 0,
                group: 0,
                changed: self.now_secs(),
            };
            self.put_route(client, MAIN_TABLE, prefix, key, route);
        }
    }

    // ------------------------------------------------------------- resolution

    /// Looks `addr` up in `table` (then main): the longest covering prefix
    /// with a usable route, skipping routes of `exclude` (a group cannot
    /// resolve through itself). Returns (prefix, source, metric, legs, recursive).
    fn lookup(
        &self,
        table: u32,
        addr: IpAddr,
        exclude: Option<u32>,
    ) -> Option<(IpNetwork, Source, u32, Vec<Leg>, bool)> {
        let mut tids = vec![table];
        if table != MAIN_TABLE {
            tids.push(MAIN_TABLE);
        }
        for tid in tids {
            let Some(t) = self.tables.get(&tid) else {
                continue;
            };
            for (p, d) in t.covering(addr) {
                if p.prefix() == 0 && !self.cfg.resolve_via_default {
                    continue;
                }
                let best = d
                    .routes
                    .iter()
                    .filter(|r| Some(r.group) != exclude)
                    .filter(|r| self.groups.get(r.group).is_some_and(|g| g.res.active))
                    .min_by_key(|r| (r.distance, r.metric));
                let Some(r) = best else { continue };
                let Some(g) = self.groups.get(r.group) else {
                    continue;
                };
                if g.key.kind != RouteKind::Unicast {
                    // A blackhole covers it: unreachable.
                    return None;
                }
                let source = self
                    .clients
                    .get(r.client as usize)
                    .map(|c| c.source)
                    .unwrap_or(Source::Kernel);
                let connected = g.res.legs.iter().all(|l| l.gateway.is_none());
                let legs = g
                    .res
                    .legs
                    .iter()
                    .map(|l| Leg {
                        gateway: l.gateway.or(Some(addr)),
                        ifindex: l.ifindex,
                        weight: 1,
                    })
                    .collect();
                return Some((p, source, r.metric, legs, !connected));
            }
        }
        None
    }

    fn iface_up(&self, ifindex: u32) -> bool {
        self.ifaces.get(&ifindex).is_some_and(|i| i.up)
    }

    /// Recomputes a group's resolution; true if it changed.
    fn resolve_group(&mut self, gid: u32) -> bool {
        let Some(g) = self.groups.get(gid) else {
            return false;
        };
        let key = g.key.clone();
        let mut res = Resolution::default();
        if key.kind != RouteKind::Unicast {
            res.active = true;
        } else {
            let mut metric = u32::MAX;
            for nh in &key.nexthops {
                let st = if nh.ifindex != 0 {
                    NexthopStatus {
                        active: self.iface_up(nh.ifindex),
                        recursive: false,
                        legs: vec![Leg {
                            gateway: nh.gateway,
                            ifindex: nh.ifindex,
                            weight: nh.weight,
                        }],
                    }
                } else if let Some(gw) = nh.gateway {
                    match self.lookup(key.table, gw, Some(gid)) {
                        Some((_, _, m, legs, recursive)) => {
                            metric = metric.min(m);
                            NexthopStatus {
                                active: !legs.is_empty(),
                                recursive,
                                legs: legs
                                    .into_iter()
                                    .map(|l| Leg {
                                        weight: nh.weight,
                                        ..l
                                    })
                                    .collect(),
                            }
                        }
                        None => NexthopStatus::default(),
                    }
                } else {
                    NexthopStatus::default()
                };
                res.per_nexthop.push(st);
            }
            res.legs = nexthop::flatten_legs(&res.per_nexthop, self.cfg.ecmp_max);
            res.active = !res.legs.is_empty();
            res.metric = if metric == u32::MAX { 0 } else { metric };
        }
        match self.groups.get_mut(gid) {
            Some(g) if g.res != res => {
                g.res = res;
                self.sync_kernel_nexthop(gid);
                true
            }
            _ => false,
        }
    }

    /// Points a group whose resolution changed at the kernel nexthop
    /// object of its new legs (or none). The old object's reference
    /// is dropped now, its deletion waits for the end of `settle` (after
    /// the group's routes have moved off it).
    fn sync_kernel_nexthop(&mut self, gid: u32) {
        let Some(g) = self.groups.get(gid) else {
            return;
        };
        let old = g.knh;
        let new = if g.key.protocol != 0 && g.key.kind == RouteKind::Unicast {
            let legs = g.res.legs.clone();
            self.knh.acquire(g.key.protocol, &legs, &mut self.out.fib)
        } else {
            0
        };
        if let Some(g) = self.groups.get_mut(gid) {
            g.knh = new;
        }
        if old != 0 {
            self.knh.release(old);
        }
    }

    /// Carries out the consequences of the changes made since the last
    /// call: re-resolves nexthops, re-selects, and fills the output.
    pub fn settle(&mut self) {
        let dirty = std::mem::take(&mut self.dirty);
        if !self.resolution_dirty && dirty.iter().any(|(_, p)| self.covers_gateway(p)) {
            self.resolution_dirty = true;
        }
        let mut changed_groups: HashSet<u32> = HashSet::new();
        if self.resolution_dirty {
            self.resolution_dirty = false;
            // Resolutions depend on each other (recursive routes): iterate
            // to a fixed point, bounded.
            for _ in 0..8 {
                let mut any = false;
                for gid in self.groups.ids() {
                    if self.resolve_group(gid) {
                        changed_groups.insert(gid);
                        any = true;
                    }
                }
                if !any {
                    break;
                }
            }
        }
        let mut seen: HashSet<(u32, IpNetwork)> = HashSet::new();
        if !changed_groups.is_empty() {
            // Every prefix with a route in a changed group is re-evaluated.
            for (&tid, t) in &self.tables {
                for p in t.prefixes() {
                    if t.get(&p).is_some_and(|d| {
                        d.routes.iter().any(|r| changed_groups.contains(&r.group))
                            || (d.installed > 0 && changed_groups.contains(&(d.installed - 1)))
                    }) {
                        seen.insert((tid, p));
                    }
                }
            }
            let mut v: Vec<_> = seen.iter().copied().collect();
            v.sort_by(|a, b| b.cmp(a));
            for (tid, p) in v {
                self.evaluate(tid, p, &changed_groups);
            }
            self.refresh_nht();
        } else if !self.nht.is_empty() && dirty.iter().any(|(_, p)| self.covers_gateway(p)) {
            self.refresh_nht();
        }
        for (tid, p) in dirty {
            if seen.insert((tid, p)) {
                self.evaluate(tid, p, &changed_groups);
            }
        }
        // Every route has moved off the objects no group holds any more.
        self.knh.flush(&mut self.out.fib);
    }

    /// Selects the best route of (table, prefix) and emits the kernel and
    /// redistribution changes that follow.
    fn evaluate(&mut self, table: u32, prefix: IpNetwork, changed_groups: &HashSet<u32>) {
        let Some(t) = self.tables.get_mut(&table) else {
            return;
        };
        let Some(d) = t.get_mut(&prefix) else { return };
        let groups = &self.groups;
        let best = d
            .routes
            .iter()
            .filter(|r| groups.get(r.group).is_some_and(|g| g.res.active))
            .min_by_key(|r| (r.distance, r.metric, r.flags & F_STALE, r.client))
            .copied();
        let old_best = d.best;
        d.best = best.map(|r| r.client + 1).unwrap_or(0);
        let want = best
            .and_then(|r| groups.get(r.group).map(|g| (r.group, g)))
            .filter(|(_, g)| g.key.protocol != 0);
        let installed = d.installed.checked_sub(1);
        let mut acquire = None;
        let mut release = None;
        match (want, installed) {
            (Some((gid, g)), inst) if inst != Some(gid) || changed_groups.contains(&gid) => {
                self.out
                    .fib
                    .push(FibOp::Replace(fib_route(prefix, table, g)));
                // Presumed to succeed: only failures come back as outcomes.
                d.fib_err = 0;
                if inst != Some(gid) {
                    acquire = Some(gid);
                    release = inst;
                    d.installed = gid + 1;
                }
                if inst.is_none() {
                    self.stats.fib_routes += 1;
                }
            }
            (None, Some(inst)) => {
                let protocol = groups.get(inst).map(|g| g.key.protocol).unwrap_or(0);
                self.out.fib.push(FibOp::Delete {
                    prefix,
                    table,
                    protocol,
                    priority: KERNEL_PRIORITY,
                });
                d.installed = 0;
                d.fib_err = 0;
                release = Some(inst);
                self.stats.fib_routes = self.stats.fib_routes.saturating_sub(1);
            }
            _ => {}
        }
        let empty = d.routes.is_empty() && d.installed == 0;
        if self.redist_wanted && (old_best != d.best || best.is_some()) {
            let old = old_best
                .checked_sub(1)
                .and_then(|c| self.clients.get(c as usize))
                .map(|c| c.source);
            let new = best.and_then(|r| self.selected_view(&r));
            if old.is_some() || new.is_some() {
                self.out.redist.push(RedistChange {
                    table,
                    prefix,
                    old,
                    new,
                });
            }
        }
        if empty {
            if let Some(t) = self.tables.get_mut(&table) {
                t.remove(&prefix);
            }
        }
        if let Some(g) = acquire {
            if let Some(g) = self.groups.get_mut(g) {
                g.refs += 1;
            }
        }
        if let Some(g) = release {
            self.release_group(g);
        }
    }

    fn selected_view(&self, r: &RibRoute) -> Option<SelectedRoute> {
        let c = self.clients.get(r.client as usize)?;
        let g = self.groups.get(r.group)?;
        Some(SelectedRoute {
            source: c.source,
            instance: c.instance.clone(),
            distance: r.distance,
            metric: r.metric,
            tag: g.key.tag,
            kind: g.key.kind,
            nexthops: g.key.nexthops.clone(),
        })
    }

    // ---------------------------------------------------------- kernel events

    /// The kernel answered an install or removal.
    pub fn fib_outcome(&mut self, o: &FibOutcome) {
        let (table, prefix) = match o.target {
            FibTarget::Route(table, prefix, _) => (table, prefix),
            FibTarget::Nexthop(id) => {
                if o.replace && o.error.is_some() {
                    self.stats.fib_errors += 1;
                    self.knh.create_failed(id);
                }
                return;
            }
        };
        let Some(t) = self.tables.get_mut(&table) else {
            return;
        };
        let Some(d) = t.get_mut(&prefix) else {
            return;
        };
        match (o.replace, o.error) {
            (true, Some(errno)) => {
                self.stats.fib_errors += 1;
                d.fib_err = errno.unsigned_abs().min(u16::MAX as u32) as u16;
                if let Some(inst) = d.installed.checked_sub(1) {
                    d.installed = 0;
                    self.stats.fib_routes = self.stats.fib_routes.saturating_sub(1);
                    self.release_group(inst);
                }
            }
            (true, None) => d.fib_err = 0,
            _ => {}
        }
    }

    /// One of zebrad's routes left the kernel without zebrad removing it
    /// (`ip route del`): put it back. Returns whether it was re-installed.
    pub fn kernel_route_deleted(&mut self, table: u32, prefix: IpNetwork, priority: u32) -> bool {
        if priority != KERNEL_PRIORITY {
            return false;
        }
        let Some(t) = self.tables.get_mut(&table) else {
            return false;
        };
        let Some(d) = t.get_mut(&prefix) else {
            return false;
        };
        let Some(inst) = d.installed.checked_sub(1) else {
            return false;
        };
        let Some(g) = self.groups.get(inst) else {
            return false;
        };
        self.out
            .fib
            .push(FibOp::Replace(fib_route(prefix, table, g)));
        self.stats.fib_reinstalled += 1;
        true
    }

    /// The kernel reports nexthop object `d` deleted. When it is one of
    /// ours in use (not one zebrad deleted), it is created again and the
    /// group objects it was a member of are sent again; the routes naming
    /// it (the kernel removed them, IPv4 ones without `RTM_DELROUTE`) are
    /// installed again by [`reinstall_repaired`](Self::reinstall_repaired).
    /// Returns the object, or `None` when it was not ours to repair.
    pub fn kernel_nexthop_deleted(&mut self, d: &DumpedNexthop) -> Option<ObjView> {
        let view = self.knh.deleted_outside(d.id, &mut self.out.fib)?;
        self.nh_repaired.insert(d.id);
        self.stats.nexthops_repaired += 1;
        Some(view)
    }

    /// Installs again every route naming an object
    /// [`kernel_nexthop_deleted`](Self::kernel_nexthop_deleted) re-created
    /// since the last call (after those objects' ops). One pass over the
    /// tables for a whole burst of deletions (`ip nexthop flush`): call it
    /// once the queued notifications are handled. Returns how many.
    pub fn reinstall_repaired(&mut self) -> u64 {
        if self.nh_repaired.is_empty() {
            return 0;
        }
        let ids = std::mem::take(&mut self.nh_repaired);
        let groups: HashSet<u32> = self
            .groups
            .ids()
            .into_iter()
            .filter(|&gid| self.groups.get(gid).is_some_and(|g| ids.contains(&g.knh)))
            .collect();
        if groups.is_empty() {
            return 0;
        }
        let mut n = 0;
        for (&tid, t) in &self.tables {
            for p in t.prefixes() {
                let Some(g) = t
                    .get(&p)
                    .and_then(|dest| dest.installed.checked_sub(1))
                    .filter(|inst| groups.contains(inst))
                    .and_then(|inst| self.groups.get(inst))
                else {
                    continue;
                };
                self.out.fib.push(FibOp::Replace(fib_route(p, tid, g)));
                n += 1;
            }
        }
        n
    }

    /// The kernel reports nexthop object `d` added or replaced. When it is
    /// one of ours in use and differs from what zebrad wrote (`ip nexthop
    /// replace`), ours is written back; the routes naming it stay. Returns
    /// the object, or `None` for an echo of our own write or another's
    /// object.
    pub fn kernel_nexthop_changed(&mut self, d: &DumpedNexthop) -> Option<ObjView> {
        let view = self.knh.changed_outside(d, &mut self.out.fib)?;
        self.stats.nexthops_repaired += 1;
        Some(view)
    }

    /// Adopts a route zebrad installed in an earlier life (found in the
    /// kernel at start): kept, stale, under the client (source, ""), and
    /// marked installed so nothing is rewritten.
    pub fn adopt(&mut self, source: Source, r: &FibRoute, stale_time: Duration, now: Instant) {
        let client = self.client(source, "");
        self.insert_kernel_route(client, source, r, true);
        let c = &mut self.clients[client as usize];
        c.stale_routes += 1;
        c.stale_deadline = Some(now + stale_time);
    }

    /// A route someone else put in the kernel (`ip route add`, DHCP...):
    /// known to the RIB as source `kernel` for selection, resolution and
    /// redistribution, never touched.
    pub fn kernel_route_added(&mut self, r: &FibRoute) {
        let client = self.client(Source::Kernel, "kernel");
        self.clients[client as usize].connected = true;
        self.insert_kernel_route(client, Source::Kernel, r, false);
    }

    /// A route someone else put in the kernel went away.
    pub fn kernel_route_removed(&mut self, r: &FibRoute) {
        let client = self.client(Source::Kernel, "kernel");
        self.remove_route(client, r.table, r.prefix);
    }

    fn insert_kernel_route(&mut self, client: ClientId, source: Source, r: &FibRoute, ours: bool) {
        let kind = match r.kind {
            FibKind::Unicast => RouteKind::Unicast,
            FibKind::Blackhole => RouteKind::Blackhole,
            FibKind::Unreachable => RouteKind::Unreachable,
            FibKind::Prohibit => RouteKind::Prohibit,
        };
        let mut nexthops: Vec<Nexthop> = r
            .nexthops
            .iter()
            .map(|n| Nexthop {
                gateway: n.gateway,
                ifindex: n.ifindex,
                weight: n.weight.max(1),
            })
            .collect();
        nexthops.sort();
        let key = GroupKey {
            protocol: if ours {
                source.kernel_protocol().unwrap_or(0)
            } else {
                0
            },
            table: r.table,
            kind,
            nexthops,
            tag: 0,
        };
        let route = RibRoute {
            client,
            distance: source.default_distance(),
            flags: if ours { F_STALE } else { 0 },
            metric: if ours { 0 } else { r.priority },
            group: 0,
            changed: self.now_secs(),
        };
        self.put_route(client, r.table, r.prefix, key.clone(), route);
        if !ours {
            return;
        }
        // Installed already: mark it so, without an op.
        self.dirty
            .retain(|(t, p)| !(*t == r.table && *p == r.prefix));
        let gid = self.groups.acquire(key).0;
        if let Some(d) = self
            .tables
            .get_mut(&r.table)
            .and_then(|t| t.get_mut(&r.prefix))
        {
            if d.installed == 0 {
                d.installed = gid + 1;
                d.best = client + 1;
                self.stats.fib_routes += 1;
            } else {
                self.groups.release(gid);
            }
        }
    }

    /// After lost kernel notifications: every route zebrad believes
    /// installed but `present` (the kernel's (table, prefix) of ours) lacks
    /// is installed again. Returns how many.
    pub fn reconcile(&mut self, present: &HashSet<(u32, IpNetwork)>) -> u64 {
        let mut missing = Vec::new();
        for (&tid, t) in &self.tables {
            for p in t.prefixes() {
                if t.get(&p).is_some_and(|d| d.installed > 0) && !present.contains(&(tid, p)) {
                    missing.push((tid, p));
                }
            }
        }
        let n = missing.len() as u64;
        for (tid, p) in missing {
            self.kernel_route_deleted(tid, p, KERNEL_PRIORITY);
        }
        n
    }

    // -------------------------------------------------------- nexthop tracking

    /// Registers (or, with `add` false, unregisters) interest in `addr`.
    /// Returns its current state for a registration.
    pub fn nht_register(&mut self, table: u32, addr: IpAddr, add: bool) -> Option<NhtState> {
        if add {
            let state = self.nht_state(table, addr);
            let e = self.nht.entry((table, addr)).or_insert((0, state.clone()));
            e.0 += 1;
            let first = e.0 == 1;
            if first {
                self.gw_ref(addr, 1);
            }
            Some(state)
        } else {
            if let Some(e) = self.nht.get_mut(&(table, addr)) {
                e.0 = e.0.saturating_sub(1);
                if e.0 == 0 {
                    self.nht.remove(&(table, addr));
                    self.gw_ref(addr, -1);
                }
            }
            None
        }
    }

    pub fn nht_state(&self, table: u32, addr: IpAddr) -> NhtState {
        match self.lookup(table, addr, None) {
            Some((p, source, metric, legs, _)) => NhtState {
                resolved: true,
                via: Some(p),
                via_source: Some(source),
                metric,
                legs,
            },
            None => NhtState::default(),
        }
    }

    fn refresh_nht(&mut self) {
        let keys: Vec<(u32, IpAddr)> = self.nht.keys().copied().collect();
        for (table, addr) in keys {
            let st = self.nht_state(table, addr);
            if let Some(e) = self.nht.get_mut(&(table, addr)) {
                if e.1 != st {
                    e.1 = st.clone();
                    self.out.nht.push((table, addr, st));
                }
            }
        }
    }

    // ---------------------------------------------------------------- queries

    pub fn route_count(&self) -> usize {
        self.tables.values().map(|t| t.len()).sum()
    }

    pub fn tables(&self) -> Vec<u32> {
        self.tables.keys().copied().collect()
    }

    /// Every route of `table` (both families unless `v6` says which),
    /// optionally only for the prefix matching `filter` (exact, or longest
    /// match with `longest`).
    pub fn show(
        &self,
        table: u32,
        v6: Option<bool>,
        filter: Option<(IpNetwork, bool)>,
    ) -> Vec<RouteView> {
        let Some(t) = self.tables.get(&table) else {
            return Vec::new();
        };
        let prefixes: Vec<IpNetwork> = match filter {
            Some((p, false)) => vec![p],
            Some((p, true)) => t
                .covering(p.ip())
                .into_iter()
                .find(|(q, d)| q.prefix() <= p.prefix() && d.best > 0)
                .map(|(q, _)| vec![q])
                .unwrap_or_default(),
            None => t.prefixes(),
        };
        let now = self.now_secs();
        let mut out = Vec::new();
        for p in prefixes {
            if v6.is_some_and(|v6| v6 != p.is_ipv6()) {
                continue;
            }
            let Some(d) = t.get(&p) else { continue };
            for r in &d.routes {
                let (Some(c), Some(g)) = (
                    self.clients.get(r.client as usize),
                    self.groups.get(r.group),
                ) else {
                    continue;
                };
                let selected = d.best == r.client + 1;
                out.push(RouteView {
                    table,
                    prefix: p,
                    source: c.source,
                    instance: c.instance.clone(),
                    distance: r.distance,
                    metric: r.metric,
                    tag: g.key.tag,
                    kind: g.key.kind,
                    nexthops: g.key.nexthops.clone(),
                    status: g.res.per_nexthop.clone(),
                    selected,
                    installed: selected && (g.key.protocol == 0 || d.installed == r.group + 1),
                    stale: r.flags & F_STALE != 0,
                    age: Duration::from_secs(now.saturating_sub(r.changed) as u64),
                    fib_err: if selected { d.fib_err } else { 0 },
                });
            }
        }
        out
    }

    /// Every selected route of the given sources, for a redistribution dump.
    pub fn selected_routes(
        &self,
        sources: &[Source],
        tables: &[u32],
    ) -> Vec<(u32, IpNetwork, SelectedRoute)> {
        let mut out = Vec::new();
        for (&tid, t) in &self.tables {
            if !tables.contains(&tid) {
                continue;
            }
            for p in t.prefixes() {
                let Some(d) = t.get(&p) else { continue };
                let Some(r) = d
                    .best
                    .checked_sub(1)
                    .and_then(|c| d.routes.iter().find(|r| r.client == c))
                else {
                    continue;
                };
                let Some(v) = self.selected_view(r) else {
                    continue;
                };
                if sources.contains(&v.source) {
                    out.push((tid, p, v));
                }
            }
        }
        out
    }

    /// The selected route of (table, prefix), if any.
    pub fn selected(&self, table: u32, prefix: IpNetwork) -> Option<SelectedRoute> {
        let d = self.tables.get(&table)?.get(&prefix)?;
        let c = d.best.checked_sub(1)?;
        let r = d.routes.iter().find(|r| r.client == c)?;
        self.selected_view(r)
    }

    /// Whether (table, prefix) has a live route learned by a routing
    /// protocol (bgp, ospf): another site's, for anycast last-site
    /// protection.
    pub fn learned_elsewhere(&self, table: u32, prefix: IpNetwork) -> bool {
        let Some(d) = self.tables.get(&table).and_then(|t| t.get(&prefix)) else {
            return false;
        };
        d.routes.iter().any(|r| {
            r.flags & F_STALE == 0
                && self
                    .clients
                    .get(r.client as usize)
                    .is_some_and(|c| matches!(c.source, Source::Bgp | Source::Ospf))
        })
    }
}

fn mark_stale(d: &mut Dest, id: ClientId) -> u64 {
    let mut n = 0;
    for r in d.routes.iter_mut().filter(|r| r.client == id) {
        r.flags |= F_STALE;
        n += 1;
    }
    n
}

fn fib_route(prefix: IpNetwork, table: u32, g: &nexthop::Group) -> FibRoute {
    FibRoute {
        prefix,
        table,
        protocol: g.key.protocol,
        priority: KERNEL_PRIORITY,
        kind: match g.key.kind {
            RouteKind::Unicast => FibKind::Unicast,
            RouteKind::Blackhole => FibKind::Blackhole,
            RouteKind::Unreachable => FibKind::Unreachable,
            RouteKind::Prohibit => FibKind::Prohibit,
        },
        nexthops: g
            .res
            .legs
            .iter()
            .map(|l| FibNexthop {
                gateway: l.gateway,
                ifindex: l.ifindex,
                weight: l.weight,
            })
            .collect(),
        nh_id: g.knh,
    }
}

#[cfg(test)]
mod tests;

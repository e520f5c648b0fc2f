//! The BGP route pipeline after the session: Adj-RIB-In → import policy →
//! decision → Loc-RIB → export policy → Adj-RIB-Out → UPDATE packing
//! (RFC 4271 §3.2 and §9), plus what goes to zebrad (best paths, nexthop
//! registrations).
//!
//! Owns all routing state of bgpd behind one synchronous owner, [`Rib`]:
//! input calls (`update`, `peer_up`, `originate`, `nexthop_update`, ...)
//! only record changes and mark prefixes dirty; [`Rib::process`] (called
//! by [`Rib::take_output`]) runs the decision once per touched prefix and
//! produces the batch's encoded UPDATEs and zebrad changes. Attribute sets
//! are interned (`Arc`, compared by pointer); one 40-byte record per
//! prefix holds every path (see `table`).
//!
//! Never does: I/O, clocks (callers pass `now`), session FSM work, or
//! decoding. Never sends a peer the route it sent us.

mod add_path;
mod aggregate;
mod decision;
mod export;
mod fib;
mod graceful;
mod intern;
mod nht;
mod otc;
mod table;
#[cfg(test)]
mod tests;

use std::cmp::Ordering;
use std::hash::Hasher;
use std::mem;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use ipnetwork::{IpNetwork, Ipv4Network, Ipv6Network};

use crate::packet::route_refresh::RouteRefreshSubtype;
use crate::packet::{
    AfiSafi, AsPath, Community, Message, MpNextHop, Origin, ParsedUpdate, PathAttributes,
    RouteRefresh, SessionCaps, Update,
};
use crate::policy::{Applied, Bindings, Env, Policies, Route, Verdict};

pub use aggregate::AggregateConfig;
pub use decision::{Reason, LOCAL_WEIGHT};
pub use fib::FibBatch;
pub use graceful::{GrStatus, PeerGr};
pub use nht::NhState;

pub(crate) use decision::{compare, Cand};
use decision::{nexthop_of, Ctx};
use export::{change, export, export_uncached, Change, Group, Pending};
pub(crate) use export::{rewrite_common, GroupKey, Source};
use fib::FibQueue;
use intern::Interner;
use nht::{NhDeltas, Nht};
use table::{Attrs, Dest, FastHasher, FastMap, Path, Table, DIRTY, FIB};

/// A BGP session, as the session layer numbers them.
pub type PeerId = u32;
/// The pseudo-peer of locally originated routes.
pub const LOCAL_PEER: PeerId = 0;

/// Router-wide settings of the decision and export processes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RibConfig {
    pub local_as: u32,
    pub router_id: Ipv4Addr,
    /// Maximum eBGP paths installed together (1 = no multipath).
    pub multipath_ebgp: usize,
    pub multipath_ibgp: usize,
    pub always_compare_med: bool,
    /// Route-reflector cluster id (the router id when unset).
    pub cluster_id: Option<Ipv4Addr>,
}

/// Which paths a session that negotiated ADD-PATH sending gets (RFC 7911;
/// FRR `addpath-tx-all-paths` / `addpath-tx-best-selected N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AddPathSend {
    /// Every usable path that passes export.
    #[default]
    All,
    /// The first N usable paths in decision order.
    Best(u8),
}

/// What the RIB needs to know about an established session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    pub id: PeerId,
    pub addr: IpAddr,
    pub remote_as: u32,
    pub remote_id: Ipv4Addr,
    pub ibgp: bool,
    pub caps: SessionCaps,
    /// Our side of the TCP session.
    pub local_addr: IpAddr,
    pub local_v6_global: Option<Ipv6Addr>,
    /// Set only when the peer is on a directly connected link.
    pub local_v6_link_local: Option<Ipv6Addr>,
    pub next_hop_self: bool,
    pub allowas_in: u8,
    pub families: Vec<AfiSafi>,
    /// Route maps and prefix lists in and out, per family.
    pub policy: Bindings,
    pub rr_client: bool,
    /// The peer negotiated enhanced route refresh (RFC 7313).
    pub enhanced_route_refresh: bool,
    /// Both sides advertised Graceful Restart: the peer's (RFC 4724).
    pub graceful_restart: Option<PeerGr>,
    /// Paths sent in the families where `caps.add_path_tx` holds.
    pub add_path_send: AddPathSend,
    /// The interface of a peer on a link-local address, or of the link a
    /// directly connected session runs over: the link-local next hops the
    /// peer sends are on that link (none for a multihop peer).
    pub interface: Option<Arc<str>>,
}

/// A best path (with its multipath siblings) for zebrad.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZebraRoute {
    pub prefix: IpNetwork,
    pub nexthops: Vec<IpAddr>,
    /// The interface of each link-local next hop that came from a peer
    /// on a link-local address (RFC 2545 §3: such an address is only
    /// meaningful on the link of the peer that sent it).
    pub scopes: Vec<(Ipv6Addr, Arc<str>)>,
    /// iBGP (distance 200) or eBGP (distance 20).
    pub ibgp: bool,
    pub med: u32,
    /// One of our aggregates: installed as a blackhole (distance 200).
    pub blackhole: bool,
}

/// Everything a batch produced for peers and nexthop tracking (routes for
/// zebrad wait in the FIB queue: [`Rib::take_fib`]).
#[derive(Debug, Default)]
pub struct RibOutput {
    /// Encoded UPDATE (and ROUTE-REFRESH BoRR/EoRR) messages, in order.
    pub to_peers: Vec<(PeerId, Vec<Bytes>)>,
    pub nht_register: Vec<IpAddr>,
    pub nht_unregister: Vec<IpAddr>,
}

impl RibOutput {
    pub fn is_empty(&self) -> bool {
        self.to_peers.is_empty() && self.nht_register.is_empty() && self.nht_unregister.is_empty()
    }
}

/// One path as `show` displays it.
#[derive(Debug, Clone)]
pub struct PathView {
    pub prefix: IpNetwork,
    pub peer: PeerId,
    /// Loc-RIB: after import policy; Adj-RIB-In: as received; Adj-RIB-Out:
    /// as sent.
    pub attrs: Arc<PathAttributes>,
    pub best: bool,
    pub multipath: bool,
    /// Import policy and loop checks let it in.
    pub accepted: bool,
    /// Why it is not the best (or not usable at all).
    pub reason: Option<Reason>,
    /// Kept from a restarting peer's previous session (RFC 4724).
    pub stale: bool,
    /// The ADD-PATH id it came with, from a peer that sends them (RFC
    /// 7911).
    pub rx_path_id: Option<u32>,
    /// Adj-RIB-Out toward a peer we send ADD-PATH ids to: the id it goes
    /// with.
    pub tx_path_id: Option<u32>,
    /// One of our aggregates (`a` in `show bgp`).
    pub aggregate: bool,
    /// Suppressed toward peers by a summary-only aggregate (`s`).
    pub suppressed: bool,
}

/// Per-family counters of one peer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeerCounts {
    pub received: u64,
    pub accepted: u64,
    pub advertised: u64,
}

/// The families whose routes the RIB holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Fam {
    V4,
    V6,
}

impl Fam {
    pub fn of(p: &IpNetwork) -> Fam {
        match p {
            IpNetwork::V4(_) => Fam::V4,
            IpNetwork::V6(_) => Fam::V6,
        }
    }
    pub fn afi_safi(self) -> AfiSafi {
        match self {
            Fam::V4 => AfiSafi::IPV4_UNICAST,
            Fam::V6 => AfiSafi::IPV6_UNICAST,
        }
    }
    pub fn from_afi_safi(f: AfiSafi) -> Option<Fam> {
        match f {
            AfiSafi::IPV4_UNICAST => Some(Fam::V4),
            AfiSafi::IPV6_UNICAST => Some(Fam::V6),
            _ => None,
        }
    }
    fn idx(self) -> usize {
        self as usize
    }
}

type ImportCache = FastMap<(usize, Applied), (Attrs, Option<Attrs>)>;

#[derive(Debug)]
pub(crate) struct PeerState {
    pub info: PeerInfo,
    /// False between `peer_down` and the end of the next batch (its
    /// paths' old export still has to be computed).
    up: bool,
    since: Instant,
    group: u32,
    import_cache: ImportCache,
    import_last: Option<((usize, Applied), Option<Attrs>)>,
    counts: [PeerCounts; 2],
    /// Routes dropped as leaks (RFC 9234 §5) since the session came up.
    leaks: u64,
    /// Paths of a restarting peer kept stale (RFC 4724 §4.2).
    stale: Option<graceful::Stale>,
    /// The interned attributes of the peer's last UPDATE: a run of
    /// UPDATEs with the same attributes (one prefix each, as many
    /// routers send) costs a comparison, not a hash and lookup.
    last_in: Option<Attrs>,
}

/// A prefix touched in this batch, with what it looked like before.
#[derive(Debug)]
struct Dirty {
    fam: Fam,
    slot: u32,
    old: Option<(PeerId, Attrs)>,
    old_fp: u64,
    /// Whether peers had the prefix suppressed by an aggregate before
    /// (None: as the suppressed set says).
    suppressed: Option<bool>,
}

/// Both families' tables.
#[derive(Debug, Default)]
struct Tables {
    v4: Table<Ipv4Network>,
    v6: Table<Ipv6Network>,
}

impl Tables {
    fn find(&self, p: &IpNetwork) -> Option<(Fam, u32)> {
        match p {
            IpNetwork::V4(n) => self.v4.find(n).map(|i| (Fam::V4, i)),
            IpNetwork::V6(n) => self.v6.find(n).map(|i| (Fam::V6, i)),
        }
    }
    fn find_or_insert(&mut self, p: &IpNetwork) -> (Fam, u32) {
        match p {
            IpNetwork::V4(n) => (Fam::V4, self.v4.find_or_insert(*n)),
            IpNetwork::V6(n) => (Fam::V6, self.v6.find_or_insert(*n)),
        }
    }
    fn dest(&self, fam: Fam, i: u32) -> Option<&Dest> {
        match fam {
            Fam::V4 => self.v4.get(i).map(|s| &s.dest),
            Fam::V6 => self.v6.get(i).map(|s| &s.dest),
        }
    }
    fn dest_mut(&mut self, fam: Fam, i: u32) -> Option<&mut Dest> {
        match fam {
            Fam::V4 => self.v4.get_mut(i).map(|s| &mut s.dest),
            Fam::V6 => self.v6.get_mut(i).map(|s| &mut s.dest),
        }
    }
    fn prefix(&self, fam: Fam, i: u32) -> Option<IpNetwork> {
        match fam {
            Fam::V4 => self.v4.get(i).map(|s| IpNetwork::V4(s.key)),
            Fam::V6 => self.v6.get(i).map(|s| IpNetwork::V6(s.key)),
        }
    }
    fn remove(&mut self, fam: Fam, i: u32) {
        match fam {
            Fam::V4 => self.v4.remove(i),
            Fam::V6 => self.v6.remove(i),
        }
    }
    fn slots(&self, fam: Fam) -> u32 {
        (match fam {
            Fam::V4 => self.v4.slots.len(),
            Fam::V6 => self.v6.slots.len(),
        }) as u32
    }
    fn len(&self, fam: Fam) -> usize {
        match fam {
            Fam::V4 => self.v4.len(),
            Fam::V6 => self.v6.len(),
        }
    }

    /// Insert or replace the path of `path.peer` with ADD-PATH id `id`
    /// (0 without ADD-PATH) for `prefix`, marking the prefix dirty when
    /// something changed; `stale` is the peer's stale mark while it
    /// restarts.
    fn put_path(
        &mut self,
        dirty: &mut Vec<Dirty>,
        prefix: &IpNetwork,
        path: Path,
        id: u32,
        stale: Option<&graceful::Stale>,
    ) -> Put {
        let (fam, slot) = self.find_or_insert(prefix);
        let Some(dest) = self.dest_mut(fam, slot) else {
            return Put::Unchanged;
        };
        match dest.position(path.peer, id) {
            Some(i) => {
                let Some(cur) = dest.paths.as_mut_slice().get_mut(i) else {
                    return Put::Unchanged;
                };
                let same_post = match (&cur.attrs, &path.attrs) {
                    (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                    (None, None) => true,
                    _ => false,
                };
                if Arc::ptr_eq(&cur.attrs_in, &path.attrs_in) && same_post {
                    if stale.is_some_and(|s| s.covers(fam, cur.seq)) {
                        cur.seq = path.seq;
                        return Put::Refreshed;
                    }
                    return Put::Unchanged;
                }
                mark(dirty, dest, fam, slot);
                let Some(cur) = dest.paths.as_mut_slice().get_mut(i) else {
                    return Put::Unchanged;
                };
                Put::Replaced(mem::replace(cur, path))
            }
            None => {
                mark(dirty, dest, fam, slot);
                dest.paths.push(path, id);
                Put::Added
            }
        }
    }

    /// Remove the path of `peer` with ADD-PATH id `id` for `prefix`,
    /// marking the prefix dirty.
    fn take_path(
        &mut self,
        dirty: &mut Vec<Dirty>,
        prefix: &IpNetwork,
        peer: PeerId,
        id: u32,
    ) -> Option<Path> {
        let (fam, slot) = self.find(prefix)?;
        let dest = self.dest_mut(fam, slot)?;
        let i = dest.position(peer, id)?;
        mark(dirty, dest, fam, slot);
        dest.paths.remove(i).map(|(p, _)| p)
    }
}

/// Mark a prefix dirty, remembering its state before the batch.
fn mark(dirty: &mut Vec<Dirty>, dest: &mut Dest, fam: Fam, slot: u32) {
    if dest.flags & DIRTY != 0 {
        return;
    }
    dest.flags |= DIRTY;
    dirty.push(Dirty {
        fam,
        slot,
        old: dest
            .best()
            .and_then(|p| p.attrs.clone().map(|a| (p.peer, a))),
        old_fp: fingerprint(dest, fam),
        suppressed: None,
    });
}

/// The fingerprint of an installed aggregate (a blackhole).
const AGGREGATE_FP: u64 = 0xa99_0001;

/// Next hops of the installed multipath set, sorted and deduplicated.
fn fib_nexthops(dest: &Dest, fam: Fam) -> Vec<IpAddr> {
    let n = usize::from(dest.n_mp);
    let mut nhs: Vec<IpAddr> = dest
        .paths
        .as_slice()
        .iter()
        .take(n)
        .filter_map(|p| p.attrs.as_ref().and_then(|a| nexthop_of(a, fam)))
        .collect();
    nhs.sort();
    nhs.dedup();
    nhs
}

/// The interfaces of the link-local next hops of the installed multipath
/// set: those of the peers that sent them.
fn link_local_scopes(
    dest: &Dest,
    fam: Fam,
    peers: &FastMap<PeerId, PeerState>,
) -> Vec<(Ipv6Addr, Arc<str>)> {
    let n = usize::from(dest.n_mp);
    let mut out: Vec<(Ipv6Addr, Arc<str>)> = Vec::new();
    for p in dest.paths.as_slice().iter().take(n) {
        let Some(IpAddr::V6(nh)) = p.attrs.as_ref().and_then(|a| nexthop_of(a, fam)) else {
            continue;
        };
        if !nh.is_unicast_link_local() || out.iter().any(|(a, _)| *a == nh) {
            continue;
        }
        if let Some(ifname) = peers.get(&p.peer).and_then(|s| s.info.interface.clone()) {
            out.push((nh, ifname));
        }
    }
    out
}

/// A digest of what zebrad has for this prefix (0: nothing installed).
fn fingerprint(dest: &Dest, fam: Fam) -> u64 {
    let Some(best) = dest.best() else {
        return 0;
    };
    let Some(attrs) = best.attrs.as_ref() else {
        return 0;
    };
    if best.peer == LOCAL_PEER {
        // Our aggregates go to zebrad as blackholes; other local routes
        // are zebrad's own.
        return if attrs.aggregator.is_some() {
            AGGREGATE_FP
        } else {
            0
        };
    }
    let mut h = FastHasher::default();
    h.write_u32(best.peer);
    h.write_u32(attrs.med.unwrap_or(0));
    let mut write = |nh: IpAddr| match nh {
        IpAddr::V4(a) => h.write_u32(u32::from(a)),
        IpAddr::V6(a) => {
            let v = u128::from(a);
            h.write_u64((v >> 64) as u64);
            h.write_u64(v as u64);
        }
    };
    if dest.n_mp == 1 {
        if let Some(nh) = nexthop_of(attrs, fam) {
            write(nh);
        }
    } else {
        fib_nexthops(dest, fam).into_iter().for_each(&mut write);
    }
    h.finish() | 1
}

fn zebra_route(
    dest: &Dest,
    fam: Fam,
    prefix: IpNetwork,
    peers: &FastMap<PeerId, PeerState>,
) -> Option<ZebraRoute> {
    let best = dest.best()?;
    let attrs = best.attrs.as_ref()?;
    let blackhole = best.peer == LOCAL_PEER;
    Some(ZebraRoute {
        prefix,
        nexthops: if blackhole {
            Vec::new()
        } else {
            fib_nexthops(dest, fam)
        },
        scopes: if blackhole {
            Vec::new()
        } else {
            link_local_scopes(dest, fam, peers)
        },
        ibgp: peers.get(&best.peer).is_some_and(|p| p.info.ibgp),
        med: attrs.med.unwrap_or(0),
        blackhole,
    })
}

fn source_of(peers: &FastMap<PeerId, PeerState>, peer: PeerId) -> Option<Source> {
    if peer == LOCAL_PEER {
        return Some(Source::local());
    }
    peers.get(&peer).map(|p| Source::of(&p.info))
}

/// Loop checks on received attributes (RFC 4271 §9.1.2, RFC 4456 §8).
pub(crate) fn loop_reason(cfg: &RibConfig, info: &PeerInfo, a: &PathAttributes) -> Option<Reason> {
    if let Some(path) = &a.as_path {
        let own = path.asns().filter(|&x| x == cfg.local_as).count();
        if own > usize::from(info.allowas_in) {
            return Some(Reason::AsLoop);
        }
    }
    if info.ibgp {
        if a.originator_id == Some(cfg.router_id) {
            return Some(Reason::OriginatorLoop);
        }
        if a.cluster_list
            .contains(&cfg.cluster_id.unwrap_or(cfg.router_id))
        {
            return Some(Reason::ClusterLoop);
        }
    }
    None
}

/// Adj-RIB-In → post-import attributes (`None`: not accepted).
fn import(
    cfg: &RibConfig,
    policies: &Policies,
    interner: &mut Interner,
    ps: &mut PeerState,
    prefix: &IpNetwork,
    attrs_in: &Attrs,
) -> Option<Attrs> {
    let role = ps.info.caps.local_role;
    let mark = match otc::ingress(role, ps.info.remote_as, attrs_in) {
        otc::Ingress::Leak => return None,
        otc::Ingress::Mark(asn) => Some(asn),
        otc::Ingress::Keep => None,
    };
    let filter = ps.info.policy.inbound(Fam::of(prefix).afi_safi());
    let route = Route {
        prefix,
        peer: Some(ps.info.addr),
    };
    let applied = match policies.filter(filter, &route, attrs_in) {
        Some(Verdict::Reject) => return None,
        Some(Verdict::Accept(applied)) => applied,
        // RFC 8212 §2: nothing from an eBGP peer without import policy.
        None if ps.info.ibgp => Applied::NONE,
        None => return None,
    };
    let key = (Arc::as_ptr(attrs_in) as usize, applied);
    // RFC 8326 §4.2: a route in graceful shutdown is least preferred.
    let gshut = attrs_in.communities.contains(&Community::GRACEFUL_SHUTDOWN);
    if let Some((k, out)) = &ps.import_last {
        if *k == key {
            return out.clone();
        }
    }
    if let Some((_, out)) = ps.import_cache.get(&key) {
        ps.import_last = Some((key, out.clone()));
        return out.clone();
    }
    let out = if loop_reason(cfg, &ps.info, attrs_in).is_some() {
        None
    } else {
        // RFC 4271 §5.1.5: LOCAL_PREF from an eBGP peer is ignored.
        let strip = !ps.info.ibgp && attrs_in.local_pref.is_some();
        if strip || gshut || mark.is_some() || !key.1.is_none() {
            let mut a = PathAttributes::clone(attrs_in);
            if strip {
                a.local_pref = None;
            }
            if mark.is_some() {
                a.otc = mark;
            }
            let (self_v4, self_v6) = self_addrs(ps.info.local_addr, ps.info.local_v6_global);
            let env = Env {
                prefix,
                self_v4,
                self_v6,
                original: attrs_in,
            };
            policies.apply(&key.1, &mut a, &env);
            if gshut {
                a.local_pref = Some(0);
            }
            Some(interner.intern(a))
        } else {
            Some(attrs_in.clone())
        }
    };
    ps.import_last = Some((key.clone(), out.clone()));
    ps.import_cache.insert(key, (attrs_in.clone(), out.clone()));
    out
}

/// Our IPv4 and IPv6 addresses on a session (`set next_hop = "self"`).
pub(crate) fn self_addrs(
    local: IpAddr,
    v6_global: Option<Ipv6Addr>,
) -> (Option<Ipv4Addr>, Option<Ipv6Addr>) {
    match local {
        IpAddr::V4(a) => (Some(a), v6_global),
        IpAddr::V6(a) => (None, v6_global.or(Some(a))),
    }
}

/// Messages queued per peer, in order.
#[derive(Debug, Default)]
struct OutBuf {
    peers: Vec<(PeerId, Vec<Bytes>)>,
    index: FastMap<PeerId, usize>,
}

impl OutBuf {
    fn send(&mut self, peer: PeerId, msgs: Vec<Bytes>) {
        if msgs.is_empty() {
            return;
        }
        match self.index.get(&peer) {
            Some(&i) => {
                if let Some((_, v)) = self.peers.get_mut(i) {
                    v.extend(msgs);
                }
            }
            None => {
                self.index.insert(peer, self.peers.len());
                self.peers.push((peer, msgs));
            }
        }
    }

    fn drop_peer(&mut self, peer: PeerId) {
        if self.index.remove(&peer).is_some() {
            self.peers.retain(|(p, _)| *p != peer);
            self.index = self
                .peers
                .iter()
                .enumerate()
                .map(|(i, (p, _))| (*p, i))
                .collect();
        }
    }
}

/// What replacing a path did.
enum Put {
    Unchanged,
    Added,
    Replaced(Path),
    /// The same path as a stale one of the peer's previous session: now
    /// fresh.
    Refreshed,
}

/// The RIB: single owner of every path, best path and export decision.
pub struct Rib {
    cfg: RibConfig,
    policies: Policies,
    /// The policies before `set_policies`, until that batch is processed.
    old_policies: Option<Policies>,
    peers: FastMap<PeerId, PeerState>,
    groups: FastMap<u32, Group>,
    next_group: u32,
    tables: Tables,
    dirty: Vec<Dirty>,
    interner: Interner,
    nht: Nht,
    /// One UPDATE's next-hop reference changes (kept for its allocation:
    /// a list per UPDATE showed in profiles of one-prefix UPDATEs).
    nh_deltas: NhDeltas,
    seq: u32,
    out: OutBuf,
    /// TX path ids toward ADD-PATH peers (RFC 7911); empty without them.
    tx_ids: add_path::TxIds,
    fib: FibQueue,
    /// `[[aggregate]]`s (RFC 4271 §9.2.2.2); empty: no cost.
    aggregates: aggregate::Aggregates,
}

impl Rib {
    pub fn new(cfg: RibConfig, policies: Policies) -> Rib {
        Rib {
            cfg,
            policies,
            old_policies: None,
            peers: FastMap::default(),
            groups: FastMap::default(),
            next_group: 0,
            tables: Tables::default(),
            dirty: Vec::new(),
            interner: Interner::default(),
            nht: Nht::default(),
            nh_deltas: NhDeltas::default(),
            seq: 0,
            out: OutBuf::default(),
            tx_ids: add_path::TxIds::default(),
            fib: FibQueue::default(),
            aggregates: aggregate::Aggregates::default(),
        }
    }

    /// Replaces the aggregates; the next batch originates, changes or
    /// withdraws them and their contributors' suppression.
    pub fn set_aggregates(&mut self, list: Vec<AggregateConfig>) {
        let mut before = Vec::new();
        for fam in [Fam::V4, Fam::V6] {
            for slot in 0..self.tables.slots(fam) {
                if let Some(p) = self.tables.prefix(fam, slot) {
                    before.push((p, self.aggregates.is_suppressed(&p)));
                }
            }
        }
        for gone in self.aggregates.set(list) {
            self.withdraw_local(gone);
        }
        let changes = before
            .into_iter()
            .filter(|(p, was)| self.aggregates.is_suppressed(p) != *was)
            .collect();
        self.mark_suppression(changes);
    }

    pub fn aggregates(&self) -> impl Iterator<Item = &AggregateConfig> {
        self.aggregates.configs()
    }

    /// Re-export prefixes whose suppression changed (`was`: before).
    fn mark_suppression(&mut self, changes: Vec<(IpNetwork, bool)>) {
        for (prefix, was) in changes {
            let Some((fam, slot)) = self.tables.find(&prefix) else {
                continue;
            };
            let Some(dest) = self.tables.dest_mut(fam, slot) else {
                continue;
            };
            if dest.flags & DIRTY == 0 {
                mark(&mut self.dirty, dest, fam, slot);
                if let Some(d) = self.dirty.last_mut() {
                    d.suppressed = Some(was);
                }
            }
        }
    }

    /// Recompute the aggregates a batch touched: follow the contributors
    /// whose best path changed (scan the table for their more-specific
    /// best paths only for a new aggregate), originate or withdraw the
    /// aggregate (marked dirty for the next round).
    fn refresh_aggregates(&mut self) {
        for t in self.aggregates.take_touched() {
            let agg = t.cfg;
            let fam = Fam::of(&agg.prefix);
            let tables = &self.tables;
            let best = |p: &IpNetwork| {
                tables
                    .find(p)
                    .and_then(|(f, slot)| tables.dest(f, slot))
                    .and_then(|d| d.best())
                    .and_then(|b| b.attrs.clone())
            };
            let found = t.rescan.then(|| {
                (0..tables.slots(fam))
                    .filter_map(|slot| tables.prefix(fam, slot))
                    .filter(|p| aggregate::more_specific(&agg.prefix, p))
                    .filter(|p| best(p).is_some())
                    .collect()
            });
            let contributors =
                self.aggregates
                    .update_contributors(&agg.prefix, found, &t.changed, |p| best(p).is_some());
            if contributors.is_empty() {
                tracing::debug!(prefix = %agg.prefix, "aggregate without contributors: withdrawn");
                self.withdraw_local(agg.prefix);
            } else {
                // Only an AS_SET aggregate summarizes its contributors'
                // attributes; the others need no lookup.
                let attrs: Vec<Attrs> = if agg.as_set {
                    contributors.iter().filter_map(&best).collect()
                } else {
                    Vec::new()
                };
                let refs: Vec<&PathAttributes> = attrs.iter().map(|a| &**a).collect();
                let summary = aggregate::summarize(&self.cfg, &agg, &refs);
                self.originate_attrs(agg.prefix, None, summary);
            }
        }
    }

    pub fn config(&self) -> &RibConfig {
        &self.cfg
    }

    pub fn policies(&self) -> &Policies {
        &self.policies
    }

    /// Replace the policies and the bindings of the peers in `rebind`
    /// (new route maps or prefix lists on a neighbor), without resetting
    /// any session: every stored Adj-RIB-In path is re-imported and every
    /// peer gets the difference between what the old and the new export
    /// policies send.
    pub fn set_policies(&mut self, p: Policies, rebind: &[(PeerId, Bindings)]) {
        self.process();
        let old = mem::replace(&mut self.policies, p);
        for g in self.groups.values_mut() {
            g.old_cache = mem::take(&mut g.cache);
        }
        for (id, b) in rebind {
            self.rebind(*id, b.clone());
        }
        for ps in self.peers.values_mut() {
            ps.import_cache.clear();
            ps.import_last = None;
        }
        self.old_policies = Some(old);
        let mut deltas = NhDeltas::default();
        let Rib {
            cfg,
            policies,
            peers,
            tables,
            dirty,
            interner,
            nht,
            ..
        } = self;
        for fam in [Fam::V4, Fam::V6] {
            for slot in 0..tables.slots(fam) {
                let Some(prefix) = tables.prefix(fam, slot) else {
                    continue;
                };
                let Some(dest) = tables.dest_mut(fam, slot) else {
                    continue;
                };
                mark(dirty, dest, fam, slot);
                for path in dest.paths.as_mut_slice() {
                    let Some(ps) = peers.get_mut(&path.peer) else {
                        continue;
                    };
                    let post = import(cfg, policies, interner, ps, &prefix, &path.attrs_in);
                    let same = match (&post, &path.attrs) {
                        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                        (None, None) => true,
                        _ => false,
                    };
                    if same {
                        continue;
                    }
                    let counts = &mut ps.counts[fam.idx()];
                    if let Some(nh) = path.attrs.as_ref().and_then(|a| nexthop_of(a, fam)) {
                        deltas.add(nh, -1);
                    }
                    if let Some(nh) = post.as_ref().and_then(|a| nexthop_of(a, fam)) {
                        deltas.add(nh, 1);
                    }
                    counts.accepted = (counts.accepted + u64::from(post.is_some()))
                        .saturating_sub(u64::from(path.attrs.is_some()));
                    path.attrs = post;
                    deltas.maybe_apply(nht);
                }
            }
        }
        deltas.apply(nht);
        self.process();
    }

    /// Give peer `id` new bindings; when its outbound part changes, the
    /// peer moves to a group of its own that remembers the old key (the
    /// reload's batch sends it the difference).
    fn rebind(&mut self, id: PeerId, b: Bindings) {
        let Some(ps) = self.peers.get_mut(&id).filter(|p| p.up) else {
            return;
        };
        ps.info.policy = b;
        let key = GroupKey::of(&ps.info);
        let old_gid = ps.group;
        let Some(old) = self.groups.get_mut(&old_gid) else {
            return;
        };
        if old.key == key {
            return;
        }
        let old_key = old.key.clone();
        old.members.retain(|m| *m != id);
        old.exceptions.remove(&id);
        let sent = old.add_path_out.remove(&id);
        if old.members.is_empty() {
            self.groups.remove(&old_gid);
        }
        let gid = self.next_group;
        self.next_group = self.next_group.wrapping_add(1);
        let mut g = Group::new(key);
        g.members.push(id);
        g.old_key = Some(old_key);
        if let Some(sent) = sent {
            g.add_path_out.insert(id, sent);
        }
        self.groups.insert(gid, g);
        ps.group = gid;
        tracing::debug!(
            peer = id,
            group = gid,
            "outbound policy changed: own update group"
        );
    }

    /// A session reached Established: queue its full Adj-RIB-Out, then
    /// End-of-RIB for each family.
    pub fn peer_up(&mut self, info: PeerInfo, now: Instant) {
        if self.peers.get(&info.id).is_some_and(|p| p.up) {
            self.peer_down(info.id);
        }
        self.process();
        let stale = self.peers.get_mut(&info.id).and_then(|p| p.stale.take());
        let id = info.id;
        if id == LOCAL_PEER {
            tracing::error!(peer = id, "peer id 0 is reserved for local routes");
            return;
        }
        let fams = [Fam::V4, Fam::V6].map(|f| f.afi_safi());
        if !info.ibgp && fams.iter().any(|f| info.policy.inbound(*f).is_empty()) {
            tracing::info!(peer = id, addr = %info.addr, "eBGP peer has no import policy: accepting no routes (RFC 8212)");
        }
        if !info.ibgp && fams.iter().any(|f| info.policy.outbound(*f).is_empty()) {
            tracing::info!(peer = id, addr = %info.addr, "eBGP peer has no export policy: sending no routes (RFC 8212)");
        }
        let key = GroupKey::of(&info);
        let gid = match self.groups.iter().find(|(_, g)| g.key == key) {
            Some((gid, _)) => *gid,
            None => {
                let gid = self.next_group;
                self.next_group = self.next_group.wrapping_add(1);
                self.groups.insert(gid, Group::new(key));
                gid
            }
        };
        if let Some(g) = self.groups.get_mut(&gid) {
            g.members.push(id);
        }
        let families = info.families.clone();
        let caps = info.caps.clone();
        self.peers.insert(
            id,
            PeerState {
                info,
                up: true,
                since: now,
                group: gid,
                import_cache: ImportCache::default(),
                import_last: None,
                counts: [PeerCounts::default(); 2],
                leaks: 0,
                stale: None,
                last_in: None,
            },
        );
        self.resume_stale(id, stale, now);
        // Families held elsewhere (L2VPN EVPN: `crate::evpn`) send their
        // own dump and End-of-RIB.
        for family in &families {
            let Some(fam) = Fam::from_afi_safi(*family) else {
                continue;
            };
            self.dump(id, fam);
            match Message::Update(Update::end_of_rib(*family)).to_bytes(&caps) {
                Ok(b) => self.out.send(id, vec![b]),
                Err(e) => tracing::warn!(peer = id, error = %e, "cannot encode End-of-RIB"),
            }
        }
        tracing::debug!(peer = id, "peer up in RIB");
    }

    /// The session ended: its paths (stale ones of an earlier session
    /// included) are withdrawn and nothing more is queued for it.
    pub fn peer_down(&mut self, id: PeerId) {
        if self.detach_peer(id) {
            if let Some(ps) = self.peers.get_mut(&id) {
                ps.stale = None;
            }
            self.sweep(id, |_, _| true);
        }
    }

    /// Take a peer out of its update group and drop its queued output;
    /// its paths stay. False when it was not up.
    fn detach_peer(&mut self, id: PeerId) -> bool {
        let Some(ps) = self.peers.get_mut(&id) else {
            return false;
        };
        if !ps.up {
            return false;
        }
        ps.up = false;
        ps.counts = [PeerCounts::default(); 2];
        let gid = ps.group;
        if let Some(g) = self.groups.get_mut(&gid) {
            g.members.retain(|m| *m != id);
            g.exceptions.remove(&id);
            g.add_path_out.remove(&id);
            if g.members.is_empty() {
                self.groups.remove(&gid);
            }
        }
        self.out.drop_peer(id);
        tracing::debug!(peer = id, "peer down in RIB");
        true
    }

    /// Remove every path of `peer` that `which(family, arrival)` selects
    /// (everything on a session end; the stale ones at End-of-RIB or when
    /// the graceful restart timers run out).
    fn sweep(&mut self, peer: PeerId, which: impl Fn(Fam, u32) -> bool) {
        let mut deltas = NhDeltas::default();
        let Rib {
            tables, dirty, nht, ..
        } = self;
        for fam in [Fam::V4, Fam::V6] {
            for slot in 0..tables.slots(fam) {
                let Some(dest) = tables.dest_mut(fam, slot) else {
                    continue;
                };
                // Every path of the peer: several with ADD-PATH.
                let mut i = 0;
                while let Some(p) = dest.paths.as_slice().get(i) {
                    if p.peer != peer || !which(fam, p.seq) {
                        i += 1;
                        continue;
                    }
                    mark(dirty, dest, fam, slot);
                    if let Some((old, _)) = dest.paths.remove(i) {
                        if let Some(nh) = old.attrs.as_ref().and_then(|a| nexthop_of(a, fam)) {
                            if old.peer != LOCAL_PEER {
                                deltas.add(nh, -1);
                            }
                        }
                    }
                    deltas.maybe_apply(nht);
                }
            }
        }
        deltas.apply(nht);
    }

    /// One UPDATE from a peer (RFC 4271 §9): withdrawals, then
    /// announcements replacing that peer's previous path (implicit
    /// withdraw). Treat-as-withdraw (RFC 7606) withdraws all its NLRI.
    pub fn update(&mut self, id: PeerId, u: &ParsedUpdate, _now: Instant) {
        let Rib {
            cfg,
            policies,
            peers,
            tables,
            dirty,
            interner,
            nht,
            nh_deltas: deltas,
            seq,
            ..
        } = self;
        let Some(ps) = peers.get_mut(&id) else {
            tracing::warn!(peer = id, "UPDATE from a peer the RIB does not know");
            return;
        };
        if !ps.up {
            return;
        }
        if let crate::packet::UpdateAction::TreatAsWithdraw { reasons } = &u.report.action {
            tracing::info!(peer = id, ?reasons, "malformed UPDATE treated as withdraw");
        }
        *seq = seq.wrapping_add(1);
        let seq = *seq;

        for (family, nlri) in u.withdrawn() {
            let Some(fam) = Fam::from_afi_safi(family) else {
                continue;
            };
            let path_id = nlri.path_id.unwrap_or(0);
            if let Some(old) = tables.take_path(dirty, &nlri.prefix, id, path_id) {
                let c = &mut ps.counts[fam.idx()];
                // A stale path was never counted in this session.
                let counted = !ps.stale.as_ref().is_some_and(|s| s.covers(fam, old.seq));
                if counted {
                    c.received = c.received.saturating_sub(1);
                }
                if let Some(a) = &old.attrs {
                    if counted {
                        c.accepted = c.accepted.saturating_sub(1);
                    }
                    if let Some(nh) = nexthop_of(a, fam) {
                        deltas.add(nh, -1);
                    }
                }
                deltas.maybe_apply(nht);
            }
        }
        let mut announced = u.announced().peekable();
        if announced.peek().is_some() {
            let attrs = &u.update.attributes;
            let attrs_in = if attrs.as4_path.is_some() || attrs.as4_aggregator.is_some() {
                let mut a = attrs.clone();
                a.reconcile_as4();
                interner.intern(a)
            } else {
                match &ps.last_in {
                    Some(last) if **last == *attrs => last.clone(),
                    _ => {
                        let a = interner.intern_ref(attrs);
                        ps.last_in = Some(a.clone());
                        a
                    }
                }
            };
            let leak = ps.info.caps.local_role.is_some()
                && otc::ingress(ps.info.caps.local_role, ps.info.remote_as, &attrs_in)
                    == otc::Ingress::Leak;
            if leak {
                tracing::info!(peer = id, addr = %ps.info.addr, otc = ?attrs_in.otc, "route leak dropped (RFC 9234 OTC)");
            }
            for (family, nlri) in announced {
                let Some(fam) = Fam::from_afi_safi(family) else {
                    continue;
                };
                let prefix = nlri.prefix;
                ps.leaks += u64::from(leak);
                let post = import(cfg, policies, interner, ps, &prefix, &attrs_in);
                let nh = post.as_ref().and_then(|a| nexthop_of(a, fam));
                let accepted = post.is_some();
                let path = Path {
                    attrs_in: attrs_in.clone(),
                    attrs: post,
                    peer: id,
                    seq,
                };
                let stale = ps.stale.as_ref();
                let c = &mut ps.counts[fam.idx()];
                let path_id = nlri.path_id.unwrap_or(0);
                match tables.put_path(dirty, &prefix, path, path_id, stale) {
                    Put::Unchanged => continue,
                    Put::Added => c.received += 1,
                    Put::Refreshed => {
                        c.received += 1;
                        c.accepted += u64::from(accepted);
                        continue;
                    }
                    Put::Replaced(old) => {
                        let was_stale = stale.is_some_and(|s| s.covers(fam, old.seq));
                        if was_stale {
                            c.received += 1;
                        }
                        if let Some(a) = &old.attrs {
                            if !was_stale {
                                c.accepted = c.accepted.saturating_sub(1);
                            }
                            if let Some(nh) = nexthop_of(a, fam) {
                                deltas.add(nh, -1);
                            }
                        }
                    }
                }
                c.accepted += u64::from(accepted);
                if let Some(nh) = nh {
                    deltas.add(nh, 1);
                }
            }
        }
        deltas.apply(nht);
    }

    /// The peer asked for its Adj-RIB-Out again (RFC 2918), bracketed by
    /// BoRR/EoRR when it speaks enhanced route refresh (RFC 7313).
    pub fn route_refresh(&mut self, id: PeerId, family: AfiSafi) {
        self.process();
        let Some(ps) = self.peers.get(&id).filter(|p| p.up) else {
            return;
        };
        if !ps.info.families.contains(&family) {
            tracing::info!(peer = id, %family, "route refresh for a family not negotiated");
            return;
        }
        let enhanced = ps.info.enhanced_route_refresh;
        let caps = ps.info.caps.clone();
        let marker = |st| Message::RouteRefresh(RouteRefresh::new(family, st)).to_bytes(&caps);
        if enhanced {
            if let Ok(b) = marker(RouteRefreshSubtype::Begin) {
                self.out.send(id, vec![b]);
            }
        }
        if let Some(fam) = Fam::from_afi_safi(family) {
            self.dump(id, fam);
        }
        if enhanced {
            if let Ok(b) = marker(RouteRefreshSubtype::End) {
                self.out.send(id, vec![b]);
            }
        }
    }

    /// A locally originated route (`network` statement or redistribution).
    pub fn originate(
        &mut self,
        prefix: IpNetwork,
        origin: Origin,
        nexthop: Option<IpAddr>,
        med: Option<u32>,
        communities: Vec<Community>,
    ) {
        let attrs = PathAttributes {
            origin: Some(origin),
            as_path: Some(AsPath::default()),
            med,
            communities,
            weight: LOCAL_WEIGHT,
            ..PathAttributes::default()
        };
        self.originate_attrs(prefix, nexthop, attrs);
    }

    /// A `network` statement: the local path (origin IGP, empty AS path)
    /// through its route map when it has one (FRR's `network PREFIX
    /// route-map NAME`: the map's sets apply; a deny, or no such map,
    /// withdraws the network instead). Returns whether it is originated.
    pub fn originate_network(&mut self, prefix: IpNetwork, route_map: Option<&str>) -> bool {
        let mut attrs = PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::default()),
            weight: LOCAL_WEIGHT,
            ..PathAttributes::default()
        };
        if let Some(name) = route_map {
            let route = Route {
                prefix: &prefix,
                peer: None,
            };
            match self.policies.evaluate(name, &route, &attrs) {
                Verdict::Reject => {
                    tracing::info!(%prefix, route_map = name, "network denied by its route map");
                    self.withdraw_local(prefix);
                    return false;
                }
                Verdict::Accept(applied) => {
                    let original = attrs.clone();
                    let env = Env {
                        prefix: &prefix,
                        self_v4: None,
                        self_v6: None,
                        original: &original,
                    };
                    self.policies.apply(&applied, &mut attrs, &env);
                }
            }
        }
        self.originate_attrs(prefix, None, attrs);
        true
    }

    /// A locally originated route with the given attributes (origin, AS
    /// path, MED, communities, weight...: what a redistributed anycast
    /// route carries); the next hop is set from `nexthop`.
    pub fn originate_attrs(
        &mut self,
        prefix: IpNetwork,
        nexthop: Option<IpAddr>,
        mut attrs: PathAttributes,
    ) {
        match (prefix, nexthop) {
            (IpNetwork::V4(_), Some(IpAddr::V4(a))) => attrs.next_hop = Some(a),
            (_, Some(IpAddr::V6(global))) => {
                attrs.mp_next_hop = Some(MpNextHop::V6 {
                    global,
                    link_local: None,
                })
            }
            (IpNetwork::V6(_), Some(IpAddr::V4(a))) => attrs.mp_next_hop = Some(MpNextHop::V4(a)),
            (_, None) => {}
        }
        let a = self.interner.intern(attrs);
        self.seq = self.seq.wrapping_add(1);
        let path = Path {
            attrs_in: a.clone(),
            attrs: Some(a),
            peer: LOCAL_PEER,
            seq: self.seq,
        };
        self.tables
            .put_path(&mut self.dirty, &prefix, path, 0, None);
    }

    pub fn withdraw_local(&mut self, prefix: IpNetwork) {
        self.tables
            .take_path(&mut self.dirty, &prefix, LOCAL_PEER, 0);
    }

    /// zebrad's nexthop tracking answer for a registered next hop.
    pub fn nexthop_update(&mut self, addr: IpAddr, reachable: bool, igp_metric: u32) {
        if !self.nht.update(addr, reachable, igp_metric) {
            tracing::trace!(%addr, "nexthop update without change or not tracked");
        }
    }

    /// Run the batch and hand over everything it produced.
    pub fn take_output(&mut self) -> RibOutput {
        self.process();
        let out = mem::take(&mut self.out);
        RibOutput {
            to_peers: out.peers,
            nht_register: mem::take(&mut self.nht.register),
            nht_unregister: mem::take(&mut self.nht.unregister),
        }
    }

    /// Queue the whole Adj-RIB-Out of one family for one peer.
    fn dump(&mut self, id: PeerId, fam: Fam) {
        if self
            .peers
            .get(&id)
            .is_some_and(|p| p.info.caps.add_path_tx(fam.afi_safi()))
        {
            return self.dump_add_path(id, fam);
        }
        let Rib {
            cfg,
            policies,
            peers,
            groups,
            tables,
            interner,
            out,
            aggregates,
            ..
        } = self;
        let Some(gid) = peers.get(&id).map(|p| p.group) else {
            return;
        };
        let Some(g) = groups.get_mut(&gid) else {
            return;
        };
        let mut pending = Pending::default();
        let mut count = 0u64;
        for slot in 0..tables.slots(fam) {
            let Some(best) = tables.dest(fam, slot).and_then(|d| d.best()) else {
                continue;
            };
            if best.peer == id {
                continue;
            }
            let (Some(attrs), Some(src), Some(prefix)) = (
                best.attrs.as_ref(),
                source_of(peers, best.peer),
                tables.prefix(fam, slot),
            ) else {
                continue;
            };
            if aggregates.is_suppressed(&prefix) {
                continue;
            }
            if let Some(a) = export(
                cfg,
                policies,
                &g.key,
                &mut g.cache,
                interner,
                &src,
                &prefix,
                attrs,
            ) {
                pending.announce(&a, prefix);
                count += 1;
            }
        }
        out.send(id, pending.pack(&g.key.caps, &[id]));
        if let Some(ps) = peers.get_mut(&id) {
            ps.counts[fam.idx()].advertised = count;
        }
    }

    /// [`Rib::dump`] toward a peer we send ADD-PATH ids to: every path
    /// it gets, recorded in its Adj-RIB-Out.
    fn dump_add_path(&mut self, id: PeerId, fam: Fam) {
        let Rib {
            cfg,
            policies,
            peers,
            groups,
            tables,
            interner,
            nht,
            out,
            tx_ids,
            aggregates,
            ..
        } = self;
        let Some(gid) = peers.get(&id).map(|p| p.group) else {
            return;
        };
        let Some(g) = groups.get_mut(&gid) else {
            return;
        };
        let memo = decision::Memo::new(None);
        let ctx = Ctx::new(cfg, peers, nht, &memo);
        let sources = |p: PeerId| source_of(peers, p);
        let env = add_path::Env {
            cfg,
            policies,
            ctx: &ctx,
            sources: &sources,
        };
        let mut pending = Pending::default();
        let mut count = 0u64;
        for slot in 0..tables.slots(fam) {
            let (Some(dest), Some(prefix)) = (tables.dest(fam, slot), tables.prefix(fam, slot))
            else {
                continue;
            };
            if aggregates.is_suppressed(&prefix) {
                continue;
            }
            count += add_path::dump_prefix(
                &env,
                g,
                interner,
                tx_ids,
                id,
                prefix,
                Some(dest),
                &mut pending,
            ) as u64;
        }
        out.send(id, pending.pack(&g.key.caps, &[id]));
        if let Some(ps) = peers.get_mut(&id) {
            ps.counts[fam.idx()].advertised = count;
        }
    }

    /// Re-run the decision for prefixes whose next hops changed.
    fn scan_nexthops(&mut self) {
        let changed = mem::take(&mut self.nht.changed);
        let mut memo: FastMap<(usize, Fam), bool> = FastMap::default();
        let Rib { tables, dirty, .. } = self;
        for fam in [Fam::V4, Fam::V6] {
            for slot in 0..tables.slots(fam) {
                let Some(dest) = tables.dest_mut(fam, slot) else {
                    continue;
                };
                let hit = dest.paths.as_slice().iter().any(|p| {
                    p.peer != LOCAL_PEER
                        && p.attrs.as_ref().is_some_and(|a| {
                            *memo
                                .entry((Arc::as_ptr(a) as usize, fam))
                                .or_insert_with(|| {
                                    nexthop_of(a, fam).is_some_and(|nh| changed.contains(&nh))
                                })
                        })
                });
                if hit {
                    mark(dirty, dest, fam, slot);
                }
            }
        }
    }

    /// Run the decision for every prefix touched since the last batch and
    /// queue the resulting UPDATEs and zebrad changes.
    pub fn process(&mut self) {
        if !self.nht.changed.is_empty() {
            self.scan_nexthops();
        }
        let mut dirty = mem::take(&mut self.dirty);
        let reload = self.old_policies.is_some();
        // Families some group sends ADD-PATH in (no work here otherwise).
        let add_path_fams =
            [Fam::V4, Fam::V6].map(|f| self.groups.values().any(|g| g.key.add_path(f)));
        if add_path_fams == [false, false] {
            // Nobody takes TX ids any more: none is advertised.
            self.tx_ids.clear();
        }
        let Rib {
            cfg,
            policies,
            old_policies,
            peers,
            groups,
            tables,
            interner,
            nht,
            out,
            fib,
            tx_ids,
            aggregates,
            ..
        } = self;
        let old_pol: &Policies = old_policies.as_ref().unwrap_or(policies);
        // Valid for the whole batch: next-hop states do not change in it.
        let memo = decision::Memo::new(None);
        for d in dirty.drain(..) {
            let Some(prefix) = tables.prefix(d.fam, d.slot) else {
                continue;
            };
            let Some(dest) = tables.dest_mut(d.fam, d.slot) else {
                continue;
            };
            dest.flags &= !DIRTY;
            decision::select(dest, d.fam, &Ctx::new(cfg, peers, nht, &memo));
            let new = dest
                .best()
                .and_then(|p| p.attrs.clone().map(|a| (p.peer, a)));
            if fingerprint(dest, d.fam) != d.old_fp {
                fib.push(dest, d.fam, d.slot);
            }
            // A queued prefix keeps its slot until zebrad is told.
            let empty = dest.paths.is_empty() && dest.flags & FIB == 0;
            let same = match (&d.old, &new) {
                (Some((pa, a)), Some((pb, b))) => pa == pb && Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            };
            // Aggregates: a contributor changed; summary-only suppression.
            let (was_suppressed, suppressed) = if aggregates.is_empty() {
                (false, false)
            } else {
                if !same {
                    aggregates.touch(&prefix);
                }
                let now = aggregates.is_suppressed(&prefix);
                (d.suppressed.unwrap_or(now), now)
            };
            if add_path_fams.get(d.fam.idx()).copied().unwrap_or(false) {
                let ctx = Ctx::new(cfg, peers, nht, &memo);
                let sources = |p: PeerId| source_of(peers, p);
                let env = add_path::Env {
                    cfg,
                    policies,
                    ctx: &ctx,
                    sources: &sources,
                };
                let dest: &Dest = dest;
                let mut counts = Vec::new();
                // Suppressed by a summary-only aggregate: no path offered.
                let offered = (!suppressed).then_some(dest);
                for g in groups.values_mut().filter(|g| g.key.add_path(d.fam)) {
                    counts.extend(add_path::update(&env, g, interner, tx_ids, prefix, offered));
                }
                for (m, old, new) in counts {
                    if let Some(ps) = peers.get_mut(&m) {
                        let c = &mut ps.counts[d.fam.idx()];
                        c.advertised = (c.advertised + new as u64).saturating_sub(old as u64);
                    }
                }
            }
            if !same || reload || was_suppressed != suppressed {
                let old_src = d.old.as_ref().and_then(|(p, _)| source_of(peers, *p));
                let new_src = new.as_ref().and_then(|(p, _)| source_of(peers, *p));
                for g in groups.values_mut().filter(|g| !g.key.add_path(d.fam)) {
                    let old_cache = if reload {
                        &mut g.old_cache
                    } else {
                        &mut g.cache
                    };
                    let old_g = match (&d.old, &old_src) {
                        _ if was_suppressed => None,
                        (Some((_, a)), Some(src)) => {
                            let key = g.old_key.as_ref().unwrap_or(&g.key);
                            export(cfg, old_pol, key, old_cache, interner, src, &prefix, a)
                        }
                        _ => None,
                    };
                    let new_g = match (&new, &new_src) {
                        _ if suppressed => None,
                        (Some((_, a)), Some(src)) => export(
                            cfg,
                            policies,
                            &g.key,
                            &mut g.cache,
                            interner,
                            src,
                            &prefix,
                            a,
                        ),
                        _ => None,
                    };
                    let gc = change(old_g.as_ref(), new_g.as_ref());
                    g.pending.push(prefix, &gc);
                    for &m in &g.members {
                        let old_m = old_g
                            .as_ref()
                            .filter(|_| old_src.map(|s| s.peer) != Some(m));
                        let new_m = new_g
                            .as_ref()
                            .filter(|_| new_src.map(|s| s.peer) != Some(m));
                        if let Some(ps) = peers.get_mut(&m) {
                            let c = &mut ps.counts[d.fam.idx()];
                            c.advertised = (c.advertised + u64::from(new_m.is_some()))
                                .saturating_sub(u64::from(old_m.is_some()));
                        }
                        let mc = change(old_m, new_m);
                        if mc != gc {
                            let ex = g.exceptions.entry(m).or_default();
                            if gc != Change::None {
                                ex.skip.push(prefix);
                            }
                            ex.own.push(prefix, &mc);
                        }
                    }
                }
            }
            if empty {
                tables.remove(d.fam, d.slot);
            }
        }
        for g in groups.values_mut() {
            g.flush(|peer, msgs| out.send(peer, msgs));
        }
        if self.dirty.is_empty() {
            // Keep the allocation for the next batch.
            self.dirty = dirty;
        }
        let Rib {
            peers,
            groups,
            interner,
            old_policies,
            ..
        } = self;
        // Peers that went down in this batch: forget them now.
        let gone: Vec<PeerId> = peers
            .iter()
            .filter(|(_, p)| !p.up && p.stale.is_none())
            .map(|(id, _)| *id)
            .collect();
        for id in gone {
            peers.remove(&id);
            self.tx_ids.forget_peer(id);
            for g in groups.values_mut() {
                g.cache.forget_source(id);
            }
        }
        if old_policies.take().is_some() {
            for g in groups.values_mut() {
                g.old_cache.clear();
                g.old_key = None;
            }
        }
        if interner.wants_purge() {
            for g in groups.values_mut() {
                g.cache.clear();
            }
            for ps in peers.values_mut() {
                ps.import_cache.clear();
                ps.import_last = None;
            }
            interner.purge();
        }
        // Aggregates follow their contributors' final best paths; what
        // that changes (the aggregate, suppression) is one more round.
        if !self.aggregates.is_empty() {
            self.refresh_aggregates();
            if !self.dirty.is_empty() {
                self.process();
            }
        }
    }

    fn ctx<'a>(&'a self, memo: &'a decision::Memo) -> Ctx<'a> {
        Ctx::new(&self.cfg, &self.peers, &self.nht, memo)
    }

    fn reason_rejected(&self, path: &Path) -> Reason {
        self.peers
            .get(&path.peer)
            .and_then(|ps| {
                let i = &ps.info;
                loop_reason(&self.cfg, i, &path.attrs_in).or((otc::ingress(
                    i.caps.local_role,
                    i.remote_as,
                    &path.attrs_in,
                ) == otc::Ingress::Leak)
                    .then_some(Reason::RouteLeak))
            })
            .unwrap_or(Reason::PolicyRejected)
    }

    /// Routes from `peer` dropped as leaks (RFC 9234 §5) in its session.
    pub fn peer_leaks(&self, peer: PeerId) -> u64 {
        self.peers.get(&peer).map_or(0, |p| p.leaks)
    }

    fn view(
        &self,
        fam: Fam,
        slot: u32,
        only_peer: Option<PeerId>,
        received: bool,
    ) -> Vec<PathView> {
        let (Some(dest), Some(prefix)) =
            (self.tables.dest(fam, slot), self.tables.prefix(fam, slot))
        else {
            return Vec::new();
        };
        let paths = dest.paths.as_slice();
        let memo = decision::Memo::new(None);
        let ctx = self.ctx(&memo);
        paths
            .iter()
            .enumerate()
            .filter(|(_, p)| only_peer.is_none_or(|id| p.peer == id))
            .map(|(i, p)| {
                let best = i == 0 && dest.n_mp > 0;
                let reason = match (&p.attrs, dest.best()) {
                    (None, _) => Some(self.reason_rejected(p)),
                    _ if best => None,
                    (Some(_), Some(b)) => {
                        decision::why_not((b, dest.paths.id(0)), (p, dest.paths.id(i)), fam, &ctx)
                    }
                    (Some(_), None) => decision::eligibility(p, fam, &self.nht).err(),
                };
                let attrs = match (&p.attrs, received) {
                    (Some(a), false) => a.clone(),
                    _ => p.attrs_in.clone(),
                };
                PathView {
                    prefix,
                    peer: p.peer,
                    attrs,
                    best,
                    multipath: i < usize::from(dest.n_mp),
                    accepted: p.attrs.is_some(),
                    reason,
                    stale: self
                        .peers
                        .get(&p.peer)
                        .and_then(|ps| ps.stale.as_ref())
                        .is_some_and(|s| s.covers(fam, p.seq)),
                    aggregate: p.peer == LOCAL_PEER
                        && self.aggregates.is_aggregate(&prefix)
                        && p.attrs_in.aggregator.is_some(),
                    suppressed: self.aggregates.is_suppressed(&prefix),
                    rx_path_id: self
                        .peers
                        .get(&p.peer)
                        .filter(|ps| ps.info.caps.add_path_rx(fam.afi_safi()))
                        .map(|_| dest.paths.id(i)),
                    tx_path_id: None,
                }
            })
            .collect()
    }

    fn slots_of(&self, fam: Fam, prefix: Option<IpNetwork>) -> Vec<u32> {
        match prefix {
            Some(p) => self
                .tables
                .find(&p)
                .filter(|(f, _)| *f == fam)
                .map(|(_, s)| vec![s])
                .unwrap_or_default(),
            None => (0..self.tables.slots(fam)).collect(),
        }
    }

    fn sorted(mut v: Vec<PathView>) -> Vec<PathView> {
        v.sort_by(|a, b| {
            a.prefix
                .cmp(&b.prefix)
                .then(b.best.cmp(&a.best))
                .then(Ordering::Equal)
        });
        v
    }

    /// Every path per prefix (all prefixes of `family`, or one), best and
    /// multipath flagged, with why each other path lost.
    pub fn loc_rib(&self, family: AfiSafi, prefix: Option<IpNetwork>) -> Vec<PathView> {
        let Some(fam) = Fam::from_afi_safi(family) else {
            return Vec::new();
        };
        let v = self
            .slots_of(fam, prefix)
            .into_iter()
            .flat_map(|s| self.view(fam, s, None, false))
            .collect();
        Self::sorted(v)
    }

    /// What `peer` sent us, as received, with the import verdict.
    pub fn adj_rib_in(&self, peer: PeerId, family: AfiSafi) -> Vec<PathView> {
        let Some(fam) = Fam::from_afi_safi(family) else {
            return Vec::new();
        };
        let v = (0..self.tables.slots(fam))
            .flat_map(|s| self.view(fam, s, Some(peer), true))
            .collect();
        Self::sorted(v)
    }

    /// What `peer` has been sent (computed from the Loc-RIB and its export
    /// rules; up to date after the last batch).
    pub fn adj_rib_out(&self, peer: PeerId, family: AfiSafi) -> Vec<PathView> {
        let (Some(fam), Some(ps)) = (Fam::from_afi_safi(family), self.peers.get(&peer)) else {
            return Vec::new();
        };
        let Some(g) = self.groups.get(&ps.group) else {
            return Vec::new();
        };
        let mut v = Vec::new();
        if g.key.add_path(fam) {
            let sent = g.add_path_out.get(&peer);
            for (prefix, tx, attrs) in sent.into_iter().flat_map(|a| a.iter()) {
                if Fam::of(&prefix) != fam {
                    continue;
                }
                v.push(PathView {
                    prefix,
                    peer,
                    attrs: attrs.clone(),
                    best: true,
                    multipath: false,
                    accepted: true,
                    reason: None,
                    stale: false,
                    rx_path_id: None,
                    tx_path_id: Some(tx),
                    aggregate: false,
                    suppressed: false,
                });
            }
            v.sort_by_key(|p| (p.prefix, p.tx_path_id));
            return v;
        }
        for slot in 0..self.tables.slots(fam) {
            let Some(best) = self.tables.dest(fam, slot).and_then(|d| d.best()) else {
                continue;
            };
            if best.peer == peer {
                continue;
            }
            let (Some(attrs), Some(src), Some(prefix)) = (
                best.attrs.as_ref(),
                source_of(&self.peers, best.peer),
                self.tables.prefix(fam, slot),
            ) else {
                continue;
            };
            if self.aggregates.is_suppressed(&prefix) {
                continue;
            }
            if let Some(a) =
                export_uncached(&self.cfg, &self.policies, &g.key, &src, &prefix, attrs)
            {
                v.push(PathView {
                    prefix,
                    peer,
                    attrs: Arc::new(a),
                    best: true,
                    multipath: false,
                    accepted: true,
                    reason: None,
                    stale: false,
                    rx_path_id: None,
                    tx_path_id: None,
                    aggregate: false,
                    suppressed: false,
                });
            }
        }
        Self::sorted(v)
    }

    /// Received, accepted and advertised prefixes per family.
    pub fn peer_counts(&self, peer: PeerId) -> Vec<(AfiSafi, PeerCounts)> {
        let Some(ps) = self.peers.get(&peer) else {
            return Vec::new();
        };
        [Fam::V4, Fam::V6]
            .into_iter()
            .filter(|f| ps.info.families.contains(&f.afi_safi()))
            .map(|f| (f.afi_safi(), ps.counts[f.idx()]))
            .collect()
    }

    /// When the peer came up in the RIB.
    pub fn peer_since(&self, peer: PeerId) -> Option<Instant> {
        self.peers.get(&peer).filter(|p| p.up).map(|p| p.since)
    }

    /// Prefixes held (with at least one path) in a family.
    pub fn prefix_count(&self, family: AfiSafi) -> usize {
        Fam::from_afi_safi(family).map_or(0, |f| self.tables.len(f))
    }

    /// Distinct attribute sets held.
    pub fn attribute_sets(&self) -> usize {
        self.interner.len()
    }

    /// State of a tracked next hop.
    pub fn nexthop_state(&self, addr: &IpAddr) -> NhState {
        self.nht.state(addr)
    }

    /// Number of update groups (peers sharing export work).
    pub fn update_groups(&self) -> usize {
        self.groups.len()
    }

    /// Next hops registered with nexthop tracking.
    pub fn tracked_nexthops(&self) -> usize {
        self.nht.tracked()
    }
}

//! The EVPN RIB: received and originated L2VPN EVPN routes, the best path
//! per route key (RFC 7432 §7.7 and §15: MAC mobility's sequence number
//! first, then the BGP decision of RFC 4271 §9.1), export to EVPN peers
//! (iBGP, eBGP and route reflection, RFC 4456; the next hop stays the
//! originating VTEP), and import: routes whose route targets match a local
//! VNI become remote VTEPs (type 3) and remote MACs and MAC+IPs (type 2)
//! for zebrad to program (RFC 8365 §5.1, §9).
//!
//! Owns every EVPN path, the Adj-RIB-Out of each EVPN peer, the local
//! state ([`super::origination`]) and the MAC mobility history. Like the
//! unicast RIB it is synchronous and single-owner: input calls record and
//! mark keys dirty; [`EvpnRib::take_output`] runs the decision and returns
//! UPDATEs and the change of remote state for zebrad. A restarting peer's
//! paths stay in use, stale, until its End-of-RIB or the timers of RFC 4724
//! §4.2, as in the unicast RIB (`crate::rib::graceful`), so the kernel's
//! FDB keeps pointing at its VTEPs. Never does I/O or reads a clock.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use tracing::{debug, info, warn};

use super::community::{MacMobility, RouteTarget};
use super::config::EvpnConfig;
use super::mobility::{Duplicate, Location, Mobility};
use super::nlri::{EvpnKey, EvpnRoute, Mac};
use super::origination::{self, LocalMac, LocalVni};
use crate::packet::{AfiSafi, Message, MpNextHop, ParsedUpdate, PathAttributes, Update};
use crate::rib::{
    compare, loop_reason, rewrite_common, Cand, GroupKey, PeerId, PeerInfo, Reason, RibConfig,
    Source, LOCAL_PEER,
};

/// One path of a route key.
#[derive(Debug, Clone)]
pub struct EvpnPath {
    pub peer: PeerId,
    /// As received (labels and ESI are not part of the key).
    pub route: EvpnRoute,
    pub attrs: Arc<PathAttributes>,
    /// Why it cannot be used (loop, RFC 8212); `None` when eligible.
    pub rejected: Option<Reason>,
    /// Kept from a restarting peer's previous session (RFC 4724 §4.2).
    pub stale: bool,
}

impl EvpnPath {
    /// MAC mobility sequence number (0 without the community).
    pub fn seq(&self) -> u32 {
        MacMobility::of(&self.attrs.extended_communities).map_or(0, |m| m.sequence)
    }

    pub fn sticky(&self) -> bool {
        MacMobility::of(&self.attrs.extended_communities).is_some_and(|m| m.sticky)
    }

    /// The VTEP: the PMSI tunnel endpoint of a type 3, else the next hop.
    pub fn vtep(&self) -> Option<IpAddr> {
        if let Some(ep) = self.attrs.pmsi_tunnel.as_ref().and_then(|t| t.endpoint()) {
            return Some(ep);
        }
        match self.attrs.mp_next_hop {
            Some(MpNextHop::V4(a)) => Some(IpAddr::V4(a)),
            Some(MpNextHop::V6 { global, .. }) => Some(IpAddr::V6(global)),
            None => None,
        }
    }
}

#[derive(Debug, Default)]
struct Dest {
    paths: Vec<EvpnPath>,
    /// Index of the best path.
    best: Option<usize>,
}

/// A remote MAC as zebrad programs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteMac {
    pub vtep: IpAddr,
    pub seq: u32,
    pub sticky: bool,
}

/// Everything imported for zebrad: flood-list VTEPs, MACs and MAC+IPs per
/// VNI.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoteState {
    pub vteps: BTreeSet<(u32, IpAddr)>,
    pub macs: BTreeMap<(u32, Mac), RemoteMac>,
    /// (VNI, IP) → (MAC, VTEP).
    pub macips: BTreeMap<(u32, IpAddr), (Mac, IpAddr)>,
}

/// The change of [`RemoteState`] since the last output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemoteDelta {
    pub vtep_add: Vec<(u32, IpAddr)>,
    pub vtep_del: Vec<(u32, IpAddr)>,
    pub mac_add: Vec<(u32, Mac, RemoteMac)>,
    pub mac_del: Vec<(u32, Mac)>,
    pub macip_add: Vec<(u32, IpAddr, Mac, IpAddr)>,
    pub macip_del: Vec<(u32, IpAddr)>,
}

impl RemoteDelta {
    pub fn is_empty(&self) -> bool {
        self.vtep_add.is_empty()
            && self.vtep_del.is_empty()
            && self.mac_add.is_empty()
            && self.mac_del.is_empty()
            && self.macip_add.is_empty()
            && self.macip_del.is_empty()
    }

    fn between(old: &RemoteState, new: &RemoteState) -> RemoteDelta {
        let mut d = RemoteDelta {
            vtep_del: old.vteps.difference(&new.vteps).copied().collect(),
            vtep_add: new.vteps.difference(&old.vteps).copied().collect(),
            ..RemoteDelta::default()
        };
        for k in old.macs.keys() {
            if !new.macs.contains_key(k) {
                d.mac_del.push(*k);
            }
        }
        for (k, v) in &new.macs {
            if old.macs.get(k) != Some(v) {
                d.mac_add.push((k.0, k.1, *v));
            }
        }
        for k in old.macips.keys() {
            if !new.macips.contains_key(k) {
                d.macip_del.push(*k);
            }
        }
        for (k, v) in &new.macips {
            if old.macips.get(k) != Some(v) {
                d.macip_add.push((k.0, k.1, v.0, v.1));
            }
        }
        d
    }
}

/// What one [`EvpnRib::take_output`] produced.
#[derive(Debug, Default)]
pub struct EvpnOutput {
    pub to_peers: Vec<(PeerId, Vec<Bytes>)>,
    pub remote: RemoteDelta,
}

/// The VXLAN device of a local VNI, as zebrad reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalDevice {
    pub ifname: String,
    pub bridge: String,
    pub vtep: Option<IpAddr>,
    pub up: bool,
}

/// One route as `show bgp l2vpn evpn` displays it.
#[derive(Debug, Clone)]
pub struct EvpnView {
    pub key: EvpnKey,
    pub path: EvpnPath,
    pub best: bool,
}

/// Per-peer counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EvpnCounts {
    pub received: u64,
    pub accepted: u64,
    pub advertised: u64,
}

type AdjOut = BTreeMap<EvpnKey, (EvpnRoute, Arc<PathAttributes>)>;

/// The EVPN RIB.
#[derive(Debug)]
pub struct EvpnRib {
    cfg: RibConfig,
    evpn: EvpnConfig,
    peers: BTreeMap<PeerId, PeerInfo>,
    dests: BTreeMap<EvpnKey, Dest>,
    /// MAC/IP keys by MAC, for MAC mobility.
    by_mac: BTreeMap<Mac, BTreeSet<EvpnKey>>,
    dirty: BTreeSet<EvpnKey>,
    /// Keys whose best path changed in this batch (to export).
    changed: BTreeSet<EvpnKey>,
    adj_out: BTreeMap<PeerId, AdjOut>,
    local: BTreeMap<u32, LocalVni>,
    rd_index: BTreeMap<u32, u16>,
    /// Keys of the routes each local VNI originates.
    originated: BTreeMap<u32, BTreeSet<EvpnKey>>,
    local_changed: bool,
    mobility: Mobility,
    winners: BTreeMap<(u32, Mac), Location>,
    pushed: RemoteState,
    /// zebrad lost what we pushed: the next output carries everything.
    remote_resync: bool,
    /// MACs whose routes or local entry changed in this batch: the
    /// mobility and import passes look at these only...
    touched: BTreeSet<Mac>,
    /// ...unless the set of local VNIs or the config changed.
    full_pass: bool,
    out_peers: Vec<(PeerId, Vec<Bytes>)>,
    /// Restarting peers whose stale paths are kept: until this deadline
    /// (their Restart Time while away, our stale time once back).
    restarting: HashMap<PeerId, Instant>,
}

impl EvpnRib {
    pub fn new(cfg: RibConfig, evpn: EvpnConfig) -> Self {
        let mobility = Mobility::new(
            evpn.dup_detection,
            evpn.dup_max_moves,
            evpn.dup_time,
            evpn.dup_freeze_time,
        );
        Self {
            cfg,
            evpn,
            peers: BTreeMap::new(),
            dests: BTreeMap::new(),
            by_mac: BTreeMap::new(),
            dirty: BTreeSet::new(),
            changed: BTreeSet::new(),
            adj_out: BTreeMap::new(),
            local: BTreeMap::new(),
            rd_index: BTreeMap::new(),
            originated: BTreeMap::new(),
            local_changed: false,
            mobility,
            winners: BTreeMap::new(),
            pushed: RemoteState::default(),
            remote_resync: false,
            restarting: HashMap::new(),
            touched: BTreeSet::new(),
            full_pass: false,
            out_peers: Vec::new(),
        }
    }

    pub fn config(&self) -> &EvpnConfig {
        &self.evpn
    }

    /// A reload: RDs, RTs and detection settings; local routes are
    /// re-originated with the new values.
    pub fn set_config(&mut self, evpn: EvpnConfig) {
        if evpn != self.evpn {
            self.mobility.set_params(
                evpn.dup_detection,
                evpn.dup_max_moves,
                evpn.dup_time,
                evpn.dup_freeze_time,
            );
            self.evpn = evpn;
            self.local_changed = true;
            self.full_pass = true;
        }
    }

    /// Once a second: duplicates whose freeze time is over are advertised
    /// again; stale paths past their deadline go.
    pub fn tick(&mut self, now: Instant) {
        if self.mobility.thaw(now) > 0 {
            self.local_changed = true;
        }
        let due: Vec<PeerId> = self
            .restarting
            .iter()
            .filter(|(_, d)| **d <= now)
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            self.restarting.remove(&id);
            let n = self.sweep_stale(id);
            info!(
                peer = id,
                paths = n,
                "graceful restart timer expired: stale EVPN routes removed"
            );
        }
    }

    /// `clear evpn dup-addr vni VNI [mac MAC]` (VNI 0: all): the frozen
    /// MACs are advertised again; returns how many were cleared.
    pub fn clear_duplicates(&mut self, vni: u32, mac: Option<Mac>) -> usize {
        let n = self.mobility.clear(vni, mac);
        if n > 0 {
            self.local_changed = true;
        }
        n
    }

    // ----- peers and UPDATEs -------------------------------------------

    /// A session came up; only peers that negotiated L2VPN EVPN matter.
    /// They get every best path, then End-of-RIB. Stale paths of its
    /// previous session wait for its End-of-RIB if it preserved forwarding
    /// for EVPN (RFC 4724 §4.2), else go now.
    pub fn peer_up(&mut self, info: PeerInfo, now: Instant) {
        let id = info.id;
        if self.restarting.remove(&id).is_some() {
            let gr = info.graceful_restart.as_ref().filter(|g| {
                info.families.contains(&AfiSafi::L2VPN_EVPN)
                    && g.forwarding.contains(&AfiSafi::L2VPN_EVPN)
            });
            match gr {
                Some(g) => {
                    self.restarting.insert(id, now + g.stale_time);
                }
                None => {
                    let n = self.sweep_stale(id);
                    info!(
                        peer = id,
                        paths = n,
                        "restarted peer did not preserve EVPN forwarding: stale routes removed"
                    );
                }
            }
        }
        if !info.families.contains(&AfiSafi::L2VPN_EVPN) {
            return;
        }
        self.peer_down(id);
        self.peers.insert(id, info);
        self.adj_out.insert(id, AdjOut::new());
        let keys: Vec<EvpnKey> = self
            .dests
            .iter()
            .filter(|(_, d)| d.best.is_some())
            .map(|(k, _)| k.clone())
            .collect();
        let mut pending = Pending::default();
        for k in keys {
            self.export_key(id, &k, &mut pending);
        }
        let msgs = self.pack(id, pending, true);
        self.out_peers.push((id, msgs));
        debug!(peer = id, "EVPN peer up");
    }

    /// The session ended: its paths are withdrawn.
    pub fn peer_down(&mut self, id: PeerId) {
        if self.peers.remove(&id).is_none() {
            return;
        }
        self.adj_out.remove(&id);
        self.out_peers.retain(|(p, _)| *p != id);
        for (k, d) in self.dests.iter_mut() {
            let before = d.paths.len();
            d.paths.retain(|p| p.peer != id);
            if d.paths.len() != before {
                self.dirty.insert(k.clone());
            }
        }
    }

    /// The session ended without a NOTIFICATION (RFC 4724 §4.2): if the
    /// peer listed L2VPN EVPN in its Graceful Restart capability, its paths
    /// stay, stale, for its Restart Time; otherwise they are withdrawn.
    pub fn peer_restarting(&mut self, id: PeerId, now: Instant) {
        let gr = self
            .peers
            .get(&id)
            .and_then(|i| i.graceful_restart.as_ref())
            .filter(|g| g.families.contains(&AfiSafi::L2VPN_EVPN))
            .map(|g| g.restart_time);
        let Some(restart_time) = gr else {
            self.peer_down(id);
            return;
        };
        self.peers.remove(&id);
        self.adj_out.remove(&id);
        self.out_peers.retain(|(p, _)| *p != id);
        let mut n = 0;
        for d in self.dests.values_mut() {
            for p in d.paths.iter_mut().filter(|p| p.peer == id) {
                p.stale = true;
                n += 1;
            }
        }
        self.restarting.insert(id, now + restart_time);
        info!(
            peer = id,
            paths = n,
            restart_secs = restart_time.as_secs(),
            "EVPN peer restarting: its routes are kept stale (RFC 4724)"
        );
    }

    /// End-of-RIB for L2VPN EVPN: the stale paths it did not send again go.
    pub fn end_of_rib(&mut self, id: PeerId, family: AfiSafi) {
        if family == AfiSafi::L2VPN_EVPN && self.restarting.remove(&id).is_some() {
            let n = self.sweep_stale(id);
            info!(
                peer = id,
                paths = n,
                "End-of-RIB: stale EVPN routes not re-learned removed"
            );
        }
    }

    /// Removes the stale paths of `id`; returns how many.
    fn sweep_stale(&mut self, id: PeerId) -> usize {
        let mut n = 0;
        for (k, d) in self.dests.iter_mut() {
            let before = d.paths.len();
            d.paths.retain(|p| !(p.peer == id && p.stale));
            if d.paths.len() != before {
                n += before - d.paths.len();
                self.dirty.insert(k.clone());
            }
        }
        n
    }

    /// Number of stale paths (for display).
    pub fn stale_paths(&self, id: PeerId) -> usize {
        self.dests
            .values()
            .flat_map(|d| d.paths.iter())
            .filter(|p| p.peer == id && p.stale)
            .count()
    }

    /// One UPDATE: EVPN withdrawals, then announcements (replacing the
    /// peer's previous path of each key).
    pub fn update(&mut self, id: PeerId, u: &ParsedUpdate) {
        let Some(info) = self.peers.get(&id) else {
            return;
        };
        for r in u.evpn_withdrawn() {
            let k = r.key();
            if let Some(d) = self.dests.get_mut(&k) {
                let before = d.paths.len();
                d.paths.retain(|p| p.peer != id);
                if d.paths.len() != before {
                    self.dirty.insert(k);
                }
            }
        }
        let announced = u.evpn_announced();
        if announced.is_empty() {
            return;
        }
        let attrs = Arc::new(u.update.attributes.clone());
        let rejected = loop_reason(&self.cfg, info, &attrs).or_else(|| {
            // RFC 8212: an eBGP neighbor needs an import policy.
            (!info.ibgp && info.policy.inbound(AfiSafi::L2VPN_EVPN).is_empty())
                .then_some(Reason::PolicyRejected)
        });
        for r in announced {
            let k = r.key();
            self.index(&k);
            let d = self.dests.entry(k.clone()).or_default();
            let path = EvpnPath {
                peer: id,
                route: r.clone(),
                attrs: attrs.clone(),
                rejected,
                stale: false,
            };
            match d.paths.iter_mut().find(|p| p.peer == id) {
                Some(p) => *p = path,
                None => d.paths.push(path),
            }
            self.dirty.insert(k);
        }
    }

    // ----- local state from zebrad ---------------------------------------

    pub fn vni_update(&mut self, vni: u32, dev: LocalDevice) {
        let next = self.rd_index.len() as u16 + 1;
        let rd_index = *self.rd_index.entry(vni).or_insert(next);
        let lv = self.local.entry(vni).or_default();
        lv.ifname = dev.ifname;
        lv.bridge = dev.bridge;
        lv.vtep = dev.vtep;
        lv.up = dev.up;
        lv.rd_index = rd_index;
        self.local_changed = true;
        self.full_pass = true;
    }

    pub fn vni_removed(&mut self, vni: u32) {
        if self.local.remove(&vni).is_some() {
            self.local_changed = true;
            self.full_pass = true;
        }
    }

    /// A MAC learned locally. When it was last held by a remote VTEP, it
    /// is advertised with that route's sequence number plus one (RFC 7432
    /// §15).
    pub fn mac_add(&mut self, vni: u32, mac: Mac, sticky: bool) {
        let remote_seq = self
            .remote_candidates(vni, mac)
            .map(|(_, seq, _)| seq)
            .max();
        let Some(lv) = self.local.get_mut(&vni) else {
            return;
        };
        let seq = match (lv.macs.get(&mac), remote_seq) {
            (Some(m), _) if m.active => m.seq,
            (_, Some(r)) => r.saturating_add(1),
            (Some(m), None) => m.seq,
            (None, None) => 0,
        };
        lv.macs.insert(
            mac,
            LocalMac {
                sticky,
                seq,
                active: true,
            },
        );
        self.local_changed = true;
        self.touched.insert(mac);
    }

    pub fn mac_del(&mut self, vni: u32, mac: Mac) {
        if let Some(lv) = self.local.get_mut(&vni) {
            if lv.macs.remove(&mac).is_some() {
                self.local_changed = true;
                self.touched.insert(mac);
            }
        }
    }

    pub fn neighbor_add(&mut self, vni: u32, ip: IpAddr, mac: Mac) {
        if let Some(lv) = self.local.get_mut(&vni) {
            if lv.neighbors.insert(ip, mac) != Some(mac) {
                self.local_changed = true;
            }
        }
    }

    pub fn neighbor_del(&mut self, vni: u32, ip: IpAddr) {
        if let Some(lv) = self.local.get_mut(&vni) {
            if lv.neighbors.remove(&ip).is_some() {
                self.local_changed = true;
            }
        }
    }

    /// After zebrad's dump (a reconnect): local state it did not report
    /// again is gone.
    pub fn local_retain(
        &mut self,
        vnis: &BTreeSet<u32>,
        macs: &BTreeSet<(u32, Mac)>,
        neighbors: &BTreeSet<(u32, IpAddr)>,
    ) {
        self.local.retain(|vni, _| vnis.contains(vni));
        for (vni, lv) in self.local.iter_mut() {
            lv.macs.retain(|m, _| macs.contains(&(*vni, *m)));
            lv.neighbors
                .retain(|ip, _| neighbors.contains(&(*vni, *ip)));
        }
        self.local_changed = true;
        self.full_pass = true;
    }

    /// zebrad (re)connected: the next output carries everything imported.
    pub fn remote_resync(&mut self) {
        self.pushed = RemoteState::default();
        self.remote_resync = true;
        self.full_pass = true;
    }

    // ----- the decision ----------------------------------------------------

    /// Whether `rt` imports into `vni`: one of its configured import RTs,
    /// or, derived, any RT whose value is the VNI (FRR matches auto RTs
    /// without their AS part, so eBGP leaves of different ASes agree).
    fn imports(&self, vni: u32, attrs: &PathAttributes) -> bool {
        let rts = attrs
            .extended_communities
            .iter()
            .filter_map(RouteTarget::from_community);
        match self.evpn.vni(vni) {
            Some(v) if !v.import_rts.is_empty() => {
                rts.into_iter().any(|rt| v.import_rts.contains(&rt))
            }
            _ => rts.into_iter().any(|rt| match rt {
                RouteTarget::As2 { value, .. } => value == vni,
                RouteTarget::As4 { value, .. } | RouteTarget::Ip { value, .. } => {
                    u32::from(value) == vni & 0xffff
                }
            }),
        }
    }

    /// Remote best type-2 paths for `mac` that import into `vni`:
    /// (VTEP, sequence, sticky).
    fn remote_candidates(
        &self,
        vni: u32,
        mac: Mac,
    ) -> impl Iterator<Item = (IpAddr, u32, bool)> + '_ {
        self.by_mac
            .get(&mac)
            .into_iter()
            .flatten()
            .filter_map(|k| self.dests.get(k))
            .filter_map(|d| d.paths.get(d.best?))
            .filter(move |p| p.peer != LOCAL_PEER && self.imports(vni, &p.attrs))
            .filter_map(|p| Some((p.vtep()?, p.seq(), p.sticky())))
    }

    /// A key got its first path.
    fn index(&mut self, k: &EvpnKey) {
        if let EvpnKey::MacIp { mac, .. } = k {
            self.by_mac.entry(*mac).or_default().insert(k.clone());
        }
    }

    fn select(&mut self, key: &EvpnKey) {
        let Some(d) = self.dests.get_mut(key) else {
            return;
        };
        let old = d
            .best
            .and_then(|i| d.paths.get(i))
            .map(|p| (p.peer, p.attrs.clone()));
        let mut best: Option<(usize, Cand, u32)> = None;
        for (i, p) in d.paths.iter().enumerate() {
            if p.rejected.is_some() {
                continue;
            }
            let info = self.peers.get(&p.peer);
            if p.peer != LOCAL_PEER && info.is_none() {
                continue;
            }
            let c = Cand::of_peer(i, info, &p.attrs, &self.cfg);
            let seq = p.seq();
            let better = match &best {
                None => true,
                Some((_, bc, bseq)) => match seq.cmp(bseq) {
                    Ordering::Greater => true,
                    Ordering::Less => false,
                    Ordering::Equal => compare(&c, bc, &self.cfg).0 == Ordering::Less,
                },
            };
            if better {
                best = Some((i, c, seq));
            }
        }
        d.best = best.map(|(i, _, _)| i);
        let new = d
            .best
            .and_then(|i| d.paths.get(i))
            .map(|p| (p.peer, p.attrs.clone()));
        let same = match (&old, &new) {
            (Some((a, x)), Some((b, y))) => a == b && Arc::ptr_eq(x, y),
            (None, None) => true,
            _ => false,
        };
        if !same || d.paths.is_empty() {
            self.changed.insert(key.clone());
            if let EvpnKey::MacIp { mac, .. } = key {
                self.touched.insert(*mac);
            }
        }
        if d.paths.is_empty() {
            self.dests.remove(key);
            if let EvpnKey::MacIp { mac, .. } = key {
                if let Some(set) = self.by_mac.get_mut(mac) {
                    set.remove(key);
                    if set.is_empty() {
                        self.by_mac.remove(mac);
                    }
                }
            }
        }
    }

    fn run_decision(&mut self) {
        let dirty = std::mem::take(&mut self.dirty);
        for k in &dirty {
            self.select(k);
        }
    }

    /// Per local VNI and MAC: who holds it (RFC 7432 §15: the highest
    /// sequence number; on a tie the lower VTEP address), with mobility
    /// bookkeeping. A local MAC beaten by a remote route stops being
    /// advertised.
    fn mobility_pass(&mut self, now: Instant) {
        let mut macs: BTreeSet<(u32, Mac)> = BTreeSet::new();
        if self.full_pass {
            for (vni, lv) in &self.local {
                macs.extend(lv.macs.keys().map(|m| (*vni, *m)));
            }
            for mac in self.by_mac.keys() {
                for vni in self.local.keys() {
                    macs.insert((*vni, *mac));
                }
            }
            let local = &self.local;
            self.winners.retain(|(vni, _), _| local.contains_key(vni));
        } else {
            for mac in &self.touched {
                for vni in self.local.keys() {
                    macs.insert((*vni, *mac));
                }
            }
        }
        for (vni, mac) in macs {
            let remote = self
                .remote_candidates(vni, mac)
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)));
            let lv = self.local.get(&vni);
            let local = lv.and_then(|lv| lv.macs.get(&mac)).copied();
            let my_vtep = lv.and_then(|lv| lv.vtep).or(self.evpn.vtep);
            let at = match (local, remote) {
                (None, None) => None,
                (Some(_), None) => Some(Location::Local),
                (None, Some((vtep, _, _))) => Some(Location::Remote(vtep)),
                (Some(l), Some((vtep, seq, sticky))) => {
                    let remote_wins = !l.sticky
                        && (sticky
                            || seq > l.seq
                            || (seq == l.seq && my_vtep.is_some_and(|m| vtep < m)));
                    Some(if remote_wins {
                        Location::Remote(vtep)
                    } else {
                        Location::Local
                    })
                }
            };
            let Some(at) = at else {
                self.mobility.gone(vni, mac);
                self.winners.remove(&(vni, mac));
                continue;
            };
            if self.winners.get(&(vni, mac)) != Some(&at) {
                if let Some(prev) = self.winners.get(&(vni, mac)) {
                    info!(vni, %mac, from = ?prev, to = ?at, seq = remote.map_or(0, |r| r.1), "MAC moved");
                }
                if self.mobility.located(vni, mac, at, now) {
                    self.local_changed = true;
                }
            }
            if let Some(l) = local {
                let active = at == Location::Local;
                if l.active != active {
                    if let Some(m) = self
                        .local
                        .get_mut(&vni)
                        .and_then(|lv| lv.macs.get_mut(&mac))
                    {
                        m.active = active;
                        if active {
                            // It came back: above every remote claim.
                            if let Some((_, seq, _)) = remote {
                                m.seq = m.seq.max(seq.saturating_add(1));
                            }
                        }
                    }
                    self.local_changed = true;
                }
            }
            self.winners.insert((vni, mac), at);
        }
    }

    /// The flood-list VTEPs: imported type 3 routes (their keys are
    /// contiguous in the table).
    fn remote_vteps(&self) -> BTreeSet<(u32, IpAddr)> {
        let lo = EvpnKey::Imet {
            rd: super::nlri::RouteDistinguisher::As2 { asn: 0, number: 0 },
            ethernet_tag: 0,
            originator: IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        };
        let mut out = BTreeSet::new();
        for (_, d) in self
            .dests
            .range(lo..)
            .take_while(|(k, _)| matches!(k, EvpnKey::Imet { .. }))
        {
            let Some(p) = d.best.and_then(|i| d.paths.get(i)) else {
                continue;
            };
            let Some(vtep) = p.vtep().filter(|_| p.peer != LOCAL_PEER) else {
                continue;
            };
            for vni in self.local.keys() {
                if self.imports(*vni, &p.attrs) {
                    out.insert((*vni, vtep));
                }
            }
        }
        out
    }

    /// The remote MAC and MAC+IPs of one VNI and MAC: from the routes of
    /// the VTEP that holds it.
    fn remote_mac(&self, vni: u32, mac: Mac) -> (Option<RemoteMac>, Vec<(IpAddr, IpAddr)>) {
        let Some(Location::Remote(vtep)) = self.winners.get(&(vni, mac)).copied() else {
            return (None, Vec::new());
        };
        let mut entry = None;
        let mut ips = Vec::new();
        let paths = self
            .by_mac
            .get(&mac)
            .into_iter()
            .flatten()
            .filter_map(|k| self.dests.get(k))
            .filter_map(|d| d.paths.get(d.best?));
        for p in paths {
            if p.peer == LOCAL_PEER || p.vtep() != Some(vtep) || !self.imports(vni, &p.attrs) {
                continue;
            }
            let EvpnRoute::MacIp(r) = &p.route else {
                continue;
            };
            entry = Some(RemoteMac {
                vtep,
                seq: p.seq(),
                sticky: p.sticky(),
            });
            if let Some(ip) = r.ip {
                ips.push((ip, vtep));
            }
        }
        (entry, ips)
    }

    /// The change of what zebrad must hold: everything after a full pass,
    /// else only the touched MACs (and the flood lists).
    fn import_delta(&mut self) -> RemoteDelta {
        let touched = std::mem::take(&mut self.touched);
        if std::mem::take(&mut self.full_pass) {
            let st = self.remote_state();
            let d = RemoteDelta::between(&self.pushed, &st);
            self.pushed = st;
            return d;
        }
        let mut new = RemoteState {
            vteps: self.remote_vteps(),
            ..RemoteState::default()
        };
        let mut old = RemoteState {
            vteps: std::mem::take(&mut self.pushed.vteps),
            ..RemoteState::default()
        };
        let vnis: Vec<u32> = self.local.keys().copied().collect();
        for mac in &touched {
            for vni in &vnis {
                if let Some(m) = self.pushed.macs.remove(&(*vni, *mac)) {
                    old.macs.insert((*vni, *mac), m);
                }
                let (entry, ips) = self.remote_mac(*vni, *mac);
                if let Some(e) = entry {
                    new.macs.insert((*vni, *mac), e);
                }
                for (ip, vtep) in ips {
                    new.macips.insert((*vni, ip), (*mac, vtep));
                }
            }
        }
        // MAC+IPs of the touched MACs (or now pointing at one).
        let stale: Vec<(u32, IpAddr)> = self
            .pushed
            .macips
            .iter()
            .filter(|(k, v)| touched.contains(&v.0) || new.macips.contains_key(k))
            .map(|(k, _)| *k)
            .collect();
        for k in stale {
            if let Some(v) = self.pushed.macips.remove(&k) {
                old.macips.insert(k, v);
            }
        }
        let d = RemoteDelta::between(&old, &new);
        self.pushed.vteps = new.vteps;
        self.pushed.macs.extend(new.macs);
        self.pushed.macips.extend(new.macips);
        d
    }

    /// Re-originate every local VNI's routes (diffed against the paths in
    /// place, so unchanged routes are not touched).
    fn originate(&mut self) {
        self.local_changed = false;
        let mut wanted: BTreeMap<u32, BTreeMap<EvpnKey, (EvpnRoute, PathAttributes)>> =
            BTreeMap::new();
        if self.evpn.advertise_all_vni {
            for (vni, lv) in &self.local {
                let Some(p) = origination::params(
                    &self.evpn,
                    self.cfg.local_as,
                    self.cfg.router_id,
                    *vni,
                    lv,
                ) else {
                    warn!(vni, device = %lv.ifname, "no local VTEP address (set evpn.vtep): nothing originated");
                    continue;
                };
                let routes =
                    origination::routes(*vni, lv, &p, |m| self.mobility.is_frozen(*vni, m));
                wanted.insert(
                    *vni,
                    routes.into_iter().map(|(r, a)| (r.key(), (r, a))).collect(),
                );
            }
        }
        let old = std::mem::take(&mut self.originated);
        for (vni, keys) in &old {
            let still = wanted.get(vni);
            for k in keys {
                if still.is_some_and(|w| w.contains_key(k)) {
                    continue;
                }
                if let Some(d) = self.dests.get_mut(k) {
                    d.paths.retain(|p| p.peer != LOCAL_PEER);
                    self.dirty.insert(k.clone());
                }
            }
        }
        for (vni, routes) in wanted {
            let mut keys = BTreeSet::new();
            for (k, (route, attrs)) in routes {
                keys.insert(k.clone());
                self.index(&k);
                let d = self.dests.entry(k.clone()).or_default();
                let existing = d.paths.iter_mut().find(|p| p.peer == LOCAL_PEER);
                match existing {
                    Some(p) if p.route == route && *p.attrs == attrs => continue,
                    Some(p) => {
                        p.route = route;
                        p.attrs = Arc::new(attrs);
                    }
                    None => d.paths.push(EvpnPath {
                        peer: LOCAL_PEER,
                        route,
                        attrs: Arc::new(attrs),
                        rejected: None,
                        stale: false,
                    }),
                }
                self.dirty.insert(k);
            }
            self.originated.insert(vni, keys);
        }
    }

    /// What zebrad must hold: for every local VNI, the VTEPs of imported
    /// type 3 routes and the MACs (and their MAC+IPs) a remote VTEP wins.
    fn remote_state(&self) -> RemoteState {
        let mut st = RemoteState::default();
        for d in self.dests.values() {
            let Some(p) = d.best.and_then(|i| d.paths.get(i)) else {
                continue;
            };
            if p.peer == LOCAL_PEER {
                continue;
            }
            let Some(vtep) = p.vtep() else { continue };
            for vni in self.local.keys() {
                if !self.imports(*vni, &p.attrs) {
                    continue;
                }
                match &p.route {
                    EvpnRoute::Imet(_) => {
                        st.vteps.insert((*vni, vtep));
                    }
                    EvpnRoute::MacIp(r) => {
                        if self.winners.get(&(*vni, r.mac)) != Some(&Location::Remote(vtep)) {
                            continue;
                        }
                        st.macs.insert(
                            (*vni, r.mac),
                            RemoteMac {
                                vtep,
                                seq: p.seq(),
                                sticky: p.sticky(),
                            },
                        );
                        if let Some(ip) = r.ip {
                            st.macips.insert((*vni, ip), (r.mac, vtep));
                        }
                    }
                    EvpnRoute::Other { .. } => {}
                }
            }
        }
        st
    }

    /// Runs the decision on everything touched and returns the UPDATEs and
    /// the change for zebrad.
    pub fn take_output(&mut self, now: Instant) -> EvpnOutput {
        let mut any = self.local_changed || !self.dirty.is_empty();
        // Remote routes decide which local MACs are in use, which changes
        // what we originate: iterate until stable (twice in practice).
        for _ in 0..4 {
            self.run_decision();
            if !any {
                break;
            }
            self.mobility_pass(now);
            if self.local_changed {
                self.originate();
            }
            any = !self.dirty.is_empty();
            if !any {
                break;
            }
        }
        let changed = std::mem::take(&mut self.changed);
        let mut out = EvpnOutput {
            to_peers: std::mem::take(&mut self.out_peers),
            remote: RemoteDelta::default(),
        };
        if !changed.is_empty() || self.remote_resync {
            self.remote_resync = false;
            let ids: Vec<PeerId> = self.peers.keys().copied().collect();
            for id in ids {
                let mut pending = Pending::default();
                for k in &changed {
                    self.export_key(id, k, &mut pending);
                }
                if !pending.is_empty() {
                    let msgs = self.pack(id, pending, false);
                    out.to_peers.push((id, msgs));
                }
            }
            out.remote = self.import_delta();
        }
        out
    }

    // ----- export ------------------------------------------------------------

    /// What peer `id` should hold for `key`, recorded in its Adj-RIB-Out
    /// and queued when it differs from what it has.
    fn export_key(&mut self, id: PeerId, key: &EvpnKey, pending: &mut Pending) {
        let Some(to) = self.peers.get(&id) else {
            return;
        };
        let new = self
            .dests
            .get(key)
            .and_then(|d| d.paths.get(d.best?))
            .and_then(|p| {
                if p.peer == id {
                    return None;
                }
                // RFC 8212: an eBGP neighbor needs an export policy.
                if !to.ibgp && to.policy.outbound(AfiSafi::L2VPN_EVPN).is_empty() {
                    return None;
                }
                let src = if p.peer == LOCAL_PEER {
                    Source::local()
                } else {
                    Source::of(self.peers.get(&p.peer)?)
                };
                let (mut attrs, _set_self) =
                    rewrite_common(&self.cfg, &GroupKey::of(to), &src, &p.attrs)?;
                // The next hop of an EVPN route is the VTEP: never ours.
                attrs.mp_next_hop = p.attrs.mp_next_hop;
                attrs.next_hop = None;
                Some((p.route.clone(), attrs))
            });
        let Some(adj) = self.adj_out.get_mut(&id) else {
            return;
        };
        match new {
            Some((route, attrs)) => {
                if adj
                    .get(key)
                    .is_some_and(|(r, a)| *r == route && **a == attrs)
                {
                    return;
                }
                let attrs = pending.intern(attrs);
                adj.insert(key.clone(), (route.clone(), attrs.clone()));
                pending.announce.entry(attrs).or_default().push(route);
            }
            None => {
                if let Some((route, _)) = adj.remove(key) {
                    pending.withdraw.push(route);
                }
            }
        }
    }

    /// Encode a peer's pending changes in as few UPDATEs as fit.
    fn pack(&self, id: PeerId, p: Pending, end_of_rib: bool) -> Vec<Bytes> {
        let Some(info) = self.peers.get(&id) else {
            return Vec::new();
        };
        let caps = &info.caps;
        let mut msgs = Vec::new();
        // Header 19 + lengths 4 + MP attribute header and family/next hop.
        let budget = caps.max_message_len().saturating_sub(19 + 4 + 4 + 3 + 18);
        let mut emit = |u: Update| match Message::Update(u).to_bytes(caps) {
            Ok(b) => msgs.push(b),
            Err(e) => warn!(peer = id, error = %e, "cannot encode an EVPN UPDATE"),
        };
        for chunk in chunks(&p.withdraw, budget) {
            emit(Update {
                evpn_unreach: chunk.to_vec(),
                ..Update::default()
            });
        }
        for (attrs, routes) in p.announce {
            let mut probe = bytes::BytesMut::new();
            attrs.encode(caps, &mut probe);
            let room = budget.saturating_sub(probe.len());
            for chunk in chunks(&routes, room) {
                emit(Update {
                    attributes: (*attrs).clone(),
                    evpn_reach: chunk.to_vec(),
                    ..Update::default()
                });
            }
        }
        if end_of_rib {
            emit(Update::end_of_rib(AfiSafi::L2VPN_EVPN));
        }
        msgs
    }

    // ----- show ----------------------------------------------------------------

    /// Every path (best first per key), optionally of one route type.
    pub fn routes(&self, route_type: Option<u8>) -> Vec<EvpnView> {
        let mut out = Vec::new();
        for (k, d) in &self.dests {
            if route_type.is_some_and(|t| t != k.route_type()) {
                continue;
            }
            let order = d
                .best
                .into_iter()
                .chain((0..d.paths.len()).filter(|i| Some(*i) != d.best));
            for i in order {
                if let Some(p) = d.paths.get(i) {
                    out.push(EvpnView {
                        key: k.clone(),
                        path: p.clone(),
                        best: Some(i) == d.best,
                    });
                }
            }
        }
        out
    }

    pub fn duplicates(&self) -> Vec<Duplicate> {
        self.mobility.duplicates()
    }

    pub fn local_vnis(&self) -> &BTreeMap<u32, LocalVni> {
        &self.local
    }

    pub fn remote(&self) -> &RemoteState {
        &self.pushed
    }

    pub fn counts(&self, id: PeerId) -> EvpnCounts {
        let mut c = EvpnCounts::default();
        for d in self.dests.values() {
            if let Some(p) = d.paths.iter().find(|p| p.peer == id) {
                c.received += 1;
                if p.rejected.is_none() {
                    c.accepted += 1;
                }
            }
        }
        c.advertised = self.adj_out.get(&id).map_or(0, |a| a.len() as u64);
        c
    }
}

/// A peer's changes of one batch.
#[derive(Default)]
struct Pending {
    announce: HashMap<Arc<PathAttributes>, Vec<EvpnRoute>>,
    withdraw: Vec<EvpnRoute>,
    interned: HashMap<PathAttributes, Arc<PathAttributes>>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.announce.is_empty() && self.withdraw.is_empty()
    }

    fn intern(&mut self, a: PathAttributes) -> Arc<PathAttributes> {
        self.interned
            .entry(a.clone())
            .or_insert_with(|| Arc::new(a))
            .clone()
    }
}

/// Consecutive runs of routes whose encoding fits in `room` bytes.
fn chunks(routes: &[EvpnRoute], room: usize) -> Vec<&[EvpnRoute]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut used = 0;
    for (i, r) in routes.iter().enumerate() {
        let len = r.wire_len();
        if used + len > room && i > start {
            out.push(&routes[start..i]);
            start = i;
            used = 0;
        }
        used += len;
    }
    if start < routes.len() {
        out.push(&routes[start..]);
    }
    out
}

#[cfg(test)]
mod tests;

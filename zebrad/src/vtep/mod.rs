//! VXLAN tunnel endpoints: zebrad's half of EVPN (RFC 7432, RFC 8365) and
//! of the gRPC mapping mode without it.
//!
//! Local state ([`local`], discovered by [`discover`]) streams to
//! subscribers; remote state pushed by clients ([`table`]) is programmed
//! into the kernel's FDB and neighbor tables ([`program`]) while the RIB has
//! a route to each VTEP ([`reach`]). [`Vtep`] ties them together: every
//! change names the [`Key`]s it touched, and each touched key is brought to
//! what it should be: the winning client's entry, if its VTEP is reachable
//! and the VNI has a VXLAN device, else nothing. It lives in the RIB task,
//! which performs its nexthop registrations and hands its ops to a writer.
//! Never: programs an entry toward a VTEP the underlay cannot reach, or
//! touches an entry zebrad did not make (see [`program`]).

pub mod discover;
pub mod local;
pub mod program;
pub mod reach;
pub mod table;

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use proto::zebra as pb;
use tokio::sync::mpsc;
use tonic::Status;
use tracing::{info, warn};

use crate::iface::Link;
use discover::{FdbEntry, NeighEntry, NeighEvent};
use local::Local;
use program::{Programmed, VtepOp, VtepOutcome, Want};
use reach::{Reach, VtepReach};
pub use table::{Batch, ClientId, Key, MacEntry, MacIpEntry, Table};

/// A MAC address.
pub type Mac = [u8; 6];

/// The protocol id of zebrad's neighbor entries (`proto zebra`, as FRR).
pub const NEIGH_PROTOCOL: u8 = 11;

/// Name of the flood-entry state file in the run directory.
pub const FLOOD_FILE: &str = "zebrad-vtep-flood";

/// `aa:bb:cc:dd:ee:ff`.
pub fn fmt_mac(m: &[u8]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Registers (`true`) or unregisters a VTEP address with the RIB's nexthop
/// tracking; a registration answers with the current resolution.
pub type NhtFn<'a> = &'a mut dyn FnMut(IpAddr, bool) -> Option<VtepReach>;

struct Watcher {
    vnis: Vec<u32>,
    tx: mpsc::Sender<Result<pb::EvpnLocalUpdate, Status>>,
}

/// Keeps only the parts of `u` about `vnis` (all when empty).
fn filter_update(u: &pb::EvpnLocalUpdate, vnis: &[u32]) -> pb::EvpnLocalUpdate {
    if vnis.is_empty() {
        return u.clone();
    }
    let keep = |v: &u32| vnis.contains(v);
    pb::EvpnLocalUpdate {
        vni_update: u
            .vni_update
            .iter()
            .filter(|d| keep(&d.vni))
            .cloned()
            .collect(),
        vni_removed: u.vni_removed.iter().filter(|v| keep(v)).copied().collect(),
        mac_add: u.mac_add.iter().filter(|m| keep(&m.vni)).cloned().collect(),
        mac_del: u.mac_del.iter().filter(|m| keep(&m.vni)).cloned().collect(),
        neigh_add: u
            .neigh_add
            .iter()
            .filter(|n| keep(&n.vni))
            .cloned()
            .collect(),
        neigh_del: u
            .neigh_del
            .iter()
            .filter(|n| keep(&n.vni))
            .cloned()
            .collect(),
        end_of_dump: u.end_of_dump,
    }
}

fn is_empty(u: &pb::EvpnLocalUpdate) -> bool {
    u.vni_update.is_empty()
        && u.vni_removed.is_empty()
        && u.mac_add.is_empty()
        && u.mac_del.is_empty()
        && u.neigh_add.is_empty()
        && u.neigh_del.is_empty()
        && !u.end_of_dump
}

/// zebrad's VTEP state.
pub struct Vtep {
    pub local: Local,
    pub table: Table,
    pub reach: Reach,
    pub prog: Programmed,
    /// The VTEP each key currently references in [`Reach`].
    refs: HashMap<Key, IpAddr>,
    watchers: Vec<Watcher>,
    /// Adopted entries no client claimed by then are removed.
    adopt_until: Option<Instant>,
    /// Our entries deleted from outside zebrad, put back at the next tick
    /// (a device being deleted takes its entries first and goes itself
    /// right after: by the tick it is gone and nothing is written).
    reinstall: Vec<Key>,
    ops: Vec<VtepOp>,
}

impl Vtep {
    /// `run_dir`: where the flood state file lives (none: flood entries of
    /// an earlier life are never adopted, so never removed either).
    pub fn new(run_dir: Option<PathBuf>) -> Self {
        Vtep {
            local: Local::default(),
            table: Table::default(),
            reach: Reach::default(),
            prog: Programmed::new(run_dir.map(|d| d.join(FLOOD_FILE))),
            refs: HashMap::new(),
            watchers: Vec::new(),
            adopt_until: None,
            reinstall: Vec::new(),
            ops: Vec::new(),
        }
    }

    /// Reads the start-up dumps: local state, and zebrad's own entries of
    /// an earlier life, adopted for `adopt_for`.
    pub fn start(
        &mut self,
        links: &HashMap<u32, Link>,
        fdb: &[FdbEntry],
        neighs: &[NeighEntry],
        adopt_for: Duration,
        now: Instant,
    ) {
        self.local.links(links);
        let flood = self.prog.load_flood();
        for e in fdb {
            match self.local.vni_of_device(e.ifindex) {
                Some(vni) => {
                    if let Some((k, w)) = program::our_fdb(e, vni, &flood) {
                        self.prog.adopt(k, w);
                    }
                }
                None => {
                    self.local.fdb(e, false);
                }
            }
        }
        let bridges: HashMap<u32, u32> = self
            .local
            .devices()
            .filter(|d| d.bridge != 0)
            .map(|d| (d.bridge, d.vni))
            .collect();
        for n in neighs {
            match bridges
                .get(&n.ifindex)
                .and_then(|vni| program::our_neigh(n, *vni))
            {
                Some((k, w)) => self.prog.adopt(k, w),
                None => {
                    self.local.neigh(n, false);
                }
            }
        }
        self.adopt_until = Some(now + adopt_for);
        info!(
            vnis = self.local.devices().count(),
            adopted = self.prog.adopted(),
            "VTEP state read from the kernel"
        );
        // The file now says what is adopted.
        self.prog.save_flood();
    }

    /// What `key` should be in the kernel now.
    fn want(&self, key: &Key) -> Option<Want> {
        let dev = self.local.device(key.vni())?;
        match *key {
            Key::Flood(vni, vtep) => {
                self.table.vtep(vni, vtep)?;
                self.reach.reachable(vtep).then_some(Want::Flood {
                    ifindex: dev.ifindex,
                    vtep,
                })
            }
            Key::Mac(vni, mac) => {
                let (_, h) = self.table.mac(vni, mac)?;
                self.reach.reachable(h.value.vtep).then_some(Want::Mac {
                    ifindex: dev.ifindex,
                    mac,
                    vtep: h.value.vtep,
                    sticky: h.value.sticky,
                })
            }
            Key::MacIp(vni, ip) => {
                let (_, h) = self.table.macip(vni, ip)?;
                (dev.bridge != 0 && self.reach.reachable(h.value.vtep)).then_some(Want::Neigh {
                    ifindex: dev.bridge,
                    ip,
                    mac: h.value.mac,
                })
            }
        }
    }

    /// Brings `keys` to what they should be.
    fn resync(&mut self, keys: impl IntoIterator<Item = Key>, nht: NhtFn) {
        for key in keys {
            let new = self.table.vtep_of(&key);
            let old = self.refs.get(&key).copied();
            if new != old {
                if let Some(o) = old {
                    self.refs.remove(&key);
                    if self.reach.unreference(o) {
                        nht(o, false);
                    }
                }
                if let Some(n) = new {
                    self.refs.insert(key, n);
                    if self.reach.reference(n) {
                        if let Some(st) = nht(n, true) {
                            self.reach.update(n, st);
                        }
                    }
                }
            }
            let want = self.want(&key);
            self.prog.sync(key, want, &mut self.ops);
        }
    }

    /// The writes to hand to the writer (the flood state file is saved
    /// first, so it never misses an entry that is in the kernel).
    pub fn take_ops(&mut self) -> Vec<VtepOp> {
        self.prog.save_flood();
        std::mem::take(&mut self.ops)
    }

    pub fn outcomes(&mut self, batch: &[VtepOutcome]) {
        for o in batch {
            self.prog.outcome(o);
        }
    }

    fn broadcast(&mut self, u: pb::EvpnLocalUpdate) {
        if is_empty(&u) {
            return;
        }
        self.watchers.retain(|w| {
            let part = filter_update(&u, &w.vnis);
            if is_empty(&part) {
                return !w.tx.is_closed();
            }
            match w.tx.try_send(Ok(part)) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    warn!("EVPN subscriber too slow; dropped (it must resubscribe)");
                    false
                }
                Err(_) => false,
            }
        });
    }

    /// Links changed: devices may have come, gone or moved.
    pub fn links(&mut self, links: &HashMap<u32, Link>, nht: NhtFn) {
        let before: HashMap<u32, u32> = self.local.devices().map(|d| (d.vni, d.ifindex)).collect();
        let (u, changed) = self.local.links(links);
        for vni in &changed {
            if let Some(ix) = before.get(vni) {
                if self.local.device(*vni).is_none_or(|d| d.ifindex != *ix) {
                    self.prog.forget_ifindex(*ix);
                }
            }
        }
        for vni in &changed {
            let keys = self.table.keys(Some(*vni));
            self.resync(keys, nht);
        }
        self.broadcast(u);
    }

    /// After lost notifications: local MACs and neighbors re-read.
    pub fn resync_local(&mut self, fdb: &[FdbEntry], neighs: &[NeighEntry]) {
        let u = self.local.resync(fdb, neighs);
        self.broadcast(u);
    }

    pub fn link_removed(&mut self, ifindex: u32) {
        self.local.link_removed(ifindex);
    }

    /// A neighbor-table notification: local MACs and neighbors stream to
    /// the subscribers; one of our own entries deleted from outside
    /// (`bridge fdb del`, `ip neigh del`) is put back at the next tick,
    /// as zebrad does for its routes.
    pub fn neigh_event(&mut self, ev: &NeighEvent) {
        if let Some(key) = self.deleted_from_outside(ev) {
            self.prog.forget(&key);
            self.reinstall.push(key);
        }
        let u = match ev {
            NeighEvent::Fdb { entry, removed } => self.local.fdb(entry, *removed),
            NeighEvent::Neigh { entry, removed } => self.local.neigh(entry, *removed),
        };
        if let Some(u) = u {
            self.broadcast(u);
        }
    }

    /// The key of an entry zebrad has installed, when `ev` is its removal.
    /// Our own deletes never match: the entry leaves [`Programmed`] before
    /// the write.
    fn deleted_from_outside(&self, ev: &NeighEvent) -> Option<Key> {
        let (key, ifindex, dst) = match ev {
            NeighEvent::Fdb {
                entry: e,
                removed: true,
            } if e.self_ => {
                let vni = self.local.vni_of_device(e.ifindex)?;
                let vtep = e.dst?;
                let key = if e.mac == [0; 6] {
                    Key::Flood(vni, vtep)
                } else {
                    Key::Mac(vni, e.mac)
                };
                (key, e.ifindex, Some(vtep))
            }
            NeighEvent::Neigh {
                entry: e,
                removed: true,
            } => (
                Key::MacIp(self.local.vni_of_bridge(e.ifindex)?, e.ip),
                e.ifindex,
                None,
            ),
            _ => return None,
        };
        let same = match *self.prog.installed(&key)? {
            Want::Flood { ifindex: i, vtep }
            | Want::Mac {
                ifindex: i, vtep, ..
            } => i == ifindex && dst == Some(vtep),
            Want::Neigh { ifindex: i, .. } => i == ifindex && dst.is_none(),
        };
        same.then_some(key)
    }

    pub fn hello(&mut self, name: &str, stale: Duration, now: Instant) -> (ClientId, usize) {
        self.table.connect(name, stale, now)
    }

    pub fn disconnect(&mut self, id: ClientId, stale: Duration, now: Instant) {
        self.table.disconnect(id, stale, now);
    }

    /// A client's batch; returns how many entries it applied.
    pub fn batch(&mut self, id: ClientId, b: Batch, nht: NhtFn) -> usize {
        let n = b.len();
        let keys = self.table.apply(id, b);
        self.resync(keys, nht);
        n
    }

    /// Once a second: entries deleted from outside come back, stale entries
    /// and unclaimed adopted ones go.
    pub fn tick(&mut self, now: Instant, nht: NhtFn) {
        if !self.reinstall.is_empty() {
            let keys = std::mem::take(&mut self.reinstall);
            let before = self.ops.len();
            self.resync(keys.iter().copied(), nht);
            let n = self.ops.len() - before;
            if n > 0 {
                warn!(
                    entries = n,
                    "VTEP entries deleted from outside zebrad; re-installed"
                );
            }
        }
        let keys = self.table.expire(now);
        if !keys.is_empty() {
            info!(entries = keys.len(), "stale VTEP entries expired");
            self.resync(keys, nht);
        }
        if self.adopt_until.is_some_and(|t| t <= now) {
            self.adopt_until = None;
            let n = self.prog.adopted();
            self.prog.sweep_adopted(&mut self.ops);
            if n > 0 {
                info!(entries = n, "adopted VTEP entries nobody claimed removed");
            }
        }
    }

    /// The RIB's resolution of a tracked address changed.
    pub fn nht_changed(&mut self, addr: IpAddr, st: VtepReach, nht: NhtFn) {
        if !self.reach.tracked(addr) {
            return;
        }
        let was = self.reach.reachable(addr);
        if !self.reach.update(addr, st) {
            return;
        }
        let keys: Vec<Key> = self
            .refs
            .iter()
            .filter(|(_, v)| **v == addr)
            .map(|(k, _)| *k)
            .collect();
        info!(vtep = %addr, reachable = !was, entries = keys.len(), "VTEP reachability changed");
        self.resync(keys, nht);
    }

    /// A new subscriber: the dump now, deltas later.
    pub async fn watch(
        &mut self,
        vnis: Vec<u32>,
        tx: mpsc::Sender<Result<pb::EvpnLocalUpdate, Status>>,
    ) {
        let mut dump = self.local.dump(&vnis);
        dump.end_of_dump = true;
        if tx.send(Ok(dump)).await.is_ok() {
            self.watchers.push(Watcher { vnis, tx });
        }
    }

    /// The operator's view.
    pub fn show(&self, req: &pb::ShowEvpnRequest) -> pb::ShowEvpnReply {
        let mut vnis: BTreeMap<u32, ()> = self.local.devices().map(|d| (d.vni, ())).collect();
        for v in self.table.vnis().keys() {
            vnis.insert(*v, ());
        }
        let out = vnis
            .keys()
            .filter(|v| req.vni == 0 || **v == req.vni)
            .map(|&vni| self.show_vni(vni, req))
            .collect();
        pb::ShowEvpnReply { vnis: out }
    }

    fn error_text(&self, k: &Key) -> String {
        self.prog
            .error(k)
            .map(|e| std::io::Error::from_raw_os_error(e).to_string())
            .unwrap_or_default()
    }

    fn show_vni(&self, vni: u32, req: &pb::ShowEvpnRequest) -> pb::EvpnVni {
        let keys = self.table.keys(Some(vni));
        let mut vteps: BTreeMap<IpAddr, pb::EvpnVtepState> = BTreeMap::new();
        let vtep_state = |a: IpAddr| {
            let st = self.reach.state(a);
            pb::EvpnVtepState {
                address: proto::addr_to_bytes(a),
                reachable: st.resolved,
                via_prefix: st.via.map(proto::prefix_to_wire),
                via_source: st
                    .via_source
                    .map(|s| pb::RouteSource::from(s) as i32)
                    .unwrap_or(0),
                ..Default::default()
            }
        };
        let (mut remote_macs, mut remote_neighs) = (0u32, 0u32);
        let mut macs = Vec::new();
        let mut neighbors = Vec::new();
        for k in &keys {
            match *k {
                Key::Flood(_, a) => {
                    let e = vteps.entry(a).or_insert_with(|| vtep_state(a));
                    e.flood = true;
                    e.installed = self.prog.installed(k).is_some();
                    e.clients = self
                        .table
                        .vtep(vni, a)
                        .unwrap_or(&[])
                        .iter()
                        .map(|c| self.table.client_name(*c).to_string())
                        .collect();
                }
                Key::Mac(_, m) => {
                    let Some((c, h)) = self.table.mac(vni, m) else {
                        continue;
                    };
                    remote_macs += 1;
                    vteps
                        .entry(h.value.vtep)
                        .or_insert_with(|| vtep_state(h.value.vtep))
                        .macs += 1;
                    if req.macs {
                        macs.push(pb::EvpnMac {
                            mac: m.to_vec(),
                            local: false,
                            ifname: String::new(),
                            vtep: proto::addr_to_bytes(h.value.vtep),
                            seq: h.value.seq,
                            sticky: h.value.sticky,
                            installed: self.prog.installed(k).is_some(),
                            client: self.table.client_name(c).to_string(),
                            stale: h.stale,
                            error: self.error_text(k),
                        });
                    }
                }
                Key::MacIp(_, ip) => {
                    let Some((c, h)) = self.table.macip(vni, ip) else {
                        continue;
                    };
                    remote_neighs += 1;
                    if req.neighbors {
                        neighbors.push(pb::EvpnNeighbor {
                            ip: proto::addr_to_bytes(ip),
                            mac: h.value.mac.to_vec(),
                            local: false,
                            vtep: proto::addr_to_bytes(h.value.vtep),
                            installed: self.prog.installed(k).is_some(),
                            client: self.table.client_name(c).to_string(),
                            stale: h.stale,
                            error: self.error_text(k),
                        });
                    }
                }
            }
        }
        let local_macs = self.local.macs(vni);
        let local_neighs = self.local.neighbors(vni);
        if req.macs {
            for (m, p, name) in &local_macs {
                macs.push(pb::EvpnMac {
                    mac: m.to_vec(),
                    local: true,
                    ifname: name.to_string(),
                    sticky: p.sticky,
                    ..Default::default()
                });
            }
            macs.sort_by(|a, b| a.mac.cmp(&b.mac));
        }
        if req.neighbors {
            for (ip, m) in &local_neighs {
                neighbors.push(pb::EvpnNeighbor {
                    ip: proto::addr_to_bytes(*ip),
                    mac: m.to_vec(),
                    local: true,
                    ..Default::default()
                });
            }
            neighbors.sort_by(|a, b| (a.ip.len(), &a.ip).cmp(&(b.ip.len(), &b.ip)));
        }
        pb::EvpnVni {
            vni,
            device: self.local.device(vni).map(|d| d.to_wire()),
            vteps: vteps.into_values().collect(),
            local_macs: local_macs.len() as u32,
            remote_macs,
            local_neighbors: local_neighs.len() as u32,
            remote_neighbors: remote_neighs,
            macs,
            neighbors,
        }
    }
}

#[cfg(test)]
mod tests;

//! Neighbors: the Neighbor State Machine (RFC 2328 §10.1 to §10.4), the
//! database exchange with its master/slave negotiation (§10.6, §10.8), the
//! link state request list (§10.9) and answering requests (§10.7).
//!
//! Owns each neighbor's state, its database summary, request and
//! retransmission lists and its timers (inactivity, DD, request and update
//! retransmission). Installing what arrives in Link State Updates is the
//! flooding module's job; this module never touches the database except to
//! read it.

use std::collections::{BTreeMap, VecDeque};
use std::net::Ipv4Addr;

use tracing::{debug, info, warn};

use crate::instance::{Action, Instance, Millis};
use crate::interface::IfaceType;
use crate::lsa::{compare_instances, Lsa, LsaHeader, LsaKey, LsaType, LSA_HEADER_LEN};
use crate::options::Options;
use crate::packet::{DbDesc, DbDescFlags, LsRequest, LsUpdate, Packet, PacketBody};

/// The Neighbor State Machine's states (§10.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum NsmState {
    Down,
    Attempt,
    Init,
    TwoWay,
    ExStart,
    Exchange,
    Loading,
    Full,
}

impl NsmState {
    pub fn name(self) -> &'static str {
        match self {
            NsmState::Down => "Down",
            NsmState::Attempt => "Attempt",
            NsmState::Init => "Init",
            NsmState::TwoWay => "2-Way",
            NsmState::ExStart => "ExStart",
            NsmState::Exchange => "Exchange",
            NsmState::Loading => "Loading",
            NsmState::Full => "Full",
        }
    }
}

/// One neighbor on an interface.
#[derive(Clone, Debug)]
pub struct Neighbor {
    pub router_id: Ipv4Addr,
    pub addr: Ipv4Addr,
    pub priority: u8,
    pub options: Options,
    /// The DR and BDR the neighbor declares.
    pub dr: Ipv4Addr,
    pub bdr: Ipv4Addr,
    pub state: NsmState,
    pub inactivity_due: Millis,
    /// Master in the database exchange.
    pub master: bool,
    pub dd_seq: u32,
    /// (flags, options, sequence) of the last DD received, for duplicates.
    pub last_rx_dd: Option<(DbDescFlags, Options, u32)>,
    /// The last DD sent, retransmitted by the master and resent by the
    /// slave on a duplicate.
    pub last_tx_dd: Option<DbDesc>,
    pub dd_rxmt_due: Option<Millis>,
    /// Headers still to describe in the exchange.
    pub summary: VecDeque<LsaHeader>,
    /// The link state request list.
    pub requests: BTreeMap<LsaKey, LsaHeader>,
    /// The keys of the last request sent.
    pub lsr_sent: Vec<LsaKey>,
    pub lsr_rxmt_due: Option<Millis>,
    /// The link state retransmission list.
    pub rxmt: BTreeMap<LsaKey, Lsa>,
    pub rxmt_due: Option<Millis>,
    /// The last cryptographic sequence number received (MD5).
    pub crypto_seq: Option<u32>,
    pub state_changes: u64,
    /// When the neighbor entered its current state.
    pub since: Millis,
}

impl Neighbor {
    pub fn new(router_id: Ipv4Addr, addr: Ipv4Addr, now: Millis) -> Neighbor {
        Neighbor {
            router_id,
            addr,
            priority: 0,
            options: Options::empty(),
            dr: Ipv4Addr::UNSPECIFIED,
            bdr: Ipv4Addr::UNSPECIFIED,
            state: NsmState::Down,
            inactivity_due: now,
            master: false,
            dd_seq: 0,
            last_rx_dd: None,
            last_tx_dd: None,
            dd_rxmt_due: None,
            summary: VecDeque::new(),
            requests: BTreeMap::new(),
            lsr_sent: Vec::new(),
            lsr_rxmt_due: None,
            rxmt: BTreeMap::new(),
            rxmt_due: None,
            crypto_seq: None,
            state_changes: 0,
            since: now,
        }
    }

    pub(crate) fn set_state(&mut self, state: NsmState, iface: &str, now: Millis) {
        if self.state == state {
            return;
        }
        info!(interface = %iface, neighbor = %self.router_id, from = self.state.name(), to = state.name(), "neighbor state change");
        self.state = state;
        self.state_changes += 1;
        self.since = now;
    }

    /// Clears the exchange lists (§10.3, on leaving the adjacency states).
    pub(crate) fn reset_adjacency(&mut self) {
        self.summary.clear();
        self.requests.clear();
        self.lsr_sent.clear();
        self.rxmt.clear();
        self.last_rx_dd = None;
        self.last_tx_dd = None;
        self.dd_rxmt_due = None;
        self.lsr_rxmt_due = None;
        self.rxmt_due = None;
    }
}

/// What a DD packet did to the exchange.
enum DdOutcome {
    Ignore,
    /// A duplicate reaching the slave: resend the last answer.
    Resend,
    SeqMismatch(&'static str),
    Accept,
}

impl Instance {
    fn nbr(&self, name: &str, rid: Ipv4Addr) -> Option<&Neighbor> {
        self.ifaces.get(name)?.neighbors.get(&rid)
    }

    pub(crate) fn nbr_mut(&mut self, name: &str, rid: Ipv4Addr) -> Option<&mut Neighbor> {
        self.ifaces.get_mut(name)?.neighbors.get_mut(&rid)
    }

    /// 2-WayReceived in Init (§10.3): ExStart when an adjacency is wanted,
    /// else 2-Way.
    pub(crate) fn two_way_received(&mut self, name: &str, rid: Ipv4Addr, now: Millis) {
        let Some(i) = self.ifaces.get(name) else {
            return;
        };
        let Some(n) = i.neighbors.get(&rid) else {
            return;
        };
        let wanted = i.adjacency_wanted(n);
        if let Some(n) = self.nbr_mut(name, rid) {
            n.set_state(NsmState::TwoWay, name, now);
        }
        if wanted {
            self.start_exstart(name, rid, now);
        }
        self.neighbor_change(name, now);
    }

    /// 1-WayReceived (§10.3): back to Init, lists cleared.
    pub(crate) fn one_way_received(&mut self, name: &str, rid: Ipv4Addr, now: Millis) {
        let was_full = self
            .nbr(name, rid)
            .is_some_and(|n| n.state == NsmState::Full);
        if let Some(n) = self.nbr_mut(name, rid) {
            n.reset_adjacency();
            n.set_state(NsmState::Init, name, now);
        }
        self.neighbor_change(name, now);
        if was_full {
            self.lsas_changed(now);
        }
    }

    /// KillNbr / InactivityTimer / LLDown: the neighbor is removed.
    pub(crate) fn kill_neighbor(&mut self, name: &str, rid: Ipv4Addr, why: &str, now: Millis) {
        let Some(i) = self.ifaces.get_mut(name) else {
            return;
        };
        let Some(mut n) = i.neighbors.remove(&rid) else {
            return;
        };
        info!(interface = %name, neighbor = %rid, reason = why, "neighbor down");
        n.set_state(NsmState::Down, name, now);
        self.neighbor_change(name, now);
        self.lsas_changed(now);
    }

    /// Enters ExStart (§10.8): claims mastership with a new sequence number
    /// and sends the empty initial DD (I, M and MS set).
    pub(crate) fn start_exstart(&mut self, name: &str, rid: Ipv4Addr, now: Millis) {
        let seq = self.next_dd_seq();
        let Some(n) = self.nbr_mut(name, rid) else {
            return;
        };
        let was_full = n.state == NsmState::Full;
        n.reset_adjacency();
        n.set_state(NsmState::ExStart, name, now);
        n.master = true;
        n.dd_seq = seq;
        let dd = DbDesc {
            interface_mtu: 0,
            options: Options::empty(),
            flags: DbDescFlags::I | DbDescFlags::M | DbDescFlags::MS,
            dd_seq: seq,
            lsa_headers: Vec::new(),
        };
        n.last_tx_dd = Some(dd);
        self.send_last_dd(name, rid, now);
        if was_full {
            self.lsas_changed(now);
        }
    }

    /// (Re)sends the last DD to the neighbor; the master retransmits it.
    fn send_last_dd(&mut self, name: &str, rid: Ipv4Addr, now: Millis) {
        let router_id = self.router_id;
        let options = self.area_options(self.ifaces.get(name).map(|i| i.params.area));
        let Some(i) = self.ifaces.get_mut(name) else {
            return;
        };
        let (ifindex, area, mtu, rxmt) = (
            i.ifindex,
            i.params.area,
            i.mtu,
            u64::from(i.params.retransmit_interval) * 1000,
        );
        i.stats.dd_out += 1;
        let Some(n) = i.neighbors.get_mut(&rid) else {
            return;
        };
        let Some(mut dd) = n.last_tx_dd.clone() else {
            return;
        };
        dd.interface_mtu = mtu;
        dd.options = options;
        n.dd_rxmt_due = if n.master || n.state == NsmState::ExStart {
            Some(now + rxmt)
        } else {
            None
        };
        let dst = n.addr;
        self.actions.push(Action::Send {
            ifindex,
            dst,
            packet: Packet {
                router_id,
                area_id: area,
                body: PacketBody::DbDesc(dd),
            },
        });
    }

    /// The headers of the area's (and, outside stub areas, the AS's)
    /// database, MaxAge ones left out.
    fn database_summary(&self, area: Ipv4Addr, now: Millis) -> VecDeque<LsaHeader> {
        let s = crate::instance::secs(now);
        let mut out = VecDeque::new();
        let Some(a) = self.areas.get(&area) else {
            return out;
        };
        for (_, e) in a.lsdb.iter() {
            if !e.is_max_age(s) {
                out.push_back(e.header_at(s));
            }
        }
        if !a.cfg.stub {
            for (_, e) in self.external.iter() {
                if !e.is_max_age(s) {
                    out.push_back(e.header_at(s));
                }
            }
        }
        out
    }

    /// §10.6: a Database Description packet received.
    pub(crate) fn receive_dbdesc(&mut self, name: &str, rid: Ipv4Addr, dd: DbDesc, now: Millis) {
        let router_id = self.router_id;
        let Some(i) = self.ifaces.get_mut(name) else {
            return;
        };
        i.stats.dd_in += 1;
        let (mtu, area) = (i.mtu, i.params.area);
        let stub = self.areas.get(&area).is_some_and(|a| a.cfg.stub);
        if dd.interface_mtu > mtu {
            warn!(interface = %name, neighbor = %rid, theirs = dd.interface_mtu, ours = mtu, "DD rejected: neighbor MTU larger than ours");
            self.count_drop("dd_mtu_mismatch");
            return;
        }
        let Some(state) = self.nbr(name, rid).map(|n| n.state) else {
            return;
        };
        let state = if state == NsmState::Init {
            self.two_way_received(name, rid, now);
            match self.nbr(name, rid) {
                Some(n) => n.state,
                None => return,
            }
        } else {
            state
        };
        match state {
            NsmState::Down | NsmState::Attempt | NsmState::Init | NsmState::TwoWay => {
                self.count_drop("dd_wrong_state");
            }
            NsmState::ExStart => {
                let f = dd.flags;
                let init = DbDescFlags::I | DbDescFlags::M | DbDescFlags::MS;
                if f.contains(init) && dd.lsa_headers.is_empty() && rid > router_id {
                    // We are the slave.
                    if let Some(n) = self.nbr_mut(name, rid) {
                        n.master = false;
                        n.dd_seq = dd.dd_seq;
                        n.options = dd.options;
                        n.dd_rxmt_due = None;
                    }
                    self.negotiation_done(name, rid, area, now);
                    self.process_dd(name, rid, dd, stub, now);
                } else if !f.contains(DbDescFlags::I)
                    && !f.contains(DbDescFlags::MS)
                    && rid < router_id
                    && self.nbr(name, rid).is_some_and(|n| n.dd_seq == dd.dd_seq)
                {
                    // We are the master.
                    if let Some(n) = self.nbr_mut(name, rid) {
                        n.master = true;
                        n.options = dd.options;
                    }
                    self.negotiation_done(name, rid, area, now);
                    self.process_dd(name, rid, dd, stub, now);
                } else {
                    debug!(interface = %name, neighbor = %rid, "DD ignored in ExStart");
                }
            }
            NsmState::Exchange => match self.check_dd(name, rid, &dd) {
                DdOutcome::Ignore => {}
                DdOutcome::Resend => self.send_last_dd(name, rid, now),
                DdOutcome::SeqMismatch(why) => self.seq_mismatch(name, rid, why, now),
                DdOutcome::Accept => self.process_dd(name, rid, dd, stub, now),
            },
            NsmState::Loading | NsmState::Full => {
                let Some(n) = self.nbr(name, rid) else { return };
                let dup = n.last_rx_dd == Some((dd.flags, dd.options, dd.dd_seq));
                if dup {
                    if !n.master {
                        self.send_last_dd(name, rid, now);
                    }
                } else {
                    self.seq_mismatch(name, rid, "DD after the exchange", now);
                }
            }
        }
    }

    fn negotiation_done(&mut self, name: &str, rid: Ipv4Addr, area: Ipv4Addr, now: Millis) {
        let summary = self.database_summary(area, now);
        if let Some(n) = self.nbr_mut(name, rid) {
            n.summary = summary;
            n.set_state(NsmState::Exchange, name, now);
        }
    }

    /// The Exchange-state checks of §10.6.
    fn check_dd(&mut self, name: &str, rid: Ipv4Addr, dd: &DbDesc) -> DdOutcome {
        let Some(n) = self.nbr(name, rid) else {
            return DdOutcome::Ignore;
        };
        if n.last_rx_dd == Some((dd.flags, dd.options, dd.dd_seq)) {
            if n.master {
                return DdOutcome::Ignore;
            }
            // The slave answers a duplicate with its last packet.
            return DdOutcome::Resend;
        }
        if dd.flags.contains(DbDescFlags::MS) == n.master {
            return DdOutcome::SeqMismatch("MS bit mismatch");
        }
        if dd.flags.contains(DbDescFlags::I) {
            return DdOutcome::SeqMismatch("I bit set in Exchange");
        }
        if dd.options != n.options {
            return DdOutcome::SeqMismatch("options changed");
        }
        let expected = if n.master {
            n.dd_seq
        } else {
            n.dd_seq.wrapping_add(1)
        };
        if dd.dd_seq != expected {
            return DdOutcome::SeqMismatch("unexpected DD sequence number");
        }
        DdOutcome::Accept
    }

    /// SeqNumberMismatch (§10.3): the exchange starts over.
    fn seq_mismatch(&mut self, name: &str, rid: Ipv4Addr, why: &str, now: Millis) {
        warn!(interface = %name, neighbor = %rid, reason = why, "SeqNumberMismatch: restarting the exchange");
        self.count_drop("dd_seq_mismatch");
        self.start_exstart(name, rid, now);
    }

    /// Takes an accepted DD's headers into the request list and moves the
    /// exchange on (§10.6 and §10.8).
    fn process_dd(&mut self, name: &str, rid: Ipv4Addr, dd: DbDesc, stub: bool, now: Millis) {
        let s = crate::instance::secs(now);
        let mut wanted = Vec::new();
        for h in &dd.lsa_headers {
            let known = matches!(h.lsa_type.0, 1..=5);
            if !known || (stub && h.lsa_type == LsaType::AS_EXTERNAL) {
                self.seq_mismatch(name, rid, "unknown or disallowed LSA type in DD", now);
                return;
            }
            let area = self
                .ifaces
                .get(name)
                .map(|i| i.params.area)
                .unwrap_or(Ipv4Addr::UNSPECIFIED);
            let scope = Instance::scope_of(h.lsa_type, area);
            let newer = match self.lsdb(scope).and_then(|d| d.get(&h.key())) {
                None => true,
                Some(e) => compare_instances(h, &e.header_at(s)).is_gt(),
            };
            if newer {
                wanted.push(*h);
            }
        }
        let room = self
            .ifaces
            .get(name)
            .map(|i| (i.payload_room().saturating_sub(8) / LSA_HEADER_LEN).max(1))
            .unwrap_or(1);
        let Some(n) = self.nbr_mut(name, rid) else {
            return;
        };
        for h in wanted {
            n.requests.insert(h.key(), h);
        }
        n.last_rx_dd = Some((dd.flags, dd.options, dd.dd_seq));
        let their_more = dd.flags.contains(DbDescFlags::M);
        if n.master {
            // The slave acknowledged our last packet.
            let our_more = n
                .last_tx_dd
                .as_ref()
                .is_some_and(|d| d.flags.contains(DbDescFlags::M));
            if !our_more && !their_more {
                n.dd_rxmt_due = None;
                self.exchange_done(name, rid, now);
                return;
            }
            n.dd_seq = n.dd_seq.wrapping_add(1);
            let headers: Vec<LsaHeader> = (0..room).map_while(|_| n.summary.pop_front()).collect();
            let mut flags = DbDescFlags::MS;
            if !n.summary.is_empty() {
                flags = flags | DbDescFlags::M;
            }
            n.last_tx_dd = Some(DbDesc {
                interface_mtu: 0,
                options: Options::empty(),
                flags,
                dd_seq: n.dd_seq,
                lsa_headers: headers,
            });
            self.send_last_dd(name, rid, now);
        } else {
            n.dd_seq = dd.dd_seq;
            let headers: Vec<LsaHeader> = (0..room).map_while(|_| n.summary.pop_front()).collect();
            let our_more = !n.summary.is_empty();
            let flags = if our_more {
                DbDescFlags::M
            } else {
                DbDescFlags::empty()
            };
            n.last_tx_dd = Some(DbDesc {
                interface_mtu: 0,
                options: Options::empty(),
                flags,
                dd_seq: dd.dd_seq,
                lsa_headers: headers,
            });
            self.send_last_dd(name, rid, now);
            if !our_more && !their_more {
                self.exchange_done(name, rid, now);
            }
        }
        // Requests can go out while the exchange goes on.
        self.send_lsr_if_idle(name, rid, now);
    }

    /// ExchangeDone: Loading while requests remain, else Full.
    fn exchange_done(&mut self, name: &str, rid: Ipv4Addr, now: Millis) {
        let Some(n) = self.nbr_mut(name, rid) else {
            return;
        };
        if n.requests.is_empty() {
            n.set_state(NsmState::Full, name, now);
            self.lsas_changed(now);
        } else {
            n.set_state(NsmState::Loading, name, now);
            self.send_lsr_if_idle(name, rid, now);
        }
    }

    /// LoadingDone when the request list emptied in Loading.
    pub(crate) fn check_loading_done(&mut self, name: &str, rid: Ipv4Addr, now: Millis) {
        let Some(n) = self.nbr_mut(name, rid) else {
            return;
        };
        if n.requests.is_empty() {
            n.lsr_sent.clear();
            n.lsr_rxmt_due = None;
            if n.state == NsmState::Loading {
                n.set_state(NsmState::Full, name, now);
                self.lsas_changed(now);
            }
        } else {
            self.send_lsr_if_idle(name, rid, now);
        }
    }

    /// Sends the next Link State Request unless one is still outstanding.
    fn send_lsr_if_idle(&mut self, name: &str, rid: Ipv4Addr, now: Millis) {
        let Some(n) = self.nbr(name, rid) else {
            return;
        };
        let outstanding = n.lsr_sent.iter().any(|k| n.requests.contains_key(k));
        if !outstanding && !n.requests.is_empty() {
            self.send_lsr(name, rid, now);
        }
    }

    /// Sends (or resends) a Link State Request with the first entries of
    /// the request list.
    fn send_lsr(&mut self, name: &str, rid: Ipv4Addr, now: Millis) {
        let router_id = self.router_id;
        let Some(i) = self.ifaces.get_mut(name) else {
            return;
        };
        let room = (i.payload_room() / 12).max(1);
        let (ifindex, area, rxmt) = (
            i.ifindex,
            i.params.area,
            u64::from(i.params.retransmit_interval) * 1000,
        );
        i.stats.lsr_out += 1;
        let Some(n) = i.neighbors.get_mut(&rid) else {
            return;
        };
        if n.requests.is_empty() {
            n.lsr_rxmt_due = None;
            return;
        }
        let entries: Vec<LsaKey> = n.requests.keys().take(room).copied().collect();
        n.lsr_sent = entries.clone();
        n.lsr_rxmt_due = Some(now + rxmt);
        let dst = n.addr;
        self.actions.push(Action::Send {
            ifindex,
            dst,
            packet: Packet {
                router_id,
                area_id: area,
                body: PacketBody::LsRequest(LsRequest { entries }),
            },
        });
    }

    /// §10.7: a Link State Request received; the LSAs go back in updates.
    pub(crate) fn receive_lsreq(&mut self, name: &str, rid: Ipv4Addr, r: LsRequest, now: Millis) {
        let Some(i) = self.ifaces.get_mut(name) else {
            return;
        };
        i.stats.lsr_in += 1;
        let area = i.params.area;
        let Some(state) = i.neighbors.get(&rid).map(|n| n.state) else {
            return;
        };
        if !matches!(
            state,
            NsmState::Exchange | NsmState::Loading | NsmState::Full
        ) {
            self.count_drop("lsr_wrong_state");
            return;
        }
        let s = crate::instance::secs(now);
        let mut lsas = Vec::with_capacity(r.entries.len());
        for key in &r.entries {
            let scope = Instance::scope_of(key.lsa_type, area);
            match self.lsdb(scope).and_then(|d| d.get(key)) {
                Some(e) => lsas.push(e.lsa_at(s)),
                None => {
                    warn!(interface = %name, neighbor = %rid, lsa_type = key.lsa_type.0, lsid = %key.lsid, adv = %key.adv_rtr, "BadLSReq: requested LSA not in the database");
                    self.count_drop("bad_ls_request");
                    self.start_exstart(name, rid, now);
                    return;
                }
            }
        }
        let dst = self.nbr(name, rid).map(|n| n.addr);
        if let Some(dst) = dst {
            self.send_update(name, dst, lsas);
        }
    }

    /// Sends `lsas` in as many Link State Updates as the MTU requires, ages
    /// incremented by InfTransDelay.
    pub(crate) fn send_update(&mut self, name: &str, dst: Ipv4Addr, lsas: Vec<Lsa>) {
        let router_id = self.router_id;
        let Some(i) = self.ifaces.get_mut(name) else {
            return;
        };
        if lsas.is_empty() || !i.is_active() {
            return;
        }
        let room = i.payload_room().saturating_sub(4);
        let delay = i.params.transmit_delay;
        let mut batch: Vec<Lsa> = Vec::new();
        let mut size = 0usize;
        let mut packets = Vec::new();
        for lsa in lsas {
            let age = lsa
                .header()
                .age_value()
                .saturating_add(delay)
                .min(crate::lsa::MAX_AGE);
            let age = age | (lsa.header().age & crate::lsa::DO_NOT_AGE);
            let lsa = lsa.with_age(age);
            let len = lsa.raw().len();
            if !batch.is_empty() && size + len > room {
                packets.push(std::mem::take(&mut batch));
                size = 0;
            }
            size += len;
            batch.push(lsa);
        }
        if !batch.is_empty() {
            packets.push(batch);
        }
        for lsas in packets {
            i.stats.lsu_out += 1;
            self.actions.push(Action::Send {
                ifindex: i.ifindex,
                dst,
                packet: Packet {
                    router_id,
                    area_id: i.params.area,
                    body: PacketBody::LsUpdate(LsUpdate::new(lsas)),
                },
            });
        }
    }

    /// The neighbors' timers on one interface.
    pub(crate) fn neighbor_timers(&mut self, name: &str, now: Millis) {
        let Some(i) = self.ifaces.get(name) else {
            return;
        };
        let rxmt = u64::from(i.params.retransmit_interval) * 1000;
        let kind = i.params.kind;
        let rids: Vec<Ipv4Addr> = i.neighbors.keys().copied().collect();
        for rid in rids {
            let Some(n) = self.nbr(name, rid) else {
                continue;
            };
            if now >= n.inactivity_due {
                self.kill_neighbor(name, rid, "inactivity timer", now);
                continue;
            }
            if n.dd_rxmt_due.is_some_and(|d| now >= d) {
                self.send_last_dd(name, rid, now);
            }
            let Some(n) = self.nbr(name, rid) else {
                continue;
            };
            if n.lsr_rxmt_due.is_some_and(|d| now >= d) {
                self.send_lsr(name, rid, now);
            }
            let Some(n) = self.nbr_mut(name, rid) else {
                continue;
            };
            if n.rxmt_due.is_some_and(|d| now >= d) {
                if n.rxmt.is_empty() || n.state < NsmState::Exchange {
                    n.rxmt_due = None;
                    continue;
                }
                n.rxmt_due = Some(now + rxmt);
                let lsas: Vec<Lsa> = n.rxmt.values().cloned().collect();
                let dst = match kind {
                    // Retransmissions go straight to the neighbor (§13.6).
                    IfaceType::Broadcast | IfaceType::PointToPoint => n.addr,
                };
                debug!(interface = %name, neighbor = %rid, count = lsas.len(), "retransmitting LSAs");
                self.send_update(name, dst, lsas);
            }
        }
    }

    /// Neighbors as (interface name, neighbor) pairs, for display.
    pub fn neighbors(&self) -> impl Iterator<Item = (&str, &Neighbor)> {
        self.ifaces.values().flat_map(|i| {
            i.neighbors
                .values()
                .map(move |n| (i.params.name.as_str(), n))
        })
    }
}

//! OSPF interfaces: the Interface State Machine (RFC 2328 §9.1 to §9.3),
//! the Designated Router election (§9.4), sending and receiving Hellos
//! (§9.5, §10.5) and the checks every received packet passes (§8.2).
//!
//! Owns the per-interface state (ISM state, DR and BDR, neighbors, hello
//! and wait timers, delayed acknowledgements). It never touches a socket:
//! packets leave as [`Action::Send`] and interfaces open and close as
//! [`Action::Open`] and [`Action::Close`].

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ipnetwork::Ipv4Network;
use tracing::{debug, info};

use crate::instance::{Action, Instance, Millis};
use crate::lsa::LsaHeader;
use crate::neighbor::{Neighbor, NsmState};
use crate::options::Options;
use crate::packet::{AuthInfo, Hello, LsAck, Packet, PacketBody, ALL_D_ROUTERS, ALL_SPF_ROUTERS};

/// The network type of an interface (§1.2); NBMA, point-to-multipoint and
/// virtual links are not supported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IfaceType {
    Broadcast,
    PointToPoint,
}

impl IfaceType {
    pub fn name(self) -> &'static str {
        match self {
            IfaceType::Broadcast => "BROADCAST",
            IfaceType::PointToPoint => "POINTOPOINT",
        }
    }
}

/// An interface's configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IfaceParams {
    pub name: String,
    pub area: Ipv4Addr,
    pub kind: IfaceType,
    pub cost: u16,
    pub priority: u8,
    pub hello_interval: u16,
    pub dead_interval: u32,
    pub retransmit_interval: u16,
    pub transmit_delay: u16,
    /// Advertised as a stub network; no Hellos, no neighbors.
    pub passive: bool,
    /// Bytes the authentication appends after each packet (16 under MD5).
    pub auth_trailer: usize,
}

impl IfaceParams {
    /// Defaults as FRR's: broadcast, cost 10, priority 1, 10/40/5 s.
    pub fn new(name: &str, area: Ipv4Addr) -> IfaceParams {
        IfaceParams {
            name: name.to_string(),
            area,
            kind: IfaceType::Broadcast,
            cost: 10,
            priority: 1,
            hello_interval: 10,
            dead_interval: 40,
            retransmit_interval: 5,
            transmit_delay: 1,
            passive: false,
            auth_trailer: 0,
        }
    }
}

/// The Interface State Machine's states (§9.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum IsmState {
    Down,
    Loopback,
    Waiting,
    PointToPoint,
    DROther,
    Backup,
    DR,
}

impl IsmState {
    pub fn name(self) -> &'static str {
        match self {
            IsmState::Down => "Down",
            IsmState::Loopback => "Loopback",
            IsmState::Waiting => "Waiting",
            IsmState::PointToPoint => "Point-To-Point",
            IsmState::DROther => "DROther",
            IsmState::Backup => "Backup",
            IsmState::DR => "DR",
        }
    }
}

/// Per-interface packet counters.
#[derive(Clone, Copy, Debug, Default)]
pub struct IfaceStats {
    pub hello_in: u64,
    pub hello_out: u64,
    pub dd_in: u64,
    pub dd_out: u64,
    pub lsr_in: u64,
    pub lsr_out: u64,
    pub lsu_in: u64,
    pub lsu_out: u64,
    pub ack_in: u64,
    pub ack_out: u64,
}

/// One OSPF interface.
#[derive(Clone, Debug)]
pub struct Interface {
    pub params: IfaceParams,
    /// 0 while the interface is unknown to the kernel.
    pub ifindex: u32,
    pub addr: Option<Ipv4Network>,
    pub mtu: u16,
    pub link_up: bool,
    pub loopback: bool,
    pub state: IsmState,
    /// The DR and BDR, by interface address (0.0.0.0: none).
    pub dr: Ipv4Addr,
    pub bdr: Ipv4Addr,
    /// Neighbors by router ID.
    pub neighbors: BTreeMap<Ipv4Addr, Neighbor>,
    pub hello_due: Option<Millis>,
    pub wait_due: Option<Millis>,
    pub delayed_acks: Vec<LsaHeader>,
    pub ack_due: Option<Millis>,
    pub stats: IfaceStats,
    pub state_changes: u64,
}

impl Interface {
    pub fn new(params: IfaceParams) -> Interface {
        Interface {
            params,
            ifindex: 0,
            addr: None,
            mtu: 1500,
            link_up: false,
            loopback: false,
            state: IsmState::Down,
            dr: Ipv4Addr::UNSPECIFIED,
            bdr: Ipv4Addr::UNSPECIFIED,
            neighbors: BTreeMap::new(),
            hello_due: None,
            wait_due: None,
            delayed_acks: Vec::new(),
            ack_due: None,
            stats: IfaceStats::default(),
            state_changes: 0,
        }
    }

    pub fn is_up(&self) -> bool {
        self.state != IsmState::Down
    }

    /// True when the interface sends Hellos and forms adjacencies.
    pub fn is_active(&self) -> bool {
        self.is_up() && !self.params.passive && self.state != IsmState::Loopback
    }

    pub fn ip(&self) -> Ipv4Addr {
        self.addr.map(|a| a.ip()).unwrap_or(Ipv4Addr::UNSPECIFIED)
    }

    /// The destination of flooded packets and delayed acks (§13.3, §13.5):
    /// AllSPFRouters, or AllDRouters from a DROther on a broadcast network.
    pub fn flood_dst(&self) -> Ipv4Addr {
        match (self.params.kind, self.state) {
            (IfaceType::Broadcast, IsmState::DR | IsmState::Backup) => ALL_SPF_ROUTERS,
            (IfaceType::Broadcast, _) => ALL_D_ROUTERS,
            _ => ALL_SPF_ROUTERS,
        }
    }

    /// True when this router must form an adjacency with `n` (§10.4).
    pub fn adjacency_wanted(&self, n: &Neighbor) -> bool {
        match self.params.kind {
            IfaceType::PointToPoint => true,
            IfaceType::Broadcast => {
                matches!(self.state, IsmState::DR | IsmState::Backup)
                    || (n.addr == self.dr && !self.dr.is_unspecified())
                    || (n.addr == self.bdr && !self.bdr.is_unspecified())
            }
        }
    }

    /// Room for LSA-carrying bodies in one packet: the MTU less the IP and
    /// OSPF headers and the authentication trailer.
    pub fn payload_room(&self) -> usize {
        usize::from(self.mtu)
            .saturating_sub(20 + crate::packet::HEADER_LEN + self.params.auth_trailer)
            .max(256)
    }

    /// The neighbor whose interface address is `addr`.
    pub fn neighbor_by_addr(&self, addr: Ipv4Addr) -> Option<&Neighbor> {
        self.neighbors.values().find(|n| n.addr == addr)
    }
}

/// One router taking part in a DR election (§9.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub router_id: Ipv4Addr,
    pub addr: Ipv4Addr,
    pub priority: u8,
    /// The DR and BDR it declares, by address.
    pub dr: Ipv4Addr,
    pub bdr: Ipv4Addr,
}

/// §9.4 steps 2 and 3 over `routers` (the calculating router and every
/// neighbor in state 2-Way or higher): the new (DR, BDR) addresses.
fn elect_once(routers: &[Candidate]) -> (Ipv4Addr, Ipv4Addr) {
    let best = |it: &mut dyn Iterator<Item = &Candidate>| {
        it.max_by_key(|c| (c.priority, c.router_id)).map(|c| c.addr)
    };
    let eligible = || routers.iter().filter(|c| c.priority > 0);
    // Step 2: the BDR, among those not declaring themselves DR.
    let not_dr = || eligible().filter(|c| c.dr != c.addr);
    let bdr = best(&mut not_dr().filter(|c| c.bdr == c.addr))
        .or_else(|| best(&mut not_dr()))
        .unwrap_or(Ipv4Addr::UNSPECIFIED);
    // Step 3: the DR, among those declaring themselves DR; else the BDR.
    let dr = best(&mut eligible().filter(|c| c.dr == c.addr)).unwrap_or(bdr);
    (dr, bdr)
}

/// The DR election of §9.4. `me` indexes the calculating router in
/// `routers`; its declarations are its current DR and BDR. Returns the new
/// (DR, BDR) addresses.
pub fn elect(routers: &[Candidate], me: usize) -> (Ipv4Addr, Ipv4Addr) {
    let Some(mine) = routers.get(me).copied() else {
        return (Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED);
    };
    let (dr, bdr) = elect_once(routers);
    // Step 4: when the calculating router's own role changed, the election
    // is run again with its new declarations.
    let was = (mine.dr == mine.addr, mine.bdr == mine.addr);
    let now = (dr == mine.addr, bdr == mine.addr);
    let (dr, bdr) = if was == now {
        (dr, bdr)
    } else {
        let mut again = routers.to_vec();
        if let Some(c) = again.get_mut(me) {
            c.dr = dr;
            c.bdr = bdr;
        }
        elect_once(&again)
    };
    // A router promoted from BDR to DR is no longer the BDR.
    if dr == bdr {
        (dr, Ipv4Addr::UNSPECIFIED)
    } else {
        (dr, bdr)
    }
}

impl Instance {
    /// The kernel's view of an interface changed (from zebrad): brings it
    /// up (InterfaceUp, §9.3) once it is up with an IPv4 address, down
    /// (InterfaceDown) when the link or the address goes.
    #[allow(clippy::too_many_arguments)]
    pub fn interface_update(
        &mut self,
        name: &str,
        ifindex: u32,
        link_up: bool,
        mtu: u32,
        addr: Option<Ipv4Network>,
        loopback: bool,
        now: Millis,
    ) {
        let Some(i) = self.ifaces.get_mut(name) else {
            return;
        };
        let was_usable = i.is_up();
        let changed = i.ifindex != ifindex || i.addr != addr;
        i.link_up = link_up;
        i.loopback = loopback;
        i.mtu = mtu.clamp(576, 65535) as u16;
        let usable = link_up && addr.is_some() && ifindex != 0;
        if was_usable && (!usable || changed) {
            self.interface_down(name, now);
        }
        if let Some(i) = self.ifaces.get_mut(name) {
            i.ifindex = ifindex;
            i.addr = addr;
        }
        if usable && (!was_usable || changed) {
            self.interface_up(name, now);
        }
    }

    /// The interface with `ifindex` left the kernel.
    pub fn interface_removed(&mut self, ifindex: u32, now: Millis) {
        let names: Vec<String> = self
            .ifaces
            .values()
            .filter(|i| i.ifindex == ifindex)
            .map(|i| i.params.name.clone())
            .collect();
        for n in names {
            self.interface_down(&n, now);
            if let Some(i) = self.ifaces.get_mut(&n) {
                i.ifindex = 0;
                i.addr = None;
            }
        }
    }

    fn set_ism(&mut self, name: &str, state: IsmState) {
        let Some(i) = self.ifaces.get_mut(name) else {
            return;
        };
        if i.state == state {
            return;
        }
        info!(interface = %name, from = i.state.name(), to = state.name(), "interface state change");
        let was_d = matches!(i.state, IsmState::DR | IsmState::Backup);
        let is_d = matches!(state, IsmState::DR | IsmState::Backup);
        i.state = state;
        i.state_changes += 1;
        if was_d != is_d && i.ifindex != 0 && !i.params.passive {
            let ifindex = i.ifindex;
            self.actions.push(Action::JoinDRouters {
                ifindex,
                join: is_d,
            });
        }
    }

    fn interface_up(&mut self, name: &str, now: Millis) {
        let Some(i) = self.ifaces.get(name) else {
            return;
        };
        let (passive, kind, loopback, priority) = (
            i.params.passive,
            i.params.kind,
            i.loopback,
            i.params.priority,
        );
        let (ifindex, addr, dead) = (i.ifindex, i.ip(), i.params.dead_interval);
        let state = if loopback {
            IsmState::Loopback
        } else if passive {
            // A passive interface is advertised as a stub and elects
            // nothing: it is its own DR as far as the LSAs care.
            IsmState::DROther
        } else {
            match kind {
                IfaceType::PointToPoint => IsmState::PointToPoint,
                IfaceType::Broadcast if priority == 0 => IsmState::DROther,
                IfaceType::Broadcast => IsmState::Waiting,
            }
        };
        if !passive && !loopback {
            self.actions.push(Action::Open {
                ifindex,
                name: name.to_string(),
                addr,
            });
        }
        self.set_ism(name, state);
        if let Some(i) = self.ifaces.get_mut(name) {
            i.dr = Ipv4Addr::UNSPECIFIED;
            i.bdr = Ipv4Addr::UNSPECIFIED;
            if i.is_active() {
                i.hello_due = Some(now);
            }
            if state == IsmState::Waiting {
                i.wait_due = Some(now + u64::from(dead) * 1000);
            }
        }
        self.lsas_changed(now);
    }

    pub(crate) fn interface_down(&mut self, name: &str, now: Millis) {
        let Some(i) = self.ifaces.get_mut(name) else {
            return;
        };
        if i.state == IsmState::Down {
            return;
        }
        let rids: Vec<Ipv4Addr> = i.neighbors.keys().copied().collect();
        let active = i.is_active();
        let ifindex = i.ifindex;
        // Down first, so that the router-LSA re-originated as the neighbors
        // go already lacks the interface: one LSA for the event, not a
        // second one held back by MinLSInterval.
        self.set_ism(name, IsmState::Down);
        for rid in rids {
            self.kill_neighbor(name, rid, "interface down", now);
        }
        if let Some(i) = self.ifaces.get_mut(name) {
            i.dr = Ipv4Addr::UNSPECIFIED;
            i.bdr = Ipv4Addr::UNSPECIFIED;
            i.hello_due = None;
            i.wait_due = None;
            i.ack_due = None;
            i.delayed_acks.clear();
        }
        if active {
            self.actions.push(Action::Close { ifindex });
        }
        self.lsas_changed(now);
    }

    /// Something that router- or network-LSAs depend on changed: look at
    /// the self-originated LSAs again.
    pub(crate) fn lsas_changed(&mut self, now: Millis) {
        self.reconcile_self(now);
    }

    /// The interface timers: Hello, WaitTimer, delayed acks, and the
    /// neighbors' timers.
    pub(crate) fn iface_timers(&mut self, name: &str, now: Millis) {
        let Some(i) = self.ifaces.get(name) else {
            return;
        };
        if i.hello_due.is_some_and(|d| now >= d) {
            self.send_hello(name, now);
        }
        let Some(i) = self.ifaces.get_mut(name) else {
            return;
        };
        if i.wait_due.is_some_and(|d| now >= d) {
            i.wait_due = None;
            self.elect_dr(name, now);
        }
        if self
            .ifaces
            .get(name)
            .is_some_and(|i| i.ack_due.is_some_and(|d| now >= d))
        {
            self.flush_delayed_acks(name);
        }
        self.neighbor_timers(name, now);
    }

    /// Sends a Hello (§9.5) and schedules the next.
    pub(crate) fn send_hello(&mut self, name: &str, now: Millis) {
        let router_id = self.router_id;
        let options = self.area_options(self.ifaces.get(name).map(|i| i.params.area));
        let Some(i) = self.ifaces.get_mut(name) else {
            return;
        };
        i.hello_due = Some(now + u64::from(i.params.hello_interval) * 1000);
        if !i.is_active() {
            i.hello_due = None;
            return;
        }
        let mask = i.addr.map(|a| a.mask()).unwrap_or(Ipv4Addr::UNSPECIFIED);
        let hello = Hello {
            network_mask: mask,
            hello_interval: i.params.hello_interval,
            options,
            priority: i.params.priority,
            dead_interval: i.params.dead_interval,
            designated_router: i.dr,
            backup_designated_router: i.bdr,
            neighbors: i
                .neighbors
                .values()
                .filter(|n| n.state >= NsmState::Init)
                .map(|n| n.router_id)
                .collect(),
        };
        i.stats.hello_out += 1;
        let packet = Packet {
            router_id,
            area_id: i.params.area,
            body: PacketBody::Hello(hello),
        };
        self.actions.push(Action::Send {
            ifindex: i.ifindex,
            dst: ALL_SPF_ROUTERS,
            packet,
        });
    }

    /// The Options a router sets in an area: E unless the area is a stub.
    pub(crate) fn area_options(&self, area: Option<Ipv4Addr>) -> Options {
        let stub = area
            .and_then(|a| self.areas.get(&a))
            .is_some_and(|a| a.cfg.stub);
        if stub {
            Options::empty()
        } else {
            Options::E
        }
    }

    /// A packet arrived on `ifindex` from `src` to `dst` (§8.2). The shell
    /// has decoded and authenticated it with the interface's settings.
    pub fn receive(
        &mut self,
        ifindex: u32,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        packet: Packet,
        auth: AuthInfo,
        now: Millis,
    ) {
        let Some(name) = self
            .ifaces
            .values()
            .find(|i| i.ifindex == ifindex && i.is_active())
            .map(|i| i.params.name.clone())
        else {
            self.count_drop("no_interface");
            return;
        };
        let Some(i) = self.ifaces.get(&name) else {
            return;
        };
        let drop_reason = if packet.router_id == self.router_id {
            Some("own_router_id")
        } else if packet.area_id != i.params.area {
            Some("area_mismatch")
        } else if dst == ALL_D_ROUTERS && !matches!(i.state, IsmState::DR | IsmState::Backup) {
            Some("not_dr")
        } else if i.params.kind == IfaceType::Broadcast && !i.addr.is_some_and(|a| a.contains(src))
        {
            Some("source_not_on_subnet")
        } else {
            None
        };
        if let Some(reason) = drop_reason {
            debug!(interface = %name, %src, router_id = %packet.router_id, reason, "packet dropped");
            self.count_drop(reason);
            return;
        }
        // D.4.3: a cryptographic sequence number lower than the neighbor's
        // last is a replay.
        if let AuthInfo::Cryptographic { seq, .. } = auth {
            if let Some(n) = i.neighbors.get(&packet.router_id) {
                if n.crypto_seq.is_some_and(|last| seq < last) {
                    debug!(interface = %name, neighbor = %packet.router_id, seq, "MD5 sequence number went backwards");
                    self.count_drop("crypto_seq_replay");
                    return;
                }
            }
        }
        let rid = packet.router_id;
        match packet.body {
            PacketBody::Hello(h) => self.receive_hello(&name, src, rid, h, now),
            body => {
                let Some(n) = self
                    .ifaces
                    .get_mut(&name)
                    .and_then(|i| i.neighbors.get_mut(&rid))
                else {
                    debug!(interface = %name, %src, router_id = %rid, "packet from an unknown neighbor");
                    self.count_drop("unknown_neighbor");
                    return;
                };
                n.addr = src;
                match body {
                    PacketBody::DbDesc(dd) => self.receive_dbdesc(&name, rid, dd, now),
                    PacketBody::LsRequest(r) => self.receive_lsreq(&name, rid, r, now),
                    PacketBody::LsUpdate(u) => self.receive_lsupdate(&name, rid, u, now),
                    PacketBody::LsAck(a) => self.receive_lsack(&name, rid, a, now),
                    PacketBody::Hello(_) => {}
                }
            }
        }
        if let AuthInfo::Cryptographic { seq, .. } = auth {
            if let Some(n) = self
                .ifaces
                .get_mut(&name)
                .and_then(|i| i.neighbors.get_mut(&rid))
            {
                n.crypto_seq = Some(seq);
            }
        }
    }

    /// §10.5: a Hello received.
    fn receive_hello(&mut self, name: &str, src: Ipv4Addr, rid: Ipv4Addr, h: Hello, now: Millis) {
        let router_id = self.router_id;
        let want_options = self.area_options(self.ifaces.get(name).map(|i| i.params.area));
        let Some(i) = self.ifaces.get_mut(name) else {
            return;
        };
        i.stats.hello_in += 1;
        let mismatch = if i.params.kind == IfaceType::Broadcast
            && i.addr.is_some_and(|a| a.mask() != h.network_mask)
        {
            Some("hello_mask_mismatch")
        } else if h.hello_interval != i.params.hello_interval {
            Some("hello_interval_mismatch")
        } else if h.dead_interval != i.params.dead_interval {
            Some("dead_interval_mismatch")
        } else if h.options.contains(Options::E) != want_options.contains(Options::E) {
            Some("hello_e_bit_mismatch")
        } else {
            None
        };
        if let Some(reason) = mismatch {
            debug!(interface = %name, neighbor = %rid, reason, "Hello rejected");
            self.count_drop(reason);
            return;
        }
        let dead = u64::from(i.params.dead_interval) * 1000;
        let kind = i.params.kind;
        let is_new = !i.neighbors.contains_key(&rid);
        let n = i
            .neighbors
            .entry(rid)
            .or_insert_with(|| Neighbor::new(rid, src, now));
        if is_new {
            info!(interface = %name, neighbor = %rid, address = %src, "new neighbor");
        }
        let old = (n.priority, n.dr, n.bdr);
        n.addr = src;
        n.priority = h.priority;
        n.dr = h.designated_router;
        n.bdr = h.backup_designated_router;
        n.options = h.options;
        n.inactivity_due = now + dead;
        if n.state == NsmState::Down {
            n.set_state(NsmState::Init, name, now);
        }
        let two_way = h.neighbors.contains(&router_id);
        let state = n.state;
        if two_way {
            if state == NsmState::Init {
                self.two_way_received(name, rid, now);
            }
        } else if state >= NsmState::TwoWay {
            self.one_way_received(name, rid, now);
        }
        if kind != IfaceType::Broadcast {
            return;
        }
        let Some(i) = self.ifaces.get(name) else {
            return;
        };
        let declares_dr = h.designated_router == src;
        let declares_bdr = h.backup_designated_router == src;
        if i.state == IsmState::Waiting
            && ((declares_dr && h.backup_designated_router.is_unspecified()) || declares_bdr)
        {
            // BackupSeen.
            if let Some(i) = self.ifaces.get_mut(name) {
                i.wait_due = None;
            }
            self.elect_dr(name, now);
            return;
        }
        let (old_pri, old_dr, old_bdr) = old;
        let was_dr = old_dr == src;
        let was_bdr = old_bdr == src;
        if is_new || old_pri != h.priority || was_dr != declares_dr || was_bdr != declares_bdr {
            self.neighbor_change(name, now);
        }
    }

    /// The NeighborChange event: re-run the election unless still waiting.
    pub(crate) fn neighbor_change(&mut self, name: &str, now: Millis) {
        let Some(i) = self.ifaces.get(name) else {
            return;
        };
        if i.params.kind == IfaceType::Broadcast
            && i.is_active()
            && matches!(i.state, IsmState::DR | IsmState::Backup | IsmState::DROther)
        {
            self.elect_dr(name, now);
        }
    }

    /// §9.4: elects the DR and BDR, sets the interface state, and fixes the
    /// adjacencies that changed (AdjOK?).
    pub(crate) fn elect_dr(&mut self, name: &str, now: Millis) {
        let router_id = self.router_id;
        let Some(i) = self.ifaces.get(name) else {
            return;
        };
        if i.params.kind != IfaceType::Broadcast || !i.is_active() {
            return;
        }
        let mut cands = vec![Candidate {
            router_id,
            addr: i.ip(),
            priority: i.params.priority,
            dr: i.dr,
            bdr: i.bdr,
        }];
        cands.extend(
            i.neighbors
                .values()
                .filter(|n| n.state >= NsmState::TwoWay)
                .map(|n| Candidate {
                    router_id: n.router_id,
                    addr: n.addr,
                    priority: n.priority,
                    dr: n.dr,
                    bdr: n.bdr,
                }),
        );
        let (dr, bdr) = elect(&cands, 0);
        let me = i.ip();
        let (old_dr, old_bdr) = (i.dr, i.bdr);
        let state = if dr == me {
            IsmState::DR
        } else if bdr == me {
            IsmState::Backup
        } else {
            IsmState::DROther
        };
        if let Some(i) = self.ifaces.get_mut(name) {
            i.dr = dr;
            i.bdr = bdr;
        }
        if (dr, bdr) != (old_dr, old_bdr) {
            info!(interface = %name, %dr, %bdr, "DR election");
        }
        self.set_ism(name, state);
        // AdjOK?: adjacencies to start or to tear down.
        let Some(i) = self.ifaces.get(name) else {
            return;
        };
        let changes: Vec<(Ipv4Addr, bool)> = i
            .neighbors
            .values()
            .filter(|n| n.state >= NsmState::TwoWay)
            .map(|n| (n.router_id, i.adjacency_wanted(n)))
            .collect();
        for (rid, wanted) in changes {
            let Some(state) = self
                .ifaces
                .get(name)
                .and_then(|i| i.neighbors.get(&rid))
                .map(|n| n.state)
            else {
                continue;
            };
            if wanted && state == NsmState::TwoWay {
                self.start_exstart(name, rid, now);
            } else if !wanted && state >= NsmState::ExStart {
                if let Some(n) = self
                    .ifaces
                    .get_mut(name)
                    .and_then(|i| i.neighbors.get_mut(&rid))
                {
                    n.reset_adjacency();
                    n.set_state(NsmState::TwoWay, name, now);
                }
            }
        }
        self.lsas_changed(now);
        // Send a Hello now so the others learn the result quickly.
        if (dr, bdr) != (old_dr, old_bdr) {
            self.send_hello(name, now);
        }
    }

    /// Queues a delayed acknowledgement (§13.5), sent within a second.
    pub(crate) fn delayed_ack(&mut self, name: &str, header: LsaHeader, now: Millis) {
        let Some(i) = self.ifaces.get_mut(name) else {
            return;
        };
        i.delayed_acks.push(header);
        if i.ack_due.is_none() {
            i.ack_due = Some(now + 500);
        }
        let room = i.payload_room() / crate::lsa::LSA_HEADER_LEN;
        if i.delayed_acks.len() >= room {
            self.flush_delayed_acks(name);
        }
    }

    /// Sends the queued delayed acknowledgements.
    pub(crate) fn flush_delayed_acks(&mut self, name: &str) {
        let router_id = self.router_id;
        let Some(i) = self.ifaces.get_mut(name) else {
            return;
        };
        i.ack_due = None;
        if i.delayed_acks.is_empty() || !i.is_active() {
            i.delayed_acks.clear();
            return;
        }
        let room = (i.payload_room() / crate::lsa::LSA_HEADER_LEN).max(1);
        let headers = std::mem::take(&mut i.delayed_acks);
        let dst = i.flood_dst();
        for chunk in headers.chunks(room) {
            i.stats.ack_out += 1;
            self.actions.push(Action::Send {
                ifindex: i.ifindex,
                dst,
                packet: Packet {
                    router_id,
                    area_id: i.params.area,
                    body: PacketBody::LsAck(LsAck {
                        lsa_headers: chunk.to_vec(),
                    }),
                },
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: u8, pri: u8, dr: u8, bdr: u8) -> Candidate {
        let a = |x: u8| {
            if x == 0 {
                Ipv4Addr::UNSPECIFIED
            } else {
                Ipv4Addr::new(192, 0, 2, x)
            }
        };
        Candidate {
            router_id: Ipv4Addr::new(10, 0, 0, id),
            addr: a(id),
            priority: pri,
            dr: a(dr),
            bdr: a(bdr),
        }
    }

    fn a(x: u8) -> Ipv4Addr {
        Ipv4Addr::new(192, 0, 2, x)
    }

    #[test]
    fn first_election_highest_router_id_wins() {
        // Nobody declares anything: the highest becomes BDR, then DR, and
        // the second highest BDR (step 4 reruns for the calculating router).
        let (dr, bdr) = elect(&[c(3, 1, 0, 0), c(1, 1, 0, 0), c(2, 1, 0, 0)], 0);
        assert_eq!((dr, bdr), (a(3), a(2)));
    }

    #[test]
    fn existing_dr_is_kept() {
        // Router 1 is DR; router 3 arrives with a higher ID: no preemption.
        let (dr, bdr) = elect(&[c(3, 1, 0, 0), c(1, 1, 1, 2), c(2, 1, 1, 2)], 0);
        assert_eq!((dr, bdr), (a(1), a(2)));
    }

    #[test]
    fn priority_beats_router_id_and_zero_never_elected() {
        let (dr, bdr) = elect(&[c(1, 5, 0, 0), c(9, 1, 0, 0), c(8, 0, 0, 0)], 0);
        assert_eq!((dr, bdr), (a(1), a(9)));
        let (dr, bdr) = elect(&[c(8, 0, 0, 0), c(9, 0, 0, 0)], 0);
        assert_eq!((dr, bdr), (Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED));
    }

    #[test]
    fn bdr_promoted_when_dr_disappears() {
        // DR (router 3) gone; 2 was BDR: it becomes DR and 1 BDR.
        let (dr, bdr) = elect(&[c(1, 1, 3, 2), c(2, 1, 3, 2)], 0);
        assert_eq!((dr, bdr), (a(2), Ipv4Addr::UNSPECIFIED));
        // Once router 2 declares itself DR, router 1 becomes BDR.
        let (dr, bdr) = elect(&[c(1, 1, 2, 2), c(2, 1, 2, 1)], 0);
        assert_eq!((dr, bdr), (a(2), a(1)));
    }

    #[test]
    fn alone_on_the_network() {
        let (dr, bdr) = elect(&[c(1, 1, 0, 0)], 0);
        assert_eq!(dr, a(1));
        assert_eq!(bdr, Ipv4Addr::UNSPECIFIED);
    }
}

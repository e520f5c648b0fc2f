//! BGP sessions: one tokio task per configured peer that owns its TCP
//! connections, runs the RFC 4271 §8 state machine and turns the byte
//! stream into decoded messages for the RIB.
//!
//! Owns: dialing and accepting (`listener`), the link under a session
//! (`link`: our link-local address for IPv6 next hops), framing, the FSM (`fsm`, a
//! pure function), timers, keepalives, collision resolution, NOTIFICATIONs
//! and per-session counters ([`SessionStats`]).
//!
//! Never does: route processing, policy or UPDATE packing. UPDATEs travel
//! decoded to the RIB in [`SessionEvent::Updates`] batches and come back pre-encoded
//! as [`SessionCommand::Send`]. A session never blocks another one: each
//! has its own task, bounded channels and its own write queue.

pub mod fsm;
pub mod limit;
pub mod link;
mod listener;
mod peer;
pub mod security;

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::packet::{
    repeated_nlri, AfiSafi, MessageType, Nlri, Notification, Open, ParsedUpdate,
    RouteRefreshSubtype, SessionCaps,
};

pub use fsm::{DownReason, GrConfig, State};
pub use listener::{spawn_listener, Dynamic, Listening, SessionMap};
pub use security::Password;

/// The daemon's number for a configured peer.
pub type PeerId = u32;

/// BGP's well-known port.
pub const BGP_PORT: u16 = 179;

/// Commands waiting for a session task.
pub const COMMAND_QUEUE: usize = 64;

/// Everything a session needs to know about its peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    pub id: PeerId,
    pub remote_addr: IpAddr,
    pub remote_port: u16,
    /// Source address of our dials (and the address the peer must reach).
    pub local_addr: Option<IpAddr>,
    pub local_as: u32,
    pub remote_as: u32,
    pub router_id: Ipv4Addr,
    /// Proposed hold time in seconds (0: no keepalives, no hold timer).
    pub hold_time: u16,
    pub connect_retry: Duration,
    /// Never dial; wait for the peer to connect.
    pub passive: bool,
    /// eBGP multihop TTL; `None` means TTL 1 for eBGP, the system default
    /// for iBGP.
    pub multihop: Option<u8>,
    pub families: Vec<AfiSafi>,
    pub graceful_restart: Option<GrConfig>,
    pub extended_message: bool,
    /// RFC 8950: IPv4 unicast with IPv6 next hops.
    pub extended_next_hop: bool,
    /// ADD-PATH (RFC 7911) per unicast family.
    pub add_path: Vec<(AfiSafi, crate::packet::capability::AddPathMode)>,
    /// BGP role (RFC 9234) and its strict mode.
    pub role: Option<crate::packet::Role>,
    pub strict_role: bool,
    pub description: String,
    /// TCP-MD5 key (RFC 2385) of the dialing socket (the listening
    /// sockets get theirs from the daemon).
    pub password: Option<Password>,
    /// GTSM (RFC 5082): send TTL 255, accept only 254 and above.
    pub ttl_security: bool,
    /// The interface of a link-local peer: our dials carry its index as
    /// the scope id, and only connections arriving on it are taken.
    pub interface: Option<String>,
}

impl SessionConfig {
    /// The FSM's part of the configuration, with the default back-off.
    pub fn fsm_config(&self) -> fsm::FsmConfig {
        fsm::FsmConfig {
            local_as: self.local_as,
            remote_as: self.remote_as,
            router_id: self.router_id,
            hold_time: self.hold_time,
            connect_retry: self.connect_retry,
            passive: self.passive,
            families: self.families.clone(),
            graceful_restart: self.graceful_restart,
            extended_message: self.extended_message,
            extended_next_hop: self.extended_next_hop,
            add_path: self.add_path.clone(),
            role: self.role,
            strict_role: self.strict_role,
            idle_hold_initial: fsm::IDLE_HOLD_INITIAL,
            idle_hold_max: fsm::IDLE_HOLD_MAX,
            stable_time: fsm::STABLE_TIME,
        }
    }

    /// The TTL our packets carry: 1 for single-hop eBGP (RFC 4271 assumes
    /// directly connected external peers), the multihop value when set,
    /// 255 under GTSM.
    pub fn ttl(&self) -> Option<u32> {
        if self.ttl_security {
            return Some(security::GTSM_TTL);
        }
        match self.multihop {
            Some(ttl) => Some(u32::from(ttl)),
            None if self.local_as != self.remote_as => Some(1),
            None => None,
        }
    }

    /// Where we dial: a link-local peer's address carries the index of
    /// its interface as scope id (RFC 4007 §6), looked up at each dial
    /// since the interface may come and go.
    pub fn remote_socket(&self) -> io::Result<SocketAddr> {
        match (&self.interface, self.remote_addr) {
            (Some(ifname), IpAddr::V6(a)) => Ok(SocketAddr::V6(std::net::SocketAddrV6::new(
                a,
                self.remote_port,
                0,
                link::ifindex(ifname)?,
            ))),
            _ => Ok(SocketAddr::new(self.remote_addr, self.remote_port)),
        }
    }
}

/// What sessions tell the daemon (the RIB), in order per session.
// Update is by far the most frequent event; it stays boxed from decoding
// to the RIB (one allocation instead of a dozen half-kilobyte copies).
#[derive(Debug, Clone)]
pub enum SessionEvent {
    /// The session reached Established. The OPENs and capabilities are
    /// boxed so that the enum, which carries every UPDATE, stays small.
    Established {
        id: PeerId,
        caps: Box<SessionCaps>,
        local_open: Box<Open>,
        remote_open: Box<Open>,
        local_addr: SocketAddr,
        remote_addr: SocketAddr,
    },
    /// Received UPDATEs, in the order they arrived. Under RFC 7606
    /// treat-as-withdraw (`update.is_treat_as_withdraw()`) all the NLRI of
    /// an UPDATE are withdrawals.
    Updates { id: PeerId, batch: UpdateBatch },
    RouteRefresh {
        id: PeerId,
        family: AfiSafi,
        subtype: RouteRefreshSubtype,
    },
    /// An Established session ended: flush the peer's routes.
    Down { id: PeerId, reason: DownReason },
}

impl SessionEvent {
    /// The routes it carries (one for an event without any), the measure
    /// by which the daemon bounds the work of one round.
    pub fn routes(&self) -> usize {
        match self {
            SessionEvent::Updates { batch, .. } => batch.routes(),
            _ => 1,
        }
    }
}

/// The UPDATEs of a batch. Boxed on purpose: each comes boxed from the
/// FSM and its box goes back to the session to be decoded into again
/// ([`SessionCommand::Recycle`]), so lists move pointers, not
/// half-kilobyte UPDATEs.
#[allow(clippy::vec_box)]
pub type UpdateList = Vec<Box<ParsedUpdate>>;

/// Consecutive UPDATEs of one session that travel to the RIB as one
/// event. A batch is bounded by the routes it carries and by its
/// messages, whichever comes first: a peer sending one prefix per UPDATE
/// costs one channel hop (and one task wake-up) per
/// [`UpdateBatch::MESSAGES`] UPDATEs, while an UPDATE packed with
/// hundreds of prefixes travels alone, so the memory that decoded UPDATEs
/// hold between the session and the RIB stays bounded whatever the
/// packing (a decoded UPDATE costs its attributes plus its routes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateBatch {
    updates: UpdateList,
    /// The routes of `updates`, an UPDATE without any counting as one.
    weight: usize,
    /// UPDATEs that later ones repeating their path attributes may join:
    /// their index in `updates` and their attributes as received, the
    /// most recent last, at most [`UpdateBatch::REPEAT_WINDOW`].
    repeats: Vec<(usize, Vec<u8>)>,
}

impl UpdateBatch {
    /// Routes past which a batch takes no more UPDATEs.
    pub const ROUTES: usize = 256;
    /// UPDATEs after which a batch takes no more.
    pub const MESSAGES: usize = 64;
    /// How many attribute sets of a batch later UPDATEs may repeat: a
    /// peer that sends one prefix per UPDATE may interleave a few paths.
    pub const REPEAT_WINDOW: usize = 4;

    /// A batch of `update`, in `list` (a spent batch's, emptied first).
    pub fn new_in(mut list: UpdateList, update: Box<ParsedUpdate>) -> Self {
        list.clear();
        let weight = Self::weight_of(&update);
        list.push(update);
        Self {
            updates: list,
            weight,
            repeats: Vec::new(),
        }
    }

    fn weight_of(update: &ParsedUpdate) -> usize {
        update.update.route_count().max(1)
    }

    /// Appends `update` if the batch stays within [`Self::ROUTES`] and
    /// [`Self::MESSAGES`] (an empty batch takes any); gives it back
    /// otherwise.
    pub fn push(&mut self, update: Box<ParsedUpdate>) -> Result<(), Box<ParsedUpdate>> {
        let weight = Self::weight_of(&update);
        let full = self.weight + weight > Self::ROUTES || self.updates.len() >= Self::MESSAGES;
        if full && !self.updates.is_empty() {
            return Err(update);
        }
        self.weight += weight;
        self.updates.push(update);
        Ok(())
    }

    /// Lets later UPDATEs whose path attributes are `attributes` (those of
    /// the last UPDATE, as received) add their routes to it; the caller
    /// has checked [`ParsedUpdate::takes_repeats`]. The oldest such
    /// UPDATE past [`Self::REPEAT_WINDOW`] takes no more.
    pub fn take_repeats(&mut self, attributes: &[u8]) {
        let Some(last) = self.updates.len().checked_sub(1) else {
            return;
        };
        let mut bytes = if self.repeats.len() >= Self::REPEAT_WINDOW {
            self.repeats.remove(0).1
        } else {
            Vec::new()
        };
        bytes.clear();
        bytes.extend_from_slice(attributes);
        self.repeats.push((last, bytes));
    }

    /// The UPDATE of the batch whose attributes `body` (an UPDATE's)
    /// repeats ([`crate::packet::repeated_nlri`], the most recent first),
    /// with the routes it carries decoded into `out`, when they fit and no
    /// UPDATE after that one has any of them: joining them to it then
    /// changes nothing of what the batch does to the RIB.
    pub fn repeat_target(
        &self,
        body: &[u8],
        caps: &SessionCaps,
        out: &mut Vec<Nlri>,
    ) -> Option<usize> {
        out.clear();
        let &(target, _) = self
            .repeats
            .iter()
            .rev()
            .find(|(_, attributes)| repeated_nlri(body, attributes, caps, out))?;
        let later = self.updates.get(target + 1..).unwrap_or_default();
        let touched = later.iter().any(|u| {
            u.withdrawn()
                .chain(u.update.reachable())
                .any(|(_, n)| out.iter().any(|o| o.prefix == n.prefix))
        });
        (self.weight + out.len() <= Self::ROUTES && !touched).then_some(target)
    }

    /// Moves `nlri`, found by [`Self::repeat_target`], into UPDATE
    /// `target` (its classic NLRI or its MP_REACH_NLRI's, whichever it
    /// has). `false` (and `nlri` untouched) if it takes no repeats or the
    /// routes do not fit.
    pub fn extend(&mut self, target: usize, nlri: &mut Vec<Nlri>) -> bool {
        let takes = self.repeats.iter().any(|&(i, _)| i == target);
        if !takes || self.weight + nlri.len() > Self::ROUTES {
            return false;
        }
        let Some(update) = self.updates.get_mut(target) else {
            return false;
        };
        // ParsedUpdate::takes_repeats: classic NLRI or MP_REACH's, not both.
        let routes = match &mut update.update.mp_reach {
            Some(mp) if update.update.nlri.is_empty() => &mut mp.nlri,
            _ => &mut update.update.nlri,
        };
        self.weight += nlri.len();
        routes.append(nlri);
        true
    }

    /// The routes the batch carries (at least one per UPDATE).
    pub fn routes(&self) -> usize {
        self.weight
    }

    pub fn len(&self) -> usize {
        self.updates.len()
    }

    pub fn is_empty(&self) -> bool {
        self.updates.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &ParsedUpdate> {
        self.updates.iter().map(|u| &**u)
    }
}

impl From<UpdateBatch> for UpdateList {
    fn from(batch: UpdateBatch) -> Self {
        batch.updates
    }
}

/// What the daemon asks of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionCommand {
    /// Pre-encoded UPDATE messages, written in order (only while
    /// Established; dropped otherwise).
    Send(Vec<Bytes>),
    /// ManualStop: Cease/2 with an optional RFC 9003 communication; the
    /// session stays down until `Start`.
    Stop { communication: Option<String> },
    /// ManualStart.
    Start,
    /// `clear bgp`: Cease/4, then start again at once.
    Reset,
    /// Send a ROUTE-REFRESH request for a family.
    RequestRefresh(AfiSafi),
    /// The peer exceeded its maximum prefixes: Cease/1 (RFC 4486), then
    /// down until `Start`.
    PrefixLimitExceeded { family: AfiSafi, max: u32 },
    /// UPDATEs the RIB is done with, back to the session that decoded
    /// them: it frees them (or decodes into their allocations again), so
    /// memory goes back to the thread that took it and the RIB, the
    /// busier side, does not pay for it. Sent only while the command
    /// queue has room to spare; a batch that cannot go back is dropped.
    Recycle(UpdateBatch),
}

/// The daemon's grip on a running session. Dropping every clone of it
/// ends the session with Cease/3 (peer de-configured).
#[derive(Debug, Clone)]
pub struct SessionHandle {
    pub id: PeerId,
    pub tx: mpsc::Sender<SessionCommand>,
    pub stats: Arc<SessionStats>,
    /// Where the listener hands over connections from this peer.
    pub inbound: mpsc::Sender<TcpStream>,
    /// GTSM: the listener sets the minimum TTL on an accepted connection
    /// at once, before handing it over.
    pub ttl_security: bool,
    /// A link-local peer's interface: the listener hands over only
    /// connections that arrived on it.
    pub interface: Option<String>,
}

/// Start a session task (within a tokio runtime). It dials at once unless
/// `cfg.passive`, in which case it waits for an accepted connection.
pub fn spawn_session(cfg: SessionConfig, events: mpsc::Sender<SessionEvent>) -> SessionHandle {
    peer::spawn(cfg, events)
}

/// Messages per type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageCounts {
    pub open: u64,
    pub update: u64,
    pub notification: u64,
    pub keepalive: u64,
    pub route_refresh: u64,
}

impl MessageCounts {
    pub fn total(&self) -> u64 {
        self.open + self.update + self.notification + self.keepalive + self.route_refresh
    }

    pub(crate) fn count(&mut self, kind: MessageType, n: u64) {
        let slot = match kind {
            MessageType::Open => &mut self.open,
            MessageType::Update => &mut self.update,
            MessageType::Notification => &mut self.notification,
            MessageType::Keepalive => &mut self.keepalive,
            MessageType::RouteRefresh => &mut self.route_refresh,
        };
        *slot += n;
    }
}

/// One consistent view of a session's counters and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub state: State,
    /// Monotonic time of the last transition to Established (uptime).
    pub established_at: Option<Instant>,
    /// Wall-clock time of the same, for display.
    pub established_since: Option<SystemTime>,
    pub msgs_in: MessageCounts,
    pub msgs_out: MessageCounts,
    /// UPDATEs received under RFC 7606 treat-as-withdraw.
    pub updates_treat_as_withdraw: u64,
    /// Why the last session or attempt ended, and when.
    pub last_error: Option<DownReason>,
    pub last_error_at: Option<SystemTime>,
    pub last_notification_sent: Option<Notification>,
    pub last_notification_received: Option<Notification>,
    /// Negotiated hold and keepalive times (seconds).
    pub hold_time: u16,
    pub keepalive_time: u16,
    pub caps: Option<SessionCaps>,
    pub remote_open: Option<Open>,
    pub local_addr: Option<SocketAddr>,
    pub remote_addr: Option<SocketAddr>,
    /// Times the session reached Established.
    pub established_count: u64,
    /// Times an Established session went down.
    pub flaps: u64,
    /// Dials that failed or timed out, and the last reason (a TCP-MD5 or
    /// GTSM mismatch shows only here: the kernel drops the segments).
    pub connect_failures: u64,
    pub last_connect_error: Option<String>,
    /// Role Mismatch NOTIFICATIONs (RFC 9234 §4.2) sent or received.
    pub role_mismatches: u64,
}

impl Default for StatsSnapshot {
    fn default() -> Self {
        Self {
            state: State::Idle,
            established_at: None,
            established_since: None,
            msgs_in: MessageCounts::default(),
            msgs_out: MessageCounts::default(),
            updates_treat_as_withdraw: 0,
            last_error: None,
            last_error_at: None,
            last_notification_sent: None,
            last_notification_received: None,
            hold_time: 0,
            keepalive_time: 0,
            caps: None,
            remote_open: None,
            local_addr: None,
            remote_addr: None,
            established_count: 0,
            flaps: 0,
            connect_failures: 0,
            last_connect_error: None,
            role_mismatches: 0,
        }
    }
}

impl StatsSnapshot {
    /// Time since Established, `None` when not Established.
    pub fn uptime(&self) -> Option<Duration> {
        match self.state {
            State::Established => self.established_at.map(|at| at.elapsed()),
            _ => None,
        }
    }
}

/// Counters and status shared between the session task and readers
/// (`show bgp neighbor`). Written only by the session task.
#[derive(Debug, Default)]
pub struct SessionStats {
    inner: Mutex<StatsSnapshot>,
}

impl SessionStats {
    pub fn snapshot(&self) -> StatsSnapshot {
        self.lock().clone()
    }

    pub fn state(&self) -> State {
        self.lock().state
    }

    pub(crate) fn update(&self, f: impl FnOnce(&mut StatsSnapshot)) {
        f(&mut self.lock());
    }

    fn lock(&self) -> MutexGuard<'_, StatsSnapshot> {
        // Counters stay usable even if a writer panicked.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Map of sessions by remote address, shared with the listeners.
pub fn session_map() -> SessionMap {
    Arc::new(Mutex::new(HashMap::new()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::Nlri;

    fn update(prefixes: u32) -> Box<ParsedUpdate> {
        let mut u = Box::<ParsedUpdate>::default();
        u.update.nlri = (0..prefixes)
            .map(|i| Nlri::new(format!("10.{}.{}.0/24", i >> 8, i & 255).parse().unwrap()))
            .collect();
        u
    }

    #[test]
    fn one_prefix_updates_travel_together_up_to_the_message_bound() {
        let mut batch = UpdateBatch::new_in(Vec::new(), update(1));
        for _ in 1..UpdateBatch::MESSAGES {
            assert!(batch.push(update(1)).is_ok());
        }
        assert_eq!(batch.len(), UpdateBatch::MESSAGES);
        assert_eq!(batch.routes(), UpdateBatch::MESSAGES);
        assert!(batch.push(update(1)).is_err());
    }

    #[test]
    fn a_packed_update_travels_alone() {
        let mut batch = UpdateBatch::new_in(Vec::new(), update(1));
        let packed = update(UpdateBatch::ROUTES as u32);
        let packed = batch.push(packed).expect_err("over the route bound");
        let mut alone = UpdateBatch::new_in(Vec::new(), packed);
        assert_eq!(alone.routes(), UpdateBatch::ROUTES);
        assert!(alone.push(update(1)).is_err());
    }

    /// ORIGIN IGP, AS_PATH [`asn`] (4-octet), NEXT_HOP 192.0.2.1.
    fn attrs(asn: u8) -> Vec<u8> {
        vec![
            0x40, 1, 1, 0, 0x40, 2, 6, 2, 1, 0, 0, 0, asn, 0x40, 3, 4, 192, 0, 2, 1,
        ]
    }

    /// An UPDATE body with `attrs` and the /24s 10.0.`k`.0 as NLRI.
    fn body(attrs: &[u8], ks: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0, 0, attrs.len() as u8];
        v.extend_from_slice(attrs);
        for &k in ks {
            v.extend_from_slice(&[24, 10, 0, k]);
        }
        v
    }

    fn v4(k: u8) -> Nlri {
        Nlri::new(format!("10.0.{k}.0/24").parse().unwrap())
    }

    fn with(ks: &[u8]) -> Box<ParsedUpdate> {
        let mut u = Box::<ParsedUpdate>::default();
        u.update.nlri = ks.iter().map(|&k| v4(k)).collect();
        u
    }

    #[test]
    fn repeats_join_an_update_of_the_batch_no_later_one_touches() {
        let caps = SessionCaps::four_octet();
        let (a, b) = (attrs(1), attrs(2));
        let mut out = Vec::new();
        let mut batch = UpdateBatch::new_in(Vec::new(), with(&[0]));
        assert_eq!(batch.repeat_target(&body(&a, &[1]), &caps, &mut out), None);
        assert!(!batch.extend(0, &mut vec![v4(1)]), "no repeats taken yet");

        batch.take_repeats(&a);
        assert_eq!(
            batch.repeat_target(&body(&a, &[1]), &caps, &mut out),
            Some(0)
        );
        assert_eq!(out, [v4(1)]);
        assert!(batch.extend(0, &mut out));
        assert!(out.is_empty());
        assert_eq!((batch.len(), batch.routes()), (1, 2));

        // A second path in between: each joins its own UPDATE, unless an
        // UPDATE after the one it repeats has the prefix.
        assert!(batch.push(with(&[2])).is_ok());
        batch.take_repeats(&b);
        assert_eq!(
            batch.repeat_target(&body(&a, &[3]), &caps, &mut out),
            Some(0)
        );
        assert!(batch.extend(0, &mut out));
        assert_eq!(batch.repeat_target(&body(&a, &[2]), &caps, &mut out), None);
        assert_eq!(
            batch.repeat_target(&body(&b, &[2, 4]), &caps, &mut out),
            Some(1)
        );
        assert!(batch.extend(1, &mut out));
        let all: Vec<Vec<Nlri>> = batch.iter().map(|u| u.update.nlri.clone()).collect();
        assert_eq!(all, [vec![v4(0), v4(1), v4(3)], vec![v4(2), v4(2), v4(4)]]);
        // A withdrawal after it counts too.
        let mut w = with(&[]);
        w.update.withdrawn = vec![v4(5)];
        assert!(batch.push(w).is_ok());
        assert_eq!(batch.repeat_target(&body(&b, &[5]), &caps, &mut out), None);
        assert_eq!(
            batch.repeat_target(&body(&b, &[6]), &caps, &mut out),
            Some(1)
        );

        // Only the last REPEAT_WINDOW attribute sets are remembered.
        for asn in 3..3 + UpdateBatch::REPEAT_WINDOW as u8 - 1 {
            assert!(batch.push(with(&[10 + asn])).is_ok());
            batch.take_repeats(&attrs(asn));
        }
        assert_eq!(batch.repeat_target(&body(&a, &[7]), &caps, &mut out), None);
        assert!(!batch.extend(0, &mut vec![v4(7)]));
        assert_eq!(
            batch.repeat_target(&body(&b, &[7]), &caps, &mut out),
            Some(1)
        );

        // Bounded by the batch's routes.
        let room = UpdateBatch::ROUTES - batch.routes();
        let many = |n: usize| {
            // 10.1.k.0/24 for k < n.
            let mut v = body(&b, &[]);
            for k in 0..n {
                v.extend_from_slice(&[24, 10, 1, k as u8]);
            }
            v
        };
        assert_eq!(batch.repeat_target(&many(room + 1), &caps, &mut out), None);
        assert_eq!(batch.repeat_target(&many(room), &caps, &mut out), Some(1));
        assert!(batch.extend(1, &mut out));
        assert_eq!(batch.routes(), UpdateBatch::ROUTES);
        assert!(!batch.extend(1, &mut vec![v4(8)]));
    }

    /// One message of a peer: attribute set (MED), withdrawn and
    /// announced prefixes (10.0.k.0/24).
    type Message = (u8, Vec<u8>, Vec<u8>);

    /// What the RIB ends with: prefix -> attribute set.
    fn apply(rib: &mut std::collections::BTreeMap<u8, u8>, updates: &[(u8, Vec<u8>, Vec<u8>)]) {
        for (set, withdrawn, nlri) in updates {
            for k in withdrawn {
                rib.remove(k);
            }
            for &k in nlri {
                rib.insert(k, *set);
            }
        }
    }

    proptest::proptest! {
        /// Joining repeats to UPDATEs of the batch ends with the RIB that
        /// the messages one by one give, whatever their interleaving.
        #[test]
        fn joining_repeats_changes_no_outcome(
            msgs in proptest::collection::vec(
                (
                    0u8..6,
                    proptest::collection::vec(0u8..12, 0..2),
                    proptest::collection::vec(0u8..12, 0..3),
                ),
                1..200,
            )
        ) {
            let caps = SessionCaps::four_octet();
            let body = |set: u8, withdrawn: &[u8], nlri: &[u8]| {
                let mut v = vec![0, (withdrawn.len() * 4) as u8];
                for &k in withdrawn {
                    v.extend_from_slice(&[24, 10, 0, k]);
                }
                let a = attrs(set);
                v.extend_from_slice(&[0, a.len() as u8]);
                v.extend_from_slice(&a);
                for &k in nlri {
                    v.extend_from_slice(&[24, 10, 0, k]);
                }
                v
            };
            let mut want = std::collections::BTreeMap::new();
            let one_by_one: Vec<Message> = msgs.clone();
            apply(&mut want, &one_by_one);

            // As the session does: join where repeat_target says, else
            // decode whole (here: build) and push, new batch when full.
            let mut got = std::collections::BTreeMap::new();
            let mut batch: Option<UpdateBatch> = None;
            let mut out = Vec::new();
            let flush = |b: UpdateBatch, rib: &mut std::collections::BTreeMap<u8, u8>| {
                let list: Vec<Message> = b
                    .iter()
                    .map(|u| {
                        let k = |n: &Nlri| match n.prefix {
                            ipnetwork::IpNetwork::V4(p) => p.ip().octets()[2],
                            ipnetwork::IpNetwork::V6(_) => unreachable!(),
                        };
                        let set = u.update.attributes.med.unwrap_or(0) as u8;
                        (
                            set,
                            u.update.withdrawn.iter().map(k).collect(),
                            u.update.nlri.iter().map(k).collect(),
                        )
                    })
                    .collect();
                apply(rib, &list);
            };
            for (set, withdrawn, nlri) in &msgs {
                let b = body(*set, withdrawn, nlri);
                if let Some(batch) = batch.as_mut() {
                    if let Some(t) = batch.repeat_target(&b, &caps, &mut out) {
                        proptest::prop_assert!(batch.extend(t, &mut out));
                        continue;
                    }
                }
                let mut u = Box::<ParsedUpdate>::default();
                u.update.attributes.med = Some(u32::from(*set));
                u.update.withdrawn = withdrawn.iter().map(|&k| v4(k)).collect();
                u.update.nlri = nlri.iter().map(|&k| v4(k)).collect();
                let takes = !nlri.is_empty();
                let u = match batch.as_mut() {
                    Some(b) => b.push(u).err(),
                    None => Some(u),
                };
                if let Some(u) = u {
                    if let Some(b) = batch.take() {
                        flush(b, &mut got);
                    }
                    batch = Some(UpdateBatch::new_in(Vec::new(), u));
                }
                if takes {
                    if let Some(batch) = batch.as_mut() {
                        batch.take_repeats(&attrs(*set));
                    }
                }
            }
            if let Some(b) = batch.take() {
                flush(b, &mut got);
            }
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn repeats_of_an_mp_reach_update_join_its_mp_reach() {
        let v6 = |k: u16| {
            Nlri::new(ipnetwork::IpNetwork::V6(
                ipnetwork::Ipv6Network::new(
                    std::net::Ipv6Addr::new(0x2001, 0xdb8, k, 0, 0, 0, 0, 0),
                    48,
                )
                .unwrap(),
            ))
        };
        let mut mp = Box::<ParsedUpdate>::default();
        mp.update.mp_reach = Some(crate::packet::MpReach {
            family: AfiSafi::IPV6_UNICAST,
            nlri: vec![v6(1)],
        });
        let mut batch = UpdateBatch::new_in(Vec::new(), mp);
        batch.take_repeats(&[9]);
        assert!(batch.extend(0, &mut vec![v6(2)]));
        let last = batch.iter().last().unwrap();
        assert_eq!(last.update.mp_reach.as_ref().unwrap().nlri, [v6(1), v6(2)]);
        assert!(last.update.nlri.is_empty());
    }

    #[test]
    fn an_update_without_routes_counts_as_one() {
        let eor = Box::new(ParsedUpdate {
            update: crate::packet::Update::end_of_rib(AfiSafi::IPV4_UNICAST),
            report: Default::default(),
        });
        let mut batch = UpdateBatch::new_in(vec![update(3)], eor);
        assert_eq!((batch.len(), batch.routes()), (1, 1));
        assert!(batch.push(update(2)).is_ok());
        let updates = Vec::from(batch);
        assert_eq!(updates.len(), 2);
        assert_eq!(updates[1].update.nlri.len(), 2);
    }
}

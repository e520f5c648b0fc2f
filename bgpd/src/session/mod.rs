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
//! decoded to the RIB as [`SessionEvent::Update`] and come back pre-encoded
//! as [`SessionCommand::Send`]. A session never blocks another one: each
//! has its own task, bounded channels and its own write queue.

pub mod fsm;
pub mod limit;
pub mod link;
mod listener;
mod peer;
pub mod security;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::packet::{
    AfiSafi, MessageType, Notification, Open, ParsedUpdate, RouteRefreshSubtype, SessionCaps,
};

pub use fsm::{DownReason, GrConfig, State};
pub use listener::{spawn_listener, Dynamic, Listening, SessionMap};
pub use security::Password;

/// The daemon's number for a configured peer.
pub type PeerId = u32;

/// BGP's well-known port.
pub const BGP_PORT: u16 = 179;

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

    pub fn remote_socket(&self) -> SocketAddr {
        SocketAddr::new(self.remote_addr, self.remote_port)
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
    /// A received UPDATE. Under RFC 7606 treat-as-withdraw
    /// (`update.is_treat_as_withdraw()`) all its NLRI are withdrawals.
    Update {
        id: PeerId,
        update: Box<ParsedUpdate>,
    },
    RouteRefresh {
        id: PeerId,
        family: AfiSafi,
        subtype: RouteRefreshSubtype,
    },
    /// An Established session ended: flush the peer's routes.
    Down { id: PeerId, reason: DownReason },
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

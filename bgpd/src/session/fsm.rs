//! The BGP finite state machine (RFC 4271 §8) as a pure function: an
//! [`Event`] and the current time in, a list of [`Action`]s out.
//!
//! Owns: the six states, the five timers (ConnectRetry with the jitter of
//! §10, Hold, Keepalive, and the IdleHold back-off that FRR and BIRD call
//! peer damping / error wait), OPEN validation that needs configuration
//! (§6.2: peer AS, BGP identifier for iBGP, hold time), hold time
//! negotiation (§4.2), connection collision detection (§6.8, RFC 6286 §2.3)
//! and the Cease NOTIFICATIONs of RFC 4486 with the shutdown communication
//! of RFC 9003.
//!
//! Never does I/O, reads a clock or spawns anything: the async shell
//! (`peer.rs`) performs the actions and feeds back what the sockets and
//! timers report. Never decodes bytes (the `packet` module does).
//!
//! One session may hold two TCP connections at once while a collision is
//! pending: the *primary* one that the states describe, and a *secondary*
//! inbound one that has only been sent our OPEN. The first OPEN received
//! while both exist resolves the collision.
//!
//! Deviations from the letter of §8, as FRR and BIRD do: a failed dial goes
//! to Active and waits for the ConnectRetry timer instead of Idle; any
//! failure of an established TCP connection goes to Idle with the IdleHold
//! back-off; and an inbound connection is accepted in Idle unless the peer
//! is administratively down, so two speakers in back-off cannot keep
//! refusing each other.

use std::fmt;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use crate::packet::capability::{
    AddPathMode, Capability, ExtendedNextHop, GracefulRestart, GracefulRestartFamily,
};
use crate::packet::notification::{CeaseSubcode, ErrorCode, FsmSubcode, OpenSubcode};
use crate::packet::role::{self, Role};
use crate::packet::{
    Afi, AfiSafi, Message, Notification, Open, ParsedUpdate, RouteRefresh, RouteRefreshSubtype,
    SessionCaps,
};

/// RFC 4271 §8.2.2: the "large value" of the hold timer in OpenSent.
pub const OPEN_SENT_HOLD: Duration = Duration::from_secs(240);
/// First IdleHold delay after a failure.
pub const IDLE_HOLD_INITIAL: Duration = Duration::from_secs(1);
/// The IdleHold delay doubles up to this cap.
pub const IDLE_HOLD_MAX: Duration = Duration::from_secs(120);
/// A session Established at least this long resets the back-off.
pub const STABLE_TIME: Duration = Duration::from_secs(60);

/// RFC 4271 §8.2.2 states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    Idle,
    Connect,
    Active,
    OpenSent,
    OpenConfirm,
    Established,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Idle => "Idle",
            State::Connect => "Connect",
            State::Active => "Active",
            State::OpenSent => "OpenSent",
            State::OpenConfirm => "OpenConfirm",
            State::Established => "Established",
        })
    }
}

/// The session's timers (RFC 4271 §8.1.3, §10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimerKind {
    ConnectRetry,
    Hold,
    Keepalive,
    IdleHold,
}

impl TimerKind {
    pub const ALL: [TimerKind; 4] = [
        TimerKind::ConnectRetry,
        TimerKind::Hold,
        TimerKind::Keepalive,
        TimerKind::IdleHold,
    ];
}

/// A TCP connection, numbered by the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

impl fmt::Display for ConnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conn#{}", self.0)
    }
}

/// Who opened a TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// We dialed.
    Outbound,
    /// The peer dialed (accepted by a listener).
    Inbound,
}

/// Graceful Restart as we advertise it (RFC 4724 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GrConfig {
    /// Seconds (12 bits on the wire).
    pub restart_time: u16,
    /// The F bit of every configured family.
    pub forwarding_preserved: bool,
    /// The R bit: we restarted and this is the first session since. The
    /// FSM clears it once a session reached Established.
    pub restart_state: bool,
}

/// Why a session (or an attempt) ended. `Display` uses FRR's words for
/// `show bgp neighbor`'s "Last reset".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownReason {
    NotificationSent(Notification),
    NotificationReceived(Notification),
    HoldTimerExpired,
    TcpClosed,
    TcpError(String),
    AdminShutdown,
}

impl fmt::Display for DownReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DownReason::NotificationSent(n) => write!(f, "Notification sent ({n})"),
            DownReason::NotificationReceived(n) => write!(f, "Notification received ({n})"),
            DownReason::HoldTimerExpired => f.write_str("Hold Timer Expired"),
            DownReason::TcpClosed => f.write_str("Peer closed the session"),
            DownReason::TcpError(e) => write!(f, "Socket error ({e})"),
            DownReason::AdminShutdown => f.write_str("Admin. shutdown"),
        }
    }
}

/// What the FSM needs of the session configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsmConfig {
    pub local_as: u32,
    pub remote_as: u32,
    pub router_id: Ipv4Addr,
    /// Proposed hold time in seconds; 0 disables keepalives. 1 and 2 are
    /// raised to 3 (RFC 4271 §4.2 forbids them).
    pub hold_time: u16,
    pub connect_retry: Duration,
    pub passive: bool,
    pub families: Vec<AfiSafi>,
    pub graceful_restart: Option<GrConfig>,
    pub extended_message: bool,
    /// Advertise Extended Next Hop for IPv4 unicast with IPv6 next hops
    /// (RFC 8950 §4), when IPv4 unicast is one of `families`.
    pub extended_next_hop: bool,
    /// ADD-PATH (RFC 7911) advertised, per family (those of `families`
    /// that are unicast); empty: not advertised.
    pub add_path: Vec<(AfiSafi, AddPathMode)>,
    /// Our BGP role toward the neighbor (RFC 9234), advertised on eBGP.
    pub role: Option<Role>,
    /// RFC 9234 §4.2 strict mode: a neighbor without a role is refused.
    pub strict_role: bool,
    pub idle_hold_initial: Duration,
    pub idle_hold_max: Duration,
    pub stable_time: Duration,
}

impl FsmConfig {
    pub fn is_ibgp(&self) -> bool {
        self.local_as == self.remote_as
    }

    /// The role that applies: RFC 9234 roles are for eBGP sessions only.
    pub fn ebgp_role(&self) -> Option<Role> {
        self.role.filter(|_| !self.is_ibgp())
    }

    fn hold_time(&self) -> u16 {
        match self.hold_time {
            1 | 2 => 3,
            other => other,
        }
    }

    /// Our OPEN: Multiprotocol per family, Route Refresh and Enhanced Route
    /// Refresh, 4-octet AS (AS_TRANS in My AS above 65535), Graceful
    /// Restart, Extended Message, Extended Next Hop and ADD-PATH as
    /// configured.
    pub fn local_open(&self) -> Open {
        let mut caps: Vec<Capability> = self
            .families
            .iter()
            .copied()
            .map(Capability::Multiprotocol)
            .collect();
        caps.push(Capability::RouteRefresh);
        caps.push(Capability::EnhancedRouteRefresh);
        caps.push(Capability::FourOctetAs(self.local_as));
        if let Some(gr) = self.graceful_restart {
            caps.push(Capability::GracefulRestart(GracefulRestart {
                restart_state: gr.restart_state,
                notification: false,
                restart_time: gr.restart_time.min(0x0fff),
                families: self
                    .families
                    .iter()
                    .map(|&family| GracefulRestartFamily {
                        family,
                        forwarding_preserved: gr.forwarding_preserved,
                    })
                    .collect(),
            }));
        }
        if self.extended_message {
            caps.push(Capability::ExtendedMessage);
        }
        if self.extended_next_hop && self.families.contains(&AfiSafi::IPV4_UNICAST) {
            caps.push(Capability::ExtendedNextHop(vec![ExtendedNextHop {
                nlri: AfiSafi::IPV4_UNICAST,
                next_hop_afi: Afi::IPV6,
            }]));
        }
        let add_path: Vec<(AfiSafi, AddPathMode)> = self
            .add_path
            .iter()
            .copied()
            .filter(|(f, _)| f.is_prefix_family() && self.families.contains(f))
            .collect();
        if !add_path.is_empty() {
            caps.push(Capability::AddPath(add_path));
        }
        if let Some(role) = self.ebgp_role() {
            caps.push(Capability::Role(role));
        }
        Open::new(self.local_as, self.hold_time(), self.router_id, caps)
    }
}

/// RFC 4271 §8.1 events, with the connection they happened on.
// UpdateMsg is the common event; see `Action`.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Event 1: operator start; clears administrative shutdown.
    ManualStart,
    /// Event 3: restart after a failure (ignored while administratively down).
    AutomaticStart,
    /// Event 2: operator stop; Cease/2 with an RFC 9003 communication.
    ManualStop { communication: Option<String> },
    /// `clear bgp`: Cease/4 with an optional communication, then restart.
    AdminReset { communication: Option<String> },
    /// The peer was removed from the configuration: Cease/3.
    Deconfigured,
    /// The peer sent more prefixes of `family` than `max` allowed:
    /// Cease/1 (RFC 4486 §4) and down until a `ManualStart`.
    PrefixLimitExceeded { family: AfiSafi, max: u32 },
    /// Event 9.
    ConnectRetryTimerExpires,
    /// Event 10.
    HoldTimerExpires,
    /// Event 11.
    KeepaliveTimerExpires,
    /// Event 13 (IdleHoldTimer_Expires).
    IdleHoldTimerExpires,
    /// Event 16/17: our dial succeeded.
    TcpConnectionAcknowledged { conn: ConnId },
    /// Event 17 for a connection the listener accepted.
    TcpConnectionConfirmed { conn: ConnId },
    /// Event 18 for a dial that failed (no connection to name).
    ConnectFailed { error: String },
    /// Event 18: an established connection closed or failed.
    TcpConnectionFails { conn: ConnId, error: Option<String> },
    /// Event 19: an OPEN that decoded cleanly.
    BgpOpen { conn: ConnId, open: Open },
    /// Event 21.
    BgpHeaderErr {
        conn: ConnId,
        notification: Notification,
    },
    /// Event 22.
    BgpOpenMsgErr {
        conn: ConnId,
        notification: Notification,
    },
    /// Event 25.
    NotifMsg {
        conn: ConnId,
        notification: Notification,
    },
    /// Event 26.
    KeepAliveMsg { conn: ConnId },
    /// Event 27.
    UpdateMsg { conn: ConnId, update: Received },
    /// Event 28.
    UpdateMsgErr {
        conn: ConnId,
        notification: Notification,
    },
    /// A received ROUTE-REFRESH (RFC 2918, RFC 7313).
    RouteRefreshMsg { conn: ConnId, refresh: RouteRefresh },
    /// A malformed ROUTE-REFRESH (RFC 7313 §5).
    RouteRefreshMsgErr {
        conn: ConnId,
        notification: Notification,
    },
    /// Ask the peer to resend a family (`clear bgp soft in`).
    RequestRefresh(AfiSafi),
}

/// What the shell must do, in order.
// DeliverUpdate is by far the most frequent action; its UPDATE is boxed
// once at decoding so the half-kilobyte is not copied at every hop to the
// RIB. The messages and OPENs of the rarer actions are boxed too, so that
// every action (two per UPDATE received) is a few words to move, not the
// size of the largest message.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Dial the peer (replacing any dial in progress).
    Connect,
    /// Give up the dial in progress.
    AbortConnect,
    /// Write a message on a connection.
    Send {
        conn: ConnId,
        message: Box<Message>,
    },
    /// Close a connection once what was sent on it is flushed.
    DropConnection {
        conn: ConnId,
    },
    StartTimer(TimerKind, Duration),
    StopTimer(TimerKind),
    /// The session reached Established on `conn`.
    SessionUp {
        conn: ConnId,
        caps: Box<SessionCaps>,
        local_open: Box<Open>,
        remote_open: Box<Open>,
        hold_time: u16,
        keepalive_time: u16,
    },
    /// An Established session ended: the RIB flushes the peer's routes.
    SessionDown {
        reason: DownReason,
    },
    /// An attempt that never reached Established failed (stats and logs).
    ConnectionLost {
        reason: DownReason,
    },
    DeliverUpdate(Received),
    DeliverRouteRefresh(RouteRefresh),
}

/// A received UPDATE, as the FSM hands it on to the RIB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// Decoded whole.
    Whole(Box<ParsedUpdate>),
    /// It withdrew nothing and repeated, byte for byte, the path
    /// attributes of the UPDATE delivered just before it: its IPv4 NLRI
    /// (which the shell holds) join that one's routes.
    Repeat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Conn {
    id: ConnId,
    dir: Direction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Primary,
    Secondary,
}

/// What happens after a teardown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    /// IdleHold with the current delay, which then doubles.
    Backoff,
    /// IdleHold with the initial delay, no doubling.
    Retry,
    /// Start again at once.
    Restart,
}

/// RFC 6286 §2.3 / RFC 4271 §6.8: which connection survives a collision.
/// The speaker with the higher BGP identifier (then the higher AS) keeps
/// the connection it initiated.
pub fn collision_winner(
    local_id: Ipv4Addr,
    local_as: u32,
    remote_id: Ipv4Addr,
    remote_as: u32,
) -> Direction {
    if (u32::from(local_id), local_as) > (u32::from(remote_id), remote_as) {
        Direction::Outbound
    } else {
        Direction::Inbound
    }
}

/// One session's state machine.
#[derive(Debug, Clone)]
pub struct Fsm {
    cfg: FsmConfig,
    local_open: Open,
    state: State,
    primary: Option<Conn>,
    secondary: Option<Conn>,
    remote_open: Option<Open>,
    hold_time: u16,
    keepalive_time: u16,
    admin_down: bool,
    idle_hold: Duration,
    established_at: Option<Instant>,
    rng: u64,
}

impl Fsm {
    /// A stopped FSM (Idle, administratively down until `ManualStart`);
    /// `seed` drives the timer jitter.
    pub fn new(cfg: FsmConfig, seed: u64) -> Self {
        let local_open = cfg.local_open();
        let idle_hold = cfg.idle_hold_initial;
        Self {
            cfg,
            local_open,
            state: State::Idle,
            primary: None,
            secondary: None,
            remote_open: None,
            hold_time: 0,
            keepalive_time: 0,
            admin_down: true,
            idle_hold,
            established_at: None,
            rng: seed | 1,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn config(&self) -> &FsmConfig {
        &self.cfg
    }

    pub fn local_open(&self) -> &Open {
        &self.local_open
    }

    pub fn remote_open(&self) -> Option<&Open> {
        self.remote_open.as_ref()
    }

    /// Negotiated hold and keepalive times (0 before OpenConfirm or when
    /// the hold time is 0).
    pub fn timers(&self) -> (u16, u16) {
        (self.hold_time, self.keepalive_time)
    }

    /// The connection the states describe.
    pub fn primary(&self) -> Option<ConnId> {
        self.primary.map(|c| c.id)
    }

    /// The inbound connection waiting for collision resolution.
    pub fn secondary(&self) -> Option<ConnId> {
        self.secondary.map(|c| c.id)
    }

    pub fn established_at(&self) -> Option<Instant> {
        self.established_at
    }

    /// The IdleHold delay the next failure will use.
    pub fn next_idle_hold(&self) -> Duration {
        self.idle_hold
    }

    pub fn is_admin_down(&self) -> bool {
        self.admin_down
    }

    /// Run one event.
    pub fn handle(&mut self, event: Event, now: Instant) -> Vec<Action> {
        let mut out = Vec::new();
        self.step(event, now, &mut out);
        out
    }

    /// [`Fsm::handle`] appending to `out` (the shell reuses one vector:
    /// no allocation per message).
    pub fn handle_into(&mut self, event: Event, now: Instant, out: &mut Vec<Action>) {
        self.step(event, now, out);
    }

    fn step(&mut self, event: Event, now: Instant, out: &mut Vec<Action>) {
        match event {
            Event::ManualStart => {
                self.admin_down = false;
                self.idle_hold = self.cfg.idle_hold_initial;
                if self.state == State::Idle {
                    self.start(out);
                }
            }
            Event::AutomaticStart | Event::IdleHoldTimerExpires => {
                if !self.admin_down && self.state == State::Idle {
                    self.start(out);
                }
            }
            Event::ManualStop { communication } => {
                self.admin_down = true;
                let n = cease(CeaseSubcode::AdministrativeShutdown, communication);
                self.teardown(Some(n), DownReason::AdminShutdown, After::Retry, now, out);
            }
            Event::Deconfigured => {
                self.admin_down = true;
                let n = Notification::new(ErrorCode::Cease(CeaseSubcode::PeerDeconfigured), vec![]);
                let reason = DownReason::NotificationSent(n.clone());
                self.teardown(Some(n), reason, After::Retry, now, out);
            }
            Event::PrefixLimitExceeded { family, max } => {
                if self.state != State::Established {
                    return;
                }
                self.admin_down = true;
                let n = prefix_limit_cease(family, max);
                let reason = DownReason::NotificationSent(n.clone());
                self.teardown(Some(n), reason, After::Retry, now, out);
            }
            Event::AdminReset { communication } => {
                if self.admin_down {
                    return;
                }
                let n = cease(CeaseSubcode::AdministrativeReset, communication);
                let reason = DownReason::NotificationSent(n.clone());
                self.teardown(Some(n), reason, After::Restart, now, out);
            }
            Event::ConnectRetryTimerExpires => match self.state {
                State::Connect => {
                    out.push(Action::AbortConnect);
                    self.dial(out);
                }
                State::Active if !self.cfg.passive && self.primary.is_none() => self.dial(out),
                _ => {}
            },
            Event::HoldTimerExpires => {
                if matches!(
                    self.state,
                    State::OpenSent | State::OpenConfirm | State::Established
                ) {
                    let n = Notification::new(ErrorCode::HoldTimerExpired, vec![]);
                    self.teardown(
                        Some(n),
                        DownReason::HoldTimerExpired,
                        After::Backoff,
                        now,
                        out,
                    );
                }
            }
            Event::KeepaliveTimerExpires => {
                if let (State::OpenConfirm | State::Established, Some(p)) =
                    (self.state, self.primary)
                {
                    out.push(Action::Send {
                        conn: p.id,
                        message: Box::new(Message::Keepalive),
                    });
                    self.start_keepalive(out);
                }
            }
            Event::TcpConnectionAcknowledged { conn } => {
                if matches!(self.state, State::Connect | State::Active) && self.primary.is_none() {
                    self.primary = Some(Conn {
                        id: conn,
                        dir: Direction::Outbound,
                    });
                    self.open_sent(conn, out);
                } else {
                    out.push(Action::DropConnection { conn });
                }
            }
            Event::TcpConnectionConfirmed { conn } => self.inbound(conn, out),
            Event::ConnectFailed { .. } => {
                if self.state == State::Connect {
                    // The ConnectRetry timer keeps running and dials again.
                    self.state = State::Active;
                }
            }
            Event::TcpConnectionFails { conn, error } => match self.slot(conn) {
                Some(Slot::Secondary) => self.drop_secondary(None, out),
                Some(Slot::Primary) => {
                    let reason = error.map_or(DownReason::TcpClosed, DownReason::TcpError);
                    self.fail_primary(None, reason, After::Backoff, now, out);
                }
                None => {}
            },
            Event::BgpOpen { conn, open } => self.on_open(conn, open, now, out),
            Event::BgpHeaderErr { conn, notification }
            | Event::BgpOpenMsgErr { conn, notification }
            | Event::UpdateMsgErr { conn, notification }
            | Event::RouteRefreshMsgErr { conn, notification } => match self.slot(conn) {
                Some(Slot::Secondary) => self.drop_secondary(Some(notification), out),
                Some(Slot::Primary) => {
                    let reason = DownReason::NotificationSent(notification.clone());
                    self.fail_primary(Some(notification), reason, After::Backoff, now, out);
                }
                None => out.push(Action::DropConnection { conn }),
            },
            Event::NotifMsg { conn, notification } => match self.slot(conn) {
                Some(Slot::Secondary) => self.drop_secondary(None, out),
                Some(Slot::Primary) => {
                    // Losing a collision on the peer's side is no fault.
                    let after = if notification.error
                        == ErrorCode::Cease(CeaseSubcode::ConnectionCollisionResolution)
                    {
                        After::Retry
                    } else {
                        After::Backoff
                    };
                    let reason = DownReason::NotificationReceived(notification);
                    self.fail_primary(None, reason, after, now, out);
                }
                None => out.push(Action::DropConnection { conn }),
            },
            Event::KeepAliveMsg { conn } => match self.slot(conn) {
                Some(Slot::Secondary) => self.drop_secondary(Some(fsm_error(State::OpenSent)), out),
                Some(Slot::Primary) => match self.state {
                    State::OpenConfirm => self.established(now, out),
                    State::Established => self.restart_hold(out),
                    _ => self.unexpected(now, out),
                },
                None => out.push(Action::DropConnection { conn }),
            },
            Event::UpdateMsg { conn, update } => match self.slot(conn) {
                Some(Slot::Secondary) => self.drop_secondary(Some(fsm_error(State::OpenSent)), out),
                Some(Slot::Primary) if self.state == State::Established => {
                    self.restart_hold(out);
                    out.push(Action::DeliverUpdate(update));
                }
                Some(Slot::Primary) => self.unexpected(now, out),
                None => out.push(Action::DropConnection { conn }),
            },
            Event::RouteRefreshMsg { conn, refresh } => match self.slot(conn) {
                Some(Slot::Secondary) => self.drop_secondary(Some(fsm_error(State::OpenSent)), out),
                Some(Slot::Primary) if self.state == State::Established => {
                    self.restart_hold(out);
                    // RFC 7313 §5: an unknown subtype is ignored.
                    if !matches!(refresh.subtype, RouteRefreshSubtype::Unknown(_)) {
                        out.push(Action::DeliverRouteRefresh(refresh));
                    }
                }
                Some(Slot::Primary) => self.unexpected(now, out),
                None => out.push(Action::DropConnection { conn }),
            },
            Event::RequestRefresh(family) => {
                let supported = self.remote_open.as_ref().is_some_and(|o| {
                    o.capabilities
                        .iter()
                        .any(|c| matches!(c, Capability::RouteRefresh))
                });
                if let (State::Established, Some(p), true) = (self.state, self.primary, supported) {
                    out.push(Action::Send {
                        conn: p.id,
                        message: Box::new(Message::RouteRefresh(RouteRefresh::new(
                            family,
                            RouteRefreshSubtype::Request,
                        ))),
                    });
                }
            }
        }
    }

    fn slot(&self, conn: ConnId) -> Option<Slot> {
        if self.primary.is_some_and(|c| c.id == conn) {
            Some(Slot::Primary)
        } else if self.secondary.is_some_and(|c| c.id == conn) {
            Some(Slot::Secondary)
        } else {
            None
        }
    }

    fn next_rand(&mut self) -> u64 {
        // xorshift64*: enough to spread timers, not for secrets.
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// RFC 4271 §10: a value between 0.75 and 1.0 of `d`.
    fn jitter(&mut self, d: Duration) -> Duration {
        let r = (self.next_rand() >> 11) as f64 / (1u64 << 53) as f64;
        d.mul_f64(0.75 + 0.25 * r)
    }

    fn start(&mut self, out: &mut Vec<Action>) {
        out.push(Action::StopTimer(TimerKind::IdleHold));
        if self.cfg.passive {
            self.state = State::Active;
        } else {
            self.dial(out);
        }
    }

    fn dial(&mut self, out: &mut Vec<Action>) {
        self.state = State::Connect;
        out.push(Action::Connect);
        let d = self.jitter(self.cfg.connect_retry);
        out.push(Action::StartTimer(TimerKind::ConnectRetry, d));
    }

    /// A connection is up: send our OPEN and wait for the peer's.
    fn open_sent(&mut self, conn: ConnId, out: &mut Vec<Action>) {
        out.push(Action::StopTimer(TimerKind::ConnectRetry));
        out.push(Action::StopTimer(TimerKind::IdleHold));
        out.push(Action::Send {
            conn,
            message: Box::new(Message::Open(self.local_open.clone())),
        });
        out.push(Action::StartTimer(TimerKind::Hold, OPEN_SENT_HOLD));
        self.state = State::OpenSent;
    }

    fn inbound(&mut self, conn: ConnId, out: &mut Vec<Action>) {
        let dir = Direction::Inbound;
        match self.state {
            State::Idle if self.admin_down => {
                let n =
                    Notification::new(ErrorCode::Cease(CeaseSubcode::ConnectionRejected), vec![]);
                out.push(Action::Send {
                    conn,
                    message: Box::new(Message::Notification(n)),
                });
                out.push(Action::DropConnection { conn });
            }
            State::Idle | State::Connect | State::Active => {
                if self.state == State::Connect {
                    out.push(Action::AbortConnect);
                }
                self.primary = Some(Conn { id: conn, dir });
                self.open_sent(conn, out);
            }
            State::OpenSent | State::OpenConfirm => {
                if let Some(old) = self.secondary.take() {
                    out.push(Action::DropConnection { conn: old.id });
                }
                self.secondary = Some(Conn { id: conn, dir });
                out.push(Action::Send {
                    conn,
                    message: Box::new(Message::Open(self.local_open.clone())),
                });
            }
            State::Established => {
                // §6.8: a collision with an Established session closes the
                // new connection.
                out.push(Action::Send {
                    conn,
                    message: Box::new(Message::Notification(collision_cease())),
                });
                out.push(Action::DropConnection { conn });
            }
        }
    }

    /// §6.2 checks that need configuration; decode did the rest.
    fn validate(&self, open: &Open) -> Result<(), Notification> {
        let asn = open.asn();
        if asn != self.cfg.remote_as {
            // As FRR: the data is the AS the peer claimed.
            let data = match u16::try_from(asn) {
                Ok(a) => a.to_be_bytes().to_vec(),
                Err(_) => asn.to_be_bytes().to_vec(),
            };
            return Err(Notification::new(
                ErrorCode::Open(OpenSubcode::BadPeerAs),
                data,
            ));
        }
        if open.bgp_id.is_unspecified() || (self.cfg.is_ibgp() && open.bgp_id == self.cfg.router_id)
        {
            return Err(Notification::new(
                ErrorCode::Open(OpenSubcode::BadBgpIdentifier),
                vec![],
            ));
        }
        if open.hold_time == 1 || open.hold_time == 2 {
            return Err(Notification::new(
                ErrorCode::Open(OpenSubcode::UnacceptableHoldTime),
                vec![],
            ));
        }
        if let Err(e) = role::check(self.cfg.ebgp_role(), self.cfg.strict_role, open) {
            tracing::warn!(peer_as = open.asn(), error = %e, "BGP role mismatch (RFC 9234)");
            return Err(e.notification());
        }
        Ok(())
    }

    fn on_open(&mut self, conn: ConnId, open: Open, now: Instant, out: &mut Vec<Action>) {
        match self.slot(conn) {
            None => out.push(Action::DropConnection { conn }),
            Some(Slot::Secondary) => {
                if let Err(n) = self.validate(&open) {
                    self.drop_secondary(Some(n), out);
                    return;
                }
                let (Some(primary), Some(secondary)) = (self.primary, self.secondary) else {
                    return;
                };
                if self.secondary_wins(primary, secondary, &open) {
                    self.close_with_collision(primary.id, out);
                    self.primary = Some(secondary);
                    self.secondary = None;
                    self.remote_open = None;
                    out.push(Action::StopTimer(TimerKind::Keepalive));
                    self.state = State::OpenSent;
                    self.process_open(open, out);
                } else {
                    self.drop_secondary(Some(collision_cease()), out);
                }
            }
            Some(Slot::Primary) => match self.state {
                State::OpenSent => {
                    if let Err(n) = self.validate(&open) {
                        let reason = DownReason::NotificationSent(n.clone());
                        self.fail_primary(Some(n), reason, After::Backoff, now, out);
                        return;
                    }
                    match (self.primary, self.secondary) {
                        (Some(primary), Some(secondary))
                            if self.secondary_wins(primary, secondary, &open) =>
                        {
                            // The peer will send its OPEN on the survivor.
                            self.close_with_collision(primary.id, out);
                            self.promote_secondary(out);
                        }
                        (_, Some(_)) => {
                            self.drop_secondary(Some(collision_cease()), out);
                            self.process_open(open, out);
                        }
                        _ => self.process_open(open, out),
                    }
                }
                _ => self.unexpected(now, out),
            },
        }
    }

    fn secondary_wins(&self, primary: Conn, secondary: Conn, open: &Open) -> bool {
        if primary.dir == secondary.dir {
            // Two inbound connections: the peer redialed; keep the newer.
            return true;
        }
        let keep = collision_winner(
            self.cfg.router_id,
            self.cfg.local_as,
            open.bgp_id,
            open.asn(),
        );
        secondary.dir == keep
    }

    fn close_with_collision(&mut self, conn: ConnId, out: &mut Vec<Action>) {
        out.push(Action::Send {
            conn,
            message: Box::new(Message::Notification(collision_cease())),
        });
        out.push(Action::DropConnection { conn });
    }

    fn drop_secondary(&mut self, notify: Option<Notification>, out: &mut Vec<Action>) {
        if let Some(s) = self.secondary.take() {
            if let Some(n) = notify {
                out.push(Action::Send {
                    conn: s.id,
                    message: Box::new(Message::Notification(n)),
                });
            }
            out.push(Action::DropConnection { conn: s.id });
        }
    }

    /// The secondary connection (our OPEN sent) replaces the primary.
    fn promote_secondary(&mut self, out: &mut Vec<Action>) {
        self.primary = self.secondary.take();
        self.remote_open = None;
        self.hold_time = 0;
        self.keepalive_time = 0;
        self.state = State::OpenSent;
        out.push(Action::StopTimer(TimerKind::Keepalive));
        out.push(Action::StartTimer(TimerKind::Hold, OPEN_SENT_HOLD));
    }

    /// A valid OPEN on the primary in OpenSent: §8.2.2 to OpenConfirm.
    fn process_open(&mut self, open: Open, out: &mut Vec<Action>) {
        let Some(p) = self.primary else { return };
        let hold = self.local_open.hold_time.min(open.hold_time);
        self.hold_time = hold;
        self.keepalive_time = hold / 3;
        self.remote_open = Some(open);
        out.push(Action::Send {
            conn: p.id,
            message: Box::new(Message::Keepalive),
        });
        if hold > 0 {
            self.start_keepalive(out);
            out.push(Action::StartTimer(
                TimerKind::Hold,
                Duration::from_secs(u64::from(hold)),
            ));
        } else {
            out.push(Action::StopTimer(TimerKind::Keepalive));
            out.push(Action::StopTimer(TimerKind::Hold));
        }
        self.state = State::OpenConfirm;
    }

    fn start_keepalive(&mut self, out: &mut Vec<Action>) {
        if self.keepalive_time > 0 {
            let d = self.jitter(Duration::from_secs(u64::from(self.keepalive_time)));
            out.push(Action::StartTimer(TimerKind::Keepalive, d));
        }
    }

    fn restart_hold(&mut self, out: &mut Vec<Action>) {
        if self.hold_time > 0 {
            out.push(Action::StartTimer(
                TimerKind::Hold,
                Duration::from_secs(u64::from(self.hold_time)),
            ));
        }
    }

    fn established(&mut self, now: Instant, out: &mut Vec<Action>) {
        let (Some(p), Some(remote_open)) = (self.primary, self.remote_open.clone()) else {
            return;
        };
        self.restart_hold(out);
        self.drop_secondary(Some(collision_cease()), out);
        self.state = State::Established;
        self.established_at = Some(now);
        out.push(Action::SessionUp {
            conn: p.id,
            caps: Box::new(SessionCaps::negotiate(&self.local_open, &remote_open)),
            local_open: Box::new(self.local_open.clone()),
            remote_open: Box::new(remote_open),
            hold_time: self.hold_time,
            keepalive_time: self.keepalive_time,
        });
        // RFC 4724 §3: the R bit only in the OPENs right after a restart.
        if let Some(gr) = self
            .cfg
            .graceful_restart
            .as_mut()
            .filter(|g| g.restart_state)
        {
            gr.restart_state = false;
            self.local_open = self.cfg.local_open();
        }
    }

    /// A message the state does not allow: RFC 6608 FSM error.
    fn unexpected(&mut self, now: Instant, out: &mut Vec<Action>) {
        let n = fsm_error(self.state);
        let reason = DownReason::NotificationSent(n.clone());
        self.fail_primary(Some(n), reason, After::Backoff, now, out);
    }

    /// The primary connection failed. Before Established a pending
    /// secondary connection takes over; otherwise the session goes Idle.
    fn fail_primary(
        &mut self,
        notify: Option<Notification>,
        reason: DownReason,
        after: After,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        if matches!(self.state, State::OpenSent | State::OpenConfirm) && self.secondary.is_some() {
            if let Some(p) = self.primary.take() {
                if let Some(n) = notify {
                    out.push(Action::Send {
                        conn: p.id,
                        message: Box::new(Message::Notification(n)),
                    });
                }
                out.push(Action::DropConnection { conn: p.id });
            }
            self.promote_secondary(out);
            out.push(Action::ConnectionLost { reason });
            return;
        }
        self.teardown(notify, reason, after, now, out);
    }

    /// Close every connection (sending `notify` on them), stop the timers,
    /// report, go Idle and schedule what comes next.
    fn teardown(
        &mut self,
        notify: Option<Notification>,
        reason: DownReason,
        after: After,
        now: Instant,
        out: &mut Vec<Action>,
    ) {
        for c in [self.primary.take(), self.secondary.take()]
            .into_iter()
            .flatten()
        {
            if let Some(n) = &notify {
                out.push(Action::Send {
                    conn: c.id,
                    message: Box::new(Message::Notification(n.clone())),
                });
            }
            out.push(Action::DropConnection { conn: c.id });
        }
        if self.state == State::Connect {
            out.push(Action::AbortConnect);
        }
        for t in TimerKind::ALL {
            out.push(Action::StopTimer(t));
        }
        let was = self.state;
        if was == State::Established {
            let stable = self
                .established_at
                .is_some_and(|at| now.saturating_duration_since(at) >= self.cfg.stable_time);
            if stable {
                self.idle_hold = self.cfg.idle_hold_initial;
            }
            out.push(Action::SessionDown { reason });
        } else if matches!(was, State::OpenSent | State::OpenConfirm) {
            out.push(Action::ConnectionLost { reason });
        }
        self.state = State::Idle;
        self.remote_open = None;
        self.established_at = None;
        self.hold_time = 0;
        self.keepalive_time = 0;
        if self.admin_down {
            return;
        }
        match after {
            After::Restart => self.start(out),
            After::Retry => out.push(Action::StartTimer(
                TimerKind::IdleHold,
                self.cfg.idle_hold_initial,
            )),
            After::Backoff => {
                let delay = self.idle_hold;
                self.idle_hold = (delay * 2).min(self.cfg.idle_hold_max);
                out.push(Action::StartTimer(TimerKind::IdleHold, delay));
            }
        }
    }
}

/// Cease with a shutdown communication when one is given (RFC 9003).
fn cease(subcode: CeaseSubcode, communication: Option<String>) -> Notification {
    match communication.as_deref() {
        Some(text) if !text.is_empty() => Notification::cease_with_message(subcode, text),
        _ => Notification::new(ErrorCode::Cease(subcode), vec![]),
    }
}

/// Cease/1 with the data RFC 4486 §4 gives: AFI (2 octets), SAFI (1) and
/// the upper bound (4).
pub fn prefix_limit_cease(family: AfiSafi, max: u32) -> Notification {
    let mut data = Vec::with_capacity(7);
    data.extend_from_slice(&family.afi.0.to_be_bytes());
    data.push(family.safi.0);
    data.extend_from_slice(&max.to_be_bytes());
    Notification::new(ErrorCode::Cease(CeaseSubcode::MaximumPrefixesReached), data)
}

fn collision_cease() -> Notification {
    Notification::new(
        ErrorCode::Cease(CeaseSubcode::ConnectionCollisionResolution),
        vec![],
    )
}

/// RFC 6608 subcode for an unexpected message in `state`.
fn fsm_error(state: State) -> Notification {
    let sub = match state {
        State::OpenSent => FsmSubcode::UnexpectedInOpenSent,
        State::OpenConfirm => FsmSubcode::UnexpectedInOpenConfirm,
        State::Established => FsmSubcode::UnexpectedInEstablished,
        _ => FsmSubcode::Unspecified,
    };
    Notification::new(ErrorCode::Fsm(sub), vec![])
}

#[cfg(test)]
#[path = "fsm_tests.rs"]
mod tests;

//! The async shell of one session: a tokio task that performs what the
//! pure FSM (`fsm.rs`) asks and feeds it what sockets and timers report.
//!
//! Owns the TCP connections of its peer (at most two while a collision is
//! pending, RFC 4271 §6.8), the dial (source address, TTL 1 for single-hop
//! eBGP or the multihop TTL), framing with `header::frame_length`,
//! decoding under the negotiated [`SessionCaps`], the timers, the write
//! queue, and the session's counters.
//!
//! Each connection has a reader task (framing only, so a slow peer cannot
//! stall decoding of another) and a writer task that coalesces queued
//! messages into large writes. The session task never blocks on a socket:
//! it stops taking UPDATEs from the RIB while the write queue is over its
//! limit, and stops reading frames while the RIB has not taken its events
//! (keepalives keep flowing meanwhile, and the hold timer is suspended so
//! our own backlog is never blamed on the peer).
//!
//! Never interprets routes and never decides a transition itself.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::hash::{BuildHasher, RandomState};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;
use tokio::time::{sleep_until, Instant};
use tracing::{debug, info, warn};

use super::fsm::{Action, ConnId, Event, Fsm, Received, TimerKind};
use super::security;
use super::{
    DownReason, SessionCommand, SessionConfig, SessionEvent, SessionHandle, SessionStats, State,
    UpdateBatch, UpdateList, COMMAND_QUEUE,
};
use crate::packet::header::{self, frame_length, HeaderError, HEADER_LEN};
use crate::packet::notification::OpenSubcode;
use crate::packet::update::Sections;
use crate::packet::{
    decode_message, ErrorCode, Message, MessageError, MessageType, Nlri, Notification,
    ParsedUpdate, SessionCaps,
};

/// NOTIFICATION 2/11 (RFC 9234 §4.2), counted either way.
fn is_role_mismatch(n: &Notification) -> bool {
    n.error == ErrorCode::Open(OpenSubcode::RoleMismatch)
}

/// Accepted connections waiting for the session task.
const INBOUND_QUEUE: usize = 4;
/// Frames read ahead of the session task, per session.
const FRAME_QUEUE: usize = 64;
/// Events decoded but not yet taken by the daemon before we stop reading
/// (an UPDATE event holds up to `UpdateBatch::MESSAGES` UPDATEs and
/// `UpdateBatch::ROUTES` routes, or one larger UPDATE).
const PENDING_EVENTS: usize = 8;
/// Spent UPDATEs' allocations a session keeps for decoding into (512
/// bytes each: 512 KiB a session at most, given back when the session
/// goes down or a keepalive interval passes without them being used).
const SPARE_UPDATES: usize = 1024;
/// Spent batches' lists a session keeps.
const SPARE_LISTS: usize = 16;
/// Bytes queued for a connection before the RIB's UPDATEs wait.
const WRITE_QUEUE_LIMIT: usize = 4 << 20;
/// Largest single write the writer builds from queued messages.
const WRITE_CHUNK: usize = 256 << 10;
/// How long a closed connection may take to flush its last messages.
const LINGER: Duration = Duration::from_secs(5);

pub(super) fn spawn(cfg: SessionConfig, events: mpsc::Sender<SessionEvent>) -> SessionHandle {
    let (tx, cmd_rx) = mpsc::channel(COMMAND_QUEUE);
    let (inbound, inbound_rx) = mpsc::channel(INBOUND_QUEUE);
    let (read_tx, read_rx) = mpsc::channel(FRAME_QUEUE);
    let stats = Arc::new(SessionStats::default());
    let handle = SessionHandle {
        id: cfg.id,
        tx,
        stats: stats.clone(),
        inbound,
        ttl_security: cfg.ttl_security,
        interface: cfg.interface.clone(),
    };
    let seed = RandomState::new().hash_one((cfg.id, cfg.remote_addr));
    let peer = Peer {
        fsm: Fsm::new(cfg.fsm_config(), seed),
        cfg,
        events,
        pending: VecDeque::new(),
        actions: Vec::new(),
        spares: Spares::default(),
        repeated: Vec::new(),
        repeat_target: 0,
        received_attributes: None,
        stats,
        conns: HashMap::new(),
        read_tx,
        read_rx,
        cmd_rx,
        inbound_rx,
        next_conn: 0,
        timers: [None; 4],
        dial: None,
        established: None,
    };
    tokio::spawn(peer.run());
    handle
}

type Dial = Pin<Box<dyn Future<Output = io::Result<TcpStream>> + Send>>;

/// What a reader task reports.
#[derive(Debug)]
enum ReadEvent {
    /// Every complete message of one read, in order (one channel hop per
    /// read, not per message: a peer sending one prefix per UPDATE would
    /// otherwise cost two task wake-ups per prefix).
    Frames(Vec<Bytes>),
    Header(HeaderError),
    Closed,
    Error(String),
}

/// One TCP connection's tasks and queue.
struct ConnIo {
    tx: mpsc::UnboundedSender<Vec<Bytes>>,
    queued: Arc<AtomicUsize>,
    drained: Arc<Notify>,
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
    caps: SessionCaps,
    /// Extended Message (RFC 8654) negotiated with this connection's OPEN:
    /// the reader frames up to 65535 octets, else up to 4096.
    extended: Arc<AtomicBool>,
    local: Option<SocketAddr>,
    remote: Option<SocketAddr>,
}

impl ConnIo {
    fn enqueue(&self, batch: Vec<Bytes>) {
        let len: usize = batch.iter().map(Bytes::len).sum();
        self.queued.fetch_add(len, Ordering::Relaxed);
        // A closed writer means the connection is dying; the reader
        // reports it.
        let _ = self.tx.send(batch);
    }

    fn backlogged(&self) -> bool {
        self.queued.load(Ordering::Relaxed) >= WRITE_QUEUE_LIMIT
    }

    /// Close after the queue is flushed (bounded by [`LINGER`]).
    fn close(self) {
        let ConnIo {
            tx, reader, writer, ..
        } = self;
        drop(tx);
        reader.abort();
        tokio::spawn(async move {
            tokio::time::sleep(LINGER).await;
            writer.abort();
        });
    }
}

/// The allocations of UPDATEs the RIB gave back
/// ([`SessionCommand::Recycle`]), decoded into again: one-prefix UPDATEs
/// then cost no allocation for their box and batch, and their contents
/// are freed by the thread that allocated them.
#[derive(Default)]
struct Spares {
    updates: UpdateList,
    lists: Vec<UpdateList>,
    /// Decoded into since the last [`Spares::idle`].
    used: bool,
}

impl Spares {
    /// Called every keepalive interval: spares not used during the last
    /// one are freed, so a session that had a burst does not keep its
    /// memory for ever.
    fn idle(&mut self) {
        if self.used {
            self.used = false;
        } else if !self.updates.is_empty() || !self.lists.is_empty() {
            *self = Spares::default();
        }
    }

    fn take_back(&mut self, batch: UpdateBatch) {
        let mut list = UpdateList::from(batch);
        for mut update in list.drain(..) {
            if self.updates.len() >= SPARE_UPDATES {
                break;
            }
            // Frees its routes and attributes here, keeps the box.
            *update = ParsedUpdate::default();
            self.updates.push(update);
        }
        if self.lists.len() < SPARE_LISTS {
            list.clear();
            self.lists.push(list);
        }
    }

    fn boxed(&mut self, update: ParsedUpdate) -> Box<ParsedUpdate> {
        self.used = true;
        match self.updates.pop() {
            Some(mut b) => {
                *b = update;
                b
            }
            None => Box::new(update),
        }
    }

    fn list(&mut self) -> UpdateList {
        self.lists.pop().unwrap_or_default()
    }
}

struct Peer {
    cfg: SessionConfig,
    fsm: Fsm,
    events: mpsc::Sender<SessionEvent>,
    pending: VecDeque<SessionEvent>,
    stats: Arc<SessionStats>,
    conns: HashMap<ConnId, ConnIo>,
    read_tx: mpsc::Sender<(ConnId, ReadEvent)>,
    read_rx: mpsc::Receiver<(ConnId, ReadEvent)>,
    cmd_rx: mpsc::Receiver<SessionCommand>,
    inbound_rx: mpsc::Receiver<TcpStream>,
    next_conn: u64,
    timers: [Option<Instant>; 4],
    dial: Option<Dial>,
    established: Option<ConnId>,
    /// The FSM's actions of one event (kept to reuse its allocation).
    actions: Vec<Action>,
    spares: Spares,
    /// The routes of an UPDATE that repeated the attributes of one in the
    /// last batch, and that one's index in it, on their way through the
    /// FSM ([`Received::Repeat`]).
    repeated: Vec<Nlri>,
    repeat_target: usize,
    /// The path attributes, as received, of the UPDATE on its way through
    /// the FSM, when later ones may join it.
    received_attributes: Option<Bytes>,
}

fn timer_index(kind: TimerKind) -> usize {
    match kind {
        TimerKind::ConnectRetry => 0,
        TimerKind::Hold => 1,
        TimerKind::Keepalive => 2,
        TimerKind::IdleHold => 3,
    }
}

async fn poll_dial(dial: Option<&mut Dial>) -> io::Result<TcpStream> {
    match dial {
        Some(d) => d.await,
        None => std::future::pending().await,
    }
}

async fn wait_drained(notify: Option<Arc<Notify>>) {
    match notify {
        Some(n) => n.notified().await,
        None => std::future::pending().await,
    }
}

impl Peer {
    async fn run(mut self) {
        info!(peer = %self.cfg.remote_addr, id = self.cfg.id, passive = self.cfg.passive, "session starting");
        self.fsm_event(Event::ManualStart);
        loop {
            let reading = self.pending.len() < PENDING_EVENTS;
            // While we are not reading, silence from the peer proves nothing.
            let next_timer = self.next_timer(!reading);
            let far = Instant::now() + Duration::from_secs(3600);
            let deadline = next_timer.map_or(far, |(_, at)| at);
            let (sending, drained) = match self.established.and_then(|c| self.conns.get(&c)) {
                Some(c) if c.backlogged() => (false, Some(c.drained.clone())),
                _ => (true, None),
            };
            let delivering = !self.pending.is_empty();
            let events = self.events.clone();

            tokio::select! {
                biased;
                permit = events.reserve(), if delivering => match permit {
                    Ok(permit) => {
                        if let Some(ev) = self.pending.pop_front() {
                            permit.send(ev);
                        }
                        // Whatever else fits goes now: the daemon wakes
                        // once for the lot.
                        while !self.pending.is_empty() {
                            let Ok(p) = self.events.try_reserve() else { break };
                            if let Some(ev) = self.pending.pop_front() {
                                p.send(ev);
                            }
                        }
                    }
                    Err(_) => {
                        info!(peer = %self.cfg.remote_addr, "daemon gone, session ends");
                        self.fsm_event(Event::Deconfigured);
                        return;
                    }
                },
                Some((conn, ev)) = self.read_rx.recv(), if reading => self.on_read(conn, ev),
                cmd = self.cmd_rx.recv(), if sending => match cmd {
                    Some(cmd) => self.on_command(cmd),
                    None => {
                        info!(peer = %self.cfg.remote_addr, "session removed");
                        self.fsm_event(Event::Deconfigured);
                        return;
                    }
                },
                _ = wait_drained(drained), if !sending => {}
                Some(stream) = self.inbound_rx.recv() => self.on_inbound(stream),
                res = poll_dial(self.dial.as_mut()), if self.dial.is_some() => {
                    self.dial = None;
                    self.on_dialed(res);
                }
                _ = sleep_until(deadline), if next_timer.is_some() => {
                    if let Some((kind, _)) = next_timer {
                        self.timers[timer_index(kind)] = None;
                        let ev = match kind {
                            TimerKind::ConnectRetry => Event::ConnectRetryTimerExpires,
                            TimerKind::Hold => Event::HoldTimerExpires,
                            TimerKind::Keepalive => {
                                self.spares.idle();
                                Event::KeepaliveTimerExpires
                            }
                            TimerKind::IdleHold => Event::IdleHoldTimerExpires,
                        };
                        self.fsm_event(ev);
                    }
                }
            }
        }
    }

    fn next_timer(&self, hold_suspended: bool) -> Option<(TimerKind, Instant)> {
        TimerKind::ALL
            .into_iter()
            .filter(|k| !(hold_suspended && *k == TimerKind::Hold))
            .filter_map(|k| self.timers[timer_index(k)].map(|at| (k, at)))
            .min_by_key(|(_, at)| *at)
    }

    fn on_command(&mut self, cmd: SessionCommand) {
        match cmd {
            SessionCommand::Send(batch) => {
                match self.established.and_then(|c| self.conns.get(&c)) {
                    Some(conn) => {
                        let n = batch.len() as u64;
                        conn.enqueue(batch);
                        self.stats.update(|s| s.msgs_out.update += n);
                    }
                    None => {
                        debug!(peer = %self.cfg.remote_addr, "not established, UPDATEs dropped")
                    }
                }
            }
            SessionCommand::Stop { communication } => {
                info!(peer = %self.cfg.remote_addr, ?communication, "administrative shutdown");
                self.fsm_event(Event::ManualStop { communication });
            }
            SessionCommand::Start => self.fsm_event(Event::ManualStart),
            SessionCommand::Reset => {
                info!(peer = %self.cfg.remote_addr, "administrative reset");
                self.fsm_event(Event::AdminReset {
                    communication: None,
                });
            }
            SessionCommand::RequestRefresh(family) => self.fsm_event(Event::RequestRefresh(family)),
            SessionCommand::PrefixLimitExceeded { family, max } => {
                self.fsm_event(Event::PrefixLimitExceeded { family, max })
            }
            SessionCommand::Recycle(batch) => self.spares.take_back(batch),
        }
    }

    fn on_inbound(&mut self, stream: TcpStream) {
        let remote = stream.peer_addr().ok();
        if let Err(e) = configure(&stream, &self.cfg) {
            warn!(peer = %self.cfg.remote_addr, error = %e, "cannot set socket options on accepted connection");
        }
        let conn = self.register(stream);
        debug!(peer = %self.cfg.remote_addr, %conn, ?remote, "accepted connection");
        self.fsm_event(Event::TcpConnectionConfirmed { conn });
    }

    fn on_dialed(&mut self, res: io::Result<TcpStream>) {
        match res {
            Ok(stream) => {
                let conn = self.register(stream);
                debug!(peer = %self.cfg.remote_addr, %conn, "connected");
                self.fsm_event(Event::TcpConnectionAcknowledged { conn });
            }
            Err(e) => {
                debug!(peer = %self.cfg.remote_addr, error = %e, "connect failed");
                let error = e.to_string();
                self.stats.update(|s| {
                    s.connect_failures += 1;
                    s.last_connect_error = Some(error);
                });
                self.fsm_event(Event::ConnectFailed {
                    error: e.to_string(),
                });
            }
        }
    }

    fn register(&mut self, stream: TcpStream) -> ConnId {
        self.next_conn += 1;
        let id = ConnId(self.next_conn);
        let local = stream.local_addr().ok();
        let remote = stream.peer_addr().ok();
        let (rd, wr) = stream.into_split();
        let (tx, rx) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let drained = Arc::new(Notify::new());
        let extended = Arc::new(AtomicBool::new(false));
        let reader = tokio::spawn(read_loop(id, rd, extended.clone(), self.read_tx.clone()));
        let writer = tokio::spawn(write_loop(wr, rx, queued.clone(), drained.clone()));
        self.conns.insert(
            id,
            ConnIo {
                tx,
                queued,
                drained,
                reader,
                writer,
                caps: SessionCaps::default(),
                extended,
                local,
                remote,
            },
        );
        id
    }

    fn on_read(&mut self, conn: ConnId, ev: ReadEvent) {
        match ev {
            ReadEvent::Frames(frames) => {
                // One clock reading for the batch (it arrived at once).
                let now = std::time::Instant::now();
                for frame in frames {
                    self.on_frame(conn, frame, now);
                }
            }
            other => self.on_read_one(conn, other),
        }
    }

    /// Whether `frame` is an UPDATE that withdraws nothing and repeats
    /// the attributes of one in the last batch waiting for the daemon,
    /// which its routes can join ([`UpdateBatch::repeat_target`]); they
    /// are then in `self.repeated`.
    fn is_repeat(&mut self, conn: ConnId, frame: &[u8]) -> bool {
        let Some(SessionEvent::Updates { batch, .. }) = self.pending.back() else {
            return false;
        };
        let Some(io) = self.conns.get(&conn) else {
            return false;
        };
        let Ok((MessageType::Update, body)) = header::decode(frame, &io.caps) else {
            return false;
        };
        match batch.repeat_target(body, &io.caps, &mut self.repeated) {
            Some(target) => {
                self.repeat_target = target;
                true
            }
            None => false,
        }
    }

    fn on_frame(&mut self, conn: ConnId, frame: Bytes, now: std::time::Instant) {
        if self.is_repeat(conn, &frame) {
            self.stats
                .update(|s| s.msgs_in.count(MessageType::Update, 1));
            let update = Received::Repeat;
            self.fsm_event_at(Event::UpdateMsg { conn, update }, now);
            return;
        }
        let Some(io) = self.conns.get(&conn) else {
            return; // a connection we already closed
        };
        let event = match decode_message(&frame, &io.caps) {
            Ok(decoded) => {
                let kind = decoded.message.message_type();
                self.stats.update(|s| s.msgs_in.count(kind, 1));
                match decoded.message {
                    Message::Open(open) => {
                        // Before the FSM answers (and our KEEPALIVE lets the
                        // peer send UPDATEs): the reader's limit from now on.
                        let ext =
                            SessionCaps::negotiate(self.fsm.local_open(), &open).extended_message;
                        io.extended.store(ext, Ordering::Relaxed);
                        Event::BgpOpen { conn, open }
                    }
                    Message::Update(update) => {
                        let mut update = self.spares.boxed(ParsedUpdate {
                            update,
                            report: decoded.report,
                        });
                        update.withdraw_if_confed_path();
                        if !self.fsm.config().is_ibgp() {
                            update.discard_ebgp_local_pref();
                        }
                        if update.is_treat_as_withdraw() {
                            self.stats.update(|s| s.updates_treat_as_withdraw += 1);
                            info!(peer = %self.cfg.remote_addr, report = ?update.report, "UPDATE treated as withdraw (RFC 7606)");
                        } else if !update.report.discarded.is_empty() {
                            debug!(peer = %self.cfg.remote_addr, report = ?update.report.discarded, "attributes discarded (RFC 7606)");
                        }
                        if update.takes_repeats() {
                            self.received_attributes = frame
                                .get(HEADER_LEN..)
                                .and_then(Sections::split)
                                .map(|s| frame.slice_ref(s.attributes));
                        }
                        let update = Received::Whole(update);
                        Event::UpdateMsg { conn, update }
                    }
                    Message::Notification(notification) => {
                        warn!(peer = %self.cfg.remote_addr, %notification, "NOTIFICATION received");
                        let n = notification.clone();
                        self.stats.update(|s| {
                            if is_role_mismatch(&n) {
                                s.role_mismatches += 1;
                            }
                            s.last_notification_received = Some(n)
                        });
                        Event::NotifMsg { conn, notification }
                    }
                    Message::Keepalive => Event::KeepAliveMsg { conn },
                    Message::RouteRefresh(refresh) => Event::RouteRefreshMsg { conn, refresh },
                }
            }
            Err(e) => {
                warn!(peer = %self.cfg.remote_addr, error = %e, "malformed message");
                let notification = e.notification();
                match e {
                    MessageError::Header(_) => Event::BgpHeaderErr { conn, notification },
                    MessageError::Open(_) => Event::BgpOpenMsgErr { conn, notification },
                    MessageError::Update(_) => Event::UpdateMsgErr { conn, notification },
                    MessageError::RouteRefresh(_) => {
                        Event::RouteRefreshMsgErr { conn, notification }
                    }
                }
            }
        };
        self.fsm_event_at(event, now);
        self.received_attributes = None;
    }

    fn on_read_one(&mut self, conn: ConnId, ev: ReadEvent) {
        if !self.conns.contains_key(&conn) {
            return; // a connection we already closed
        }
        let event = match ev {
            ReadEvent::Frames(_) => return,
            ReadEvent::Header(e) => {
                warn!(peer = %self.cfg.remote_addr, error = %e, "bad message header");
                Event::BgpHeaderErr {
                    conn,
                    notification: e.notification(),
                }
            }
            ReadEvent::Closed => Event::TcpConnectionFails { conn, error: None },
            ReadEvent::Error(e) => Event::TcpConnectionFails {
                conn,
                error: Some(e),
            },
        };
        self.fsm_event(event);
    }

    fn fsm_event(&mut self, event: Event) {
        self.fsm_event_at(event, std::time::Instant::now());
    }

    fn fsm_event_at(&mut self, event: Event, now: std::time::Instant) {
        let before = self.fsm.state();
        let mut actions = std::mem::take(&mut self.actions);
        self.fsm.handle_into(event, now, &mut actions);
        for action in actions.drain(..) {
            self.perform(action, now);
        }
        self.actions = actions;
        // Connections the FSM no longer knows are dead.
        let live = [self.fsm.primary(), self.fsm.secondary()];
        let dead: Vec<ConnId> = self
            .conns
            .keys()
            .copied()
            .filter(|c| !live.contains(&Some(*c)))
            .collect();
        for c in dead {
            self.close_conn(c);
        }
        let after = self.fsm.state();
        if before != after {
            debug!(peer = %self.cfg.remote_addr, from = %before, to = %after, "state change");
            let (hold, keepalive) = self.fsm.timers();
            self.stats.update(|s| {
                s.state = after;
                s.hold_time = hold;
                s.keepalive_time = keepalive;
            });
        }
    }

    fn close_conn(&mut self, conn: ConnId) {
        if let Some(io) = self.conns.remove(&conn) {
            io.close();
        }
        if self.established == Some(conn) {
            self.established = None;
        }
    }

    fn perform(&mut self, action: Action, now: std::time::Instant) {
        let peer = self.cfg.remote_addr;
        match action {
            Action::Connect => {
                debug!(%peer, interface = ?self.cfg.interface, "dialing");
                self.dial = Some(Box::pin(dial(self.cfg.clone())));
            }
            Action::AbortConnect => {
                if self.dial.take().is_some() {
                    // The ConnectRetry timer ran out with the SYN unanswered.
                    let error = if self.cfg.password.is_some() {
                        "connect timed out (TCP-MD5: a missing or different key on the peer drops our SYN without a reply)"
                    } else {
                        "connect timed out"
                    };
                    warn!(%peer, error, "connection attempt failed");
                    self.stats.update(|s| {
                        s.connect_failures += 1;
                        s.last_connect_error = Some(error.to_string());
                    });
                }
            }
            Action::Send { conn, message } => {
                let Some(io) = self.conns.get(&conn) else {
                    return;
                };
                match message.to_bytes(&io.caps) {
                    Ok(bytes) => {
                        io.enqueue(vec![bytes]);
                        let kind = message.message_type();
                        if let Message::Notification(n) = *message {
                            warn!(%peer, notification = %n, "NOTIFICATION sent");
                            self.stats.update(|s| {
                                if is_role_mismatch(&n) {
                                    s.role_mismatches += 1;
                                }
                                s.last_notification_sent = Some(n)
                            });
                        }
                        self.stats.update(|s| s.msgs_out.count(kind, 1));
                    }
                    Err(e) => warn!(%peer, error = %e, "cannot encode message"),
                }
            }
            Action::DropConnection { conn } => self.close_conn(conn),
            Action::StartTimer(kind, d) => {
                self.timers[timer_index(kind)] = Some(Instant::from_std(now) + d)
            }
            Action::StopTimer(kind) => self.timers[timer_index(kind)] = None,
            Action::SessionUp {
                conn,
                caps,
                local_open,
                remote_open,
                hold_time,
                keepalive_time,
            } => {
                let Some(io) = self.conns.get_mut(&conn) else {
                    return;
                };
                io.caps = (*caps).clone();
                let (local_addr, remote_addr) = (io.local, io.remote);
                self.established = Some(conn);
                info!(%peer, id = self.cfg.id, remote_as = remote_open.asn(), remote_id = %remote_open.bgp_id, hold_time, "session Established");
                let at = self.fsm.established_at();
                self.stats.update(|s| {
                    s.state = State::Established;
                    s.established_at = at;
                    s.established_since = Some(SystemTime::now());
                    s.established_count += 1;
                    s.hold_time = hold_time;
                    s.keepalive_time = keepalive_time;
                    s.caps = Some((*caps).clone());
                    s.remote_open = Some((*remote_open).clone());
                    s.local_addr = local_addr;
                    s.remote_addr = remote_addr;
                });
                let unspecified = SocketAddr::new(IpAddr::from([0u8; 4]), 0);
                self.pending.push_back(SessionEvent::Established {
                    id: self.cfg.id,
                    caps,
                    local_open,
                    remote_open,
                    local_addr: local_addr.unwrap_or(unspecified),
                    remote_addr: remote_addr.unwrap_or(unspecified),
                });
            }
            Action::SessionDown { reason } => {
                warn!(%peer, id = self.cfg.id, %reason, "session down");
                self.spares = Spares::default();
                self.record_error(&reason, true);
                self.established = None;
                self.pending.push_back(SessionEvent::Down {
                    id: self.cfg.id,
                    reason,
                });
            }
            Action::ConnectionLost { reason } => {
                info!(%peer, %reason, "connection attempt failed");
                self.record_error(&reason, false);
            }
            Action::DeliverUpdate(update) => self.deliver_update(update),
            Action::DeliverRouteRefresh(rr) => self.pending.push_back(SessionEvent::RouteRefresh {
                id: self.cfg.id,
                family: rr.family,
                subtype: rr.subtype,
            }),
        }
    }

    /// Onto the last event still waiting for the daemon if it is an
    /// UPDATE batch with room, else in a new one: the order of events is
    /// kept, and UPDATEs queue up in few events while the daemon is busy.
    /// An UPDATE that repeats the attributes of the last one (checked by
    /// [`Self::is_repeat`] just before the FSM passed it on) adds its
    /// routes to it.
    fn deliver_update(&mut self, update: Received) {
        let update = match update {
            Received::Whole(update) => update,
            Received::Repeat => {
                let joined = match self.pending.back_mut() {
                    Some(SessionEvent::Updates { batch, .. }) => {
                        batch.extend(self.repeat_target, &mut self.repeated)
                    }
                    _ => false,
                };
                if !joined {
                    // is_repeat() found room and nothing ran in between.
                    tracing::error!(peer = %self.cfg.remote_addr, routes = self.repeated.len(), "repeated UPDATE lost its batch; routes dropped");
                }
                return;
            }
        };
        let update = match self.pending.back_mut() {
            Some(SessionEvent::Updates { batch, .. }) => batch.push(update).err(),
            _ => Some(update),
        };
        if let Some(update) = update {
            self.pending.push_back(SessionEvent::Updates {
                id: self.cfg.id,
                batch: UpdateBatch::new_in(self.spares.list(), update),
            });
        }
        if let (Some(a), Some(SessionEvent::Updates { batch, .. })) =
            (self.received_attributes.take(), self.pending.back_mut())
        {
            batch.take_repeats(&a);
        }
    }

    fn record_error(&self, reason: &DownReason, flap: bool) {
        let reason = reason.clone();
        self.stats.update(|s| {
            s.last_error = Some(reason);
            s.last_error_at = Some(SystemTime::now());
            s.established_at = None;
            s.established_since = None;
            if flap {
                s.flaps += 1;
            }
        });
    }
}

/// Socket options for both directions: TTL (GTSM's 255 and minimum
/// when asked) and no Nagle (we coalesce).
fn configure<S: std::os::fd::AsFd>(sock: &S, cfg: &SessionConfig) -> io::Result<()> {
    let s = socket2::SockRef::from(sock);
    let v6 = matches!(s.local_addr()?.as_socket(), Some(SocketAddr::V6(_)));
    if let Some(ttl) = cfg.ttl() {
        if v6 {
            s.set_unicast_hops_v6(ttl)?
        } else {
            s.set_ttl_v4(ttl)?
        }
    }
    if cfg.ttl_security {
        security::set_min_ttl(sock, v6, security::GTSM_MIN_TTL)?;
    }
    s.set_tcp_nodelay(true)
}

/// Opens a connection to the peer: source address, TCP-MD5 key and TTL
/// set before the SYN leaves.
async fn dial(cfg: SessionConfig) -> io::Result<TcpStream> {
    let remote = cfg.remote_socket()?;
    let sock = match remote {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    if let Some(local) = cfg.local_addr {
        sock.bind(SocketAddr::new(local, 0))?;
    }
    if let Some(key) = &cfg.password {
        security::set_md5(&sock, cfg.remote_addr, None, Some(key))?;
    }
    configure(&sock, &cfg)?;
    sock.connect(remote).await
}

/// Split the byte stream into messages. Each header is checked as soon as
/// its 19 octets are in (RFC 4271 §6.1), against 4096 octets until the
/// peer's OPEN negotiated Extended Message (`extended`, set by the session
/// task), so a too-long message is answered without waiting for its body.
async fn read_loop(
    conn: ConnId,
    mut rd: OwnedReadHalf,
    extended: Arc<AtomicBool>,
    tx: mpsc::Sender<(ConnId, ReadEvent)>,
) {
    let mut buf = BytesMut::with_capacity(64 << 10);
    loop {
        let mut frames = Vec::new();
        let mut bad = None;
        let framing = SessionCaps {
            extended_message: extended.load(Ordering::Relaxed),
            ..SessionCaps::default()
        };
        loop {
            match frame_length(&buf, &framing) {
                Ok(Some(len)) if buf.len() >= len => frames.push(buf.split_to(len).freeze()),
                Ok(_) => break,
                Err(e) => {
                    bad = Some(e);
                    break;
                }
            }
        }
        if !frames.is_empty() && tx.send((conn, ReadEvent::Frames(frames))).await.is_err() {
            return;
        }
        if let Some(e) = bad {
            let _ = tx.send((conn, ReadEvent::Header(e))).await;
            return;
        }
        if buf.capacity() - buf.len() < 4096 {
            buf.reserve(64 << 10);
        }
        let ev = match rd.read_buf(&mut buf).await {
            Ok(0) => ReadEvent::Closed,
            Ok(_) => continue,
            Err(e) => ReadEvent::Error(e.to_string()),
        };
        let _ = tx.send((conn, ev)).await;
        return;
    }
}

/// Write queued messages, many per write. Ends (and shuts the connection
/// down) when the queue's sender is dropped and everything is written.
async fn write_loop(
    mut wr: OwnedWriteHalf,
    mut rx: mpsc::UnboundedReceiver<Vec<Bytes>>,
    queued: Arc<AtomicUsize>,
    drained: Arc<Notify>,
) {
    let mut out = BytesMut::new();
    while let Some(batch) = rx.recv().await {
        batch.iter().for_each(|b| out.extend_from_slice(b));
        while out.len() < WRITE_CHUNK {
            match rx.try_recv() {
                Ok(more) => more.iter().for_each(|b| out.extend_from_slice(b)),
                Err(_) => break,
            }
        }
        let n = out.len();
        if let Err(e) = wr.write_all(&out).await {
            debug!(error = %e, "write failed");
            return;
        }
        out.clear();
        queued.fetch_sub(n, Ordering::Relaxed);
        drained.notify_one();
    }
    let _ = wr.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spent_updates_are_decoded_into_again() {
        let mut spares = Spares::default();
        let spent = Box::new(ParsedUpdate::default());
        let at: *const ParsedUpdate = &*spent;
        spares.take_back(UpdateBatch::new_in(Vec::new(), spent));
        assert_eq!((spares.updates.len(), spares.lists.len()), (1, 1));
        let again = spares.boxed(ParsedUpdate::default());
        assert!(std::ptr::eq(&*again, at));
        assert!(spares.list().capacity() > 0);
        // Nothing spare: a new allocation.
        let fresh = spares.boxed(ParsedUpdate::default());
        assert!(!std::ptr::eq(&*fresh, at));
    }

    #[test]
    fn spares_unused_for_a_keepalive_interval_are_freed() {
        let mut spares = Spares::default();
        let spent = UpdateBatch::new_in(Vec::new(), Box::default());
        spares.take_back(spent);
        spares.boxed(ParsedUpdate::default());
        spares.take_back(UpdateBatch::new_in(Vec::new(), Box::default()));
        spares.idle();
        assert_eq!(spares.updates.len(), 1, "used in this interval: kept");
        spares.idle();
        assert!(spares.updates.is_empty() && spares.lists.is_empty());
    }
}

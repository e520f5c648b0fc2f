//! The netlink writer: batches of ops in, one outcome per op out. Routes
//! ([`FibOp`] -> [`FibOutcome`]) are its main job; any other rtnetlink
//! request that is a plain "do this, ack it" (the bridge FDB and neighbor
//! entries of [`crate::vtep::program`]) goes through the same machinery by
//! implementing [`NlOp`].
//!
//! Owns one `NETLINK_ROUTE` socket (RFC 3549; rtnetlink(7)) and everything
//! about pushing routes through it fast:
//!
//! - many `RTM_NEWROUTE` (`NLM_F_REQUEST|ACK|CREATE|REPLACE`) and
//!   `RTM_DELROUTE` (`NLM_F_REQUEST|ACK`) messages are packed into one
//!   `sendto` ([`WriterConfig::per_send`]);
//! - every message has its own sequence number and asks for an ack; acks
//!   (`NLMSG_ERROR`, code 0 or `-errno`, capped by `NETLINK_CAP_ACK`, with
//!   the `NETLINK_EXT_ACK` text logged) are matched back by sequence number,
//!   so one failing route never stalls the others;
//! - at most [`WriterConfig::max_in_flight`] requests form a *window*; the
//!   window's outcomes go back as one `Vec`, in op order, when every request
//!   in it is answered;
//! - ops run strictly in submission order (the kernel processes a socket's
//!   messages in order, and windows do not overlap);
//! - with [`WriterConfig::report_success`] off (zebrad's setting), requests
//!   go without `NLM_F_ACK`: the kernel then answers only failures, and
//!   since it handles a `sendto` before returning, every request of a send
//!   with no error report queued after it has succeeded. That spares the
//!   kernel a million acks on a full table (about 1.4x faster); re-sent
//!   requests always ask for an ack.
//!
//! Lost acks. rtnetlink handles a request synchronously inside `sendto`, so
//! when `sendto` returns, every ack of that send is either queued on our
//! socket or was dropped because the receive buffer was full (the next
//! `recv` then fails with `ENOBUFS`; without acks, a lost error report is
//! detected the same way, and the requests of that window are re-sent with
//! an ack). The buffer is raised to 64 MiB and
//! drained after every send, so this should not happen; if it does, the
//! requests of the window still unanswered once the socket is drained are
//! **re-sent**, in their original order, before anything else: a replace is
//! idempotent, and a re-sent delete that finds nothing (`ESRCH`) counts as
//! done. A lost op that a later op of the same window on the same route
//! (prefix, table, metric) already overwrote is not re-sent (that would undo
//! the later op); it is reported as done. After [`MAX_RETRIES`] re-sends an
//! op is reported with `ENOBUFS`. Each overrun also halves the number of
//! messages per send.
//!
//! Outcomes never block the writer: batches the outcome channel cannot take
//! yet are kept (in order) and handed over as soon as it has room, so a
//! caller that awaits [`FibWriter::submit`] from the same loop that reads
//! outcomes cannot deadlock with it. Backpressure on `submit` comes only
//! from the kernel's speed. `submit` is not cancel-safe: a batch whose
//! `submit` future is dropped before it completes is not sent.
//!
//! Never: decides what to install, reorders ops, or sends anything that the
//! caller did not give it (the caller only gives it zebrad's own routes).
//! Bulk deletes should not be submitted in ascending prefix order (the
//! kernel's trie makes that quadratic, see KERNEL-NOTES.md); the writer
//! keeps whatever order it is given.

use std::collections::{HashMap, VecDeque};
use std::fmt::Debug;
use std::hash::Hash;
use std::io;
use std::time::Duration;

use netlink_packet_core::{NLMSG_ERROR, NLM_F_ACK, NLM_F_CREATE, NLM_F_REPLACE, NLM_F_REQUEST};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{AsyncSocket, AsyncSocketExt, TokioSocket};
use thiserror::Error;
use tokio::sync::mpsc;
use tracing::{debug, info, trace, warn};

use super::msg::{delete_message, replace_message};
use super::{nhobj, nl};
use super::{FibOp, FibOutcome, FibTarget};

/// How many times a request whose ack was lost is re-sent.
pub const MAX_RETRIES: u8 = 3;

/// Undelivered outcome batches above which the writer logs a warning (the
/// outcome reader is falling behind).
const OUT_WARN: usize = 1024;

/// How long to wait for an ack that is not already queued when the socket
/// has been drained. Acks are produced inside `sendto`, so this is only a
/// safety net.
const ACK_WAIT: Duration = Duration::from_millis(200);

/// Bytes after which a send buffer is flushed even if `per_send` messages
/// are not reached (well under the default `wmem` limit of a netlink send).
const MAX_SEND_BYTES: usize = 64 * 1024;

/// Tuning of the writer. [`Default`] is what zebrad uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterConfig {
    /// Messages packed into one `sendto`.
    pub per_send: usize,
    /// Requests per window (sent, not yet all answered).
    pub max_in_flight: usize,
    /// Submitted batches that may wait in the channel (backpressure beyond).
    pub queue_batches: usize,
    /// Receive buffer asked for (`SO_RCVBUFFORCE`).
    pub rcvbuf: usize,
    /// Report ops the kernel accepted too (one outcome per op); when false
    /// only failures come back, which spares a million outcomes on a full
    /// table.
    pub report_success: bool,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            per_send: 128,
            max_in_flight: 4096,
            queue_batches: 16,
            rcvbuf: 64 << 20,
            report_success: true,
        }
    }
}

/// One request the writer can carry: how it goes on the wire and what its
/// answer becomes.
pub trait NlOp: Debug + Clone + Send + 'static {
    /// Identity of the kernel object it changes ("did a later op of the
    /// window overwrite this one").
    type Key: Hash + Eq;
    /// What goes back to the caller for one op.
    type Outcome: Debug + Send + 'static;
    /// Appends the request to `out` with `flags` (`NLM_F_REQUEST`, maybe
    /// `NLM_F_ACK`) plus its own.
    fn encode(&self, flags: u16, seq: u32, out: &mut Vec<u8>);
    fn key(&self) -> Self::Key;
    /// A delete: when re-sent after a lost ack, "not found" means done.
    fn is_delete(&self) -> bool;
    fn outcome(&self, error: Option<i32>) -> Self::Outcome;
}

impl NlOp for FibOp {
    type Key = FibTarget;
    type Outcome = FibOutcome;

    fn encode(&self, flags: u16, seq: u32, out: &mut Vec<u8>) {
        match self {
            FibOp::Replace(r) => nl::encode(
                RouteNetlinkMessage::NewRoute(replace_message(r)),
                flags | NLM_F_CREATE | NLM_F_REPLACE,
                seq,
                out,
            ),
            FibOp::Delete {
                prefix,
                table,
                protocol,
                priority,
            } => nl::encode(
                RouteNetlinkMessage::DelRoute(delete_message(prefix, *table, *protocol, *priority)),
                flags,
                seq,
                out,
            ),
            FibOp::Nexthop(o) => {
                nhobj::encode_new(o, flags | NLM_F_CREATE | NLM_F_REPLACE, seq, out)
            }
            FibOp::DeleteNexthop { id } => nhobj::encode_del(*id, flags, seq, out),
        }
    }

    fn key(&self) -> FibTarget {
        self.target()
    }

    fn is_delete(&self) -> bool {
        !self.is_replace()
    }

    fn outcome(&self, error: Option<i32>) -> FibOutcome {
        FibOutcome::of(self, error)
    }
}

/// The writer task stopped (its socket failed or the runtime shut down).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("the FIB writer task has stopped")]
pub struct FibClosed;

/// Handle to a writer task. Cloneable; the task ends when every handle is
/// dropped and the queued ops are done.
#[derive(Debug)]
pub struct NlWriter<O: NlOp> {
    tx: mpsc::Sender<Vec<O>>,
}

impl<O: NlOp> Clone for NlWriter<O> {
    fn clone(&self) -> Self {
        NlWriter {
            tx: self.tx.clone(),
        }
    }
}

/// The route writer.
pub type FibWriter = NlWriter<FibOp>;

impl<O: NlOp> NlWriter<O> {
    /// Queues a batch; waits while [`WriterConfig::queue_batches`] batches
    /// are already waiting (backpressure).
    pub async fn submit(&self, ops: Vec<O>) -> Result<(), FibClosed> {
        if ops.is_empty() {
            return Ok(());
        }
        self.tx.send(ops).await.map_err(|_| FibClosed)
    }
}

/// Spawns the route writer task on the current tokio runtime, with the
/// default [`WriterConfig`]. Its socket is opened here, in the calling
/// thread's network namespace.
pub fn spawn_writer(outcomes: mpsc::Sender<Vec<FibOutcome>>) -> io::Result<FibWriter> {
    spawn_writer_with(WriterConfig::default(), outcomes)
}

/// [`spawn_writer`] with explicit tuning.
pub fn spawn_writer_with(
    cfg: WriterConfig,
    outcomes: mpsc::Sender<Vec<FibOutcome>>,
) -> io::Result<FibWriter> {
    spawn_nl_writer(cfg, outcomes)
}

/// A writer task for any [`NlOp`], with its own socket opened here, in the
/// calling thread's network namespace.
pub fn spawn_nl_writer<O: NlOp>(
    cfg: WriterConfig,
    outcomes: mpsc::Sender<Vec<O::Outcome>>,
) -> io::Result<NlWriter<O>> {
    let sock = nl::open_socket()?;
    let got = nl::raise_rcvbuf(&sock, cfg.rcvbuf);
    // An ack costs about 1 KiB of receive buffer (skb overhead included);
    // a send's worth of acks must always fit, twice over.
    let per_send = cfg.per_send.clamp(1, (got / 2048).max(1));
    if per_send < cfg.per_send {
        warn!(
            rcvbuf = got,
            per_send, "small netlink receive buffer, fewer messages per send"
        );
    }
    let max_in_flight = cfg.max_in_flight.max(per_send);
    info!(rcvbuf = got, per_send, max_in_flight, "FIB writer started");
    let (tx, rx) = mpsc::channel(cfg.queue_batches.max(1));
    let w = Writer {
        sock,
        per_send,
        max_in_flight,
        report_success: cfg.report_success,
        seq: 1,
        queue: VecDeque::new(),
        out: VecDeque::new(),
        outcomes,
        outcomes_open: true,
        sbuf: Vec::with_capacity(MAX_SEND_BYTES + 4096),
        rbuf: Vec::with_capacity(nl::RECV_BUF),
    };
    tokio::spawn(w.run(rx));
    Ok(NlWriter { tx })
}

/// Why the idle writer woke up.
enum Woke<O> {
    Delivered,
    OutcomesGone,
    Input(Option<Vec<O>>),
}

/// An op waiting to be sent.
#[derive(Debug)]
struct Pending<O> {
    op: O,
    retries: u8,
}

/// What became of a request of the current window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Sent, no ack yet.
    Waiting,
    /// Answered: `None` = success, else errno.
    Done(Option<i32>),
    /// Ack lost, re-queued: its outcome comes with a later window.
    Resent,
}

#[derive(Debug)]
struct Slot<O> {
    op: O,
    retries: u8,
    state: State,
    /// Sent with NLM_F_ACK. Without it the kernel answers only failures;
    /// since it handles a `sendto` before returning, every request of a
    /// send without an error report after it has succeeded.
    ack: bool,
}

struct Writer<O: NlOp> {
    sock: TokioSocket,
    per_send: usize,
    max_in_flight: usize,
    report_success: bool,
    /// Sequence number of the next request.
    seq: u32,
    queue: VecDeque<Pending<O>>,
    /// Outcome batches not yet accepted by the channel.
    out: VecDeque<Vec<O::Outcome>>,
    outcomes: mpsc::Sender<Vec<O::Outcome>>,
    outcomes_open: bool,
    sbuf: Vec<u8>,
    rbuf: Vec<u8>,
}

impl<O: NlOp> Writer<O> {
    async fn run(mut self, mut rx: mpsc::Receiver<Vec<O>>) {
        let mut input_open = true;
        loop {
            if self.queue.is_empty() {
                if !input_open {
                    break;
                }
                if self.out.is_empty() {
                    match rx.recv().await {
                        Some(ops) => self.enqueue(ops),
                        None => input_open = false,
                    }
                } else {
                    // Wait for input or for room in the outcome channel.
                    let woke = tokio::select! {
                        biased;
                        permit = self.outcomes.reserve() => match permit {
                            Ok(p) => {
                                if let Some(v) = self.out.pop_front() {
                                    p.send(v);
                                }
                                Woke::Delivered
                            }
                            Err(_) => Woke::OutcomesGone,
                        },
                        ops = rx.recv() => Woke::Input(ops),
                    };
                    match woke {
                        Woke::Delivered => {}
                        Woke::OutcomesGone => self.outcomes_gone(),
                        Woke::Input(Some(ops)) => self.enqueue(ops),
                        Woke::Input(None) => input_open = false,
                    }
                }
                continue;
            }
            // Fill the window from batches already waiting, without blocking.
            while input_open && self.queue.len() < self.max_in_flight {
                match rx.try_recv() {
                    Ok(ops) => self.enqueue(ops),
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => input_open = false,
                }
            }
            let outcomes = self.window().await;
            if !outcomes.is_empty() {
                self.out.push_back(outcomes);
            }
            self.try_flush_outcomes();
            if self.out.len() == OUT_WARN {
                warn!(batches = OUT_WARN, "FIB outcome reader is falling behind");
            }
        }
        self.flush_outcomes().await;
        debug!("FIB writer stopped: no more handles");
    }

    fn enqueue(&mut self, ops: Vec<O>) {
        self.queue
            .extend(ops.into_iter().map(|op| Pending { op, retries: 0 }));
    }

    fn outcomes_gone(&mut self) {
        if self.outcomes_open {
            warn!("FIB outcome receiver dropped; outcomes are discarded from now on");
        }
        self.outcomes_open = false;
        self.out.clear();
    }

    /// Hands outcome batches to the channel while it has room, never waiting.
    fn try_flush_outcomes(&mut self) {
        while let Some(v) = self.out.pop_front() {
            match self.outcomes.try_send(v) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(v)) => {
                    self.out.push_front(v);
                    return;
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    self.outcomes_gone();
                    return;
                }
            }
        }
    }

    /// Hands every pending outcome batch to the channel, waiting for room.
    async fn flush_outcomes(&mut self) {
        while let Some(v) = self.out.pop_front() {
            if self.outcomes.send(v).await.is_err() {
                self.outcomes_gone();
                return;
            }
        }
    }

    /// Sends up to `max_in_flight` queued ops, collects every ack, re-queues
    /// the ones whose ack was lost, and returns the outcomes of the rest.
    async fn window(&mut self) -> Vec<O::Outcome> {
        let n = self.queue.len().min(self.max_in_flight);
        let base = self.seq;
        self.seq = self.seq.wrapping_add(n as u32);
        let mut slots: Vec<Slot<O>> = self
            .queue
            .drain(..n)
            .map(|p| Slot {
                op: p.op,
                // Re-sent requests always ask for an ack: their first
                // answer may have been lost.
                ack: self.report_success || p.retries > 0,
                retries: p.retries,
                state: State::Waiting,
            })
            .collect();
        let mut waiting = n;
        let mut overrun = false;

        let mut start = 0;
        self.sbuf.clear();
        for i in 0..n {
            let seq = base.wrapping_add(i as u32);
            let ack = if slots[i].ack { NLM_F_ACK } else { 0 };
            slots[i].op.encode(NLM_F_REQUEST | ack, seq, &mut self.sbuf);
            let full = i + 1 - start >= self.per_send || self.sbuf.len() >= MAX_SEND_BYTES;
            if full || i + 1 == n {
                if let Err(e) = self.send_buf().await {
                    let errno = e.raw_os_error().unwrap_or(libc::EIO);
                    warn!(error = %e, count = i + 1 - start, "netlink sendto failed");
                    for s in &mut slots[start..=i] {
                        if s.state == State::Waiting {
                            s.state = State::Done(Some(errno));
                            waiting -= 1;
                        }
                    }
                }
                self.sbuf.clear();
                start = i + 1;
                // Acks of that send are queued already: take them now so the
                // receive buffer never holds more than one send's worth.
                waiting -= self.drain(base, &mut slots, &mut overrun);
            }
        }

        // Requests sent without an ack and with no error reported have
        // succeeded, unless error reports may have been lost (an overrun):
        // then they stay waiting and are re-sent with an ack below.
        if !overrun {
            for s in slots
                .iter_mut()
                .filter(|s| !s.ack && s.state == State::Waiting)
            {
                s.state = State::Done(None);
                waiting -= 1;
            }
        }
        while waiting > 0 {
            let got = self.drain(base, &mut slots, &mut overrun);
            waiting -= got;
            if waiting == 0 || got > 0 {
                continue;
            }
            // Nothing queued: wait briefly for a straggler, else they are lost.
            self.rbuf.clear();
            match tokio::time::timeout(ACK_WAIT, self.sock.recv(&mut self.rbuf)).await {
                Ok(Ok(())) => waiting -= self.handle(base, &mut slots),
                Ok(Err(e)) if e.raw_os_error() == Some(libc::ENOBUFS) => overrun = true,
                Ok(Err(e)) => {
                    warn!(error = %e, "netlink recv failed");
                    break;
                }
                Err(_) => break,
            }
        }
        if overrun && self.per_send > 1 {
            // The acks of one send did not fit: send fewer at a time.
            self.per_send /= 2;
            warn!(
                per_send = self.per_send,
                "fewer messages per send after an overrun"
            );
        }
        if waiting > 0 {
            self.requeue_lost(&mut slots, overrun);
        }
        slots
            .iter()
            .filter_map(|s| match s.state {
                State::Done(err) if err.is_some() || self.report_success => Some(s.op.outcome(err)),
                State::Done(_) | State::Resent | State::Waiting => None,
            })
            .collect()
    }

    async fn send_buf(&mut self) -> io::Result<()> {
        match self.sock.socket_ref().send(&self.sbuf, 0) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.sock.send(&self.sbuf).await.map(|_| ())
            }
            Err(e) => Err(e),
        }
    }

    /// Reads every queued ack without blocking; returns how many requests of
    /// the window it answered. Notes an overrun (`ENOBUFS`) in `overrun`.
    fn drain(&mut self, base: u32, slots: &mut [Slot<O>], overrun: &mut bool) -> usize {
        let mut answered = 0;
        loop {
            self.rbuf.clear();
            match self.sock.socket_ref().recv(&mut self.rbuf, 0) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return answered,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    warn!("netlink receive buffer overrun: acks were lost");
                    *overrun = true;
                    continue;
                }
                Err(e) => {
                    warn!(error = %e, "netlink recv failed");
                    return answered;
                }
            }
            answered += self.handle(base, slots);
        }
    }

    /// Matches the acks in `rbuf` to the window's requests; returns how many
    /// requests they answered.
    fn handle(&mut self, base: u32, slots: &mut [Slot<O>]) -> usize {
        let mut answered = 0;
        for m in nl::split(&self.rbuf) {
            let h = nl::head(m);
            if h.kind != NLMSG_ERROR {
                trace!(kind = h.kind, "unexpected message on the FIB writer socket");
                continue;
            }
            let idx = h.seq.wrapping_sub(base) as usize;
            let Some(slot) = slots.get_mut(idx) else {
                debug!(seq = h.seq, "ack for a request not in this window");
                continue;
            };
            if slot.state != State::Waiting {
                continue;
            }
            let (errno, text) = nl::ack(m);
            let error = match errno {
                0 => None,
                // A re-sent delete that finds nothing: the first one worked
                // and only its ack was lost.
                libc::ESRCH | libc::ENOENT if slot.retries > 0 && slot.op.is_delete() => None,
                e => {
                    debug!(op = ?slot.op, errno = e, text, "kernel refused op");
                    Some(e)
                }
            };
            slot.state = State::Done(error);
            answered += 1;
        }
        answered
    }

    /// Re-queues (at the head, in order) the requests whose ack never came.
    fn requeue_lost(&mut self, slots: &mut [Slot<O>], overrun: bool) {
        // Last answered position of every route in this window.
        let mut answered: HashMap<O::Key, usize> = HashMap::new();
        for (i, s) in slots.iter().enumerate() {
            if matches!(s.state, State::Done(_)) {
                answered.insert(s.op.key(), i);
            }
        }
        let mut resend = Vec::new();
        let mut superseded = 0usize;
        let mut given_up = 0usize;
        for (i, s) in slots.iter_mut().enumerate() {
            if s.state != State::Waiting {
                continue;
            }
            if answered.get(&s.op.key()).is_some_and(|&j| j > i) {
                s.state = State::Done(None);
                superseded += 1;
            } else if s.retries >= MAX_RETRIES {
                s.state = State::Done(Some(libc::ENOBUFS));
                given_up += 1;
            } else {
                s.state = State::Resent;
                resend.push(Pending {
                    op: s.op.clone(),
                    retries: s.retries + 1,
                });
            }
        }
        warn!(
            overrun,
            resent = resend.len(),
            superseded,
            given_up,
            "FIB acks missing; re-sending those requests"
        );
        for p in resend.into_iter().rev() {
            self.queue.push_front(p);
        }
    }
}

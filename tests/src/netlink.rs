//! Counting a namespace's kernel routes over netlink, cheaply enough to use
//! while a million routes go in: [`RouteCounter`] dumps one table (a
//! strict-checked dump the kernel filters, only message headers read);
//! [`RouteWatcher`] follows the route notifications of one table (or the
//! FDB notifications of one VXLAN device) and notes when a target count is
//! reached, without dumping at all: a dump holds the RTNL lock for the
//! whole table, and an FDB dump restarts its walk on every continuation
//! (quadratic in the table size), stalling the writer being measured.

use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NLM_F_DUMP, NLM_F_REQUEST};
use netlink_packet_route::neighbour::NeighbourMessage;
use netlink_packet_route::route::{RouteAttribute, RouteHeader, RouteMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket};
use nix::sched::{setns, CloneFlags};

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
pub const RTM_NEWROUTE: u16 = 24;
pub const RTM_DELROUTE: u16 = 25;
const NLMSG_HDRLEN: usize = 16;
pub const RTNLGRP_IPV4_ROUTE: u32 = 7;
pub const RTNLGRP_IPV6_ROUTE: u32 = 11;
pub const RTNLGRP_NEIGH: u32 = 3;
const RTM_NEWNEIGH: u16 = 28;
const RTM_DELNEIGH: u16 = 29;
const NTF_SELF: u8 = 0x02;
const NTF_EXT_LEARNED: u8 = 0x10;

/// Run `f` on a short-lived thread inside namespace `ns` (a name under
/// `/var/run/netns`); sockets it opens stay in that namespace.
pub fn in_namespace<T: Send + 'static>(
    ns: &str,
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    let path = format!("/var/run/netns/{ns}");
    std::thread::spawn(move || -> io::Result<T> {
        let file = File::open(&path)?;
        setns(&file, CloneFlags::CLONE_NEWNET).map_err(io::Error::from)?;
        f()
    })
    .join()
    .map_err(|_| io::Error::other("namespace thread panicked"))?
}

/// The netlink messages in `data`: (type, whole message).
fn messages(data: &[u8]) -> impl Iterator<Item = io::Result<(u16, &[u8])>> {
    let mut off = 0;
    std::iter::from_fn(move || {
        if off + NLMSG_HDRLEN > data.len() {
            return None;
        }
        let h = &data[off..];
        let mlen = u32::from_ne_bytes([h[0], h[1], h[2], h[3]]) as usize;
        if mlen < NLMSG_HDRLEN || off + mlen > data.len() {
            off = data.len();
            return Some(Err(io::Error::other("truncated netlink message")));
        }
        let mtype = u16::from_ne_bytes([h[4], h[5]]);
        off += (mlen + 3) & !3;
        Some(Ok((mtype, &h[..mlen])))
    })
}

/// A netlink route socket inside one namespace that counts routes.
pub struct RouteCounter {
    sock: Socket,
    buf: Vec<u8>,
    seq: u32,
}

impl RouteCounter {
    /// A counter for namespace `ns` (a name under `/var/run/netns`). The
    /// socket is opened by a short-lived thread that enters the namespace,
    /// so the calling thread stays where it is.
    pub fn in_namespace(ns: &str) -> io::Result<RouteCounter> {
        let sock = in_namespace(ns, Self::open_socket)?;
        Ok(RouteCounter {
            sock,
            buf: Vec::with_capacity(1 << 20),
            seq: 0,
        })
    }

    /// A counter for the calling thread's current namespace.
    pub fn here() -> io::Result<RouteCounter> {
        Ok(RouteCounter {
            sock: Self::open_socket()?,
            buf: Vec::with_capacity(1 << 20),
            seq: 0,
        })
    }

    fn open_socket() -> io::Result<Socket> {
        let mut s = Socket::new(NETLINK_ROUTE)?;
        s.bind_auto()?;
        // Lets the kernel filter the dump by table instead of sending all.
        s.set_netlink_get_strict_chk(true)?;
        Ok(s)
    }

    /// How many routes of one family are in kernel table `table` (0 for an
    /// absent table).
    pub fn count(&mut self, table: u32, v6: bool) -> io::Result<usize> {
        // ENOENT: "FIB table does not exist".
        self.dump_count(route_dump(table, v6), |t, _| t == RTM_NEWROUTE)
    }

    /// How many routes of kernel protocol `protocol` (186 bgp, 188 ospf...)
    /// table `table` holds.
    pub fn count_proto(&mut self, table: u32, v6: bool, protocol: u8) -> io::Result<usize> {
        // struct rtmsg after the header: protocol at +5.
        self.dump_count(route_dump(table, v6), |t, m| {
            t == RTM_NEWROUTE && m.get(21) == Some(&protocol)
        })
    }

    /// How many externally learned entries (`extern_learn`, what a control
    /// plane such as zebrad installs) the FDB of device `ifindex` holds in
    /// its own table (`self`), flood entries not counted.
    pub fn count_fdb(&mut self, ifindex: u32) -> io::Result<usize> {
        let mut nm = NeighbourMessage::default();
        nm.header.family = AddressFamily::Bridge;
        nm.header.ifindex = ifindex;
        self.dump_count(RouteNetlinkMessage::GetNeighbour(nm), |t, m| {
            t == RTM_NEWNEIGH && ext_learned_fdb_of(m, ifindex)
        })
    }

    /// Runs a dump and counts the messages `keep` accepts (0 when the
    /// kernel answers ENOENT).
    fn dump_count(
        &mut self,
        req: RouteNetlinkMessage,
        keep: impl Fn(u16, &[u8]) -> bool,
    ) -> io::Result<usize> {
        self.seq = self.seq.wrapping_add(1);
        let mut hdr = NetlinkHeader::default();
        hdr.flags = NLM_F_REQUEST | NLM_F_DUMP;
        hdr.sequence_number = self.seq;
        let mut msg = NetlinkMessage::new(hdr, req.into());
        msg.finalize();
        let mut req = vec![0u8; msg.buffer_len()];
        msg.serialize(&mut req);
        self.sock.send(&req, 0)?;

        let mut n = 0usize;
        loop {
            self.buf.clear();
            let len = self.sock.recv(&mut self.buf, 0)?;
            let data = &self.buf[..len.min(self.buf.len())];
            for m in messages(data) {
                let (mtype, h) = m?;
                let seq = u32::from_ne_bytes([h[8], h[9], h[10], h[11]]);
                if seq == self.seq {
                    match mtype {
                        NLMSG_DONE => return Ok(n),
                        NLMSG_ERROR if h.len() >= NLMSG_HDRLEN + 4 => {
                            let e = i32::from_ne_bytes([h[16], h[17], h[18], h[19]]);
                            if e == 0 {
                                return Ok(n);
                            }
                            if -e == libc::ENOENT {
                                return Ok(0);
                            }
                            return Err(io::Error::from_raw_os_error(-e));
                        }
                        t if keep(t, h) => n += 1,
                        _ => {}
                    }
                }
            }
        }
    }
}

/// A strict-checked dump request for one table of one family.
fn route_dump(table: u32, v6: bool) -> RouteNetlinkMessage {
    let mut rm = RouteMessage::default();
    rm.header.address_family = if v6 {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    rm.header.table = u8::try_from(table).unwrap_or(RouteHeader::RT_TABLE_UNSPEC);
    rm.attributes.push(RouteAttribute::Table(table));
    RouteNetlinkMessage::GetRoute(rm)
}

/// Whether the neighbor message `m` (header included) is an `extern_learn`
/// `self` FDB entry of device `ifindex`.
fn ext_learned_fdb_of(m: &[u8], ifindex: u32) -> bool {
    // struct ndmsg after the 16-byte header: family, pads, ifindex,
    // state, flags (offset 10), type.
    let family = m.get(16).copied();
    let ifx = m
        .get(20..24)
        .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
    let flags = m.get(26).copied().unwrap_or(0);
    family == Some(libc::AF_BRIDGE as u8)
        && ifx == Some(ifindex)
        && flags & (NTF_SELF | NTF_EXT_LEARNED) == NTF_SELF | NTF_EXT_LEARNED
}

#[derive(Default)]
struct WatchState {
    count: AtomicI64,
    overflowed: AtomicBool,
    stop: AtomicBool,
    reached_at: Mutex<Option<Instant>>,
}

/// Follows the kernel's route notifications for one table of one family in
/// a namespace: a running count of adds minus deletes, and the moment it
/// first reached a target. A notification for a replaced route counts again,
/// and a receive-buffer overrun loses some (see [`RouteWatcher::overflowed`]),
/// so confirm the end with a [`RouteCounter`] dump.
pub struct RouteWatcher {
    state: Arc<WatchState>,
    thread: Option<JoinHandle<()>>,
}

impl RouteWatcher {
    /// Subscribe (before returning) and start following the routes of
    /// `table` (every table when it is 256 or more).
    pub fn start(ns: &str, table: u32, v6: bool, target: i64) -> io::Result<RouteWatcher> {
        let group = if v6 {
            RTNLGRP_IPV6_ROUTE
        } else {
            RTNLGRP_IPV4_ROUTE
        };
        let family = if v6 { libc::AF_INET6 } else { libc::AF_INET } as u8;
        Self::follow(ns, group, target, move |mtype, h| {
            // struct rtmsg follows the header: family, .., table at +4.
            if h.len() < NLMSG_HDRLEN + 12 || h[16] != family {
                return 0;
            }
            let t = u32::from(h[20]);
            if table < 256 && t != table {
                return 0;
            }
            match mtype {
                RTM_NEWROUTE => 1,
                RTM_DELROUTE => -1,
                _ => 0,
            }
        })
    }

    /// Subscribe (before returning) and start following the `extern_learn`
    /// FDB entries of VXLAN device `ifindex` (a replaced entry counts
    /// again, so use it for entries that are all new).
    pub fn start_fdb(ns: &str, ifindex: u32, target: i64) -> io::Result<RouteWatcher> {
        Self::follow(ns, RTNLGRP_NEIGH, target, move |mtype, h| {
            if !ext_learned_fdb_of(h, ifindex) {
                return 0;
            }
            match mtype {
                RTM_NEWNEIGH => 1,
                RTM_DELNEIGH => -1,
                _ => 0,
            }
        })
    }

    /// Follows multicast group `group`; `delta` says what each message
    /// (type, bytes with header) adds to the count.
    pub fn follow(
        ns: &str,
        group: u32,
        target: i64,
        delta: impl Fn(u16, &[u8]) -> i64 + Send + 'static,
    ) -> io::Result<RouteWatcher> {
        let sock = in_namespace(ns, move || {
            let mut s = Socket::new(NETLINK_ROUTE)?;
            s.bind_auto()?;
            s.add_membership(group)?;
            use nix::sys::socket::{setsockopt, sockopt};
            // Room for a burst of a million notifications (as root).
            setsockopt(&s, sockopt::RcvBufForce, &(256 << 20)).map_err(io::Error::from)?;
            let tv = nix::sys::time::TimeVal::new(0, 100_000);
            setsockopt(&s, sockopt::ReceiveTimeout, &tv).map_err(io::Error::from)?;
            Ok(s)
        })?;
        let state = Arc::new(WatchState::default());
        let st = state.clone();
        let thread = std::thread::spawn(move || {
            let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
            while !st.stop.load(Ordering::Relaxed) {
                buf.clear();
                let len = match sock.recv(&mut buf, 0) {
                    Ok(n) => n,
                    Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                        st.overflowed.store(true, Ordering::Relaxed);
                        continue;
                    }
                    Err(_) => continue, // timeout: look at `stop` again
                };
                for (mtype, h) in messages(&buf[..len.min(buf.len())]).flatten() {
                    let delta = delta(mtype, h);
                    if delta == 0 {
                        continue;
                    }
                    let now = st.count.fetch_add(delta, Ordering::Relaxed) + delta;
                    if now >= target {
                        let mut r = st.reached_at.lock().unwrap_or_else(|e| e.into_inner());
                        r.get_or_insert_with(Instant::now);
                    }
                }
            }
        });
        Ok(RouteWatcher {
            state,
            thread: Some(thread),
        })
    }

    /// Adds minus deletes seen so far.
    pub fn count(&self) -> i64 {
        self.state.count.load(Ordering::Relaxed)
    }

    /// When the count first reached the target.
    pub fn reached_at(&self) -> Option<Instant> {
        *self
            .state
            .reached_at
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Whether notifications were lost (the count is then a lower bound).
    pub fn overflowed(&self) -> bool {
        self.state.overflowed.load(Ordering::Relaxed)
    }

    /// Stop following (waits for the thread, at most one receive timeout).
    pub fn stop(&mut self) {
        self.state.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for RouteWatcher {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Poll `counter` every `every` until table `table` holds at least `target`
/// routes or `timeout` passes; the last count and when it was read.
pub fn wait_count(
    counter: &mut RouteCounter,
    table: u32,
    v6: bool,
    target: usize,
    every: Duration,
    timeout: Duration,
) -> io::Result<(usize, Instant)> {
    let deadline = Instant::now() + timeout;
    loop {
        let n = counter.count(table, v6)?;
        let at = Instant::now();
        if n >= target || at >= deadline {
            return Ok((n, at));
        }
        std::thread::sleep(every);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_in_own_namespace() {
        if !crate::is_root() {
            return;
        }
        // Table 255 (local) always has routes for 127.0.0.0/8 in any
        // namespace, including this one; reading it changes nothing.
        let mut c = RouteCounter::here().unwrap();
        assert!(c.count(255, false).unwrap() >= 1);
        assert_eq!(c.count(4_000_000_000, false).unwrap(), 0);
    }
}

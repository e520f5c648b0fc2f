//! Benchmark of OSPF convergence on a ring: how long after a ring link goes
//! down (and comes back up) every router's kernel holds the new shortest
//! paths to every other router's loopback.
//!
//! Topology (all made by the test bed, in throwaway namespaces): routers
//! `r0`..`r{n-1}` (default 10) in a ring, each running our zebrad + ospfd.
//! Link k joins `r<k>`'s `cw` to `r<k+1>`'s `ccw` (a veth pair), a
//! point-to-point /30 (even links from 192.0.2.0/24, odd ones from
//! 198.51.100.0/24; `r<k>` holds .1, `r<k+1>` .2 of the /30). Router i has
//! 203.0.113.<i+1>/32 on `lo` (its router ID too), advertised as a stub
//! network (passive). Hello 1 s, dead 4 s (as the topology tests), the
//! default SPF throttle (delay 0, initial hold 50 ms, max hold 5 s).
//!
//! Measurement: each route change in each namespace's main table is
//! followed through the kernel's route notifications (one subscribed
//! netlink socket per router, read by its own thread), so the state of every
//! router's protocol-188 routes to the loopbacks is known within the
//! wake-up latency of a thread, without polling. For every trial, link
//! `t mod n` is set down on `r<k>`'s side through rtnetlink (the veth peer
//! loses carrier); the clock runs from just before that request until the
//! moment every router's routes to the other loopbacks equal the shortest
//! paths of the ring without that link (gateways computed from the
//! topology, equal-cost pairs included), and that state then holds for
//! `--settle` seconds. The link is then set up again and timed the same way
//! until the original paths are back. Each converged state is confirmed
//! with an `ip -j route` dump of all routers.
//!
//! ```text
//! cargo build --release -p zebrad -p ospfd -p topotests
//! sudo ROUTING_BIN_DIR=target/release target/release/bench_ospf_ring --trials 10 --json ring.json
//! ```

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::Parser;
use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_route::link::{LinkFlags, LinkMessage};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage, RouteProtocol};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket};
use topotests::netlink::in_namespace;
use topotests::{bin, Lab, Node, Proc};

const NLMSG_HDRLEN: usize = 16;
const NLMSG_ERROR: u16 = 2;
const RTNLGRP_IPV4_ROUTE: u32 = 7;
/// The convergence target of issue 4.
const TARGET_MS: f64 = 300.0;

#[derive(Parser, Debug)]
#[command(about = "Benchmark OSPF convergence (zebrad + ospfd) on a ring of routers")]
struct Args {
    /// How many times a ring link goes down and up again.
    #[arg(long, default_value_t = 10)]
    trials: usize,
    /// Routers in the ring (3..=128).
    #[arg(long, default_value_t = 10)]
    routers: usize,
    /// Take down always this link (0..routers) instead of link `trial mod n`.
    #[arg(long)]
    link: Option<usize>,
    /// OSPF Hello interval, seconds.
    #[arg(long, default_value_t = 1)]
    hello: u32,
    /// OSPF router dead interval, seconds.
    #[arg(long, default_value_t = 4)]
    dead: u32,
    /// A converged state must hold this long (seconds) to count; also the
    /// pause between phases. Keep it above MinLSInterval (5 s): a router
    /// originates its router-LSA at most once per 5 s, so a shorter pause
    /// measures that throttle instead of the failure (a flap).
    #[arg(long, default_value_t = 6.0)]
    settle: f64,
    /// Upper bound of each wait (initial convergence, each phase), seconds.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// The zebrad binary (default: found like the topology tests do).
    #[arg(long)]
    zebrad: Option<PathBuf>,
    /// The ospfd binary (default: found like the topology tests do).
    #[arg(long)]
    ospfd: Option<PathBuf>,
}

/// Per router: loopback -> sorted gateways of its protocol-188 route.
type Table = BTreeMap<Ipv4Addr, Vec<Ipv4Addr>>;

fn loopback(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(203, 0, 113, i as u8 + 1)
}

/// The network address of ring link `k`'s /30.
fn link_base(k: usize) -> [u8; 4] {
    let host = ((k / 2) * 4) as u8;
    if k.is_multiple_of(2) {
        [192, 0, 2, host]
    } else {
        [198, 51, 100, host]
    }
}

/// Address of `r<k>` (`lower`) or `r<k+1>` on ring link `k`.
fn link_addr(k: usize, lower: bool) -> Ipv4Addr {
    let b = link_base(k);
    Ipv4Addr::new(b[0], b[1], b[2], b[3] + if lower { 1 } else { 2 })
}

/// Every router's shortest paths to the other loopbacks over the ring's
/// links, except `down` (a link number).
fn expected(n: usize, down: Option<usize>) -> Vec<Table> {
    // Neighbors of router i: (neighbor, gateway address, link).
    let nbrs = |i: usize| -> Vec<(usize, Ipv4Addr)> {
        let cw = i; // link i: r<i> -- r<i+1>, r<i> holds .1
        let ccw = (i + n - 1) % n; // link i-1: r<i-1> -- r<i>
        let mut v = Vec::new();
        if down != Some(cw) {
            v.push(((i + 1) % n, link_addr(cw, false)));
        }
        if down != Some(ccw) {
            v.push(((i + n - 1) % n, link_addr(ccw, true)));
        }
        v
    };
    // Hop counts (every link costs the same) by breadth-first search.
    let dist: Vec<Vec<usize>> = (0..n)
        .map(|s| {
            let mut d = vec![usize::MAX; n];
            d[s] = 0;
            let mut q = std::collections::VecDeque::from([s]);
            while let Some(u) = q.pop_front() {
                for (v, _) in nbrs(u) {
                    if d[v] == usize::MAX {
                        d[v] = d[u] + 1;
                        q.push_back(v);
                    }
                }
            }
            d
        })
        .collect();
    (0..n)
        .map(|s| {
            (0..n)
                .filter(|d| *d != s)
                .map(|d| {
                    let mut gws: Vec<Ipv4Addr> = nbrs(s)
                        .into_iter()
                        .filter(|(v, _)| dist[*v][d] != usize::MAX && dist[*v][d] + 1 == dist[s][d])
                        .map(|(_, g)| g)
                        .collect();
                    gws.sort();
                    (loopback(d), gws)
                })
                .collect()
        })
        .collect()
}

/// What the route watchers know, shared with the main thread.
struct WatchState {
    routes: Vec<Table>,
    expected: Vec<Table>,
    /// Per router: since when its routes equal `expected`.
    ok_since: Vec<Option<Instant>>,
    /// Since when every router's routes equal `expected`.
    all_ok: Option<Instant>,
    /// The last route change (to a loopback) anywhere, and per router.
    last_change: Option<Instant>,
    /// First loopback-route change seen since the phase began.
    first_change: Option<Instant>,
    /// How often the all-routers match was lost again during the phase.
    lost: u32,
    /// Loopback route changes seen during the phase.
    changes: u64,
    overflowed: bool,
    stop: bool,
}

impl WatchState {
    fn reevaluate(&mut self, i: usize, now: Instant) {
        let ok = self.routes[i] == self.expected[i];
        match (ok, self.ok_since[i]) {
            (true, None) => self.ok_since[i] = Some(now),
            (false, Some(_)) => self.ok_since[i] = None,
            _ => {}
        }
        let all = self.ok_since.iter().all(Option::is_some);
        match (all, self.all_ok) {
            (true, None) => self.all_ok = Some(now),
            (false, Some(_)) => {
                self.all_ok = None;
                self.lost += 1;
            }
            _ => {}
        }
    }

    /// Starts a phase that waits for `expected`.
    fn begin(&mut self, expected: Vec<Table>, now: Instant) {
        self.expected = expected;
        self.ok_since = vec![None; self.routes.len()];
        self.all_ok = None;
        self.first_change = None;
        self.lost = 0;
        self.changes = 0;
        for i in 0..self.routes.len() {
            self.reevaluate(i, now);
        }
        // A match right at the start is not a loss.
        self.lost = 0;
    }
}

/// One thread per router following its kernel's IPv4 route notifications.
struct Watchers {
    shared: Arc<(Mutex<WatchState>, Condvar)>,
    threads: Vec<JoinHandle<()>>,
}

fn lock(m: &Mutex<WatchState>) -> MutexGuard<'_, WatchState> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The netlink messages in `data`: (type, whole message).
fn messages(data: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut off = 0;
    std::iter::from_fn(move || {
        if off + NLMSG_HDRLEN > data.len() {
            return None;
        }
        let h = &data[off..];
        let mlen = u32::from_ne_bytes([h[0], h[1], h[2], h[3]]) as usize;
        if mlen < NLMSG_HDRLEN || off + mlen > data.len() {
            off = data.len();
            return None;
        }
        let mtype = u16::from_ne_bytes([h[4], h[5]]);
        off += (mlen + 3) & !3;
        Some((mtype, &h[..mlen]))
    })
}

/// A route to one of the loopbacks, from a netlink route message:
/// (loopback, sorted gateways), or None when it is not one of ours.
fn loopback_route(rm: &RouteMessage) -> Option<(Ipv4Addr, Vec<Ipv4Addr>)> {
    let h = &rm.header;
    if h.address_family != AddressFamily::Inet
        || h.destination_prefix_length != 32
        || h.protocol != RouteProtocol::Ospf
    {
        return None;
    }
    let mut table = u32::from(h.table);
    let mut dst = None;
    let mut gws = Vec::new();
    for a in &rm.attributes {
        match a {
            RouteAttribute::Table(t) => table = *t,
            RouteAttribute::Destination(RouteAddress::Inet(d)) => dst = Some(*d),
            RouteAttribute::Gateway(RouteAddress::Inet(g)) => gws.push(*g),
            RouteAttribute::MultiPath(hops) => {
                for hop in hops {
                    for ha in &hop.attributes {
                        if let RouteAttribute::Gateway(RouteAddress::Inet(g)) = ha {
                            gws.push(*g);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let dst = dst?;
    if table != 254 || dst.octets()[..3] != [203, 0, 113] {
        return None;
    }
    gws.sort();
    Some((dst, gws))
}

fn request_bytes(msg: RouteNetlinkMessage, flags: u16, seq: u32) -> Vec<u8> {
    let mut hdr = NetlinkHeader::default();
    hdr.flags = flags;
    hdr.sequence_number = seq;
    let mut m = NetlinkMessage::new(hdr, msg.into());
    m.finalize();
    let mut buf = vec![0u8; m.buffer_len()];
    m.serialize(&mut buf);
    buf
}

impl Watchers {
    fn start(nodes: &[Node]) -> Result<Watchers, String> {
        let n = nodes.len();
        let shared = Arc::new((
            Mutex::new(WatchState {
                routes: vec![Table::new(); n],
                expected: vec![Table::new(); n],
                ok_since: vec![None; n],
                all_ok: None,
                last_change: None,
                first_change: None,
                lost: 0,
                changes: 0,
                overflowed: false,
                stop: false,
            }),
            Condvar::new(),
        ));
        let mut threads = Vec::new();
        for (i, node) in nodes.iter().enumerate() {
            let sock = in_namespace(node.ns(), || {
                let mut s = Socket::new(NETLINK_ROUTE)?;
                s.bind_auto()?;
                s.add_membership(RTNLGRP_IPV4_ROUTE)?;
                use nix::sys::socket::{setsockopt, sockopt};
                setsockopt(&s, sockopt::RcvBufForce, &(8 << 20)).map_err(std::io::Error::from)?;
                let tv = nix::sys::time::TimeVal::new(0, 100_000);
                setsockopt(&s, sockopt::ReceiveTimeout, &tv).map_err(std::io::Error::from)?;
                Ok(s)
            })
            .map_err(|e| format!("route watcher for {}: {e}", node.name()))?;
            // The current table: a dump on the subscribed socket, whose
            // answers are applied like notifications.
            let mut rm = RouteMessage::default();
            rm.header.address_family = AddressFamily::Inet;
            let req = request_bytes(
                RouteNetlinkMessage::GetRoute(rm),
                NLM_F_REQUEST | NLM_F_DUMP,
                1,
            );
            sock.send(&req, 0)
                .map_err(|e| format!("route dump on {}: {e}", node.name()))?;
            let sh = shared.clone();
            threads.push(std::thread::spawn(move || watch(i, sock, sh)));
        }
        Ok(Watchers { shared, threads })
    }

    fn state(&self) -> MutexGuard<'_, WatchState> {
        lock(&self.shared.0)
    }

    fn begin(&self, expected: Vec<Table>) {
        self.state().begin(expected, Instant::now());
    }

    /// Waits (at most `timeout`) until every router matches the expected
    /// routes and nothing changed for `settle`; the moment they all
    /// matched.
    fn wait_converged(&self, settle: Duration, timeout: Duration) -> Result<Instant, String> {
        let deadline = Instant::now() + timeout;
        let (m, cv) = &*self.shared;
        let mut st = lock(m);
        loop {
            let now = Instant::now();
            if let Some(t) = st.all_ok {
                let quiet = st.last_change.map_or(t, |c| c.max(t));
                if now.duration_since(quiet) >= settle {
                    return Ok(t);
                }
            }
            if now >= deadline {
                let bad: Vec<String> = (0..st.routes.len())
                    .filter(|i| st.ok_since[*i].is_none())
                    .map(|i| {
                        let diff: Vec<String> = st.expected[i]
                            .iter()
                            .filter(|(d, g)| st.routes[i].get(*d) != Some(*g))
                            .map(|(d, g)| {
                                format!("{d}: want {g:?}, have {:?}", st.routes[i].get(d))
                            })
                            .collect();
                        format!("r{i}: {}", diff.join("; "))
                    })
                    .collect();
                return Err(format!(
                    "not converged within {timeout:?}: {}",
                    if bad.is_empty() {
                        "still changing".to_string()
                    } else {
                        bad.join(" | ")
                    }
                ));
            }
            let wake = (deadline - now).min(Duration::from_millis(100));
            st = cv
                .wait_timeout(st, wake)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

impl Drop for Watchers {
    fn drop(&mut self) {
        self.state().stop = true;
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// The watcher thread of router `i`.
fn watch(i: usize, sock: Socket, shared: Arc<(Mutex<WatchState>, Condvar)>) {
    let (m, cv) = &*shared;
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
    loop {
        buf.clear();
        let res = sock.recv(&mut buf, 0);
        let now = Instant::now();
        let mut st = lock(m);
        if st.stop {
            return;
        }
        let len = match res {
            Ok(n) => n,
            Err(e) => {
                if e.raw_os_error() == Some(libc::ENOBUFS) {
                    st.overflowed = true;
                }
                continue; // timeout: look at `stop` again
            }
        };
        let mut changed = false;
        for (_, h) in messages(&buf[..len.min(buf.len())]) {
            let Ok(msg) = NetlinkMessage::<RouteNetlinkMessage>::deserialize(h) else {
                continue;
            };
            let (add, rm) = match msg.payload {
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewRoute(rm)) => (true, rm),
                NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelRoute(rm)) => (false, rm),
                _ => continue,
            };
            let Some((dst, gws)) = loopback_route(&rm) else {
                continue;
            };
            let before = st.routes[i].get(&dst).cloned();
            if add {
                st.routes[i].insert(dst, gws);
            } else {
                st.routes[i].remove(&dst);
            }
            if st.routes[i].get(&dst) != before.as_ref() {
                changed = true;
            }
        }
        if changed {
            st.changes += 1;
            st.last_change = Some(now);
            st.first_change.get_or_insert(now);
            st.reevaluate(i, now);
            cv.notify_all();
        }
    }
}

/// An rtnetlink socket inside one node, to set links up and down.
struct LinkSetter {
    sock: Socket,
    seq: u32,
}

impl LinkSetter {
    fn new(node: &Node) -> Result<LinkSetter, String> {
        let sock = in_namespace(node.ns(), || {
            let mut s = Socket::new(NETLINK_ROUTE)?;
            s.bind_auto()?;
            let tv = nix::sys::time::TimeVal::new(5, 0);
            use nix::sys::socket::{setsockopt, sockopt};
            setsockopt(&s, sockopt::ReceiveTimeout, &tv).map_err(std::io::Error::from)?;
            Ok(s)
        })
        .map_err(|e| format!("link socket on {}: {e}", node.name()))?;
        Ok(LinkSetter { sock, seq: 0 })
    }

    /// Sets interface `ifindex` up or down and waits for the kernel's ack.
    fn set(&mut self, ifindex: u32, up: bool) -> Result<(), String> {
        self.seq += 1;
        let mut lm = LinkMessage::default();
        lm.header.index = ifindex;
        lm.header.flags = if up {
            LinkFlags::Up
        } else {
            LinkFlags::empty()
        };
        lm.header.change_mask = LinkFlags::Up;
        let req = request_bytes(
            RouteNetlinkMessage::SetLink(lm),
            NLM_F_REQUEST | NLM_F_ACK,
            self.seq,
        );
        self.sock
            .send(&req, 0)
            .map_err(|e| format!("RTM_SETLINK: {e}"))?;
        let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
        loop {
            buf.clear();
            let len = self
                .sock
                .recv(&mut buf, 0)
                .map_err(|e| format!("RTM_SETLINK ack: {e}"))?;
            for (mtype, h) in messages(&buf[..len.min(buf.len())]) {
                let seq = u32::from_ne_bytes([h[8], h[9], h[10], h[11]]);
                if mtype == NLMSG_ERROR && seq == self.seq && h.len() >= NLMSG_HDRLEN + 4 {
                    let e = i32::from_ne_bytes([h[16], h[17], h[18], h[19]]);
                    return if e == 0 {
                        Ok(())
                    } else {
                        Err(format!(
                            "RTM_SETLINK: {}",
                            std::io::Error::from_raw_os_error(-e)
                        ))
                    };
                }
            }
        }
    }
}

/// Every router's loopback routes as an `ip -j route` dump shows them.
fn dump(node: &Node) -> Result<Table, String> {
    let out = node
        .exec(&["ip", "-j", "-4", "route", "show", "proto", "188"])
        .map_err(|e| format!("ip route on {}: {e}", node.name()))?;
    let v: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap_or_default();
    let mut t = Table::new();
    for r in &v {
        let Some(dst) = r["dst"].as_str().and_then(|d| d.parse::<Ipv4Addr>().ok()) else {
            continue;
        };
        if dst.octets()[..3] != [203, 0, 113] {
            continue;
        }
        let mut gws: Vec<Ipv4Addr> = match r["nexthops"].as_array() {
            Some(hops) => hops
                .iter()
                .filter_map(|h| h["gateway"].as_str().and_then(|g| g.parse().ok()))
                .collect(),
            None => r["gateway"]
                .as_str()
                .and_then(|g| g.parse().ok())
                .into_iter()
                .collect(),
        };
        gws.sort();
        t.insert(dst, gws);
    }
    Ok(t)
}

fn confirm(nodes: &[Node], want: &[Table], what: &str) -> Result<(), String> {
    for (i, node) in nodes.iter().enumerate() {
        let have = dump(node)?;
        if have != want[i] {
            return Err(format!(
                "{what}: the notifications said converged, but r{i}'s kernel holds {have:?}, \
                 expected {:?}",
                want[i]
            ));
        }
    }
    Ok(())
}

/// Wall-clock time of day (UTC) of an instant, to find it in the logs.
fn utc(at: Instant) -> String {
    let now_sys = SystemTime::now();
    let now = Instant::now();
    let sys = if at <= now {
        now_sys - (now - at)
    } else {
        now_sys + (at - now)
    };
    let d = sys.duration_since(UNIX_EPOCH).unwrap_or_default();
    let s = d.as_secs() % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:03}Z",
        s / 3600,
        s / 60 % 60,
        s % 60,
        d.subsec_millis()
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// (median, min, max, p90 by nearest rank) of the samples.
fn stats(v: &[f64]) -> Option<(f64, f64, f64, f64)> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    let median = if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    };
    let p90 = s[((0.9 * n as f64).ceil() as usize).clamp(1, n) - 1];
    Some((median, s[0], s[n - 1], p90))
}

fn stats_json(v: &[f64]) -> serde_json::Value {
    match stats(v) {
        Some((med, min, max, p90)) => serde_json::json!({
            "median_ms": med, "min_ms": min, "max_ms": max, "p90_ms": p90, "samples_ms": v,
        }),
        None => serde_json::Value::Null,
    }
}

/// One timed phase (link down or up).
struct Phase {
    total: Duration,
    ack: Duration,
    first_change: Option<Duration>,
    per_router: Vec<Option<Duration>>,
    lost: u32,
    changes: u64,
    started_utc: String,
}

impl Phase {
    fn slowest(&self) -> Option<usize> {
        (0..self.per_router.len()).max_by_key(|i| self.per_router[*i])
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "ms": ms(self.total),
            "started_utc": self.started_utc,
            "setlink_ack_ms": ms(self.ack),
            "first_route_change_ms": self.first_change.map(ms),
            "per_router_ms": self.per_router.iter().map(|d| d.map(ms)).collect::<Vec<_>>(),
            "slowest_router": self.slowest().map(|i| format!("r{i}")),
            "match_lost": self.lost,
            "route_change_batches": self.changes,
        })
    }
}

#[allow(clippy::too_many_arguments)]
fn phase(
    w: &Watchers,
    nodes: &[Node],
    setter: &mut LinkSetter,
    ifindex: u32,
    up: bool,
    want: Vec<Table>,
    settle: Duration,
    timeout: Duration,
) -> Result<Phase, String> {
    w.begin(want.clone());
    let t0 = Instant::now();
    setter.set(ifindex, up)?;
    let ack = t0.elapsed();
    let done = w.wait_converged(settle, timeout)?;
    let st = w.state();
    let p = Phase {
        total: done.saturating_duration_since(t0),
        ack,
        first_change: st.first_change.map(|t| t.saturating_duration_since(t0)),
        per_router: st
            .ok_since
            .iter()
            .map(|t| t.map(|t| t.saturating_duration_since(t0)))
            .collect(),
        lost: st.lost,
        changes: st.changes,
        started_utc: utc(t0),
    };
    drop(st);
    confirm(nodes, &want, if up { "link up" } else { "link down" })?;
    Ok(p)
}

fn s(p: &std::path::Path) -> String {
    p.to_string_lossy().into_owned()
}

fn start_router(
    node: &Node,
    i: usize,
    args: &Args,
    zebrad: &str,
    ospfd: &str,
) -> Result<(Proc, Proc), String> {
    let rid = loopback(i);
    let mut o = format!("router_id = \"{rid}\"\n");
    for name in ["cw", "ccw"] {
        o.push_str(&format!(
            "[[interface]]\nname = \"{name}\"\narea = \"0.0.0.0\"\ntype = \"point-to-point\"\n\
             hello_interval = {}\ndead_interval = {}\nretransmit_interval = 2\n",
            args.hello, args.dead
        ));
    }
    o.push_str("[[interface]]\nname = \"lo\"\narea = \"0.0.0.0\"\npassive = true\n");
    let zcfg = node.write_file("zebrad.toml", "[rib]\nstale_time = 30\n");
    let ocfg = node.write_file("ospfd.toml", &o);
    let run = s(&node.run_dir());
    let zlog = std::env::var("ZEBRAD_LOG").unwrap_or_else(|_| "info".into());
    let olog = std::env::var("OSPFD_LOG").unwrap_or_else(|_| "info".into());
    let z = node.spawn_env(
        "zebrad",
        &[zebrad, "-f", &s(&zcfg), "--run-dir", &run],
        &[("ZEBRAD_LOG", &zlog)],
    );
    z.wait_socket(&node.socket("zebrad"), Duration::from_secs(30));
    let od = node.spawn_env(
        "ospfd",
        &[ospfd, "-f", &s(&ocfg), "--run-dir", &run],
        &[("OSPFD_LOG", &olog)],
    );
    od.wait_socket(&node.socket("ospfd"), Duration::from_secs(30));
    if let Some(st) = od.exit_status() {
        return Err(format!("ospfd on {} exited: {st}", node.name()));
    }
    Ok((z, od))
}

fn ifindex(node: &Node, ifname: &str) -> Result<u32, String> {
    let out = node
        .exec(&["ip", "-j", "link", "show", "dev", ifname])
        .map_err(|e| e.to_string())?;
    let v: Vec<serde_json::Value> = serde_json::from_str(&out).map_err(|e| e.to_string())?;
    v.first()
        .and_then(|l| l["ifindex"].as_u64())
        .map(|x| x as u32)
        .ok_or_else(|| format!("no ifindex for {ifname} on {}", node.name()))
}

fn run(args: &Args, lab: &Lab) -> Result<serde_json::Value, String> {
    let n = args.routers;
    if !(3..=128).contains(&n) {
        return Err("--routers must be 3..=128".into());
    }
    if args.link.is_some_and(|k| k >= n) {
        return Err("--link must be below --routers".into());
    }
    let zebrad = s(&args.zebrad.clone().unwrap_or_else(|| bin("zebrad")));
    let ospfd = s(&args.ospfd.clone().unwrap_or_else(|| bin("ospfd")));
    let timeout = Duration::from_secs(args.timeout);
    let settle = Duration::from_secs_f64(args.settle);

    let nodes: Vec<Node> = (0..n).map(|i| lab.node(&format!("r{i}"))).collect();
    for k in 0..n {
        let (a, b) = (&nodes[k], &nodes[(k + 1) % n]);
        lab.link(a, "cw", b, "ccw");
        a.add_addr("cw", &format!("{}/30", link_addr(k, true)));
        b.add_addr("ccw", &format!("{}/30", link_addr(k, false)));
    }
    for (i, node) in nodes.iter().enumerate() {
        node.add_addr("lo", &format!("{}/32", loopback(i)));
    }
    let watchers = Watchers::start(&nodes)?;
    let original = expected(n, None);
    watchers.begin(original.clone());
    eprintln!("starting zebrad + ospfd on {n} routers");
    let t_start = Instant::now();
    let mut procs = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        procs.push(start_router(node, i, args, &zebrad, &ospfd)?);
    }
    let initial = watchers.wait_converged(settle, timeout)?;
    confirm(&nodes, &original, "initial")?;
    // A router-LSA originated late in the start-up (one that changed no
    // route) would still hold back the first trial's by MinLSInterval.
    std::thread::sleep(Duration::from_secs(5));
    eprintln!(
        "initial convergence: every loopback everywhere {:.2} s after the first daemon started",
        initial.duration_since(t_start).as_secs_f64()
    );

    let mut setters: Vec<Option<LinkSetter>> = (0..n).map(|_| None).collect();
    let mut trials = Vec::new();
    let (mut downs, mut ups) = (Vec::new(), Vec::new());
    for t in 0..args.trials {
        let k = args.link.unwrap_or(t % n);
        let node = &nodes[k];
        let idx = ifindex(node, "cw")?;
        if setters[k].is_none() {
            setters[k] = Some(LinkSetter::new(node)?);
        }
        let setter = setters[k].as_mut().ok_or("link socket")?;
        let down = phase(
            &watchers,
            &nodes,
            setter,
            idx,
            false,
            expected(n, Some(k)),
            settle,
            timeout,
        )
        .map_err(|e| format!("trial {t}, link {k} down: {e}"))?;
        let up = phase(
            &watchers,
            &nodes,
            setter,
            idx,
            true,
            original.clone(),
            settle,
            timeout,
        )
        .map_err(|e| format!("trial {t}, link {k} up: {e}"))?;
        eprintln!(
            "trial {t}: link {k} (r{k}:cw -- r{}:ccw) down {:.1} ms (slowest r{}, first change \
             {:.1} ms), up {:.1} ms (slowest r{})",
            (k + 1) % n,
            ms(down.total),
            down.slowest().unwrap_or(0),
            down.first_change.map_or(f64::NAN, ms),
            ms(up.total),
            up.slowest().unwrap_or(0),
        );
        downs.push(ms(down.total));
        ups.push(ms(up.total));
        trials.push(serde_json::json!({
            "trial": t,
            "link": k,
            "down_side": format!("r{k}:cw"),
            "carrier_loss_side": format!("r{}:ccw", (k + 1) % n),
            "link_down": down.json(),
            "link_up": up.json(),
        }));
        for p in &procs {
            p.0.assert_running();
            p.1.assert_running();
        }
    }
    if watchers.state().overflowed {
        return Err("route notifications were lost (receive buffer overrun)".into());
    }

    println!(
        "\nOSPF ring convergence: {n} routers (zebrad + ospfd), hello {} s, dead {} s, \
         default SPF throttle; {} trials",
        args.hello, args.dead, args.trials
    );
    println!(
        "{:<12} {:>9} {:>9} {:>9} {:>9}",
        "event", "median", "min", "max", "p90"
    );
    for (name, v) in [("link down", &downs), ("link up", &ups)] {
        if let Some((med, min, max, p90)) = stats(v) {
            println!("{name:<12} {med:>6.1} ms {min:>6.1} ms {max:>6.1} ms {p90:>6.1} ms");
        }
    }
    let met = stats(&downs).is_some_and(|(_, _, max, _)| max < TARGET_MS);
    println!(
        "target: link-down convergence under {TARGET_MS} ms: {}",
        if met { "met" } else { "NOT met" }
    );
    Ok(serde_json::json!({
        "routers": n,
        "trials": args.trials,
        "hello_s": args.hello,
        "dead_s": args.dead,
        "spf_throttle": "default (delay 0, initial_hold 50 ms, max_hold 5000 ms)",
        "settle_s": args.settle,
        "measure": "rtnetlink route notifications, one thread per router",
        "initial_convergence_s": initial.duration_since(t_start).as_secs_f64(),
        "link_down": stats_json(&downs),
        "link_up": stats_json(&ups),
        "target_ms": TARGET_MS,
        "target_met": met,
        "per_trial": trials,
    }))
}

fn main() -> ExitCode {
    let args = Args::parse();
    if !topotests::is_root() {
        eprintln!("bench_ospf_ring: must run as root (it creates network namespaces)");
        return ExitCode::FAILURE;
    }
    let lab = Lab::new("bench_ospf_ring");
    let res = run(&args, &lab);
    if res.is_err() || std::env::var_os("TOPOTESTS_KEEP").is_some() {
        eprintln!("logs: {}", lab.dir().display());
    }
    match res {
        Ok(v) => {
            if let Some(p) = &args.json {
                let text = serde_json::to_string_pretty(&v).unwrap_or_default();
                if let Err(e) = std::fs::write(p, text + "\n") {
                    eprintln!("bench_ospf_ring: cannot write {}: {e}", p.display());
                    return ExitCode::FAILURE;
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}", lab.log_tails(20));
            eprintln!("bench_ospf_ring: {e} (TOPOTESTS_KEEP=1 keeps the logs)");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_paths() {
        let all = expected(10, None);
        // r0 reaches r5 both ways, r1 via r1 alone.
        assert_eq!(
            all[0][&loopback(5)],
            vec![link_addr(0, false), link_addr(9, true)]
        );
        assert_eq!(all[0][&loopback(1)], vec![link_addr(0, false)]);
        let cut = expected(10, Some(0));
        assert_eq!(cut[0][&loopback(1)], vec![link_addr(9, true)]);
        assert_eq!(cut[1][&loopback(0)], vec![link_addr(1, false)]);
        assert_eq!(cut[5][&loopback(0)], vec![link_addr(5, false)]);
        assert!(all.iter().all(|t| t.len() == 9));
        assert_eq!(stats(&[3.0, 1.0, 2.0]), Some((2.0, 1.0, 3.0, 3.0)));
    }
}

//! Benchmark of a BGP speaker's re-advertisement: how fast a device under
//! test (BIRD 2, FRR or our bgpd) takes N IPv4 prefixes from one eBGP peer
//! and announces them all to another, how much memory it needs for that,
//! and (with `--kernel`) how fast the routes reach its kernel table.
//!
//! Topology, three throwaway namespaces made by the test bed:
//!
//! ```text
//!  gen 192.0.2.1 ---- 192.0.2.2 dut 198.51.100.2 ---- 198.51.100.1 mon
//!  AS 65001           AS 65000                          AS 65002
//! ```
//!
//! `gen` is the injector and `mon` the monitor, both minimal BGP speakers
//! in this process written with bgpd's wire codec (sockets opened inside
//! the namespaces); the DUT is passive on both sessions. The injector sends
//! N distinct /24s from 1.0.0.0 upward, either `packed` (as many prefixes
//! per 4096-byte UPDATE as fit, `--attr-sets` distinct attribute sets) or
//! `single` (one prefix per UPDATE). All UPDATE bytes are encoded before
//! the clock starts and written with large writes. The monitor decodes
//! every message with the codec and counts distinct announced prefixes.
//!
//! Timing: from the injector's first UPDATE byte written to the monitor
//! holding all N prefixes; with `--kernel`, also to the DUT namespace's
//! main table holding N more routes than before (route notifications,
//! confirmed by a netlink dump). Memory: the DUT processes' VmHWM.
//!
//! `--dut none` connects the injector straight to a monitor (no DUT): the
//! ceiling of the bench itself.
//!
//! ```text
//! cargo build --release -p topotests
//! sudo target/release/bench_bgp --dut all --variant both --kernel both --json bgp.json
//! ```

use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bgpd::packet::capability::SessionCaps;
use bgpd::packet::header::frame_length;
use bgpd::packet::nlri::{AfiSafi, Nlri};
use bgpd::packet::update::{Update, UpdateAction};
use bgpd::packet::{
    decode_message, pack_announcements, AsPath, Capability, Message, Open, Origin, PathAttributes,
};
use bytes::Bytes;
use clap::{Parser, ValueEnum};
use ipnetwork::{IpNetwork, Ipv4Network};
use topotests::netlink::{in_namespace, RouteCounter, RouteWatcher};
use topotests::{Lab, Node, Proc};

const GEN_ADDR: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const DUT_GEN_ADDR: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const DUT_MON_ADDR: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 2);
const MON_ADDR: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
const DUT_AS: u32 = 65000;
const GEN_AS: u32 = 65001;
const MON_AS: u32 = 65002;
const HOLD_TIME: u16 = 90;
const MAIN_TABLE: u32 = 254;
/// Bytes per write of the pre-encoded UPDATE stream.
const WRITE_CHUNK: usize = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum DutArg {
    Bird,
    Frr,
    Ours,
    /// bird, frr and ours, one after the other.
    All,
    /// No DUT: the injector talks straight to a monitor.
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum VariantArg {
    Packed,
    Single,
    Both,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum KernelArg {
    Off,
    On,
    Both,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dut {
    Bird,
    Frr,
    Ours,
    None,
}

impl Dut {
    fn name(self) -> &'static str {
        match self {
            Dut::Bird => "bird",
            Dut::Frr => "frr",
            Dut::Ours => "ours",
            Dut::None => "none",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    Packed,
    Single,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Packed => "packed",
            Variant::Single => "single",
        }
    }
}

#[derive(Parser, Debug)]
#[command(about = "Benchmark BGP re-advertisement (and kernel install) of BIRD, FRR and our bgpd")]
struct Args {
    /// Device under test.
    #[arg(long, value_enum, default_value = "all")]
    dut: DutArg,
    /// UPDATE packing of the injector.
    #[arg(long, value_enum, default_value = "packed")]
    variant: VariantArg,
    /// Let the DUT install the routes into its kernel and time that too
    /// (`--kernel` alone means `on`).
    #[arg(long, value_enum, default_value = "off", num_args = 0..=1, default_missing_value = "on")]
    kernel: KernelArg,
    /// How many distinct IPv4 prefixes (/24s from 1.0.0.0 upward).
    #[arg(long, default_value_t = 1_000_000)]
    prefixes: usize,
    /// Distinct attribute sets (AS path and MED) the prefixes cycle through.
    #[arg(long, default_value_t = 1)]
    attr_sets: usize,
    /// Upper bound of each run's wait for the prefixes, in seconds.
    #[arg(long, default_value_t = 600)]
    timeout: u64,
    /// Give up when nothing moved for this many seconds.
    #[arg(long, default_value_t = 120)]
    stall: u64,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// BIRD's binary.
    #[arg(long, default_value = "/usr/sbin/bird")]
    bird: PathBuf,
    /// Where FRR's daemons are.
    #[arg(long, default_value = "/usr/lib/frr")]
    frr_dir: PathBuf,
    /// Our bgpd (default: found like the topology tests do).
    #[arg(long)]
    bgpd: Option<PathBuf>,
    /// Our zebrad (default: found like the topology tests do).
    #[arg(long)]
    zebrad: Option<PathBuf>,
}

// ---------------------------------------------------------------------------
// Prefixes and UPDATE encoding

/// Prefix `i`: the `i`-th /24 from 1.0.0.0 upward.
fn prefix(i: usize) -> Ipv4Network {
    let base = u32::from(Ipv4Addr::new(1, 0, 0, 0));
    let addr = Ipv4Addr::from(base.wrapping_add((i as u32).wrapping_mul(256)));
    Ipv4Network::new(addr, 24).unwrap_or_else(|_| unreachable!("/24 is a valid length"))
}

/// The most /24s below 224.0.0.0 from 1.0.0.0.
const MAX_PREFIXES: usize = (224 - 1) << 16;

/// Attribute set `k` of `sets`: AS path `65001 [4200000000+k]`, MED k.
fn attr_set(k: usize, sets: usize) -> PathAttributes {
    let mut path = vec![GEN_AS];
    if sets > 1 {
        path.push(4_200_000_000 + k as u32);
    }
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(path)),
        next_hop: Some(GEN_ADDR),
        med: (sets > 1).then_some(k as u32),
        ..Default::default()
    }
}

/// The injector's whole UPDATE stream (End-of-RIB last) and its message
/// count. Prefix `i` carries attribute set `i % sets`; packed UPDATEs of
/// the sets are interleaved round-robin.
fn encode_updates(
    n: usize,
    sets: usize,
    variant: Variant,
    caps: &SessionCaps,
) -> Result<(Vec<u8>, usize), String> {
    let sets = sets.max(1);
    let attrs: Vec<PathAttributes> = (0..sets).map(|k| attr_set(k, sets)).collect();
    let mut out = Vec::new();
    let mut messages = 0usize;
    let err = |e| format!("encoding UPDATEs: {e}");
    match variant {
        Variant::Packed => {
            let mut per_set: Vec<std::vec::IntoIter<Bytes>> = Vec::with_capacity(sets);
            for (k, a) in attrs.iter().enumerate() {
                let nlri: Vec<Nlri> = (k..n)
                    .step_by(sets)
                    .map(|i| Nlri::new(IpNetwork::V4(prefix(i))))
                    .collect();
                per_set.push(pack_announcements(a, &nlri, caps).map_err(err)?.into_iter());
            }
            let mut live = true;
            while live {
                live = false;
                for it in per_set.iter_mut() {
                    if let Some(m) = it.next() {
                        out.extend_from_slice(&m);
                        messages += 1;
                        live = true;
                    }
                }
            }
        }
        Variant::Single => {
            out.reserve(n * 56);
            for i in 0..n {
                let nlri = [Nlri::new(IpNetwork::V4(prefix(i)))];
                for m in pack_announcements(&attrs[i % sets], &nlri, caps).map_err(err)? {
                    out.extend_from_slice(&m);
                    messages += 1;
                }
            }
        }
    }
    let eor = Message::Update(Update::end_of_rib(AfiSafi::IPV4_UNICAST))
        .to_bytes(caps)
        .map_err(err)?;
    out.extend_from_slice(&eor);
    Ok((out, messages + 1))
}

// ---------------------------------------------------------------------------
// A minimal BGP speaker

/// Splits a byte stream into BGP messages without copying them.
struct Framer {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Framer {
    fn new() -> Self {
        Framer {
            buf: vec![0; 4 << 20],
            start: 0,
            end: 0,
        }
    }

    /// The next complete message's range in `buf`, if buffered.
    fn next(&mut self, caps: &SessionCaps) -> Result<Option<Range<usize>>, String> {
        let have = &self.buf[self.start..self.end];
        match frame_length(have, caps) {
            Err(e) => Err(format!("bad message header: {e}")),
            Ok(Some(len)) if have.len() >= len => {
                let r = self.start..self.start + len;
                self.start += len;
                Ok(Some(r))
            }
            Ok(_) => Ok(None),
        }
    }

    /// Read more from `s`: Ok(0) at end of stream.
    fn fill(&mut self, s: &mut TcpStream) -> io::Result<usize> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.buf.len() - self.end < 65_536 + 4096 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let n = s.read(&mut self.buf[self.end..])?;
        self.end += n;
        Ok(n)
    }
}

/// Distinct announced IPv4 prefixes: a bitmap for /24s, a set for others.
struct PrefixSet {
    bits24: Vec<u64>,
    others: HashSet<IpNetwork>,
    count: u64,
}

impl PrefixSet {
    fn new() -> Self {
        PrefixSet {
            bits24: vec![0; (1 << 24) / 64],
            others: HashSet::new(),
            count: 0,
        }
    }

    fn slot(p: &IpNetwork) -> Option<(usize, u64)> {
        match p {
            IpNetwork::V4(v4) if v4.prefix() == 24 => {
                let i = (u32::from(v4.network()) >> 8) as usize;
                Some((i / 64, 1u64 << (i % 64)))
            }
            _ => None,
        }
    }

    fn add(&mut self, p: IpNetwork) {
        match Self::slot(&p) {
            Some((w, b)) => {
                if self.bits24[w] & b == 0 {
                    self.bits24[w] |= b;
                    self.count += 1;
                }
            }
            None => {
                if self.others.insert(p) {
                    self.count += 1;
                }
            }
        }
    }

    fn remove(&mut self, p: IpNetwork) {
        match Self::slot(&p) {
            Some((w, b)) => {
                if self.bits24[w] & b != 0 {
                    self.bits24[w] &= !b;
                    self.count -= 1;
                }
            }
            None => {
                if self.others.remove(&p) {
                    self.count -= 1;
                }
            }
        }
    }
}

/// What a session's reader saw; shared with the main thread.
#[derive(Default)]
struct Stats {
    /// Distinct prefixes currently announced to us.
    prefixes: AtomicU64,
    updates: AtomicU64,
    bytes: AtomicU64,
    withdrawals: AtomicU64,
    /// When `prefixes` first reached the target.
    reached_at: Mutex<Option<Instant>>,
    /// First End-of-RIB received.
    eor_at: Mutex<Option<Instant>>,
    /// Why the session ended (NOTIFICATION, decode error, close).
    ended: Mutex<Option<String>>,
}

impl Stats {
    fn ended(&self) -> Option<String> {
        lock(&self.ended).clone()
    }
    fn reached_at(&self) -> Option<Instant> {
        *lock(&self.reached_at)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One established session: a reader thread that decodes and counts, a
/// keepalive thread, and the writer they share.
struct Peer {
    name: &'static str,
    writer: Arc<Mutex<TcpStream>>,
    caps: SessionCaps,
    remote: Open,
    stats: Arc<Stats>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Peer {
    /// Write `bytes` in large chunks (keepalives go in between chunks).
    fn send_all(&self, bytes: &[u8], sent: &AtomicU64) -> Result<(), String> {
        for chunk in bytes.chunks(WRITE_CHUNK) {
            lock(&self.writer)
                .write_all(chunk)
                .map_err(|e| format!("{}: write: {e}", self.name))?;
            sent.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        }
        Ok(())
    }

    fn close(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = lock(&self.writer).shutdown(std::net::Shutdown::Both);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Our OPEN: 4-octet AS, IPv4 unicast, route refresh; no extended message.
fn our_open(asn: u32, id: Ipv4Addr) -> Open {
    Open::new(
        asn,
        HOLD_TIME,
        id,
        vec![
            Capability::Multiprotocol(AfiSafi::IPV4_UNICAST),
            Capability::RouteRefresh,
            Capability::FourOctetAs(asn),
        ],
    )
}

/// Exchange OPENs and KEEPALIVEs on a connected stream, then start the
/// reader (counting up to `target` prefixes) and keepalive threads.
fn establish(
    name: &'static str,
    mut stream: TcpStream,
    local: Open,
    target: u64,
    timeout: Duration,
) -> Result<Peer, String> {
    let deadline = Instant::now() + timeout;
    let _ = stream.set_nodelay(true);
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .map_err(|e| e.to_string())?;
    let pre = SessionCaps::default();
    let open = Message::Open(local.clone())
        .to_bytes(&pre)
        .map_err(|e| format!("encoding OPEN: {e}"))?;
    stream
        .write_all(&open)
        .map_err(|e| format!("{name}: sending OPEN: {e}"))?;
    let mut framer = Framer::new();
    let mut remote: Option<Open> = None;
    let mut caps = pre;
    'handshake: loop {
        while let Some(r) = framer.next(&caps)? {
            let msg = decode_message(&framer.buf[r], &caps)
                .map_err(|e| format!("{name}: decoding during handshake: {e}"))?;
            match msg.message {
                Message::Open(o) => {
                    caps = SessionCaps::negotiate(&local, &o);
                    let ka = Message::Keepalive
                        .to_bytes(&caps)
                        .map_err(|e| e.to_string())?;
                    stream
                        .write_all(&ka)
                        .map_err(|e| format!("{name}: sending KEEPALIVE: {e}"))?;
                    remote = Some(o);
                }
                Message::Keepalive if remote.is_some() => break 'handshake,
                Message::Notification(n) => {
                    return Err(format!("{name}: NOTIFICATION during handshake: {n}"))
                }
                other => {
                    return Err(format!(
                        "{name}: unexpected {:?} during handshake",
                        other.message_type()
                    ))
                }
            }
        }
        if Instant::now() > deadline {
            return Err(format!("{name}: no OPEN/KEEPALIVE within {timeout:?}"));
        }
        match framer.fill(&mut stream) {
            Ok(0) => return Err(format!("{name}: connection closed during handshake")),
            Ok(_) => {}
            Err(e) if is_timeout(&e) => {}
            Err(e) => return Err(format!("{name}: read during handshake: {e}")),
        }
    }
    let remote = remote.ok_or("handshake without OPEN")?;
    let hold = local.hold_time.min(remote.hold_time);
    let writer = Arc::new(Mutex::new(
        stream.try_clone().map_err(|e| format!("{name}: {e}"))?,
    ));
    let stats = Arc::new(Stats::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    {
        let (stats, stop, caps) = (stats.clone(), stop.clone(), caps.clone());
        threads.push(std::thread::spawn(move || {
            read_loop(stream, framer, &caps, target, &stats, &stop)
        }));
    }
    if hold > 0 {
        let (writer, stop, stats) = (writer.clone(), stop.clone(), stats.clone());
        let ka = Message::Keepalive
            .to_bytes(&caps)
            .map_err(|e| e.to_string())?;
        let every = Duration::from_secs(u64::from(hold / 3).max(1));
        threads.push(std::thread::spawn(move || {
            let mut last = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                if last.elapsed() >= every {
                    last = Instant::now();
                    if let Err(e) = lock(&writer).write_all(&ka) {
                        lock(&stats.ended).get_or_insert(format!("keepalive write: {e}"));
                        return;
                    }
                }
            }
        }));
    }
    Ok(Peer {
        name,
        writer,
        caps,
        remote,
        stats,
        stop,
        threads,
    })
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// Decode every message, count distinct prefixes, note End-of-RIB and the
/// moment `target` prefixes are held, until the session ends or `stop`.
fn read_loop(
    mut stream: TcpStream,
    mut framer: Framer,
    caps: &SessionCaps,
    target: u64,
    stats: &Stats,
    stop: &AtomicBool,
) {
    let mut set = PrefixSet::new();
    let end = |why: String| {
        lock(&stats.ended).get_or_insert(why);
    };
    loop {
        loop {
            let r = match framer.next(caps) {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => return end(e),
            };
            let decoded = match decode_message(&framer.buf[r], caps) {
                Ok(d) => d,
                Err(e) => return end(format!("decode error: {e}")),
            };
            match decoded.message {
                Message::Update(u) => {
                    stats.updates.fetch_add(1, Ordering::Relaxed);
                    let withdraw_all =
                        matches!(decoded.report.action, UpdateAction::TreatAsWithdraw { .. });
                    let mut withdrawn = 0u64;
                    let unreach = u.mp_unreach.iter().flat_map(|m| m.withdrawn.iter());
                    for n in u.withdrawn.iter().chain(unreach) {
                        set.remove(n.prefix);
                        withdrawn += 1;
                    }
                    for (_, n) in u.reachable() {
                        if withdraw_all {
                            set.remove(n.prefix);
                            withdrawn += 1;
                        } else {
                            set.add(n.prefix);
                        }
                    }
                    if withdrawn > 0 {
                        stats.withdrawals.fetch_add(withdrawn, Ordering::Relaxed);
                    }
                    if u.end_of_rib_family().is_some() {
                        lock(&stats.eor_at).get_or_insert_with(Instant::now);
                    }
                    stats.prefixes.store(set.count, Ordering::Relaxed);
                    if set.count >= target && target > 0 {
                        lock(&stats.reached_at).get_or_insert_with(Instant::now);
                    }
                }
                Message::Notification(n) => return end(format!("NOTIFICATION: {n}")),
                _ => {}
            }
        }
        match framer.fill(&mut stream) {
            Ok(0) => return end("connection closed by the peer".into()),
            Ok(n) => {
                stats.bytes.fetch_add(n as u64, Ordering::Relaxed);
            }
            Err(e) if is_timeout(&e) => {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
            }
            Err(e) => return end(format!("read: {e}")),
        }
    }
}

/// Dial `remote` from namespace `ns` and establish, retrying until
/// `deadline` (the DUT may still be starting); `alive` reports a dead DUT.
fn dial(
    name: &'static str,
    ns: &str,
    remote: Ipv4Addr,
    local: Open,
    target: u64,
    deadline: Instant,
    alive: &dyn Fn() -> Result<(), String>,
) -> Result<Peer, String> {
    let addr = SocketAddr::V4(SocketAddrV4::new(remote, 179));
    let mut last = String::from("no attempt");
    while Instant::now() < deadline {
        alive()?;
        let conn = in_namespace(ns, move || {
            TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        });
        match conn {
            Ok(s) => match establish(name, s, local.clone(), target, Duration::from_secs(10)) {
                Ok(p) => return Ok(p),
                Err(e) => last = e,
            },
            Err(e) => last = format!("{name}: connect to {addr}: {e}"),
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    Err(format!("{name}: no session by the deadline; last: {last}"))
}

/// Accept one connection on `listener` (non-blocking) until `deadline`.
fn accept(listener: &TcpListener, deadline: Instant) -> Result<TcpStream, String> {
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    while Instant::now() < deadline {
        match listener.accept() {
            Ok((s, _)) => {
                s.set_nonblocking(false).map_err(|e| e.to_string())?;
                return Ok(s);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => return Err(format!("accept: {e}")),
        }
    }
    Err("no connection to accept".into())
}

// ---------------------------------------------------------------------------
// Devices under test

/// The DUT's processes, for liveness and memory.
struct DutProcs {
    procs: Vec<Proc>,
}

impl DutProcs {
    fn alive(&self) -> Result<(), String> {
        for p in &self.procs {
            if let Some(s) = p.exit_status() {
                return Err(format!(
                    "{} exited ({s}); log tail:\n{}",
                    p.name(),
                    topotests::lab::tail(p.log_path(), 20)
                ));
            }
        }
        Ok(())
    }

    /// (process, VmHWM KiB) of each.
    fn hwm(&self) -> Vec<(String, u64)> {
        self.procs
            .iter()
            .map(|p| (p.name().to_string(), p.status_kib("VmHWM").unwrap_or(0)))
            .collect()
    }

    /// CPU seconds (user + system, all threads) used so far by all.
    fn cpu_seconds(&self) -> f64 {
        self.procs.iter().map(|p| cpu_seconds(p.pid())).sum()
    }

    /// SIGKILL, so that no daemon withdraws a million kernel routes one by
    /// one on the way out (the namespace's deletion frees them).
    fn kill(&self) {
        for p in self.procs.iter().rev() {
            p.kill();
        }
    }
}

/// utime + stime of a process from /proc/<pid>/stat (clock ticks of
/// 1/100 s on Linux), 0 when unreadable.
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) start at 3.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    f.iter().sum::<u64>() as f64 / 100.0
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn bird_conf(kernel: bool) -> String {
    let mut c = String::new();
    let _ = writeln!(c, "router id {DUT_GEN_ADDR};");
    let _ = writeln!(c, "log stderr all;");
    let _ = writeln!(c, "protocol device {{ scan time 10; }}");
    if kernel {
        let _ = writeln!(
            c,
            "protocol kernel {{ learn off; scan time 60; ipv4 {{ import none; export all; }}; }}"
        );
    }
    for (name, local, peer, asn) in [
        ("gen", DUT_GEN_ADDR, GEN_ADDR, GEN_AS),
        ("mon", DUT_MON_ADDR, MON_ADDR, MON_AS),
    ] {
        let _ = writeln!(
            c,
            "protocol bgp {name} {{\n  local {local} as {DUT_AS};\n  neighbor {peer} as {asn};\n  \
             passive on;\n  hold time {HOLD_TIME};\n  ipv4 {{ import all; export all; }};\n}}"
        );
    }
    c
}

fn frr_bgpd_conf() -> String {
    let mut c = String::new();
    let _ = writeln!(
        c,
        "frr defaults traditional\nhostname dut\nlog stdout informational\n!"
    );
    let _ = writeln!(c, "router bgp {DUT_AS}");
    let _ = writeln!(c, " bgp router-id {DUT_GEN_ADDR}");
    let _ = writeln!(c, " no bgp ebgp-requires-policy");
    let _ = writeln!(c, " no bgp network import-check");
    for (peer, asn) in [(GEN_ADDR, GEN_AS), (MON_ADDR, MON_AS)] {
        let _ = writeln!(c, " neighbor {peer} remote-as {asn}");
        let _ = writeln!(c, " neighbor {peer} passive");
        let _ = writeln!(c, " neighbor {peer} timers 30 {HOLD_TIME}");
    }
    let _ = writeln!(c, " address-family ipv4 unicast");
    for peer in [GEN_ADDR, MON_ADDR] {
        let _ = writeln!(c, "  neighbor {peer} activate");
    }
    let _ = writeln!(c, " exit-address-family\n!");
    c
}

fn ours_bgpd_conf(kernel: bool) -> String {
    let mut c = String::new();
    let _ = writeln!(
        c,
        "[bgp]\nasn = {DUT_AS}\nrouter_id = \"{DUT_GEN_ADDR}\"\n\n[log]\nlevel = \"info\"\n"
    );
    let _ = writeln!(c, "[zebra]\nenabled = {kernel}\n");
    let _ = writeln!(
        c,
        "[[route_map]]\nname = \"ALL\"\nentries = [{{ seq = 10, action = \"permit\" }}]\n"
    );
    for (peer, local, asn) in [
        (GEN_ADDR, DUT_GEN_ADDR, GEN_AS),
        (MON_ADDR, DUT_MON_ADDR, MON_AS),
    ] {
        let _ = writeln!(
            c,
            "[[neighbor]]\naddress = \"{peer}\"\nremote_as = {asn}\nsource = \"{local}\"\n\
             passive = true\nhold_time = {HOLD_TIME}\nimport = \"ALL\"\nexport = \"ALL\"\n"
        );
    }
    c
}

fn ours(given: &Option<PathBuf>, name: &str) -> Option<PathBuf> {
    match given {
        Some(p) => Some(p.clone()).filter(|p| p.is_file()),
        None => topotests::try_bin(name),
    }
}

/// Err("... not available") when the DUT's binaries are missing.
fn available(args: &Args, dut: Dut, kernel: bool) -> Result<(), String> {
    let ok = match dut {
        Dut::None => true,
        Dut::Bird => args.bird.is_file(),
        Dut::Frr => {
            args.frr_dir.join("bgpd").is_file() && (!kernel || args.frr_dir.join("zebra").is_file())
        }
        Dut::Ours => {
            ours(&args.bgpd, "bgpd").is_some()
                && (!kernel || ours(&args.zebrad, "zebrad").is_some())
        }
    };
    if ok {
        return Ok(());
    }
    Err(match dut {
        Dut::Bird => format!("bird not available ({})", args.bird.display()),
        Dut::Frr => format!("FRR not available in {}", args.frr_dir.display()),
        _ if ours(&args.bgpd, "bgpd").is_none() => {
            "bgpd not available (build it, or pass --bgpd PATH)".into()
        }
        _ => "zebrad not available (build it, or pass --zebrad PATH)".into(),
    })
}

/// Start the DUT in `node`; Err("... not available") when it is missing.
fn start_dut(args: &Args, dut: Dut, kernel: bool, node: &Node) -> Result<DutProcs, String> {
    let dir = node.dir().to_path_buf();
    let mut procs = Vec::new();
    match dut {
        Dut::None => {}
        Dut::Bird => {
            if !args.bird.is_file() {
                return Err(format!("bird not available ({})", args.bird.display()));
            }
            let conf = node.write_file("bird.conf", &bird_conf(kernel));
            let sock = dir.join("bird.ctl");
            procs.push(node.spawn(
                "bird",
                &[&s(&args.bird), "-f", "-c", &s(&conf), "-s", &s(&sock)],
            ));
        }
        Dut::Frr => {
            let bgpd = args.frr_dir.join("bgpd");
            let zebra = args.frr_dir.join("zebra");
            if !bgpd.is_file() || (kernel && !zebra.is_file()) {
                return Err(format!("FRR not available in {}", args.frr_dir.display()));
            }
            let ns = node.ns().to_string();
            // zebra has no -S (skip run-as) and root is not in frrvty: run it
            // as the package's `frr` user in a directory it owns.
            let zdir = dir.join("frr");
            let zserv = zdir.join("zserv.api");
            if kernel {
                std::fs::create_dir_all(&zdir).map_err(|e| format!("{}: {e}", zdir.display()))?;
                let conf = zdir.join("zebra.conf");
                std::fs::write(&conf, "hostname dut\nlog stdout informational\n!\n")
                    .map_err(|e| format!("{}: {e}", conf.display()))?;
                let st = std::process::Command::new("chown")
                    .args(["-R", "frr:frr", &s(&zdir)])
                    .status()
                    .map_err(|e| format!("chown: {e}"))?;
                if !st.success() {
                    return Err("chown frr:frr failed (is FRR's `frr` user there?)".into());
                }
                procs.push(node.spawn(
                    "zebra",
                    &[
                        &s(&zebra),
                        "-N",
                        &ns,
                        "-u",
                        "frr",
                        "-g",
                        "frr",
                        "-P",
                        "0",
                        "-s",
                        "90000000",
                        "-i",
                        &s(&zdir.join("zebra.pid")),
                        "--vty_socket",
                        &s(&zdir),
                        "-z",
                        &s(&zserv),
                        "-f",
                        &s(&conf),
                    ],
                ));
                topotests::try_wait_until(
                    Duration::from_secs(30),
                    "FRR zebra's zserv socket",
                    || {
                        std::os::unix::net::UnixStream::connect(&zserv).is_ok()
                            || procs.iter().any(|p: &Proc| p.exit_status().is_some())
                    },
                )?;
            }
            let conf = node.write_file("bgpd.conf", &frr_bgpd_conf());
            let mut a = vec![
                s(&bgpd),
                "-N".into(),
                ns,
                "-S".into(),
                "-P".into(),
                "0".into(),
                "-i".into(),
                s(&dir.join("bgpd.pid")),
                "--vty_socket".into(),
                s(&dir),
                "-f".into(),
                s(&conf),
            ];
            if kernel {
                a.extend(["-z".into(), s(&zserv)]);
            } else {
                a.push("-Z".into());
            }
            let a: Vec<&str> = a.iter().map(String::as_str).collect();
            procs.push(node.spawn("bgpd", &a));
        }
        Dut::Ours => {
            let Some(bgpd) = ours(&args.bgpd, "bgpd") else {
                return Err("bgpd not available (build it, or pass --bgpd PATH)".into());
            };
            let run = node.run_dir();
            let log_level = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
            if kernel {
                let Some(zebrad) = ours(&args.zebrad, "zebrad") else {
                    return Err("zebrad not available (build it, or pass --zebrad PATH)".into());
                };
                let conf =
                    node.write_file("zebrad.toml", "[rib]\nstale_time = 120\necmp_max = 16\n");
                let z = node.spawn_env(
                    "zebrad",
                    &[&s(&zebrad), "-f", &s(&conf), "--run-dir", &s(&run)],
                    &[("RUST_LOG", &log_level)],
                );
                let sock = node.socket("zebrad");
                let ok =
                    topotests::try_wait_until(Duration::from_secs(30), "zebrad's socket", || {
                        z.exit_status().is_some()
                            || std::os::unix::net::UnixStream::connect(&sock).is_ok()
                    });
                procs.push(z);
                ok?;
            }
            let conf = node.write_file("bgpd.toml", &ours_bgpd_conf(kernel));
            procs.push(node.spawn_env(
                "bgpd",
                &[&s(&bgpd), "-f", &s(&conf), "--run-dir", &s(&run)],
                &[("RUST_LOG", &log_level), ("BGPD_LOG", &log_level)],
            ));
        }
    }
    let d = DutProcs { procs };
    d.alive()?;
    Ok(d)
}

// ---------------------------------------------------------------------------
// One run

/// One measured (DUT, variant, kernel) combination.
#[derive(Default)]
struct Row {
    dut: &'static str,
    variant: &'static str,
    kernel: bool,
    n: usize,
    updates_sent: usize,
    bytes_sent: usize,
    /// Error or "not available"; None when measured.
    failed: Option<String>,
    /// First UPDATE byte written to the monitor holding all N.
    seconds: Option<f64>,
    /// Until the injector's last write returned.
    inject_seconds: Option<f64>,
    /// Until the kernel table held N more routes.
    kernel_seconds: Option<f64>,
    mon_prefixes: u64,
    mon_updates: u64,
    kernel_routes: Option<usize>,
    hwm_kib: Vec<(String, u64)>,
    /// CPU seconds the DUT's processes used from the first UPDATE to the
    /// end: a figure the machine's other load disturbs much less.
    cpu_seconds: Option<f64>,
    /// 1-minute load average when the run started and ended (other work
    /// on the machine skews multi-threaded DUTs most).
    load: (f64, f64),
}

/// The 1-minute load average.
fn loadavg() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

impl Row {
    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "dut": self.dut,
            "variant": self.variant,
            "kernel": self.kernel,
            "prefixes": self.n,
            "updates_sent": self.updates_sent,
            "bytes_sent": self.bytes_sent,
            "error": self.failed,
            "seconds": self.seconds,
            "prefixes_per_sec": self.seconds.map(|s| self.n as f64 / s),
            "inject_seconds": self.inject_seconds,
            "kernel_seconds": self.kernel_seconds,
            "kernel_routes": self.kernel_routes,
            "monitor_prefixes": self.mon_prefixes,
            "monitor_updates": self.mon_updates,
            "dut_cpu_seconds": self.cpu_seconds,
            "load_before": self.load.0,
            "load_after": self.load.1,
            "vm_hwm_kib": self.hwm_kib.iter().map(|(p, k)| serde_json::json!({"process": p, "kib": k})).collect::<Vec<_>>(),
        })
    }
}

fn run_one(args: &Args, dut: Dut, variant: Variant, kernel: bool) -> Row {
    let mut row = Row {
        dut: dut.name(),
        variant: variant.name(),
        kernel,
        n: args.prefixes,
        load: (loadavg(), 0.0),
        ..Default::default()
    };
    let label = format!(
        "[{} {}{}]",
        dut.name(),
        variant.name(),
        if kernel { " kernel" } else { "" }
    );
    if let Err(e) = available(args, dut, kernel) {
        eprintln!("{label} skipped: {e}");
        row.load.1 = row.load.0;
        row.failed = Some(e);
        return row;
    }
    let lab = Lab::new(&format!("bench_bgp_{}", dut.name()));
    if let Err(e) = measure(args, dut, variant, kernel, &lab, &label, &mut row) {
        eprintln!("{label} failed: {e}");
        if !e.contains("not available") {
            eprintln!("{}", lab.log_tails(15));
        }
        row.failed = Some(e);
    }
    row.load.1 = loadavg();
    eprintln!("{label} tearing down");
    row
}

fn measure(
    args: &Args,
    dut: Dut,
    variant: Variant,
    kernel: bool,
    lab: &Lab,
    label: &str,
    row: &mut Row,
) -> Result<(), String> {
    let n = args.prefixes;
    let timeout = Duration::from_secs(args.timeout);
    let gen = lab.node("gen");
    let dutn = lab.node("dut");
    lab.link(&gen, "eth0", &dutn, "eth0");
    gen.add_addr("eth0", &format!("{GEN_ADDR}/24"));
    dutn.add_addr("eth0", &format!("{DUT_GEN_ADDR}/24"));
    let mon = if dut != Dut::None {
        let mon = lab.node("mon");
        lab.link(&dutn, "eth1", &mon, "eth0");
        dutn.add_addr("eth1", &format!("{DUT_MON_ADDR}/24"));
        mon.add_addr("eth0", &format!("{MON_ADDR}/24"));
        Some(mon)
    } else {
        None
    };

    // Encode everything before any session exists.
    let caps = SessionCaps::four_octet();
    let t = Instant::now();
    let (bytes, messages) = encode_updates(n, args.attr_sets, variant, &caps)?;
    eprintln!(
        "{label} encoded {n} prefixes in {messages} UPDATEs ({:.1} MB) in {:.2} s",
        bytes.len() as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    row.updates_sent = messages;
    row.bytes_sent = bytes.len();

    let procs = start_dut(args, dut, kernel, &dutn)?;
    let alive = || procs.alive();
    let setup_deadline = Instant::now() + Duration::from_secs(60);
    let (monitor, injector) = match &mon {
        Some(mon) => {
            let m = dial(
                "monitor",
                mon.ns(),
                DUT_MON_ADDR,
                our_open(MON_AS, MON_ADDR),
                n as u64,
                setup_deadline,
                &alive,
            )?;
            let g = dial(
                "injector",
                gen.ns(),
                DUT_GEN_ADDR,
                our_open(GEN_AS, GEN_ADDR),
                0,
                setup_deadline,
                &alive,
            )?;
            (m, g)
        }
        None => {
            let listener = in_namespace(dutn.ns(), || {
                TcpListener::bind(SocketAddrV4::new(DUT_GEN_ADDR, 179))
            })
            .map_err(|e| format!("listen: {e}"))?;
            let acc = std::thread::spawn(move || {
                let s = accept(&listener, setup_deadline)?;
                establish(
                    "monitor",
                    s,
                    our_open(DUT_AS, DUT_GEN_ADDR),
                    n as u64,
                    Duration::from_secs(10),
                )
            });
            let g = dial(
                "injector",
                gen.ns(),
                DUT_GEN_ADDR,
                our_open(GEN_AS, GEN_ADDR),
                0,
                setup_deadline,
                &alive,
            )?;
            let m = acc.join().map_err(|_| "monitor thread panicked")??;
            (m, g)
        }
    };
    eprintln!(
        "{label} sessions up (DUT AS {} / {}, hold {} s)",
        monitor.remote.asn(),
        injector.remote.asn(),
        injector.remote.hold_time.min(HOLD_TIME)
    );
    if injector.caps.max_message_len() != caps.max_message_len() {
        return Err("unexpected message size negotiated".into());
    }
    // Let the DUT settle (initial End-of-RIBs, timers) before the clock.
    std::thread::sleep(Duration::from_secs(1));

    let mut kernel_watch = None;
    if kernel {
        let mut counter = RouteCounter::in_namespace(dutn.ns()).map_err(|e| e.to_string())?;
        let base = counter
            .count(MAIN_TABLE, false)
            .map_err(|e| e.to_string())?;
        let w = RouteWatcher::start(dutn.ns(), MAIN_TABLE, false, n as i64)
            .map_err(|e| format!("route watcher: {e}"))?;
        kernel_watch = Some((counter, base, w));
    }

    let cpu0 = procs.cpu_seconds();
    let sent = Arc::new(AtomicU64::new(0));
    let sent_at: Arc<Mutex<Option<Result<Instant, String>>>> = Arc::new(Mutex::new(None));
    let t0 = Instant::now();
    let sender = {
        let (sent, sent_at) = (sent.clone(), sent_at.clone());
        let inj = injector;
        std::thread::spawn(move || {
            let r = inj.send_all(&bytes, &sent).map(|_| Instant::now());
            *lock(&sent_at) = Some(r);
            inj
        })
    };

    // Wait, with a progress line every second.
    let deadline = t0 + timeout;
    let stall = Duration::from_secs(args.stall);
    let mut next_line = t0 + Duration::from_secs(1);
    let (mut last_seen, mut moved) = ((0u64, 0i64, 0u64), Instant::now());
    let mut kernel_done: Option<(Instant, usize)> = None;
    let total = row.bytes_sent as u64;
    let outcome: Result<(), String> = loop {
        if let Err(e) = procs.alive() {
            break Err(e);
        }
        if let Some(Err(e)) = lock(&sent_at).as_ref() {
            break Err(e.clone());
        }
        if let Some(e) = monitor.stats.ended() {
            break Err(format!("monitor session ended: {e}"));
        }
        let mon_done = monitor.stats.reached_at();
        if let Some((counter, base, w)) = kernel_watch.as_mut() {
            if kernel_done.is_none() && (w.reached_at().is_some() || w.overflowed()) {
                let c = counter
                    .count(MAIN_TABLE, false)
                    .map_err(|e| e.to_string())?;
                if c >= *base + n {
                    let at = match w.reached_at() {
                        Some(t) if !w.overflowed() => t,
                        _ => Instant::now(),
                    };
                    kernel_done = Some((at, c - *base));
                }
            }
        }
        let kernel_ok = kernel_watch.is_none() || kernel_done.is_some();
        if mon_done.is_some() && kernel_ok {
            break Ok(());
        }
        let now = Instant::now();
        let seen = (
            monitor.stats.prefixes.load(Ordering::Relaxed),
            kernel_watch.as_ref().map_or(0, |(_, _, w)| w.count()),
            sent.load(Ordering::Relaxed),
        );
        if seen != last_seen {
            (last_seen, moved) = (seen, now);
        } else if now.duration_since(moved) > stall {
            break Err(format!("nothing moved for {stall:?}"));
        }
        if now >= deadline {
            break Err(format!("not done within {timeout:?}"));
        }
        if now >= next_line {
            next_line += Duration::from_secs(1);
            let mut line = format!(
                "{label} {:6.1} s  sent {:5.1}%  monitor {:>9}/{n} ({} UPDATEs)",
                now.duration_since(t0).as_secs_f64(),
                seen.2 as f64 * 100.0 / total.max(1) as f64,
                seen.0,
                monitor.stats.updates.load(Ordering::Relaxed),
            );
            if kernel_watch.is_some() {
                let _ = write!(line, "  kernel {:>9}", seen.1);
            }
            if let Some(p) = procs.procs.first() {
                let _ = write!(
                    line,
                    "  {} RSS {} MiB",
                    p.name(),
                    p.status_kib("VmRSS").unwrap_or(0) / 1024
                );
            }
            eprintln!("{line}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    row.hwm_kib = procs.hwm();
    if dut != Dut::None {
        row.cpu_seconds = Some(procs.cpu_seconds() - cpu0);
    }
    row.mon_prefixes = monitor.stats.prefixes.load(Ordering::Relaxed);
    row.mon_updates = monitor.stats.updates.load(Ordering::Relaxed);
    if let Some(t) = monitor.stats.reached_at() {
        row.seconds = Some(t.duration_since(t0).as_secs_f64());
    }
    if let Some(Ok(t)) = lock(&sent_at).as_ref() {
        row.inject_seconds = Some(t.duration_since(t0).as_secs_f64());
    }
    if let Some((at, c)) = kernel_done {
        row.kernel_seconds = Some(at.duration_since(t0).as_secs_f64());
        row.kernel_routes = Some(c);
    }
    eprintln!(
        "{label} done: monitor {} prefixes in {} s, kernel {:?} s, VmHWM {:?}",
        row.mon_prefixes,
        row.seconds.map_or("-".into(), |s| format!("{s:.2}")),
        row.kernel_seconds,
        row.hwm_kib
    );
    procs.kill();
    monitor.close();
    if let Ok(inj) = sender.join() {
        if let Some(e) = inj.stats.ended() {
            if outcome.is_err() {
                eprintln!("{label} injector session: {e}");
            }
        }
        inj.close();
    }
    if let Some((_, _, mut w)) = kernel_watch {
        w.stop();
    }
    outcome
}

// ---------------------------------------------------------------------------
// Report

fn print_table(rows: &[Row]) {
    println!(
        "\n{:<5} {:<7} {:<6} {:>9} {:>9} {:>12} {:>9} {:>22} {:>9} {:>9} {:>10}",
        "DUT",
        "variant",
        "kernel",
        "N",
        "seconds",
        "prefixes/s",
        "inject s",
        "VmHWM MiB",
        "kernel s",
        "DUT CPU s",
        "load"
    );
    for r in rows {
        let hwm = if r.hwm_kib.is_empty() {
            "-".to_string()
        } else {
            r.hwm_kib
                .iter()
                .map(|(p, k)| format!("{p} {:.0}", *k as f64 / 1024.0))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let f = |v: Option<f64>, p: usize| v.map_or("-".to_string(), |x| format!("{x:.p$}"));
        println!(
            "{:<5} {:<7} {:<6} {:>9} {:>9} {:>12} {:>9} {:>22} {:>9} {:>9} {:>10}{}",
            r.dut,
            r.variant,
            if r.kernel { "yes" } else { "no" },
            r.n,
            f(r.seconds, 2),
            f(r.seconds.map(|s| r.n as f64 / s), 0),
            f(r.inject_seconds, 2),
            hwm,
            f(r.kernel_seconds, 2),
            f(r.cpu_seconds, 2),
            format!("{:.1}/{:.1}", r.load.0, r.load.1),
            r.failed.as_ref().map_or(String::new(), |e| format!(
                "  ({})",
                e.lines().next().unwrap_or("")
            )),
        );
    }
}

fn run(args: &Args) -> Result<Vec<Row>, String> {
    if !topotests::is_root() {
        return Err("must run as root (it creates network namespaces)".into());
    }
    if args.prefixes == 0 || args.prefixes > MAX_PREFIXES {
        return Err(format!("--prefixes must be 1..={MAX_PREFIXES}"));
    }
    if args.attr_sets == 0 || args.attr_sets > 10_000 {
        return Err("--attr-sets must be 1..=10000".into());
    }
    let duts = match args.dut {
        DutArg::Bird => vec![Dut::Bird],
        DutArg::Frr => vec![Dut::Frr],
        DutArg::Ours => vec![Dut::Ours],
        DutArg::None => vec![Dut::None],
        DutArg::All => vec![Dut::Bird, Dut::Frr, Dut::Ours],
    };
    let variants = match args.variant {
        VariantArg::Packed => vec![Variant::Packed],
        VariantArg::Single => vec![Variant::Single],
        VariantArg::Both => vec![Variant::Packed, Variant::Single],
    };
    let kernels = match args.kernel {
        KernelArg::Off => vec![false],
        KernelArg::On => vec![true],
        KernelArg::Both => vec![false, true],
    };
    let mut rows = Vec::new();
    for &dut in &duts {
        for &kernel in &kernels {
            if kernel && dut == Dut::None {
                continue;
            }
            for &variant in &variants {
                let row = run_one(args, dut, variant, kernel);
                let unavailable = row
                    .failed
                    .as_ref()
                    .is_some_and(|e| e.contains("not available"));
                rows.push(row);
                if unavailable {
                    break;
                }
            }
        }
    }
    Ok(rows)
}

fn machine() -> serde_json::Value {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default()
        .trim()
        .to_string();
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split(':').nth(1))
        .unwrap_or("")
        .trim()
        .to_string();
    serde_json::json!({"cpus": cpus, "kernel": kernel, "cpu": model})
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(rows) => {
            print_table(&rows);
            if let Some(p) = &args.json {
                let v = serde_json::json!({
                    "machine": machine(),
                    "attr_sets": args.attr_sets,
                    "runs": rows.iter().map(Row::json).collect::<Vec<_>>(),
                });
                let text = serde_json::to_string_pretty(&v).unwrap_or_default();
                if let Err(e) = std::fs::write(p, text + "\n") {
                    eprintln!("bench_bgp: cannot write {}: {e}", p.display());
                    return ExitCode::FAILURE;
                }
            }
            if rows.iter().any(|r| {
                r.failed
                    .as_ref()
                    .is_some_and(|e| !e.contains("not available"))
            }) {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("bench_bgp: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(bytes: &[u8], caps: &SessionCaps) -> Vec<Message> {
        let mut out = Vec::new();
        let mut rest = bytes;
        while !rest.is_empty() {
            let len = frame_length(rest, caps).unwrap().unwrap();
            out.push(decode_message(&rest[..len], caps).unwrap().message);
            rest = &rest[len..];
        }
        out
    }

    #[test]
    fn packed_stream_carries_every_prefix_once() {
        let caps = SessionCaps::four_octet();
        for sets in [1, 3] {
            let (bytes, count) = encode_updates(5000, sets, Variant::Packed, &caps).unwrap();
            let msgs = frames(&bytes, &caps);
            assert_eq!(msgs.len(), count);
            let mut set = PrefixSet::new();
            for m in &msgs {
                let Message::Update(u) = m else { panic!() };
                assert!(u.nlri.len() < 1100);
                u.nlri.iter().for_each(|n| set.add(n.prefix));
            }
            assert_eq!(set.count, 5000);
            let Some(Message::Update(last)) = msgs.last() else {
                panic!()
            };
            assert!(last.end_of_rib_family().is_some());
        }
    }

    #[test]
    fn single_stream_has_one_prefix_per_update() {
        let caps = SessionCaps::four_octet();
        let (bytes, count) = encode_updates(100, 2, Variant::Single, &caps).unwrap();
        assert_eq!(count, 101);
        let msgs = frames(&bytes, &caps);
        assert!(msgs[..100]
            .iter()
            .all(|m| matches!(m, Message::Update(u) if u.nlri.len() == 1)));
    }

    #[test]
    fn prefix_set_counts_distinct() {
        let mut s = PrefixSet::new();
        s.add(IpNetwork::V4(prefix(0)));
        s.add(IpNetwork::V4(prefix(0)));
        s.add("10.0.0.0/8".parse().unwrap());
        assert_eq!(s.count, 2);
        s.remove(IpNetwork::V4(prefix(0)));
        s.remove(IpNetwork::V4(prefix(1)));
        assert_eq!(s.count, 1);
        assert_eq!(prefix(1).to_string(), "1.0.1.0/24");
    }
}

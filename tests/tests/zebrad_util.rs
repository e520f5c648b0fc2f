//! Helpers shared by the zebrad topology tests (`zebrad_static.rs`,
//! `zebrad_lifecycle.rs`), included with `#[path]`: the r1/r2/r3 topology,
//! starting zebrad, reading the kernel's routes of a given protocol id, and a
//! small blocking gRPC client.
//!
//! Topology: r1 runs zebrad; r1 eth0 192.0.2.1/24 + 2001:db8:1::1/64 -- r2
//! eth0 192.0.2.2/24 + 2001:db8:1::2/64; r1 eth1 198.51.100.1/24 -- r3 eth0
//! 198.51.100.2/24.
#![allow(dead_code)]

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use proto::transport::{connect, Address};
use proto::zebra::zebra_client::ZebraClient;
use proto::zebra::{
    push_request, Hello, Nexthop, PushReply, PushRequest, RibEntry, Route, RouteBatch, RouteKey,
    RouteKind, RouteSource, ShowRoutesRequest, StatusReply, StatusRequest,
};
use serde_json::Value;
use tokio::runtime::Runtime;
use tokio_stream::StreamExt;
use tonic::transport::Channel;
use topotests::{bin, Lab, Node, Proc};

/// Kernel protocol ids zebrad installs with.
pub const STATIC: u32 = 196;
pub const BGP: u32 = 186;
/// The kernel priority (metric) of every route zebrad installs.
pub const METRIC: u64 = 20;
pub const MAIN: u32 = 254;

/// Timeout for anything that should happen "at once" (a route installed
/// after a config load, a reinstall).
pub const SOON: Duration = Duration::from_secs(10);

pub struct Topo {
    pub lab: Lab,
    pub r1: Node,
    pub r2: Node,
    pub r3: Node,
}

/// The three-router topology of the zebrad tests.
pub fn topo(test: &str) -> Topo {
    let lab = Lab::new(test);
    let r1 = lab.node("r1");
    let r2 = lab.node("r2");
    let r3 = lab.node("r3");
    lab.link(&r1, "eth0", &r2, "eth0");
    lab.link(&r1, "eth1", &r3, "eth0");
    r1.add_addr("eth0", "192.0.2.1/24");
    r2.add_addr("eth0", "192.0.2.2/24");
    r1.add_addr("eth0", "2001:db8:1::1/64");
    r2.add_addr("eth0", "2001:db8:1::2/64");
    r1.add_addr("eth1", "198.51.100.1/24");
    r3.add_addr("eth0", "198.51.100.2/24");
    Topo { lab, r1, r2, r3 }
}

/// Starts zebrad on `node` with config `cfg` and waits for its socket.
pub fn start_zebrad(node: &Node, cfg: &Path) -> Proc {
    let z = bin("zebrad").to_string_lossy().into_owned();
    let c = cfg.to_string_lossy().into_owned();
    let run = node.run_dir().to_string_lossy().into_owned();
    let p = node.spawn_env(
        "zebrad",
        &[&z, "-f", &c, "--run-dir", &run],
        &[("ZEBRAD_LOG", "info,zebrad=debug")],
    );
    p.wait_socket(&node.socket("zebrad"), Duration::from_secs(20));
    p
}

/// Runs `zebrad` to completion with `args` (e.g. `--check -f x`): its exit
/// code and stdout+stderr.
pub fn run_zebrad(node: &Node, args: &[&str]) -> (Option<i32>, String) {
    let z = bin("zebrad").to_string_lossy().into_owned();
    let run = node.run_dir().to_string_lossy().into_owned();
    let mut all = vec![z.as_str(), "--run-dir", run.as_str()];
    all.extend_from_slice(args);
    match node.exec_timeout(&all, Duration::from_secs(20)) {
        Ok(out) => (Some(0), out),
        Err(e) => (e.status, format!("{}{}", e.stdout, e.stderr)),
    }
}

/// The kernel's routes with protocol id `proto` in `table`, as `ip -j`
/// shows them.
pub fn routes_of(node: &Node, table: u32, v6: bool, proto: u32) -> Vec<Value> {
    let fam = if v6 { "-6" } else { "-4" };
    let (t, p) = (table.to_string(), proto.to_string());
    match node.exec(&["ip", "-j", fam, "route", "show", "table", &t, "proto", &p]) {
        Ok(out) if out.trim().is_empty() => Vec::new(),
        Ok(out) => serde_json::from_str(&out).unwrap_or_else(|e| panic!("bad JSON ({e}): {out}")),
        Err(e) if e.stderr.contains("does not exist") => Vec::new(),
        Err(e) => panic!("reading routes: {e}"),
    }
}

/// The route to `dst` with protocol `proto` in `table`, if present.
pub fn route_of(node: &Node, table: u32, dst: &str, proto: u32) -> Option<Value> {
    let v6 = dst.contains(':');
    let bare = dst
        .strip_suffix("/32")
        .filter(|_| !v6)
        .or_else(|| dst.strip_suffix("/128").filter(|_| v6))
        .unwrap_or(dst);
    routes_of(node, table, v6, proto)
        .into_iter()
        .find(|r| r["dst"].as_str() == Some(bare))
}

/// A route's nexthops as (gateway, dev, flags), single or multipath.
pub fn nexthops(r: &Value) -> Vec<(String, String, Vec<String>)> {
    let one = |v: &Value| {
        (
            v["gateway"].as_str().unwrap_or("").to_string(),
            v["dev"].as_str().unwrap_or("").to_string(),
            v["flags"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|f| f.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
        )
    };
    match r["nexthops"].as_array() {
        Some(a) => a.iter().map(one).collect(),
        None => vec![one(r)],
    }
}

/// The nexthops of `r` as sorted "gateway dev" strings, for comparisons.
pub fn nh_set(r: &Value) -> Vec<String> {
    let mut v: Vec<String> = nexthops(r)
        .into_iter()
        .map(|(g, d, _)| format!("{g} {d}"))
        .collect();
    v.sort();
    v
}

/// Asserts that `r` is a zebrad route (metric 20) of `nh` ("gw dev" each).
pub fn assert_route(r: &Value, nh: &[&str]) {
    assert_eq!(r["metric"].as_u64(), Some(METRIC), "metric: {r}");
    let mut want: Vec<String> = nh.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(nh_set(r), want, "nexthops: {r}");
    for (_, _, flags) in nexthops(r) {
        assert!(!flags.iter().any(|f| f == "dead"), "dead nexthop: {r}");
    }
}

/// Waits (bounded) for the route and returns it.
pub fn wait_route(node: &Node, table: u32, dst: &str, proto: u32, t: Duration) -> Value {
    topotests::wait_for(
        t,
        &format!("{dst} (proto {proto}) in table {table}"),
        || route_of(node, table, dst, proto),
    )
}

/// Waits (bounded) until the route with those nexthops is in the kernel.
pub fn wait_route_nh(node: &Node, table: u32, dst: &str, proto: u32, nh: &[&str]) -> Value {
    let mut want: Vec<String> = nh.iter().map(|s| s.to_string()).collect();
    want.sort();
    let mut last = None;
    let r = topotests::try_wait_until(
        SOON,
        &format!("{dst} in table {table} via {want:?}"),
        || {
            last = route_of(node, table, dst, proto);
            last.as_ref().is_some_and(|r| {
                nh_set(r) == want
                    && nexthops(r)
                        .iter()
                        .all(|(_, _, f)| !f.iter().any(|f| f == "dead"))
            })
        },
    );
    if let Err(e) = r {
        panic!("{e}; last seen: {last:?}");
    }
    last.unwrap_or_default()
}

/// Waits (bounded) until the route is gone.
pub fn wait_gone(node: &Node, table: u32, dst: &str, proto: u32, t: Duration) {
    let mut last = None;
    let r = topotests::try_wait_until(
        t,
        &format!("{dst} (proto {proto}) gone from table {table}"),
        || {
            last = route_of(node, table, dst, proto);
            last.is_none()
        },
    );
    if let Err(e) = r {
        panic!("{e}; still there: {last:?}");
    }
}

/// A set of (table, prefix) expected to be in the kernel with `proto`:
/// which of them are missing now. One `ip` call per family.
pub fn missing(node: &Node, proto: u32, expect: &[(u32, &str)]) -> Vec<String> {
    let mut have = Vec::new();
    for v6 in [false, true] {
        if !expect.iter().any(|(_, p)| p.contains(':') == v6) {
            continue;
        }
        let fam = if v6 { "-6" } else { "-4" };
        let p = proto.to_string();
        let out = match node.exec(&[
            "ip", "-j", fam, "route", "show", "table", "all", "proto", &p,
        ]) {
            Ok(o) => o,
            Err(e) => return vec![format!("ip failed: {e}")],
        };
        let v: Vec<Value> = if out.trim().is_empty() {
            Vec::new()
        } else {
            serde_json::from_str(&out).unwrap_or_default()
        };
        for r in v {
            let table = match r["table"].as_str() {
                None | Some("main") => MAIN,
                Some(t) => t.parse().unwrap_or(0),
            };
            have.push((table, r["dst"].as_str().unwrap_or("").to_string()));
        }
    }
    expect
        .iter()
        .filter(|(t, p)| {
            let bare = p.strip_suffix("/32").unwrap_or(p);
            !have.iter().any(|(ht, hp)| ht == t && hp == bare)
        })
        .map(|(t, p)| format!("{p} table {t}"))
        .collect()
}

/// Polls the kernel on a thread until stopped, recording every moment any
/// of `expect` was missing.
pub struct PresenceWatch {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<(usize, Vec<String>)>>,
}

impl PresenceWatch {
    pub fn start(node: &Node, proto: u32, expect: &[(u32, &str)]) -> PresenceWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let (n, s) = (node.clone(), stop.clone());
        let expect: Vec<(u32, String)> = expect.iter().map(|(t, p)| (*t, p.to_string())).collect();
        let handle = std::thread::spawn(move || {
            let exp: Vec<(u32, &str)> = expect.iter().map(|(t, p)| (*t, p.as_str())).collect();
            let start = Instant::now();
            let (mut polls, mut gaps) = (0, Vec::new());
            while !s.load(Ordering::SeqCst) {
                let m = missing(&n, proto, &exp);
                polls += 1;
                if !m.is_empty() {
                    gaps.push(format!("at {:?}: missing {m:?}", start.elapsed()));
                }
            }
            (polls, gaps)
        });
        PresenceWatch {
            stop,
            handle: Some(handle),
        }
    }

    /// Stops polling: (number of polls, the moments something was missing).
    pub fn finish(mut self) -> (usize, Vec<String>) {
        self.stop.store(true, Ordering::SeqCst);
        self.handle
            .take()
            .map(|h| h.join().expect("presence thread"))
            .unwrap_or_default()
    }
}

impl Drop for PresenceWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

// ---------------------------------------------------------------------------
// gRPC

/// A route for the wire: `prefix` via `gws` in `table` (0 = main).
pub fn route(prefix: &str, gws: &[&str], table: u32) -> Route {
    let p = proto::parse_prefix(prefix).expect("prefix");
    Route {
        prefix: Some(proto::prefix_to_wire(p)),
        nexthops: gws
            .iter()
            .map(|g| Nexthop {
                gateway: proto::addr_to_bytes(g.parse().expect("gateway")),
                ..Default::default()
            })
            .collect(),
        table,
        kind: RouteKind::Unicast as i32,
        ..Default::default()
    }
}

pub fn key(prefix: &str, table: u32) -> RouteKey {
    let p = proto::parse_prefix(prefix).expect("prefix");
    RouteKey {
        prefix: Some(proto::prefix_to_wire(p)),
        table,
    }
}

/// A blocking gRPC client of one zebrad.
pub struct Zc {
    rt: Arc<Runtime>,
    client: ZebraClient<Channel>,
}

impl Zc {
    pub fn new(sock: &Path) -> Zc {
        let rt = Arc::new(Runtime::new().expect("tokio runtime"));
        let ch = rt
            .block_on(connect(&Address::Unix(sock.to_path_buf())))
            .expect("connect to zebrad");
        Zc {
            rt,
            client: ZebraClient::new(ch),
        }
    }

    pub fn status(&self) -> StatusReply {
        let mut c = self.client.clone();
        self.rt
            .block_on(c.status(StatusRequest {}))
            .expect("Status")
            .into_inner()
    }

    /// Every RIB entry of `table` (0 = main).
    pub fn show(&self, table: u32) -> Vec<RibEntry> {
        let mut c = self.client.clone();
        self.rt
            .block_on(c.show_routes(ShowRoutesRequest {
                table,
                ..Default::default()
            }))
            .expect("ShowRoutes")
            .into_inner()
            .routes
    }

    /// The RIB entries for `prefix` in `table`.
    pub fn show_prefix(&self, table: u32, prefix: &str) -> Vec<RibEntry> {
        let p = proto::parse_prefix(prefix).expect("prefix");
        self.show(table)
            .into_iter()
            .filter(|e| {
                e.prefix
                    .as_ref()
                    .and_then(|w| proto::prefix_from_wire(w).ok())
                    == Some(p)
            })
            .collect()
    }

    /// Opens a PushRoutes stream as `source`/`instance`; returns the pusher
    /// and the answer to Hello.
    pub fn pusher(&self, source: RouteSource, instance: &str, stale_time: u32) -> Pusher {
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        let mut c = self.client.clone();
        let instance = instance.to_string();
        let (replies, hello) = self.rt.block_on(async {
            tx.send(PushRequest {
                msg: Some(push_request::Msg::Hello(Hello {
                    source: source as i32,
                    instance,
                    stale_time,
                })),
            })
            .await
            .expect("hello");
            let mut replies = c
                .push_routes(tokio_stream::wrappers::ReceiverStream::new(rx))
                .await
                .expect("PushRoutes")
                .into_inner();
            let hello = tokio::time::timeout(Duration::from_secs(10), replies.next())
                .await
                .expect("answer to Hello within 10 s")
                .expect("stream open")
                .expect("hello reply");
            (replies, hello)
        });
        Pusher {
            rt: self.rt.clone(),
            tx: Some(tx),
            replies: Some(replies),
            hello,
        }
    }
}

/// One client's PushRoutes stream; dropping it disconnects the client.
pub struct Pusher {
    rt: Arc<Runtime>,
    tx: Option<tokio::sync::mpsc::Sender<PushRequest>>,
    replies: Option<tonic::Streaming<PushReply>>,
    /// zebrad's answer to Hello.
    pub hello: PushReply,
}

impl Pusher {
    /// Sends one batch and waits (bounded) for its answer.
    pub fn batch(&mut self, seq: u64, add: Vec<Route>, del: Vec<RouteKey>, eor: bool) -> PushReply {
        let tx = self.tx.clone().expect("open");
        let replies = self.replies.as_mut().expect("open");
        self.rt.block_on(async {
            tx.send(PushRequest {
                msg: Some(push_request::Msg::Batch(RouteBatch {
                    seq,
                    add,
                    del,
                    end_of_rib: eor,
                })),
            })
            .await
            .expect("send batch");
            let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
            loop {
                let r = tokio::time::timeout_at(deadline, replies.next())
                    .await
                    .expect("an answer within 20 s")
                    .expect("stream open")
                    .expect("reply");
                if r.seq == seq {
                    break r;
                }
            }
        })
    }

    /// Closes the stream (the client disconnects).
    pub fn close(mut self) {
        self.tx.take();
        self.replies.take();
    }
}

impl Zc {
    /// Asks zebrad to reload its config file over gRPC.
    pub fn reload(&self) -> proto::zebra::ReloadReply {
        let mut c = self.client.clone();
        self.rt
            .block_on(c.reload(proto::zebra::ReloadRequest {}))
            .expect("Reload")
            .into_inner()
    }
}

/// Waits (bounded) until `p`'s log contains `needle`, counting only what
/// was logged after byte `from` (see [`log_len`]).
pub fn wait_log(p: &Proc, from: usize, needle: &str, t: Duration) -> String {
    topotests::wait_for(t, &format!("`{needle}` in {}'s log", p.name()), || {
        let log = p.log();
        let new = log.get(from..).unwrap_or("").to_string();
        new.contains(needle).then_some(new)
    })
}

/// How much `p` has logged so far.
pub fn log_len(p: &Proc) -> usize {
    p.log().len()
}

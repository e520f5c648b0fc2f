//! Benchmark of zebrad's route push: how fast N routes pushed over gRPC end
//! up in a kernel table, against `ip -batch` installing the same routes, and
//! how much memory zebrad needs per route.
//!
//! Everything happens inside two throwaway namespaces made by the test bed:
//! `bench` (zebrad, tables 100 and 200) and `peer` (192.0.2.2, the nexthop).
//! The pushed prefixes are IPv4 /24s from 1.0.0.0 upward (/32s when more
//! than fit are asked for), in a fixed shuffled order; they exist only in
//! table 100/200 of the `bench` namespace, which is deleted at the end.
//!
//! Timing: from the first route batch sent to the moment the kernel's route
//! notifications for table 100 reach N (confirmed by a netlink dump of the
//! table; if notifications were lost, the time of the dump that first saw N).
//! For `ip -batch`, only the run of `ip -batch` over a file written before.
//! With `--outside-delete`: after the push, `ip nexthop del` of the kernel
//! nexthop object the routes name (the kernel drops them all without a
//! notification), timed until zebrad has every route back (notifications
//! of table 100 reach N again, confirmed by a dump).
//!
//! ```text
//! cargo build --workspace --bins --release
//! sudo ROUTING_BIN_DIR=target/release target/release/bench_zebrad --routes 1000000 --json bench.json
//! ```

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use proto::transport::{connect, Address, MAX_MESSAGE_SIZE};
use proto::zebra::zebra_client::ZebraClient;
use proto::zebra::{push_request, Hello, Nexthop, Prefix, PushRequest, Route, RouteBatch};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;
use topotests::netlink::{wait_count, RouteCounter, RouteWatcher};
use topotests::{Lab, Node, Proc};

const ZEBRAD_TABLE: u32 = 100;
const IP_BATCH_TABLE: u32 = 200;
const GATEWAY: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);

#[derive(Parser, Debug)]
#[command(about = "Benchmark zebrad's route push into the kernel against `ip -batch`")]
struct Args {
    /// How many distinct IPv4 routes to push.
    #[arg(long, default_value_t = 1_000_000)]
    routes: usize,
    /// Routes per RouteBatch message.
    #[arg(long, default_value_t = 10_000)]
    batch: usize,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Measure zebrad only.
    #[arg(long)]
    skip_ip_batch: bool,
    /// The zebrad binary (default: found like the topology tests do).
    #[arg(long)]
    zebrad: Option<PathBuf>,
    /// After the push, delete the kernel nexthop object every route names
    /// (`ip nexthop del`, as an operator would): the kernel drops the routes
    /// without notifying; time until zebrad has put them all back.
    #[arg(long)]
    outside_delete: bool,
    /// Upper bound for each phase (push, install, ip -batch), in seconds.
    #[arg(long, default_value_t = 900)]
    timeout: u64,
}

/// One measured way of installing the routes.
struct Measure {
    method: &'static str,
    seconds: f64,
    installed: usize,
}

/// `n` distinct prefixes: /24s from 1.0.0.0 up while they fit below
/// 224.0.0.0, else /32s from 1.0.0.0 up; shuffled with a fixed seed.
fn prefixes(n: usize) -> Vec<(Ipv4Addr, u8)> {
    let max24 = (224usize - 1) << 16;
    let (len, step) = if n <= max24 { (24u8, 256u32) } else { (32, 1) };
    let base = u32::from(Ipv4Addr::new(1, 0, 0, 0));
    let mut v: Vec<(Ipv4Addr, u8)> = (0..n as u32)
        .map(|i| (Ipv4Addr::from(base.wrapping_add(i.wrapping_mul(step))), len))
        .collect();
    // Fisher-Yates with xorshift64*: deterministic, no dependency.
    let mut s: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in (1..v.len()).rev() {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        let r = s.wrapping_mul(0x2545_F491_4F6C_DD1D);
        v.swap(i, (r % (i as u64 + 1)) as usize);
    }
    v
}

/// The push stream's messages, built before the clock starts.
fn requests(pfx: &[(Ipv4Addr, u8)], batch: usize) -> Vec<PushRequest> {
    let hello = PushRequest {
        msg: Some(push_request::Msg::Hello(Hello {
            source: proto::zebra::RouteSource::Bgp as i32,
            instance: "bench".into(),
            stale_time: 0,
        })),
    };
    let chunks = pfx.chunks(batch.max(1));
    let last = chunks.len();
    let mut out = vec![hello];
    for (i, chunk) in chunks.enumerate() {
        let add = chunk
            .iter()
            .map(|(a, l)| Route {
                prefix: Some(Prefix {
                    addr: a.octets().to_vec(),
                    len: u32::from(*l),
                }),
                nexthops: vec![Nexthop {
                    gateway: GATEWAY.octets().to_vec(),
                    ifname: String::new(),
                    weight: 0,
                }],
                table: ZEBRAD_TABLE,
                ..Default::default()
            })
            .collect();
        out.push(PushRequest {
            msg: Some(push_request::Msg::Batch(RouteBatch {
                seq: i as u64 + 1,
                add,
                del: vec![],
                end_of_rib: i + 1 == last,
            })),
        });
    }
    out
}

/// What the push stream told us.
#[derive(Default)]
struct PushOutcome {
    accepted: u64,
    rejected: u64,
    first_rejections: Vec<String>,
    acked_batches: usize,
    all_acked: Option<Duration>,
    /// The open request stream: zebrad keeps the routes fresh while held.
    _stream: Option<tokio::sync::mpsc::Sender<PushRequest>>,
}

/// Send every request and read the replies until every batch is answered.
async fn push(
    socket: PathBuf,
    reqs: Vec<PushRequest>,
    started: std::sync::mpsc::Sender<Instant>,
) -> Result<PushOutcome, String> {
    let channel = connect(&Address::Unix(socket.clone()))
        .await
        .map_err(|e| format!("connecting to {}: {e}", socket.display()))?;
    let mut client = ZebraClient::new(channel)
        .max_decoding_message_size(MAX_MESSAGE_SIZE)
        .max_encoding_message_size(MAX_MESSAGE_SIZE);
    let batches = reqs.len() - 1;
    let (tx, rx) = tokio::sync::mpsc::channel::<PushRequest>(4);
    let mut reqs = reqs.into_iter();
    if let Some(hello) = reqs.next() {
        tx.send(hello).await.map_err(|_| "stream closed")?;
    }
    let mut replies = client
        .push_routes(ReceiverStream::new(rx))
        .await
        .map_err(|e| format!("PushRoutes: {e}"))?
        .into_inner();
    let t0 = Instant::now();
    let _ = started.send(t0);
    let sender = tokio::spawn(async move {
        for r in reqs {
            if tx.send(r).await.is_err() {
                break;
            }
        }
        // Keep the stream open (closing it would mark the routes stale)
        // until the replies are read.
        tx
    });
    let mut out = PushOutcome::default();
    while out.acked_batches < batches {
        match replies.next().await {
            Some(Ok(r)) => {
                if r.seq == 0 {
                    continue; // the answer to Hello
                }
                out.acked_batches += 1;
                out.accepted += u64::from(r.accepted);
                out.rejected += r.rejected.len() as u64;
                for e in r
                    .rejected
                    .iter()
                    .take(5 - out.first_rejections.len().min(5))
                {
                    out.first_rejections.push(e.reason.clone());
                }
            }
            Some(Err(e)) => return Err(format!("PushRoutes reply: {e}")),
            None => return Err("zebrad closed the PushRoutes stream".into()),
        }
    }
    out.all_acked = Some(t0.elapsed());
    out._stream = Some(sender.await.map_err(|e| e.to_string())?);
    Ok(out)
}

/// Stop waiting when the route count has not moved for this long.
const STALL: Duration = Duration::from_secs(30);

fn zebrad_phase(
    args: &Args,
    node: &Node,
    zebrad: &Proc,
    pfx: &[(Ipv4Addr, u8)],
) -> Result<(Measure, PushOutcome, tokio::runtime::Runtime), String> {
    let n = pfx.len();
    let timeout = Duration::from_secs(args.timeout);
    let reqs = requests(pfx, args.batch);
    let mut counter = RouteCounter::in_namespace(node.ns()).map_err(|e| e.to_string())?;
    let mut watcher = RouteWatcher::start(node.ns(), ZEBRAD_TABLE, false, n as i64)
        .map_err(|e| format!("route watcher: {e}"))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let push_task = rt.spawn(push(node.socket("zebrad"), reqs, started_tx));
    let t0 = started_rx
        .recv_timeout(Duration::from_secs(30))
        .map_err(|_| "the PushRoutes stream did not open within 30 s".to_string())?;
    // Wait for the notifications to reach N, cheaply; then confirm by dump.
    let deadline = t0 + timeout;
    let mut done_at = None;
    let (mut last, mut moved, mut stalled) = (0, Instant::now(), false);
    while Instant::now() < deadline {
        if zebrad.exit_status().is_some() {
            return Err(format!(
                "zebrad exited during the push: {:?}",
                zebrad.exit_status()
            ));
        }
        if let Some(t) = watcher.reached_at() {
            done_at = Some(t);
            break;
        }
        if watcher.count() != last {
            (last, moved) = (watcher.count(), Instant::now());
        } else if moved.elapsed() > STALL && !watcher.overflowed() {
            eprintln!("no route change for {STALL:?}; at {last} of {n}");
            stalled = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let (installed, dump_at) = wait_count(
        &mut counter,
        ZEBRAD_TABLE,
        false,
        n,
        Duration::from_millis(200),
        if stalled {
            Duration::ZERO
        } else {
            deadline.saturating_duration_since(Instant::now())
        },
    )
    .map_err(|e| format!("netlink dump: {e}"))?;
    watcher.stop();
    let end = match done_at {
        Some(t) if !watcher.overflowed() && installed >= n => t,
        _ => dump_at,
    };
    let outcome = rt
        .block_on(async {
            tokio::time::timeout(Duration::from_secs(60).min(timeout), push_task).await
        })
        .map_err(|_| "zebrad did not answer every batch".to_string())?
        .map_err(|e| e.to_string())??;
    if installed < n {
        return Err(format!(
            "only {installed} of {n} routes reached table {ZEBRAD_TABLE} within {timeout:?} \
             (zebrad accepted {}, rejected {}: {:?})",
            outcome.accepted, outcome.rejected, outcome.first_rejections
        ));
    }
    Ok((
        Measure {
            method: "zebrad PushRoutes",
            seconds: end.duration_since(t0).as_secs_f64(),
            installed,
        },
        outcome,
        rt,
    ))
}

/// What `--outside-delete` measured.
struct Repair {
    object: u64,
    /// How long `ip nexthop del` took (the kernel drops the routes inside).
    delete_secs: f64,
    /// From `ip nexthop del` until every route is back in the table.
    back_secs: f64,
}

fn outside_delete_phase(
    args: &Args,
    node: &Node,
    zebrad: &Proc,
    n: usize,
) -> Result<Repair, String> {
    let timeout = Duration::from_secs(args.timeout);
    let list = node
        .exec(&["ip", "-j", "nexthop", "show"])
        .map_err(|e| format!("ip nexthop show: {e}"))?;
    let objs: serde_json::Value =
        serde_json::from_str(&list).map_err(|e| format!("ip -j nexthop: {e}: {list}"))?;
    let object = objs
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["id"].as_u64())
        .find(|&id| id >= 0x5a00_0000)
        .ok_or_else(|| format!("no nexthop object of zebrad's: {list}"))?;
    let mut counter = RouteCounter::in_namespace(node.ns()).map_err(|e| e.to_string())?;
    let mut watcher = RouteWatcher::start(node.ns(), ZEBRAD_TABLE, false, n as i64)
        .map_err(|e| format!("route watcher: {e}"))?;
    let t0 = Instant::now();
    node.exec(&["ip", "nexthop", "del", "id", &object.to_string()])
        .map_err(|e| format!("ip nexthop del: {e}"))?;
    let delete_secs = t0.elapsed().as_secs_f64();
    let deadline = t0 + timeout;
    let mut done_at = None;
    while Instant::now() < deadline && zebrad.exit_status().is_none() {
        if let Some(t) = watcher.reached_at() {
            done_at = Some(t);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let (installed, dump_at) = wait_count(
        &mut counter,
        ZEBRAD_TABLE,
        false,
        n,
        Duration::from_millis(200),
        deadline.saturating_duration_since(Instant::now()),
    )
    .map_err(|e| format!("netlink dump: {e}"))?;
    watcher.stop();
    if installed < n {
        return Err(format!(
            "after ip nexthop del, only {installed} of {n} routes came back within {timeout:?}"
        ));
    }
    let end = match done_at {
        Some(t) if !watcher.overflowed() => t,
        _ => dump_at,
    };
    Ok(Repair {
        object,
        delete_secs,
        back_secs: end.duration_since(t0).as_secs_f64(),
    })
}

fn ip_batch_phase(args: &Args, node: &Node, pfx: &[(Ipv4Addr, u8)]) -> Result<Measure, String> {
    let mut file = String::with_capacity(pfx.len() * 56);
    for (a, l) in pfx {
        let _ = writeln!(
            file,
            "route add {a}/{l} via {GATEWAY} table {IP_BATCH_TABLE} proto 186"
        );
    }
    let path = node.write_file("routes.batch", &file);
    let path = path.to_string_lossy().into_owned();
    let t0 = Instant::now();
    node.exec_timeout(&["ip", "-batch", &path], Duration::from_secs(args.timeout))
        .map_err(|e| format!("ip -batch: {e}"))?;
    let seconds = t0.elapsed().as_secs_f64();
    let mut counter = RouteCounter::in_namespace(node.ns()).map_err(|e| e.to_string())?;
    let installed = counter
        .count(IP_BATCH_TABLE, false)
        .map_err(|e| e.to_string())?;
    if installed < pfx.len() {
        return Err(format!(
            "ip -batch left {installed} of {} routes",
            pfx.len()
        ));
    }
    Ok(Measure {
        method: "ip -batch",
        seconds,
        installed,
    })
}

fn run(args: &Args) -> Result<serde_json::Value, String> {
    if !topotests::is_root() {
        return Err("must run as root (it creates network namespaces)".into());
    }
    if args.routes == 0 {
        return Err("--routes must be at least 1".into());
    }
    let zebrad_bin = args
        .zebrad
        .clone()
        .unwrap_or_else(|| topotests::bin("zebrad"));
    let lab = Lab::new("bench_zebrad");
    let node = lab.node("bench");
    let peer = lab.node("peer");
    lab.link(&node, "eth0", &peer, "eth0");
    node.add_addr("eth0", "192.0.2.1/24");
    peer.add_addr("eth0", "192.0.2.2/24");
    let cfg = node.write_file("zebrad.toml", "[rib]\nstale_time = 120\necmp_max = 16\n");
    let run_dir = node.run_dir();
    let zebrad_s = zebrad_bin.to_string_lossy().into_owned();
    let cfg_s = cfg.to_string_lossy().into_owned();
    let run_s = run_dir.to_string_lossy().into_owned();
    let log_level = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
    let zebrad = node.spawn_env(
        "zebrad",
        &[&zebrad_s, "-f", &cfg_s, "--run-dir", &run_s],
        &[("RUST_LOG", &log_level)],
    );
    zebrad.wait_socket(&node.socket("zebrad"), Duration::from_secs(30));
    let base_kib = zebrad.status_kib("VmRSS").unwrap_or(0);

    eprintln!("generating {} prefixes", args.routes);
    let pfx = prefixes(args.routes);
    eprintln!("pushing {} routes to zebrad", args.routes);
    let (zm, outcome, _rt) = match zebrad_phase(args, &node, &zebrad, &pfx) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{}", lab.log_tails(30));
            return Err(e);
        }
    };
    let hwm_kib = zebrad.status_kib("VmHWM").unwrap_or(0);
    zebrad.assert_running();
    let repair = if args.outside_delete {
        eprintln!("deleting zebrad's nexthop object from outside");
        match outside_delete_phase(args, &node, &zebrad, args.routes) {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("{}", lab.log_tails(30));
                return Err(e);
            }
        }
    } else {
        None
    };
    zebrad.assert_running();
    let mut results = vec![zm];
    if !args.skip_ip_batch {
        eprintln!("installing the same routes with ip -batch");
        results.push(ip_batch_phase(args, &node, &pfx)?);
    }

    let n = args.routes as f64;
    let bytes_per_route = (hwm_kib.saturating_sub(base_kib) as f64 * 1024.0) / n;
    let ip_rate = results
        .iter()
        .find(|m| m.method == "ip -batch")
        .map(|m| n / m.seconds);
    println!(
        "\nzebrad route push: {} IPv4 routes, batches of {}",
        args.routes, args.batch
    );
    println!(
        "{:<20} {:>9} {:>11} {:>8} {:>13} {:>11}",
        "method", "seconds", "routes/s", "ratio", "zebrad VmHWM", "bytes/route"
    );
    let mut rows = Vec::new();
    for m in &results {
        let rate = n / m.seconds;
        let ratio = ip_rate.map(|r| rate / r);
        let (hwm, bpr) = if m.method == "ip -batch" {
            ("-".to_string(), "-".to_string())
        } else {
            (
                format!("{:.1} MiB", hwm_kib as f64 / 1024.0),
                format!("{bytes_per_route:.0}"),
            )
        };
        println!(
            "{:<20} {:>9.2} {:>11.0} {:>8} {:>13} {:>11}",
            m.method,
            m.seconds,
            rate,
            ratio.map_or("-".into(), |r| format!("{r:.2}x")),
            hwm,
            bpr
        );
        rows.push(serde_json::json!({
            "method": m.method,
            "seconds": m.seconds,
            "routes_per_sec": rate,
            "ratio_to_ip_batch": ratio,
            "installed": m.installed,
        }));
    }
    if let Some(t) = outcome.all_acked {
        println!(
            "(zebrad answered all {} batches after {:.2} s; accepted {}, rejected {})",
            outcome.acked_batches,
            t.as_secs_f64(),
            outcome.accepted,
            outcome.rejected
        );
    }
    if let Some(r) = &repair {
        println!(
            "ip nexthop del id {}: the kernel dropped the routes in {:.2} s; \
             zebrad had all {} back after {:.2} s",
            r.object, r.delete_secs, args.routes, r.back_secs
        );
    }
    Ok(serde_json::json!({
        "routes": args.routes,
        "batch": args.batch,
        "results": rows,
        "outside_delete": repair.as_ref().map(|r| serde_json::json!({
            "object": r.object,
            "kernel_delete_secs": r.delete_secs,
            "all_back_secs": r.back_secs,
        })),
        "zebrad": {
            "vm_hwm_kib": hwm_kib,
            "rss_before_kib": base_kib,
            "bytes_per_route": bytes_per_route,
            "batches_acked_secs": outcome.all_acked.map(|d| d.as_secs_f64()),
            "accepted": outcome.accepted,
            "rejected": outcome.rejected,
        },
    }))
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(v) => {
            if let Some(p) = &args.json {
                let text = serde_json::to_string_pretty(&v).unwrap_or_default();
                if let Err(e) = std::fs::write(p, text + "\n") {
                    eprintln!("bench_zebrad: cannot write {}: {e}", p.display());
                    return ExitCode::FAILURE;
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench_zebrad: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_distinct_and_canonical() {
        let p = prefixes(70_000);
        let set: std::collections::HashSet<_> = p.iter().collect();
        assert_eq!(set.len(), p.len());
        assert!(p.iter().all(|(a, l)| *l == 24 && a.octets()[3] == 0));
        assert_eq!(prefixes(10), prefixes(10));
        assert_ne!(
            prefixes(10),
            (0..10)
                .map(|i| (Ipv4Addr::from(0x0100_0000 + i * 256), 24))
                .collect::<Vec<_>>()
        );
        let r = requests(&p[..25], 10);
        assert_eq!(r.len(), 4);
    }
}

//! Benchmark of zebrad's VTEP programming: N remote MACs of one VNI pushed
//! over gRPC (PushEvpn, the mapping mode) until the kernel's FDB holds them
//! all, against `bridge -batch` installing the same entries.
//!
//! Everything happens inside two throwaway namespaces made by the test bed:
//! `bench` (zebrad; br100 + vx100, VNI 100, and br200 + vx200, VNI 200 for
//! `bridge -batch`, both with learning off) and `peer` (192.0.2.2, the
//! remote VTEP, reachable over a connected /24).
//!
//! Timing: from the first batch sent to the moment the kernel has notified
//! N new externally learned entries of the VXLAN device (RTNLGRP_NEIGH,
//! followed by a thread; confirmed by one dump at the end). No polling: an
//! FDB dump holds the RTNL lock and restarts its walk on every
//! continuation, so dumping 100,000 entries every 250 ms took more CPU
//! than the writer measured (perf: 59% of all samples in the benchmark's
//! own `br_fdb_dump`). Each entry is the same for both methods: `MAC dev VXLAN dst
//! 192.0.2.2 self master extern_learn` (the VXLAN entry and the bridge's).
//! For `bridge -batch`, only the run over a file written before.
//!
//! ```text
//! cargo build --release -p zebrad -p topotests
//! sudo ROUTING_BIN_DIR=target/release target/release/bench_vtep --macs 100000
//! ```

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use proto::transport::{connect, Address, MAX_MESSAGE_SIZE};
use proto::zebra::zebra_client::ZebraClient;
use proto::zebra::{
    evpn_push_request, EvpnBatch, EvpnHello, EvpnPushRequest, RemoteMac, RemoteVtep,
};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::StreamExt;
use topotests::netlink::{RouteCounter, RouteWatcher};
use topotests::{Lab, Node};

const VTEP: [u8; 4] = [192, 0, 2, 2];

#[derive(Parser, Debug)]
#[command(about = "Benchmark zebrad's remote-MAC programming against `bridge -batch`")]
struct Args {
    /// How many remote MACs to push.
    #[arg(long, default_value_t = 100_000)]
    macs: usize,
    /// MACs per EvpnBatch message.
    #[arg(long, default_value_t = 10_000)]
    batch: usize,
    /// Measure zebrad only.
    #[arg(long)]
    skip_bridge_batch: bool,
    /// Upper bound for each phase, in seconds.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
}

/// The `i`th MAC: locally administered unicast, distinct for every i < 2^32.
fn mac(i: usize) -> [u8; 6] {
    let b = (i as u32).to_be_bytes();
    [0x02, 0x42, b[0], b[1], b[2], b[3]]
}

fn ifindex(node: &Node, dev: &str) -> Result<u32, String> {
    let out = node
        .exec(&["ip", "-j", "link", "show", dev])
        .map_err(|e| e.to_string())?;
    let v: serde_json::Value = serde_json::from_str(&out).map_err(|e| e.to_string())?;
    v[0]["ifindex"]
        .as_u64()
        .map(|i| i as u32)
        .ok_or_else(|| format!("no ifindex for {dev}"))
}

/// Follows the FDB notifications of device `ifx` (subscribed before this
/// returns, so before anything is written).
fn watch_fdb(node: &Node, ifx: u32, n: usize) -> Result<RouteWatcher, String> {
    RouteWatcher::start_fdb(node.ns(), ifx, n as i64).map_err(|e| e.to_string())
}

/// Waits until `w` has seen `n` new entries; returns when it did, after
/// confirming with one dump. If notifications were lost, falls back to
/// dumping once a second.
fn wait_fdb(
    node: &Node,
    mut w: RouteWatcher,
    ifx: u32,
    n: usize,
    timeout: Duration,
) -> Result<Instant, String> {
    let start = Instant::now();
    let mut counter = RouteCounter::in_namespace(node.ns()).map_err(|e| e.to_string())?;
    let done = loop {
        if let Some(t) = w.reached_at() {
            break t;
        }
        if w.overflowed() && counter.count_fdb(ifx).map_err(|e| e.to_string())? >= n {
            break Instant::now();
        }
        if start.elapsed() > timeout {
            return Err(format!(
                "only {} of {n} FDB entries notified after {timeout:?}",
                w.count()
            ));
        }
        std::thread::sleep(Duration::from_millis(if w.overflowed() {
            1000
        } else {
            10
        }));
    };
    if w.overflowed() {
        eprintln!("FDB notifications were lost: the end was found by dumps (1 s resolution)");
    }
    w.stop();
    let c = counter.count_fdb(ifx).map_err(|e| e.to_string())?;
    if c < n {
        return Err(format!("notified {n}, but the FDB holds {c}"));
    }
    Ok(done)
}

fn requests(args: &Args) -> Vec<EvpnPushRequest> {
    let mut v = vec![EvpnPushRequest {
        msg: Some(evpn_push_request::Msg::Hello(EvpnHello {
            client: "bench".into(),
            stale_time: 0,
        })),
    }];
    let ids: Vec<usize> = (0..args.macs).collect();
    for (i, chunk) in ids.chunks(args.batch.max(1)).enumerate() {
        let last = (i + 1) * args.batch.max(1) >= args.macs;
        v.push(EvpnPushRequest {
            msg: Some(evpn_push_request::Msg::Batch(EvpnBatch {
                seq: i as u64 + 1,
                vtep_add: if i == 0 {
                    vec![RemoteVtep {
                        vni: 100,
                        vtep: VTEP.to_vec(),
                    }]
                } else {
                    Vec::new()
                },
                mac_add: chunk
                    .iter()
                    .map(|&j| RemoteMac {
                        vni: 100,
                        mac: mac(j).to_vec(),
                        vtep: VTEP.to_vec(),
                        seq: 0,
                        sticky: false,
                    })
                    .collect(),
                end_of_rib: last,
                ..Default::default()
            })),
        });
    }
    v
}

fn zebrad_phase(args: &Args, node: &Node) -> Result<f64, String> {
    let ifx = ifindex(node, "vx100")?;
    let reqs = requests(args);
    let w = watch_fdb(node, ifx, args.macs)?;
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let sock = node.socket("zebrad");
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let started = Instant::now();
    let replies = rt.spawn(async move {
        let ch = connect(&Address::Unix(sock))
            .await
            .map_err(|e| e.to_string())?;
        let mut c = ZebraClient::new(ch)
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE);
        let mut s = c
            .push_evpn(ReceiverStream::new(rx))
            .await
            .map_err(|e| e.to_string())?
            .into_inner();
        let mut rejected = 0usize;
        while let Some(r) = s.next().await {
            rejected += r.map_err(|e| e.to_string())?.rejected.len();
        }
        Ok::<usize, String>(rejected)
    });
    let sender = rt.spawn(async move {
        for r in reqs {
            if tx.send(r).await.is_err() {
                break;
            }
        }
        // Keep the stream open (a close would make the entries stale).
        tx
    });
    let done = wait_fdb(node, w, ifx, args.macs, Duration::from_secs(args.timeout))?;
    let secs = done.duration_since(started).as_secs_f64();
    drop(rt.block_on(sender));
    replies.abort();
    Ok(secs)
}

fn bridge_batch_phase(args: &Args, node: &Node) -> Result<f64, String> {
    let ifx = ifindex(node, "vx200")?;
    let mut text = String::with_capacity(args.macs * 80);
    text.push_str("fdb append 00:00:00:00:00:00 dev vx200 self dst 192.0.2.2\n");
    for i in 0..args.macs {
        let m = mac(i);
        let _ = writeln!(
            text,
            "fdb add {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} dev vx200 self master dst 192.0.2.2 extern_learn",
            m[0], m[1], m[2], m[3], m[4], m[5]
        );
    }
    let file = node.write_file("fdb.batch", &text);
    let f = file.to_string_lossy().into_owned();
    let w = watch_fdb(node, ifx, args.macs)?;
    let start = Instant::now();
    node.exec_timeout(&["bridge", "-batch", &f], Duration::from_secs(args.timeout))
        .map_err(|e| e.to_string())?;
    let done = wait_fdb(node, w, ifx, args.macs, Duration::from_secs(args.timeout))?;
    Ok(done.duration_since(start).as_secs_f64())
}

fn run(args: &Args) -> Result<serde_json::Value, String> {
    if !topotests::is_root() {
        return Err("must run as root (it creates network namespaces)".into());
    }
    let lab = Lab::new("bench_vtep");
    let node = lab.node("bench");
    let peer = lab.node("peer");
    lab.link(&node, "eth0", &peer, "eth0");
    node.add_addr("eth0", "192.0.2.1/24");
    peer.add_addr("eth0", "192.0.2.2/24");
    node.sh("for v in 100 200; do \
           ip link add br$v type bridge && \
           ip link add vx$v type vxlan id $v local 192.0.2.1 dstport 4789 nolearning && \
           ip link set vx$v master br$v && bridge link set dev vx$v learning off && \
           ip link set br$v up && ip link set vx$v up || exit 1; \
         done")
        .map_err(|e| e.to_string())?;
    let cfg = node.write_file("zebrad.toml", "[rib]\nstale_time = 120\n");
    let zebrad_s = topotests::bin("zebrad").to_string_lossy().into_owned();
    let cfg_s = cfg.to_string_lossy().into_owned();
    let run_s: PathBuf = node.run_dir();
    let run_s = run_s.to_string_lossy().into_owned();
    let zebrad = node.spawn_env(
        "zebrad",
        &[&zebrad_s, "-f", &cfg_s, "--run-dir", &run_s],
        &[("RUST_LOG", "info")],
    );
    zebrad.wait_socket(&node.socket("zebrad"), Duration::from_secs(30));
    eprintln!("pushing {} remote MACs to zebrad", args.macs);
    let z = zebrad_phase(args, &node).inspect_err(|_| eprintln!("{}", lab.log_tails(30)))?;
    zebrad.assert_running();
    let b = if args.skip_bridge_batch {
        None
    } else {
        eprintln!("installing the same entries with bridge -batch");
        Some(bridge_batch_phase(args, &node)?)
    };
    let n = args.macs as f64;
    println!("\nVTEP programming: {} remote MACs of one VNI", args.macs);
    println!(
        "{:<16} {:>9} {:>11} {:>8}",
        "method", "seconds", "MACs/s", "ratio"
    );
    println!(
        "{:<16} {:>9.2} {:>11.0} {:>8}",
        "zebrad (gRPC)",
        z,
        n / z,
        b.map_or("-".into(), |b| format!("{:.2}x", b / z))
    );
    if let Some(b) = b {
        println!(
            "{:<16} {:>9.2} {:>11.0} {:>8}",
            "bridge -batch",
            b,
            n / b,
            "1.00x"
        );
    }
    Ok(serde_json::json!({
        "macs": args.macs,
        "batch": args.batch,
        "zebrad_secs": z,
        "zebrad_macs_per_sec": n / z,
        "bridge_batch_secs": b,
    }))
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(v) => {
            println!("{v}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench_vtep: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_are_distinct_unicast() {
        let a = mac(0);
        let b = mac(70_000);
        assert_ne!(a, b);
        assert_eq!(a[0] & 1, 0);
        assert_eq!(a[0] & 2, 2);
    }
}

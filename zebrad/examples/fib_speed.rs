//! FIB writer benchmark: installs about a million routes in a private
//! network namespace and prints routes per second (install, dump, delete).
//!
//! ```text
//! sudo cargo run --release -p zebrad --example fib_speed -- [v6|v4] [ROUTES] [PER_SEND] [IN_FLIGHT] [inline|objects]
//! ```
//!
//! - `inline` (default): each route carries its gateway; `objects`: one
//!   kernel nexthop object is created first and every route names it
//!   (`RTA_NH_ID`), as zebrad does with `rib.nexthop_objects`.
//! - `v6` (default): /52s of 2001:db8::/32 (2^20 of them) in the main table.
//! - `v4`: /32s of 198.18.0.0/15 (RFC 2544's benchmarking block, 131072 per
//!   table) spread over as many tables as needed: the documentation ranges
//!   cannot hold a million IPv4 prefixes.
//!
//! The process first moves into a new network namespace (`unshare`), so the
//! routes never reach the host's tables and vanish when it exits. Needs root.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::Command;
use std::time::Instant;

use ipnetwork::IpNetwork;
use nix::sched::{unshare, CloneFlags};
use tokio::sync::mpsc;
use zebrad::fib::{self, writer::WriterConfig, FibKind, FibNexthop, FibOp, FibOutcome, FibRoute};

const PROTO: u8 = 186;
/// Ops per submitted batch, about what the RIB hands over at a time.
const BATCH: usize = 8192;

fn ip(args: &str) -> Result<String, String> {
    let out = Command::new("ip")
        .args(args.split_whitespace())
        .output()
        .map_err(|e| format!("ip {args}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "ip {args}: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn arg<T: std::str::FromStr>(args: &[String], i: usize, default: T) -> T {
    args.get(i).and_then(|s| s.parse().ok()).unwrap_or(default)
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let v4 = args.get(1).map(String::as_str) == Some("v4");
    let n: usize = arg(&args, 2, 1_000_000);
    let objects = args.get(5).map(String::as_str) == Some("objects");
    let cfg = WriterConfig {
        per_send: arg(&args, 3, WriterConfig::default().per_send),
        max_in_flight: arg(&args, 4, WriterConfig::default().max_in_flight),
        ..WriterConfig::default()
    };

    unshare(CloneFlags::CLONE_NEWNET)
        .map_err(|e| format!("unshare(CLONE_NEWNET) (root needed): {e}"))?;
    let links = ip("-o link show")?;
    if links.lines().count() != 1 {
        return Err(format!("not in a fresh namespace:\n{links}"));
    }
    ip("link set lo up")?;
    ip("link add veth0 type veth peer name veth1")?;
    ip("addr add 192.0.2.1/24 dev veth0")?;
    ip("addr add 2001:db8::1/64 dev veth0 nodad")?;
    ip("link set veth0 up")?;
    ip("link set veth1 up")?;

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(run(v4, n, cfg, objects))
}

fn routes(v4: bool, n: usize, ifindex: u32) -> Vec<FibRoute> {
    (0..n)
        .map(|i| {
            let (prefix, gw, table) = if v4 {
                let base = u32::from(Ipv4Addr::new(198, 18, 0, 0));
                let host = u32::try_from(i % 131_072).unwrap_or(0);
                let table = 1000 + u32::try_from(i / 131_072).unwrap_or(0);
                let a = Ipv4Addr::from(base + host);
                (
                    IpNetwork::new(IpAddr::V4(a), 32),
                    IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
                    table,
                )
            } else {
                // 2001:db8:XXXX:X000::/52 for i in 0..2^20.
                let i = u128::try_from(i).unwrap_or(0) & 0xf_ffff;
                let a = (0x2001_0db8u128 << 96) | (i << 76);
                let gw: Ipv6Addr = "2001:db8::2".parse().unwrap_or(Ipv6Addr::UNSPECIFIED);
                (
                    IpNetwork::new(IpAddr::V6(Ipv6Addr::from(a)), 52),
                    IpAddr::V6(gw),
                    254,
                )
            };
            FibRoute {
                prefix: prefix
                    .unwrap_or_else(|_| IpNetwork::from(IpAddr::V4(Ipv4Addr::UNSPECIFIED))),
                table,
                protocol: PROTO,
                priority: 20,
                kind: FibKind::Unicast,
                nexthops: vec![FibNexthop {
                    gateway: Some(gw),
                    ifindex,
                    weight: 1,
                }],
                nh_id: 0,
            }
        })
        .collect()
}

/// Submits `ops` in batches and waits for every outcome; returns
/// (seconds, errors).
async fn push(
    w: &fib::FibWriter,
    rx: &mut mpsc::Receiver<Vec<FibOutcome>>,
    ops: Vec<FibOp>,
) -> Result<(f64, usize), String> {
    let n = ops.len();
    let t = Instant::now();
    // Submit from another task while reading outcomes here, as the RIB does
    // (`submit` is not cancel-safe: never race it in a select!).
    let w = w.clone();
    let feeder = tokio::spawn(async move {
        let mut it = ops.into_iter().peekable();
        while it.peek().is_some() {
            if w.submit(it.by_ref().take(BATCH).collect()).await.is_err() {
                return;
            }
        }
    });
    let mut done = 0;
    let mut errors = 0;
    while done < n {
        let o = rx.recv().await.ok_or("writer gone")?;
        done += o.len();
        errors += o.iter().filter(|x| x.error.is_some()).count();
    }
    feeder.await.map_err(|e| e.to_string())?;
    Ok((t.elapsed().as_secs_f64(), errors))
}

async fn run(v4: bool, n: usize, cfg: WriterConfig, objects: bool) -> Result<(), String> {
    let links = zebrad::iface::dump_links()
        .await
        .map_err(|e| e.to_string())?;
    let ifindex = links
        .iter()
        .find(|l| l.name == "veth0")
        .map(|l| l.index)
        .ok_or("no veth0")?;
    let family = if v4 { "IPv4" } else { "IPv6" };
    println!(
        "{n} {family} routes, per_send {}, max_in_flight {}",
        cfg.per_send, cfg.max_in_flight
    );
    let mut routes = routes(v4, n, ifindex);

    let (otx, mut orx) = mpsc::channel(256);
    let w = fib::writer::spawn_writer_with(cfg, otx).map_err(|e| e.to_string())?;
    if objects {
        let Some(gw) = routes.first().and_then(|r| r.nexthops.first()?.gateway) else {
            return Err("no route".into());
        };
        let obj = fib::NexthopObject::single(1, PROTO, gw, ifindex);
        let (_, errors) = push(&w, &mut orx, vec![FibOp::Nexthop(obj)]).await?;
        if errors > 0 {
            return Err("the kernel refused the nexthop object".into());
        }
        for r in &mut routes {
            r.nh_id = 1;
        }
        println!("routes name kernel nexthop object 1");
    }

    let ops = routes.iter().cloned().map(FibOp::Replace).collect();
    let (secs, errors) = push(&w, &mut orx, ops).await?;
    println!(
        "install: {secs:.2} s, {:.0} routes/s, {errors} errors",
        n as f64 / secs
    );

    let t = Instant::now();
    let dumped = fib::dump_routes().await.map_err(|e| e.to_string())?;
    let ours = dumped.iter().filter(|r| r.protocol == PROTO).count();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "dump:    {secs:.2} s, {ours} of ours, {:.0} routes/s",
        dumped.len() as f64 / secs
    );

    // Replace them all again (what a resync does).
    let ops = routes.iter().cloned().map(FibOp::Replace).collect();
    let (secs, errors) = push(&w, &mut orx, ops).await?;
    println!(
        "replace: {secs:.2} s, {:.0} routes/s, {errors} errors",
        n as f64 / secs
    );

    // Delete in a spread order (ascending is quadratic in the kernel).
    let stride = (n / 3..).find(|s| gcd(*s, n) == 1).unwrap_or(1);
    let ops = (0..n)
        .map(|i| {
            let r = &routes[(i * stride) % n];
            FibOp::Delete {
                prefix: r.prefix,
                table: r.table,
                protocol: PROTO,
                priority: r.priority,
            }
        })
        .collect();
    let (secs, errors) = push(&w, &mut orx, ops).await?;
    println!(
        "delete:  {secs:.2} s, {:.0} routes/s, {errors} errors",
        n as f64 / secs
    );
    Ok(())
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

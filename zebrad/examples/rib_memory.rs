//! Memory of the RIB alone: 1M IPv4 routes of one client through one
//! gateway, no kernel. Prints bytes per route (RSS delta) and time.
//! `cargo run --release -p zebrad --example rib_memory [N]`

use std::time::Instant;

use ipnetwork::{IpNetwork, Ipv4Network};
use proto::Source;
use zebrad::rib::{NexthopIn, Rib, RibConfig, RouteIn, RouteKind, MAIN_TABLE};

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let mut rib = Rib::new(RibConfig::default());
    rib.link_update(2, "eth0", true);
    rib.addr_added(2, "192.0.2.1/24".parse().unwrap());
    let client = rib.client(Source::Bgp, "bench");
    let before = rss_kib();
    let t = Instant::now();
    let mut ops = 0usize;
    for chunk in (0..n).collect::<Vec<_>>().chunks(10_000) {
        for &i in chunk {
            let addr = std::net::Ipv4Addr::from(0x0100_0000u32 + (i << 8));
            let prefix = IpNetwork::V4(Ipv4Network::new(addr, 24).unwrap());
            let r = RouteIn {
                prefix,
                table: MAIN_TABLE,
                distance: None,
                metric: 0,
                tag: 0,
                kind: RouteKind::Unicast,
                nexthops: vec![NexthopIn {
                    gateway: Some("192.0.2.2".parse().unwrap()),
                    ifname: None,
                    weight: 1,
                }],
            };
            rib.add(client, &r).unwrap();
        }
        rib.settle();
        ops += rib.take_output().fib.len();
    }
    let el = t.elapsed();
    let after = rss_kib();
    println!(
        "{n} routes: {:.2} s ({:.0} routes/s), {ops} kernel ops, RSS +{} MiB = {:.0} bytes/route",
        el.as_secs_f64(),
        n as f64 / el.as_secs_f64(),
        (after - before) / 1024,
        (after - before) as f64 * 1024.0 / n as f64
    );
}

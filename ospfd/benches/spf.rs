//! SPF timing on synthetic grids: `cargo bench -p ospfd --bench spf`.
//!
//! An n x n grid of routers joined by numbered point-to-point links (each
//! link a /30 with a stub link on both sides, each router a loopback stub),
//! all in the backbone, computed from a corner router so that most
//! destinations have two equal-cost next hops. Prints the best and median
//! of several full calculations (§16.1 tree, stub networks, routing table),
//! plus a run with AS-external routes from every 10th router.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use ipnetwork::Ipv4Network;
use ospfd::lsa::{
    AsExternalLsa, ExternalMetricType, Lsa, LsaBody, LsaHeader, LsaType, RouterFlags, RouterLink,
    RouterLinkType, RouterLsa, INITIAL_SEQUENCE_NUMBER,
};
use ospfd::lsdb::Lsdb;
use ospfd::options::Options;
use ospfd::spf::{calculate, AreaInput, LocalInterface, BACKBONE};

fn router_id(idx: usize) -> Ipv4Addr {
    Ipv4Addr::from(0x0a00_0000 + idx as u32 + 1)
}

/// Address `host` (1 or 2) of link number `link` in 100.64.0.0/10.
fn link_addr(link: usize, host: u32) -> Ipv4Addr {
    Ipv4Addr::from(0x6440_0000 + (link as u32) * 4 + host)
}

struct Grid {
    area: Lsdb,
    external: Lsdb,
    root_interfaces: Vec<LocalInterface>,
}

fn grid(n: usize, externals: bool) -> Grid {
    let idx = |x: usize, y: usize| y * n + x;
    // Links: (a, b, link number), a < b.
    let mut links_of: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n * n];
    let mut link_no = 0;
    for y in 0..n {
        for x in 0..n {
            for (dx, dy) in [(1, 0), (0, 1)] {
                let (nx, ny) = (x + dx, y + dy);
                if nx < n && ny < n {
                    links_of[idx(x, y)].push((idx(nx, ny), link_no));
                    links_of[idx(nx, ny)].push((idx(x, y), link_no));
                    link_no += 1;
                }
            }
        }
    }
    let mut area = Lsdb::new();
    let mut external = Lsdb::new();
    let mut root_interfaces = Vec::new();
    for (r, links) in links_of.iter().enumerate() {
        let mut rl = vec![RouterLink {
            link_id: router_id(r),
            link_data: Ipv4Addr::BROADCAST,
            link_type: RouterLinkType::Stub,
            metric: 0,
        }];
        for &(other, link) in links {
            let host = if r < other { 1 } else { 2 };
            rl.push(RouterLink {
                link_id: router_id(other),
                link_data: link_addr(link, host),
                link_type: RouterLinkType::PointToPoint,
                metric: 10,
            });
            rl.push(RouterLink {
                link_id: link_addr(link, 0),
                link_data: Ipv4Addr::new(255, 255, 255, 252),
                link_type: RouterLinkType::Stub,
                metric: 10,
            });
            if r == 0 {
                root_interfaces.push(LocalInterface {
                    ifindex: root_interfaces.len() as u32 + 1,
                    address: Some(Ipv4Network::new(link_addr(link, host), 30).unwrap()),
                });
            }
        }
        let asbr = externals && r % 10 == 0;
        let flags = if asbr {
            RouterFlags::E
        } else {
            RouterFlags::empty()
        };
        let id = router_id(r);
        let lsa = Lsa::new(
            LsaHeader::new(
                0,
                Options::E,
                LsaType::ROUTER,
                id,
                id,
                INITIAL_SEQUENCE_NUMBER,
            ),
            LsaBody::Router(RouterLsa { flags, links: rl }),
        )
        .unwrap();
        area.install(lsa, 0);
        if asbr {
            let prefix = Ipv4Addr::from(0xc600_0000 + (r as u32) * 256);
            let ext = Lsa::new(
                LsaHeader::new(
                    0,
                    Options::E,
                    LsaType::AS_EXTERNAL,
                    prefix,
                    id,
                    INITIAL_SEQUENCE_NUMBER,
                ),
                LsaBody::AsExternal(AsExternalLsa {
                    mask: Ipv4Addr::new(255, 255, 255, 0),
                    metric_type: ExternalMetricType::Type2,
                    metric: 20,
                    forwarding_address: Ipv4Addr::UNSPECIFIED,
                    route_tag: 0,
                }),
            )
            .unwrap();
            external.install(ext, 0);
        }
    }
    Grid {
        area,
        external,
        root_interfaces,
    }
}

fn bench(label: &str, n: usize, externals: bool, runs: usize) {
    let g = grid(n, externals);
    let areas = [AreaInput {
        area_id: BACKBONE,
        lsdb: &g.area,
        interfaces: &g.root_interfaces,
    }];
    let mut times: Vec<Duration> = Vec::with_capacity(runs);
    let mut routes = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let table = calculate(router_id(0), &areas, &g.external, 0);
        times.push(start.elapsed());
        routes = table.networks.len();
        std::hint::black_box(table);
    }
    times.sort();
    println!(
        "{label:<32} routers {:>6}  routes {:>6}  best {:>8.2} ms  median {:>8.2} ms",
        n * n,
        routes,
        times[0].as_secs_f64() * 1e3,
        times[times.len() / 2].as_secs_f64() * 1e3,
    );
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is ignored.
    bench("grid 32x32", 32, false, 30);
    bench("grid 100x100", 100, false, 10);
    bench("grid 100x100 + 1000 externals", 100, true, 10);
}

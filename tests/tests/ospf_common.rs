//! Shared helpers of the OSPF topology tests (included by each
//! `ospf_*.rs` with `#[path]`): starting our zebrad + ospfd, FRR's zebra +
//! ospfd, or BIRD in a node, and reading what they think.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::time::Duration;

use proto::ospf::ospf_client::OspfClient;
use proto::ospf::{DatabaseRequest, NeighborsRequest};
use proto::transport::{connect, Address};
use topotests::{bin, have_program, is_root, wait_until, Lab, Node, Proc};

/// Timers used everywhere in the tests: Hello 1 s, dead 4 s.
pub const HELLO: u32 = 1;
pub const DEAD: u32 = 4;

/// Skips (returns false) unless the test can run: root and the binaries.
pub fn can_run(extra: &[&str]) -> bool {
    if !is_root() {
        eprintln!("skipped: needs root for network namespaces");
        return false;
    }
    for p in extra {
        if !std::path::Path::new(p).exists() && !have_program(p) {
            eprintln!("skipped: {p} is not installed");
            return false;
        }
    }
    true
}

fn s(p: &std::path::Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Starts our zebrad and ospfd in `node` with `ospfd_toml`.
pub fn start_ours(node: &Node, ospfd_toml: &str) -> (Proc, Proc) {
    start_ours_with(node, "", ospfd_toml)
}

/// [`start_ours`] with extra zebrad configuration (static routes).
pub fn start_ours_with(node: &Node, zebrad_extra: &str, ospfd_toml: &str) -> (Proc, Proc) {
    let zcfg = node.write_file(
        "zebrad.toml",
        &format!("[rib]\nstale_time = 30\n{zebrad_extra}\n"),
    );
    let ocfg = node.write_file("ospfd.toml", ospfd_toml);
    let run = s(&node.run_dir());
    let z = node.spawn(
        "zebrad",
        &[&s(&bin("zebrad")), "-f", &s(&zcfg), "--run-dir", &run],
    );
    z.wait_socket(&node.socket("zebrad"), Duration::from_secs(20));
    let o = node.spawn_env(
        "ospfd",
        &[&s(&bin("ospfd")), "-f", &s(&ocfg), "--run-dir", &run],
        &[("OSPFD_LOG", "ospfd=debug")],
    );
    o.wait_socket(&node.socket("ospfd"), Duration::from_secs(20));
    (z, o)
}

/// An ospfd.toml for our daemon: `ifaces` are (name, area, extra TOML
/// lines).
pub fn our_config(router_id: &str, ifaces: &[(&str, &str, &str)], extra: &str) -> String {
    let mut t = format!("router_id = \"{router_id}\"\n{extra}\n");
    for (name, area, more) in ifaces {
        t.push_str(&format!(
            "[[interface]]\nname = \"{name}\"\narea = \"{area}\"\nhello_interval = {HELLO}\ndead_interval = {DEAD}\nretransmit_interval = 2\n{more}\n"
        ));
    }
    t
}

/// Starts FRR's zebra and ospfd in `node` with `ospfd_conf` (FRR syntax).
pub fn start_frr(node: &Node, ospfd_conf: &str) -> topotests::frr::Frr {
    topotests::frr::start(node, "ospfd", ospfd_conf)
}

/// Starts BIRD in `node` with `conf`.
pub fn start_bird(node: &Node, conf: &str) -> Proc {
    let c = node.write_file("bird.conf", conf);
    let sock = node.dir().join("bird.ctl");
    let p = node.spawn("bird", &["bird", "-f", "-c", &s(&c), "-s", &s(&sock)]);
    wait_until(Duration::from_secs(20), "BIRD's control socket", || {
        sock.exists()
    });
    p
}

/// The (prefix, sorted gateways) of the routes with kernel protocol
/// `proto` (188: ospf, as both our zebrad and FRR's install them).
pub fn kernel_routes(node: &Node, proto: &str) -> BTreeSet<(String, Vec<String>)> {
    let out = node
        .exec(&["ip", "-j", "-4", "route", "show", "proto", proto])
        .unwrap_or_default();
    let v: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap_or_default();
    v.iter()
        .map(|r| {
            let dst = r["dst"].as_str().unwrap_or("").to_string();
            let dst = if dst == "default" {
                "0.0.0.0/0".to_string()
            } else if dst.contains('/') {
                dst
            } else {
                format!("{dst}/32")
            };
            let mut gws: Vec<String> = match r["nexthops"].as_array() {
                Some(n) => n
                    .iter()
                    .filter_map(|h| h["gateway"].as_str().map(str::to_string))
                    .collect(),
                None => r["gateway"]
                    .as_str()
                    .map(|g| vec![g.to_string()])
                    .unwrap_or_default(),
            };
            gws.sort();
            (dst, gws)
        })
        .collect()
}

/// The gateways of the kernel's route to `dst` with protocol 188.
pub fn gateways(node: &Node, dst: &str) -> Option<Vec<String>> {
    kernel_routes(node, "188")
        .into_iter()
        .find(|(d, _)| d == dst)
        .map(|(_, g)| g)
}

/// Waits until `node`'s kernel routes `dst` over exactly `gws`.
pub fn wait_route(node: &Node, dst: &str, gws: &[&str], timeout: Duration) {
    let want: Vec<String> = gws.iter().map(|g| g.to_string()).collect();
    wait_until(
        timeout,
        &format!("{}: {dst} via {gws:?}", node.name()),
        || gateways(node, dst).as_ref() == Some(&want),
    );
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Our ospfd's neighbors: (router ID, state).
pub fn our_neighbors(node: &Node) -> Vec<(String, String)> {
    let sock = node.socket("ospfd");
    rt().block_on(async {
        let Ok(ch) = connect(&Address::Unix(sock)).await else {
            return Vec::new();
        };
        match OspfClient::new(ch).neighbors(NeighborsRequest {}).await {
            Ok(r) => r
                .into_inner()
                .neighbors
                .into_iter()
                .map(|n| (n.router_id, n.state))
                .collect(),
            Err(_) => Vec::new(),
        }
    })
}

/// Our ospfd's database: (type, LSID, advertising router, sequence).
pub fn our_lsdb(node: &Node) -> BTreeSet<(u32, String, String, u32)> {
    let sock = node.socket("ospfd");
    rt().block_on(async {
        let Ok(ch) = connect(&Address::Unix(sock)).await else {
            return BTreeSet::new();
        };
        match OspfClient::new(ch)
            .database(DatabaseRequest {
                lsa_type: 0,
                detail: false,
            })
            .await
        {
            Ok(r) => r
                .into_inner()
                .lsas
                .into_iter()
                .filter(|l| l.age < 3600)
                .map(|l| (l.lsa_type, l.lsid, l.adv_router, l.seq))
                .collect(),
            Err(_) => BTreeSet::new(),
        }
    })
}

/// Waits until our ospfd in `node` has `n` neighbors, all Full.
pub fn wait_full(node: &Node, n: usize, timeout: Duration) {
    wait_until(
        timeout,
        &format!("{}: {n} Full neighbors", node.name()),
        || {
            let ns = our_neighbors(node);
            ns.len() == n && ns.iter().all(|(_, s)| s == "Full")
        },
    );
}

/// A lab with every wait bounded: a convenience to name it.
pub fn lab(name: &str) -> Lab {
    Lab::new(name)
}

//! Helpers shared by the BGP topology tests (`bgp_*.rs`): starting our
//! zebrad + bgpd, BIRD 2, FRR (zebra + bgpd) and GoBGP inside a node, asking
//! each of them what it holds, and reading the kernel's BGP routes
//! (protocol 186) in a namespace.
//!
//! Every wait is bounded; every helper that starts a daemon waits until it
//! answers on its control socket.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use topotests::{bin, have_program, is_root, try_wait_until, wait_until, Lab, Node, Proc};

/// Kernel protocol id of BGP routes.
pub const PROTO_BGP: u32 = 186;
/// The kernel priority zebrad installs eBGP routes with.
pub const METRIC: u64 = 20;
/// Session establishment, route propagation: generous but bounded.
pub const T: Duration = Duration::from_secs(30);

pub fn s(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Whether the test can run here: root, and the external programs present.
/// Prints why not and returns false otherwise (the test then passes
/// vacuously, as the other topology tests do).
pub fn can_run(extra: &[&str]) -> bool {
    if !is_root() {
        eprintln!("skipped: needs root for network namespaces");
        return false;
    }
    for p in extra {
        if !Path::new(p).exists() && !have_program(p) {
            eprintln!("skipped: {p} is not installed");
            return false;
        }
    }
    true
}

/// A lab with two nodes `r1` (ours) and `r2` (the peer) joined by
/// `r1:eth0 -- r2:eth0`, 192.0.2.1/30 -- 192.0.2.2/30 and 2001:db8:1::1/64 --
/// 2001:db8:1::2/64.
pub fn pair(test: &str) -> (Lab, Node, Node) {
    let lab = Lab::new(test);
    let r1 = lab.node("r1");
    let r2 = lab.node("r2");
    lab.link(&r1, "eth0", &r2, "eth0");
    r1.add_addr("eth0", "192.0.2.1/30");
    r2.add_addr("eth0", "192.0.2.2/30");
    r1.add_addr("eth0", "2001:db8:1::1/64");
    r2.add_addr("eth0", "2001:db8:1::2/64");
    (lab, r1, r2)
}

/// A lab with `r1` (ours) between two peers: `r1:eth0 -- r2:eth0`,
/// 192.0.2.1/30 -- 192.0.2.2/30, and `r1:eth1 -- r3:eth0`, 192.0.2.5/30 --
/// 192.0.2.6/30.
pub fn trio(test: &str) -> (Lab, Node, Node, Node) {
    let lab = Lab::new(test);
    let (r1, r2, r3) = (lab.node("r1"), lab.node("r2"), lab.node("r3"));
    lab.link(&r1, "eth0", &r2, "eth0");
    lab.link(&r1, "eth1", &r3, "eth0");
    r1.add_addr("eth0", "192.0.2.1/30");
    r2.add_addr("eth0", "192.0.2.2/30");
    r1.add_addr("eth1", "192.0.2.5/30");
    r3.add_addr("eth0", "192.0.2.6/30");
    (lab, r1, r2, r3)
}

// ---------------------------------------------------------------- ours

/// Starts our zebrad (empty config) and bgpd with `bgpd_toml` on `node`;
/// returns (zebrad, bgpd).
pub fn start_ours(node: &Node, bgpd_toml: &str) -> (Proc, Proc) {
    let zcfg = node.write_file("zebrad.toml", "");
    let bcfg = node.write_file("bgpd.toml", bgpd_toml);
    let run = s(&node.run_dir());
    let z = node.spawn_env(
        "zebrad",
        &[&s(&bin("zebrad")), "-f", &s(&zcfg), "--run-dir", &run],
        &[("ZEBRAD_LOG", "info")],
    );
    z.wait_socket(&node.socket("zebrad"), Duration::from_secs(20));
    let b = start_bgpd(node, &bcfg);
    (z, b)
}

/// Starts (another) bgpd on `node` with the config file `cfg`.
pub fn start_bgpd(node: &Node, cfg: &Path) -> Proc {
    let run = s(&node.run_dir());
    let b = node.spawn_env(
        "bgpd",
        &[&s(&bin("bgpd")), "-f", &s(cfg), "--run-dir", &run],
        &[("BGPD_LOG", "info,bgpd=debug")],
    );
    b.wait_socket(&node.socket("bgpd"), Duration::from_secs(20));
    b
}

/// The usual head of our bgpd config: AS, router id, a 1 s connect retry,
/// and a route map `ALL` that permits everything.
pub fn ours_head(asn: u32, router_id: &str, extra_bgp: &str) -> String {
    format!(
        r#"[bgp]
asn = {asn}
router_id = "{router_id}"
connect_retry = 1
{extra_bgp}

[[route_map]]
name = "ALL"
entries = [ {{ seq = 10, action = "permit" }} ]
"#
    )
}

/// `vtysh --run-dir DIR -c CMD` on `node`.
pub fn vtysh(node: &Node, cmd: &str) -> Result<String, topotests::CmdError> {
    let run = s(&node.run_dir());
    node.exec_timeout(
        &[&s(&bin("vtysh")), "--run-dir", &run, "-c", cmd],
        Duration::from_secs(15),
    )
}

/// `vtysh -f FILE` with `commands` (a configure session) on `node`;
/// panics when it fails.
pub fn vtysh_configure(node: &Node, name: &str, commands: &str) {
    let f = node.write_file(name, commands);
    let run = s(&node.run_dir());
    let out = node.exec_timeout(
        &[&s(&bin("vtysh")), "--run-dir", &run, "-f", &s(&f)],
        Duration::from_secs(20),
    );
    assert!(out.is_ok(), "vtysh -f {name}: {out:?}");
}

/// `vtysh -c CMD` parsed as JSON; panics if it fails or is not JSON.
pub fn vtysh_json(node: &Node, cmd: &str) -> Value {
    let out = vtysh(node, cmd).unwrap_or_else(|e| panic!("vtysh -c {cmd:?}: {e}"));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("vtysh -c {cmd:?}: bad JSON {e}: {out}"))
}

/// `show bgp neighbors ADDR json` → the neighbor object (Null if absent).
pub fn neighbor(node: &Node, addr: &str) -> Value {
    match vtysh(node, &format!("show bgp neighbors {addr} json")) {
        Ok(out) => serde_json::from_str::<Value>(&out)
            .map(|v| v[addr].clone())
            .unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

pub fn state(node: &Node, addr: &str) -> String {
    neighbor(node, addr)["bgpState"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// Waits until our session to `addr` is Established.
pub fn wait_established(node: &Node, addr: &str) {
    let mut last = Value::Null;
    let r = try_wait_until(
        T,
        &format!("{} Established with {addr}", node.name()),
        || {
            last = neighbor(node, addr);
            last["bgpState"] == "Established"
        },
    );
    if let Err(e) = r {
        panic!("{e}; last neighbor state: {last:#}");
    }
}

/// Waits until our session to `addr` is not Established.
pub fn wait_not_established(node: &Node, addr: &str, within: Duration) -> Value {
    let mut last = Value::Null;
    let r = try_wait_until(
        within,
        &format!("{} session with {addr} down", node.name()),
        || {
            last = neighbor(node, addr);
            last.is_object() && last["bgpState"] != "Established"
        },
    );
    if let Err(e) = r {
        panic!("{e}; last neighbor state: {last:#}");
    }
    last
}

/// Our Loc-RIB paths for `prefix` (`show bgp ipv4|ipv6 unicast PREFIX json`);
/// empty when it is not in the table.
pub fn paths(node: &Node, prefix: &str) -> Vec<Value> {
    let fam = if prefix.contains(':') { "ipv6" } else { "ipv4" };
    match vtysh(node, &format!("show bgp {fam} unicast {prefix} json")) {
        Ok(out) => serde_json::from_str::<Value>(&out)
            .ok()
            .and_then(|v| v["routes"][prefix].as_array().cloned())
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    }
}

/// The best path for `prefix` in our Loc-RIB, if any.
pub fn best(node: &Node, prefix: &str) -> Option<Value> {
    paths(node, prefix)
        .into_iter()
        .find(|p| p["bestpath"] == true)
}

/// Waits for a best path for `prefix` in our Loc-RIB and returns it.
pub fn wait_best(node: &Node, prefix: &str) -> Value {
    topotests::wait_for(
        T,
        &format!("{prefix} in {}'s BGP table", node.name()),
        || best(node, prefix),
    )
}

/// The kernel's route to `prefix` with protocol 186 in the main table.
pub fn kernel_bgp(node: &Node, prefix: &str) -> Option<Value> {
    let v6 = prefix.contains(':');
    let bare = prefix
        .strip_suffix("/32")
        .filter(|_| !v6)
        .or_else(|| prefix.strip_suffix("/128").filter(|_| v6))
        .unwrap_or(prefix);
    let fam = if v6 { "-6" } else { "-4" };
    let out = node
        .exec(&[
            "ip", "-j", fam, "route", "show", "table", "254", "proto", "186",
        ])
        .unwrap_or_default();
    let v: Vec<Value> = serde_json::from_str(&out).unwrap_or_default();
    v.into_iter().find(|r| r["dst"].as_str() == Some(bare))
}

/// The gateways of a kernel route (single or multipath).
pub fn gateways(r: &Value) -> Vec<String> {
    match r["nexthops"].as_array() {
        Some(a) => a
            .iter()
            .filter_map(|n| n["gateway"].as_str().map(str::to_string))
            .collect(),
        None => r["gateway"]
            .as_str()
            .map(|g| vec![g.to_string()])
            .unwrap_or_default(),
    }
}

/// Waits until the kernel holds `prefix` (proto 186) via exactly `gw`.
pub fn wait_kernel(node: &Node, prefix: &str, gw: &str) -> Value {
    let mut last = None;
    let r = try_wait_until(
        T,
        &format!("{prefix} via {gw} (proto bgp) in {}'s kernel", node.name()),
        || {
            last = kernel_bgp(node, prefix);
            last.as_ref().is_some_and(|r| gateways(r) == [gw])
        },
    );
    if let Err(e) = r {
        panic!(
            "{e}; last: {last:?}; all: {}",
            node.exec(&["ip", "-4", "route"]).unwrap_or_default()
                + &node.exec(&["ip", "-6", "route"]).unwrap_or_default()
        );
    }
    last.unwrap_or_default()
}

/// Waits until the kernel has no BGP route to `prefix`.
pub fn wait_kernel_gone(node: &Node, prefix: &str, within: Duration) {
    let mut last = None;
    let r = try_wait_until(
        within,
        &format!("{prefix} gone from {}'s kernel", node.name()),
        || {
            last = kernel_bgp(node, prefix);
            last.is_none()
        },
    );
    if let Err(e) = r {
        panic!("{e}; still there: {last:?}");
    }
}

/// Asserts the path's AS_PATH, MED, communities and large communities.
pub fn assert_attrs(p: &Value, as_path: &[u64], med: Option<u64>, comms: &[&str], large: &[&str]) {
    let got: Vec<u64> = p["asPath"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    assert_eq!(got, as_path, "AS_PATH of {p:#}");
    assert_eq!(p["metric"].as_u64(), med, "MED of {p:#}");
    let list = |k: &str| -> Vec<String> {
        p[k].as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let c = list("community");
    for want in comms {
        assert!(c.iter().any(|x| x == want), "community {want} in {p:#}");
    }
    let l = list("largeCommunity");
    for want in large {
        assert!(
            l.iter().any(|x| x == want),
            "large community {want} in {p:#}"
        );
    }
}

pub fn nexthop(p: &Value) -> String {
    p["nexthops"][0]["ip"].as_str().unwrap_or("").to_string()
}

// ---------------------------------------------------------------- BIRD

pub struct Bird {
    pub proc: Proc,
    pub node: Node,
    pub sock: String,
    pub conf: std::path::PathBuf,
}

/// Starts BIRD 2 in `node` with `conf` (foreground, its own control socket).
pub fn start_bird(node: &Node, conf: &str) -> Bird {
    let c = node.write_file("bird.conf", conf);
    let sock = node.dir().join("bird.ctl");
    let p = node.spawn("bird", &["bird", "-f", "-c", &s(&c), "-s", &s(&sock)]);
    wait_until(Duration::from_secs(20), "BIRD's control socket", || {
        p.assert_running();
        sock.exists()
    });
    Bird {
        proc: p,
        node: node.clone(),
        sock: s(&sock),
        conf: c,
    }
}

impl Bird {
    pub fn cmd(&self, cmd: &str) -> String {
        let mut args = vec!["birdc", "-s", &self.sock];
        args.extend(cmd.split_whitespace());
        self.node
            .exec_timeout(&args, Duration::from_secs(15))
            .unwrap_or_else(|e| format!("birdc failed ({:?}): {}{}", e.status, e.stdout, e.stderr))
    }

    /// Replaces the config and `birdc configure`s it.
    pub fn reconfigure(&self, conf: &str) {
        std::fs::write(&self.conf, conf).expect("write bird.conf");
        let out = self.cmd("configure");
        assert!(
            out.contains("Reconfigured") || out.contains("Reconfiguration"),
            "birdc configure: {out}"
        );
    }

    /// `show route all for PREFIX` restricted to exact `PREFIX` (text).
    pub fn route(&self, prefix: &str) -> String {
        self.cmd(&format!("show route {prefix} all"))
    }

    /// Whether BIRD's table holds `prefix` (a line of `show route` starts
    /// with it).
    pub fn has_route(&self, prefix: &str) -> bool {
        self.route(prefix).lines().any(|l| l.starts_with(prefix))
    }

    pub fn wait_route(&self, prefix: &str) -> String {
        let mut last = String::new();
        let r = try_wait_until(T, &format!("{prefix} in BIRD"), || {
            last = self.route(prefix);
            last.lines().any(|l| l.starts_with(prefix))
        });
        if let Err(e) = r {
            panic!("{e}; last: {last}");
        }
        last
    }

    pub fn wait_established(&self, proto: &str) {
        let mut last = String::new();
        let r = try_wait_until(T, &format!("BIRD {proto} Established"), || {
            last = self.cmd(&format!("show protocols {proto}"));
            last.contains("Established")
        });
        if let Err(e) = r {
            panic!("{e}; last: {last}");
        }
    }
}

// ---------------------------------------------------------------- FRR

pub use topotests::frr::Frr;

/// Starts FRR's zebra and bgpd in `node` with `bgpd_conf`.
pub fn start_frr(node: &Node, bgpd_conf: &str) -> Frr {
    topotests::frr::start(node, "bgpd", bgpd_conf)
}

/// BGP queries of an FRR router.
pub trait FrrBgp {
    fn paths(&self, prefix: &str) -> Vec<Value>;
    fn wait_established(&self, peer: &str);
}

impl FrrBgp for Frr {
    /// FRR's paths for `prefix` (`show bgp ipv4|ipv6 unicast PREFIX json`).
    fn paths(&self, prefix: &str) -> Vec<Value> {
        let fam = if prefix.contains(':') { "ipv6" } else { "ipv4" };
        self.json(&format!("show bgp {fam} unicast {prefix} json"))["paths"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn wait_established(&self, peer: &str) {
        let mut last = String::new();
        let r = try_wait_until(T, &format!("FRR session with {peer} Established"), || {
            last = self.vtysh(&[&format!("show bgp neighbors {peer} json")]);
            serde_json::from_str::<Value>(&last).unwrap_or(Value::Null)[peer]["bgpState"]
                == "Established"
        });
        if let Err(e) = r {
            panic!("{e}; last: {last}");
        }
    }
}

// ---------------------------------------------------------------- GoBGP

pub const GOBGP_API: &str = "50051";

pub struct Gobgp {
    pub proc: Proc,
    pub node: Node,
}

/// A GoBGP config: AS `asn` at `local` with one IPv4-unicast eBGP
/// neighbor `peer` (AS 65000, connect retry 1 s, hold 30 s) and `extra`
/// lines for its `[neighbors.config]` (e.g. `auth-password = "..."`).
pub fn gobgp_conf(asn: u32, local: &str, peer: &str, extra: &str) -> String {
    format!(
        r#"
[global.config]
  as = {asn}
  router-id = "{local}"
  local-address-list = ["{local}"]

[[neighbors]]
  [neighbors.config]
    neighbor-address = "{peer}"
    peer-as = 65000
    {extra}
  [neighbors.timers.config]
    connect-retry = 1
    hold-time = 30
    keepalive-interval = 10
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
"#
    )
}

/// Starts gobgpd in `node` with the TOML `conf`, its API on
/// 127.0.0.1:50051 of the namespace.
pub fn start_gobgp(node: &Node, conf: &str) -> Gobgp {
    let c = node.write_file("gobgpd.toml", conf);
    let api = format!("127.0.0.1:{GOBGP_API}");
    let p = node.spawn(
        "gobgpd",
        &["gobgpd", "-f", &s(&c), "-t", "toml", "--api-hosts", &api],
    );
    let g = Gobgp {
        proc: p,
        node: node.clone(),
    };
    wait_until(Duration::from_secs(20), "gobgpd's API", || {
        g.proc.assert_running();
        g.try_cmd(&["global"]).is_ok()
    });
    g
}

impl Gobgp {
    pub fn try_cmd(&self, args: &[&str]) -> Result<String, topotests::CmdError> {
        let mut a = vec!["gobgp", "-p", GOBGP_API];
        a.extend_from_slice(args);
        self.node.exec_timeout(&a, Duration::from_secs(15))
    }

    pub fn cmd(&self, args: &[&str]) -> String {
        self.try_cmd(args)
            .unwrap_or_else(|e| panic!("gobgp {args:?}: {e}"))
    }

    /// `gobgp global rib -a FAM -j` for `prefix`: its paths.
    pub fn paths(&self, prefix: &str) -> Vec<Value> {
        let fam = if prefix.contains(':') { "ipv6" } else { "ipv4" };
        let out = self
            .try_cmd(&["global", "rib", "-a", fam, "-j"])
            .unwrap_or_default();
        let v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
        v[prefix].as_array().cloned().unwrap_or_default()
    }

    pub fn wait_established(&self, peer: &str) {
        let mut last = String::new();
        let r = try_wait_until(T, &format!("GoBGP session with {peer} Established"), || {
            last = self.try_cmd(&["neighbor", peer, "-j"]).unwrap_or_default();
            let v: Value = serde_json::from_str(&last).unwrap_or(Value::Null);
            v["state"]["session_state"] == 6 || v["state"]["session_state"] == "established"
        });
        if let Err(e) = r {
            panic!("{e}; last: {last}");
        }
    }
}

//! ADD-PATH (RFC 7911) with real peers: BIRD sends us several paths of
//! one prefix (`add paths tx`) and we keep each with its path id; we send
//! every path (or the best N) on to FRR, GoBGP and BIRD, each with our own
//! TX id, and withdraw exactly the path that went. The same over IPv6
//! sessions for an IPv6 prefix (`bgp_addpath_ipv6_receive_and_send`),
//! where the receivers' path ids are checked against the TX ids we show.
//!
//! Topology: r1 (ours, AS 65000) in the middle; r2 (BIRD, AS 64502) the
//! source, eth0 192.0.2.1/30 -- 192.0.2.2/30; r3 (FRR, AS 64503) eth1
//! 192.0.2.5/30 -- 192.0.2.6/30; r4 (GoBGP, AS 64504) eth2 192.0.2.9/30 --
//! 192.0.2.10/30; r5 (BIRD, AS 64505) eth3 192.0.2.13/30 -- 192.0.2.14/30.
//! Each link also has 2001:db8:N::1/64 -- 2001:db8:N::2/64, N = 1 (r2) to
//! 4 (r5).

mod bgp_util;

use bgp_util::*;
use serde_json::Value;
use topotests::{try_wait_until, Lab, Node};

const P: &str = "198.51.100.0/24";
const P6: &str = "2001:db8:100::/48";

/// One address family of the test: the prefix, the addresses of r1's
/// four peers and of r1 on each link, and BIRD's channel word.
struct Fam {
    prefix: &'static str,
    /// r2 (source BIRD), r3 (FRR), r4 (GoBGP), r5 (sink BIRD).
    peers: [&'static str; 4],
    /// r1's address on the link to each of them.
    ours: [&'static str; 4],
    channel: &'static str,
    /// Our bgpd's `families` line for the neighbors.
    families: &'static str,
}

const V4: Fam = Fam {
    prefix: P,
    peers: ["192.0.2.2", "192.0.2.6", "192.0.2.10", "192.0.2.14"],
    ours: ["192.0.2.1", "192.0.2.5", "192.0.2.9", "192.0.2.13"],
    channel: "ipv4",
    families: "",
};

const V6: Fam = Fam {
    prefix: P6,
    peers: [
        "2001:db8:1::2",
        "2001:db8:2::2",
        "2001:db8:3::2",
        "2001:db8:4::2",
    ],
    ours: [
        "2001:db8:1::1",
        "2001:db8:2::1",
        "2001:db8:3::1",
        "2001:db8:4::1",
    ],
    channel: "ipv6",
    families: "families = [\"ipv6-unicast\"]\n",
};

/// The source BIRD: one static protocol per path (`s1`..`sN`), each
/// marking its route with community (64502,i), all sent to us with
/// `add paths tx` (and `rx`: paths we send back are none, split horizon).
fn source_bird(f: &Fam, paths: u32) -> String {
    let (ch, p) = (f.channel, f.prefix);
    let statics: String = (1..=paths)
        .map(|i| {
            format!(
                "protocol static s{i} {{\n  {ch} {{ import filter {{ bgp_community.add((64502,{i})); accept; }}; }};\n  route {p} blackhole;\n}}\n"
            )
        })
        .collect();
    format!(
        r#"router id 192.0.2.2;
log stderr all;
protocol device {{ }}
{statics}
protocol bgp r1 {{
  local {} as 64502;
  neighbor {} as 65000;
  connect retry time 1;
  error wait time 1, 2;
  {ch} {{ import all; export all; add paths on; }};
}}
"#,
        f.peers[0], f.ours[0]
    )
}

/// The receiving BIRD on r5: `add paths rx`, imports everything.
fn sink_bird(f: &Fam) -> String {
    format!(
        r#"router id 192.0.2.14;
log stderr all;
protocol device {{ }}
protocol bgp r1 {{
  local {} as 64505;
  neighbor {} as 65000;
  connect retry time 1;
  error wait time 1, 2;
  {} {{ import all; export none; add paths rx; }};
}}
"#,
        f.peers[3], f.ours[3], f.channel
    )
}

/// FRR on r3: receives (FRR advertises ADD-PATH receive by default).
fn frr_conf(f: &Fam) -> String {
    let (n, ch) = (f.ours[1], f.channel);
    format!(
        r#"route-map ALL permit 10
!
router bgp 64503
 bgp router-id 192.0.2.6
 no bgp default ipv4-unicast
 neighbor {n} remote-as 65000
 neighbor {n} timers connect 1
 neighbor {n} timers 10 30
 !
 address-family {ch} unicast
  neighbor {n} activate
  neighbor {n} route-map ALL in
  neighbor {n} route-map ALL out
 exit-address-family
!
"#
    )
}

/// GoBGP on r4 with ADD-PATH receive for the family (its router id
/// stays 192.0.2.10 over IPv6).
fn gobgp(f: &Fam) -> String {
    gobgp_conf(64504, f.peers[2], f.ours[2], "")
        .replace(
            &format!("router-id = \"{}\"", f.peers[2]),
            "router-id = \"192.0.2.10\"",
        )
        .replace(
            "afi-safi-name = \"ipv4-unicast\"",
            &format!("afi-safi-name = \"{}-unicast\"", f.channel),
        )
        + "    [neighbors.afi-safis.add-paths.config]\n      receive = true\n"
}

fn ours(f: &Fam, to_frr: &str, to_gobgp: &str, to_bird: &str) -> String {
    let nb = |addr: &str, asn: u32, extra: &str| {
        format!(
            "[[neighbor]]\naddress = \"{addr}\"\nremote_as = {asn}\nimport = \"ALL\"\nexport = \"ALL\"\n{}{extra}\n",
            f.families
        )
    };
    format!(
        "{}\n{}{}{}{}",
        ours_head(65000, "192.0.2.1", ""),
        nb(f.peers[0], 64502, "add_path = \"receive\""),
        nb(f.peers[1], 64503, to_frr),
        nb(f.peers[2], 64504, to_gobgp),
        nb(f.peers[3], 64505, to_bird),
    )
}

/// Our paths for the prefix from the source BIRD (FRR sends ours back
/// too: AS loops, kept rejected).
fn from_source(r1: &Node, f: &Fam) -> Vec<Value> {
    paths(r1, f.prefix)
        .into_iter()
        .filter(|p| p["peerId"] == f.peers[0])
        .collect()
}

/// Sorted path ids of a JSON list of paths (`key`: `addpathRxId`...).
fn ids_of(paths: &[Value], key: &str) -> Vec<u64> {
    let mut v: Vec<u64> = paths.iter().filter_map(|p| p[key].as_u64()).collect();
    v.sort();
    v
}

/// Our paths for the prefix from the source with their RX path ids.
fn our_ids(r1: &Node, f: &Fam) -> Vec<u64> {
    ids_of(&from_source(r1, f), "addpathRxId")
}

fn wait_our_paths(r1: &Node, f: &Fam, n: usize) -> Vec<Value> {
    let mut last = Vec::new();
    let r = try_wait_until(T, &format!("{n} paths for {} in our RIB", f.prefix), || {
        last = from_source(r1, f);
        last.len() == n && last.iter().all(|p| p["valid"] == true)
    });
    if let Err(e) = r {
        panic!("{e}; last: {last:#?}");
    }
    last
}

fn wait_count(what: &str, n: usize, mut count: impl FnMut() -> (usize, String)) {
    let mut last = String::new();
    let r = try_wait_until(T, &format!("{n} paths at {what}"), || {
        let (c, text) = count();
        last = text;
        c == n
    });
    if let Err(e) = r {
        panic!("{e}; last: {last}");
    }
}

/// BIRD's routes for the prefix: one line with `[r1 ` per path.
fn bird_paths(b: &Bird, f: &Fam) -> (usize, String) {
    let t = b.route(f.prefix);
    (t.matches("[r1 ").count(), t)
}

/// The TX path ids we advertised to `peer` for the prefix.
fn our_tx_ids(r1: &Node, f: &Fam, peer: &str) -> Vec<u64> {
    let out = vtysh_json(
        r1,
        &format!(
            "show bgp {} unicast neighbors {peer} advertised-routes json",
            f.channel
        ),
    );
    let paths = out["routes"][f.prefix]
        .as_array()
        .cloned()
        .unwrap_or_default();
    ids_of(&paths, "addpathTxId")
}

/// The path ids GoBGP received from us for the prefix (its `adj-in`
/// table's ID column; its JSON has none), sorted.
fn gobgp_ids(g: &Gobgp, f: &Fam) -> Vec<u64> {
    let out = g.cmd(&["neighbor", f.ours[2], "adj-in", "-a", f.channel]);
    let mut v: Vec<u64> = out
        .lines()
        .filter_map(|l| match l.split_whitespace().collect::<Vec<_>>()[..] {
            [id, net, ..] if net == f.prefix => id.parse().ok(),
            _ => None,
        })
        .collect();
    v.sort();
    v
}

fn lab(name: &str) -> (Lab, Node, Node, Node, Node, Node) {
    let (lab, r1, r2, r3) = trio(name);
    let (r4, r5) = (lab.node("r4"), lab.node("r5"));
    lab.link(&r1, "eth2", &r4, "eth0");
    lab.link(&r1, "eth3", &r5, "eth0");
    r1.add_addr("eth2", "192.0.2.9/30");
    r4.add_addr("eth0", "192.0.2.10/30");
    r1.add_addr("eth3", "192.0.2.13/30");
    r5.add_addr("eth0", "192.0.2.14/30");
    for (i, peer) in [&r2, &r3, &r4, &r5].into_iter().enumerate() {
        r1.add_addr(&format!("eth{i}"), &format!("2001:db8:{}::1/64", i + 1));
        peer.add_addr("eth0", &format!("2001:db8:{}::2/64", i + 1));
    }
    (lab, r1, r2, r3, r4, r5)
}

/// Our bgpd with every peer of the family: FRR and BIRD r5 get every
/// path, GoBGP the best two.
fn start(
    f: &Fam,
    name: &str,
) -> (
    Lab,
    Node,
    topotests::Proc,
    topotests::Proc,
    Bird,
    Frr,
    Gobgp,
    Bird,
) {
    let (lab, r1, r2, r3, r4, r5) = lab(name);
    let (z, b) = start_ours(
        &r1,
        &ours(
            f,
            "add_path = \"send\"",
            "add_path = \"both\"\nadd_path_send = \"best-2\"",
            "add_path = \"send\"",
        ),
    );
    let src = start_bird(&r2, &source_bird(f, 3));
    let frr = start_frr(&r3, &frr_conf(f));
    let gobgp = start_gobgp(&r4, &gobgp(f));
    let sink = start_bird(&r5, &sink_bird(f));
    for peer in f.peers {
        wait_established(&r1, peer);
    }
    (lab, r1, z, b, src, frr, gobgp, sink)
}

fn frr_count(frr: &Frr, f: &Fam) -> (usize, String) {
    let p = frr.paths(f.prefix);
    (p.len(), format!("{p:#?}"))
}

fn gobgp_count(g: &Gobgp, f: &Fam) -> (usize, String) {
    let p = g.paths(f.prefix);
    (p.len(), format!("{p:#?}"))
}

/// Three paths from the source in our RIB with distinct RX ids, then
/// all three at FRR and BIRD r5 and the best two at GoBGP. Returns the ids.
fn receive_three(r1: &Node, f: &Fam, frr: &Frr, gobgp: &Gobgp, sink: &Bird) -> Vec<u64> {
    let ps = wait_our_paths(r1, f, 3);
    let ids = our_ids(r1, f);
    assert_eq!(ids.len(), 3, "{ps:#?}");
    assert!(ids.windows(2).all(|w| w[0] != w[1]), "{ids:?}");
    wait_count("FRR", 3, || frr_count(frr, f));
    wait_count("BIRD r5", 3, || bird_paths(sink, f));
    wait_count("GoBGP", 2, || gobgp_count(gobgp, f));
    ids
}

/// The source withdraws s2's path: we drop just that id, FRR and BIRD r5
/// keep two paths without s2's community, GoBGP (best two) gets s3's in
/// its place. Returns FRR's paths.
fn withdraw_s2(
    r1: &Node,
    f: &Fam,
    (src, frr, gobgp, sink): (&Bird, &Frr, &Gobgp, &Bird),
    ids: &[u64],
) -> Vec<Value> {
    src.cmd("disable s2");
    wait_our_paths(r1, f, 2);
    let left = our_ids(r1, f);
    assert!(
        left.iter().all(|i| ids.contains(i)),
        "{left:?} from {ids:?}"
    );
    wait_count("FRR", 2, || frr_count(frr, f));
    wait_count("BIRD r5", 2, || bird_paths(sink, f));
    let at_frr = frr.paths(f.prefix);
    let comms: Vec<&str> = at_frr
        .iter()
        .map(|p| p["community"]["string"].as_str().unwrap_or(""))
        .collect();
    assert!(
        comms
            .iter()
            .all(|c| c.contains("64502:") && !c.contains("64502:2")),
        "the withdrawn path is gone at FRR: {comms:?}"
    );
    let mut last = String::new();
    let r = try_wait_until(T, "GoBGP without s2's path", || {
        last = gobgp.cmd(&["neighbor", f.ours[2], "adj-in", "-a", f.channel]);
        last.matches(f.prefix).count() == 2 && !last.contains("64502:2")
    });
    assert!(r.is_ok(), "{r:?}: {last}");
    at_frr
}

/// The source session drops: every path goes everywhere.
fn source_drops(r1: &Node, f: &Fam, (src, frr, gobgp, sink): (&Bird, &Frr, &Gobgp, &Bird)) {
    src.cmd("disable r1");
    wait_count("FRR", 0, || frr_count(frr, f));
    wait_count("BIRD r5", 0, || bird_paths(sink, f));
    wait_count("GoBGP", 0, || gobgp_count(gobgp, f));
    wait_our_paths(r1, f, 0);
}

/// BIRD sends three paths of P: we hold three, each with its id; FRR and
/// BIRD (all paths) get three, GoBGP (best-2) two; BIRD withdrawing one
/// path withdraws exactly that one everywhere.
#[test]
fn bgp_addpath_receive_and_send() {
    if !can_run(&["bird", "birdc", "gobgpd", "gobgp", "/usr/lib/frr/bgpd"]) {
        return;
    }
    let f = &V4;
    let (_lab, r1, _z, b, src, frr, gobgp, sink) = start(f, "bgp_addpath");

    // Capability negotiated as configured, shown per family.
    let n = neighbor(&r1, "192.0.2.2");
    let fam = &n["addPathInfo"]["families"][0];
    assert_eq!(fam["advertised"], "receive", "{n:#}");
    assert_eq!(fam["received"], "both", "{n:#}");
    assert_eq!(
        (fam["rx"].as_bool(), fam["tx"].as_bool()),
        (Some(true), Some(false))
    );
    let n = neighbor(&r1, "192.0.2.10");
    assert_eq!(n["addPathInfo"]["send"], "best-2", "{n:#}");
    assert_eq!(n["addPathInfo"]["families"][0]["tx"], true, "{n:#}");
    let text = vtysh(&r1, "show bgp neighbors 192.0.2.6").expect("vtysh");
    assert!(
        text.contains("AddPath ipv4-unicast: advertised send, received receive, negotiated send (sending all paths)"),
        "{text}"
    );

    // Receive: three paths from one peer, three distinct ids; FRR and
    // BIRD get all three, GoBGP the best two.
    let ids = receive_three(&r1, f, &frr, &gobgp, &sink);
    let detail = vtysh(&r1, &format!("show bgp ipv4 unicast {P}")).expect("vtysh");
    assert!(detail.contains("AddPath ID: RX "), "{detail}");
    assert_eq!(our_tx_ids(&r1, f, "192.0.2.6").len(), 3);

    let peers = (&src, &frr, &gobgp, &sink);
    withdraw_s2(&r1, f, peers, &ids);
    source_drops(&r1, f, peers);
    b.assert_running();
}

/// The same over IPv6 sessions for an IPv6 prefix: BIRD's three paths
/// kept apart with their ids; FRR and BIRD r5 get three, GoBGP the best
/// two, each receiver holding exactly the path ids we show as sent to it
/// and our global address as next hop; BIRD withdrawing one path takes
/// exactly that path and its id away everywhere, the others keep theirs.
#[test]
fn bgp_addpath_ipv6_receive_and_send() {
    if !can_run(&["bird", "birdc", "gobgpd", "gobgp", "/usr/lib/frr/bgpd"]) {
        return;
    }
    let f = &V6;
    let (_lab, r1, _z, b, src, frr, gobgp, sink) = start(f, "bgp_addpath_ipv6");

    let n = neighbor(&r1, f.peers[0]);
    let fam = &n["addPathInfo"]["families"][0];
    assert_eq!(fam["family"], "ipv6-unicast", "{n:#}");
    assert_eq!(
        (fam["rx"].as_bool(), fam["tx"].as_bool()),
        (Some(true), Some(false)),
        "{n:#}"
    );
    for peer in [f.peers[1], f.peers[2], f.peers[3]] {
        let n = neighbor(&r1, peer);
        let fam = &n["addPathInfo"]["families"][0];
        assert_eq!(
            (fam["family"].as_str(), fam["tx"].as_bool()),
            (Some("ipv6-unicast"), Some(true)),
            "{n:#}"
        );
    }

    let ids = receive_three(&r1, f, &frr, &gobgp, &sink);
    // Each receiver holds the ids we sent it.
    let to_frr = our_tx_ids(&r1, f, f.peers[1]);
    assert_eq!(to_frr.len(), 3, "{to_frr:?}");
    let at_frr = frr.paths(f.prefix);
    assert_eq!(ids_of(&at_frr, "addpathRxId"), to_frr, "{at_frr:#?}");
    for p in &at_frr {
        let nh = p["nexthops"][0]["ip"].as_str().unwrap_or_default();
        assert_eq!(nh, f.ours[1], "{p:#}");
    }
    let to_gobgp = our_tx_ids(&r1, f, f.peers[2]);
    assert_eq!(to_gobgp.len(), 2, "{to_gobgp:?}");
    assert_eq!(gobgp_ids(&gobgp, f), to_gobgp);
    let sink_text = bird_paths(&sink, f).1;
    assert!(sink_text.contains(f.ours[3]), "{sink_text}");

    let peers = (&src, &frr, &gobgp, &sink);
    let at_frr = withdraw_s2(&r1, f, peers, &ids);
    let now = ids_of(&at_frr, "addpathRxId");
    assert_eq!(now, our_tx_ids(&r1, f, f.peers[1]), "{at_frr:#?}");
    assert!(
        now.iter().all(|i| to_frr.contains(i)),
        "the paths left keep their ids: {now:?} of {to_frr:?}"
    );
    assert_eq!(gobgp_ids(&gobgp, f), our_tx_ids(&r1, f, f.peers[2]));

    source_drops(&r1, f, peers);
    b.assert_running();
}

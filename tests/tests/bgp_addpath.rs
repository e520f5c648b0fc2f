//! ADD-PATH (RFC 7911) with real peers: BIRD sends us several paths of
//! one prefix (`add paths tx`) and we keep each with its path id; we send
//! every path (or the best N) on to FRR, GoBGP and BIRD, each with our own
//! TX id, and withdraw exactly the path that went.
//!
//! Topology: r1 (ours, AS 65000) in the middle; r2 (BIRD, AS 64502) the
//! source, eth0 192.0.2.1/30 -- 192.0.2.2/30; r3 (FRR, AS 64503) eth1
//! 192.0.2.5/30 -- 192.0.2.6/30; r4 (GoBGP, AS 64504) eth2 192.0.2.9/30 --
//! 192.0.2.10/30; r5 (BIRD, AS 64505) eth3 192.0.2.13/30 -- 192.0.2.14/30.

mod bgp_util;

use bgp_util::*;
use serde_json::Value;
use topotests::{try_wait_until, Lab, Node};

const P: &str = "198.51.100.0/24";

/// The source BIRD: one static protocol per path (`s1`..`sN`), each
/// marking its route with community (64502,i), all sent to us with
/// `add paths tx` (and `rx`: paths we send back are none, split horizon).
fn source_bird(paths: u32) -> String {
    let statics: String = (1..=paths)
        .map(|i| {
            format!(
                "protocol static s{i} {{\n  ipv4 {{ import filter {{ bgp_community.add((64502,{i})); accept; }}; }};\n  route {P} blackhole;\n}}\n"
            )
        })
        .collect();
    format!(
        r#"router id 192.0.2.2;
log stderr all;
protocol device {{ }}
{statics}
protocol bgp r1 {{
  local 192.0.2.2 as 64502;
  neighbor 192.0.2.1 as 65000;
  connect retry time 1;
  error wait time 1, 2;
  ipv4 {{ import all; export all; add paths on; }};
}}
"#
    )
}

/// The receiving BIRD on r5: `add paths rx`, imports everything.
fn sink_bird() -> String {
    r#"router id 192.0.2.14;
log stderr all;
protocol device { }
protocol bgp r1 {
  local 192.0.2.14 as 64505;
  neighbor 192.0.2.13 as 65000;
  connect retry time 1;
  error wait time 1, 2;
  ipv4 { import all; export none; add paths rx; };
}
"#
    .into()
}

/// FRR on r3: receives (FRR advertises ADD-PATH receive by default).
fn frr_conf() -> String {
    r#"route-map ALL permit 10
!
router bgp 64503
 bgp router-id 192.0.2.6
 no bgp default ipv4-unicast
 neighbor 192.0.2.5 remote-as 65000
 neighbor 192.0.2.5 timers connect 1
 neighbor 192.0.2.5 timers 10 30
 !
 address-family ipv4 unicast
  neighbor 192.0.2.5 activate
  neighbor 192.0.2.5 route-map ALL in
  neighbor 192.0.2.5 route-map ALL out
 exit-address-family
!
"#
    .into()
}

/// GoBGP on r4 with ADD-PATH receive for IPv4 unicast.
fn gobgp() -> String {
    gobgp_conf(64504, "192.0.2.10", "192.0.2.9", "")
        + "    [neighbors.afi-safis.add-paths.config]\n      receive = true\n"
}

fn ours(to_frr: &str, to_gobgp: &str, to_bird: &str) -> String {
    let nb = |addr: &str, asn: u32, extra: &str| {
        format!(
            "[[neighbor]]\naddress = \"{addr}\"\nremote_as = {asn}\nimport = \"ALL\"\nexport = \"ALL\"\n{extra}\n"
        )
    };
    format!(
        "{}\n{}{}{}{}",
        ours_head(65000, "192.0.2.1", ""),
        nb("192.0.2.2", 64502, "add_path = \"receive\""),
        nb("192.0.2.6", 64503, to_frr),
        nb("192.0.2.10", 64504, to_gobgp),
        nb("192.0.2.14", 64505, to_bird),
    )
}

/// Our paths for P from the source BIRD (FRR sends ours back too: AS
/// loops, kept rejected).
fn from_source(r1: &Node) -> Vec<Value> {
    paths(r1, P)
        .into_iter()
        .filter(|p| p["peerId"] == "192.0.2.2")
        .collect()
}

/// Our paths for P from the source with their RX path ids (sorted).
fn our_ids(r1: &Node) -> Vec<u64> {
    let mut v: Vec<u64> = from_source(r1)
        .iter()
        .filter_map(|p| p["addpathRxId"].as_u64())
        .collect();
    v.sort();
    v
}

fn wait_our_paths(r1: &Node, n: usize) -> Vec<Value> {
    let mut last = Vec::new();
    let r = try_wait_until(T, &format!("{n} paths for {P} in our RIB"), || {
        last = from_source(r1);
        last.len() == n && last.iter().all(|p| p["valid"] == true)
    });
    if let Err(e) = r {
        panic!("{e}; last: {last:#?}");
    }
    last
}

fn wait_count(what: &str, n: usize, mut count: impl FnMut() -> (usize, String)) {
    let mut last = String::new();
    let r = try_wait_until(T, &format!("{n} paths for {P} at {what}"), || {
        let (c, text) = count();
        last = text;
        c == n
    });
    if let Err(e) = r {
        panic!("{e}; last: {last}");
    }
}

/// BIRD's routes for P: one line with `[r1 ` per path.
fn bird_paths(b: &Bird) -> (usize, String) {
    let t = b.route(P);
    (t.matches("[r1 ").count(), t)
}

fn lab() -> (Lab, Node, Node, Node, Node, Node) {
    let (lab, r1, r2, r3) = trio("bgp_addpath");
    let (r4, r5) = (lab.node("r4"), lab.node("r5"));
    lab.link(&r1, "eth2", &r4, "eth0");
    lab.link(&r1, "eth3", &r5, "eth0");
    r1.add_addr("eth2", "192.0.2.9/30");
    r4.add_addr("eth0", "192.0.2.10/30");
    r1.add_addr("eth3", "192.0.2.13/30");
    r5.add_addr("eth0", "192.0.2.14/30");
    (lab, r1, r2, r3, r4, r5)
}

/// BIRD sends three paths of P: we hold three, each with its id; FRR and
/// BIRD (all paths) get three, GoBGP (best-2) two; BIRD withdrawing one
/// path withdraws exactly that one everywhere.
#[test]
fn bgp_addpath_receive_and_send() {
    if !can_run(&["bird", "birdc", "gobgpd", "gobgp", "/usr/lib/frr/bgpd"]) {
        return;
    }
    let (_lab, r1, r2, r3, r4, r5) = lab();
    let (_z, b) = start_ours(
        &r1,
        &ours(
            "add_path = \"send\"",
            "add_path = \"both\"\nadd_path_send = \"best-2\"",
            "add_path = \"send\"",
        ),
    );
    let src = start_bird(&r2, &source_bird(3));
    let frr = start_frr(&r3, &frr_conf());
    let gobgp = start_gobgp(&r4, &gobgp());
    let sink = start_bird(&r5, &sink_bird());
    for peer in ["192.0.2.2", "192.0.2.6", "192.0.2.10", "192.0.2.14"] {
        wait_established(&r1, peer);
    }

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

    // Receive: three paths from one peer, three distinct ids.
    let ps = wait_our_paths(&r1, 3);
    let ids = our_ids(&r1);
    assert_eq!(ids.len(), 3, "{ps:#?}");
    assert!(ids.windows(2).all(|w| w[0] != w[1]), "{ids:?}");
    let detail = vtysh(&r1, &format!("show bgp ipv4 unicast {P}")).expect("vtysh");
    assert!(detail.contains("AddPath ID: RX "), "{detail}");

    // Send: FRR and BIRD get all three, GoBGP the best two.
    wait_count("FRR", 3, || {
        let p = frr.paths(P);
        (p.len(), format!("{p:#?}"))
    });
    wait_count("BIRD r5", 3, || bird_paths(&sink));
    wait_count("GoBGP", 2, || {
        let p = gobgp.paths(P);
        (p.len(), format!("{p:#?}"))
    });
    let out = vtysh(&r1, "show bgp neighbors 192.0.2.6 advertised-routes json").expect("vtysh");
    let out: Value = serde_json::from_str(&out).expect("json");
    let tx: Vec<u64> = out["routes"][P]
        .as_array()
        .map(|a| a.iter().filter_map(|p| p["addpathTxId"].as_u64()).collect())
        .unwrap_or_default();
    assert_eq!(tx.len(), 3, "{out:#}");

    // BIRD withdraws one path (s2 down): we drop just that id, and every
    // receiver drops one path.
    src.cmd("disable s2");
    wait_our_paths(&r1, 2);
    let left = our_ids(&r1);
    assert!(
        left.iter().all(|i| ids.contains(i)),
        "{left:?} from {ids:?}"
    );
    wait_count("FRR", 2, || {
        let p = frr.paths(P);
        (p.len(), format!("{p:#?}"))
    });
    wait_count("BIRD r5", 2, || bird_paths(&sink));
    let comms: Vec<String> = frr
        .paths(P)
        .iter()
        .map(|p| p["community"]["string"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(
        comms
            .iter()
            .all(|c| c.contains("64502:") && !c.contains("64502:2")),
        "the withdrawn path is gone at FRR: {comms:?}"
    );
    // GoBGP still has the best two of what is left.
    wait_count("GoBGP", 2, || {
        let p = gobgp.paths(P);
        (p.len(), format!("{p:#?}"))
    });

    // The source session drops: every path goes everywhere.
    src.cmd("disable r1");
    wait_count("FRR", 0, || {
        let p = frr.paths(P);
        (p.len(), format!("{p:#?}"))
    });
    wait_count("BIRD r5", 0, || bird_paths(&sink));
    wait_our_paths(&r1, 0);
    b.assert_running();
}

//! Our ospfd against BIRD 2's OSPFv2: a broadcast segment (DR/BDR) and a
//! point-to-point link with keyed-MD5 authentication. Both sides reach
//! Full, hold the same LSAs and install each other's loopbacks (ours with
//! kernel protocol 188, BIRD's with its own, 12).

#[path = "ospf_common.rs"]
mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use topotests::Node;

const T: Duration = Duration::from_secs(60);

fn bird_conf(rid: &str, iface: &str) -> String {
    format!(
        r#"router id {rid};
protocol device {{ scan time 1; }}
protocol kernel {{ ipv4 {{ export all; }}; }}
protocol ospf v2 o1 {{
  ipv4 {{ import all; export none; }};
  area 0 {{
    interface "eth0" {{ hello {HELLO}; dead {DEAD}; retransmit 2; {iface} }};
    interface "lo" {{ stub yes; }};
  }};
}}
"#
    )
}

fn birdc(node: &Node, cmd: &str) -> String {
    let sock = node.dir().join("bird.ctl");
    let mut args = vec!["birdc", "-s"];
    let s = sock.to_string_lossy().into_owned();
    args.push(&s);
    args.extend(cmd.split_whitespace());
    node.exec(&args)
        .unwrap_or_else(|e| format!("birdc failed: {e}"))
}

/// BIRD's LSDB as (type, LSID, advertising router, sequence).
fn bird_lsdb(node: &Node) -> BTreeSet<(u32, String, String, u32)> {
    let mut set = BTreeSet::new();
    for line in birdc(node, "show ospf lsadb").lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 6 || f[0].len() != 4 {
            continue;
        }
        let (Ok(t), Ok(seq)) = (u32::from_str_radix(f[0], 16), u32::from_str_radix(f[3], 16))
        else {
            continue;
        };
        if f[1].parse::<std::net::Ipv4Addr>().is_ok() {
            set.insert((t & 0xff, f[1].to_string(), f[2].to_string(), seq));
        }
    }
    set
}

fn wait_lsdb_match(ours: &Node, bird: &Node) {
    let mut last = (BTreeSet::new(), BTreeSet::new());
    let ok = topotests::try_wait_until(T, "LSDBs match", || {
        let a = our_lsdb(ours);
        let b = bird_lsdb(bird);
        let same = !a.is_empty() && a == b;
        last = (a, b);
        same
    });
    assert!(
        ok.is_ok(),
        "LSDBs differ:\nours {:?}\nBIRD {:?}",
        last.0,
        last.1
    );
}

fn bird_gateway(node: &Node, dst: &str) -> Option<Vec<String>> {
    kernel_routes(node, "12")
        .into_iter()
        .find(|(d, _)| d == dst)
        .map(|(_, g)| g)
}

fn run(name: &str, ours_extra: &str, bird_iface: &str, mask: &str) {
    if !can_run(&["bird", "birdc"]) {
        return;
    }
    let lab = lab(name);
    let r1 = lab.node("r1");
    let r3 = lab.node("r3");
    lab.link(&r1, "eth0", &r3, "eth0");
    r1.add_addr("eth0", &format!("198.51.100.1/{mask}"));
    r3.add_addr("eth0", &format!("198.51.100.2/{mask}"));
    r1.add_addr("lo", "192.0.2.1/32");
    r3.add_addr("lo", "192.0.2.3/32");
    start_ours(
        &r1,
        &our_config(
            "192.0.2.1",
            &[
                ("eth0", "0.0.0.0", ours_extra),
                ("lo", "0.0.0.0", "passive = true"),
            ],
            "",
        ),
    );
    start_bird(&r3, &bird_conf("192.0.2.3", bird_iface));
    wait_full(&r1, 1, T);
    wait_route(&r1, "192.0.2.3/32", &["198.51.100.2"], T);
    topotests::wait_until(T, "BIRD installs 192.0.2.1/32 via 198.51.100.1", || {
        bird_gateway(&r3, "192.0.2.1/32") == Some(vec!["198.51.100.1".to_string()])
    });
    let n = birdc(&r3, "show ospf neighbors");
    assert!(n.contains("Full"), "BIRD's neighbors: {n}");
    wait_lsdb_match(&r1, &r3);
}

#[test]
fn ospf_bird_broadcast_segment() {
    run(
        "ospf_bird_broadcast",
        "priority = 10",
        "type broadcast; priority 1;",
        "29",
    );
}

#[test]
fn ospf_bird_point_to_point_md5() {
    run(
        "ospf_bird_p2p_md5",
        "type = \"point-to-point\"\nauthentication = { type = \"md5\", key_id = 7, key = \"s3cret\" }",
        "type ptp; authentication cryptographic; password \"s3cret\" { id 7; algorithm keyed md5; };",
        "30",
    );
}

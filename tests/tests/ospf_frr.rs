//! Our ospfd against FRR's ospfd (8.4): a broadcast segment (DR/BDR
//! election) and a point-to-point link with MD5 authentication. Both sides
//! reach Full, hold the same LSAs, and install each other's loopbacks into
//! their kernels (protocol 188 on both sides: ours through our zebrad,
//! FRR's through FRR's zebra).

#[path = "ospf_common.rs"]
mod common;

use std::time::Duration;

use common::*;

const T: Duration = Duration::from_secs(60);

fn frr_conf(rid: &str, ifaces: &[(&str, &str)], networks: &[&str]) -> String {
    let mut c = String::from("hostname frr\nlog stdout informational\n!\n");
    for (name, extra) in ifaces {
        c.push_str(&format!(
            "interface {name}\n ip ospf hello-interval {HELLO}\n ip ospf dead-interval {DEAD}\n ip ospf retransmit-interval 2\n{extra}!\n"
        ));
    }
    c.push_str(&format!("router ospf\n ospf router-id {rid}\n"));
    for n in networks {
        c.push_str(&format!(" network {n} area 0\n"));
    }
    c.push_str("!\n");
    c
}

#[test]
fn ospf_frr_broadcast_segment() {
    if !can_run(&["/usr/lib/frr/ospfd"]) {
        return;
    }
    let lab = lab("ospf_frr_broadcast");
    let r1 = lab.node("r1");
    let r2 = lab.node("r2");
    lab.link(&r1, "eth0", &r2, "eth0");
    r1.add_addr("eth0", "198.51.100.1/29");
    r2.add_addr("eth0", "198.51.100.2/29");
    r1.add_addr("lo", "192.0.2.1/32");
    r2.add_addr("lo", "192.0.2.2/32");
    // Router 1 has the higher priority: it must end up DR.
    start_ours(
        &r1,
        &our_config(
            "192.0.2.1",
            &[
                ("eth0", "0.0.0.0", "priority = 10"),
                ("lo", "0.0.0.0", "passive = true"),
            ],
            "",
        ),
    );
    let frr = start_frr(
        &r2,
        &frr_conf(
            "192.0.2.2",
            &[("eth0", "")],
            &["198.51.100.0/29", "192.0.2.2/32"],
        ),
    );
    wait_full(&r1, 1, T);
    wait_route(&r1, "192.0.2.2/32", &["198.51.100.2"], T);
    wait_route(&r2, "192.0.2.1/32", &["198.51.100.1"], T);
    let ifs = frr.vtysh(&["show ip ospf neighbor"]);
    assert!(ifs.contains("Full/DR"), "FRR sees us as DR: {ifs}");
    // The same LSAs on both sides: two router-LSAs and our network-LSA.
    wait_until_lsdb_matches(&r1, &frr);
}

/// Compares our LSDB with FRR's (type, LSID, advertising router, sequence).
fn wait_until_lsdb_matches(ours: &topotests::Node, frr: &topotests::frr::Frr) {
    let mut last = (Default::default(), Default::default());
    let ok = topotests::try_wait_until(T, "LSDBs match", || {
        let a = our_lsdb(ours);
        let b = frr_lsdb(frr);
        let same = !a.is_empty() && a == b;
        last = (a, b);
        same
    });
    assert!(
        ok.is_ok(),
        "LSDBs differ:\nours {:?}\nFRR  {:?}",
        last.0,
        last.1
    );
}

fn frr_lsdb(frr: &topotests::frr::Frr) -> std::collections::BTreeSet<(u32, String, String, u32)> {
    let out = frr.vtysh(&["show ip ospf database"]);
    let mut set = std::collections::BTreeSet::new();
    let mut kind = 0u32;
    for line in out.lines() {
        let l = line.trim();
        if l.contains("Router Link States") {
            kind = 1;
        } else if l.contains("Net Link States") {
            kind = 2;
        } else if l.contains("Summary Link States") {
            kind = 3;
        } else if l.contains("ASBR-Summary Link States") {
            kind = 4;
        } else if l.contains("AS External Link States") {
            kind = 5;
        }
        let f: Vec<&str> = l.split_whitespace().collect();
        if kind != 0 && f.len() >= 5 && f[0].parse::<std::net::Ipv4Addr>().is_ok() {
            if let (Ok(_), Ok(seq)) = (
                f[1].parse::<std::net::Ipv4Addr>(),
                u32::from_str_radix(f[3].trim_start_matches("0x"), 16),
            ) {
                set.insert((kind, f[0].to_string(), f[1].to_string(), seq));
            }
        }
    }
    set
}

#[test]
fn ospf_frr_point_to_point_md5() {
    if !can_run(&["/usr/lib/frr/ospfd"]) {
        return;
    }
    let lab = lab("ospf_frr_p2p_md5");
    let r1 = lab.node("r1");
    let r2 = lab.node("r2");
    lab.link(&r1, "eth0", &r2, "eth0");
    r1.add_addr("eth0", "198.51.100.1/30");
    r2.add_addr("eth0", "198.51.100.2/30");
    r1.add_addr("lo", "192.0.2.1/32");
    r2.add_addr("lo", "192.0.2.2/32");
    start_ours(
        &r1,
        &our_config(
            "192.0.2.1",
            &[
                (
                    "eth0",
                    "0.0.0.0",
                    "type = \"point-to-point\"\nauthentication = { type = \"md5\", key_id = 7, key = \"s3cret\" }",
                ),
                ("lo", "0.0.0.0", "passive = true"),
            ],
            "",
        ),
    );
    let frr = start_frr(
        &r2,
        &frr_conf(
            "192.0.2.2",
            &[(
                "eth0",
                " ip ospf network point-to-point\n ip ospf authentication message-digest\n ip ospf message-digest-key 7 md5 s3cret\n",
            )],
            &["198.51.100.0/30", "192.0.2.2/32"],
        ),
    );
    wait_full(&r1, 1, T);
    wait_route(&r1, "192.0.2.2/32", &["198.51.100.2"], T);
    wait_route(&r2, "192.0.2.1/32", &["198.51.100.1"], T);
    wait_until_lsdb_matches(&r1, &frr);
    // The key is never shown: the running configuration hides it.
    let run = r1.run_dir().to_string_lossy().into_owned();
    let vtysh = topotests::bin("vtysh").to_string_lossy().into_owned();
    let running = r1
        .exec(&[&vtysh, "--run-dir", &run, "-c", "show running-config ospfd"])
        .expect("show running-config ospfd");
    assert!(
        !running.contains("s3cret") && running.contains("key = \"<hidden>\""),
        "{running}"
    );
}

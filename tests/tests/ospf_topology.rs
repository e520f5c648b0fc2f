//! Topologies of our own zebrad + ospfd only: five routers with
//! equal-cost paths (ECMP into the kernel) that converge when a link goes
//! down, and an area border router with a stub area and an ASBR.

#[path = "ospf_common.rs"]
mod common;

use std::time::Duration;

use common::*;
use topotests::wait_until;

const T: Duration = Duration::from_secs(60);

const P2P: &str = "type = \"point-to-point\"";

#[test]
fn ospf_five_routers_ecmp_and_link_down() {
    if !can_run(&[]) {
        return;
    }
    //        r2
    //      /    \
    //   r1        r4 --LAN-- r5
    //      \    /
    //        r3
    let lab = lab("ospf_five_ecmp");
    let r: Vec<_> = (1..=5).map(|i| lab.node(&format!("r{i}"))).collect();
    let links = [
        (0, "e12", 1, "e21", "198.51.100.0"),
        (0, "e13", 2, "e31", "198.51.100.4"),
        (1, "e24", 3, "e42", "198.51.100.8"),
        (2, "e34", 3, "e43", "198.51.100.12"),
    ];
    let mut ifaces: Vec<Vec<(String, String)>> = vec![Vec::new(); 5];
    for (a, ai, b, bi, net) in links {
        lab.link(&r[a], ai, &r[b], bi);
        let base: std::net::Ipv4Addr = net.parse().unwrap();
        let o = base.octets();
        r[a].add_addr(ai, &format!("{}.{}.{}.{}/30", o[0], o[1], o[2], o[3] + 1));
        r[b].add_addr(bi, &format!("{}.{}.{}.{}/30", o[0], o[1], o[2], o[3] + 2));
        ifaces[a].push((ai.to_string(), P2P.to_string()));
        ifaces[b].push((bi.to_string(), P2P.to_string()));
    }
    let _sw = lab.lan("sw", &[(&r[3], "lan0"), (&r[4], "lan0")]);
    r[3].add_addr("lan0", "203.0.113.4/29");
    r[4].add_addr("lan0", "203.0.113.5/29");
    ifaces[3].push(("lan0".into(), String::new()));
    ifaces[4].push(("lan0".into(), String::new()));
    for (i, node) in r.iter().enumerate() {
        node.add_addr("lo", &format!("192.0.2.{}/32", i + 1));
        let mut list: Vec<(&str, &str, &str)> = ifaces[i]
            .iter()
            .map(|(n, e)| (n.as_str(), "0.0.0.0", e.as_str()))
            .collect();
        list.push(("lo", "0.0.0.0", "passive = true"));
        start_ours(node, &our_config(&format!("192.0.2.{}", i + 1), &list, ""));
    }
    // r1 reaches r5's loopback over both r2 and r3.
    wait_route(&r[0], "192.0.2.5/32", &["198.51.100.2", "198.51.100.6"], T);
    // Every router has a route to every other loopback, and the same LSDB.
    let ok = topotests::try_wait_until(T, "every loopback everywhere", || {
        r.iter().enumerate().all(|(i, node)| {
            let routes = kernel_routes(node, "188");
            (1..=5)
                .filter(|j| *j != i + 1)
                .all(|j| routes.iter().any(|(d, _)| *d == format!("192.0.2.{j}/32")))
        })
    });
    if let Err(e) = ok {
        let dump: Vec<_> = r
            .iter()
            .map(|n| (n.name().to_string(), kernel_routes(n, "188"), our_lsdb(n)))
            .collect();
        panic!("{e}: {dump:#?}");
    }
    wait_until(T, "identical LSDBs", || {
        let first = our_lsdb(&r[0]);
        !first.is_empty() && r.iter().all(|n| our_lsdb(n) == first)
    });
    // 9 LSAs: five router-LSAs and r5's or r4's network-LSA on the LAN.
    assert_eq!(our_lsdb(&r[0]).len(), 6, "{:?}", our_lsdb(&r[0]));
    // r1's link to r2 goes down: the route moves to r3 alone.
    r[0].must(&["ip", "link", "set", "e12", "down"]);
    wait_route(&r[0], "192.0.2.5/32", &["198.51.100.6"], T);
    wait_route(&r[0], "192.0.2.2/32", &["198.51.100.6"], T);
    // r2 reaches r1 the long way round, through r4 and r3.
    wait_route(&r[1], "192.0.2.1/32", &["198.51.100.10"], T);
    // And back up: ECMP again.
    r[0].must(&["ip", "link", "set", "e12", "up"]);
    wait_route(&r[0], "192.0.2.5/32", &["198.51.100.2", "198.51.100.6"], T);
}

#[test]
fn ospf_abr_with_stub_area_and_asbr() {
    if !can_run(&[]) {
        return;
    }
    // r1 (area 0, ASBR: redistributes a static route) -- r2 (ABR) -- r3
    // (area 1, stub).
    let lab = lab("ospf_abr_stub");
    let r1 = lab.node("r1");
    let r2 = lab.node("r2");
    let r3 = lab.node("r3");
    lab.link(&r1, "eth0", &r2, "eth0");
    lab.link(&r2, "eth1", &r3, "eth1");
    r1.add_addr("eth0", "198.51.100.1/30");
    r2.add_addr("eth0", "198.51.100.2/30");
    r2.add_addr("eth1", "198.51.100.5/30");
    r3.add_addr("eth1", "198.51.100.6/30");
    for (i, n) in [&r1, &r2, &r3].iter().enumerate() {
        n.add_addr("lo", &format!("192.0.2.{}/32", i + 1));
    }
    let stub_area = "[[area]]\nid = 1\ntype = \"stub\"\ndefault_cost = 5\n";
    start_ours_with(
        &r1,
        "[[static]]\nprefix = \"203.0.113.128/25\"\nkind = \"blackhole\"\n",
        &our_config(
            "192.0.2.1",
            &[
                ("eth0", "0.0.0.0", P2P),
                ("lo", "0.0.0.0", "passive = true"),
            ],
            "[[redistribute]]\nsource = \"static\"\nmetric = 30\n",
        ),
    );
    start_ours(
        &r2,
        &our_config(
            "192.0.2.2",
            &[
                ("eth0", "0.0.0.0", P2P),
                ("eth1", "0.0.0.1", P2P),
                ("lo", "0.0.0.0", "passive = true"),
            ],
            stub_area,
        ),
    );
    start_ours(
        &r3,
        &our_config(
            "192.0.2.3",
            &[
                ("eth1", "0.0.0.1", P2P),
                ("lo", "0.0.0.1", "passive = true"),
            ],
            stub_area,
        ),
    );
    // Inter-area both ways through the ABR.
    wait_route(&r1, "192.0.2.3/32", &["198.51.100.2"], T);
    wait_route(&r3, "192.0.2.1/32", &["198.51.100.5"], T);
    // The external route reaches the backbone router r2 ...
    wait_route(&r2, "203.0.113.128/25", &["198.51.100.1"], T);
    // ... but not the stub area, which gets a default route instead.
    wait_route(&r3, "0.0.0.0/0", &["198.51.100.5"], T);
    assert!(
        gateways(&r3, "203.0.113.128/25").is_none(),
        "no external route in a stub area"
    );
    assert!(our_lsdb(&r3).iter().all(|(t, ..)| *t != 5));
}

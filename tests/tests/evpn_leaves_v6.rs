//! EVPN over an IPv6 underlay (RFC 7432, RFC 8365): two of our leaves
//! (zebrad + bgpd) whose VXLAN devices have IPv6 local addresses, peering
//! over eBGP on IPv6 for both the underlay (IPv6 unicast, each leaf
//! announces its VTEP /128) and the overlay (L2VPN EVPN with 16-byte next
//! hops, type 3 routes with a 16-byte originating router IP and a PMSI
//! tunnel toward an IPv6 endpoint). The hosts' traffic is carried in
//! VXLAN over IPv6 by the kernel and can only cross if bgpd learned the
//! other leaf's routes and zebrad programmed them.
//!
//! Topology: leaf1 (AS 65001) eth0 2001:db8:ff::1/64 -- leaf2 (AS 65002)
//! eth0 2001:db8:ff::2/64; VTEPs 2001:db8::1/128 and 2001:db8::2/128 on
//! `lo`; on each leaf br100 (198.51.100.254 / .253) with vx100 (VNI 100,
//! learning off) and a host port. h1 (198.51.100.1, 02:00:00:00:01:01)
//! behind leaf1, h2 (198.51.100.2, 02:00:00:00:02:02) behind leaf2.

mod evpn_util;

use evpn_util::*;
use topotests::wait_until;

/// eBGP leaf `asn` toward `peer` (AS `peer_as`) over IPv6 for the
/// underlay and EVPN.
fn leaf_conf(asn: u32, router_id: &str, vtep: &str, peer: &str, peer_as: u32) -> String {
    format!(
        r#"{}
[[neighbor]]
address = "{peer}"
remote_as = {peer_as}
families = ["ipv6-unicast", "l2vpn-evpn"]
import = "ALL"
export = "ALL"
"#,
        ours_head(asn, router_id, &format!("networks = [\"{vtep}/128\"]"))
    )
}

#[test]
fn evpn_leaves_ipv6_vteps() {
    if !can_run(&["bridge"]) {
        return;
    }
    let lab = topotests::Lab::new("evpn_leaves_ipv6_vteps");
    let leaf1 = lab.node("leaf1");
    let leaf2 = lab.node("leaf2");
    lab.link(&leaf1, "eth0", &leaf2, "eth0");
    leaf1.add_addr("eth0", "2001:db8:ff::1/64");
    leaf2.add_addr("eth0", "2001:db8:ff::2/64");
    let h1 = host(&lab, "h1", &leaf1, H1_MAC, "198.51.100.1");
    let h2 = host(&lab, "h2", &leaf2, H2_MAC, "198.51.100.2");
    vxlan(&leaf1, "2001:db8::1", "198.51.100.254", "h1");
    vxlan(&leaf2, "2001:db8::2", "198.51.100.253", "h2");
    start_ours(
        &leaf1,
        &leaf_conf(65001, "192.0.2.1", "2001:db8::1", "2001:db8:ff::2", 65002),
    );
    let (_zebrad2, bgpd2) = start_ours(
        &leaf2,
        &leaf_conf(65002, "192.0.2.2", "2001:db8::2", "2001:db8:ff::1", 65001),
    );
    wait_established(&leaf1, "2001:db8:ff::2");
    wait_kernel(&leaf1, "2001:db8::2/128", "2001:db8:ff::2");
    wait_kernel(&leaf2, "2001:db8::1/128", "2001:db8:ff::1");

    // Each leaf learns its host (MAC and ARP entry) by talking to it.
    wait_until(T, "leaf1 reaches h1", || leaf1.reachable("198.51.100.1"));
    wait_until(T, "leaf2 reaches h2", || leaf2.reachable("198.51.100.2"));

    // The flood entry and the MACs point at the other leaf's IPv6 VTEP.
    wait_tables(
        &leaf1,
        &expected_fdb("2001:db8::2", &[H2_MAC]),
        &set(&[&format!("198.51.100.2 {H2_MAC}")]),
    );
    wait_tables(
        &leaf2,
        &expected_fdb("2001:db8::1", &[H1_MAC]),
        &set(&[&format!("198.51.100.1 {H1_MAC}")]),
    );
    wait_until(T, "h1 pings h2 across the IPv6 underlay", || {
        h1.reachable("198.51.100.2")
    });
    assert!(h2.reachable("198.51.100.1"));

    // bgpd's view: the type 3 route names leaf2's IPv6 VTEP as originating
    // router (length 128) and as next hop; the type 2 route too.
    let t3 = evpn_paths(&leaf1, Some(3));
    let (_, p) = t3
        .iter()
        .find(|(p, _)| p == "[3]:[0]:[128]:[2001:db8::2]")
        .unwrap_or_else(|| panic!("{t3:#?}"));
    assert_eq!(p["pathFrom"], "external", "{p:#}");
    assert_eq!(p["ipLen"], 128, "{p:#}");
    assert_eq!(p["nexthops"][0]["afi"], "ipv6", "{p:#}");
    assert_eq!(p["nexthops"][0]["ip"], "2001:db8::2", "{p:#}");
    assert_eq!(p["pmsi"]["tunnelType"], "ingress-replication", "{p:#}");
    assert_eq!(p["pmsi"]["tunnelId"], "2001:db8::2", "{p:#}");
    let t2 = evpn_paths(&leaf1, Some(2));
    let (_, p) = t2
        .iter()
        .find(|(p, _)| p == &format!("[2]:[0]:[48]:[{H2_MAC}]:[32]:[198.51.100.2]"))
        .unwrap_or_else(|| panic!("{t2:#?}"));
    assert_eq!(p["nexthops"][0]["ip"], "2001:db8::2", "{p:#}");

    // zebrad tracks leaf2's IPv6 VTEP through the IPv6 route to it.
    let out = vtysh(&leaf1, "show evpn vni 100").unwrap_or_default();
    assert!(
        out.contains("2001:db8::2 flood: HER reachable via 2001:db8::2/128 (bgp)"),
        "{out}"
    );

    // h2 goes away and leaf2 forgets it: its routes are withdrawn and
    // leaf1's kernel drops them; the flood entry stays.
    leaf2.must_sh(&format!(
        "ip link set h2 down && bridge fdb del {H2_MAC} dev h2 master 2>/dev/null; \
         ip neigh del 198.51.100.2 dev br100 2>/dev/null; true"
    ));
    wait_tables(&leaf1, &expected_fdb("2001:db8::2", &[]), &set(&[]));

    // The underlay alone loses leaf2's VTEP (leaf1's link down, the
    // sessions and EVPN routes still there): nothing points at it any
    // more; the link back up brings the flood entry back. (The kernel
    // flushes IPv6 addresses of a link set down unless told to keep them.)
    leaf1.must(&["sysctl", "-qw", "net.ipv6.conf.eth0.keep_addr_on_down=1"]);
    leaf1.must(&["ip", "link", "set", "eth0", "down"]);
    wait_tables(&leaf1, &set(&[]), &set(&[]));
    leaf1.must(&["ip", "link", "set", "eth0", "up"]);
    wait_tables(&leaf1, &expected_fdb("2001:db8::2", &[]), &set(&[]));

    // leaf2's bgpd goes down: its type 3 route and the underlay route to
    // its VTEP are withdrawn, and the flood entry leaves leaf1's kernel.
    bgpd2.stop();
    wait_kernel_gone(&leaf1, "2001:db8::2/128", T);
    wait_tables(&leaf1, &set(&[]), &set(&[]));
}

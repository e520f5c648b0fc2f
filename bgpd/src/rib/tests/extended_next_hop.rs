//! Extended Next Hop (RFC 8950): IPv4 routes with IPv6 next hops, learned
//! from and sent to peers that negotiated the capability, and what peers
//! without it get instead.

use super::*;

const A: &str = "203.0.113.0/24";

fn enh_caps() -> SessionCaps {
    SessionCaps {
        extended_next_hop: vec![AfiSafi::IPV4_UNICAST],
        ..SessionCaps::four_octet()
    }
}

/// Peer `id` over an IPv6 session (2001:db8::`id`, ours 2001:db8::fe and
/// fe80::fe), with Extended Next Hop negotiated when `enh`.
fn v6_peer(id: PeerId, remote_as: u32, enh: bool) -> PeerInfo {
    let mut info = peer(id, remote_as);
    info.addr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, id as u16));
    info.local_addr = "2001:db8::fe".parse().unwrap();
    info.local_v6_link_local = Some("fe80::fe".parse().unwrap());
    if enh {
        info.caps = enh_caps();
    }
    info
}

/// IPv4 NLRI in MP_REACH_NLRI with an IPv6 global + link-local next hop.
fn v4_over_v6(path: &[u32], prefixes: &[&str]) -> ParsedUpdate {
    let a = PathAttributes {
        next_hop: None,
        mp_next_hop: Some(MpNextHop::V6 {
            global: "2001:db8::1".parse().unwrap(),
            link_local: Some("fe80::1".parse().unwrap()),
        }),
        ..attrs(path, "198.51.100.1")
    };
    ParsedUpdate {
        update: Update {
            attributes: a,
            mp_reach: Some(MpReach {
                family: AfiSafi::IPV4_UNICAST,
                nlri: prefixes.iter().map(|s| Nlri::new(p(s))).collect(),
            }),
            ..Update::default()
        },
        report: UpdateReport::default(),
    }
}

#[test]
fn learned_ipv4_route_tracks_and_installs_the_ipv6_next_hop() {
    let mut rib = rib_with(cfg(), &[v6_peer(1, 65001, true)]);
    send(&mut rib, 1, v4_over_v6(&[65001], &[A]));
    let out = rib.take_all();
    let nh = IpAddr::V6("2001:db8::1".parse().unwrap());
    assert_eq!(out.nht_register, vec![nh]);
    assert!(out.zebra_add.is_empty(), "not before the next hop resolves");
    rib.nexthop_update(nh, true, 0);
    let out = rib.take_all();
    assert_eq!(out.zebra_add.len(), 1);
    assert_eq!(out.zebra_add[0].prefix, p(A));
    assert_eq!(out.zebra_add[0].nexthops, vec![nh]);
    // Unreachable: the route leaves the kernel.
    rib.nexthop_update(nh, false, 0);
    assert_eq!(rib.take_all().zebra_del, vec![p(A)]);
}

#[test]
fn export_per_peer_capability() {
    let mut ibgp_v4 = peer(4, LOCAL_AS);
    ibgp_v4.policy.import = None;
    ibgp_v4.policy.export = None;
    let mut ibgp_v6 = v6_peer(5, LOCAL_AS, false);
    ibgp_v6.policy.import = None;
    ibgp_v6.policy.export = None;
    let mut ibgp_enh = v6_peer(6, LOCAL_AS, true);
    ibgp_enh.policy.import = None;
    ibgp_enh.policy.export = None;
    let mut rib = rib_with(
        cfg(),
        &[
            v6_peer(1, 65001, true),
            peer(2, 65002),
            v6_peer(3, 65003, true),
            ibgp_v4,
            ibgp_v6,
            ibgp_enh,
        ],
    );
    send(&mut rib, 1, v4_over_v6(&[65001], &[A]));
    let out = resolve_all(&mut rib);

    // eBGP over IPv4: the classic NEXT_HOP, ours.
    let s2 = seen(&out, 2);
    assert_eq!(s2.announced[&p(A)].next_hop, Some(v4("192.0.2.254")));
    assert_eq!(s2.announced[&p(A)].mp_next_hop, None);

    // eBGP over IPv6 with the capability: ours, global and link-local.
    let s3 = seen_with(&out, 3, &enh_caps());
    assert_eq!(s3.announced[&p(A)].next_hop, None);
    assert_eq!(
        s3.announced[&p(A)].mp_next_hop,
        Some(MpNextHop::V6 {
            global: "2001:db8::fe".parse().unwrap(),
            link_local: Some("fe80::fe".parse().unwrap()),
        })
    );

    // iBGP keeps the next hop: an IPv4 session without the capability
    // cannot carry it, so we put ours; an IPv6 one without it gets
    // nothing; with it, the IPv6 global next hop unchanged.
    assert_eq!(
        seen(&out, 4).announced[&p(A)].next_hop,
        Some(v4("192.0.2.254"))
    );
    assert!(seen(&out, 5).announced.is_empty());
    assert_eq!(
        seen_with(&out, 6, &enh_caps()).announced[&p(A)].mp_next_hop,
        Some(MpNextHop::V6 {
            global: "2001:db8::1".parse().unwrap(),
            link_local: None,
        })
    );

    // Withdrawn in MP_UNREACH_NLRI from peer 1; peers with the capability
    // get it in MP_UNREACH_NLRI too, the others in Withdrawn Routes.
    let w = ParsedUpdate {
        update: Update {
            mp_unreach: Some(crate::packet::MpUnreach {
                family: AfiSafi::IPV4_UNICAST,
                withdrawn: vec![Nlri::new(p(A))],
            }),
            ..Update::default()
        },
        report: UpdateReport::default(),
    };
    send(&mut rib, 1, w);
    let out = rib.take_all();
    assert_eq!(out.zebra_del, vec![p(A)]);
    for (id, caps) in [(2, SessionCaps::four_octet()), (3, enh_caps())] {
        assert_eq!(seen_with(&out, id, &caps).withdrawn, vec![p(A)]);
    }
    let unreach = out
        .to_peers
        .iter()
        .filter(|(id, _)| *id == 3)
        .flat_map(|(_, m)| m)
        .filter_map(|m| match decode_message(m, &enh_caps()).ok()?.message {
            Message::Update(u) => u.mp_unreach,
            _ => None,
        })
        .count();
    assert_eq!(unreach, 1);
}

#[test]
fn link_local_only_next_hop_is_used_when_the_global_is_absent() {
    // An unnumbered peer: `::` (or its link-local address) in the global
    // field, the link-local one after it (RFC 2545 §3).
    for global in ["::", "fe80::1"] {
        let mut rib = rib_with(cfg(), &[v6_peer(1, 65001, true)]);
        let mut u = v4_over_v6(&[65001], &[A]);
        u.update.attributes.mp_next_hop = Some(MpNextHop::V6 {
            global: global.parse().unwrap(),
            link_local: Some("fe80::1".parse().unwrap()),
        });
        send(&mut rib, 1, u);
        let ll = IpAddr::V6("fe80::1".parse().unwrap());
        assert_eq!(rib.take_all().nht_register, vec![ll]);
        rib.nexthop_update(ll, true, 0);
        assert_eq!(rib.take_all().zebra_add[0].nexthops, vec![ll]);
    }
}

#[test]
fn link_local_next_hop_goes_to_zebrad_with_the_peers_interface() {
    // A peer on a link-local address with its interface: its link-local
    // next hop is on that link (so zebrad installs `via fe80::1 dev eth1`);
    // the same next hop from a peer without an interface has no scope.
    for (interface, want) in [(Some("eth1"), vec!["eth1"]), (None, vec![])] {
        let mut peer = v6_peer(1, 65001, true);
        peer.interface = interface.map(std::sync::Arc::from);
        let mut rib = rib_with(cfg(), &[peer]);
        let mut u = v4_over_v6(&[65001], &[A]);
        u.update.attributes.mp_next_hop = Some(MpNextHop::V6 {
            global: "::".parse().unwrap(),
            link_local: Some("fe80::1".parse().unwrap()),
        });
        send(&mut rib, 1, u);
        let ll: Ipv6Addr = "fe80::1".parse().unwrap();
        rib.take_all();
        rib.nexthop_update(IpAddr::V6(ll), true, 0);
        let z = &rib.take_all().zebra_add[0];
        assert_eq!(z.nexthops, vec![IpAddr::V6(ll)]);
        let scopes: Vec<&str> = z
            .scopes
            .iter()
            .filter(|(a, _)| *a == ll)
            .map(|(_, i)| &**i)
            .collect();
        assert_eq!(scopes, want);
    }
}

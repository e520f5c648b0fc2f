use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::*;
use crate::evpn::community::{encapsulation, TUNNEL_VXLAN};
use crate::evpn::nlri::{Esi, ImetRoute, MacIpRoute, RouteDistinguisher};
use crate::packet::attribute::PmsiTunnel;
use crate::packet::{decode_message, AsPath, Origin, SessionCaps, UpdateReport};

const LOCAL_AS: u32 = 65000;

fn cfg() -> RibConfig {
    RibConfig {
        local_as: LOCAL_AS,
        router_id: Ipv4Addr::new(10, 0, 0, 254),
        multipath_ebgp: 1,
        multipath_ibgp: 1,
        always_compare_med: false,
        cluster_id: None,
    }
}

fn peer(id: PeerId, remote_as: u32, rr_client: bool) -> PeerInfo {
    let ibgp = remote_as == LOCAL_AS;
    let idb = id as u8;
    PeerInfo {
        id,
        addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, idb)),
        remote_as,
        remote_id: Ipv4Addr::new(10, 0, 0, idb),
        ibgp,
        caps: SessionCaps::four_octet(),
        local_addr: "192.0.2.254".parse().unwrap(),
        local_v6_global: None,
        local_v6_link_local: None,
        next_hop_self: false,
        allowas_in: 0,
        families: vec![AfiSafi::L2VPN_EVPN],
        policy: crate::policy::Bindings {
            import: (!ibgp).then(|| "all".to_string()),
            export: (!ibgp).then(|| "all".to_string()),
            ..Default::default()
        },
        rr_client,
        enhanced_route_refresh: false,
        graceful_restart: None,
        add_path_send: Default::default(),
        interface: None,
    }
}

const VTEP: &str = "198.51.100.254";
const MAC: Mac = Mac([2, 0, 0, 0, 0, 1]);

fn leaf() -> EvpnRib {
    let mut rib = EvpnRib::new(cfg(), EvpnConfig::default());
    rib.vni_update(
        100,
        LocalDevice {
            ifname: "vxlan100".into(),
            bridge: "br100".into(),
            vtep: Some(VTEP.parse().unwrap()),
            up: true,
        },
    );
    rib
}

fn updates(msgs: &[Bytes]) -> Vec<Update> {
    msgs.iter()
        .map(|b| {
            let d = decode_message(b, &SessionCaps::four_octet()).unwrap();
            assert_eq!(d.report, UpdateReport::default());
            match d.message {
                Message::Update(u) => u,
                other => panic!("not an UPDATE: {other:?}"),
            }
        })
        .collect()
}

fn sent_to(out: &EvpnOutput, id: PeerId) -> Vec<Update> {
    out.to_peers
        .iter()
        .filter(|(p, _)| *p == id)
        .flat_map(|(_, m)| updates(m))
        .collect()
}

/// A remote leaf's routes for VNI 100 from VTEP `vtep`, RD `vtep:1`.
fn remote(vtep: &str, mac: Mac, ip: Option<&str>, seq: u32) -> (Vec<EvpnRoute>, PathAttributes) {
    let vtep: Ipv4Addr = vtep.parse().unwrap();
    let rd = RouteDistinguisher::Ip {
        addr: vtep,
        number: 1,
    };
    let mut ext = vec![
        RouteTarget::auto(65001, 100).community(),
        encapsulation(TUNNEL_VXLAN),
    ];
    if seq > 0 {
        ext.push(
            MacMobility {
                sequence: seq,
                sticky: false,
            }
            .community(),
        );
    }
    let attrs = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::default()),
        mp_next_hop: Some(MpNextHop::V4(vtep)),
        local_pref: Some(100),
        extended_communities: ext,
        pmsi_tunnel: Some(PmsiTunnel::ingress_replication(100, vtep.into())),
        ..PathAttributes::default()
    };
    let routes = vec![
        EvpnRoute::Imet(ImetRoute {
            rd,
            ethernet_tag: 0,
            originator: vtep.into(),
        }),
        EvpnRoute::MacIp(MacIpRoute {
            rd,
            esi: Esi::default(),
            ethernet_tag: 0,
            mac,
            ip: None,
            vni: 100,
            vni2: None,
        }),
    ]
    .into_iter()
    .chain(ip.map(|ip| {
        EvpnRoute::MacIp(MacIpRoute {
            rd,
            esi: Esi::default(),
            ethernet_tag: 0,
            mac,
            ip: Some(ip.parse().unwrap()),
            vni: 100,
            vni2: None,
        })
    }))
    .collect();
    (routes, attrs)
}

fn announce(routes: Vec<EvpnRoute>, attributes: PathAttributes) -> ParsedUpdate {
    ParsedUpdate {
        update: Update {
            attributes,
            evpn_reach: routes,
            ..Update::default()
        },
        report: UpdateReport::default(),
    }
}

fn withdraw(routes: Vec<EvpnRoute>) -> ParsedUpdate {
    ParsedUpdate {
        update: Update {
            evpn_unreach: routes,
            ..Update::default()
        },
        report: UpdateReport::default(),
    }
}

#[test]
fn local_state_is_originated_and_sent_to_ibgp_and_ebgp() {
    let mut rib = leaf();
    rib.mac_add(100, MAC, false);
    rib.neighbor_add(100, "203.0.113.1".parse().unwrap(), MAC);
    rib.take_output(Instant::now());
    rib.peer_up(peer(1, LOCAL_AS, false), Instant::now());
    rib.peer_up(peer(2, 65002, false), Instant::now());
    let out = rib.take_output(Instant::now());

    let to_ibgp = sent_to(&out, 1);
    let eor = to_ibgp.last().unwrap();
    assert_eq!(eor.end_of_rib_family(), Some(AfiSafi::L2VPN_EVPN));
    let routes: Vec<String> = to_ibgp
        .iter()
        .flat_map(|u| u.evpn_reach.iter().map(|r| r.key().to_string()))
        .collect();
    assert_eq!(routes.len(), 3, "{routes:?}");
    let imet = to_ibgp
        .iter()
        .find(|u| matches!(u.evpn_reach.first(), Some(EvpnRoute::Imet(_))))
        .unwrap();
    let a = &imet.attributes;
    assert_eq!(a.local_pref, Some(100));
    assert_eq!(a.mp_next_hop, Some(MpNextHop::V4(VTEP.parse().unwrap())));
    assert_eq!(
        a.pmsi_tunnel.as_ref().and_then(|t| t.endpoint()),
        Some(VTEP.parse().unwrap())
    );
    assert!(a
        .extended_communities
        .contains(&RouteTarget::auto(LOCAL_AS, 100).community()));

    // eBGP: our AS prepended, next hop still the VTEP.
    let to_ebgp = sent_to(&out, 2);
    let u = to_ebgp.iter().find(|u| !u.evpn_reach.is_empty()).unwrap();
    assert_eq!(u.attributes.as_path.as_ref().unwrap().length(), 1);
    assert_eq!(u.attributes.local_pref, None);
    assert_eq!(
        u.attributes.mp_next_hop,
        Some(MpNextHop::V4(VTEP.parse().unwrap()))
    );

    // The MAC goes: its two routes are withdrawn.
    rib.mac_del(100, MAC);
    let out = rib.take_output(Instant::now());
    let w: Vec<_> = sent_to(&out, 1)
        .into_iter()
        .flat_map(|u| u.evpn_unreach)
        .collect();
    assert_eq!(w.len(), 2);
}

#[test]
fn imported_routes_become_remote_state() {
    let mut rib = leaf();
    rib.peer_up(peer(1, LOCAL_AS, false), Instant::now());
    rib.take_output(Instant::now());
    let (routes, attrs) = remote("192.0.2.11", MAC, Some("203.0.113.11"), 0);
    rib.update(1, &announce(routes.clone(), attrs));
    let out = rib.take_output(Instant::now());
    let vtep: IpAddr = "192.0.2.11".parse().unwrap();
    assert_eq!(out.remote.vtep_add, vec![(100, vtep)]);
    assert_eq!(
        out.remote.mac_add,
        vec![(
            100,
            MAC,
            RemoteMac {
                vtep,
                seq: 0,
                sticky: false
            }
        )]
    );
    assert_eq!(
        out.remote.macip_add,
        vec![(100, "203.0.113.11".parse().unwrap(), MAC, vtep)]
    );
    // Not sent back to the iBGP peer it came from.
    assert!(sent_to(&out, 1).is_empty());

    // A route target of another VNI is kept but not imported.
    let (mut routes2, mut attrs2) = remote("192.0.2.12", Mac([2, 0, 0, 0, 0, 2]), None, 0);
    attrs2.extended_communities = vec![RouteTarget::auto(65001, 200).community()];
    routes2.remove(0);
    rib.update(1, &announce(routes2, attrs2));
    let out = rib.take_output(Instant::now());
    assert!(out.remote.is_empty());
    assert_eq!(rib.routes(Some(2)).len(), 3);

    rib.update(1, &withdraw(routes));
    let out = rib.take_output(Instant::now());
    assert_eq!(out.remote.vtep_del, vec![(100, vtep)]);
    assert_eq!(out.remote.mac_del, vec![(100, MAC)]);
    assert_eq!(
        out.remote.macip_del,
        vec![(100, "203.0.113.11".parse().unwrap())]
    );
    assert_eq!(rib.routes(Some(3)).len(), 1, "our own type 3 only");
}

#[test]
fn route_reflector_passes_routes_between_clients() {
    let mut rib = EvpnRib::new(cfg(), EvpnConfig::default());
    rib.peer_up(peer(1, LOCAL_AS, true), Instant::now());
    rib.peer_up(peer(2, LOCAL_AS, true), Instant::now());
    rib.peer_up(peer(3, LOCAL_AS, false), Instant::now());
    rib.take_output(Instant::now());
    let (mut routes, attrs) = remote("192.0.2.11", MAC, None, 0);
    routes.push(EvpnRoute::Other {
        route_type: 5,
        value: vec![1, 2, 3],
    });
    rib.update(1, &announce(routes, attrs));
    let out = rib.take_output(Instant::now());
    for to in [2, 3] {
        let got = sent_to(&out, to);
        let u = got.iter().find(|u| !u.evpn_reach.is_empty()).unwrap();
        assert_eq!(u.evpn_reach.len(), 3, "type 5 passed on too");
        assert_eq!(u.attributes.originator_id, Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(u.attributes.cluster_list, vec![cfg().router_id]);
        assert_eq!(
            u.attributes.mp_next_hop,
            Some(MpNextHop::V4("192.0.2.11".parse().unwrap()))
        );
    }
    assert!(sent_to(&out, 1).is_empty());
    // No local VNI: nothing for zebrad.
    assert!(out.remote.is_empty());
}

#[test]
fn a_mac_moving_away_and_back_bumps_the_sequence() {
    let mut rib = leaf();
    rib.peer_up(peer(1, LOCAL_AS, false), Instant::now());
    rib.mac_add(100, MAC, false);
    rib.take_output(Instant::now());

    // The MAC shows up behind another VTEP with sequence 1: it moved.
    let (routes, attrs) = remote("192.0.2.11", MAC, None, 1);
    rib.update(1, &announce(routes, attrs));
    let out = rib.take_output(Instant::now());
    let w: Vec<_> = sent_to(&out, 1)
        .into_iter()
        .flat_map(|u| u.evpn_unreach)
        .collect();
    assert!(
        matches!(w.as_slice(), [EvpnRoute::MacIp(r)] if r.mac == MAC),
        "our route withdrawn: {w:?}"
    );
    assert_eq!(out.remote.mac_add.len(), 1);
    assert_eq!(out.remote.mac_add[0].2.seq, 1);

    // It comes back here: advertised with 2, the remote one no longer
    // programmed.
    rib.mac_del(100, MAC);
    rib.mac_add(100, MAC, false);
    let out = rib.take_output(Instant::now());
    let u: Vec<_> = sent_to(&out, 1)
        .into_iter()
        .filter(|u| {
            u.evpn_reach
                .iter()
                .any(|r| matches!(r, EvpnRoute::MacIp(_)))
        })
        .collect();
    assert_eq!(u.len(), 1);
    assert_eq!(
        MacMobility::of(&u[0].attributes.extended_communities).map(|m| m.sequence),
        Some(2)
    );
    assert_eq!(out.remote.mac_del, vec![(100, MAC)]);
}

#[test]
fn a_mac_flapping_between_vteps_is_frozen() {
    let mut rib = leaf();
    rib.peer_up(peer(1, LOCAL_AS, false), Instant::now());
    let t0 = Instant::now();
    rib.mac_add(100, MAC, false);
    rib.take_output(t0);
    let mut seq = 0;
    for i in 0..6u64 {
        let now = t0 + Duration::from_secs(i * 5);
        // The remote side claims it with a higher number...
        seq += 1;
        let (routes, attrs) = remote("192.0.2.11", MAC, None, seq.max(rib_seq(&rib) + 1));
        rib.update(1, &announce(routes, attrs));
        rib.take_output(now);
        // ...and it is learned here again.
        rib.mac_del(100, MAC);
        rib.mac_add(100, MAC, false);
        rib.take_output(now + Duration::from_secs(1));
        seq = rib_seq(&rib);
    }
    let dups = rib.duplicates();
    assert_eq!(dups.len(), 1);
    assert_eq!(dups[0].mac, MAC);
    // Frozen: our route is not advertised any more.
    assert!(rib
        .routes(Some(2))
        .iter()
        .all(|v| v.path.peer != LOCAL_PEER));
}

fn rib_seq(rib: &EvpnRib) -> u32 {
    rib.local_vnis()
        .get(&100)
        .and_then(|lv| lv.macs.get(&MAC))
        .map_or(0, |m| m.seq)
}

#[test]
fn ebgp_without_policy_exchanges_nothing() {
    let mut rib = leaf();
    let mut p = peer(2, 65002, false);
    p.policy = Default::default();
    rib.peer_up(p, Instant::now());
    rib.mac_add(100, MAC, false);
    let out = rib.take_output(Instant::now());
    assert!(sent_to(&out, 2).iter().all(|u| u.evpn_reach.is_empty()));
    let (routes, attrs) = remote("192.0.2.11", Mac([2, 0, 0, 0, 0, 9]), None, 0);
    rib.update(2, &announce(routes, attrs));
    let out = rib.take_output(Instant::now());
    assert!(out.remote.is_empty());
    assert_eq!(rib.counts(2).received, 2);
    assert_eq!(rib.counts(2).accepted, 0);
}

#[test]
fn a_restarting_peers_routes_stay_stale_until_end_of_rib() {
    use crate::rib::PeerGr;
    let gr = PeerGr {
        restart_time: Duration::from_secs(120),
        stale_time: Duration::from_secs(360),
        families: vec![AfiSafi::L2VPN_EVPN],
        forwarding: vec![AfiSafi::L2VPN_EVPN],
    };
    let mut p = peer(1, LOCAL_AS, false);
    p.graceful_restart = Some(gr);
    let t0 = Instant::now();
    let mut rib = leaf();
    rib.peer_up(p.clone(), t0);
    rib.take_output(t0);
    let other = Mac([2, 0, 0, 0, 0, 2]);
    let (a, attrs_a) = remote("192.0.2.11", MAC, None, 0);
    let (b, attrs_b) = remote("192.0.2.11", other, None, 0);
    rib.update(1, &announce(a.clone(), attrs_a.clone()));
    rib.update(1, &announce(b[1..].to_vec(), attrs_b));
    assert_eq!(rib.take_output(t0).remote.mac_add.len(), 2);

    // The session drops without a NOTIFICATION: nothing leaves the kernel.
    rib.peer_restarting(1, t0);
    assert!(rib.take_output(t0).remote.is_empty());
    assert_eq!(rib.stale_paths(1), 3);
    rib.tick(t0 + Duration::from_secs(60));
    assert!(rib.take_output(t0).remote.is_empty());

    // Back: it sends MAC again (no longer stale), then End-of-RIB: the
    // other MAC, not re-learned, goes.
    rib.peer_up(p.clone(), t0 + Duration::from_secs(61));
    rib.update(1, &announce(a, attrs_a));
    assert!(rib.take_output(t0).remote.is_empty());
    assert_eq!(rib.stale_paths(1), 1);
    rib.end_of_rib(1, AfiSafi::L2VPN_EVPN);
    let out = rib.take_output(t0);
    assert_eq!(out.remote.mac_del, vec![(100, other)]);
    assert!(out.remote.vtep_del.is_empty());
    assert_eq!(rib.stale_paths(1), 0);

    // A second restart, and the peer never comes back: the Restart Time
    // removes everything.
    rib.peer_restarting(1, t0);
    rib.tick(t0 + Duration::from_secs(119));
    assert!(rib.take_output(t0).remote.is_empty());
    rib.tick(t0 + Duration::from_secs(120));
    let out = rib.take_output(t0);
    assert_eq!(out.remote.mac_del, vec![(100, MAC)]);
    assert_eq!(out.remote.vtep_del.len(), 1);

    // Without the EVPN family in its capability, a drop withdraws at once.
    let mut rib = leaf();
    rib.peer_up(peer(2, LOCAL_AS, false), t0);
    let (c, attrs_c) = remote("192.0.2.12", MAC, None, 0);
    rib.update(2, &announce(c, attrs_c));
    rib.take_output(t0);
    rib.peer_restarting(2, t0);
    assert_eq!(rib.take_output(t0).remote.mac_del, vec![(100, MAC)]);
}

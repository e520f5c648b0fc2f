//! BGP MPLS-based Ethernet VPN over VXLAN: the L2VPN EVPN address family
//! (AFI 25, SAFI 70; RFC 7432, RFC 8365).
//!
//! `nlri` is the route codec and `community` the extended communities
//! EVPN uses; `config` the `[evpn]` section; `origination` turns zebrad's
//! local VNIs, MACs and neighbors into routes; `mobility` follows MAC
//! moves and duplicates; `rib` selects, exports and imports routes.

pub mod community;
pub mod config;
pub mod mobility;
pub mod nlri;
pub mod origination;
pub mod rib;

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::community::{encapsulation, MacMobility, RouteTarget, TUNNEL_VXLAN};
    use super::nlri::{Esi, EvpnRoute, ImetRoute, MacIpRoute, RouteDistinguisher};
    use crate::packet::attribute::PmsiTunnel;
    use crate::packet::{
        decode_message, AsPath, Message, MpNextHop, Origin, PathAttributes, SessionCaps, Update,
    };

    fn caps() -> SessionCaps {
        SessionCaps {
            four_octet_as: true,
            ..SessionCaps::default()
        }
    }

    #[test]
    fn update_round_trip() {
        let vtep = Ipv4Addr::new(192, 0, 2, 1);
        let rd = RouteDistinguisher::Ip {
            addr: vtep,
            number: 1,
        };
        let attributes = PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::default()),
            mp_next_hop: Some(MpNextHop::V4(vtep)),
            local_pref: Some(100),
            extended_communities: vec![
                RouteTarget::auto(65000, 100).community(),
                encapsulation(TUNNEL_VXLAN),
                MacMobility {
                    sequence: 2,
                    sticky: false,
                }
                .community(),
            ],
            pmsi_tunnel: Some(PmsiTunnel::ingress_replication(100, vtep.into())),
            ..PathAttributes::default()
        };
        let reach = vec![
            EvpnRoute::Imet(ImetRoute {
                rd,
                ethernet_tag: 0,
                originator: vtep.into(),
            }),
            EvpnRoute::MacIp(MacIpRoute {
                rd,
                esi: Esi::default(),
                ethernet_tag: 0,
                mac: "02:00:00:00:00:01".parse().unwrap(),
                ip: Some("198.51.100.1".parse().unwrap()),
                vni: 100,
                vni2: None,
            }),
        ];
        let u = Update {
            attributes,
            evpn_reach: reach.clone(),
            ..Update::default()
        };
        let bytes = Message::Update(u.clone()).to_bytes(&caps()).unwrap();
        let d = decode_message(&bytes, &caps()).unwrap();
        assert_eq!(d.message, Message::Update(u));
        assert!(d.report.discarded.is_empty());

        let w = Update {
            evpn_unreach: reach,
            ..Update::default()
        };
        let bytes = Message::Update(w.clone()).to_bytes(&caps()).unwrap();
        let d = decode_message(&bytes, &caps()).unwrap();
        assert_eq!(d.message, Message::Update(w));
        let Message::Update(w) = d.message else {
            unreachable!()
        };
        assert_eq!(w.end_of_rib_family(), None);
    }
}

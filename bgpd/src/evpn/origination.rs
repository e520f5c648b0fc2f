//! Origination (RFC 7432 §7.2, §7.3, §11; RFC 8365 §5.1): the local VNIs,
//! MACs and MAC+IPs zebrad reports, and the routes they become: one
//! inclusive multicast route (type 3, PMSI ingress replication toward our
//! VTEP) per VNI, one MAC/IP route (type 2) per MAC and per MAC+IP, each
//! with the VXLAN encapsulation community, RD router-id:index and RT
//! AS:VNI (or the configured ones), and MAC mobility's sequence number.
//!
//! Owns the local state and the route building. Never decides whether a
//! local MAC is in use (the RIB does, against remote routes).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use super::community::{encapsulation, MacMobility, RouteTarget, TUNNEL_VXLAN};
use super::config::EvpnConfig;
use super::nlri::{Esi, EvpnRoute, ImetRoute, Mac, MacIpRoute, RouteDistinguisher};
use crate::packet::attribute::PmsiTunnel;
use crate::packet::{AsPath, MpNextHop, Origin, PathAttributes};

/// A local MAC of a VNI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalMac {
    pub sticky: bool,
    /// MAC mobility sequence number we advertise it with.
    pub seq: u32,
    /// False while a remote route with a higher sequence number holds it
    /// (it moved away): not advertised.
    pub active: bool,
}

/// One local VNI: its VXLAN device and what was learned on its bridge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalVni {
    pub ifname: String,
    pub bridge: String,
    /// IFLA_VXLAN_LOCAL, when set.
    pub vtep: Option<IpAddr>,
    pub up: bool,
    pub macs: BTreeMap<Mac, LocalMac>,
    /// MAC+IP (ARP/ND) entries: IP → MAC.
    pub neighbors: BTreeMap<IpAddr, Mac>,
    /// The RD index of router-id:index, fixed while bgpd runs.
    pub rd_index: u16,
}

/// What a route of one VNI carries, derived or configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VniParams {
    pub rd: RouteDistinguisher,
    pub export_rts: Vec<RouteTarget>,
    pub vtep: IpAddr,
}

/// RD, RTs and VTEP of `vni`: configured in `[[evpn.vni]]` or derived
/// (RD router-id:index, RT AS:VNI). `None` without a VTEP address.
pub fn params(
    cfg: &EvpnConfig,
    asn: u32,
    router_id: Ipv4Addr,
    vni: u32,
    lv: &LocalVni,
) -> Option<VniParams> {
    let vtep = lv.vtep.or(cfg.vtep)?;
    let over = cfg.vni(vni);
    let rd = over.and_then(|v| v.rd).unwrap_or(RouteDistinguisher::Ip {
        addr: router_id,
        number: lv.rd_index,
    });
    let export_rts = match over {
        Some(v) if !v.export_rts.is_empty() => v.export_rts.clone(),
        _ => vec![RouteTarget::auto(asn, vni)],
    };
    Some(VniParams {
        rd,
        export_rts,
        vtep,
    })
}

fn base_attrs(p: &VniParams) -> PathAttributes {
    let mut ext: Vec<_> = p.export_rts.iter().map(RouteTarget::community).collect();
    ext.push(encapsulation(TUNNEL_VXLAN));
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::default()),
        mp_next_hop: Some(match p.vtep {
            IpAddr::V4(a) => MpNextHop::V4(a),
            IpAddr::V6(global) => MpNextHop::V6 {
                global,
                link_local: None,
            },
        }),
        extended_communities: ext,
        ..PathAttributes::default()
    }
}

/// Every route VNI `vni` originates: type 3, then type 2 for each active
/// MAC not in `frozen`, and for each MAC+IP whose MAC is advertised.
pub fn routes(
    vni: u32,
    lv: &LocalVni,
    p: &VniParams,
    frozen: impl Fn(Mac) -> bool,
) -> Vec<(EvpnRoute, PathAttributes)> {
    let mut out = Vec::new();
    if !lv.up {
        return out;
    }
    let mut imet = base_attrs(p);
    imet.pmsi_tunnel = Some(PmsiTunnel::ingress_replication(vni, p.vtep));
    out.push((
        EvpnRoute::Imet(ImetRoute {
            rd: p.rd,
            ethernet_tag: 0,
            originator: p.vtep,
        }),
        imet,
    ));
    let mac_attrs = |m: &LocalMac| {
        let mut a = base_attrs(p);
        if m.seq > 0 || m.sticky {
            a.extended_communities.push(
                MacMobility {
                    sequence: m.seq,
                    sticky: m.sticky,
                }
                .community(),
            );
        }
        a
    };
    let route = |mac: Mac, ip: Option<IpAddr>| {
        EvpnRoute::MacIp(MacIpRoute {
            rd: p.rd,
            esi: Esi::default(),
            ethernet_tag: 0,
            mac,
            ip,
            vni,
            vni2: None,
        })
    };
    let advertised = |mac: &Mac| {
        lv.macs
            .get(mac)
            .filter(|m| m.active && !frozen(*mac))
            .copied()
    };
    for (mac, m) in &lv.macs {
        if advertised(mac).is_some() {
            out.push((route(*mac, None), mac_attrs(m)));
        }
    }
    for (ip, mac) in &lv.neighbors {
        if let Some(m) = advertised(mac) {
            out.push((route(*mac, Some(*ip)), mac_attrs(&m)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evpn::community::encapsulation_of;
    use crate::evpn::nlri::EvpnKey;

    #[test]
    fn derived_routes_of_a_vni() {
        let mut lv = LocalVni {
            up: true,
            vtep: Some("192.0.2.1".parse().unwrap()),
            rd_index: 3,
            ..LocalVni::default()
        };
        let mac = Mac([2, 0, 0, 0, 0, 1]);
        lv.macs.insert(
            mac,
            LocalMac {
                sticky: false,
                seq: 2,
                active: true,
            },
        );
        lv.neighbors.insert("198.51.100.1".parse().unwrap(), mac);
        let cfg = EvpnConfig::default();
        let p = params(&cfg, 65001, Ipv4Addr::new(10, 0, 0, 1), 100, &lv).unwrap();
        assert_eq!(p.rd.to_string(), "10.0.0.1:3");
        let r = routes(100, &lv, &p, |_| false);
        let keys: Vec<String> = r.iter().map(|(r, _)| r.key().to_string()).collect();
        assert_eq!(
            keys,
            [
                "[3]:[0]:[32]:[192.0.2.1]",
                "[2]:[0]:[48]:[02:00:00:00:00:01]",
                "[2]:[0]:[48]:[02:00:00:00:00:01]:[32]:[198.51.100.1]"
            ]
        );
        let (_, imet) = &r[0];
        assert_eq!(
            imet.pmsi_tunnel.as_ref().and_then(|t| t.endpoint()),
            Some("192.0.2.1".parse().unwrap())
        );
        assert!(imet
            .extended_communities
            .iter()
            .any(|c| encapsulation_of(c) == Some(TUNNEL_VXLAN)));
        assert!(imet
            .extended_communities
            .contains(&RouteTarget::auto(65001, 100).community()));
        assert_eq!(
            MacMobility::of(&r[1].1.extended_communities).map(|m| m.sequence),
            Some(2)
        );
        // Frozen or moved-away MACs are not advertised, nor their MAC+IPs.
        let r = routes(100, &lv, &p, |m| m == mac);
        assert_eq!(r.len(), 1);
        assert!(matches!(r[0].0.key(), EvpnKey::Imet { .. }));
        // No VTEP address anywhere: nothing can be originated.
        lv.vtep = None;
        assert!(params(&cfg, 65001, Ipv4Addr::new(10, 0, 0, 1), 100, &lv).is_none());
    }
}

//! Routes through other areas and out of the AS: summary-LSAs (RFC 2328
//! §16.2) and AS-external-LSAs (§16.4, with the ASBR choice of §16.4.1).
//! Runs after every area's tree is built, over the partial routing table.

use std::net::Ipv4Addr;

use ipnetwork::Ipv4Network;

use super::{
    merge_nexthops, merge_route, AreaInput, AreaSpf, NextHop, PathType, Route, RouterRoute,
    RoutingTable, BACKBONE,
};
use crate::lsa::{prefix_of, ExternalMetricType, LsaBody, LsaType, LS_INFINITY};
use crate::lsdb::{Lsdb, Seconds};

/// §16.2: inter-area routes. An area border router (attached to several
/// areas, one of them the backbone) looks only at the backbone's
/// summaries; any other router at its one area's.
pub(super) fn summaries(
    router_id: Ipv4Addr,
    areas: &[AreaInput<'_>],
    spfs: &[AreaSpf],
    table: &mut RoutingTable,
    now: Seconds,
) {
    let is_abr = areas.len() > 1;
    let mut network_routes: Vec<(Ipv4Network, Route)> = Vec::new();
    let mut router_routes: Vec<(Ipv4Addr, RouterRoute)> = Vec::new();
    for (area, spf) in areas.iter().zip(spfs) {
        if is_abr && area.area_id != BACKBONE {
            continue;
        }
        for lsa_type in [LsaType::SUMMARY_NETWORK, LsaType::SUMMARY_ROUTER] {
            for (key, entry) in area.lsdb.iter_type(lsa_type) {
                // (1), (2): unreachable, flushed or our own.
                if entry.is_max_age(now) || key.adv_rtr == router_id {
                    continue;
                }
                let summary = match entry.lsa().body() {
                    LsaBody::SummaryNetwork(s) | LsaBody::SummaryRouter(s) => s,
                    _ => continue,
                };
                if summary.metric >= LS_INFINITY {
                    continue;
                }
                // (4): the advertising ABR must be reachable in this area.
                let Some(br) = spf.routers.get(&key.adv_rtr).filter(|r| r.abr) else {
                    continue;
                };
                let cost = br.cost.saturating_add(summary.metric);
                if lsa_type == LsaType::SUMMARY_NETWORK {
                    let Some(prefix) = prefix_of(key.lsid, summary.mask) else {
                        continue;
                    };
                    // (3): intra-area routes are never replaced.
                    if table
                        .networks
                        .get(&prefix)
                        .is_some_and(|r| r.path_type == PathType::IntraArea)
                    {
                        continue;
                    }
                    network_routes.push((
                        prefix,
                        Route {
                            path_type: PathType::InterArea,
                            cost,
                            type2_cost: 0,
                            nexthops: br.nexthops.clone(),
                            area: area.area_id,
                        },
                    ));
                } else {
                    let asbr = key.lsid;
                    if asbr == router_id
                        || table
                            .routers
                            .get(&(asbr, area.area_id))
                            .is_some_and(|r| r.path_type == PathType::IntraArea)
                    {
                        continue;
                    }
                    router_routes.push((
                        asbr,
                        RouterRoute {
                            path_type: PathType::InterArea,
                            cost,
                            nexthops: br.nexthops.clone(),
                            area: area.area_id,
                            abr: false,
                            asbr: true,
                        },
                    ));
                }
            }
        }
    }
    for (prefix, route) in network_routes {
        merge_route(&mut table.networks, prefix, route);
    }
    for (asbr, route) in router_routes {
        use std::collections::btree_map::Entry;
        match table.routers.entry((asbr, route.area)) {
            Entry::Vacant(v) => {
                v.insert(route);
            }
            Entry::Occupied(mut o) => {
                let cur = o.get_mut();
                if route.cost < cur.cost {
                    *cur = route;
                } else if route.cost == cur.cost {
                    merge_nexthops(&mut cur.nexthops, &route.nexthops);
                }
            }
        }
    }
}

/// §16.4.1: the preferred path to an ASBR over all areas. With
/// RFC1583Compatibility off, intra-area paths through non-backbone areas
/// come first, then the lowest cost, then the largest area ID.
fn best_asbr_route(table: &RoutingTable, asbr: Ipv4Addr) -> Option<&RouterRoute> {
    table
        .routers
        .range((asbr, Ipv4Addr::UNSPECIFIED)..=(asbr, Ipv4Addr::BROADCAST))
        .map(|(_, r)| r)
        .filter(|r| r.asbr)
        .min_by_key(|r| {
            let preferred = r.path_type == PathType::IntraArea && r.area != BACKBONE;
            (!preferred, r.cost, std::cmp::Reverse(r.area))
        })
}

/// The intra- or inter-area route with the longest prefix holding `addr`.
fn internal_route_to(table: &RoutingTable, addr: Ipv4Addr) -> Option<&Route> {
    (0..=32u8).rev().find_map(|len| {
        let net = Ipv4Network::new(addr, len).ok()?;
        let net = Ipv4Network::new(net.network(), len).ok()?;
        table
            .networks
            .get(&net)
            .filter(|r| matches!(r.path_type, PathType::IntraArea | PathType::InterArea))
    })
}

/// §16.4: AS-external routes from the AS-scoped database.
pub(super) fn externals(
    router_id: Ipv4Addr,
    external: &Lsdb,
    table: &mut RoutingTable,
    now: Seconds,
) {
    let mut routes: Vec<(Ipv4Network, Route)> = Vec::new();
    for (key, entry) in external.iter_type(LsaType::AS_EXTERNAL) {
        // (1), (2): unreachable, flushed or our own.
        if entry.is_max_age(now) || key.adv_rtr == router_id {
            continue;
        }
        let LsaBody::AsExternal(ext) = entry.lsa().body() else {
            continue;
        };
        if ext.metric >= LS_INFINITY {
            continue;
        }
        let Some(prefix) = prefix_of(key.lsid, ext.mask) else {
            continue;
        };
        // (3): the ASBR must be reachable; then the forwarding address, if
        // any, through an internal route.
        let Some(asbr) = best_asbr_route(table, key.adv_rtr) else {
            continue;
        };
        let (to_cost, nexthops, area): (u32, Vec<NextHop>, Ipv4Addr) =
            if ext.forwarding_address.is_unspecified() {
                (asbr.cost, asbr.nexthops.clone(), asbr.area)
            } else {
                let Some(r) = internal_route_to(table, ext.forwarding_address) else {
                    continue;
                };
                // A forwarding address on a directly attached network is
                // itself the gateway.
                let nexthops = r
                    .nexthops
                    .iter()
                    .map(|nh| NextHop {
                        ifindex: nh.ifindex,
                        gateway: nh.gateway.or(Some(ext.forwarding_address)),
                    })
                    .collect();
                (r.cost, nexthops, r.area)
            };
        let (path_type, cost, type2_cost) = match ext.metric_type {
            ExternalMetricType::Type1 => {
                (PathType::External1, to_cost.saturating_add(ext.metric), 0)
            }
            ExternalMetricType::Type2 => (PathType::External2, to_cost, ext.metric),
        };
        routes.push((
            prefix,
            Route {
                path_type,
                cost,
                type2_cost,
                nexthops,
                area,
            },
        ));
    }
    for (prefix, route) in routes {
        // (4): internal routes always win; merge_route ranks by path type.
        merge_route(&mut table.networks, prefix, route);
    }
}

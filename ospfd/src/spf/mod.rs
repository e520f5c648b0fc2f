//! The routing table calculation, RFC 2328 §16: shortest-path trees per
//! area over router- and network-LSAs (§16.1, in `intra`), then inter-area
//! routes from summary-LSAs (§16.2) and AS-external routes (§16.4), both in
//! `inter`.
//!
//! Owns turning databases into a [`RoutingTable`]. Inputs are borrowed
//! databases, the calculating router's interfaces and `now`; the output is
//! a plain value. It never touches the kernel or zebrad, never originates
//! or floods, and keeps no state between runs (an incremental SPF would
//! live beside it, not inside it).
//!
//! Not covered yet: virtual links and transit areas (§16.3), stub and NSSA
//! area specifics, RFC1583Compatibility (always off, as FRR and BIRD
//! default), TOS routing.

mod inter;
mod intra;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ipnetwork::Ipv4Network;

use crate::lsdb::{Lsdb, Seconds};

pub use intra::{area_spf, AreaSpf};

/// The backbone area.
pub const BACKBONE: Ipv4Addr = Ipv4Addr::UNSPECIFIED;

/// One interface of the calculating router in an area, as needed to turn
/// the link data of its own router-LSA into an outgoing interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalInterface {
    pub ifindex: u32,
    /// The interface address and prefix; `None` for an unnumbered
    /// point-to-point interface, whose link data is its ifindex.
    pub address: Option<Ipv4Network>,
}

/// A next hop: the outgoing interface and, unless the destination is on
/// the link itself (or the link is unnumbered), the neighbor's address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NextHop {
    pub ifindex: u32,
    pub gateway: Option<Ipv4Addr>,
}

/// The kind of path, in order of preference (§11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathType {
    IntraArea,
    InterArea,
    External1,
    External2,
}

/// A route to a network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub path_type: PathType,
    /// The cost (for type-2 externals, the cost to the ASBR or forwarding
    /// address).
    pub cost: u32,
    /// The type-2 external metric; zero for other path types.
    pub type2_cost: u32,
    /// Equal-cost next hops, sorted. Empty for the calculating router's own
    /// stub networks that match no interface (a loopback address).
    pub nexthops: Vec<NextHop>,
    /// The area the path runs through (for externals, the area of the path
    /// to the ASBR or forwarding address).
    pub area: Ipv4Addr,
}

/// A route to an area border router or AS boundary router (§11: the
/// routers part of the table), used by §16.2 and §16.4.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouterRoute {
    pub path_type: PathType,
    pub cost: u32,
    pub nexthops: Vec<NextHop>,
    pub area: Ipv4Addr,
    /// The router's B bit (area border router).
    pub abr: bool,
    /// The router's E bit, or a type-4 summary naming it (AS boundary
    /// router).
    pub asbr: bool,
}

/// The OSPF routing table (§11).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoutingTable {
    /// Routes to networks, by prefix.
    pub networks: BTreeMap<Ipv4Network, Route>,
    /// Routes to ABRs and ASBRs, by (router ID, area).
    pub routers: BTreeMap<(Ipv4Addr, Ipv4Addr), RouterRoute>,
}

/// One attached area as the calculation sees it.
#[derive(Clone, Copy, Debug)]
pub struct AreaInput<'a> {
    pub area_id: Ipv4Addr,
    pub lsdb: &'a Lsdb,
    pub interfaces: &'a [LocalInterface],
}

/// The full calculation (§16): an SPF tree per area with its stub
/// networks, inter-area routes, then AS-external routes from `external`
/// (the AS-scoped database). LSAs at MaxAge at `now` are ignored.
pub fn calculate(
    router_id: Ipv4Addr,
    areas: &[AreaInput<'_>],
    external: &Lsdb,
    now: Seconds,
) -> RoutingTable {
    let mut table = RoutingTable::default();
    let mut spfs = Vec::with_capacity(areas.len());
    for area in areas {
        let mut spf = area_spf(router_id, area, now);
        for (prefix, route) in std::mem::take(&mut spf.networks) {
            merge_route(&mut table.networks, prefix, route);
        }
        for (rtr, route) in spf.routers.iter().filter(|(_, r)| r.abr || r.asbr) {
            table.routers.insert((*rtr, area.area_id), route.clone());
        }
        spfs.push(spf);
    }
    inter::summaries(router_id, areas, &spfs, &mut table, now);
    inter::externals(router_id, external, &mut table, now);
    table
}

/// Installs `route` for `prefix` when it is better than the current one
/// (§16.4 step 6 order: path type, then type-2 cost, then cost), merging
/// next hops of equally good routes.
pub(crate) fn merge_route(
    table: &mut BTreeMap<Ipv4Network, Route>,
    prefix: Ipv4Network,
    route: Route,
) {
    use std::cmp::Ordering;
    use std::collections::btree_map::Entry;
    match table.entry(prefix) {
        Entry::Vacant(v) => {
            v.insert(route);
        }
        Entry::Occupied(mut o) => {
            let cur = o.get_mut();
            let rank = |r: &Route| {
                let t2 = if r.path_type == PathType::External2 {
                    r.type2_cost
                } else {
                    0
                };
                (r.path_type, t2, r.cost)
            };
            match rank(&route).cmp(&rank(cur)) {
                Ordering::Less => *cur = route,
                Ordering::Equal => merge_nexthops(&mut cur.nexthops, &route.nexthops),
                Ordering::Greater => {}
            }
        }
    }
}

/// Adds the next hops of `more` to `into`, keeping it sorted and unique.
pub(crate) fn merge_nexthops(into: &mut Vec<NextHop>, more: &[NextHop]) {
    for nh in more {
        if let Err(pos) = into.binary_search(nh) {
            into.insert(pos, *nh);
        }
    }
}

#[cfg(test)]
mod tests;

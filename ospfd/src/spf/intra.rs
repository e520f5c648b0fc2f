//! The shortest-path tree of one area, RFC 2328 §16.1, with next hops per
//! §16.1.1, followed by the stub networks of stage 2.
//!
//! Vertices are routers (router-LSAs) and transit networks
//! (network-LSAs). A link is followed only when the far end links back
//! (the bidirectional check of §16.1 step 2b). Equal-cost paths keep all
//! their next hops. Virtual links are not followed.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::net::Ipv4Addr;

use ipnetwork::Ipv4Network;

use super::{
    merge_nexthops, merge_route, AreaInput, LocalInterface, NextHop, PathType, Route, RouterRoute,
};
use crate::lsa::{prefix_of, LsaBody, LsaType, NetworkLsa, RouterFlags, RouterLinkType, RouterLsa};
use crate::lsdb::Seconds;

/// The result of one area's calculation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AreaSpf {
    pub area_id: Ipv4Addr,
    /// Intra-area routes to transit and stub networks.
    pub networks: BTreeMap<Ipv4Network, Route>,
    /// Every router reached in the tree (the root excluded), with its B and
    /// E bits; §16.2 and §16.4 look for ABRs and ASBRs here.
    pub routers: BTreeMap<Ipv4Addr, RouterRoute>,
}

/// A vertex of the graph. Networks order before routers, so that among
/// candidates of equal cost a network is taken first (§16.1 step 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum VertexId {
    Network(Ipv4Addr),
    Router(Ipv4Addr),
}

#[derive(Clone, Copy)]
enum VertexLsa<'a> {
    Router(&'a RouterLsa),
    Network(&'a NetworkLsa),
}

/// A next hop while the tree is built: `on_link` marks the hops of a
/// network attached to the root, whose routers are reached directly
/// through their address on that network (§16.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Hop {
    nexthop: NextHop,
    on_link: bool,
}

struct Vertex<'a> {
    id: VertexId,
    lsa: VertexLsa<'a>,
    dist: u32,
    hops: Vec<Hop>,
    in_tree: bool,
}

/// A multiplicative hasher for the small fixed-size keys of the
/// calculation (addresses and vertex IDs); SipHash's DoS resistance buys
/// nothing here (the keys come from authenticated LSAs and the maps live
/// for one run) and costs a third of the run time.
#[derive(Default, Clone, Copy)]
struct IdHasher(u64);

impl IdHasher {
    fn mix(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.mix(u64::from(*b));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.mix(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.mix(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.mix(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.mix(i as u64);
    }
    fn write_isize(&mut self, i: isize) {
        self.mix(i as u64);
    }
    fn finish(&self) -> u64 {
        // Fold the well-mixed high half into the low bits, which pick the
        // bucket.
        self.0 ^ (self.0 >> 32)
    }
}

type IdMap<K, V> = HashMap<K, V, BuildHasherDefault<IdHasher>>;

/// The area's usable LSAs, indexed for the calculation.
struct Graph<'a> {
    routers: IdMap<Ipv4Addr, &'a RouterLsa>,
    networks: IdMap<Ipv4Addr, &'a NetworkLsa>,
}

impl<'a> Graph<'a> {
    fn new(area: &AreaInput<'a>, now: Seconds) -> Self {
        let mut routers = IdMap::default();
        for (key, entry) in area.lsdb.iter_type(LsaType::ROUTER) {
            if entry.is_max_age(now) || key.lsid != key.adv_rtr {
                continue;
            }
            if let LsaBody::Router(r) = entry.lsa().body() {
                routers.insert(key.adv_rtr, r);
            }
        }
        let mut networks = IdMap::default();
        for (key, entry) in area.lsdb.iter_type(LsaType::NETWORK) {
            if entry.is_max_age(now) {
                continue;
            }
            if let LsaBody::Network(n) = entry.lsa().body() {
                // Two DRs claiming one ID is transient; keep the first.
                networks.entry(key.lsid).or_insert(n);
            }
        }
        Graph { routers, networks }
    }

    fn lsa(&self, id: VertexId) -> Option<VertexLsa<'a>> {
        match id {
            VertexId::Router(r) => self.routers.get(&r).map(|l| VertexLsa::Router(l)),
            VertexId::Network(n) => self.networks.get(&n).map(|l| VertexLsa::Network(l)),
        }
    }
}

/// True when `w` has a link back to `v` (§16.1 step 2b).
fn links_back(w: VertexLsa<'_>, v: VertexId) -> bool {
    match (w, v) {
        (VertexLsa::Router(r), VertexId::Router(vid)) => r.links.iter().any(|l| {
            matches!(
                l.link_type,
                RouterLinkType::PointToPoint | RouterLinkType::Virtual
            ) && l.link_id == vid
        }),
        (VertexLsa::Router(r), VertexId::Network(nid)) => r
            .links
            .iter()
            .any(|l| l.link_type == RouterLinkType::Transit && l.link_id == nid),
        (VertexLsa::Network(n), VertexId::Router(vid)) => n.attached_routers.contains(&vid),
        (VertexLsa::Network(_), VertexId::Network(_)) => false,
    }
}

/// The interface whose address (or, unnumbered, ifindex) is `link_data`.
fn interface_for(interfaces: &[LocalInterface], link_data: Ipv4Addr) -> Option<&LocalInterface> {
    interfaces
        .iter()
        .find(|i| i.address.is_some_and(|a| a.ip() == link_data))
        .or_else(|| {
            interfaces
                .iter()
                .find(|i| i.address.is_none() && i.ifindex == u32::from(link_data))
        })
}

/// Runs §16.1 for one area and returns its intra-area routes. Returns an
/// empty result when the area holds no router-LSA of `router_id`.
pub fn area_spf(router_id: Ipv4Addr, area: &AreaInput<'_>, now: Seconds) -> AreaSpf {
    let graph = Graph::new(area, now);
    let mut out = AreaSpf {
        area_id: area.area_id,
        networks: BTreeMap::new(),
        routers: BTreeMap::new(),
    };
    let root_id = VertexId::Router(router_id);
    let Some(root_lsa) = graph.lsa(root_id) else {
        return out;
    };

    let mut vertices: Vec<Vertex<'_>> =
        Vec::with_capacity(graph.routers.len() + graph.networks.len());
    let mut index: IdMap<VertexId, usize> =
        IdMap::with_capacity_and_hasher(vertices.capacity(), Default::default());
    let mut heap: BinaryHeap<Reverse<(u32, VertexId, usize)>> = BinaryHeap::new();
    let mut tree: Vec<usize> = Vec::new();
    let mut edges: Vec<(VertexId, u32, Option<Ipv4Addr>)> = Vec::new();
    vertices.push(Vertex {
        id: root_id,
        lsa: root_lsa,
        dist: 0,
        hops: Vec::new(),
        in_tree: false,
    });
    index.insert(root_id, 0);
    heap.push(Reverse((0, root_id, 0)));

    while let Some(Reverse((dist, _, v_idx))) = heap.pop() {
        let Some(v) = vertices.get_mut(v_idx) else {
            continue;
        };
        if v.in_tree || dist > v.dist {
            continue;
        }
        v.in_tree = true;
        tree.push(v_idx);
        let (v_id, v_lsa) = (v.id, v.lsa);

        // The (neighbor, cost, link data of V's link) edges out of V.
        edges.clear();
        match v_lsa {
            VertexLsa::Router(r) => {
                for link in &r.links {
                    let w = match link.link_type {
                        RouterLinkType::PointToPoint => VertexId::Router(link.link_id),
                        RouterLinkType::Transit => VertexId::Network(link.link_id),
                        _ => continue,
                    };
                    edges.push((w, u32::from(link.metric), Some(link.link_data)));
                }
            }
            VertexLsa::Network(n) => {
                edges.extend(
                    n.attached_routers
                        .iter()
                        .map(|r| (VertexId::Router(*r), 0, None)),
                );
            }
        }

        for &(w_id, cost, link_data) in &edges {
            let Some(w_lsa) = graph.lsa(w_id) else {
                continue;
            };
            if !links_back(w_lsa, v_id) {
                continue;
            }
            let nd = dist.saturating_add(cost);
            let w_idx = match index.get(&w_id) {
                Some(&i) => i,
                None => {
                    vertices.push(Vertex {
                        id: w_id,
                        lsa: w_lsa,
                        dist: u32::MAX,
                        hops: Vec::new(),
                        in_tree: false,
                    });
                    index.insert(w_id, vertices.len() - 1);
                    vertices.len() - 1
                }
            };
            let (w_in_tree, w_dist) = match vertices.get(w_idx) {
                Some(w) => (w.in_tree, w.dist),
                None => continue,
            };
            if w_in_tree || nd > w_dist {
                continue;
            }
            let parent_hops = vertices
                .get(v_idx)
                .map(|v| v.hops.as_slice())
                .unwrap_or(&[]);
            let mut hops = next_hops(
                area.interfaces,
                router_id,
                v_idx == 0,
                v_id,
                parent_hops,
                link_data,
                w_lsa,
            );
            hops.sort();
            hops.dedup();
            if hops.is_empty() {
                // A path the router cannot forward on (its own link data
                // matches no interface): not a usable path.
                continue;
            }
            let Some(w) = vertices.get_mut(w_idx) else {
                continue;
            };
            if nd < w.dist {
                w.dist = nd;
                w.hops = hops;
                heap.push(Reverse((nd, w_id, w_idx)));
            } else {
                for h in hops {
                    if let Err(pos) = w.hops.binary_search(&h) {
                        w.hops.insert(pos, h);
                    }
                }
            }
        }
    }

    // Routes to the transit networks and the routers of the tree.
    for &idx in &tree {
        let Some(v) = vertices.get(idx) else { continue };
        let nexthops = plain(&v.hops);
        match (v.id, v.lsa) {
            (VertexId::Network(lsid), VertexLsa::Network(n)) => {
                if let Some(prefix) = prefix_of(lsid, n.mask) {
                    let route = intra_route(v.dist, nexthops, area.area_id);
                    merge_route(&mut out.networks, prefix, route);
                }
            }
            (VertexId::Router(rid), VertexLsa::Router(r)) if idx != 0 => {
                out.routers.insert(
                    rid,
                    RouterRoute {
                        path_type: PathType::IntraArea,
                        cost: v.dist,
                        nexthops,
                        area: area.area_id,
                        abr: r.flags.contains(RouterFlags::B),
                        asbr: r.flags.contains(RouterFlags::E),
                    },
                );
            }
            _ => {}
        }
    }

    // Stage 2: the stub networks of every router in the tree.
    for &idx in &tree {
        let Some(v) = vertices.get(idx) else { continue };
        let VertexLsa::Router(r) = v.lsa else {
            continue;
        };
        for link in r
            .links
            .iter()
            .filter(|l| l.link_type == RouterLinkType::Stub)
        {
            let Some(prefix) = prefix_of(link.link_id, link.link_data) else {
                continue;
            };
            let nexthops = if idx == 0 {
                // Our own stub: directly attached through the interface
                // holding an address in it, if any.
                area.interfaces
                    .iter()
                    .filter(|i| i.address.is_some_and(|a| prefix.contains(a.ip())))
                    .map(|i| NextHop {
                        ifindex: i.ifindex,
                        gateway: None,
                    })
                    .take(1)
                    .collect()
            } else {
                plain(&v.hops)
            };
            let cost = v.dist.saturating_add(u32::from(link.metric));
            merge_route(
                &mut out.networks,
                prefix,
                intra_route(cost, nexthops, area.area_id),
            );
        }
    }
    out
}

fn intra_route(cost: u32, nexthops: Vec<NextHop>, area: Ipv4Addr) -> Route {
    Route {
        path_type: PathType::IntraArea,
        cost,
        type2_cost: 0,
        nexthops,
        area,
    }
}

/// The next hops of a vertex, without the build-time marker.
fn plain(hops: &[Hop]) -> Vec<NextHop> {
    let mut out = Vec::with_capacity(hops.len());
    merge_nexthops(
        &mut out,
        &hops.iter().map(|h| h.nexthop).collect::<Vec<_>>(),
    );
    out
}

/// §16.1.1: the next hops to `w` reached from `v` over the link whose link
/// data is `link_data` (`None` from a network).
fn next_hops(
    interfaces: &[LocalInterface],
    router_id: Ipv4Addr,
    v_is_root: bool,
    v_id: VertexId,
    v_hops: &[Hop],
    link_data: Option<Ipv4Addr>,
    w: VertexLsa<'_>,
) -> Vec<Hop> {
    if v_is_root {
        let Some(iface) = link_data.and_then(|d| interface_for(interfaces, d)) else {
            return Vec::new();
        };
        let gateway = match w {
            // A network attached to the root: on-link.
            VertexLsa::Network(_) => None,
            // A router over a point-to-point link: its address is the link
            // data of its link back to us, the one on our subnet if there
            // are several.
            VertexLsa::Router(r) => iface.address.and_then(|a| {
                let back: Vec<Ipv4Addr> = r
                    .links
                    .iter()
                    .filter(|l| {
                        l.link_type == RouterLinkType::PointToPoint && l.link_id == router_id
                    })
                    .map(|l| l.link_data)
                    .collect();
                back.iter()
                    .copied()
                    .find(|d| a.prefix() < 32 && a.contains(*d))
                    .or_else(|| back.first().copied())
            }),
        };
        return vec![Hop {
            nexthop: NextHop {
                ifindex: iface.ifindex,
                gateway,
            },
            on_link: matches!(w, VertexLsa::Network(_)),
        }];
    }
    match (v_id, w) {
        // A router on a network attached to the root: its address on that
        // network (its transit link's data) is the gateway.
        (VertexId::Network(nid), VertexLsa::Router(r)) => {
            let addr = r
                .links
                .iter()
                .find(|l| l.link_type == RouterLinkType::Transit && l.link_id == nid)
                .map(|l| l.link_data);
            v_hops
                .iter()
                .map(|h| {
                    if h.on_link {
                        Hop {
                            nexthop: NextHop {
                                ifindex: h.nexthop.ifindex,
                                gateway: addr,
                            },
                            on_link: false,
                        }
                    } else {
                        *h
                    }
                })
                .collect()
        }
        // Otherwise the next hops are inherited from the parent.
        _ => v_hops
            .iter()
            .map(|h| Hop {
                nexthop: h.nexthop,
                on_link: false,
            })
            .collect(),
    }
}

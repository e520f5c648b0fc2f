//! Nexthop groups: the interned, shared nexthop sets of RIB routes, and their
//! resolution against connected interfaces and the RIB itself.
//!
//! Every distinct (owner protocol, table, kind, nexthop list, tag) is stored once
//! and referenced by a `u32` id from every route that uses it, so a million
//! BGP routes through one upstream share a single group (as BIRD shares its
//! attribute sets). Resolution (is the gateway on a connected subnet, or
//! reachable recursively through another route, and over which interfaces)
//! is computed per group, not per route; see RFC 4271 §5.1.3 and §9.1.2.1
//! for the recursive lookup BGP next hops need. This module never talks to
//! the kernel; it only says what a group resolves to.

use std::collections::HashMap;
use std::net::IpAddr;

/// Whether `gateway` is only meaningful together with its interface: an
/// IPv6 link-local address (RFC 4291 §2.5.6) names a neighbor on one link,
/// and would otherwise resolve through every connected fe80::/64.
pub fn needs_interface(gateway: &IpAddr) -> bool {
    matches!(gateway, IpAddr::V6(v6) if v6.is_unicast_link_local())
}

/// A route's kind; only unicast routes have nexthops that need resolving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RouteKind {
    Unicast,
    Blackhole,
    Unreachable,
    Prohibit,
}

impl RouteKind {
    pub fn name(self) -> &'static str {
        match self {
            RouteKind::Unicast => "unicast",
            RouteKind::Blackhole => "blackhole",
            RouteKind::Unreachable => "unreachable",
            RouteKind::Prohibit => "prohibit",
        }
    }
}

/// A nexthop as a client asked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nexthop {
    pub gateway: Option<IpAddr>,
    /// 0: not given (resolved from the gateway).
    pub ifindex: u32,
    /// ECMP weight 1..=256.
    pub weight: u16,
}

/// A nexthop leg the kernel can use directly: an interface, maybe a gateway
/// on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Leg {
    pub gateway: Option<IpAddr>,
    pub ifindex: u32,
    pub weight: u16,
}

/// How one requested nexthop resolved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NexthopStatus {
    pub active: bool,
    pub recursive: bool,
    pub legs: Vec<Leg>,
}

/// What makes a group: routes with equal keys share one group.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupKey {
    /// Kernel protocol id routes of this group are installed with (0: not
    /// installed by zebrad: connected and kernel routes).
    pub protocol: u8,
    pub table: u32,
    pub kind: RouteKind,
    pub nexthops: Vec<Nexthop>,
    /// The routes' tag: rarely set, so it lives here, shared, rather than
    /// in every route record (which keeps a prefix's record at 32 bytes).
    pub tag: u32,
}

/// A group's resolution.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Resolution {
    pub per_nexthop: Vec<NexthopStatus>,
    /// The union of the active legs, deduplicated, at most the ECMP limit:
    /// what goes into the kernel.
    pub legs: Vec<Leg>,
    /// Usable: a non-unicast kind, or at least one active leg.
    pub active: bool,
    /// The IGP metric of the route(s) the gateways resolved through (0 for
    /// connected ones), for nexthop tracking.
    pub metric: u32,
}

#[derive(Debug)]
pub struct Group {
    pub key: GroupKey,
    pub refs: u32,
    pub res: Resolution,
    /// The kernel nexthop object its routes name (see `kernel_nh`); 0:
    /// they carry their nexthops inline.
    pub knh: u32,
}

/// The group table: a slab of groups plus the interning map.
#[derive(Debug, Default)]
pub struct Groups {
    slab: Vec<Option<Group>>,
    free: Vec<u32>,
    index: HashMap<GroupKey, u32>,
}

impl Groups {
    /// The id of the group with `key`, creating it (unresolved) if new, and
    /// takes a reference. The bool says whether it was created.
    pub fn acquire(&mut self, key: GroupKey) -> (u32, bool) {
        if let Some(&id) = self.index.get(&key) {
            if let Some(Some(g)) = self.slab.get_mut(id as usize) {
                g.refs += 1;
            }
            return (id, false);
        }
        let group = Group {
            key: key.clone(),
            refs: 1,
            res: Resolution::default(),
            knh: 0,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.slab[id as usize] = Some(group);
                id
            }
            None => {
                self.slab.push(Some(group));
                (self.slab.len() - 1) as u32
            }
        };
        self.index.insert(key, id);
        (id, true)
    }

    /// Drops a reference; the group is freed with its last one.
    pub fn release(&mut self, id: u32) {
        let Some(slot) = self.slab.get_mut(id as usize) else {
            return;
        };
        let Some(g) = slot else { return };
        g.refs = g.refs.saturating_sub(1);
        if g.refs == 0 {
            self.index.remove(&g.key);
            *slot = None;
            self.free.push(id);
        }
    }

    pub fn get(&self, id: u32) -> Option<&Group> {
        self.slab.get(id as usize).and_then(|g| g.as_ref())
    }

    pub fn get_mut(&mut self, id: u32) -> Option<&mut Group> {
        self.slab.get_mut(id as usize).and_then(|g| g.as_mut())
    }

    /// Ids of all live groups.
    pub fn ids(&self) -> Vec<u32> {
        self.slab
            .iter()
            .enumerate()
            .filter(|(_, g)| g.is_some())
            .map(|(i, _)| i as u32)
            .collect()
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
}

/// Merge the active legs of `per_nexthop` into the kernel's nexthop list:
/// duplicates merged, at most `ecmp_max` legs.
pub fn flatten_legs(per_nexthop: &[NexthopStatus], ecmp_max: usize) -> Vec<Leg> {
    let mut legs: Vec<Leg> = Vec::new();
    for st in per_nexthop.iter().filter(|s| s.active) {
        for leg in &st.legs {
            if !legs
                .iter()
                .any(|l| l.gateway == leg.gateway && l.ifindex == leg.ifindex)
            {
                legs.push(*leg);
            }
        }
    }
    legs.sort();
    legs.truncate(ecmp_max.max(1));
    legs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(gw: &str) -> GroupKey {
        GroupKey {
            protocol: 186,
            table: 254,
            kind: RouteKind::Unicast,
            nexthops: vec![Nexthop {
                gateway: Some(gw.parse().unwrap()),
                ifindex: 0,
                weight: 1,
            }],
            tag: 0,
        }
    }

    #[test]
    fn interning_shares_and_frees() {
        let mut g = Groups::default();
        let (a, new_a) = g.acquire(key("192.0.2.1"));
        let (b, new_b) = g.acquire(key("192.0.2.1"));
        let (c, _) = g.acquire(key("192.0.2.2"));
        assert!(new_a && !new_b);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(g.get(a).unwrap().refs, 2);
        g.release(a);
        assert!(g.get(a).is_some());
        g.release(a);
        assert!(g.get(a).is_none());
        assert_eq!(g.len(), 1);
        // The freed slot is reused.
        let (d, _) = g.acquire(key("192.0.2.3"));
        assert_eq!(d, a);
    }

    #[test]
    fn flatten_merges_and_limits() {
        let leg = |gw: &str, i| Leg {
            gateway: Some(gw.parse().unwrap()),
            ifindex: i,
            weight: 1,
        };
        let st = vec![
            NexthopStatus {
                active: true,
                recursive: false,
                legs: vec![leg("192.0.2.1", 2)],
            },
            NexthopStatus {
                active: false,
                recursive: false,
                legs: vec![leg("192.0.2.9", 2)],
            },
            NexthopStatus {
                active: true,
                recursive: true,
                legs: vec![leg("192.0.2.1", 2), leg("198.51.100.1", 3)],
            },
        ];
        assert_eq!(
            flatten_legs(&st, 16),
            vec![leg("192.0.2.1", 2), leg("198.51.100.1", 3)]
        );
        assert_eq!(flatten_legs(&st, 1).len(), 1);
    }
}

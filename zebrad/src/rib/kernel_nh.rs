//! Kernel nexthop objects owned by the RIB: which exist, under which id,
//! and how many nexthop groups use each.
//!
//! A RIB nexthop group ([`super::nexthop`]) whose resolution is one leg with
//! a gateway holds a reference on the kernel object for (protocol, gateway,
//! interface); its routes are installed naming that object (`RTA_NH_ID`)
//! instead of carrying the gateway inline, which the kernel installs about
//! 1.4x faster and a full table through one upstream shares. This is the
//! kernel side of what FRR's zebra calls kernel nexthop groups.
//!
//! Ordering is what keeps it safe: an object is created (its op emitted)
//! when a group first needs it, so before any route naming it; and it is
//! deleted only at the end of a `settle`, after every route of the groups
//! that dropped it has been replaced or deleted (the kernel removes the
//! routes still using an object it deletes). Objects the kernel removed on
//! its own (their interface went down) are re-created before next use.
//! Multipath routes, link-only legs and non-unicast routes stay inline.
//! Never talks to the kernel itself; it emits [`FibOp`]s.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use crate::fib::nhobj::DumpedNexthop;
use crate::fib::{FibOp, NexthopObject};

use super::nexthop::Leg;

/// Our ids start here, far from the small ids `ip nexthop` users and FRR
/// pick; ids found in the kernel at start are skipped.
const FIRST_ID: u32 = 0x5a00_0000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct ObjKey {
    protocol: u8,
    gateway: IpAddr,
    ifindex: u32,
}

#[derive(Debug)]
struct Obj {
    key: ObjKey,
    /// Groups holding it.
    refs: u32,
    /// Created in the kernel (as far as we know).
    in_kernel: bool,
}

/// One object for `show`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjView {
    pub id: u32,
    pub protocol: u8,
    pub gateway: IpAddr,
    pub ifindex: u32,
    pub refs: u32,
    pub in_kernel: bool,
}

/// The registry.
#[derive(Debug, Default)]
pub struct KernelNexthops {
    enabled: bool,
    by_key: HashMap<ObjKey, u32>,
    objs: HashMap<u32, Obj>,
    next_id: u32,
    /// Ids of objects in the kernel that are not ours.
    taken: HashSet<u32>,
    /// Ids whose last reference went since the last flush.
    released: Vec<u32>,
}

impl KernelNexthops {
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Turns objects on, given every object in the kernel now: ours
    /// (single-leg, of one of `our_protocols`) are adopted unreferenced and
    /// deleted at the next flush unless a group takes them meanwhile; the
    /// ids of all others are never used.
    pub fn enable(&mut self, found: &[DumpedNexthop], our_protocols: &[u8]) {
        self.enabled = true;
        self.next_id = FIRST_ID;
        for d in found {
            let single = d.single().filter(|_| our_protocols.contains(&d.protocol));
            match single.and_then(|o| Some((o, o.gateway?))) {
                Some((o, gateway)) => {
                    let key = ObjKey {
                        protocol: o.protocol,
                        gateway,
                        ifindex: o.ifindex,
                    };
                    // A duplicate of an adopted one is not indexed: it goes.
                    self.by_key.entry(key).or_insert(o.id);
                    self.objs.insert(
                        o.id,
                        Obj {
                            key,
                            refs: 0,
                            in_kernel: true,
                        },
                    );
                    self.released.push(o.id);
                }
                None => {
                    self.taken.insert(d.id);
                }
            }
        }
    }

    /// The object for a group of `protocol` resolved to the single `leg`,
    /// with a reference taken; 0 when the leg cannot have one (objects
    /// off, no gateway, no interface). The create op goes to `out` when the
    /// object is not in the kernel yet.
    pub fn acquire(&mut self, protocol: u8, leg: &Leg, out: &mut Vec<FibOp>) -> u32 {
        let Some(gateway) = leg.gateway.filter(|_| self.enabled && leg.ifindex != 0) else {
            return 0;
        };
        let key = ObjKey {
            protocol,
            gateway,
            ifindex: leg.ifindex,
        };
        let id = match self.by_key.get(&key) {
            Some(&id) => id,
            None => {
                let id = self.allocate();
                self.by_key.insert(key, id);
                self.objs.insert(
                    id,
                    Obj {
                        key,
                        refs: 0,
                        in_kernel: false,
                    },
                );
                id
            }
        };
        let Some(o) = self.objs.get_mut(&id) else {
            return 0;
        };
        o.refs += 1;
        if !o.in_kernel {
            o.in_kernel = true;
            out.push(FibOp::Nexthop(object(id, &o.key)));
        }
        id
    }

    fn allocate(&mut self) -> u32 {
        loop {
            let id = self.next_id;
            self.next_id = match self.next_id.checked_add(1) {
                Some(n) => n,
                None => FIRST_ID,
            };
            if id != 0 && !self.taken.contains(&id) && !self.objs.contains_key(&id) {
                return id;
            }
        }
    }

    /// Drops a group's reference; the object is deleted at the next
    /// [`flush`](Self::flush) if nothing took it again by then.
    pub fn release(&mut self, id: u32) {
        if let Some(o) = self.objs.get_mut(&id) {
            o.refs = o.refs.saturating_sub(1);
            if o.refs == 0 {
                self.released.push(id);
            }
        }
    }

    /// Emits the deletes of objects left without references. Call after
    /// the routes that used them have been replaced or deleted.
    pub fn flush(&mut self, out: &mut Vec<FibOp>) {
        for id in std::mem::take(&mut self.released) {
            let Some(o) = self.objs.get(&id).filter(|o| o.refs == 0) else {
                continue;
            };
            if self.by_key.get(&o.key) == Some(&id) {
                self.by_key.remove(&o.key);
            }
            if o.in_kernel {
                out.push(FibOp::DeleteNexthop { id });
            }
            self.objs.remove(&id);
        }
    }

    /// The kernel removed the objects on `ifindex` (it does when a link
    /// goes down): they are re-created when next needed.
    pub fn link_down(&mut self, ifindex: u32) {
        for o in self.objs.values_mut().filter(|o| o.key.ifindex == ifindex) {
            o.in_kernel = false;
        }
    }

    /// After a resync dump: objects in use but missing from `present` are
    /// re-created (ops to `out`, before the routes the resync re-installs).
    pub fn resync(&mut self, present: &HashSet<u32>, out: &mut Vec<FibOp>) -> usize {
        let mut n = 0;
        for (&id, o) in self.objs.iter_mut() {
            if o.refs > 0 && !present.contains(&id) {
                o.in_kernel = true;
                out.push(FibOp::Nexthop(object(id, &o.key)));
                n += 1;
            } else if !present.contains(&id) {
                o.in_kernel = false;
            }
        }
        n
    }

    /// The kernel refused to create `id`: routes naming it will fail
    /// until it is created again, which the next acquire attempts.
    pub fn create_failed(&mut self, id: u32) {
        if let Some(o) = self.objs.get_mut(&id) {
            o.in_kernel = false;
        }
    }

    pub fn len(&self) -> usize {
        self.objs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objs.is_empty()
    }

    /// Every object, by id.
    pub fn view(&self) -> Vec<ObjView> {
        let mut v: Vec<ObjView> = self
            .objs
            .iter()
            .map(|(&id, o)| ObjView {
                id,
                protocol: o.key.protocol,
                gateway: o.key.gateway,
                ifindex: o.key.ifindex,
                refs: o.refs,
                in_kernel: o.in_kernel,
            })
            .collect();
        v.sort_by_key(|o| o.id);
        v
    }
}

fn object(id: u32, k: &ObjKey) -> NexthopObject {
    NexthopObject {
        id,
        protocol: k.protocol,
        family: NexthopObject::family_of(Some(k.gateway), false),
        gateway: Some(k.gateway),
        ifindex: k.ifindex,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leg(gw: &str, ifindex: u32) -> Leg {
        Leg {
            gateway: Some(gw.parse().unwrap()),
            ifindex,
            weight: 1,
        }
    }

    fn enabled() -> KernelNexthops {
        let mut k = KernelNexthops::default();
        k.enable(&[], &[186]);
        k
    }

    #[test]
    fn disabled_or_unsuitable_legs_get_no_object() {
        let mut k = KernelNexthops::default();
        let mut out = Vec::new();
        assert_eq!(k.acquire(186, &leg("192.0.2.1", 2), &mut out), 0);
        let mut k = enabled();
        assert_eq!(k.acquire(186, &leg("192.0.2.1", 0), &mut out), 0);
        let link_only = Leg {
            gateway: None,
            ifindex: 2,
            weight: 1,
        };
        assert_eq!(k.acquire(186, &link_only, &mut out), 0);
        assert!(out.is_empty());
    }

    #[test]
    fn shared_created_once_deleted_after_last_release_at_flush() {
        let mut k = enabled();
        let mut out = Vec::new();
        let a = k.acquire(186, &leg("192.0.2.1", 2), &mut out);
        let b = k.acquire(186, &leg("192.0.2.1", 2), &mut out);
        let c = k.acquire(188, &leg("192.0.2.1", 2), &mut out);
        assert_eq!(a, b);
        assert_ne!(a, c, "another protocol, another object");
        assert_eq!(out.len(), 2);
        assert!(matches!(out[0], FibOp::Nexthop(o) if o.id == a && o.ifindex == 2));
        out.clear();
        k.release(a);
        k.flush(&mut out);
        assert!(out.is_empty(), "still referenced");
        k.release(a);
        // Taken again before the flush: kept, no churn.
        assert_eq!(k.acquire(186, &leg("192.0.2.1", 2), &mut out), a);
        k.flush(&mut out);
        assert!(out.is_empty());
        k.release(a);
        k.flush(&mut out);
        assert_eq!(out, vec![FibOp::DeleteNexthop { id: a }]);
        assert_eq!(k.len(), 1);
    }

    #[test]
    fn link_down_recreates_on_next_use_and_resync_restores() {
        let mut k = enabled();
        let mut out = Vec::new();
        let a = k.acquire(186, &leg("192.0.2.1", 2), &mut out);
        out.clear();
        k.link_down(2);
        assert_eq!(k.acquire(186, &leg("192.0.2.1", 2), &mut out), a);
        assert_eq!(out.len(), 1, "re-created");
        out.clear();
        assert_eq!(k.resync(&HashSet::new(), &mut out), 1);
        assert_eq!(out.len(), 1);
        out.clear();
        assert_eq!(k.resync(&HashSet::from([a]), &mut out), 0);
        k.create_failed(a);
        k.acquire(186, &leg("192.0.2.1", 2), &mut out);
        assert_eq!(out.len(), 1, "a failed create is tried again");
    }

    #[test]
    fn start_adopts_ours_skips_others_and_drops_unused() {
        let found = vec![
            DumpedNexthop {
                id: FIRST_ID,
                protocol: 186,
                family: 2,
                gateway: Some("192.0.2.1".parse().unwrap()),
                ifindex: 2,
                group_or_blackhole: false,
            },
            DumpedNexthop {
                id: FIRST_ID + 1,
                protocol: 186,
                family: 2,
                gateway: Some("192.0.2.9".parse().unwrap()),
                ifindex: 2,
                group_or_blackhole: false,
            },
            DumpedNexthop {
                id: FIRST_ID + 2,
                protocol: 11,
                family: 2,
                gateway: Some("192.0.2.5".parse().unwrap()),
                ifindex: 2,
                group_or_blackhole: false,
            },
        ];
        let mut k = KernelNexthops::default();
        k.enable(&found, &[186]);
        let mut out = Vec::new();
        // The adopted object is reused as it is: no create.
        assert_eq!(k.acquire(186, &leg("192.0.2.1", 2), &mut out), FIRST_ID);
        assert!(out.is_empty());
        // A new one skips the ids in use, ours or not.
        let n = k.acquire(186, &leg("198.51.100.1", 3), &mut out);
        assert_eq!(n, FIRST_ID + 3);
        out.clear();
        k.flush(&mut out);
        assert_eq!(out, vec![FibOp::DeleteNexthop { id: FIRST_ID + 1 }]);
    }
}

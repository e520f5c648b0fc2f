//! Kernel nexthop objects owned by the RIB: which exist, under which id,
//! and how many nexthop groups use each.
//!
//! A RIB nexthop group ([`super::nexthop`]) whose resolution is one leg with
//! a gateway holds a reference on the kernel object for (protocol, gateway,
//! interface); one resolved to several legs holds a group object whose
//! members are such objects (with their weights). Its routes are installed
//! naming that object (`RTA_NH_ID`) instead of carrying the gateways
//! inline, which the kernel installs about 1.4x faster and a full table
//! through one upstream (or one ECMP set) shares. This is the kernel side of
//! what FRR's zebra calls kernel nexthop groups.
//!
//! Ordering is what keeps it safe: an object is created (its op emitted)
//! when a group first needs it, so before any route naming it; and it is
//! deleted only at the end of a `settle`, after every route of the groups
//! that dropped it has been replaced or deleted (the kernel removes the
//! routes still using an object it deletes). Objects the kernel removed on
//! its own (their interface went down) are re-created before next use.
//! Routes with a link-only leg and non-unicast routes stay inline.
//! Never talks to the kernel itself; it emits [`FibOp`]s.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use crate::fib::nhobj::DumpedNexthop;
use crate::fib::{FibOp, GroupMember, NexthopObject, ObjectBody};

use super::nexthop::Leg;

/// Our ids start here, far from the small ids `ip nexthop` users and FRR
/// pick; ids found in the kernel at start are skipped.
const FIRST_ID: u32 = 0x5a00_0000;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ObjKey {
    Single {
        protocol: u8,
        gateway: IpAddr,
        ifindex: u32,
    },
    /// Members sorted by id; each member is a `Single` this group holds a
    /// reference on.
    Group {
        protocol: u8,
        members: Vec<GroupMember>,
    },
}

impl ObjKey {
    fn protocol(&self) -> u8 {
        match self {
            ObjKey::Single { protocol, .. } | ObjKey::Group { protocol, .. } => *protocol,
        }
    }
}

#[derive(Debug)]
struct Obj {
    key: ObjKey,
    /// RIB groups holding it (for a single object: also the group
    /// objects it is a member of).
    refs: u32,
    /// Created in the kernel (as far as we know).
    in_kernel: bool,
    /// A group the kernel changed behind us (a member's link went down):
    /// sent again before its next use.
    stale: bool,
}

/// One object for `show`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjView {
    pub id: u32,
    pub protocol: u8,
    /// For a single object: its gateway and interface; for a group: its
    /// members' ids, gateways, interfaces and weights.
    pub legs: Vec<(u32, IpAddr, u32, u16)>,
    pub group: bool,
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

    /// Turns objects on, given every object in the kernel now: ours (of one
    /// of `our_protocols`, in a form zebrad creates) are adopted
    /// unreferenced and deleted at the next flush unless a RIB group takes
    /// them meanwhile; the ids of all others are never used.
    pub fn enable(&mut self, found: &[DumpedNexthop], our_protocols: &[u8]) {
        self.enabled = true;
        self.next_id = FIRST_ID;
        let ours: Vec<NexthopObject> = found
            .iter()
            .filter_map(|d| d.object().filter(|_| our_protocols.contains(&d.protocol)))
            .collect();
        for d in found {
            if !ours.iter().any(|o| o.id == d.id) {
                self.taken.insert(d.id);
            }
        }
        // Singles first: groups take references on them.
        let (singles, groups): (Vec<_>, Vec<_>) = ours
            .into_iter()
            .partition(|o| matches!(o.body, ObjectBody::Single { .. }));
        for o in singles.into_iter().chain(groups) {
            let key = match o.body {
                ObjectBody::Single {
                    gateway: Some(gateway),
                    ifindex,
                    ..
                } => ObjKey::Single {
                    protocol: o.protocol,
                    gateway,
                    ifindex,
                },
                ObjectBody::Single { gateway: None, .. } => {
                    self.taken.insert(o.id);
                    continue;
                }
                ObjectBody::Group(mut members) => {
                    members.sort();
                    if !members
                        .iter()
                        .all(|m| matches!(self.objs.get(&m.id), Some(x) if matches!(x.key, ObjKey::Single { .. })))
                    {
                        // Members we do not know: not a group of ours.
                        self.taken.insert(o.id);
                        continue;
                    }
                    for m in &members {
                        if let Some(x) = self.objs.get_mut(&m.id) {
                            x.refs += 1;
                        }
                    }
                    ObjKey::Group {
                        protocol: o.protocol,
                        members,
                    }
                }
            };
            // A duplicate of an adopted one is not indexed: it goes.
            self.by_key.entry(key.clone()).or_insert(o.id);
            self.objs.insert(
                o.id,
                Obj {
                    key,
                    refs: 0,
                    in_kernel: true,
                    stale: false,
                },
            );
            self.released.push(o.id);
        }
    }

    /// The object for a RIB group of `protocol` resolved to `legs`, with a
    /// reference taken: a single object for one leg, a group object of
    /// single ones for several. 0 when the legs cannot have one (objects
    /// off, a leg without a gateway or interface). Create ops go to `out`,
    /// members before their group, for whatever is not in the kernel yet.
    pub fn acquire(&mut self, protocol: u8, legs: &[Leg], out: &mut Vec<FibOp>) -> u32 {
        if !self.enabled
            || legs.is_empty()
            || legs.iter().any(|l| l.gateway.is_none() || l.ifindex == 0)
        {
            return 0;
        }
        if let [leg] = legs {
            return self.acquire_single(protocol, leg, out);
        }
        let mut members: Vec<GroupMember> = legs
            .iter()
            .map(|l| GroupMember {
                id: self.acquire_single(protocol, l, out),
                weight: l.weight,
            })
            .collect();
        members.sort();
        let key = ObjKey::Group { protocol, members };
        if let (Some(&id), ObjKey::Group { members, .. }) = (self.by_key.get(&key), &key) {
            // The group holds its members already.
            for m in members {
                self.release(m.id);
            }
            return self.take(id, out);
        }
        let id = self.intern(key);
        self.take(id, out)
    }

    fn acquire_single(&mut self, protocol: u8, leg: &Leg, out: &mut Vec<FibOp>) -> u32 {
        let Some(gateway) = leg.gateway else {
            return 0;
        };
        let id = self.intern(ObjKey::Single {
            protocol,
            gateway,
            ifindex: leg.ifindex,
        });
        self.take(id, out)
    }

    /// The id of the object with `key`, registered (not in the kernel yet,
    /// no reference) if new.
    fn intern(&mut self, key: ObjKey) -> u32 {
        if let Some(&id) = self.by_key.get(&key) {
            return id;
        }
        let id = self.allocate();
        self.by_key.insert(key.clone(), id);
        self.objs.insert(
            id,
            Obj {
                key,
                refs: 0,
                in_kernel: false,
                stale: false,
            },
        );
        id
    }

    /// A reference on `id`, creating it in the kernel if it is not there.
    fn take(&mut self, id: u32, out: &mut Vec<FibOp>) -> u32 {
        let Some(o) = self.objs.get_mut(&id) else {
            return 0;
        };
        o.refs += 1;
        if !o.in_kernel || o.stale {
            o.in_kernel = true;
            o.stale = false;
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

    /// Drops a reference; the object is deleted at the next
    /// [`flush`](Self::flush) if nothing took it again by then.
    pub fn release(&mut self, id: u32) {
        if let Some(o) = self.objs.get_mut(&id) {
            o.refs = o.refs.saturating_sub(1);
            if o.refs == 0 {
                self.released.push(id);
            }
        }
    }

    /// Emits the deletes of objects left without references (a group
    /// before the members it released). Call after the routes that used
    /// them have been replaced or deleted.
    pub fn flush(&mut self, out: &mut Vec<FibOp>) {
        while !self.released.is_empty() {
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
                if let Some(Obj {
                    key: ObjKey::Group { members, .. },
                    ..
                }) = self.objs.remove(&id)
                {
                    for m in members {
                        self.release(m.id);
                    }
                }
            }
        }
    }

    /// The kernel removed the objects on `ifindex` (it does when a link
    /// goes down) and took them out of their groups: they are re-created,
    /// and those groups sent again whole, when next needed. (A group is
    /// still deleted when unused: the kernel keeps it while it has a
    /// member left.)
    pub fn link_down(&mut self, ifindex: u32) {
        let gone: HashSet<u32> = self
            .objs
            .iter()
            .filter(|(_, o)| matches!(o.key, ObjKey::Single { ifindex: i, .. } if i == ifindex))
            .map(|(&id, _)| id)
            .collect();
        for (id, o) in self.objs.iter_mut() {
            match &o.key {
                ObjKey::Single { .. } if gone.contains(id) => o.in_kernel = false,
                ObjKey::Group { members, .. } if members.iter().any(|m| gone.contains(&m.id)) => {
                    o.stale = true
                }
                _ => {}
            }
        }
    }

    /// After a resync dump: objects in use but missing from `present` are
    /// re-created (ops to `out`, members first, before the routes the
    /// resync re-installs).
    pub fn resync(&mut self, present: &HashSet<u32>, out: &mut Vec<FibOp>) -> usize {
        let mut ids: Vec<u32> = self.objs.keys().copied().collect();
        // Singles before groups.
        ids.sort_by_key(|id| {
            (
                matches!(self.objs.get(id), Some(o) if matches!(o.key, ObjKey::Group { .. })),
                *id,
            )
        });
        let mut n = 0;
        for id in ids {
            let Some(o) = self.objs.get_mut(&id) else {
                continue;
            };
            if present.contains(&id) {
                continue;
            }
            if o.refs > 0 {
                o.in_kernel = true;
                o.stale = false;
                out.push(FibOp::Nexthop(object(id, &o.key)));
                n += 1;
            } else {
                o.in_kernel = false;
            }
        }
        n
    }

    /// The kernel reports object `id` deleted. When it is one of ours,
    /// in use and in the kernel, someone else deleted it (`ip nexthop del`;
    /// the ids [`flush`](Self::flush) deletes have left the registry, and
    /// a link going down removes objects without a notification): it is
    /// created again (op to `out`), then the groups of ours it was a member
    /// of (the kernel took it out of them) are sent again whole. Returns
    /// its view for the log, or `None` when it is not ours to repair. The
    /// kernel also removed the routes naming it: the caller re-installs them.
    pub fn deleted_outside(&mut self, id: u32, out: &mut Vec<FibOp>) -> Option<ObjView> {
        let o = self.objs.get_mut(&id)?;
        if !o.in_kernel {
            return None;
        }
        if o.refs == 0 {
            // Adopted and unused: the next flush has nothing to delete.
            o.in_kernel = false;
            return None;
        }
        self.write_back(id, out);
        let mut groups: Vec<u32> = self
            .objs
            .iter()
            .filter(|(_, g)| {
                g.in_kernel
                    && !g.stale
                    && matches!(&g.key, ObjKey::Group { members, .. } if members.iter().any(|m| m.id == id))
            })
            .map(|(&gid, _)| gid)
            .collect();
        groups.sort_unstable();
        for gid in groups {
            self.write_back(gid, out);
        }
        self.view_of(id)
    }

    /// Sends object `id` again as the registry has it; a group's members
    /// go first, all of them: in a burst of outside deletions (`ip nexthop
    /// flush`) a member may be gone already although its notification is
    /// still queued, and a group naming a missing member would be refused.
    /// Sending an object that exists is harmless (`CREATE|REPLACE`).
    fn write_back(&mut self, id: u32, out: &mut Vec<FibOp>) {
        let Some(o) = self.objs.get_mut(&id) else {
            return;
        };
        o.in_kernel = true;
        o.stale = false;
        let ours = object(id, &o.key);
        if let ObjectBody::Group(members) = &ours.body {
            for m in members {
                if let Some(x) = self.objs.get_mut(&m.id) {
                    x.in_kernel = true;
                    out.push(FibOp::Nexthop(object(m.id, &x.key)));
                }
            }
        }
        out.push(FibOp::Nexthop(ours));
    }

    /// The kernel reports object `d` added or replaced. When `d.id` is one
    /// of ours, in use and in the kernel, and `d` is not what we wrote
    /// (the echo of our own write is), someone else replaced it (`ip
    /// nexthop replace`): ours is written back (op to `out`). Returns the
    /// view of ours for the log, or `None` when there is nothing to repair.
    /// A group one of whose members' link went down is left alone: the
    /// kernel changed it, and it is sent again whole before its next use.
    pub fn changed_outside(&mut self, d: &DumpedNexthop, out: &mut Vec<FibOp>) -> Option<ObjView> {
        let o = self.objs.get(&d.id)?;
        if !o.in_kernel || o.stale || o.refs == 0 {
            return None;
        }
        let ours = object(d.id, &o.key);
        if d.object().map(normalized) == Some(normalized(ours.clone())) {
            return None;
        }
        if let ObjKey::Group { members, .. } = &o.key {
            if !members
                .iter()
                .all(|m| self.objs.get(&m.id).is_some_and(|x| x.in_kernel))
            {
                return None;
            }
        }
        self.write_back(d.id, out);
        self.view_of(d.id)
    }

    fn view_of(&self, id: u32) -> Option<ObjView> {
        let o = self.objs.get(&id)?;
        Some(self.view_one(id, o))
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
            .map(|(&id, o)| self.view_one(id, o))
            .collect();
        v.sort_by_key(|o| o.id);
        v
    }

    fn view_one(&self, id: u32, o: &Obj) -> ObjView {
        let leg = |id: u32, weight: u16| match self.objs.get(&id).map(|o| &o.key) {
            Some(ObjKey::Single {
                gateway, ifindex, ..
            }) => Some((id, *gateway, *ifindex, weight)),
            _ => None,
        };
        ObjView {
            id,
            protocol: o.key.protocol(),
            legs: match &o.key {
                ObjKey::Single { .. } => leg(id, 1).into_iter().collect(),
                ObjKey::Group { members, .. } => {
                    members.iter().filter_map(|m| leg(m.id, m.weight)).collect()
                }
            },
            group: matches!(o.key, ObjKey::Group { .. }),
            refs: o.refs,
            in_kernel: o.in_kernel,
        }
    }
}

/// `o` as the kernel reports it back: group members in id order, weights
/// in the 1..=256 the wire carries.
fn normalized(mut o: NexthopObject) -> NexthopObject {
    if let ObjectBody::Group(members) = &mut o.body {
        for m in members.iter_mut() {
            m.weight = m.weight.clamp(1, 256);
        }
        members.sort();
    }
    o
}

fn object(id: u32, k: &ObjKey) -> NexthopObject {
    match k {
        ObjKey::Single {
            protocol,
            gateway,
            ifindex,
        } => NexthopObject::single(id, *protocol, *gateway, *ifindex),
        ObjKey::Group { protocol, members } => NexthopObject {
            id,
            protocol: *protocol,
            body: ObjectBody::Group(members.clone()),
        },
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

    fn created(out: &[FibOp]) -> Vec<u32> {
        out.iter()
            .filter_map(|op| match op {
                FibOp::Nexthop(o) => Some(o.id),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn disabled_or_unsuitable_legs_get_no_object() {
        let mut k = KernelNexthops::default();
        let mut out = Vec::new();
        assert_eq!(k.acquire(186, &[leg("192.0.2.1", 2)], &mut out), 0);
        let mut k = enabled();
        assert_eq!(k.acquire(186, &[leg("192.0.2.1", 0)], &mut out), 0);
        let link_only = Leg {
            gateway: None,
            ifindex: 2,
            weight: 1,
        };
        assert_eq!(k.acquire(186, &[link_only], &mut out), 0);
        assert_eq!(
            k.acquire(186, &[leg("192.0.2.1", 2), link_only], &mut out),
            0
        );
        assert_eq!(k.acquire(186, &[], &mut out), 0);
        assert!(out.is_empty());
        assert!(k.is_empty());
    }

    #[test]
    fn shared_created_once_deleted_after_last_release_at_flush() {
        let mut k = enabled();
        let mut out = Vec::new();
        let a = k.acquire(186, &[leg("192.0.2.1", 2)], &mut out);
        let b = k.acquire(186, &[leg("192.0.2.1", 2)], &mut out);
        let c = k.acquire(188, &[leg("192.0.2.1", 2)], &mut out);
        assert_eq!(a, b);
        assert_ne!(a, c, "another protocol, another object");
        assert_eq!(created(&out), vec![a, c]);
        out.clear();
        k.release(a);
        k.flush(&mut out);
        assert!(out.is_empty(), "still referenced");
        k.release(a);
        // Taken again before the flush: kept, no churn.
        assert_eq!(k.acquire(186, &[leg("192.0.2.1", 2)], &mut out), a);
        k.flush(&mut out);
        assert!(out.is_empty());
        k.release(a);
        k.flush(&mut out);
        assert_eq!(out, vec![FibOp::DeleteNexthop { id: a }]);
        assert_eq!(k.len(), 1);
    }

    #[test]
    fn groups_hold_their_members_and_go_before_them() {
        let mut k = enabled();
        let mut out = Vec::new();
        let legs = [leg("192.0.2.1", 2), leg("198.51.100.1", 3)];
        let g = k.acquire(186, &legs, &mut out);
        // Members first, then the group naming them.
        let ids = created(&out);
        assert_eq!(ids.len(), 3);
        assert_eq!(ids[2], g);
        match &out[2] {
            FibOp::Nexthop(NexthopObject {
                body: ObjectBody::Group(m),
                ..
            }) => assert_eq!(m.iter().map(|m| m.id).collect::<Vec<_>>(), ids[..2]),
            other => panic!("{other:?}"),
        }
        out.clear();
        // The same set in another order is the same group; a member used
        // alone too is shared.
        assert_eq!(k.acquire(186, &[legs[1], legs[0]], &mut out), g);
        let single = k.acquire(186, &[legs[0]], &mut out);
        assert_eq!(single, ids[0]);
        assert!(out.is_empty());
        // Other weights, another group over the same members.
        let mut heavy = legs;
        heavy[0].weight = 3;
        let h = k.acquire(186, &heavy, &mut out);
        assert_ne!(h, g);
        assert_eq!(created(&out), vec![h]);
        out.clear();
        k.release(g);
        k.release(g);
        k.release(h);
        k.flush(&mut out);
        // Both groups go; the member used alone stays, the other goes
        // after the groups that held it.
        assert_eq!(out.len(), 3);
        assert!(matches!(out[2], FibOp::DeleteNexthop { id } if id == ids[1]));
        assert_eq!(k.len(), 1);
        k.release(single);
        out.clear();
        k.flush(&mut out);
        assert_eq!(out, vec![FibOp::DeleteNexthop { id: single }]);
        assert!(k.is_empty());
    }

    #[test]
    fn link_down_recreates_on_next_use_and_resync_restores() {
        let mut k = enabled();
        let mut out = Vec::new();
        let a = k.acquire(186, &[leg("192.0.2.1", 2)], &mut out);
        let g = k.acquire(
            186,
            &[leg("192.0.2.1", 2), leg("198.51.100.1", 3)],
            &mut out,
        );
        out.clear();
        k.link_down(2);
        assert_eq!(k.acquire(186, &[leg("192.0.2.1", 2)], &mut out), a);
        assert_eq!(created(&out), vec![a], "re-created");
        out.clear();
        // The group lost a member in the kernel: it is sent again whole.
        assert_eq!(
            k.acquire(
                186,
                &[leg("192.0.2.1", 2), leg("198.51.100.1", 3)],
                &mut out
            ),
            g
        );
        assert_eq!(created(&out), vec![g]);
        out.clear();
        assert_eq!(k.resync(&HashSet::new(), &mut out), 3);
        assert_eq!(*created(&out).last().unwrap(), g, "members first");
        out.clear();
        let all: HashSet<u32> = k.view().iter().map(|o| o.id).collect();
        assert_eq!(k.resync(&all, &mut out), 0);
        k.create_failed(a);
        k.acquire(186, &[leg("192.0.2.1", 2)], &mut out);
        assert_eq!(out.len(), 1, "a failed create is tried again");
    }

    fn dumped(id: u32, protocol: u8, gw: &str) -> DumpedNexthop {
        DumpedNexthop {
            id,
            protocol,
            family: 2,
            gateway: Some(gw.parse().unwrap()),
            ifindex: 2,
            group: Vec::new(),
            blackhole: false,
        }
    }

    #[test]
    fn start_adopts_ours_skips_others_and_drops_unused() {
        let mut group = dumped(FIRST_ID + 4, 186, "192.0.2.1");
        group.gateway = None;
        group.ifindex = 0;
        group.group = vec![
            GroupMember {
                id: FIRST_ID,
                weight: 1,
            },
            GroupMember {
                id: FIRST_ID + 1,
                weight: 1,
            },
        ];
        let found = vec![
            dumped(FIRST_ID, 186, "192.0.2.1"),
            dumped(FIRST_ID + 1, 186, "192.0.2.9"),
            dumped(FIRST_ID + 2, 11, "192.0.2.5"),
            group,
        ];
        let mut k = KernelNexthops::default();
        k.enable(&found, &[186]);
        let mut out = Vec::new();
        // The adopted objects are reused as they are: no create.
        assert_eq!(k.acquire(186, &[leg("192.0.2.1", 2)], &mut out), FIRST_ID);
        let g = k.acquire(186, &[leg("192.0.2.1", 2), leg("192.0.2.9", 2)], &mut out);
        assert_eq!(g, FIRST_ID + 4);
        assert!(out.is_empty());
        // A new one skips the ids in use, ours or not.
        let n = k.acquire(186, &[leg("198.51.100.1", 3)], &mut out);
        assert_eq!(n, FIRST_ID + 3);
        out.clear();
        k.flush(&mut out);
        assert!(out.is_empty(), "everything adopted is in use");
        k.release(g);
        k.flush(&mut out);
        assert_eq!(
            out,
            vec![
                FibOp::DeleteNexthop { id: g },
                FibOp::DeleteNexthop { id: FIRST_ID + 1 }
            ]
        );
    }
}

//! Programming the kernel: remote VTEPs, MACs and MAC+IPs as bridge FDB and
//! neighbor entries, and the record of what zebrad has put there.
//!
//! The entries, as FRR's zebra makes them (compare `bridge fdb show`,
//! `ip neigh show`):
//!
//! - flood list: `00:00:00:00:00:00 dev VXLAN dst VTEP self permanent`,
//!   appended (`NLM_F_CREATE|NLM_F_APPEND`, as `bridge fdb append` does), one
//!   per remote VTEP of the VNI (RFC 8365 section 9, ingress replication);
//! - remote MAC: one message with `NTF_SELF|NTF_MASTER|NTF_EXT_LEARNED`
//!   makes both `MAC dev VXLAN dst VTEP self extern_learn permanent` and
//!   `MAC dev VXLAN extern_learn master BRIDGE` (plus `NTF_STICKY` for a
//!   sticky MAC), replaced in place when the MAC moves;
//! - remote MAC+IP: `IP dev BRIDGE lladdr MAC extern_learn NOARP proto zebra`,
//!   so ARP/ND is answered locally (neighbor suppression).
//!
//! How zebrad knows its own entries (and never touches others'):
//! MAC entries are the `extern_learn` `self` entries of VXLAN devices;
//! neighbor entries carry protocol [`super::NEIGH_PROTOCOL`] (11, "zebra");
//! the kernel keeps no mark on an appended flood entry, so zebrad writes the
//! flood entries it installed to a state file (`RUN_DIR/zebrad-vtep-flood`,
//! "ifindex vtep" per line) and at start adopts only those still present.
//! Adopted entries are left alone until a client pushes the same entry
//! (nothing is re-written, nothing duplicated) or, if nobody does within the
//! stale time, removed by [`Programmed::sweep_adopted`].
//!
//! Ops go through the FIB writer's machinery ([`crate::fib::NlOp`]): many
//! messages per `sendto`, acks matched by sequence number.

use std::collections::{HashMap, HashSet};
use std::io;
use std::net::IpAddr;
use std::path::PathBuf;

use netlink_packet_core::{NLM_F_APPEND, NLM_F_CREATE, NLM_F_REPLACE};
use netlink_packet_route::neighbour::{
    NeighbourAddress, NeighbourAttribute, NeighbourFlags, NeighbourMessage, NeighbourState,
};
use netlink_packet_route::route::RouteProtocol;
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use tracing::{debug, warn};

use super::discover::{FdbEntry, NeighEntry};
use super::table::Key;
use super::{Mac, NEIGH_PROTOCOL};
use crate::fib::NlOp;

/// One entry as zebrad wants it in the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Want {
    Flood {
        ifindex: u32,
        vtep: IpAddr,
    },
    Mac {
        ifindex: u32,
        mac: Mac,
        vtep: IpAddr,
        sticky: bool,
    },
    Neigh {
        ifindex: u32,
        ip: IpAddr,
        mac: Mac,
    },
}

impl Want {
    pub fn ifindex(&self) -> u32 {
        match *self {
            Want::Flood { ifindex, .. }
            | Want::Mac { ifindex, .. }
            | Want::Neigh { ifindex, .. } => ifindex,
        }
    }
}

/// One kernel write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VtepOp {
    pub key: Key,
    pub want: Want,
    pub delete: bool,
}

/// The kernel's answer to one [`VtepOp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VtepOutcome {
    pub op: VtepOp,
    pub error: Option<i32>,
}

fn fdb_message(ifindex: u32, mac: Mac, vtep: IpAddr, flags: NeighbourFlags) -> NeighbourMessage {
    let mut m = NeighbourMessage::default();
    m.header.family = AddressFamily::Bridge;
    m.header.ifindex = ifindex;
    m.header.state = NeighbourState::Permanent;
    m.header.flags = flags;
    m.attributes = vec![
        NeighbourAttribute::LinkLayerAddress(mac.to_vec()),
        NeighbourAttribute::Destination(NeighbourAddress::from(vtep)),
    ];
    m
}

fn neigh_message(ifindex: u32, ip: IpAddr, mac: Option<Mac>) -> NeighbourMessage {
    let mut m = NeighbourMessage::default();
    m.header.family = if ip.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    m.header.ifindex = ifindex;
    m.header.state = NeighbourState::Noarp;
    m.header.flags = NeighbourFlags::ExtLearned;
    m.attributes = vec![NeighbourAttribute::Destination(NeighbourAddress::from(ip))];
    if let Some(mac) = mac {
        m.attributes
            .push(NeighbourAttribute::LinkLayerAddress(mac.to_vec()));
        m.attributes
            .push(NeighbourAttribute::Protocol(RouteProtocol::from(
                NEIGH_PROTOCOL,
            )));
    }
    m
}

impl VtepOp {
    /// The message and its flags other than `NLM_F_REQUEST`/`NLM_F_ACK`.
    fn request(&self) -> (RouteNetlinkMessage, u16) {
        let new = |m| RouteNetlinkMessage::NewNeighbour(m);
        let del = |m| RouteNetlinkMessage::DelNeighbour(m);
        match (self.want, self.delete) {
            (Want::Flood { ifindex, vtep }, false) => (
                new(fdb_message(ifindex, [0; 6], vtep, NeighbourFlags::Own)),
                NLM_F_CREATE | NLM_F_APPEND,
            ),
            (Want::Flood { ifindex, vtep }, true) => (
                del(fdb_message(ifindex, [0; 6], vtep, NeighbourFlags::Own)),
                0,
            ),
            (
                Want::Mac {
                    ifindex,
                    mac,
                    vtep,
                    sticky,
                },
                delete,
            ) => {
                let mut flags =
                    NeighbourFlags::Own | NeighbourFlags::Controller | NeighbourFlags::ExtLearned;
                if sticky {
                    flags |= NeighbourFlags::Sticky;
                }
                let m = fdb_message(ifindex, mac, vtep, flags);
                if delete {
                    (del(m), 0)
                } else {
                    (new(m), NLM_F_CREATE | NLM_F_REPLACE)
                }
            }
            (Want::Neigh { ifindex, ip, mac }, false) => (
                new(neigh_message(ifindex, ip, Some(mac))),
                NLM_F_CREATE | NLM_F_REPLACE,
            ),
            (Want::Neigh { ifindex, ip, .. }, true) => (del(neigh_message(ifindex, ip, None)), 0),
        }
    }
}

impl NlOp for VtepOp {
    type Key = Key;
    type Outcome = VtepOutcome;

    fn encode(&self, flags: u16, seq: u32, out: &mut Vec<u8>) {
        let (msg, own) = self.request();
        crate::fib::nl::encode(msg, flags | own, seq, out);
    }

    fn key(&self) -> Key {
        self.key
    }

    fn is_delete(&self) -> bool {
        self.delete
    }

    fn outcome(&self, error: Option<i32>) -> VtepOutcome {
        VtepOutcome { op: *self, error }
    }
}

/// What zebrad has in the kernel, per key.
#[derive(Debug, Default)]
pub struct Programmed {
    installed: HashMap<Key, Want>,
    /// Found at start and not yet confirmed by a client.
    adopted: HashSet<Key>,
    /// The kernel's last error per key.
    errors: HashMap<Key, i32>,
    flood_file: Option<PathBuf>,
    flood_dirty: bool,
}

impl Programmed {
    pub fn new(flood_file: Option<PathBuf>) -> Self {
        Programmed {
            flood_file,
            ..Programmed::default()
        }
    }

    pub fn installed(&self, key: &Key) -> Option<&Want> {
        self.installed.get(key)
    }

    pub fn error(&self, key: &Key) -> Option<i32> {
        self.errors.get(key).copied()
    }

    pub fn len(&self) -> usize {
        self.installed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.installed.is_empty()
    }

    /// Brings one key to `want`, appending the writes to `ops`.
    pub fn sync(&mut self, key: Key, want: Option<Want>, ops: &mut Vec<VtepOp>) {
        let have = self.installed.get(&key).copied();
        if want.is_some() {
            self.adopted.remove(&key);
        }
        if have == want {
            return;
        }
        if want.is_none() && self.adopted.contains(&key) {
            // Adopted: a client may still claim it (see the module doc).
            return;
        }
        match (have, want) {
            (Some(h), Some(w)) => {
                let in_place = h.ifindex() == w.ifindex()
                    && matches!(
                        (h, w),
                        (Want::Mac { .. }, Want::Mac { .. })
                            | (Want::Neigh { .. }, Want::Neigh { .. })
                    );
                if !in_place {
                    ops.push(VtepOp {
                        key,
                        want: h,
                        delete: true,
                    });
                }
                ops.push(VtepOp {
                    key,
                    want: w,
                    delete: false,
                });
            }
            (Some(h), None) => ops.push(VtepOp {
                key,
                want: h,
                delete: true,
            }),
            (None, Some(w)) => ops.push(VtepOp {
                key,
                want: w,
                delete: false,
            }),
            (None, None) => {}
        }
        match want {
            Some(w) => self.installed.insert(key, w),
            None => self.installed.remove(&key),
        };
        self.errors.remove(&key);
        if matches!(key, Key::Flood(..)) {
            self.flood_dirty = true;
        }
    }

    /// A write failed: the kernel does not hold what we think.
    pub fn outcome(&mut self, o: &VtepOutcome) {
        let Some(errno) = o.error else { return };
        if o.op.delete {
            debug!(op = ?o.op, errno, "kernel refused a VTEP delete");
            return;
        }
        warn!(key = ?o.op.key, errno, error = %io::Error::from_raw_os_error(errno), "kernel refused a VTEP entry");
        if self.installed.get(&o.op.key) == Some(&o.op.want) {
            self.installed.remove(&o.op.key);
            if matches!(o.op.key, Key::Flood(..)) {
                self.flood_dirty = true;
            }
        }
        self.errors.insert(o.op.key, errno);
    }

    /// The kernel no longer holds `key` (deleted from outside).
    pub fn forget(&mut self, key: &Key) {
        if self.installed.remove(key).is_some() && matches!(key, Key::Flood(..)) {
            self.flood_dirty = true;
        }
    }

    /// The device went away: the kernel dropped its entries with it.
    pub fn forget_ifindex(&mut self, ifindex: u32) {
        let before = self.installed.len();
        self.installed.retain(|_, w| w.ifindex() != ifindex);
        if self.installed.len() != before {
            self.flood_dirty = true;
        }
    }

    /// Takes over an entry found in the kernel at start.
    pub fn adopt(&mut self, key: Key, want: Want) {
        if self.installed.insert(key, want).is_none() {
            self.adopted.insert(key);
        }
    }

    pub fn adopted(&self) -> usize {
        self.adopted.len()
    }

    /// Removes every adopted entry no client claimed.
    pub fn sweep_adopted(&mut self, ops: &mut Vec<VtepOp>) {
        for key in std::mem::take(&mut self.adopted) {
            self.sync(key, None, ops);
        }
    }

    /// Rewrites the flood state file when the flood entries changed.
    pub fn save_flood(&mut self) {
        if !self.flood_dirty {
            return;
        }
        self.flood_dirty = false;
        let Some(path) = &self.flood_file else { return };
        let mut s = String::new();
        let mut lines: Vec<(u32, IpAddr)> = self
            .installed
            .values()
            .filter_map(|w| match *w {
                Want::Flood { ifindex, vtep } => Some((ifindex, vtep)),
                _ => None,
            })
            .collect();
        lines.sort_unstable();
        for (i, v) in lines {
            s.push_str(&format!("{i} {v}\n"));
        }
        let tmp = path.with_extension("tmp");
        if let Err(e) = std::fs::write(&tmp, s).and_then(|()| std::fs::rename(&tmp, path)) {
            warn!(path = %path.display(), error = %e, "cannot save the VTEP flood state");
        }
    }

    /// The flood entries an earlier zebrad recorded.
    pub fn load_flood(&self) -> HashSet<(u32, IpAddr)> {
        let Some(path) = &self.flood_file else {
            return HashSet::new();
        };
        let Ok(s) = std::fs::read_to_string(path) else {
            return HashSet::new();
        };
        s.lines()
            .filter_map(|l| {
                let (i, v) = l.split_once(' ')?;
                Some((i.parse().ok()?, v.trim().parse().ok()?))
            })
            .collect()
    }
}

/// Whether an FDB entry of a VXLAN device is one zebrad made (see the
/// module doc), as the key and entry it stands for.
pub fn our_fdb(
    e: &FdbEntry,
    vni: u32,
    recorded_flood: &HashSet<(u32, IpAddr)>,
) -> Option<(Key, Want)> {
    let vtep = e.dst?;
    if !e.self_ {
        return None;
    }
    if e.mac == [0; 6] {
        return recorded_flood.contains(&(e.ifindex, vtep)).then_some((
            Key::Flood(vni, vtep),
            Want::Flood {
                ifindex: e.ifindex,
                vtep,
            },
        ));
    }
    e.ext_learned.then_some((
        Key::Mac(vni, e.mac),
        Want::Mac {
            ifindex: e.ifindex,
            mac: e.mac,
            vtep,
            // The self entry does not say; a client's push sets it again.
            sticky: false,
        },
    ))
}

/// Whether a neighbor entry on a VNI's bridge is one zebrad made.
pub fn our_neigh(e: &NeighEntry, vni: u32) -> Option<(Key, Want)> {
    (e.protocol == NEIGH_PROTOCOL && e.ext_learned).then_some(())?;
    Some((
        Key::MacIp(vni, e.ip),
        Want::Neigh {
            ifindex: e.ifindex,
            ip: e.ip,
            mac: e.mac?,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn sync_adds_replaces_and_deletes() {
        let mut p = Programmed::default();
        let mut ops = Vec::new();
        let k = Key::Mac(100, [2, 0, 0, 0, 0, 1]);
        let w1 = Want::Mac {
            ifindex: 3,
            mac: [2, 0, 0, 0, 0, 1],
            vtep: ip("192.0.2.2"),
            sticky: false,
        };
        p.sync(k, Some(w1), &mut ops);
        p.sync(k, Some(w1), &mut ops);
        assert_eq!(ops.len(), 1);
        // A move is a replace in place.
        let w2 = Want::Mac {
            ifindex: 3,
            mac: [2, 0, 0, 0, 0, 1],
            vtep: ip("192.0.2.3"),
            sticky: false,
        };
        ops.clear();
        p.sync(k, Some(w2), &mut ops);
        assert_eq!(ops.len(), 1);
        assert!(!ops[0].delete);
        ops.clear();
        p.sync(k, None, &mut ops);
        assert_eq!(ops.len(), 1);
        assert!(ops[0].delete);
        assert!(p.is_empty());
    }

    #[test]
    fn adopted_entries_wait_for_a_client_or_the_sweep() {
        let mut p = Programmed::default();
        let mut ops = Vec::new();
        let k = Key::Flood(100, ip("192.0.2.2"));
        let w = Want::Flood {
            ifindex: 3,
            vtep: ip("192.0.2.2"),
        };
        p.adopt(k, w);
        p.sync(k, None, &mut ops);
        assert!(ops.is_empty());
        // Claimed with the same entry: nothing is written.
        p.sync(k, Some(w), &mut ops);
        assert!(ops.is_empty());
        assert_eq!(p.adopted(), 0);
        let k2 = Key::Flood(100, ip("192.0.2.3"));
        p.adopt(
            k2,
            Want::Flood {
                ifindex: 3,
                vtep: ip("192.0.2.3"),
            },
        );
        p.sweep_adopted(&mut ops);
        assert_eq!(ops.len(), 1);
        assert!(ops[0].delete && ops[0].key == k2);
    }

    #[test]
    fn a_failed_add_is_forgotten() {
        let mut p = Programmed::default();
        let mut ops = Vec::new();
        let k = Key::MacIp(100, ip("198.51.100.7"));
        let w = Want::Neigh {
            ifindex: 2,
            ip: ip("198.51.100.7"),
            mac: [2, 0, 0, 0, 0, 7],
        };
        p.sync(k, Some(w), &mut ops);
        p.outcome(&ops[0].outcome(Some(libc::EINVAL)));
        assert!(p.installed(&k).is_none());
        assert_eq!(p.error(&k), Some(libc::EINVAL));
    }

    #[test]
    fn ownership() {
        let flood: HashSet<(u32, IpAddr)> = [(3, ip("192.0.2.2"))].into();
        let mut e = FdbEntry {
            ifindex: 3,
            mac: [0; 6],
            master: 0,
            dst: Some(ip("192.0.2.2")),
            self_: true,
            ext_learned: false,
            permanent: true,
            static_: false,
        };
        assert!(our_fdb(&e, 100, &flood).is_some());
        e.dst = Some(ip("192.0.2.9"));
        assert!(
            our_fdb(&e, 100, &flood).is_none(),
            "a flood entry we did not record"
        );
        e.mac = [2, 0, 0, 0, 0, 1];
        assert!(our_fdb(&e, 100, &flood).is_none(), "not extern_learn");
        e.ext_learned = true;
        assert!(our_fdb(&e, 100, &flood).is_some());
    }
}

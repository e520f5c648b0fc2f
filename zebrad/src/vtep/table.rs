//! The remote table: what clients (bgpd's EVPN, orchestrators) want in the
//! kernel per VNI: remote VTEPs (the flood list, RFC 8365 section 9 ingress
//! replication), remote MACs and remote MAC+IPs (RFC 7432 section 9.2).
//!
//! Each client's entries are kept apart, as PushRoutes keeps routes: when a
//! client disconnects its entries stay (stale) until its stale time runs
//! out; when it reconnects, its old entries are marked stale, re-sent ones
//! become fresh, and the rest go at end-of-RIB or when the time runs out.
//! Where two clients name the same MAC, the higher MAC mobility sequence
//! number wins (RFC 7432 section 7.7), then the client that connected first;
//! for a MAC+IP the client that connected first.
//!
//! Every change returns the [`Key`]s it touched, so the caller recomputes
//! only those. Never: looks at the kernel or at reachability.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::Mac;

/// A client of the push RPC.
pub type ClientId = u32;

/// One kernel-facing entry of a VNI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    /// A flood-list entry toward a VTEP.
    Flood(u32, IpAddr),
    /// A remote MAC.
    Mac(u32, Mac),
    /// A remote MAC+IP (keyed by IP).
    MacIp(u32, IpAddr),
}

impl Key {
    pub fn vni(&self) -> u32 {
        match *self {
            Key::Flood(v, _) | Key::Mac(v, _) | Key::MacIp(v, _) => v,
        }
    }
}

/// A remote MAC as a client pushed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MacEntry {
    pub vtep: IpAddr,
    pub seq: u32,
    pub sticky: bool,
}

/// A remote MAC+IP as a client pushed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MacIpEntry {
    pub mac: Mac,
    pub vtep: IpAddr,
}

/// An entry and whether it is left from the client's previous session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held<T> {
    pub value: T,
    pub stale: bool,
}

#[derive(Debug, Default)]
struct Client {
    name: String,
    connected: bool,
    /// Stale entries go at this time (set on disconnect and on reconnect).
    deadline: Option<Instant>,
    vteps: HashMap<(u32, IpAddr), Held<()>>,
    macs: HashMap<(u32, Mac), Held<MacEntry>>,
    macips: HashMap<(u32, IpAddr), Held<MacIpEntry>>,
}

/// One batch of a client, validated.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Batch {
    pub vtep_add: Vec<(u32, IpAddr)>,
    pub vtep_del: Vec<(u32, IpAddr)>,
    pub mac_add: Vec<(u32, Mac, MacEntry)>,
    pub mac_del: Vec<(u32, Mac)>,
    pub macip_add: Vec<(u32, IpAddr, MacIpEntry)>,
    pub macip_del: Vec<(u32, IpAddr)>,
    pub end_of_rib: bool,
}

impl Batch {
    /// How many entries it carries.
    pub fn len(&self) -> usize {
        self.vtep_add.len()
            + self.vtep_del.len()
            + self.mac_add.len()
            + self.mac_del.len()
            + self.macip_add.len()
            + self.macip_del.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Every client's remote entries.
#[derive(Debug, Default)]
pub struct Table {
    /// Indexed by [`ClientId`]; ids are never reused.
    clients: Vec<Client>,
    /// Which clients hold each key (the merge reads only these).
    holders: HashMap<Key, Vec<ClientId>>,
}

impl Table {
    /// A client says Hello: the same name gets its old id back, its entries
    /// marked stale (removed at end-of-RIB or after `stale`). Returns the id
    /// and how many entries are stale.
    pub fn connect(&mut self, name: &str, stale: Duration, now: Instant) -> (ClientId, usize) {
        if let Some(id) = self.clients.iter().position(|c| c.name == name) {
            let c = &mut self.clients[id];
            c.connected = true;
            c.deadline = Some(now + stale);
            let mut n = 0;
            c.vteps.values_mut().for_each(|h| h.stale = true);
            c.macs.values_mut().for_each(|h| h.stale = true);
            c.macips.values_mut().for_each(|h| h.stale = true);
            n += c.vteps.len() + c.macs.len() + c.macips.len();
            if n == 0 {
                c.deadline = None;
            }
            return (id as ClientId, n);
        }
        self.clients.push(Client {
            name: name.to_string(),
            connected: true,
            ..Client::default()
        });
        ((self.clients.len() - 1) as ClientId, 0)
    }

    /// The client's stream closed: its entries stay until `stale` passes.
    pub fn disconnect(&mut self, id: ClientId, stale: Duration, now: Instant) {
        if let Some(c) = self.clients.get_mut(id as usize) {
            c.connected = false;
            c.deadline = Some(now + stale);
        }
    }

    pub fn client_name(&self, id: ClientId) -> &str {
        self.clients
            .get(id as usize)
            .map(|c| c.name.as_str())
            .unwrap_or("")
    }

    fn hold(&mut self, key: Key, id: ClientId) {
        let v = self.holders.entry(key).or_default();
        if !v.contains(&id) {
            v.push(id);
            v.sort_unstable();
        }
    }

    fn release(&mut self, key: Key, id: ClientId) {
        if let Some(v) = self.holders.get_mut(&key) {
            v.retain(|&c| c != id);
            if v.is_empty() {
                self.holders.remove(&key);
            }
        }
    }

    /// Applies a batch of client `id`; returns the keys it touched.
    pub fn apply(&mut self, id: ClientId, b: Batch) -> Vec<Key> {
        let mut touched = Vec::new();
        let Some(c) = self.clients.get_mut(id as usize) else {
            return touched;
        };
        let mut held = Vec::new();
        let mut released = Vec::new();
        for (vni, ip) in b.vtep_add {
            c.vteps.insert(
                (vni, ip),
                Held {
                    value: (),
                    stale: false,
                },
            );
            held.push(Key::Flood(vni, ip));
        }
        for (vni, ip) in b.vtep_del {
            if c.vteps.remove(&(vni, ip)).is_some() {
                released.push(Key::Flood(vni, ip));
            }
        }
        for (vni, mac, e) in b.mac_add {
            c.macs.insert(
                (vni, mac),
                Held {
                    value: e,
                    stale: false,
                },
            );
            held.push(Key::Mac(vni, mac));
        }
        for (vni, mac) in b.mac_del {
            if c.macs.remove(&(vni, mac)).is_some() {
                released.push(Key::Mac(vni, mac));
            }
        }
        for (vni, ip, e) in b.macip_add {
            c.macips.insert(
                (vni, ip),
                Held {
                    value: e,
                    stale: false,
                },
            );
            held.push(Key::MacIp(vni, ip));
        }
        for (vni, ip) in b.macip_del {
            if c.macips.remove(&(vni, ip)).is_some() {
                released.push(Key::MacIp(vni, ip));
            }
        }
        for k in &held {
            self.hold(*k, id);
        }
        // A key added then deleted in the same batch is released.
        for k in &released {
            if !self.holds(id, k) {
                self.release(*k, id);
            }
        }
        touched.extend(held);
        touched.extend(released);
        if b.end_of_rib {
            touched.extend(self.sweep(id, true));
        }
        touched
    }

    fn holds(&self, id: ClientId, k: &Key) -> bool {
        let Some(c) = self.clients.get(id as usize) else {
            return false;
        };
        match *k {
            Key::Flood(v, ip) => c.vteps.contains_key(&(v, ip)),
            Key::Mac(v, m) => c.macs.contains_key(&(v, m)),
            Key::MacIp(v, ip) => c.macips.contains_key(&(v, ip)),
        }
    }

    /// Removes client `id`'s stale entries (all of them when it is gone).
    fn sweep(&mut self, id: ClientId, only_stale: bool) -> Vec<Key> {
        let Some(c) = self.clients.get_mut(id as usize) else {
            return Vec::new();
        };
        let mut gone = Vec::new();
        let keep = |stale: bool| only_stale && !stale;
        c.vteps.retain(|&(v, ip), h| {
            keep(h.stale) || {
                gone.push(Key::Flood(v, ip));
                false
            }
        });
        c.macs.retain(|&(v, m), h| {
            keep(h.stale) || {
                gone.push(Key::Mac(v, m));
                false
            }
        });
        c.macips.retain(|&(v, ip), h| {
            keep(h.stale) || {
                gone.push(Key::MacIp(v, ip));
                false
            }
        });
        c.deadline = None;
        for k in &gone {
            self.release(*k, id);
        }
        gone
    }

    /// Drops what has been stale for too long; returns the keys touched.
    pub fn expire(&mut self, now: Instant) -> Vec<Key> {
        let due: Vec<(ClientId, bool)> = self
            .clients
            .iter()
            .enumerate()
            .filter(|(_, c)| c.deadline.is_some_and(|d| d <= now))
            .map(|(i, c)| (i as ClientId, c.connected))
            .collect();
        let mut touched = Vec::new();
        for (id, connected) in due {
            touched.extend(self.sweep(id, connected));
        }
        touched
    }

    /// Whether some client wants a flood entry toward `vtep` in `vni`, and who.
    pub fn vtep(&self, vni: u32, vtep: IpAddr) -> Option<&[ClientId]> {
        self.holders
            .get(&Key::Flood(vni, vtep))
            .map(|v| v.as_slice())
    }

    /// The winning remote MAC and the client it comes from.
    pub fn mac(&self, vni: u32, mac: Mac) -> Option<(ClientId, Held<MacEntry>)> {
        let ids = self.holders.get(&Key::Mac(vni, mac))?;
        let mut best: Option<(ClientId, Held<MacEntry>)> = None;
        for &id in ids {
            let Some(h) = self.clients[id as usize].macs.get(&(vni, mac)) else {
                continue;
            };
            if best.is_none_or(|(_, b)| h.value.seq > b.value.seq) {
                best = Some((id, *h));
            }
        }
        best
    }

    /// The winning remote MAC+IP and the client it comes from.
    pub fn macip(&self, vni: u32, ip: IpAddr) -> Option<(ClientId, Held<MacIpEntry>)> {
        let ids = self.holders.get(&Key::MacIp(vni, ip))?;
        ids.iter().find_map(|&id| {
            self.clients[id as usize]
                .macips
                .get(&(vni, ip))
                .map(|h| (id, *h))
        })
    }

    /// Every key some client holds, in order (for a VNI, or all).
    pub fn keys(&self, vni: Option<u32>) -> Vec<Key> {
        let mut v: Vec<Key> = self
            .holders
            .keys()
            .filter(|k| vni.is_none_or(|n| k.vni() == n))
            .copied()
            .collect();
        v.sort_unstable();
        v
    }

    /// The VTEP a key points at, as the winning entry says.
    pub fn vtep_of(&self, k: &Key) -> Option<IpAddr> {
        match *k {
            Key::Flood(_, ip) => self.vtep(k.vni(), ip).map(|_| ip),
            Key::Mac(v, m) => self.mac(v, m).map(|(_, h)| h.value.vtep),
            Key::MacIp(v, ip) => self.macip(v, ip).map(|(_, h)| h.value.vtep),
        }
    }

    /// Every VNI some client names, with its number of VTEPs, MACs, MAC+IPs.
    pub fn vnis(&self) -> BTreeMap<u32, (usize, usize, usize)> {
        let mut m: BTreeMap<u32, (usize, usize, usize)> = BTreeMap::new();
        for k in self.holders.keys() {
            let e = m.entry(k.vni()).or_default();
            match k {
                Key::Flood(..) => e.0 += 1,
                Key::Mac(..) => e.1 += 1,
                Key::MacIp(..) => e.2 += 1,
            }
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M1: Mac = [2, 0, 0, 0, 0, 1];

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn mac(vtep: &str, seq: u32) -> MacEntry {
        MacEntry {
            vtep: ip(vtep),
            seq,
            sticky: false,
        }
    }

    #[test]
    fn add_delete_and_merge() {
        let now = Instant::now();
        let mut t = Table::default();
        let (a, _) = t.connect("bgp", Duration::from_secs(60), now);
        let (b, _) = t.connect("orch", Duration::from_secs(60), now);
        let keys = t.apply(
            a,
            Batch {
                vtep_add: vec![(100, ip("192.0.2.2"))],
                mac_add: vec![(100, M1, mac("192.0.2.2", 1))],
                ..Batch::default()
            },
        );
        assert_eq!(keys.len(), 2);
        assert_eq!(t.mac(100, M1).unwrap().1.value.vtep, ip("192.0.2.2"));
        // A higher sequence number from another client wins; a lower does not.
        t.apply(
            b,
            Batch {
                mac_add: vec![(100, M1, mac("192.0.2.3", 2))],
                ..Batch::default()
            },
        );
        assert_eq!(t.mac(100, M1).unwrap().0, b);
        t.apply(
            b,
            Batch {
                mac_del: vec![(100, M1)],
                ..Batch::default()
            },
        );
        assert_eq!(t.mac(100, M1).unwrap().0, a);
        t.apply(
            a,
            Batch {
                mac_del: vec![(100, M1)],
                vtep_del: vec![(100, ip("192.0.2.2"))],
                ..Batch::default()
            },
        );
        assert!(t.mac(100, M1).is_none());
        assert!(t.keys(None).is_empty());
    }

    #[test]
    fn stale_entries_go_at_end_of_rib_or_deadline() {
        let now = Instant::now();
        let stale = Duration::from_secs(10);
        let mut t = Table::default();
        let (a, _) = t.connect("orch", stale, now);
        t.apply(
            a,
            Batch {
                vtep_add: vec![(100, ip("192.0.2.2")), (100, ip("192.0.2.3"))],
                ..Batch::default()
            },
        );
        t.disconnect(a, stale, now);
        assert!(t.expire(now + Duration::from_secs(5)).is_empty());
        let (a2, n) = t.connect("orch", stale, now + Duration::from_secs(6));
        assert_eq!((a2, n), (a, 2));
        let touched = t.apply(
            a,
            Batch {
                vtep_add: vec![(100, ip("192.0.2.2"))],
                end_of_rib: true,
                ..Batch::default()
            },
        );
        assert!(touched.contains(&Key::Flood(100, ip("192.0.2.3"))));
        assert!(t.vtep(100, ip("192.0.2.2")).is_some());
        assert!(t.vtep(100, ip("192.0.2.3")).is_none());
        // Gone for good: everything expires at the deadline.
        t.disconnect(a, stale, now + Duration::from_secs(7));
        assert_eq!(t.expire(now + Duration::from_secs(18)).len(), 1);
        assert!(t.keys(None).is_empty());
    }
}

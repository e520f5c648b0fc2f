//! Local EVPN state: the VXLAN devices (one VNI each), the bridges they are
//! enslaved to, the MACs learned on those bridges and the neighbor entries
//! (ARP/ND) on the bridges, which are the VNIs' layer-3 interfaces. This is
//! what bgpd originates type 3 (per VNI) and type 2 (per MAC, per MAC+IP)
//! routes from (RFC 7432 sections 7.2 and 7.3, RFC 8365 section 5).
//!
//! Owns the filtering of what is local: a bridge FDB entry on a port other
//! than a VXLAN device, neither externally learned nor a port's own
//! (permanent) address; a resolved neighbor entry not externally learned
//! and not zebrad's. Every change comes out as an [`pb::EvpnLocalUpdate`]
//! delta for the subscribers. Never: writes to the kernel.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use proto::zebra as pb;

use super::discover::{FdbEntry, NeighEntry};
use super::{Mac, NEIGH_PROTOCOL};
use crate::iface::Link;

/// A VXLAN device as subscribers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub vni: u32,
    pub ifname: String,
    pub ifindex: u32,
    pub local: Option<IpAddr>,
    pub port: u16,
    /// The bridge (also the VNI's layer-3 interface); 0 when not enslaved.
    pub bridge: u32,
    pub bridge_name: String,
    pub up: bool,
    pub learning: bool,
}

impl Device {
    pub fn to_wire(&self) -> pb::VxlanDevice {
        pb::VxlanDevice {
            vni: self.vni,
            ifname: self.ifname.clone(),
            ifindex: self.ifindex,
            local_vtep: self.local.map(proto::addr_to_bytes).unwrap_or_default(),
            udp_port: u32::from(self.port),
            bridge: self.bridge_name.clone(),
            bridge_ifindex: self.bridge,
            up: self.up,
            learning: self.learning,
        }
    }
}

/// A MAC learned on a bridge port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortMac {
    pub port: u32,
    pub sticky: bool,
}

/// The local state.
#[derive(Debug, Default)]
pub struct Local {
    devices: BTreeMap<u32, Device>,
    /// VXLAN device ifindex -> VNI.
    by_ifindex: HashMap<u32, u32>,
    /// Local MACs per bridge, whether or not a VXLAN device is on it yet.
    macs: HashMap<u32, BTreeMap<Mac, PortMac>>,
    /// Local neighbors per interface.
    neighs: HashMap<u32, BTreeMap<IpAddr, Mac>>,
    /// Port names, for show.
    names: HashMap<u32, String>,
}

fn mac_wire(vni: u32, mac: Mac, m: Option<(&PortMac, &str)>) -> pb::LocalMac {
    pb::LocalMac {
        vni,
        mac: mac.to_vec(),
        ifname: m.map(|(_, n)| n.to_string()).unwrap_or_default(),
        sticky: m.is_some_and(|(p, _)| p.sticky),
    }
}

fn neigh_wire(vni: u32, ip: IpAddr, mac: Option<Mac>) -> pb::LocalNeighbor {
    pb::LocalNeighbor {
        vni,
        ip: proto::addr_to_bytes(ip),
        mac: mac.map(|m| m.to_vec()).unwrap_or_default(),
    }
}

impl Local {
    pub fn device(&self, vni: u32) -> Option<&Device> {
        self.devices.get(&vni)
    }

    pub fn devices(&self) -> impl Iterator<Item = &Device> {
        self.devices.values()
    }

    pub fn vni_of_device(&self, ifindex: u32) -> Option<u32> {
        self.by_ifindex.get(&ifindex).copied()
    }

    pub fn vni_of_bridge(&self, bridge: u32) -> Option<u32> {
        if bridge == 0 {
            return None;
        }
        self.devices
            .values()
            .find(|d| d.bridge == bridge)
            .map(|d| d.vni)
    }

    /// The local MACs of a VNI, with the port name.
    pub fn macs(&self, vni: u32) -> Vec<(Mac, PortMac, &str)> {
        let Some(d) = self.devices.get(&vni).filter(|d| d.bridge != 0) else {
            return Vec::new();
        };
        self.macs
            .get(&d.bridge)
            .map(|m| {
                m.iter()
                    .map(|(mac, p)| {
                        (
                            *mac,
                            *p,
                            self.names.get(&p.port).map(|s| s.as_str()).unwrap_or(""),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The local neighbors of a VNI.
    pub fn neighbors(&self, vni: u32) -> Vec<(IpAddr, Mac)> {
        let Some(d) = self.devices.get(&vni).filter(|d| d.bridge != 0) else {
            return Vec::new();
        };
        self.neighs
            .get(&d.bridge)
            .map(|m| m.iter().map(|(i, m)| (*i, *m)).collect())
            .unwrap_or_default()
    }

    /// The whole state of the given VNIs (all when empty), as a dump.
    pub fn dump(&self, vnis: &[u32]) -> pb::EvpnLocalUpdate {
        let mut u = pb::EvpnLocalUpdate::default();
        for d in self.devices.values() {
            if !vnis.is_empty() && !vnis.contains(&d.vni) {
                continue;
            }
            self.add_vni(d, &mut u);
        }
        u
    }

    fn add_vni(&self, d: &Device, u: &mut pb::EvpnLocalUpdate) {
        u.vni_update.push(d.to_wire());
        for (mac, p, name) in self.macs(d.vni) {
            u.mac_add.push(mac_wire(d.vni, mac, Some((&p, name))));
        }
        for (ip, mac) in self.neighbors(d.vni) {
            u.neigh_add.push(neigh_wire(d.vni, ip, Some(mac)));
        }
    }

    /// Recomputes the devices from every link; returns the delta and the
    /// VNIs whose device appeared, went or changed.
    pub fn links(&mut self, links: &HashMap<u32, Link>) -> (pb::EvpnLocalUpdate, Vec<u32>) {
        self.names = links.iter().map(|(i, l)| (*i, l.name.clone())).collect();
        let mut now = BTreeMap::new();
        for l in links.values() {
            let Some(vx) = &l.vxlan else { continue };
            let bridge = links.get(&l.master).filter(|b| b.kind == "bridge");
            let d = Device {
                vni: vx.vni,
                ifname: l.name.clone(),
                ifindex: l.index,
                local: vx.local,
                port: vx.port,
                bridge: bridge.map(|b| b.index).unwrap_or(0),
                bridge_name: bridge.map(|b| b.name.clone()).unwrap_or_default(),
                up: l.admin_up && l.oper_up && bridge.is_some_and(|b| b.admin_up && b.oper_up),
                learning: vx.learning,
            };
            now.insert(vx.vni, d);
        }
        let mut u = pb::EvpnLocalUpdate::default();
        let mut changed = Vec::new();
        for (vni, old) in &self.devices {
            match now.get(vni) {
                None => {
                    u.vni_removed.push(*vni);
                    changed.push(*vni);
                }
                Some(n) if n.bridge != old.bridge || n.ifindex != old.ifindex => {
                    u.vni_removed.push(*vni);
                    changed.push(*vni);
                }
                _ => {}
            }
        }
        let old = std::mem::replace(&mut self.devices, now);
        self.by_ifindex = self.devices.values().map(|d| (d.ifindex, d.vni)).collect();
        for d in self.devices.values() {
            match old.get(&d.vni) {
                Some(o) if o.bridge == d.bridge && o.ifindex == d.ifindex => {
                    if o != d {
                        u.vni_update.push(d.to_wire());
                        changed.push(d.vni);
                    }
                }
                _ => {
                    self.add_vni(d, &mut u);
                    if !changed.contains(&d.vni) {
                        changed.push(d.vni);
                    }
                }
            }
        }
        (u, changed)
    }

    /// A bridge FDB change; the delta when it is a local MAC of a VNI.
    pub fn fdb(&mut self, e: &FdbEntry, removed: bool) -> Option<pb::EvpnLocalUpdate> {
        if e.self_ || e.master == 0 {
            return None;
        }
        // A MAC whose bridge entry moved to the VXLAN port (a remote MAC
        // was programmed over it) is no longer local: it must be reported
        // gone, or its return to a local port would look like no change.
        let on_vxlan = self.by_ifindex.contains_key(&e.ifindex);
        if on_vxlan && removed {
            return None;
        }
        let macs = self.macs.entry(e.master).or_default();
        let local = !on_vxlan && !removed && !e.ext_learned && !e.permanent;
        let changed = if local {
            let p = PortMac {
                port: e.ifindex,
                sticky: e.static_,
            };
            macs.insert(e.mac, p) != Some(p)
        } else {
            // Only the port that holds it can take it away.
            match macs.get(&e.mac) {
                Some(p) if p.port == e.ifindex || !removed => macs.remove(&e.mac).is_some(),
                _ => false,
            }
        };
        let vni = self.vni_of_bridge(e.master)?;
        if !changed {
            return None;
        }
        let mut u = pb::EvpnLocalUpdate::default();
        if local {
            let p = self
                .macs
                .get(&e.master)
                .and_then(|m| m.get(&e.mac).copied());
            let name = self.names.get(&e.ifindex).map(|s| s.as_str()).unwrap_or("");
            u.mac_add
                .push(mac_wire(vni, e.mac, p.as_ref().map(|p| (p, name))));
        } else {
            u.mac_del.push(mac_wire(vni, e.mac, None));
        }
        Some(u)
    }

    /// A neighbor change; the delta when it is a local neighbor of a VNI.
    pub fn neigh(&mut self, e: &NeighEntry, removed: bool) -> Option<pb::EvpnLocalUpdate> {
        let local = !removed && e.valid && !e.ext_learned && e.protocol != NEIGH_PROTOCOL;
        let table = self.neighs.entry(e.ifindex).or_default();
        let changed = match (local, e.mac) {
            (true, Some(mac)) => table.insert(e.ip, mac) != Some(mac),
            _ => table.remove(&e.ip).is_some(),
        };
        let vni = self.vni_of_bridge(e.ifindex)?;
        if !changed {
            return None;
        }
        let mut u = pb::EvpnLocalUpdate::default();
        if local {
            u.neigh_add.push(neigh_wire(vni, e.ip, e.mac));
        } else {
            u.neigh_del.push(neigh_wire(vni, e.ip, None));
        }
        Some(u)
    }

    /// After lost notifications: the MACs and neighbors re-read from dumps;
    /// returns what changed for the subscribers.
    pub fn resync(&mut self, fdb: &[FdbEntry], neighs: &[NeighEntry]) -> pb::EvpnLocalUpdate {
        type Snapshot = BTreeMap<u32, (BTreeMap<Mac, PortMac>, BTreeMap<IpAddr, Mac>)>;
        let snapshot = |l: &Local| -> Snapshot {
            l.devices
                .keys()
                .map(|&v| {
                    let macs = l.macs(v).into_iter().map(|(m, p, _)| (m, p)).collect();
                    (v, (macs, l.neighbors(v).into_iter().collect()))
                })
                .collect()
        };
        let before = snapshot(self);
        self.macs.clear();
        self.neighs.clear();
        for e in fdb {
            self.fdb(e, false);
        }
        for n in neighs {
            self.neigh(n, false);
        }
        let after = snapshot(self);
        let mut u = pb::EvpnLocalUpdate::default();
        let empty = (BTreeMap::new(), BTreeMap::new());
        for (vni, (macs, nbrs)) in &after {
            let (old_macs, old_nbrs) = before.get(vni).unwrap_or(&empty);
            for (m, p) in macs {
                if old_macs.get(m) != Some(p) {
                    let name = self.names.get(&p.port).map(|s| s.as_str()).unwrap_or("");
                    u.mac_add.push(mac_wire(*vni, *m, Some((p, name))));
                }
            }
            for m in old_macs.keys().filter(|m| !macs.contains_key(*m)) {
                u.mac_del.push(mac_wire(*vni, *m, None));
            }
            for (ip, m) in nbrs {
                if old_nbrs.get(ip) != Some(m) {
                    u.neigh_add.push(neigh_wire(*vni, *ip, Some(*m)));
                }
            }
            for ip in old_nbrs.keys().filter(|i| !nbrs.contains_key(*i)) {
                u.neigh_del.push(neigh_wire(*vni, *ip, None));
            }
        }
        u
    }

    /// A link is gone: its MACs and neighbors with it.
    pub fn link_removed(&mut self, ifindex: u32) {
        self.macs.remove(&ifindex);
        self.neighs.remove(&ifindex);
        for m in self.macs.values_mut() {
            m.retain(|_, p| p.port != ifindex);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vtep::discover::VxlanInfo;

    fn link(index: u32, name: &str, kind: &str, master: u32, vni: Option<u32>) -> Link {
        Link {
            index,
            name: name.into(),
            admin_up: true,
            oper_up: true,
            mtu: 1500,
            mac: vec![],
            kind: kind.into(),
            master,
            vxlan: vni.map(|vni| VxlanInfo {
                vni,
                local: Some("192.0.2.1".parse().unwrap()),
                port: 4789,
                learning: false,
            }),
        }
    }

    fn fdb(port: u32, master: u32, mac: Mac) -> FdbEntry {
        FdbEntry {
            ifindex: port,
            mac,
            master,
            dst: None,
            self_: false,
            ext_learned: false,
            permanent: false,
            static_: false,
        }
    }

    fn is_empty_update(u: &pb::EvpnLocalUpdate) -> bool {
        u.mac_add.is_empty()
            && u.mac_del.is_empty()
            && u.neigh_add.is_empty()
            && u.neigh_del.is_empty()
    }

    #[test]
    fn devices_macs_and_neighbors() {
        let mut l = Local::default();
        let mut links = HashMap::new();
        links.insert(2, link(2, "br100", "bridge", 0, None));
        links.insert(3, link(3, "vx100", "vxlan", 2, Some(100)));
        links.insert(4, link(4, "veth-h1", "veth", 2, None));
        // A MAC seen before the VNI exists is remembered, shown with it.
        assert!(l.fdb(&fdb(4, 2, [2, 0, 0, 0, 0, 1]), false).is_none());
        let (u, changed) = l.links(&links);
        assert_eq!(changed, vec![100]);
        assert_eq!(u.vni_update[0].bridge, "br100");
        assert!(u.vni_update[0].up);
        assert_eq!(u.mac_add.len(), 1);
        // Not local: on the VXLAN port, externally learned, permanent.
        assert!(l.fdb(&fdb(3, 2, [2, 0, 0, 0, 0, 2]), false).is_none());
        let mut e = fdb(4, 2, [2, 0, 0, 0, 0, 3]);
        e.permanent = true;
        assert!(l.fdb(&e, false).is_none());
        e.permanent = false;
        e.ext_learned = true;
        assert!(l.fdb(&e, false).is_none());
        // A remote MAC programmed over a local one (the entry moves to the
        // VXLAN port): no longer local; when the host talks again on its
        // port, it is local again.
        let mut over = fdb(3, 2, [2, 0, 0, 0, 0, 1]);
        over.ext_learned = true;
        assert_eq!(l.fdb(&over, false).unwrap().mac_del.len(), 1);
        assert!(l.fdb(&over, true).is_none());
        assert_eq!(
            l.fdb(&fdb(4, 2, [2, 0, 0, 0, 0, 1]), false)
                .unwrap()
                .mac_add
                .len(),
            1
        );
        // Deleted.
        let u = l.fdb(&fdb(4, 2, [2, 0, 0, 0, 0, 1]), true).unwrap();
        assert_eq!(u.mac_del.len(), 1);
        // Neighbors on the bridge.
        let n = NeighEntry {
            ifindex: 2,
            ip: "198.51.100.1".parse().unwrap(),
            mac: Some([2, 0, 0, 0, 0, 1]),
            valid: true,
            ext_learned: false,
            protocol: 0,
        };
        assert_eq!(l.neigh(&n, false).unwrap().neigh_add.len(), 1);
        assert!(l.neigh(&n, false).is_none());
        let ours = NeighEntry {
            protocol: NEIGH_PROTOCOL,
            ..n.clone()
        };
        assert_eq!(l.neigh(&ours, false).unwrap().neigh_del.len(), 1);
        // Lost notifications: a dump says h1's MAC is back, the neighbor gone.
        let u = l.resync(&[fdb(4, 2, [2, 0, 0, 0, 0, 1])], &[]);
        assert_eq!((u.mac_add.len(), u.mac_del.len()), (1, 0));
        assert!(u.neigh_add.is_empty() && u.neigh_del.is_empty());
        assert!(is_empty_update(
            &l.resync(&[fdb(4, 2, [2, 0, 0, 0, 0, 1])], &[])
        ));
        // The device goes.
        links.remove(&3);
        let (u, _) = l.links(&links);
        assert_eq!(u.vni_removed, vec![100]);
    }
}

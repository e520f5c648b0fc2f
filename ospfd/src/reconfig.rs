//! A new configuration applied by difference (DESIGN: a reload changes
//! only what differs): interfaces added to OSPF come up at once, removed
//! ones go down (their neighbors killed, §10.3 KillNbr, and the router-LSA
//! re-originated without them), changed ones are restarted alone; areas are
//! added, and removed with their link-state database when no interface is
//! left in them (§3: an area is the set of its interfaces); an area whose
//! settings changed (stub, default cost, ranges) restarts its interfaces,
//! as the Hello options differ (§10.5). Every other interface and adjacency
//! is untouched.
//!
//! Pure, like the rest of [`Instance`]: the daemon hands in what zebrad
//! last said of each interface ([`Link`]), since an interface new to OSPF
//! was already known to it, and performs the returned actions.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use ipnetwork::Ipv4Network;

use crate::area::{Area, AreaConfig};
use crate::instance::{Instance, Millis, Scope};
use crate::interface::{IfaceParams, Interface};

/// What zebrad last reported of one interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    pub ifindex: u32,
    pub up: bool,
    pub mtu: u32,
    pub addr: Option<Ipv4Network>,
    pub loopback: bool,
}

impl Instance {
    /// Makes the areas and interfaces those of the new configuration,
    /// touching only what differs. `links` is zebrad's view by interface
    /// name. Returns what changed, one line each, for the operator.
    pub fn reconfigure(
        &mut self,
        areas: &[AreaConfig],
        ifaces: &[IfaceParams],
        links: &BTreeMap<String, Link>,
        now: Millis,
    ) -> Vec<String> {
        let mut changes = Vec::new();
        let want_area = |id: Ipv4Addr| {
            areas
                .iter()
                .find(|a| a.id == id)
                .cloned()
                .unwrap_or_else(|| AreaConfig::normal(id))
        };
        // Areas whose settings changed restart all their interfaces.
        let reset_areas: BTreeSet<Ipv4Addr> = self
            .areas
            .values()
            .filter(|a| ifaces.iter().any(|p| p.area == a.id) && want_area(a.id) != a.cfg)
            .map(|a| a.id)
            .collect();
        // Interfaces that go, or restart with new parameters.
        let gone: Vec<String> = self
            .ifaces
            .values()
            .filter(|i| reset_areas.contains(&i.params.area) || !ifaces.contains(&i.params))
            .map(|i| i.params.name.clone())
            .collect();
        for name in &gone {
            self.interface_down(name, now);
            self.ifaces.remove(name);
            if !ifaces.iter().any(|p| p.name == *name) {
                changes.push(format!("interface {name} removed from OSPF"));
            }
        }
        // Areas: settings replaced (their LSDB starts again), emptied ones
        // removed, new ones added below with their first interface.
        for id in &reset_areas {
            self.areas.insert(*id, Area::new(want_area(*id)));
            changes.push(format!("area {id} settings changed: its interfaces reset"));
        }
        let empty: Vec<Ipv4Addr> = self
            .areas
            .keys()
            .copied()
            .filter(|id| {
                !ifaces.iter().any(|p| p.area == *id) && !areas.iter().any(|a| a.id == *id)
            })
            .collect();
        for id in empty {
            self.areas.remove(&id);
            let scope = Scope::Area(id);
            self.originated_at.retain(|(s, _), _| *s != scope);
            self.force_originate.retain(|(s, _)| *s != scope);
            self.flushing.retain(|(s, _)| *s != scope);
            changes.push(format!("area {id} removed"));
        }
        for a in areas {
            match self.areas.entry(a.id) {
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(Area::new(a.clone()));
                    changes.push(format!("area {} added", a.id));
                }
                // An area without interfaces: its settings simply change.
                std::collections::btree_map::Entry::Occupied(mut o) => {
                    if o.get().cfg != *a {
                        o.get_mut().cfg = a.clone();
                    }
                }
            }
        }
        // New and restarted interfaces, brought up from zebrad's view.
        for p in ifaces {
            if self.ifaces.contains_key(&p.name) {
                continue;
            }
            self.areas
                .entry(p.area)
                .or_insert_with(|| Area::new(want_area(p.area)));
            self.ifaces
                .insert(p.name.clone(), Interface::new(p.clone()));
            changes.push(if gone.contains(&p.name) {
                format!("interface {} reset with new settings", p.name)
            } else {
                format!("interface {} added to area {}", p.name, p.area)
            });
            if let Some(l) = links.get(&p.name) {
                self.interface_update(&p.name, l.ifindex, l.up, l.mtu, l.addr, l.loopback, now);
            }
        }
        if !changes.is_empty() {
            self.lsas_changed(now);
            self.schedule_spf(now);
        }
        changes
    }
}

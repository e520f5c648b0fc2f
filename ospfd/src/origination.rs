//! What this router originates (RFC 2328 §12.4): router-LSAs per area
//! (§12.4.1: point-to-point, transit and stub links), network-LSAs while DR
//! (§12.4.2), summary-LSAs as ABR (§12.4.3, built in `area`) and
//! AS-external-LSAs for redistributed routes (§12.4.4).
//!
//! Works by reconciliation: [`Instance::reconcile_self`] computes the set of
//! LSAs this router should have in the databases now and compares it with
//! what is there. A changed or missing one is originated with the next
//! sequence number (no sooner than MinLSInterval after the previous
//! instance), one no longer wanted is flushed by premature aging (§14.1),
//! and a forced one (refresh at LSRefreshTime, or a newer instance of ours
//! seen on the network, §13.4) is re-originated even when unchanged. At
//! MaxSequenceNumber the LSA is flushed first and re-originated from
//! InitialSequenceNumber once gone (§12.1.6). This module never sends by
//! itself: new instances go through `flooding`.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use tracing::{debug, warn};

use crate::instance::{secs, Instance, Millis, Scope};
use crate::interface::{IfaceType, IsmState};
use crate::lsa::{
    AsExternalLsa, Lsa, LsaBody, LsaHeader, LsaKey, LsaType, NetworkLsa, RouterFlags, RouterLink,
    RouterLinkType, RouterLsa, MAX_AGE, MIN_LS_INTERVAL,
};
use crate::neighbor::NsmState;
use crate::options::Options;

/// The LSAs this router wants in the databases: contents by key.
pub(crate) type Desired = BTreeMap<(Scope, LsaKey), (Options, LsaBody)>;

impl Instance {
    /// The router-LSA of `area` (§12.4.1).
    pub fn router_lsa_body(&self, area: Ipv4Addr) -> RouterLsa {
        let mut flags = RouterFlags::empty();
        if self.is_abr() {
            flags = flags | RouterFlags::B;
        }
        let stub = self.areas.get(&area).is_some_and(|a| a.cfg.stub);
        if self.asbr && !stub {
            flags = flags | RouterFlags::E;
        }
        let mut links = Vec::new();
        for i in self.ifaces.values() {
            if i.params.area != area || !i.is_up() {
                continue;
            }
            let Some(addr) = i.addr else { continue };
            let cost = i.params.cost;
            let stub_link = RouterLink {
                link_id: addr.network(),
                link_data: addr.mask(),
                link_type: RouterLinkType::Stub,
                metric: cost,
            };
            if i.state == IsmState::Loopback {
                links.push(RouterLink {
                    link_id: addr.ip(),
                    link_data: Ipv4Addr::BROADCAST,
                    link_type: RouterLinkType::Stub,
                    metric: 0,
                });
                continue;
            }
            if i.params.passive {
                links.push(stub_link);
                continue;
            }
            match i.params.kind {
                IfaceType::PointToPoint => {
                    for n in i.neighbors.values().filter(|n| n.state == NsmState::Full) {
                        links.push(RouterLink {
                            link_id: n.router_id,
                            link_data: addr.ip(),
                            link_type: RouterLinkType::PointToPoint,
                            metric: cost,
                        });
                    }
                    links.push(stub_link);
                }
                IfaceType::Broadcast => {
                    let full_with_dr = match i.state {
                        IsmState::DR => i.neighbors.values().any(|n| n.state == NsmState::Full),
                        IsmState::Waiting => false,
                        _ => i
                            .neighbor_by_addr(i.dr)
                            .is_some_and(|n| n.state == NsmState::Full && !i.dr.is_unspecified()),
                    };
                    if full_with_dr {
                        links.push(RouterLink {
                            link_id: i.dr,
                            link_data: addr.ip(),
                            link_type: RouterLinkType::Transit,
                            metric: cost,
                        });
                    } else {
                        links.push(stub_link);
                    }
                }
            }
        }
        RouterLsa { flags, links }
    }

    /// Every LSA this router should originate now.
    pub(crate) fn desired_lsas(&self) -> Desired {
        let mut out = Desired::new();
        let rid = self.router_id;
        for area in self.areas.keys() {
            let up = self
                .ifaces
                .values()
                .any(|i| i.params.area == *area && i.is_up());
            if !up {
                continue;
            }
            let opts = self.area_options(Some(*area));
            out.insert(
                (Scope::Area(*area), LsaKey::new(LsaType::ROUTER, rid, rid)),
                (opts, LsaBody::Router(self.router_lsa_body(*area))),
            );
            // §12.4.2: network-LSAs for the networks we are DR of.
            for i in self.ifaces.values().filter(|i| i.params.area == *area) {
                if i.state != IsmState::DR || i.params.kind != IfaceType::Broadcast {
                    continue;
                }
                let Some(addr) = i.addr else { continue };
                let mut attached: Vec<Ipv4Addr> = i
                    .neighbors
                    .values()
                    .filter(|n| n.state == NsmState::Full)
                    .map(|n| n.router_id)
                    .collect();
                if attached.is_empty() {
                    continue;
                }
                attached.insert(0, rid);
                out.insert(
                    (
                        Scope::Area(*area),
                        LsaKey::new(LsaType::NETWORK, addr.ip(), rid),
                    ),
                    (
                        opts,
                        LsaBody::Network(NetworkLsa {
                            mask: addr.mask(),
                            attached_routers: attached,
                        }),
                    ),
                );
            }
            self.desired_summaries(*area, &mut out);
        }
        // §12.4.4: AS-external-LSAs, when some area carries them.
        let any_transit = self.areas.values().any(|a| {
            !a.cfg.stub
                && self
                    .ifaces
                    .values()
                    .any(|i| i.params.area == a.id && i.is_up())
        });
        if any_transit {
            for (prefix, r) in &self.redistributed {
                out.insert(
                    (
                        Scope::As,
                        LsaKey::new(LsaType::AS_EXTERNAL, prefix.network(), rid),
                    ),
                    (
                        Options::E,
                        LsaBody::AsExternal(AsExternalLsa {
                            mask: prefix.mask(),
                            metric_type: r.metric_type,
                            metric: r.metric.min(crate::lsa::LS_INFINITY - 1),
                            forwarding_address: Ipv4Addr::UNSPECIFIED,
                            route_tag: 0,
                        }),
                    ),
                );
            }
        }
        out
    }

    /// Brings the self-originated LSAs in the databases in line with
    /// [`Instance::desired_lsas`].
    pub(crate) fn reconcile_self(&mut self, now: Millis) {
        let desired = self.desired_lsas();
        let s = secs(now);
        let min_interval = u64::from(MIN_LS_INTERVAL) * 1000;
        let mut retry: Option<Millis> = None;
        for ((scope, key), (opts, body)) in &desired {
            let cur = self.lsdb(*scope).and_then(|d| d.get(key));
            let same = cur.is_some_and(|e| {
                !e.is_max_age(s) && e.lsa().header().options == *opts && e.lsa().body() == body
            });
            let forced = self.force_originate.contains(&(*scope, *key));
            if same && !forced {
                continue;
            }
            if let Some(t) = self.originated_at.get(&(*scope, *key)) {
                if now < t + min_interval {
                    let at = t + min_interval;
                    retry = Some(retry.map_or(at, |r: Millis| r.min(at)));
                    continue;
                }
            }
            let Some(seq) = self.lsdb(*scope).and_then(|d| d.next_sequence(key)) else {
                // MaxSequenceNumber: flush, then start over once it is gone.
                if !cur.is_some_and(|e| e.is_max_age(s)) {
                    self.premature_age(*scope, *key, now);
                }
                retry = Some(retry.map_or(now + 1000, |r: Millis| r.min(now + 1000)));
                continue;
            };
            let header = LsaHeader::new(0, *opts, key.lsa_type, key.lsid, key.adv_rtr, seq);
            let lsa = match Lsa::new(header, body.clone()) {
                Ok(l) => l,
                Err(e) => {
                    warn!(lsa_type = key.lsa_type.0, lsid = %key.lsid, error = %e, "cannot originate LSA");
                    continue;
                }
            };
            debug!(lsa_type = key.lsa_type.0, lsid = %key.lsid, seq = format!("{seq:#010x}"), "originating LSA");
            self.force_originate.remove(&(*scope, *key));
            self.originated_at.insert((*scope, *key), now);
            self.remove_from_rxmt(*scope, key);
            self.install(*scope, lsa.clone(), now);
            self.flood(*scope, &lsa, None, now);
        }
        // Flush what we no longer want.
        let mut stale = Vec::new();
        let mut scopes: Vec<Scope> = self.areas.keys().map(|a| Scope::Area(*a)).collect();
        scopes.push(Scope::As);
        for scope in scopes {
            let Some(db) = self.lsdb(scope) else { continue };
            for (key, e) in db.iter() {
                let mine = key.adv_rtr == self.router_id;
                if mine && !e.is_max_age(s) && !desired.contains_key(&(scope, *key)) {
                    stale.push((scope, *key));
                }
            }
        }
        for (scope, key) in stale {
            self.premature_age(scope, key, now);
        }
        self.force_originate.retain(|k| desired.contains_key(k));
        if let Some(r) = retry {
            self.originate_due = Some(self.originate_due.map_or(r, |d| d.min(r)));
        }
    }

    /// §14.1: flushes one of our LSAs by setting its age to MaxAge and
    /// flooding it.
    pub(crate) fn premature_age(&mut self, scope: Scope, key: LsaKey, now: Millis) {
        let Some(e) = self.lsdb(scope).and_then(|d| d.get(&key)) else {
            return;
        };
        let lsa = e.lsa().with_age(MAX_AGE);
        debug!(lsa_type = key.lsa_type.0, lsid = %key.lsid, "flushing self-originated LSA");
        self.remove_from_rxmt(scope, &key);
        self.install(scope, lsa.clone(), now);
        self.flood(scope, &lsa, None, now);
    }
}

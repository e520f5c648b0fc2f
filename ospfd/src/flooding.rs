//! The flooding procedure, RFC 2328 §13: receiving Link State Updates (the
//! steps of §13 with MinLSArrival), flooding out of the right interfaces
//! (§13.3, back out of the receiving one only when this router is the DR),
//! retransmission lists (§13.6), delayed and direct acknowledgements
//! (§13.5) and receiving acknowledgements (§13.7).
//!
//! Owns nothing of its own: it moves LSAs between packets, the databases
//! and the neighbors' lists. Deciding what this router originates belongs
//! to `origination`; a self-originated LSA coming back from the network is
//! handed to it (§13.4).

use std::cmp::Ordering;
use std::net::Ipv4Addr;

use tracing::{debug, warn};

use crate::instance::{secs, Action, Instance, Millis, Scope};
use crate::interface::{IfaceType, IsmState};
use crate::lsa::{compare_instances, Lsa, LsaHeader, LsaKey, LsaType, MAX_SEQUENCE_NUMBER};
use crate::neighbor::NsmState;
use crate::packet::{LsAck, LsUpdate, Packet, PacketBody};

impl Instance {
    /// §13: a Link State Update received from neighbor `rid`.
    pub(crate) fn receive_lsupdate(&mut self, name: &str, rid: Ipv4Addr, u: LsUpdate, now: Millis) {
        let Some(i) = self.ifaces.get_mut(name) else {
            return;
        };
        i.stats.lsu_in += 1;
        let area = i.params.area;
        let Some(state) = i.neighbors.get(&rid).map(|n| n.state) else {
            return;
        };
        if state < NsmState::Exchange {
            self.count_drop("lsu_wrong_state");
            return;
        }
        for (h, e) in &u.rejected {
            debug!(interface = %name, neighbor = %rid, lsa_type = h.lsa_type.0, lsid = %h.lsid, error = %e, "LSA discarded");
            self.count_drop("bad_lsa");
        }
        let stub = self.areas.get(&area).is_some_and(|a| a.cfg.stub);
        for lsa in u.lsas {
            if !self.receive_one(name, rid, area, stub, lsa, now) {
                // BadLSReq: the exchange restarted, the rest is moot.
                return;
            }
        }
        self.check_loading_done(name, rid, now);
    }

    /// One LSA of an update; false when processing must stop.
    fn receive_one(
        &mut self,
        name: &str,
        rid: Ipv4Addr,
        area: Ipv4Addr,
        stub: bool,
        lsa: Lsa,
        now: Millis,
    ) -> bool {
        let h = *lsa.header();
        let key = h.key();
        // Steps 2 and 3: known types only, no AS-external-LSA in a stub.
        if !matches!(h.lsa_type.0, 1..=5) {
            self.count_drop("unknown_lsa_type");
            return true;
        }
        if stub && h.lsa_type == LsaType::AS_EXTERNAL {
            self.count_drop("external_lsa_in_stub");
            return true;
        }
        let scope = Instance::scope_of(h.lsa_type, area);
        let s = secs(now);
        let cmp = self.lsdb(scope).and_then(|d| d.compare(&h, s));
        // Step 4: a MaxAge LSA nobody has: acknowledge and forget.
        if h.is_max_age() && cmp.is_none() && !self.any_exchanging(scope) {
            self.direct_ack(name, rid, h);
            return true;
        }
        match cmp {
            None | Some(Ordering::Greater) => {
                // Step 5a: MinLSArrival.
                if cmp.is_some()
                    && self
                        .lsdb(scope)
                        .is_some_and(|d| d.arrived_within(&key, s, 1))
                {
                    self.count_drop("min_ls_arrival");
                    return true;
                }
                // 5c: the old instance off the retransmission lists (before
                // flooding puts the new one on them); 5b: flood; 5d: install.
                self.remove_from_rxmt(scope, &key);
                let flooded_back = self.flood(scope, &lsa, Some((name, rid)), now);
                self.install(scope, lsa, now);
                // 5e: acknowledge unless flooded back out.
                if !flooded_back {
                    let from_dr = self.is_from_dr(name, rid);
                    let backup = self
                        .ifaces
                        .get(name)
                        .is_some_and(|i| i.state == IsmState::Backup);
                    if !backup || from_dr {
                        self.delayed_ack(name, h, now);
                    }
                }
                // 5f / §13.4: our own LSA from the network.
                if self.is_self_originated(&h) {
                    debug!(interface = %name, neighbor = %rid, lsa_type = h.lsa_type.0, lsid = %h.lsid, seq = h.seq, "received a newer instance of a self-originated LSA");
                    self.force_originate.insert((scope, key));
                    self.reconcile_self(now);
                }
                true
            }
            Some(ord) => {
                // Step 6: the neighbor sent something it had us request,
                // but not newer than ours.
                if self
                    .ifaces
                    .get(name)
                    .and_then(|i| i.neighbors.get(&rid))
                    .is_some_and(|n| n.requests.contains_key(&key))
                {
                    warn!(interface = %name, neighbor = %rid, "BadLSReq: requested LSA not newer than ours");
                    self.start_exstart(name, rid, now);
                    return false;
                }
                if ord == Ordering::Equal {
                    // Step 7: a duplicate; implied acknowledgement?
                    let implied = self
                        .nbr_mut(name, rid)
                        .and_then(|n| n.rxmt.remove(&key))
                        .is_some();
                    if implied {
                        let backup = self
                            .ifaces
                            .get(name)
                            .is_some_and(|i| i.state == IsmState::Backup);
                        if backup && self.is_from_dr(name, rid) {
                            self.delayed_ack(name, h, now);
                        }
                    } else {
                        self.direct_ack(name, rid, h);
                    }
                } else {
                    // Step 8: ours is newer: send it back, unless it is
                    // being flushed at MaxSequenceNumber.
                    let Some(e) = self.lsdb(scope).and_then(|d| d.get(&key)) else {
                        return true;
                    };
                    if e.is_max_age(s) && e.lsa().header().seq == MAX_SEQUENCE_NUMBER {
                        return true;
                    }
                    let ours = e.lsa_at(s);
                    if let Some(dst) = self
                        .ifaces
                        .get(name)
                        .and_then(|i| i.neighbors.get(&rid))
                        .map(|n| n.addr)
                    {
                        self.send_update(name, dst, vec![ours]);
                    }
                }
                true
            }
        }
    }

    /// True when `h` was originated by this router (§13.4): its advertising
    /// router is ours, or it is a network-LSA for one of our addresses.
    pub(crate) fn is_self_originated(&self, h: &LsaHeader) -> bool {
        h.adv_rtr == self.router_id
            || (h.lsa_type == LsaType::NETWORK
                && self.ifaces.values().any(|i| i.is_up() && i.ip() == h.lsid))
    }

    fn is_from_dr(&self, name: &str, rid: Ipv4Addr) -> bool {
        self.ifaces.get(name).is_some_and(|i| {
            i.params.kind == IfaceType::Broadcast
                && i.neighbors.get(&rid).is_some_and(|n| n.addr == i.dr)
        })
    }

    /// Installs an LSA in its database (§13.2) and asks for SPF when its
    /// contents changed.
    pub(crate) fn install(&mut self, scope: Scope, lsa: Lsa, now: Millis) {
        let key = lsa.key();
        let max_age = lsa.header().is_max_age();
        let Some(db) = self.lsdb_mut(scope) else {
            return;
        };
        let installed = db.install(lsa, secs(now));
        if max_age {
            self.flushing.insert((scope, key));
        } else {
            self.flushing.remove(&(scope, key));
        }
        if installed.needs_spf() || max_age {
            self.schedule_spf(now);
        }
    }

    /// Removes every instance of `key` from the retransmission lists of
    /// the scope's neighbors.
    pub(crate) fn remove_from_rxmt(&mut self, scope: Scope, key: &LsaKey) {
        for i in self.ifaces.values_mut() {
            if let Scope::Area(a) = scope {
                if i.params.area != a {
                    continue;
                }
            }
            for n in i.neighbors.values_mut() {
                n.rxmt.remove(key);
            }
        }
    }

    /// The interfaces an LSA of `scope` floods over: the area's, or for
    /// AS-scoped LSAs those of every area that is not a stub.
    fn flood_interfaces(&self, scope: Scope) -> Vec<String> {
        self.ifaces
            .values()
            .filter(|i| i.is_active())
            .filter(|i| match scope {
                Scope::Area(a) => i.params.area == a,
                Scope::As => !self.areas.get(&i.params.area).is_some_and(|a| a.cfg.stub),
            })
            .map(|i| i.params.name.clone())
            .collect()
    }

    /// §13.3: floods `lsa` (received from `from`, or self-originated when
    /// `None`). Returns true when it went back out of the receiving
    /// interface.
    pub(crate) fn flood(
        &mut self,
        scope: Scope,
        lsa: &Lsa,
        from: Option<(&str, Ipv4Addr)>,
        now: Millis,
    ) -> bool {
        let key = lsa.key();
        let mut flooded_back = false;
        let mut loading_checks = Vec::new();
        for name in self.flood_interfaces(scope) {
            let Some(i) = self.ifaces.get_mut(&name) else {
                continue;
            };
            let rxmt = u64::from(i.params.retransmit_interval) * 1000;
            let mut added = false;
            for n in i.neighbors.values_mut() {
                // (1a)
                if n.state < NsmState::Exchange {
                    continue;
                }
                // (1b)
                if matches!(n.state, NsmState::Exchange | NsmState::Loading) {
                    if let Some(req) = n.requests.get(&key) {
                        match compare_instances(lsa.header(), req) {
                            Ordering::Less => continue,
                            Ordering::Equal => {
                                n.requests.remove(&key);
                                loading_checks.push((name.clone(), n.router_id));
                                continue;
                            }
                            Ordering::Greater => {
                                n.requests.remove(&key);
                                loading_checks.push((name.clone(), n.router_id));
                            }
                        }
                    }
                }
                // (1c)
                if from.is_some_and(|(f, r)| f == name && r == n.router_id) {
                    continue;
                }
                // (1d)
                n.rxmt.insert(key, lsa.clone());
                if n.rxmt_due.is_none() {
                    n.rxmt_due = Some(now + rxmt);
                }
                added = true;
            }
            // (2)
            if !added {
                continue;
            }
            let on_receiving = from.is_some_and(|(f, _)| f == name);
            if on_receiving {
                let sender_addr = from.and_then(|(_, r)| i.neighbors.get(&r)).map(|n| n.addr);
                // (3) the DR or BDR sent it: it floods it itself.
                if i.params.kind == IfaceType::Broadcast
                    && sender_addr.is_some_and(|a| (a == i.dr || a == i.bdr) && !a.is_unspecified())
                {
                    continue;
                }
                // (4) as BDR, leave it to the DR.
                if i.state == IsmState::Backup {
                    continue;
                }
                flooded_back = true;
            }
            // (5)
            let dst = i.flood_dst();
            self.send_update(&name, dst, vec![lsa.clone()]);
        }
        for (name, rid) in loading_checks {
            if from.is_some_and(|(f, r)| f == name && r == rid) {
                // The sender's request list is checked after its update.
                continue;
            }
            self.check_loading_done(&name, rid, now);
        }
        flooded_back
    }

    /// A direct acknowledgement, sent straight to the neighbor.
    fn direct_ack(&mut self, name: &str, rid: Ipv4Addr, h: LsaHeader) {
        let router_id = self.router_id;
        let Some(i) = self.ifaces.get_mut(name) else {
            return;
        };
        let Some(dst) = i.neighbors.get(&rid).map(|n| n.addr) else {
            return;
        };
        i.stats.ack_out += 1;
        self.actions.push(Action::Send {
            ifindex: i.ifindex,
            dst,
            packet: Packet {
                router_id,
                area_id: i.params.area,
                body: PacketBody::LsAck(LsAck {
                    lsa_headers: vec![h],
                }),
            },
        });
    }

    /// §13.7: an acknowledgement received.
    pub(crate) fn receive_lsack(&mut self, name: &str, rid: Ipv4Addr, ack: LsAck, _now: Millis) {
        let Some(i) = self.ifaces.get_mut(name) else {
            return;
        };
        i.stats.ack_in += 1;
        let Some(n) = i.neighbors.get_mut(&rid) else {
            return;
        };
        if n.state < NsmState::Exchange {
            return;
        }
        for h in &ack.lsa_headers {
            let key = h.key();
            if n.rxmt
                .get(&key)
                .is_some_and(|l| compare_instances(h, l.header()) == Ordering::Equal)
            {
                n.rxmt.remove(&key);
            }
        }
        if n.rxmt.is_empty() {
            n.rxmt_due = None;
        }
    }
}

//! Export: from a Loc-RIB best path to what one peer is sent (RFC 4271
//! §9.2 and §5.1, RFC 4456 route reflection, RFC 1997 well-known
//! communities, RFC 8212 defaults), update groups, and UPDATE packing.
//!
//! Owns: the per-peer-kind attribute rewrite (AS_PATH prepend, NEXT_HOP,
//! LOCAL_PREF, MED, ORIGINATOR_ID / CLUSTER_LIST), update groups (peers
//! whose export result and encoding context are identical share the
//! rewrite cache, the pending changes and the encoded messages), and the
//! pending changes of a batch. Adj-RIB-Out is not stored: what a peer has
//! is a function of the Loc-RIB and its group, recomputed from the old
//! and new best path (as BIRD does without an export table).
//!
//! Never does: decide best paths, I/O, or send to a peer the path it sent
//! us (the per-member exception below).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use bytes::Bytes;
use ipnetwork::IpNetwork;

use crate::packet::{
    pack_announcements, pack_withdrawals, AfiSafi, Community, MpNextHop, Nlri, PathAttributes,
    SessionCaps,
};
use crate::policy::{Applied, Bindings, Env, Policies, Route, Verdict};

use super::intern::Interner;
use super::table::{Attrs, FastMap, FastSet};
use super::{Fam, PeerId, PeerInfo, RibConfig, LOCAL_PEER};

/// Everything that makes two peers' export results and encodings equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GroupKey {
    pub ibgp: bool,
    pub rr_client: bool,
    pub next_hop_self: bool,
    /// The outbound part of the members' policy.
    pub policy: Bindings,
    pub caps: SessionCaps,
    pub local_addr: IpAddr,
    pub local_v6_global: Option<std::net::Ipv6Addr>,
    pub local_v6_link_local: Option<std::net::Ipv6Addr>,
    pub families: Vec<crate::packet::AfiSafi>,
    pub add_path_send: super::AddPathSend,
}

impl GroupKey {
    pub fn of(info: &PeerInfo) -> Self {
        Self {
            ibgp: info.ibgp,
            rr_client: info.rr_client,
            next_hop_self: info.next_hop_self,
            policy: info.policy.outbound_only(),
            caps: info.caps.clone(),
            local_addr: info.local_addr,
            local_v6_global: info.local_v6_global,
            local_v6_link_local: info.local_v6_link_local,
            families: info.families.clone(),
            add_path_send: info.add_path_send,
        }
    }

    pub fn sends(&self, fam: Fam) -> bool {
        self.families.contains(&fam.afi_safi())
    }

    /// The members take ADD-PATH ids in `fam` (RFC 7911): they get every
    /// path (or the best N), not the best one.
    pub fn add_path(&self, fam: Fam) -> bool {
        self.caps.add_path_tx(fam.afi_safi())
    }
}

/// What the export rules need to know about where a path came from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source {
    pub peer: PeerId,
    /// The neighbor's address (None: originated here), for `match peer`.
    pub addr: Option<IpAddr>,
    pub local: bool,
    pub ibgp: bool,
    pub rr_client: bool,
    pub remote_id: Ipv4Addr,
}

impl Source {
    pub fn local() -> Self {
        Source {
            peer: LOCAL_PEER,
            addr: None,
            local: true,
            ibgp: false,
            rr_client: false,
            remote_id: Ipv4Addr::UNSPECIFIED,
        }
    }

    pub fn of(info: &PeerInfo) -> Self {
        Source {
            peer: info.id,
            addr: Some(info.addr),
            local: false,
            ibgp: info.ibgp,
            rr_client: info.rr_client,
            remote_id: info.remote_id,
        }
    }
}

/// The family-independent part of [`rewrite`]: well-known communities,
/// iBGP split horizon and route reflection (RFC 4456 §6, §8), AS_PATH
/// prepend, LOCAL_PREF and MED toward eBGP. Also says whether the next
/// hop becomes ours (`set_self`); EVPN keeps the VTEP regardless.
pub(crate) fn rewrite_common(
    cfg: &RibConfig,
    g: &GroupKey,
    src: &Source,
    attrs: &PathAttributes,
) -> Option<(PathAttributes, bool)> {
    let has = |c: Community| attrs.communities.contains(&c);
    if has(Community::NO_ADVERTISE) {
        return None;
    }
    if !g.ibgp && (has(Community::NO_EXPORT) || has(Community::NO_EXPORT_SUBCONFED)) {
        return None;
    }
    let mut reflect = false;
    if g.ibgp && src.ibgp {
        // RFC 4456 §6: client routes go to everyone, non-client routes
        // to clients only; without reflection, iBGP split horizon.
        if !(src.rr_client || g.rr_client) {
            return None;
        }
        reflect = true;
    }
    let mut out = attrs.for_propagation();
    if reflect {
        out.originator_id.get_or_insert(src.remote_id);
        out.cluster_list
            .insert(0, cfg.cluster_id.unwrap_or(cfg.router_id));
    }
    let set_self;
    if g.ibgp {
        out.local_pref = Some(out.local_pref.unwrap_or(100));
        set_self = g.next_hop_self || src.local;
    } else {
        let mut path = out.as_path.take().unwrap_or_default();
        path.prepend(cfg.local_as);
        out.as_path = Some(path);
        out.local_pref = None;
        out.originator_id = None;
        out.cluster_list.clear();
        if !src.local {
            out.med = None;
        }
        set_self = true;
    }
    Some((out, set_self))
}

/// The rewrite a path undergoes toward a group, before policy sets.
/// `None`: the path must not be sent to this group.
pub(crate) fn rewrite(
    cfg: &RibConfig,
    g: &GroupKey,
    src: &Source,
    attrs: &PathAttributes,
    fam: Fam,
) -> Option<PathAttributes> {
    let (mut out, set_self) = rewrite_common(cfg, g, src, attrs)?;
    // RFC 9234 §5 (unicast only): OTC toward a neighbor with a role.
    if !super::otc::egress(g.caps.local_role, cfg.local_as, &mut out) {
        return None;
    }
    let our_v6_global = g.local_v6_global.or(match g.local_addr {
        IpAddr::V6(a) => Some(a),
        IpAddr::V4(_) => None,
    });
    match fam {
        Fam::V4 => {
            // RFC 8950: with Extended Next Hop the next hop may be IPv6
            // (ours on an IPv6 session, or an IPv6 one passed unchanged).
            let enh = g.caps.extended_next_hop(AfiSafi::IPV4_UNICAST);
            let learned_v6 = match out.mp_next_hop {
                Some(MpNextHop::V4(a)) if out.next_hop.is_none() => {
                    out.next_hop = Some(a);
                    None
                }
                // A link-local address means nothing beyond its link.
                Some(MpNextHop::V6 { global, .. })
                    if out.next_hop.is_none()
                        && !global.is_unspecified()
                        && !global.is_unicast_link_local() =>
                {
                    Some(global)
                }
                _ => None,
            };
            out.mp_next_hop = None;
            let v6_next_hop = |global| MpNextHop::V6 {
                global,
                link_local: None,
            };
            match (set_self, g.local_addr) {
                (true, IpAddr::V4(a)) => out.next_hop = Some(a),
                (true, IpAddr::V6(_)) if enh => {
                    if let Some(global) = our_v6_global {
                        out.next_hop = None;
                        out.mp_next_hop = Some(MpNextHop::V6 {
                            global,
                            link_local: g.local_v6_link_local,
                        });
                    }
                }
                // Next hop unchanged (iBGP): an IPv6 one stays IPv6 where
                // the peer accepts it; a link-local address means nothing
                // beyond its link.
                (false, _) if enh => {
                    if let Some(global) = learned_v6 {
                        out.mp_next_hop = Some(v6_next_hop(global));
                    }
                }
                (false, IpAddr::V4(a)) if learned_v6.is_some() => out.next_hop = Some(a),
                _ => {}
            }
            if out.next_hop.is_none() && out.mp_next_hop.is_none() {
                // An IPv6 next hop the peer cannot take, and no IPv4
                // address of ours to put instead.
                return None;
            }
        }
        Fam::V6 => {
            out.next_hop = None;
            let global = our_v6_global;
            match (set_self, global) {
                (true, Some(global)) => {
                    out.mp_next_hop = Some(MpNextHop::V6 {
                        global,
                        link_local: g.local_v6_link_local,
                    })
                }
                _ => {
                    // A link-local address means nothing beyond its link.
                    if let Some(MpNextHop::V6 { link_local, .. }) = &mut out.mp_next_hop {
                        *link_local = None;
                    }
                }
            }
        }
    }
    Some(out)
}

/// Key of the rewrite cache: input set (by address, kept alive by the
/// entry), source peer, family and the policy term that accepted.
type CacheKey = (usize, PeerId, Fam, Applied);

#[derive(Debug, Default)]
pub(crate) struct Cache {
    map: FastMap<CacheKey, (Attrs, Option<Attrs>)>,
    /// The last hit (consecutive prefixes usually share their set).
    last: Option<(CacheKey, Option<Attrs>)>,
}

impl Cache {
    pub fn clear(&mut self) {
        self.map.clear();
        self.last = None;
    }
    pub fn forget_source(&mut self, peer: PeerId) {
        self.map.retain(|k, _| k.1 != peer);
        self.last = None;
    }
    fn get(&mut self, key: &CacheKey) -> Option<Option<Attrs>> {
        if let Some((k, v)) = &self.last {
            if k == key {
                return Some(v.clone());
            }
        }
        let v = self.map.get(key)?.1.clone();
        self.last = Some((key.clone(), v.clone()));
        Some(v)
    }
}

/// The export result of `attrs` (best path of `prefix`, from `src`) for
/// group `g`: policy verdict per prefix, rewrite cached per attribute set.
#[allow(clippy::too_many_arguments)]
pub(crate) fn export(
    cfg: &RibConfig,
    policies: &Policies,
    g: &GroupKey,
    cache: &mut Cache,
    interner: &mut Interner,
    src: &Source,
    prefix: &IpNetwork,
    attrs: &Attrs,
) -> Option<Attrs> {
    let fam = Fam::of(prefix);
    if !g.sends(fam) {
        return None;
    }
    let applied = verdict(policies, g, src, prefix, attrs)?;
    let key = (Arc::as_ptr(attrs) as usize, src.peer, fam, applied);
    if let Some(out) = cache.get(&key) {
        return out;
    }
    let out = rewrite(cfg, g, src, attrs, fam).map(|mut a| {
        apply(policies, g, &key.3, prefix, attrs, &mut a);
        interner.intern(a)
    });
    cache.map.insert(key, (attrs.clone(), out.clone()));
    out
}

/// The group's outbound filter on a route: `None` when it must not be
/// sent (rejected, or RFC 8212 §2: no export policy toward eBGP).
fn verdict(
    policies: &Policies,
    g: &GroupKey,
    src: &Source,
    prefix: &IpNetwork,
    attrs: &PathAttributes,
) -> Option<Applied> {
    let filter = g.policy.outbound(Fam::of(prefix).afi_safi());
    let route = Route {
        prefix,
        peer: src.addr,
    };
    match policies.filter(filter, &route, attrs) {
        Some(Verdict::Reject) => None,
        Some(Verdict::Accept(applied)) => Some(applied),
        None if g.ibgp => Some(Applied::NONE),
        None => None,
    }
}

/// The sets of an accepted export applied to the rewritten attributes.
fn apply(
    policies: &Policies,
    g: &GroupKey,
    applied: &Applied,
    prefix: &IpNetwork,
    original: &PathAttributes,
    a: &mut PathAttributes,
) {
    let (self_v4, self_v6) = super::self_addrs(g.local_addr, g.local_v6_global);
    let env = Env {
        prefix,
        self_v4,
        self_v6,
        original,
    };
    policies.apply(applied, a, &env);
    // RFC 8326 §4.1: maintenance, our routes less preferred everywhere.
    if g.policy.graceful_shutdown {
        if !a.communities.contains(&Community::GRACEFUL_SHUTDOWN) {
            a.communities.push(Community::GRACEFUL_SHUTDOWN);
        }
        if g.ibgp {
            a.local_pref = Some(0);
        }
    }
}

/// The same without cache or interner, for `show` queries.
pub(crate) fn export_uncached(
    cfg: &RibConfig,
    policies: &Policies,
    g: &GroupKey,
    src: &Source,
    prefix: &IpNetwork,
    attrs: &PathAttributes,
) -> Option<PathAttributes> {
    let fam = Fam::of(prefix);
    if !g.sends(fam) {
        return None;
    }
    let applied = verdict(policies, g, src, prefix, attrs)?;
    rewrite(cfg, g, src, attrs, fam).map(|mut a| {
        apply(policies, g, &applied, prefix, attrs, &mut a);
        a
    })
}

/// What one prefix's change means for one receiver.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Change {
    None,
    Announce(Attrs),
    Withdraw,
}

pub(crate) fn change(old: Option<&Attrs>, new: Option<&Attrs>) -> Change {
    match (old, new) {
        (Some(o), Some(n)) if Arc::ptr_eq(o, n) => Change::None,
        (_, Some(n)) => Change::Announce(n.clone()),
        (Some(_), None) => Change::Withdraw,
        (None, None) => Change::None,
    }
}

/// Emptied prefix lists a [`Pending`] keeps for its next batches.
const SPARE_LISTS: usize = 64;
/// Largest list kept (prefixes).
const SPARE_LIST_CAPACITY: usize = 4096;

/// Changes of a batch, grouped by output attribute set.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    announce: Vec<(Attrs, Vec<Nlri>)>,
    index: FastMap<usize, usize>,
    /// The last set used (consecutive prefixes usually share it).
    last: Option<(usize, usize)>,
    withdraw: Vec<Nlri>,
    count: usize,
    /// Emptied prefix lists of earlier batches, reused so that a batch
    /// does not grow its lists from nothing again.
    spare: Vec<Vec<Nlri>>,
}

impl Pending {
    pub fn is_empty(&self) -> bool {
        self.announce.is_empty() && self.withdraw.is_empty()
    }

    /// Prefixes announced or withdrawn.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn push(&mut self, prefix: IpNetwork, c: &Change) {
        match c {
            Change::None => {}
            Change::Withdraw => {
                self.count += 1;
                self.withdraw.push(Nlri::new(prefix))
            }
            Change::Announce(a) => self.announce(a, prefix),
        }
    }

    pub fn announce(&mut self, a: &Attrs, prefix: IpNetwork) {
        self.announce_nlri(a, Nlri::new(prefix));
    }

    /// Announce with an ADD-PATH id (RFC 7911) where the peer takes one.
    pub fn announce_nlri(&mut self, a: &Attrs, nlri: Nlri) {
        let key = Arc::as_ptr(a) as usize;
        self.count += 1;
        let i = match self.last {
            Some((k, i)) if k == key => i,
            _ => {
                let i = *self.index.entry(key).or_insert_with(|| {
                    let list = self.spare.pop().unwrap_or_default();
                    self.announce.push((a.clone(), list));
                    self.announce.len() - 1
                });
                self.last = Some((key, i));
                i
            }
        };
        if let Some((_, list)) = self.announce.get_mut(i) {
            list.push(nlri);
        }
    }

    /// Withdraw with an ADD-PATH id (RFC 7911) where the peer takes one.
    pub fn withdraw_nlri(&mut self, nlri: Nlri) {
        self.count += 1;
        self.withdraw.push(nlri);
    }

    /// This batch minus `skip`, plus `own`.
    pub fn merged(&self, skip: &FastSet<IpNetwork>, own: &Pending) -> Pending {
        let mut out = Pending::default();
        for (a, list) in &self.announce {
            for n in list.iter().filter(|n| !skip.contains(&n.prefix)) {
                out.announce_nlri(a, *n);
            }
        }
        for n in self.withdraw.iter().filter(|n| !skip.contains(&n.prefix)) {
            out.withdraw_nlri(*n);
        }
        for (a, list) in &own.announce {
            for n in list {
                out.announce_nlri(a, *n);
            }
        }
        for n in &own.withdraw {
            out.withdraw_nlri(*n);
        }
        out
    }

    /// Encode: withdrawals first, then one run of messages per set.
    pub fn pack(&self, caps: &SessionCaps, peers: &[PeerId]) -> Vec<Bytes> {
        let mut out = Vec::new();
        match pack_withdrawals(&self.withdraw, caps) {
            Ok(msgs) => out.extend(msgs),
            Err(e) => tracing::warn!(?peers, error = %e, "cannot encode withdrawals"),
        }
        for (a, list) in &self.announce {
            match pack_announcements(a, list, caps) {
                Ok(msgs) => out.extend(msgs),
                Err(e) => {
                    tracing::warn!(?peers, prefixes = list.len(), error = %e, "cannot encode announcements")
                }
            }
        }
        out
    }

    pub fn clear(&mut self) {
        for (_, mut list) in self.announce.drain(..) {
            // Bounded: what a large batch (a policy reload) grew is freed.
            if self.spare.len() < SPARE_LISTS && list.capacity() <= SPARE_LIST_CAPACITY {
                list.clear();
                self.spare.push(list);
            }
        }
        self.index.clear();
        self.last = None;
        self.withdraw.clear();
        self.count = 0;
    }
}

/// Where one member's changes differ from its group's (it is the source
/// of the path, so it must not get it back).
#[derive(Debug, Default)]
pub(crate) struct Exception {
    /// Prefixes of the group's batch this member must not get (each at
    /// most once: a prefix is decided once per batch).
    pub skip: Vec<IpNetwork>,
    pub own: Pending,
}

/// An update group (FRR's term): members share the rewrite cache, the
/// batch's pending changes and the encoded messages.
#[derive(Debug)]
pub(crate) struct Group {
    pub key: GroupKey,
    pub members: Vec<PeerId>,
    pub cache: Cache,
    /// The cache valid for the previous policies during a reload.
    pub old_cache: Cache,
    /// The members' previous key when a reload changed their outbound
    /// policy (they moved to this group); the old export is computed with
    /// it so they get only the difference.
    pub old_key: Option<GroupKey>,
    pub pending: Pending,
    pub exceptions: FastMap<PeerId, Exception>,
    /// What each member was sent in the families it gets ADD-PATH in.
    pub add_path_out: FastMap<PeerId, super::add_path::AdjOut>,
}

impl Group {
    pub fn new(key: GroupKey) -> Self {
        Self {
            key,
            members: Vec::new(),
            cache: Cache::default(),
            old_cache: Cache::default(),
            old_key: None,
            pending: Pending::default(),
            exceptions: FastMap::default(),
            add_path_out: FastMap::default(),
        }
    }

    /// Encode this batch for every member.
    pub fn flush(&mut self, mut send: impl FnMut(PeerId, Vec<Bytes>)) {
        if self.pending.is_empty() && self.exceptions.is_empty() {
            return;
        }
        let mut shared: Option<Vec<Bytes>> = None;
        for &m in &self.members {
            match self.exceptions.remove(&m) {
                Some(ex) => {
                    // Commonly the member is the source of everything in
                    // the batch: then it gets only its own changes.
                    let msgs = if ex.skip.len() == self.pending.len() {
                        ex.own.pack(&self.key.caps, &[m])
                    } else {
                        let skip: FastSet<IpNetwork> = ex.skip.iter().copied().collect();
                        self.pending
                            .merged(&skip, &ex.own)
                            .pack(&self.key.caps, &[m])
                    };
                    if !msgs.is_empty() {
                        send(m, msgs);
                    }
                }
                None => {
                    if self.pending.is_empty() {
                        continue;
                    }
                    let msgs = shared
                        .get_or_insert_with(|| self.pending.pack(&self.key.caps, &self.members));
                    send(m, msgs.clone());
                }
            }
        }
        self.pending.clear();
        self.exceptions.clear();
    }
}

//! The decision process (RFC 4271 §9.1): eligibility of each path, the
//! pairwise preference between two paths, and the choice of the best path
//! and of the multipath set for one prefix.
//!
//! Owns the tie-breaker order (§9.1.2.2 plus the operator-expected steps
//! of FRR/BIRD: local origin, IGP metric, oldest eBGP path, ORIGINATOR_ID
//! and CLUSTER_LIST of RFC 4456 §9). The comparison is not a total order
//! (MED is only compared within a neighbour AS), so selection is a linear
//! fold and never a sort.
//!
//! Never does: output, policy, or any mutation beyond reordering a
//! prefix's paths (best first, then the multipath set).

use std::cell::Cell;
use std::cmp::Ordering;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use crate::packet::PathAttributes;

use super::nht::{NhState, Nht};
use super::table::{Dest, FastMap, Path};
use super::{Fam, PeerId, PeerInfo, PeerState, RibConfig, LOCAL_PEER};

/// Why a path is not the best one (or cannot be used at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Import policy rejected it.
    PolicyRejected,
    /// Our AS appears in AS_PATH more often than allowas-in permits.
    AsLoop,
    /// A route leak by the Only-to-Customer rules (RFC 9234 §5).
    RouteLeak,
    /// ORIGINATOR_ID is our router id (RFC 4456 §8).
    OriginatorLoop,
    /// CLUSTER_LIST holds our cluster id (RFC 4456 §8).
    ClusterLoop,
    /// No next hop for the family.
    NoNextHop,
    /// Nexthop tracking has not answered yet.
    NextHopPending,
    /// Nexthop tracking says the next hop is unreachable.
    NextHopUnreachable,
    /// FRR's weight (route-map `set weight`; local routes 32768).
    Weight,
    LocalPref,
    LocalOrigin,
    AsPathLength,
    Origin,
    Med,
    ExternalOverInternal,
    IgpMetric,
    OlderPath,
    RouterId,
    ClusterListLength,
    PeerAddress,
    /// Two paths of one peer (ADD-PATH, RFC 7911): the lower path id.
    PathId,
    /// Equal in every step (same peer twice cannot happen; kept for
    /// completeness).
    Equal,
}

impl Reason {
    /// Steps after the IGP metric: two paths that differ only there are
    /// candidates for multipath.
    pub fn multipath_tie(self) -> bool {
        matches!(
            self,
            Reason::OlderPath
                | Reason::RouterId
                | Reason::ClusterListLength
                | Reason::PeerAddress
                | Reason::PathId
                | Reason::Equal
        )
    }
}

pub(crate) struct Ctx<'a> {
    pub cfg: &'a RibConfig,
    pub peers: &'a FastMap<PeerId, PeerState>,
    pub nht: &'a Nht,
    /// Eligibility of the last attribute set seen (consecutive prefixes
    /// usually share it; saves a next-hop lookup per prefix).
    pub memo: &'a Memo,
}

pub(crate) type Memo = Cell<Option<(usize, Fam, Result<u32, Reason>)>>;

impl<'a> Ctx<'a> {
    pub fn new(
        cfg: &'a RibConfig,
        peers: &'a FastMap<PeerId, PeerState>,
        nht: &'a Nht,
        memo: &'a Memo,
    ) -> Self {
        Ctx {
            cfg,
            peers,
            nht,
            memo,
        }
    }

    pub fn eligibility(&self, path: &Path, fam: Fam) -> Result<u32, Reason> {
        let (Some(attrs), false) = (&path.attrs, path.peer == LOCAL_PEER) else {
            return eligibility(path, fam, self.nht);
        };
        let key = Arc::as_ptr(attrs) as usize;
        if let Some((k, f, r)) = self.memo.get() {
            if k == key && f == fam {
                return r;
            }
        }
        let r = eligibility(path, fam, self.nht);
        self.memo.set(Some((key, fam, r)));
        r
    }
}

/// The next hop the path resolves through, for its family.
pub(crate) fn nexthop_of(attrs: &PathAttributes, fam: Fam) -> Option<IpAddr> {
    let mp = attrs.mp_next_hop.as_ref().map(|m| m.forwarding());
    match fam {
        Fam::V4 => attrs.next_hop.map(IpAddr::V4).or(mp),
        Fam::V6 => mp,
    }
}

/// `Ok(igp_metric)` when the path may be selected.
pub(crate) fn eligibility(path: &Path, fam: Fam, nht: &Nht) -> Result<u32, Reason> {
    let Some(attrs) = &path.attrs else {
        return Err(Reason::PolicyRejected);
    };
    if path.peer == LOCAL_PEER {
        return Ok(0);
    }
    let nh = nexthop_of(attrs, fam).ok_or(Reason::NoNextHop)?;
    match nht.state(&nh) {
        NhState::Reachable(metric) => Ok(metric),
        NhState::Unreachable => Err(Reason::NextHopUnreachable),
        NhState::Pending => Err(Reason::NextHopPending),
    }
}

/// What the comparison needs of one path, gathered once.
/// The weight of locally originated routes, as in FRR.
pub const LOCAL_WEIGHT: u32 = 32768;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Cand {
    pub idx: usize,
    local: bool,
    ibgp: bool,
    weight: u32,
    local_pref: u32,
    as_len: usize,
    origin: u8,
    med: u32,
    neighbor_as: u32,
    igp: u32,
    seq: u32,
    router_id: Ipv4Addr,
    cluster_len: usize,
    addr: IpAddr,
    /// ADD-PATH id (0 without ADD-PATH).
    path_id: u32,
}

impl Cand {
    pub fn new(
        idx: usize,
        path: &Path,
        path_id: u32,
        attrs: &PathAttributes,
        igp: u32,
        ctx: &Ctx,
    ) -> Cand {
        let local = path.peer == LOCAL_PEER;
        let peer = ctx.peers.get(&path.peer).map(|p| &p.info);
        let ibgp = peer.is_some_and(|p| p.ibgp);
        let as_path = attrs.as_path.as_ref();
        Cand {
            idx,
            local,
            ibgp,
            // Local paths carry theirs from origination (LOCAL_WEIGHT, or 0
            // for a last-resort route).
            weight: attrs.weight,
            local_pref: attrs.local_pref.unwrap_or(100),
            as_len: as_path.map_or(0, |p| p.length()),
            origin: attrs.origin.map_or(0, |o| o as u8),
            med: attrs.med.unwrap_or(0),
            neighbor_as: as_path
                .and_then(|p| p.first_asn())
                .unwrap_or(ctx.cfg.local_as),
            igp,
            seq: path.seq,
            router_id: attrs
                .originator_id
                .or(peer.map(|p| p.remote_id))
                .unwrap_or(ctx.cfg.router_id),
            cluster_len: attrs.cluster_list.len(),
            addr: peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |p| p.addr),
            path_id,
        }
    }

    /// A candidate outside the prefix tables (the EVPN RIB): `peer` is
    /// `None` for a locally originated path; no IGP metric or age.
    pub fn of_peer(
        idx: usize,
        peer: Option<&PeerInfo>,
        attrs: &PathAttributes,
        cfg: &RibConfig,
    ) -> Cand {
        let as_path = attrs.as_path.as_ref();
        Cand {
            idx,
            local: peer.is_none(),
            ibgp: peer.is_some_and(|p| p.ibgp),
            weight: if peer.is_none() {
                LOCAL_WEIGHT
            } else {
                attrs.weight
            },
            local_pref: attrs.local_pref.unwrap_or(100),
            as_len: as_path.map_or(0, |p| p.length()),
            origin: attrs.origin.map_or(0, |o| o as u8),
            med: attrs.med.unwrap_or(0),
            neighbor_as: as_path.and_then(|p| p.first_asn()).unwrap_or(cfg.local_as),
            igp: 0,
            seq: 0,
            router_id: attrs
                .originator_id
                .or(peer.map(|p| p.remote_id))
                .unwrap_or(cfg.router_id),
            cluster_len: attrs.cluster_list.len(),
            addr: peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |p| p.addr),
            path_id: 0,
        }
    }

    fn ebgp(&self) -> bool {
        !self.ibgp && !self.local
    }
}

/// `Less` when `a` is preferred, with the step that decided.
pub(crate) fn compare(a: &Cand, b: &Cand, cfg: &RibConfig) -> (Ordering, Reason) {
    let steps = [
        (b.weight.cmp(&a.weight), Reason::Weight),
        (b.local_pref.cmp(&a.local_pref), Reason::LocalPref),
        (b.local.cmp(&a.local), Reason::LocalOrigin),
        (a.as_len.cmp(&b.as_len), Reason::AsPathLength),
        (a.origin.cmp(&b.origin), Reason::Origin),
        (
            if cfg.always_compare_med || a.neighbor_as == b.neighbor_as {
                a.med.cmp(&b.med)
            } else {
                Ordering::Equal
            },
            Reason::Med,
        ),
        (b.ebgp().cmp(&a.ebgp()), Reason::ExternalOverInternal),
        (a.igp.cmp(&b.igp), Reason::IgpMetric),
        (
            if a.ebgp() && b.ebgp() {
                // Arrival order; counters compared as a wrapping sequence.
                (b.seq.wrapping_sub(a.seq) as i32).cmp(&0).reverse()
            } else {
                Ordering::Equal
            },
            Reason::OlderPath,
        ),
        (a.router_id.cmp(&b.router_id), Reason::RouterId),
        (a.cluster_len.cmp(&b.cluster_len), Reason::ClusterListLength),
        (a.addr.cmp(&b.addr), Reason::PeerAddress),
        (a.path_id.cmp(&b.path_id), Reason::PathId),
    ];
    steps
        .into_iter()
        .find(|(o, _)| *o != Ordering::Equal)
        .unwrap_or((Ordering::Equal, Reason::Equal))
}

/// The usable paths of `dest` (accepted, next hop resolved) as decision
/// candidates, in table order.
pub(crate) fn candidates(dest: &Dest, fam: Fam, ctx: &Ctx) -> Vec<Cand> {
    dest.paths
        .as_slice()
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let igp = ctx.eligibility(p, fam).ok()?;
            let attrs = p.attrs.as_ref()?;
            Some(Cand::new(i, p, dest.paths.id(i), attrs, igp, ctx))
        })
        .collect()
}

/// Run the decision for one prefix: move the best path to index 0 and
/// the other multipath members right after it, set `n_mp`.
pub(crate) fn select(dest: &mut Dest, fam: Fam, ctx: &Ctx) {
    let paths = dest.paths.as_slice();
    // Fast path: a single path needs no comparison.
    if let [only] = paths {
        dest.n_mp = u8::from(ctx.eligibility(only, fam).is_ok());
        return;
    }
    let cands = candidates(dest, fam, ctx);
    let Some(mut best) = cands.first().copied() else {
        dest.n_mp = 0;
        return;
    };
    for c in cands.iter().skip(1) {
        if compare(c, &best, ctx.cfg).0 == Ordering::Less {
            best = *c;
        }
    }
    let limit = if best.ibgp {
        ctx.cfg.multipath_ibgp
    } else {
        ctx.cfg.multipath_ebgp
    }
    .clamp(1, 64);
    let mut members: Vec<Cand> = cands
        .iter()
        .filter(|c| c.idx != best.idx && !best.local && !c.local)
        .filter(|c| c.ibgp == best.ibgp && (c.ibgp || c.neighbor_as == best.neighbor_as))
        .filter(|c| compare(&best, c, ctx.cfg).1.multipath_tie())
        .copied()
        .collect();
    members.sort_by_key(|a| a.addr);
    members.truncate(limit - 1);
    // Reorder: best first, then the members, the rest after.
    let mut order: Vec<usize> = Vec::with_capacity(paths.len());
    order.push(best.idx);
    order.extend(members.iter().map(|c| c.idx));
    for i in 0..paths.len() {
        if !order.contains(&i) {
            order.push(i);
        }
    }
    dest.paths.reorder(&order);
    dest.n_mp = (1 + members.len()) as u8;
}

/// Why `path` is not `best` (for `show`): its ineligibility, or the first
/// tie-breaker step it lost.
pub(crate) fn why_not(
    best: (&Path, u32),
    path: (&Path, u32),
    fam: Fam,
    ctx: &Ctx,
) -> Option<Reason> {
    let ((best, best_id), (path, path_id)) = (best, path);
    let igp = match eligibility(path, fam, ctx.nht) {
        Ok(m) => m,
        Err(r) => return Some(r),
    };
    let b_igp = eligibility(best, fam, ctx.nht).ok()?;
    let a = Cand::new(1, path, path_id, path.attrs.as_ref()?, igp, ctx);
    let b = Cand::new(0, best, best_id, best.attrs.as_ref()?, b_igp, ctx);
    Some(compare(&b, &a, ctx.cfg).1)
}

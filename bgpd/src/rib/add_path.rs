//! ADD-PATH sending (RFC 7911 §3, §5): toward a peer that negotiated
//! receiving path identifiers, every usable path of a prefix (or the best
//! N in decision order) that passes export, each with its own TX path id.
//!
//! Owns the TX ids ([`TxIds`]: one per path source, source peer and RX
//! id, so stable per (prefix, path) without any state per prefix; freed
//! with the peer, so an id never names another path while the old one is
//! still advertised) and the Adj-RIB-Out of each ADD-PATH member ([`AdjOut`]):
//! unlike the best-path export, what such a peer has is not a function of
//! one best path, so it is stored and diffed. Only peers with ADD-PATH
//! send pay for this; nothing here runs for a family no group sends
//! ADD-PATH in.
//!
//! Never does: the decision itself (`decision`), rewrite or policy
//! (`export`), or sending a peer its own path back (split horizon per
//! path).

use std::cmp::Ordering;
use std::sync::Arc;

use ipnetwork::IpNetwork;

use crate::packet::Nlri;

use super::decision::{candidates, compare, Ctx};
use super::export::{export, Group, Pending, Source};
use super::intern::Interner;
use super::table::{Attrs, Dest, FastMap};
use super::{AddPathSend, Fam, PeerId, RibConfig};
use crate::policy::Policies;

/// TX path ids, one per path source (source peer, RX id), as BIRD numbers
/// its route sources: a prefix holds at most one path per source, so the
/// id is unique within the prefix and stable for the path, at no cost per
/// prefix. An id is freed only when its peer is forgotten (after the
/// batch that withdrew its paths), so it never names another path while
/// the old one is still advertised.
#[derive(Debug)]
pub(crate) struct TxIds {
    ids: FastMap<(PeerId, u32), u32>,
    free: Vec<u32>,
    next: u32,
}

impl Default for TxIds {
    fn default() -> Self {
        TxIds {
            ids: FastMap::default(),
            free: Vec::new(),
            next: 1,
        }
    }
}

impl TxIds {
    /// The TX id of the paths of `peer` with RX id `rx`.
    pub fn of(&mut self, peer: PeerId, rx: u32) -> u32 {
        if let Some(&tx) = self.ids.get(&(peer, rx)) {
            return tx;
        }
        let tx = self.free.pop().unwrap_or_else(|| {
            let t = self.next;
            self.next = self.next.wrapping_add(1).max(1);
            t
        });
        self.ids.insert((peer, rx), tx);
        tx
    }

    /// The peer is gone and its paths withdrawn: its ids are free.
    pub fn forget_peer(&mut self, peer: PeerId) {
        let free = &mut self.free;
        self.ids.retain(|&(p, _), tx| {
            if p == peer {
                free.push(*tx);
            }
            p != peer
        });
    }

    /// Nobody takes TX ids any more: none is advertised.
    pub fn clear(&mut self) {
        if !self.ids.is_empty() {
            *self = TxIds::default();
        }
    }
}

/// What one ADD-PATH peer has been sent: per prefix, (TX id, attributes)
/// of each path.
#[derive(Debug, Default)]
pub(crate) struct AdjOut {
    map: FastMap<IpNetwork, Vec<(u32, Attrs)>>,
}

impl AdjOut {
    /// Every (prefix, TX id, attributes) sent, for `show`.
    pub fn iter(&self) -> impl Iterator<Item = (IpNetwork, u32, &Attrs)> {
        self.map
            .iter()
            .flat_map(|(p, v)| v.iter().map(move |(tx, a)| (*p, *tx, a)))
    }
}

/// One path offered to an ADD-PATH group: its source, TX id and the
/// attributes after export.
struct Offer {
    src: PeerId,
    tx: u32,
    attrs: Attrs,
}

/// Indexes of the usable paths of `dest` in decision order (the first
/// `n` of it for best-N; every usable one, in table order, for all).
fn usable(dest: &Dest, fam: Fam, ctx: &Ctx, send: AddPathSend) -> Vec<usize> {
    let mut cands = candidates(dest, fam, ctx);
    let AddPathSend::Best(n) = send else {
        return cands.iter().map(|c| c.idx).collect();
    };
    // Repeated selection with the decision's own comparison (not a total
    // order, so never a sort): the best, then the best of the rest...
    let mut order = Vec::with_capacity(usize::from(n));
    while order.len() < usize::from(n) && !cands.is_empty() {
        let mut best = 0;
        for (j, c) in cands.iter().enumerate().skip(1) {
            if let Some(b) = cands.get(best) {
                if compare(c, b, ctx.cfg).0 == Ordering::Less {
                    best = j;
                }
            }
        }
        order.push(cands.swap_remove(best).idx);
    }
    order
}

/// Everything the ADD-PATH export of one prefix needs.
pub(crate) struct Env<'a> {
    pub cfg: &'a RibConfig,
    pub policies: &'a Policies,
    pub ctx: &'a Ctx<'a>,
    pub sources: &'a dyn Fn(PeerId) -> Option<Source>,
}

/// The paths of `prefix` group `g` sends, exported, with TX ids.
fn offers(
    env: &Env,
    g: &mut Group,
    interner: &mut Interner,
    tx_ids: &mut TxIds,
    prefix: IpNetwork,
    dest: Option<&Dest>,
) -> Vec<Offer> {
    let Some(dest) = dest else {
        return Vec::new();
    };
    let fam = Fam::of(&prefix);
    let paths = dest.paths.as_slice();
    let mut out = Vec::new();
    for i in usable(dest, fam, env.ctx, g.key.add_path_send) {
        let Some(p) = paths.get(i) else { continue };
        let (Some(attrs), Some(src)) = (p.attrs.as_ref(), (env.sources)(p.peer)) else {
            continue;
        };
        let Some(a) = export(
            env.cfg,
            env.policies,
            &g.key,
            &mut g.cache,
            interner,
            &src,
            &prefix,
            attrs,
        ) else {
            continue;
        };
        out.push(Offer {
            src: p.peer,
            tx: tx_ids.of(p.peer, dest.paths.id(i)),
            attrs: a,
        });
    }
    out
}

/// Bring every member of ADD-PATH group `g` up to date for `prefix`:
/// announce new or changed paths, withdraw gone ones, by TX id, into the
/// member's own pending changes. Returns (member, paths before, after)
/// for the counters.
pub(crate) fn update(
    env: &Env,
    g: &mut Group,
    interner: &mut Interner,
    tx_ids: &mut TxIds,
    prefix: IpNetwork,
    dest: Option<&Dest>,
) -> Vec<(PeerId, usize, usize)> {
    let offers = offers(env, g, interner, tx_ids, prefix, dest);
    let mut counts = Vec::new();
    for &m in &g.members {
        let new: Vec<(u32, Attrs)> = offers
            .iter()
            .filter(|o| o.src != m)
            .map(|o| (o.tx, o.attrs.clone()))
            .collect();
        let adj = g.add_path_out.entry(m).or_default();
        let old = adj.map.remove(&prefix).unwrap_or_default();
        let ex = g.exceptions.entry(m).or_default();
        diff(&mut ex.own, prefix, &old, &new);
        counts.push((m, old.len(), new.len()));
        if !new.is_empty() {
            adj.map.insert(prefix, new);
        }
    }
    counts
}

/// Queue the changes from `old` to `new` (TX id, attributes).
fn diff(pending: &mut Pending, prefix: IpNetwork, old: &[(u32, Attrs)], new: &[(u32, Attrs)]) {
    for (tx, _) in old {
        if !new.iter().any(|(t, _)| t == tx) {
            pending.withdraw_nlri(Nlri {
                prefix,
                path_id: Some(*tx),
            });
        }
    }
    for (tx, a) in new {
        let same = old.iter().any(|(t, o)| t == tx && Arc::ptr_eq(o, a));
        if !same {
            pending.announce_nlri(
                a,
                Nlri {
                    prefix,
                    path_id: Some(*tx),
                },
            );
        }
    }
}

/// The whole Adj-RIB-Out of `prefix` for one member (a new session or a
/// route refresh): announced again, recorded as sent. Returns the paths.
#[allow(clippy::too_many_arguments)]
pub(crate) fn dump_prefix(
    env: &Env,
    g: &mut Group,
    interner: &mut Interner,
    tx_ids: &mut TxIds,
    member: PeerId,
    prefix: IpNetwork,
    dest: Option<&Dest>,
    pending: &mut Pending,
) -> usize {
    let new: Vec<(u32, Attrs)> = offers(env, g, interner, tx_ids, prefix, dest)
        .into_iter()
        .filter(|o| o.src != member)
        .map(|o| (o.tx, o.attrs))
        .collect();
    diff(pending, prefix, &[], &new);
    let n = new.len();
    let adj = g.add_path_out.entry(member).or_default();
    if new.is_empty() {
        adj.map.remove(&prefix);
    } else {
        adj.map.insert(prefix, new);
    }
    n
}

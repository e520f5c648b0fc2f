//! The queue of prefixes whose forwarding state zebrad has yet to learn
//! (the FIB side of RFC 4271 §9.1.3: "the best route ... is installed in
//! the forwarding table").
//!
//! Owns which prefixes are pending toward zebrad, not what they carry: an
//! entry is a (family, slot) marked by the [`FIB`] flag on its `Dest`, so a
//! prefix is queued once however often it changes, and what is sent is its
//! state when the daemon takes it ([`Rib::take_fib`]), when zebrad has room
//! for another batch. The RIB therefore never waits for the kernel: peers
//! get their UPDATEs at wire speed while zebrad installs at netlink speed,
//! and memory holds one 8-byte entry per pending prefix rather than a whole
//! batch of routes. A queued prefix that lost its last path keeps its slot
//! until the queue says so to zebrad, so that the removal is not lost.
//!
//! Never does: decide best paths or talk to zebrad.

use std::collections::VecDeque;

use ipnetwork::IpNetwork;

use super::table::{Dest, DIRTY, FIB};
use super::{fingerprint, zebra_route, Fam, Rib, ZebraRoute};

/// Prefixes queued toward zebrad, oldest first.
#[derive(Debug, Default)]
pub(super) struct FibQueue {
    queue: VecDeque<(Fam, u32)>,
}

impl FibQueue {
    /// Queue the prefix at `slot` unless it already is.
    pub fn push(&mut self, dest: &mut Dest, fam: Fam, slot: u32) {
        if dest.flags & FIB == 0 {
            dest.flags |= FIB;
            self.queue.push_back((fam, slot));
        }
    }

    pub fn len(&self) -> usize {
        self.queue.len()
    }
}

/// One batch of zebrad changes: routes to add or replace, prefixes to
/// remove.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FibBatch {
    pub add: Vec<ZebraRoute>,
    pub del: Vec<IpNetwork>,
}

impl FibBatch {
    pub fn is_empty(&self) -> bool {
        self.add.is_empty() && self.del.is_empty()
    }
}

impl Rib {
    /// How many prefixes wait for [`Rib::take_fib`].
    pub fn fib_pending(&self) -> usize {
        self.fib.len()
    }

    /// The current zebrad state of up to `max` queued prefixes, oldest
    /// first; a prefix without a usable non-local best path is a removal
    /// (a no-op in zebrad when it never had it).
    pub fn take_fib(&mut self, max: usize) -> FibBatch {
        let mut batch = FibBatch::default();
        let Rib {
            tables, peers, fib, ..
        } = self;
        while batch.add.len() + batch.del.len() < max {
            let Some((fam, slot)) = fib.queue.pop_front() else {
                break;
            };
            let Some(prefix) = tables.prefix(fam, slot) else {
                continue;
            };
            let Some(dest) = tables.dest_mut(fam, slot) else {
                continue;
            };
            dest.flags &= !FIB;
            match (fingerprint(dest, fam) != 0)
                .then(|| zebra_route(dest, fam, prefix, peers))
                .flatten()
            {
                Some(r) => batch.add.push(r),
                None => batch.del.push(prefix),
            }
            // Kept only for this removal; a dirty one is removed (or
            // refilled) when its batch is processed.
            if dest.paths.is_empty() && dest.flags & DIRTY == 0 {
                tables.remove(fam, slot);
            }
        }
        batch
    }

    /// zebrad (re)connected: queue every installed best path again (what
    /// it holds of ours is stale until then).
    pub fn fib_resync(&mut self) {
        let Rib { tables, fib, .. } = self;
        for fam in [Fam::V4, Fam::V6] {
            for slot in 0..tables.slots(fam) {
                if let Some(dest) = tables.dest_mut(fam, slot) {
                    if fingerprint(dest, fam) != 0 {
                        fib.push(dest, fam, slot);
                    }
                }
            }
        }
    }
}

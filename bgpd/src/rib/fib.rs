//! The queue of prefixes whose forwarding state zebrad has yet to learn
//! (the FIB side of RFC 4271 §9.1.3: "the best route ... is installed in
//! the forwarding table").
//!
//! Owns which prefixes are pending toward zebrad, not what they carry: a
//! pending prefix has the [`FIB`] flag on its `Dest` and its slot's bit
//! set in a bitmap per family, so a prefix is queued once however often it
//! changes, and what is sent is its state when the daemon takes it
//! ([`Rib::take_fib`]), when zebrad has room for another batch. The RIB
//! therefore never waits for the kernel: peers get their UPDATEs at wire
//! speed while zebrad installs at netlink speed, and memory holds one bit
//! per table slot (128 KiB for a million prefixes, where a list of pending
//! slots took 8 MiB while zebrad was a full table behind). Takes go round
//! the bitmap from where the last one stopped, so no pending prefix waits
//! for more than one round. A queued prefix that lost its last path keeps
//! its slot until the queue says so to zebrad, so that the removal is not
//! lost.
//!
//! Never does: decide best paths or talk to zebrad.

use ipnetwork::IpNetwork;

use super::table::{Dest, DIRTY, FIB};
use super::{fingerprint, zebra_route, Fam, Rib, Tables, ZebraRoute};

/// Prefixes queued toward zebrad: a bit per table slot, per family.
#[derive(Debug, Default)]
pub(super) struct FibQueue {
    bits: [Vec<u64>; 2],
    /// The word of each bitmap where the next take starts.
    cursor: [usize; 2],
    len: usize,
}

impl FibQueue {
    /// Queue the prefix at `slot` unless it already is.
    pub fn push(&mut self, dest: &mut Dest, fam: Fam, slot: u32) {
        if dest.flags & FIB != 0 {
            return;
        }
        dest.flags |= FIB;
        let bits = &mut self.bits[fam.idx()];
        let (word, bit) = (slot as usize / 64, slot % 64);
        if bits.len() <= word {
            bits.resize(word + 1, 0);
        }
        if let Some(w) = bits.get_mut(word) {
            *w |= 1 << bit;
            self.len += 1;
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Take up to `max` queued prefixes (IPv4 first), each given to `f` in
    /// its current state.
    fn pop(&mut self, tables: &mut Tables, max: usize, mut f: impl FnMut(&Dest, Fam, IpNetwork)) {
        let mut taken = 0;
        for fam in [Fam::V4, Fam::V6] {
            let bits = &mut self.bits[fam.idx()];
            let words = bits.len();
            let start = self.cursor[fam.idx()].min(words);
            // Round the bitmap once, from the cursor; the cursor's word
            // comes round again last in case it was left half taken.
            for i in (start..words).chain(0..=start.min(words.saturating_sub(1))) {
                if taken >= max || self.len == 0 {
                    break;
                }
                self.cursor[fam.idx()] = i;
                let Some(word) = bits.get_mut(i) else {
                    break;
                };
                while *word != 0 && taken < max {
                    let bit = word.trailing_zeros();
                    *word &= !(1 << bit);
                    self.len -= 1;
                    let slot = (i * 64) as u32 + bit;
                    let Some(prefix) = tables.prefix(fam, slot) else {
                        continue;
                    };
                    let Some(dest) = tables.dest_mut(fam, slot) else {
                        continue;
                    };
                    dest.flags &= !FIB;
                    f(dest, fam, prefix);
                    taken += 1;
                    // Kept only for this removal; a dirty one is removed
                    // (or refilled) when its batch is processed.
                    if dest.paths.is_empty() && dest.flags & DIRTY == 0 {
                        tables.remove(fam, slot);
                    }
                }
            }
            if self.len == 0 {
                // Nothing left: the bitmaps' memory goes too.
                self.bits = Default::default();
                self.cursor = [0; 2];
                return;
            }
        }
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
        let peers = &self.peers;
        self.fib.pop(
            &mut self.tables,
            max,
            |dest, fam, prefix| match (fingerprint(dest, fam) != 0)
                .then(|| zebra_route(dest, fam, prefix, peers))
                .flatten()
            {
                Some(r) => batch.add.push(r),
                None => batch.del.push(prefix),
            },
        );
        batch
    }

    /// Empty the queue without building routes: without zebrad nobody
    /// takes them.
    pub fn discard_fib(&mut self) {
        self.fib.pop(&mut self.tables, usize::MAX, |_, _, _| {});
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

//! The per-family route table: one compact record per prefix holding every
//! path for it (Adj-RIB-In and Loc-RIB in one place, as BIRD's tables do).
//!
//! Owns memory layout only: a slab of [`Slot`]s (prefix + [`Dest`]) and an
//! index of slab positions with 32 bits of each hash (`hashbrown::HashTable`,
//! 9 bytes a bucket). A path is 24 bytes (peer, arrival, two interned
//! attribute pointers); an IPv4 prefix with one path costs one 40-byte slot
//! and no other allocation. ADD-PATH ids (RFC 7911) live beside the paths
//! only for prefixes that have a nonzero one.
//!
//! Never does: best-path selection, policy or output. Never hashes with a
//! keyed hasher (prefixes are not attacker-chosen enough to matter and
//! SipHash would cost a fifth of the UPDATE budget).

use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use hashbrown::HashTable;
use ipnetwork::{Ipv4Network, Ipv6Network};

use crate::packet::PathAttributes;

use super::PeerId;

pub(crate) type Attrs = Arc<PathAttributes>;

/// Multiply-fold mixing (the core of foldhash/wyhash).
#[inline]
pub(crate) fn mix(x: u64) -> u64 {
    let m = u128::from(x ^ 0x243f_6a88_85a3_08d3).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (m as u64) ^ ((m >> 64) as u64)
}

/// A fast, unkeyed hasher for the RIB's internal maps (pointers, small
/// integers, addresses).
#[derive(Default, Clone, Copy)]
pub(crate) struct FastHasher(u64);

impl Hasher for FastHasher {
    fn finish(&self) -> u64 {
        mix(self.0)
    }
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b.get_mut(..chunk.len())
                .unwrap_or_default()
                .copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(b));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }
    fn write_u16(&mut self, i: u16) {
        self.write_u64(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.0 = mix(self.0 ^ i).rotate_left(5);
    }
    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }
}

pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<FastHasher>>;
pub(crate) type FastSet<K> = std::collections::HashSet<K, BuildHasherDefault<FastHasher>>;

/// One path to a prefix: who sent it, when (a message counter, for the
/// "oldest eBGP path" tie-break), the attributes as received (Adj-RIB-In)
/// and after import policy (`None`: rejected by policy or loop checks).
#[derive(Debug, Clone)]
pub(crate) struct Path {
    pub attrs_in: Attrs,
    pub attrs: Option<Attrs>,
    pub peer: PeerId,
    pub seq: u32,
}

/// Paths of one prefix: inline when there is one (the common case);
/// `Many(None)` is the empty list and costs no allocation.
///
/// Each path has an ADD-PATH identifier (RFC 7911 §3; 0 without
/// ADD-PATH): a peer that negotiated receiving them may send several
/// paths, told apart by it. Nonzero ids are kept only in the `Tagged`
/// form, so a table without ADD-PATH paths pays nothing for them.
#[derive(Debug)]
pub(crate) enum Paths {
    One(Path),
    Many(Option<Many>),
}

/// Two or more paths, or paths of which one has a nonzero id.
#[derive(Debug)]
pub(crate) enum Many {
    // Boxed on purpose: 8-byte variants keep `Paths` at 24 bytes.
    #[allow(clippy::box_collection)]
    Plain(Box<Vec<Path>>),
    Tagged(Box<Tagged>),
}

/// Paths with their ADD-PATH ids, `ids[i]` that of `paths[i]`.
#[derive(Debug)]
pub(crate) struct Tagged {
    paths: Vec<Path>,
    ids: Vec<u32>,
}

impl Paths {
    pub const EMPTY: Paths = Paths::Many(None);

    pub fn as_slice(&self) -> &[Path] {
        match self {
            Paths::One(p) => std::slice::from_ref(p),
            Paths::Many(Some(Many::Plain(v))) => v,
            Paths::Many(Some(Many::Tagged(t))) => &t.paths,
            Paths::Many(None) => &[],
        }
    }

    pub fn as_mut_slice(&mut self) -> &mut [Path] {
        match self {
            Paths::One(p) => std::slice::from_mut(p),
            Paths::Many(Some(Many::Plain(v))) => v,
            Paths::Many(Some(Many::Tagged(t))) => &mut t.paths,
            Paths::Many(None) => &mut [],
        }
    }

    /// The ADD-PATH id of the path at `i` (0 without ADD-PATH).
    pub fn id(&self, i: usize) -> u32 {
        match self {
            Paths::Many(Some(Many::Tagged(t))) => t.ids.get(i).copied().unwrap_or(0),
            _ => 0,
        }
    }

    /// Where the path of `peer` with ADD-PATH id `id` is.
    pub fn position(&self, peer: PeerId, id: u32) -> Option<usize> {
        match self {
            Paths::Many(Some(Many::Tagged(t))) => t
                .paths
                .iter()
                .zip(&t.ids)
                .position(|(p, &i)| p.peer == peer && i == id),
            _ if id != 0 => None,
            _ => self.as_slice().iter().position(|p| p.peer == peer),
        }
    }

    pub fn push(&mut self, path: Path, id: u32) {
        let old = std::mem::replace(self, Paths::EMPTY);
        *self = match (old, id) {
            (Paths::Many(None), 0) => Paths::One(path),
            (Paths::Many(Some(Many::Tagged(mut t))), _) => {
                t.paths.push(path);
                t.ids.push(id);
                Paths::Many(Some(Many::Tagged(t)))
            }
            (Paths::Many(Some(Many::Plain(mut v))), 0) => {
                v.push(path);
                Paths::Many(Some(Many::Plain(v)))
            }
            (old, _) => {
                let mut paths = match old {
                    Paths::One(first) => vec![first],
                    Paths::Many(Some(Many::Plain(v))) => *v,
                    Paths::Many(_) => Vec::new(),
                };
                if id == 0 {
                    paths.push(path);
                    Paths::Many(Some(Many::Plain(Box::new(paths))))
                } else {
                    let mut ids = vec![0; paths.len()];
                    paths.push(path);
                    ids.push(id);
                    Paths::Many(Some(Many::Tagged(Box::new(Tagged { paths, ids }))))
                }
            }
        };
    }

    /// Remove and return the path at `i` with its id.
    pub fn remove(&mut self, i: usize) -> Option<(Path, u32)> {
        match self {
            Paths::One(_) if i == 0 => match std::mem::replace(self, Paths::EMPTY) {
                Paths::One(p) => Some((p, 0)),
                Paths::Many(_) => None,
            },
            Paths::Many(Some(Many::Plain(v))) if i < v.len() => {
                let p = v.remove(i);
                if v.len() == 1 {
                    if let Some(last) = v.pop() {
                        *self = Paths::One(last);
                    }
                }
                Some((p, 0))
            }
            Paths::Many(Some(Many::Tagged(t))) if i < t.paths.len() => {
                let p = t.paths.remove(i);
                let id = t.ids.remove(i);
                if t.ids.iter().all(|&x| x == 0) {
                    let paths = std::mem::take(&mut t.paths);
                    *self = Paths::EMPTY;
                    for p in paths {
                        self.push(p, 0);
                    }
                } else if t.paths.is_empty() {
                    *self = Paths::EMPTY;
                }
                Some((p, id))
            }
            _ => None,
        }
    }

    /// Put the paths (and their ids) in the order `order` gives by index
    /// (a permutation of `0..len`).
    pub fn reorder(&mut self, order: &[usize]) {
        let paths = self.as_slice();
        if order.len() != paths.len() {
            return;
        }
        let reordered: Vec<Path> = order
            .iter()
            .filter_map(|&i| paths.get(i).cloned())
            .collect();
        let ids: Option<Vec<u32>> = match self {
            Paths::Many(Some(Many::Tagged(t))) => Some(
                order
                    .iter()
                    .filter_map(|&i| t.ids.get(i).copied())
                    .collect(),
            ),
            _ => None,
        };
        for (slot, p) in self.as_mut_slice().iter_mut().zip(reordered) {
            *slot = p;
        }
        if let (Paths::Many(Some(Many::Tagged(t))), Some(ids)) = (self, ids) {
            t.ids = ids;
        }
    }

    pub fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }
}

pub(crate) const DIRTY: u8 = 1;
pub(crate) const LIVE: u8 = 2;
/// Queued toward zebrad (see `fib`).
pub(crate) const FIB: u8 = 4;

/// Everything known about one prefix. After the decision process, the
/// best path is `paths[0]` and `paths[..n_mp]` is the multipath set
/// (`n_mp == 0`: no usable path).
#[derive(Debug)]
pub(crate) struct Dest {
    pub paths: Paths,
    pub n_mp: u8,
    pub flags: u8,
}

impl Dest {
    pub fn best(&self) -> Option<&Path> {
        if self.n_mp == 0 {
            return None;
        }
        self.paths.as_slice().first()
    }

    /// Where the path of `peer` with ADD-PATH id `id` is.
    pub fn position(&self, peer: PeerId, id: u32) -> Option<usize> {
        self.paths.position(peer, id)
    }
}

/// A prefix type the table can key on.
pub(crate) trait Key: Copy + Eq + std::fmt::Debug {
    fn hash64(&self) -> u64;
}

impl Key for Ipv4Network {
    #[inline]
    fn hash64(&self) -> u64 {
        mix(u64::from(u32::from(self.ip())) << 8 | u64::from(self.prefix()))
    }
}

impl Key for Ipv6Network {
    #[inline]
    fn hash64(&self) -> u64 {
        let a = u128::from(self.ip());
        mix(mix((a >> 64) as u64) ^ (a as u64) ^ u64::from(self.prefix()))
    }
}

#[derive(Debug)]
pub(crate) struct Slot<K> {
    pub key: K,
    pub dest: Dest,
}

/// Slots in fixed chunks of [`Slab::CHUNK`]: growing never copies the
/// slots already there, so a full table's slab never exists twice (a
/// `Vec` doubling from 512k to 1M 40-byte slots holds 63 MB for a moment)
/// and at most one chunk is allocated ahead.
#[derive(Debug)]
pub(crate) struct Slab<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Self {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Slab<T> {
    const SHIFT: usize = 12;
    const CHUNK: usize = 1 << Self::SHIFT;

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn get(&self, i: usize) -> Option<&T> {
        self.chunks
            .get(i >> Self::SHIFT)?
            .get(i & (Self::CHUNK - 1))
    }

    pub fn get_mut(&mut self, i: usize) -> Option<&mut T> {
        self.chunks
            .get_mut(i >> Self::SHIFT)?
            .get_mut(i & (Self::CHUNK - 1))
    }

    pub fn push(&mut self, v: T) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < Self::CHUNK => c.push(v),
            _ => {
                let mut c = Vec::with_capacity(Self::CHUNK);
                c.push(v);
                self.chunks.push(c);
            }
        }
        self.len += 1;
    }

    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.chunks.iter().flatten()
    }
}

/// Slab of slots plus an index from prefix to slab position. The index
/// keeps 32 bits of each key's hash beside its position, so growing it
/// never reads the slab (a cache miss per entry otherwise).
#[derive(Debug)]
pub(crate) struct Table<K> {
    index: HashTable<(u32, u32)>,
    pub slots: Slab<Slot<K>>,
    free: Vec<u32>,
}

impl<K: Key> Default for Table<K> {
    fn default() -> Self {
        Self {
            index: HashTable::new(),
            slots: Slab::default(),
            free: Vec::new(),
        }
    }
}

/// The table hash from the stored 32 bits: low bits pick the bucket,
/// the top 7 the control tag.
#[inline]
fn wide(h: u32) -> u64 {
    u64::from(h) | u64::from(h) << 32
}

#[inline]
fn short<K: Key>(key: &K) -> u32 {
    let h = key.hash64();
    (h ^ (h >> 32)) as u32
}

impl<K: Key> Table<K> {
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn find(&self, key: &K) -> Option<u32> {
        let slots = &self.slots;
        let h = short(key);
        self.index
            .find(wide(h), |&(i, hi)| {
                hi == h && slots.get(i as usize).is_some_and(|s| s.key == *key)
            })
            .map(|&(i, _)| i)
    }

    /// The slot of `key`, created empty (no paths, not live until a path
    /// is pushed) if absent.
    pub fn find_or_insert(&mut self, key: K) -> u32 {
        let h = short(&key);
        let Self { index, slots, free } = self;
        if let Some(&(i, _)) = index.find(wide(h), |&(i, hi)| {
            hi == h && slots.get(i as usize).is_some_and(|s| s.key == key)
        }) {
            return i;
        }
        let slot = Slot {
            key,
            dest: Dest {
                paths: Paths::EMPTY,
                n_mp: 0,
                flags: LIVE,
            },
        };
        let i = match free.pop() {
            Some(i) => {
                if let Some(s) = slots.get_mut(i as usize) {
                    *s = slot;
                }
                i
            }
            None => {
                slots.push(slot);
                (slots.len() - 1) as u32
            }
        };
        index.insert_unique(wide(h), (i, h), |&(_, hj)| wide(hj));
        i
    }

    /// Drop the prefix at slot `i` (its paths must be gone).
    pub fn remove(&mut self, i: u32) {
        let Self { index, slots, free } = self;
        let Some(slot) = slots.get_mut(i as usize) else {
            return;
        };
        if slot.dest.flags & LIVE == 0 {
            return;
        }
        let h = short(&slot.key);
        if let Ok(entry) = index.find_entry(wide(h), |&(j, _)| j == i) {
            entry.remove();
        }
        slot.dest.flags = 0;
        slot.dest.n_mp = 0;
        slot.dest.paths = Paths::EMPTY;
        free.push(i);
    }

    pub fn get(&self, i: u32) -> Option<&Slot<K>> {
        self.slots
            .get(i as usize)
            .filter(|s| s.dest.flags & LIVE != 0)
    }

    pub fn get_mut(&mut self, i: u32) -> Option<&mut Slot<K>> {
        self.slots
            .get_mut(i as usize)
            .filter(|s| s.dest.flags & LIVE != 0)
    }

    /// Live slots in slab order.
    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = (u32, &Slot<K>)> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.dest.flags & LIVE != 0)
            .map(|(i, s)| (i as u32, s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_compact() {
        assert_eq!(std::mem::size_of::<Path>(), 24);
        assert_eq!(std::mem::size_of::<Paths>(), 24);
        assert!(std::mem::size_of::<Slot<Ipv4Network>>() <= 40);
    }

    #[test]
    fn slab_grows_by_chunks_and_indexes_across_them() {
        let mut s: Slab<u32> = Slab::default();
        let n = Slab::<u32>::CHUNK as u32 * 2 + 5;
        for i in 0..n {
            s.push(i);
        }
        assert_eq!(s.len(), n as usize);
        assert_eq!(s.chunks.len(), 3);
        assert!(s.chunks.iter().all(|c| c.capacity() == Slab::<u32>::CHUNK));
        for i in [0, 1, Slab::<u32>::CHUNK as u32, n - 1] {
            assert_eq!(s.get(i as usize), Some(&i));
        }
        assert_eq!(s.get(n as usize), None);
        if let Some(v) = s.get_mut(7) {
            *v = 70;
        }
        assert_eq!(s.iter().nth(7), Some(&70));
        assert_eq!(s.iter().count(), n as usize);
    }

    #[test]
    fn insert_find_remove_reuse() {
        let mut t: Table<Ipv4Network> = Table::default();
        let a: Ipv4Network = "10.0.0.0/8".parse().unwrap();
        let b: Ipv4Network = "10.0.0.0/16".parse().unwrap();
        let ia = t.find_or_insert(a);
        let ib = t.find_or_insert(b);
        assert_ne!(ia, ib);
        assert_eq!(t.find(&a), Some(ia));
        assert_eq!(t.find_or_insert(a), ia);
        t.remove(ia);
        assert_eq!(t.find(&a), None);
        assert_eq!(t.len(), 1);
        let ic = t.find_or_insert(a);
        assert_eq!(ic, ia, "slot reused");
        assert_eq!(t.iter().count(), 2);
    }

    /// What `Paths` must behave like: a list of (peer, ADD-PATH id).
    fn model(p: &Paths) -> Vec<(PeerId, u32)> {
        p.as_slice()
            .iter()
            .enumerate()
            .map(|(i, x)| (x.peer, p.id(i)))
            .collect()
    }

    fn path(peer: PeerId) -> Path {
        let a: Attrs = Arc::new(PathAttributes::default());
        Path {
            attrs_in: a.clone(),
            attrs: Some(a),
            peer,
            seq: 0,
        }
    }

    proptest::proptest! {
        /// Pushes, removals and reorders in any order keep every path
        /// with its id, find each by (peer, id), and fall back to the
        /// inline or untagged forms when the ids allow.
        #[test]
        fn paths_keep_their_ids(ops in proptest::collection::vec((0u8..3, 0u32..4, 0u32..3, 0usize..6), 0..40)) {
            let mut p = Paths::EMPTY;
            let mut m: Vec<(PeerId, u32)> = Vec::new();
            for (op, peer, id, at) in ops {
                match op {
                    0 if p.position(peer, id).is_none() => {
                        p.push(path(peer), id);
                        m.push((peer, id));
                    }
                    1 if at < m.len() => {
                        let (old, old_id) = p.remove(at).expect("in range");
                        proptest::prop_assert_eq!((old.peer, old_id), m.remove(at));
                    }
                    2 => {
                        let mut order: Vec<usize> = (0..m.len()).collect();
                        order.rotate_left(at.min(m.len()));
                        p.reorder(&order);
                        m = order.iter().map(|&i| m[i]).collect();
                    }
                    _ => {}
                }
                proptest::prop_assert_eq!(model(&p), m.clone());
                for (i, &(peer, id)) in m.iter().enumerate() {
                    proptest::prop_assert_eq!(p.position(peer, id), Some(i));
                }
                let tagged = matches!(p, Paths::Many(Some(Many::Tagged(_))));
                proptest::prop_assert_eq!(tagged, m.iter().any(|&(_, id)| id != 0));
                if m.len() == 1 && m[0].1 == 0 {
                    proptest::prop_assert!(matches!(p, Paths::One(_)));
                }
            }
        }
    }
}

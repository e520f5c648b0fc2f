//! Hit counters of route maps and prefix lists, for `show route-map`
//! ("Invoked N", as FRR's lib/routemap.c counts) and `show ip prefix-list
//! detail` ("hit count"). The RIB task is the only one that evaluates
//! policies, so a counter is a relaxed load and store (no locked
//! instruction on the hot path); `show` reads it from the same task.
//!
//! Owns only the counting and its reset (`clear route-map counter`,
//! `clear ip prefix-list`, done by the same task, so the single writer
//! stays single). A counter never takes part in comparing
//! configurations: two policies that differ only in their counts are
//! equal, so a reload does not re-evaluate because routes were counted.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// One counter.
#[derive(Default)]
pub struct Hits(AtomicU64);

impl Hits {
    /// Count one. A single writer (the RIB task): no read-modify-write
    /// instruction is needed.
    #[inline]
    pub fn bump(&self) {
        self.0.store(self.0.load(Relaxed).wrapping_add(1), Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }

    fn set(&self, v: u64) {
        self.0.store(v, Relaxed);
    }
}

impl Clone for Hits {
    fn clone(&self) -> Self {
        Hits(AtomicU64::new(self.get()))
    }
}

impl PartialEq for Hits {
    /// Counts are state, not configuration.
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for Hits {}

impl fmt::Debug for Hits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.get())
    }
}

/// The counters of one object (a route map: itself and each entry; a
/// prefix list: each entry).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    pub total: Hits,
    pub entries: Box<[Hits]>,
}

impl Counters {
    pub fn new(entries: usize) -> Self {
        Counters {
            total: Hits::default(),
            entries: (0..entries).map(|_| Hits::default()).collect(),
        }
    }

    /// Count a hit of entry `i` (out of range: nothing).
    #[inline]
    pub fn entry(&self, i: usize) {
        if let Some(h) = self.entries.get(i) {
            h.bump();
        }
    }

    /// Reset the object's own count and every entry's.
    pub fn clear(&self) {
        self.total.set(0);
        for h in self.entries.iter() {
            h.set(0);
        }
    }

    /// Reset entry `i` (out of range: nothing).
    pub fn clear_entry(&self, i: usize) {
        if let Some(h) = self.entries.get(i) {
            h.set(0);
        }
    }

    /// Carry the counts of an unchanged object over a reload.
    pub fn take_from(&self, old: &Counters) {
        self.total.set(old.total.get());
        for (n, o) in self.entries.iter().zip(old.entries.iter()) {
            n.set(o.get());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_compare_equal_and_carry_over() {
        let a = Counters::new(2);
        a.total.bump();
        a.entry(1);
        a.entry(1);
        a.entry(7);
        assert_eq!(a.total.get(), 1);
        assert_eq!(a.entries[1].get(), 2);
        assert_eq!(a, Counters::new(2), "counts are not configuration");
        let b = Counters::new(2);
        b.take_from(&a);
        assert_eq!((b.total.get(), b.entries[1].get()), (1, 2));
        assert_eq!(a.clone().entries[1].get(), 2);
    }

    #[test]
    fn clear_resets_and_counting_goes_on() {
        let a = Counters::new(3);
        a.total.bump();
        a.entry(0);
        a.entry(2);
        a.clear_entry(2);
        a.clear_entry(9);
        assert_eq!(
            (a.total.get(), a.entries[0].get(), a.entries[2].get()),
            (1, 1, 0)
        );
        a.clear();
        assert_eq!(a.total.get(), 0);
        assert!(a.entries.iter().all(|h| h.get() == 0));
        a.total.bump();
        a.entry(1);
        assert_eq!((a.total.get(), a.entries[1].get()), (1, 1));
    }
}

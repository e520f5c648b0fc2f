//! Interning of path attribute sets (as BIRD's `rta` cache): one `Arc`
//! per distinct [`PathAttributes`], so a million routes sharing a few
//! thousand sets store a pointer each and compare by pointer.
//!
//! Owns the set of live attribute sets. Never frees a set still in use:
//! [`Interner::purge`] drops only sets nobody else holds.

use std::collections::HashSet;
use std::sync::Arc;

use crate::packet::PathAttributes;

use super::table::Attrs;

#[derive(Debug, Default)]
pub(crate) struct Interner {
    set: HashSet<Attrs>,
    /// Size after the last purge: purge again when it has doubled.
    watermark: usize,
}

impl Interner {
    /// The shared copy of `attrs`.
    pub fn intern(&mut self, attrs: PathAttributes) -> Attrs {
        if let Some(a) = self.set.get(&attrs) {
            return a.clone();
        }
        let a = Arc::new(attrs);
        self.set.insert(a.clone());
        a
    }

    /// The shared copy of a set we only borrow (cloned on first sight).
    pub fn intern_ref(&mut self, attrs: &PathAttributes) -> Attrs {
        if let Some(a) = self.set.get(attrs) {
            return a.clone();
        }
        self.intern(attrs.clone())
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    /// True when enough sets may be garbage to make a purge worthwhile.
    pub fn wants_purge(&self) -> bool {
        self.set.len() > (2 * self.watermark).max(4096)
    }

    /// Drop every set only the interner holds.
    pub fn purge(&mut self) {
        self.set.retain(|a| Arc::strong_count(a) > 1);
        self.watermark = self.set.len();
    }
}

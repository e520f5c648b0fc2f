//! Prefix lists (FRR `ip prefix-list` / `ipv6 prefix-list`): ordered
//! `seq N permit|deny PREFIX [ge G] [le L]` entries, IPv4 and IPv6 in one
//! list; the first entry that matches decides and a prefix no entry
//! matches is denied.
//!
//! Owns the entry semantics (FRR's ge/le rules). Used by route maps
//! (`match prefix_list`, `match next_hop`) and by a neighbor's
//! `prefix_list_in`/`prefix_list_out`. Never does I/O.

use ipnetwork::IpNetwork;

use super::hits::Counters;
use super::Action;

/// One `seq N permit|deny PREFIX [ge G] [le L]` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixListEntry {
    pub seq: u32,
    pub action: Action,
    pub prefix: IpNetwork,
    pub ge: Option<u8>,
    pub le: Option<u8>,
}

impl PrefixListEntry {
    /// FRR semantics: without ge/le the length must be equal; `ge` alone
    /// means up to the family's maximum; `le` alone means from the
    /// entry's own length.
    pub fn matches(&self, p: &IpNetwork) -> bool {
        let max = match p {
            IpNetwork::V4(_) => 32,
            IpNetwork::V6(_) => 128,
        };
        let same_family = matches!(
            (p, &self.prefix),
            (IpNetwork::V4(_), IpNetwork::V4(_)) | (IpNetwork::V6(_), IpNetwork::V6(_))
        );
        if !same_family || p.prefix() < self.prefix.prefix() || !self.prefix.contains(p.network()) {
            return false;
        }
        let len = p.prefix();
        let (lo, hi) = match (self.ge, self.le) {
            (None, None) => (self.prefix.prefix(), self.prefix.prefix()),
            (ge, le) => (ge.unwrap_or(self.prefix.prefix()), le.unwrap_or(max)),
        };
        lo <= len && len <= hi
    }
}

/// An ordered prefix list: the first matching entry decides, and a prefix
/// no entry matches is denied. Each entry counts the prefixes it decided
/// (FRR's hit count).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrefixList {
    entries: Vec<PrefixListEntry>,
    hits: Counters,
}

impl PrefixList {
    pub fn new(mut entries: Vec<PrefixListEntry>) -> Self {
        entries.sort_by_key(|e| e.seq);
        let hits = Counters::new(entries.len());
        Self { entries, hits }
    }

    pub fn entries(&self) -> &[PrefixListEntry] {
        &self.entries
    }

    /// How many prefixes entry `i` decided.
    pub fn hits(&self, i: usize) -> u64 {
        self.hits.entries.get(i).map_or(0, |h| h.get())
    }

    /// Reset the hit counts of the entries of one family (FRR's prefix
    /// lists are per family, ours hold both) and, given `within`, only
    /// of the entries whose prefix covers it, as FRR's `clear ip
    /// prefix-list NAME A.B.C.D/M` does. Returns how many were reset.
    pub fn clear_counts(&self, v6: bool, within: Option<&IpNetwork>) -> usize {
        let mut n = 0;
        for (i, e) in self.entries.iter().enumerate() {
            let covers = match within {
                Some(p) => {
                    p.is_ipv6() == e.prefix.is_ipv6()
                        && p.prefix() >= e.prefix.prefix()
                        && e.prefix.contains(p.network())
                }
                None => true,
            };
            if e.prefix.is_ipv6() == v6 && covers {
                self.hits.clear_entry(i);
                n += 1;
            }
        }
        n
    }

    /// Keep the counts of `old` when the entries did not change (reload).
    pub fn keep_counts(&self, old: &PrefixList) {
        if self.entries == old.entries {
            self.hits.take_from(&old.hits);
        }
    }

    /// True when the prefix is permitted.
    pub fn permits(&self, p: &IpNetwork) -> bool {
        match self.entries.iter().position(|e| e.matches(p)) {
            Some(i) => {
                self.hits.entry(i);
                self.entries
                    .get(i)
                    .is_some_and(|e| e.action == Action::Permit)
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> IpNetwork {
        s.parse().unwrap()
    }

    fn entry(
        seq: u32,
        action: Action,
        prefix: &str,
        ge: Option<u8>,
        le: Option<u8>,
    ) -> PrefixListEntry {
        PrefixListEntry {
            seq,
            action,
            prefix: p(prefix),
            ge,
            le,
        }
    }

    #[test]
    fn exact_ge_le_and_implicit_deny() {
        let list = PrefixList::new(vec![
            entry(20, Action::Permit, "10.0.0.0/8", Some(16), Some(24)),
            entry(10, Action::Deny, "10.1.0.0/16", None, None),
            entry(30, Action::Permit, "192.0.2.0/24", None, None),
            entry(40, Action::Permit, "2001:db8::/32", None, Some(48)),
            entry(50, Action::Permit, "198.51.100.0/24", Some(28), None),
        ]);
        assert!(!list.permits(&p("10.1.0.0/16")), "seq 10 denies first");
        assert!(list.permits(&p("10.1.2.0/24")));
        assert!(list.permits(&p("10.2.0.0/16")));
        assert!(!list.permits(&p("10.0.0.0/8")), "shorter than ge");
        assert!(!list.permits(&p("10.2.3.0/25")), "longer than le");
        assert!(list.permits(&p("192.0.2.0/24")));
        assert!(!list.permits(&p("192.0.2.0/25")), "exact without ge/le");
        assert!(list.permits(&p("2001:db8::/32")));
        assert!(list.permits(&p("2001:db8:1::/48")));
        assert!(!list.permits(&p("2001:db8:1::/49")));
        assert!(list.permits(&p("198.51.100.16/28")));
        assert!(list.permits(&p("198.51.100.1/32")), "ge alone: up to /32");
        assert!(!list.permits(&p("198.51.100.0/27")));
        assert!(!list.permits(&p("203.0.113.0/24")), "implicit deny");
        assert!(!list.permits(&p("::/0")), "family mismatch");
        // What each entry decided (misses count nowhere).
        let hits: Vec<u64> = (0..5).map(|i| list.hits(i)).collect();
        assert_eq!(hits, vec![1, 2, 1, 2, 2]);
        let again = PrefixList::new(list.entries().to_vec());
        again.keep_counts(&list);
        assert_eq!(again.hits(1), 2);
    }

    #[test]
    fn clear_by_family_and_covering_prefix() {
        let list = PrefixList::new(vec![
            entry(10, Action::Permit, "192.0.2.0/24", None, Some(32)),
            entry(20, Action::Permit, "198.51.100.0/24", None, None),
            entry(30, Action::Permit, "2001:db8::/32", None, Some(64)),
        ]);
        for q in ["192.0.2.1/32", "198.51.100.0/24", "2001:db8:1::/48"] {
            assert!(list.permits(&p(q)));
        }
        let hits = |l: &PrefixList| (0..3).map(|i| l.hits(i)).collect::<Vec<_>>();
        assert_eq!(hits(&list), vec![1, 1, 1]);
        // A prefix no entry covers, and one of the other family: nothing.
        assert_eq!(list.clear_counts(false, Some(&p("203.0.113.0/24"))), 0);
        assert_eq!(list.clear_counts(false, Some(&p("2001:db8::/48"))), 0);
        // Covered by seq 10 only.
        assert_eq!(list.clear_counts(false, Some(&p("192.0.2.128/25"))), 1);
        assert_eq!(hits(&list), vec![0, 1, 1]);
        // `clear ipv6 prefix-list NAME`: the IPv6 entries only.
        assert_eq!(list.clear_counts(true, None), 1);
        assert_eq!(hits(&list), vec![0, 1, 0]);
        assert_eq!(list.clear_counts(false, None), 2);
        assert_eq!(hits(&list), vec![0, 0, 0]);
        // Counting goes on after a clear.
        assert!(list.permits(&p("192.0.2.7/32")));
        assert_eq!(hits(&list), vec![1, 0, 0]);
    }
}

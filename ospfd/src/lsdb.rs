//! The link-state database of one area (or, for AS-scoped types, of the
//! AS): RFC 2328 §12 and the database side of §13 and §14.
//!
//! Owns the LSAs keyed by (type, link state ID, advertising router), their
//! installation time and so their current age. Time is a `now` argument in
//! seconds of a monotonic clock the caller reads; this module never reads a
//! clock, never floods, never sends, and never removes an LSA on its own:
//! it reports what has aged out or needs refreshing and the caller acts.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use crate::lsa::{
    compare_instances, Lsa, LsaHeader, LsaKey, LsaType, DO_NOT_AGE, LS_REFRESH_TIME, MAX_AGE,
    MAX_SEQUENCE_NUMBER,
};

/// Seconds of a monotonic clock, as read by the caller.
pub type Seconds = u64;

/// One installed LSA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LsdbEntry {
    lsa: Lsa,
    installed_at: Seconds,
}

impl LsdbEntry {
    /// The LSA as installed (its header carries the age it arrived with).
    pub fn lsa(&self) -> &Lsa {
        &self.lsa
    }

    /// When the LSA was installed.
    pub fn installed_at(&self) -> Seconds {
        self.installed_at
    }

    /// The LS age at `now` (§14): the received age plus the time since
    /// installation, capped at MaxAge; frozen when DoNotAge is set.
    pub fn age(&self, now: Seconds) -> u16 {
        let h = self.lsa.header();
        if h.age & DO_NOT_AGE != 0 {
            return h.age_value();
        }
        let elapsed = now.saturating_sub(self.installed_at);
        let age = u64::from(h.age_value()).saturating_add(elapsed);
        age.min(u64::from(MAX_AGE)) as u16
    }

    /// The header with the age at `now`, for comparisons and summaries.
    pub fn header_at(&self, now: Seconds) -> LsaHeader {
        let h = *self.lsa.header();
        LsaHeader {
            age: (h.age & DO_NOT_AGE) | self.age(now),
            ..h
        }
    }

    /// The LSA with its age at `now`, ready to flood (the caller adds
    /// InfTransDelay).
    pub fn lsa_at(&self, now: Seconds) -> Lsa {
        self.lsa.with_age(self.header_at(now).age)
    }

    /// True when the LSA has reached MaxAge at `now`.
    pub fn is_max_age(&self, now: Seconds) -> bool {
        self.age(now) >= MAX_AGE
    }
}

/// What installing an LSA did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Installed {
    /// No instance was in the database.
    New,
    /// An older instance was replaced. `contents_changed` says whether the
    /// routing table must be recalculated (§13.2).
    Replaced { old: Lsa, contents_changed: bool },
}

impl Installed {
    /// True when the change can alter routes.
    pub fn needs_spf(&self) -> bool {
        match self {
            Installed::New => true,
            Installed::Replaced {
                contents_changed, ..
            } => *contents_changed,
        }
    }
}

/// A link-state database.
#[derive(Clone, Debug, Default)]
pub struct Lsdb {
    entries: BTreeMap<LsaKey, LsdbEntry>,
}

impl Lsdb {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, key: &LsaKey) -> Option<&LsdbEntry> {
        self.entries.get(key)
    }

    /// Installs `lsa` at `now`, replacing any instance with the same key
    /// (§13.2). The caller has decided the LSA is newer (§13 step 5).
    pub fn install(&mut self, lsa: Lsa, now: Seconds) -> Installed {
        let key = lsa.key();
        let changed = self.entries.get(&key).map(|old| {
            !old.lsa.same_contents(&lsa) || old.is_max_age(now) != lsa.header().is_max_age()
        });
        let entry = LsdbEntry {
            lsa,
            installed_at: now,
        };
        match (self.entries.insert(key, entry), changed) {
            (Some(old), Some(contents_changed)) => Installed::Replaced {
                old: old.lsa,
                contents_changed,
            },
            _ => Installed::New,
        }
    }

    /// Removes an LSA (after a MaxAge LSA has been acknowledged by every
    /// neighbor, §14).
    pub fn remove(&mut self, key: &LsaKey) -> Option<Lsa> {
        self.entries.remove(key).map(|e| e.lsa)
    }

    /// All entries, ordered by key.
    pub fn iter(&self) -> impl Iterator<Item = (&LsaKey, &LsdbEntry)> {
        self.entries.iter()
    }

    /// The entries of one LS type, ordered by link state ID then
    /// advertising router.
    pub fn iter_type(&self, lsa_type: LsaType) -> impl Iterator<Item = (&LsaKey, &LsdbEntry)> {
        let lo = LsaKey::new(lsa_type, Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED);
        let hi = LsaKey::new(lsa_type, Ipv4Addr::BROADCAST, Ipv4Addr::BROADCAST);
        self.entries.range(lo..=hi)
    }

    /// The instances of one (type, link state ID) from any advertising
    /// router: a network-LSA is found from a transit link by its ID alone.
    pub fn iter_id(
        &self,
        lsa_type: LsaType,
        lsid: Ipv4Addr,
    ) -> impl Iterator<Item = (&LsaKey, &LsdbEntry)> {
        let lo = LsaKey::new(lsa_type, lsid, Ipv4Addr::UNSPECIFIED);
        let hi = LsaKey::new(lsa_type, lsid, Ipv4Addr::BROADCAST);
        self.entries.range(lo..=hi)
    }

    /// Compares a received instance with the database copy (§13 step 5 and
    /// following): `None` when there is no copy, `Greater` when the
    /// received one is newer, `Equal` for the same instance, `Less` when
    /// the database copy is newer.
    pub fn compare(&self, received: &LsaHeader, now: Seconds) -> Option<Ordering> {
        let entry = self.entries.get(&received.key())?;
        Some(compare_instances(received, &entry.header_at(now)))
    }

    /// True when an instance was installed less than MinLSArrival seconds
    /// before `now` (§13 step 5a: such an update is discarded).
    pub fn arrived_within(&self, key: &LsaKey, now: Seconds, seconds: Seconds) -> bool {
        self.entries
            .get(key)
            .is_some_and(|e| now.saturating_sub(e.installed_at) < seconds)
    }

    /// Keys of the LSAs that have reached MaxAge at `now` (§14): the caller
    /// floods them and removes them once acknowledged.
    pub fn max_aged(&self, now: Seconds) -> Vec<LsaKey> {
        self.entries
            .iter()
            .filter(|(_, e)| e.is_max_age(now))
            .map(|(k, _)| *k)
            .collect()
    }

    /// Keys of the LSAs originated by `router_id` whose age has reached
    /// LSRefreshTime at `now` and are not being flushed (§12.4): the caller
    /// re-originates them.
    pub fn refresh_due(&self, router_id: Ipv4Addr, now: Seconds) -> Vec<LsaKey> {
        self.entries
            .iter()
            .filter(|(k, e)| {
                k.adv_rtr == router_id
                    && !e.is_max_age(now)
                    && !e.lsa.header().is_max_age()
                    && e.age(now) >= LS_REFRESH_TIME
            })
            .map(|(k, _)| *k)
            .collect()
    }

    /// The sequence number for a new instance of `key` originated by this
    /// router (§12.1.6): InitialSequenceNumber when none is installed, the
    /// installed one plus one otherwise, and `None` when the installed one
    /// is MaxSequenceNumber (it must be flushed at MaxAge first).
    pub fn next_sequence(&self, key: &LsaKey) -> Option<i32> {
        match self.entries.get(key) {
            None => Some(crate::lsa::INITIAL_SEQUENCE_NUMBER),
            Some(e) if e.lsa.header().seq == MAX_SEQUENCE_NUMBER => None,
            Some(e) => Some(e.lsa.header().seq.wrapping_add(1)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lsa::{LsaBody, LsaHeader, RouterLsa, INITIAL_SEQUENCE_NUMBER};
    use crate::options::Options;

    fn rtr(id: u8, seq: i32, age: u16, links: usize) -> Lsa {
        let id = Ipv4Addr::new(10, 0, 0, id);
        let links = (0..links)
            .map(|n| crate::lsa::RouterLink {
                link_id: Ipv4Addr::new(192, 0, 2, n as u8),
                link_data: Ipv4Addr::new(255, 255, 255, 255),
                link_type: crate::lsa::RouterLinkType::Stub,
                metric: 10,
            })
            .collect();
        Lsa::new(
            LsaHeader::new(age, Options::E, LsaType::ROUTER, id, id, seq),
            LsaBody::Router(RouterLsa {
                flags: Default::default(),
                links,
            }),
        )
        .unwrap()
    }

    #[test]
    fn install_lookup_replace() {
        let mut db = Lsdb::new();
        let a = rtr(1, INITIAL_SEQUENCE_NUMBER, 0, 1);
        let key = a.key();
        assert_eq!(db.install(a.clone(), 100), Installed::New);
        assert_eq!(db.get(&key).unwrap().lsa(), &a);
        // Same contents, newer sequence: no SPF needed.
        let b = rtr(1, INITIAL_SEQUENCE_NUMBER + 1, 0, 1);
        let out = db.install(b.clone(), 110);
        assert!(!out.needs_spf());
        // A new link: SPF needed.
        let c = rtr(1, INITIAL_SEQUENCE_NUMBER + 2, 0, 2);
        assert!(db.install(c, 120).needs_spf());
        assert_eq!(db.len(), 1);
        assert_eq!(db.iter_type(LsaType::ROUTER).count(), 1);
        assert_eq!(db.iter_type(LsaType::NETWORK).count(), 0);
        assert!(db.remove(&key).is_some());
        assert!(db.is_empty());
    }

    #[test]
    fn aging_and_max_age() {
        let mut db = Lsdb::new();
        let a = rtr(1, INITIAL_SEQUENCE_NUMBER, 100, 1);
        let key = a.key();
        db.install(a, 1000);
        let e = db.get(&key).unwrap();
        assert_eq!(e.age(1000), 100);
        assert_eq!(e.age(1500), 600);
        assert_eq!(e.age(999), 100, "a clock going backwards never rejuvenates");
        assert_eq!(e.lsa_at(1010).header().age, 110);
        assert_eq!(e.lsa_at(1010).raw()[0..2], 110u16.to_be_bytes());
        assert!(db.max_aged(1000 + 3499).is_empty());
        assert_eq!(db.max_aged(1000 + 3500), vec![key]);
        assert_eq!(db.get(&key).unwrap().age(99_999), MAX_AGE);
    }

    #[test]
    fn refresh_due_only_self_originated() {
        let mut db = Lsdb::new();
        db.install(rtr(1, INITIAL_SEQUENCE_NUMBER, 0, 1), 0);
        db.install(rtr(2, INITIAL_SEQUENCE_NUMBER, 0, 1), 0);
        let me = Ipv4Addr::new(10, 0, 0, 1);
        assert!(db.refresh_due(me, 1799).is_empty());
        let due = db.refresh_due(me, 1800);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].adv_rtr, me);
    }

    #[test]
    fn compare_with_database_copy() {
        let mut db = Lsdb::new();
        let a = rtr(1, INITIAL_SEQUENCE_NUMBER + 5, 0, 1);
        db.install(a.clone(), 0);
        let newer = rtr(1, INITIAL_SEQUENCE_NUMBER + 6, 0, 1);
        let older = rtr(1, INITIAL_SEQUENCE_NUMBER + 4, 0, 1);
        assert_eq!(db.compare(newer.header(), 10), Some(Ordering::Greater));
        assert_eq!(db.compare(older.header(), 10), Some(Ordering::Less));
        assert_eq!(db.compare(a.header(), 10), Some(Ordering::Equal));
        // The same instance, much younger than the aged database copy.
        assert_eq!(db.compare(a.header(), 1000), Some(Ordering::Greater));
        assert_eq!(db.compare(rtr(9, 1, 0, 0).header(), 0), None);
        assert!(db.arrived_within(&a.key(), 0, 1));
        assert!(!db.arrived_within(&a.key(), 1, 1));
    }

    #[test]
    fn sequence_numbers() {
        let mut db = Lsdb::new();
        let a = rtr(1, MAX_SEQUENCE_NUMBER - 1, 0, 1);
        let key = a.key();
        assert_eq!(db.next_sequence(&key), Some(INITIAL_SEQUENCE_NUMBER));
        db.install(a, 0);
        assert_eq!(db.next_sequence(&key), Some(MAX_SEQUENCE_NUMBER));
        db.install(rtr(1, MAX_SEQUENCE_NUMBER, 0, 1), 0);
        assert_eq!(db.next_sequence(&key), None);
    }

    #[test]
    fn network_lsa_found_by_id() {
        use crate::lsa::NetworkLsa;
        let mut db = Lsdb::new();
        let lsid = Ipv4Addr::new(192, 0, 2, 1);
        let lsa = Lsa::new(
            LsaHeader::new(
                0,
                Options::E,
                LsaType::NETWORK,
                lsid,
                Ipv4Addr::new(1, 1, 1, 1),
                INITIAL_SEQUENCE_NUMBER,
            ),
            LsaBody::Network(NetworkLsa {
                mask: Ipv4Addr::new(255, 255, 255, 0),
                attached_routers: vec![Ipv4Addr::new(1, 1, 1, 1)],
            }),
        )
        .unwrap();
        db.install(lsa, 0);
        db.install(rtr(1, 1, 0, 0), 0);
        assert_eq!(db.iter_id(LsaType::NETWORK, lsid).count(), 1);
        assert_eq!(
            db.iter_id(LsaType::NETWORK, Ipv4Addr::new(192, 0, 2, 2))
                .count(),
            0
        );
    }
}

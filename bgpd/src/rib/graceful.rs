//! Graceful Restart, receiving speaker ("helper") side (RFC 4724 §4.2):
//! when the session of a peer that advertised Graceful Restart ends
//! without a NOTIFICATION, its paths stay in the RIB, marked stale, and
//! keep forwarding. The peer's next session replaces them; its End-of-RIB
//! for a family removes the ones it did not send again. The peer's
//! Restart Time bounds the wait for the session, our stale time the wait
//! for End-of-RIB afterwards.
//!
//! Owns the stale marks ([`Stale`]): a path of a restarting peer is stale
//! when its arrival counter is not after the mark. Never removes a path
//! the new session sent, never keeps one past the deadline.

use std::time::{Duration, Instant};

use crate::packet::{AfiSafi, Open};

use super::{Fam, PeerId, Rib};

/// The peer's Graceful Restart capability on a session where both sides
/// advertised one (RFC 4724 §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerGr {
    /// The peer's Restart Time: how long we wait for its new session.
    pub restart_time: Duration,
    /// Our stale time: how long we wait for End-of-RIB once it is back.
    pub stale_time: Duration,
    /// Families the capability lists: their paths are kept on a restart.
    pub families: Vec<AfiSafi>,
    /// Families with the F bit: the peer kept forwarding for them, so our
    /// stale paths of an earlier session remain valid.
    pub forwarding: Vec<AfiSafi>,
}

impl PeerGr {
    /// The peer's side when both OPENs carry Graceful Restart; `None`
    /// otherwise (no helper role without our own capability).
    pub fn negotiate(local: &Open, remote: &Open, stale_time: Duration) -> Option<PeerGr> {
        local.graceful_restart()?;
        let gr = remote.graceful_restart()?;
        Some(PeerGr {
            restart_time: Duration::from_secs(u64::from(gr.restart_time)),
            stale_time,
            families: gr.families.iter().map(|f| f.family).collect(),
            forwarding: gr
                .families
                .iter()
                .filter(|f| f.forwarding_preserved)
                .map(|f| f.family)
                .collect(),
        })
    }
}

/// A restarting peer's stale paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stale {
    /// Paths that arrived at or before this counter value are stale.
    pub seq: u32,
    pub families: Vec<Fam>,
    pub deadline: Instant,
}

impl Stale {
    /// True when a path that arrived at `path_seq` in family `fam` is stale.
    pub fn covers(&self, fam: Fam, path_seq: u32) -> bool {
        self.families.contains(&fam) && (self.seq.wrapping_sub(path_seq) as i32) >= 0
    }
}

/// A peer's Graceful Restart state as `show bgp neighbors` displays it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrStatus {
    /// Families whose paths are kept stale.
    pub stale_families: Vec<AfiSafi>,
    /// Time until the stale paths are removed.
    pub remaining: Duration,
}

impl Rib {
    /// The session of `id` ended without a NOTIFICATION and the peer had
    /// advertised Graceful Restart: keep its paths of the families it
    /// listed, stale, for its Restart Time; withdraw the others.
    pub fn peer_restarting(&mut self, id: PeerId, now: Instant) {
        let Some(gr) = self
            .peers
            .get(&id)
            .filter(|p| p.up)
            .and_then(|p| p.info.graceful_restart.clone())
        else {
            self.peer_down(id);
            return;
        };
        let families: Vec<Fam> = gr
            .families
            .iter()
            .filter_map(|f| Fam::from_afi_safi(*f))
            .collect();
        tracing::info!(
            peer = id,
            ?families,
            restart_secs = gr.restart_time.as_secs(),
            "peer restarting: its routes are kept stale (RFC 4724)"
        );
        let stale = Stale {
            seq: self.seq,
            families: families.clone(),
            deadline: now + gr.restart_time,
        };
        self.detach_peer(id);
        if let Some(ps) = self.peers.get_mut(&id) {
            ps.stale = Some(stale);
        }
        self.sweep(id, |fam, _| !families.contains(&fam));
    }

    /// Called by `peer_up` with the stale state of the previous session:
    /// families the new capability does not preserve lose their stale
    /// paths at once (RFC 4724 §4.2); the rest wait for End-of-RIB.
    pub(super) fn resume_stale(&mut self, id: PeerId, stale: Option<Stale>, now: Instant) {
        let Some(mut stale) = stale else {
            return;
        };
        let gr = self
            .peers
            .get(&id)
            .and_then(|p| p.info.graceful_restart.clone());
        let (kept, dropped): (Vec<Fam>, Vec<Fam>) = stale.families.iter().partition(|f| {
            gr.as_ref()
                .is_some_and(|g| g.forwarding.contains(&f.afi_safi()))
        });
        if !dropped.is_empty() {
            tracing::info!(peer = id, families = ?dropped, "restarted peer did not preserve forwarding: stale routes removed");
            let cut = stale.clone();
            self.sweep(id, |fam, seq| {
                dropped.contains(&fam) && cut.covers(fam, seq)
            });
        }
        stale.families = kept;
        if stale.families.is_empty() {
            return;
        }
        if let Some(g) = &gr {
            stale.deadline = now + g.stale_time;
        }
        if let Some(ps) = self.peers.get_mut(&id) {
            ps.stale = Some(stale);
        }
    }

    /// The peer sent End-of-RIB for `family`: its stale paths of that
    /// family that it did not send again are removed.
    pub fn end_of_rib(&mut self, id: PeerId, family: AfiSafi) {
        let Some(fam) = Fam::from_afi_safi(family) else {
            return;
        };
        let Some(stale) = self
            .peers
            .get_mut(&id)
            .filter(|p| p.up)
            .and_then(|p| p.stale.take())
        else {
            return;
        };
        tracing::info!(peer = id, %family, "End-of-RIB: stale routes not re-learned removed");
        self.sweep(id, |f, seq| f == fam && stale.covers(f, seq));
        let mut rest = stale;
        rest.families.retain(|f| *f != fam);
        if !rest.families.is_empty() {
            if let Some(ps) = self.peers.get_mut(&id) {
                ps.stale = Some(rest);
            }
        }
    }

    /// Remove the stale paths whose deadline passed (the peer did not come
    /// back within its Restart Time, or sent no End-of-RIB in our stale
    /// time). Returns whether anything was removed.
    pub fn expire_stale(&mut self, now: Instant) -> bool {
        let due: Vec<PeerId> = self
            .peers
            .iter()
            .filter(|(_, p)| p.stale.as_ref().is_some_and(|s| s.deadline <= now))
            .map(|(id, _)| *id)
            .collect();
        for &id in &due {
            let Some(stale) = self.peers.get_mut(&id).and_then(|p| p.stale.take()) else {
                continue;
            };
            tracing::info!(
                peer = id,
                "graceful restart timer expired: stale routes removed"
            );
            self.sweep(id, |f, seq| stale.covers(f, seq));
        }
        !due.is_empty()
    }

    /// The stale state of a peer, for display.
    pub fn gr_status(&self, id: PeerId, now: Instant) -> Option<GrStatus> {
        let s = self.peers.get(&id)?.stale.as_ref()?;
        Some(GrStatus {
            stale_families: s.families.iter().map(|f| f.afi_safi()).collect(),
            remaining: s.deadline.saturating_duration_since(now),
        })
    }

    /// Number of stale paths of a peer (counts every table; for tests and
    /// display).
    pub fn stale_paths(&self, id: PeerId) -> usize {
        let Some(s) = self.peers.get(&id).and_then(|p| p.stale.as_ref()) else {
            return 0;
        };
        [Fam::V4, Fam::V6]
            .into_iter()
            .map(|fam| {
                (0..self.tables.slots(fam))
                    .filter_map(|slot| self.tables.dest(fam, slot))
                    // Several per prefix with ADD-PATH (RFC 7911).
                    .map(|d| {
                        d.paths
                            .as_slice()
                            .iter()
                            .filter(|p| p.peer == id && s.covers(fam, p.seq))
                            .count()
                    })
                    .sum::<usize>()
            })
            .sum()
    }
}

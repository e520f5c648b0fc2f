//! VTEP reachability: whether the underlay has a route to each remote VTEP.
//!
//! Every VTEP address some remote entry points at is tracked in zebrad's RIB
//! through the nexthop-tracking machinery (the same resolution BGP next hops
//! get, RFC 4271 section 9.1.2.1): this module counts the references,
//! tells the caller when to register or unregister an address, and keeps
//! the last resolution. Entries toward an unreachable VTEP are kept out of
//! the kernel by [`super::Vtep`]. Never: talks to the RIB itself.

use std::collections::HashMap;
use std::net::IpAddr;

use ipnetwork::IpNetwork;
use proto::Source;

/// What the RIB said about one VTEP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VtepReach {
    pub resolved: bool,
    pub via: Option<IpNetwork>,
    pub via_source: Option<Source>,
}

#[derive(Debug, Default)]
struct Tracked {
    refs: usize,
    state: VtepReach,
}

/// The tracked VTEPs.
#[derive(Debug, Default)]
pub struct Reach {
    vteps: HashMap<IpAddr, Tracked>,
}

impl Reach {
    /// One more entry points at `vtep`. `true`: the first one; the caller
    /// registers it with the RIB and reports the answer with [`Reach::update`].
    pub fn reference(&mut self, vtep: IpAddr) -> bool {
        let t = self.vteps.entry(vtep).or_default();
        t.refs += 1;
        t.refs == 1
    }

    /// One entry fewer points at `vtep`. `true`: it was the last; the caller
    /// unregisters it.
    pub fn unreference(&mut self, vtep: IpAddr) -> bool {
        let Some(t) = self.vteps.get_mut(&vtep) else {
            return false;
        };
        t.refs = t.refs.saturating_sub(1);
        if t.refs == 0 {
            self.vteps.remove(&vtep);
            return true;
        }
        false
    }

    /// The RIB's answer for `vtep`; `true` when reachability changed.
    pub fn update(&mut self, vtep: IpAddr, state: VtepReach) -> bool {
        match self.vteps.get_mut(&vtep) {
            Some(t) => {
                let changed = t.state.resolved != state.resolved;
                t.state = state;
                changed
            }
            None => false,
        }
    }

    pub fn tracked(&self, vtep: IpAddr) -> bool {
        self.vteps.contains_key(&vtep)
    }

    pub fn reachable(&self, vtep: IpAddr) -> bool {
        self.vteps.get(&vtep).is_some_and(|t| t.state.resolved)
    }

    pub fn state(&self, vtep: IpAddr) -> VtepReach {
        self.vteps.get(&vtep).map(|t| t.state).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_and_changes() {
        let v: IpAddr = "192.0.2.2".parse().unwrap();
        let mut r = Reach::default();
        assert!(r.reference(v));
        assert!(!r.reference(v));
        assert!(!r.reachable(v));
        let up = VtepReach {
            resolved: true,
            via: Some("192.0.2.0/24".parse().unwrap()),
            via_source: Some(Source::Connected),
        };
        assert!(r.update(v, up));
        assert!(!r.update(v, up));
        assert!(r.reachable(v));
        assert!(!r.unreference(v));
        assert!(r.unreference(v));
        assert!(!r.tracked(v));
        assert!(!r.update(v, up));
    }
}

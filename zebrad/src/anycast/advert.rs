//! What a service advertises, decided from its health, drain, load-balancer
//! reports and whether another site has its prefixes.
//!
//! Owns: the service's effective state ([`State`]: up, down, depref,
//! last-site, held-down, graceful-shutdown, drained) and the route that goes
//! with it (metric and protocol attributes: communities, large communities,
//! MED, AS-path prepends; RFC 1997, RFC 8092, RFC 4271 §5.1.4). A drained
//! service is first advertised with GRACEFUL_SHUTDOWN (RFC 8326 §3) for its
//! drain time, then withdrawn. A failed service with last-site protection
//! stays advertised depreferred as a last resort (bgpd gives that local path
//! LOCAL_PREF 0, so any other site's path wins and reaches zebrad's RIB)
//! until the RIB shows another site's route for its prefixes.
//!
//! Never: reads the clock, the RIB or files; every input is passed in.

use proto::zebra as pb;

use super::fsm::Health;
use super::{DownAction, Service};

/// RFC 8326 GRACEFUL_SHUTDOWN well-known community (65535:0).
pub const GRACEFUL_SHUTDOWN: u32 = 0xffff_0000;

/// BGP attributes of a service's routes in one of its states.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Attrs {
    /// RFC 1997 communities, `ASN << 16 | value`.
    pub communities: Vec<u32>,
    /// RFC 8092 large communities (global, data1, data2).
    pub large_communities: Vec<(u32, u32, u32)>,
    pub med: Option<u32>,
    /// Extra copies of the local AS.
    pub prepend: u32,
}

impl Attrs {
    fn wire(&self, extra: Option<u32>, last_resort: bool) -> pb::RouteAttributes {
        let mut communities = self.communities.clone();
        if let Some(c) = extra {
            if !communities.contains(&c) {
                communities.push(c);
            }
        }
        pb::RouteAttributes {
            communities,
            large_communities: self
                .large_communities
                .iter()
                .map(|&(g, a, b)| pb::LargeCommunity {
                    global_admin: g,
                    local_data1: a,
                    local_data2: b,
                })
                .collect(),
            med: self.med,
            as_path_prepend: self.prepend,
            last_resort,
        }
    }
}

/// A service's effective state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Nothing confirmed yet: not advertised.
    Init,
    Up,
    /// Down and withdrawn.
    Down,
    /// Down, advertised depreferred (down action `depref`).
    Depref,
    /// Down, kept advertised depreferred: no other site has the prefixes.
    LastSite,
    /// Up but held down by flap damping.
    HeldDown,
    /// Drained: advertised with GRACEFUL_SHUTDOWN until the drain time ends.
    GracefulShutdown,
    /// Drained and withdrawn.
    Drained,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Init => "init",
            State::Up => "up",
            State::Down => "down",
            State::Depref => "depref",
            State::LastSite => "last-site",
            State::HeldDown => "held-down",
            State::GracefulShutdown => "graceful-shutdown",
            State::Drained => "drained",
        }
    }
}

/// Where a drain is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DrainPhase {
    GracefulShutdown,
    Withdrawn,
}

/// Everything the decision depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inputs {
    /// Confirmed health (checks and load-balancer reports combined).
    pub health: Health,
    /// Held down by flap damping.
    pub suppressed: bool,
    pub drain: Option<DrainPhase>,
    /// Every prefix of the service has a route from another site (bgp or
    /// ospf) in the RIB.
    pub elsewhere: bool,
}

/// The route a service's prefixes are advertised with.
#[derive(Debug, Clone, PartialEq)]
pub struct Advert {
    pub metric: u32,
    pub attrs: pb::RouteAttributes,
}

/// The effective state and the advertisement (None: withdrawn).
pub fn decide(svc: &Service, i: &Inputs) -> (State, Option<Advert>) {
    let healthy = i.health == Health::Up && !i.suppressed;
    let up = || Advert {
        metric: svc.metric,
        attrs: svc.attrs.wire(None, false),
    };
    match i.drain {
        Some(DrainPhase::GracefulShutdown) if healthy => {
            return (
                State::GracefulShutdown,
                Some(Advert {
                    metric: svc.metric,
                    attrs: svc.attrs.wire(Some(GRACEFUL_SHUTDOWN), false),
                }),
            )
        }
        Some(_) => return (State::Drained, None),
        None => {}
    }
    if healthy {
        return (State::Up, Some(up()));
    }
    if i.health == Health::Init && !i.suppressed {
        return (State::Init, None);
    }
    let down = if i.suppressed && i.health == Health::Up {
        State::HeldDown
    } else {
        State::Down
    };
    let depref = |last_resort| Advert {
        metric: svc.depref_metric,
        attrs: {
            let mut a = svc.depref.wire(None, last_resort);
            if a.med.is_none() {
                a.med = Some(svc.depref_metric);
            }
            a
        },
    };
    if svc.down_action == DownAction::Depref {
        let st = if down == State::HeldDown {
            State::HeldDown
        } else {
            State::Depref
        };
        return (st, Some(depref(false)));
    }
    if svc.last_site && !i.elsewhere {
        return (State::LastSite, Some(depref(true)));
    }
    (down, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anycast::{Check, CheckKind};
    use std::time::Duration;

    fn svc() -> Service {
        let mut s = Service::new(
            "web",
            vec!["192.0.2.1/32".parse().unwrap()],
            vec![Check {
                kind: CheckKind::Tcp {
                    target: "127.0.0.1:80".parse().unwrap(),
                },
                timeout: Duration::from_secs(1),
            }],
        );
        s.metric = 10;
        s.attrs.communities = vec![65000 << 16 | 100];
        s.attrs.med = Some(10);
        s.depref.prepend = 3;
        s.depref.communities = vec![65000 << 16 | 666];
        s
    }

    fn inp(health: Health) -> Inputs {
        Inputs {
            health,
            suppressed: false,
            drain: None,
            elsewhere: false,
        }
    }

    #[test]
    fn up_carries_the_configured_attributes() {
        let (st, a) = decide(&svc(), &inp(Health::Up));
        assert_eq!(st, State::Up);
        let a = a.unwrap();
        assert_eq!(a.metric, 10);
        assert_eq!(a.attrs.communities, vec![65000 << 16 | 100]);
        assert_eq!(a.attrs.med, Some(10));
        assert_eq!(a.attrs.as_path_prepend, 0);
        assert!(!a.attrs.last_resort);
        assert_eq!(decide(&svc(), &inp(Health::Init)), (State::Init, None));
    }

    #[test]
    fn down_withdraws_or_deprefs() {
        let mut s = svc();
        assert_eq!(decide(&s, &inp(Health::Down)), (State::Down, None));
        s.down_action = DownAction::Depref;
        let (st, a) = decide(&s, &inp(Health::Down));
        assert_eq!(st, State::Depref);
        let a = a.unwrap();
        assert_eq!(a.metric, 1000);
        assert_eq!(a.attrs.med, Some(1000), "MED defaults to the depref metric");
        assert_eq!(a.attrs.as_path_prepend, 3);
        assert_eq!(a.attrs.communities, vec![65000 << 16 | 666]);
        assert!(!a.attrs.last_resort);
        let mut i = inp(Health::Up);
        i.suppressed = true;
        assert_eq!(decide(&s, &i).0, State::HeldDown);
        assert!(decide(&s, &i).1.is_some());
    }

    #[test]
    fn last_site_keeps_the_prefix_until_another_site_has_it() {
        let mut s = svc();
        s.last_site = true;
        let (st, a) = decide(&s, &inp(Health::Down));
        assert_eq!(st, State::LastSite);
        assert!(a.unwrap().attrs.last_resort);
        let mut i = inp(Health::Down);
        i.elsewhere = true;
        assert_eq!(decide(&s, &i), (State::Down, None));
        // Healthy: advertised normally whether or not another site is.
        i.health = Health::Up;
        assert_eq!(decide(&s, &i).0, State::Up);
        // Never confirmed: nothing to protect.
        assert_eq!(decide(&s, &inp(Health::Init)).0, State::Init);
    }

    #[test]
    fn drain_is_graceful_shutdown_then_withdrawal() {
        let s = svc();
        let mut i = inp(Health::Up);
        i.drain = Some(DrainPhase::GracefulShutdown);
        let (st, a) = decide(&s, &i);
        assert_eq!(st, State::GracefulShutdown);
        let a = a.unwrap();
        assert_eq!(a.metric, 10);
        assert_eq!(
            a.attrs.communities,
            vec![65000 << 16 | 100, GRACEFUL_SHUTDOWN]
        );
        i.drain = Some(DrainPhase::Withdrawn);
        assert_eq!(decide(&s, &i), (State::Drained, None));
        // A drained service that is also down is simply withdrawn, even
        // with last-site protection: the operator asked for it.
        let mut s = svc();
        s.last_site = true;
        i.health = Health::Down;
        i.drain = Some(DrainPhase::GracefulShutdown);
        assert_eq!(decide(&s, &i), (State::Drained, None));
    }
}

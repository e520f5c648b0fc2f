//! Route-leak prevention with the Only-to-Customer attribute (RFC 9234
//! §5): what a route's OTC means on the way in from, and on the way out
//! to, a neighbor whose BGP role was negotiated.
//!
//! Owns the ingress rules (a route with OTC from a customer or an RS
//! client, or from a peer with an OTC other than the peer's AS, is a leak
//! and never used; from a provider, a peer or a route server it gets
//! OTC = the neighbor's AS when it has none) and the egress rules (a
//! route with OTC never goes to a provider, a peer or a route server; to
//! a customer, a peer or an RS client it leaves with OTC = our AS when it
//! has none). The role is ours toward the neighbor. Never runs for a
//! session without a role: the callers check `Option<Role>` first, so
//! sessions without roles pay one branch.

use crate::packet::{PathAttributes, Role};

/// What a received route's OTC means (§5, ingress procedure).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ingress {
    /// Use it as received.
    Keep,
    /// A route leak: ineligible, never used (as FRR does).
    Leak,
    /// Use it with OTC set to this AS (the sending neighbor's).
    Mark(u32),
}

/// The ingress rule for a route from a neighbor of AS `peer_as`, toward
/// which our role is `role`.
pub(crate) fn ingress(role: Option<Role>, peer_as: u32, a: &PathAttributes) -> Ingress {
    let Some(role) = role else {
        return Ingress::Keep;
    };
    match (role, a.otc) {
        // The sender is our customer or our RS client: it must not pass
        // on a route that already went down or across.
        (Role::Provider | Role::RouteServer, Some(_)) => Ingress::Leak,
        (Role::Provider | Role::RouteServer, None) => Ingress::Keep,
        (Role::Peer, Some(otc)) if otc != peer_as => Ingress::Leak,
        (Role::Peer | Role::Customer | Role::RouteServerClient, Some(_)) => Ingress::Keep,
        (Role::Peer | Role::Customer | Role::RouteServerClient, None) => Ingress::Mark(peer_as),
    }
}

/// The egress rule toward a neighbor toward which our role is `role`, on
/// attributes already rewritten for it: false when the route must not be
/// sent; OTC set to `local_as` where it goes down or across.
pub(crate) fn egress(role: Option<Role>, local_as: u32, a: &mut PathAttributes) -> bool {
    let Some(role) = role else {
        return true;
    };
    match role {
        // Up to a provider or a route server, or across to a peer: never
        // a route that already went down or across.
        Role::Customer | Role::RouteServerClient if a.otc.is_some() => false,
        Role::Peer if a.otc.is_some() => false,
        Role::Customer | Role::RouteServerClient => true,
        Role::Provider | Role::RouteServer | Role::Peer => {
            a.otc.get_or_insert(local_as);
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(otc: Option<u32>) -> PathAttributes {
        PathAttributes {
            otc,
            ..PathAttributes::default()
        }
    }

    #[test]
    fn ingress_rules() {
        let none = with(None);
        let from_65002 = with(Some(65002));
        let from_65009 = with(Some(65009));
        assert_eq!(ingress(None, 65002, &from_65009), Ingress::Keep);
        // From a customer / RS client.
        for ours in [Role::Provider, Role::RouteServer] {
            assert_eq!(ingress(Some(ours), 65002, &from_65002), Ingress::Leak);
            assert_eq!(ingress(Some(ours), 65002, &none), Ingress::Keep);
        }
        // From a peer.
        assert_eq!(ingress(Some(Role::Peer), 65002, &from_65009), Ingress::Leak);
        assert_eq!(ingress(Some(Role::Peer), 65002, &from_65002), Ingress::Keep);
        assert_eq!(
            ingress(Some(Role::Peer), 65002, &none),
            Ingress::Mark(65002)
        );
        // From a provider / route server.
        for ours in [Role::Customer, Role::RouteServerClient] {
            assert_eq!(ingress(Some(ours), 65002, &from_65009), Ingress::Keep);
            assert_eq!(ingress(Some(ours), 65002, &none), Ingress::Mark(65002));
        }
    }

    #[test]
    fn egress_rules() {
        let mut a = with(None);
        assert!(egress(None, 65001, &mut a));
        assert_eq!(a.otc, None);
        // Down to a customer / RS client, across to a peer: marked.
        for ours in [Role::Provider, Role::RouteServer, Role::Peer] {
            let mut a = with(None);
            assert!(egress(Some(ours), 65001, &mut a));
            assert_eq!(a.otc, Some(65001));
        }
        // A marked route keeps its OTC going down.
        let mut a = with(Some(65009));
        assert!(egress(Some(Role::Provider), 65001, &mut a));
        assert_eq!(a.otc, Some(65009));
        // Up to a provider / route server, across to a peer: never marked.
        for ours in [Role::Customer, Role::RouteServerClient, Role::Peer] {
            assert!(!egress(Some(ours), 65001, &mut with(Some(65009))));
        }
        for ours in [Role::Customer, Role::RouteServerClient] {
            let mut a = with(None);
            assert!(egress(Some(ours), 65001, &mut a));
            assert_eq!(a.otc, None);
        }
    }
}

//! BGP roles and the Only-to-Customer attribute (RFC 9234 §5) through the
//! RIB: leaks dropped on import and counted, OTC added on import from
//! providers and peers and on export to customers and peers, and routes
//! with OTC kept from providers and peers.

use super::*;
use crate::packet::Role;

const A: &str = "203.0.113.0/24";

/// eBGP peer `id` of AS 6500`id` toward which our role is `role`.
fn role_peer(id: PeerId, role: Role) -> PeerInfo {
    let mut info = peer(id, 65000 + id);
    info.caps = SessionCaps {
        local_role: Some(role),
        peer_role: Some(role.expected_peer()),
        ..SessionCaps::four_octet()
    };
    info
}

fn with_otc(path: &[u32], otc: Option<u32>) -> PathAttributes {
    PathAttributes {
        otc,
        ..attrs(path, "198.51.100.1")
    }
}

#[test]
fn leak_from_customer_is_dropped_and_counted() {
    let mut rib = rib_with(cfg(), &[role_peer(1, Role::Provider)]);
    send(
        &mut rib,
        1,
        announce(with_otc(&[65001, 65009], Some(65009)), &[A]),
    );
    resolve_all(&mut rib);
    assert!(best_of(&rib, A).is_none(), "a leak is never used");
    let v = rib.loc_rib(AfiSafi::IPV4_UNICAST, Some(p(A)));
    assert_eq!(v.first().and_then(|v| v.reason), Some(Reason::RouteLeak));
    assert_eq!(rib.peer_leaks(1), 1);
    // Without OTC the customer's route is fine.
    send(&mut rib, 1, announce(with_otc(&[65001], None), &[A]));
    resolve_all(&mut rib);
    let best = best_of(&rib, A).expect("customer route");
    assert_eq!(best.attrs.otc, None);
    assert_eq!(rib.peer_leaks(1), 1);
}

#[test]
fn peer_with_foreign_otc_is_a_leak_own_otc_is_not() {
    let mut rib = rib_with(cfg(), &[role_peer(2, Role::Peer)]);
    send(
        &mut rib,
        2,
        announce(with_otc(&[65002, 65009], Some(65009)), &[A]),
    );
    resolve_all(&mut rib);
    assert!(best_of(&rib, A).is_none());
    assert_eq!(rib.peer_leaks(2), 1);
    send(&mut rib, 2, announce(with_otc(&[65002], Some(65002)), &[A]));
    resolve_all(&mut rib);
    assert_eq!(best_of(&rib, A).unwrap().attrs.otc, Some(65002));
}

#[test]
fn provider_route_gets_otc_and_goes_to_customers_only() {
    let mut rib = rib_with(
        cfg(),
        &[
            role_peer(1, Role::Customer), // 65001 is our provider
            role_peer(2, Role::Customer), // another provider
            role_peer(3, Role::Peer),
            role_peer(4, Role::Provider), // a customer
            peer(5, 65005),               // no role
        ],
    );
    send(&mut rib, 1, announce(with_otc(&[65001], None), &[A]));
    let out = resolve_all(&mut rib);
    assert_eq!(best_of(&rib, A).unwrap().attrs.otc, Some(65001));
    assert!(seen(&out, 2).announced.is_empty(), "not up to a provider");
    assert!(seen(&out, 3).announced.is_empty(), "not across to a peer");
    assert_eq!(seen(&out, 4).announced[&p(A)].otc, Some(65001));
    // A neighbor without a role gets it with the OTC (transitive).
    assert_eq!(seen(&out, 5).announced[&p(A)].otc, Some(65001));
}

#[test]
fn customer_route_goes_everywhere_marked_toward_customers_and_peers() {
    let mut rib = rib_with(
        cfg(),
        &[
            role_peer(1, Role::Provider), // 65001 is our customer
            role_peer(2, Role::Customer),
            role_peer(3, Role::Peer),
            role_peer(4, Role::Provider),
        ],
    );
    send(&mut rib, 1, announce(with_otc(&[65001], None), &[A]));
    let out = resolve_all(&mut rib);
    assert_eq!(seen(&out, 2).announced[&p(A)].otc, None, "up: unmarked");
    assert_eq!(seen(&out, 3).announced[&p(A)].otc, Some(LOCAL_AS));
    assert_eq!(seen(&out, 4).announced[&p(A)].otc, Some(LOCAL_AS));
}

#[test]
fn local_route_to_a_customer_carries_our_as() {
    let mut rib = rib_with(cfg(), &[role_peer(4, Role::Provider), peer(5, 65005)]);
    rib.originate(p(A), Origin::Igp, None, None, vec![]);
    let out = rib.take_all();
    assert_eq!(seen(&out, 4).announced[&p(A)].otc, Some(LOCAL_AS));
    assert_eq!(seen(&out, 5).announced[&p(A)].otc, None);
}

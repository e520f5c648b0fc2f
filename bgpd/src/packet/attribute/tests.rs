//! Round trips of every attribute through an UPDATE, on 4-octet and
//! 2-octet sessions, and the AS4 helpers.

use std::net::Ipv4Addr;

use super::*;
use crate::packet::nlri::Nlri;
use crate::packet::{decode_message, Message, Update, UpdateReport};

fn full() -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Incomplete),
        as_path: Some(AsPath {
            segments: vec![
                AsSegment {
                    kind: SegmentType::ConfedSequence,
                    asns: vec![64512, 64513],
                },
                AsSegment {
                    kind: SegmentType::ConfedSet,
                    asns: vec![64514],
                },
                AsSegment {
                    kind: SegmentType::Sequence,
                    asns: vec![65001, 65002],
                },
                AsSegment {
                    kind: SegmentType::Set,
                    asns: vec![65010, 65011],
                },
            ],
        }),
        next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
        mp_next_hop: None,
        med: Some(u32::MAX),
        local_pref: Some(200),
        atomic_aggregate: true,
        aggregator: Some(Aggregator {
            asn: 65001,
            address: Ipv4Addr::new(192, 0, 2, 7),
        }),
        communities: vec![Community::new(65001, 1), Community::NO_ADVERTISE],
        originator_id: Some(Ipv4Addr::new(192, 0, 2, 8)),
        cluster_list: vec![Ipv4Addr::new(192, 0, 2, 9), Ipv4Addr::new(192, 0, 2, 10)],
        extended_communities: vec![ExtendedCommunity::route_target(65001, 100)],
        as4_path: None,
        as4_aggregator: None,
        large_communities: vec![LargeCommunity::new(4_200_000_000, 1, 2)],
        pmsi_tunnel: Some(PmsiTunnel::ingress_replication(
            100,
            "192.0.2.9".parse().unwrap(),
        )),
        otc: Some(4_200_000_002),
        unknown: vec![RawAttribute {
            flags: flag::OPTIONAL | flag::TRANSITIVE | flag::PARTIAL,
            type_code: 222,
            value: vec![1, 2, 3],
        }],
        weight: 0,
    }
}

fn round_trip(attrs: &PathAttributes, caps: &SessionCaps) -> PathAttributes {
    let update = Update {
        attributes: attrs.clone(),
        nlri: vec![Nlri::new("198.51.100.0/24".parse().unwrap())],
        ..Update::default()
    };
    let bytes = Message::Update(update).to_bytes(caps).unwrap();
    let d = decode_message(&bytes, caps).unwrap();
    assert_eq!(d.report, UpdateReport::default());
    let Message::Update(u) = d.message else {
        panic!("not an update")
    };
    u.attributes
}

#[test]
fn every_attribute_four_octet() {
    let caps = SessionCaps::four_octet();
    let mut a = full();
    a.as_path.as_mut().unwrap().segments.push(AsSegment {
        kind: SegmentType::Sequence,
        asns: vec![4_200_000_000],
    });
    a.aggregator.as_mut().unwrap().asn = 4_200_000_001;
    assert_eq!(round_trip(&a, &caps), a);
}

#[test]
fn every_attribute_two_octet() {
    let caps = SessionCaps::default();
    let a = full();
    assert_eq!(round_trip(&a, &caps), a);
}

#[test]
fn four_octet_path_to_old_peer() {
    // RFC 6793 §4.2.2: AS_TRANS in AS_PATH/AGGREGATOR, the real values in
    // AS4_PATH (without confederation segments) and AS4_AGGREGATOR.
    let caps = SessionCaps::default();
    let mut a = full();
    a.as_path = Some(AsPath {
        segments: vec![
            AsSegment {
                kind: SegmentType::ConfedSequence,
                asns: vec![64512],
            },
            AsSegment {
                kind: SegmentType::Sequence,
                asns: vec![65001, 4_200_000_000, 65002],
            },
        ],
    });
    a.aggregator = Some(Aggregator {
        asn: 4_200_000_000,
        address: Ipv4Addr::new(192, 0, 2, 7),
    });
    let mut got = round_trip(&a, &caps);
    assert_eq!(
        got.as_path.as_ref().unwrap().asns().collect::<Vec<_>>(),
        vec![64512, 65001, 23456, 65002]
    );
    assert_eq!(
        got.as4_path,
        Some(AsPath::from_sequence([65001, 4_200_000_000, 65002]))
    );
    assert_eq!(got.aggregator.unwrap().asn, 23456);
    got.reconcile_as4();
    assert_eq!(got, a);
}

#[test]
fn aggregator_not_as_trans_ignores_as4() {
    let mut a = PathAttributes {
        as_path: Some(AsPath::from_sequence([65001, 23456])),
        aggregator: Some(Aggregator {
            asn: 65009,
            address: Ipv4Addr::new(192, 0, 2, 1),
        }),
        as4_path: Some(AsPath::from_sequence([4_200_000_000])),
        as4_aggregator: Some(Aggregator {
            asn: 4_200_000_000,
            address: Ipv4Addr::new(192, 0, 2, 1),
        }),
        ..PathAttributes::default()
    };
    let before = a.as_path.clone();
    a.reconcile_as4();
    assert_eq!(a.as_path, before);
    assert_eq!(a.aggregator.unwrap().asn, 65009);
    assert_eq!((a.as4_path, a.as4_aggregator), (None, None));
}

#[test]
fn extended_length_attributes() {
    // 100 communities = 400 bytes: extended length on the wire.
    let caps = SessionCaps::four_octet();
    let a = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(1..=300)),
        next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
        communities: (0..100).map(|i| Community::new(65000, i)).collect(),
        ..PathAttributes::default()
    };
    let mut buf = BytesMut::new();
    a.encode(&caps, &mut buf);
    assert_eq!(buf[4], flag::TRANSITIVE | flag::EXTENDED_LENGTH);
    let mut got = round_trip(&a, &caps);
    // 300 ASNs come back as two segments (255 + 45).
    assert_eq!(got.as_path.as_ref().unwrap().segments.len(), 2);
    got.as_path = Some(AsPath::from_sequence(
        got.as_path.unwrap().asns().collect::<Vec<_>>(),
    ));
    assert_eq!(got, a);
}

#[test]
fn flag_expectations() {
    assert!(flags_ok(code::ORIGIN, 0x40));
    assert!(flags_ok(code::ORIGIN, 0x50));
    assert!(!flags_ok(code::ORIGIN, 0x60));
    assert!(!flags_ok(code::ORIGIN, 0xc0));
    assert!(flags_ok(code::COMMUNITIES, 0xe0));
    assert!(!flags_ok(code::COMMUNITIES, 0x80));
    assert!(flags_ok(code::MULTI_EXIT_DISC, 0x80));
    assert!(!flags_ok(code::MULTI_EXIT_DISC, 0xa0));
    assert!(flags_ok(200, 0x00));
    assert!(flags_ok(code::ONLY_TO_CUSTOMER, 0xc0));
    assert!(!flags_ok(code::ONLY_TO_CUSTOMER, 0x80));
    assert_eq!(
        malformed_action(code::ONLY_TO_CUSTOMER),
        ErrorAction::TreatAsWithdraw
    );
    assert_eq!(
        malformed_action(code::AGGREGATOR),
        ErrorAction::AttributeDiscard
    );
    assert_eq!(
        malformed_action(code::MP_REACH_NLRI),
        ErrorAction::SessionReset
    );
    assert_eq!(
        malformed_action(code::COMMUNITIES),
        ErrorAction::TreatAsWithdraw
    );
}

#[test]
fn issue_text() {
    let issue = AttributeIssue {
        type_code: code::ORIGIN,
        problem: Problem::Length(2),
    };
    assert_eq!(issue.to_string(), "ORIGIN: bad length 2");
    assert_eq!(attribute_name(77), "attribute 77");
}

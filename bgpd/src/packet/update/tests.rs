//! Byte-vector tests of UPDATE decoding and of every RFC 7606 class.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnetwork::IpNetwork;

use super::*;
use crate::packet::attribute::code::*;
use crate::packet::{
    decode_message, AsPath, Community, LargeCommunity, Message, MessageError, MpNextHop, Origin,
    RawAttribute,
};

fn p(s: &str) -> IpNetwork {
    s.parse().unwrap()
}

fn n(s: &str) -> Nlri {
    Nlri::new(p(s))
}

/// A whole message around an UPDATE body.
fn message(body: &[u8]) -> Vec<u8> {
    let mut v = vec![0xff; 16];
    v.extend_from_slice(&((body.len() + 19) as u16).to_be_bytes());
    v.push(2);
    v.extend_from_slice(body);
    v
}

/// An UPDATE body from its three parts.
fn body(withdrawn: &[u8], attrs: &[u8], nlri: &[u8]) -> Vec<u8> {
    let mut v = (withdrawn.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(withdrawn);
    v.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    v.extend_from_slice(attrs);
    v.extend_from_slice(nlri);
    v
}

fn attr(flags: u8, type_code: u8, value: &[u8]) -> Vec<u8> {
    let mut v = vec![flags, type_code, value.len() as u8];
    v.extend_from_slice(value);
    v
}

/// ORIGIN IGP, AS_PATH 65001 (4-octet), NEXT_HOP 192.0.2.1.
fn mandatory() -> Vec<u8> {
    let mut v = attr(0x40, ORIGIN, &[0]);
    v.extend(attr(0x40, AS_PATH, &[2, 1, 0, 0, 0xfd, 0xe9]));
    v.extend(attr(0x40, NEXT_HOP, &[192, 0, 2, 1]));
    v
}

const NLRI_198_51_100: [u8; 4] = [24, 198, 51, 100];

fn caps4() -> SessionCaps {
    SessionCaps::four_octet()
}

fn decode(attrs: &[u8], nlri: &[u8]) -> Result<ParsedUpdate, UpdateError> {
    decode_update(&body(&[], attrs, nlri), &caps4())
}

fn assert_withdraw(parsed: &ParsedUpdate, type_code: u8, problem: Problem) {
    match &parsed.report.action {
        UpdateAction::TreatAsWithdraw { reasons } => assert!(
            reasons.contains(&AttributeIssue {
                type_code,
                problem: problem.clone()
            }),
            "{reasons:?} lacks {type_code} {problem:?}"
        ),
        other => panic!("expected treat-as-withdraw, got {other:?}"),
    }
    assert!(parsed.announced().next().is_none());
}

fn assert_reset(err: UpdateError, subcode: u8, data: &[u8]) {
    let n = MessageError::Update(err).notification();
    assert_eq!((n.code(), n.subcode()), (3, subcode));
    assert_eq!(n.data, data);
}

/// An IPv4 UPDATE shaped as FRR sends it to an eBGP peer.
#[rustfmt::skip]
const FRR_IPV4_UPDATE: &[u8] = &[
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // marker
    0x00, 0x5d, 0x02, // length 93, UPDATE
    0x00, 0x00,       // no withdrawn routes
    0x00, 0x3d,       // path attributes: 61 bytes
    0x40, 0x01, 0x01, 0x00,                         // ORIGIN IGP
    0x40, 0x02, 0x0e, 0x02, 0x03,                   // AS_PATH SEQUENCE of 3
        0x00, 0x00, 0xfd, 0xe9,                     //   65001
        0x00, 0x00, 0xfd, 0xea,                     //   65002
        0xfa, 0x56, 0xea, 0x00,                     //   4200000000
    0x40, 0x03, 0x04, 0xc0, 0x00, 0x02, 0x01,       // NEXT_HOP 192.0.2.1
    0x80, 0x04, 0x04, 0x00, 0x00, 0x00, 0x64,       // MED 100
    0xc0, 0x08, 0x08,                               // COMMUNITIES
        0xfd, 0xe9, 0x00, 0x64,                     //   65001:100
        0xff, 0xff, 0xff, 0x01,                     //   no-export
    0xc0, 0x20, 0x0c,                               // LARGE_COMMUNITIES
        0x00, 0x00, 0xfd, 0xe9, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, // 65001:1:2
    0x18, 0xc6, 0x33, 0x64,                         // 198.51.100.0/24
    0x19, 0xcb, 0x00, 0x71, 0x80,                   // 203.0.113.128/25
];

#[test]
fn frr_ipv4_update() {
    let d = decode_message(FRR_IPV4_UPDATE, &caps4()).unwrap();
    assert_eq!(d.report, UpdateReport::default());
    let Message::Update(u) = &d.message else {
        panic!()
    };
    let a = &u.attributes;
    assert_eq!(a.origin, Some(Origin::Igp));
    assert_eq!(
        a.as_path,
        Some(AsPath::from_sequence([65001, 65002, 4_200_000_000]))
    );
    assert_eq!(a.next_hop, Some(Ipv4Addr::new(192, 0, 2, 1)));
    assert_eq!(a.med, Some(100));
    assert_eq!(
        a.communities,
        vec![Community::new(65001, 100), Community::NO_EXPORT]
    );
    assert_eq!(a.large_communities, vec![LargeCommunity::new(65001, 1, 2)]);
    assert_eq!(u.nlri, vec![n("198.51.100.0/24"), n("203.0.113.128/25")]);
    assert_eq!(
        d.message.to_bytes(&caps4()).unwrap().as_ref(),
        FRR_IPV4_UPDATE
    );
}

/// IPv6 via MP_REACH_NLRI with global and link-local next hops, as FRR
/// sends it (MP_REACH first, extended length flag set).
#[rustfmt::skip]
const FRR_IPV6_UPDATE: &[u8] = &[
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // marker
    0x00, 0x64, 0x02, // length 100, UPDATE
    0x00, 0x00,       // no withdrawn routes
    0x00, 0x4d,       // path attributes: 77 bytes
    0x90, 0x0e, 0x00, 0x35,                         // MP_REACH_NLRI, ext length 53
        0x00, 0x02, 0x01,                           //   ipv6 unicast
        0x20,                                       //   next hop length 32
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // 2001:db8::1
        0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x53, 0x01, // fe80::200:5eff:fe00:5301
        0x00,                                       //   reserved
        0x30, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01,   //   2001:db8:1::/48
        0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x02, 0x00, 0x00, // 2001:db8:2::/64
    0x40, 0x01, 0x01, 0x00,                         // ORIGIN IGP
    0x40, 0x02, 0x06, 0x02, 0x01, 0x00, 0x00, 0xfd, 0xe9, // AS_PATH 65001
    0x80, 0x04, 0x04, 0x00, 0x00, 0x00, 0x00,       // MED 0
];

#[test]
fn frr_ipv6_update_link_local() {
    let d = decode_message(FRR_IPV6_UPDATE, &caps4()).unwrap();
    assert_eq!(d.report, UpdateReport::default());
    let Message::Update(u) = &d.message else {
        panic!()
    };
    assert_eq!(
        u.attributes.mp_next_hop,
        Some(MpNextHop::V6 {
            global: "2001:db8::1".parse().unwrap(),
            link_local: Some("fe80::200:5eff:fe00:5301".parse().unwrap()),
        })
    );
    let reach = u.mp_reach.as_ref().unwrap();
    assert_eq!(reach.family, AfiSafi::IPV6_UNICAST);
    assert_eq!(reach.nlri, vec![n("2001:db8:1::/48"), n("2001:db8:2::/64")]);
    assert!(u.nlri.is_empty());
    assert_eq!(u.attributes.next_hop, None);
    // We send the same attribute without the extended length: 3 bytes less.
    let bytes = d.message.to_bytes(&caps4()).unwrap();
    assert_eq!(bytes.len(), FRR_IPV6_UPDATE.len() - 1);
    assert_eq!(decode_message(&bytes, &caps4()).unwrap().message, d.message);
}

/// RFC 8950: IPv4 unicast in MP_REACH with an IPv6 next hop of `nh_len`
/// bytes (global, or global + link-local).
fn ipv4_over_ipv6_attrs(nh_len: u8) -> Vec<u8> {
    let mut mp = vec![0x00, 0x01, 0x01, nh_len];
    mp.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
    if nh_len == 32 {
        mp.extend_from_slice(&"fe80::1".parse::<Ipv6Addr>().unwrap().octets());
    }
    mp.push(0);
    mp.extend_from_slice(&NLRI_198_51_100);
    let mut attrs = attr(0x80, MP_REACH_NLRI, &mp);
    attrs.extend(attr(0x40, ORIGIN, &[2]));
    attrs.extend(attr(0x40, AS_PATH, &[]));
    attrs
}

fn caps_enh() -> SessionCaps {
    SessionCaps {
        extended_next_hop: vec![AfiSafi::IPV4_UNICAST],
        ..caps4()
    }
}

#[test]
fn ipv4_nlri_with_ipv6_next_hop() {
    for (nh_len, link_local) in [(16, None), (32, Some("fe80::1".parse().unwrap()))] {
        let attrs = ipv4_over_ipv6_attrs(nh_len);
        let parsed = decode_update(&body(&[], &attrs, &[]), &caps_enh()).unwrap();
        assert_eq!(parsed.report.action, UpdateAction::Normal);
        assert_eq!(
            parsed.announced().collect::<Vec<_>>(),
            vec![(AfiSafi::IPV4_UNICAST, n("198.51.100.0/24"))]
        );
        assert_eq!(
            parsed.update.attributes.mp_next_hop,
            Some(MpNextHop::V6 {
                global: "2001:db8::1".parse().unwrap(),
                link_local,
            })
        );
        let bytes = Message::Update(parsed.update.clone())
            .to_bytes(&caps_enh())
            .unwrap();
        let back = decode_message(&bytes, &caps_enh()).unwrap().message;
        assert_eq!(back, Message::Update(parsed.update));
    }
}

#[test]
fn ipv4_nlri_with_ipv6_next_hop_without_capability() {
    // RFC 8950 §4: without the negotiated capability the next hop length
    // is not the one expected for IPv4; RFC 7606 §7.11: the NLRI cannot
    // be trusted, session reset with 3/9 and the attribute as data.
    for nh_len in [16, 32] {
        let attrs = ipv4_over_ipv6_attrs(nh_len);
        let mp_len = usize::from(attrs[2]) + 3;
        let err = decode(&attrs, &[]).unwrap_err();
        assert_eq!(
            err.reason,
            UpdateErrorReason::Mp {
                type_code: MP_REACH_NLRI,
                error: MpError::NextHopLength {
                    family: AfiSafi::IPV4_UNICAST,
                    len: nh_len
                }
            }
        );
        assert_reset(err, 9, &attrs[..mp_len]);
    }
    // IPv6 NLRI with an IPv6 next hop needs no capability.
    let mut mp = vec![0x00, 0x02, 0x01, 16];
    mp.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
    mp.extend_from_slice(&[0, 32, 0x20, 0x01, 0x0d, 0xb8]);
    let mut attrs = attr(0x80, MP_REACH_NLRI, &mp);
    attrs.extend(attr(0x40, ORIGIN, &[2]));
    attrs.extend(attr(0x40, AS_PATH, &[]));
    assert_eq!(
        decode(&attrs, &[]).unwrap().report.action,
        UpdateAction::Normal
    );
}

#[test]
fn end_of_rib() {
    // IPv4: an empty UPDATE.
    let parsed = decode(&[], &[]).unwrap();
    assert_eq!(
        parsed.update.end_of_rib_family(),
        Some(AfiSafi::IPV4_UNICAST)
    );
    // IPv6 and EVPN: an empty MP_UNREACH_NLRI.
    for family in [AfiSafi::IPV6_UNICAST, AfiSafi::L2VPN_EVPN] {
        let eor = Update::end_of_rib(family);
        let bytes = Message::Update(eor.clone()).to_bytes(&caps4()).unwrap();
        let d = decode_message(&bytes, &caps4()).unwrap();
        assert_eq!(d.message, Message::Update(eor));
        let Message::Update(u) = d.message else {
            panic!()
        };
        assert_eq!(u.end_of_rib_family(), Some(family));
    }
    let ipv6_eor = [0x80, 0x0f, 0x03, 0x00, 0x02, 0x01];
    let parsed = decode(&ipv6_eor, &[]).unwrap();
    assert_eq!(
        parsed.update.end_of_rib_family(),
        Some(AfiSafi::IPV6_UNICAST)
    );
    // Anything else is not a marker.
    let parsed = decode(&mandatory(), &NLRI_198_51_100).unwrap();
    assert_eq!(parsed.update.end_of_rib_family(), None);
}

// ---- RFC 7606 -------------------------------------------------------

#[test]
fn treat_as_withdraw_per_attribute() {
    // (attribute replacing the valid one or added, type, problem)
    let cases: Vec<(Vec<u8>, u8, Problem)> = vec![
        (attr(0x40, ORIGIN, &[5]), ORIGIN, Problem::Value),
        (attr(0x40, ORIGIN, &[0, 0]), ORIGIN, Problem::Length(2)),
        (attr(0x40, AS_PATH, &[2, 0]), AS_PATH, Problem::Value),
        (
            attr(0x40, AS_PATH, &[7, 1, 0, 0, 0, 1]),
            AS_PATH,
            Problem::Value,
        ),
        (
            attr(0x40, AS_PATH, &[2, 2, 0, 0, 0, 1]),
            AS_PATH,
            Problem::Value,
        ),
        (
            attr(0x40, NEXT_HOP, &[1, 2, 3, 4, 5]),
            NEXT_HOP,
            Problem::Length(5),
        ),
        (
            attr(0x40, NEXT_HOP, &[0, 0, 0, 0]),
            NEXT_HOP,
            Problem::Value,
        ),
        (
            attr(0x40, NEXT_HOP, &[224, 0, 0, 5]),
            NEXT_HOP,
            Problem::Value,
        ),
        (
            attr(0x80, MULTI_EXIT_DISC, &[0, 0, 1]),
            MULTI_EXIT_DISC,
            Problem::Length(3),
        ),
        (
            attr(0x40, LOCAL_PREF, &[0, 100]),
            LOCAL_PREF,
            Problem::Length(2),
        ),
        (
            attr(0xc0, COMMUNITIES, &[0, 1, 0, 1, 0]),
            COMMUNITIES,
            Problem::Length(5),
        ),
        (
            attr(0xc0, COMMUNITIES, &[]),
            COMMUNITIES,
            Problem::Length(0),
        ),
        (
            attr(0x80, ORIGINATOR_ID, &[1, 2, 3]),
            ORIGINATOR_ID,
            Problem::Length(3),
        ),
        (
            attr(0x80, CLUSTER_LIST, &[]),
            CLUSTER_LIST,
            Problem::Length(0),
        ),
        (
            attr(0xc0, EXTENDED_COMMUNITIES, &[0; 7]),
            EXTENDED_COMMUNITIES,
            Problem::Length(7),
        ),
        (
            attr(0xc0, LARGE_COMMUNITIES, &[0; 13]),
            LARGE_COMMUNITIES,
            Problem::Length(13),
        ),
        // RFC 9234 §5: an OTC that is not 4 octets is treat-as-withdraw.
        (
            attr(0xc0, ONLY_TO_CUSTOMER, &[0, 0, 0xfd]),
            ONLY_TO_CUSTOMER,
            Problem::Length(3),
        ),
        (
            attr(0xc0, ONLY_TO_CUSTOMER, &[0; 5]),
            ONLY_TO_CUSTOMER,
            Problem::Length(5),
        ),
    ];
    for (bad, type_code, problem) in cases {
        // Replace the valid attribute of the same type, or add the bad one.
        let mut attrs = Vec::new();
        for (t, a) in [
            (ORIGIN, attr(0x40, ORIGIN, &[0])),
            (AS_PATH, attr(0x40, AS_PATH, &[2, 1, 0, 0, 0xfd, 0xe9])),
            (NEXT_HOP, attr(0x40, NEXT_HOP, &[192, 0, 2, 1])),
        ] {
            if t != type_code {
                attrs.extend(a);
            }
        }
        attrs.extend(bad);
        let parsed = decode(&attrs, &NLRI_198_51_100).unwrap();
        assert_withdraw(&parsed, type_code, problem);
        assert_eq!(
            parsed.withdrawn().collect::<Vec<_>>(),
            vec![(AfiSafi::IPV4_UNICAST, n("198.51.100.0/24"))]
        );
    }
}

#[test]
fn attribute_discard() {
    let cases: Vec<(Vec<u8>, u8, Problem, SessionCaps)> = vec![
        (
            attr(0x40, ATOMIC_AGGREGATE, &[1]),
            ATOMIC_AGGREGATE,
            Problem::Length(1),
            caps4(),
        ),
        (
            attr(0xc0, AGGREGATOR, &[0; 6]),
            AGGREGATOR,
            Problem::Length(6),
            caps4(),
        ),
        (
            attr(0xc0, AGGREGATOR, &[0; 8]),
            AGGREGATOR,
            Problem::Length(8),
            SessionCaps::default(),
        ),
        (
            attr(0xc0, AS4_PATH, &[2, 1, 0, 0, 0, 1]),
            AS4_PATH,
            Problem::FromFourOctetPeer,
            caps4(),
        ),
        (
            attr(0xc0, AS4_AGGREGATOR, &[0; 8]),
            AS4_AGGREGATOR,
            Problem::FromFourOctetPeer,
            caps4(),
        ),
        (
            attr(0xc0, AS4_AGGREGATOR, &[0; 6]),
            AS4_AGGREGATOR,
            Problem::Length(6),
            SessionCaps::default(),
        ),
        (
            attr(0xc0, AS4_PATH, &[3, 1, 0, 0, 0, 1]),
            AS4_PATH,
            Problem::Value,
            SessionCaps::default(),
        ),
        (
            attr(0xc0, AS4_PATH, &[2, 1, 0, 0]),
            AS4_PATH,
            Problem::Value,
            SessionCaps::default(),
        ),
        // Flags errors follow the attribute's own action.
        (
            attr(0x40, AGGREGATOR, &[0; 8]),
            AGGREGATOR,
            Problem::Flags(0x40),
            caps4(),
        ),
    ];
    for (bad, type_code, problem, caps) in cases {
        let mut attrs = attr(0x40, ORIGIN, &[0]);
        let path: &[u8] = if caps.four_octet_as {
            &[2, 1, 0, 0, 0xfd, 0xe9]
        } else {
            &[2, 1, 0xfd, 0xe9]
        };
        attrs.extend(attr(0x40, AS_PATH, path));
        attrs.extend(attr(0x40, NEXT_HOP, &[192, 0, 2, 1]));
        attrs.extend(bad);
        let parsed = decode_update(&body(&[], &attrs, &NLRI_198_51_100), &caps).unwrap();
        assert_eq!(parsed.report.action, UpdateAction::Normal, "{type_code}");
        assert_eq!(
            parsed.report.discarded,
            vec![AttributeIssue { type_code, problem }]
        );
        assert_eq!(parsed.announced().count(), 1);
        let a = &parsed.update.attributes;
        assert!(!a.atomic_aggregate && a.aggregator.is_none() && a.as4_path.is_none());
    }
}

#[test]
fn flag_errors_treat_as_withdraw() {
    for (bad, type_code) in [
        (attr(0xc0, ORIGIN, &[0]), ORIGIN), // optional bit on a well-known
        (attr(0x60, ORIGIN, &[0]), ORIGIN), // partial bit on a well-known
        (attr(0xc0, MULTI_EXIT_DISC, &[0; 4]), MULTI_EXIT_DISC), // transitive MED
        (attr(0x40, COMMUNITIES, &[0; 4]), COMMUNITIES),
    ] {
        let mut attrs: Vec<u8> = mandatory();
        if type_code == ORIGIN {
            attrs.drain(..4);
        }
        let flags = bad[0];
        attrs.extend(bad);
        let parsed = decode(&attrs, &NLRI_198_51_100).unwrap();
        assert_withdraw(&parsed, type_code, Problem::Flags(flags));
    }
    // Partial is fine on optional transitive; extended length anywhere.
    let mut attrs = mandatory();
    attrs.extend(attr(0xe0, COMMUNITIES, &[0, 1, 0, 1]));
    attrs.extend([0x90, MULTI_EXIT_DISC, 0, 4, 0, 0, 0, 9]);
    let parsed = decode(&attrs, &NLRI_198_51_100).unwrap();
    assert_eq!(parsed.report, UpdateReport::default());
    assert_eq!(parsed.update.attributes.med, Some(9));
}

#[test]
fn mp_errors_reset_the_session() {
    // Next hop length 12 for IPv6: the NLRI cannot be located.
    let mut mp = vec![0x00, 0x02, 0x01, 12];
    mp.extend([0; 12]);
    mp.extend([0, 32, 0x20, 0x01, 0x0d, 0xb8]);
    let a = attr(0x80, MP_REACH_NLRI, &mp);
    let mut attrs = mandatory();
    attrs.extend(a.clone());
    assert_reset(decode(&attrs, &[]).unwrap_err(), 9, &a);

    // MP_REACH with unparseable NLRI (prefix length 200).
    let mut mp = vec![0x00, 0x02, 0x01, 16];
    mp.extend([
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 200, 1,
    ]);
    let a = attr(0x80, MP_REACH_NLRI, &mp);
    assert_reset(decode(&a, &[]).unwrap_err(), 9, &a);

    // MP_UNREACH with a truncated prefix.
    let a = attr(0x80, MP_UNREACH_NLRI, &[0, 2, 1, 64, 0x20]);
    assert_reset(decode(&a, &[]).unwrap_err(), 9, &a);

    // MP_UNREACH with bad flags: Attribute Flags Error with the attribute.
    let a = attr(0x40, MP_UNREACH_NLRI, &[0, 2, 1]);
    assert_reset(decode(&a, &[]).unwrap_err(), 4, &a);

    // Twice MP_UNREACH: Malformed Attribute List.
    let mut attrs = attr(0x80, MP_UNREACH_NLRI, &[0, 2, 1]);
    attrs.extend(attr(0x80, MP_UNREACH_NLRI, &[0, 2, 1]));
    assert_reset(decode(&attrs, &[]).unwrap_err(), 1, &[]);

    // MP_REACH overrunning the attributes: its NLRI are lost.
    let attrs = [0x80, MP_REACH_NLRI, 40, 0, 2, 1, 16];
    assert_reset(decode(&attrs, &[]).unwrap_err(), 1, &attrs);
}

#[test]
fn mp_reach_nlri_withdrawn_on_attribute_error() {
    let mut mp = vec![0x00, 0x02, 0x01, 16];
    mp.extend("2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
    mp.extend([0, 48, 0x20, 0x01, 0x0d, 0xb8, 0, 1]);
    let mut attrs = attr(0x80, MP_REACH_NLRI, &mp);
    attrs.extend(attr(0x40, ORIGIN, &[9]));
    attrs.extend(attr(0x40, AS_PATH, &[]));
    let parsed = decode(&attrs, &[]).unwrap();
    assert_withdraw(&parsed, ORIGIN, Problem::Value);
    assert_eq!(
        parsed.withdrawn().collect::<Vec<_>>(),
        vec![(AfiSafi::IPV6_UNICAST, n("2001:db8:1::/48"))]
    );
}

#[test]
fn duplicates_keep_the_first() {
    let mut attrs = mandatory();
    attrs.extend(attr(0xc0, COMMUNITIES, &[0, 1, 0, 1]));
    attrs.extend(attr(0xc0, COMMUNITIES, &[0, 2, 0, 2]));
    attrs.extend(attr(0x40, ORIGIN, &[2]));
    let parsed = decode(&attrs, &NLRI_198_51_100).unwrap();
    assert_eq!(parsed.report.action, UpdateAction::Normal);
    assert_eq!(
        parsed.report.discarded,
        vec![
            AttributeIssue {
                type_code: COMMUNITIES,
                problem: Problem::Duplicate
            },
            AttributeIssue {
                type_code: ORIGIN,
                problem: Problem::Duplicate
            },
        ]
    );
    assert_eq!(
        parsed.update.attributes.communities,
        vec![Community::new(1, 1)]
    );
    assert_eq!(parsed.update.attributes.origin, Some(Origin::Igp));
}

#[test]
fn missing_mandatory() {
    // Classic NLRI without NEXT_HOP.
    let attrs = mandatory();
    let without_nh = &attrs[..attrs.len() - 7];
    let parsed = decode(without_nh, &NLRI_198_51_100).unwrap();
    assert_withdraw(&parsed, NEXT_HOP, Problem::Missing);
    // No ORIGIN.
    let parsed = decode(&attrs[4..], &NLRI_198_51_100).unwrap();
    assert_withdraw(&parsed, ORIGIN, Problem::Missing);
    // MP_REACH only: NEXT_HOP not needed, AS_PATH is.
    let mut mp = vec![0x00, 0x02, 0x01, 16];
    mp.extend("2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
    mp.extend([0, 16, 0x20, 0x01]);
    let mut only_mp = attr(0x80, MP_REACH_NLRI, &mp);
    only_mp.extend(attr(0x40, ORIGIN, &[0]));
    let parsed = decode(&only_mp, &[]).unwrap();
    assert_withdraw(&parsed, AS_PATH, Problem::Missing);
    only_mp.extend(attr(0x40, AS_PATH, &[]));
    let parsed = decode(&only_mp, &[]).unwrap();
    assert_eq!(parsed.report, UpdateReport::default());
    // Withdrawals only: nothing is mandatory.
    let parsed = decode_update(&body(&NLRI_198_51_100, &[], &[]), &caps4()).unwrap();
    assert_eq!(parsed.report, UpdateReport::default());
    assert_eq!(
        parsed.withdrawn().collect::<Vec<_>>(),
        vec![(AfiSafi::IPV4_UNICAST, n("198.51.100.0/24"))]
    );
}

#[test]
fn attribute_overrun_is_treat_as_withdraw() {
    // COMMUNITIES claims 8 bytes, 4 remain in the attribute section; the
    // total length is consistent, so the NLRI are still found.
    let mut attrs = mandatory();
    attrs.extend([0xc0, COMMUNITIES, 8, 0, 1, 0, 1]);
    let parsed = decode(&attrs, &NLRI_198_51_100).unwrap();
    assert_withdraw(&parsed, COMMUNITIES, Problem::Overrun);
    assert_eq!(
        parsed.withdrawn().collect::<Vec<_>>(),
        vec![(AfiSafi::IPV4_UNICAST, n("198.51.100.0/24"))]
    );
    // Two stray bytes: not even an attribute header.
    let mut attrs = mandatory();
    attrs.extend([0x40, 0x01]);
    let parsed = decode(&attrs, &NLRI_198_51_100).unwrap();
    assert_withdraw(&parsed, ORIGIN, Problem::Overrun);
    // Extended length with only 3 bytes.
    let mut attrs = mandatory();
    attrs.extend([0x90, 0x04, 0x00]);
    let parsed = decode(&attrs, &NLRI_198_51_100).unwrap();
    assert_withdraw(&parsed, MULTI_EXIT_DISC, Problem::Overrun);
}

#[test]
fn inconsistent_lengths_reset_the_session() {
    // Total Path Attribute Length beyond the message.
    let mut b = body(&[], &mandatory(), &[]);
    b[3] += 10;
    assert_reset(decode_update(&b, &caps4()).unwrap_err(), 1, &[]);
    // Withdrawn Routes Length beyond the message.
    let b = [0, 9, 24, 1, 2, 3];
    assert_reset(decode_update(&b, &caps4()).unwrap_err(), 1, &[]);
    // Through the message decoder: the same NOTIFICATION.
    let mut b = body(&[], &mandatory(), &[]);
    b[3] += 1;
    let err = decode_message(&message(&b), &caps4()).unwrap_err();
    let n = err.notification();
    assert_eq!((n.code(), n.subcode()), (3, 1));
}

#[test]
fn unparseable_nlri_resets_the_session() {
    assert_reset(
        decode(&mandatory(), &[33, 1, 2, 3, 4, 5]).unwrap_err(),
        10,
        &[],
    );
    assert_reset(decode(&mandatory(), &[24, 1, 2]).unwrap_err(), 10, &[]);
    let b = body(&[40, 1], &[], &[]);
    assert_reset(decode_update(&b, &caps4()).unwrap_err(), 10, &[]);
}

#[test]
fn unrecognized_well_known_resets_the_session() {
    let bad = attr(0x40, 99, &[1, 2]);
    let mut attrs = mandatory();
    attrs.extend(bad.clone());
    assert_reset(decode(&attrs, &NLRI_198_51_100).unwrap_err(), 2, &bad);
}

#[test]
fn unknown_optional_attributes() {
    let mut attrs = mandatory();
    attrs.extend(attr(0xc0, 99, &[1, 2])); // optional transitive
    attrs.extend(attr(0x80, 100, &[3])); // optional non-transitive
    attrs.extend([0xd0, 101, 0, 1, 4]); // transitive, extended length
    let parsed = decode(&attrs, &NLRI_198_51_100).unwrap();
    assert_eq!(parsed.report, UpdateReport::default());
    let a = &parsed.update.attributes;
    assert_eq!(
        a.unknown,
        vec![
            RawAttribute {
                flags: 0xc0,
                type_code: 99,
                value: vec![1, 2]
            },
            RawAttribute {
                flags: 0x80,
                type_code: 100,
                value: vec![3]
            },
            RawAttribute {
                flags: 0xc0,
                type_code: 101,
                value: vec![4]
            },
        ]
    );
    let out = a.for_propagation();
    assert_eq!(
        out.unknown,
        vec![
            RawAttribute {
                flags: 0xe0,
                type_code: 99,
                value: vec![1, 2]
            },
            RawAttribute {
                flags: 0xe0,
                type_code: 101,
                value: vec![4]
            },
        ]
    );
    // Re-encoded with the Partial bit.
    let mut buf = BytesMut::new();
    out.encode(&caps4(), &mut buf);
    assert!(buf.ends_with(&[0xe0, 99, 2, 1, 2, 0xe0, 101, 1, 4]));
}

#[test]
fn unsupported_mp_family_is_discarded() {
    // A VPNv4 MP_REACH (SAFI 128): not decoded here; the IPv4 route stays.
    let mut attrs = attr(0x80, MP_REACH_NLRI, &[0, 1, 128, 4, 192, 0, 2, 1, 0, 2, 3]);
    attrs.extend(mandatory());
    let parsed = decode(&attrs, &NLRI_198_51_100).unwrap();
    assert_eq!(parsed.report.action, UpdateAction::Normal);
    assert_eq!(
        parsed.report.discarded,
        vec![AttributeIssue {
            type_code: MP_REACH_NLRI,
            problem: Problem::UnsupportedFamily(AfiSafi::new(
                crate::packet::Afi::IPV4,
                crate::packet::Safi(128)
            ))
        }]
    );
}

#[test]
fn add_path_changes_the_decoding() {
    // 0.0.0.1 path id, 10.0.0.0/8 with ADD-PATH; without it the same bytes
    // are garbage prefixes (0/0, 0/0, 0/1 ...) or an error.
    let nlri = [0, 0, 0, 1, 8, 10];
    let rx = SessionCaps {
        add_path_rx: vec![AfiSafi::IPV4_UNICAST],
        ..caps4()
    };
    let parsed = decode_update(&body(&[], &mandatory(), &nlri), &rx).unwrap();
    assert_eq!(
        parsed.update.nlri,
        vec![Nlri::with_path_id(p("10.0.0.0/8"), 1)]
    );
    assert!(decode_update(&body(&[], &mandatory(), &nlri), &caps4()).is_err());
}

#[test]
fn two_octet_session_as4() {
    // From an OLD speaker: AS_PATH 65001 AS_TRANS, AS4_PATH 65001 4200000000.
    let mut attrs = attr(0x40, ORIGIN, &[0]);
    attrs.extend(attr(0x40, AS_PATH, &[2, 2, 0xfd, 0xe9, 0x5b, 0xa0]));
    attrs.extend(attr(0x40, NEXT_HOP, &[192, 0, 2, 1]));
    attrs.extend(attr(0xc0, AGGREGATOR, &[0x5b, 0xa0, 192, 0, 2, 9]));
    attrs.extend(attr(
        0xc0,
        AS4_PATH,
        &[2, 2, 0, 0, 0xfd, 0xe9, 0xfa, 0x56, 0xea, 0x00],
    ));
    attrs.extend(attr(
        0xc0,
        AS4_AGGREGATOR,
        &[0xfa, 0x56, 0xea, 0x00, 192, 0, 2, 9],
    ));
    let caps = SessionCaps::default();
    let parsed = decode_update(&body(&[], &attrs, &NLRI_198_51_100), &caps).unwrap();
    assert_eq!(parsed.report, UpdateReport::default());
    // Re-encoding toward the same OLD peer gives the same bytes.
    let m = Message::Update(parsed.update.clone());
    assert_eq!(
        m.to_bytes(&caps).unwrap().as_ref(),
        &message(&body(&[], &attrs, &NLRI_198_51_100))[..]
    );
    let mut a = parsed.update.attributes;
    a.reconcile_as4();
    assert_eq!(
        a.as_path,
        Some(AsPath::from_sequence([65001, 4_200_000_000]))
    );
    assert_eq!(a.aggregator.map(|g| g.asn), Some(4_200_000_000));
    assert_eq!((a.as4_path, a.as4_aggregator), (None, None));
}

#[test]
fn bad_next_hop_without_classic_nlri_is_discarded() {
    let mut mp = vec![0x00, 0x02, 0x01, 16];
    mp.extend("2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
    mp.extend([0, 16, 0x20, 0x01]);
    let mut attrs = attr(0x80, MP_REACH_NLRI, &mp);
    attrs.extend(attr(0x40, ORIGIN, &[0]));
    attrs.extend(attr(0x40, AS_PATH, &[]));
    attrs.extend(attr(0x40, NEXT_HOP, &[0, 0, 0, 0]));
    let parsed = decode(&attrs, &[]).unwrap();
    assert_eq!(parsed.report.action, UpdateAction::Normal);
    assert_eq!(
        parsed.report.discarded,
        vec![AttributeIssue {
            type_code: NEXT_HOP,
            problem: Problem::Value
        }]
    );
    assert_eq!(parsed.announced().count(), 1);
}

#[test]
fn session_reset_text() {
    let err = decode(&attr(0x40, MP_UNREACH_NLRI, &[0, 2, 1]), &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "UPDATE error (Attribute Flags Error): MP_UNREACH_NLRI: bad flags 0x40"
    );
}

#[test]
fn confederation_segments_are_treat_as_withdraw() {
    // AS_CONFED_SEQUENCE [64999] then AS_SEQUENCE [65001].
    let mut attrs = attr(0x40, ORIGIN, &[0]);
    attrs.extend(attr(
        0x40,
        AS_PATH,
        &[3, 1, 0, 0, 0xfd, 0xe7, 2, 1, 0, 0, 0xfd, 0xe9],
    ));
    attrs.extend(attr(0x40, NEXT_HOP, &[192, 0, 2, 1]));
    let mut parsed = decode(&attrs, &NLRI_198_51_100).unwrap();
    assert_eq!(parsed.report, UpdateReport::default());
    assert!(parsed.withdraw_if_confed_path());
    assert_withdraw(&parsed, AS_PATH, Problem::Value);
    assert_eq!(
        parsed.withdrawn().collect::<Vec<_>>(),
        vec![(AfiSafi::IPV4_UNICAST, n("198.51.100.0/24"))]
    );
    // A plain path is left alone.
    let mut plain = decode(&mandatory(), &NLRI_198_51_100).unwrap();
    assert!(!plain.withdraw_if_confed_path());
    assert_eq!(plain.report, UpdateReport::default());
}

#[test]
fn ebgp_local_pref_is_discarded_even_malformed() {
    let mut attrs = mandatory();
    attrs.extend(attr(0x40, LOCAL_PREF, &[0, 100]));
    let mut parsed = decode(&attrs, &NLRI_198_51_100).unwrap();
    // Without session knowledge: malformed, treat-as-withdraw (iBGP).
    assert_withdraw(&parsed, LOCAL_PREF, Problem::Length(2));
    // From an external peer: only the attribute goes.
    assert!(parsed.discard_ebgp_local_pref());
    assert_eq!(parsed.report.action, UpdateAction::Normal);
    assert_eq!(parsed.announced().count(), 1);
    assert_eq!(parsed.report.discarded.len(), 1);
    // A well-formed one from an external peer is dropped too.
    let mut attrs = mandatory();
    attrs.extend(attr(0x40, LOCAL_PREF, &[0, 0, 0, 200]));
    let mut parsed = decode(&attrs, &NLRI_198_51_100).unwrap();
    assert_eq!(parsed.update.attributes.local_pref, Some(200));
    assert!(parsed.discard_ebgp_local_pref());
    assert_eq!(parsed.update.attributes.local_pref, None);
    assert_eq!(parsed.report, UpdateReport::default());
}

#[test]
fn route_count_covers_every_family() {
    let mut u = Update::end_of_rib(AfiSafi::IPV4_UNICAST);
    assert_eq!(u.route_count(), 0);
    u.withdrawn = vec![n("10.0.0.0/24")];
    u.nlri = vec![n("10.0.1.0/24"), n("10.0.2.0/24")];
    u.mp_reach = Some(MpReach {
        family: AfiSafi::IPV6_UNICAST,
        nlri: vec![n("2001:db8::/48")],
    });
    u.mp_unreach = Some(MpUnreach {
        family: AfiSafi::IPV6_UNICAST,
        withdrawn: vec![n("2001:db8:1::/48"), n("2001:db8:2::/48")],
    });
    assert_eq!(u.route_count(), 6);
}

#[test]
fn repeated_attributes_yield_only_the_nlri() {
    let attrs = mandatory();
    let first = decode_update(&body(&[], &attrs, &NLRI_198_51_100), &caps4()).unwrap();
    assert!(first.takes_repeats());

    let mut out = vec![n("192.0.2.0/24")];
    let next = body(&[], &attrs, &[25, 203, 0, 113, 128, 8, 10]);
    assert!(repeated_nlri(&next, &attrs, &caps4(), &mut out));
    assert_eq!(
        out,
        vec![n("192.0.2.0/24"), n("203.0.113.128/25"), n("10.0.0.0/8")]
    );
    // Decoded whole, the same UPDATE gives those routes and the attributes
    // of the first.
    let whole = decode_update(&next, &caps4()).unwrap();
    assert_eq!(whole.update.attributes, first.update.attributes);
    assert_eq!(whole.report, first.report);
    assert_eq!(whole.update.nlri, out[1..]);

    let untouched = |b: &[u8], a: &[u8], caps: &SessionCaps| {
        let mut out = vec![n("192.0.2.0/24")];
        let r = repeated_nlri(b, a, caps, &mut out);
        assert_eq!(out, vec![n("192.0.2.0/24")]);
        r
    };
    // Withdrawn routes, other attributes, no NLRI, malformed NLRI (the
    // second prefix is cut short) or a short body: decoded whole instead.
    assert!(!untouched(
        &body(&NLRI_198_51_100, &attrs, &[8, 10]),
        &attrs,
        &caps4()
    ));
    let mut med = attrs.clone();
    med.extend(attr(0x80, MULTI_EXIT_DISC, &[0, 0, 0, 7]));
    assert!(!untouched(&body(&[], &med, &[8, 10]), &attrs, &caps4()));
    assert!(!untouched(&body(&[], &attrs, &[]), &attrs, &caps4()));
    assert!(!untouched(
        &body(&[], &attrs, &[8, 10, 24, 1]),
        &attrs,
        &caps4()
    ));
    assert!(!untouched(&[0, 0, 0], &attrs, &caps4()));
    // ADD-PATH: the path id is read when it was negotiated.
    let rx = SessionCaps {
        add_path_rx: vec![AfiSafi::IPV4_UNICAST],
        ..caps4()
    };
    let mut out = Vec::new();
    assert!(repeated_nlri(
        &body(&[], &attrs, &[0, 0, 0, 1, 8, 10]),
        &attrs,
        &rx,
        &mut out
    ));
    assert_eq!(out, vec![Nlri::with_path_id(p("10.0.0.0/8"), 1)]);
    assert!(!untouched(
        &body(&[], &attrs, &[0, 0, 0, 1, 8, 10]),
        &attrs,
        &caps4()
    ));
}

#[test]
fn only_clean_updates_take_repeats() {
    let good = decode_update(&body(&[], &mandatory(), &NLRI_198_51_100), &caps4()).unwrap();
    assert!(good.takes_repeats());
    // No NLRI (a withdrawal, End-of-RIB).
    let eor = decode_update(&body(&NLRI_198_51_100, &[], &[]), &caps4()).unwrap();
    assert!(!eor.takes_repeats());
    // Treat-as-withdraw: ORIGIN 5.
    let mut bad = attr(0x40, ORIGIN, &[5]);
    bad.extend(attr(0x40, AS_PATH, &[2, 1, 0, 0, 0xfd, 0xe9]));
    bad.extend(attr(0x40, NEXT_HOP, &[192, 0, 2, 1]));
    let taw = decode_update(&body(&[], &bad, &NLRI_198_51_100), &caps4()).unwrap();
    assert!(taw.is_treat_as_withdraw() && !taw.takes_repeats());
    // An attribute discarded (ATOMIC_AGGREGATE with a length).
    let mut discard = mandatory();
    discard.extend(attr(0x40, ATOMIC_AGGREGATE, &[1]));
    let d = decode_update(&body(&[], &discard, &NLRI_198_51_100), &caps4()).unwrap();
    assert!(!d.report.discarded.is_empty() && !d.takes_repeats());
    // IPv6 in MP_REACH_NLRI beside classic NLRI.
    let mut mp = good.clone();
    mp.update.mp_reach = Some(MpReach {
        family: AfiSafi::IPV6_UNICAST,
        nlri: vec![n("2001:db8::/32")],
    });
    assert!(!mp.takes_repeats());
}

/// ORIGIN, AS_PATH, then MP_REACH_NLRI for IPv6 unicast via `nh` with
/// `routes` (encoded), then a MED of `med`.
fn ipv6_attrs(nh: &str, routes: &[u8], med: u8) -> Vec<u8> {
    let mut v = attr(0x40, ORIGIN, &[0]);
    v.extend(attr(0x40, AS_PATH, &[2, 1, 0, 0, 0xfd, 0xe9]));
    let mut mp = vec![0x00, 0x02, 0x01, 16];
    mp.extend_from_slice(&nh.parse::<Ipv6Addr>().unwrap().octets());
    mp.push(0);
    mp.extend_from_slice(routes);
    v.extend(attr(0x80, MP_REACH_NLRI, &mp));
    v.extend(attr(0x80, MULTI_EXIT_DISC, &[0, 0, 0, med]));
    v
}

#[test]
fn repeated_mp_reach_yields_its_routes() {
    let r1 = [48, 0x20, 0x01, 0x0d, 0xb8, 0, 1];
    let r2 = [
        48, 0x20, 0x01, 0x0d, 0xb8, 0, 2, 64, 0x20, 0x01, 0x0d, 0xb8, 0, 3, 0, 0,
    ];
    let first_attrs = ipv6_attrs("2001:db8::1", &r1, 7);
    let first = decode_update(&body(&[], &first_attrs, &[]), &caps4()).unwrap();
    assert!(first.takes_repeats(), "{first:?}");

    let next = body(&[], &ipv6_attrs("2001:db8::1", &r2, 7), &[]);
    let mut out = Vec::new();
    assert!(repeated_nlri(&next, &first_attrs, &caps4(), &mut out));
    assert_eq!(out, vec![n("2001:db8:2::/48"), n("2001:db8:3::/64")]);
    let whole = decode_update(&next, &caps4()).unwrap();
    assert_eq!(whole.update.attributes, first.update.attributes);
    assert_eq!(whole.report, first.report);
    assert_eq!(whole.update.mp_reach.unwrap().nlri, out);

    let untouched = |b: Vec<u8>| {
        let mut out = vec![n("192.0.2.0/24")];
        let r = repeated_nlri(&b, &first_attrs, &caps4(), &mut out);
        assert_eq!(out, vec![n("192.0.2.0/24")]);
        r
    };
    // Another next hop, another MED, no routes, malformed routes, classic
    // NLRI beside it, withdrawn routes: decoded whole.
    assert!(!untouched(body(
        &[],
        &ipv6_attrs("2001:db8::2", &r2, 7),
        &[]
    )));
    assert!(!untouched(body(
        &[],
        &ipv6_attrs("2001:db8::1", &r2, 8),
        &[]
    )));
    assert!(!untouched(body(
        &[],
        &ipv6_attrs("2001:db8::1", &[], 7),
        &[]
    )));
    assert!(!untouched(body(
        &[],
        &ipv6_attrs("2001:db8::1", &[64, 0x20], 7),
        &[]
    )));
    assert!(!untouched(body(&[], &first_attrs, &[8, 10])));
    assert!(!untouched(body(
        &[8, 10],
        &ipv6_attrs("2001:db8::1", &r2, 7),
        &[]
    )));
    // A classic previous UPDATE is no model for an MP one, nor the reverse.
    let mut out = Vec::new();
    let classic = mandatory();
    assert!(!repeated_nlri(&next, &classic, &caps4(), &mut out));
    assert!(!repeated_nlri(
        &body(&[], &classic, &[8, 10]),
        &first_attrs,
        &caps4(),
        &mut out
    ));
    assert!(out.is_empty());
}

#[test]
fn mp_updates_take_repeats_only_for_unicast_alone() {
    let r1 = [48, 0x20, 0x01, 0x0d, 0xb8, 0, 1];
    let mp = decode_update(
        &body(&[], &ipv6_attrs("2001:db8::1", &r1, 7), &[]),
        &caps4(),
    )
    .unwrap();
    assert!(mp.takes_repeats());
    // MP_REACH and classic NLRI in one UPDATE.
    let mut both = ipv6_attrs("2001:db8::1", &r1, 7);
    both.extend(attr(0x40, NEXT_HOP, &[192, 0, 2, 1]));
    let both = decode_update(&body(&[], &both, &NLRI_198_51_100), &caps4()).unwrap();
    assert_eq!(both.report, UpdateReport::default());
    assert!(!both.takes_repeats());
    // An MP_REACH without routes.
    let empty = decode_update(
        &body(&[], &ipv6_attrs("2001:db8::1", &[], 7), &[]),
        &caps4(),
    )
    .unwrap();
    assert!(!empty.takes_repeats());
}

use std::cmp::Ordering;
use std::net::Ipv4Addr;

use bytes::Bytes;
use proptest::prelude::*;

use super::*;

fn ip(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(a, b, c, d)
}

fn header(lsa_type: LsaType, lsid: Ipv4Addr, adv: Ipv4Addr, seq: i32) -> LsaHeader {
    LsaHeader::new(1, Options::E, lsa_type, lsid, adv, seq)
}

/// A router-LSA shaped like the one FRR's ospfd originates for router
/// 1.1.1.1 with one broadcast interface 192.0.2.1/24 (DR 192.0.2.2) and a
/// loopback 1.1.1.1/32. The checksum 0xbde5 was found by a brute-force
/// search for the bytes that make both Fletcher sums zero, independently of
/// this crate's generator.
const FRR_ROUTER_LSA: [u8; 48] = [
    0x00, 0x01, // LS age 1 (InfTransDelay added on flooding)
    0x02, // options: E
    0x01, // LS type 1: router-LSA
    1, 1, 1, 1, // link state ID = router ID
    1, 1, 1, 1, // advertising router
    0x80, 0x00, 0x00, 0x03, // LS sequence number
    0xbd, 0xe5, // LS checksum
    0x00, 0x30, // length 48
    0x00, // flags: not ABR, not ASBR
    0x00, // reserved
    0x00, 0x02, // 2 links
    192, 0, 2, 2, // link ID: DR's interface address
    192, 0, 2, 1, // link data: our interface address
    0x02, 0x00, 0x00, 0x0a, // transit, 0 TOS, metric 10
    1, 1, 1, 1, // link ID: loopback network
    255, 255, 255, 255, // link data: its mask
    0x03, 0x00, 0x00, 0x00, // stub, 0 TOS, metric 0
];

#[test]
fn frr_router_lsa_decodes_and_reencodes() {
    let (lsa, rest) = Lsa::decode(&FRR_ROUTER_LSA).unwrap();
    assert!(rest.is_empty());
    let h = lsa.header();
    assert_eq!(h.age, 1);
    assert_eq!(h.options, Options::E);
    assert_eq!(h.lsa_type, LsaType::ROUTER);
    assert_eq!(h.adv_rtr, ip(1, 1, 1, 1));
    assert_eq!(h.seq, 0x8000_0003_u32 as i32);
    assert_eq!(h.checksum, 0xbde5);
    let LsaBody::Router(r) = lsa.body() else {
        panic!("not a router-LSA");
    };
    assert_eq!(r.flags, RouterFlags::empty());
    assert_eq!(
        r.links,
        vec![
            RouterLink {
                link_id: ip(192, 0, 2, 2),
                link_data: ip(192, 0, 2, 1),
                link_type: RouterLinkType::Transit,
                metric: 10,
            },
            RouterLink {
                link_id: ip(1, 1, 1, 1),
                link_data: Ipv4Addr::BROADCAST,
                link_type: RouterLinkType::Stub,
                metric: 0,
            },
        ]
    );
    // Encoding the decoded contents gives the same bytes, checksum included.
    let again = Lsa::new(*h, lsa.body().clone()).unwrap();
    assert_eq!(&again.raw()[..], &FRR_ROUTER_LSA[..]);
    assert_eq!(again, lsa);
}

#[test]
fn checksum_failure_and_truncation() {
    let mut bad = FRR_ROUTER_LSA;
    bad[30] ^= 1;
    assert!(matches!(
        Lsa::decode(&bad),
        Err(LsaError::BadChecksum { lsa_type: 1, .. })
    ));
    assert!(matches!(
        Lsa::decode(&FRR_ROUTER_LSA[..40]),
        Err(LsaError::Truncated { need: 48, have: 40 })
    ));
    assert!(matches!(
        Lsa::decode(&FRR_ROUTER_LSA[..10]),
        Err(LsaError::Truncated { .. })
    ));
    let mut short = FRR_ROUTER_LSA;
    short[18..20].copy_from_slice(&[0, 8]);
    assert_eq!(Lsa::decode(&short), Err(LsaError::BadLength(8)));
}

#[test]
fn age_is_outside_the_checksum() {
    let (lsa, _) = Lsa::decode(&FRR_ROUTER_LSA).unwrap();
    let aged = lsa.with_age(MAX_AGE);
    assert!(aged.header().is_max_age());
    let (back, _) = Lsa::decode(aged.raw()).unwrap();
    assert_eq!(back.header().age, MAX_AGE);
    assert!(back.same_contents(&lsa) || back.header().is_max_age());
    assert_eq!(back.header().checksum, lsa.header().checksum);
}

#[test]
fn tos_entries_are_skipped_but_kept_raw() {
    // One point-to-point link with one TOS entry (TOS 2, metric 20).
    let body: Vec<u8> = vec![
        0x01, 0x00, 0x00, 0x01, // B bit, 1 link
        2, 2, 2, 2, 10, 0, 0, 1, 0x01, 0x01, 0x00, 0x05, // p2p, 1 TOS, metric 5
        0x02, 0x00, 0x00, 0x14, // TOS 2, metric 20
    ];
    let built = Lsa::new(
        header(
            LsaType(1),
            ip(1, 1, 1, 1),
            ip(1, 1, 1, 1),
            INITIAL_SEQUENCE_NUMBER,
        ),
        LsaBody::Unknown(Bytes::from(body)),
    )
    .unwrap();
    let (lsa, _) = Lsa::decode(built.raw()).unwrap();
    let LsaBody::Router(r) = lsa.body() else {
        panic!("not a router-LSA");
    };
    assert!(r.flags.contains(RouterFlags::B));
    assert_eq!(r.links.len(), 1);
    assert_eq!(r.links[0].metric, 5);
    assert_eq!(r.links[0].link_type, RouterLinkType::PointToPoint);
    assert_eq!(lsa.raw(), built.raw());
}

#[test]
fn malformed_bodies() {
    let cases: [(LsaType, Vec<u8>); 4] = [
        // 3 links announced, none present.
        (LsaType::ROUTER, vec![0, 0, 0, 3]),
        (LsaType::NETWORK, vec![255, 255, 255, 0, 1, 2]),
        (LsaType::SUMMARY_NETWORK, vec![255, 255]),
        (LsaType::AS_EXTERNAL, vec![255, 255, 255, 0, 0, 0, 0, 1]),
    ];
    for (t, body) in cases {
        let lsa = Lsa::new(
            header(t, ip(1, 1, 1, 1), ip(1, 1, 1, 1), 1),
            LsaBody::Unknown(Bytes::from(body)),
        )
        .unwrap();
        assert!(
            matches!(Lsa::decode(lsa.raw()), Err(LsaError::BadBody { lsa_type, .. }) if lsa_type == t.0),
            "type {t}"
        );
    }
}

#[test]
fn newer_instance_rules() {
    let base = LsaHeader {
        checksum: 0x1000,
        ..header(LsaType::ROUTER, ip(1, 1, 1, 1), ip(1, 1, 1, 1), 5)
    };
    let with = |f: &dyn Fn(&mut LsaHeader)| {
        let mut h = base;
        f(&mut h);
        h
    };
    // Sequence numbers compare as signed: the initial one is the lowest.
    let initial = with(&|h| h.seq = INITIAL_SEQUENCE_NUMBER);
    let max = with(&|h| h.seq = MAX_SEQUENCE_NUMBER);
    assert_eq!(compare_instances(&max, &initial), Ordering::Greater);
    assert_eq!(compare_instances(&initial, &base), Ordering::Less);
    // Same sequence: larger checksum.
    let bigger = with(&|h| h.checksum = 0x2000);
    assert_eq!(compare_instances(&bigger, &base), Ordering::Greater);
    // Same sequence and checksum: MaxAge wins.
    let flushed = with(&|h| h.age = MAX_AGE);
    assert_eq!(compare_instances(&flushed, &base), Ordering::Greater);
    assert_eq!(compare_instances(&base, &flushed), Ordering::Less);
    // Ages more than MaxAgeDiff apart: the younger.
    let old = with(&|h| h.age = 1 + MAX_AGE_DIFF + 1);
    assert_eq!(compare_instances(&base, &old), Ordering::Greater);
    assert_eq!(compare_instances(&old, &base), Ordering::Less);
    // Within MaxAgeDiff: the same instance.
    let close = with(&|h| h.age = 1 + MAX_AGE_DIFF);
    assert_eq!(compare_instances(&close, &base), Ordering::Equal);
    assert_eq!(INITIAL_SEQUENCE_NUMBER as u32, 0x8000_0001);
}

#[test]
fn prefix_helper() {
    assert_eq!(
        prefix_of(ip(192, 0, 2, 77), ip(255, 255, 255, 0)),
        Some("192.0.2.0/24".parse().unwrap())
    );
    assert_eq!(prefix_of(ip(192, 0, 2, 0), ip(255, 0, 255, 0)), None);
}

#[test]
fn header_only_decode() {
    let h = LsaHeader::decode(&FRR_ROUTER_LSA[..20]).unwrap();
    assert_eq!(h.length, 48);
    assert_eq!(
        h.key(),
        LsaKey::new(LsaType::ROUTER, ip(1, 1, 1, 1), ip(1, 1, 1, 1))
    );
    assert!(LsaHeader::decode(&FRR_ROUTER_LSA[..19]).is_err());
}

fn arb_ip() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}

fn arb_link() -> impl Strategy<Value = RouterLink> {
    (arb_ip(), arb_ip(), any::<u8>(), any::<u16>()).prop_map(|(id, data, t, metric)| RouterLink {
        link_id: id,
        link_data: data,
        link_type: RouterLinkType::from_u8(t),
        metric,
    })
}

fn arb_body() -> impl Strategy<Value = (LsaType, LsaBody)> {
    let metric = 0..=LS_INFINITY;
    prop_oneof![
        (any::<u8>(), prop::collection::vec(arb_link(), 0..20)).prop_map(|(f, links)| (
            LsaType::ROUTER,
            LsaBody::Router(RouterLsa {
                flags: RouterFlags(f),
                links
            })
        )),
        (arb_ip(), prop::collection::vec(arb_ip(), 0..20)).prop_map(|(mask, r)| (
            LsaType::NETWORK,
            LsaBody::Network(NetworkLsa {
                mask,
                attached_routers: r
            })
        )),
        (arb_ip(), metric.clone()).prop_map(|(mask, metric)| (
            LsaType::SUMMARY_NETWORK,
            LsaBody::SummaryNetwork(SummaryLsa { mask, metric })
        )),
        (arb_ip(), metric.clone()).prop_map(|(mask, metric)| (
            LsaType::SUMMARY_ROUTER,
            LsaBody::SummaryRouter(SummaryLsa { mask, metric })
        )),
        (arb_ip(), any::<bool>(), metric, arb_ip(), any::<u32>()).prop_map(
            |(mask, e, metric, fa, tag)| (
                LsaType::AS_EXTERNAL,
                LsaBody::AsExternal(AsExternalLsa {
                    mask,
                    metric_type: if e {
                        ExternalMetricType::Type2
                    } else {
                        ExternalMetricType::Type1
                    },
                    metric,
                    forwarding_address: fa,
                    route_tag: tag,
                })
            )
        ),
        (6u8..=255, prop::collection::vec(any::<u8>(), 0..64))
            .prop_map(|(t, b)| (LsaType(t), LsaBody::Unknown(Bytes::from(b)))),
    ]
}

pub(crate) fn arb_lsa() -> impl Strategy<Value = Lsa> {
    (
        arb_body(),
        any::<u16>(),
        any::<u8>(),
        arb_ip(),
        arb_ip(),
        any::<i32>(),
    )
        .prop_map(|((t, body), age, opts, lsid, adv, seq)| {
            Lsa::new(LsaHeader::new(age, Options(opts), t, lsid, adv, seq), body).unwrap()
        })
}

proptest! {
    #[test]
    fn decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = Lsa::decode(&bytes);
        let _ = LsaHeader::decode(&bytes);
    }

    #[test]
    fn decode_never_panics_with_valid_checksum(
        t in 1u8..=6,
        body in prop::collection::vec(any::<u8>(), 0..120),
    ) {
        // Random bodies under a correct checksum reach the body decoders.
        let lsa = Lsa::new(
            header(LsaType(t), Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST, 1),
            LsaBody::Unknown(Bytes::from(body)),
        ).unwrap();
        let _ = Lsa::decode(lsa.raw());
    }

    #[test]
    fn valid_lsas_round_trip(lsa in arb_lsa()) {
        let (back, rest) = Lsa::decode(lsa.raw()).unwrap();
        prop_assert!(rest.is_empty());
        prop_assert_eq!(&back, &lsa);
        prop_assert_eq!(usize::from(back.header().length), back.raw().len());
        prop_assert_eq!(compare_instances(back.header(), lsa.header()), Ordering::Equal);
    }
}

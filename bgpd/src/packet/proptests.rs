//! Property tests: no input makes the decoder panic, and every valid
//! message survives encode → decode.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnetwork::{IpNetwork, Ipv4Network, Ipv6Network};
use proptest::prelude::*;

use super::attribute::flag;
use super::capability::{ExtendedNextHop, GracefulRestartFamily};
use super::notification::ErrorCode;
use super::*;

fn all_caps() -> Vec<SessionCaps> {
    let mut out = Vec::new();
    for four_octet_as in [false, true] {
        for extended_message in [false, true] {
            for add_path in [vec![], vec![AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST]] {
                out.push(SessionCaps {
                    four_octet_as,
                    extended_message,
                    add_path_rx: add_path.clone(),
                    add_path_tx: add_path.clone(),
                    // RFC 8950 on with ADD-PATH, off without.
                    extended_next_hop: add_path
                        .iter()
                        .copied()
                        .filter(|f| *f == AfiSafi::IPV4_UNICAST)
                        .collect(),
                    ..SessionCaps::default()
                });
            }
        }
    }
    out
}

fn frame(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![0xff; 16];
    v.extend_from_slice(&((body.len() + 19) as u16).to_be_bytes());
    v.push(kind);
    v.extend_from_slice(body);
    v
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..5000)) {
        for caps in all_caps() {
            let _ = decode_message(&bytes, &caps);
            let _ = header::frame_length(&bytes, &caps);
        }
    }

    #[test]
    fn arbitrary_bodies_never_panic(
        kind in 1u8..=5,
        body in prop::collection::vec(any::<u8>(), 0..600),
    ) {
        for caps in all_caps() {
            let _ = decode_message(&frame(kind, &body), &caps);
            let _ = update::decode_update(&body, &caps);
        }
    }

    /// Well-framed UPDATEs with random attribute and NLRI bytes: reaches
    /// every attribute parser.
    #[test]
    fn arbitrary_attributes_never_panic(
        attrs in prop::collection::vec(
            (any::<u8>(), prop::sample::select(vec![1u8, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 32, 99]),
             prop::collection::vec(any::<u8>(), 0..40)),
            0..8),
        nlri in prop::collection::vec(any::<u8>(), 0..20),
    ) {
        let mut section = Vec::new();
        for (flags, code, value) in attrs {
            section.push(flags & !flag::EXTENDED_LENGTH);
            section.push(code);
            section.push(value.len() as u8);
            section.extend(value);
        }
        let mut body = vec![0, 0];
        body.extend_from_slice(&(section.len() as u16).to_be_bytes());
        body.extend(section);
        body.extend(nlri);
        for caps in all_caps() {
            if let Ok(parsed) = update::decode_update(&body, &caps) {
                let _ = parsed.announced().count();
                let _ = parsed.withdrawn().count();
                let _ = Message::Update(parsed.update).to_bytes(&caps);
            }
        }
    }
}

// ---- strategies for valid messages ---------------------------------

fn v4_prefix() -> impl Strategy<Value = IpNetwork> {
    (any::<u32>(), 0u8..=32).prop_map(|(a, len)| {
        let net = Ipv4Network::new(Ipv4Addr::from(a), len).unwrap();
        IpNetwork::V4(Ipv4Network::new(net.network(), len).unwrap())
    })
}

fn v6_prefix() -> impl Strategy<Value = IpNetwork> {
    (any::<u128>(), 0u8..=128).prop_map(|(a, len)| {
        let net = Ipv6Network::new(Ipv6Addr::from(a), len).unwrap();
        IpNetwork::V6(Ipv6Network::new(net.network(), len).unwrap())
    })
}

fn nlris(prefix: BoxedStrategy<IpNetwork>, add_path: bool) -> BoxedStrategy<Vec<Nlri>> {
    let id = if add_path {
        any::<u32>().prop_map(Some).boxed()
    } else {
        Just(None).boxed()
    };
    prop::collection::vec(
        (prefix, id).prop_map(|(prefix, path_id)| Nlri { prefix, path_id }),
        0..6,
    )
    .boxed()
}

fn asn(four: bool) -> BoxedStrategy<u32> {
    if four {
        any::<u32>().boxed()
    } else {
        (0u32..=65535).boxed()
    }
}

fn as_path(four: bool) -> impl Strategy<Value = AsPath> {
    prop::collection::vec(
        (
            prop::sample::select(vec![
                SegmentType::Set,
                SegmentType::Sequence,
                SegmentType::ConfedSequence,
                SegmentType::ConfedSet,
            ]),
            prop::collection::vec(asn(four), 1..8),
        )
            .prop_map(|(kind, asns)| AsSegment { kind, asns }),
        0..4,
    )
    .prop_map(|segments| AsPath { segments })
}

fn host() -> impl Strategy<Value = Ipv4Addr> {
    (0x0100_0000u32..0xe000_0000).prop_map(Ipv4Addr::from)
}

fn attributes(four: bool) -> impl Strategy<Value = PathAttributes> {
    let a = (
        prop::option::of(prop::sample::select(vec![
            Origin::Igp,
            Origin::Egp,
            Origin::Incomplete,
        ])),
        prop::option::of(as_path(four)),
        prop::option::of(host()),
        prop::option::of(any::<u32>()),
        prop::option::of(any::<u32>()),
        any::<bool>(),
        prop::option::of((asn(four), any::<u32>()).prop_map(|(asn, a)| Aggregator {
            asn,
            address: Ipv4Addr::from(a),
        })),
    );
    let b = (
        prop::collection::vec(any::<u32>().prop_map(Community), 0..5),
        prop::option::of(any::<u32>().prop_map(Ipv4Addr::from)),
        prop::collection::vec(any::<u32>().prop_map(Ipv4Addr::from), 0..4),
        prop::collection::vec(any::<[u8; 8]>().prop_map(ExtendedCommunity), 0..3),
        prop::collection::vec(
            any::<(u32, u32, u32)>().prop_map(|(g, a, b)| LargeCommunity::new(g, a, b)),
            0..3,
        ),
        prop::collection::btree_map(
            40u8..=250,
            (
                prop::sample::select(vec![0x80u8, 0xc0, 0xe0]),
                prop::collection::vec(any::<u8>(), 0..10),
            ),
            0..3,
        ),
        prop::option::of(any::<u32>()),
    );
    (a, b).prop_map(
        |(
            (origin, as_path, next_hop, med, local_pref, atomic_aggregate, aggregator),
            (communities, originator_id, cluster_list, extended_communities, large, unknown, otc),
        )| PathAttributes {
            origin,
            as_path,
            next_hop,
            mp_next_hop: None,
            med,
            local_pref,
            atomic_aggregate,
            aggregator,
            communities,
            originator_id,
            cluster_list,
            extended_communities,
            as4_path: None,
            as4_aggregator: None,
            large_communities: large,
            pmsi_tunnel: None,
            otc,
            weight: 0,
            unknown: unknown
                .into_iter()
                .map(|(type_code, (flags, value))| RawAttribute {
                    flags,
                    type_code,
                    value,
                })
                .collect(),
        },
    )
}

fn mp_next_hop() -> impl Strategy<Value = MpNextHop> {
    (any::<u128>(), prop::option::of(any::<u128>())).prop_map(|(g, ll)| MpNextHop::V6 {
        global: Ipv6Addr::from(g),
        link_local: ll.map(Ipv6Addr::from),
    })
}

fn update(caps: &SessionCaps) -> impl Strategy<Value = Update> {
    let ap = !caps.add_path_tx.is_empty();
    (
        nlris(v4_prefix().boxed(), ap),
        attributes(caps.four_octet_as),
        nlris(v4_prefix().boxed(), ap),
        prop::option::of((nlris(v6_prefix().boxed(), ap), mp_next_hop())),
        prop::option::of(nlris(v6_prefix().boxed(), ap)),
    )
        .prop_map(|(withdrawn, mut attributes, nlri, reach, unreach)| {
            let mp_reach = reach.map(|(nlri, nh)| {
                attributes.mp_next_hop = Some(nh);
                MpReach {
                    family: AfiSafi::IPV6_UNICAST,
                    nlri,
                }
            });
            Update {
                withdrawn,
                attributes,
                mp_reach,
                mp_unreach: unreach.map(|withdrawn| MpUnreach {
                    family: AfiSafi::IPV6_UNICAST,
                    withdrawn,
                }),
                nlri,
                evpn_reach: Vec::new(),
                evpn_unreach: Vec::new(),
            }
        })
}

fn family() -> impl Strategy<Value = AfiSafi> {
    (any::<u16>(), any::<u8>()).prop_map(|(a, s)| AfiSafi::new(Afi(a), Safi(s)))
}

fn capability() -> impl Strategy<Value = Capability> {
    prop_oneof![
        family().prop_map(Capability::Multiprotocol),
        Just(Capability::RouteRefresh),
        Just(Capability::EnhancedRouteRefresh),
        Just(Capability::ExtendedMessage),
        (1u32..).prop_map(Capability::FourOctetAs),
        (
            any::<bool>(),
            any::<bool>(),
            0u16..4096,
            prop::collection::vec((family(), any::<bool>()), 0..3)
        )
            .prop_map(|(r, n, t, f)| Capability::GracefulRestart(GracefulRestart {
                restart_state: r,
                notification: n,
                restart_time: t,
                families: f
                    .into_iter()
                    .map(|(family, forwarding_preserved)| GracefulRestartFamily {
                        family,
                        forwarding_preserved
                    })
                    .collect(),
            })),
        prop::collection::vec((family(), any::<u16>()), 0..3).prop_map(|v| {
            Capability::ExtendedNextHop(
                v.into_iter()
                    .map(|(nlri, nh)| ExtendedNextHop {
                        nlri,
                        next_hop_afi: Afi(nh),
                    })
                    .collect(),
            )
        }),
        prop::collection::vec(
            (
                family(),
                prop::sample::select(vec![
                    AddPathMode::Receive,
                    AddPathMode::Send,
                    AddPathMode::Both
                ])
            ),
            0..3
        )
        .prop_map(Capability::AddPath),
        prop::sample::select(Role::ALL.to_vec()).prop_map(Capability::Role),
        (
            prop::sample::select(vec![10u8, 71, 73, 128, 200]),
            prop::collection::vec(any::<u8>(), 0..12)
        )
            .prop_map(|(code, value)| Capability::Unknown { code, value }),
    ]
}

fn open() -> impl Strategy<Value = Open> {
    (
        1u16..,
        prop_oneof![Just(0u16), 3u16..],
        1u32..,
        prop::collection::vec(capability(), 0..40),
    )
        .prop_map(|(my_as, hold_time, id, capabilities)| Open {
            version: BGP_VERSION,
            my_as,
            hold_time,
            bgp_id: Ipv4Addr::from(id),
            capabilities,
        })
}

fn message(caps: &SessionCaps) -> impl Strategy<Value = Message> {
    prop_oneof![
        open().prop_map(Message::Open),
        update(caps).prop_map(Message::Update),
        (
            any::<u8>(),
            any::<u8>(),
            prop::collection::vec(any::<u8>(), 0..40)
        )
            .prop_map(|(c, s, data)| Message::Notification(Notification::new(
                ErrorCode::from_u8(c, s),
                data
            ))),
        Just(Message::Keepalive),
        (family(), any::<u8>()).prop_map(|(f, s)| Message::RouteRefresh(RouteRefresh::new(
            f,
            RouteRefreshSubtype::from_u8(s)
        ))),
    ]
}

fn caps_strategy() -> impl Strategy<Value = SessionCaps> {
    prop::sample::select(all_caps())
}

proptest! {
    #[test]
    fn valid_messages_round_trip(
        (caps, msg) in caps_strategy().prop_flat_map(|c| (Just(c.clone()), message(&c)))
    ) {
        let bytes = msg.to_bytes(&caps).unwrap();
        prop_assert!(bytes.len() <= caps.max_message_len());
        prop_assert_eq!(header::frame_length(&bytes, &caps), Ok(Some(bytes.len())));
        let decoded = decode_message(&bytes, &caps).unwrap();
        prop_assert_eq!(decoded.message, msg);
        prop_assert!(decoded.report.discarded.is_empty());
    }

    #[test]
    fn packed_updates_decode_to_the_same_routes(
        (caps, attrs, prefixes) in caps_strategy().prop_flat_map(|c| {
            let ap = !c.add_path_tx.is_empty();
            (
                Just(c.clone()),
                attributes(c.four_octet_as),
                prop::collection::vec(
                    (prop_oneof![v4_prefix(), v6_prefix()], if ap { any::<u32>().prop_map(Some).boxed() } else { Just(None).boxed() })
                        .prop_map(|(prefix, path_id)| Nlri { prefix, path_id }),
                    0..400,
                ),
            )
        })
    ) {
        let mut attrs = attrs;
        attrs.mp_next_hop = Some(MpNextHop::V6 { global: Ipv6Addr::LOCALHOST, link_local: None });
        attrs.next_hop = Some(Ipv4Addr::new(192, 0, 2, 1));
        let msgs = pack_announcements(&attrs, &prefixes, &caps).unwrap();
        let mut got = Vec::new();
        for m in &msgs {
            prop_assert!(m.len() <= caps.max_message_len());
            let Message::Update(u) = decode_message(m, &caps).unwrap().message else {
                return Err(TestCaseError::fail("not an update"));
            };
            got.extend(u.reachable().map(|(_, n)| n));
        }
        let mut want = prefixes.clone();
        want.sort();
        got.sort();
        prop_assert_eq!(got, want);
    }

    /// An UPDATE repeating the path attributes of one that takes repeats
    /// decodes, whole, to that one's attributes and outcome and to the
    /// routes `repeated_nlri` gave: joining its routes to the first is the
    /// same as decoding it. IPv4 in classic NLRI or IPv6 in MP_REACH_NLRI
    /// (the second UPDATE's routes spliced into it); the attributes are
    /// valid ones, or valid ones with one byte changed (malformed,
    /// discarded, or still valid).
    #[test]
    fn repeated_attributes_decode_the_same(
        (caps, attrs) in prop::sample::select(all_caps()).prop_flat_map(|c| {
            let four = c.four_octet_as;
            (Just(c), attributes(four))
        }),
        v6 in any::<bool>(),
        flip in prop::option::of((any::<prop::sample::Index>(), any::<u8>())),
        second in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..40),
            (any::<bool>(), prop::collection::vec((0u8..=32, any::<[u8; 4]>(), any::<u32>()), 1..8)).prop_map(|(ids, ps)| {
                // Well-formed prefixes, perhaps with path ids (garbage
                // where ADD-PATH is not negotiated, and missing where it is).
                let mut v = Vec::new();
                for (len, octets, id) in ps {
                    if ids {
                        v.extend_from_slice(&id.to_be_bytes());
                    }
                    v.push(len);
                    v.extend_from_slice(&octets[..usize::from(len).div_ceil(8)]);
                }
                v
            }),
        ],
    ) {
        let mut attrs = attrs;
        attrs.origin.get_or_insert(Origin::Igp);
        attrs.as_path.get_or_insert_with(Default::default);
        let (family, prefix) = if v6 {
            attrs.next_hop = None;
            attrs.mp_next_hop = Some(MpNextHop::V6 { global: "2001:db8::1".parse().unwrap(), link_local: None });
            (AfiSafi::IPV6_UNICAST, "2001:db8::/32")
        } else {
            attrs.mp_next_hop = None;
            attrs.next_hop = Some(Ipv4Addr::new(192, 0, 2, 1));
            (AfiSafi::IPV4_UNICAST, "198.51.100.0/24")
        };
        let first = Nlri {
            prefix: prefix.parse().unwrap(),
            path_id: caps.add_path_tx(family).then_some(7),
        };
        let msgs = pack_announcements(&attrs, &[first], &caps).unwrap();
        let sections = update::Sections::split(&msgs[0][19..]).unwrap();
        let mut raw = sections.attributes.to_vec();
        if let Some((at, value)) = flip {
            let at = at.index(raw.len());
            raw[at] = value;
        }
        let message = |attrs: &[u8], nlri: &[u8]| {
            let mut v = vec![0, 0];
            v.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
            v.extend_from_slice(attrs);
            v.extend_from_slice(nlri);
            v
        };
        let Ok(first) = decode_update(&message(&raw, sections.nlri), &caps) else {
            return Ok(());
        };
        if !first.takes_repeats() {
            return Ok(());
        }
        let body = if v6 {
            // The same attributes around MP_REACH_NLRI with other routes.
            let Some(a) = update::AroundMpReach::find(&raw) else {
                return Ok(());
            };
            let len = a.head.len() + second.len();
            let mut attrs = a.before.to_vec();
            // `before` ends with the attribute's flags and type code.
            let extended = a.before[a.before.len() - 2] & flag::EXTENDED_LENGTH != 0;
            if extended {
                attrs.extend_from_slice(&(len as u16).to_be_bytes());
            } else if len <= 255 {
                attrs.push(len as u8);
            } else {
                return Ok(());
            }
            attrs.extend_from_slice(a.head);
            attrs.extend_from_slice(&second);
            attrs.extend_from_slice(a.after);
            message(&attrs, &[])
        } else {
            message(&raw, &second)
        };
        let mut out = Vec::new();
        if repeated_nlri(&body, &raw, &caps, &mut out) {
            let whole = decode_update(&body, &caps).unwrap();
            prop_assert_eq!(&whole.update.attributes, &first.update.attributes);
            prop_assert_eq!(&whole.report, &first.report);
            let routes = match &whole.update.mp_reach {
                Some(mp) => mp.nlri.clone(),
                None => whole.update.nlri.clone(),
            };
            prop_assert_eq!(routes, out);
            prop_assert!(whole.update.withdrawn.is_empty());
            prop_assert!(whole.update.nlri.is_empty() || whole.update.mp_reach.is_none());
        } else {
            prop_assert!(out.is_empty());
        }
    }
}

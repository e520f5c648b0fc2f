use std::net::Ipv4Addr;

use proptest::prelude::*;

use super::*;
use crate::lsa::{Lsa, LsaBody, LsaHeader, LsaKey, LsaType, NetworkLsa};
use crate::options::Options;

fn ip(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(a, b, c, d)
}

/// A Hello shaped like FRR's on a broadcast interface: router 1.1.1.1,
/// backbone, 192.0.2.0/24, default timers, priority 1, BDR itself, one
/// neighbor seen. The checksum 0x7290 was computed by a separate one-off
/// script (RFC 1071 sum over the packet minus the authentication field).
const FRR_HELLO: [u8; 48] = [
    0x02, 0x01, 0x00, 0x30, // version 2, Hello, length 48
    1, 1, 1, 1, // router ID
    0, 0, 0, 0, // area 0.0.0.0
    0x72, 0x90, 0x00, 0x00, // checksum, AuType 0 (null)
    0, 0, 0, 0, 0, 0, 0, 0, // authentication
    255, 255, 255, 0, // network mask
    0x00, 0x0a, 0x02, 0x01, // HelloInterval 10, options E, priority 1
    0x00, 0x00, 0x00, 0x28, // RouterDeadInterval 40
    192, 0, 2, 2, // DR
    192, 0, 2, 1, // BDR
    2, 2, 2, 2, // neighbor
];

fn frr_hello() -> Packet {
    Packet {
        router_id: ip(1, 1, 1, 1),
        area_id: Ipv4Addr::UNSPECIFIED,
        body: PacketBody::Hello(Hello {
            network_mask: ip(255, 255, 255, 0),
            hello_interval: 10,
            options: Options::E,
            priority: 1,
            dead_interval: 40,
            designated_router: ip(192, 0, 2, 2),
            backup_designated_router: ip(192, 0, 2, 1),
            neighbors: vec![ip(2, 2, 2, 2)],
        }),
    }
}

fn sample_lsa() -> Lsa {
    Lsa::new(
        LsaHeader::new(
            1,
            Options::E,
            LsaType::NETWORK,
            ip(192, 0, 2, 2),
            ip(2, 2, 2, 2),
            crate::lsa::INITIAL_SEQUENCE_NUMBER,
        ),
        LsaBody::Network(NetworkLsa {
            mask: ip(255, 255, 255, 0),
            attached_routers: vec![ip(1, 1, 1, 1), ip(2, 2, 2, 2)],
        }),
    )
    .unwrap()
}

fn all_packets() -> Vec<Packet> {
    let lsa = sample_lsa();
    let bodies = vec![
        frr_hello().body,
        PacketBody::DbDesc(DbDesc {
            interface_mtu: 1500,
            options: Options::E | Options::O,
            flags: DbDescFlags::I | DbDescFlags::M | DbDescFlags::MS,
            dd_seq: 0x1234_5678,
            lsa_headers: vec![*lsa.header()],
        }),
        PacketBody::LsRequest(LsRequest {
            entries: vec![LsaKey::new(LsaType::ROUTER, ip(2, 2, 2, 2), ip(2, 2, 2, 2))],
        }),
        PacketBody::LsUpdate(LsUpdate::new(vec![lsa.clone(), lsa.with_age(30)])),
        PacketBody::LsAck(LsAck {
            lsa_headers: vec![*lsa.header()],
        }),
    ];
    bodies
        .into_iter()
        .map(|body| Packet {
            router_id: ip(1, 1, 1, 1),
            area_id: ip(0, 0, 0, 1),
            body,
        })
        .collect()
}

#[test]
fn frr_hello_bytes() {
    let (p, auth) = Packet::decode(&FRR_HELLO, &AuthConfig::Null).unwrap();
    assert_eq!(p, frr_hello());
    assert_eq!(auth, AuthInfo::Null);
    assert_eq!(&p.encode(&AuthConfig::Null, 0)[..], &FRR_HELLO[..]);
    assert_eq!(
        crate::checksum::internet_checksum_parts(&[&FRR_HELLO[..16], &FRR_HELLO[24..]]),
        0
    );
}

#[test]
fn every_packet_type_round_trips() {
    for auth in [
        AuthConfig::Null,
        AuthConfig::simple(b"secret"),
        AuthConfig::Md5 {
            send: Md5Key::new(7, b"md5-key").unwrap(),
            accept: vec![],
        },
    ] {
        for p in all_packets() {
            let bytes = p.encode(&auth, 42);
            let (back, info) = Packet::decode(&bytes, &auth)
                .unwrap_or_else(|e| panic!("{} with {auth:?}: {e}", p.packet_type()));
            assert_eq!(back, p);
            if let AuthConfig::Md5 { .. } = auth {
                assert_eq!(info, AuthInfo::Cryptographic { key_id: 7, seq: 42 });
            }
        }
    }
}

#[test]
fn header_errors() {
    let null = AuthConfig::Null;
    assert_eq!(
        Packet::decode(&FRR_HELLO[..10], &null),
        Err(DecodeError::TooShort(10))
    );
    let mut v3 = FRR_HELLO;
    v3[0] = 3;
    assert_eq!(Packet::decode(&v3, &null), Err(DecodeError::BadVersion(3)));
    let mut t9 = FRR_HELLO;
    t9[1] = 9;
    assert_eq!(Packet::decode(&t9, &null), Err(DecodeError::UnknownType(9)));
    let mut long = FRR_HELLO;
    long[3] = 0x40;
    assert_eq!(
        Packet::decode(&long, &null),
        Err(DecodeError::BadLength {
            length: 64,
            received: 48
        })
    );
    let mut short = FRR_HELLO;
    short[3] = 20;
    assert!(matches!(
        Packet::decode(&short, &null),
        Err(DecodeError::BadLength { length: 20, .. })
    ));
    let mut corrupt = FRR_HELLO;
    corrupt[30] ^= 0x01;
    let err = Packet::decode(&corrupt, &null).unwrap_err();
    assert!(matches!(
        err,
        DecodeError::BadChecksum {
            packet_type: PacketType::Hello,
            received: 0x7290
        }
    ));
    assert_eq!(err.counter_name(), "bad_checksum");
    // Trailing bytes after the packet length are ignored.
    let mut padded = FRR_HELLO.to_vec();
    padded.extend_from_slice(&[0xde, 0xad]);
    assert!(Packet::decode(&padded, &null).is_ok());
}

#[test]
fn body_errors() {
    let null = AuthConfig::Null;
    // A Hello whose neighbor list is cut mid-address.
    let p = frr_hello();
    let mut bytes = p.encode(&null, 0).to_vec();
    bytes.truncate(46);
    bytes[3] = 46;
    fix_checksum(&mut bytes);
    assert!(matches!(
        Packet::decode(&bytes, &null),
        Err(DecodeError::BadBody {
            packet_type: PacketType::Hello,
            ..
        })
    ));
    // A Link State Update announcing more LSAs than it carries.
    let upd = Packet {
        router_id: ip(1, 1, 1, 1),
        area_id: ip(0, 0, 0, 0),
        body: PacketBody::LsUpdate(LsUpdate::new(vec![sample_lsa()])),
    };
    let mut bytes = upd.encode(&null, 0).to_vec();
    bytes[24..28].copy_from_slice(&2u32.to_be_bytes());
    fix_checksum(&mut bytes);
    assert!(matches!(
        Packet::decode(&bytes, &null),
        Err(DecodeError::BadLsa { .. })
    ));
    // An LSA with a bad checksum is set aside, not fatal.
    let mut bytes = upd.encode(&null, 0).to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    fix_checksum(&mut bytes);
    let (p, _) = Packet::decode(&bytes, &null).unwrap();
    let PacketBody::LsUpdate(u) = p.body else {
        panic!("not an update")
    };
    assert!(u.lsas.is_empty());
    assert_eq!(u.rejected.len(), 1);
    assert!(matches!(
        u.rejected[0].1,
        crate::lsa::LsaError::BadChecksum { .. }
    ));
}

fn fix_checksum(bytes: &mut [u8]) {
    bytes[12..14].copy_from_slice(&[0, 0]);
    let c = crate::checksum::internet_checksum_parts(&[&bytes[..16], &bytes[24..]]);
    bytes[12..14].copy_from_slice(&c.to_be_bytes());
}

#[test]
fn simple_password() {
    let auth = AuthConfig::simple(b"ospfpass-too-long");
    let bytes = frr_hello().encode(&auth, 0);
    assert_eq!(&bytes[14..16], &[0, 1]);
    assert_eq!(&bytes[16..24], b"ospfpass");
    assert!(Packet::decode(&bytes, &auth).is_ok());
    assert_eq!(
        Packet::decode(&bytes, &AuthConfig::simple(b"other")),
        Err(DecodeError::Auth(AuthError::PasswordMismatch))
    );
    assert_eq!(
        Packet::decode(&bytes, &AuthConfig::Null),
        Err(DecodeError::Auth(AuthError::TypeMismatch {
            expected: 0,
            received: 1
        }))
    );
}

#[test]
fn md5_generate_verify_and_failures() {
    let key = Md5Key::new(1, b"s3cret").unwrap();
    let auth = AuthConfig::Md5 {
        send: key.clone(),
        accept: vec![],
    };
    let bytes = frr_hello().encode(&auth, 0x6000_0001);
    // D.3: checksum not computed, AuType 2, key id 1, auth data length 16,
    // sequence number, and the digest after the packet.
    assert_eq!(&bytes[12..16], &[0, 0, 0, 2]);
    assert_eq!(&bytes[16..24], &[0, 0, 1, 16, 0x60, 0, 0, 1]);
    assert_eq!(bytes.len(), 48 + 16);
    assert_eq!(&bytes[2..4], &[0, 48], "the length excludes the digest");
    let (_, info) = Packet::decode(&bytes, &auth).unwrap();
    assert_eq!(
        info,
        AuthInfo::Cryptographic {
            key_id: 1,
            seq: 0x6000_0001
        }
    );

    // The digest is MD5(packet || key padded to 16 bytes).
    use md5::{Digest, Md5};
    let mut h = Md5::new();
    h.update(&bytes[..48]);
    let mut padded = [0u8; 16];
    padded[..6].copy_from_slice(b"s3cret");
    h.update(padded);
    assert_eq!(&h.finalize()[..], &bytes[48..]);

    // Wrong key, same id.
    let wrong = AuthConfig::Md5 {
        send: Md5Key::new(1, b"other").unwrap(),
        accept: vec![],
    };
    assert_eq!(
        Packet::decode(&bytes, &wrong),
        Err(DecodeError::Auth(AuthError::DigestMismatch(1)))
    );
    // Unknown key id.
    let other_id = AuthConfig::Md5 {
        send: Md5Key::new(2, b"s3cret").unwrap(),
        accept: vec![],
    };
    assert_eq!(
        Packet::decode(&bytes, &other_id),
        Err(DecodeError::Auth(AuthError::UnknownKeyId(1)))
    );
    // Rollover: the old key is still accepted.
    let rolling = AuthConfig::Md5 {
        send: Md5Key::new(2, b"new").unwrap(),
        accept: vec![key],
    };
    assert!(Packet::decode(&bytes, &rolling).is_ok());
    // A tampered body or a missing digest fail.
    let mut tampered = bytes.to_vec();
    tampered[30] ^= 1;
    assert_eq!(
        Packet::decode(&tampered, &auth),
        Err(DecodeError::Auth(AuthError::DigestMismatch(1)))
    );
    assert_eq!(
        Packet::decode(&bytes[..50], &auth),
        Err(DecodeError::Auth(AuthError::MissingDigest))
    );
    assert!(Md5Key::new(1, &[0u8; 17]).is_none());
    assert!(!format!("{:?}", Md5Key::new(3, b"hidden").unwrap()).contains("hidden"));
}

fn arb_ip() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}

fn arb_header() -> impl Strategy<Value = LsaHeader> {
    (
        any::<u16>(),
        any::<u8>(),
        any::<u8>(),
        arb_ip(),
        arb_ip(),
        any::<i32>(),
        any::<u16>(),
        any::<u16>(),
    )
        .prop_map(|(age, o, t, lsid, adv, seq, checksum, length)| LsaHeader {
            age,
            options: Options(o),
            lsa_type: LsaType(t),
            lsid,
            adv_rtr: adv,
            seq,
            checksum,
            length,
        })
}

fn arb_body() -> impl Strategy<Value = PacketBody> {
    prop_oneof![
        (
            arb_ip(),
            any::<u16>(),
            any::<u8>(),
            any::<u8>(),
            any::<u32>(),
            arb_ip(),
            arb_ip(),
            prop::collection::vec(arb_ip(), 0..10)
        )
            .prop_map(
                |(m, hi, o, pri, dead, dr, bdr, n)| PacketBody::Hello(Hello {
                    network_mask: m,
                    hello_interval: hi,
                    options: Options(o),
                    priority: pri,
                    dead_interval: dead,
                    designated_router: dr,
                    backup_designated_router: bdr,
                    neighbors: n,
                })
            ),
        (
            any::<u16>(),
            any::<u8>(),
            any::<u8>(),
            any::<u32>(),
            prop::collection::vec(arb_header(), 0..10)
        )
            .prop_map(|(mtu, o, f, seq, h)| PacketBody::DbDesc(DbDesc {
                interface_mtu: mtu,
                options: Options(o),
                flags: DbDescFlags(f),
                dd_seq: seq,
                lsa_headers: h,
            })),
        prop::collection::vec((any::<u8>(), arb_ip(), arb_ip()), 0..10).prop_map(|v| {
            PacketBody::LsRequest(LsRequest {
                entries: v
                    .into_iter()
                    .map(|(t, a, b)| LsaKey::new(LsaType(t), a, b))
                    .collect(),
            })
        }),
        prop::collection::vec(crate::lsa::tests::arb_lsa(), 0..5)
            .prop_map(|l| PacketBody::LsUpdate(LsUpdate::new(l))),
        prop::collection::vec(arb_header(), 0..10)
            .prop_map(|h| PacketBody::LsAck(LsAck { lsa_headers: h })),
    ]
}

proptest! {
    #[test]
    fn decode_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = Packet::decode(&bytes, &AuthConfig::Null);
        let _ = Packet::decode(&bytes, &AuthConfig::simple(b"x"));
        let _ = Packet::decode(&bytes, &AuthConfig::Md5 {
            send: Md5Key::new(0, b"k").unwrap(),
            accept: vec![],
        });
    }

    #[test]
    fn decode_never_panics_past_the_checksum(
        t in 1u8..=5,
        body in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        // A valid header around a random body reaches the body decoders.
        let mut bytes = vec![2, t, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        bytes.extend_from_slice(&[0; 8]);
        bytes.extend_from_slice(&body);
        let len = (bytes.len() as u16).to_be_bytes();
        bytes[2..4].copy_from_slice(&len);
        fix_checksum(&mut bytes);
        let _ = Packet::decode(&bytes, &AuthConfig::Null);
    }

    #[test]
    fn valid_packets_round_trip(
        body in arb_body(),
        rid in arb_ip(),
        area in arb_ip(),
        seq in any::<u32>(),
    ) {
        let p = Packet { router_id: rid, area_id: area, body };
        let auth = AuthConfig::Md5 { send: Md5Key::new(5, b"k").unwrap(), accept: vec![] };
        for auth in [AuthConfig::Null, auth] {
            let bytes = p.encode(&auth, seq);
            let (back, _) = Packet::decode(&bytes, &auth).unwrap();
            prop_assert_eq!(&back, &p);
        }
    }
}

#[test]
fn request_type_out_of_range_and_odd_lengths() {
    let null = AuthConfig::Null;
    let req = Packet {
        router_id: ip(1, 1, 1, 1),
        area_id: ip(0, 0, 0, 0),
        body: PacketBody::LsRequest(LsRequest {
            entries: vec![LsaKey::new(LsaType::ROUTER, ip(2, 2, 2, 2), ip(2, 2, 2, 2))],
        }),
    };
    let mut bytes = req.encode(&null, 0).to_vec();
    bytes[24..28].copy_from_slice(&0x100u32.to_be_bytes());
    fix_checksum(&mut bytes);
    assert!(matches!(
        Packet::decode(&bytes, &null),
        Err(DecodeError::BadBody {
            packet_type: PacketType::LsRequest,
            reason: "LS type out of range"
        })
    ));
    // An acknowledgment whose headers are cut.
    let ack = Packet {
        router_id: ip(1, 1, 1, 1),
        area_id: ip(0, 0, 0, 0),
        body: PacketBody::LsAck(LsAck {
            lsa_headers: vec![*sample_lsa().header()],
        }),
    };
    let mut bytes = ack.encode(&null, 0).to_vec();
    bytes.truncate(40);
    bytes[2..4].copy_from_slice(&40u16.to_be_bytes());
    fix_checksum(&mut bytes);
    assert!(matches!(
        Packet::decode(&bytes, &null),
        Err(DecodeError::BadBody {
            packet_type: PacketType::LsAck,
            ..
        })
    ));
}

#[test]
fn db_desc_flags() {
    let f = DbDescFlags::I | DbDescFlags::M | DbDescFlags::MS;
    assert_eq!(f.0, 0x07);
    let mut g = f;
    g.set(DbDescFlags::I, false);
    assert!(g.contains(DbDescFlags::M | DbDescFlags::MS));
    assert!(!g.contains(DbDescFlags::I));
}

//! Helpers shared by the fuzz targets: turning the first input bytes into
//! the decoder's context (session capabilities, authentication settings),
//! so one target covers every context the daemons decode under.

use bgpd::packet::{AfiSafi, SessionCaps};
use ospfd::packet::{AuthConfig, Md5Key};

/// The key every MD5 context uses; the OSPF target signs with it so that
/// inputs get past the digest check and reach the body decoders.
pub const MD5_SECRET: &[u8] = b"fuzz-secret";
pub const MD5_KEY_ID: u8 = 7;

/// The BGP session context selected by the low bits of `sel`: 2- or
/// 4-octet AS, extended messages, ADD-PATH receive for IPv4 and/or IPv6
/// unicast, extended next hop (RFC 8950) for IPv4 unicast.
pub fn session_caps(sel: u8) -> SessionCaps {
    let mut add_path_rx = Vec::new();
    if sel & 0x04 != 0 {
        add_path_rx.push(AfiSafi::IPV4_UNICAST);
    }
    if sel & 0x08 != 0 {
        add_path_rx.push(AfiSafi::IPV6_UNICAST);
    }
    SessionCaps {
        four_octet_as: sel & 0x01 != 0,
        extended_message: sel & 0x02 != 0,
        add_path_tx: add_path_rx.clone(),
        add_path_rx,
        extended_next_hop: if sel & 0x10 != 0 {
            vec![AfiSafi::IPV4_UNICAST]
        } else {
            Vec::new()
        },
        ..SessionCaps::default()
    }
}

/// The OSPF interface authentication selected by `sel`: null, simple
/// password or MD5 (with a second accepted key, as during a rollover).
pub fn ospf_auth(sel: u8) -> AuthConfig {
    match sel % 3 {
        0 => AuthConfig::Null,
        1 => AuthConfig::simple(b"fuzzpw"),
        _ => AuthConfig::Md5 {
            send: Md5Key::new(MD5_KEY_ID, MD5_SECRET).expect("short key"),
            accept: vec![Md5Key::new(MD5_KEY_ID + 1, b"old").expect("short key")],
        },
    }
}

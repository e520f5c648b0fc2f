//! OSPFv2 packets through `ospfd::packet::Packet::decode` under null,
//! simple-password and MD5 authentication (first byte, `sel % 3`), the way
//! the interface receive path calls it. Bit 0x80 of the first byte makes
//! the target repair what a fuzzer cannot guess: the length field, and
//! either the checksum or, under MD5, the key id, digest length and the
//! digest itself, so inputs reach the Hello, DD, LS Request, LS Update and
//! LS Ack decoders (and the LSA decoder inside LS Update). Without it the
//! raw bytes exercise the header and authentication checks. A decoded
//! packet is encoded again, which must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use md5::{Digest, Md5};
use ospfd::checksum::internet_checksum_parts;
use ospfd::packet::{AuthConfig, Packet, HEADER_LEN, MD5_DIGEST_LEN};
use routing_fuzz::{ospf_auth, MD5_KEY_ID, MD5_SECRET};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let auth = ospf_auth(sel);
    let mut buf = rest.to_vec();
    if sel & 0x80 != 0 && buf.len() >= HEADER_LEN && buf.len() <= usize::from(u16::MAX) {
        repair(&mut buf, &auth);
    }
    if let Ok((packet, _info)) = Packet::decode(&buf, &auth) {
        let _ = packet.packet_type();
        let _ = packet.encode(&auth, 1);
    }
});

fn repair(buf: &mut Vec<u8>, auth: &AuthConfig) {
    buf[0] = 2;
    let len = buf.len() as u16;
    buf[2..4].copy_from_slice(&len.to_be_bytes());
    match auth {
        AuthConfig::Md5 { .. } => {
            buf[14..16].copy_from_slice(&2u16.to_be_bytes());
            buf[12..14].copy_from_slice(&[0, 0]);
            buf[16..18].copy_from_slice(&[0, 0]);
            buf[18] = MD5_KEY_ID;
            buf[19] = MD5_DIGEST_LEN as u8;
            let mut key = [0u8; 16];
            key[..MD5_SECRET.len()].copy_from_slice(MD5_SECRET);
            let mut h = Md5::new();
            h.update(&buf[..]);
            h.update(key);
            let digest: [u8; 16] = h.finalize().into();
            buf.extend_from_slice(&digest);
        }
        AuthConfig::Simple(pw) => {
            buf[14..16].copy_from_slice(&1u16.to_be_bytes());
            buf[16..24].copy_from_slice(pw);
            checksum(buf);
        }
        AuthConfig::Null => {
            buf[14..16].copy_from_slice(&0u16.to_be_bytes());
            checksum(buf);
        }
    }
}

/// RFC 2328 D.4: the checksum covers the packet less the 64-bit
/// authentication field.
fn checksum(buf: &mut [u8]) {
    buf[12..14].copy_from_slice(&[0, 0]);
    let c = internet_checksum_parts(&[&buf[..16], &buf[24..]]);
    buf[12..14].copy_from_slice(&c.to_be_bytes());
}

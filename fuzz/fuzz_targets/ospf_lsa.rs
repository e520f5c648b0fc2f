//! LSAs through `ospfd::lsa::Lsa::decode` (router, network, summary,
//! ASBR-summary, AS-external and unknown types) and the 20-byte
//! `LsaHeader::decode` used by DD, LS Request and LS Ack. Bit 0x80 of the
//! first byte makes the target set the length field and the Fletcher
//! checksum so inputs get past them into the body decoders. A decoded LSA
//! is rebuilt with `Lsa::new`, which must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ospfd::checksum::fletcher_checksum;
use ospfd::lsa::{Lsa, LsaHeader, LSA_HEADER_LEN};

/// Offset of the checksum within the LSA, counted from the options byte
/// (the age is left out of the checksum).
const CHECKSUM_OFFSET: usize = 14;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let mut buf = rest.to_vec();
    if sel & 0x80 != 0 && buf.len() >= LSA_HEADER_LEN && buf.len() <= usize::from(u16::MAX) {
        let len = buf.len() as u16;
        buf[18..20].copy_from_slice(&len.to_be_bytes());
        buf[16..18].copy_from_slice(&[0, 0]);
        if let Some(c) = fletcher_checksum(&buf[2..], CHECKSUM_OFFSET) {
            buf[16..18].copy_from_slice(&c.to_be_bytes());
        }
    }
    let _ = LsaHeader::decode(&buf);
    let mut input: &[u8] = &buf;
    while let Ok((lsa, rest)) = Lsa::decode(input) {
        let _ = lsa.key();
        let _ = Lsa::new(*lsa.header(), lsa.body().clone());
        if rest.len() >= input.len() {
            break;
        }
        input = rest;
    }
});

//! The Link State Request packet body (RFC 2328 A.3.4): the LSAs a router
//! asks its neighbor for after the database exchange. Which LSAs to ask
//! for is the neighbor state machine's business.

use std::net::Ipv4Addr;

use bytes::{BufMut, BytesMut};
use nom::number::complete::be_u32;

use super::{bad_body, DecodeError, PacketType};
use crate::lsa::{LsaKey, LsaType};
use crate::wire::{ipv4, Res};

/// The Link State Request body, RFC 2328 A.3.4 (after the 24-byte header):
/// a list of (type, ID, advertising router) triples.
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                          LS type                              |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                       Link State ID                           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                     Advertising Router                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                              ...                              |
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LsRequest {
    pub entries: Vec<LsaKey>,
}

/// Length of one request entry.
const ENTRY_LEN: usize = 12;

fn parse_entry(i: &[u8]) -> Res<'_, (u32, Ipv4Addr, Ipv4Addr)> {
    let (i, t) = be_u32(i)?;
    let (i, lsid) = ipv4(i)?;
    let (i, adv) = ipv4(i)?;
    Ok((i, (t, lsid, adv)))
}

impl LsRequest {
    pub(crate) fn decode(body: &[u8]) -> Result<LsRequest, DecodeError> {
        let bad = |r| bad_body(PacketType::LsRequest, r);
        if !body.len().is_multiple_of(ENTRY_LEN) {
            return Err(bad("request list not a multiple of 12 bytes"));
        }
        let mut entries = Vec::with_capacity(body.len() / ENTRY_LEN);
        let mut i = body;
        while !i.is_empty() {
            let (rest, (t, lsid, adv)) = parse_entry(i).map_err(|_| bad("truncated entry"))?;
            let t = u8::try_from(t).map_err(|_| bad("LS type out of range"))?;
            entries.push(LsaKey::new(LsaType(t), lsid, adv));
            i = rest;
        }
        Ok(LsRequest { entries })
    }

    pub(crate) fn encode(&self, buf: &mut BytesMut) {
        for e in &self.entries {
            buf.put_u32(u32::from(e.lsa_type.0));
            buf.put_u32(e.lsid.into());
            buf.put_u32(e.adv_rtr.into());
        }
    }
}

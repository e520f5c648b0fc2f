//! The Link State Update packet body (RFC 2328 A.3.5): LSAs being flooded
//! or answering a request. An LSA whose checksum or body is bad is set
//! aside (§13 step 1: discard it and go on with the next) rather than
//! dropping the whole packet; a packet whose LSA framing is broken is
//! dropped. Installing the LSAs is the flooding code's job.

use bytes::{BufMut, BytesMut};
use nom::number::complete::be_u32;

use super::{bad_body, DecodeError, PacketType};
use crate::lsa::{Lsa, LsaError, LsaHeader, LSA_HEADER_LEN};

/// The Link State Update body, RFC 2328 A.3.5 (after the 24-byte header).
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                            # LSAs                             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                                                               |
/// +-                                                            +-+
/// |                             LSAs                              |
/// +-                                                            +-+
/// |                              ...                              |
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LsUpdate {
    pub lsas: Vec<Lsa>,
    /// LSAs the decoder set aside (bad checksum, malformed body), each with
    /// its header, so the caller can count and log them. Never encoded.
    pub rejected: Vec<(LsaHeader, LsaError)>,
}

impl LsUpdate {
    pub fn new(lsas: Vec<Lsa>) -> LsUpdate {
        LsUpdate {
            lsas,
            rejected: Vec::new(),
        }
    }

    pub(crate) fn decode(body: &[u8]) -> Result<LsUpdate, DecodeError> {
        let bad = |r| bad_body(PacketType::LsUpdate, r);
        let (mut i, count) =
            be_u32::<_, nom::error::Error<&[u8]>>(body).map_err(|_| bad("truncated LSA count"))?;
        let mut update = LsUpdate::default();
        for _ in 0..count {
            let header = LsaHeader::decode(i).map_err(|error| DecodeError::BadLsa {
                packet_type: PacketType::LsUpdate,
                error,
            })?;
            let len = usize::from(header.length);
            if len < LSA_HEADER_LEN {
                return Err(bad("LSA length shorter than its header"));
            }
            let (Some(lsa_bytes), Some(rest)) = (i.get(..len), i.get(len..)) else {
                return Err(bad("LSA length beyond the packet"));
            };
            match Lsa::decode(lsa_bytes) {
                Ok((lsa, _)) => update.lsas.push(lsa),
                Err(e) => update.rejected.push((header, e)),
            }
            i = rest;
        }
        Ok(update)
    }

    pub(crate) fn encode(&self, buf: &mut BytesMut) {
        buf.put_u32(self.lsas.len() as u32);
        for lsa in &self.lsas {
            buf.put_slice(lsa.raw());
        }
    }
}

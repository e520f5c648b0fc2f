//! The Link State Acknowledgment packet body (RFC 2328 A.3.6): LSA headers
//! acknowledging flooded LSAs. Deciding what to acknowledge, and when, is
//! the flooding code's job (§13.5).

use bytes::BytesMut;

use super::dbdesc::decode_headers;
use super::{DecodeError, PacketType};
use crate::lsa::LsaHeader;

/// The Link State Acknowledgment body, RFC 2328 A.3.6 (after the 24-byte
/// header): a list of LSA headers.
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                                                               |
/// +-                                                             -+
/// |                                                               |
/// +-                         An LSA Header                       -+
/// |                                                               |
/// +-                                                             -+
/// |                                                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                              ...                              |
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LsAck {
    pub lsa_headers: Vec<LsaHeader>,
}

impl LsAck {
    pub(crate) fn decode(body: &[u8]) -> Result<LsAck, DecodeError> {
        Ok(LsAck {
            lsa_headers: decode_headers(body, PacketType::LsAck)?,
        })
    }

    pub(crate) fn encode(&self, buf: &mut BytesMut) {
        for h in &self.lsa_headers {
            h.encode(buf);
        }
    }
}

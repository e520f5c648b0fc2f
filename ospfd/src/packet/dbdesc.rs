//! The Database Description packet body (RFC 2328 A.3.3): the summary of
//! a database exchanged while an adjacency forms. The master/slave
//! exchange itself (§10.6, §10.8) belongs to the neighbor state machine.

use bytes::{BufMut, BytesMut};
use nom::number::complete::{be_u16, be_u32, be_u8};

use super::{bad_body, DecodeError, PacketType};
use crate::lsa::{LsaHeader, LSA_HEADER_LEN};
use crate::options::Options;
use crate::wire::Res;

bit_flags! {
    /// The I/M/MS bits of a Database Description packet.
    pub struct DbDescFlags(u8) {
        /// MS: the sender is the master.
        const MS = 0x01;
        /// M: more packets follow.
        const M = 0x02;
        /// I: the first packet of the exchange.
        const I = 0x04;
    }
}

/// The Database Description body, RFC 2328 A.3.3 (after the 24-byte
/// header).
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |         Interface MTU         |    Options    |0|0|0|0|0|I|M|MS
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                     DD sequence number                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                                                               |
/// +-                                                             -+
/// |                                                               |
/// +-                      An LSA Header                          -+
/// |                                                               |
/// +-                                                             -+
/// |                                                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                              ...                              |
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbDesc {
    pub interface_mtu: u16,
    pub options: Options,
    pub flags: DbDescFlags,
    pub dd_seq: u32,
    pub lsa_headers: Vec<LsaHeader>,
}

fn parse_fixed(i: &[u8]) -> Res<'_, (u16, u8, u8, u32)> {
    let (i, mtu) = be_u16(i)?;
    let (i, options) = be_u8(i)?;
    let (i, flags) = be_u8(i)?;
    let (i, seq) = be_u32(i)?;
    Ok((i, (mtu, options, flags, seq)))
}

/// Decodes a run of 20-byte LSA headers filling `i` exactly.
pub(super) fn decode_headers(
    i: &[u8],
    packet_type: PacketType,
) -> Result<Vec<LsaHeader>, DecodeError> {
    if !i.len().is_multiple_of(LSA_HEADER_LEN) {
        return Err(bad_body(
            packet_type,
            "LSA headers not a multiple of 20 bytes",
        ));
    }
    i.chunks_exact(LSA_HEADER_LEN)
        .map(|c| LsaHeader::decode(c).map_err(|error| DecodeError::BadLsa { packet_type, error }))
        .collect()
}

impl DbDesc {
    pub(crate) fn decode(body: &[u8]) -> Result<DbDesc, DecodeError> {
        let (i, (mtu, options, flags, dd_seq)) = parse_fixed(body)
            .map_err(|_| bad_body(PacketType::DbDesc, "truncated Database Description"))?;
        Ok(DbDesc {
            interface_mtu: mtu,
            options: Options(options),
            flags: DbDescFlags(flags),
            dd_seq,
            lsa_headers: decode_headers(i, PacketType::DbDesc)?,
        })
    }

    pub(crate) fn encode(&self, buf: &mut BytesMut) {
        buf.put_u16(self.interface_mtu);
        buf.put_u8(self.options.0);
        buf.put_u8(self.flags.0);
        buf.put_u32(self.dd_seq);
        for h in &self.lsa_headers {
            h.encode(buf);
        }
    }
}

//! The summary-LSA body (RFC 2328 A.4.4), types 3 (network) and 4 (AS
//! boundary router), originated by area border routers. TOS entries after
//! the TOS 0 metric are skipped.

use std::net::Ipv4Addr;

use bytes::{BufMut, BytesMut};
use nom::number::complete::be_u8;

use crate::wire::{be_u24, ipv4, Res};

/// The summary-LSA body, RFC 2328 A.4.4 (after the 20-byte LSA header).
/// For type 4 the mask is unused and zero.
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         Network Mask                          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |      0        |                  metric                       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     TOS       |                TOS  metric                    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                              ...                              |
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SummaryLsa {
    pub mask: Ipv4Addr,
    /// 24-bit metric; LSInfinity means unreachable.
    pub metric: u32,
}

impl SummaryLsa {
    pub(crate) fn decode(body: &[u8]) -> Result<Self, &'static str> {
        let parse = |i| -> Res<'_, SummaryLsa> {
            let (i, mask) = ipv4(i)?;
            let (i, _) = be_u8(i)?;
            let (i, metric) = be_u24(i)?;
            Ok((i, SummaryLsa { mask, metric }))
        };
        parse(body)
            .map(|(_, s)| s)
            .map_err(|_| "truncated summary-LSA")
    }

    pub(crate) fn encode(&self, buf: &mut BytesMut) {
        buf.put_u32(self.mask.into());
        buf.put_u32(self.metric & 0x00ff_ffff);
    }
}

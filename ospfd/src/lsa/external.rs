//! The AS-external-LSA body (RFC 2328 A.4.5), originated by AS boundary
//! routers for destinations outside the AS. Only the TOS 0 block is
//! decoded; further TOS blocks are skipped.

use std::net::Ipv4Addr;

use bytes::{BufMut, BytesMut};
use nom::number::complete::{be_u32, be_u8};

use crate::wire::{be_u24, ipv4, Res};

/// Whether an external metric adds to the internal cost (type 1) or is
/// compared first and alone (type 2, the E bit set), §16.4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExternalMetricType {
    Type1,
    Type2,
}

/// The AS-external-LSA body, RFC 2328 A.4.5 (after the 20-byte LSA header).
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         Network Mask                          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |E|     0       |                  metric                       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                      Forwarding address                       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                      External Route Tag                       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |E|    TOS      |                TOS  metric                    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                              ...                              |
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AsExternalLsa {
    pub mask: Ipv4Addr,
    pub metric_type: ExternalMetricType,
    /// 24-bit metric; LSInfinity means unreachable.
    pub metric: u32,
    /// Where to send the traffic; 0.0.0.0 means "to the ASBR".
    pub forwarding_address: Ipv4Addr,
    pub route_tag: u32,
}

impl AsExternalLsa {
    pub(crate) fn decode(body: &[u8]) -> Result<Self, &'static str> {
        let parse = |i| -> Res<'_, AsExternalLsa> {
            let (i, mask) = ipv4(i)?;
            let (i, bits) = be_u8(i)?;
            let (i, metric) = be_u24(i)?;
            let (i, forwarding_address) = ipv4(i)?;
            let (i, route_tag) = be_u32(i)?;
            let metric_type = if bits & 0x80 != 0 {
                ExternalMetricType::Type2
            } else {
                ExternalMetricType::Type1
            };
            Ok((
                i,
                AsExternalLsa {
                    mask,
                    metric_type,
                    metric,
                    forwarding_address,
                    route_tag,
                },
            ))
        };
        parse(body)
            .map(|(_, s)| s)
            .map_err(|_| "truncated AS-external-LSA")
    }

    pub(crate) fn encode(&self, buf: &mut BytesMut) {
        buf.put_u32(self.mask.into());
        let e = match self.metric_type {
            ExternalMetricType::Type1 => 0,
            ExternalMetricType::Type2 => 0x8000_0000,
        };
        buf.put_u32(e | (self.metric & 0x00ff_ffff));
        buf.put_u32(self.forwarding_address.into());
        buf.put_u32(self.route_tag);
    }
}

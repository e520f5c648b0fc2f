//! The router-LSA body (RFC 2328 A.4.2): one per router per area,
//! describing the router's links into the area. TOS metrics other than TOS
//! 0 are skipped when decoding (they stay in the LSA's raw bytes) and never
//! generated.

use std::net::Ipv4Addr;

use bytes::{BufMut, BytesMut};
use nom::bytes::complete::take;
use nom::number::complete::{be_u16, be_u8};

use crate::wire::{ipv4, Res};

bit_flags! {
    /// The flags byte of a router-LSA.
    pub struct RouterFlags(u8) {
        /// B: area border router.
        const B = 0x01;
        /// E: AS boundary router.
        const E = 0x02;
        /// V: endpoint of a fully adjacent virtual link.
        const V = 0x04;
        /// W: wild-card multicast receiver (MOSPF).
        const W = 0x08;
        /// Nt: NSSA translator (RFC 3101).
        const NT = 0x10;
    }
}

/// The type of one router link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RouterLinkType {
    /// 1: point-to-point connection to another router; link ID is the
    /// neighbor's router ID, link data our interface address (or ifIndex
    /// when unnumbered).
    PointToPoint,
    /// 2: connection to a transit network; link ID is the DR's interface
    /// address, link data ours.
    Transit,
    /// 3: connection to a stub network; link ID is the network number, link
    /// data its mask.
    Stub,
    /// 4: virtual link; link ID is the neighbor's router ID.
    Virtual,
    /// Any other value, kept so the LSA re-encodes as received.
    Other(u8),
}

impl RouterLinkType {
    pub fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::PointToPoint,
            2 => Self::Transit,
            3 => Self::Stub,
            4 => Self::Virtual,
            other => Self::Other(other),
        }
    }

    pub fn to_u8(self) -> u8 {
        match self {
            Self::PointToPoint => 1,
            Self::Transit => 2,
            Self::Stub => 3,
            Self::Virtual => 4,
            Self::Other(v) => v,
        }
    }
}

/// One link of a router-LSA, TOS 0 metric only.
///
/// ```text
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                          Link ID                              |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         Link Data                             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     Type      |     # TOS     |            metric             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |      TOS      |        0      |          TOS  metric          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RouterLink {
    pub link_id: Ipv4Addr,
    pub link_data: Ipv4Addr,
    pub link_type: RouterLinkType,
    pub metric: u16,
}

/// The router-LSA body, RFC 2328 A.4.2 (after the 20-byte LSA header).
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |    0    |V|E|B|        0      |            # links            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                          Link ID                              |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         Link Data                             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     Type      |     # TOS     |            metric             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                              ...                              |
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RouterLsa {
    pub flags: RouterFlags,
    pub links: Vec<RouterLink>,
}

fn parse_link(i: &[u8]) -> Res<'_, RouterLink> {
    let (i, link_id) = ipv4(i)?;
    let (i, link_data) = ipv4(i)?;
    let (i, link_type) = be_u8(i)?;
    let (i, tos_count) = be_u8(i)?;
    let (i, metric) = be_u16(i)?;
    // Skip the TOS entries: 4 bytes each.
    let (i, _) = take(usize::from(tos_count) * 4)(i)?;
    Ok((
        i,
        RouterLink {
            link_id,
            link_data,
            link_type: RouterLinkType::from_u8(link_type),
            metric,
        },
    ))
}

impl RouterLsa {
    pub(crate) fn decode(body: &[u8]) -> Result<Self, &'static str> {
        let parse = |i| -> Res<'_, (u8, u16)> {
            let (i, flags) = be_u8(i)?;
            let (i, _) = be_u8(i)?;
            let (i, n) = be_u16(i)?;
            Ok((i, (flags, n)))
        };
        let (mut i, (flags, n)) = parse(body).map_err(|_| "truncated router-LSA")?;
        // Each link is at least 12 bytes: refuse counts the body cannot hold
        // before allocating for them.
        if usize::from(n) * 12 > i.len() {
            return Err("router-LSA link count exceeds its length");
        }
        let mut links = Vec::with_capacity(usize::from(n));
        for _ in 0..n {
            let (rest, link) = parse_link(i).map_err(|_| "truncated router link")?;
            links.push(link);
            i = rest;
        }
        Ok(RouterLsa {
            flags: RouterFlags(flags),
            links,
        })
    }

    pub(crate) fn encode(&self, buf: &mut BytesMut) {
        buf.put_u8(self.flags.0);
        buf.put_u8(0);
        // More than 65535 links cannot be represented; Lsa::new refuses an
        // LSA that long anyway (each link is 12 bytes).
        buf.put_u16(self.links.len().min(usize::from(u16::MAX)) as u16);
        for link in &self.links {
            buf.put_u32(link.link_id.into());
            buf.put_u32(link.link_data.into());
            buf.put_u8(link.link_type.to_u8());
            buf.put_u8(0);
            buf.put_u16(link.metric);
        }
    }
}

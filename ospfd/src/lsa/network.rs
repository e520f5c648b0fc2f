//! The network-LSA body (RFC 2328 A.4.3): originated by the DR of a
//! broadcast or NBMA network, listing the routers fully adjacent to it.

use std::net::Ipv4Addr;

use bytes::{BufMut, BytesMut};

use crate::wire::ipv4;

/// The network-LSA body, RFC 2328 A.4.3 (after the 20-byte LSA header).
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         Network Mask                          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                        Attached Router                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                              ...                              |
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkLsa {
    pub mask: Ipv4Addr,
    pub attached_routers: Vec<Ipv4Addr>,
}

impl NetworkLsa {
    pub(crate) fn decode(body: &[u8]) -> Result<Self, &'static str> {
        let (mut i, mask) = ipv4(body).map_err(|_| "truncated network-LSA")?;
        if !i.len().is_multiple_of(4) {
            return Err("network-LSA attached routers not a multiple of 4 bytes");
        }
        let mut attached_routers = Vec::with_capacity(i.len() / 4);
        while !i.is_empty() {
            let (rest, rtr) = ipv4(i).map_err(|_| "truncated attached router")?;
            attached_routers.push(rtr);
            i = rest;
        }
        Ok(NetworkLsa {
            mask,
            attached_routers,
        })
    }

    pub(crate) fn encode(&self, buf: &mut BytesMut) {
        buf.put_u32(self.mask.into());
        for rtr in &self.attached_routers {
            buf.put_u32((*rtr).into());
        }
    }
}

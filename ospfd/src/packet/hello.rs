//! The Hello packet body (RFC 2328 A.3.2): discovers neighbors, agrees on
//! timers and carries the DR election inputs. Decoding checks only the
//! format; parameter agreement (§10.5) is the interface code's job.

use std::net::Ipv4Addr;

use bytes::{BufMut, BytesMut};
use nom::number::complete::{be_u16, be_u32, be_u8};

use super::{bad_body, DecodeError, PacketType};
use crate::options::Options;
use crate::wire::{ipv4, Res};

/// The Hello body, RFC 2328 A.3.2 (after the 24-byte header).
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                        Network Mask                           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |         HelloInterval         |    Options    |    Rtr Pri    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                     RouterDeadInterval                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                      Designated Router                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                   Backup Designated Router                    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                          Neighbor                             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                              ...                              |
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hello {
    pub network_mask: Ipv4Addr,
    pub hello_interval: u16,
    pub options: Options,
    pub priority: u8,
    pub dead_interval: u32,
    pub designated_router: Ipv4Addr,
    pub backup_designated_router: Ipv4Addr,
    /// Router IDs of the routers heard on the network.
    pub neighbors: Vec<Ipv4Addr>,
}

struct Fixed {
    network_mask: Ipv4Addr,
    hello_interval: u16,
    options: u8,
    priority: u8,
    dead_interval: u32,
    dr: Ipv4Addr,
    bdr: Ipv4Addr,
}

fn parse_fixed(i: &[u8]) -> Res<'_, Fixed> {
    let (i, network_mask) = ipv4(i)?;
    let (i, hello_interval) = be_u16(i)?;
    let (i, options) = be_u8(i)?;
    let (i, priority) = be_u8(i)?;
    let (i, dead_interval) = be_u32(i)?;
    let (i, dr) = ipv4(i)?;
    let (i, bdr) = ipv4(i)?;
    Ok((
        i,
        Fixed {
            network_mask,
            hello_interval,
            options,
            priority,
            dead_interval,
            dr,
            bdr,
        },
    ))
}

impl Hello {
    pub(crate) fn decode(body: &[u8]) -> Result<Hello, DecodeError> {
        let bad = |r| bad_body(PacketType::Hello, r);
        let (mut i, f) = parse_fixed(body).map_err(|_| bad("truncated Hello"))?;
        if !i.len().is_multiple_of(4) {
            return Err(bad("neighbor list not a multiple of 4 bytes"));
        }
        let mut neighbors = Vec::with_capacity(i.len() / 4);
        while let Ok((rest, n)) = ipv4(i) {
            neighbors.push(n);
            i = rest;
        }
        Ok(Hello {
            network_mask: f.network_mask,
            hello_interval: f.hello_interval,
            options: Options(f.options),
            priority: f.priority,
            dead_interval: f.dead_interval,
            designated_router: f.dr,
            backup_designated_router: f.bdr,
            neighbors,
        })
    }

    pub(crate) fn encode(&self, buf: &mut BytesMut) {
        buf.put_u32(self.network_mask.into());
        buf.put_u16(self.hello_interval);
        buf.put_u8(self.options.0);
        buf.put_u8(self.priority);
        buf.put_u32(self.dead_interval);
        buf.put_u32(self.designated_router.into());
        buf.put_u32(self.backup_designated_router.into());
        for n in &self.neighbors {
            buf.put_u32((*n).into());
        }
    }
}

//! OSPFv2 packets (RFC 2328 A.3): the common header with its checksum and
//! authentication (A.3.1, Appendix D), and the five packet bodies (A.3.2 to
//! A.3.6).
//!
//! Decoding takes the OSPF payload of an IP datagram (IP header already
//! removed) and the receiving interface's authentication settings, and
//! either returns the packet or a [`DecodeError`] that says why it must be
//! dropped, so the caller can count and log it. Encoding produces the bytes
//! to hand to the socket, checksum and authentication included.
//!
//! This module never checks protocol semantics (area ID, hello intervals,
//! neighbor state, cryptographic sequence number replay): it returns what
//! the caller needs to check them.

mod auth;
mod dbdesc;
mod hello;
mod lsack;
mod lsreq;
mod lsupdate;

use std::net::Ipv4Addr;

use bytes::{BufMut, Bytes, BytesMut};
use nom::number::complete::{be_u16, be_u8};

pub use auth::{AuthConfig, AuthError, AuthInfo, Md5Key, MD5_DIGEST_LEN};
pub use dbdesc::{DbDesc, DbDescFlags};
pub use hello::Hello;
pub use lsack::LsAck;
pub use lsreq::LsRequest;
pub use lsupdate::LsUpdate;

use crate::lsa::LsaError;
use crate::wire::{ipv4, Res};

/// The OSPF version this crate speaks.
pub const OSPF_VERSION: u8 = 2;
/// Length of the common packet header.
pub const HEADER_LEN: usize = 24;
/// IP protocol number of OSPF.
pub const IPPROTO_OSPF: u8 = 89;
/// AllSPFRouters multicast group.
pub const ALL_SPF_ROUTERS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 5);
/// AllDRouters multicast group.
pub const ALL_D_ROUTERS: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 6);

/// The packet type field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PacketType {
    Hello = 1,
    DbDesc = 2,
    LsRequest = 3,
    LsUpdate = 4,
    LsAck = 5,
}

impl PacketType {
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            1 => Self::Hello,
            2 => Self::DbDesc,
            3 => Self::LsRequest,
            4 => Self::LsUpdate,
            5 => Self::LsAck,
            _ => return None,
        })
    }
}

impl std::fmt::Display for PacketType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Hello => "Hello",
            Self::DbDesc => "Database Description",
            Self::LsRequest => "Link State Request",
            Self::LsUpdate => "Link State Update",
            Self::LsAck => "Link State Acknowledgment",
        })
    }
}

/// Why a received packet is dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("packet of {0} bytes is shorter than the OSPF header")]
    TooShort(usize),
    #[error("bad OSPF version {0}")]
    BadVersion(u8),
    #[error("unknown packet type {0}")]
    UnknownType(u8),
    #[error("packet length field {length} does not fit the {received} bytes received")]
    BadLength { length: u16, received: usize },
    #[error("bad checksum {received:#06x} in {packet_type} packet")]
    BadChecksum {
        packet_type: PacketType,
        received: u16,
    },
    #[error("authentication failure: {0}")]
    Auth(#[from] AuthError),
    #[error("malformed {packet_type} packet: {reason}")]
    BadBody {
        packet_type: PacketType,
        reason: &'static str,
    },
    #[error("malformed LSA in {packet_type} packet: {error}")]
    BadLsa {
        packet_type: PacketType,
        error: LsaError,
    },
}

impl DecodeError {
    /// A short, stable name for a drop counter.
    pub fn counter_name(&self) -> &'static str {
        match self {
            Self::TooShort(_) => "too_short",
            Self::BadVersion(_) => "bad_version",
            Self::UnknownType(_) => "unknown_type",
            Self::BadLength { .. } => "bad_length",
            Self::BadChecksum { .. } => "bad_checksum",
            Self::Auth(_) => "auth_failure",
            Self::BadBody { .. } => "bad_body",
            Self::BadLsa { .. } => "bad_lsa",
        }
    }
}

/// The packet body, by type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PacketBody {
    Hello(Hello),
    DbDesc(DbDesc),
    LsRequest(LsRequest),
    LsUpdate(LsUpdate),
    LsAck(LsAck),
}

impl PacketBody {
    pub fn packet_type(&self) -> PacketType {
        match self {
            Self::Hello(_) => PacketType::Hello,
            Self::DbDesc(_) => PacketType::DbDesc,
            Self::LsRequest(_) => PacketType::LsRequest,
            Self::LsUpdate(_) => PacketType::LsUpdate,
            Self::LsAck(_) => PacketType::LsAck,
        }
    }
}

/// An OSPF packet: the common header's identity fields and the body. The
/// version, type, length, checksum and authentication fields are derived
/// when encoding and checked when decoding.
///
/// RFC 2328 A.3.1, the OSPF packet header:
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |   Version #   |     Type      |         Packet length         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                          Router ID                            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                           Area ID                             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           Checksum            |             AuType            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                       Authentication                          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                       Authentication                          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packet {
    pub router_id: Ipv4Addr,
    pub area_id: Ipv4Addr,
    pub body: PacketBody,
}

/// The header fields as they were on the wire.
struct RawHeader {
    version: u8,
    packet_type: u8,
    length: u16,
    router_id: Ipv4Addr,
    area_id: Ipv4Addr,
    checksum: u16,
    au_type: u16,
}

fn parse_header(i: &[u8]) -> Res<'_, RawHeader> {
    let (i, version) = be_u8(i)?;
    let (i, packet_type) = be_u8(i)?;
    let (i, length) = be_u16(i)?;
    let (i, router_id) = ipv4(i)?;
    let (i, area_id) = ipv4(i)?;
    let (i, checksum) = be_u16(i)?;
    let (i, au_type) = be_u16(i)?;
    Ok((
        i,
        RawHeader {
            version,
            packet_type,
            length,
            router_id,
            area_id,
            checksum,
            au_type,
        },
    ))
}

impl Packet {
    pub fn packet_type(&self) -> PacketType {
        self.body.packet_type()
    }

    /// Decodes and authenticates one OSPF packet, the payload of an IP
    /// datagram. Bytes after the packet length are allowed (they carry the
    /// digest under cryptographic authentication). Returns the packet and
    /// what its authentication field said, so the caller can check the
    /// cryptographic sequence number against the neighbor's last one.
    pub fn decode(buf: &[u8], auth: &AuthConfig) -> Result<(Packet, AuthInfo), DecodeError> {
        let Ok((_, hdr)) = parse_header(buf) else {
            return Err(DecodeError::TooShort(buf.len()));
        };
        if hdr.version != OSPF_VERSION {
            return Err(DecodeError::BadVersion(hdr.version));
        }
        let packet_type = PacketType::from_u8(hdr.packet_type)
            .ok_or(DecodeError::UnknownType(hdr.packet_type))?;
        let length = usize::from(hdr.length);
        let bad_length = DecodeError::BadLength {
            length: hdr.length,
            received: buf.len(),
        };
        if length < HEADER_LEN {
            return Err(bad_length);
        }
        let Some(packet) = buf.get(..length) else {
            return Err(bad_length);
        };
        let trailer = buf.get(length..).unwrap_or(&[]);

        if hdr.au_type != auth::AU_CRYPTOGRAPHIC && !checksum_ok(packet) {
            return Err(DecodeError::BadChecksum {
                packet_type,
                received: hdr.checksum,
            });
        }
        let info = auth.verify(hdr.au_type, packet, trailer)?;

        let body = packet.get(HEADER_LEN..).unwrap_or(&[]);
        let body = match packet_type {
            PacketType::Hello => PacketBody::Hello(Hello::decode(body)?),
            PacketType::DbDesc => PacketBody::DbDesc(DbDesc::decode(body)?),
            PacketType::LsRequest => PacketBody::LsRequest(LsRequest::decode(body)?),
            PacketType::LsUpdate => PacketBody::LsUpdate(LsUpdate::decode(body)?),
            PacketType::LsAck => PacketBody::LsAck(LsAck::decode(body)?),
        };
        Ok((
            Packet {
                router_id: hdr.router_id,
                area_id: hdr.area_id,
                body,
            },
            info,
        ))
    }

    /// Encodes the packet with checksum and authentication. `crypto_seq` is
    /// the cryptographic sequence number to send under MD5 authentication
    /// (the caller keeps it non-decreasing); it is ignored otherwise.
    ///
    /// A body longer than 65535 bytes cannot be represented: the length
    /// field then holds 65535 and the receiver drops the packet. Callers
    /// split Link State Updates by MTU long before that.
    pub fn encode(&self, auth: &AuthConfig, crypto_seq: u32) -> Bytes {
        let mut buf = BytesMut::with_capacity(128);
        buf.put_u8(OSPF_VERSION);
        buf.put_u8(self.packet_type() as u8);
        buf.put_u16(0); // length, patched below
        buf.put_u32(self.router_id.into());
        buf.put_u32(self.area_id.into());
        buf.put_u16(0); // checksum, patched below
        buf.put_u16(auth.au_type());
        buf.put_u64(0); // authentication, filled by auth.sign()
        match &self.body {
            PacketBody::Hello(b) => b.encode(&mut buf),
            PacketBody::DbDesc(b) => b.encode(&mut buf),
            PacketBody::LsRequest(b) => b.encode(&mut buf),
            PacketBody::LsUpdate(b) => b.encode(&mut buf),
            PacketBody::LsAck(b) => b.encode(&mut buf),
        }
        let length = buf.len().min(usize::from(u16::MAX)) as u16;
        buf[2..4].copy_from_slice(&length.to_be_bytes());
        if auth.au_type() != auth::AU_CRYPTOGRAPHIC {
            let end = usize::from(length);
            let c = crate::checksum::internet_checksum_parts(&[&buf[..16], &buf[24..end]]);
            buf[12..14].copy_from_slice(&c.to_be_bytes());
        }
        auth.sign(&mut buf, crypto_seq);
        buf.freeze()
    }
}

/// Verifies the header checksum: the Internet checksum over the packet,
/// excluding the 64-bit authentication field, sums to zero.
fn checksum_ok(packet: &[u8]) -> bool {
    match (packet.get(..16), packet.get(24..)) {
        (Some(head), Some(body)) => crate::checksum::internet_checksum_parts(&[head, body]) == 0,
        _ => false,
    }
}

/// Turns a nom failure inside a body into the packet's drop reason.
fn bad_body(packet_type: PacketType, reason: &'static str) -> DecodeError {
    DecodeError::BadBody {
        packet_type,
        reason,
    }
}

#[cfg(test)]
mod tests;

//! Link-state advertisements: the LSA header (RFC 2328 A.4.1), the bodies
//! of types 1 to 5 (A.4.2 to A.4.5), the Fletcher checksum rule (§12.1.7),
//! the sequence number and age constants (§12.1.6, Appendix B) and the
//! "which instance is newer" comparison (§13.1).
//!
//! An [`Lsa`] keeps the exact bytes it was decoded from (or encoded to), so
//! flooding re-sends what the originator wrote even for parts this crate
//! skips (TOS metrics) or does not understand (unknown types, kept raw).
//! This module never decides what to do with an LSA: installing, flooding
//! and aging belong to `lsdb` and the flooding code.

mod external;
mod network;
mod router;
mod summary;

use std::cmp::Ordering;
use std::net::Ipv4Addr;

use bytes::{BufMut, Bytes, BytesMut};
use ipnetwork::Ipv4Network;
use nom::number::complete::{be_i32, be_u16, be_u8};

pub use external::{AsExternalLsa, ExternalMetricType};
pub use network::NetworkLsa;
pub use router::{RouterFlags, RouterLink, RouterLinkType, RouterLsa};
pub use summary::SummaryLsa;

use crate::checksum::{fletcher_checksum, fletcher_verify};
use crate::options::Options;
use crate::wire::{ipv4, Res};

/// Length of the LSA header in bytes.
pub const LSA_HEADER_LEN: usize = 20;
/// MaxAge (Appendix B): an LSA of this age is being flushed.
pub const MAX_AGE: u16 = 3600;
/// MaxAgeDiff (Appendix B): ages closer than this are considered equal.
pub const MAX_AGE_DIFF: u16 = 900;
/// LSRefreshTime (Appendix B): a self-originated LSA is re-originated at
/// this age.
pub const LS_REFRESH_TIME: u16 = 1800;
/// CheckAge (Appendix B): checksum re-verification period.
pub const CHECK_AGE: u16 = 300;
/// MinLSInterval (Appendix B), seconds between two originations.
pub const MIN_LS_INTERVAL: u16 = 5;
/// MinLSArrival (Appendix B), seconds between two accepted arrivals.
pub const MIN_LS_ARRIVAL: u16 = 1;
/// LSInfinity (Appendix B): a metric meaning "unreachable".
pub const LS_INFINITY: u32 = 0x00ff_ffff;
/// InitialSequenceNumber (§12.1.6), 0x80000001 as a signed number.
pub const INITIAL_SEQUENCE_NUMBER: i32 = 0x8000_0001_u32 as i32;
/// MaxSequenceNumber (§12.1.6).
pub const MAX_SEQUENCE_NUMBER: i32 = 0x7fff_ffff;
/// The age bit meaning DoNotAge (RFC 1793); not a part of the age value.
pub const DO_NOT_AGE: u16 = 0x8000;

/// Offset of the checksum inside the bytes the Fletcher sum covers (the LSA
/// without its 2-byte age field).
const CHECKSUM_OFFSET: usize = 14;

/// Why an LSA was rejected by the decoder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LsaError {
    /// Fewer bytes than the header or than the header's length field.
    #[error("LSA truncated: need {need} bytes, have {have}")]
    Truncated { need: usize, have: usize },
    /// The length field is smaller than the header itself.
    #[error("LSA length field {0} is shorter than the LSA header")]
    BadLength(u16),
    /// The Fletcher checksum does not verify (§13 step 1).
    #[error("LSA checksum mismatch (type {lsa_type}, id {lsid}, adv {adv_rtr})")]
    BadChecksum {
        lsa_type: u8,
        lsid: Ipv4Addr,
        adv_rtr: Ipv4Addr,
    },
    /// A known LSA type whose body does not parse.
    #[error("malformed type-{lsa_type} LSA body: {reason}")]
    BadBody { lsa_type: u8, reason: &'static str },
    /// An LSA to be encoded would not fit the 16-bit length field.
    #[error("LSA of {0} bytes does not fit the 16-bit length field")]
    TooLong(usize),
}

/// The LS type field (A.4.1). Types this crate does not model are kept as
/// their number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LsaType(pub u8);

impl LsaType {
    /// Router-LSA (A.4.2).
    pub const ROUTER: LsaType = LsaType(1);
    /// Network-LSA (A.4.3).
    pub const NETWORK: LsaType = LsaType(2);
    /// Summary-LSA for an IP network (A.4.4).
    pub const SUMMARY_NETWORK: LsaType = LsaType(3);
    /// Summary-LSA for an AS boundary router (A.4.4).
    pub const SUMMARY_ROUTER: LsaType = LsaType(4);
    /// AS-external-LSA (A.4.5).
    pub const AS_EXTERNAL: LsaType = LsaType(5);
    /// NSSA external LSA (RFC 3101), kept raw.
    pub const NSSA_EXTERNAL: LsaType = LsaType(7);
    /// Link-local opaque LSA (RFC 5250), kept raw.
    pub const OPAQUE_LINK: LsaType = LsaType(9);
    /// Area-local opaque LSA (RFC 5250), kept raw.
    pub const OPAQUE_AREA: LsaType = LsaType(10);
    /// AS-wide opaque LSA (RFC 5250), kept raw.
    pub const OPAQUE_AS: LsaType = LsaType(11);

    /// True for the types flooded through the whole AS rather than one
    /// area (§12.1.3 flooding scope).
    pub fn is_as_scoped(self) -> bool {
        self == Self::AS_EXTERNAL || self == Self::OPAQUE_AS
    }
}

impl std::fmt::Display for LsaType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// What identifies an LSA in a database (§12.1): type, link state ID and
/// advertising router. Ordered in that order, so a database can iterate one
/// type as a range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LsaKey {
    pub lsa_type: LsaType,
    pub lsid: Ipv4Addr,
    pub adv_rtr: Ipv4Addr,
}

impl LsaKey {
    pub fn new(lsa_type: LsaType, lsid: Ipv4Addr, adv_rtr: Ipv4Addr) -> Self {
        LsaKey {
            lsa_type,
            lsid,
            adv_rtr,
        }
    }
}

/// The LSA header, RFC 2328 A.4.1.
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |            LS age             |    Options    |    LS type    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                        Link State ID                          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                     Advertising Router                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                     LS sequence number                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |         LS checksum           |             length            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LsaHeader {
    /// Seconds since origination, possibly with the DoNotAge bit.
    pub age: u16,
    pub options: Options,
    pub lsa_type: LsaType,
    pub lsid: Ipv4Addr,
    pub adv_rtr: Ipv4Addr,
    /// The LS sequence number, a signed 32-bit number (§12.1.6).
    pub seq: i32,
    pub checksum: u16,
    /// Length of the whole LSA, header included.
    pub length: u16,
}

impl LsaHeader {
    /// A header for a new LSA; checksum and length are filled in by
    /// [`Lsa::new`].
    pub fn new(
        age: u16,
        options: Options,
        lsa_type: LsaType,
        lsid: Ipv4Addr,
        adv_rtr: Ipv4Addr,
        seq: i32,
    ) -> Self {
        LsaHeader {
            age,
            options,
            lsa_type,
            lsid,
            adv_rtr,
            seq,
            checksum: 0,
            length: LSA_HEADER_LEN as u16,
        }
    }

    /// The database key of this LSA.
    pub fn key(&self) -> LsaKey {
        LsaKey::new(self.lsa_type, self.lsid, self.adv_rtr)
    }

    /// The age without the DoNotAge bit, capped at MaxAge.
    pub fn age_value(&self) -> u16 {
        (self.age & !DO_NOT_AGE).min(MAX_AGE)
    }

    /// True when the LSA is being flushed.
    pub fn is_max_age(&self) -> bool {
        self.age_value() >= MAX_AGE
    }

    pub(crate) fn parse(i: &[u8]) -> Res<'_, LsaHeader> {
        let (i, age) = be_u16(i)?;
        let (i, options) = be_u8(i)?;
        let (i, lsa_type) = be_u8(i)?;
        let (i, lsid) = ipv4(i)?;
        let (i, adv_rtr) = ipv4(i)?;
        let (i, seq) = be_i32(i)?;
        let (i, checksum) = be_u16(i)?;
        let (i, length) = be_u16(i)?;
        Ok((
            i,
            LsaHeader {
                age,
                options: Options(options),
                lsa_type: LsaType(lsa_type),
                lsid,
                adv_rtr,
                seq,
                checksum,
                length,
            },
        ))
    }

    /// Decodes a bare 20-byte header (as carried in Database Description
    /// and Link State Acknowledgment packets).
    pub fn decode(buf: &[u8]) -> Result<LsaHeader, LsaError> {
        match Self::parse(buf) {
            Ok((_, h)) => Ok(h),
            Err(_) => Err(LsaError::Truncated {
                need: LSA_HEADER_LEN,
                have: buf.len(),
            }),
        }
    }

    /// Appends the 20-byte header.
    pub fn encode(&self, buf: &mut BytesMut) {
        buf.put_u16(self.age);
        buf.put_u8(self.options.0);
        buf.put_u8(self.lsa_type.0);
        buf.put_u32(self.lsid.into());
        buf.put_u32(self.adv_rtr.into());
        buf.put_i32(self.seq);
        buf.put_u16(self.checksum);
        buf.put_u16(self.length);
    }
}

/// An LSA body, by type. Types other than 1 to 5 stay raw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LsaBody {
    Router(RouterLsa),
    Network(NetworkLsa),
    /// Type 3.
    SummaryNetwork(SummaryLsa),
    /// Type 4.
    SummaryRouter(SummaryLsa),
    AsExternal(AsExternalLsa),
    /// Any other type: the body bytes as received.
    Unknown(Bytes),
}

impl LsaBody {
    /// The LS type this body encodes as, when the body fixes it.
    pub fn lsa_type(&self) -> Option<LsaType> {
        match self {
            LsaBody::Router(_) => Some(LsaType::ROUTER),
            LsaBody::Network(_) => Some(LsaType::NETWORK),
            LsaBody::SummaryNetwork(_) => Some(LsaType::SUMMARY_NETWORK),
            LsaBody::SummaryRouter(_) => Some(LsaType::SUMMARY_ROUTER),
            LsaBody::AsExternal(_) => Some(LsaType::AS_EXTERNAL),
            LsaBody::Unknown(_) => None,
        }
    }

    fn decode(lsa_type: LsaType, body: &[u8]) -> Result<LsaBody, LsaError> {
        let bad = |reason| LsaError::BadBody {
            lsa_type: lsa_type.0,
            reason,
        };
        Ok(match lsa_type {
            LsaType::ROUTER => LsaBody::Router(RouterLsa::decode(body).map_err(bad)?),
            LsaType::NETWORK => LsaBody::Network(NetworkLsa::decode(body).map_err(bad)?),
            LsaType::SUMMARY_NETWORK => {
                LsaBody::SummaryNetwork(SummaryLsa::decode(body).map_err(bad)?)
            }
            LsaType::SUMMARY_ROUTER => {
                LsaBody::SummaryRouter(SummaryLsa::decode(body).map_err(bad)?)
            }
            LsaType::AS_EXTERNAL => LsaBody::AsExternal(AsExternalLsa::decode(body).map_err(bad)?),
            _ => LsaBody::Unknown(Bytes::copy_from_slice(body)),
        })
    }

    fn encode(&self, buf: &mut BytesMut) {
        match self {
            LsaBody::Router(b) => b.encode(buf),
            LsaBody::Network(b) => b.encode(buf),
            LsaBody::SummaryNetwork(b) | LsaBody::SummaryRouter(b) => b.encode(buf),
            LsaBody::AsExternal(b) => b.encode(buf),
            LsaBody::Unknown(raw) => buf.put_slice(raw),
        }
    }
}

/// One LSA: its header, its decoded body and the exact bytes on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lsa {
    header: LsaHeader,
    body: LsaBody,
    raw: Bytes,
}

impl Lsa {
    /// Builds an LSA, computing its length and Fletcher checksum. The LS
    /// type is taken from the body when the body fixes it, else from the
    /// header.
    pub fn new(mut header: LsaHeader, body: LsaBody) -> Result<Lsa, LsaError> {
        if let Some(t) = body.lsa_type() {
            header.lsa_type = t;
        }
        let mut buf = BytesMut::with_capacity(64);
        header.checksum = 0;
        header.encode(&mut buf);
        body.encode(&mut buf);
        let len = buf.len();
        if len > usize::from(u16::MAX) {
            return Err(LsaError::TooLong(len));
        }
        header.length = len as u16;
        buf[18..20].copy_from_slice(&header.length.to_be_bytes());
        // The body is at least the 20-byte header, so offset 14 of the
        // age-less slice is in range.
        let checksum = fletcher_checksum(&buf[2..], CHECKSUM_OFFSET).unwrap_or(0);
        header.checksum = checksum;
        buf[16..18].copy_from_slice(&checksum.to_be_bytes());
        Ok(Lsa {
            header,
            body,
            raw: buf.freeze(),
        })
    }

    /// Decodes one LSA from the front of `buf`, verifying its checksum,
    /// and returns it with the bytes after it.
    pub fn decode(buf: &[u8]) -> Result<(Lsa, &[u8]), LsaError> {
        let header = LsaHeader::decode(buf)?;
        let len = usize::from(header.length);
        if len < LSA_HEADER_LEN {
            return Err(LsaError::BadLength(header.length));
        }
        let (Some(bytes), Some(rest)) = (buf.get(..len), buf.get(len..)) else {
            return Err(LsaError::Truncated {
                need: len,
                have: buf.len(),
            });
        };
        if !bytes
            .get(2..)
            .is_some_and(|b| fletcher_verify(b, CHECKSUM_OFFSET))
        {
            return Err(LsaError::BadChecksum {
                lsa_type: header.lsa_type.0,
                lsid: header.lsid,
                adv_rtr: header.adv_rtr,
            });
        }
        let body = LsaBody::decode(header.lsa_type, bytes.get(LSA_HEADER_LEN..).unwrap_or(&[]))?;
        Ok((
            Lsa {
                header,
                body,
                raw: Bytes::copy_from_slice(bytes),
            },
            rest,
        ))
    }

    pub fn header(&self) -> &LsaHeader {
        &self.header
    }

    pub fn body(&self) -> &LsaBody {
        &self.body
    }

    /// The exact bytes of this LSA, header included.
    pub fn raw(&self) -> &Bytes {
        &self.raw
    }

    /// The database key of this LSA.
    pub fn key(&self) -> LsaKey {
        self.header.key()
    }

    /// A copy with another LS age. The age is outside the checksum, so the
    /// rest of the bytes stay as the originator wrote them.
    pub fn with_age(&self, age: u16) -> Lsa {
        let mut raw = BytesMut::from(&self.raw[..]);
        if let Some(field) = raw.get_mut(0..2) {
            field.copy_from_slice(&age.to_be_bytes());
        }
        Lsa {
            header: LsaHeader { age, ..self.header },
            body: self.body.clone(),
            raw: raw.freeze(),
        }
    }

    /// True when two instances carry the same contents in the sense of
    /// §13.2 (everything but age, sequence number and checksum), which
    /// decides whether a new instance needs a route recalculation.
    pub fn same_contents(&self, other: &Lsa) -> bool {
        let a = &self.header;
        let b = &other.header;
        a.options == b.options
            && a.length == b.length
            && a.is_max_age() == b.is_max_age()
            && self.raw.get(LSA_HEADER_LEN..) == other.raw.get(LSA_HEADER_LEN..)
    }
}

/// The §13.1 comparison of two instances of the same LSA. `Greater` means
/// `a` is the more recent instance, `Equal` that they are the same one.
///
/// The ages compared are the header ages as given; callers comparing with a
/// database copy pass a header carrying the copy's current age.
pub fn compare_instances(a: &LsaHeader, b: &LsaHeader) -> Ordering {
    // 1. Higher sequence number (signed comparison).
    match a.seq.cmp(&b.seq) {
        Ordering::Equal => {}
        o => return o,
    }
    // 2. Larger checksum, as a 16-bit unsigned integer.
    match a.checksum.cmp(&b.checksum) {
        Ordering::Equal => {}
        o => return o,
    }
    // 3. An instance at MaxAge.
    match (a.is_max_age(), b.is_max_age()) {
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    // 4. Ages differing by more than MaxAgeDiff: the younger is newer.
    let (age_a, age_b) = (a.age_value(), b.age_value());
    if age_a.abs_diff(age_b) > MAX_AGE_DIFF {
        return age_b.cmp(&age_a);
    }
    Ordering::Equal
}

/// The prefix named by a link state ID (or link ID) and a mask, or `None`
/// when the mask is not contiguous.
pub fn prefix_of(addr: Ipv4Addr, mask: Ipv4Addr) -> Option<Ipv4Network> {
    let len = ipnetwork::ipv4_mask_to_prefix(mask).ok()?;
    let net = Ipv4Addr::from(u32::from(addr) & u32::from(mask));
    Ipv4Network::new(net, len).ok()
}

#[cfg(test)]
pub(crate) mod tests;

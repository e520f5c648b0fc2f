//! Path attributes (RFC 4271 §4.3, §5) and their per-attribute error
//! handling (RFC 7606 §7, RFC 6793 §6, RFC 8092 §6).
//!
//! Owns [`PathAttributes`], the compact, hashable set the RIB interns (one
//! `Arc` per distinct set), the flag checks, and each attribute's value
//! encoding. NLRI are not part of it. Never decides the fate of a whole
//! UPDATE: it reports a [`Problem`] and the update decoder applies the
//! action of [`malformed_action`].

pub mod as_path;
pub mod community;
pub mod mp;
pub mod pmsi;

use std::fmt;
use std::net::Ipv4Addr;

use bytes::{BufMut, BytesMut};

pub use as_path::{reconstruct_as4_path, AsPath, AsSegment, SegmentType};
pub use community::{Community, ExtendedCommunity, LargeCommunity};
pub use mp::{MpError, MpNextHop, MpReach, MpUnreach};
pub use pmsi::PmsiTunnel;

use super::nlri::AfiSafi;
use super::{wire, SessionCaps, AS_TRANS};

/// Attribute type codes (IANA).
pub mod code {
    pub const ORIGIN: u8 = 1;
    pub const AS_PATH: u8 = 2;
    pub const NEXT_HOP: u8 = 3;
    pub const MULTI_EXIT_DISC: u8 = 4;
    pub const LOCAL_PREF: u8 = 5;
    pub const ATOMIC_AGGREGATE: u8 = 6;
    pub const AGGREGATOR: u8 = 7;
    pub const COMMUNITIES: u8 = 8;
    pub const ORIGINATOR_ID: u8 = 9;
    pub const CLUSTER_LIST: u8 = 10;
    pub const MP_REACH_NLRI: u8 = 14;
    pub const MP_UNREACH_NLRI: u8 = 15;
    pub const EXTENDED_COMMUNITIES: u8 = 16;
    pub const AS4_PATH: u8 = 17;
    pub const AS4_AGGREGATOR: u8 = 18;
    pub const PMSI_TUNNEL: u8 = 22;
    pub const LARGE_COMMUNITIES: u8 = 32;
    /// Only to Customer (RFC 9234 §5).
    pub const ONLY_TO_CUSTOMER: u8 = 35;
}

/// Attribute flag bits (RFC 4271 §4.3).
pub mod flag {
    pub const OPTIONAL: u8 = 0x80;
    pub const TRANSITIVE: u8 = 0x40;
    pub const PARTIAL: u8 = 0x20;
    pub const EXTENDED_LENGTH: u8 = 0x10;
}

/// ORIGIN values (RFC 4271 §5.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    Igp = 0,
    Egp = 1,
    Incomplete = 2,
}

/// AGGREGATOR and AS4_AGGREGATOR value (RFC 4271 §5.1.7, RFC 6793 §3):
/// the AS (2 or 4 octets on the wire) and IP address of the aggregator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Aggregator {
    pub asn: u32,
    pub address: Ipv4Addr,
}

/// An attribute we do not know, kept with its flags (the extended-length
/// bit and the unused low bits cleared).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RawAttribute {
    pub flags: u8,
    pub type_code: u8,
    pub value: Vec<u8>,
}

impl RawAttribute {
    pub fn is_transitive(&self) -> bool {
        self.flags & flag::TRANSITIVE != 0
    }
}

/// The path attributes of a route, without its NLRI.
///
/// ```text
///  0                   1
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Attr. Flags  |Attr. Type Code|
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Attr. Length (1 or 2 octets)  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Attribute Value (variable)    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///
/// Flags: O(ptional) T(ransitive) P(artial) E(xtended length) 0 0 0 0
/// ```
/// RFC 4271 §4.3. Each attribute appears at most once; empty lists mean
/// "absent" (RFC 7606 makes empty COMMUNITIES, CLUSTER_LIST, EXTENDED and
/// LARGE communities malformed). Hashable and `Eq` so the RIB can intern
/// equal sets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PathAttributes {
    pub origin: Option<Origin>,
    /// AS_PATH as received: from a 2-octet peer it may hold AS_TRANS; see
    /// [`PathAttributes::reconcile_as4`].
    pub as_path: Option<AsPath>,
    /// NEXT_HOP: the next hop of classic IPv4 NLRI.
    pub next_hop: Option<Ipv4Addr>,
    /// Next hop of MP_REACH_NLRI.
    pub mp_next_hop: Option<MpNextHop>,
    pub med: Option<u32>,
    pub local_pref: Option<u32>,
    pub atomic_aggregate: bool,
    pub aggregator: Option<Aggregator>,
    pub communities: Vec<Community>,
    pub originator_id: Option<Ipv4Addr>,
    pub cluster_list: Vec<Ipv4Addr>,
    pub extended_communities: Vec<ExtendedCommunity>,
    /// Only from a 2-octet peer, until reconciled.
    pub as4_path: Option<AsPath>,
    pub as4_aggregator: Option<Aggregator>,
    pub large_communities: Vec<LargeCommunity>,
    /// PMSI_TUNNEL (RFC 6514 §5): EVPN inclusive multicast routes.
    pub pmsi_tunnel: Option<PmsiTunnel>,
    /// ONLY_TO_CUSTOMER (RFC 9234 §5): the AS that first sent the route
    /// down to a customer or across to a peer; it must go no further up.
    pub otc: Option<u32>,
    /// Unrecognised optional attributes, in the order received.
    pub unknown: Vec<RawAttribute>,
    /// FRR's weight: this router's own preference, set by an import route
    /// map, compared before LOCAL_PREF. Never encoded (0 when decoded,
    /// cleared by [`PathAttributes::for_propagation`]).
    pub weight: u32,
}

/// What RFC 7606 does with an attribute found malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorAction {
    TreatAsWithdraw,
    AttributeDiscard,
    SessionReset,
}

/// RFC 7606 §7 (and RFC 6793 §6, RFC 8092 §6, RFC 4760 §7): the action
/// for a malformed attribute of this type. Unknown optional attributes are
/// never parsed, so never malformed; treat-as-withdraw is the default.
pub fn malformed_action(type_code: u8) -> ErrorAction {
    match type_code {
        code::ATOMIC_AGGREGATE | code::AGGREGATOR | code::AS4_PATH | code::AS4_AGGREGATOR => {
            ErrorAction::AttributeDiscard
        }
        code::MP_REACH_NLRI | code::MP_UNREACH_NLRI => ErrorAction::SessionReset,
        _ => ErrorAction::TreatAsWithdraw,
    }
}

/// Well-known flags (O=0, T=1), optional non-transitive (O=1, T=0) or
/// optional transitive (O=1, T=1), for the attributes we know.
fn expected_flags(type_code: u8) -> Option<u8> {
    use code::*;
    Some(match type_code {
        ORIGIN | AS_PATH | NEXT_HOP | LOCAL_PREF | ATOMIC_AGGREGATE => flag::TRANSITIVE,
        MULTI_EXIT_DISC | ORIGINATOR_ID | CLUSTER_LIST | MP_REACH_NLRI | MP_UNREACH_NLRI => {
            flag::OPTIONAL
        }
        AGGREGATOR | COMMUNITIES | EXTENDED_COMMUNITIES | AS4_PATH | AS4_AGGREGATOR
        | LARGE_COMMUNITIES | PMSI_TUNNEL | ONLY_TO_CUSTOMER => flag::OPTIONAL | flag::TRANSITIVE,
        _ => return None,
    })
}

/// RFC 7606 §3(c) and RFC 4271 §4.3: O and T must match the attribute's
/// kind; P must be 0 unless the attribute is optional transitive.
pub(crate) fn flags_ok(type_code: u8, flags: u8) -> bool {
    let Some(expected) = expected_flags(type_code) else {
        return true;
    };
    let partial_allowed = expected == flag::OPTIONAL | flag::TRANSITIVE;
    let mask = if partial_allowed {
        flag::OPTIONAL | flag::TRANSITIVE
    } else {
        flag::OPTIONAL | flag::TRANSITIVE | flag::PARTIAL
    };
    flags & mask == expected
}

/// Why an attribute was discarded, or why an UPDATE is treated as a
/// withdrawal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Optional/Transitive/Partial bits conflict with the attribute.
    Flags(u8),
    /// Length not what the attribute allows.
    Length(usize),
    /// Value not valid (ORIGIN value, AS_PATH segment, NEXT_HOP address).
    Value,
    /// Second occurrence of an attribute: discarded (RFC 7606 §3(g)).
    Duplicate,
    /// Well-known mandatory attribute missing (RFC 7606 §3(d)).
    Missing,
    /// The attribute overruns the path attributes (RFC 7606 §4).
    Overrun,
    /// AS4_PATH / AS4_AGGREGATOR from a 4-octet speaker (RFC 6793 §4.1).
    FromFourOctetPeer,
    /// MP attribute of a family this codec does not decode.
    UnsupportedFamily(AfiSafi),
}

/// One problem found with one attribute type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeIssue {
    pub type_code: u8,
    pub problem: Problem,
}

impl fmt::Display for AttributeIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", attribute_name(self.type_code))?;
        match &self.problem {
            Problem::Flags(flags) => write!(f, "bad flags {flags:#04x}"),
            Problem::Length(len) => write!(f, "bad length {len}"),
            Problem::Value => f.write_str("bad value"),
            Problem::Duplicate => f.write_str("duplicate"),
            Problem::Missing => f.write_str("missing"),
            Problem::Overrun => f.write_str("overruns the attributes"),
            Problem::FromFourOctetPeer => f.write_str("sent by a 4-octet AS speaker"),
            Problem::UnsupportedFamily(family) => write!(f, "unsupported family {family}"),
        }
    }
}

/// Name of an attribute type for logs.
pub fn attribute_name(type_code: u8) -> String {
    let name = match type_code {
        code::ORIGIN => "ORIGIN",
        code::AS_PATH => "AS_PATH",
        code::NEXT_HOP => "NEXT_HOP",
        code::MULTI_EXIT_DISC => "MULTI_EXIT_DISC",
        code::LOCAL_PREF => "LOCAL_PREF",
        code::ATOMIC_AGGREGATE => "ATOMIC_AGGREGATE",
        code::AGGREGATOR => "AGGREGATOR",
        code::COMMUNITIES => "COMMUNITIES",
        code::ORIGINATOR_ID => "ORIGINATOR_ID",
        code::CLUSTER_LIST => "CLUSTER_LIST",
        code::MP_REACH_NLRI => "MP_REACH_NLRI",
        code::MP_UNREACH_NLRI => "MP_UNREACH_NLRI",
        code::EXTENDED_COMMUNITIES => "EXTENDED_COMMUNITIES",
        code::AS4_PATH => "AS4_PATH",
        code::AS4_AGGREGATOR => "AS4_AGGREGATOR",
        code::LARGE_COMMUNITIES => "LARGE_COMMUNITIES",
        code::PMSI_TUNNEL => "PMSI_TUNNEL",
        code::ONLY_TO_CUSTOMER => "ONLY_TO_CUSTOMER",
        other => return format!("attribute {other}"),
    };
    name.to_string()
}

fn exact<const N: usize>(value: &[u8]) -> Result<[u8; N], Problem> {
    <[u8; N]>::try_from(value).map_err(|_| Problem::Length(value.len()))
}

/// A list of fixed-size items: length must be a non-zero multiple.
fn items<const N: usize, T>(value: &[u8], f: impl Fn([u8; N]) -> T) -> Result<Vec<T>, Problem> {
    if value.is_empty() || !value.len().is_multiple_of(N) {
        return Err(Problem::Length(value.len()));
    }
    value
        .chunks_exact(N)
        .map(|c| exact::<N>(c).map(&f))
        .collect()
}

fn aggregator(value: &[u8], four_octet: bool) -> Result<Aggregator, Problem> {
    let fail = |_| Problem::Length(value.len());
    let expected = if four_octet { 8 } else { 6 };
    if value.len() != expected {
        return Err(Problem::Length(value.len()));
    }
    let (i, asn) = if four_octet {
        wire::u32(value).map_err(fail)?
    } else {
        let (i, asn) = wire::u16(value).map_err(fail)?;
        (i, u32::from(asn))
    };
    let (_, address) = wire::ipv4(i).map_err(fail)?;
    Ok(Aggregator { asn, address })
}

impl PathAttributes {
    /// Decode the value of one recognised, non-MP attribute into `self`.
    /// Returns `Ok(false)` for types it does not know (the caller keeps
    /// them raw or rejects them).
    pub(crate) fn decode_known(
        &mut self,
        type_code: u8,
        value: &[u8],
        caps: &SessionCaps,
    ) -> Result<bool, Problem> {
        match type_code {
            code::ORIGIN => {
                let [v] = exact::<1>(value)?;
                self.origin = Some(match v {
                    0 => Origin::Igp,
                    1 => Origin::Egp,
                    2 => Origin::Incomplete,
                    _ => return Err(Problem::Value),
                });
            }
            code::AS_PATH => {
                let path = AsPath::decode(value, caps.four_octet_as).map_err(|_| Problem::Value)?;
                self.as_path = Some(path);
            }
            code::NEXT_HOP => {
                let addr = Ipv4Addr::from(exact::<4>(value)?);
                // RFC 4271 §6.3: syntactically incorrect next hop.
                if addr.is_unspecified() || addr.is_broadcast() || addr.is_multicast() {
                    return Err(Problem::Value);
                }
                self.next_hop = Some(addr);
            }
            code::MULTI_EXIT_DISC => self.med = Some(u32::from_be_bytes(exact::<4>(value)?)),
            code::LOCAL_PREF => self.local_pref = Some(u32::from_be_bytes(exact::<4>(value)?)),
            code::ATOMIC_AGGREGATE => {
                exact::<0>(value)?;
                self.atomic_aggregate = true;
            }
            code::AGGREGATOR => self.aggregator = Some(aggregator(value, caps.four_octet_as)?),
            code::COMMUNITIES => {
                self.communities = items::<4, _>(value, |b| Community(u32::from_be_bytes(b)))?
            }
            code::ORIGINATOR_ID => self.originator_id = Some(Ipv4Addr::from(exact::<4>(value)?)),
            code::CLUSTER_LIST => self.cluster_list = items::<4, _>(value, Ipv4Addr::from)?,
            code::EXTENDED_COMMUNITIES => {
                self.extended_communities = items::<8, _>(value, ExtendedCommunity)?
            }
            code::LARGE_COMMUNITIES => {
                self.large_communities = items::<12, _>(value, |b| {
                    let [a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3] = b;
                    LargeCommunity::new(
                        u32::from_be_bytes([a0, a1, a2, a3]),
                        u32::from_be_bytes([b0, b1, b2, b3]),
                        u32::from_be_bytes([c0, c1, c2, c3]),
                    )
                })?
            }
            code::AS4_PATH => {
                if caps.four_octet_as {
                    return Err(Problem::FromFourOctetPeer);
                }
                let path = AsPath::decode(value, true).map_err(|_| Problem::Value)?;
                // RFC 6793 §6: confederation segments make it malformed.
                if path.has_confed() {
                    return Err(Problem::Value);
                }
                self.as4_path = Some(path);
            }
            code::PMSI_TUNNEL => self.pmsi_tunnel = Some(PmsiTunnel::decode(value)?),
            // RFC 9234 §5: a length other than 4 is treat-as-withdraw
            // (RFC 7606's default, see `malformed_action`).
            code::ONLY_TO_CUSTOMER => self.otc = Some(u32::from_be_bytes(exact::<4>(value)?)),
            code::AS4_AGGREGATOR => {
                if caps.four_octet_as {
                    return Err(Problem::FromFourOctetPeer);
                }
                self.as4_aggregator = Some(aggregator(value, true)?);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Append every attribute but the MP ones, in type-code order, as
    /// they go to a peer with these capabilities. Toward a 2-octet peer,
    /// ASNs above 65535 become AS_TRANS and AS4_PATH / AS4_AGGREGATOR
    /// carry the real values (RFC 6793 §4.2.2); toward a 4-octet peer
    /// AS4_* are never sent.
    pub fn encode(&self, caps: &SessionCaps, buf: &mut BytesMut) {
        let four = caps.four_octet_as;
        let wk = flag::TRANSITIVE;
        let opt = flag::OPTIONAL;
        let opt_t = flag::OPTIONAL | flag::TRANSITIVE;
        let mut v = BytesMut::new();
        if let Some(origin) = self.origin {
            put_attr(buf, wk, code::ORIGIN, &[origin as u8]);
        }
        if let Some(path) = &self.as_path {
            path.encode(four, &mut v);
            put_attr(buf, wk, code::AS_PATH, &v);
        }
        if let Some(nh) = self.next_hop {
            put_attr(buf, wk, code::NEXT_HOP, &nh.octets());
        }
        if let Some(med) = self.med {
            put_attr(buf, opt, code::MULTI_EXIT_DISC, &med.to_be_bytes());
        }
        if let Some(lp) = self.local_pref {
            put_attr(buf, wk, code::LOCAL_PREF, &lp.to_be_bytes());
        }
        if self.atomic_aggregate {
            put_attr(buf, wk, code::ATOMIC_AGGREGATE, &[]);
        }
        if let Some(agg) = self.aggregator {
            v.clear();
            if four {
                v.put_u32(agg.asn);
            } else {
                v.put_u16(u16::try_from(agg.asn).unwrap_or(AS_TRANS as u16));
            }
            v.put_slice(&agg.address.octets());
            put_attr(buf, opt_t, code::AGGREGATOR, &v);
        }
        if !self.communities.is_empty() {
            v.clear();
            self.communities.iter().for_each(|c| v.put_u32(c.0));
            put_attr(buf, opt_t, code::COMMUNITIES, &v);
        }
        if let Some(id) = self.originator_id {
            put_attr(buf, opt, code::ORIGINATOR_ID, &id.octets());
        }
        if !self.cluster_list.is_empty() {
            v.clear();
            self.cluster_list
                .iter()
                .for_each(|c| v.put_slice(&c.octets()));
            put_attr(buf, opt, code::CLUSTER_LIST, &v);
        }
        if !self.extended_communities.is_empty() {
            v.clear();
            self.extended_communities
                .iter()
                .for_each(|c| v.put_slice(&c.0));
            put_attr(buf, opt_t, code::EXTENDED_COMMUNITIES, &v);
        }
        if !four {
            let generated;
            let as4_path = match (&self.as4_path, &self.as_path) {
                (Some(p), _) => Some(p),
                (None, Some(p)) if p.needs_four_octet() => {
                    generated = p.without_confed();
                    Some(&generated)
                }
                _ => None,
            };
            if let Some(p) = as4_path {
                v.clear();
                p.encode(true, &mut v);
                put_attr(buf, opt_t, code::AS4_PATH, &v);
            }
            let as4_agg = self
                .as4_aggregator
                .or(self.aggregator.filter(|a| a.asn > u32::from(u16::MAX)));
            if let Some(agg) = as4_agg {
                v.clear();
                v.put_u32(agg.asn);
                v.put_slice(&agg.address.octets());
                put_attr(buf, opt_t, code::AS4_AGGREGATOR, &v);
            }
        }
        if !self.large_communities.is_empty() {
            v.clear();
            for c in &self.large_communities {
                v.put_u32(c.global_admin);
                v.put_u32(c.local_data1);
                v.put_u32(c.local_data2);
            }
            put_attr(buf, opt_t, code::LARGE_COMMUNITIES, &v);
        }
        if let Some(pmsi) = &self.pmsi_tunnel {
            v.clear();
            pmsi.encode(&mut v);
            put_attr(buf, opt_t, code::PMSI_TUNNEL, &v);
        }
        if let Some(otc) = self.otc {
            put_attr(buf, opt_t, code::ONLY_TO_CUSTOMER, &otc.to_be_bytes());
        }
        for raw in &self.unknown {
            put_attr(buf, raw.flags, raw.type_code, &raw.value);
        }
    }

    /// The attributes to pass on to other peers (RFC 4271 §5): unknown
    /// optional non-transitive attributes are dropped, unknown optional
    /// transitive ones get the Partial bit.
    pub fn for_propagation(&self) -> PathAttributes {
        let mut out = self.clone();
        out.weight = 0;
        out.unknown.retain(RawAttribute::is_transitive);
        for raw in &mut out.unknown {
            raw.flags |= flag::PARTIAL;
        }
        out
    }

    /// RFC 6793 §4.2.3: after receiving from a 2-octet peer, fold AS4_PATH
    /// and AS4_AGGREGATOR into AS_PATH and AGGREGATOR and drop them.
    pub fn reconcile_as4(&mut self) {
        let as4_path = self.as4_path.take();
        let as4_agg = self.as4_aggregator.take();
        // An AGGREGATOR that is not AS_TRANS means the AS4 attributes were
        // added by someone before the aggregation: ignore both.
        if let Some(agg) = self.aggregator {
            if agg.asn != AS_TRANS {
                return;
            }
            if let Some(as4) = as4_agg {
                self.aggregator = Some(as4);
            }
        }
        if let (Some(path), Some(as4)) = (&self.as_path, &as4_path) {
            self.as_path = Some(reconstruct_as4_path(path, as4));
        }
    }
}

/// Append one attribute, with the extended-length bit when needed.
pub(crate) fn put_attr(buf: &mut BytesMut, flags: u8, type_code: u8, value: &[u8]) {
    let flags = flags & !flag::EXTENDED_LENGTH & 0xf0;
    if value.len() > 255 {
        buf.put_u8(flags | flag::EXTENDED_LENGTH);
        buf.put_u8(type_code);
        buf.put_u16(value.len().min(usize::from(u16::MAX)) as u16);
    } else {
        buf.put_u8(flags);
        buf.put_u8(type_code);
        buf.put_u8(value.len() as u8);
    }
    buf.put_slice(value);
}

#[cfg(test)]
mod tests;

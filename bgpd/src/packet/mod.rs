//! BGP-4 wire codec: every message of RFC 4271 §4 and the extensions this
//! suite speaks, as pure and synchronous encode/decode functions.
//!
//! Owns: the byte layout of messages, the per-session decoding context
//! ([`SessionCaps`]) and the classification of malformed input into the
//! actions of RFC 4271 §6 and RFC 7606 (NOTIFICATION, treat-as-withdraw,
//! attribute discard).
//!
//! Never does: I/O, timers, FSM transitions, policy or any check that needs
//! session configuration (expected peer AS, iBGP vs eBGP). Never panics on
//! peer data.

pub mod attribute;
pub mod capability;
pub mod header;
pub mod keepalive;
pub mod nlri;
pub mod notification;
pub mod open;
pub mod pack;
pub mod role;
pub mod route_refresh;
pub mod update;

#[cfg(test)]
mod proptests;

use bytes::{Bytes, BytesMut};
use thiserror::Error;

pub use attribute::{
    reconstruct_as4_path, Aggregator, AsPath, AsSegment, Community, ExtendedCommunity,
    LargeCommunity, MpNextHop, Origin, PathAttributes, RawAttribute, SegmentType,
};
pub use capability::{AddPathMode, Capability, GracefulRestart, SessionCaps};
pub use header::{HeaderError, MessageType};
pub use nlri::{Afi, AfiSafi, Nlri, NlriError, Safi};
pub use notification::{ErrorCode, Notification};
pub use open::{Open, OpenError};
pub use pack::{pack_announcements, pack_withdrawals};
pub use role::Role;
pub use route_refresh::{RouteRefresh, RouteRefreshError, RouteRefreshSubtype};
pub use update::{
    decode_update, repeated_nlri, AttributeIssue, MpReach, MpUnreach, ParsedUpdate, Problem,
    Update, UpdateAction, UpdateError, UpdateReport,
};

/// The only BGP version we speak.
pub const BGP_VERSION: u8 = 4;
/// RFC 6793 §9: the 2-octet stand-in for a 4-octet AS number.
pub const AS_TRANS: u32 = 23456;

/// One BGP message (RFC 4271 §4).
// UPDATE is both the largest and by far the most frequent message: boxing
// it would add an allocation to the common case to shrink the rare ones.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Open(Open),
    Update(Update),
    Notification(Notification),
    Keepalive,
    RouteRefresh(RouteRefresh),
}

impl Message {
    pub fn message_type(&self) -> MessageType {
        match self {
            Message::Open(_) => MessageType::Open,
            Message::Update(_) => MessageType::Update,
            Message::Notification(_) => MessageType::Notification,
            Message::Keepalive => MessageType::Keepalive,
            Message::RouteRefresh(_) => MessageType::RouteRefresh,
        }
    }

    /// Append the whole message (header included) to `buf`.
    pub fn encode(&self, caps: &SessionCaps, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let start = header::begin(buf, self.message_type());
        match self {
            Message::Open(open) => open.encode_body(buf)?,
            Message::Update(update) => update.encode_body(caps, buf)?,
            Message::Notification(n) => n.encode_body(buf),
            Message::Keepalive => {}
            Message::RouteRefresh(rr) => rr.encode_body(buf),
        }
        header::finish(buf, start, caps.max_message_len())
    }

    /// The encoded message as one buffer.
    pub fn to_bytes(&self, caps: &SessionCaps) -> Result<Bytes, EncodeError> {
        let mut buf = BytesMut::new();
        self.encode(caps, &mut buf)?;
        Ok(buf.freeze())
    }
}

/// A decoded message and, for an UPDATE, what RFC 7606 says to do with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub message: Message,
    /// `Normal` with nothing discarded for every message but UPDATE.
    pub report: UpdateReport,
}

/// Decode exactly one message: `frame` holds the header and the body (its
/// length is what [`header::frame_length`] announced).
pub fn decode_message(frame: &[u8], caps: &SessionCaps) -> Result<Decoded, MessageError> {
    let (kind, body) = header::decode(frame, caps)?;
    let message = match kind {
        MessageType::Open => Message::Open(Open::decode_body(body)?),
        MessageType::Update => {
            let parsed = update::decode_update(body, caps)?;
            return Ok(Decoded {
                message: Message::Update(parsed.update),
                report: parsed.report,
            });
        }
        MessageType::Notification => Message::Notification(Notification::decode_body(body)),
        MessageType::Keepalive => Message::Keepalive,
        MessageType::RouteRefresh => {
            Message::RouteRefresh(RouteRefresh::decode_body(body).map_err(|e| match e {
                // RFC 7313 §5: the data is the complete ROUTE-REFRESH message.
                RouteRefreshError::InvalidLength { .. } => RouteRefreshError::InvalidLength {
                    message: frame.to_vec(),
                },
            })?)
        }
    };
    Ok(Decoded {
        message,
        report: UpdateReport::default(),
    })
}

/// A received message that must end the session: the NOTIFICATION to send
/// is [`MessageError::notification`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MessageError {
    #[error(transparent)]
    Header(#[from] HeaderError),
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error(transparent)]
    Update(#[from] UpdateError),
    #[error(transparent)]
    RouteRefresh(#[from] RouteRefreshError),
}

impl MessageError {
    /// The NOTIFICATION (code, subcode, data) RFC 4271 §6 prescribes.
    pub fn notification(&self) -> Notification {
        match self {
            MessageError::Header(e) => e.notification(),
            MessageError::Open(e) => e.notification(),
            MessageError::Update(e) => e.notification(),
            MessageError::RouteRefresh(e) => e.notification(),
        }
    }
}

/// Something we were asked to send cannot be put on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    #[error("message of {len} bytes exceeds the maximum of {max}")]
    TooLong { len: usize, max: usize },
    #[error("MP_REACH_NLRI needs a next hop in the path attributes")]
    MissingNextHop,
    #[error("next hop {0:?} cannot be carried for {1}")]
    NextHopFamily(MpNextHop, AfiSafi),
    #[error("prefix {0} does not belong to {1}")]
    PrefixFamily(ipnetwork::IpNetwork, AfiSafi),
    #[error("optional parameters too long for an OPEN")]
    OpenTooLong,
}

/// Thin nom wrappers with the default error type, so that callers can map
/// any shortfall to the error their context calls for.
pub(crate) mod wire {
    use nom::bytes::complete::take as nom_take;
    use nom::number::complete::{be_u16, be_u32, be_u8};
    use nom::{IResult, Parser};
    use std::net::{Ipv4Addr, Ipv6Addr};

    pub(crate) type Res<'a, T> = IResult<&'a [u8], T>;

    pub(crate) fn u8(i: &[u8]) -> Res<'_, u8> {
        be_u8(i)
    }
    pub(crate) fn u16(i: &[u8]) -> Res<'_, u16> {
        be_u16(i)
    }
    pub(crate) fn u32(i: &[u8]) -> Res<'_, u32> {
        be_u32(i)
    }
    pub(crate) fn take(i: &[u8], n: usize) -> Res<'_, &[u8]> {
        nom_take(n).parse(i)
    }
    pub(crate) fn ipv4(i: &[u8]) -> Res<'_, Ipv4Addr> {
        be_u32.map(Ipv4Addr::from).parse(i)
    }
    pub(crate) fn ipv6(i: &[u8]) -> Res<'_, Ipv6Addr> {
        nom::number::complete::be_u128.map(Ipv6Addr::from).parse(i)
    }
}

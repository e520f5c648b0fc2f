//! The fixed message header (RFC 4271 §4.1) and its errors (§6.1).
//!
//! Owns: marker, length and type, framing of a byte stream into messages,
//! and the per-type minimum/maximum lengths. Never looks inside a body.

use bytes::{BufMut, BytesMut};
use thiserror::Error;

use super::notification::{ErrorCode, MessageHeaderSubcode, Notification};
use super::{wire, EncodeError, SessionCaps};

/// Length of the header: marker, length and type.
pub const HEADER_LEN: usize = 19;
/// RFC 4271 §4: maximum message size without RFC 8654.
pub const MAX_MESSAGE_LEN: usize = 4096;
/// RFC 8654: maximum message size once Extended Message is negotiated.
pub const MAX_EXTENDED_MESSAGE_LEN: usize = 65535;
const MARKER: [u8; 16] = [0xff; 16];

/// Message types (RFC 4271 §4.1, RFC 2918 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    Open = 1,
    Update = 2,
    Notification = 3,
    Keepalive = 4,
    RouteRefresh = 5,
}

impl MessageType {
    pub fn from_u8(value: u8) -> Option<Self> {
        Some(match value {
            1 => Self::Open,
            2 => Self::Update,
            3 => Self::Notification,
            4 => Self::Keepalive,
            5 => Self::RouteRefresh,
            _ => return None,
        })
    }

    /// Smallest and largest valid total length (RFC 4271 §6.1, RFC 2918).
    fn length_bounds(self, max: usize) -> (usize, usize) {
        match self {
            // RFC 8654 §3: OPEN is never extended.
            Self::Open => (29, max.min(MAX_MESSAGE_LEN)),
            Self::Update => (23, max),
            Self::Notification => (21, max),
            Self::Keepalive => (HEADER_LEN, HEADER_LEN),
            // RFC 7313 §5 answers a bad ROUTE-REFRESH length with its own
            // error code, so only the header minimum applies here.
            Self::RouteRefresh => (HEADER_LEN, max),
        }
    }
}

/// Header errors: NOTIFICATION code 1 (RFC 4271 §6.1).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HeaderError {
    #[error("marker is not all ones")]
    BadMarker,
    #[error("bad message length {0}")]
    BadLength(u16),
    #[error("bad message type {0}")]
    BadType(u8),
}

impl HeaderError {
    pub fn notification(&self) -> Notification {
        match self {
            HeaderError::BadMarker => Notification::new(
                ErrorCode::MessageHeader(MessageHeaderSubcode::ConnectionNotSynchronized),
                Vec::new(),
            ),
            // The data is the erroneous Length field.
            HeaderError::BadLength(len) => Notification::new(
                ErrorCode::MessageHeader(MessageHeaderSubcode::BadMessageLength),
                len.to_be_bytes().to_vec(),
            ),
            // The data is the erroneous Type field.
            HeaderError::BadType(kind) => Notification::new(
                ErrorCode::MessageHeader(MessageHeaderSubcode::BadMessageType),
                vec![*kind],
            ),
        }
    }
}

/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                                                               |
/// +                                                               +
/// |                                                               |
/// +                                                               +
/// |                           Marker                              |
/// +                                                               +
/// |                                                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |          Length               |      Type     |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// RFC 4271 §4.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub length: u16,
    pub kind: MessageType,
}

/// Framing: how long the next message in `buf` is, `None` if fewer than
/// 19 bytes are buffered. Checks marker, length and type, so a session can
/// reject a bad header before the body arrives.
pub fn frame_length(buf: &[u8], caps: &SessionCaps) -> Result<Option<usize>, HeaderError> {
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    decode_header(buf, caps).map(|h| Some(usize::from(h.length)))
}

/// Check the header at the start of `buf`.
pub fn decode_header(buf: &[u8], caps: &SessionCaps) -> Result<Header, HeaderError> {
    let (i, marker) = wire::take(buf, MARKER.len()).map_err(|_| HeaderError::BadMarker)?;
    if marker != MARKER {
        return Err(HeaderError::BadMarker);
    }
    let (i, length) = wire::u16(i).map_err(|_| HeaderError::BadLength(0))?;
    let (_, kind) = wire::u8(i).map_err(|_| HeaderError::BadLength(length))?;
    // RFC 4271 §6.1 checks the length before the type.
    if usize::from(length) < HEADER_LEN || usize::from(length) > caps.max_message_len() {
        return Err(HeaderError::BadLength(length));
    }
    let kind = MessageType::from_u8(kind).ok_or(HeaderError::BadType(kind))?;
    let (min, max) = kind.length_bounds(caps.max_message_len());
    if usize::from(length) < min || usize::from(length) > max {
        return Err(HeaderError::BadLength(length));
    }
    Ok(Header { length, kind })
}

/// Check the header of one complete message and return its body.
pub fn decode<'a>(
    frame: &'a [u8],
    caps: &SessionCaps,
) -> Result<(MessageType, &'a [u8]), HeaderError> {
    let header = decode_header(frame, caps)?;
    if usize::from(header.length) != frame.len() {
        return Err(HeaderError::BadLength(header.length));
    }
    let body = frame.get(HEADER_LEN..).unwrap_or_default();
    Ok((header.kind, body))
}

/// Start a message: write marker, a placeholder length and the type.
/// Returns the offset to pass to [`finish`].
pub(crate) fn begin(buf: &mut BytesMut, kind: MessageType) -> usize {
    let start = buf.len();
    buf.put_slice(&MARKER);
    buf.put_u16(0);
    buf.put_u8(kind as u8);
    start
}

/// Patch the length of the message begun at `start`.
pub(crate) fn finish(buf: &mut BytesMut, start: usize, max: usize) -> Result<(), EncodeError> {
    let len = buf.len().saturating_sub(start);
    let len16 = u16::try_from(len).ok().filter(|_| len <= max);
    match (len16, buf.get_mut(start + 16..start + 18)) {
        (Some(len16), Some(field)) => {
            field.copy_from_slice(&len16.to_be_bytes());
            Ok(())
        }
        _ => {
            buf.truncate(start);
            Err(EncodeError::TooLong { len, max })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdr(len: u16, kind: u8) -> Vec<u8> {
        let mut v = vec![0xff; 16];
        v.extend_from_slice(&len.to_be_bytes());
        v.push(kind);
        v
    }

    #[test]
    fn keepalive_header() {
        let caps = SessionCaps::default();
        let h = decode_header(&hdr(19, 4), &caps).unwrap();
        assert_eq!(h.kind, MessageType::Keepalive);
        assert_eq!(frame_length(&hdr(19, 4)[..10], &caps), Ok(None));
        assert_eq!(frame_length(&hdr(19, 4), &caps), Ok(Some(19)));
    }

    #[test]
    fn bad_marker_is_1_1() {
        let mut v = hdr(19, 4);
        v[3] = 0;
        let e = decode_header(&v, &SessionCaps::default()).unwrap_err();
        assert_eq!(e, HeaderError::BadMarker);
        let n = e.notification();
        assert_eq!((n.code(), n.subcode()), (1, 1));
        assert!(n.data.is_empty());
    }

    #[test]
    fn bad_length_is_1_2_with_length() {
        let caps = SessionCaps::default();
        for (len, kind) in [(18u16, 4u8), (4097, 2), (20, 4), (28, 1), (22, 2), (20, 3)] {
            let e = decode_header(&hdr(len, kind), &caps).unwrap_err();
            assert_eq!(e, HeaderError::BadLength(len));
            let n = e.notification();
            assert_eq!((n.code(), n.subcode()), (1, 2));
            assert_eq!(n.data, len.to_be_bytes().to_vec());
        }
        // Extended messages lift the maximum.
        let ext = SessionCaps {
            extended_message: true,
            ..SessionCaps::default()
        };
        assert!(decode_header(&hdr(5000, 2), &ext).is_ok());
        // ... but never for OPEN or KEEPALIVE (RFC 8654 §3).
        assert_eq!(
            decode_header(&hdr(5000, 1), &ext),
            Err(HeaderError::BadLength(5000))
        );
    }

    #[test]
    fn bad_type_is_1_3_with_type() {
        let e = decode_header(&hdr(19, 9), &SessionCaps::default()).unwrap_err();
        let n = e.notification();
        assert_eq!((n.code(), n.subcode(), n.data.clone()), (1, 3, vec![9]));
    }

    #[test]
    fn frame_must_match_length() {
        let mut v = hdr(19, 4);
        v.push(0);
        assert_eq!(
            decode(&v, &SessionCaps::default()),
            Err(HeaderError::BadLength(19))
        );
    }
}

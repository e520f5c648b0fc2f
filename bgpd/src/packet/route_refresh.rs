//! ROUTE-REFRESH messages (RFC 2918 §3) with the Message Subtype of
//! Enhanced Route Refresh (RFC 7313 §3: BoRR, EoRR) and its length error
//! (RFC 7313 §5).
//!
//! Owns the 4-byte body. Never decides whether a refresh is allowed (the
//! capability must have been negotiated: session's job); a subtype other
//! than 0, 1, 2 decodes as `Unknown` and the session ignores it (§5).

use bytes::{BufMut, BytesMut};
use thiserror::Error;

use super::nlri::{Afi, AfiSafi, Safi};
use super::notification::{ErrorCode, Notification, RouteRefreshSubcode};

/// RFC 7313 §3 Message Subtype.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteRefreshSubtype {
    /// 0: a plain refresh request (RFC 2918).
    Request,
    /// 1: Beginning of Route Refresh.
    Begin,
    /// 2: End of Route Refresh.
    End,
    Unknown(u8),
}

impl RouteRefreshSubtype {
    pub fn from_u8(v: u8) -> Self {
        match v {
            0 => Self::Request,
            1 => Self::Begin,
            2 => Self::End,
            other => Self::Unknown(other),
        }
    }

    pub fn to_u8(self) -> u8 {
        match self {
            Self::Request => 0,
            Self::Begin => 1,
            Self::End => 2,
            Self::Unknown(v) => v,
        }
    }
}

/// ```text
///  0       7      15      23      31
/// +-------+-------+-------+-------+
/// |      AFI      | Subtype | SAFI |
/// +-------+-------+-------+-------+
/// ```
/// RFC 2918 §3 (the reserved octet is the subtype of RFC 7313 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RouteRefresh {
    pub family: AfiSafi,
    pub subtype: RouteRefreshSubtype,
}

/// RFC 7313 §5: NOTIFICATION 7/1 with the complete message as data.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RouteRefreshError {
    #[error("ROUTE-REFRESH of invalid length {}", message.len())]
    InvalidLength { message: Vec<u8> },
}

impl RouteRefreshError {
    pub fn notification(&self) -> Notification {
        let RouteRefreshError::InvalidLength { message } = self;
        Notification::new(
            ErrorCode::RouteRefresh(RouteRefreshSubcode::InvalidMessageLength),
            message.clone(),
        )
    }
}

impl RouteRefresh {
    pub fn new(family: AfiSafi, subtype: RouteRefreshSubtype) -> Self {
        Self { family, subtype }
    }

    /// Decode the body. The error carries the body only; the message
    /// decoder replaces it with the complete message.
    pub fn decode_body(body: &[u8]) -> Result<Self, RouteRefreshError> {
        let [a, b, subtype, safi] = *body else {
            return Err(RouteRefreshError::InvalidLength {
                message: body.to_vec(),
            });
        };
        Ok(Self {
            family: AfiSafi::new(Afi(u16::from_be_bytes([a, b])), Safi(safi)),
            subtype: RouteRefreshSubtype::from_u8(subtype),
        })
    }

    pub(crate) fn encode_body(&self, buf: &mut BytesMut) {
        buf.put_u16(self.family.afi.0);
        buf.put_u8(self.subtype.to_u8());
        buf.put_u8(self.family.safi.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{decode_message, Message, MessageError, SessionCaps};

    #[test]
    fn borr_bytes() {
        #[rustfmt::skip]
        let wire = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // marker
            0x00, 0x17, 0x05, // length 23, ROUTE-REFRESH
            0x00, 0x02, 0x01, 0x01, // ipv6, BoRR, unicast
        ];
        let caps = SessionCaps::default();
        let m = decode_message(&wire, &caps).unwrap().message;
        assert_eq!(
            m,
            Message::RouteRefresh(RouteRefresh::new(
                AfiSafi::IPV6_UNICAST,
                RouteRefreshSubtype::Begin
            ))
        );
        assert_eq!(m.to_bytes(&caps).unwrap().as_ref(), &wire[..]);
    }

    #[test]
    fn round_trip_all_subtypes() {
        let caps = SessionCaps::default();
        for st in [0u8, 1, 2, 7] {
            let m = Message::RouteRefresh(RouteRefresh::new(
                AfiSafi::IPV4_UNICAST,
                RouteRefreshSubtype::from_u8(st),
            ));
            let bytes = m.to_bytes(&caps).unwrap();
            assert_eq!(decode_message(&bytes, &caps).unwrap().message, m);
        }
    }

    #[test]
    fn bad_length_is_7_1_with_message() {
        let mut wire = vec![0xff; 16];
        wire.extend_from_slice(&[0x00, 0x18, 0x05, 0x00, 0x01, 0x00, 0x01, 0x00]);
        let err = decode_message(&wire, &SessionCaps::default()).unwrap_err();
        assert!(matches!(err, MessageError::RouteRefresh(_)));
        let n = err.notification();
        assert_eq!((n.code(), n.subcode()), (7, 1));
        assert_eq!(n.data, wire);
    }
}

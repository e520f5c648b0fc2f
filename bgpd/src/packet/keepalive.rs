//! KEEPALIVE messages (RFC 4271 §4.4): a bare 19-byte header.
//!
//! Owns nothing but the constant encoding; the header module rejects a
//! KEEPALIVE whose length is not 19 (§6.1). Never schedules keepalives.

use super::header::HEADER_LEN;

/// ```text
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                      Marker (16 octets)                       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     Length = 19               |   Type = 4    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// RFC 4271 §4.4: the whole message, ready to write.
pub const KEEPALIVE: [u8; HEADER_LEN] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x00, 0x13, 0x04,
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{decode_message, HeaderError, Message, MessageError, SessionCaps};

    #[test]
    fn keepalive_round_trip() {
        let caps = SessionCaps::default();
        assert_eq!(
            Message::Keepalive.to_bytes(&caps).unwrap().as_ref(),
            &KEEPALIVE
        );
        assert_eq!(
            decode_message(&KEEPALIVE, &caps).unwrap().message,
            Message::Keepalive
        );
    }

    #[test]
    fn keepalive_with_body_is_bad_length() {
        let mut v = KEEPALIVE.to_vec();
        v.push(0);
        v[17] = 20;
        assert_eq!(
            decode_message(&v, &SessionCaps::default()),
            Err(MessageError::Header(HeaderError::BadLength(20)))
        );
    }
}

//! NOTIFICATION messages (RFC 4271 §4.5, §6): error codes and subcodes
//! (RFC 4271, RFC 4486, RFC 6608, RFC 7313, RFC 8538, RFC 9234) and the
//! shutdown communication of Cease subcodes 2 and 4 (RFC 9003).
//!
//! Owns the names of every code so logs say what happened. Never decides
//! when to send one: the error types of the other modules do.

use std::fmt;

use bytes::{BufMut, BytesMut};

/// RFC 9003 §2: the shutdown communication is at most 255 octets.
pub const MAX_SHUTDOWN_COMMUNICATION: usize = 255;

macro_rules! subcodes {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $value:literal => $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)*
            Unknown(u8),
        }

        impl $name {
            pub fn from_u8(value: u8) -> Self {
                match value {
                    $($value => Self::$variant,)*
                    other => Self::Unknown(other),
                }
            }

            pub fn to_u8(self) -> u8 {
                match self {
                    $(Self::$variant => $value,)*
                    Self::Unknown(value) => value,
                }
            }

            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)*
                    Self::Unknown(_) => "Unknown subcode",
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    Self::Unknown(value) => write!(f, "Unknown subcode {value}"),
                    known => f.write_str(known.name()),
                }
            }
        }
    };
}

subcodes!(
    /// Code 1 (RFC 4271 §4.5).
    MessageHeaderSubcode {
        ConnectionNotSynchronized = 1 => "Connection Not Synchronized",
        BadMessageLength = 2 => "Bad Message Length",
        BadMessageType = 3 => "Bad Message Type",
    }
);

subcodes!(
    /// Code 2 (RFC 4271 §4.5, RFC 5492, RFC 9234).
    OpenSubcode {
        Unspecific = 0 => "Unspecific",
        UnsupportedVersionNumber = 1 => "Unsupported Version Number",
        BadPeerAs = 2 => "Bad Peer AS",
        BadBgpIdentifier = 3 => "Bad BGP Identifier",
        UnsupportedOptionalParameter = 4 => "Unsupported Optional Parameter",
        UnacceptableHoldTime = 6 => "Unacceptable Hold Time",
        UnsupportedCapability = 7 => "Unsupported Capability",
        RoleMismatch = 11 => "Role Mismatch",
    }
);

subcodes!(
    /// Code 3 (RFC 4271 §4.5).
    UpdateSubcode {
        MalformedAttributeList = 1 => "Malformed Attribute List",
        UnrecognizedWellKnownAttribute = 2 => "Unrecognized Well-known Attribute",
        MissingWellKnownAttribute = 3 => "Missing Well-known Attribute",
        AttributeFlagsError = 4 => "Attribute Flags Error",
        AttributeLengthError = 5 => "Attribute Length Error",
        InvalidOriginAttribute = 6 => "Invalid ORIGIN Attribute",
        InvalidNextHopAttribute = 8 => "Invalid NEXT_HOP Attribute",
        OptionalAttributeError = 9 => "Optional Attribute Error",
        InvalidNetworkField = 10 => "Invalid Network Field",
        MalformedAsPath = 11 => "Malformed AS_PATH",
    }
);

subcodes!(
    /// Code 5 (RFC 6608).
    FsmSubcode {
        Unspecified = 0 => "Unspecified",
        UnexpectedInOpenSent = 1 => "Receive Unexpected Message in OpenSent State",
        UnexpectedInOpenConfirm = 2 => "Receive Unexpected Message in OpenConfirm State",
        UnexpectedInEstablished = 3 => "Receive Unexpected Message in Established State",
    }
);

subcodes!(
    /// Code 6 (RFC 4486, RFC 8538).
    CeaseSubcode {
        MaximumPrefixesReached = 1 => "Maximum Number of Prefixes Reached",
        AdministrativeShutdown = 2 => "Administrative Shutdown",
        PeerDeconfigured = 3 => "Peer De-configured",
        AdministrativeReset = 4 => "Administrative Reset",
        ConnectionRejected = 5 => "Connection Rejected",
        OtherConfigurationChange = 6 => "Other Configuration Change",
        ConnectionCollisionResolution = 7 => "Connection Collision Resolution",
        OutOfResources = 8 => "Out of Resources",
        HardReset = 9 => "Hard Reset",
        BfdDown = 10 => "BFD Down",
    }
);

subcodes!(
    /// Code 7 (RFC 7313).
    RouteRefreshSubcode {
        InvalidMessageLength = 1 => "Invalid Message Length",
    }
);

/// Error code with its subcode (RFC 4271 §4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    MessageHeader(MessageHeaderSubcode),
    Open(OpenSubcode),
    Update(UpdateSubcode),
    /// Code 4; it has no subcodes (subcode 0).
    HoldTimerExpired,
    Fsm(FsmSubcode),
    Cease(CeaseSubcode),
    RouteRefresh(RouteRefreshSubcode),
    Unknown {
        code: u8,
        subcode: u8,
    },
}

impl ErrorCode {
    pub fn from_u8(code: u8, subcode: u8) -> Self {
        match code {
            1 => Self::MessageHeader(MessageHeaderSubcode::from_u8(subcode)),
            2 => Self::Open(OpenSubcode::from_u8(subcode)),
            3 => Self::Update(UpdateSubcode::from_u8(subcode)),
            4 if subcode == 0 => Self::HoldTimerExpired,
            5 => Self::Fsm(FsmSubcode::from_u8(subcode)),
            6 => Self::Cease(CeaseSubcode::from_u8(subcode)),
            7 => Self::RouteRefresh(RouteRefreshSubcode::from_u8(subcode)),
            _ => Self::Unknown { code, subcode },
        }
    }

    pub fn code(self) -> u8 {
        match self {
            Self::MessageHeader(_) => 1,
            Self::Open(_) => 2,
            Self::Update(_) => 3,
            Self::HoldTimerExpired => 4,
            Self::Fsm(_) => 5,
            Self::Cease(_) => 6,
            Self::RouteRefresh(_) => 7,
            Self::Unknown { code, .. } => code,
        }
    }

    pub fn subcode(self) -> u8 {
        match self {
            Self::MessageHeader(s) => s.to_u8(),
            Self::Open(s) => s.to_u8(),
            Self::Update(s) => s.to_u8(),
            Self::HoldTimerExpired => 0,
            Self::Fsm(s) => s.to_u8(),
            Self::Cease(s) => s.to_u8(),
            Self::RouteRefresh(s) => s.to_u8(),
            Self::Unknown { subcode, .. } => subcode,
        }
    }

    fn code_name(self) -> &'static str {
        match self {
            Self::MessageHeader(_) => "Message Header Error",
            Self::Open(_) => "OPEN Message Error",
            Self::Update(_) => "UPDATE Message Error",
            Self::HoldTimerExpired => "Hold Timer Expired",
            Self::Fsm(_) => "Finite State Machine Error",
            Self::Cease(_) => "Cease",
            Self::RouteRefresh(_) => "ROUTE-REFRESH Message Error",
            Self::Unknown { .. } => "Unknown error code",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.code_name();
        match self {
            Self::MessageHeader(s) => write!(f, "{name} / {s}"),
            Self::Open(s) => write!(f, "{name} / {s}"),
            Self::Update(s) => write!(f, "{name} / {s}"),
            Self::HoldTimerExpired => f.write_str(name),
            Self::Fsm(s) => write!(f, "{name} / {s}"),
            Self::Cease(s) => write!(f, "{name} / {s}"),
            Self::RouteRefresh(s) => write!(f, "{name} / {s}"),
            Self::Unknown { code, subcode } => write!(f, "{name} {code}/{subcode}"),
        }
    }
}

/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Error code    | Error subcode |   Data (variable)             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// RFC 4271 §4.5. For Cease subcodes 2 and 4 the data may be a shutdown
/// communication (RFC 9003 §2):
/// ```text
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Error code 6  |    Subcode    |    Length     |     ...       \
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+               /
/// \                                                               \
/// /                 ... Shutdown Communication ...                /
/// \                                                               \
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Notification {
    pub error: ErrorCode,
    pub data: Vec<u8>,
}

/// Why the data of a Cease 2/4 is not a valid shutdown communication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ShutdownCommunicationError {
    #[error("length {0} overruns the NOTIFICATION data")]
    Overrun(u8),
    #[error("not valid UTF-8")]
    NotUtf8,
}

impl Notification {
    pub fn new(error: ErrorCode, data: Vec<u8>) -> Self {
        Self { error, data }
    }

    /// Cease with a shutdown communication (RFC 9003), cut at 255 bytes on
    /// a character boundary. Use subcode 2 or 4.
    pub fn cease_with_message(subcode: CeaseSubcode, message: &str) -> Self {
        let mut end = message.len().min(MAX_SHUTDOWN_COMMUNICATION);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let text = message.get(..end).unwrap_or_default().as_bytes();
        let mut data = Vec::with_capacity(text.len() + 1);
        data.push(text.len() as u8);
        data.extend_from_slice(text);
        Self::new(ErrorCode::Cease(subcode), data)
    }

    pub fn code(&self) -> u8 {
        self.error.code()
    }

    pub fn subcode(&self) -> u8 {
        self.error.subcode()
    }

    /// The shutdown communication of a Cease 2/4, `None` for other codes or
    /// when the data is empty.
    pub fn shutdown_communication(&self) -> Option<Result<&str, ShutdownCommunicationError>> {
        if !matches!(
            self.error,
            ErrorCode::Cease(
                CeaseSubcode::AdministrativeShutdown | CeaseSubcode::AdministrativeReset
            )
        ) {
            return None;
        }
        let (&len, rest) = self.data.split_first()?;
        let text = match rest.get(..usize::from(len)) {
            Some(text) => text,
            None => return Some(Err(ShutdownCommunicationError::Overrun(len))),
        };
        Some(std::str::from_utf8(text).map_err(|_| ShutdownCommunicationError::NotUtf8))
    }

    /// The body: header checks guarantee at least two bytes, and any data is
    /// valid, so decoding never fails.
    pub fn decode_body(body: &[u8]) -> Self {
        let code = body.first().copied().unwrap_or(0);
        let subcode = body.get(1).copied().unwrap_or(0);
        let data = body.get(2..).unwrap_or_default().to_vec();
        Self::new(ErrorCode::from_u8(code, subcode), data)
    }

    pub(crate) fn encode_body(&self, buf: &mut BytesMut) {
        buf.put_u8(self.code());
        buf.put_u8(self.subcode());
        buf.put_slice(&self.data);
    }
}

impl fmt::Display for Notification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.error)?;
        match self.shutdown_communication() {
            Some(Ok(text)) => write!(f, " \"{}\"", text.escape_debug()),
            _ if self.data.is_empty() => Ok(()),
            _ => {
                f.write_str(" data")?;
                for b in &self.data {
                    write!(f, " {b:02x}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{decode_message, Message, SessionCaps};

    #[test]
    fn names() {
        let n = Notification::new(ErrorCode::from_u8(3, 11), vec![]);
        assert_eq!(n.to_string(), "UPDATE Message Error / Malformed AS_PATH");
        assert_eq!(ErrorCode::from_u8(4, 0).to_string(), "Hold Timer Expired");
        assert_eq!(
            ErrorCode::from_u8(6, 77).to_string(),
            "Cease / Unknown subcode 77"
        );
        assert_eq!(
            ErrorCode::from_u8(9, 1),
            ErrorCode::Unknown {
                code: 9,
                subcode: 1
            }
        );
    }

    #[test]
    fn codes_round_trip() {
        for code in 0..=9u8 {
            for subcode in 0..=12u8 {
                let e = ErrorCode::from_u8(code, subcode);
                assert_eq!((e.code(), e.subcode()), (code, subcode));
            }
        }
    }

    #[test]
    fn shutdown_communication_bytes() {
        // Cease / Administrative Shutdown, "maint" as FRR sends it after
        // `neighbor X shutdown message maint`.
        let wire = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, // marker
            0x00, 0x1b, // length 27
            0x03, // NOTIFICATION
            0x06, 0x02, // Cease / Administrative Shutdown
            0x05, b'm', b'a', b'i', b'n', b't', // length 5, "maint"
        ];
        let caps = SessionCaps::default();
        let m = decode_message(&wire, &caps).unwrap().message;
        let Message::Notification(n) = &m else {
            panic!("not a notification")
        };
        assert_eq!(n.shutdown_communication(), Some(Ok("maint")));
        assert_eq!(n.to_string(), "Cease / Administrative Shutdown \"maint\"");
        assert_eq!(m.to_bytes(&caps).unwrap().as_ref(), &wire[..]);
        assert_eq!(
            Notification::cease_with_message(CeaseSubcode::AdministrativeShutdown, "maint"),
            *n
        );
    }

    #[test]
    fn shutdown_communication_limits() {
        let long = "é".repeat(200);
        let n = Notification::cease_with_message(CeaseSubcode::AdministrativeReset, &long);
        assert_eq!(n.data[0], 254);
        assert_eq!(n.shutdown_communication().unwrap().unwrap().len(), 254);
        let bad = Notification::new(ErrorCode::from_u8(6, 2), vec![9, b'a']);
        assert_eq!(
            bad.shutdown_communication(),
            Some(Err(ShutdownCommunicationError::Overrun(9)))
        );
        let bad = Notification::new(ErrorCode::from_u8(6, 4), vec![1, 0xff]);
        assert_eq!(
            bad.shutdown_communication(),
            Some(Err(ShutdownCommunicationError::NotUtf8))
        );
        let other = Notification::new(ErrorCode::from_u8(6, 3), vec![1, b'a']);
        assert_eq!(other.shutdown_communication(), None);
    }
}

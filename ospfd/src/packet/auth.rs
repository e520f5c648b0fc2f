//! OSPF packet authentication, RFC 2328 Appendix D: null (type 0), simple
//! password (type 1) and keyed MD5 (type 2, D.3).
//!
//! Owns generating and verifying the 64-bit authentication field and the
//! MD5 digest appended after the packet. It never tracks the
//! cryptographic sequence number of a neighbor: the verified number is
//! returned in [`AuthInfo`] for the neighbor code to compare.

use bytes::{BufMut, BytesMut};
use md5::{Digest, Md5};

pub(crate) const AU_NULL: u16 = 0;
pub(crate) const AU_SIMPLE: u16 = 1;
pub(crate) const AU_CRYPTOGRAPHIC: u16 = 2;

/// Length of a keyed-MD5 digest, the "Auth Data Len" of D.3.
pub const MD5_DIGEST_LEN: usize = 16;

/// Why authentication failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("authentication type {received} where {expected} is configured")]
    TypeMismatch { expected: u16, received: u16 },
    #[error("simple password mismatch")]
    PasswordMismatch,
    #[error("unknown MD5 key id {0}")]
    UnknownKeyId(u8),
    #[error("auth data length {0}, expected 16 for MD5")]
    BadAuthDataLength(u8),
    #[error("MD5 digest missing after the packet")]
    MissingDigest,
    #[error("MD5 digest mismatch with key id {0}")]
    DigestMismatch(u8),
}

/// One MD5 key: its id and the secret, zero-padded to 16 bytes (D.3).
#[derive(Clone, PartialEq, Eq)]
pub struct Md5Key {
    pub key_id: u8,
    key: [u8; 16],
}

impl Md5Key {
    /// A key of at most 16 bytes; `None` when longer.
    pub fn new(key_id: u8, secret: &[u8]) -> Option<Md5Key> {
        let mut key = [0u8; 16];
        key.get_mut(..secret.len())?.copy_from_slice(secret);
        Some(Md5Key { key_id, key })
    }

    fn digest(&self, packet: &[u8]) -> [u8; MD5_DIGEST_LEN] {
        let mut h = Md5::new();
        h.update(packet);
        h.update(self.key);
        h.finalize().into()
    }
}

impl std::fmt::Debug for Md5Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("Md5Key")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// An interface's authentication settings. `Debug` never shows a secret.
#[derive(Clone, PartialEq, Eq)]
pub enum AuthConfig {
    /// Type 0: no authentication.
    Null,
    /// Type 1: an 8-byte clear-text password, zero-padded.
    Simple([u8; 8]),
    /// Type 2: keyed MD5. Packets are sent with `send`; received packets
    /// are accepted with `send` or any key of `accept` (key rollover).
    Md5 { send: Md5Key, accept: Vec<Md5Key> },
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthConfig::Null => f.write_str("Null"),
            AuthConfig::Simple(_) => f.write_str("Simple(..)"),
            AuthConfig::Md5 { send, accept } => f
                .debug_struct("Md5")
                .field("send", send)
                .field("accept", accept)
                .finish(),
        }
    }
}

/// What the authentication field of a verified packet carried. Under
/// cryptographic authentication the 64-bit field reads (RFC 2328 D.3):
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |              0                |    Key ID     | Auth Data Len |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                 Cryptographic sequence number                 |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// and the 16-byte digest, MD5(packet || key zero-padded to 16 bytes),
/// follows the packet outside its length; the checksum field is zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthInfo {
    Null,
    Simple,
    /// Under MD5, the key used and the cryptographic sequence number, which
    /// the caller checks is not lower than the neighbor's last (D.4.3).
    Cryptographic {
        key_id: u8,
        seq: u32,
    },
}

impl AuthConfig {
    /// A simple password, truncated to 8 bytes and zero-padded.
    pub fn simple(password: &[u8]) -> AuthConfig {
        let mut pw = [0u8; 8];
        for (dst, src) in pw.iter_mut().zip(password) {
            *dst = *src;
        }
        AuthConfig::Simple(pw)
    }

    pub(crate) fn au_type(&self) -> u16 {
        match self {
            AuthConfig::Null => AU_NULL,
            AuthConfig::Simple(_) => AU_SIMPLE,
            AuthConfig::Md5 { .. } => AU_CRYPTOGRAPHIC,
        }
    }

    fn find_key(&self, key_id: u8) -> Option<&Md5Key> {
        match self {
            AuthConfig::Md5 { send, accept } => std::iter::once(send)
                .chain(accept.iter())
                .find(|k| k.key_id == key_id),
            _ => None,
        }
    }

    /// Checks `packet` (exactly `length` bytes, header included) and the
    /// bytes after it against these settings.
    pub(crate) fn verify(
        &self,
        au_type: u16,
        packet: &[u8],
        trailer: &[u8],
    ) -> Result<AuthInfo, AuthError> {
        if au_type != self.au_type() {
            return Err(AuthError::TypeMismatch {
                expected: self.au_type(),
                received: au_type,
            });
        }
        // The caller checked the packet is at least a header long.
        let field = packet.get(16..24).unwrap_or(&[0; 8]);
        match self {
            AuthConfig::Null => Ok(AuthInfo::Null),
            AuthConfig::Simple(pw) => {
                if field == pw {
                    Ok(AuthInfo::Simple)
                } else {
                    Err(AuthError::PasswordMismatch)
                }
            }
            AuthConfig::Md5 { .. } => {
                let &[_, _, key_id, data_len, s0, s1, s2, s3] = field else {
                    return Err(AuthError::MissingDigest);
                };
                if usize::from(data_len) != MD5_DIGEST_LEN {
                    return Err(AuthError::BadAuthDataLength(data_len));
                }
                let key = self
                    .find_key(key_id)
                    .ok_or(AuthError::UnknownKeyId(key_id))?;
                let received = trailer
                    .get(..MD5_DIGEST_LEN)
                    .ok_or(AuthError::MissingDigest)?;
                let expected = key.digest(packet);
                // Compare without an early exit.
                let diff = expected
                    .iter()
                    .zip(received)
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b));
                if diff != 0 {
                    return Err(AuthError::DigestMismatch(key_id));
                }
                Ok(AuthInfo::Cryptographic {
                    key_id,
                    seq: u32::from_be_bytes([s0, s1, s2, s3]),
                })
            }
        }
    }

    /// Fills the authentication field of an encoded packet (whose checksum
    /// is already set, or left zero under MD5) and appends the MD5 digest.
    pub(crate) fn sign(&self, buf: &mut BytesMut, crypto_seq: u32) {
        let Some(field) = buf.get_mut(16..24) else {
            return;
        };
        match self {
            AuthConfig::Null => {}
            AuthConfig::Simple(pw) => field.copy_from_slice(pw),
            AuthConfig::Md5 { send, .. } => {
                field[..2].copy_from_slice(&[0, 0]);
                field[2] = send.key_id;
                field[3] = MD5_DIGEST_LEN as u8;
                field[4..].copy_from_slice(&crypto_seq.to_be_bytes());
                let digest = send.digest(buf);
                buf.put_slice(&digest);
            }
        }
    }
}

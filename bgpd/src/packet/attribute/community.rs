//! Community values: COMMUNITIES (RFC 1997), EXTENDED_COMMUNITIES
//! (RFC 4360) and LARGE_COMMUNITIES (RFC 8092).
//!
//! Owns the value types and their text forms. Never interprets them for
//! policy (no-export handling lives in the export stage).

use std::fmt;

/// One COMMUNITIES value (RFC 1997): conventionally `ASN:value`.
///
/// ```text
/// +-------------------------------+-------------------------------+
/// |        AS number (16)         |          Value (16)           |
/// +-------------------------------+-------------------------------+
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Community(pub u32);

impl Community {
    pub const NO_EXPORT: Community = Community(0xffff_ff01);
    pub const NO_ADVERTISE: Community = Community(0xffff_ff02);
    pub const NO_EXPORT_SUBCONFED: Community = Community(0xffff_ff03);
    pub const NO_PEER: Community = Community(0xffff_ff04);
    pub const GRACEFUL_SHUTDOWN: Community = Community(0xffff_0000);
    pub const BLACKHOLE: Community = Community(0xffff_029a);

    pub fn new(asn: u16, value: u16) -> Self {
        Self(u32::from(asn) << 16 | u32::from(value))
    }
}

impl fmt::Display for Community {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NO_EXPORT => f.write_str("no-export"),
            Self::NO_ADVERTISE => f.write_str("no-advertise"),
            Self::NO_EXPORT_SUBCONFED => f.write_str("no-export-subconfed"),
            Self::NO_PEER => f.write_str("no-peer"),
            Self::GRACEFUL_SHUTDOWN => f.write_str("graceful-shutdown"),
            Self::BLACKHOLE => f.write_str("blackhole"),
            Self(v) => write!(f, "{}:{}", v >> 16, v & 0xffff),
        }
    }
}

/// A community that is neither `ASN:VALUE` nor a well-known name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a community (ASN:VALUE or a well-known name)")]
pub struct BadCommunity(pub String);

impl std::str::FromStr for Community {
    type Err = BadCommunity;
    /// `ASN:VALUE` (16 bits each) or a well-known name as FRR writes it
    /// (`no-export`, `no-advertise`, `no-export-subconfed` or `local-AS`,
    /// `no-peer`, `graceful-shutdown`, `blackhole`, `internet`).
    fn from_str(s: &str) -> Result<Self, BadCommunity> {
        let bad = || BadCommunity(s.to_string());
        Ok(match s {
            "no-export" => Self::NO_EXPORT,
            "no-advertise" => Self::NO_ADVERTISE,
            "no-export-subconfed" | "local-AS" | "local-as" => Self::NO_EXPORT_SUBCONFED,
            "no-peer" => Self::NO_PEER,
            "graceful-shutdown" => Self::GRACEFUL_SHUTDOWN,
            "blackhole" => Self::BLACKHOLE,
            "internet" => Self(0),
            _ => {
                let (a, v) = s.split_once(':').ok_or_else(bad)?;
                Self::new(a.parse().map_err(|_| bad())?, v.parse().map_err(|_| bad())?)
            }
        })
    }
}

/// One EXTENDED_COMMUNITIES value (RFC 4360 §2), kept as its 8 octets.
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Type high    |  Type low(*)  |                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+          Value                |
/// |                                                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExtendedCommunity(pub [u8; 8]);

impl ExtendedCommunity {
    /// Two-octet-AS specific Route Target (type 0x00, subtype 0x02).
    pub fn route_target(asn: u16, value: u32) -> Self {
        let [a, b] = asn.to_be_bytes();
        let [c, d, e, f] = value.to_be_bytes();
        Self([0x00, 0x02, a, b, c, d, e, f])
    }

    pub fn type_high(&self) -> u8 {
        self.0[0]
    }

    pub fn subtype(&self) -> u8 {
        self.0[1]
    }

    /// RFC 4360 §2: the T bit of the type says "non-transitive".
    pub fn is_transitive(&self) -> bool {
        self.0[0] & 0x40 == 0
    }
}

impl fmt::Display for ExtendedCommunity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [t, s, a, b, c, d, e, g] = self.0;
        // Route target (subtype 2) and route origin (3), RFC 4360 §4-5
        // and RFC 5668 §2, as FRR writes them.
        let word = if s == 0x02 { "rt" } else { "soo" };
        match (t, s) {
            (0x00, 0x02 | 0x03) => write!(
                f,
                "{word} {}:{}",
                u16::from_be_bytes([a, b]),
                u32::from_be_bytes([c, d, e, g])
            ),
            (0x01, 0x02 | 0x03) => write!(
                f,
                "{word} {}.{}.{}.{}:{}",
                a,
                b,
                c,
                d,
                u16::from_be_bytes([e, g])
            ),
            (0x02, 0x02 | 0x03) => write!(
                f,
                "{word} {}:{}",
                u32::from_be_bytes([a, b, c, d]),
                u16::from_be_bytes([e, g])
            ),
            _ => write!(
                f,
                "{t:02x}{s:02x}:{a:02x}{b:02x}{c:02x}{d:02x}{e:02x}{g:02x}"
            ),
        }
    }
}

/// One LARGE_COMMUNITIES value (RFC 8092 §3).
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                      Global Administrator                     |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                       Local Data Part 1                       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                       Local Data Part 2                       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LargeCommunity {
    pub global_admin: u32,
    pub local_data1: u32,
    pub local_data2: u32,
}

impl LargeCommunity {
    pub fn new(global_admin: u32, local_data1: u32, local_data2: u32) -> Self {
        Self {
            global_admin,
            local_data1,
            local_data2,
        }
    }
}

/// A large community that is not `GLOBAL:LOCAL1:LOCAL2`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a large community (GLOBAL:LOCAL1:LOCAL2)")]
pub struct BadLargeCommunity(pub String);

impl std::str::FromStr for LargeCommunity {
    type Err = BadLargeCommunity;
    /// `GLOBAL:LOCAL1:LOCAL2`, three 32-bit numbers (RFC 8092 §3).
    fn from_str(s: &str) -> Result<Self, BadLargeCommunity> {
        let bad = || BadLargeCommunity(s.to_string());
        let mut it = s.split(':').map(|p| p.parse::<u32>().map_err(|_| bad()));
        let (Some(a), Some(b), Some(c), None) = (it.next(), it.next(), it.next(), it.next()) else {
            return Err(bad());
        };
        Ok(Self::new(a?, b?, c?))
    }
}

impl fmt::Display for LargeCommunity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.global_admin, self.local_data1, self.local_data2
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text() {
        assert_eq!(Community::new(65000, 100).to_string(), "65000:100");
        assert_eq!(Community::NO_EXPORT.to_string(), "no-export");
        assert_eq!(
            ExtendedCommunity::route_target(65000, 7).to_string(),
            "rt 65000:7"
        );
        assert_eq!(
            LargeCommunity::new(4_200_000_000, 1, 2).to_string(),
            "4200000000:1:2"
        );
        let mut soo = ExtendedCommunity::route_target(65000, 1);
        soo.0[1] = 0x03;
        assert_eq!(soo.to_string(), "soo 65000:1");
    }

    #[test]
    fn parse_round_trips() {
        for s in [
            "65000:100",
            "no-export",
            "no-advertise",
            "graceful-shutdown",
            "0:0",
        ] {
            let c: Community = s.parse().unwrap();
            assert_eq!(c.to_string().parse::<Community>().unwrap(), c);
        }
        assert_eq!(
            "local-AS".parse::<Community>().unwrap(),
            Community::NO_EXPORT_SUBCONFED
        );
        assert!("65536:1".parse::<Community>().is_err());
        assert!("65000".parse::<Community>().is_err());
        let l: LargeCommunity = "4200000000:1:2".parse().unwrap();
        assert_eq!(l, LargeCommunity::new(4_200_000_000, 1, 2));
        assert!("1:2".parse::<LargeCommunity>().is_err());
        assert!("1:2:3:4".parse::<LargeCommunity>().is_err());
    }
}

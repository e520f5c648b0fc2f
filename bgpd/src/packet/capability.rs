//! Capabilities advertised in OPEN (RFC 5492) and the per-session codec
//! context they negotiate ([`SessionCaps`]).
//!
//! Decoded: Multiprotocol (RFC 4760), Route Refresh (RFC 2918), Enhanced
//! Route Refresh (RFC 7313), 4-octet AS (RFC 6793), Graceful Restart
//! (RFC 4724, N bit of RFC 8538), Extended Message (RFC 8654), Extended
//! Next Hop (RFC 8950), ADD-PATH (RFC 7911), BGP Role (RFC 9234 §4.1,
//! values in [`super::role`]). Everything else (FQDN, LLGR,
//! the old Cisco route refresh, ...) is kept raw as (code, bytes).
//! Never decides whether a capability is acceptable: that is session policy.

use bytes::{BufMut, BytesMut};

use super::header::{MAX_EXTENDED_MESSAGE_LEN, MAX_MESSAGE_LEN};
use super::nlri::{Afi, AfiSafi, Safi};
use super::open::Open;
use super::role::Role;
use super::wire;

pub const CAP_MULTIPROTOCOL: u8 = 1;
pub const CAP_ROUTE_REFRESH: u8 = 2;
pub const CAP_EXTENDED_NEXT_HOP: u8 = 5;
pub const CAP_EXTENDED_MESSAGE: u8 = 6;
pub const CAP_ROLE: u8 = 9;
pub const CAP_GRACEFUL_RESTART: u8 = 64;
pub const CAP_FOUR_OCTET_AS: u8 = 65;
pub const CAP_ADD_PATH: u8 = 69;
pub const CAP_ENHANCED_ROUTE_REFRESH: u8 = 70;
pub const CAP_FQDN: u8 = 73;

/// The negotiated context the codec needs, so that the same bytes decode
/// as the session agreed. `Default` is what holds before OPENs are
/// exchanged: 2-octet AS, 4096-byte messages, no ADD-PATH.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionCaps {
    /// Both sides advertised the 4-octet AS capability (RFC 6793).
    pub four_octet_as: bool,
    /// Both sides advertised Extended Message (RFC 8654).
    pub extended_message: bool,
    /// Families whose NLRI we receive with path identifiers (RFC 7911).
    pub add_path_rx: Vec<AfiSafi>,
    /// Families whose NLRI we send with path identifiers.
    pub add_path_tx: Vec<AfiSafi>,
    /// IPv4 families both sides agreed to carry with an IPv6 next hop in
    /// MP_REACH_NLRI (RFC 8950 §4).
    pub extended_next_hop: Vec<AfiSafi>,
    /// Our BGP role on this session (RFC 9234), when we advertised one:
    /// the Only-to-Customer rules of §5 follow it.
    pub local_role: Option<Role>,
    /// The role the neighbor announced (already checked against ours).
    pub peer_role: Option<Role>,
}

impl SessionCaps {
    /// A 4-octet-AS session without other extensions.
    pub fn four_octet() -> Self {
        Self {
            four_octet_as: true,
            ..Self::default()
        }
    }

    pub fn max_message_len(&self) -> usize {
        if self.extended_message {
            MAX_EXTENDED_MESSAGE_LEN
        } else {
            MAX_MESSAGE_LEN
        }
    }

    pub fn add_path_rx(&self, family: AfiSafi) -> bool {
        self.add_path_rx.contains(&family)
    }

    pub fn add_path_tx(&self, family: AfiSafi) -> bool {
        self.add_path_tx.contains(&family)
    }

    /// Whether IPv4 NLRI of `family` may come and go with an IPv6 next
    /// hop on this session (RFC 8950 §4).
    pub fn extended_next_hop(&self, family: AfiSafi) -> bool {
        self.extended_next_hop.contains(&family)
    }

    /// What our OPEN and the peer's OPEN agree on.
    pub fn negotiate(local: &Open, remote: &Open) -> Self {
        let both = |f: fn(&Capability) -> bool| {
            local.capabilities.iter().any(f) && remote.capabilities.iter().any(f)
        };
        let four_octet_as = both(|c| matches!(c, Capability::FourOctetAs(_)));
        let extended_message = both(|c| matches!(c, Capability::ExtendedMessage));
        let mut add_path_rx = Vec::new();
        let mut add_path_tx = Vec::new();
        for (family, ours) in local.add_path() {
            let Some(theirs) = remote
                .add_path()
                .find(|(f, _)| *f == family)
                .map(|(_, m)| m)
            else {
                continue;
            };
            if ours.receives() && theirs.sends() {
                add_path_rx.push(family);
            }
            if ours.sends() && theirs.receives() {
                add_path_tx.push(family);
            }
        }
        // RFC 8950 §4: an IPv6 next hop for IPv4 NLRI only where both
        // sides listed the <AFI, SAFI, next hop AFI 2> triple.
        let extended_next_hop = local
            .extended_next_hop()
            .filter(|e| e.nlri.afi == Afi::IPV4 && e.next_hop_afi == Afi::IPV6)
            .filter(|e| remote.extended_next_hop().any(|r| r == *e))
            .map(|e| e.nlri)
            .collect();
        let role = |o: &Open| {
            o.capabilities.iter().find_map(|c| match c {
                Capability::Role(r) => Some(*r),
                _ => None,
            })
        };
        Self {
            four_octet_as,
            extended_message,
            add_path_rx,
            add_path_tx,
            extended_next_hop,
            local_role: role(local),
            peer_role: role(remote),
        }
    }
}

/// RFC 7911 §4 Send/Receive field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddPathMode {
    Receive = 1,
    Send = 2,
    Both = 3,
}

impl AddPathMode {
    fn from_u8(value: u8) -> Option<Self> {
        Some(match value {
            1 => Self::Receive,
            2 => Self::Send,
            3 => Self::Both,
            _ => return None,
        })
    }

    pub fn receives(self) -> bool {
        matches!(self, Self::Receive | Self::Both)
    }

    pub fn sends(self) -> bool {
        matches!(self, Self::Send | Self::Both)
    }
}

/// One family of the Graceful Restart capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GracefulRestartFamily {
    pub family: AfiSafi,
    /// F bit: forwarding state was preserved across the restart.
    pub forwarding_preserved: bool,
}

/// ```text
/// +--------------------------------------------------+
/// | Restart Flags (4 bits)                           |
/// +--------------------------------------------------+
/// | Restart Time in seconds (12 bits)                |
/// +--------------------------------------------------+
/// | Address Family Identifier (16 bits)              |
/// +--------------------------------------------------+
/// | Subsequent Address Family Identifier (8 bits)    |
/// +--------------------------------------------------+
/// | Flags for Address Family (8 bits)                |
/// +--------------------------------------------------+
/// | ...                                              |
/// +--------------------------------------------------+
/// ```
/// RFC 4724 §3; restart flags are R (0x8) and N (0x4, RFC 8538).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GracefulRestart {
    pub restart_state: bool,
    pub notification: bool,
    /// 12 bits: seconds.
    pub restart_time: u16,
    pub families: Vec<GracefulRestartFamily>,
}

/// One entry of the Extended Next Hop capability (RFC 8950 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExtendedNextHop {
    pub nlri: AfiSafi,
    pub next_hop_afi: Afi,
}

/// ```text
/// +------------------------------+
/// | Capability Code (1 octet)    |
/// +------------------------------+
/// | Capability Length (1 octet)  |
/// +------------------------------+
/// | Capability Value (variable)  |
/// ~                              ~
/// +------------------------------+
/// ```
/// RFC 5492 §4.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Capability {
    /// RFC 4760 §8: AFI (2), reserved (1), SAFI (1).
    Multiprotocol(AfiSafi),
    RouteRefresh,
    EnhancedRouteRefresh,
    /// RFC 6793 §3: the 4-octet AS number.
    FourOctetAs(u32),
    GracefulRestart(GracefulRestart),
    ExtendedMessage,
    /// RFC 8950 §4: (NLRI AFI (2), NLRI SAFI (2), Next Hop AFI (2))*.
    ExtendedNextHop(Vec<ExtendedNextHop>),
    /// RFC 7911 §4: (AFI (2), SAFI (1), Send/Receive (1))*.
    AddPath(Vec<(AfiSafi, AddPathMode)>),
    /// RFC 9234 §4.1: one octet, the sender's role. An unassigned value
    /// stays [`Capability::Unknown`] (and is a Role Mismatch).
    Role(Role),
    /// Anything else, FQDN included, kept as received.
    Unknown {
        code: u8,
        value: Vec<u8>,
    },
}

/// A known capability whose value has the wrong shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed capability {code} of length {len}")]
pub struct MalformedCapability {
    pub code: u8,
    pub len: usize,
}

impl Capability {
    pub fn code(&self) -> u8 {
        match self {
            Self::Multiprotocol(_) => CAP_MULTIPROTOCOL,
            Self::RouteRefresh => CAP_ROUTE_REFRESH,
            Self::EnhancedRouteRefresh => CAP_ENHANCED_ROUTE_REFRESH,
            Self::FourOctetAs(_) => CAP_FOUR_OCTET_AS,
            Self::GracefulRestart(_) => CAP_GRACEFUL_RESTART,
            Self::ExtendedMessage => CAP_EXTENDED_MESSAGE,
            Self::ExtendedNextHop(_) => CAP_EXTENDED_NEXT_HOP,
            Self::AddPath(_) => CAP_ADD_PATH,
            Self::Role(_) => CAP_ROLE,
            Self::Unknown { code, .. } => *code,
        }
    }

    /// Decode one capability value. A malformed known capability is an
    /// error (guessing would desynchronise e.g. the AS number size), except
    /// where its RFC says to ignore it (ADD-PATH with an unknown mode).
    pub fn decode(code: u8, value: &[u8]) -> Result<Self, MalformedCapability> {
        let bad = MalformedCapability {
            code,
            len: value.len(),
        };
        let cap = match code {
            CAP_MULTIPROTOCOL => {
                let [a, b, _, safi] = *value else {
                    return Err(bad);
                };
                Self::Multiprotocol(AfiSafi::new(Afi(u16::from_be_bytes([a, b])), Safi(safi)))
            }
            CAP_ROUTE_REFRESH | CAP_ENHANCED_ROUTE_REFRESH | CAP_EXTENDED_MESSAGE => {
                if !value.is_empty() {
                    return Err(bad);
                }
                match code {
                    CAP_ROUTE_REFRESH => Self::RouteRefresh,
                    CAP_EXTENDED_MESSAGE => Self::ExtendedMessage,
                    _ => Self::EnhancedRouteRefresh,
                }
            }
            CAP_FOUR_OCTET_AS => {
                let [a, b, c, d] = *value else {
                    return Err(bad);
                };
                Self::FourOctetAs(u32::from_be_bytes([a, b, c, d]))
            }
            CAP_GRACEFUL_RESTART => {
                let (mut i, head) = wire::u16(value).map_err(|_| bad)?;
                if i.len() % 4 != 0 {
                    return Err(bad);
                }
                let mut families = Vec::new();
                while !i.is_empty() {
                    let (rest, afi) = wire::u16(i).map_err(|_| bad)?;
                    let (rest, safi) = wire::u8(rest).map_err(|_| bad)?;
                    let (rest, flags) = wire::u8(rest).map_err(|_| bad)?;
                    families.push(GracefulRestartFamily {
                        family: AfiSafi::new(Afi(afi), Safi(safi)),
                        forwarding_preserved: flags & 0x80 != 0,
                    });
                    i = rest;
                }
                Self::GracefulRestart(GracefulRestart {
                    restart_state: head & 0x8000 != 0,
                    notification: head & 0x4000 != 0,
                    restart_time: head & 0x0fff,
                    families,
                })
            }
            CAP_EXTENDED_NEXT_HOP => {
                if !value.len().is_multiple_of(6) {
                    return Err(bad);
                }
                let mut entries = Vec::new();
                for chunk in value.chunks_exact(6) {
                    let [a, b, s1, s2, n1, n2] = *chunk else {
                        return Err(bad);
                    };
                    let safi = u16::from_be_bytes([s1, s2]);
                    let safi = u8::try_from(safi).map_err(|_| bad)?;
                    entries.push(ExtendedNextHop {
                        nlri: AfiSafi::new(Afi(u16::from_be_bytes([a, b])), Safi(safi)),
                        next_hop_afi: Afi(u16::from_be_bytes([n1, n2])),
                    });
                }
                Self::ExtendedNextHop(entries)
            }
            CAP_ADD_PATH => {
                if !value.len().is_multiple_of(4) {
                    return Err(bad);
                }
                let mut entries = Vec::new();
                for chunk in value.chunks_exact(4) {
                    let [a, b, safi, mode] = *chunk else {
                        return Err(bad);
                    };
                    // RFC 7911 §4: any other value: not understood, ignored.
                    let Some(mode) = AddPathMode::from_u8(mode) else {
                        return Ok(Self::Unknown {
                            code,
                            value: value.to_vec(),
                        });
                    };
                    entries.push((
                        AfiSafi::new(Afi(u16::from_be_bytes([a, b])), Safi(safi)),
                        mode,
                    ));
                }
                Self::AddPath(entries)
            }
            CAP_ROLE => {
                let [v] = *value else {
                    return Err(bad);
                };
                match Role::from_code(v) {
                    Some(r) => Self::Role(r),
                    None => Self::Unknown {
                        code,
                        value: value.to_vec(),
                    },
                }
            }
            _ => Self::Unknown {
                code,
                value: value.to_vec(),
            },
        };
        Ok(cap)
    }

    /// Append code, length and value. Values longer than 255 bytes (only
    /// possible for huge raw capabilities) are cut.
    pub fn encode(&self, buf: &mut BytesMut) {
        let mut value = BytesMut::new();
        match self {
            Self::Multiprotocol(f) => {
                value.put_u16(f.afi.0);
                value.put_u8(0);
                value.put_u8(f.safi.0);
            }
            Self::RouteRefresh | Self::EnhancedRouteRefresh | Self::ExtendedMessage => {}
            Self::FourOctetAs(asn) => value.put_u32(*asn),
            Self::GracefulRestart(gr) => {
                let mut head = gr.restart_time & 0x0fff;
                if gr.restart_state {
                    head |= 0x8000;
                }
                if gr.notification {
                    head |= 0x4000;
                }
                value.put_u16(head);
                for f in &gr.families {
                    value.put_u16(f.family.afi.0);
                    value.put_u8(f.family.safi.0);
                    value.put_u8(if f.forwarding_preserved { 0x80 } else { 0 });
                }
            }
            Self::ExtendedNextHop(entries) => {
                for e in entries {
                    value.put_u16(e.nlri.afi.0);
                    value.put_u16(u16::from(e.nlri.safi.0));
                    value.put_u16(e.next_hop_afi.0);
                }
            }
            Self::AddPath(entries) => {
                for (f, mode) in entries {
                    value.put_u16(f.afi.0);
                    value.put_u8(f.safi.0);
                    value.put_u8(*mode as u8);
                }
            }
            Self::Role(r) => value.put_u8(r.code()),
            Self::Unknown { value: v, .. } => value.put_slice(v),
        }
        value.truncate(255);
        buf.put_u8(self.code());
        buf.put_u8(value.len() as u8);
        buf.put_slice(&value);
    }

    /// Bytes taken by [`Capability::encode`].
    pub fn wire_len(&self) -> usize {
        let mut buf = BytesMut::new();
        self.encode(&mut buf);
        buf.len()
    }
}

/// The capabilities FRR and BIRD usually send, handy for tests and as a
/// starting point for our own OPEN.
pub fn typical(asn: u32, families: &[AfiSafi], restart_time: u16) -> Vec<Capability> {
    let mut caps: Vec<Capability> = families
        .iter()
        .copied()
        .map(Capability::Multiprotocol)
        .collect();
    caps.push(Capability::RouteRefresh);
    caps.push(Capability::EnhancedRouteRefresh);
    caps.push(Capability::FourOctetAs(asn));
    caps.push(Capability::GracefulRestart(GracefulRestart {
        restart_state: false,
        notification: true,
        restart_time,
        families: Vec::new(),
    }));
    caps.push(Capability::ExtendedMessage);
    caps
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn round(cap: Capability) {
        let mut buf = BytesMut::new();
        cap.encode(&mut buf);
        assert_eq!(buf.len(), cap.wire_len());
        let back = Capability::decode(buf[0], &buf[2..]).unwrap();
        assert_eq!(back, cap);
    }

    #[test]
    fn round_trips() {
        round(Capability::Multiprotocol(AfiSafi::IPV6_UNICAST));
        round(Capability::RouteRefresh);
        round(Capability::EnhancedRouteRefresh);
        round(Capability::ExtendedMessage);
        round(Capability::FourOctetAs(4_200_000_000));
        round(Capability::GracefulRestart(GracefulRestart {
            restart_state: true,
            notification: true,
            restart_time: 120,
            families: vec![
                GracefulRestartFamily {
                    family: AfiSafi::IPV4_UNICAST,
                    forwarding_preserved: true,
                },
                GracefulRestartFamily {
                    family: AfiSafi::IPV6_UNICAST,
                    forwarding_preserved: false,
                },
            ],
        }));
        round(Capability::ExtendedNextHop(vec![ExtendedNextHop {
            nlri: AfiSafi::IPV4_UNICAST,
            next_hop_afi: Afi::IPV6,
        }]));
        round(Capability::AddPath(vec![
            (AfiSafi::IPV4_UNICAST, AddPathMode::Both),
            (AfiSafi::IPV6_UNICAST, AddPathMode::Receive),
        ]));
        for r in Role::ALL {
            round(Capability::Role(r));
        }
        round(Capability::Unknown {
            code: CAP_ROLE,
            value: vec![5],
        });
        round(Capability::Unknown {
            code: CAP_FQDN,
            value: vec![3, b'r', b't', b'1', 0],
        });
    }

    #[test]
    fn malformed() {
        assert!(Capability::decode(CAP_FOUR_OCTET_AS, &[0, 1]).is_err());
        assert!(Capability::decode(CAP_MULTIPROTOCOL, &[0, 1, 0]).is_err());
        assert!(Capability::decode(CAP_ROUTE_REFRESH, &[0]).is_err());
        assert!(Capability::decode(CAP_GRACEFUL_RESTART, &[0, 1, 0]).is_err());
        assert!(Capability::decode(CAP_ROLE, &[]).is_err());
        assert!(Capability::decode(CAP_ROLE, &[3, 3]).is_err());
        assert_eq!(
            Capability::decode(CAP_ROLE, &[3]),
            Ok(Capability::Role(Role::Customer))
        );
        // Unknown ADD-PATH mode: ignored, kept raw.
        assert_eq!(
            Capability::decode(CAP_ADD_PATH, &[0, 1, 1, 9]),
            Ok(Capability::Unknown {
                code: CAP_ADD_PATH,
                value: vec![0, 1, 1, 9]
            })
        );
    }

    #[test]
    fn negotiation() {
        let id = Ipv4Addr::new(192, 0, 2, 1);
        let mut ours = Open::new(65001, 90, id, typical(65001, &[AfiSafi::IPV4_UNICAST], 120));
        ours.capabilities.push(Capability::AddPath(vec![(
            AfiSafi::IPV4_UNICAST,
            AddPathMode::Both,
        )]));
        let mut theirs = Open::new(65002, 90, id, vec![Capability::FourOctetAs(65002)]);
        theirs.capabilities.push(Capability::AddPath(vec![(
            AfiSafi::IPV4_UNICAST,
            AddPathMode::Send,
        )]));
        let caps = SessionCaps::negotiate(&ours, &theirs);
        assert!(caps.four_octet_as);
        assert!(!caps.extended_message);
        assert_eq!(caps.add_path_rx, vec![AfiSafi::IPV4_UNICAST]);
        assert!(caps.add_path_tx.is_empty());
        assert_eq!(caps.max_message_len(), 4096);
        assert!(caps.extended_next_hop.is_empty());
    }

    #[test]
    fn extended_next_hop_needs_both_sides() {
        let id = Ipv4Addr::new(192, 0, 2, 1);
        let enh = |nlri, next_hop_afi| {
            Capability::ExtendedNextHop(vec![ExtendedNextHop { nlri, next_hop_afi }])
        };
        let ours = Open::new(65001, 90, id, vec![enh(AfiSafi::IPV4_UNICAST, Afi::IPV6)]);
        let plain = Open::new(65002, 90, id, vec![Capability::FourOctetAs(65002)]);
        assert!(SessionCaps::negotiate(&ours, &plain)
            .extended_next_hop
            .is_empty());
        assert!(SessionCaps::negotiate(&plain, &ours)
            .extended_next_hop
            .is_empty());
        let theirs = Open::new(65002, 90, id, vec![enh(AfiSafi::IPV4_UNICAST, Afi::IPV6)]);
        let caps = SessionCaps::negotiate(&ours, &theirs);
        assert!(caps.extended_next_hop(AfiSafi::IPV4_UNICAST));
        assert!(!caps.extended_next_hop(AfiSafi::IPV6_UNICAST));
        // A triple for another next hop family does not count.
        let odd = Open::new(65002, 90, id, vec![enh(AfiSafi::IPV4_UNICAST, Afi::IPV4)]);
        assert!(SessionCaps::negotiate(&odd, &odd)
            .extended_next_hop
            .is_empty());
    }
}

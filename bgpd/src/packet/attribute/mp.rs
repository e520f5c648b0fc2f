//! MP_REACH_NLRI and MP_UNREACH_NLRI (RFC 4760 §3, §4) for IPv4/IPv6
//! unicast and multicast, with IPv6 global + link-local next hops
//! (RFC 2545 §3) and IPv6 next hops for IPv4 NLRI (RFC 8950 §3).
//!
//! L2VPN EVPN (AFI 25, SAFI 70) routes are decoded by
//! [`crate::evpn::nlri`] and come out as [`Mp::Evpn`].
//!
//! Owns the attribute values. Never decides the RFC 7606 action: the
//! update decoder turns [`MpError`] into a session reset (§7.11).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytes::{BufMut, BytesMut};
use thiserror::Error;

use crate::evpn::nlri::{decode_routes, EvpnError, EvpnRoute};
use crate::packet::nlri::{decode_prefixes, Afi, AfiSafi, Nlri, NlriError, Safi};
use crate::packet::{wire, EncodeError, SessionCaps};

/// The next hop of MP_REACH_NLRI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MpNextHop {
    /// 4 octets, for IPv4 NLRI.
    V4(Ipv4Addr),
    /// 16 octets, or 32 with the link-local address (RFC 2545 §3).
    V6 {
        global: Ipv6Addr,
        link_local: Option<Ipv6Addr>,
    },
}

impl MpNextHop {
    pub fn wire_len(&self) -> usize {
        match self {
            Self::V4(_) => 4,
            Self::V6 {
                link_local: None, ..
            } => 16,
            Self::V6 { .. } => 32,
        }
    }

    fn encode(&self, buf: &mut BytesMut) {
        match self {
            Self::V4(a) => buf.put_slice(&a.octets()),
            Self::V6 { global, link_local } => {
                buf.put_slice(&global.octets());
                if let Some(ll) = link_local {
                    buf.put_slice(&ll.octets());
                }
            }
        }
    }

    /// The address to forward to: the IPv4 one, the IPv6 global one, or
    /// the link-local one when the global field is unspecified (`::`) or
    /// holds a link-local address itself (RFC 2545 §3; what unnumbered
    /// peers send).
    pub fn forwarding(&self) -> IpAddr {
        match *self {
            Self::V4(a) => IpAddr::V4(a),
            Self::V6 {
                global,
                link_local: Some(ll),
            } if global.is_unspecified() || global.is_unicast_link_local() => IpAddr::V6(ll),
            Self::V6 { global, .. } => IpAddr::V6(global),
        }
    }

    /// Whether this next hop can be sent with NLRI of `family`.
    pub fn fits(&self, family: AfiSafi) -> bool {
        matches!(
            (self, family.afi),
            (Self::V4(_), Afi::IPV4 | Afi::L2VPN) | (Self::V6 { .. }, Afi::IPV4 | Afi::IPV6)
        ) || matches!(
            (self, family.afi),
            (
                Self::V6 {
                    link_local: None,
                    ..
                },
                Afi::L2VPN
            )
        )
    }
}

impl fmt::Display for MpNextHop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::V4(a) => write!(f, "{a}"),
            Self::V6 {
                global,
                link_local: None,
            } => write!(f, "{global}"),
            Self::V6 {
                global,
                link_local: Some(ll),
            } => write!(f, "{global} ({ll})"),
        }
    }
}

/// ```text
/// +---------------------------------------------------------+
/// | Address Family Identifier (2 octets)                    |
/// +---------------------------------------------------------+
/// | Subsequent Address Family Identifier (1 octet)          |
/// +---------------------------------------------------------+
/// | Length of Next Hop Network Address (1 octet)            |
/// +---------------------------------------------------------+
/// | Network Address of Next Hop (variable)                  |
/// +---------------------------------------------------------+
/// | Reserved (1 octet)                                      |
/// +---------------------------------------------------------+
/// | Network Layer Reachability Information (variable)       |
/// +---------------------------------------------------------+
/// ```
/// RFC 4760 §3. The next hop lives in `PathAttributes::mp_next_hop` so
/// that an attribute set describes a route of any family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MpReach {
    pub family: AfiSafi,
    pub nlri: Vec<Nlri>,
}

/// ```text
/// +---------------------------------------------------------+
/// | Address Family Identifier (2 octets)                    |
/// +---------------------------------------------------------+
/// | Subsequent Address Family Identifier (1 octet)          |
/// +---------------------------------------------------------+
/// | Withdrawn Routes (variable)                             |
/// +---------------------------------------------------------+
/// ```
/// RFC 4760 §4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MpUnreach {
    pub family: AfiSafi,
    pub withdrawn: Vec<Nlri>,
}

/// An MP attribute we cannot parse: its NLRI cannot be located, so
/// RFC 7606 §7.11 calls for a session reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum MpError {
    #[error("truncated")]
    Truncated,
    #[error("next hop length {len} unexpected for {family}")]
    NextHopLength { family: AfiSafi, len: u8 },
    #[error("NLRI: {0}")]
    Nlri(NlriError),
    #[error("EVPN NLRI: {0}")]
    Evpn(EvpnError),
}

/// A decoded MP attribute, or the family we do not decode here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mp<T> {
    Known(T),
    /// L2VPN EVPN routes, with the next hop of an MP_REACH_NLRI.
    Evpn(Vec<EvpnRoute>, Option<MpNextHop>),
    Unsupported(AfiSafi),
}

/// The EVPN part of MP_REACH_NLRI after AFI/SAFI: a 4- or 16-octet next
/// hop (the VTEP), the reserved octet, the routes (RFC 7432 §7).
fn decode_evpn_reach<T>(i: &[u8]) -> Result<Mp<T>, MpError> {
    let family = AfiSafi::L2VPN_EVPN;
    let (i, nh_len) = wire::u8(i).map_err(|_| MpError::Truncated)?;
    let (i, nh) = wire::take(i, usize::from(nh_len)).map_err(|_| MpError::Truncated)?;
    let bad_len = MpError::NextHopLength {
        family,
        len: nh_len,
    };
    let next_hop = match nh_len {
        4 => MpNextHop::V4(wire::ipv4(nh).map_err(|_| bad_len)?.1),
        16 | 32 => MpNextHop::V6 {
            global: wire::ipv6(nh).map_err(|_| bad_len)?.1,
            link_local: None,
        },
        _ => return Err(bad_len),
    };
    let (i, _reserved) = wire::u8(i).map_err(|_| MpError::Truncated)?;
    let routes = decode_routes(i).map_err(MpError::Evpn)?;
    Ok(Mp::Evpn(routes, Some(next_hop)))
}

fn family(value: &[u8]) -> Result<(&[u8], AfiSafi), MpError> {
    let (i, afi) = wire::u16(value).map_err(|_| MpError::Truncated)?;
    let (i, safi) = wire::u8(i).map_err(|_| MpError::Truncated)?;
    Ok((i, AfiSafi::new(Afi(afi), Safi(safi))))
}

/// An MP_REACH_NLRI value split before its routes: the family, the octets
/// up to the routes (family, next hop and the reserved octet) and the
/// routes, undecoded. `None` when it is too short to hold them.
pub(crate) fn split_reach(value: &[u8]) -> Option<(AfiSafi, &[u8], &[u8])> {
    let (i, family) = family(value).ok()?;
    let (i, nh_len) = wire::u8(i).ok()?;
    let (routes, _) = wire::take(i, usize::from(nh_len) + 1).ok()?;
    let head = value.get(..value.len() - routes.len())?;
    Some((family, head, routes))
}

pub(crate) fn decode_reach(
    value: &[u8],
    caps: &SessionCaps,
) -> Result<Mp<(MpReach, MpNextHop)>, MpError> {
    let (i, family) = family(value)?;
    if family == AfiSafi::L2VPN_EVPN {
        return decode_evpn_reach(i);
    }
    if !family.is_prefix_family() {
        return Ok(Mp::Unsupported(family));
    }
    let (i, nh_len) = wire::u8(i).map_err(|_| MpError::Truncated)?;
    let (i, nh) = wire::take(i, usize::from(nh_len)).map_err(|_| MpError::Truncated)?;
    let bad_len = MpError::NextHopLength {
        family,
        len: nh_len,
    };
    // RFC 8950 §3/§4: an IPv6 next hop for IPv4 NLRI only where the
    // Extended Next Hop capability was negotiated; otherwise the length
    // is not the one expected (RFC 7606 §7.11: session reset).
    let v6_ok = family.afi == Afi::IPV6 || caps.extended_next_hop(family);
    let next_hop = match (family.afi, nh_len) {
        (Afi::IPV4, 4) => MpNextHop::V4(wire::ipv4(nh).map_err(|_| bad_len)?.1),
        (_, 16 | 32) if !v6_ok => return Err(bad_len),
        (Afi::IPV4 | Afi::IPV6, 16) => MpNextHop::V6 {
            global: wire::ipv6(nh).map_err(|_| bad_len)?.1,
            link_local: None,
        },
        (Afi::IPV4 | Afi::IPV6, 32) => {
            let (rest, global) = wire::ipv6(nh).map_err(|_| bad_len)?;
            let (_, ll) = wire::ipv6(rest).map_err(|_| bad_len)?;
            MpNextHop::V6 {
                global,
                link_local: Some(ll),
            }
        }
        _ => return Err(bad_len),
    };
    // RFC 4760 §3: one reserved octet (formerly the SNPA count), ignored.
    let (i, _reserved) = wire::u8(i).map_err(|_| MpError::Truncated)?;
    let nlri = decode_prefixes(i, family.afi, caps.add_path_rx(family)).map_err(MpError::Nlri)?;
    Ok(Mp::Known((MpReach { family, nlri }, next_hop)))
}

pub(crate) fn decode_unreach(value: &[u8], caps: &SessionCaps) -> Result<Mp<MpUnreach>, MpError> {
    let (i, family) = family(value)?;
    if family == AfiSafi::L2VPN_EVPN && !i.is_empty() {
        let routes = decode_routes(i).map_err(MpError::Evpn)?;
        return Ok(Mp::Evpn(routes, None));
    }
    if !family.is_prefix_family() {
        // An empty one is the End-of-RIB marker of that family (RFC 4724
        // §2); keep it so the session sees it.
        if i.is_empty() {
            return Ok(Mp::Known(MpUnreach {
                family,
                withdrawn: Vec::new(),
            }));
        }
        return Ok(Mp::Unsupported(family));
    }
    let withdrawn =
        decode_prefixes(i, family.afi, caps.add_path_rx(family)).map_err(MpError::Nlri)?;
    Ok(Mp::Known(MpUnreach { family, withdrawn }))
}

fn check_family(family: AfiSafi, nlri: &[Nlri]) -> Result<(), EncodeError> {
    for n in nlri {
        if AfiSafi::of(&n.prefix).afi != family.afi {
            return Err(EncodeError::PrefixFamily(n.prefix, family));
        }
    }
    Ok(())
}

/// Append the MP_REACH_NLRI value.
pub(crate) fn encode_reach(
    reach: &MpReach,
    next_hop: &MpNextHop,
    caps: &SessionCaps,
    buf: &mut BytesMut,
) -> Result<(), EncodeError> {
    encode_reach_head(reach.family, next_hop, buf)?;
    check_family(reach.family, &reach.nlri)?;
    let add_path = caps.add_path_tx(reach.family);
    for n in &reach.nlri {
        n.encode(add_path, buf);
    }
    Ok(())
}

/// AFI, SAFI, next hop and reserved octet of MP_REACH_NLRI.
pub(crate) fn encode_reach_head(
    family: AfiSafi,
    next_hop: &MpNextHop,
    buf: &mut BytesMut,
) -> Result<(), EncodeError> {
    if !next_hop.fits(family) {
        return Err(EncodeError::NextHopFamily(*next_hop, family));
    }
    buf.put_u16(family.afi.0);
    buf.put_u8(family.safi.0);
    buf.put_u8(next_hop.wire_len() as u8);
    next_hop.encode(buf);
    buf.put_u8(0);
    Ok(())
}

/// Append the MP_UNREACH_NLRI value.
pub(crate) fn encode_unreach(
    unreach: &MpUnreach,
    caps: &SessionCaps,
    buf: &mut BytesMut,
) -> Result<(), EncodeError> {
    buf.put_u16(unreach.family.afi.0);
    buf.put_u8(unreach.family.safi.0);
    check_family(unreach.family, &unreach.withdrawn)?;
    let add_path = caps.add_path_tx(unreach.family);
    for n in &unreach.withdrawn {
        n.encode(add_path, buf);
    }
    Ok(())
}

/// Append the MP_REACH_NLRI value of EVPN routes.
pub(crate) fn encode_evpn_reach(
    routes: &[EvpnRoute],
    next_hop: &MpNextHop,
    buf: &mut BytesMut,
) -> Result<(), EncodeError> {
    encode_reach_head(AfiSafi::L2VPN_EVPN, next_hop, buf)?;
    routes.iter().for_each(|r| r.encode(buf));
    Ok(())
}

/// Append the MP_UNREACH_NLRI value of EVPN routes.
pub(crate) fn encode_evpn_unreach(routes: &[EvpnRoute], buf: &mut BytesMut) {
    buf.put_u16(AfiSafi::L2VPN_EVPN.afi.0);
    buf.put_u8(AfiSafi::L2VPN_EVPN.safi.0);
    routes.iter().for_each(|r| r.encode(buf));
}

//! UPDATE packing: one attribute set and many prefixes into as few UPDATE
//! messages as fit the negotiated maximum length (RFC 4271 §4.3, RFC 8654
//! for 65535-byte messages, RFC 4760 for IPv6 in MP_REACH_NLRI).
//!
//! Owns the arithmetic of what fits. The attributes are encoded once per
//! batch. Never decides which prefixes share attributes: Adj-RIB-Out does.

use bytes::{BufMut, Bytes, BytesMut};

use super::attribute::mp::{encode_reach_head, MpNextHop};
use super::attribute::{code, flag};
use super::header::{self, MessageType};
use super::nlri::{Afi, AfiSafi, Nlri};
use super::{EncodeError, PathAttributes, SessionCaps};

/// Header (19) + withdrawn length (2) + attribute length (2).
const UPDATE_OVERHEAD: usize = 23;
/// Flags, type and a 2-octet length: the MP attributes always use the
/// extended length so their size can grow while packing.
const MP_ATTR_HEADER: usize = 4;

/// Encode announcements of `prefixes` with `attrs`: IPv4 unicast in the
/// classic NLRI field (next hop `attrs.next_hop`), IPv6 unicast in
/// MP_REACH_NLRI (next hop `attrs.mp_next_hop`). IPv4 unicast goes in
/// MP_REACH_NLRI too when its next hop is IPv6 (`attrs.next_hop` unset,
/// an IPv6 `attrs.mp_next_hop`) and the session negotiated Extended Next
/// Hop (RFC 8950 §3). Returns complete messages, each within
/// `caps.max_message_len()`.
pub fn pack_announcements(
    attrs: &PathAttributes,
    prefixes: &[Nlri],
    caps: &SessionCaps,
) -> Result<Vec<Bytes>, EncodeError> {
    let max = caps.max_message_len();
    let mut common = BytesMut::new();
    attrs.encode(caps, &mut common);
    let (v4, v6): (Vec<&Nlri>, Vec<&Nlri>) = prefixes
        .iter()
        .partition(|n| AfiSafi::of(&n.prefix).afi == Afi::IPV4);
    let mut out = Vec::new();

    let family = AfiSafi::IPV4_UNICAST;
    let v4_over_v6 = attrs.next_hop.is_none()
        && matches!(attrs.mp_next_hop, Some(MpNextHop::V6 { .. }))
        && caps.extended_next_hop(family);
    if v4_over_v6 {
        pack_mp_reach(family, attrs, &v4, caps, &mut out)?;
    } else if !v4.is_empty() {
        if attrs.next_hop.is_none() {
            return Err(EncodeError::MissingNextHop);
        }
        let add_path = caps.add_path_tx(family);
        let budget =
            max.checked_sub(UPDATE_OVERHEAD + common.len())
                .ok_or(EncodeError::TooLong {
                    len: UPDATE_OVERHEAD + common.len(),
                    max,
                })?;
        for chunk in chunks(&v4, budget, add_path)? {
            let mut buf = BytesMut::with_capacity(max);
            let start = header::begin(&mut buf, MessageType::Update);
            buf.put_u16(0);
            buf.put_u16(common.len() as u16);
            buf.put_slice(&common);
            chunk.iter().for_each(|n| n.encode(add_path, &mut buf));
            header::finish(&mut buf, start, max)?;
            out.push(buf.freeze());
        }
    }
    pack_mp_reach(AfiSafi::IPV6_UNICAST, attrs, &v6, caps, &mut out)?;
    Ok(out)
}

/// Announcements of `family` in MP_REACH_NLRI with `attrs.mp_next_hop`.
fn pack_mp_reach(
    family: AfiSafi,
    attrs: &PathAttributes,
    prefixes: &[&Nlri],
    caps: &SessionCaps,
    out: &mut Vec<Bytes>,
) -> Result<(), EncodeError> {
    if prefixes.is_empty() {
        return Ok(());
    }
    let max = caps.max_message_len();
    let add_path = caps.add_path_tx(family);
    let nh = attrs
        .mp_next_hop
        .as_ref()
        .ok_or(EncodeError::MissingNextHop)?;
    let mut head = BytesMut::new();
    encode_reach_head(family, nh, &mut head)?;
    // RFC 4760 §3: no NEXT_HOP attribute when only MP_REACH_NLRI is sent.
    let mut common = BytesMut::new();
    if attrs.next_hop.is_some() {
        PathAttributes {
            next_hop: None,
            ..attrs.clone()
        }
        .encode(caps, &mut common);
    } else {
        attrs.encode(caps, &mut common);
    }
    let fixed = UPDATE_OVERHEAD + MP_ATTR_HEADER + head.len() + common.len();
    let budget = max
        .checked_sub(fixed)
        .ok_or(EncodeError::TooLong { len: fixed, max })?;
    for chunk in chunks(prefixes, budget, add_path)? {
        let nlri_len: usize = chunk.iter().map(|n| n.wire_len(add_path)).sum();
        let mp_len = head.len() + nlri_len;
        let mut buf = BytesMut::with_capacity(max);
        let start = header::begin(&mut buf, MessageType::Update);
        buf.put_u16(0);
        buf.put_u16((MP_ATTR_HEADER + mp_len + common.len()) as u16);
        buf.put_u8(flag::OPTIONAL | flag::EXTENDED_LENGTH);
        buf.put_u8(code::MP_REACH_NLRI);
        buf.put_u16(mp_len as u16);
        buf.put_slice(&head);
        chunk.iter().for_each(|n| n.encode(add_path, &mut buf));
        buf.put_slice(&common);
        header::finish(&mut buf, start, max)?;
        out.push(buf.freeze());
    }
    Ok(())
}

/// Encode withdrawals: IPv4 unicast in Withdrawn Routes (in
/// MP_UNREACH_NLRI where Extended Next Hop was negotiated, as it was
/// announced in MP_REACH_NLRI), IPv6 unicast in MP_UNREACH_NLRI.
pub fn pack_withdrawals(prefixes: &[Nlri], caps: &SessionCaps) -> Result<Vec<Bytes>, EncodeError> {
    let max = caps.max_message_len();
    let (v4, v6): (Vec<&Nlri>, Vec<&Nlri>) = prefixes
        .iter()
        .partition(|n| AfiSafi::of(&n.prefix).afi == Afi::IPV4);
    let mut out = Vec::new();

    let family = AfiSafi::IPV4_UNICAST;
    if caps.extended_next_hop(family) {
        pack_mp_unreach(family, &v4, caps, &mut out)?;
    } else {
        let add_path = caps.add_path_tx(family);
        for chunk in chunks(&v4, max - UPDATE_OVERHEAD, add_path)? {
            let len: usize = chunk.iter().map(|n| n.wire_len(add_path)).sum();
            let mut buf = BytesMut::with_capacity(max);
            let start = header::begin(&mut buf, MessageType::Update);
            buf.put_u16(len as u16);
            chunk.iter().for_each(|n| n.encode(add_path, &mut buf));
            buf.put_u16(0);
            header::finish(&mut buf, start, max)?;
            out.push(buf.freeze());
        }
    }
    pack_mp_unreach(AfiSafi::IPV6_UNICAST, &v6, caps, &mut out)?;
    Ok(out)
}

/// Withdrawals of `family` in MP_UNREACH_NLRI.
fn pack_mp_unreach(
    family: AfiSafi,
    prefixes: &[&Nlri],
    caps: &SessionCaps,
    out: &mut Vec<Bytes>,
) -> Result<(), EncodeError> {
    let max = caps.max_message_len();
    let add_path = caps.add_path_tx(family);
    let budget = max - UPDATE_OVERHEAD - MP_ATTR_HEADER - 3;
    for chunk in chunks(prefixes, budget, add_path)? {
        let len: usize = chunk.iter().map(|n| n.wire_len(add_path)).sum();
        let mut buf = BytesMut::with_capacity(max);
        let start = header::begin(&mut buf, MessageType::Update);
        buf.put_u16(0);
        buf.put_u16((MP_ATTR_HEADER + 3 + len) as u16);
        buf.put_u8(flag::OPTIONAL | flag::EXTENDED_LENGTH);
        buf.put_u8(code::MP_UNREACH_NLRI);
        buf.put_u16((3 + len) as u16);
        buf.put_u16(family.afi.0);
        buf.put_u8(family.safi.0);
        chunk.iter().for_each(|n| n.encode(add_path, &mut buf));
        header::finish(&mut buf, start, max)?;
        out.push(buf.freeze());
    }
    Ok(())
}

/// Greedy split of `prefixes` into runs whose encoding fits `budget`.
fn chunks<'a>(
    prefixes: &[&'a Nlri],
    budget: usize,
    add_path: bool,
) -> Result<Vec<Vec<&'a Nlri>>, EncodeError> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    let mut used = 0;
    for &n in prefixes {
        let len = n.wire_len(add_path);
        if len > budget {
            return Err(EncodeError::TooLong { len, max: budget });
        }
        if used + len > budget {
            out.push(std::mem::take(&mut current));
            used = 0;
        }
        current.push(n);
        used += len;
    }
    if !current.is_empty() {
        out.push(current);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{
        decode_message, AsPath, Community, Message, MpNextHop, Origin, UpdateAction,
    };
    use ipnetwork::IpNetwork;
    use std::collections::BTreeSet;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn attrs() -> PathAttributes {
        PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence([65001, 65002, 4_200_000_000])),
            next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
            mp_next_hop: Some(MpNextHop::V6 {
                global: "2001:db8::1".parse().unwrap(),
                link_local: Some("fe80::1".parse().unwrap()),
            }),
            med: Some(10),
            communities: vec![Community::new(65001, 1), Community::new(65001, 2)],
            ..PathAttributes::default()
        }
    }

    fn v4_prefixes(n: u32) -> Vec<Nlri> {
        (0..n)
            .map(|i| {
                let addr = Ipv4Addr::from((10u32 << 24) | (i << 8));
                Nlri::new(IpNetwork::new(addr.into(), 24).unwrap())
            })
            .collect()
    }

    fn v6_prefixes(n: u32) -> Vec<Nlri> {
        (0..n)
            .map(|i| {
                let addr = Ipv6Addr::from((0x2001_0db8u128 << 96) | (u128::from(i) << 64));
                Nlri::new(IpNetwork::new(addr.into(), 64).unwrap())
            })
            .collect()
    }

    /// Decode every message and collect announced routes; check sizes.
    fn decode_all(msgs: &[Bytes], caps: &SessionCaps, want: &PathAttributes) -> BTreeSet<Nlri> {
        let mut got = BTreeSet::new();
        for m in msgs {
            assert!(m.len() <= caps.max_message_len());
            let d = decode_message(m, caps).unwrap();
            assert_eq!(d.report.action, UpdateAction::Normal);
            let Message::Update(u) = d.message else {
                panic!("not an update")
            };
            let mut a = u.attributes.clone();
            if u.mp_reach.is_some() {
                assert_eq!(a.next_hop, None);
            }
            if !caps.four_octet_as {
                // A 2-octet session: AS_TRANS + AS4_PATH, folded back.
                a.reconcile_as4();
            }
            if u.mp_reach.is_none() {
                a.mp_next_hop = want.mp_next_hop;
            } else {
                a.next_hop = want.next_hop;
            }
            assert_eq!(&a, want);
            got.extend(u.nlri.iter().copied());
            got.extend(u.mp_reach.iter().flat_map(|m| m.nlri.iter().copied()));
            got.extend(u.withdrawn.iter().copied());
            got.extend(
                u.mp_unreach
                    .iter()
                    .flat_map(|m| m.withdrawn.iter().copied()),
            );
        }
        got
    }

    fn expected_count(prefix_len: usize, n: usize, budget: usize) -> usize {
        let per = budget / prefix_len;
        n.div_ceil(per)
    }

    #[test]
    fn ten_thousand_ipv4() {
        for caps in [
            SessionCaps::four_octet(),
            SessionCaps {
                extended_message: true,
                ..SessionCaps::four_octet()
            },
            SessionCaps::default(),
        ] {
            let a = attrs();
            let prefixes = v4_prefixes(10_000);
            let msgs = pack_announcements(&a, &prefixes, &caps).unwrap();
            let mut common = BytesMut::new();
            a.encode(&caps, &mut common);
            let budget = caps.max_message_len() - UPDATE_OVERHEAD - common.len();
            assert_eq!(msgs.len(), expected_count(4, 10_000, budget));
            let got = decode_all(&msgs, &caps, &a);
            assert_eq!(got, prefixes.iter().copied().collect());
        }
    }

    #[test]
    fn ten_thousand_ipv6() {
        let caps = SessionCaps::four_octet();
        let a = attrs();
        let prefixes = v6_prefixes(10_000);
        let msgs = pack_announcements(&a, &prefixes, &caps).unwrap();
        let mut common = BytesMut::new();
        a.encode(&caps, &mut common);
        // MP_REACH header: 4 + AFI/SAFI 3 + nh len 1 + 32 + reserved 1.
        let budget = 4096 - UPDATE_OVERHEAD - common.len() - 4 - 37;
        assert_eq!(msgs.len(), expected_count(9, 10_000, budget));
        let got = decode_all(&msgs, &caps, &a);
        assert_eq!(got, prefixes.iter().copied().collect());
    }

    #[test]
    fn withdrawals_both_families() {
        let caps = SessionCaps {
            add_path_tx: vec![AfiSafi::IPV4_UNICAST],
            ..SessionCaps::four_octet()
        };
        let rx = SessionCaps {
            add_path_rx: vec![AfiSafi::IPV4_UNICAST],
            ..SessionCaps::four_octet()
        };
        let mut prefixes: Vec<Nlri> = v4_prefixes(5000)
            .into_iter()
            .enumerate()
            .map(|(i, n)| Nlri::with_path_id(n.prefix, i as u32))
            .collect();
        prefixes.extend(v6_prefixes(5000));
        let msgs = pack_withdrawals(&prefixes, &caps).unwrap();
        assert_eq!(
            msgs.len(),
            expected_count(8, 5000, 4096 - 23) + expected_count(9, 5000, 4096 - 23 - 7)
        );
        let got = decode_all(&msgs, &rx, &PathAttributes::default());
        assert_eq!(got, prefixes.iter().copied().collect());
    }

    #[test]
    fn ipv4_over_ipv6_next_hop() {
        // RFC 8950: with the capability, IPv4 with an IPv6 next hop goes
        // in MP_REACH_NLRI and is withdrawn in MP_UNREACH_NLRI.
        let caps = SessionCaps {
            extended_next_hop: vec![AfiSafi::IPV4_UNICAST],
            ..SessionCaps::four_octet()
        };
        let a = PathAttributes {
            next_hop: None,
            ..attrs()
        };
        let prefixes = v4_prefixes(2000);
        let msgs = pack_announcements(&a, &prefixes, &caps).unwrap();
        assert!(msgs.len() > 1);
        for m in &msgs {
            let Message::Update(u) = decode_message(m, &caps).unwrap().message else {
                panic!("not an update")
            };
            assert!(u.nlri.is_empty());
            assert_eq!(u.mp_reach.unwrap().family, AfiSafi::IPV4_UNICAST);
        }
        let got = decode_all(&msgs, &caps, &a);
        assert_eq!(got, prefixes.iter().copied().collect());
        let msgs = pack_withdrawals(&prefixes, &caps).unwrap();
        for m in &msgs {
            let Message::Update(u) = decode_message(m, &caps).unwrap().message else {
                panic!("not an update")
            };
            assert!(u.withdrawn.is_empty());
            assert_eq!(u.mp_unreach.unwrap().family, AfiSafi::IPV4_UNICAST);
        }
        let got = decode_all(&msgs, &caps, &PathAttributes::default());
        assert_eq!(got, prefixes.iter().copied().collect());
        // Without the capability an IPv4 route needs its IPv4 NEXT_HOP.
        assert_eq!(
            pack_announcements(&a, &prefixes, &SessionCaps::four_octet()),
            Err(EncodeError::MissingNextHop)
        );
    }

    #[test]
    fn nothing_to_pack() {
        let caps = SessionCaps::default();
        assert!(pack_announcements(&attrs(), &[], &caps).unwrap().is_empty());
        assert!(pack_withdrawals(&[], &caps).unwrap().is_empty());
    }

    #[test]
    fn ipv4_needs_next_hop() {
        let a = PathAttributes {
            next_hop: None,
            ..attrs()
        };
        assert_eq!(
            pack_announcements(&a, &v4_prefixes(1), &SessionCaps::default()),
            Err(EncodeError::MissingNextHop)
        );
    }

    #[test]
    fn ipv6_needs_next_hop() {
        let a = PathAttributes {
            mp_next_hop: None,
            ..attrs()
        };
        assert_eq!(
            pack_announcements(&a, &v6_prefixes(1), &SessionCaps::default()),
            Err(EncodeError::MissingNextHop)
        );
    }
}

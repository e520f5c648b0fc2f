//! AS_PATH and AS4_PATH (RFC 4271 §4.3, §5.1.2; RFC 5065 confederation
//! segments; RFC 6793 4-octet AS numbers) and the reconstruction of the
//! real path from AS_PATH + AS4_PATH (RFC 6793 §4.2.3).
//!
//! Owns the segment encoding, 2-octet vs 4-octet, AS_TRANS substitution.
//! Never applies policy (loop detection, prepending rules) beyond helpers.

use bytes::{BufMut, BytesMut};

use crate::packet::{wire, AS_TRANS};

/// Path segment types (RFC 4271 §4.3, RFC 5065 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SegmentType {
    Set = 1,
    Sequence = 2,
    ConfedSequence = 3,
    ConfedSet = 4,
}

impl SegmentType {
    fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            1 => Self::Set,
            2 => Self::Sequence,
            3 => Self::ConfedSequence,
            4 => Self::ConfedSet,
            _ => return None,
        })
    }

    pub fn is_confed(self) -> bool {
        matches!(self, Self::ConfedSequence | Self::ConfedSet)
    }
}

/// ```text
/// +------------------------------+
/// | path segment type (1 octet)  |
/// +------------------------------+
/// | path segment length (1 octet)|  number of ASes, not octets
/// +------------------------------+
/// | path segment value           |  2 or 4 octets per AS
/// +------------------------------+
/// ```
/// RFC 4271 §4.3. In memory a segment may hold more than 255 ASes; the
/// encoder splits it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AsSegment {
    pub kind: SegmentType,
    pub asns: Vec<u32>,
}

/// An AS_PATH or AS4_PATH that cannot be parsed (RFC 7606 §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed AS path")]
pub struct MalformedAsPath;

/// AS_PATH or AS4_PATH value: a list of segments, ASNs always 4 octets in
/// memory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AsPath {
    pub segments: Vec<AsSegment>,
}

impl AsPath {
    pub fn from_sequence(asns: impl IntoIterator<Item = u32>) -> Self {
        let asns: Vec<u32> = asns.into_iter().collect();
        if asns.is_empty() {
            return Self::default();
        }
        Self {
            segments: vec![AsSegment {
                kind: SegmentType::Sequence,
                asns,
            }],
        }
    }

    /// Decode a value with 2- or 4-octet ASNs. `Err` means malformed per
    /// RFC 7606 §7.2: unknown segment type, zero-length segment, overrun,
    /// or a single octet left over.
    pub fn decode(mut value: &[u8], four_octet: bool) -> Result<Self, MalformedAsPath> {
        let mut segments = Vec::new();
        while !value.is_empty() {
            let (i, kind) = wire::u8(value).map_err(|_| MalformedAsPath)?;
            let (mut i, count) = wire::u8(i).map_err(|_| MalformedAsPath)?;
            let kind = SegmentType::from_u8(kind).ok_or(MalformedAsPath)?;
            if count == 0 {
                return Err(MalformedAsPath);
            }
            let mut asns = Vec::with_capacity(usize::from(count));
            for _ in 0..count {
                let (rest, asn) = if four_octet {
                    wire::u32(i).map_err(|_| MalformedAsPath)?
                } else {
                    let (rest, asn) = wire::u16(i).map_err(|_| MalformedAsPath)?;
                    (rest, u32::from(asn))
                };
                asns.push(asn);
                i = rest;
            }
            segments.push(AsSegment { kind, asns });
            value = i;
        }
        Ok(Self { segments })
    }

    /// Append the value; with 2-octet ASNs, ASNs above 65535 become
    /// AS_TRANS. Segments longer than 255 are split, empty ones skipped.
    pub fn encode(&self, four_octet: bool, buf: &mut BytesMut) {
        for seg in &self.segments {
            for chunk in seg.asns.chunks(255) {
                buf.put_u8(seg.kind as u8);
                buf.put_u8(chunk.len() as u8);
                for &asn in chunk {
                    if four_octet {
                        buf.put_u32(asn);
                    } else {
                        buf.put_u16(u16::try_from(asn).unwrap_or(AS_TRANS as u16));
                    }
                }
            }
        }
    }

    /// Path length for best-path selection (RFC 4271 §9.1.2.2: a set
    /// counts as one; RFC 5065 §5.3: confederation segments count zero).
    /// RFC 6793 §4.2.3 counts the same way.
    pub fn length(&self) -> usize {
        self.segments
            .iter()
            .map(|s| match s.kind {
                SegmentType::Sequence => s.asns.len(),
                SegmentType::Set => 1,
                SegmentType::ConfedSequence | SegmentType::ConfedSet => 0,
            })
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.segments.iter().all(|s| s.asns.is_empty())
    }

    /// Any ASN that does not fit in 2 octets.
    pub fn needs_four_octet(&self) -> bool {
        self.asns().any(|a| a > u32::from(u16::MAX))
    }

    pub fn has_confed(&self) -> bool {
        self.segments.iter().any(|s| s.kind.is_confed())
    }

    pub fn asns(&self) -> impl Iterator<Item = u32> + '_ {
        self.segments.iter().flat_map(|s| s.asns.iter().copied())
    }

    /// The path without confederation segments (what AS4_PATH carries,
    /// RFC 6793 §4.2.2).
    pub fn without_confed(&self) -> AsPath {
        AsPath {
            segments: self
                .segments
                .iter()
                .filter(|s| !s.kind.is_confed())
                .cloned()
                .collect(),
        }
    }

    /// Prepend `asn` to the leading AS_SEQUENCE (or a new one).
    pub fn prepend(&mut self, asn: u32) {
        match self.segments.first_mut() {
            Some(seg) if seg.kind == SegmentType::Sequence => seg.asns.insert(0, asn),
            _ => self.segments.insert(
                0,
                AsSegment {
                    kind: SegmentType::Sequence,
                    asns: vec![asn],
                },
            ),
        }
    }

    /// The neighbour AS: first ASN of a leading AS_SEQUENCE.
    pub fn first_asn(&self) -> Option<u32> {
        let seg = self.segments.first()?;
        (seg.kind == SegmentType::Sequence)
            .then(|| seg.asns.first().copied())
            .flatten()
    }

    /// Append a segment, merging two adjacent sequences of the same kind.
    fn push_merge(&mut self, seg: AsSegment) {
        if seg.asns.is_empty() {
            return;
        }
        match self.segments.last_mut() {
            Some(last)
                if last.kind == seg.kind
                    && matches!(
                        seg.kind,
                        SegmentType::Sequence | SegmentType::ConfedSequence
                    ) =>
            {
                last.asns.extend(seg.asns)
            }
            _ => self.segments.push(seg),
        }
    }
}

/// FRR's text form, which AS-path regular expressions match against:
/// sequences space-separated, `{a,b}` for a set, `(a b)` and `[a,b]` for
/// confederation segments.
impl std::fmt::Display for AsPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, seg) in self.segments.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            let (open, sep, close) = match seg.kind {
                SegmentType::Sequence => ("", " ", ""),
                SegmentType::Set => ("{", ",", "}"),
                SegmentType::ConfedSequence => ("(", " ", ")"),
                SegmentType::ConfedSet => ("[", ",", "]"),
            };
            f.write_str(open)?;
            for (j, asn) in seg.asns.iter().enumerate() {
                if j > 0 {
                    f.write_str(sep)?;
                }
                write!(f, "{asn}")?;
            }
            f.write_str(close)?;
        }
        Ok(())
    }
}

/// RFC 6793 §4.2.3: the real path of a route received from a 2-octet
/// (OLD) speaker. If AS_PATH is shorter than AS4_PATH, AS4_PATH is
/// ignored; otherwise the leading (len(AS_PATH) - len(AS4_PATH)) ASes of
/// AS_PATH (plus any confederation segments among them) are put in front
/// of AS4_PATH.
pub fn reconstruct_as4_path(as_path: &AsPath, as4_path: &AsPath) -> AsPath {
    let (len, len4) = (as_path.length(), as4_path.length());
    if len < len4 {
        return as_path.clone();
    }
    let mut keep = len - len4;
    let mut out = AsPath::default();
    for seg in &as_path.segments {
        match seg.kind {
            SegmentType::ConfedSequence | SegmentType::ConfedSet => out.push_merge(seg.clone()),
            SegmentType::Set if keep > 0 => {
                keep -= 1;
                out.push_merge(seg.clone());
            }
            SegmentType::Sequence if keep > 0 => {
                let take = keep.min(seg.asns.len());
                keep -= take;
                out.push_merge(AsSegment {
                    kind: SegmentType::Sequence,
                    asns: seg.asns.get(..take).unwrap_or_default().to_vec(),
                });
            }
            _ => {}
        }
    }
    for seg in &as4_path.segments {
        out.push_merge(seg.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(asns: &[u32]) -> AsSegment {
        AsSegment {
            kind: SegmentType::Sequence,
            asns: asns.to_vec(),
        }
    }

    #[test]
    fn two_and_four_octet_bytes() {
        let path = AsPath {
            segments: vec![
                seq(&[65001, 4_200_000_000]),
                AsSegment {
                    kind: SegmentType::Set,
                    asns: vec![64512, 64513],
                },
            ],
        };
        let mut buf = BytesMut::new();
        path.encode(true, &mut buf);
        #[rustfmt::skip]
        let four = [
            2, 2, 0x00, 0x00, 0xfd, 0xe9, 0xfa, 0x56, 0xea, 0x00, // SEQ 65001 4200000000
            1, 2, 0x00, 0x00, 0xfc, 0x00, 0x00, 0x00, 0xfc, 0x01, // SET {64512 64513}
        ];
        assert_eq!(&buf[..], &four[..]);
        assert_eq!(AsPath::decode(&four, true), Ok(path.clone()));
        let mut buf = BytesMut::new();
        path.encode(false, &mut buf);
        let two = [2, 2, 0xfd, 0xe9, 0x5b, 0xa0, 1, 2, 0xfc, 0x00, 0xfc, 0x01];
        assert_eq!(&buf[..], &two[..]);
        assert_eq!(path.length(), 3);
    }

    #[test]
    fn malformed() {
        assert!(AsPath::decode(&[5, 1, 0, 1], false).is_err()); // bad type
        assert!(AsPath::decode(&[2, 0], false).is_err()); // zero length
        assert!(AsPath::decode(&[2, 2, 0, 1], false).is_err()); // overrun
        assert!(AsPath::decode(&[2, 1, 0, 1, 2], false).is_err()); // one octet left
        assert_eq!(AsPath::decode(&[], true), Ok(AsPath::default()));
    }

    #[test]
    fn long_segments_split() {
        let path = AsPath::from_sequence(1..=600);
        let mut buf = BytesMut::new();
        path.encode(true, &mut buf);
        let back = AsPath::decode(&buf, true).unwrap();
        assert_eq!(back.segments.len(), 3);
        assert_eq!(
            back.asns().collect::<Vec<_>>(),
            (1..=600).collect::<Vec<_>>()
        );
    }

    #[test]
    fn reconstruct() {
        // An OLD speaker 100 prepended itself to a path learned from NEW.
        let as_path = AsPath::from_sequence([100, 65001, AS_TRANS, 65002]);
        let as4 = AsPath::from_sequence([65001, 4_200_000_000, 65002]);
        assert_eq!(
            reconstruct_as4_path(&as_path, &as4),
            AsPath::from_sequence([100, 65001, 4_200_000_000, 65002])
        );
        // AS4_PATH longer than AS_PATH: ignored.
        let short = AsPath::from_sequence([AS_TRANS]);
        assert_eq!(reconstruct_as4_path(&short, &as4), short);
        // Confederation segments of AS_PATH are kept in front.
        let confed = AsPath {
            segments: vec![
                AsSegment {
                    kind: SegmentType::ConfedSequence,
                    asns: vec![64600],
                },
                seq(&[AS_TRANS]),
            ],
        };
        let as4 = AsPath::from_sequence([4_200_000_001]);
        assert_eq!(
            reconstruct_as4_path(&confed, &as4),
            AsPath {
                segments: vec![
                    AsSegment {
                        kind: SegmentType::ConfedSequence,
                        asns: vec![64600]
                    },
                    seq(&[4_200_000_001]),
                ]
            }
        );
    }

    #[test]
    fn prepend_and_first() {
        let mut p = AsPath::default();
        assert_eq!(p.first_asn(), None);
        p.prepend(65001);
        p.prepend(65000);
        assert_eq!(p, AsPath::from_sequence([65000, 65001]));
        assert_eq!(p.first_asn(), Some(65000));
    }
}

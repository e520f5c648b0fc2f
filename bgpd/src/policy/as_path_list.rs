//! AS-path access lists (FRR `bgp as-path access-list NAME seq N
//! permit|deny REGEX`): regular expressions over the AS path's text form
//! (`65001 65002 {65003,65004}`, see `AsPath`'s `Display`), with FRR's
//! `_` standing for a boundary (start, end, space, brace, parenthesis or
//! comma). The first entry whose expression matches decides; no match is
//! a deny.
//!
//! Owns the translation of `_` and the compiled expressions (compiled once,
//! at configuration load). Never does I/O.

use regex::Regex;

use super::Action;
use crate::packet::AsPath;

/// What FRR substitutes for `_` (bgpd/bgp_regex.c).
const BOUNDARY: &str = "(?:^|[,{}() ]|$)";

/// A regular expression as the operator wrote it, compiled once. Equal
/// when the text is equal (a reload compares configurations).
#[derive(Debug, Clone)]
pub struct Pattern {
    text: String,
    re: Regex,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Pattern {}

impl Pattern {
    /// Compile `text`, with `_` as FRR's boundary.
    pub fn new(text: &str) -> Result<Self, regex::Error> {
        let re = Regex::new(&text.replace('_', BOUNDARY))?;
        Ok(Self {
            text: text.to_string(),
            re,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn is_match(&self, s: &str) -> bool {
        self.re.is_match(s)
    }
}

/// One `seq N permit|deny REGEX` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsPathEntry {
    pub seq: u32,
    pub action: Action,
    pub pattern: Pattern,
}

/// An ordered AS-path list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AsPathList {
    entries: Vec<AsPathEntry>,
}

impl AsPathList {
    pub fn new(mut entries: Vec<AsPathEntry>) -> Self {
        entries.sort_by_key(|e| e.seq);
        Self { entries }
    }

    pub fn entries(&self) -> &[AsPathEntry] {
        &self.entries
    }

    /// True when the path (absent: the empty path) is permitted.
    pub fn permits(&self, path: Option<&AsPath>) -> bool {
        let text = path.map(ToString::to_string).unwrap_or_default();
        self.entries
            .iter()
            .find(|e| e.pattern.is_match(&text))
            .is_some_and(|e| e.action == Action::Permit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::{AsSegment, SegmentType};

    fn list(lines: &[(u32, Action, &str)]) -> AsPathList {
        AsPathList::new(
            lines
                .iter()
                .map(|(seq, action, re)| AsPathEntry {
                    seq: *seq,
                    action: *action,
                    pattern: Pattern::new(re).unwrap(),
                })
                .collect(),
        )
    }

    #[test]
    fn underscore_is_a_boundary() {
        let l = list(&[(10, Action::Permit, "_65001_")]);
        let p = |asns: &[u32]| AsPath::from_sequence(asns.iter().copied());
        assert!(l.permits(Some(&p(&[65001]))));
        assert!(l.permits(Some(&p(&[65000, 65001, 65002]))));
        assert!(!l.permits(Some(&p(&[650011]))), "not a substring match");
        assert!(!l.permits(Some(&p(&[165001]))));
        let mut set = p(&[65000]);
        set.segments.push(AsSegment {
            kind: SegmentType::Set,
            asns: vec![65003, 65001],
        });
        assert_eq!(set.to_string(), "65000 {65003,65001}");
        assert!(l.permits(Some(&set)), "inside a set, after a comma");
        assert!(!l.permits(None), "the empty path");
    }

    #[test]
    fn first_match_decides_and_empty_path() {
        let l = list(&[
            (20, Action::Permit, ".*"),
            (10, Action::Deny, "^65002_"),
            (5, Action::Permit, "^$"),
        ]);
        let p = |asns: &[u32]| AsPath::from_sequence(asns.iter().copied());
        assert!(!l.permits(Some(&p(&[65002, 1]))), "seq 10 first");
        assert!(l.permits(Some(&p(&[65003, 65002]))));
        assert!(l.permits(None), "^$ is a locally originated route");
        assert!(!list(&[]).permits(None), "implicit deny");
        assert!(Pattern::new("(").is_err());
    }
}

//! The ADD-PATH keys of a `[[neighbor]]` (and of a `[[peer_group]]` it
//! inherits from): `add_path` (RFC 7911 §4 Send/Receive, for each of the
//! neighbor's unicast families), `family_add_path` (a per-family
//! override, "off" included) and `add_path_send`, which paths go out
//! where we send (FRR `addpath-tx-all-paths` /
//! `addpath-tx-best-selected N`).
//!
//! Owns their validation only; the capability is built by the session
//! layer and the paths are chosen by the RIB's export.

use std::collections::BTreeMap;

use common::config::{ConfigError, Locator};
use toml::Spanned;

use crate::packet::capability::AddPathMode;
use crate::packet::nlri::AfiSafi;
use crate::rib::AddPathSend;

/// Highest N of `best-N` (FRR's limit for `addpath-tx-best-selected`).
pub const MAX_BEST: u8 = 64;

/// ADD-PATH as configured on one neighbor.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AddPathConfig {
    /// What our OPEN advertises, per unicast family of the neighbor
    /// (empty: no ADD-PATH capability).
    pub families: Vec<(AfiSafi, AddPathMode)>,
    /// Which paths a session that negotiated sending gets.
    pub send: AddPathSend,
}

impl AddPathConfig {
    /// What we advertise for `family` (`None`: nothing).
    pub fn mode(&self, family: AfiSafi) -> Option<AddPathMode> {
        self.families
            .iter()
            .find(|(f, _)| *f == family)
            .map(|(_, m)| *m)
    }
}

/// The raw keys, as a neighbor (with its group's merged in) has them.
pub struct RawAddPath<'a> {
    pub add_path: &'a Option<Spanned<String>>,
    pub family_add_path: &'a Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    pub add_path_send: &'a Option<Spanned<String>>,
}

/// A Send/Receive word; `off` only where `off` is allowed.
fn mode(
    loc: &Locator<'_>,
    v: &Spanned<String>,
    key: &str,
    off: bool,
) -> Result<Option<AddPathMode>, ConfigError> {
    let mut words = vec![
        ("receive", Some(AddPathMode::Receive)),
        ("send", Some(AddPathMode::Send)),
        ("both", Some(AddPathMode::Both)),
    ];
    if off {
        words.push(("off", None));
    }
    loc.choice(v, key, &words)
}

/// ADD-PATH of one neighbor with unicast `families` (`table` names the
/// table in errors: `neighbor` or `peer_group`).
pub fn add_path(
    loc: &Locator<'_>,
    raw: &RawAddPath<'_>,
    families: &[AfiSafi],
    table: &str,
) -> Result<AddPathConfig, ConfigError> {
    let key = |k: &str| format!("{table}.{k}");
    let all = match raw.add_path {
        Some(m) => mode(loc, m, &key("add_path"), false)?,
        None => None,
    };
    let mut per: BTreeMap<AfiSafi, Option<AddPathMode>> = BTreeMap::new();
    if let Some(map) = raw.family_add_path {
        for (name, m) in map.get_ref() {
            let f = super::parse_family(name).filter(|f| f.is_prefix_family());
            let Some(f) = f.filter(|f| families.contains(f)) else {
                return loc.err(
                    map.span(),
                    &key("family_add_path"),
                    format!("`{name}` is not a unicast family of the neighbor (its families: ipv4-unicast, ipv6-unicast)"),
                );
            };
            per.insert(f, mode(loc, m, &key("family_add_path"), true)?);
        }
    }
    let chosen: Vec<(AfiSafi, AddPathMode)> = families
        .iter()
        .filter(|f| f.is_prefix_family())
        .filter_map(|&f| per.get(&f).copied().unwrap_or(all).map(|m| (f, m)))
        .collect();
    let Some(s) = raw.add_path_send else {
        return Ok(AddPathConfig {
            families: chosen,
            send: AddPathSend::All,
        });
    };
    let send_key = key("add_path_send");
    if !chosen.iter().any(|(_, m)| m.sends()) {
        return loc.err(
            s.span(),
            &send_key,
            "only means something where add_path is \"send\" or \"both\"",
        );
    }
    let word = s.get_ref().as_str();
    let send = match word.strip_prefix("best-") {
        None if word == "all" => AddPathSend::All,
        Some(n) => match n.parse::<u8>() {
            Ok(n) if (2..=MAX_BEST).contains(&n) => AddPathSend::Best(n),
            _ => {
                return loc.err(
                    s.span(),
                    &send_key,
                    format!("`{word}`: N of best-N is 2 to {MAX_BEST}"),
                )
            }
        },
        None => {
            return loc.err(
                s.span(),
                &send_key,
                format!("`{word}` is not \"all\" or \"best-N\" (N from 2 to {MAX_BEST})"),
            )
        }
    };
    Ok(AddPathConfig {
        families: chosen,
        send,
    })
}

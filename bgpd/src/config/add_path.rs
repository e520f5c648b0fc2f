//! The ADD-PATH keys of a `[[neighbor]]` (and of a `[[peer_group]]` it
//! inherits from): `add_path` (RFC 7911 §4 Send/Receive, advertised for
//! each of the neighbor's unicast families) and `add_path_send`, which
//! paths go out where we send (FRR `addpath-tx-all-paths` /
//! `addpath-tx-best-selected N`).
//!
//! Owns their validation only; the capability is built by the session
//! layer and the paths are chosen by the RIB's export.

use common::config::{ConfigError, Locator};
use toml::Spanned;

use crate::packet::capability::AddPathMode;
use crate::rib::AddPathSend;

/// Highest N of `best-N` (FRR's limit for `addpath-tx-best-selected`).
pub const MAX_BEST: u8 = 64;

/// ADD-PATH as configured on one neighbor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AddPathConfig {
    /// What our OPEN advertises for each unicast family (`None`: no
    /// ADD-PATH capability).
    pub mode: Option<AddPathMode>,
    /// Which paths a session that negotiated sending gets.
    pub send: AddPathSend,
}

/// `add_path` and `add_path_send` of one neighbor (`table` names the table
/// in errors: `neighbor` or `peer_group`).
pub fn add_path(
    loc: &Locator<'_>,
    mode: &Option<Spanned<String>>,
    send: &Option<Spanned<String>>,
    table: &str,
) -> Result<AddPathConfig, ConfigError> {
    let mode = mode
        .as_ref()
        .map(|m| {
            loc.choice(
                m,
                &format!("{table}.add_path"),
                &[
                    ("receive", AddPathMode::Receive),
                    ("send", AddPathMode::Send),
                    ("both", AddPathMode::Both),
                ],
            )
        })
        .transpose()?;
    let Some(s) = send else {
        return Ok(AddPathConfig {
            mode,
            send: AddPathSend::All,
        });
    };
    let key = format!("{table}.add_path_send");
    if !mode.is_some_and(|m| m.sends()) {
        return loc.err(
            s.span(),
            &key,
            "only means something when add_path is \"send\" or \"both\"",
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
                    &key,
                    format!("`{word}`: N of best-N is 2 to {MAX_BEST}"),
                )
            }
        },
        None => {
            return loc.err(
                s.span(),
                &key,
                format!("`{word}` is not \"all\" or \"best-N\" (N from 2 to {MAX_BEST})"),
            )
        }
    };
    Ok(AddPathConfig { mode, send })
}

//! The session-security and limit keys of a `[[neighbor]]` (and of a
//! `[[peer_group]]` it inherits from): TCP-MD5 (RFC 2385) `password` or
//! `password_file`, GTSM (RFC 5082) `ttl_security`, the maximum-prefix
//! limit (RFC 4486 §4: Cease subcode 1) `max_prefixes*`, and the
//! `interface` of a neighbor on an IPv6 link-local address (RFC 4291
//! §2.5.6: such an address means something on one link only).
//!
//! Owns their validation, including the permission check of a password
//! file: a key readable by every local user is refused at load, naming
//! the file and its mode. Never puts a key in an error message.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::ops::Range;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::config::{ConfigError, Locator};
use toml::Spanned;

use crate::packet::nlri::AfiSafi;
use crate::session::Password;

/// What to do when a neighbor sends more prefixes than allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitAction {
    /// Cease/1 (Maximum Number of Prefixes Reached), then stay down for
    /// `restart` (FRR `maximum-prefix N restart M`; 0: until cleared).
    Teardown,
    /// Log and count only (FRR `warning-only`).
    Warning,
}

/// `max_prefixes*`: a per-family limit on the prefixes a neighbor may send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixLimit {
    /// The limit per family (a family not listed has none).
    pub max: BTreeMap<AfiSafi, u32>,
    /// Percentage of the limit at which a warning is logged (and shown).
    pub warning_percent: u8,
    pub action: LimitAction,
    /// Seconds the session stays down after a teardown (0: until
    /// `clear bgp`).
    pub restart: u32,
}

impl PrefixLimit {
    /// The limit for `family`, if any.
    pub fn max_for(&self, family: AfiSafi) -> Option<u32> {
        self.max.get(&family).copied()
    }
}

/// The `max_prefixes*` keys of a neighbor or peer group table (copied out
/// of the caller's raw struct: serde's `flatten` loses the spans errors
/// need).
#[derive(Default, Clone)]
pub struct RawPrefixLimit {
    pub max_prefixes: Option<Spanned<i64>>,
    pub family_max_prefixes: Option<Spanned<BTreeMap<String, Spanned<i64>>>>,
    pub max_prefixes_warning: Option<Spanned<i64>>,
    pub max_prefixes_action: Option<Spanned<String>>,
    pub max_prefixes_restart: Option<Spanned<i64>>,
}

/// The TCP-MD5 key from `password` or `password_file` (`key` names the
/// table in errors: `neighbor` or `peer_group`).
pub fn password(
    loc: &Locator<'_>,
    inline: &Option<Spanned<String>>,
    file: &Option<Spanned<String>>,
    table: &str,
) -> Result<Option<Password>, ConfigError> {
    match (inline, file) {
        (Some(_), Some(f)) => loc.err(
            f.span(),
            &format!("{table}.password_file"),
            "give either password or password_file, not both",
        ),
        (Some(p), None) if p.get_ref() == common::secrets::HIDDEN => loc.err(
            p.span(),
            &format!("{table}.password"),
            "`<hidden>` stands for the running key of this table, and it has none: give the key",
        ),
        (Some(p), None) => Password::new(p.get_ref().as_bytes())
            .map(Some)
            .or_else(|e| loc.err(p.span(), &format!("{table}.password"), e)),
        (None, Some(f)) => {
            let key = format!("{table}.password_file");
            match read_key_file(Path::new(f.get_ref())) {
                Ok(p) => Ok(Some(p)),
                Err(e) => loc.err(f.span(), &key, e),
            }
        }
        (None, None) => Ok(None),
    }
}

/// Reads a key file: it must not be readable (or writable) by others, and
/// holds the key on its first line.
pub fn read_key_file(path: &Path) -> Result<Password, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("{shown}: {e}"))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o007 != 0 {
        return Err(format!(
            "{shown} has mode {mode:04o}: a TCP-MD5 key must not be accessible to other users (chmod o-rwx {shown})"
        ));
    }
    let text = std::fs::read(path).map_err(|e| format!("{shown}: {e}"))?;
    let line = text.split(|b| *b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    Password::new(line).map_err(|e| format!("{shown}: {e}"))
}

/// The `interface` of a neighbor at `address`. The rule: a link-local
/// neighbor (fe80::/10) needs its interface, and only a link-local
/// neighbor takes one (a global address is routed, FRR's
/// `neighbor X interface` is for link-local peers too). Such a peer is on
/// the link, so `multihop` is refused, and so is a `source`: our
/// link-local address on the interface is the source.
pub fn interface(
    loc: &Locator<'_>,
    raw: &Option<Spanned<String>>,
    address: IpAddr,
    multihop: Option<u8>,
    source: Option<IpAddr>,
    span: Range<usize>,
) -> Result<Option<String>, ConfigError> {
    let link_local = matches!(address, IpAddr::V6(a) if a.is_unicast_link_local());
    let Some(i) = raw else {
        if link_local {
            return loc.err(
                span,
                "neighbor.interface",
                format!(
                    "{address} is link-local: name the interface it is on (interface = \"eth0\")"
                ),
            );
        }
        return Ok(None);
    };
    let name = i.get_ref();
    if !link_local {
        return loc.err(
            i.span(),
            "neighbor.interface",
            format!("{address} is not an IPv6 link-local address (fe80::/10): an interface is only for those"),
        );
    }
    // IFNAMSIZ is 16 with the terminating NUL.
    if name.is_empty()
        || name.len() > 15
        || name.contains(['/', '%'])
        || name.contains(char::is_whitespace)
    {
        return loc.err(
            i.span(),
            "neighbor.interface",
            format!("`{name}` is not an interface name (1 to 15 characters, no '/', '%' or space)"),
        );
    }
    if multihop.is_some() {
        return loc.err(
            span,
            "neighbor.multihop",
            "a link-local neighbor is on the link: no multihop",
        );
    }
    if source.is_some() {
        return loc.err(
            span,
            "neighbor.source",
            "a link-local neighbor's source is our link-local address on the interface: no source",
        );
    }
    Ok(Some(name.clone()))
}

/// The prefix limit of a neighbor, `None` when no `max_prefixes*` key is
/// set. `families` are the neighbor's: `max_prefixes` applies to each.
pub fn prefix_limit(
    loc: &Locator<'_>,
    raw: &RawPrefixLimit,
    families: &[AfiSafi],
    table: &str,
) -> Result<Option<PrefixLimit>, ConfigError> {
    let key = |k: &str| format!("{table}.{k}");
    let mut max = BTreeMap::new();
    if let Some(m) = &raw.max_prefixes {
        let n = loc.int(m, &key("max_prefixes"), 1, u32::MAX as i64)? as u32;
        for f in families {
            max.insert(*f, n);
        }
    }
    if let Some(per) = &raw.family_max_prefixes {
        for (name, m) in per.get_ref() {
            let Some(f) = super::parse_family(name) else {
                return loc.err(
                    per.span(),
                    &key("family_max_prefixes"),
                    format!("`{name}` is not ipv4-unicast, ipv6-unicast or l2vpn-evpn"),
                );
            };
            let n = loc.int(m, &key("family_max_prefixes"), 1, u32::MAX as i64)? as u32;
            max.insert(f, n);
        }
    }
    let others = raw.max_prefixes_warning.is_some()
        || raw.max_prefixes_action.is_some()
        || raw.max_prefixes_restart.is_some();
    if max.is_empty() {
        if others {
            let span = [
                raw.max_prefixes_warning.as_ref().map(|s| s.span()),
                raw.max_prefixes_restart.as_ref().map(|s| s.span()),
                raw.max_prefixes_action.as_ref().map(|s| s.span()),
            ]
            .into_iter()
            .flatten()
            .next()
            .unwrap_or_default();
            return loc.err(
                span,
                &key("max_prefixes"),
                "max_prefixes_warning/_action/_restart need max_prefixes or family_max_prefixes",
            );
        }
        return Ok(None);
    }
    let warning_percent = loc.opt_int(
        &raw.max_prefixes_warning,
        &key("max_prefixes_warning"),
        1,
        100,
        75,
    )? as u8;
    let action = match &raw.max_prefixes_action {
        Some(a) => loc.choice(
            a,
            &key("max_prefixes_action"),
            &[
                ("teardown", LimitAction::Teardown),
                ("warning", LimitAction::Warning),
            ],
        )?,
        None => LimitAction::Teardown,
    };
    let restart = loc.opt_int(
        &raw.max_prefixes_restart,
        &key("max_prefixes_restart"),
        0,
        u32::MAX as i64,
        0,
    )? as u32;
    Ok(Some(PrefixLimit {
        max,
        warning_percent,
        action,
        restart,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn dir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("bgpd-peering-{}", std::process::id()));
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn key_file_permissions_are_checked() {
        let d = dir();
        let f = d.join("peer");
        fs::write(&f, "s3cret\n").unwrap();
        fs::set_permissions(&f, fs::Permissions::from_mode(0o644)).unwrap();
        let e = read_key_file(&f).unwrap_err();
        assert!(e.contains("0644") && e.contains("chmod o-rwx"), "{e}");
        assert!(!e.contains("s3cret"));
        fs::set_permissions(&f, fs::Permissions::from_mode(0o640)).unwrap();
        assert_eq!(read_key_file(&f).unwrap(), Password::new("s3cret").unwrap());
        fs::write(&f, "\n").unwrap();
        assert!(read_key_file(&f).is_err());
        assert!(read_key_file(&d.join("missing")).is_err());
        fs::remove_dir_all(&d).unwrap();
    }
}

//! The `[api]` section every daemon's config shares: who may reach its
//! gRPC service (proto::transport serves what this validates).
//!
//! Keys: `socket` (the Unix socket; default `<run-dir>/<daemon>.sock`),
//! `group` (group name or number owning the sockets, mode 0660),
//! `readonly_socket` and `readonly_group` (a second socket serving only
//! the RPCs that read, for monitoring), `tcp` (address:port; only with
//! `tls_cert`, `tls_key` and `tls_client_ca`: mutual TLS), `tcp_readonly`.
//!
//! Never: accepts a TCP listener without TLS and client certificates, or a
//! TLS key file that other users may read.

use std::path::{Path, PathBuf};

use proto::transport::{ApiConfig, TcpApi};
use serde::Deserialize;
use toml::Spanned;

use crate::config::{ConfigError, Locator};

/// `[api]` as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawApi {
    socket: Option<Spanned<String>>,
    group: Option<Spanned<String>>,
    readonly_socket: Option<Spanned<String>>,
    readonly_group: Option<Spanned<String>>,
    tcp: Option<Spanned<String>>,
    tcp_readonly: Option<bool>,
    tls_cert: Option<Spanned<String>>,
    tls_key: Option<Spanned<String>>,
    tls_client_ca: Option<Spanned<String>>,
}

impl RawApi {
    /// Whether the section sets `socket` (for daemons with an older key).
    pub fn has_socket(&self) -> bool {
        self.socket.is_some()
    }
}

/// Validates `[api]`: groups exist, TCP comes with its three TLS files,
/// which are readable, the key only by its owner and group.
pub fn parse(loc: &Locator, raw: &RawApi) -> Result<ApiConfig, ConfigError> {
    let path = |v: &Spanned<String>| PathBuf::from(v.get_ref());
    let mut api = ApiConfig {
        socket: raw.socket.as_ref().map(path),
        readonly_socket: raw.readonly_socket.as_ref().map(path),
        ..ApiConfig::default()
    };
    if let Some(g) = &raw.group {
        api.group = Some(group(loc, g, "api.group")?);
    }
    if let Some(g) = &raw.readonly_group {
        if raw.readonly_socket.is_none() {
            return loc.err(g.span(), "api.readonly_group", "needs `readonly_socket`");
        }
        api.readonly_group = Some(group(loc, g, "api.readonly_group")?);
    }
    if let (Some(a), Some(b)) = (&raw.socket, &raw.readonly_socket) {
        if a.get_ref() == b.get_ref() {
            return loc.err(b.span(), "api.readonly_socket", "is the same as `socket`");
        }
    }
    let tls = [
        ("api.tls_cert", &raw.tls_cert),
        ("api.tls_key", &raw.tls_key),
        ("api.tls_client_ca", &raw.tls_client_ca),
    ];
    let Some(t) = &raw.tcp else {
        if let Some((key, Some(v))) = tls.iter().find(|(_, v)| v.is_some()) {
            return loc.err(v.span(), key, "only with `tcp`");
        }
        return Ok(api);
    };
    let listen = t.get_ref().parse().or_else(|_| {
        loc.err(
            t.span(),
            "api.tcp",
            format!("`{}` is not address:port", t.get_ref()),
        )
    })?;
    let file = |key: &str, v: &Option<Spanned<String>>| -> Result<PathBuf, ConfigError> {
        let Some(v) = v else {
            return loc.err(
                t.span(),
                key,
                "TCP is served only with TLS and client certificates: set tls_cert, tls_key and tls_client_ca",
            );
        };
        let p = path(v);
        readable(&p, key == "api.tls_key").or_else(|e| loc.err(v.span(), key, e))?;
        Ok(p)
    };
    let cert = file("api.tls_cert", &raw.tls_cert)?;
    let key = file("api.tls_key", &raw.tls_key)?;
    let client_ca = file("api.tls_client_ca", &raw.tls_client_ca)?;
    api.tcp = Some(TcpApi {
        listen,
        cert,
        key,
        client_ca,
        readonly: raw.tcp_readonly.unwrap_or(false),
    });
    Ok(api)
}

/// A group by name or number.
fn group(loc: &Locator, g: &Spanned<String>, key: &str) -> Result<u32, ConfigError> {
    let name = g.get_ref();
    if let Ok(gid) = name.parse::<u32>() {
        return Ok(gid);
    }
    match nix::unistd::Group::from_name(name) {
        Ok(Some(gr)) => Ok(gr.gid.as_raw()),
        Ok(None) => loc.err(g.span(), key, format!("no group `{name}`")),
        Err(e) => loc.err(g.span(), key, format!("group `{name}`: {e}")),
    }
}

/// A file we can read; a `secret` one must not be readable by others
/// (mode o-r), like ssh refuses a world-readable private key.
pub fn readable(p: &Path, secret: bool) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let m = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
    std::fs::File::open(p).map_err(|e| format!("{}: {e}", p.display()))?;
    if secret && m.permissions().mode() & 0o004 != 0 {
        return Err(format!(
            "{} is readable by every user; chmod o-r it",
            p.display()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        #[serde(default)]
        api: RawApi,
    }

    fn load(text: &str) -> Result<ApiConfig, ConfigError> {
        let loc = Locator::new("d.toml", text);
        let d: Doc = loc.parse()?;
        parse(&loc, &d.api)
    }

    #[test]
    fn api_sections() {
        assert_eq!(load("").unwrap(), ApiConfig::default());
        let a = load("[api]\nsocket = \"/run/x/a.sock\"\ngroup = \"0\"\nreadonly_socket = \"/run/x/ro.sock\"\nreadonly_group = \"root\"\n").unwrap();
        assert_eq!(a.socket, Some(PathBuf::from("/run/x/a.sock")));
        assert_eq!((a.group, a.readonly_group), (Some(0), Some(0)));
        assert_eq!(a.readonly_socket, Some(PathBuf::from("/run/x/ro.sock")));

        let e = load("[api]\ngroup = \"no-such-group-here\"\n").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (2, "api.group"));
        let e = load("[api]\nreadonly_group = \"0\"\n").unwrap_err();
        assert_eq!(e.key, "api.readonly_group");
        let e = load("[api]\nsocket = \"/a\"\nreadonly_socket = \"/a\"\n").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (3, "api.readonly_socket"));
        let e = load("[api]\ntcp = \"127.0.0.1:2600\"\n").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (2, "api.tls_cert"));
        assert!(e.msg.contains("only with TLS"), "{e}");
        let e = load("[api]\ntls_cert = \"/x\"\n").unwrap_err();
        assert_eq!(e.key, "api.tls_cert");
        let e = load("[api]\nbogus = 1\n").unwrap_err();
        assert_eq!(e.line, 2);
    }

    #[test]
    fn tls_files() {
        let dir = std::env::temp_dir().join(format!("common-api-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = |n: &str, mode| {
            let p = dir.join(n);
            std::fs::write(&p, "x").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
            p.display().to_string()
        };
        let (cert, key, ca) = (f("c.pem", 0o644), f("k.pem", 0o640), f("ca.pem", 0o644));
        let text = |key: &str| {
            format!("[api]\ntcp = \"127.0.0.1:2600\"\ntcp_readonly = true\ntls_cert = \"{cert}\"\ntls_key = \"{key}\"\ntls_client_ca = \"{ca}\"\n")
        };
        let a = load(&text(&key)).unwrap();
        let t = a.tcp.unwrap();
        assert_eq!(t.listen, "127.0.0.1:2600".parse().unwrap());
        assert!(t.readonly);
        assert_eq!(t.key, PathBuf::from(&key));
        let open = f("open.pem", 0o644);
        let e = load(&text(&open)).unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (5, "api.tls_key"));
        assert!(e.msg.contains("readable by every user"), "{e}");
        let e = load(&text("/nonexistent/key.pem")).unwrap_err();
        assert_eq!(e.key, "api.tls_key");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

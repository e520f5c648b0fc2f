//! A daemon's running configuration and the `config.v1.Config` gRPC service
//! every daemon serves beside its own (proto/proto/config.proto).
//!
//! The running configuration is TOML text in the daemon's own language:
//! the file's text at start, then what `ApplyConfig` (vtysh's configure
//! mode) or a SIGHUP reload made it. The daemon validates a new text with
//! its own loader and applies it by difference, exactly as a reload of the
//! file; this module keeps the text, compares it with the file and writes
//! it back atomically (temporary file in the same directory, fsync,
//! rename), so a crash never leaves half a config file.
//!
//! The service only forwards requests to the daemon's loop as
//! [`ConfigRequest`]s (the loop owns the configuration); `Logging` is
//! answered here from [`crate::logging`].

use std::io::Write as _;
use std::path::{Path, PathBuf};

use proto::config as pb;
use proto::config::config_server::Config;
use tokio::sync::{mpsc, oneshot};
use tonic::{Request, Response, Status};

/// The text a daemon runs with and the file it belongs to.
#[derive(Debug, Clone)]
pub struct RunningConfig {
    pub daemon: &'static str,
    pub path: Option<PathBuf>,
    pub text: String,
}

impl RunningConfig {
    pub fn new(daemon: &'static str, path: Option<PathBuf>, text: String) -> Self {
        RunningConfig { daemon, path, text }
    }

    /// The name errors of an applied text carry (the file's, as a reload's).
    pub fn file_name(&self) -> String {
        self.path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| format!("{} running-config", self.daemon))
    }

    /// The file's current content, if it can be read.
    pub fn saved(&self) -> Option<String> {
        self.path
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok())
    }

    pub fn reply(&self) -> pb::ConfigReply {
        let saved = self.saved();
        // Readers never see a secret (crate::secrets); `unsaved` compares
        // the real texts.
        let unsaved = saved.as_deref() != Some(self.text.as_str());
        pb::ConfigReply {
            daemon: self.daemon.to_string(),
            text: crate::secrets::mask(&self.text),
            path: self
                .path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            unsaved,
            saved_text: saved.map(|t| crate::secrets::mask(&t)).unwrap_or_default(),
        }
    }

    /// Writes the running text to the file atomically.
    pub fn write(&self) -> pb::WriteConfigReply {
        let Some(path) = &self.path else {
            return pb::WriteConfigReply {
                ok: false,
                error: format!("{} was started without a config file", self.daemon),
                path: String::new(),
            };
        };
        match write_atomic(path, &self.text) {
            Ok(()) => {
                tracing::info!(file = %path.display(), "running configuration written");
                pb::WriteConfigReply {
                    ok: true,
                    error: String::new(),
                    path: path.display().to_string(),
                }
            }
            Err(e) => {
                tracing::error!(file = %path.display(), error = %e, "cannot write the configuration");
                pb::WriteConfigReply {
                    ok: false,
                    error: format!("{}: {e}", path.display()),
                    path: path.display().to_string(),
                }
            }
        }
    }

    /// Answers the requests that need nothing of the daemon (Get, Write).
    /// Returns an Apply for the daemon to validate and carry out.
    pub fn serve(
        &self,
        req: ConfigRequest,
    ) -> Option<(String, oneshot::Sender<pb::ApplyConfigReply>)> {
        match req {
            ConfigRequest::Get(tx) => {
                let _ = tx.send(self.reply());
                None
            }
            ConfigRequest::Write(tx) => {
                let _ = tx.send(self.write());
                None
            }
            // A client that read the masked text sends `<hidden>` back for
            // the keys it left alone: they keep their running value.
            ConfigRequest::Apply(text, tx) => Some((crate::secrets::unmask(&text, &self.text), tx)),
        }
    }

    /// Records `text` as running after the daemon applied it. A changed
    /// `[log] level` (`old` to `new`) takes effect at once; an unchanged one
    /// leaves the level alone (the environment's may be in effect).
    pub fn applied(
        &mut self,
        text: String,
        (old, new): (Option<&str>, Option<&str>),
        mut changes: Vec<String>,
    ) -> pb::ApplyConfigReply {
        if old != new {
            let level = new.unwrap_or("info");
            match crate::logging::set_level(level) {
                Ok(()) => changes.push(format!("log level {level}")),
                Err(e) => changes.push(format!("log level unchanged: {e}")),
            }
        }
        self.text = text;
        tracing::info!(changes = changes.len(), "configuration applied");
        pb::ApplyConfigReply {
            ok: true,
            error: String::new(),
            changes,
        }
    }
}

/// A refused configuration: nothing changed.
pub fn refused(error: impl std::fmt::Display) -> pb::ApplyConfigReply {
    tracing::warn!(error = %error, "configuration refused; the running one stays");
    pb::ApplyConfigReply {
        ok: false,
        error: error.to_string(),
        changes: Vec::new(),
    }
}

/// Writes `text` to `path` so that the file is either the old or the new
/// content, never a mix: a temporary file beside it, fsync, rename, then
/// fsync of the directory. The file's permissions are kept.
pub fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        if let Ok(meta) = std::fs::metadata(path) {
            f.set_permissions(meta.permissions())?;
        }
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A configuration request for the daemon's loop.
#[derive(Debug)]
pub enum ConfigRequest {
    Get(oneshot::Sender<pb::ConfigReply>),
    Apply(String, oneshot::Sender<pb::ApplyConfigReply>),
    Write(oneshot::Sender<pb::WriteConfigReply>),
}

/// The `config.v1.Config` service: forwards to the daemon's loop through
/// its command channel (`C` is the daemon's command type).
pub struct ConfigService<C> {
    tx: mpsc::Sender<C>,
}

impl<C> ConfigService<C> {
    pub fn new(tx: mpsc::Sender<C>) -> Self {
        ConfigService { tx }
    }
}

impl<C: From<ConfigRequest> + Send + 'static> ConfigService<C> {
    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> ConfigRequest,
    ) -> Result<T, Status> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(C::from(make(tx)))
            .await
            .map_err(|_| Status::unavailable("the daemon is stopping"))?;
        rx.await
            .map_err(|_| Status::unavailable("the daemon is stopping"))
    }
}

#[tonic::async_trait]
impl<C: From<ConfigRequest> + Send + 'static> Config for ConfigService<C> {
    async fn get_config(
        &self,
        _: Request<pb::GetConfigRequest>,
    ) -> Result<Response<pb::ConfigReply>, Status> {
        self.ask(ConfigRequest::Get).await.map(Response::new)
    }

    async fn apply_config(
        &self,
        req: Request<pb::ApplyConfigRequest>,
    ) -> Result<Response<pb::ApplyConfigReply>, Status> {
        let text = req.into_inner().text;
        self.ask(|tx| ConfigRequest::Apply(text, tx))
            .await
            .map(Response::new)
    }

    async fn write_config(
        &self,
        _: Request<pb::WriteConfigRequest>,
    ) -> Result<Response<pb::WriteConfigReply>, Status> {
        self.ask(ConfigRequest::Write).await.map(Response::new)
    }

    async fn logging(
        &self,
        req: Request<pb::LoggingRequest>,
    ) -> Result<Response<pb::LoggingReply>, Status> {
        Ok(Response::new(crate::logging::snapshot(
            req.into_inner().lines as usize,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("running-test-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&d);
        d
    }

    #[test]
    fn write_is_atomic_and_keeps_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let path = dir().join("bgpd.toml");
        std::fs::write(&path, "# old\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let mut rc = RunningConfig::new("bgpd", Some(path.clone()), "# old\n".into());
        assert!(!rc.reply().unsaved);
        rc.text = "# new\n[bgp]\n".into();
        let r = rc.reply();
        assert!(r.unsaved);
        assert_eq!(r.saved_text, "# old\n");
        let w = rc.write();
        assert!(w.ok, "{}", w.error);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "# new\n[bgp]\n");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        assert!(!rc.reply().unsaved);
        // No temporary file is left behind.
        let left: Vec<_> = std::fs::read_dir(dir())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(left.is_empty());
    }

    #[test]
    fn write_without_a_file_or_into_a_missing_directory_fails() {
        let rc = RunningConfig::new("ospfd", None, "x".into());
        assert!(!rc.write().ok);
        let rc = RunningConfig::new(
            "ospfd",
            Some(dir().join("no-such-dir").join("ospfd.toml")),
            "x".into(),
        );
        let w = rc.write();
        assert!(!w.ok && !w.error.is_empty());
    }
}

//! How daemons and clients reach each other: gRPC over a Unix domain socket
//! by default (created with mode 0660), TCP only when configured.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use hyper_util::rt::TokioIo;
use tokio::net::{UnixListener, UnixStream};
use tonic::transport::{Channel, Endpoint};

/// Largest gRPC message accepted (a route batch of ~100k routes fits).
pub const MAX_MESSAGE_SIZE: usize = 64 * 1024 * 1024;

/// Where a daemon listens or a client connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Unix(PathBuf),
    Tcp(String),
}

impl Address {
    /// `unix:/path`, a bare path, or `tcp://host:port` / `host:port`.
    pub fn parse(s: &str) -> Address {
        if let Some(p) = s.strip_prefix("unix:") {
            Address::Unix(PathBuf::from(p))
        } else if let Some(t) = s.strip_prefix("tcp://") {
            Address::Tcp(t.to_string())
        } else if s.starts_with('/') || s.starts_with('.') {
            Address::Unix(PathBuf::from(s))
        } else {
            Address::Tcp(s.to_string())
        }
    }
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Address::Unix(p) => write!(f, "unix:{}", p.display()),
            Address::Tcp(a) => write!(f, "tcp://{a}"),
        }
    }
}

/// The default socket of `daemon` in `run_dir`: `run_dir/<daemon>.sock`.
pub fn socket_path(run_dir: &Path, daemon: &str) -> PathBuf {
    run_dir.join(format!("{daemon}.sock"))
}

/// Bind a Unix socket for a gRPC server: a stale socket file left by a
/// previous run is replaced, and the new one gets mode 0660.
pub fn bind_unix(path: &Path) -> io::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let l = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    Ok(l)
}

/// A lazily-connecting channel to `addr`.
pub async fn connect(addr: &Address) -> Result<Channel, tonic::transport::Error> {
    match addr {
        Address::Tcp(a) => {
            Endpoint::from_shared(format!("http://{a}"))?
                .connect()
                .await
        }
        Address::Unix(p) => {
            let p = p.clone();
            // The URI is unused: the connector below dials the socket.
            Endpoint::from_static("http://localhost")
                .connect_with_connector(tower::service_fn(move |_| {
                    let p = p.clone();
                    async move { UnixStream::connect(p).await.map(TokioIo::new) }
                }))
                .await
        }
    }
}

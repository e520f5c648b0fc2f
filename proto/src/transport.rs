//! How daemons and clients reach each other, and who may: gRPC over a Unix
//! domain socket by default (created with mode 0660, owned by a configurable
//! group), an optional second socket for monitoring that only serves the
//! RPCs that read (Show*, Status, Watch*, List* and the bgp/ospf queries;
//! the others get PERMISSION_DENIED), and TCP only when configured, then
//! only with TLS and a client certificate signed by the configured CA
//! (mTLS through tonic's rustls).
//!
//! Never: listens on TCP without TLS, or lets a read-only listener reach a
//! mutating RPC.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::TokioIo;
use tokio::net::{UnixListener, UnixStream};
use tokio_stream::wrappers::{TcpListenerStream, UnixListenerStream};
use tonic::codegen::http;
use tonic::service::Routes;
use tonic::transport::{
    Certificate, Channel, ClientTlsConfig, Endpoint, Identity, Server, ServerTlsConfig,
};
use tower::{Layer, Service};
use tracing::info;

/// Largest gRPC message accepted (a route batch of ~100k routes fits).
pub const MAX_MESSAGE_SIZE: usize = 64 * 1024 * 1024;
/// HTTP/2 streams (RPCs in flight) one client connection may open.
pub const MAX_CONCURRENT_STREAMS: u32 = 256;
/// Keepalive pings on idle connections, so that a client that vanished
/// without closing (its streams and their tasks) is noticed.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
pub const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// A generated gRPC server with both message size limits set explicitly
/// to [`MAX_MESSAGE_SIZE`] (tonic's default decoding limit is 4 MiB, the
/// encoding one unbounded): `sized_server!(ZebraServer::new(svc))`.
#[macro_export]
macro_rules! sized_server {
    ($server:expr) => {
        $server
            .max_decoding_message_size($crate::transport::MAX_MESSAGE_SIZE)
            .max_encoding_message_size($crate::transport::MAX_MESSAGE_SIZE)
    };
}

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
    bind_unix_group(path, None)
}

/// [`bind_unix`], the socket then owned by group `gid` when given.
pub fn bind_unix_group(path: &Path, gid: Option<u32>) -> io::Result<UnixListener> {
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
    if let Some(g) = gid {
        std::os::unix::fs::chown(path, None, Some(g))?;
    }
    Ok(l)
}

/// A daemon's gRPC listeners, from the `[api]` section of its config
/// (parsed by `common::api`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiConfig {
    /// The Unix socket; None: `<run-dir>/<daemon>.sock`.
    pub socket: Option<PathBuf>,
    /// The group owning the sockets; None: the daemon's own group.
    pub group: Option<u32>,
    /// A Unix socket serving only the RPCs that read, and its group.
    pub readonly_socket: Option<PathBuf>,
    pub readonly_group: Option<u32>,
    /// TCP, only with mutual TLS.
    pub tcp: Option<TcpApi>,
}

/// A TCP listener: TLS with this certificate and key, clients must show a
/// certificate signed by `client_ca`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpApi {
    pub listen: SocketAddr,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_ca: PathBuf,
    /// Only the RPCs that read.
    pub readonly: bool,
}

/// The TLS side of a TCP listener: our identity, and the CA that signs the
/// clients' certificates (a client without one is refused in the
/// handshake).
pub fn server_tls(t: &TcpApi) -> Result<ServerTlsConfig, String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    Ok(ServerTlsConfig::new()
        .identity(Identity::from_pem(read(&t.cert)?, read(&t.key)?))
        .client_ca_root(Certificate::from_pem(read(&t.client_ca)?)))
}

/// A server builder with the per-connection bounds of every listener.
fn bounded(b: Server) -> Server {
    b.max_concurrent_streams(Some(MAX_CONCURRENT_STREAMS))
        .http2_keepalive_interval(Some(KEEPALIVE_INTERVAL))
        .http2_keepalive_timeout(Some(KEEPALIVE_TIMEOUT))
}

/// Whether the gRPC method at `path` (`/package.Service/Method`) only
/// reads: the verbs Show, Status, Watch and List, and the queries of the
/// bgp and ospf services (whose names are nouns).
pub fn is_read_only(path: &str) -> bool {
    let Some((service, method)) = path.trim_start_matches('/').rsplit_once('/') else {
        return false;
    };
    ["Show", "Status", "Watch", "List"]
        .iter()
        .any(|v| method.starts_with(v))
        || match service {
            "bgp.v1.Bgp" => matches!(method, "Neighbors" | "Rib" | "Evpn" | "Policy"),
            "ospf.v1.Ospf" => matches!(
                method,
                "Summary" | "Interfaces" | "Neighbors" | "Database" | "Routes"
            ),
            // The running configuration may hold keys: only its log is read.
            "config.v1.Config" => method == "Logging",
            _ => false,
        }
}

/// A layer that, when on, answers every RPC that does not only read with
/// PERMISSION_DENIED.
#[derive(Debug, Clone, Copy)]
pub struct ReadOnlyLayer(pub bool);

impl<S> Layer<S> for ReadOnlyLayer {
    type Service = ReadOnly<S>;
    fn layer(&self, inner: S) -> ReadOnly<S> {
        ReadOnly { inner, on: self.0 }
    }
}

/// See [`ReadOnlyLayer`].
#[derive(Debug, Clone)]
pub struct ReadOnly<S> {
    inner: S,
    on: bool,
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S, B> Service<http::Request<B>> for ReadOnly<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let path = req.uri().path();
        if self.on && !is_read_only(path) {
            info!(rpc = path, "refused on a read-only listener");
            let st = tonic::Status::permission_denied(format!(
                "{path} changes state; this listener is read-only"
            ));
            return Box::pin(std::future::ready(Ok(st.into_http())));
        }
        Box::pin(self.inner.call(req))
    }
}

/// The listeners of a daemon, bound (so clients can connect once this
/// returns) and not yet serving.
pub struct Listeners {
    unix: Vec<(PathBuf, UnixListener, bool)>,
    tcp: Option<(tokio::net::TcpListener, ServerTlsConfig, bool)>,
}

impl Listeners {
    /// Binds what `api` asks for; `socket` is the main socket's path.
    pub async fn bind(api: &ApiConfig, socket: &Path) -> Result<Listeners, String> {
        let bind =
            |p: &Path, g| bind_unix_group(p, g).map_err(|e| format!("socket {}: {e}", p.display()));
        let mut unix = vec![(socket.to_path_buf(), bind(socket, api.group)?, false)];
        if let Some(ro) = &api.readonly_socket {
            unix.push((ro.clone(), bind(ro, api.readonly_group)?, true));
        }
        let tcp = match &api.tcp {
            Some(t) => {
                let tls = server_tls(t)?;
                let l = tokio::net::TcpListener::bind(t.listen)
                    .await
                    .map_err(|e| format!("tcp {}: {e}", t.listen))?;
                Some((l, tls, t.readonly))
            }
            None => None,
        };
        Ok(Listeners { unix, tcp })
    }

    /// The Unix sockets' paths, to remove at exit.
    pub fn sockets(&self) -> Vec<PathBuf> {
        self.unix.iter().map(|u| u.0.clone()).collect()
    }

    /// Serves `routes` on every listener until one fails.
    pub async fn serve(self, routes: Routes) -> Result<(), String> {
        let mut tasks = tokio::task::JoinSet::new();
        for (path, l, ro) in self.unix {
            info!(socket = %path.display(), read_only = ro, "gRPC listening");
            let srv = bounded(Server::builder())
                .layer(ReadOnlyLayer(ro))
                .add_routes(routes.clone())
                .serve_with_incoming(UnixListenerStream::new(l));
            tasks.spawn(async move { srv.await.map_err(|e| e.to_string()) });
        }
        if let Some((l, tls, ro)) = self.tcp {
            let addr = l.local_addr().map_err(|e| e.to_string())?;
            info!(%addr, read_only = ro, "gRPC listening on TCP with mutual TLS");
            let srv = bounded(Server::builder())
                .tls_config(tls)
                .map_err(|e| format!("tcp {addr}: TLS: {e}"))?
                .layer(ReadOnlyLayer(ro))
                .add_routes(routes)
                .serve_with_incoming(TcpListenerStream::new(l));
            tasks.spawn(async move { srv.await.map_err(|e| format!("tcp {addr}: {e}")) });
        }
        match tasks.join_next().await {
            Some(Ok(r)) => r,
            Some(Err(e)) => Err(e.to_string()),
            None => Ok(()),
        }
    }
}

/// A client's TLS files for a TCP listener: the CA that signed the server's
/// certificate, the name the certificate holds, our certificate and key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientTls {
    pub ca: PathBuf,
    pub domain: String,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A channel to a TCP listener over mutual TLS.
pub async fn connect_tls(addr: &str, tls: &ClientTls) -> Result<Channel, String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let cfg = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(read(&tls.ca)?))
        .domain_name(tls.domain.clone())
        .identity(Identity::from_pem(read(&tls.cert)?, read(&tls.key)?));
    Endpoint::from_shared(format!("https://{addr}"))
        .map_err(|e| e.to_string())?
        .tls_config(cfg)
        .map_err(|e| e.to_string())?
        .connect()
        .await
        .map_err(|e| format!("{addr}: {e}"))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_only_methods() {
        for p in [
            "/zebra.v1.Zebra/ShowRoutes",
            "/zebra.v1.Zebra/Status",
            "/zebra.v1.Zebra/WatchInterfaces",
            "/zebra.v1.Zebra/ListInterfaces",
            "/bgp.v1.Bgp/Neighbors",
            "/bgp.v1.Bgp/Rib",
            "/bgp.v1.Bgp/Evpn",
            "/bgp.v1.Bgp/Policy",
            "/ospf.v1.Ospf/Database",
            "/zebra.v1.LoadBalancer/WatchServices",
            "/config.v1.Config/Logging",
        ] {
            assert!(is_read_only(p), "{p}");
        }
        for p in [
            "/zebra.v1.Zebra/PushRoutes",
            "/zebra.v1.Zebra/Reload",
            "/zebra.v1.Zebra/PushEvpn",
            "/zebra.v1.Zebra/TrackNexthops",
            "/zebra.v1.Zebra/Redistribute",
            "/zebra.v1.Zebra/Neighbors",
            "/bgp.v1.Bgp/Reset",
            "/bgp.v1.Bgp/ClearPolicyCounters",
            "/zebra.v1.LoadBalancer/ReportHealth",
            "/zebra.v1.LoadBalancer/Drain",
            "/config.v1.Config/GetConfig",
            "/config.v1.Config/ApplyConfig",
            "/config.v1.Config/WriteConfig",
            "/other.Svc/Rib",
            "ShowRoutes",
            "",
        ] {
            assert!(!is_read_only(p), "{p}");
        }
    }
}

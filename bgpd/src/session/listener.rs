//! Passive TCP opens (RFC 4271 §8: TcpConnectionConfirmed): one listening
//! socket per address family and port, handing each accepted connection to
//! the session whose configured remote address it comes from.
//!
//! Owns the listening sockets only. Never speaks BGP: a connection from an
//! address that is not a configured peer is closed without a word (and
//! logged), and a session decides itself whether to keep what it is given.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::TcpListener;
use tracing::{debug, info, warn};

use super::SessionHandle;

/// Sessions by remote address, shared by the daemon (which adds and
/// removes peers) and the listeners.
pub type SessionMap = Arc<Mutex<HashMap<IpAddr, SessionHandle>>>;

/// Bind `bind` (port 179 in production, any port in tests; an IPv6
/// address listens for IPv6 only, so `0.0.0.0` and `::` can both be
/// bound) and accept connections in a background task for as long as the
/// runtime lives. Returns the bound address (useful with port 0).
pub async fn spawn_listener(bind: SocketAddr, sessions: SessionMap) -> io::Result<SocketAddr> {
    let sock = Socket::new(Domain::for_address(bind), Type::STREAM, Some(Protocol::TCP))?;
    sock.set_reuse_address(true)?;
    if bind.is_ipv6() {
        sock.set_only_v6(true)?;
    }
    sock.set_nonblocking(true)?;
    sock.bind(&bind.into())?;
    sock.listen(1024)?;
    let listener = TcpListener::from_std(sock.into())?;
    let local = listener.local_addr()?;
    info!(%local, "BGP listener started");
    tokio::spawn(accept_loop(listener, sessions));
    Ok(local)
}

async fn accept_loop(listener: TcpListener, sessions: SessionMap) {
    loop {
        let (stream, from) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors and the like: back off, keep serving.
                warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let ip = from.ip().to_canonical();
        let target = sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&ip)
            .map(|h| (h.id, h.inbound.clone()));
        match target {
            Some((id, inbound)) => {
                if inbound.try_send(stream).is_err() {
                    debug!(peer = %ip, id, "session busy or gone, connection closed");
                }
            }
            None => info!(peer = %from, "connection from unknown peer closed"),
        }
    }
}

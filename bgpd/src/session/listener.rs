//! Passive TCP opens (RFC 4271 §8: TcpConnectionConfirmed): one listening
//! socket per address family and port, handing each accepted connection to
//! the session whose configured remote address it comes from.
//!
//! Owns the listening sockets only. Never speaks BGP: a connection from an
//! address that is not a configured peer goes to the daemon's
//! dynamic-neighbor intake when it comes from a listen range
//! ([`Dynamic`]), and is otherwise closed without a word (and logged); a
//! session decides itself whether to keep what it is given.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ipnetwork::IpNetwork;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use super::security::{self, Password};
use super::SessionHandle;

/// Sessions by remote address, shared by the daemon (which adds and
/// removes peers) and the listeners.
pub type SessionMap = Arc<Mutex<HashMap<IpAddr, SessionHandle>>>;

/// Where the daemon takes connections from listen ranges.
pub type DynamicIntake = mpsc::Sender<(IpAddr, TcpStream)>;

/// The listen ranges of dynamic neighbors and where their connections
/// go (the daemon, which creates the neighbor). Empty: none accepted.
#[derive(Debug, Clone, Default)]
pub struct Dynamic {
    inner: Arc<Mutex<(Vec<IpNetwork>, Option<DynamicIntake>)>>,
}

impl Dynamic {
    /// Accept connections from `ranges` and hand them to `tx`.
    pub fn set(&self, ranges: Vec<IpNetwork>, tx: DynamicIntake) {
        *self.inner.lock().unwrap_or_else(|e| e.into_inner()) = (ranges, Some(tx));
    }

    /// The intake for a connection from `ip`, if a range covers it.
    fn intake(&self, ip: IpAddr) -> Option<DynamicIntake> {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if g.0.iter().any(|r| r.contains(ip)) {
            g.1.clone()
        } else {
            None
        }
    }
}

/// A bound listening socket: its address, and the handle through which
/// the daemon installs per-peer TCP-MD5 keys on it.
#[derive(Debug, Clone)]
pub struct Listening {
    pub local: SocketAddr,
    sock: Arc<TcpListener>,
}

impl Listening {
    /// Installs (`Some`) or removes (`None`) the TCP-MD5 key for
    /// connections from `remote` (or from `remote/prefix_len`) on this
    /// socket, if it is of the same family; accepted connections inherit
    /// it (RFC 2385 §3: the key protects the SYN already).
    pub fn set_md5(
        &self,
        remote: IpAddr,
        prefix_len: Option<u8>,
        key: Option<&Password>,
    ) -> io::Result<()> {
        if remote.to_canonical().is_ipv4() != self.local.is_ipv4() {
            return Ok(());
        }
        security::set_md5(self.sock.as_ref(), remote, prefix_len, key)
    }
}

/// Bind `bind` (port 179 in production, any port in tests; an IPv6
/// address listens for IPv6 only, so `0.0.0.0` and `::` can both be
/// bound) and accept connections in a background task for as long as the
/// runtime lives.
pub async fn spawn_listener(
    bind: SocketAddr,
    sessions: SessionMap,
    dynamic: Dynamic,
) -> io::Result<Listening> {
    let sock = Socket::new(Domain::for_address(bind), Type::STREAM, Some(Protocol::TCP))?;
    sock.set_reuse_address(true)?;
    if bind.is_ipv6() {
        sock.set_only_v6(true)?;
    }
    sock.set_nonblocking(true)?;
    sock.bind(&bind.into())?;
    sock.listen(1024)?;
    let listener = Arc::new(TcpListener::from_std(sock.into())?);
    let local = listener.local_addr()?;
    info!(%local, "BGP listener started");
    tokio::spawn(accept_loop(listener.clone(), sessions, dynamic));
    Ok(Listening {
        local,
        sock: listener,
    })
}

async fn accept_loop(listener: Arc<TcpListener>, sessions: SessionMap, dynamic: Dynamic) {
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
            .map(|h| (h.id, h.inbound.clone(), h.ttl_security, h.interface.clone()));
        match target {
            Some((id, _, _, Some(ifname)))
                if !super::link::arrived_on(Some(&ifname), from, |n| {
                    super::link::ifindex(n).ok()
                }) =>
            {
                info!(peer = %from, id, interface = %ifname, "connection from the neighbor's address on another interface closed");
            }
            Some((id, inbound, gtsm, _)) => {
                // GTSM (RFC 5082 §3): the TTL check as early as we can; what
                // arrived before it is the one window a listening socket
                // shared by all peers leaves open (the session's own check
                // follows, and its dials are checked from the SYN on).
                if gtsm {
                    if let Err(e) =
                        security::set_min_ttl(&stream, ip.is_ipv6(), security::GTSM_MIN_TTL)
                    {
                        warn!(peer = %ip, error = %e, "cannot set the GTSM minimum TTL");
                    }
                }
                if inbound.try_send(stream).is_err() {
                    debug!(peer = %ip, id, "session busy or gone, connection closed");
                }
            }
            None => match dynamic.intake(ip) {
                Some(tx) => {
                    if tx.try_send((ip, stream)).is_err() {
                        debug!(peer = %ip, "dynamic-neighbor intake busy, connection closed");
                    }
                }
                None => info!(peer = %from, "connection from unknown peer closed"),
            },
        }
    }
}

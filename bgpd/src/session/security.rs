//! Session security the kernel enforces on a peer's TCP connections:
//! TCP-MD5 signatures (RFC 2385) and the Generalized TTL Security
//! Mechanism (GTSM, RFC 5082 §3).
//!
//! Owns the two socket options no crate wraps: `TCP_MD5SIG` /
//! `TCP_MD5SIG_EXT` (a key per remote address, or per prefix for dynamic
//! neighbors, installed on the dialing socket before `connect` and on the
//! listening sockets so that accepted connections inherit it) and
//! `IP_MINTTL` / `IPV6_MINHOPCOUNT` (the lowest TTL an arriving segment may
//! carry). The kernel drops a segment with a missing or wrong signature, or
//! a too-low TTL, before TCP sees it: a mismatch shows as a connection that
//! never completes, never as a message.
//!
//! Never logs, formats or stores a key anywhere but in the kernel:
//! [`Password`] prints as `<hidden>`.

// The only unsafe code of bgpd: two setsockopt(2) calls with buffers this
// module builds and whose lengths it passes.
#![allow(unsafe_code)]

use std::fmt;
use std::io;
use std::net::IpAddr;
use std::os::fd::{AsFd, AsRawFd};

/// Longest key Linux takes (`TCP_MD5SIG_MAXKEYLEN`).
pub const MAX_KEY_LEN: usize = 80;

/// The TTL GTSM peers send and the lowest they accept from a directly
/// connected peer (RFC 5082 §3: 255, and 255 - hops + 1 = 254 for one hop,
/// as FRR's `ttl-security hops 1`).
pub const GTSM_TTL: u32 = 255;
pub const GTSM_MIN_TTL: u32 = 254;

/// A TCP-MD5 key. Its `Debug` and `Display` print `<hidden>`, so a config
/// or session struct that holds one can be logged whole.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(Vec<u8>);

impl Password {
    /// A key of 1 to [`MAX_KEY_LEN`] bytes.
    pub fn new(key: impl Into<Vec<u8>>) -> Result<Password, String> {
        let key = key.into();
        if key.is_empty() || key.len() > MAX_KEY_LEN {
            return Err(format!(
                "a TCP-MD5 key has 1 to {MAX_KEY_LEN} bytes, this one has {}",
                key.len()
            ));
        }
        Ok(Password(key))
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<hidden>")
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<hidden>")
    }
}

/// Size of Linux's `struct tcp_md5sig`: a `sockaddr_storage` (128), flags,
/// prefix length, key length, interface index, then the key.
const MD5SIG_LEN: usize = 128 + 1 + 1 + 2 + 4 + MAX_KEY_LEN;
const OFF_FLAGS: usize = 128;
const OFF_PREFIXLEN: usize = 129;
const OFF_KEYLEN: usize = 130;
const OFF_KEY: usize = 136;
/// `TCP_MD5SIG_FLAG_PREFIX`: the key covers `prefixlen` bits of the address.
const FLAG_PREFIX: u8 = 1;

/// Builds a `struct tcp_md5sig` for `addr`/`prefix_len` (`None`: the one
/// address) with `key` (`None`: delete the key).
fn md5sig(addr: IpAddr, prefix_len: Option<u8>, key: Option<&Password>) -> [u8; MD5SIG_LEN] {
    let mut b = [0u8; MD5SIG_LEN];
    match addr.to_canonical() {
        IpAddr::V4(a) => {
            // struct sockaddr_in: family, port (0), address.
            b[0..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
            b[4..8].copy_from_slice(&a.octets());
        }
        IpAddr::V6(a) => {
            // struct sockaddr_in6: family, port, flowinfo, address, scope.
            b[0..2].copy_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
            b[8..24].copy_from_slice(&a.octets());
        }
    }
    if let Some(len) = prefix_len {
        b[OFF_FLAGS] = FLAG_PREFIX;
        b[OFF_PREFIXLEN] = len;
    }
    if let Some(k) = key {
        let k = k.bytes();
        b[OFF_KEYLEN..OFF_KEYLEN + 2].copy_from_slice(&(k.len() as u16).to_ne_bytes());
        b[OFF_KEY..OFF_KEY + k.len()].copy_from_slice(k);
    }
    b
}

fn setsockopt<S: AsFd>(sock: &S, level: i32, name: i32, value: &[u8]) -> io::Result<()> {
    let fd = sock.as_fd().as_raw_fd();
    // SAFETY: `value` is a live buffer of exactly `value.len()` bytes that
    // the kernel only reads; `fd` is borrowed from an open socket.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            value.as_ptr().cast(),
            value.len() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Installs (`Some`) or removes (`None`) the TCP-MD5 key for segments
/// from and to `remote` (RFC 2385). With `prefix_len` the key covers a
/// whole range (`TCP_MD5SIG_EXT`, dynamic neighbors). On a listening
/// socket the key applies to the connections it accepts from there.
pub fn set_md5<S: AsFd>(
    sock: &S,
    remote: IpAddr,
    prefix_len: Option<u8>,
    key: Option<&Password>,
) -> io::Result<()> {
    // An IPv4 peer reaching a dual-stack socket would be v4-mapped; ours
    // are single-stack (IPV6_V6ONLY), so the plain address is right.
    let opt = if prefix_len.is_some() {
        libc::TCP_MD5SIG_EXT
    } else {
        libc::TCP_MD5SIG
    };
    let res = setsockopt(
        sock,
        libc::IPPROTO_TCP,
        opt,
        &md5sig(remote, prefix_len, key),
    );
    match res {
        // Removing a key that is not there is not an error.
        Err(e) if key.is_none() && e.raw_os_error() == Some(libc::ENOENT) => Ok(()),
        other => other,
    }
}

/// GTSM (RFC 5082 §3): the lowest TTL (hop limit) an arriving segment may
/// carry on this socket; 0 turns the check off.
pub fn set_min_ttl<S: AsFd>(sock: &S, v6: bool, min: u32) -> io::Result<()> {
    let value = (min as libc::c_int).to_ne_bytes();
    if v6 {
        setsockopt(sock, libc::IPPROTO_IPV6, libc::IPV6_MINHOPCOUNT, &value)
    } else {
        setsockopt(sock, libc::IPPROTO_IP, libc::IP_MINTTL, &value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, TcpListener};

    #[test]
    fn layout_matches_the_kernel_struct() {
        assert_eq!(std::mem::size_of::<libc::sockaddr_storage>(), 128);
        assert_eq!(MD5SIG_LEN, 216);
        let k = Password::new("secret").unwrap();
        let b = md5sig(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), Some(24), Some(&k));
        assert_eq!(&b[4..8], &[192, 0, 2, 1]);
        assert_eq!((b[OFF_FLAGS], b[OFF_PREFIXLEN]), (FLAG_PREFIX, 24));
        assert_eq!(u16::from_ne_bytes([b[130], b[131]]), 6);
        assert_eq!(&b[OFF_KEY..OFF_KEY + 6], b"secret");
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        let b = md5sig(v6, None, None);
        assert_eq!(u16::from_ne_bytes([b[0], b[1]]), libc::AF_INET6 as u16);
        assert_eq!(b[8], 0x20);
        assert_eq!(b[OFF_KEYLEN], 0);
    }

    #[test]
    fn passwords_never_print() {
        let k = Password::new("s3cr3t").unwrap();
        assert_eq!(format!("{k:?} {k}"), "<hidden> <hidden>");
        assert!(Password::new("").is_err());
        assert!(Password::new(vec![b'x'; 81]).is_err());
        assert!(Password::new(vec![b'x'; 80]).is_ok());
    }

    #[test]
    fn kernel_takes_keys_and_min_ttl() {
        // Loopback in the test's own namespace: no packet is sent.
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let k = Password::new("secret").unwrap();
        let peer = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
        set_md5(&l, peer, None, Some(&k)).unwrap();
        set_md5(&l, peer, None, None).unwrap();
        set_md5(&l, peer, None, None).unwrap();
        set_md5(
            &l,
            IpAddr::V4(Ipv4Addr::new(127, 0, 0, 0)),
            Some(8),
            Some(&k),
        )
        .unwrap();
        set_min_ttl(&l, false, GTSM_MIN_TTL).unwrap();
    }
}

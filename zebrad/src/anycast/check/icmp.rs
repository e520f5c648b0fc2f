//! The `icmp` health check: one echo request, one matching echo reply
//! (ICMP, RFC 792; ICMPv6, RFC 4443 §4.1-4.2).
//!
//! Owns: the socket (an unprivileged "ping" socket, `SOCK_DGRAM` with
//! `IPPROTO_ICMP[V6]`, where `net.ipv4.ping_group_range` allows it, else a
//! raw socket, which needs `CAP_NET_RAW`), the echo request's bytes and
//! checksum (RFC 1071), and matching a reply by source address (the socket
//! is connected to the target), identifier, sequence number and payload.
//!
//! Never: waits without bound (the caller's timeout ends the probe) or
//! trusts a reply's length; whatever arrives is parsed with bounds checks.

use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU16, Ordering};

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;

const ECHO_REQUEST_V4: u8 = 8;
const ECHO_REPLY_V4: u8 = 0;
const ECHO_REQUEST_V6: u8 = 128;
const ECHO_REPLY_V6: u8 = 129;

/// What every request carries after the header, so a reply is ours.
const PAYLOAD: &[u8; 16] = b"zebrad-anycast\0\0";

/// Sequence numbers of this process's probes.
static SEQ: AtomicU16 = AtomicU16::new(1);

/// Sends one echo request to `target` and waits for its reply.
pub async fn echo(target: IpAddr) -> Result<String, String> {
    let (sock, raw) = open(target)?;
    let dest = SocketAddr::new(target, 0);
    sock.connect(&dest.into())
        .map_err(|e| format!("connect {target}: {e}"))?;
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    // A ping socket's identifier is its local "port", chosen by the kernel
    // (which overwrites ours); a raw socket sends ours.
    let ident = (std::process::id() as u16) ^ seq.rotate_left(8);
    let req = echo_request(target.is_ipv6(), ident, seq);
    // Tokio's datagram socket only calls send(2)/recv(2) on the
    // descriptor, which is all an ICMP socket needs.
    let sock = UdpSocket::from_std(std::net::UdpSocket::from(sock))
        .map_err(|e| format!("ICMP socket: {e}"))?;
    sock.send(&req)
        .await
        .map_err(|e| format!("send to {target}: {e}"))?;
    let ident = if raw {
        ident
    } else {
        sock.local_addr()
            .map_err(|e| format!("ping socket without an identifier: {e}"))?
            .port()
    };
    let mut buf = [0u8; 1500];
    loop {
        let n = sock
            .recv(&mut buf)
            .await
            .map_err(|e| format!("receive from {target}: {e}"))?;
        let icmp = if raw && target.is_ipv4() {
            strip_ipv4_header(&buf[..n])
        } else {
            Some(&buf[..n])
        };
        if icmp.is_some_and(|m| is_reply(target.is_ipv6(), m, ident, seq)) {
            return Ok(format!("echo reply from {target} (seq {seq})"));
        }
    }
}

/// A non-blocking ICMP socket toward `target`'s family: a ping socket when
/// allowed, else a raw one (`true`).
pub(super) fn open(target: IpAddr) -> Result<(Socket, bool), String> {
    let (domain, proto) = if target.is_ipv6() {
        (Domain::IPV6, Protocol::ICMPV6)
    } else {
        (Domain::IPV4, Protocol::ICMPV4)
    };
    let (sock, raw) = match Socket::new(domain, Type::DGRAM, Some(proto)) {
        Ok(s) => (s, false),
        Err(e) if matches!(e.kind(), ErrorKind::PermissionDenied) => {
            let s = Socket::new(domain, Type::RAW, Some(proto)).map_err(|r| {
                format!(
                    "no ICMP socket: ping socket: {e} (net.ipv4.ping_group_range), raw socket: {r} (CAP_NET_RAW)"
                )
            })?;
            (s, true)
        }
        Err(e) => return Err(format!("ICMP socket: {e}")),
    };
    sock.set_nonblocking(true)
        .map_err(|e| format!("ICMP socket: {e}"))?;
    Ok((sock, raw))
}

/// An echo request: type, code 0, checksum, identifier, sequence number,
/// [`PAYLOAD`]. The ICMPv6 checksum covers a pseudo-header the kernel
/// fills in (RFC 4443 §2.3), so it is left to the kernel.
pub fn echo_request(v6: bool, ident: u16, seq: u16) -> Vec<u8> {
    let mut m = Vec::with_capacity(8 + PAYLOAD.len());
    m.push(if v6 { ECHO_REQUEST_V6 } else { ECHO_REQUEST_V4 });
    m.push(0);
    m.extend_from_slice(&[0, 0]);
    m.extend_from_slice(&ident.to_be_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(PAYLOAD);
    if !v6 {
        let c = checksum(&m);
        m[2..4].copy_from_slice(&c.to_be_bytes());
    }
    m
}

/// The Internet checksum (RFC 1071): the one's complement of the one's
/// complement sum of the 16-bit words.
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], *w.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The ICMP message in an IPv4 datagram as a raw socket delivers it.
fn strip_ipv4_header(p: &[u8]) -> Option<&[u8]> {
    let ihl = usize::from(p.first()? & 0x0f) * 4;
    if ihl < 20 {
        return None;
    }
    p.get(ihl..)
}

/// Whether `m` is the echo reply to our request `ident`/`seq`.
pub fn is_reply(v6: bool, m: &[u8], ident: u16, seq: u16) -> bool {
    let want = if v6 { ECHO_REPLY_V6 } else { ECHO_REPLY_V4 };
    m.len() >= 8 + PAYLOAD.len()
        && m[0] == want
        && m[1] == 0
        && u16::from_be_bytes([m[4], m[5]]) == ident
        && u16::from_be_bytes([m[6], m[7]]) == seq
        && &m[8..8 + PAYLOAD.len()] == PAYLOAD
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_bytes_and_checksum() {
        let r = echo_request(false, 0x1234, 1);
        assert_eq!(&r[..8], &[8, 0, r[2], r[3], 0x12, 0x34, 0, 1]);
        // A correct checksum makes the whole message sum to zero.
        assert_eq!(checksum(&r), 0);
        // RFC 1071 §3's example: 00 01 f2 03 f4 f5 f6 f7 sums to 0xddf2.
        assert_eq!(checksum(&[0, 1, 0xf2, 3, 0xf4, 0xf5, 0xf6, 0xf7]), !0xddf2);
        assert_eq!(checksum(&[0xff]), !0xff00);
        let r6 = echo_request(true, 7, 9);
        assert_eq!(&r6[..8], &[128, 0, 0, 0, 0, 7, 0, 9]);
    }

    #[test]
    fn replies_matched() {
        let mut r = echo_request(false, 0x1234, 5);
        assert!(!is_reply(false, &r, 0x1234, 5), "a request is no reply");
        r[0] = ECHO_REPLY_V4;
        assert!(is_reply(false, &r, 0x1234, 5));
        assert!(!is_reply(false, &r, 0x1235, 5));
        assert!(!is_reply(false, &r, 0x1234, 6));
        assert!(!is_reply(true, &r, 0x1234, 5));
        assert!(!is_reply(false, &r[..12], 0x1234, 5));
        let mut other = r.clone();
        other[10] ^= 1;
        assert!(
            !is_reply(false, &other, 0x1234, 5),
            "someone else's payload"
        );
        let mut ip = vec![0x45; 20];
        ip.extend_from_slice(&r);
        assert_eq!(strip_ipv4_header(&ip), Some(&r[..]));
        assert_eq!(strip_ipv4_header(&[0x41, 0]), None);
        assert_eq!(strip_ipv4_header(&[0x4f; 10]), None);
        assert_eq!(strip_ipv4_header(&[]), None);
    }
}

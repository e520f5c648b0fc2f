//! Netlink socket plumbing shared by the FIB writer, dumps, rules and
//! interface code.
//!
//! Owns: opening `NETLINK_ROUTE` sockets (RFC 3549) in the *calling thread's*
//! network namespace, socket options (`NETLINK_CAP_ACK`, `NETLINK_EXT_ACK`,
//! `SO_RCVBUFFORCE`), framing messages into a send buffer, splitting a
//! receive buffer into messages, reading acks (with their extended-ack
//! text), and generic dump / request-with-ack round trips.
//!
//! Never: interprets route semantics (that is [`super::msg`]).

use std::io;
use std::os::fd::AsFd;

use netlink_packet_core::{
    NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload, NlasIterator, NLMSG_DONE,
    NLMSG_ERROR, NLM_F_ACK, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_DUMP, NLM_F_DUMP_INTR,
    NLM_F_REQUEST,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, AsyncSocket, AsyncSocketExt, SocketAddr, TokioSocket};
use tracing::{debug, warn};

/// Receive buffer for one datagram. The kernel caps dump skbs at 32 KiB and
/// notifications are single messages, so 64 KiB is never truncated.
pub(crate) const RECV_BUF: usize = 64 * 1024;

/// `NLMSGERR_ATTR_MSG`: the extended ack's human-readable text.
const NLMSGERR_ATTR_MSG: u16 = 1;

/// Length of `struct nlmsghdr`.
const NLMSG_HDRLEN: usize = 16;

/// How many times a dump interrupted by a concurrent change
/// (`NLM_F_DUMP_INTR`) is restarted before we take its result anyway.
const DUMP_RETRIES: usize = 3;

/// Opens a route netlink socket bound to an automatic port id and connected
/// to the kernel, non-blocking and registered with the current tokio runtime.
/// The socket lives in the network namespace of the calling thread.
pub(crate) fn open_socket() -> io::Result<TokioSocket> {
    let mut sock = TokioSocket::new(NETLINK_ROUTE)?;
    sock.socket_mut().bind_auto()?;
    sock.socket_ref().connect(&SocketAddr::new(0, 0))?;
    sock.socket_ref().set_ext_ack(true)?;
    sock.socket_ref().set_cap_ack(true)?;
    Ok(sock)
}

/// Raises the socket's receive buffer to `bytes`, above `rmem_max` when we
/// have `CAP_NET_ADMIN` (`SO_RCVBUFFORCE`), else as far as `SO_RCVBUF` goes.
/// Returns the size the kernel reports (twice the usable payload size).
pub(crate) fn raise_rcvbuf(sock: &TokioSocket, bytes: usize) -> usize {
    let s = sock.socket_ref();
    if let Err(e) =
        nix::sys::socket::setsockopt(&s.as_fd(), nix::sys::socket::sockopt::RcvBufForce, &bytes)
    {
        debug!(error = %e, "SO_RCVBUFFORCE refused, falling back to SO_RCVBUF");
        let capped = i32::try_from(bytes).unwrap_or(i32::MAX);
        if let Err(e) = s.set_rx_buf_sz(capped) {
            warn!(error = %e, "cannot raise the netlink receive buffer");
        }
    }
    s.get_rx_buf_sz().unwrap_or(0)
}

/// Appends `msg` framed with a netlink header (`flags`, `seq`) to `out`,
/// padded to the 4-byte netlink alignment.
pub(crate) fn encode(msg: RouteNetlinkMessage, flags: u16, seq: u32, out: &mut Vec<u8>) {
    let mut header = NetlinkHeader::default();
    header.flags = flags;
    header.sequence_number = seq;
    let mut nl = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
    nl.finalize();
    let start = out.len();
    let len = nl.buffer_len();
    out.resize(start + align4(len), 0);
    nl.serialize(&mut out[start..start + len]);
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Splits one received datagram into its netlink messages. A malformed
/// length ends the walk (the rest of that datagram is unreadable anyway).
pub(crate) fn split(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = buf;
    std::iter::from_fn(move || {
        if rest.len() < NLMSG_HDRLEN {
            return None;
        }
        let nb = NetlinkBuffer::new(rest);
        let len = nb.length() as usize;
        if len < NLMSG_HDRLEN || len > rest.len() {
            warn!(len, left = rest.len(), "malformed netlink message length");
            rest = &[];
            return None;
        }
        let (msg, tail) = rest.split_at(len);
        rest = tail.get(align4(len) - len..).unwrap_or(&[]);
        Some(msg)
    })
}

/// The fixed part of a received message.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Head {
    pub kind: u16,
    pub flags: u16,
    pub seq: u32,
}

/// Reads the header of one message produced by [`split`].
pub(crate) fn head(msg: &[u8]) -> Head {
    let nb = NetlinkBuffer::new(msg);
    Head {
        kind: nb.message_type(),
        flags: nb.flags(),
        seq: nb.sequence_number(),
    }
}

/// For an `NLMSG_ERROR` message: the errno it carries as a positive number
/// (0 = plain ack) and the extended-ack text when the kernel sent one.
pub(crate) fn ack(msg: &[u8]) -> (i32, Option<String>) {
    let h = head(msg);
    let body = &msg[NLMSG_HDRLEN.min(msg.len())..];
    let code = match body.get(..4) {
        Some(b) => i32::from_ne_bytes([b[0], b[1], b[2], b[3]]),
        None => return (libc::EPROTO, None),
    };
    let errno = code.checked_neg().unwrap_or(libc::EPROTO).max(0);
    if h.flags & NLM_F_ACK_TLVS == 0 {
        return (errno, None);
    }
    // After the code comes the request: its header only when capped,
    // else the whole request; its own nlmsg_len says how long.
    let req = &body[4.min(body.len())..];
    let skip = if h.flags & NLM_F_CAPPED != 0 || req.len() < NLMSG_HDRLEN {
        NLMSG_HDRLEN
    } else {
        align4(NetlinkBuffer::new(req).length() as usize)
    };
    let text = req.get(skip..).and_then(|tlvs| {
        NlasIterator::new(tlvs)
            .flatten()
            .find(|n| n.kind() == NLMSGERR_ATTR_MSG)
            .map(|n| {
                let v = n.value();
                let v = v.split(|b| *b == 0).next().unwrap_or(v);
                String::from_utf8_lossy(v).into_owned()
            })
    });
    (errno, text)
}

/// Parses one message of the route family; `None` (logged) when the crate
/// cannot decode it or it is not a payload message.
pub(crate) fn parse(msg: &[u8]) -> Option<RouteNetlinkMessage> {
    match NetlinkMessage::<RouteNetlinkMessage>::deserialize(msg) {
        Ok(m) => match m.payload {
            NetlinkPayload::InnerMessage(inner) => Some(inner),
            _ => None,
        },
        Err(e) => {
            debug!(error = %e, kind = head(msg).kind, "undecodable netlink message skipped");
            None
        }
    }
}

/// Runs a dump request (`NLM_F_DUMP`) to completion on a fresh socket,
/// passing each message to `keep` and collecting what it returns (so a
/// million routes are never held twice). A dump interrupted by a concurrent
/// change (`NLM_F_DUMP_INTR`) is restarted a few times, then returned as is
/// (with a warning).
pub(crate) async fn dump<T>(
    req: RouteNetlinkMessage,
    mut keep: impl FnMut(RouteNetlinkMessage) -> Option<T>,
) -> io::Result<Vec<T>> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (out, interrupted) = dump_once(req.clone(), &mut keep).await?;
        if !interrupted {
            return Ok(out);
        }
        if attempt > DUMP_RETRIES {
            warn!(
                attempt,
                "netlink dump kept being interrupted; using the last one"
            );
            return Ok(out);
        }
        debug!(attempt, "netlink dump interrupted, restarting");
    }
}

async fn dump_once<T>(
    req: RouteNetlinkMessage,
    keep: &mut impl FnMut(RouteNetlinkMessage) -> Option<T>,
) -> io::Result<(Vec<T>, bool)> {
    const SEQ: u32 = 1;
    let sock = open_socket()?;
    let mut buf = Vec::with_capacity(256);
    encode(req, NLM_F_REQUEST | NLM_F_DUMP, SEQ, &mut buf);
    sock.send(&buf).await?;
    let mut out = Vec::new();
    let mut interrupted = false;
    let mut rbuf = Vec::with_capacity(RECV_BUF);
    loop {
        rbuf.clear();
        sock.recv(&mut rbuf).await?;
        for m in split(&rbuf) {
            let h = head(m);
            if h.seq != SEQ {
                continue;
            }
            if h.flags & NLM_F_DUMP_INTR != 0 {
                interrupted = true;
            }
            match h.kind {
                NLMSG_DONE => return Ok((out, interrupted)),
                NLMSG_ERROR => {
                    let (errno, text) = ack(m);
                    if errno != 0 {
                        debug!(errno, text, "netlink dump refused");
                        return Err(io::Error::from_raw_os_error(errno));
                    }
                }
                _ => out.extend(parse(m).and_then(&mut *keep)),
            }
        }
    }
}

/// Sends one request with `NLM_F_REQUEST | NLM_F_ACK | flags` on a fresh
/// socket and waits for its ack; a negative ack becomes the `io::Error` of
/// that errno (the extended-ack text is logged).
pub(crate) async fn request(req: RouteNetlinkMessage, flags: u16) -> io::Result<()> {
    const SEQ: u32 = 1;
    let sock = open_socket()?;
    let mut buf = Vec::with_capacity(256);
    encode(req, NLM_F_REQUEST | NLM_F_ACK | flags, SEQ, &mut buf);
    sock.send(&buf).await?;
    let mut rbuf = Vec::with_capacity(RECV_BUF);
    loop {
        rbuf.clear();
        sock.recv(&mut rbuf).await?;
        for m in split(&rbuf) {
            let h = head(m);
            if h.seq != SEQ || h.kind != NLMSG_ERROR {
                continue;
            }
            let (errno, text) = ack(m);
            if errno == 0 {
                return Ok(());
            }
            debug!(errno, text, "netlink request refused");
            return Err(io::Error::from_raw_os_error(errno));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_walks_aligned_messages() {
        // Two messages: lengths 20 (padded to 20) and 17 (padded to 20).
        let mut buf = vec![0u8; 40];
        buf[0..4].copy_from_slice(&20u32.to_ne_bytes());
        buf[4..6].copy_from_slice(&NLMSG_DONE.to_ne_bytes());
        buf[20..24].copy_from_slice(&17u32.to_ne_bytes());
        buf[24..26].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
        let msgs: Vec<_> = split(&buf).collect();
        assert_eq!(msgs.len(), 2);
        assert_eq!(head(msgs[0]).kind, NLMSG_DONE);
        assert_eq!(msgs[1].len(), 17);
        assert_eq!(head(msgs[1]).kind, NLMSG_ERROR);
    }

    #[test]
    fn split_stops_on_bad_length() {
        let mut buf = vec![0u8; 32];
        buf[0..4].copy_from_slice(&400u32.to_ne_bytes());
        assert_eq!(split(&buf).count(), 0);
    }

    #[test]
    fn ack_reads_errno_and_ext_text() {
        // nlmsghdr(ERROR, flags CAPPED|ACK_TLVS) + code -101 + request header
        // + NLMSGERR_ATTR_MSG "Nexthop has invalid gateway".
        let text = b"Nexthop has invalid gateway\0";
        let tlv_len = 4 + text.len();
        let total = 16 + 4 + 16 + align4(tlv_len);
        let mut m = vec![0u8; total];
        m[0..4].copy_from_slice(&(total as u32).to_ne_bytes());
        m[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
        m[6..8].copy_from_slice(&(NLM_F_CAPPED | NLM_F_ACK_TLVS).to_ne_bytes());
        m[8..12].copy_from_slice(&7u32.to_ne_bytes());
        m[16..20].copy_from_slice(&(-libc::ENETUNREACH).to_ne_bytes());
        m[20..24].copy_from_slice(&60u32.to_ne_bytes());
        let t = 36;
        m[t..t + 2].copy_from_slice(&(tlv_len as u16).to_ne_bytes());
        m[t + 2..t + 4].copy_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
        m[t + 4..t + 4 + text.len()].copy_from_slice(text);
        assert_eq!(head(&m).seq, 7);
        let (errno, msg) = ack(&m);
        assert_eq!(errno, libc::ENETUNREACH);
        assert_eq!(msg.as_deref(), Some("Nexthop has invalid gateway"));
    }

    #[test]
    fn ack_plain_success() {
        let mut m = vec![0u8; 36];
        m[0..4].copy_from_slice(&36u32.to_ne_bytes());
        m[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
        assert_eq!(ack(&m), (0, None));
    }
}

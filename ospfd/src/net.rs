//! The raw IP protocol 89 socket of one OSPF interface (RFC 2328 §8.1).
//!
//! One socket per interface, bound to the device so the arrival interface
//! is the socket's (no IP_PKTINFO needed) and multicast leaves through it;
//! it joins AllSPFRouters on that ifindex (and AllDRouters while DR or
//! BDR), with multicast TTL 1, loopback off, IP_MULTICAST_ALL off (else a
//! raw socket receives groups other sockets joined) and precedence
//! "internetwork control". Received datagrams keep their IP header, which
//! gives the source and destination addresses. This module never decodes
//! OSPF: it moves bytes.

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;

use socket2::{Domain, InterfaceIndexOrAddress, Protocol, Socket, Type};
use tokio::net::UdpSocket;

use crate::packet::{ALL_D_ROUTERS, ALL_SPF_ROUTERS, IPPROTO_OSPF};

/// Why a socket could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("OSPF socket on {ifname}: {what}: {source}")]
pub struct SocketError {
    pub ifname: String,
    pub what: &'static str,
    #[source]
    pub source: io::Error,
}

/// An interface's OSPF socket.
#[derive(Debug, Clone)]
pub struct OspfSocket {
    pub ifindex: u32,
    pub ifname: String,
    sock: Arc<UdpSocket>,
}

/// One received datagram: IP source and destination and the OSPF bytes.
#[derive(Debug)]
pub struct Datagram {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub payload: Vec<u8>,
}

impl OspfSocket {
    /// Opens the socket of interface `ifname` (index `ifindex`, address
    /// `addr`). Needs a tokio runtime.
    pub fn open(ifname: &str, ifindex: u32, addr: Ipv4Addr) -> Result<OspfSocket, SocketError> {
        let err = |what: &'static str| {
            let ifname = ifname.to_string();
            move |source| SocketError {
                ifname,
                what,
                source,
            }
        };
        let s = Socket::new(
            Domain::IPV4,
            Type::RAW,
            Some(Protocol::from(i32::from(IPPROTO_OSPF))),
        )
        .map_err(err("socket"))?;
        s.bind_device(Some(ifname.as_bytes()))
            .map_err(err("SO_BINDTODEVICE"))?;
        s.set_multicast_all_v4(false)
            .map_err(err("IP_MULTICAST_ALL"))?;
        s.join_multicast_v4_n(&ALL_SPF_ROUTERS, &InterfaceIndexOrAddress::Index(ifindex))
            .map_err(err("join AllSPFRouters"))?;
        s.set_multicast_ttl_v4(1).map_err(err("IP_MULTICAST_TTL"))?;
        s.set_multicast_loop_v4(false)
            .map_err(err("IP_MULTICAST_LOOP"))?;
        s.set_multicast_if_v4(&addr)
            .map_err(err("IP_MULTICAST_IF"))?;
        s.set_tos_v4(0xc0).map_err(err("IP_TOS"))?;
        // Room for a burst of updates from many neighbors.
        let _ = s.set_recv_buffer_size(4 << 20);
        s.set_nonblocking(true).map_err(err("O_NONBLOCK"))?;
        let std_sock: std::net::UdpSocket = s.into();
        let sock = UdpSocket::from_std(std_sock).map_err(err("register with tokio"))?;
        Ok(OspfSocket {
            ifindex,
            ifname: ifname.to_string(),
            sock: Arc::new(sock),
        })
    }

    fn as_socket2(&self) -> socket2::SockRef<'_> {
        socket2::SockRef::from(self.sock.as_ref())
    }

    /// Joins or leaves AllDRouters.
    pub fn set_all_drouters(&self, join: bool) -> io::Result<()> {
        let s = self.as_socket2();
        let idx = InterfaceIndexOrAddress::Index(self.ifindex);
        if join {
            s.join_multicast_v4_n(&ALL_D_ROUTERS, &idx)
        } else {
            s.leave_multicast_v4_n(&ALL_D_ROUTERS, &idx)
        }
    }

    /// Sends one OSPF packet; the kernel adds the IP header. A full send
    /// buffer drops the packet (OSPF retransmits).
    pub fn send(&self, dst: Ipv4Addr, bytes: &[u8]) -> io::Result<()> {
        match self
            .sock
            .try_send_to(bytes, SocketAddr::V4(SocketAddrV4::new(dst, 0)))
        {
            Ok(_) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Receives the next datagram addressed to OSPF on this interface.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<Option<Datagram>> {
        let (n, _) = self.sock.recv_from(buf).await?;
        Ok(buf.get(..n).and_then(parse_ip))
    }
}

/// Splits an IPv4 datagram into addresses and payload; `None` when it is
/// not a well-formed IPv4 packet.
pub fn parse_ip(b: &[u8]) -> Option<Datagram> {
    let first = *b.first()?;
    if first >> 4 != 4 {
        return None;
    }
    let ihl = usize::from(first & 0x0f) * 4;
    if ihl < 20 {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([*b.get(2)?, *b.get(3)?]));
    let src = Ipv4Addr::new(*b.get(12)?, *b.get(13)?, *b.get(14)?, *b.get(15)?);
    let dst = Ipv4Addr::new(*b.get(16)?, *b.get(17)?, *b.get(18)?, *b.get(19)?);
    // Linux reports the total length of received raw datagrams as sent.
    let end = if total >= ihl && total <= b.len() {
        total
    } else {
        b.len()
    };
    Some(Datagram {
        src,
        dst,
        payload: b.get(ihl..end)?.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_header_split() {
        let mut p = vec![0x45, 0xc0, 0, 24, 0, 0, 0, 0, 1, 89, 0, 0];
        p.extend_from_slice(&[192, 0, 2, 1, 224, 0, 0, 5, 1, 2, 3, 4]);
        let d = parse_ip(&p).unwrap();
        assert_eq!(d.src, Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(d.dst, ALL_SPF_ROUTERS);
        assert_eq!(d.payload, vec![1, 2, 3, 4]);
        assert!(parse_ip(&p[..10]).is_none());
        assert!(parse_ip(&[0x65; 30]).is_none());
    }
}

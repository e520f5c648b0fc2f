//! Counting a namespace's kernel routes over netlink, cheaply enough to poll
//! while a million routes go in: one socket opened inside the namespace, a
//! strict-checked dump filtered by the kernel to one table, and only the
//! message headers read (no attribute parsing).

use std::fs::File;
use std::io;

use netlink_packet_core::{NetlinkHeader, NetlinkMessage, NLM_F_DUMP, NLM_F_REQUEST};
use netlink_packet_route::route::{RouteAttribute, RouteHeader, RouteMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket};
use nix::sched::{setns, CloneFlags};

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const RTM_NEWROUTE: u16 = 24;
const NLMSG_HDRLEN: usize = 16;

/// A netlink route socket inside one namespace that counts routes.
pub struct RouteCounter {
    sock: Socket,
    buf: Vec<u8>,
    seq: u32,
}

impl RouteCounter {
    /// A counter for namespace `ns` (a name under `/var/run/netns`). The
    /// socket is opened by a short-lived thread that enters the namespace,
    /// so the calling thread stays where it is.
    pub fn in_namespace(ns: &str) -> io::Result<RouteCounter> {
        let path = format!("/var/run/netns/{ns}");
        let sock = std::thread::spawn(move || -> io::Result<Socket> {
            let f = File::open(&path)?;
            setns(&f, CloneFlags::CLONE_NEWNET).map_err(io::Error::from)?;
            Self::open_socket()
        })
        .join()
        .map_err(|_| io::Error::other("namespace thread panicked"))??;
        Ok(RouteCounter {
            sock,
            buf: Vec::with_capacity(1 << 20),
            seq: 0,
        })
    }

    /// A counter for the calling thread's current namespace.
    pub fn here() -> io::Result<RouteCounter> {
        Ok(RouteCounter {
            sock: Self::open_socket()?,
            buf: Vec::with_capacity(1 << 20),
            seq: 0,
        })
    }

    fn open_socket() -> io::Result<Socket> {
        let mut s = Socket::new(NETLINK_ROUTE)?;
        s.bind_auto()?;
        // Lets the kernel filter the dump by table instead of sending all.
        s.set_netlink_get_strict_chk(true)?;
        Ok(s)
    }

    /// How many routes of one family are in kernel table `table` (0 for an
    /// absent table).
    pub fn count(&mut self, table: u32, v6: bool) -> io::Result<usize> {
        self.seq = self.seq.wrapping_add(1);
        let mut rm = RouteMessage::default();
        rm.header.address_family = if v6 {
            AddressFamily::Inet6
        } else {
            AddressFamily::Inet
        };
        rm.header.table = u8::try_from(table).unwrap_or(RouteHeader::RT_TABLE_UNSPEC);
        rm.attributes.push(RouteAttribute::Table(table));
        let mut hdr = NetlinkHeader::default();
        hdr.flags = NLM_F_REQUEST | NLM_F_DUMP;
        hdr.sequence_number = self.seq;
        let mut msg = NetlinkMessage::new(hdr, RouteNetlinkMessage::GetRoute(rm).into());
        msg.finalize();
        let mut req = vec![0u8; msg.buffer_len()];
        msg.serialize(&mut req);
        self.sock.send(&req, 0)?;

        let mut n = 0usize;
        loop {
            self.buf.clear();
            let len = self.sock.recv(&mut self.buf, 0)?;
            let data = &self.buf[..len.min(self.buf.len())];
            let mut off = 0;
            while off + NLMSG_HDRLEN <= data.len() {
                let h = &data[off..];
                let mlen = u32::from_ne_bytes([h[0], h[1], h[2], h[3]]) as usize;
                let mtype = u16::from_ne_bytes([h[4], h[5]]);
                let seq = u32::from_ne_bytes([h[8], h[9], h[10], h[11]]);
                if mlen < NLMSG_HDRLEN || off + mlen > data.len() {
                    return Err(io::Error::other("truncated netlink message"));
                }
                if seq == self.seq {
                    match mtype {
                        RTM_NEWROUTE => n += 1,
                        NLMSG_DONE => return Ok(n),
                        NLMSG_ERROR if mlen >= NLMSG_HDRLEN + 4 => {
                            let e = i32::from_ne_bytes([h[16], h[17], h[18], h[19]]);
                            if e == 0 {
                                return Ok(n);
                            }
                            if -e == libc::ENOENT {
                                // "FIB table does not exist".
                                return Ok(0);
                            }
                            return Err(io::Error::from_raw_os_error(-e));
                        }
                        _ => {}
                    }
                }
                off += (mlen + 3) & !3;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_in_own_namespace() {
        if !crate::is_root() {
            return;
        }
        // Table 255 (local) always has routes for 127.0.0.0/8 in any
        // namespace, including this one; reading it changes nothing.
        let mut c = RouteCounter::here().unwrap();
        assert!(c.count(255, false).unwrap() >= 1);
        assert_eq!(c.count(4_000_000_000, false).unwrap(), 0);
    }
}

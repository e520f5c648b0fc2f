//! Kernel notifications: links, addresses and routes as they change.
//!
//! Owns one `NETLINK_ROUTE` socket joined to the multicast groups
//! `RTNLGRP_LINK`, `RTNLGRP_NEIGH` (bridge FDB and ARP/ND entries, for
//! [`crate::vtep`]), `RTNLGRP_IPV4_IFADDR`, `RTNLGRP_IPV6_IFADDR`,
//! `RTNLGRP_IPV4_ROUTE`, `RTNLGRP_IPV6_ROUTE` (rtnetlink(7)) and
//! `RTNLGRP_NEXTHOP` (kernel nexthop objects, Linux 5.3+), and turns what
//! arrives into [`KernelEvent`]s.
//!
//! zebrad installs up to a million routes of its own: their `RTM_NEWROUTE`
//! echoes are dropped in the kernel by a classic BPF socket filter
//! (`SO_ATTACH_FILTER`, see `Documentation/networking/filter.rst`), so they
//! cost neither receive buffer nor wake-ups; the same test is repeated in
//! user space in case the filter could not be attached. The same filter
//! drops the `RTM_NEWNEIGH` echoes of the VXLAN FDB entries zebrad's vtep
//! writes (`NTF_SELF|NTF_EXT_LEARNED`, two per remote MAC otherwise), which
//! nothing reads. `RTM_DELROUTE` of
//! those protocols is always delivered: that is how an `ip route del` from
//! outside is noticed. An overrun of the receive buffer (`ENOBUFS`) becomes
//! [`KernelEvent::Overrun`] (the caller resyncs with dumps) and monitoring
//! goes on.
//!
//! Nexthop object notifications (`RTM_NEWNEXTHOP`/`RTM_DELNEXTHOP`) are
//! decoded by [`super::nhobj::parse`] and all passed on: the echo of an
//! object zebrad writes is told from an outside `ip nexthop replace` only
//! by comparing it with the RIB's registry (the outside one may carry any
//! protocol), and there is one echo per object written (one per upstream
//! or ECMP set), not one per route. The kernel removes the objects of a
//! link going down *without* `RTM_DELNEXTHOP`, and the IPv4 routes naming a
//! deleted object without `RTM_DELROUTE` (IPv6 ones are notified).
//!
//! Route events follow [`super::dump_routes`]'s filter (no local table, no
//! `proto kernel`). Note that the kernel removes IPv4 routes through a link
//! that goes down *without* `RTM_DELROUTE`; the caller reacts to the
//! [`KernelEvent::Link`] instead.
//!
//! Never: writes to the kernel.

use std::io;

use ipnetwork::IpNetwork;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, AsyncSocket, AsyncSocketExt, TokioSocket};
use socket2::{SockFilter, SockRef};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use super::msg::route_from_message;
use super::nhobj::{self, DumpedNexthop, RTM_DELNEXTHOP, RTM_NEWNEXTHOP};
use super::{nl, FibRoute};
use crate::iface::{addr_from_message, link_from_message, Link};
use crate::vtep::discover::{neigh_event, NeighEvent};

/// Multicast groups (`enum rtnetlink_groups` in `linux/rtnetlink.h`).
const RTNLGRP_LINK: u32 = 1;
const RTNLGRP_NEIGH: u32 = 3;
const RTNLGRP_IPV4_IFADDR: u32 = 5;
const RTNLGRP_IPV4_ROUTE: u32 = 7;
const RTNLGRP_IPV6_IFADDR: u32 = 9;
const RTNLGRP_IPV6_ROUTE: u32 = 11;
/// Nexthop objects; a kernel without them refuses to join (not fatal).
const RTNLGRP_NEXTHOP: u32 = 32;
const GROUPS: [u32; 6] = [
    RTNLGRP_LINK,
    RTNLGRP_NEIGH,
    RTNLGRP_IPV4_IFADDR,
    RTNLGRP_IPV4_ROUTE,
    RTNLGRP_IPV6_IFADDR,
    RTNLGRP_IPV6_ROUTE,
];

/// Receive buffer asked for: a burst of a few hundred thousand deletions
/// (a flushed table, a link down) fits.
const MONITOR_RCVBUF: usize = 64 << 20;

/// What changed in the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KernelEvent {
    /// A link appeared or changed (any `RTM_NEWLINK`).
    Link(Link),
    /// The link with this index is gone.
    LinkRemoved(u32),
    AddrAdded {
        ifindex: u32,
        addr: IpNetwork,
    },
    AddrRemoved {
        ifindex: u32,
        addr: IpNetwork,
    },
    /// A route of a protocol not in the ignore list was added or replaced.
    RouteAdded(FibRoute),
    /// A route was deleted (ours included).
    RouteDeleted(FibRoute),
    /// A nexthop object was added or replaced (zebrad's own writes
    /// included).
    NexthopAdded(DumpedNexthop),
    /// A nexthop object was deleted (zebrad's own deletes included).
    NexthopDeleted(DumpedNexthop),
    /// A bridge FDB or neighbor entry changed.
    Neigh(NeighEvent),
    /// Notifications were lost (receive buffer overrun): resync by dumping.
    Overrun,
}

/// Subscribes to link, address and route notifications (v4 + v6) and
/// forwards them to `tx`, except `RTM_NEWROUTE` of `ignore_new_protocols`.
/// The socket is opened here, in the calling thread's network namespace;
/// the task ends when `tx` is closed.
pub fn spawn_monitor(
    ignore_new_protocols: Vec<u8>,
    tx: mpsc::Sender<KernelEvent>,
) -> io::Result<()> {
    let mut sock = TokioSocket::new(NETLINK_ROUTE)?;
    sock.socket_mut().bind_auto()?;
    let got = nl::raise_rcvbuf(&sock, MONITOR_RCVBUF);
    let mut ignore = ignore_new_protocols;
    ignore.sort_unstable();
    ignore.dedup();
    if !ignore.is_empty() {
        match new_route_filter(&ignore) {
            Some(prog) => {
                let prog: Vec<SockFilter> = prog
                    .iter()
                    .map(|i| SockFilter::new(i.code, i.jt, i.jf, i.k))
                    .collect();
                match SockRef::from(sock.socket_ref()).attach_filter(&prog) {
                    Ok(()) => {
                        debug!(protocols = ?ignore, "kernel filter drops our own RTM_NEWROUTE")
                    }
                    Err(e) => {
                        warn!(error = %e, "cannot attach socket filter; filtering in user space")
                    }
                }
            }
            None => warn!(
                count = ignore.len(),
                "too many protocols for the socket filter; filtering in user space"
            ),
        }
    }
    for g in GROUPS {
        sock.socket_mut().add_membership(g)?;
    }
    if let Err(e) = sock.socket_mut().add_membership(RTNLGRP_NEXTHOP) {
        warn!(error = %e, "cannot watch nexthop objects; an outside change is repaired at the next resync only");
    }
    info!(rcvbuf = got, "kernel monitor started");
    tokio::spawn(run(sock, ignore, tx));
    Ok(())
}

async fn run(sock: TokioSocket, ignore: Vec<u8>, tx: mpsc::Sender<KernelEvent>) {
    let mut rbuf = Vec::with_capacity(nl::RECV_BUF);
    loop {
        rbuf.clear();
        let received = tokio::select! {
            r = sock.recv(&mut rbuf) => r,
            () = tx.closed() => break,
        };
        match received {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                warn!("kernel notifications lost (receive buffer overrun)");
                if tx.send(KernelEvent::Overrun).await.is_err() {
                    break;
                }
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                warn!(error = %e, "kernel monitor socket failed; monitor stops");
                break;
            }
        }
        for m in nl::split(&rbuf) {
            let ev = match nl::head(m).kind {
                RTM_NEWNEXTHOP | RTM_DELNEXTHOP => nexthop_event(m),
                _ => nl::parse(m).and_then(|msg| event(msg, &ignore)),
            };
            let Some(ev) = ev else {
                continue;
            };
            if tx.send(ev).await.is_err() {
                debug!("kernel monitor stopped: receiver gone");
                return;
            }
        }
    }
    debug!("kernel monitor stopped");
}

/// The event of an `RTM_NEWNEXTHOP` or `RTM_DELNEXTHOP` message (netlink
/// header included, as [`nl::split`] gives it); `None` for any other
/// message or one that does not decode.
pub fn nexthop_event(msg: &[u8]) -> Option<KernelEvent> {
    let body = msg.get(16..)?;
    let kind = nl::head(msg).kind;
    let d = nhobj::parse(body);
    if d.is_none() {
        debug!(kind, "undecodable nexthop notification");
    }
    match kind {
        RTM_NEWNEXTHOP => d.map(KernelEvent::NexthopAdded),
        RTM_DELNEXTHOP => d.map(KernelEvent::NexthopDeleted),
        _ => None,
    }
}

/// The event a notification stands for, if any.
pub fn event(msg: RouteNetlinkMessage, ignore_new_protocols: &[u8]) -> Option<KernelEvent> {
    match msg {
        RouteNetlinkMessage::NewLink(l) => Some(KernelEvent::Link(link_from_message(&l))),
        RouteNetlinkMessage::DelLink(l) => Some(KernelEvent::LinkRemoved(l.header.index)),
        RouteNetlinkMessage::NewAddress(a) => {
            addr_from_message(&a).map(|(ifindex, addr)| KernelEvent::AddrAdded { ifindex, addr })
        }
        RouteNetlinkMessage::DelAddress(a) => {
            addr_from_message(&a).map(|(ifindex, addr)| KernelEvent::AddrRemoved { ifindex, addr })
        }
        RouteNetlinkMessage::NewRoute(r) => {
            if ignore_new_protocols.contains(&u8::from(r.header.protocol)) {
                return None;
            }
            route_from_message(&r).ok().map(KernelEvent::RouteAdded)
        }
        RouteNetlinkMessage::DelRoute(r) => {
            route_from_message(&r).ok().map(KernelEvent::RouteDeleted)
        }
        RouteNetlinkMessage::NewNeighbour(_) | RouteNetlinkMessage::DelNeighbour(_) => {
            neigh_event(&msg).map(KernelEvent::Neigh)
        }
        _ => None,
    }
}

/// One classic BPF instruction (`struct sock_filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BpfInsn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

// Classic BPF opcodes (linux/filter.h, linux/bpf_common.h).
const BPF_LD_H_ABS: u16 = 0x28; // BPF_LD | BPF_H | BPF_ABS: A = u16 at k, big endian
const BPF_LD_B_ABS: u16 = 0x30; // BPF_LD | BPF_B | BPF_ABS: A = u8 at k
const BPF_JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K: A == k ? jt : jf
const BPF_AND_K: u16 = 0x54; // BPF_ALU | BPF_AND | BPF_K: A &= k
const BPF_RET_K: u16 = 0x06; // BPF_RET | BPF_K: keep k bytes (0 = drop)

/// Offset of `nlmsg_type` in `struct nlmsghdr`.
const OFF_NLMSG_TYPE: u32 = 4;
/// Offset of `ndm_flags`: 16-byte `nlmsghdr`, then `struct ndmsg` (family,
/// pad1, pad2 (u16), ifindex (i32), state (u16), flags...).
const OFF_NDM_FLAGS: u32 = 16 + 10;
/// `NTF_SELF | NTF_EXT_LEARNED`: a VXLAN FDB entry of a control plane.
const NTF_SELF_EXT_LEARNED: u32 = 0x02 | 0x10;

/// Offset of `rtm_protocol`: 16-byte `nlmsghdr`, then `struct rtmsg`
/// (family, dst_len, src_len, tos, table, protocol...).
const OFF_RTM_PROTOCOL: u32 = 16 + 5;

/// The filter that drops `RTM_NEWROUTE` whose `rtm_protocol` is one of
/// `protocols`, and `RTM_NEWNEIGH` with `NTF_SELF|NTF_EXT_LEARNED`, and
/// keeps everything else. `None` when the list is too long
/// for 8-bit jump offsets.
///
/// Multicast notifications carry one netlink message per datagram, so the
/// header at offset 0 is the message's. `nlmsg_type` is in host byte order
/// while BPF loads half-words big-endian, hence the byte-swapped constant.
pub fn new_route_filter(protocols: &[u8]) -> Option<Vec<BpfInsn>> {
    let n = u8::try_from(protocols.len()).ok().filter(|n| *n <= 250)?;
    let new_route = u32::from(u16::from_be_bytes(libc::RTM_NEWROUTE.to_ne_bytes()));
    let new_neigh = u32::from(u16::from_be_bytes(libc::RTM_NEWNEIGH.to_ne_bytes()));
    let ins = |code, jt, jf, k| BpfInsn { code, jt, jf, k };
    let mut p = Vec::with_capacity(usize::from(n) + 10);
    p.push(ins(BPF_LD_H_ABS, 0, 0, OFF_NLMSG_TYPE));
    // RTM_NEWNEIGH: drop when both flags are set, else keep; any other
    // type goes on (A still holds it) to the route tests.
    p.push(ins(BPF_JEQ_K, 0, 3, new_neigh));
    p.push(ins(BPF_LD_B_ABS, 0, 0, OFF_NDM_FLAGS));
    p.push(ins(BPF_AND_K, 0, 0, NTF_SELF_EXT_LEARNED));
    p.push(ins(BPF_JEQ_K, n + 3, n + 2, NTF_SELF_EXT_LEARNED));
    // Not RTM_NEWROUTE: jump over the protocol tests to "keep".
    p.push(ins(BPF_JEQ_K, 0, n + 1, new_route));
    p.push(ins(BPF_LD_B_ABS, 0, 0, OFF_RTM_PROTOCOL));
    for (i, proto) in protocols.iter().enumerate() {
        // Match: jump to "drop", past the remaining tests and "keep".
        let i = u8::try_from(i).ok()?;
        p.push(ins(BPF_JEQ_K, n - i, 0, u32::from(*proto)));
    }
    p.push(ins(BPF_RET_K, 0, 0, u32::MAX)); // keep
    p.push(ins(BPF_RET_K, 0, 0, 0)); // drop
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny interpreter for the four opcodes the filter uses: returns
    /// whether the packet is kept.
    fn run(prog: &[BpfInsn], pkt: &[u8]) -> bool {
        let mut a: u32 = 0;
        let mut pc = 0usize;
        loop {
            let i = prog[pc];
            pc += 1;
            match i.code {
                BPF_LD_H_ABS => {
                    let k = i.k as usize;
                    let Some(b) = pkt.get(k..k + 2) else {
                        return false;
                    };
                    a = u32::from(u16::from_be_bytes([b[0], b[1]]));
                }
                BPF_LD_B_ABS => {
                    let Some(b) = pkt.get(i.k as usize) else {
                        return false;
                    };
                    a = u32::from(*b);
                }
                BPF_JEQ_K => pc += usize::from(if a == i.k { i.jt } else { i.jf }),
                BPF_AND_K => a &= i.k,
                BPF_RET_K => return i.k != 0,
                c => panic!("unexpected opcode {c:#x}"),
            }
        }
    }

    fn msg(kind: u16, protocol: u8) -> Vec<u8> {
        let mut m = vec![0u8; 28];
        m[0..4].copy_from_slice(&28u32.to_ne_bytes());
        m[4..6].copy_from_slice(&kind.to_ne_bytes());
        m[21] = protocol;
        m
    }

    #[test]
    fn filter_drops_only_our_new_routes() {
        let prog = new_route_filter(&[186, 196]).unwrap();
        assert!(!run(&prog, &msg(libc::RTM_NEWROUTE, 186)));
        assert!(!run(&prog, &msg(libc::RTM_NEWROUTE, 196)));
        assert!(run(&prog, &msg(libc::RTM_NEWROUTE, 188)));
        assert!(run(&prog, &msg(libc::RTM_DELROUTE, 186)));
        assert!(run(&prog, &msg(libc::RTM_NEWLINK, 186)));
        assert!(run(&prog, &msg(libc::RTM_NEWADDR, 0)));
    }

    fn neigh(flags: u8) -> Vec<u8> {
        let mut m = vec![0u8; 28];
        m[0..4].copy_from_slice(&28u32.to_ne_bytes());
        m[4..6].copy_from_slice(&libc::RTM_NEWNEIGH.to_ne_bytes());
        m[26] = flags;
        m
    }

    #[test]
    fn filter_drops_only_our_vxlan_fdb_echoes() {
        for prog in [
            new_route_filter(&[186]).unwrap(),
            new_route_filter(&[0; 250]).unwrap(),
        ] {
            assert!(!run(&prog, &neigh(0x12)));
            assert!(!run(&prog, &neigh(0x12 | 0x01)));
            assert!(
                run(&prog, &neigh(0x10)),
                "ext-learned neighbor or bridge entry"
            );
            assert!(run(&prog, &neigh(0x02)), "a VXLAN entry made by hand");
            assert!(run(&prog, &neigh(0)));
        }
    }

    #[test]
    fn nexthop_notifications_become_events() {
        use crate::fib::NexthopObject;
        let o = NexthopObject::single(0x5a00_0001, 186, "2001:db8::2".parse().unwrap(), 3);
        let mut buf = Vec::new();
        nhobj::encode_new(&o, 0, 0, &mut buf);
        match nexthop_event(&buf) {
            Some(KernelEvent::NexthopAdded(d)) => assert_eq!(d.object(), Some(o)),
            other => panic!("{other:?}"),
        }
        buf.clear();
        nhobj::encode_del(0x5a00_0001, 0, 0, &mut buf);
        assert!(matches!(
            nexthop_event(&buf),
            Some(KernelEvent::NexthopDeleted(d)) if d.id == 0x5a00_0001
        ));
        // Cut short, or another type: nothing.
        assert_eq!(nexthop_event(&buf[..20]), None);
        assert_eq!(nexthop_event(&buf[..3]), None);
        assert_eq!(nexthop_event(&msg(libc::RTM_NEWROUTE, 186)), None);
    }

    #[test]
    fn filter_with_one_and_many_protocols() {
        let prog = new_route_filter(&[4]).unwrap();
        assert!(!run(&prog, &msg(libc::RTM_NEWROUTE, 4)));
        assert!(run(&prog, &msg(libc::RTM_NEWROUTE, 5)));
        let all: Vec<u8> = (0..=249).collect();
        let prog = new_route_filter(&all).unwrap();
        assert!(!run(&prog, &msg(libc::RTM_NEWROUTE, 0)));
        assert!(!run(&prog, &msg(libc::RTM_NEWROUTE, 249)));
        assert!(run(&prog, &msg(libc::RTM_NEWROUTE, 250)));
        assert!(run(&prog, &msg(libc::RTM_DELROUTE, 100)));
        assert!(new_route_filter(&[0; 251]).is_none());
    }
}

//! Kernel nexthop objects (`RTM_NEWNEXTHOP` / `RTM_DELNEXTHOP` /
//! `RTM_GETNEXTHOP`, Linux 5.3+, `include/uapi/linux/nexthop.h`).
//!
//! A route that names a nexthop object by id (`RTA_NH_ID`) skips the
//! per-route gateway check and nexthop allocation the kernel does for an
//! inline `RTA_GATEWAY`/`RTA_OIF`: a full table goes in about 1.4x faster
//! (BENCHMARKS.md), and a million routes through one upstream share one
//! object, as FRR's zebra does with its kernel nexthop groups.
//!
//! Owns the wire form of one object (`struct nhmsg` + `NHA_ID` and either
//! `NHA_OIF`/`NHA_GATEWAY` or a multipath `NHA_GROUP` of such objects), its
//! deletion, and the dump that finds the objects in the kernel at start. Never decides which objects exist (that is the RIB's
//! `kernel_nh`), and never touches an object of a protocol it was not given.

use std::io;
use std::net::IpAddr;

use netlink_packet_core::{
    DefaultNla, Emitable, NetlinkBuffer, NlaBuffer, NlasIterator, NLMSG_DONE, NLMSG_ERROR,
    NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_sys::AsyncSocketExt;
use tracing::debug;

use super::nl;

pub const RTM_NEWNEXTHOP: u16 = 104;
pub const RTM_DELNEXTHOP: u16 = 105;
pub const RTM_GETNEXTHOP: u16 = 106;

const NHA_ID: u16 = 1;
const NHA_GROUP: u16 = 2;
const NHA_BLACKHOLE: u16 = 4;
const NHA_OIF: u16 = 5;
const NHA_GATEWAY: u16 = 6;

/// Length of `struct nhmsg`.
const NHMSG_LEN: usize = 8;
const AF_INET: u8 = libc::AF_INET as u8;
const AF_INET6: u8 = libc::AF_INET6 as u8;

/// One member of a group object with its ECMP weight (1..=256).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupMember {
    pub id: u32,
    pub weight: u16,
}

/// What an object is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ObjectBody {
    /// A gateway (or none: straight onto the link) over an interface.
    /// `family` is `AF_INET` or `AF_INET6`: the gateway's, or for a
    /// link-only object the family of the routes using it (an IPv6 route
    /// cannot use an IPv4 object).
    Single {
        family: u8,
        gateway: Option<IpAddr>,
        ifindex: u32,
    },
    /// A multipath group of single objects (`NHA_GROUP`).
    Group(Vec<GroupMember>),
}

/// One kernel nexthop object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NexthopObject {
    /// Object id (global in the network namespace).
    pub id: u32,
    /// `nh_protocol`, zebrad's protocol id for the routes using it.
    pub protocol: u8,
    pub body: ObjectBody,
}

impl NexthopObject {
    /// A single-leg object through `gateway`'s family.
    pub fn single(id: u32, protocol: u8, gateway: IpAddr, ifindex: u32) -> NexthopObject {
        NexthopObject {
            id,
            protocol,
            body: ObjectBody::Single {
                family: family_of(gateway),
                gateway: Some(gateway),
                ifindex,
            },
        }
    }
}

fn family_of(gateway: IpAddr) -> u8 {
    match gateway {
        IpAddr::V4(_) => AF_INET,
        IpAddr::V6(_) => AF_INET6,
    }
}

/// Appends one netlink message (header + `body`) to `out`, 4-aligned.
fn frame(kind: u16, flags: u16, seq: u32, body: &[u8], out: &mut Vec<u8>) {
    let start = out.len();
    let len = 16 + body.len();
    out.resize(start + ((len + 3) & !3), 0);
    let mut nb = NetlinkBuffer::new(&mut out[start..start + len]);
    nb.set_length(len as u32);
    nb.set_message_type(kind);
    nb.set_flags(flags);
    nb.set_sequence_number(seq);
    nb.set_port_number(0);
    out[start + 16..start + len].copy_from_slice(body);
}

fn nhmsg(family: u8, protocol: u8) -> Vec<u8> {
    let mut b = vec![0u8; NHMSG_LEN];
    b[0] = family;
    b[2] = protocol;
    b
}

fn push_nlas(body: &mut Vec<u8>, nlas: &[DefaultNla]) {
    let at = body.len();
    body.resize(at + nlas.buffer_len(), 0);
    nlas.emit(&mut body[at..]);
}

fn addr_bytes(a: IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

/// Appends an `RTM_NEWNEXTHOP` for `o` (`flags` besides the caller's
/// `NLM_F_REQUEST`/`NLM_F_ACK`: zebrad uses `CREATE|REPLACE`, so sending it
/// again is harmless, and a group sent again gets its members back).
pub fn encode_new(o: &NexthopObject, flags: u16, seq: u32, out: &mut Vec<u8>) {
    let mut nlas = vec![DefaultNla::new(NHA_ID, o.id.to_ne_bytes().to_vec())];
    let family = match &o.body {
        ObjectBody::Single {
            family,
            gateway,
            ifindex,
        } => {
            nlas.push(DefaultNla::new(NHA_OIF, ifindex.to_ne_bytes().to_vec()));
            if let Some(gw) = gateway {
                nlas.push(DefaultNla::new(NHA_GATEWAY, addr_bytes(*gw)));
            }
            *family
        }
        ObjectBody::Group(members) => {
            // struct nexthop_grp: u32 id, u8 weight - 1, u8, u16.
            let mut v = Vec::with_capacity(members.len() * 8);
            for m in members {
                v.extend_from_slice(&m.id.to_ne_bytes());
                v.push(m.weight.clamp(1, 256).saturating_sub(1) as u8);
                v.extend_from_slice(&[0, 0, 0]);
            }
            nlas.push(DefaultNla::new(NHA_GROUP, v));
            0
        }
    };
    let mut body = nhmsg(family, o.protocol);
    push_nlas(&mut body, &nlas);
    frame(RTM_NEWNEXTHOP, flags, seq, &body, out);
}

/// Appends an `RTM_DELNEXTHOP` for object `id`. The kernel removes the
/// routes still using it: the RIB deletes an object only after moving
/// every route off it.
pub fn encode_del(id: u32, flags: u16, seq: u32, out: &mut Vec<u8>) {
    let mut body = nhmsg(0, 0);
    push_nlas(
        &mut body,
        &[DefaultNla::new(NHA_ID, id.to_ne_bytes().to_vec())],
    );
    frame(RTM_DELNEXTHOP, flags, seq, &body, out);
}

/// An object as the kernel reports it (any protocol, any shape).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpedNexthop {
    pub id: u32,
    pub protocol: u8,
    pub family: u8,
    pub gateway: Option<IpAddr>,
    pub ifindex: u32,
    /// Members of a group object (empty for a single one).
    pub group: Vec<GroupMember>,
    pub blackhole: bool,
}

impl DumpedNexthop {
    /// The object in the form zebrad creates, if it is one: a gateway
    /// over an interface, or a group.
    pub fn object(&self) -> Option<NexthopObject> {
        if self.blackhole {
            return None;
        }
        let body = match (self.group.is_empty(), self.gateway) {
            (false, _) => ObjectBody::Group(self.group.clone()),
            (true, Some(gw)) if self.ifindex != 0 => ObjectBody::Single {
                family: family_of(gw),
                gateway: Some(gw),
                ifindex: self.ifindex,
            },
            _ => return None,
        };
        Some(NexthopObject {
            id: self.id,
            protocol: self.protocol,
            body,
        })
    }
}

fn ne_u32(v: &[u8]) -> Option<u32> {
    Some(u32::from_ne_bytes(v.get(..4)?.try_into().ok()?))
}

/// Parses the body (after the netlink header) of an `RTM_NEWNEXTHOP`
/// message; `None` when it is too short or has no id.
pub fn parse(body: &[u8]) -> Option<DumpedNexthop> {
    let head = body.get(..NHMSG_LEN)?;
    let mut n = DumpedNexthop {
        id: 0,
        protocol: head[2],
        family: head[0],
        gateway: None,
        ifindex: 0,
        group: Vec::new(),
        blackhole: false,
    };
    for nla in NlasIterator::new(body.get(NHMSG_LEN..)?) {
        let nla: NlaBuffer<&[u8]> = nla.ok()?;
        let v = nla.value();
        match nla.kind() {
            NHA_ID => n.id = ne_u32(v)?,
            NHA_OIF => n.ifindex = ne_u32(v)?,
            NHA_GATEWAY => {
                n.gateway = match v.len() {
                    4 => Some(IpAddr::from(<[u8; 4]>::try_from(v).ok()?)),
                    16 => Some(IpAddr::from(<[u8; 16]>::try_from(v).ok()?)),
                    _ => return None,
                }
            }
            NHA_GROUP => {
                for m in v.chunks(8) {
                    let id = ne_u32(m)?;
                    let weight = u16::from(*m.get(4)?) + 1;
                    n.group.push(GroupMember { id, weight });
                }
            }
            NHA_BLACKHOLE => n.blackhole = true,
            _ => {}
        }
    }
    (n.id != 0).then_some(n)
}

/// Every nexthop object in the calling thread's network namespace. Fails
/// (`EOPNOTSUPP`, `EINVAL`) on a kernel without nexthop objects: the caller
/// then installs routes with inline nexthops.
pub async fn dump_nexthops() -> io::Result<Vec<DumpedNexthop>> {
    const SEQ: u32 = 1;
    let sock = nl::open_socket()?;
    let mut buf = Vec::with_capacity(64);
    frame(
        RTM_GETNEXTHOP,
        NLM_F_REQUEST | NLM_F_DUMP,
        SEQ,
        &nhmsg(0, 0),
        &mut buf,
    );
    sock.send(&buf).await?;
    let mut out = Vec::new();
    let mut rbuf = Vec::with_capacity(nl::RECV_BUF);
    loop {
        rbuf.clear();
        sock.recv(&mut rbuf).await?;
        for m in nl::split(&rbuf) {
            let h = nl::head(m);
            if h.seq != SEQ {
                continue;
            }
            match h.kind {
                NLMSG_DONE => return Ok(out),
                NLMSG_ERROR => {
                    let (errno, text) = nl::ack(m);
                    if errno != 0 {
                        debug!(errno, text, "nexthop dump refused");
                        return Err(io::Error::from_raw_os_error(errno));
                    }
                }
                RTM_NEWNEXTHOP => out.extend(m.get(16..).and_then(parse)),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(buf: &[u8]) -> &[u8] {
        &buf[16..NetlinkBuffer::new(buf).length() as usize]
    }

    #[test]
    fn new_round_trips_through_the_dump_parser() {
        let singles = ["192.0.2.1", "2001:db8::1"]
            .iter()
            .map(|g| NexthopObject::single(0x5a00_0001, 186, g.parse().unwrap(), 7));
        let group = NexthopObject {
            id: 0x5a00_0003,
            protocol: 188,
            body: ObjectBody::Group(vec![
                GroupMember { id: 1, weight: 1 },
                GroupMember { id: 2, weight: 256 },
            ]),
        };
        for o in singles.chain([group]) {
            let mut buf = Vec::new();
            encode_new(&o, 0x500, 9, &mut buf);
            assert_eq!(buf.len() % 4, 0);
            let nb = NetlinkBuffer::new(&buf[..]);
            assert_eq!(nb.message_type(), RTM_NEWNEXTHOP);
            assert_eq!(nb.sequence_number(), 9);
            assert_eq!(nb.flags(), 0x500);
            let d = parse(body_of(&buf)).unwrap();
            assert_eq!(d.object(), Some(o));
        }
    }

    #[test]
    fn delete_carries_only_the_id() {
        let mut buf = Vec::new();
        encode_del(42, 0, 3, &mut buf);
        let d = parse(body_of(&buf)).unwrap();
        assert_eq!(d.id, 42);
        assert_eq!(d.object(), None, "no interface: not a usable object");
    }

    #[test]
    fn blackholes_and_junk_are_not_reused() {
        let mut body = nhmsg(0, 186);
        push_nlas(
            &mut body,
            &[
                DefaultNla::new(NHA_ID, 5u32.to_ne_bytes().to_vec()),
                DefaultNla::new(NHA_BLACKHOLE, vec![]),
            ],
        );
        assert_eq!(parse(&body).unwrap().object(), None);
        assert_eq!(parse(&[1, 2, 3]), None);
        let mut bad = nhmsg(2, 186);
        push_nlas(&mut bad, &[DefaultNla::new(NHA_GATEWAY, vec![1, 2, 3])]);
        assert_eq!(parse(&bad), None);
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = parse(&bytes);
        }
    }
}

//! zebrad's gRPC route conversion, `zebrad::api::route_from_wire`, on
//! routes a client could send. Two ways in, by the first byte:
//! - even: the rest is a raw protobuf `PushRequest` (the Push stream's
//!   message), decoded with prost as tonic would; every route of a batch
//!   and the prefix of every deletion key is converted;
//! - odd: one `Route` built field by field from the bytes (prefix bytes
//!   and length, kind, distance, table, next hops with gateway bytes,
//!   interface name and weight), so the conversion's checks are reached
//!   without the fuzzer having to learn the protobuf encoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prost::Message;
use proto::zebra as pb;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    if sel & 1 == 0 {
        let Ok(req) = pb::PushRequest::decode(rest) else {
            return;
        };
        if let Some(pb::push_request::Msg::Batch(batch)) = req.msg {
            for r in &batch.add {
                let _ = zebrad::api::route_from_wire(r);
            }
            for k in &batch.del {
                if let Some(p) = &k.prefix {
                    let _ = proto::prefix_from_wire(p);
                }
            }
        }
    } else {
        let _ = zebrad::api::route_from_wire(&route_from_bytes(rest));
    }
});

/// Takes bytes off the front of `data`; short input reads as zeros.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.0.len());
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        head.to_vec()
    }
    fn u8(&mut self) -> u8 {
        self.bytes(1).first().copied().unwrap_or(0)
    }
    fn u32(&mut self) -> u32 {
        let mut b = self.bytes(4);
        b.resize(4, 0);
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }
}

fn route_from_bytes(data: &[u8]) -> pb::Route {
    let mut c = Cursor(data);
    let addr_len = usize::from(c.u8() % 20);
    let prefix = (c.u8() & 1 == 0).then(|| pb::Prefix {
        addr: c.bytes(addr_len),
        len: c.u32() % 160,
    });
    let kind = i32::from(c.u8() % 6) - 1;
    let distance = c.u32() % 300;
    let metric = c.u32();
    let table = c.u32() % 300;
    let tag = c.u32();
    let mut nexthops = Vec::new();
    for _ in 0..c.u8() % 5 {
        let gw_len = usize::from(c.u8() % 20);
        let gateway = c.bytes(gw_len);
        let name_len = usize::from(c.u8() % 20);
        let ifname = String::from_utf8_lossy(&c.bytes(name_len)).into_owned();
        let weight = c.u32() % 300;
        nexthops.push(pb::Nexthop {
            gateway,
            ifname,
            weight,
        });
    }
    pb::Route {
        prefix,
        nexthops,
        distance,
        metric,
        table,
        tag,
        kind,
    }
}

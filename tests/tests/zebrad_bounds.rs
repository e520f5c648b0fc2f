//! zebrad's input bounds toward its gRPC clients:
//!
//! - `[rib] max_routes_per_client`: a client pushing beyond it gets each
//!   extra route rejected with a reason naming the limit, keeps its stream
//!   and everything it holds (in the RIB and the kernel); another client is
//!   not affected, and a withdrawal makes room again.
//! - Garbage from clients: bytes that are not HTTP/2 on the socket, a
//!   stream that does not start with Hello, routes with impossible
//!   prefixes, nexthops and tables are refused one by one; zebrad keeps
//!   serving and the routes installed before stay.
//!
//! Topology: zebrad_util's r1/r2/r3 (zebrad on r1).

#[path = "zebrad_util.rs"]
mod util;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use proto::zebra::{Prefix, RouteSource};
use util::*;

const ROUTES: [&str; 5] = [
    "203.0.113.0/27",
    "203.0.113.32/27",
    "203.0.113.64/27",
    "203.0.113.96/27",
    "203.0.113.128/27",
];

#[test]
fn zebrad_route_limit_per_client() {
    if !topotests::is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let t = topo("zebrad_route_limit");
    let cfg =
        t.r1.write_file("zebrad.toml", "[rib]\nmax_routes_per_client = 3\n");
    let z = start_zebrad(&t.r1, &cfg);
    let zc = Zc::new(&t.r1.socket("zebrad"));
    let mut bgp = zc.pusher(RouteSource::Bgp, "default", 30);
    let add = ROUTES.iter().map(|p| route(p, &["192.0.2.2"], 0)).collect();
    let r = bgp.batch(1, add, vec![], true);
    assert_eq!(r.accepted, 3, "{r:?}");
    assert_eq!(r.rejected.len(), 2, "{r:?}");
    for e in &r.rejected {
        assert!(
            e.reason.contains("route limit") && e.reason.contains("max_routes_per_client = 3"),
            "{e:?}"
        );
    }
    for p in &ROUTES[..3] {
        wait_route(&t.r1, MAIN, p, BGP, SOON);
    }
    for p in &ROUTES[3..] {
        assert!(route_of(&t.r1, MAIN, p, BGP).is_none(), "{p} installed");
    }

    // Another client has its own budget.
    let mut st = zc.pusher(RouteSource::Static, "api", 30);
    let r = st.batch(
        1,
        vec![route(ROUTES[4], &["198.51.100.2"], 0)],
        vec![],
        true,
    );
    assert_eq!((r.accepted, r.rejected.len()), (1, 0), "{r:?}");
    wait_route(&t.r1, MAIN, ROUTES[4], STATIC, SOON);

    // The same stream still works: changing a held route is allowed, a
    // withdrawal makes room for a new prefix.
    let r = bgp.batch(
        2,
        vec![route(ROUTES[0], &["198.51.100.2"], 0)],
        vec![],
        false,
    );
    assert_eq!((r.accepted, r.rejected.len()), (1, 0), "{r:?}");
    let r = bgp.batch(3, vec![], vec![key(ROUTES[2], 0)], false);
    assert_eq!((r.accepted, r.rejected.len()), (1, 0), "{r:?}");
    let r = bgp.batch(4, vec![route(ROUTES[3], &["192.0.2.2"], 0)], vec![], false);
    assert_eq!((r.accepted, r.rejected.len()), (1, 0), "{r:?}");
    wait_route(&t.r1, MAIN, ROUTES[3], BGP, SOON);
    wait_gone(&t.r1, MAIN, ROUTES[2], BGP, SOON);
    wait_route_nh(&t.r1, MAIN, ROUTES[0], BGP, &["198.51.100.2 eth1"]);
    assert!(route_of(&t.r1, MAIN, ROUTES[1], BGP).is_some());
    z.assert_running();
}

#[test]
fn zebrad_survives_garbage_clients() {
    if !topotests::is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    let t = topo("zebrad_garbage");
    let cfg = t.r1.write_file("zebrad.toml", "");
    let z = start_zebrad(&t.r1, &cfg);
    let sock = t.r1.socket("zebrad");
    let zc = Zc::new(&sock);
    let mut bgp = zc.pusher(RouteSource::Bgp, "default", 30);
    let r = bgp.batch(1, vec![route(ROUTES[0], &["192.0.2.2"], 0)], vec![], true);
    assert_eq!(r.accepted, 1, "{r:?}");
    wait_route(&t.r1, MAIN, ROUTES[0], BGP, SOON);

    // Not HTTP/2 at all: the connection is closed, nothing else happens.
    for junk in [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
        vec![0xff; 4096],
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\xff\xff\xff\x04\x00\x00\x00\x00".to_vec(),
    ] {
        let mut s = UnixStream::connect(&sock).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let _ = s.write_all(&junk);
        let mut buf = [0u8; 4096];
        // Bounded: reads until zebrad closes or the timeout.
        for _ in 0..64 {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }

    // Routes no kernel could take: each refused with a reason, the stream
    // stays open and the good route of the same batch goes in.
    let mut bad_len = route(ROUTES[1], &["192.0.2.2"], 0);
    bad_len.prefix = Some(Prefix {
        addr: vec![203, 0, 113, 0],
        len: 99,
    });
    let mut bad_addr = route(ROUTES[1], &["192.0.2.2"], 0);
    bad_addr.prefix = Some(Prefix {
        addr: vec![1, 2, 3],
        len: 24,
    });
    let mut host_bits = route(ROUTES[1], &["192.0.2.2"], 0);
    host_bits.prefix = Some(Prefix {
        addr: vec![203, 0, 113, 33],
        len: 27,
    });
    let mut no_prefix = route(ROUTES[1], &["192.0.2.2"], 0);
    no_prefix.prefix = None;
    let mut bad_gw = route(ROUTES[1], &["192.0.2.2"], 0);
    bad_gw.nexthops[0].gateway = vec![9; 7];
    let no_nexthop = route(ROUTES[1], &[], 0);
    let mut bad_kind = route(ROUTES[1], &["192.0.2.2"], 0);
    bad_kind.kind = 77;
    let bad = vec![
        bad_len, bad_addr, host_bits, no_prefix, bad_gw, no_nexthop, bad_kind,
    ];
    let n = bad.len();
    let mut add = bad;
    add.push(route(ROUTES[2], &["192.0.2.2"], 0));
    let r = bgp.batch(2, add, vec![], false);
    assert_eq!(r.accepted, 1, "{r:?}");
    assert_eq!(r.rejected.len(), n, "{r:?}");
    assert!(r.rejected.iter().all(|e| !e.reason.is_empty()), "{r:?}");
    wait_route(&t.r1, MAIN, ROUTES[2], BGP, SOON);
    assert!(route_of(&t.r1, MAIN, ROUTES[1], BGP).is_none());

    // zebrad still serves, the first route is still there.
    let s = zc.status();
    assert!(s.rib_routes >= 2, "{s:?}");
    assert!(route_of(&t.r1, MAIN, ROUTES[0], BGP).is_some());
    let zc2 = Zc::new(&sock);
    assert_eq!(zc2.show_prefix(0, ROUTES[0]).len(), 1);
    z.assert_running();
}

//! zebrad in a namespace, end to end: it starts, answers on its socket, and
//! routes pushed over `PushRoutes` land in the kernel with `proto bgp` (186);
//! once it is stopped and the namespace removed nothing is left.

use std::time::Duration;

use proto::transport::{connect, Address};
use proto::zebra::zebra_client::ZebraClient;
use proto::zebra::{
    push_request, Hello, Nexthop, Prefix, PushRequest, Route, RouteBatch, RouteSource,
    StatusRequest,
};
use tokio_stream::StreamExt;
use topotests::{bin, wait_until, Lab};

fn route(a: [u8; 4], len: u32, gw: [u8; 4]) -> Route {
    Route {
        prefix: Some(Prefix {
            addr: a.to_vec(),
            len,
        }),
        nexthops: vec![Nexthop {
            gateway: gw.to_vec(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

#[test]
fn pushed_routes_reach_the_kernel() {
    let lab = Lab::new("pushed_routes_reach_the_kernel");
    let r1 = lab.node("r1");
    let r2 = lab.node("r2");
    lab.link(&r1, "eth0", &r2, "eth0");
    r1.add_addr("eth0", "192.0.2.1/24");
    r2.add_addr("eth0", "192.0.2.2/24");
    let cfg = r1.write_file("zebrad.toml", "[rib]\nstale_time = 120\necmp_max = 16\n");
    let zebrad = bin("zebrad");
    let (z, c, run) = (
        zebrad.to_string_lossy().into_owned(),
        cfg.to_string_lossy().into_owned(),
        r1.run_dir().to_string_lossy().into_owned(),
    );
    let p = r1.spawn("zebrad", &[&z, "-f", &c, "--run-dir", &run]);
    let sock = r1.socket("zebrad");
    p.wait_socket(&sock, Duration::from_secs(20));

    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let reply = rt.block_on(async {
        let ch = connect(&Address::Unix(sock.clone()))
            .await
            .expect("connect");
        let mut client = ZebraClient::new(ch);
        let status = client.status(StatusRequest {}).await.expect("Status");
        assert!(!status.get_ref().version.is_empty(), "{status:?}");
        tx.send(PushRequest {
            msg: Some(push_request::Msg::Hello(Hello {
                source: RouteSource::Bgp as i32,
                instance: "smoke".into(),
                stale_time: 0,
            })),
        })
        .await
        .expect("hello");
        let mut replies = client
            .push_routes(tokio_stream::wrappers::ReceiverStream::new(rx))
            .await
            .expect("PushRoutes")
            .into_inner();
        tx.send(PushRequest {
            msg: Some(push_request::Msg::Batch(RouteBatch {
                seq: 1,
                add: vec![
                    route([198, 51, 100, 0], 24, [192, 0, 2, 2]),
                    route([203, 0, 113, 0], 25, [192, 0, 2, 2]),
                ],
                ..Default::default()
            })),
        })
        .await
        .expect("batch");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let r = tokio::time::timeout_at(deadline, replies.next())
                .await
                .expect("an answer to batch 1 within 20 s")
                .expect("stream open")
                .expect("reply");
            if r.seq == 1 {
                break r;
            }
        }
    });
    assert_eq!(reply.accepted, 2, "{reply:?}");
    assert!(reply.rejected.is_empty(), "{reply:?}");
    wait_until(Duration::from_secs(20), "both routes in the kernel", || {
        r1.route(254, "198.51.100.0/24").is_some() && r1.route(254, "203.0.113.0/25").is_some()
    });
    let bgp = r1.must(&["ip", "-4", "route", "show", "table", "254", "proto", "186"]);
    assert!(
        bgp.contains("198.51.100.0/24 nhid ")
            && bgp.contains("via 192.0.2.2")
            && bgp.contains("203.0.113.0/25"),
        "{bgp}"
    );
    // Both routes name one kernel nexthop object of zebrad's (proto bgp).
    let route = r1.route(254, "198.51.100.0/24").unwrap_or_default();
    let nhid = route["nhid"].as_u64().unwrap_or(0);
    assert!(nhid != 0, "{route}");
    let other = r1.route(254, "203.0.113.0/25").unwrap_or_default();
    assert_eq!(other["nhid"].as_u64(), Some(nhid), "{other}");
    let obj = r1.must(&["ip", "nexthop", "show", "id", &nhid.to_string()]);
    assert!(
        obj.contains("via 192.0.2.2") && obj.contains("proto bgp"),
        "{obj}"
    );
    p.assert_running();
    drop(tx);
    drop(rt);
}

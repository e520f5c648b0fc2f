//! Kernel tests of the FIB layer (`zebrad::fib`, `zebrad::iface`).
//!
//! Every test runs in a fresh thread that first moves itself into a new,
//! empty network namespace (`unshare(CLONE_NEWNET)`); the namespace dies with
//! the thread. The `ip` commands are spawned from that thread, so they run
//! in it too (checked by [`netns`]). Nothing touches the host's namespace.
//! Addresses come from the documentation ranges only. Needs root.

use std::collections::HashSet;
use std::net::IpAddr;
use std::process::Command;
use std::time::Duration;

use ipnetwork::IpNetwork;
use nix::sched::{unshare, CloneFlags};
use tokio::sync::mpsc;
use zebrad::fib::{
    self, FibKind, FibNexthop, FibOp, FibOutcome, FibRoute, FibRule, FibTarget, FibWriter,
    KernelEvent,
};
use zebrad::iface;

/// Our protocol id in these tests.
const P: u8 = 186;

/// Runs `body` in a thread inside a new network namespace with `lo` up and
/// a current-thread tokio runtime.
fn netns<F, Fut>(body: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let t = std::thread::spawn(move || {
        unshare(CloneFlags::CLONE_NEWNET).expect("unshare(CLONE_NEWNET): run the tests as root");
        // A child of this thread must see the new, empty namespace.
        let links = ip("-o link show");
        assert_eq!(links.lines().count(), 1, "not in a fresh netns: {links}");
        assert!(links.contains(": lo:"), "{links}");
        ip("link set lo up");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            tokio::time::timeout(Duration::from_secs(120), body())
                .await
                .expect("test timed out");
        });
    });
    if let Err(e) = t.join() {
        std::panic::resume_unwind(e);
    }
}

/// Runs `ip ARGS` and returns its stdout; panics if it fails.
fn ip(args: &str) -> String {
    let out = Command::new("ip")
        .args(args.split_whitespace())
        .output()
        .expect("run ip");
    assert!(
        out.status.success(),
        "ip {args}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// veth0 (192.0.2.1/24, 2001:db8::1/64) <-> veth1, both up. Returns
/// veth0's index.
async fn veth() -> u32 {
    ip("link add veth0 type veth peer name veth1");
    ip("addr add 192.0.2.1/24 dev veth0");
    ip("addr add 2001:db8::1/64 dev veth0 nodad");
    ip("link set veth0 up");
    ip("link set veth1 up");
    ifindex("veth0").await
}

async fn ifindex(name: &str) -> u32 {
    let links = iface::dump_links().await.unwrap();
    links
        .iter()
        .find(|l| l.name == name)
        .map(|l| l.index)
        .unwrap()
}

fn net(s: &str) -> IpNetwork {
    s.parse().unwrap()
}

fn gw(s: &str, ifindex: u32) -> FibNexthop {
    FibNexthop {
        gateway: Some(s.parse::<IpAddr>().unwrap()),
        ifindex,
        weight: 1,
    }
}

fn unicast(prefix: &str, table: u32, nexthops: Vec<FibNexthop>) -> FibRoute {
    FibRoute {
        prefix: net(prefix),
        table,
        protocol: P,
        priority: 20,
        kind: FibKind::Unicast,
        nexthops,
        nh_id: 0,
    }
}

fn delete(r: &FibRoute) -> FibOp {
    FibOp::Delete {
        prefix: r.prefix,
        table: r.table,
        protocol: r.protocol,
        priority: r.priority,
    }
}

fn writer() -> (FibWriter, mpsc::Receiver<Vec<FibOutcome>>) {
    let (tx, rx) = mpsc::channel(64);
    (fib::spawn_writer(tx).unwrap(), rx)
}

/// Submits `ops` and waits for exactly one outcome per op.
async fn apply(
    w: &FibWriter,
    rx: &mut mpsc::Receiver<Vec<FibOutcome>>,
    ops: Vec<FibOp>,
) -> Vec<FibOutcome> {
    let n = ops.len();
    w.submit(ops).await.unwrap();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        out.extend(rx.recv().await.unwrap());
    }
    assert_eq!(out.len(), n);
    out
}

async fn ours() -> Vec<FibRoute> {
    let mut v: Vec<FibRoute> = fib::dump_routes()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.protocol == P)
        .collect();
    v.sort_by_key(|r| (r.table, r.prefix.is_ipv6(), r.prefix.to_string()));
    v
}

#[test]
fn replace_ecmp_blackhole_tables_v6_and_delete() {
    netns(|| async {
        let idx = veth().await;
        let (w, mut rx) = writer();
        let single = unicast("198.51.100.0/24", 254, vec![gw("192.0.2.2", idx)]);
        let mut ecmp = unicast(
            "203.0.113.0/25",
            254,
            vec![gw("192.0.2.2", idx), gw("192.0.2.3", idx)],
        );
        ecmp.nexthops[1].weight = 3;
        let mut hole = unicast("203.0.113.128/25", 254, vec![]);
        hole.kind = FibKind::Blackhole;
        let mut unreach = unicast("2001:db8:dead::/48", 254, vec![]);
        unreach.kind = FibKind::Unreachable;
        let mut prohibit = unicast("198.51.100.0/25", 1000, vec![]);
        prohibit.kind = FibKind::Prohibit;
        let big_table = unicast("198.51.100.0/24", 1000, vec![gw("192.0.2.2", 0)]);
        let v6 = unicast("2001:db8:1::/48", 254, vec![gw("2001:db8::2", idx)]);
        let v6_ecmp = unicast(
            "2001:db8:2::/48",
            1000,
            vec![gw("2001:db8::2", idx), gw("2001:db8::3", idx)],
        );
        let all = vec![
            single.clone(),
            ecmp.clone(),
            hole.clone(),
            unreach.clone(),
            prohibit.clone(),
            big_table.clone(),
            v6.clone(),
            v6_ecmp.clone(),
        ];
        let out = apply(
            &w,
            &mut rx,
            all.iter().cloned().map(FibOp::Replace).collect(),
        )
        .await;
        for (o, r) in out.iter().zip(&all) {
            assert_eq!(
                o,
                &FibOutcome {
                    target: FibTarget::Route(r.table, r.prefix, r.priority),
                    replace: true,
                    error: None
                }
            );
        }

        // The kernel shows them as we meant them (dump_routes sees protocol P).
        let got = ours().await;
        let mut want = all.clone();
        // The kernel resolves a gateway without an interface.
        want[5].nexthops[0].ifindex = idx;
        want.sort_by_key(|r| (r.table, r.prefix.is_ipv6(), r.prefix.to_string()));
        assert_eq!(got, want);
        let text = ip("route show table 1000");
        assert!(
            text.contains("198.51.100.0/24 via 192.0.2.2 dev veth0 proto bgp metric 20"),
            "{text}"
        );
        assert!(
            text.contains("prohibit 198.51.100.0/25 proto bgp metric 20"),
            "{text}"
        );
        let text = ip("route show 203.0.113.0/25");
        assert!(
            text.contains("nexthop via 192.0.2.3 dev veth0 weight 3"),
            "{text}"
        );
        let text = ip("-6 route show table 1000");
        assert!(
            text.contains("nexthop via 2001:db8::3 dev veth0 weight 1"),
            "{text}"
        );

        // Replace changes a route in place.
        let moved = unicast("198.51.100.0/24", 254, vec![gw("192.0.2.3", idx)]);
        let out = apply(&w, &mut rx, vec![FibOp::Replace(moved.clone())]).await;
        assert_eq!(out[0].error, None);
        assert!(ip("route show 198.51.100.0/24").contains("via 192.0.2.3"));

        // Delete everything, in one batch.
        let mut dels: Vec<FibOp> = all.iter().map(delete).collect();
        dels[0] = delete(&moved);
        let out = apply(&w, &mut rx, dels).await;
        assert!(
            out.iter().all(|o| !o.replace && o.error.is_none()),
            "{out:?}"
        );
        assert_eq!(ours().await, vec![]);

        // Deleting again reports the kernel's ESRCH.
        let out = apply(&w, &mut rx, vec![delete(&single)]).await;
        assert_eq!(out[0].error, Some(libc::ESRCH));
    });
}

#[test]
fn a_failing_op_does_not_stall_the_batch() {
    netns(|| async {
        let idx = veth().await;
        let (w, mut rx) = writer();
        let ok1 = unicast("198.51.100.0/24", 254, vec![gw("192.0.2.2", idx)]);
        // No route toward 203.0.113.1: the kernel refuses the gateway.
        let bad = unicast("198.51.100.0/25", 254, vec![gw("203.0.113.1", 0)]);
        let ok2 = unicast("2001:db8:7::/48", 254, vec![gw("2001:db8::2", idx)]);
        let ops = vec![
            FibOp::Replace(ok1.clone()),
            FibOp::Replace(bad),
            FibOp::Replace(ok2.clone()),
        ];
        let out = apply(&w, &mut rx, ops).await;
        let errors: Vec<_> = out.iter().map(|o| o.error).collect();
        assert_eq!(errors, vec![None, Some(libc::ENETUNREACH), None]);
        assert_eq!(out[1].prefix(), Some(net("198.51.100.0/25")));
        assert_eq!(ours().await, vec![ok1, ok2]);
    });
}

#[test]
fn without_acks_only_failures_come_back() {
    netns(|| async {
        let idx = veth().await;
        let (tx, mut rx) = mpsc::channel(64);
        let w = fib::writer::spawn_writer_with(
            fib::WriterConfig {
                report_success: false,
                per_send: 512,
                ..fib::WriterConfig::default()
            },
            tx,
        )
        .unwrap();
        let ok1 = unicast("198.51.100.0/24", 254, vec![gw("192.0.2.2", idx)]);
        let bad = unicast("198.51.100.0/25", 254, vec![gw("203.0.113.1", 0)]);
        let ok2 = unicast("2001:db8:7::/48", 254, vec![gw("2001:db8::2", idx)]);
        // Many good routes around the bad one, in several sends.
        let mut ops: Vec<FibOp> = (0..2000u32)
            .map(|i| {
                let p = format!("203.0.113.{}/32", i % 200);
                FibOp::Replace(unicast(&p, 1000 + i / 200, vec![gw("192.0.2.2", idx)]))
            })
            .collect();
        ops.insert(700, FibOp::Replace(bad));
        ops.insert(0, FibOp::Replace(ok1.clone()));
        ops.push(FibOp::Replace(ok2.clone()));
        w.submit(ops).await.unwrap();
        let out = tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].prefix(), Some(net("198.51.100.0/25")));
        assert_eq!(out[0].error, Some(libc::ENETUNREACH));
        let v = ours().await;
        assert!(v.contains(&ok1) && v.contains(&ok2));
        assert_eq!(v.len(), 2002, "every good route is in the kernel");
        // Nothing else comes back for the 2,002 that succeeded.
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(300), rx.recv())
                .await
                .is_err()
        );
    });
}

/// A bijection of 0..n (a stride co-prime with n), so bulk deletes do not go
/// out in ascending order.
fn spread(n: usize) -> impl Iterator<Item = usize> {
    let stride = (0..)
        .map(|k| n / 3 + k)
        .find(|s| gcd(*s, n) == 1)
        .unwrap_or(1);
    (0..n).map(move |i| (i * stride) % n)
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

#[test]
fn hundred_thousand_routes_in_one_batch() {
    const N: usize = 100_000;
    netns(|| async {
        let idx = veth().await;
        let (w, mut rx) = writer();
        // 2001:db8:1::/64 onwards: 100k /64s, all inside 2001:db8::/32.
        let routes: Vec<FibRoute> = (0..N)
            .map(|i| {
                let i = i + 0x1_0000;
                let p = format!("2001:db8:{:x}:{:x}::/64", i >> 16, i & 0xffff);
                unicast(&p, 254, vec![gw("2001:db8::2", idx)])
            })
            .collect();
        let out = apply(
            &w,
            &mut rx,
            routes.iter().cloned().map(FibOp::Replace).collect(),
        )
        .await;
        assert!(out.iter().all(|o| o.error.is_none()));
        // One outcome per op, in op order.
        assert!(out
            .iter()
            .zip(&routes)
            .all(|(o, r)| o.prefix() == Some(r.prefix)));
        let got: HashSet<IpNetwork> = ours().await.into_iter().map(|r| r.prefix).collect();
        assert_eq!(got.len(), N);
        assert!(routes.iter().all(|r| got.contains(&r.prefix)));

        let dels: Vec<FibOp> = spread(N).map(|i| delete(&routes[i])).collect();
        let out = apply(&w, &mut rx, dels).await;
        assert!(out.iter().all(|o| o.error.is_none()));
        assert_eq!(ours().await.len(), 0);
    });
}

/// Waits for the first event matching `f`, failing on any event `bad`
/// accepts on the way.
async fn expect_event(
    rx: &mut mpsc::Receiver<KernelEvent>,
    f: impl Fn(&KernelEvent) -> bool,
    bad: impl Fn(&KernelEvent) -> bool,
) -> KernelEvent {
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("no such kernel event")
            .unwrap();
        assert!(!bad(&ev), "unexpected event {ev:?}");
        if f(&ev) {
            return ev;
        }
    }
}

fn route_added_of(ev: &KernelEvent, proto: u8) -> bool {
    matches!(ev, KernelEvent::RouteAdded(r) if r.protocol == proto)
}

#[test]
fn monitor_skips_our_additions_but_reports_deletions_and_links() {
    netns(|| async {
        let idx = veth().await;
        let (etx, mut erx) = mpsc::channel(1024);
        fib::spawn_monitor(vec![P], etx).unwrap();
        let (w, mut rx) = writer();
        let mine: Vec<FibRoute> = (0..100)
            .map(|i| {
                unicast(
                    &format!("198.51.100.{i}/32"),
                    254,
                    vec![gw("192.0.2.2", idx)],
                )
            })
            .chain([unicast(
                "2001:db8:5::/48",
                254,
                vec![gw("2001:db8::2", idx)],
            )])
            .collect();
        let out = apply(
            &w,
            &mut rx,
            mine.iter().cloned().map(FibOp::Replace).collect(),
        )
        .await;
        assert!(out.iter().all(|o| o.error.is_none()));

        // Someone else's route is reported; none of ours came before it.
        ip("route add 203.0.113.0/24 via 192.0.2.3 proto 199");
        let ev = expect_event(
            &mut erx,
            |e| route_added_of(e, 199),
            |e| route_added_of(e, P),
        )
        .await;
        let KernelEvent::RouteAdded(r) = ev else {
            unreachable!()
        };
        assert_eq!(r.prefix, net("203.0.113.0/24"));
        assert_eq!(r.nexthops, vec![gw("192.0.2.3", idx)]);

        // An outside `ip route del` of ours is reported, v4 and v6.
        ip("route del 198.51.100.7/32 proto bgp");
        let ev = expect_event(
            &mut erx,
            |e| matches!(e, KernelEvent::RouteDeleted(_)),
            |e| route_added_of(e, P),
        )
        .await;
        assert_eq!(ev, KernelEvent::RouteDeleted(mine[7].clone()));
        ip("-6 route del 2001:db8:5::/48 proto bgp");
        let ev = expect_event(
            &mut erx,
            |e| matches!(e, KernelEvent::RouteDeleted(_)),
            |e| route_added_of(e, P),
        )
        .await;
        assert_eq!(ev, KernelEvent::RouteDeleted(mine[100].clone()));

        // Link down and up.
        let peer = ifindex("veth1").await;
        ip("link set veth1 down");
        expect_event(
            &mut erx,
            |e| matches!(e, KernelEvent::Link(l) if l.index == peer && !l.admin_up),
            |_| false,
        )
        .await;
        ip("link set veth1 up");
        let ev = expect_event(
            &mut erx,
            |e| matches!(e, KernelEvent::Link(l) if l.index == peer && l.admin_up),
            |_| false,
        )
        .await;
        let KernelEvent::Link(l) = ev else {
            unreachable!()
        };
        assert_eq!((l.name.as_str(), l.kind.as_str()), ("veth1", "veth"));

        // Addresses come and go.
        ip("addr add 198.51.100.200/25 dev veth1");
        expect_event(
            &mut erx,
            |e| {
                *e == KernelEvent::AddrAdded {
                    ifindex: peer,
                    addr: net("198.51.100.200/25"),
                }
            },
            |_| false,
        )
        .await;
        ip("addr del 198.51.100.200/25 dev veth1");
        expect_event(
            &mut erx,
            |e| {
                *e == KernelEvent::AddrRemoved {
                    ifindex: peer,
                    addr: net("198.51.100.200/25"),
                }
            },
            |_| false,
        )
        .await;

        // A replace of ours stays silent too (checked against a marker).
        let out = apply(&w, &mut rx, vec![FibOp::Replace(mine[7].clone())]).await;
        assert_eq!(out[0].error, None);
        ip("route add 203.0.113.0/25 via 192.0.2.3 proto 199");
        expect_event(
            &mut erx,
            |e| matches!(e, KernelEvent::RouteAdded(r) if r.prefix == net("203.0.113.0/25")),
            |e| route_added_of(e, P),
        )
        .await;
    });
}

#[test]
fn rules_add_dump_delete() {
    netns(|| async {
        veth().await;
        let v4 = FibRule {
            v6: false,
            priority: 100,
            from: Some(net("198.51.100.0/24")),
            to: None,
            iif: Some("veth0".into()),
            oif: None,
            fwmark: Some(7),
            fwmask: Some(0xff),
            table: 1000,
        };
        let v6 = FibRule {
            v6: true,
            priority: 101,
            from: None,
            to: Some(net("2001:db8:9::/48")),
            iif: None,
            oif: Some("veth0".into()),
            fwmark: None,
            fwmask: None,
            table: 1000,
        };
        fib::add_rule(&v4, P).await.unwrap();
        fib::add_rule(&v6, P).await.unwrap();
        ip("rule add from 203.0.113.0/24 table 1000 pref 102 proto 199");
        assert_eq!(
            fib::dump_rules(P).await.unwrap(),
            vec![v4.clone(), v6.clone()]
        );
        assert_eq!(fib::dump_rules(199).await.unwrap().len(), 1);
        let text = ip("rule show");
        assert!(
            text.contains(
                "100:\tfrom 198.51.100.0/24 fwmark 0x7/0xff iif veth0 lookup 1000 proto bgp"
            ),
            "{text}"
        );
        let e = fib::add_rule(&v4, P).await.unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EEXIST));
        // Another protocol's id does not match our rule.
        let e = fib::del_rule(&v4, 199).await.unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
        fib::del_rule(&v4, P).await.unwrap();
        fib::del_rule(&v6, P).await.unwrap();
        assert_eq!(fib::dump_rules(P).await.unwrap(), vec![]);
        assert_eq!(fib::dump_rules(199).await.unwrap().len(), 1);
        let e = fib::del_rule(&v4, P).await.unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENOENT));
    });
}

#[test]
fn links_and_addresses() {
    netns(|| async {
        let idx = veth().await;
        let links = iface::dump_links().await.unwrap();
        let lo = links.iter().find(|l| l.name == "lo").unwrap();
        assert!(lo.admin_up && lo.oper_up);
        assert_eq!(lo.kind, "loopback");
        let v0 = links.iter().find(|l| l.index == idx).unwrap();
        assert_eq!(v0.name, "veth0");
        assert_eq!(v0.kind, "veth");
        assert_eq!(v0.mac.len(), 6);
        assert_eq!(v0.mtu, 1500);
        assert!(v0.admin_up);
        // The link-local address comes once the carrier is up: poll.
        let mut addrs = Vec::new();
        for _ in 0..100 {
            addrs = iface::dump_addrs().await.unwrap();
            if addrs
                .iter()
                .any(|(i, a)| *i == idx && a.to_string().starts_with("fe80:"))
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(addrs.contains(&(idx, net("192.0.2.1/24"))), "{addrs:?}");
        assert!(addrs.contains(&(idx, net("2001:db8::1/64"))), "{addrs:?}");
        assert!(addrs.contains(&(1, net("127.0.0.1/8"))), "{addrs:?}");
        // Link-local addresses are included.
        assert!(
            addrs
                .iter()
                .any(|(i, a)| *i == idx && a.to_string().starts_with("fe80:")),
            "{addrs:?}"
        );
    });
}

#[test]
fn dump_ignores_kernel_and_local_routes_but_keeps_other_protocols() {
    netns(|| async {
        veth().await;
        ip("route add 203.0.113.0/24 via 192.0.2.9 proto static metric 5 table 7");
        let all = fib::dump_routes().await.unwrap();
        // Connected (proto kernel) and local-table routes are not reported.
        assert!(
            all.iter().all(|r| r.protocol != 2 && r.table != 255),
            "{all:?}"
        );
        let r = all
            .iter()
            .find(|r| r.prefix == net("203.0.113.0/24"))
            .unwrap();
        assert_eq!((r.protocol, r.table, r.priority), (4, 7, 5));
    });
}

#[test]
fn a_caller_that_submits_without_reading_outcomes_does_not_deadlock() {
    netns(|| async {
        let idx = veth().await;
        // Tiny windows and queues, an outcome channel of one batch.
        let cfg = fib::writer::WriterConfig {
            per_send: 4,
            max_in_flight: 8,
            queue_batches: 2,
            ..Default::default()
        };
        let (tx, mut rx) = mpsc::channel(1);
        let w = fib::writer::spawn_writer_with(cfg, tx).unwrap();
        let routes: Vec<FibRoute> = (0..1000)
            .map(|i| {
                let p = format!("2001:db8:{:x}::/48", i + 0x100);
                unicast(&p, 254, vec![gw("2001:db8::2", idx)])
            })
            .collect();
        for chunk in routes.chunks(10) {
            w.submit(chunk.iter().cloned().map(FibOp::Replace).collect())
                .await
                .unwrap();
        }
        let mut out = Vec::new();
        while out.len() < routes.len() {
            out.extend(rx.recv().await.unwrap());
        }
        assert!(out
            .iter()
            .zip(&routes)
            .all(|(o, r)| o.prefix() == Some(r.prefix) && o.error.is_none()));
        assert_eq!(ours().await.len(), routes.len());
    });
}

/// Nexthop objects through the writer, on the real kernel: an object, IPv4
/// and IPv6 routes naming it (an IPv4 route through an IPv6 gateway
/// object, RFC 8950), the dump seeing both sides, deleting the object.
#[test]
fn nexthop_objects_and_routes_naming_them() {
    netns(|| async {
        let idx = veth().await;
        let (w, mut rx) = writer();
        let obj = |id, g: &str| fib::NexthopObject::single(id, P, g.parse().unwrap(), idx);
        let named = |prefix: &str, g: &str, id| FibRoute {
            nh_id: id,
            ..unicast(prefix, 254, vec![gw(g, idx)])
        };
        let v4 = named("198.51.100.0/25", "192.0.2.2", 70);
        let v6 = named("2001:db8:100::/48", "2001:db8::2", 71);
        let v4_over_v6 = named("203.0.113.0/24", "2001:db8::2", 71);
        let out = apply(
            &w,
            &mut rx,
            vec![
                FibOp::Nexthop(obj(70, "192.0.2.2")),
                FibOp::Nexthop(obj(71, "2001:db8::2")),
                FibOp::Replace(v4.clone()),
                FibOp::Replace(v6.clone()),
                FibOp::Replace(v4_over_v6.clone()),
            ],
        )
        .await;
        assert!(out.iter().all(|o| o.error.is_none()), "{out:?}");
        let found = fib::dump_nexthops().await.unwrap();
        let mut objects: Vec<_> = found.iter().filter_map(|d| d.object()).collect();
        objects.sort_by_key(|o| o.id);
        assert_eq!(objects, vec![obj(70, "192.0.2.2"), obj(71, "2001:db8::2")]);
        // The kernel reports the object's id and, in compat mode, its
        // gateway and interface: what adoption at start relies on.
        assert_eq!(
            ours().await,
            vec![v4.clone(), v4_over_v6.clone(), v6.clone()]
        );
        let shown = ip("route show 198.51.100.0/25");
        assert!(shown.contains("nhid 70"), "{shown}");

        // A route naming a missing object is refused, the others stay.
        let missing = named("198.51.100.128/25", "192.0.2.2", 99);
        let out = apply(&w, &mut rx, vec![FibOp::Replace(missing)]).await;
        assert!(out[0].error.is_some());

        // Deleting an object takes its routes with it.
        let out = apply(&w, &mut rx, vec![FibOp::DeleteNexthop { id: 71 }]).await;
        assert_eq!(out[0].error, None);
        assert_eq!(ours().await, vec![v4]);
        let out = apply(&w, &mut rx, vec![FibOp::DeleteNexthop { id: 71 }]).await;
        assert_eq!(out[0].error, Some(libc::ENOENT), "already gone");

        // A multipath group of two objects with weights, and a route
        // naming it: the kernel reports the group and, in compat mode, the
        // route's two legs.
        let group = fib::NexthopObject {
            id: 80,
            protocol: P,
            body: fib::ObjectBody::Group(vec![
                fib::GroupMember { id: 70, weight: 1 },
                fib::GroupMember { id: 72, weight: 3 },
            ]),
        };
        let ecmp = FibRoute {
            nh_id: 80,
            ..unicast(
                "198.51.100.128/25",
                254,
                vec![
                    FibNexthop {
                        weight: 1,
                        ..gw("192.0.2.2", idx)
                    },
                    FibNexthop {
                        weight: 3,
                        ..gw("192.0.2.3", idx)
                    },
                ],
            )
        };
        let out = apply(
            &w,
            &mut rx,
            vec![
                FibOp::Nexthop(obj(72, "192.0.2.3")),
                FibOp::Nexthop(group.clone()),
                FibOp::Replace(ecmp.clone()),
            ],
        )
        .await;
        assert!(out.iter().all(|o| o.error.is_none()), "{out:?}");
        let found = fib::dump_nexthops().await.unwrap();
        assert!(
            found.iter().any(|d| d.object() == Some(group.clone())),
            "{found:?}"
        );
        let shown = ip("-j route show 198.51.100.128/25");
        assert!(
            shown.contains("\"nhid\":80") && shown.contains("192.0.2.3"),
            "{shown}"
        );
        // Deleting the group takes its route and leaves its members.
        let out = apply(&w, &mut rx, vec![FibOp::DeleteNexthop { id: 80 }]).await;
        assert_eq!(out[0].error, None);
        assert!(ours().await.iter().all(|r| r.prefix != ecmp.prefix));
        let ids: Vec<u32> = fib::dump_nexthops()
            .await
            .unwrap()
            .iter()
            .map(|d| d.id)
            .collect();
        assert!(
            ids.contains(&70) && ids.contains(&72) && !ids.contains(&80),
            "{ids:?}"
        );
    });
}

//! Several pure [`Instance`]s wired together in memory: packets go through
//! the real encoder and decoder, time advances in 100 ms steps. Checks the
//! state machines end to end (adjacencies, DR election, flooding, SPF,
//! ABR summaries, stub areas, external routes, link failure) without a
//! socket or a clock.

use std::net::Ipv4Addr;

use ipnetwork::Ipv4Network;

use crate::area::AreaConfig;
use crate::instance::{Action, ExternalRoute, Instance, InstanceConfig, Millis, SpfThrottle};
use crate::interface::{IfaceParams, IfaceType, IsmState};
use crate::lsa::{ExternalMetricType, LsaType};
use crate::neighbor::NsmState;
use crate::packet::{AuthConfig, Packet, ALL_D_ROUTERS, ALL_SPF_ROUTERS};
use crate::spf::PathType;

struct Port {
    router: usize,
    ifname: String,
    addr: Ipv4Network,
    ifindex: u32,
}

struct Segment {
    ports: Vec<Port>,
    up: bool,
}

struct Net {
    routers: Vec<Instance>,
    segments: Vec<Segment>,
    now: Millis,
    /// Interfaces each router joined AllDRouters on.
    joined_dr: Vec<Vec<u32>>,
}

fn rid(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(192, 0, 2, n)
}

fn params(name: &str, area: Ipv4Addr, kind: IfaceType) -> IfaceParams {
    let mut p = IfaceParams::new(name, area);
    p.kind = kind;
    p.hello_interval = 1;
    p.dead_interval = 4;
    p.retransmit_interval = 2;
    p
}

impl Net {
    fn new(configs: Vec<InstanceConfig>) -> Net {
        let n = configs.len();
        Net {
            routers: configs.into_iter().map(|c| Instance::new(c, 0)).collect(),
            segments: Vec::new(),
            now: 0,
            joined_dr: vec![Vec::new(); n],
        }
    }

    /// Joins interfaces into a segment and brings them up.
    fn segment(&mut self, members: &[(usize, &str, &str)]) {
        let mut ports = Vec::new();
        for (r, ifname, addr) in members {
            let addr: Ipv4Network = addr.parse().unwrap();
            let ifindex = 10 + self.segments.len() as u32 * 10 + ports.len() as u32;
            ports.push(Port {
                router: *r,
                ifname: ifname.to_string(),
                addr,
                ifindex,
            });
        }
        for p in &ports {
            let now = self.now;
            self.routers[p.router].interface_update(
                &p.ifname,
                p.ifindex,
                true,
                1500,
                Some(p.addr),
                false,
                now,
            );
        }
        self.segments.push(Segment { ports, up: true });
    }

    fn set_link(&mut self, seg: usize, up: bool) {
        self.segments[seg].up = up;
        let now = self.now;
        for p in &self.segments[seg].ports {
            self.routers[p.router].interface_update(
                &p.ifname,
                p.ifindex,
                up,
                1500,
                Some(p.addr),
                false,
                now,
            );
        }
    }

    fn port_of(&self, router: usize, ifindex: u32) -> Option<(usize, usize)> {
        for (s, seg) in self.segments.iter().enumerate() {
            for (k, p) in seg.ports.iter().enumerate() {
                if p.router == router && p.ifindex == ifindex {
                    return Some((s, k));
                }
            }
        }
        None
    }

    fn step(&mut self) {
        self.now += 100;
        let now = self.now;
        for r in &mut self.routers {
            if r.next_deadline() <= now {
                r.poll(now);
            }
        }
        // Deliver until quiet.
        for _ in 0..50 {
            let mut sent = Vec::new();
            for (idx, r) in self.routers.iter_mut().enumerate() {
                for a in r.take_actions() {
                    match a {
                        Action::Send {
                            ifindex,
                            dst,
                            packet,
                        } => sent.push((idx, ifindex, dst, packet)),
                        Action::JoinDRouters { ifindex, join } => {
                            if join {
                                self.joined_dr[idx].push(ifindex);
                            } else {
                                self.joined_dr[idx].retain(|i| *i != ifindex);
                            }
                        }
                        _ => {}
                    }
                }
            }
            if sent.is_empty() {
                break;
            }
            for (from, ifindex, dst, packet) in sent {
                let Some((s, k)) = self.port_of(from, ifindex) else {
                    continue;
                };
                let seg = &self.segments[s];
                if !seg.up {
                    continue;
                }
                let bytes = packet.encode(&AuthConfig::Null, 0);
                let src = seg.ports[k].addr.ip();
                let targets: Vec<(usize, u32)> = seg
                    .ports
                    .iter()
                    .enumerate()
                    .filter(|(j, p)| {
                        *j != k
                            && (dst == ALL_SPF_ROUTERS
                                || (dst == ALL_D_ROUTERS
                                    && self.joined_dr[p.router].contains(&p.ifindex))
                                || dst == p.addr.ip())
                    })
                    .map(|(_, p)| (p.router, p.ifindex))
                    .collect();
                for (r, ifindex) in targets {
                    let (p, auth) = Packet::decode(&bytes, &AuthConfig::Null).unwrap();
                    self.routers[r].receive(ifindex, src, dst, p, auth, now);
                }
            }
        }
    }

    fn run(&mut self, ms: u64) {
        let end = self.now + ms;
        while self.now < end {
            self.step();
        }
    }

    fn run_until(&mut self, ms: u64, what: &str, mut f: impl FnMut(&Net) -> bool) {
        let end = self.now + ms;
        while self.now < end {
            if f(self) {
                return;
            }
            self.step();
        }
        panic!("not reached within {ms} ms: {what}");
    }

    fn all_full(&self) -> bool {
        self.segments.iter().all(|seg| {
            !seg.up
                || seg.ports.iter().all(|p| {
                    let i = &self.routers[p.router].ifaces[&p.ifname];
                    // Every adjacency that should form is Full.
                    i.neighbors.values().all(|n| {
                        n.state == NsmState::Full
                            || (n.state == NsmState::TwoWay && !i.adjacency_wanted(n))
                    }) && i.neighbors.len() + 1 == seg.ports.len()
                })
        })
    }
}

fn config(id: u8, ifaces: Vec<IfaceParams>, areas: Vec<AreaConfig>) -> InstanceConfig {
    InstanceConfig {
        router_id: rid(id),
        spf: SpfThrottle::default(),
        areas,
        interfaces: ifaces,
        asbr: false,
    }
}

fn net(s: &str) -> Ipv4Network {
    s.parse().unwrap()
}

fn gateway(r: &Instance, prefix: &str) -> Vec<Ipv4Addr> {
    r.table
        .networks
        .get(&net(prefix))
        .map(|r| r.nexthops.iter().filter_map(|n| n.gateway).collect())
        .unwrap_or_default()
}

const BB: Ipv4Addr = Ipv4Addr::UNSPECIFIED;

#[test]
fn broadcast_pair_elects_and_becomes_full() {
    let mut passive = params("lo1", BB, IfaceType::Broadcast);
    passive.passive = true;
    let r1 = config(
        1,
        vec![params("eth0", BB, IfaceType::Broadcast), passive.clone()],
        vec![],
    );
    let r2 = config(2, vec![params("eth0", BB, IfaceType::Broadcast)], vec![]);
    let mut n = Net::new(vec![r1, r2]);
    n.segment(&[
        (0, "eth0", "198.51.100.1/29"),
        (1, "eth0", "198.51.100.2/29"),
    ]);
    n.segment(&[(0, "lo1", "203.0.113.1/29")]);
    n.run_until(10_000, "Full", |n| n.all_full());
    // Router 2 (higher router ID) is DR after the wait, router 1 BDR.
    n.run_until(10_000, "routes", |n| {
        !gateway(&n.routers[1], "203.0.113.0/29").is_empty()
    });
    let i1 = &n.routers[0].ifaces["eth0"];
    let i2 = &n.routers[1].ifaces["eth0"];
    assert_eq!(i2.state, IsmState::DR);
    assert_eq!(i1.state, IsmState::Backup);
    assert_eq!(i1.dr, Ipv4Addr::new(198, 51, 100, 2));
    assert_eq!(
        gateway(&n.routers[1], "203.0.113.0/29"),
        vec![Ipv4Addr::new(198, 51, 100, 1)]
    );
    // Both databases hold the same LSAs: two router-LSAs and a network-LSA.
    let keys = |r: &Instance| -> Vec<_> { r.areas[&BB].lsdb.iter().map(|(k, _)| *k).collect() };
    assert_eq!(keys(&n.routers[0]), keys(&n.routers[1]));
    assert_eq!(keys(&n.routers[0]).len(), 3);
    assert_eq!(
        n.routers[0].areas[&BB]
            .lsdb
            .iter_type(LsaType::NETWORK)
            .count(),
        1
    );
    // Routes pushed: the stub with its gateway, not the shared segment.
    let pushed = n.routers[1].wanted_routes();
    assert_eq!(pushed.len(), 1);
    assert_eq!(pushed[&net("203.0.113.0/29")].metric, 20);
}

#[test]
fn point_to_point_chain_and_link_failure() {
    // r1 - r2 - r3 and r1 - r3 (cost 30): r1 reaches r3's stub via r2
    // (cost 10+10), and via the direct link when r1-r2 fails.
    let mut direct = params("eth2", BB, IfaceType::PointToPoint);
    direct.cost = 30;
    let mut passive = params("stub", BB, IfaceType::Broadcast);
    passive.passive = true;
    let r1 = config(
        1,
        vec![params("eth1", BB, IfaceType::PointToPoint), direct.clone()],
        vec![],
    );
    let r2 = config(
        2,
        vec![
            params("eth1", BB, IfaceType::PointToPoint),
            params("eth3", BB, IfaceType::PointToPoint),
        ],
        vec![],
    );
    let r3 = config(
        3,
        vec![params("eth3", BB, IfaceType::PointToPoint), direct, passive],
        vec![],
    );
    let mut n = Net::new(vec![r1, r2, r3]);
    n.segment(&[
        (0, "eth1", "198.51.100.1/30"),
        (1, "eth1", "198.51.100.2/30"),
    ]);
    n.segment(&[
        (1, "eth3", "198.51.100.5/30"),
        (2, "eth3", "198.51.100.6/30"),
    ]);
    n.segment(&[
        (0, "eth2", "198.51.100.9/30"),
        (2, "eth2", "198.51.100.10/30"),
    ]);
    n.segment(&[(2, "stub", "203.0.113.1/29")]);
    n.run_until(10_000, "via r2", |n| {
        gateway(&n.routers[0], "203.0.113.0/29") == vec![Ipv4Addr::new(198, 51, 100, 2)]
    });
    assert_eq!(n.routers[0].table.networks[&net("203.0.113.0/29")].cost, 30);
    n.set_link(0, false);
    n.run_until(10_000, "via the direct link", |n| {
        gateway(&n.routers[0], "203.0.113.0/29") == vec![Ipv4Addr::new(198, 51, 100, 10)]
    });
    assert_eq!(n.routers[0].table.networks[&net("203.0.113.0/29")].cost, 40);
    // r2 loses its route to r1's side of the failed link too.
    n.run(3000);
    assert!(n.routers[1].ifaces["eth1"].neighbors.is_empty());
}

#[test]
fn equal_cost_paths_give_two_next_hops() {
    // r1 has two links to r2 and r3, both of which reach r4's stub.
    let mut passive = params("stub", BB, IfaceType::Broadcast);
    passive.passive = true;
    let p2p = |n: &str| params(n, BB, IfaceType::PointToPoint);
    let r1 = config(1, vec![p2p("a"), p2p("b")], vec![]);
    let r2 = config(2, vec![p2p("a"), p2p("c")], vec![]);
    let r3 = config(3, vec![p2p("b"), p2p("d")], vec![]);
    let r4 = config(4, vec![p2p("c"), p2p("d"), passive], vec![]);
    let mut n = Net::new(vec![r1, r2, r3, r4]);
    n.segment(&[(0, "a", "198.51.100.1/30"), (1, "a", "198.51.100.2/30")]);
    n.segment(&[(0, "b", "198.51.100.5/30"), (2, "b", "198.51.100.6/30")]);
    n.segment(&[(1, "c", "198.51.100.9/30"), (3, "c", "198.51.100.10/30")]);
    n.segment(&[(2, "d", "198.51.100.13/30"), (3, "d", "198.51.100.14/30")]);
    n.segment(&[(3, "stub", "203.0.113.1/29")]);
    n.run_until(15_000, "ECMP", |n| {
        gateway(&n.routers[0], "203.0.113.0/29").len() == 2
    });
    let r = &n.routers[0].wanted_routes()[&net("203.0.113.0/29")];
    assert_eq!(r.nexthops.len(), 2);
    assert_eq!(r.metric, 30);
}

#[test]
fn abr_stub_area_and_external_routes() {
    // r1 (ASBR, backbone) - r2 (ABR) - r3 (stub area 0.0.0.1).
    let area1 = Ipv4Addr::new(0, 0, 0, 1);
    let stub = AreaConfig {
        id: area1,
        stub: true,
        stub_default_cost: 7,
        ranges: vec![net("203.0.113.0/24")],
    };
    let mut p3 = params("stub", area1, IfaceType::Broadcast);
    p3.passive = true;
    let mut r1 = config(1, vec![params("a", BB, IfaceType::PointToPoint)], vec![]);
    r1.asbr = true;
    let r2 = config(
        2,
        vec![
            params("a", BB, IfaceType::PointToPoint),
            params("b", area1, IfaceType::PointToPoint),
        ],
        vec![stub.clone()],
    );
    let r3 = config(
        3,
        vec![params("b", area1, IfaceType::PointToPoint), p3],
        vec![stub],
    );
    let mut n = Net::new(vec![r1, r2, r3]);
    n.segment(&[(0, "a", "198.51.100.1/30"), (1, "a", "198.51.100.2/30")]);
    n.segment(&[(1, "b", "198.51.100.5/30"), (2, "b", "198.51.100.6/30")]);
    n.segment(&[(2, "stub", "203.0.113.9/29")]);
    let now = n.now;
    n.routers[0].redistribute(
        vec![(
            net("192.0.2.128/25"),
            Some(ExternalRoute {
                metric: 20,
                metric_type: ExternalMetricType::Type2,
            }),
        )],
        now,
    );
    // r1 learns the stub area's network as the configured range, inter-area.
    n.run_until(15_000, "range at r1", |n| {
        n.routers[0]
            .table
            .networks
            .contains_key(&net("203.0.113.0/24"))
    });
    let r = &n.routers[0].table.networks[&net("203.0.113.0/24")];
    assert_eq!(r.path_type, PathType::InterArea);
    assert!(!n.routers[0]
        .table
        .networks
        .contains_key(&net("203.0.113.8/29")));
    // r2 has the external route; r3, in the stub area, has no type-5 but
    // a default route from the ABR.
    n.run_until(15_000, "external at r2", |n| {
        n.routers[1]
            .table
            .networks
            .contains_key(&net("192.0.2.128/25"))
    });
    assert_eq!(
        n.routers[1].table.networks[&net("192.0.2.128/25")].path_type,
        PathType::External2
    );
    n.run_until(15_000, "default at r3", |n| {
        n.routers[2].table.networks.contains_key(&net("0.0.0.0/0"))
    });
    assert_eq!(n.routers[2].table.networks[&net("0.0.0.0/0")].cost, 17);
    assert!(n.routers[2].external.is_empty());
    assert!(!n.routers[2]
        .table
        .networks
        .contains_key(&net("192.0.2.128/25")));
    // Withdrawal flushes the type-5 everywhere.
    let now = n.now;
    n.routers[0].redistribute(vec![(net("192.0.2.128/25"), None)], now);
    n.run_until(15_000, "external gone at r2", |n| {
        !n.routers[1]
            .table
            .networks
            .contains_key(&net("192.0.2.128/25"))
    });
}

#[test]
fn three_routers_on_a_lan_one_dr() {
    let lan = |n: u8| {
        let mut p = params("eth0", BB, IfaceType::Broadcast);
        p.priority = n;
        p
    };
    let mut n = Net::new(vec![
        config(1, vec![lan(1)], vec![]),
        config(2, vec![lan(1)], vec![]),
        config(3, vec![lan(0)], vec![]),
    ]);
    n.segment(&[
        (0, "eth0", "198.51.100.1/29"),
        (1, "eth0", "198.51.100.2/29"),
        (2, "eth0", "198.51.100.3/29"),
    ]);
    n.run_until(15_000, "Full", |n| n.all_full());
    let states: Vec<IsmState> = n.routers.iter().map(|r| r.ifaces["eth0"].state).collect();
    assert_eq!(
        states,
        vec![IsmState::Backup, IsmState::DR, IsmState::DROther]
    );
    // The DROther is Full with DR and BDR only... which are all others.
    let i3 = &n.routers[2].ifaces["eth0"];
    assert!(i3.neighbors.values().all(|n| n.state == NsmState::Full));
    // The network-LSA lists all three.
    n.run(6000);
    let nets: Vec<_> = n.routers[2].areas[&BB]
        .lsdb
        .iter_type(LsaType::NETWORK)
        .filter_map(|(_, e)| match e.lsa().body() {
            crate::lsa::LsaBody::Network(nl) => Some(nl.attached_routers.len()),
            _ => None,
        })
        .collect();
    assert_eq!(nets, vec![3]);
    // The DR leaves: the BDR takes over after the dead interval.
    n.segments[0].ports.remove(1);
    n.run_until(15_000, "r1 DR", |n| {
        n.routers[0].ifaces["eth0"].state == IsmState::DR
    });
}

#[test]
fn flooded_lsa_stays_on_retransmission_list_until_acknowledged() {
    // r1 - r2 - r3: an external LSA from r1 is flooded by r2 to r3 and
    // stays on r2's retransmission list for r3 until r3's delayed ack.
    let p2p = |n: &str| params(n, BB, IfaceType::PointToPoint);
    let mut r1 = config(1, vec![p2p("a")], vec![]);
    r1.asbr = true;
    let mut n = Net::new(vec![
        r1,
        config(2, vec![p2p("a"), p2p("b")], vec![]),
        config(3, vec![p2p("b")], vec![]),
    ]);
    n.segment(&[(0, "a", "198.51.100.1/30"), (1, "a", "198.51.100.2/30")]);
    n.segment(&[(1, "b", "198.51.100.5/30"), (2, "b", "198.51.100.6/30")]);
    n.run_until(10_000, "Full", |n| n.all_full());
    n.run(6000);
    let now = n.now;
    n.routers[0].redistribute(
        vec![(
            net("203.0.113.0/24"),
            Some(ExternalRoute {
                metric: 1,
                metric_type: ExternalMetricType::Type2,
            }),
        )],
        now,
    );
    n.step();
    let on_list = |n: &Net| {
        n.routers[1].ifaces["b"]
            .neighbors
            .values()
            .any(|nb| nb.rxmt.keys().any(|k| k.lsa_type == LsaType::AS_EXTERNAL))
    };
    assert!(on_list(&n), "r2 keeps the LSA for r3 until acknowledged");
    assert_eq!(n.routers[2].external.len(), 1);
    n.run(1500);
    assert!(!on_list(&n), "r3's delayed ack took it off");
}

#[test]
fn reconfigure_adds_and_removes_an_interface_without_touching_the_others() {
    use crate::reconfig::Link;
    use std::collections::BTreeMap;
    let eth0 = params("eth0", BB, IfaceType::Broadcast);
    let eth1 = params("eth1", Ipv4Addr::new(0, 0, 0, 1), IfaceType::Broadcast);
    // r1 starts with eth0 only; eth1 exists (zebrad reports it) but is not
    // OSPF's until the new configuration.
    let r1 = config(1, vec![eth0.clone()], vec![]);
    let r2 = config(2, vec![params("eth0", BB, IfaceType::Broadcast)], vec![]);
    let r3 = config(
        3,
        vec![params(
            "eth0",
            Ipv4Addr::new(0, 0, 0, 1),
            IfaceType::Broadcast,
        )],
        vec![],
    );
    let mut n = Net::new(vec![r1, r2, r3]);
    n.segment(&[
        (0, "eth0", "198.51.100.1/29"),
        (1, "eth0", "198.51.100.2/29"),
    ]);
    n.segment(&[(0, "eth1", "203.0.113.1/29"), (2, "eth0", "203.0.113.3/29")]);
    let full = |n: &Net, r: usize, ifname: &str, nbr: u8| {
        n.routers[r].ifaces[ifname]
            .neighbors
            .get(&rid(nbr))
            .is_some_and(|x| x.state == NsmState::Full)
    };
    n.run_until(15_000, "r1-r2 Full", |n| full(n, 0, "eth0", 2));
    assert!(!n.routers[0].ifaces.contains_key("eth1"));
    let changes_before = n.routers[0].ifaces["eth0"].state_changes;
    let mut links = BTreeMap::new();
    links.insert(
        "eth1".to_string(),
        Link {
            ifindex: 20,
            up: true,
            mtu: 1500,
            addr: Some(net("203.0.113.1/29")),
            loopback: false,
        },
    );
    let now = n.now;
    let areas = vec![
        AreaConfig::normal(BB),
        AreaConfig::normal(Ipv4Addr::new(0, 0, 0, 1)),
    ];
    let c = n.routers[0].reconfigure(&areas, &[eth0.clone(), eth1.clone()], &links, now);
    assert!(
        c.iter()
            .any(|l| l == "interface eth1 added to area 0.0.0.1")
            && c.iter().any(|l| l == "area 0.0.0.1 added"),
        "{c:?}"
    );
    // r3 becomes Full with r1 while r1-r2 never leaves Full; r1 is now an
    // ABR and r2 learns r3's network as inter-area.
    let mut stayed = true;
    n.run_until(20_000, "r1-r3 Full and the summary at r2", |n| {
        stayed &= full(n, 0, "eth0", 2) && full(n, 1, "eth0", 1);
        full(n, 0, "eth1", 3) && !gateway(&n.routers[1], "203.0.113.0/29").is_empty()
    });
    assert!(stayed, "the r1-r2 adjacency left Full");
    assert_eq!(n.routers[0].ifaces["eth0"].state_changes, changes_before);
    assert_eq!(
        n.routers[1].table.networks[&net("203.0.113.0/29")].path_type,
        PathType::InterArea
    );

    // Removed again: eth1 and area 1 go, r1-r2 stays Full.
    let now = n.now;
    let c = n.routers[0].reconfigure(
        &[AreaConfig::normal(BB)],
        std::slice::from_ref(&eth0),
        &links,
        now,
    );
    assert!(
        c.iter().any(|l| l == "interface eth1 removed from OSPF")
            && c.iter().any(|l| l == "area 0.0.0.1 removed"),
        "{c:?}"
    );
    assert!(!n.routers[0].ifaces.contains_key("eth1"));
    assert!(!n.routers[0].areas.contains_key(&Ipv4Addr::new(0, 0, 0, 1)));
    n.run_until(20_000, "r2 drops the summary", |n| {
        stayed &= full(n, 0, "eth0", 2);
        gateway(&n.routers[1], "203.0.113.0/29").is_empty()
    });
    assert!(stayed, "the r1-r2 adjacency left Full");
    assert_eq!(n.routers[0].ifaces["eth0"].state_changes, changes_before);
    // The same configuration again changes nothing.
    let now = n.now;
    assert!(n.routers[0]
        .reconfigure(&[AreaConfig::normal(BB)], &[eth0], &links, now)
        .is_empty());
}

#[test]
fn converged_only_after_the_dead_interval_and_full_adjacencies() {
    let r1 = config(1, vec![params("eth0", BB, IfaceType::Broadcast)], vec![]);
    let r2 = config(2, vec![params("eth0", BB, IfaceType::Broadcast)], vec![]);
    let mut n = Net::new(vec![r1, r2]);
    n.segment(&[
        (0, "eth0", "198.51.100.1/29"),
        (1, "eth0", "198.51.100.2/29"),
    ]);
    // Waiting for the DR election (the Wait timer is the dead interval).
    n.run(1_000);
    assert!(!n.routers[0].converged(n.now));
    n.run_until(10_000, "Full", |n| n.all_full());
    n.run_until(10_000, "converged", |n| {
        n.routers.iter().all(|r| r.converged(n.now))
    });
    assert!(n.now >= 4_000, "not before one dead interval");
}

/// After a restart (a new instance while the neighbor still holds the old
/// one's LSAs), converged (End-of-RIB to zebrad) waits for the routes
/// behind the neighbor: the neighbor turned its link to us into a stub
/// when our Hellos stopped listing it, and turns it back into a transit
/// link only after its MinLSInterval.
#[test]
fn converged_after_a_restart_only_with_the_routes_behind_the_neighbor() {
    let mut passive = params("lo1", BB, IfaceType::Broadcast);
    passive.passive = true;
    let r1 = || config(1, vec![params("eth0", BB, IfaceType::Broadcast)], vec![]);
    let r2 = config(
        2,
        vec![params("eth0", BB, IfaceType::Broadcast), passive],
        vec![],
    );
    let mut n = Net::new(vec![r1(), r2]);
    n.segment(&[
        (0, "eth0", "198.51.100.1/29"),
        (1, "eth0", "198.51.100.2/29"),
    ]);
    n.segment(&[(1, "lo1", "203.0.113.1/29")]);
    n.run_until(20_000, "route behind r2", |n| {
        !gateway(&n.routers[0], "203.0.113.0/29").is_empty()
    });
    n.run(10_000);

    // r1 restarts.
    let now = n.now;
    n.routers[0] = Instance::new(r1(), now);
    n.joined_dr[0].clear();
    let (ifindex, addr) = {
        let p = &n.segments[0].ports[0];
        (p.ifindex, p.addr)
    };
    n.routers[0].interface_update("eth0", ifindex, true, 1500, Some(addr), false, now);
    n.run_until(30_000, "converged again", |n| n.routers[0].converged(n.now));
    assert!(
        !gateway(&n.routers[0], "203.0.113.0/29").is_empty(),
        "converged at {} ms after the restart without the route behind r2",
        n.now - now
    );
}

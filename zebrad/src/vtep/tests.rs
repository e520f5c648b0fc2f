//! [`Vtep`] end to end in memory: pushes, reachability, devices.

use super::*;
use crate::vtep::discover::VxlanInfo;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn links() -> HashMap<u32, Link> {
    let mk = |index, name: &str, kind: &str, master, vxlan| Link {
        index,
        name: name.into(),
        admin_up: true,
        oper_up: true,
        mtu: 1500,
        mac: vec![],
        kind: kind.into(),
        master,
        vxlan,
    };
    let mut m = HashMap::new();
    m.insert(2, mk(2, "br100", "bridge", 0, None));
    m.insert(
        3,
        mk(
            3,
            "vx100",
            "vxlan",
            2,
            Some(VxlanInfo {
                vni: 100,
                local: Some(ip("192.0.2.1")),
                port: 4789,
                learning: false,
            }),
        ),
    );
    m
}

/// A fake RIB: the reachable addresses.
struct Rib(Vec<IpAddr>, Vec<(IpAddr, bool)>);

impl Rib {
    fn nht(&mut self) -> impl FnMut(IpAddr, bool) -> Option<VtepReach> + '_ {
        |a, add| {
            self.1.push((a, add));
            add.then(|| VtepReach {
                resolved: self.0.contains(&a),
                via: None,
                via_source: None,
            })
        }
    }
}

fn batch() -> Batch {
    Batch {
        vtep_add: vec![(100, ip("192.0.2.2"))],
        mac_add: vec![(
            100,
            [2, 0, 0, 0, 0, 1],
            MacEntry {
                vtep: ip("192.0.2.2"),
                seq: 0,
                sticky: false,
            },
        )],
        macip_add: vec![(
            100,
            ip("198.51.100.2"),
            MacIpEntry {
                mac: [2, 0, 0, 0, 0, 1],
                vtep: ip("192.0.2.2"),
            },
        )],
        ..Batch::default()
    }
}

/// A Vtep with vx100 whose client pushed [`batch`], its VTEP reachable.
fn pushed() -> (Instant, Vtep, Rib) {
    let now = Instant::now();
    let mut v = Vtep::new(None);
    let mut rib = Rib(vec![ip("192.0.2.2")], vec![]);
    v.start(&links(), &[], &[], Duration::from_secs(60), now);
    let (c, _) = v.hello("orch", Duration::from_secs(60), now);
    v.batch(c, batch(), &mut rib.nht());
    (now, v, rib)
}

#[test]
fn entries_follow_reachability() {
    let (_, mut v, mut rib) = pushed();
    let ops = v.take_ops();
    assert_eq!(ops.len(), 3);
    assert!(ops.iter().all(|o| !o.delete));
    // One registration for the VTEP, shared by its three entries.
    assert_eq!(rib.1, vec![(ip("192.0.2.2"), true)]);
    // The underlay loses the route: everything leaves the kernel.
    let down = VtepReach::default();
    v.nht_changed(ip("192.0.2.2"), down, &mut rib.nht());
    let ops = v.take_ops();
    assert_eq!(ops.len(), 3);
    assert!(ops.iter().all(|o| o.delete));
    // It comes back.
    let up = VtepReach {
        resolved: true,
        ..VtepReach::default()
    };
    v.nht_changed(ip("192.0.2.2"), up, &mut rib.nht());
    assert_eq!(v.take_ops().len(), 3);
    let show = v.show(&pb::ShowEvpnRequest {
        vni: 100,
        macs: true,
        neighbors: true,
    });
    let vni = &show.vnis[0];
    assert_eq!(vni.vteps.len(), 1);
    assert!(vni.vteps[0].reachable && vni.vteps[0].installed);
    assert_eq!((vni.remote_macs, vni.remote_neighbors), (1, 1));
}

#[test]
fn unreachable_or_deviceless_entries_stay_out() {
    let now = Instant::now();
    let mut v = Vtep::new(None);
    let mut rib = Rib(vec![], vec![]);
    v.start(&HashMap::new(), &[], &[], Duration::from_secs(60), now);
    let (c, _) = v.hello("orch", Duration::from_secs(60), now);
    v.batch(c, batch(), &mut rib.nht());
    assert!(v.take_ops().is_empty());
    // The device appears, the VTEP is still unreachable.
    v.links(&links(), &mut rib.nht());
    assert!(v.take_ops().is_empty());
    rib.0.push(ip("192.0.2.2"));
    let up = VtepReach {
        resolved: true,
        ..VtepReach::default()
    };
    v.nht_changed(ip("192.0.2.2"), up, &mut rib.nht());
    assert_eq!(v.take_ops().len(), 3);
    // Deleting everything unregisters the VTEP.
    v.batch(
        c,
        Batch {
            vtep_del: vec![(100, ip("192.0.2.2"))],
            mac_del: vec![(100, [2, 0, 0, 0, 0, 1])],
            macip_del: vec![(100, ip("198.51.100.2"))],
            ..Batch::default()
        },
        &mut rib.nht(),
    );
    assert_eq!(v.take_ops().len(), 3);
    assert_eq!(rib.1.last(), Some(&(ip("192.0.2.2"), false)));
}

#[test]
fn entries_deleted_from_outside_come_back_at_the_tick() {
    let (now, mut v, mut rib) = pushed();
    assert_eq!(v.take_ops().len(), 3);
    let fdb = |mac: Mac, vtep: &str| FdbEntry {
        ifindex: 3,
        mac,
        master: 0,
        dst: Some(ip(vtep)),
        self_: true,
        ext_learned: mac != [0; 6],
        permanent: true,
        static_: false,
    };
    // Someone else's entry, and ours toward another VTEP: not ours to restore.
    v.neigh_event(&NeighEvent::Fdb {
        entry: fdb([2, 0, 0, 0, 0, 9], "192.0.2.2"),
        removed: true,
    });
    v.neigh_event(&NeighEvent::Fdb {
        entry: fdb([2, 0, 0, 0, 0, 1], "192.0.2.3"),
        removed: true,
    });
    v.tick(now, &mut rib.nht());
    assert!(v.take_ops().is_empty());
    // `bridge fdb del` of our MAC and flood entry, `ip neigh del` of our neighbor.
    v.neigh_event(&NeighEvent::Fdb {
        entry: fdb([2, 0, 0, 0, 0, 1], "192.0.2.2"),
        removed: true,
    });
    v.neigh_event(&NeighEvent::Fdb {
        entry: fdb([0; 6], "192.0.2.2"),
        removed: true,
    });
    v.neigh_event(&NeighEvent::Neigh {
        entry: NeighEntry {
            ifindex: 2,
            ip: ip("198.51.100.2"),
            mac: Some([2, 0, 0, 0, 0, 1]),
            valid: true,
            ext_learned: true,
            protocol: NEIGH_PROTOCOL,
        },
        removed: true,
    });
    v.tick(now, &mut rib.nht());
    let ops = v.take_ops();
    assert_eq!(ops.len(), 3);
    assert!(ops.iter().all(|o| !o.delete));
    // Our own delete (the VTEP is withdrawn) is never undone.
    v.nht_changed(ip("192.0.2.2"), VtepReach::default(), &mut rib.nht());
    let dels = v.take_ops();
    assert_eq!(dels.len(), 3);
    v.neigh_event(&NeighEvent::Fdb {
        entry: fdb([2, 0, 0, 0, 0, 1], "192.0.2.2"),
        removed: true,
    });
    v.tick(now, &mut rib.nht());
    assert!(v.take_ops().is_empty());
}

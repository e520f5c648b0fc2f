//! zebrad's kernel nexthop objects changed from outside, seen through the
//! kernel's own eyes (`ip -j route` / `ip -j nexthop` inside the namespace):
//! `ip nexthop del` of one of ours (the kernel drops the IPv4 routes naming
//! it without `RTM_DELROUTE`) brings the object, its group and its routes
//! back; `ip nexthop replace` of one of ours is undone; another's object
//! (`proto static`, id 7) added, replaced and deleted is left alone; after
//! `ip nexthop flush` ours are all back.
//!
//! Topology (zebrad_util.rs): r1 (zebrad) eth0 192.0.2.1/24,
//! 2001:db8:1::1/64 -- r2; r1 eth1 198.51.100.1/24 -- r3.

#[path = "zebrad_util.rs"]
mod util;

use serde_json::Value;
use topotests::{wait_for, wait_until, Node};
use util::*;

/// `ip nexthop replace id ID via 192.0.2.9 dev eth0`, as an operator would.
fn replace_from_outside(node: &Node, id: u64) {
    let id = id.to_string();
    node.must(&[
        "ip",
        "nexthop",
        "replace",
        "id",
        &id,
        "via",
        "192.0.2.9",
        "dev",
        "eth0",
    ]);
}

/// The kernel's nexthop object `id`, as `ip -j nexthop show id` gives it.
fn object(node: &Node, id: u64) -> Option<Value> {
    let out = node
        .exec(&["ip", "-j", "nexthop", "show", "id", &id.to_string()])
        .ok()?;
    let v: Value = serde_json::from_str(&out).ok()?;
    v.as_array()?.first().cloned()
}

/// The object id a route names (`nhid`).
fn nhid(r: &Value) -> u64 {
    r["nhid"]
        .as_u64()
        .unwrap_or_else(|| panic!("route without nhid: {r}"))
}

/// The member ids of group object `g`.
fn members(g: &Value) -> Vec<u64> {
    let mut v: Vec<u64> = g["group"]
        .as_array()
        .map(|m| m.iter().filter_map(|m| m["id"].as_u64()).collect())
        .unwrap_or_default();
    v.sort_unstable();
    v
}

/// Waits (bounded) until `dst` (proto bgp, main table) is in the kernel
/// naming an object; returns the object id.
fn wait_nhid(node: &Node, dst: &str) -> u64 {
    wait_for(SOON, &format!("{dst} back naming a nexthop object"), || {
        route_of(node, MAIN, dst, BGP).and_then(|r| r["nhid"].as_u64())
    })
}

#[test]
fn zebrad_repairs_nexthop_objects_changed_from_outside() {
    let t = topo("zebrad_repairs_nexthop_objects_changed_from_outside");
    let r1 = &t.r1;
    let cfg = r1.write_file("zebrad.toml", "[rib]\nnexthop_objects = true\n");
    let z = start_zebrad(r1, &cfg);
    let zc = Zc::new(&r1.socket("zebrad"));
    let mut bgp = zc.pusher(proto::zebra::RouteSource::Bgp, "outside", 0);
    let rep = bgp.batch(
        1,
        vec![
            route("203.0.113.0/26", &["192.0.2.2"], 0),
            route("203.0.113.64/26", &["192.0.2.2"], 0),
            route("203.0.113.128/26", &["192.0.2.2", "198.51.100.2"], 0),
            route("2001:db8:2::/48", &["2001:db8:1::2"], 0),
        ],
        vec![],
        false,
    );
    assert_eq!(rep.accepted, 4, "{rep:?}");
    let a = nhid(&wait_route(r1, MAIN, "203.0.113.0/26", BGP, SOON));
    assert_eq!(nhid(&wait_route(r1, MAIN, "203.0.113.64/26", BGP, SOON)), a);
    let g = nhid(&wait_route(r1, MAIN, "203.0.113.128/26", BGP, SOON));
    let v6 = nhid(&wait_route(r1, MAIN, "2001:db8:2::/48", BGP, SOON));
    let group = object(r1, g).expect("group object");
    assert_eq!(members(&group).len(), 2, "{group}");
    assert!(members(&group).contains(&a), "{group}");
    let before = zc.status().nexthops_repaired;

    // `ip nexthop del` of the single object: the kernel drops both IPv4
    // routes silently and takes it out of the group.
    let from = log_len(&z);
    r1.must(&["ip", "nexthop", "del", "id", &a.to_string()]);
    let a2 = wait_nhid(r1, "203.0.113.0/26");
    assert_eq!(wait_nhid(r1, "203.0.113.64/26"), a2);
    assert_eq!(a2, a, "re-created under its id");
    let o = object(r1, a).expect("object back");
    assert_eq!(o["gateway"].as_str(), Some("192.0.2.2"), "{o}");
    assert_eq!(o["protocol"].as_str(), Some("bgp"), "{o}");
    wait_until(SOON, "the group has both members again", || {
        object(r1, g).is_some_and(|o| members(&o).len() == 2 && members(&o).contains(&a))
    });
    wait_log(&z, from, "deleted from outside", SOON);
    wait_until(SOON, "Status counts the repair", || {
        zc.status().nexthops_repaired > before
    });

    // The group itself deleted: back, and its route with it.
    r1.must(&["ip", "nexthop", "del", "id", &g.to_string()]);
    assert_eq!(wait_nhid(r1, "203.0.113.128/26"), g);
    assert_eq!(object(r1, g).map(|o| members(&o).len()), Some(2));

    // IPv6: the kernel notifies the route's deletion too; both come back.
    r1.must(&["ip", "nexthop", "del", "id", &v6.to_string()]);
    assert_eq!(wait_nhid(r1, "2001:db8:2::/48"), v6);
    let o = object(r1, v6).expect("v6 object back");
    assert_eq!(o["gateway"].as_str(), Some("2001:db8:1::2"), "{o}");

    // `ip nexthop replace` of ours (it comes back with no protocol):
    // written back, the routes keep naming it.
    replace_from_outside(r1, a);
    wait_until(SOON, "our object written back", || {
        object(r1, a).is_some_and(|o| {
            o["gateway"].as_str() == Some("192.0.2.2") && o["protocol"].as_str() == Some("bgp")
        })
    });
    let r = wait_route(r1, MAIN, "203.0.113.0/26", BGP, SOON);
    assert_eq!(nhid(&r), a);

    // Someone else's object: added, replaced, deleted, re-added. Then one
    // more change of ours: once zebrad has repaired that one, it has seen
    // the others' (notifications come in order) and did nothing about them.
    let counted = zc.status().nexthops_repaired;
    for args in [
        &[
            "add",
            "id",
            "7",
            "via",
            "192.0.2.7",
            "dev",
            "eth0",
            "proto",
            "static",
        ][..],
        &[
            "replace",
            "id",
            "7",
            "via",
            "192.0.2.8",
            "dev",
            "eth0",
            "proto",
            "static",
        ],
        &["del", "id", "7"],
        &[
            "add",
            "id",
            "7",
            "via",
            "192.0.2.8",
            "dev",
            "eth0",
            "proto",
            "static",
        ],
    ] {
        let mut cmd = vec!["ip", "nexthop"];
        cmd.extend_from_slice(args);
        r1.must(&cmd);
    }
    replace_from_outside(r1, a);
    wait_until(SOON, "our object written back again", || {
        object(r1, a).is_some_and(|o| o["gateway"].as_str() == Some("192.0.2.2"))
    });
    wait_until(SOON, "Status counts one more repair", || {
        zc.status().nexthops_repaired > counted
    });
    assert_eq!(zc.status().nexthops_repaired, counted + 1);
    let other = object(r1, 7).expect("the other object is left alone");
    assert_eq!(other["gateway"].as_str(), Some("192.0.2.8"), "{other}");
    assert!(!z.log().contains("id=7 "), "zebrad reacted to id 7");

    // `ip nexthop flush`: every object at once, ours and the other; ours
    // come back (members before their group) with every route.
    let counted = zc.status().nexthops_repaired;
    r1.must(&["ip", "nexthop", "flush"]);
    wait_until(SOON, "Status counts the flush's repairs", || {
        zc.status().nexthops_repaired >= counted + 4
    });
    for p in [
        "203.0.113.0/26",
        "203.0.113.64/26",
        "203.0.113.128/26",
        "2001:db8:2::/48",
    ] {
        wait_nhid(r1, p);
    }
    wait_until(SOON, "the group has both members again", || {
        object(r1, g).is_some_and(|o| members(&o).len() == 2)
    });
    assert!(
        object(r1, 7).is_none(),
        "zebrad re-created another's object"
    );
    assert_eq!(zc.status().fib_errors, 0);
    z.assert_running();
    drop(bgp);
}

//! Output in FRR's formats: the route table with its codes and `>`/`*`
//! markers, interfaces, rules, and the JSON forms scripts read.
//!
//! Pure functions from gRPC replies to text; nothing here talks to a daemon.

use std::fmt::Write;

use proto::zebra as pb;
use proto::Source;
use serde_json::{json, Map, Value};

pub const ROUTE_CODES: &str = "Codes: K - kernel route, C - connected, S - static, O - OSPF,
       B - BGP, A - anycast,
       > - selected route, * - FIB route, s - stale (client gone), r - rejected by the kernel

";

/// FRR's uptime format: `hh:mm:ss` under a day, `XdYYhZZm` under a week,
/// `XXwYdZZh` beyond.
pub fn age(secs: u64) -> String {
    let (w, d, h, m, s) = (
        secs / 604_800,
        secs / 86_400 % 7,
        secs / 3600 % 24,
        secs / 60 % 60,
        secs % 60,
    );
    if secs < 86_400 {
        format!("{:02}:{:02}:{:02}", secs / 3600, m, s)
    } else if secs < 604_800 {
        format!("{}d{:02}h{:02}m", secs / 86_400, h, m)
    } else {
        format!("{:02}w{}d{:02}h", w, d, h)
    }
}

fn addr(b: &[u8]) -> String {
    proto::addr_from_bytes(b)
        .map(|a| a.to_string())
        .unwrap_or_default()
}

fn prefix(p: Option<&pb::Prefix>) -> String {
    p.and_then(|p| proto::ifaddr_from_wire(p).ok())
        .map(|n| n.to_string())
        .unwrap_or_else(|| "?".into())
}

fn source(s: i32) -> Option<Source> {
    Source::try_from(s).ok()
}

fn kind_word(k: i32) -> Option<&'static str> {
    match pb::RouteKind::try_from(k) {
        Ok(pb::RouteKind::Blackhole) => Some("blackhole"),
        Ok(pb::RouteKind::Unreachable) => Some("unreachable"),
        Ok(pb::RouteKind::Prohibit) => Some("prohibited"),
        _ => None,
    }
}

/// `show ip route` as FRR prints it.
pub fn routes(r: &pb::ShowRoutesReply, table: Option<u32>) -> String {
    let mut out = String::from(ROUTE_CODES);
    if let Some(t) = table {
        let _ = writeln!(out, "Table {t}:");
    }
    for e in &r.routes {
        let code = source(e.source).map(|s| s.code()).unwrap_or('?');
        let sel = if e.selected { '>' } else { ' ' };
        let fib = if e.installed {
            '*'
        } else if !e.fib_error.is_empty() {
            'r'
        } else if e.stale {
            's'
        } else {
            ' '
        };
        let head = format!("{code}{sel}{fib} {}", prefix(e.prefix.as_ref()));
        let dm = if matches!(source(e.source), Some(Source::Connected)) {
            String::new()
        } else {
            format!(" [{}/{}]", e.distance, e.metric)
        };
        let when = age(e.age_secs);
        if let Some(k) = kind_word(e.kind) {
            let _ = writeln!(out, "{head}{dm} {k}, {when}");
            continue;
        }
        let indent = " ".repeat(head.len() + dm.len());
        for (i, nh) in e.nexthops.iter().enumerate() {
            let mark = if nh.active && e.installed { '*' } else { ' ' };
            let lead = if i == 0 {
                format!("{head}{dm}")
            } else {
                format!("  {mark}{}", &indent[3.min(indent.len())..])
            };
            let mut line = if nh.gateway.is_empty() {
                format!("{lead} is directly connected, {}", nh.ifname)
            } else {
                let mut l = format!("{lead} via {}", addr(&nh.gateway));
                if nh.recursive {
                    l.push_str(" (recursive)");
                } else if !nh.ifname.is_empty() {
                    let _ = write!(l, ", {}", nh.ifname);
                }
                if !nh.active {
                    l.push_str(" inactive");
                }
                if nh.weight > 1 {
                    let _ = write!(l, ", weight {}", nh.weight);
                }
                l
            };
            let _ = write!(line, ", {when}");
            out.push_str(&line);
            out.push('\n');
            // FRR prints what a recursive nexthop resolved to beneath it.
            for r in nh.resolved.iter().filter(|_| nh.recursive) {
                let mark = if nh.active && e.installed { '*' } else { ' ' };
                let _ = writeln!(
                    out,
                    "  {mark}{}   via {}, {}, {when}",
                    &indent[3.min(indent.len())..],
                    addr(&r.gateway),
                    r.ifname
                );
            }
        }
        if e.stale {
            let _ = writeln!(out, "{indent}  (stale: its client is gone)");
        }
        if !e.fib_error.is_empty() {
            let _ = writeln!(out, "{indent}  (kernel: {})", e.fib_error);
        }
    }
    out
}

/// `show ip route json`: FRR's shape, an object keyed by prefix, each an
/// array of routes.
pub fn routes_json(r: &pb::ShowRoutesReply) -> Value {
    let mut m = Map::new();
    for e in &r.routes {
        let p = prefix(e.prefix.as_ref());
        let nexthops: Vec<Value> = e
            .nexthops
            .iter()
            .map(|nh| {
                let mut o = json!({
                    "fib": nh.active && e.installed,
                    "active": nh.active,
                    "weight": nh.weight,
                });
                if nh.gateway.is_empty() {
                    o["directlyConnected"] = json!(true);
                } else {
                    o["ip"] = json!(addr(&nh.gateway));
                    o["afi"] = json!(if nh.gateway.len() == 4 {
                        "ipv4"
                    } else {
                        "ipv6"
                    });
                }
                if !nh.ifname.is_empty() {
                    o["interfaceName"] = json!(nh.ifname);
                }
                if nh.recursive {
                    o["recursive"] = json!(true);
                    o["resolver"] = Value::Array(
                        nh.resolved
                            .iter()
                            .map(|r| json!({"ip": addr(&r.gateway), "interfaceName": r.ifname}))
                            .collect(),
                    );
                }
                o
            })
            .collect();
        let mut o = json!({
            "prefix": p,
            "protocol": source(e.source).map(|s| s.name()).unwrap_or("unknown"),
            "instance": e.instance,
            "selected": e.selected,
            "installed": e.installed,
            "stale": e.stale,
            "distance": e.distance,
            "metric": e.metric,
            "tag": e.tag,
            "table": e.table,
            "uptime": age(e.age_secs),
            "uptimeSecs": e.age_secs,
            "nexthops": nexthops,
        });
        if let Some(k) = kind_word(e.kind) {
            o["type"] = json!(k);
        }
        if !e.fib_error.is_empty() {
            o["fibError"] = json!(e.fib_error);
        }
        if let Some(a) = m
            .entry(p)
            .or_insert_with(|| Value::Array(Vec::new()))
            .as_array_mut()
        {
            a.push(o);
        }
    }
    Value::Object(m)
}

fn mac(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// `show interface` as FRR prints it.
pub fn interfaces(list: &[pb::Interface]) -> String {
    let mut out = String::new();
    for i in list {
        let _ = writeln!(
            out,
            "Interface {} is {}, line protocol is {}",
            i.name,
            if i.admin_up { "up" } else { "down" },
            if i.oper_up { "up" } else { "down" }
        );
        let _ = writeln!(out, "  index {} mtu {}", i.index, i.mtu);
        if !i.kind.is_empty() {
            let _ = writeln!(out, "  Type: {}", i.kind);
        }
        if !i.mac.is_empty() {
            let _ = writeln!(out, "  HWaddr: {}", mac(&i.mac));
        }
        if i.master != 0 {
            let master = list
                .iter()
                .find(|m| m.index == i.master)
                .map(|m| m.name.clone())
                .unwrap_or_else(|| i.master.to_string());
            let _ = writeln!(out, "  Master interface: {master}");
        }
        for a in &i.addresses {
            let p = prefix(a.prefix.as_ref());
            let fam = if a.prefix.as_ref().is_some_and(|p| p.addr.len() == 16) {
                "inet6"
            } else {
                "inet"
            };
            let _ = writeln!(out, "  {fam} {p}");
        }
        out.push('\n');
    }
    out
}

pub fn interfaces_json(list: &[pb::Interface]) -> Value {
    let mut m = Map::new();
    for i in list {
        m.insert(
            i.name.clone(),
            json!({
                "administrativeStatus": if i.admin_up { "up" } else { "down" },
                "operationalStatus": if i.oper_up { "up" } else { "down" },
                "index": i.index,
                "mtu": i.mtu,
                "type": i.kind,
                "hardwareAddress": mac(&i.mac),
                "masterIndex": i.master,
                "ipAddresses": i.addresses.iter().map(|a| json!({"address": prefix(a.prefix.as_ref())})).collect::<Vec<_>>(),
            }),
        );
    }
    Value::Object(m)
}

/// `show ip rule`, in `ip rule`'s words.
pub fn rules(r: &pb::ShowRulesReply) -> String {
    let mut out = String::new();
    if r.rules.is_empty() {
        out.push_str("No rules configured.\n");
    }
    for x in &r.rules {
        let mut l = format!("{}:\t", x.priority);
        match &x.from {
            Some(p) => {
                let _ = write!(l, "from {}", prefix(Some(p)));
            }
            None => l.push_str("from all"),
        }
        if let Some(p) = &x.to {
            let _ = write!(l, " to {}", prefix(Some(p)));
        }
        if !x.iif.is_empty() {
            let _ = write!(l, " iif {}", x.iif);
        }
        if !x.oif.is_empty() {
            let _ = write!(l, " oif {}", x.oif);
        }
        if x.fwmark != 0 || x.fwmask != 0 {
            let _ = write!(l, " fwmark {:#x}", x.fwmark);
            if x.fwmask != 0 {
                let _ = write!(l, "/{:#x}", x.fwmask);
            }
        }
        let _ = write!(l, " lookup {}", x.table);
        if !x.installed {
            let _ = write!(l, "  (NOT INSTALLED: {})", x.error);
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}

/// `show nexthop-group rib`, in FRR's layout.
pub fn nexthop_groups(r: &pb::ShowNexthopGroupsReply) -> String {
    let mut out = String::new();
    if !r.enabled {
        out.push_str(
            "Kernel nexthop objects are off (rib.nexthop_objects, or the kernel has none): routes carry their nexthops inline.\n",
        );
        return out;
    }
    for n in &r.nexthops {
        let _ = writeln!(out, "ID: {} ({})", n.id, n.protocol);
        let _ = writeln!(out, "     RefCnt: {}", n.ref_count);
        let _ = writeln!(
            out,
            "     Valid{}",
            if n.installed { ", Installed" } else { "" }
        );
        if n.group {
            let deps: Vec<String> = n.legs.iter().map(|l| format!("({})", l.id)).collect();
            let _ = writeln!(out, "     Depends: {}", deps.join(" "));
        } else if let Some(l) = n.legs.first() {
            let _ = writeln!(out, "     Interface Index: {}", l.ifindex);
        }
        for l in &n.legs {
            let weight = if n.group {
                format!(", weight {}", l.weight)
            } else {
                String::new()
            };
            let _ = writeln!(out, "           via {}, {}{weight}", l.gateway, l.interface);
        }
    }
    out
}

/// `show nexthop-group rib json`: FRR's object keyed by id.
pub fn nexthop_groups_json(r: &pb::ShowNexthopGroupsReply) -> Value {
    let mut m = Map::new();
    for n in &r.nexthops {
        let legs: Vec<Value> = n
            .legs
            .iter()
            .map(|l| {
                json!({
                    "ip": l.gateway,
                    "afi": if l.gateway.contains(':') { "ipv6" } else { "ipv4" },
                    "interfaceIndex": l.ifindex,
                    "interfaceName": l.interface,
                    "weight": l.weight,
                    "active": true,
                })
            })
            .collect();
        let mut o = json!({
            "type": n.protocol,
            "refCount": n.ref_count,
            "valid": true,
            "installed": n.installed,
            "nexthops": legs,
        });
        if n.group {
            o["depends"] = Value::Array(n.legs.iter().map(|l| json!(l.id)).collect());
        }
        m.insert(n.id.to_string(), o);
    }
    Value::Object(m)
}

pub fn rules_json(r: &pb::ShowRulesReply) -> Value {
    Value::Array(
        r.rules
            .iter()
            .map(|x| {
                json!({
                    "priority": x.priority,
                    "family": if x.family == pb::AddressFamily::Ipv6 as i32 { "ipv6" } else { "ipv4" },
                    "from": x.from.as_ref().map(|p| prefix(Some(p))),
                    "to": x.to.as_ref().map(|p| prefix(Some(p))),
                    "iif": (!x.iif.is_empty()).then(|| x.iif.clone()),
                    "oif": (!x.oif.is_empty()).then(|| x.oif.clone()),
                    "fwmark": x.fwmark,
                    "fwmask": x.fwmask,
                    "table": x.table,
                    "installed": x.installed,
                    "error": (!x.error.is_empty()).then(|| x.error.clone()),
                })
            })
            .collect(),
    )
}

/// `show zebra`: status and clients.
pub fn status(s: &pb::StatusReply) -> String {
    let mut out = format!(
        "zebrad {} up {}\nRIB routes: {}  FIB routes: {}  kernel errors: {}  re-installed after outside deletion: {}\nNexthop objects repaired after outside changes: {}\nECMP limit: {}\n\n",
        s.version,
        age(s.uptime_secs),
        s.rib_routes,
        s.fib_routes,
        s.fib_errors,
        s.fib_reinstalled,
        s.nexthops_repaired,
        s.ecmp_max
    );
    let _ = writeln!(
        out,
        "{:<10} {:<12} {:<10} {:>10} Stale expires",
        "Source", "Instance", "State", "Routes"
    );
    for c in &s.clients {
        let _ = writeln!(
            out,
            "{:<10} {:<12} {:<10} {:>10} {}",
            source(c.source).map(|s| s.name()).unwrap_or("?"),
            if c.instance.is_empty() {
                "(adopted)"
            } else {
                &c.instance
            },
            if c.connected { "connected" } else { "gone" },
            c.routes,
            if c.stale_expires_in_secs > 0 {
                format!("in {}s", c.stale_expires_in_secs)
            } else {
                "-".into()
            }
        );
    }
    out
}

pub fn status_json(s: &pb::StatusReply) -> Value {
    json!({
        "version": s.version,
        "uptimeSecs": s.uptime_secs,
        "ribRoutes": s.rib_routes,
        "fibRoutes": s.fib_routes,
        "fibErrors": s.fib_errors,
        "fibReinstalled": s.fib_reinstalled,
        "nexthopsRepaired": s.nexthops_repaired,
        "ecmpMax": s.ecmp_max,
        "clients": s.clients.iter().map(|c| json!({
            "source": source(c.source).map(|s| s.name()),
            "instance": c.instance,
            "connected": c.connected,
            "routes": c.routes,
            "staleExpiresInSecs": c.stale_expires_in_secs,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_like_frr() {
        assert_eq!(age(5), "00:00:05");
        assert_eq!(age(3 * 3600 + 61), "03:01:01");
        assert_eq!(age(86_400 + 2 * 3600 + 180), "1d02h03m");
        assert_eq!(age(2 * 604_800 + 86_400 + 3600), "02w1d01h");
    }

    fn entry(src: Source, p: &str, gws: &[(&str, &str)]) -> pb::RibEntry {
        pb::RibEntry {
            source: pb::RouteSource::from(src) as i32,
            instance: "x".into(),
            prefix: Some(proto::prefix_to_wire(p.parse().unwrap())),
            table: 254,
            distance: 1,
            metric: 0,
            selected: true,
            installed: true,
            age_secs: 5,
            nexthops: gws
                .iter()
                .map(|(g, i)| pb::RibNexthop {
                    gateway: if g.is_empty() {
                        vec![]
                    } else {
                        proto::addr_to_bytes(g.parse().unwrap())
                    },
                    ifname: i.to_string(),
                    weight: 1,
                    active: true,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn route_table_text() {
        let r = pb::ShowRoutesReply {
            routes: vec![
                entry(
                    Source::Static,
                    "203.0.113.0/24",
                    &[("192.0.2.2", "eth0"), ("198.51.100.2", "eth1")],
                ),
                entry(Source::Connected, "192.0.2.0/24", &[("", "eth0")]),
            ],
        };
        let t = routes(&r, None);
        assert!(
            t.contains("S>* 203.0.113.0/24 [1/0] via 192.0.2.2, eth0, 00:00:05\n"),
            "{t}"
        );
        // Continuation lines align "via" under the first line's.
        assert!(
            t.contains("\n  *                      via 198.51.100.2, eth1, 00:00:05\n"),
            "{t}"
        );
        assert!(
            t.contains("C>* 192.0.2.0/24 is directly connected, eth0, 00:00:05\n"),
            "{t}"
        );
        let j = routes_json(&r);
        assert_eq!(j["203.0.113.0/24"][0]["protocol"], "static");
        assert_eq!(j["203.0.113.0/24"][0]["nexthops"][1]["ip"], "198.51.100.2");
        assert_eq!(
            j["192.0.2.0/24"][0]["nexthops"][0]["directlyConnected"],
            true
        );
    }
}

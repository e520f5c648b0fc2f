//! `show bgp l2vpn evpn [route type 2|3] [json]` in FRR's layout: routes
//! grouped by route distinguisher, each path with its status codes, next
//! hop (the VTEP), LOCAL_PREF, weight, AS path and origin, and the
//! extended communities (RT, ET:8, MM) on the line below; then the MACs
//! found duplicate (frozen). Parsing and rendering are pure.

use std::fmt::Write;

use crate::evpn::{ip as addr, mac};
use proto::bgp as pb;
use serde_json::{json, Map, Value};

/// Parses the words after `show bgp l2vpn evpn`: the route type to show,
/// 0 for every type.
pub fn parse(words: &[&str]) -> Result<u32, String> {
    match words {
        [] => Ok(0),
        [r, t, n]
            if "route".starts_with(&r.to_ascii_lowercase())
                && "type".starts_with(&t.to_ascii_lowercase()) =>
        {
            match *n {
                "2" | "macip" => Ok(2),
                "3" | "multicast" => Ok(3),
                other => Err(format!("% Unknown route type `{other}` (2|3)")),
            }
        }
        [x, ..] => Err(format!("% Unknown command: `{x}`")),
    }
}

/// Parses the words after `clear evpn dup-addr`: `vni (VNI|all) [mac MAC]`.
pub fn parse_clear_dup(words: &[&str]) -> Result<crate::bgp::BgpCmd, String> {
    const USAGE: &str = "% Incomplete command: clear evpn dup-addr vni (VNI|all) [mac MAC]";
    let is = |w: &str, k: &str| k.starts_with(&w.to_ascii_lowercase()) && !w.is_empty();
    let (vni, rest) = match words {
        [v, n, rest @ ..] if is(v, "vni") => {
            let vni = if is(n, "all") {
                0
            } else {
                n.parse::<u32>()
                    .ok()
                    .filter(|v| (1..=0x00ff_ffff).contains(v))
                    .ok_or_else(|| format!("% `{n}` is not a VNI (1-16777215) or `all`"))?
            };
            (vni, rest)
        }
        _ => return Err(USAGE.into()),
    };
    let mac = match rest {
        [] => None,
        [m, x] if is(m, "mac") => {
            Some(parse_mac(x).ok_or_else(|| format!("% `{x}` is not a MAC"))?)
        }
        [x, ..] => return Err(format!("% Unknown command: `{x}`")),
    };
    if vni == 0 && mac.is_some() {
        return Err("% a MAC is cleared in one VNI: clear evpn dup-addr vni VNI mac MAC".into());
    }
    Ok(crate::bgp::BgpCmd::ClearEvpnDup { vni, mac })
}

/// `aa:bb:cc:dd:ee:ff`.
fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut parts = s.split(':');
    for b in &mut out {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 2 {
            return None;
        }
        *b = u8::from_str_radix(p, 16).ok()?;
    }
    parts.next().is_none().then_some(out)
}

fn weight(p: &pb::EvpnPath) -> u32 {
    if p.peer.is_empty() {
        32768
    } else {
        0
    }
}

fn origin_code(p: &pb::EvpnPath) -> &'static str {
    match p.origin.as_str() {
        "IGP" => "i",
        "EGP" => "e",
        _ => "?",
    }
}

/// The paths of one prefix.
type Route<'a> = (&'a str, Vec<&'a pb::EvpnPath>);
/// The routes of one route distinguisher.
type RdGroup<'a> = (&'a str, Vec<Route<'a>>);

/// Routes in display order: by RD, then prefix (best path first).
fn grouped(r: &pb::EvpnReply) -> Vec<RdGroup<'_>> {
    let mut out: Vec<RdGroup<'_>> = Vec::new();
    let mut paths: Vec<&pb::EvpnPath> = r.paths.iter().collect();
    paths.sort_by(|a, b| {
        (a.rd.as_str(), a.route_type, a.prefix.as_str(), !a.best).cmp(&(
            b.rd.as_str(),
            b.route_type,
            b.prefix.as_str(),
            !b.best,
        ))
    });
    for p in paths {
        if out.last().is_none_or(|(rd, _)| *rd != p.rd) {
            out.push((&p.rd, Vec::new()));
        }
        if let Some((_, routes)) = out.last_mut() {
            match routes.last_mut() {
                Some((prefix, v)) if *prefix == p.prefix => v.push(p),
                _ => routes.push((&p.prefix, vec![p])),
            }
        }
    }
    out
}

/// The text table, as FRR prints `show bgp l2vpn evpn`.
pub fn render(r: &pb::EvpnReply) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "BGP table version is 0, local router ID is {}",
        addr(&r.router_id)
    );
    s.push_str(
        "Status codes: s suppressed, d damped, h history, * valid, > best, i - internal, S stale\n",
    );
    s.push_str("Origin codes: i - IGP, e - EGP, ? - incomplete\n");
    s.push_str("EVPN type-2 prefix: [2]:[EthTag]:[MAClen]:[MAC]:[IPlen]:[IP]\n");
    s.push_str("EVPN type-3 prefix: [3]:[EthTag]:[IPlen]:[OrigIP]\n\n");
    s.push_str("   Network          Next Hop            Metric LocPrf Weight Path\n");
    let mut prefixes = 0;
    for (rd, routes) in grouped(r) {
        let _ = writeln!(s, "Route Distinguisher: {rd}");
        for (prefix, paths) in routes {
            prefixes += 1;
            for p in paths {
                let status = format!(
                    "{}{}{}",
                    if p.stale {
                        "S"
                    } else if p.valid {
                        "*"
                    } else {
                        " "
                    },
                    if p.best { ">" } else { " " },
                    if p.ibgp { "i" } else { " " }
                );
                let _ = writeln!(s, "{status}{prefix}");
                let med = if p.has_med {
                    p.med.to_string()
                } else {
                    String::new()
                };
                let lp = if p.has_local_pref {
                    p.local_pref.to_string()
                } else {
                    String::new()
                };
                let path = if p.as_path_text.is_empty() {
                    String::new()
                } else {
                    format!("{} ", p.as_path_text)
                };
                let _ = writeln!(
                    s,
                    "                    {:<19} {:>6} {:>6} {:>6} {path}{}",
                    addr(&p.next_hop),
                    med,
                    lp,
                    weight(p),
                    origin_code(p)
                );
                if !p.ext_communities.is_empty() {
                    let _ = writeln!(s, "                    {}", p.ext_communities.join(" "));
                }
            }
        }
    }
    let _ = writeln!(
        s,
        "\nDisplayed {prefixes} prefixes ({} paths)",
        r.paths.len()
    );
    if !r.duplicates.is_empty() {
        s.push_str("\nDuplicate MACs (frozen):\n");
        s.push_str("VNI      MAC               Location         Moves Frozen\n");
        for d in &r.duplicates {
            let at = if d.vtep.is_empty() {
                "local".to_string()
            } else {
                addr(&d.vtep)
            };
            let _ = writeln!(
                s,
                "{:<8} {:<17} {:<16} {:>5} {}",
                d.vni,
                mac(&d.mac),
                at,
                d.moves,
                crate::render::age(d.frozen_secs)
            );
        }
    }
    s
}

fn path_json(p: &pb::EvpnPath) -> Value {
    let mut o = Map::new();
    o.insert("valid".into(), json!(p.valid));
    if p.stale {
        o.insert("stale".into(), json!(true));
    }
    if p.best {
        o.insert("bestpath".into(), json!(true));
    }
    o.insert(
        "pathFrom".into(),
        json!(if p.ibgp { "internal" } else { "external" }),
    );
    o.insert("routeType".into(), json!(p.route_type));
    o.insert("ethTag".into(), json!(p.ethernet_tag));
    match p.route_type {
        2 => {
            o.insert("macLen".into(), json!(48));
            o.insert("mac".into(), json!(mac(&p.mac)));
            if p.ip.is_empty() {
                o.insert("ipLen".into(), json!(0));
            } else {
                o.insert(
                    "ipLen".into(),
                    json!(if p.ip.len() == 4 { 32 } else { 128 }),
                );
                o.insert("ip".into(), json!(addr(&p.ip)));
            }
            o.insert("vni".into(), json!(p.vni));
            o.insert("esi".into(), json!(p.esi));
            o.insert("seq".into(), json!(p.seq));
            if p.sticky {
                o.insert("stickyMac".into(), json!(true));
            }
        }
        3 => {
            o.insert(
                "ipLen".into(),
                json!(if p.ip.len() == 4 { 32 } else { 128 }),
            );
            o.insert("ip".into(), json!(addr(&p.ip)));
            o.insert("vni".into(), json!(p.vni));
            if !p.pmsi_vtep.is_empty() {
                o.insert(
                    "pmsi".into(),
                    json!({"tunnelType": "ingress-replication", "tunnelId": addr(&p.pmsi_vtep), "label": p.vni}),
                );
            }
        }
        _ => {}
    }
    if p.has_med {
        o.insert("metric".into(), json!(p.med));
    }
    if p.has_local_pref {
        o.insert("locPrf".into(), json!(p.local_pref));
    }
    o.insert("weight".into(), json!(weight(p)));
    o.insert(
        "peerId".into(),
        json!(if p.peer.is_empty() {
            "(unspec)".to_string()
        } else {
            addr(&p.peer)
        }),
    );
    o.insert("path".into(), json!(p.as_path_text));
    o.insert("origin".into(), json!(p.origin));
    if !p.ext_communities.is_empty() {
        o.insert(
            "extendedCommunity".into(),
            json!({"string": p.ext_communities.join(" ")}),
        );
    }
    if !p.originator_id.is_empty() {
        o.insert("originatorId".into(), json!(addr(&p.originator_id)));
    }
    if !p.cluster_list.is_empty() {
        o.insert(
            "clusterList".into(),
            json!({"list": p.cluster_list.iter().map(|c| addr(c)).collect::<Vec<_>>()}),
        );
    }
    if !p.reason.is_empty() {
        o.insert("reason".into(), json!(p.reason));
    }
    o.insert(
        "nexthops".into(),
        json!([{"ip": addr(&p.next_hop), "afi": if p.next_hop.len() == 16 { "ipv6" } else { "ipv4" }, "used": true}]),
    );
    Value::Object(o)
}

/// FRR's JSON: `{ RD: { "rd": RD, PREFIX: { "prefix", "paths": [[path]] } } }`
/// with the router's identity and counts beside, and `duplicateMacs`.
pub fn render_json(r: &pb::EvpnReply) -> Value {
    let mut top = Map::new();
    top.insert("bgpLocalRouterId".into(), json!(addr(&r.router_id)));
    top.insert("defaultLocPrf".into(), json!(100));
    top.insert("localAS".into(), json!(r.local_as));
    let mut n = 0;
    for (rd, routes) in grouped(r) {
        let mut m = Map::new();
        m.insert("rd".into(), json!(rd));
        for (prefix, paths) in routes {
            n += 1;
            m.insert(
                prefix.to_string(),
                json!({
                    "prefix": prefix,
                    "paths": paths.iter().map(|p| json!([path_json(p)])).collect::<Vec<_>>(),
                }),
            );
        }
        top.insert(rd.to_string(), Value::Object(m));
    }
    top.insert("numPrefix".into(), json!(n));
    top.insert("totalPrefix".into(), json!(n));
    top.insert(
        "duplicateMacs".into(),
        Value::Array(
            r.duplicates
                .iter()
                .map(|d| {
                    json!({
                        "vni": d.vni,
                        "mac": mac(&d.mac),
                        "location": if d.vtep.is_empty() { "local".to_string() } else { addr(&d.vtep) },
                        "moves": d.moves,
                        "frozenSecs": d.frozen_secs,
                    })
                })
                .collect(),
        ),
    );
    Value::Object(top)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clear_dup_addr_words() {
        use crate::bgp::BgpCmd::ClearEvpnDup;
        assert_eq!(
            parse_clear_dup(&["vni", "all"]).unwrap(),
            ClearEvpnDup { vni: 0, mac: None }
        );
        assert_eq!(
            parse_clear_dup(&["vn", "100", "mac", "02:00:00:00:00:0a"]).unwrap(),
            ClearEvpnDup {
                vni: 100,
                mac: Some([2, 0, 0, 0, 0, 10])
            }
        );
        assert!(parse_clear_dup(&[]).is_err());
        assert!(parse_clear_dup(&["vni", "0"]).is_err());
        assert!(parse_clear_dup(&["vni", "100", "mac", "02:00:00:00:00"]).is_err());
        assert!(parse_clear_dup(&["vni", "all", "mac", "02:00:00:00:00:0a"]).is_err());
        assert!(parse_clear_dup(&["vni", "100", "ip", "192.0.2.1"]).is_err());
    }

    fn reply() -> pb::EvpnReply {
        let v4 = |s: &str| proto::addr_to_bytes(s.parse().unwrap());
        pb::EvpnReply {
            local_as: 65000,
            router_id: v4("192.0.2.1"),
            paths: vec![
                pb::EvpnPath {
                    rd: "192.0.2.5:1".into(),
                    route_type: 3,
                    prefix: "[3]:[0]:[32]:[203.0.113.2]".into(),
                    ip: v4("203.0.113.2"),
                    vni: 100,
                    next_hop: v4("203.0.113.2"),
                    peer: v4("192.0.2.2"),
                    best: true,
                    valid: true,
                    ibgp: true,
                    origin: "IGP".into(),
                    has_local_pref: true,
                    local_pref: 100,
                    ext_communities: vec!["RT:65000:100".into(), "ET:8".into()],
                    originator_id: v4("192.0.2.5"),
                    pmsi_vtep: v4("203.0.113.2"),
                    ..Default::default()
                },
                pb::EvpnPath {
                    rd: "192.0.2.1:1".into(),
                    route_type: 2,
                    prefix: "[2]:[0]:[48]:[02:00:00:00:01:01]".into(),
                    mac: vec![2, 0, 0, 0, 1, 1],
                    vni: 100,
                    next_hop: v4("203.0.113.1"),
                    best: true,
                    valid: true,
                    origin: "IGP".into(),
                    seq: 2,
                    ext_communities: vec!["RT:65000:100".into(), "ET:8".into(), "MM:2".into()],
                    ..Default::default()
                },
            ],
            duplicates: vec![pb::EvpnDuplicate {
                vni: 100,
                mac: vec![2, 0, 0, 0, 3, 3],
                vtep: v4("203.0.113.2"),
                moves: 5,
                frozen_secs: 12,
            }],
        }
    }

    #[test]
    fn parse_words() {
        assert_eq!(parse(&[]), Ok(0));
        assert_eq!(parse(&["route", "type", "2"]), Ok(2));
        assert_eq!(parse(&["ro", "ty", "3"]), Ok(3));
        assert!(parse(&["route", "type", "5"]).is_err());
        assert!(parse(&["x"]).is_err());
    }

    #[test]
    fn text_layout() {
        let t = render(&reply());
        let rd1 = t.find("Route Distinguisher: 192.0.2.1:1").unwrap();
        let rd5 = t.find("Route Distinguisher: 192.0.2.5:1").unwrap();
        assert!(rd1 < rd5, "{t}");
        assert!(t.contains("*> [2]:[0]:[48]:[02:00:00:00:01:01]\n"), "{t}");
        assert!(t.contains("*>i[3]:[0]:[32]:[203.0.113.2]\n"), "{t}");
        assert!(t.contains("RT:65000:100 ET:8 MM:2"), "{t}");
        assert!(t.contains("32768 i"), "{t}");
        assert!(t.contains("Displayed 2 prefixes (2 paths)"), "{t}");
        assert!(t.contains("Duplicate MACs (frozen)"), "{t}");
        assert!(t.contains("02:00:00:00:03:03"), "{t}");
    }

    #[test]
    fn json_layout() {
        let j = render_json(&reply());
        let p = &j["192.0.2.5:1"]["[3]:[0]:[32]:[203.0.113.2]"]["paths"][0][0];
        assert_eq!(p["bestpath"], true);
        assert_eq!(p["pathFrom"], "internal");
        assert_eq!(p["originatorId"], "192.0.2.5");
        assert_eq!(p["nexthops"][0]["ip"], "203.0.113.2");
        assert_eq!(p["pmsi"]["tunnelId"], "203.0.113.2");
        let m = &j["192.0.2.1:1"]["[2]:[0]:[48]:[02:00:00:00:01:01]"]["paths"][0][0];
        assert_eq!(m["mac"], "02:00:00:00:01:01");
        assert_eq!(m["seq"], 2);
        assert_eq!(m["weight"], 32768);
        assert_eq!(j["numPrefix"], 2);
        assert_eq!(j["duplicateMacs"][0]["moves"], 5);
    }
}

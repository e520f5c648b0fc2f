//! bgpd's commands in FRR's words and formats: `show bgp summary`,
//! `show bgp neighbors`, `show bgp ipv4|ipv6 unicast`, received/advertised
//! routes, `clear bgp`. Parsing and rendering are pure; `run` talks to
//! bgpd's management socket.

use std::fmt::Write;
use std::net::IpAddr;

use ipnetwork::IpNetwork;
use proto::bgp as pb;
use proto::bgp::bgp_client::BgpClient;
use proto::transport::{self, Address};
use serde_json::{json, Map, Value};

use crate::render::age;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BgpCmd {
    Summary {
        v6: Option<bool>,
    },
    Neighbors {
        addr: Option<IpAddr>,
    },
    Rib {
        v6: bool,
        prefix: Option<IpNetwork>,
    },
    NeighborRoutes {
        addr: IpAddr,
        v6: bool,
        advertised: bool,
    },
    Clear {
        addr: Option<IpAddr>,
        soft_in: bool,
        soft_out: bool,
    },
    /// `show bgp l2vpn evpn [route type 2|3]` (0: every type).
    Evpn {
        route_type: u32,
    },
    /// `clear evpn dup-addr vni (VNI|all) [mac MAC]` (VNI 0: all).
    ClearEvpnDup {
        vni: u32,
        mac: Option<[u8; 6]>,
    },
}

fn kw(word: &str, candidates: &[&'static str]) -> Option<&'static str> {
    let w = word.to_ascii_lowercase();
    if let Some(e) = candidates.iter().find(|c| **c == w) {
        return Some(e);
    }
    let hits: Vec<&&str> = candidates.iter().filter(|c| c.starts_with(&w)).collect();
    match hits.as_slice() {
        [one] => Some(one),
        _ => None,
    }
}

/// Parses the words after `show bgp` (or `show ip bgp`, with `ip` set).
pub fn parse_show(words: &[&str], ip: bool) -> Result<BgpCmd, String> {
    if let [first, second, rest @ ..] = words {
        if !ip && kw(first, &["l2vpn"]).is_some() && kw(second, &["evpn"]).is_some() {
            return crate::bgp_evpn::parse(rest).map(|route_type| BgpCmd::Evpn { route_type });
        }
    }
    let mut w = words.iter().copied().peekable();
    let mut v6 = if ip { Some(false) } else { None };
    if let Some(f) = w.peek().and_then(|x| kw(x, &["ipv4", "ipv6"])) {
        w.next();
        v6 = Some(f == "ipv6");
        if w.peek().and_then(|x| kw(x, &["unicast"])).is_some() {
            w.next();
        }
    }
    let Some(first) = w.next() else {
        return Ok(BgpCmd::Rib {
            v6: v6.unwrap_or(false),
            prefix: None,
        });
    };
    let bad = |x: &str| format!("% Unknown command: `{x}`");
    match kw(first, &["summary", "neighbors"]) {
        Some("summary") => {
            if let Some(x) = w.next() {
                return Err(bad(x));
            }
            Ok(BgpCmd::Summary { v6 })
        }
        Some("neighbors") => {
            let Some(a) = w.next() else {
                return Ok(BgpCmd::Neighbors { addr: None });
            };
            let addr: IpAddr = a.parse().map_err(|_| format!("% Malformed address: {a}"))?;
            match w.next() {
                None => Ok(BgpCmd::Neighbors { addr: Some(addr) }),
                Some(x) => match kw(x, &["received-routes", "advertised-routes", "routes"]) {
                    Some(r) => Ok(BgpCmd::NeighborRoutes {
                        addr,
                        v6: v6.unwrap_or(false),
                        advertised: r == "advertised-routes",
                    }),
                    None => Err(bad(x)),
                },
            }
        }
        _ => {
            let p = proto::parse_prefix(first)
                .or_else(|_| {
                    first
                        .parse::<IpAddr>()
                        .map_err(|_| bad(first))
                        .and_then(|a| {
                            IpNetwork::new(a, if a.is_ipv4() { 32 } else { 128 })
                                .map_err(|e| e.to_string())
                        })
                })
                .map_err(|_| bad(first))?;
            if let Some(x) = w.next() {
                return Err(bad(x));
            }
            Ok(BgpCmd::Rib {
                v6: v6.unwrap_or(p.is_ipv6()),
                prefix: Some(p),
            })
        }
    }
}

/// Parses the words after `clear bgp`: `*` or an address, then `soft [in|out]`, `in`, `out`.
pub fn parse_clear(words: &[&str]) -> Result<BgpCmd, String> {
    let mut w = words.iter().copied();
    let target = w
        .next()
        .ok_or("% Incomplete command: clear bgp (*|ADDRESS)")?;
    let addr = if target == "*" {
        None
    } else {
        Some(
            target
                .parse()
                .map_err(|_| format!("% Malformed address: {target}"))?,
        )
    };
    let (mut soft_in, mut soft_out) = (false, false);
    for x in w {
        match kw(x, &["soft", "in", "out"]) {
            Some("soft") => {
                soft_in = true;
                soft_out = true;
            }
            Some("in") => {
                soft_in = true;
                soft_out = false;
            }
            Some("out") => {
                soft_out = true;
                soft_in = false;
            }
            _ => return Err(format!("% Unknown command: `{x}`")),
        }
    }
    Ok(BgpCmd::Clear {
        addr,
        soft_in,
        soft_out,
    })
}

fn ip(b: &[u8]) -> String {
    proto::addr_from_bytes(b)
        .map(|a| a.to_string())
        .unwrap_or_default()
}

fn family(v6: bool) -> &'static str {
    if v6 {
        "ipv6-unicast"
    } else {
        "ipv4-unicast"
    }
}

fn prefix(p: Option<&pb::Prefix>) -> String {
    p.and_then(|p| {
        let a = proto::addr_from_bytes(&p.addr).ok()?;
        IpNetwork::new(a, p.len as u8).ok()
    })
    .map(|n| n.to_string())
    .unwrap_or_default()
}

/// Runs a bgpd command against `addr` (bgpd's socket).
pub async fn run(cmd: &BgpCmd, json: bool, addr: &Address) -> Result<String, String> {
    let ch = transport::connect(addr)
        .await
        .map_err(|e| format!("% bgpd is not running (cannot connect to {addr}): {e}"))?;
    let mut c = BgpClient::new(ch).max_decoding_message_size(transport::MAX_MESSAGE_SIZE);
    let st = |e: tonic::Status| format!("% bgpd: {}", e.message());
    let pretty = |v: Value| serde_json::to_string_pretty(&v).unwrap_or_default() + "\n";
    match cmd {
        BgpCmd::Summary { v6 } => {
            let r = c
                .neighbors(pb::NeighborsRequest::default())
                .await
                .map_err(st)?
                .into_inner();
            // Without a family: each family that has neighbors, as FRR does.
            let fams: Vec<bool> = match v6 {
                Some(v) => vec![*v],
                None => [false, true]
                    .into_iter()
                    .filter(|&f| r.neighbors.iter().any(|n| fam_counters(n, f).is_some()))
                    .collect(),
            };
            if fams.is_empty() && !json {
                return Ok("% No BGP neighbors found\n".into());
            }
            if json {
                let mut m = Map::new();
                for f in fams {
                    m.insert(
                        if f { "ipv6Unicast" } else { "ipv4Unicast" }.into(),
                        summary_json(&r, f),
                    );
                }
                Ok(pretty(Value::Object(m)))
            } else {
                Ok(fams
                    .iter()
                    .map(|&f| summary(&r, f))
                    .collect::<Vec<_>>()
                    .join("\n"))
            }
        }
        BgpCmd::Neighbors { addr } => {
            let r = c
                .neighbors(pb::NeighborsRequest {
                    address: addr.map(proto::addr_to_bytes).unwrap_or_default(),
                })
                .await
                .map_err(st)?
                .into_inner();
            if let (Some(a), true) = (addr, r.neighbors.is_empty()) {
                return Err(format!("% No such neighbor: {a}"));
            }
            Ok(if json {
                pretty(neighbors_json(&r))
            } else {
                r.neighbors
                    .iter()
                    .map(neighbor)
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
        BgpCmd::Evpn { route_type } => {
            let r = c
                .evpn(pb::EvpnRequest {
                    route_type: *route_type,
                })
                .await
                .map_err(st)?
                .into_inner();
            Ok(if json {
                pretty(crate::bgp_evpn::render_json(&r))
            } else {
                crate::bgp_evpn::render(&r)
            })
        }
        BgpCmd::Rib { v6, prefix: p } => {
            let r = c
                .rib(pb::RibRequest {
                    family: family(*v6).into(),
                    prefix: p.map(|p| pb::Prefix {
                        addr: proto::addr_to_bytes(p.ip()),
                        len: p.prefix() as u32,
                    }),
                    neighbor: Vec::new(),
                    table: pb::rib_request::Table::LocRib as i32,
                })
                .await
                .map_err(st)?
                .into_inner();
            if p.is_some() && r.paths.is_empty() {
                return Err("% Network not in table".into());
            }
            Ok(if json {
                pretty(rib_json(&r))
            } else if p.is_some() {
                rib_detail(&r)
            } else {
                rib_table(&r)
            })
        }
        BgpCmd::NeighborRoutes {
            addr,
            v6,
            advertised,
        } => {
            let r = c
                .rib(pb::RibRequest {
                    family: family(*v6).into(),
                    prefix: None,
                    neighbor: proto::addr_to_bytes(*addr),
                    table: if *advertised {
                        pb::rib_request::Table::AdjRibOut
                    } else {
                        pb::rib_request::Table::AdjRibIn
                    } as i32,
                })
                .await
                .map_err(st)?
                .into_inner();
            Ok(if json {
                pretty(rib_json(&r))
            } else {
                rib_table(&r)
            })
        }
        BgpCmd::ClearEvpnDup { vni, mac } => {
            let r = c
                .clear_evpn_duplicates(pb::ClearEvpnDuplicatesRequest {
                    vni: *vni,
                    mac: mac.map(|m| m.to_vec()).unwrap_or_default(),
                })
                .await
                .map_err(st)?
                .into_inner();
            Ok(if json {
                pretty(serde_json::json!({ "cleared": r.cleared }))
            } else {
                format!("{} duplicate MAC(s) cleared", r.cleared)
            })
        }
        BgpCmd::Clear {
            addr,
            soft_in,
            soft_out,
        } => {
            let r = c
                .reset(pb::ResetRequest {
                    address: addr.map(proto::addr_to_bytes).unwrap_or_default(),
                    soft_in: *soft_in,
                    soft_out: *soft_out,
                    message: String::new(),
                })
                .await
                .map_err(st)?
                .into_inner();
            if addr.is_some() && r.neighbors == 0 {
                return Err("% No such neighbor".into());
            }
            Ok(String::new())
        }
    }
}

fn fam_counters(n: &pb::Neighbor, v6: bool) -> Option<&pb::FamilyCounters> {
    n.families.iter().find(|f| f.family == family(v6))
}

fn up_down(n: &pb::Neighbor) -> String {
    age(n.uptime_secs)
}

/// `show bgp summary` for one family.
pub fn summary(r: &pb::NeighborsReply, v6: bool) -> String {
    let peers: Vec<&pb::Neighbor> = r
        .neighbors
        .iter()
        .filter(|n| fam_counters(n, v6).is_some())
        .collect();
    let mut o = format!(
        "{} Unicast Summary:\nBGP router identifier {}, local AS number {}\nRIB entries {}, paths {}\nPeers {}\n\n",
        if v6 { "IPv6" } else { "IPv4" },
        ip(&r.router_id),
        r.local_as,
        r.loc_rib_prefixes,
        r.loc_rib_paths,
        peers.len()
    );
    let _ = writeln!(
        o,
        "{:<25} {:>1} {:>10} {:>9} {:>9} {:>8} {:>4} {:>4} {:>8} {:>12} {:>8} Desc",
        "Neighbor",
        "V",
        "AS",
        "MsgRcvd",
        "MsgSent",
        "TblVer",
        "InQ",
        "OutQ",
        "Up/Down",
        "State/PfxRcd",
        "PfxSnt"
    );
    for n in &peers {
        let f = fam_counters(n, v6);
        let state = match (n.state.as_str(), n.policy_note.is_empty()) {
            ("Established", true) => f.map(|f| f.accepted.to_string()).unwrap_or_default(),
            ("Established", false) => "(Policy)".to_string(),
            _ => n.state.clone(),
        };
        let _ = writeln!(
            o,
            "{:<25} {:>1} {:>10} {:>9} {:>9} {:>8} {:>4} {:>4} {:>8} {:>12} {:>8} {}",
            ip(&n.address),
            4,
            n.remote_as,
            n.received.as_ref().map(|m| m.total).unwrap_or(0),
            n.sent.as_ref().map(|m| m.total).unwrap_or(0),
            0,
            0,
            0,
            up_down(n),
            state,
            f.map(|f| f.advertised).unwrap_or(0),
            if n.description.is_empty() {
                "N/A"
            } else {
                &n.description
            }
        );
    }
    let _ = writeln!(o, "\nTotal number of neighbors {}", peers.len());
    o
}

pub fn summary_json(r: &pb::NeighborsReply, v6: bool) -> Value {
    let mut peers = Map::new();
    for n in r.neighbors.iter().filter(|n| fam_counters(n, v6).is_some()) {
        let f = fam_counters(n, v6);
        peers.insert(
            ip(&n.address),
            json!({
                "remoteAs": n.remote_as,
                "localAs": n.local_as,
                "version": 4,
                "msgRcvd": n.received.as_ref().map(|m| m.total).unwrap_or(0),
                "msgSent": n.sent.as_ref().map(|m| m.total).unwrap_or(0),
                "tableVersion": 0,
                "outq": 0,
                "inq": 0,
                "peerUptime": up_down(n),
                "peerUptimeMsec": n.uptime_secs * 1000,
                "pfxRcd": f.map(|f| f.accepted).unwrap_or(0),
                "pfxSnt": f.map(|f| f.advertised).unwrap_or(0),
                "state": n.state,
                "peerState": if n.policy_note.is_empty() { "OK" } else { "Policy" },
                "connectionsDropped": n.flaps,
                "desc": n.description,
            }),
        );
    }
    json!({
        "routerId": ip(&r.router_id),
        "as": r.local_as,
        "ribCount": r.loc_rib_prefixes,
        "peerCount": peers.len(),
        "peers": peers,
        "totalPeers": peers.len(),
    })
}

fn counters_block(o: &mut String, n: &pb::Neighbor) {
    let z = pb::MessageCounters::default();
    let s = n.sent.as_ref().unwrap_or(&z);
    let r = n.received.as_ref().unwrap_or(&z);
    let _ = writeln!(
        o,
        "  Message statistics:\n                         Sent       Rcvd"
    );
    for (name, a, b) in [
        ("Opens", s.opens, r.opens),
        ("Notifications", s.notifications, r.notifications),
        ("Updates", s.updates, r.updates),
        ("Keepalives", s.keepalives, r.keepalives),
        ("Route Refresh", s.route_refreshes, r.route_refreshes),
        ("Total", s.total, r.total),
    ] {
        let _ = writeln!(o, "    {name:<17} {a:>10} {b:>10}");
    }
}

/// How a capability went, in FRR's words.
fn exchanged(advertised: bool, received: bool) -> &'static str {
    match (advertised, received) {
        (true, true) => "advertised and received",
        (true, false) => "advertised",
        _ => "received",
    }
}

/// The Graceful Restart lines of `show bgp neighbors` (RFC 4724).
fn graceful_restart_block(o: &mut String, n: &pb::Neighbor) {
    let Some(g) = &n.graceful_restart else {
        return;
    };
    if !g.advertised && !g.received {
        return;
    }
    let _ = writeln!(
        o,
        "  Graceful restart: {}",
        exchanged(g.advertised, g.received)
    );
    if g.advertised {
        let _ = writeln!(
            o,
            "    Local restart time is {} seconds",
            g.local_restart_time
        );
    }
    if g.received {
        let _ = writeln!(
            o,
            "    Remote restart time is {} seconds{}; families {} (forwarding preserved: {})",
            g.remote_restart_time,
            if g.remote_restart_state {
                ", restarting"
            } else {
                ""
            },
            or_none(&g.remote_families.join(", ")),
            or_none(&g.remote_forwarding.join(", "))
        );
    }
    if !g.stale_families.is_empty() {
        let _ = writeln!(
            o,
            "    Helper: {} stale paths ({}) removed in {} seconds unless re-learned",
            g.stale_paths,
            g.stale_families.join(", "),
            g.stale_remaining_secs
        );
    }
}

/// The Extended Next Hop lines of `show bgp neighbors` (RFC 8950).
fn extended_nexthop_block(o: &mut String, n: &pb::Neighbor) {
    let Some(e) = &n.extended_nexthop else {
        return;
    };
    if !e.advertised && !e.received {
        return;
    }
    let _ = writeln!(
        o,
        "  Extended nexthop: {}",
        exchanged(e.advertised, e.received)
    );
    if !e.families.is_empty() {
        let _ = writeln!(
            o,
            "    Negotiated for {} with IPv6 next hops",
            e.families.join(", ")
        );
    }
}

/// The ADD-PATH lines of `show bgp neighbors` (RFC 7911), per family.
fn add_path_block(o: &mut String, n: &pb::Neighbor) {
    let Some(a) = &n.add_path else {
        return;
    };
    for f in &a.families {
        if f.advertised.is_empty() && f.received.is_empty() {
            continue;
        }
        let word = |w: &str| {
            if w.is_empty() {
                "none".to_string()
            } else {
                w.to_string()
            }
        };
        let negotiated = match (f.rx, f.tx) {
            (true, true) => "receive and send",
            (true, false) => "receive",
            (false, true) => "send",
            (false, false) => "none",
        };
        let _ = writeln!(
            o,
            "  AddPath {}: advertised {}, received {}, negotiated {}{}",
            f.family,
            word(&f.advertised),
            word(&f.received),
            negotiated,
            if f.tx {
                format!(" (sending {} paths)", a.send)
            } else {
                String::new()
            }
        );
    }
}

/// The BGP role lines of `show bgp neighbors` (RFC 9234), FRR's words.
fn role_block(o: &mut String, n: &pb::Neighbor) {
    let Some(r) = &n.role else {
        return;
    };
    if r.local_role.is_empty() && r.peer_role.is_empty() {
        return;
    }
    let _ = writeln!(
        o,
        "  Local Role: {}{}",
        if r.local_role.is_empty() {
            "undefined"
        } else {
            &r.local_role
        },
        if r.strict { " (strict mode)" } else { "" }
    );
    let _ = writeln!(
        o,
        "  Neighbor Role: {}",
        if r.peer_role.is_empty() {
            "undefined"
        } else {
            &r.peer_role
        }
    );
    if !r.negotiation.is_empty() {
        let _ = writeln!(o, "  Role negotiation: {}", r.negotiation);
    }
    if r.leaks > 0 || r.mismatches > 0 {
        let _ = writeln!(
            o,
            "  Route leaks dropped (OTC): {}, role mismatches: {}",
            r.leaks, r.mismatches
        );
    }
}

/// `show bgp neighbors ADDR` in FRR's layout.
pub fn neighbor(n: &pb::Neighbor) -> String {
    let mut o = format!(
        "BGP neighbor is {}, remote AS {}, local AS {}, {} link\n",
        ip(&n.address),
        n.remote_as,
        n.local_as,
        if n.ibgp { "internal" } else { "external" }
    );
    if !n.description.is_empty() {
        let _ = writeln!(o, " Description: {}", n.description);
    }
    let _ = writeln!(o, "  BGP version 4, remote router ID {}", ip(&n.remote_id));
    let _ = writeln!(
        o,
        "  BGP state = {}{}",
        n.state,
        if n.state == "Established" {
            format!(", up for {}", up_down(n))
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        o,
        "  Hold time is {}, keepalive interval is {} seconds (configured hold time {})",
        n.hold_time, n.keepalive, n.configured_hold_time
    );
    if !n.capabilities.is_empty() {
        let _ = writeln!(o, "  Neighbor capabilities:");
        for c in &n.capabilities {
            let _ = writeln!(o, "    {c}");
        }
    }
    graceful_restart_block(&mut o, n);
    extended_nexthop_block(&mut o, n);
    add_path_block(&mut o, n);
    role_block(&mut o, n);
    counters_block(&mut o, n);
    for f in &n.families {
        let _ = writeln!(
            o,
            "  For address family: {}\n    {} accepted prefixes ({} received), {} advertised",
            f.family, f.accepted, f.received, f.advertised
        );
    }
    if !n.import_policy.is_empty() || !n.export_policy.is_empty() {
        let _ = writeln!(
            o,
            "  Import policy: {}  Export policy: {}",
            or_none(&n.import_policy),
            or_none(&n.export_policy)
        );
    }
    if !n.policy_note.is_empty() {
        let _ = writeln!(o, "  {}", n.policy_note);
    }
    if n.graceful_shutdown {
        let _ = writeln!(
            o,
            "  Graceful shutdown (RFC 8326): routes sent with GSHUT, LOCAL_PREF 0 to iBGP"
        );
    }
    if n.treat_as_withdraw > 0 {
        let _ = writeln!(
            o,
            "  UPDATEs treated as withdraw (RFC 7606): {}",
            n.treat_as_withdraw
        );
    }
    peering_block(&mut o, n);
    let _ = writeln!(o, "  Connections dropped {}", n.flaps);
    if !n.last_error.is_empty() {
        let _ = writeln!(o, "  Last reset: {}", n.last_error);
    }
    if !n.last_shutdown_message.is_empty() {
        let _ = writeln!(
            o,
            "  Shutdown message received: \"{}\"",
            n.last_shutdown_message
        );
    }
    if !n.local_address.is_empty() {
        let _ = writeln!(
            o,
            "Local host: {}, Local port: {}\nForeign host: {}, Foreign port: {}",
            ip(&n.local_address),
            n.local_port,
            ip(&n.address),
            n.remote_port
        );
    }
    o
}

/// Session security, peer group and maximum-prefix lines (never a key).
fn peering_block(o: &mut String, n: &pb::Neighbor) {
    if !n.interface.is_empty() {
        let _ = writeln!(o, "  Interface: {} (link-local neighbor)", n.interface);
    }
    if !n.peer_group.is_empty() {
        let _ = writeln!(
            o,
            "  Member of peer-group {}{}",
            n.peer_group,
            if n.dynamic { " (dynamic neighbor)" } else { "" }
        );
    }
    if n.tcp_md5 {
        let _ = writeln!(o, "  TCP-MD5 authentication: <hidden>");
    }
    if n.ttl_security {
        let _ = writeln!(
            o,
            "  GTSM (ttl-security hops 1): TTL 255 sent, 254 required"
        );
    }
    if let Some(l) = &n.prefix_limit {
        for f in &l.families {
            let _ = writeln!(
                o,
                "  Maximum prefixes {}: {} ({} received), warning at {}%, {}{}",
                f.family,
                f.max,
                f.received,
                l.warning_percent,
                if l.action == "warning" {
                    "warning only".to_string()
                } else if l.restart_secs > 0 {
                    format!("restart after {} seconds", l.restart_secs)
                } else {
                    "down until cleared".to_string()
                },
                if l.tripped { "; limit reached" } else { "" }
            );
        }
        if l.tripped {
            if l.restart_remaining_secs > 0 {
                let _ = writeln!(
                    o,
                    "  Peer had exceeded the max. no. of prefixes configured; restarting in {} seconds",
                    l.restart_remaining_secs
                );
            } else {
                let _ = writeln!(
                    o,
                    "  Peer had exceeded the max. no. of prefixes configured; down until `clear bgp`"
                );
            }
        }
    }
    if n.connect_failures > 0 {
        let _ = writeln!(
            o,
            "  Connect attempts failed: {}; last: {}",
            n.connect_failures,
            or_none(&n.last_connect_error)
        );
    }
}

fn or_none(s: &str) -> &str {
    if s.is_empty() {
        "(none)"
    } else {
        s
    }
}

pub fn neighbors_json(r: &pb::NeighborsReply) -> Value {
    let mut m = Map::new();
    for n in &r.neighbors {
        let fams: Map<String, Value> = n
            .families
            .iter()
            .map(|f| {
                (
                    f.family.clone(),
                    json!({"acceptedPrefixCounter": f.accepted, "receivedPrefixCounter": f.received, "sentPrefixCounter": f.advertised}),
                )
            })
            .collect();
        let z = pb::MessageCounters::default();
        let cnt = |c: &pb::MessageCounters| {
            json!({"opens": c.opens, "notifications": c.notifications, "updates": c.updates,
                   "keepalives": c.keepalives, "routeRefresh": c.route_refreshes, "totals": c.total})
        };
        m.insert(
            ip(&n.address),
            json!({
                "remoteAs": n.remote_as,
                "localAs": n.local_as,
                "nbrDesc": n.description,
                "remoteRouterId": ip(&n.remote_id),
                "bgpState": n.state,
                "bgpTimerUpMsec": n.uptime_secs * 1000,
                "bgpTimerHoldTimeMsecs": n.hold_time as u64 * 1000,
                "bgpTimerKeepAliveIntervalMsecs": n.keepalive as u64 * 1000,
                "nbrInternalLink": n.ibgp,
                "neighborCapabilities": n.capabilities,
                "messageStats": {"sent": cnt(n.sent.as_ref().unwrap_or(&z)), "received": cnt(n.received.as_ref().unwrap_or(&z))},
                "addressFamilyInfo": fams,
                "connectionsDropped": n.flaps,
                "lastResetDueTo": n.last_error,
                "lastShutdownDescription": n.last_shutdown_message,
                "importPolicy": n.import_policy,
                "exportPolicy": n.export_policy,
                "policyNote": n.policy_note,
                "gracefulShutdown": n.graceful_shutdown,
                "treatAsWithdraw": n.treat_as_withdraw,
                "peerGroup": n.peer_group,
                "dynamicPeer": n.dynamic,
                "tcpMd5": n.tcp_md5,
                "ttlSecurity": n.ttl_security,
                "interface": n.interface,
                "connectFailures": n.connect_failures,
                "lastConnectError": n.last_connect_error,
                "prefixLimit": n.prefix_limit.as_ref().map(|l| json!({
                    "families": l.families.iter().map(|f| json!({"family": f.family, "max": f.max, "received": f.received})).collect::<Vec<_>>(),
                    "warningPercent": l.warning_percent,
                    "action": l.action,
                    "restartSecs": l.restart_secs,
                    "limitReached": l.tripped,
                    "restartRemainingSecs": l.restart_remaining_secs,
                })),
                "gracefulRestartInfo": n.graceful_restart.as_ref().map(|g| json!({
                    "advertised": g.advertised,
                    "received": g.received,
                    "localRestartTimer": g.local_restart_time,
                    "remoteRestartTimer": g.remote_restart_time,
                    "remoteRestarting": g.remote_restart_state,
                    "remoteFamilies": g.remote_families,
                    "remoteForwardingPreserved": g.remote_forwarding,
                    "staleFamilies": g.stale_families,
                    "stalePaths": g.stale_paths,
                    "staleRemainingSecs": g.stale_remaining_secs,
                })),
                "bgpRole": n.role.as_ref().map(|r| json!({
                    "localRole": r.local_role,
                    "strictMode": r.strict,
                    "neighborRole": r.peer_role,
                    "negotiation": r.negotiation,
                    "routeLeaks": r.leaks,
                    "roleMismatches": r.mismatches,
                })),
                "extendedNexthopInfo": n.extended_nexthop.as_ref().map(|e| json!({
                    "advertised": e.advertised,
                    "received": e.received,
                    "families": e.families,
                })),
                "addPathInfo": n.add_path.as_ref().map(|a| json!({
                    "send": a.send,
                    "families": a.families.iter().map(|f| json!({
                        "family": f.family,
                        "advertised": f.advertised,
                        "received": f.received,
                        "rx": f.rx,
                        "tx": f.tx,
                    })).collect::<Vec<_>>(),
                })),
            }),
        );
    }
    Value::Object(m)
}

fn origin_code(o: &str) -> &'static str {
    match o {
        "IGP" => "i",
        "EGP" => "e",
        _ => "?",
    }
}

/// The BGP table as FRR prints it.
pub fn rib_table(r: &pb::RibReply) -> String {
    let mut o = format!(
        "BGP table, local router ID is {}\nDefault local pref 100, local AS {}\n\
Status codes:  s suppressed, * valid, > best, = multipath,\n               i internal, S Stale, a aggregate\n\
Origin codes:  i - IGP, e - EGP, ? - incomplete\n\n",
        ip(&r.router_id),
        r.local_as
    );
    let _ = writeln!(
        o,
        "   {:<20} {:<20} {:>6} {:>6} {:>6} Path",
        "Network", "Next Hop", "Metric", "LocPrf", "Weight"
    );
    let mut last = String::new();
    let mut prefixes = 0;
    for p in &r.paths {
        let pfx = prefix(p.prefix.as_ref());
        let shown = if pfx == last {
            String::new()
        } else {
            prefixes += 1;
            pfx.clone()
        };
        last = pfx;
        let status = format!(
            "{}{}{}",
            if p.stale {
                'S'
            } else if p.suppressed {
                's'
            } else if p.valid {
                '*'
            } else {
                ' '
            },
            if p.best {
                '>'
            } else if p.multipath {
                '='
            } else {
                ' '
            },
            if p.ibgp {
                'i'
            } else if p.aggregate {
                'a'
            } else {
                ' '
            }
        );
        let nh = if p.next_hop.is_empty() {
            "0.0.0.0".into()
        } else {
            ip(&p.next_hop)
        };
        let _ = writeln!(
            o,
            "{status}{:<20} {:<20} {:>6} {:>6} {:>6} {}{}{}",
            shown,
            nh,
            if p.has_med {
                p.med.to_string()
            } else {
                String::new()
            },
            if p.has_local_pref {
                p.local_pref.to_string()
            } else {
                String::new()
            },
            p.weight,
            p.as_path_text,
            if p.as_path_text.is_empty() { "" } else { " " },
            origin_code(&p.origin)
        );
    }
    let _ = writeln!(
        o,
        "\nDisplayed  {} routes and {} total paths",
        prefixes,
        r.paths.len()
    );
    o
}

/// `show bgp ipv4 unicast PREFIX`: every path in detail.
pub fn rib_detail(r: &pb::RibReply) -> String {
    let Some(first) = r.paths.first() else {
        return String::new();
    };
    let mut o = format!(
        "BGP routing table entry for {}\nPaths: ({} available{})\n",
        prefix(first.prefix.as_ref()),
        r.paths.len(),
        if r.paths.iter().any(|p| p.best) {
            ", best #1"
        } else {
            ", no best path"
        }
    );
    for p in &r.paths {
        let _ = writeln!(
            o,
            "  {}",
            if p.as_path_text.is_empty() {
                "Local"
            } else {
                &p.as_path_text
            }
        );
        let from = if p.peer.is_empty() {
            "0.0.0.0".into()
        } else {
            ip(&p.peer)
        };
        let nh = if p.next_hop.is_empty() {
            "0.0.0.0".into()
        } else {
            ip(&p.next_hop)
        };
        let _ = writeln!(
            o,
            "    {nh}{} from {from}",
            if p.valid { "" } else { " (inaccessible)" }
        );
        let mut l = format!("      Origin {}", p.origin);
        if p.has_med {
            let _ = write!(l, ", metric {}", p.med);
        }
        if p.has_local_pref {
            let _ = write!(l, ", localpref {}", p.local_pref);
        }
        if p.valid {
            l.push_str(", valid");
        }
        l.push_str(if p.ibgp {
            ", internal"
        } else if p.peer.is_empty() {
            ", sourced"
        } else {
            ", external"
        });
        if p.multipath {
            l.push_str(", multipath");
        }
        if p.best {
            l.push_str(", best");
        }
        if p.stale {
            l.push_str(", stale");
        }
        let _ = writeln!(o, "{l}");
        if !p.communities.is_empty() {
            let _ = writeln!(o, "      Community: {}", p.communities.join(" "));
        }
        if !p.large_communities.is_empty() {
            let _ = writeln!(
                o,
                "      Large Community: {}",
                p.large_communities.join(" ")
            );
        }
        if !p.ext_communities.is_empty() {
            let _ = writeln!(
                o,
                "      Extended Community: {}",
                p.ext_communities.join(" ")
            );
        }
        if !p.originator_id.is_empty() {
            let _ = writeln!(
                o,
                "      Originator: {}, Cluster list: {}",
                ip(&p.originator_id),
                p.cluster_list
                    .iter()
                    .map(|c| ip(c))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
        }
        if p.has_rx_path_id || p.has_tx_path_id {
            let id = |has: bool, v: u32| if has { v.to_string() } else { "-".into() };
            let _ = writeln!(
                o,
                "      AddPath ID: RX {}, TX {}",
                id(p.has_rx_path_id, p.rx_path_id),
                id(p.has_tx_path_id, p.tx_path_id)
            );
        }
        if p.has_otc {
            let _ = writeln!(o, "      Only to Customer: {}", p.otc);
        }
        if p.aggregate {
            let _ = writeln!(
                o,
                "      Aggregate of our more-specific routes (blackhole in the FIB)"
            );
        }
        if p.suppressed {
            let _ = writeln!(
                o,
                "      Suppressed by a summary-only aggregate: not advertised"
            );
        }
        if !p.reason.is_empty() {
            let _ = writeln!(o, "      Not best: {}", p.reason);
        }
        let _ = writeln!(o, "      Last update: {} ago", age(p.age_secs));
    }
    o
}

pub fn rib_json(r: &pb::RibReply) -> Value {
    let mut routes = Map::new();
    for p in &r.paths {
        let v = json!({
            "valid": p.valid,
            "bestpath": p.best,
            "multipath": p.multipath,
            "stale": p.stale,
            "pathFrom": if p.ibgp { "internal" } else { "external" },
            "prefix": prefix(p.prefix.as_ref()),
            "metric": p.has_med.then_some(p.med),
            "locPrf": p.has_local_pref.then_some(p.local_pref),
            "weight": p.weight,
            "path": p.as_path_text,
            "asPath": p.as_path,
            "origin": p.origin,
            "community": p.communities,
            "largeCommunity": p.large_communities,
            "extendedCommunity": p.ext_communities,
            "atomicAggregate": p.atomic_aggregate,
            "aggregator": (!p.aggregator.is_empty()).then_some(&p.aggregator),
            "otc": p.has_otc.then_some(p.otc),
            "aggregate": p.aggregate,
            "suppressed": p.suppressed,
            "stale": p.stale,
            "addpathRxId": p.has_rx_path_id.then_some(p.rx_path_id),
            "addpathTxId": p.has_tx_path_id.then_some(p.tx_path_id),
            "peerId": if p.peer.is_empty() { "(unspec)".to_string() } else { ip(&p.peer) },
            "nexthops": [{"ip": if p.next_hop.is_empty() { "0.0.0.0".to_string() } else { ip(&p.next_hop) }, "used": true}],
        });
        if let Some(a) = routes
            .entry(prefix(p.prefix.as_ref()))
            .or_insert_with(|| Value::Array(Vec::new()))
            .as_array_mut()
        {
            a.push(v);
        }
    }
    json!({
        "routerId": ip(&r.router_id),
        "localAS": r.local_as,
        "routes": routes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_frr_words() {
        assert_eq!(
            parse_show(&["summary"], false).unwrap(),
            BgpCmd::Summary { v6: None }
        );
        assert_eq!(
            parse_show(&["ipv6", "unicast", "sum"], false).unwrap(),
            BgpCmd::Summary { v6: Some(true) }
        );
        assert_eq!(
            parse_show(&["summary"], true).unwrap(),
            BgpCmd::Summary { v6: Some(false) }
        );
        assert_eq!(
            parse_show(&["neighbors"], false).unwrap(),
            BgpCmd::Neighbors { addr: None }
        );
        assert_eq!(
            parse_show(&["neighbors", "192.0.2.2", "received-routes"], false).unwrap(),
            BgpCmd::NeighborRoutes {
                addr: "192.0.2.2".parse().unwrap(),
                v6: false,
                advertised: false
            }
        );
        assert_eq!(
            parse_show(&["ipv4", "unicast", "203.0.113.0/24"], false).unwrap(),
            BgpCmd::Rib {
                v6: false,
                prefix: Some("203.0.113.0/24".parse().unwrap())
            }
        );
        assert_eq!(
            parse_show(&["ipv6", "unicast"], false).unwrap(),
            BgpCmd::Rib {
                v6: true,
                prefix: None
            }
        );
        assert!(parse_show(&["neighbors", "x"], false).is_err());
        assert!(parse_show(&["bogus"], false).is_err());
        assert_eq!(
            parse_clear(&["192.0.2.2", "soft", "in"]).unwrap(),
            BgpCmd::Clear {
                addr: Some("192.0.2.2".parse().unwrap()),
                soft_in: true,
                soft_out: false
            }
        );
        assert_eq!(
            parse_clear(&["*"]).unwrap(),
            BgpCmd::Clear {
                addr: None,
                soft_in: false,
                soft_out: false
            }
        );
        assert!(parse_clear(&[]).is_err());
    }

    #[test]
    fn table_layout() {
        let r = pb::RibReply {
            paths: vec![pb::Path {
                prefix: Some(pb::Prefix {
                    addr: vec![198, 51, 100, 0],
                    len: 24,
                }),
                next_hop: vec![192, 0, 2, 2],
                as_path_text: "65001".into(),
                origin: "IGP".into(),
                has_med: true,
                med: 0,
                best: true,
                valid: true,
                ..Default::default()
            }],
            local_as: 65000,
            router_id: vec![192, 0, 2, 1],
        };
        let t = rib_table(&r);
        assert!(
            t.contains("*> 198.51.100.0/24      192.0.2.2                 0             0 65001 i"),
            "{t}"
        );
        assert!(t.contains("Displayed  1 routes and 1 total paths"));
        assert_eq!(
            rib_json(&r)["routes"]["198.51.100.0/24"][0]["bestpath"],
            true
        );
    }
}

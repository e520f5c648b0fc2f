//! `show ip ospf ...`: parses the words after `show ip ospf`, asks ospfd
//! over its gRPC socket (`<run-dir>/ospfd.sock`, `proto/proto/ospf.proto`)
//! and renders the answer in FRR's text formats, or FRR-shaped JSON.
//!
//! Commands: `show ip ospf`, `show ip ospf interface [NAME]`,
//! `show ip ospf neighbor`, `show ip ospf database [router|network|summary|
//! asbr-summary|external] [detail]`, `show ip ospf route`. Read-only: it
//! never changes ospfd's state.

use std::fmt::Write as _;
use std::path::Path;

use proto::ospf as pb;
use proto::ospf::ospf_client::OspfClient;
use proto::transport::{connect, socket_path, Address};
use serde_json::{json, Map, Value};

/// A parsed `show ip ospf` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OspfCmd {
    Summary,
    Interface(Option<String>),
    Neighbor,
    Database { lsa_type: u32, detail: bool },
    Route,
}

/// Parses the words after `show ip ospf`. `None` when the words are not an
/// OSPF command at all (never: every word list after `show ip ospf` is
/// ours), `Some(Err)` with a message for a bad one.
pub fn parse(words: &[&str]) -> Option<Result<OspfCmd, String>> {
    let mut w = words.iter().copied();
    let cmd = match w.next() {
        None => Ok(OspfCmd::Summary),
        Some(x) if "interface".starts_with(x) && x.len() >= 2 => match (w.next(), w.next()) {
            (None, _) => Ok(OspfCmd::Interface(None)),
            (Some(name), None) => Ok(OspfCmd::Interface(Some(name.to_string()))),
            _ => Err("usage: show ip ospf interface [NAME]".into()),
        },
        Some(x) if "neighbor".starts_with(x) && x.len() >= 2 => match w.next() {
            None => Ok(OspfCmd::Neighbor),
            Some(_) => Err("usage: show ip ospf neighbor".into()),
        },
        Some(x) if "database".starts_with(x) && x.len() >= 2 => {
            let mut lsa_type = 0;
            let mut detail = false;
            let mut err = None;
            for word in w.by_ref() {
                match word {
                    "router" => lsa_type = 1,
                    "network" => lsa_type = 2,
                    "summary" => lsa_type = 3,
                    "asbr-summary" => lsa_type = 4,
                    "external" => lsa_type = 5,
                    "detail" => detail = true,
                    other => {
                        err = Some(format!(
                            "unknown word `{other}`: show ip ospf database [router|network|summary|asbr-summary|external] [detail]"
                        ))
                    }
                }
            }
            // A type alone shows its LSAs in detail, as FRR does.
            if lsa_type != 0 {
                detail = true;
            }
            match err {
                Some(e) => Err(e),
                None => Ok(OspfCmd::Database { lsa_type, detail }),
            }
        }
        Some(x) if "route".starts_with(x) && x.len() >= 2 => match w.next() {
            None => Ok(OspfCmd::Route),
            Some(_) => Err("usage: show ip ospf route".into()),
        },
        Some(other) => Err(format!(
            "unknown command `show ip ospf {other}`: try interface, neighbor, database, route"
        )),
    };
    Some(cmd)
}

/// Runs a command against ospfd in `run_dir` and renders the answer.
pub async fn run(cmd: &OspfCmd, json: bool, run_dir: &Path) -> Result<String, String> {
    let addr = Address::Unix(socket_path(run_dir, "ospfd"));
    let ch = connect(&addr)
        .await
        .map_err(|e| format!("cannot reach ospfd at {addr}: {e}"))?;
    let mut c = OspfClient::new(ch);
    let st = |e: tonic::Status| format!("ospfd: {}", e.message());
    let out = match cmd {
        OspfCmd::Summary => {
            let r = c
                .summary(pb::SummaryRequest {})
                .await
                .map_err(st)?
                .into_inner();
            if json {
                pretty(&summary_json(&r))
            } else {
                summary(&r)
            }
        }
        OspfCmd::Interface(name) => {
            let r = c
                .interfaces(pb::InterfacesRequest {
                    name: name.clone().unwrap_or_default(),
                })
                .await
                .map_err(st)?
                .into_inner();
            let rid = c
                .summary(pb::SummaryRequest {})
                .await
                .map_err(st)?
                .into_inner()
                .router_id;
            if json {
                pretty(&interfaces_json(&r, &rid))
            } else {
                interfaces(&r, &rid)
            }
        }
        OspfCmd::Neighbor => {
            let r = c
                .neighbors(pb::NeighborsRequest {})
                .await
                .map_err(st)?
                .into_inner();
            if json {
                pretty(&neighbors_json(&r))
            } else {
                neighbors(&r)
            }
        }
        OspfCmd::Database { lsa_type, detail } => {
            let r = c
                .database(pb::DatabaseRequest {
                    lsa_type: *lsa_type,
                    detail: true,
                })
                .await
                .map_err(st)?
                .into_inner();
            if json {
                pretty(&database_json(&r, *detail))
            } else if *detail {
                database_detail(&r)
            } else {
                database(&r)
            }
        }
        OspfCmd::Route => {
            let r = c
                .routes(pb::RoutesRequest {})
                .await
                .map_err(st)?
                .into_inner();
            if json {
                pretty(&routes_json(&r))
            } else {
                routes(&r)
            }
        }
    };
    Ok(out)
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// Milliseconds as FRR prints durations: "1.234s", "1m02s", "1h02m03s".
fn ms_time(ms: u64) -> String {
    let s = ms / 1000;
    if s < 60 {
        format!("{}.{:03}s", s, ms % 1000)
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else if s < 86400 {
        format!("{}h{:02}m{:02}s", s / 3600, (s / 60) % 60, s % 60)
    } else {
        format!("{}d{:02}h{:02}m", s / 86400, (s / 3600) % 24, (s / 60) % 60)
    }
}

fn area_name(a: &str) -> String {
    if a == "0.0.0.0" {
        format!("{a} (Backbone)")
    } else {
        a.to_string()
    }
}

/// `show ip ospf`.
pub fn summary(r: &pb::SummaryReply) -> String {
    let mut o = String::new();
    let _ = writeln!(o, " OSPF Routing Process, Router ID: {}", r.router_id);
    o.push_str(" Supports only single TOS (TOS0) routes\n");
    o.push_str(" This implementation conforms to RFC2328\n");
    o.push_str(" RFC1583Compatibility flag is disabled\n");
    o.push_str(" OpaqueCapability flag is disabled\n");
    let _ = writeln!(
        o,
        " Initial SPF scheduling delay {} millisec(s)",
        r.spf_delay
    );
    let _ = writeln!(
        o,
        " Minimum hold time between consecutive SPFs {} millisec(s)",
        r.spf_initial_hold
    );
    let _ = writeln!(
        o,
        " Maximum hold time between consecutive SPFs {} millisec(s)",
        r.spf_max_hold
    );
    let mult = r
        .spf_current_hold
        .checked_div(r.spf_initial_hold)
        .unwrap_or(1)
        .max(1);
    let _ = writeln!(o, " Hold time multiplier is currently {mult}");
    if r.spf_runs > 0 {
        let _ = writeln!(
            o,
            " SPF algorithm last executed {} ago",
            ms_time(r.spf_last_ago)
        );
        let _ = writeln!(o, " Last SPF duration {} usecs", r.spf_last_duration_us);
    } else {
        o.push_str(" SPF algorithm has not been run\n");
    }
    o.push_str(" LSA minimum interval 5000 msecs\n");
    o.push_str(" LSA minimum arrival 1000 msecs\n");
    let _ = writeln!(o, " Reference bandwidth {} Mbit/s", r.reference_bandwidth);
    if r.abr {
        o.push_str(" This router is an ABR, ABR type is: Standard (RFC2328)\n");
    }
    if r.asbr {
        o.push_str(" This router is an ASBR (injecting external routing information)\n");
    }
    let _ = writeln!(
        o,
        " Number of external LSA {}. Checksum Sum 0x{:08x}",
        r.external_lsas, r.external_checksum_sum
    );
    let _ = writeln!(
        o,
        " Number of areas attached to this router: {}",
        r.areas.len()
    );
    for a in &r.areas {
        let _ = writeln!(o, "\n Area ID: {}", area_name(&a.area_id));
        if a.stub {
            let _ = writeln!(o, "   Shortcutting mode: Default, S-bit consensus: ok\n   It is a stub area\n   Default cost for stub area: {}", a.stub_default_cost);
        }
        let _ = writeln!(
            o,
            "   Number of interfaces in this area: Total: {}, Active: {}",
            a.interfaces, a.active_interfaces
        );
        let _ = writeln!(
            o,
            "   Number of fully adjacent neighbors in this area: {}",
            a.full_adjacencies
        );
        o.push_str("   Area has no authentication\n");
        let _ = writeln!(o, "   SPF algorithm executed {} times", r.spf_runs);
        let _ = writeln!(o, "   Number of LSA {}", a.lsa_count);
        let _ = writeln!(o, "   Number of router LSA {}", a.router_lsas);
        let _ = writeln!(o, "   Number of network LSA {}", a.network_lsas);
        let _ = writeln!(o, "   Number of summary LSA {}", a.summary_lsas);
        let _ = writeln!(o, "   Number of ASBR summary LSA {}", a.asbr_summary_lsas);
        for g in &a.ranges {
            let _ = writeln!(o, "   Address range {g}");
        }
    }
    if !r.drops.is_empty() {
        o.push_str("\n Dropped packets:\n");
        for d in &r.drops {
            let _ = writeln!(o, "   {:<28} {}", d.reason, d.count);
        }
    }
    o
}

/// `show ip ospf json`.
pub fn summary_json(r: &pb::SummaryReply) -> Value {
    let mut areas = Map::new();
    for a in &r.areas {
        let mut v = json!({
            "areaIfTotalCounter": a.interfaces,
            "areaIfActiveCounter": a.active_interfaces,
            "nbrFullAdjacentCounter": a.full_adjacencies,
            "authentication": "authenticationNone",
            "spfExecutedCounter": r.spf_runs,
            "lsaNumber": a.lsa_count,
            "lsaRouterNumber": a.router_lsas,
            "lsaNetworkNumber": a.network_lsas,
            "lsaSummaryNumber": a.summary_lsas,
            "lsaAsbrNumber": a.asbr_summary_lsas,
        });
        if a.area_id == "0.0.0.0" {
            v["backbone"] = json!(true);
        }
        if a.stub {
            v["stubNoSummary"] = json!(false);
            v["stubShortcut"] = json!(false);
            v["stubDefaultCost"] = json!(a.stub_default_cost);
        }
        areas.insert(a.area_id.clone(), v);
    }
    let mut v = json!({
        "routerId": r.router_id,
        "tosRoutesOnly": true,
        "rfc2328Conform": true,
        "spfScheduleDelayMsecs": r.spf_delay,
        "holdtimeMinMsecs": r.spf_initial_hold,
        "holdtimeMaxMsecs": r.spf_max_hold,
        "spfLastExecutedMsecs": r.spf_last_ago,
        "spfLastDurationMsecs": r.spf_last_duration_us / 1000,
        "lsaMinIntervalMsecs": 5000,
        "lsaMinArrivalMsecs": 1000,
        "lsaExternalCounter": r.external_lsas,
        "lsaExternalChecksum": r.external_checksum_sum,
        "attachedAreaCounter": r.areas.len(),
        "areas": areas,
        "droppedPackets": r.drops.iter().map(|d| (d.reason.clone(), json!(d.count))).collect::<Map<_, _>>(),
    });
    if r.abr {
        v["abrType"] = json!("Standard");
    }
    if r.asbr {
        v["asbrRouter"] = json!("injectingExternalRoutingInformation");
    }
    v
}

/// `show ip ospf interface`.
pub fn interfaces(r: &pb::InterfacesReply, router_id: &str) -> String {
    let mut o = String::new();
    for i in &r.interfaces {
        let _ = writeln!(o, "{} is {}", i.name, if i.link_up { "up" } else { "down" });
        let _ = writeln!(o, "  ifindex {}, MTU {} bytes", i.ifindex, i.mtu);
        if !i.ospf_up {
            o.push_str("  OSPF not enabled on this interface\n");
            continue;
        }
        let _ = writeln!(
            o,
            "  Internet Address {}/{}, Area {}",
            i.address,
            i.prefix_len,
            area_name(&i.area_id)
        );
        o.push_str("  MTU mismatch detection: enabled\n");
        let _ = writeln!(
            o,
            "  Router ID {}, Network Type {}, Cost: {}",
            router_id, i.network_type, i.cost
        );
        let _ = writeln!(
            o,
            "  Transmit Delay is {} sec, State {}, Priority {}",
            i.transmit_delay, i.state, i.priority
        );
        if i.passive {
            o.push_str("  No Hellos (Passive interface)\n");
        }
        if i.network_type == "BROADCAST" && !i.passive {
            if i.dr_address.is_empty() {
                o.push_str("  No backup designated router on this network\n");
            } else {
                let _ = writeln!(
                    o,
                    "  Designated Router (ID) {} Interface Address {}/{}",
                    i.dr_id, i.dr_address, i.prefix_len
                );
            }
            if i.bdr_address.is_empty() {
                o.push_str("  No backup designated router on this network\n");
            } else {
                let _ = writeln!(
                    o,
                    "  Backup Designated Router (ID) {}, Interface Address {}",
                    i.bdr_id, i.bdr_address
                );
            }
        }
        let groups = match i.state.as_str() {
            "DR" | "Backup" => "OSPFAllRouters OSPFDesignatedRouters",
            _ if i.passive || i.network_type == "LOOPBACK" => "",
            _ => "OSPFAllRouters",
        };
        let _ = writeln!(o, "  Multicast group memberships: {groups}");
        let _ = writeln!(
            o,
            "  Timer intervals configured, Hello {}s, Dead {}s, Wait {}s, Retransmit {}",
            i.hello_interval, i.dead_interval, i.dead_interval, i.retransmit_interval
        );
        if !i.passive && i.network_type != "LOOPBACK" {
            let _ = writeln!(o, "    Hello due in {}", ms_time(i.hello_due));
        }
        let _ = writeln!(
            o,
            "  Neighbor Count is {}, Adjacent neighbor count is {}",
            i.neighbors, i.adjacent_neighbors
        );
        if i.auth != "null" {
            let _ = writeln!(o, "  Authentication: {}", i.auth);
        }
        o.push('\n');
    }
    o
}

/// `show ip ospf interface json`.
pub fn interfaces_json(r: &pb::InterfacesReply, router_id: &str) -> Value {
    let mut m = Map::new();
    for i in &r.interfaces {
        let mut v = json!({
            "ifUp": i.link_up,
            "ifIndex": i.ifindex,
            "mtuBytes": i.mtu,
            "ospfEnabled": i.ospf_up,
        });
        if i.ospf_up {
            let extra = json!({
                "ipAddress": i.address,
                "ipAddressPrefixlen": i.prefix_len,
                "area": area_name(&i.area_id),
                "routerId": router_id,
                "networkType": i.network_type,
                "cost": i.cost,
                "transmitDelaySecs": i.transmit_delay,
                "state": i.state,
                "priority": i.priority,
                "drId": i.dr_id,
                "drAddress": i.dr_address,
                "bdrId": i.bdr_id,
                "bdrAddress": i.bdr_address,
                "timerMsecs": i.hello_interval * 1000,
                "timerDeadSecs": i.dead_interval,
                "timerWaitSecs": i.dead_interval,
                "timerRetransmitSecs": i.retransmit_interval,
                "timerHelloInMsecs": i.hello_due,
                "timerPassiveIface": i.passive,
                "nbrCount": i.neighbors,
                "nbrAdjacentCount": i.adjacent_neighbors,
                "authentication": i.auth,
                "helloIn": i.hello_in, "helloOut": i.hello_out,
                "dbDescIn": i.dd_in, "dbDescOut": i.dd_out,
                "lsReqIn": i.lsr_in, "lsReqOut": i.lsr_out,
                "lsUpdIn": i.lsu_in, "lsUpdOut": i.lsu_out,
                "lsAckIn": i.ack_in, "lsAckOut": i.ack_out,
            });
            if let (Some(v), Some(e)) = (v.as_object_mut(), extra.as_object()) {
                v.extend(e.clone());
            }
        }
        m.insert(i.name.clone(), v);
    }
    json!({ "interfaces": m })
}

fn nbr_state(n: &pb::NeighborInfo) -> String {
    if n.role.is_empty() {
        format!("{}/-", n.state)
    } else {
        format!("{}/{}", n.state, n.role)
    }
}

/// `show ip ospf neighbor`.
pub fn neighbors(r: &pb::NeighborsReply) -> String {
    let mut o = String::from(
        "\nNeighbor ID     Pri State           Up Time         Dead Time Address         Interface                        RXmtL RqstL DBsmL\n",
    );
    for n in &r.neighbors {
        let _ = writeln!(
            o,
            "{:<15} {:>3} {:<15} {:<15} {:>9} {:<15} {:<32} {:>5} {:>5} {:>5}",
            n.router_id,
            n.priority,
            nbr_state(n),
            ms_time(n.up_time),
            ms_time(n.dead_due),
            n.address,
            format!("{}:{}", n.ifname, n.if_address),
            n.retransmit_count,
            n.request_count,
            n.summary_count
        );
    }
    o.push('\n');
    o
}

/// `show ip ospf neighbor json`.
pub fn neighbors_json(r: &pb::NeighborsReply) -> Value {
    let mut m: Map<String, Value> = Map::new();
    for n in &r.neighbors {
        let v = json!({
            "nbrPriority": n.priority,
            "nbrState": nbr_state(n),
            "converged": n.state,
            "role": n.role,
            "upTimeInMsec": n.up_time,
            "deadTimeMsecs": n.dead_due,
            "routerDeadIntervalTimerDueMsec": n.dead_due,
            "upTime": ms_time(n.up_time),
            "deadTime": ms_time(n.dead_due),
            "ifaceAddress": n.address,
            "ifaceName": format!("{}:{}", n.ifname, n.if_address),
            "linkStateRetransmissionListCounter": n.retransmit_count,
            "linkStateRequestListCounter": n.request_count,
            "databaseSummaryListCounter": n.summary_count,
        });
        if let Some(Value::Array(list)) = m.get_mut(&n.router_id) {
            list.push(v);
        } else {
            m.insert(n.router_id.clone(), json!([v]));
        }
    }
    json!({ "neighbors": m })
}

fn type_title(t: u32) -> &'static str {
    match t {
        1 => "Router Link States",
        2 => "Net Link States",
        3 => "Summary Link States",
        4 => "ASBR-Summary Link States",
        5 => "AS External Link States",
        _ => "Unknown Link States",
    }
}

fn mask_len(mask: &str) -> u32 {
    mask.parse::<std::net::Ipv4Addr>()
        .map(|m| u32::from(m).count_ones())
        .unwrap_or(0)
}

/// Groups LSAs as FRR lists them: per area by type, then the AS scope.
fn groups(r: &pb::DatabaseReply) -> Vec<((u32, String), Vec<&pb::LsaInfo>)> {
    let mut g: std::collections::BTreeMap<(bool, String, u32), Vec<&pb::LsaInfo>> =
        Default::default();
    for l in &r.lsas {
        g.entry((l.area_id.is_empty(), l.area_id.clone(), l.lsa_type))
            .or_default()
            .push(l);
    }
    g.into_iter()
        .map(|((_, area, t), v)| ((t, area), v))
        .collect()
}

/// `show ip ospf database`.
pub fn database(r: &pb::DatabaseReply) -> String {
    let mut o = format!("\n       OSPF Router with ID ({})\n", r.router_id);
    for ((t, area), lsas) in groups(r) {
        if area.is_empty() {
            let _ = writeln!(o, "\n                {}\n", type_title(t));
        } else {
            let _ = writeln!(o, "\n                {} (Area {})\n", type_title(t), area);
        }
        let tail = match t {
            1 => "  Link count",
            3 | 5 => "  Route",
            _ => "",
        };
        let _ = writeln!(
            o,
            "Link ID         ADV Router      Age  Seq#       CkSum{tail}"
        );
        for l in lsas {
            let mut line = format!(
                "{:<15} {:<15} {:>4} 0x{:08x} 0x{:04x}",
                l.lsid, l.adv_router, l.age, l.seq, l.checksum
            );
            match t {
                1 => {
                    let _ = write!(line, " {}", l.links.len());
                }
                3 => {
                    let _ = write!(line, " {}/{}", l.lsid, mask_len(&l.mask));
                }
                5 => {
                    let _ = write!(
                        line,
                        " E{} {}/{} [0x{:x}]",
                        l.metric_type,
                        l.lsid,
                        mask_len(&l.mask),
                        l.tag
                    );
                }
                _ => {}
            }
            let _ = writeln!(o, "{line}");
        }
    }
    o.push('\n');
    o
}

fn options(v: u32) -> String {
    let bit = |b: u32, c: char| if v & b != 0 { c } else { '-' };
    format!(
        "0x{:x}  : {}|{}|{}|{}|{}|{}|{}|{}",
        v,
        bit(0x80, '*'),
        bit(0x40, 'O'),
        bit(0x20, 'D'),
        bit(0x10, 'L'),
        bit(0x08, 'N'),
        bit(0x04, 'M'),
        bit(0x02, 'E'),
        bit(0x01, 'T')
    )
}

/// `show ip ospf database ... detail`.
pub fn database_detail(r: &pb::DatabaseReply) -> String {
    let mut o = format!("\n       OSPF Router with ID ({})\n", r.router_id);
    for ((t, area), lsas) in groups(r) {
        if area.is_empty() {
            let _ = writeln!(o, "\n                {}\n", type_title(t));
        } else {
            let _ = writeln!(o, "\n                {} (Area {})\n", type_title(t), area);
        }
        for l in lsas {
            let _ = writeln!(o, "  LS age: {}", l.age);
            let _ = writeln!(o, "  Options: {}", options(l.options));
            if t == 1 {
                let _ = writeln!(
                    o,
                    "  Flags: 0x{:x}{}{}",
                    l.router_flags,
                    if l.router_flags & 1 != 0 {
                        " : ABR"
                    } else {
                        ""
                    },
                    if l.router_flags & 2 != 0 {
                        " : ASBR"
                    } else {
                        ""
                    }
                );
            }
            let name = match t {
                1 => "router-LSA",
                2 => "network-LSA",
                3 => "summary-LSA",
                4 => "ASBR-summary-LSA",
                5 => "AS-external-LSA",
                _ => "unknown",
            };
            let _ = writeln!(o, "  LS Type: {name}");
            let _ = writeln!(o, "  Link State ID: {}", l.lsid);
            let _ = writeln!(o, "  Advertising Router: {}", l.adv_router);
            let _ = writeln!(o, "  LS Seq Number: {:08x}", l.seq);
            let _ = writeln!(o, "  Checksum: 0x{:04x}", l.checksum);
            let _ = writeln!(o, "  Length: {}", l.length);
            match t {
                1 => {
                    let _ = writeln!(o, "\n   Number of Links: {}\n", l.links.len());
                    for k in &l.links {
                        let (what, id, data) = match k.link_type {
                            1 => (
                                "another Router (point-to-point)",
                                "Neighboring Router ID",
                                "Router Interface address",
                            ),
                            2 => (
                                "a Transit Network",
                                "Designated Router address",
                                "Router Interface address",
                            ),
                            3 => ("Stub Network", "Net", "Network Mask"),
                            _ => (
                                "a Virtual Link",
                                "Neighboring Router ID",
                                "Router Interface address",
                            ),
                        };
                        let _ = writeln!(o, "    Link connected to: {what}");
                        let _ = writeln!(o, "     (Link ID) {id}: {}", k.link_id);
                        let _ = writeln!(o, "     (Link Data) {data}: {}", k.link_data);
                        let _ = writeln!(o, "      Number of TOS metrics: 0");
                        let _ = writeln!(o, "       TOS 0 Metric: {}\n", k.metric);
                    }
                }
                2 => {
                    let _ = writeln!(o, "  Network Mask: /{}", mask_len(&l.mask));
                    for a in &l.attached {
                        let _ = writeln!(o, "        Attached Router: {a}");
                    }
                    o.push('\n');
                }
                3 | 4 => {
                    let _ = writeln!(o, "  Network Mask: /{}", mask_len(&l.mask));
                    let _ = writeln!(o, "        TOS: 0  Metric: {}\n", l.metric);
                }
                5 => {
                    let _ = writeln!(o, "  Network Mask: /{}", mask_len(&l.mask));
                    let _ = writeln!(
                        o,
                        "        Metric Type: {}",
                        if l.metric_type == 2 {
                            "2 (Larger than any link state path)"
                        } else {
                            "1 (Comparable directly to link state metric)"
                        }
                    );
                    let _ = writeln!(o, "        TOS: 0");
                    let _ = writeln!(o, "        Metric: {}", l.metric);
                    let _ = writeln!(o, "        Forward Address: {}", l.forwarding);
                    let _ = writeln!(o, "        External Route Tag: {}\n", l.tag);
                }
                _ => o.push('\n'),
            }
        }
    }
    o
}

/// `show ip ospf database [...] json`.
pub fn database_json(r: &pb::DatabaseReply, detail: bool) -> Value {
    let mut areas: Map<String, Value> = Map::new();
    let mut as_scoped: Map<String, Value> = Map::new();
    let key = |t: u32| match t {
        1 => "routerLinkStates",
        2 => "networkLinkStates",
        3 => "summaryLinkStates",
        4 => "asbrSummaryLinkStates",
        5 => "asExternalLinkStates",
        _ => "unknownLinkStates",
    };
    for l in &r.lsas {
        let mut v = json!({
            "lsId": l.lsid,
            "advertisedRouter": l.adv_router,
            "lsaAge": l.age,
            "sequenceNumber": format!("{:08x}", l.seq),
            "checksum": format!("{:04x}", l.checksum),
        });
        match l.lsa_type {
            1 => v["numOfRouterLinks"] = json!(l.links.len()),
            3 => v["summaryAddress"] = json!(format!("{}/{}", l.lsid, mask_len(&l.mask))),
            5 => {
                v["metricType"] = json!(format!("E{}", l.metric_type));
                v["route"] = json!(format!("{}/{}", l.lsid, mask_len(&l.mask)));
                v["tag"] = json!(l.tag);
            }
            _ => {}
        }
        if detail {
            v["length"] = json!(l.length);
            v["options"] = json!(options(l.options));
            match l.lsa_type {
                1 => {
                    v["routerFlags"] = json!(l.router_flags);
                    v["routerLinks"] = Value::Array(
                        l.links
                            .iter()
                            .map(|k| json!({"linkType": k.link_type, "linkId": k.link_id, "linkData": k.link_data, "tos0Metric": k.metric}))
                            .collect(),
                    );
                }
                2 => {
                    v["networkMask"] = json!(mask_len(&l.mask));
                    v["attchedRouters"] = json!(l.attached);
                }
                3 | 4 => {
                    v["networkMask"] = json!(mask_len(&l.mask));
                    v["metric"] = json!(l.metric);
                }
                5 => {
                    v["networkMask"] = json!(mask_len(&l.mask));
                    v["metric"] = json!(l.metric);
                    v["forwardAddress"] = json!(l.forwarding);
                }
                _ => {}
            }
        }
        let bucket = if l.area_id.is_empty() {
            as_scoped
                .entry(key(l.lsa_type))
                .or_insert_with(|| json!([]))
        } else {
            let area = areas.entry(l.area_id.clone()).or_insert_with(|| json!({}));
            match area.as_object_mut() {
                Some(m) => m.entry(key(l.lsa_type)).or_insert_with(|| json!([])),
                None => continue,
            }
        };
        if let Value::Array(list) = bucket {
            list.push(v);
        }
    }
    json!({
        "routerId": r.router_id,
        "areas": areas,
        "asExternalLinkStates": as_scoped.get("asExternalLinkStates").cloned().unwrap_or(json!([])),
    })
}

fn route_code(path_type: &str) -> &'static str {
    match path_type {
        "inter-area" => "N IA",
        "external-1" => "N E1",
        "external-2" => "N E2",
        _ => "N",
    }
}

fn via_lines(o: &mut String, nhs: &[pb::RouteNexthop]) {
    for n in nhs {
        if n.gateway.is_empty() {
            let _ = writeln!(o, "{:27}directly attached to {}", "", n.ifname);
        } else {
            let _ = writeln!(o, "{:27}via {}, {}", "", n.gateway, n.ifname);
        }
    }
}

/// `show ip ospf route`.
pub fn routes(r: &pb::RoutesReply) -> String {
    let mut o = String::from("============ OSPF network routing table ============\n");
    let external = |p: &str| p.starts_with("external");
    for n in r.networks.iter().filter(|n| !external(&n.path_type)) {
        let _ = writeln!(
            o,
            "{:<4} {:<21} [{}] area: {}",
            route_code(&n.path_type),
            n.prefix,
            n.cost,
            n.area_id
        );
        via_lines(&mut o, &n.nexthops);
    }
    o.push_str("\n============ OSPF router routing table =============\n");
    for rr in &r.routers {
        let kind = match (rr.abr, rr.asbr) {
            (true, true) => ", ABR, ASBR",
            (true, false) => ", ABR",
            (false, true) => ", ASBR",
            _ => "",
        };
        let code = if rr.path_type == "inter-area" {
            "R IA"
        } else {
            "R"
        };
        let _ = writeln!(
            o,
            "{:<4} {:<21} [{}] area: {}{}",
            code, rr.router_id, rr.cost, rr.area_id, kind
        );
        via_lines(&mut o, &rr.nexthops);
    }
    o.push_str("\n============ OSPF external routing table ===========\n");
    for n in r.networks.iter().filter(|n| external(&n.path_type)) {
        let cost = if n.path_type == "external-2" {
            format!("[{}/{}]", n.cost, n.type2_cost)
        } else {
            format!("[{}]", n.cost)
        };
        let _ = writeln!(
            o,
            "{:<4} {:<21} {} tag: 0",
            route_code(&n.path_type),
            n.prefix,
            cost
        );
        via_lines(&mut o, &n.nexthops);
    }
    o.push('\n');
    o
}

/// `show ip ospf route json`.
pub fn routes_json(r: &pb::RoutesReply) -> Value {
    let mut m = Map::new();
    let nh = |list: &[pb::RouteNexthop]| -> Value {
        Value::Array(
            list.iter()
                .map(|n| {
                    if n.gateway.is_empty() {
                        json!({"ip": " ", "directlyAttachedTo": n.ifname})
                    } else {
                        json!({"ip": n.gateway, "via": n.ifname})
                    }
                })
                .collect(),
        )
    };
    for n in &r.networks {
        let mut v = json!({
            "routeType": route_code(&n.path_type),
            "cost": n.cost,
            "area": n.area_id,
            "nexthops": nh(&n.nexthops),
        });
        if n.path_type == "external-2" {
            v["type2cost"] = json!(n.type2_cost);
            v["tag"] = json!(0);
        }
        m.insert(n.prefix.clone(), v);
    }
    for rr in &r.routers {
        m.insert(
            rr.router_id.clone(),
            json!({
                "routeType": if rr.path_type == "inter-area" { "R IA" } else { "R " },
                "cost": rr.cost,
                "area": rr.area_id,
                "routerType": match (rr.abr, rr.asbr) { (true, true) => "abr asbr", (true, false) => "abr", (false, true) => "asbr", _ => "" },
                "nexthops": nh(&rr.nexthops),
            }),
        );
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_frr_words() {
        assert_eq!(parse(&[]), Some(Ok(OspfCmd::Summary)));
        assert_eq!(parse(&["interface"]), Some(Ok(OspfCmd::Interface(None))));
        assert_eq!(
            parse(&["int", "eth0"]),
            Some(Ok(OspfCmd::Interface(Some("eth0".into()))))
        );
        assert_eq!(parse(&["neighbor"]), Some(Ok(OspfCmd::Neighbor)));
        assert_eq!(
            parse(&["database", "router", "detail"]),
            Some(Ok(OspfCmd::Database {
                lsa_type: 1,
                detail: true
            }))
        );
        assert_eq!(
            parse(&["database"]),
            Some(Ok(OspfCmd::Database {
                lsa_type: 0,
                detail: false
            }))
        );
        assert_eq!(parse(&["route"]), Some(Ok(OspfCmd::Route)));
        assert!(matches!(parse(&["bogus"]), Some(Err(_))));
        assert!(matches!(parse(&["database", "x"]), Some(Err(_))));
    }

    #[test]
    fn neighbor_table_and_json() {
        let r = pb::NeighborsReply {
            neighbors: vec![pb::NeighborInfo {
                router_id: "192.0.2.2".into(),
                priority: 1,
                state: "Full".into(),
                role: "DR".into(),
                dead_due: 3512,
                address: "198.51.100.2".into(),
                ifname: "eth0".into(),
                if_address: "198.51.100.1".into(),
                up_time: 62_000,
                ..Default::default()
            }],
        };
        let t = neighbors(&r);
        assert!(
            t.contains("192.0.2.2         1 Full/DR         1m02s"),
            "{t}"
        );
        assert!(t.contains("eth0:198.51.100.1"), "{t}");
        let j = neighbors_json(&r);
        assert_eq!(j["neighbors"]["192.0.2.2"][0]["nbrState"], "Full/DR");
        assert_eq!(j["neighbors"]["192.0.2.2"][0]["deadTimeMsecs"], 3512);
    }

    #[test]
    fn route_table() {
        let r = pb::RoutesReply {
            networks: vec![pb::RouteInfo {
                prefix: "192.0.2.2/32".into(),
                path_type: "intra-area".into(),
                cost: 10,
                area_id: "0.0.0.0".into(),
                nexthops: vec![pb::RouteNexthop {
                    gateway: "198.51.100.2".into(),
                    ifname: "eth0".into(),
                }],
                ..Default::default()
            }],
            routers: vec![],
        };
        let t = routes(&r);
        assert!(
            t.contains("N    192.0.2.2/32          [10] area: 0.0.0.0"),
            "{t}"
        );
        assert!(t.contains("via 198.51.100.2, eth0"), "{t}");
        assert_eq!(routes_json(&r)["192.0.2.2/32"]["cost"], 10);
    }
}

//! zebrad's VXLAN/EVPN state in the shell, in FRR's words and layout:
//! `show evpn vni [VNI]`, `show evpn mac vni VNI`, `show evpn arp-cache vni
//! VNI`, each with `json`. Every remote VTEP is shown with its reachability
//! (whether the underlay has a route to it, and which). Pure parsing and
//! rendering from the `ShowEvpn` reply.

use std::fmt::Write;
use std::net::IpAddr;

use proto::zebra as pb;
use serde_json::{json, Map, Value};

/// A parsed `show evpn ...` command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvpnCmd {
    /// `show evpn vni [VNI]`
    Vni(Option<u32>),
    /// `show evpn mac vni VNI`
    Mac(u32),
    /// `show evpn arp-cache vni VNI`
    ArpCache(u32),
}

impl EvpnCmd {
    /// The request that answers it.
    pub fn request(&self) -> pb::ShowEvpnRequest {
        match *self {
            EvpnCmd::Vni(v) => pb::ShowEvpnRequest {
                vni: v.unwrap_or(0),
                macs: false,
                neighbors: false,
            },
            EvpnCmd::Mac(v) => pb::ShowEvpnRequest {
                vni: v,
                macs: true,
                neighbors: false,
            },
            EvpnCmd::ArpCache(v) => pb::ShowEvpnRequest {
                vni: v,
                macs: false,
                neighbors: true,
            },
        }
    }
}

fn vni_arg(w: Option<&str>) -> Result<u32, String> {
    let w = w.ok_or("% Incomplete command: VNI number")?;
    w.parse::<u32>()
        .ok()
        .filter(|v| (1..1 << 24).contains(v))
        .ok_or_else(|| format!("% `{w}` is not a VNI (1-16777215)"))
}

/// Parses the words after `show evpn`.
pub fn parse(
    words: &[&str],
    keyword: impl Fn(&str, &[&str]) -> Result<String, String>,
) -> Result<EvpnCmd, String> {
    let mut it = words.iter().copied();
    let what = it
        .next()
        .ok_or("% Incomplete command: show evpn vni|mac|arp-cache")?;
    let cmd = match keyword(what, &["vni", "mac", "arp-cache"])?.as_str() {
        "vni" => EvpnCmd::Vni(match it.next() {
            Some(w) => Some(vni_arg(Some(w))?),
            None => None,
        }),
        sub => {
            keyword(it.next().ok_or("% Incomplete command: vni VNI")?, &["vni"])?;
            let v = vni_arg(it.next())?;
            if sub == "mac" {
                EvpnCmd::Mac(v)
            } else {
                EvpnCmd::ArpCache(v)
            }
        }
    };
    if let Some(extra) = it.next() {
        return Err(format!("% Unexpected `{extra}`"));
    }
    Ok(cmd)
}

/// An address from its wire bytes (empty when malformed).
pub(crate) fn ip(b: &[u8]) -> String {
    proto::addr_from_bytes(b)
        .map(|a: IpAddr| a.to_string())
        .unwrap_or_default()
}

/// `aa:bb:cc:dd:ee:ff`.
pub(crate) fn mac(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn source_name(s: i32) -> &'static str {
    proto::Source::try_from(s).map(|s| s.name()).unwrap_or("")
}

/// "reachable via 192.0.2.0/24 (static)" / "unreachable".
fn reach(v: &pb::EvpnVtepState) -> String {
    if !v.reachable {
        return "unreachable".into();
    }
    match v
        .via_prefix
        .as_ref()
        .and_then(|p| proto::prefix_from_wire(p).ok())
    {
        Some(p) => format!("reachable via {p} ({})", source_name(v.via_source)),
        None => "reachable".into(),
    }
}

/// `show evpn vni` (a table) or `show evpn vni VNI` (the detail).
pub fn vni(r: &pb::ShowEvpnReply, one: bool) -> String {
    let mut o = String::new();
    if !one {
        let _ = writeln!(
            o,
            "{:<10} {:<4} {:<21} {:<8} {:<8} {:<15} {:<37}",
            "VNI", "Type", "VxLAN IF", "# MACs", "# ARPs", "# Remote VTEPs", "Tenant VRF"
        );
        for v in &r.vnis {
            let _ = writeln!(
                o,
                "{:<10} {:<4} {:<21} {:<8} {:<8} {:<15} {:<37}",
                v.vni,
                "L2",
                v.device.as_ref().map(|d| d.ifname.as_str()).unwrap_or("-"),
                v.local_macs + v.remote_macs,
                v.local_neighbors + v.remote_neighbors,
                v.vteps.iter().filter(|t| t.flood).count(),
                "default"
            );
        }
        return o;
    }
    for v in &r.vnis {
        let _ = writeln!(o, "VNI: {}", v.vni);
        let _ = writeln!(o, " Type: L2");
        let _ = writeln!(o, " Tenant VRF: default");
        match &v.device {
            Some(d) => {
                let _ = writeln!(o, " VxLAN interface: {}", d.ifname);
                let _ = writeln!(o, " VxLAN ifIndex: {}", d.ifindex);
                let _ = writeln!(o, " SVI interface: {}", d.bridge);
                let _ = writeln!(o, " SVI ifIndex: {}", d.bridge_ifindex);
                let _ = writeln!(o, " Local VTEP IP: {}", ip(&d.local_vtep));
                let _ = writeln!(o, " UDP port: {}", d.udp_port);
                let _ = writeln!(o, " State: {}", if d.up { "up" } else { "down" });
            }
            None => {
                let _ = writeln!(
                    o,
                    " VxLAN interface: none (remote state only, nothing programmed)"
                );
            }
        }
        let _ = writeln!(o, " Mcast group: 0.0.0.0");
        if v.vteps.is_empty() {
            let _ = writeln!(o, " No remote VTEPs known for this VNI");
        } else {
            let _ = writeln!(o, " Remote VTEPs for this VNI:");
            for t in &v.vteps {
                let _ = writeln!(
                    o,
                    "  {} flood: {} {}{} macs: {}",
                    ip(&t.address),
                    if t.flood { "HER" } else { "-" },
                    reach(t),
                    if t.flood && !t.installed {
                        ", not installed"
                    } else {
                        ""
                    },
                    t.macs
                );
            }
        }
        let _ = writeln!(
            o,
            " Number of MACs (local and remote) known for this VNI: {}",
            v.local_macs + v.remote_macs
        );
        let _ = writeln!(
            o,
            " Number of ARPs (IPv4 and IPv6, local and remote) known for this VNI: {}",
            v.local_neighbors + v.remote_neighbors
        );
        let _ = writeln!(o, " Advertise-gw-macip: No");
        let _ = writeln!(o, " Advertise-svi-macip: No");
    }
    o
}

fn vtep_json(t: &pb::EvpnVtepState) -> Value {
    json!({
        "ip": ip(&t.address),
        "flood": if t.flood { "HER" } else { "" },
        "reachable": t.reachable,
        "via": t.via_prefix.as_ref().and_then(|p| proto::prefix_from_wire(p).ok()).map(|p| p.to_string()),
        "viaProtocol": source_name(t.via_source),
        "installed": t.installed,
        "numMacs": t.macs,
        "clients": t.clients,
    })
}

/// `show evpn vni [VNI] json`, FRR's keys (plus `remoteVteps` reachability).
pub fn vni_json(r: &pb::ShowEvpnReply, one: bool) -> Value {
    let entry = |v: &pb::EvpnVni| {
        let d = v.device.as_ref();
        json!({
            "vni": v.vni,
            "type": "L2",
            "tenantVrf": "default",
            "vxlanInterface": d.map(|d| d.ifname.clone()).unwrap_or_default(),
            "vxlanIfindex": d.map(|d| d.ifindex).unwrap_or(0),
            "sviInterface": d.map(|d| d.bridge.clone()).unwrap_or_default(),
            "sviIfindex": d.map(|d| d.bridge_ifindex).unwrap_or(0),
            "vtepIp": d.map(|d| ip(&d.local_vtep)).unwrap_or_default(),
            "udpPort": d.map(|d| d.udp_port).unwrap_or(0),
            "state": if d.is_some_and(|d| d.up) { "up" } else { "down" },
            "mcastGroup": "0.0.0.0",
            "numMacs": v.local_macs + v.remote_macs,
            "numArpNd": v.local_neighbors + v.remote_neighbors,
            "numRemoteVteps": v.vteps.iter().filter(|t| t.flood).count(),
            "remoteVteps": v.vteps.iter().map(vtep_json).collect::<Vec<_>>(),
        })
    };
    if one {
        return r.vnis.first().map(entry).unwrap_or_else(|| json!({}));
    }
    let mut m = Map::new();
    for v in &r.vnis {
        m.insert(v.vni.to_string(), entry(v));
    }
    Value::Object(m)
}

/// The reachability of `vtep` in the VNI's VTEP list.
fn vtep_reach<'a>(v: &'a pb::EvpnVni, vtep: &[u8]) -> Option<&'a pb::EvpnVtepState> {
    v.vteps.iter().find(|t| t.address == vtep)
}

/// `show evpn mac vni VNI`.
pub fn macs(r: &pb::ShowEvpnReply) -> String {
    let mut o = String::new();
    for v in &r.vnis {
        let _ = writeln!(
            o,
            "Number of MACs (local and remote) known for this VNI: {}",
            v.macs.len()
        );
        let _ = writeln!(
            o,
            "Flags: S=sticky, U=unreachable VTEP (not installed), E=kernel error"
        );
        let _ = writeln!(
            o,
            "{:<17} {:<6} {:<5} {:<30} {:<5} Seq #'s",
            "MAC", "Type", "Flags", "Intf/Remote ES/VTEP", "VLAN"
        );
        for m in &v.macs {
            let mut flags = String::new();
            if m.sticky {
                flags.push('S');
            }
            if !m.local && vtep_reach(v, &m.vtep).is_some_and(|t| !t.reachable) {
                flags.push('U');
            }
            if !m.error.is_empty() {
                flags.push('E');
            }
            let (kind, where_, seq) = if m.local {
                ("local", m.ifname.clone(), "0/0".to_string())
            } else {
                ("remote", ip(&m.vtep), format!("0/{}", m.seq))
            };
            let _ = writeln!(
                o,
                "{:<17} {:<6} {:<5} {:<30} {:<5} {}",
                mac(&m.mac),
                kind,
                flags,
                where_,
                "",
                seq
            );
        }
    }
    o
}

/// `show evpn mac vni VNI json`, FRR's keys.
pub fn macs_json(r: &pb::ShowEvpnReply) -> Value {
    let Some(v) = r.vnis.first() else {
        return json!({});
    };
    let mut m = Map::new();
    for e in &v.macs {
        let val = if e.local {
            json!({"type": "local", "intf": e.ifname, "sticky": e.sticky,
                   "localSequence": 0, "remoteSequence": 0})
        } else {
            let t = vtep_reach(v, &e.vtep);
            json!({"type": "remote", "remoteVtep": ip(&e.vtep), "sticky": e.sticky,
                   "localSequence": 0, "remoteSequence": e.seq,
                   "vtepReachable": t.is_some_and(|t| t.reachable),
                   "installed": e.installed, "client": e.client, "stale": e.stale,
                   "error": e.error})
        };
        m.insert(mac(&e.mac), val);
    }
    json!({"numMacs": v.macs.len(), "macs": Value::Object(m)})
}

/// `show evpn arp-cache vni VNI`.
pub fn arp_cache(r: &pb::ShowEvpnReply) -> String {
    let mut o = String::new();
    for v in &r.vnis {
        let _ = writeln!(
            o,
            "Number of ARPs (local and remote) known for this VNI: {}",
            v.neighbors.len()
        );
        let _ = writeln!(
            o,
            "Flags: U=unreachable VTEP (not installed), E=kernel error"
        );
        let _ = writeln!(
            o,
            "{:<25} {:<6} {:<5} {:<8} {:<17} {:<30} Seq #'s",
            "Neighbor", "Type", "Flags", "State", "MAC", "Remote ES/VTEP"
        );
        for n in &v.neighbors {
            let mut flags = String::new();
            let unreachable = !n.local && vtep_reach(v, &n.vtep).is_some_and(|t| !t.reachable);
            if unreachable {
                flags.push('U');
            }
            if !n.error.is_empty() {
                flags.push('E');
            }
            let state = if n.local || n.installed {
                "active"
            } else {
                "inactive"
            };
            let _ = writeln!(
                o,
                "{:<25} {:<6} {:<5} {:<8} {:<17} {:<30} 0/0",
                ip(&n.ip),
                if n.local { "local" } else { "remote" },
                flags,
                state,
                mac(&n.mac),
                if n.local { String::new() } else { ip(&n.vtep) }
            );
        }
    }
    o
}

/// `show evpn arp-cache vni VNI json`, FRR's keys.
pub fn arp_cache_json(r: &pb::ShowEvpnReply) -> Value {
    let Some(v) = r.vnis.first() else {
        return json!({});
    };
    let mut m = Map::new();
    m.insert("numArpNd".into(), json!(v.neighbors.len()));
    for n in &v.neighbors {
        let val = if n.local {
            json!({"type": "local", "state": "active", "mac": mac(&n.mac),
                   "localSequence": 0, "remoteSequence": 0})
        } else {
            json!({"type": "remote", "state": if n.installed { "active" } else { "inactive" },
                   "mac": mac(&n.mac), "remoteVtep": ip(&n.vtep),
                   "vtepReachable": vtep_reach(v, &n.vtep).is_some_and(|t| t.reachable),
                   "localSequence": 0, "remoteSequence": 0,
                   "client": n.client, "stale": n.stale, "error": n.error})
        };
        m.insert(ip(&n.ip), val);
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply() -> pb::ShowEvpnReply {
        pb::ShowEvpnReply {
            vnis: vec![pb::EvpnVni {
                vni: 100,
                device: Some(pb::VxlanDevice {
                    vni: 100,
                    ifname: "vx100".into(),
                    ifindex: 3,
                    local_vtep: vec![203, 0, 113, 1],
                    udp_port: 4789,
                    bridge: "br100".into(),
                    bridge_ifindex: 2,
                    up: true,
                    learning: false,
                }),
                vteps: vec![pb::EvpnVtepState {
                    address: vec![203, 0, 113, 2],
                    reachable: false,
                    flood: true,
                    macs: 1,
                    ..Default::default()
                }],
                local_macs: 1,
                remote_macs: 1,
                local_neighbors: 0,
                remote_neighbors: 1,
                macs: vec![
                    pb::EvpnMac {
                        mac: vec![2, 0, 0, 0, 1, 1],
                        local: true,
                        ifname: "h1".into(),
                        ..Default::default()
                    },
                    pb::EvpnMac {
                        mac: vec![2, 0, 0, 0, 2, 2],
                        vtep: vec![203, 0, 113, 2],
                        seq: 3,
                        ..Default::default()
                    },
                ],
                neighbors: vec![pb::EvpnNeighbor {
                    ip: vec![198, 51, 100, 2],
                    mac: vec![2, 0, 0, 0, 2, 2],
                    vtep: vec![203, 0, 113, 2],
                    ..Default::default()
                }],
            }],
        }
    }

    fn kw(w: &str, c: &[&str]) -> Result<String, String> {
        c.iter()
            .find(|x| x.starts_with(w))
            .map(|s| s.to_string())
            .ok_or_else(|| format!("% Unknown command: `{w}`"))
    }

    #[test]
    fn parses_frr_words() {
        assert_eq!(parse(&["vni"], kw), Ok(EvpnCmd::Vni(None)));
        assert_eq!(parse(&["vni", "100"], kw), Ok(EvpnCmd::Vni(Some(100))));
        assert_eq!(parse(&["mac", "vni", "100"], kw), Ok(EvpnCmd::Mac(100)));
        assert_eq!(parse(&["arp", "vni", "7"], kw), Ok(EvpnCmd::ArpCache(7)));
        assert!(parse(&["vni", "0"], kw).is_err());
        assert!(parse(&["mac", "vni"], kw).is_err());
        assert!(parse(&["vni", "1", "x"], kw).is_err());
    }

    #[test]
    fn renders_reachability() {
        let r = reply();
        let t = vni(&r, true);
        assert!(t.contains("VxLAN interface: vx100"), "{t}");
        assert!(
            t.contains("203.0.113.2 flood: HER unreachable, not installed"),
            "{t}"
        );
        let t = vni(&r, false);
        assert!(
            t.lines()
                .nth(1)
                .unwrap()
                .starts_with("100        L2   vx100"),
            "{t}"
        );
        let m = macs(&r);
        assert!(m.contains("02:00:00:00:01:01 local        h1"), "{m}");
        assert!(
            m.contains("02:00:00:00:02:02 remote U     203.0.113.2"),
            "{m}"
        );
        let j = macs_json(&r);
        assert_eq!(j["macs"]["02:00:00:00:02:02"]["remoteSequence"], 3);
        assert_eq!(j["macs"]["02:00:00:00:02:02"]["vtepReachable"], false);
        let a = arp_cache(&r);
        assert!(a.contains("198.51.100.2"), "{a}");
        assert_eq!(arp_cache_json(&r)["198.51.100.2"]["state"], "inactive");
        assert_eq!(vni_json(&r, false)["100"]["numRemoteVteps"], 1);
    }
}

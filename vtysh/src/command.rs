//! The command grammar: FRR's words, matched by unambiguous abbreviation
//! (`sh ip ro` is `show ip route`), into a typed [`Command`].
//!
//! Parsing is pure: no I/O here. Every command accepts a trailing `json`.

use ipnetwork::IpNetwork;

/// A parsed command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `show ip route [table N|PREFIX|ADDR] [json]`, `show ipv6 route ...`
    ShowRoute {
        v6: bool,
        table: Option<u32>,
        prefix: Option<(IpNetwork, bool)>,
    },
    /// `show interface [NAME] [json]`
    ShowInterface { name: Option<String> },
    /// `show ip rule [json]`
    ShowRule,
    /// `show zebra [json]`: RIB manager status and clients.
    ShowZebra,
    /// `show nexthop-group rib [json]`: zebrad's kernel nexthop objects.
    ShowNexthopGroups,
    /// `show anycast services` / `show anycast service NAME`
    ShowAnycast { name: Option<String> },
    /// `anycast drain NAME` / `anycast undrain NAME`
    AnycastDrain { name: String, on: bool },
    /// zebrad's VXLAN/EVPN state: `show evpn vni|mac|arp-cache ...`
    Evpn(crate::evpn::EvpnCmd),
    /// bgpd: `show [ip] bgp ...`, `clear bgp ...`
    Bgp(crate::bgp::BgpCmd),
    /// ospfd: `show ip ospf ...`
    Ospf(crate::ospf::OspfCmd),
    /// bgpd's policy: `show route-map`, `show ip prefix-list`, `show bgp
    /// as-path-access-list|community-list|...`
    Policy(crate::bgp_policy::PolicyCmd),
    /// `show version [json]`: vtysh's and the daemons' versions.
    ShowVersion,
    /// `show daemons [json]`: which daemons are up, since when, their socket.
    ShowDaemons,
    /// `show running-config [zebrad|bgpd|ospfd] [json]`, `... diff`.
    ShowRunning { daemon: Option<String>, diff: bool },
    /// `show logging [zebrad|bgpd|ospfd] [json]`: level, destination, recent lines.
    ShowLogging { daemon: Option<String> },
    /// `write [memory]`, `copy running-config startup-config`.
    Write,
    /// `configure [terminal]`.
    Configure,
    /// `help` / `?`
    Help,
}

/// A command line: the command and whether `json` was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub cmd: Command,
    pub json: bool,
}

/// The command words, for help and completion.
pub const HELP: &[(&str, &str)] = &[
    (
        "show ip route [table N|PREFIX|ADDRESS] [json]",
        "IPv4 routes of the RIB",
    ),
    (
        "show ipv6 route [table N|PREFIX|ADDRESS] [json]",
        "IPv6 routes of the RIB",
    ),
    (
        "show interface [NAME] [json]",
        "interfaces, their state and addresses",
    ),
    ("show ip rule [json]", "policy-routing rules zebrad keeps"),
    ("show zebra [json]", "RIB manager status and its clients"),
    (
        "show nexthop-group rib [json]",
        "kernel nexthop objects zebrad installs routes through",
    ),
    (
        "show version [json]",
        "vtysh's version and each running daemon's",
    ),
    (
        "show daemons [json]",
        "which daemons are deployed and up, since when, their sockets",
    ),
    (
        "show anycast services [json]",
        "anycast services: state, health, checks, flaps, drain, last-site",
    ),
    (
        "show anycast service NAME [json]",
        "one service: checks, recent probes with latency, drain, load balancer",
    ),
    (
        "anycast drain|undrain NAME [json]",
        "drain a service (GRACEFUL_SHUTDOWN, then withdrawn) or bring it back",
    ),
    (
        "show evpn vni [VNI] [json]",
        "VXLAN VNIs, their devices and remote VTEPs with reachability",
    ),
    (
        "show evpn mac vni VNI [json]",
        "local and remote MACs of a VNI",
    ),
    (
        "show evpn arp-cache vni VNI [json]",
        "local and remote neighbors (ARP/ND) of a VNI",
    ),
    (
        "show bgp summary [json]",
        "BGP neighbors, state and prefix counts",
    ),
    (
        "show bgp neighbors [ADDRESS] [json]",
        "BGP neighbor details",
    ),
    (
        "show bgp ipv4|ipv6 unicast [PREFIX] [json]",
        "the BGP table (Loc-RIB)",
    ),
    (
        "show bgp neighbors ADDRESS received-routes|advertised-routes",
        "Adj-RIB-In / Adj-RIB-Out",
    ),
    (
        "show bgp l2vpn evpn [route type 2|3] [json]",
        "EVPN routes by route distinguisher, duplicate MACs",
    ),
    (
        "show route-map [NAME] [json]",
        "bgpd's route maps: entries, clauses, invocation counts",
    ),
    (
        "show ip prefix-list [detail] [NAME] [json]",
        "bgpd's prefix lists (IPv4 entries), with hit counts in detail",
    ),
    (
        "show ipv6 prefix-list [detail] [NAME] [json]",
        "bgpd's prefix lists (IPv6 entries)",
    ),
    (
        "show bgp as-path-access-list [NAME] [json]",
        "AS-path access lists",
    ),
    (
        "show bgp community-list [NAME] [json]",
        "community lists (standard and expanded)",
    ),
    (
        "show bgp large-community-list [NAME] [json]",
        "large community lists",
    ),
    (
        "show bgp extcommunity-list [NAME] [json]",
        "extended community lists",
    ),
    (
        "clear bgp (*|ADDRESS) [soft [in|out]]",
        "reset BGP sessions, or refresh routes",
    ),
    (
        "clear evpn dup-addr vni (VNI|all) [mac MAC]",
        "advertise frozen duplicate MACs again",
    ),
    (
        "clear route-map counter [NAME]",
        "reset route maps' invocation counts (show route-map)",
    ),
    (
        "clear ip|ipv6 prefix-list [NAME [PREFIX]]",
        "reset prefix lists' hit counts (show ip prefix-list detail)",
    ),
    (
        "show running-config [zebrad|bgpd|ospfd|diff] [json]",
        "the daemons' running configuration, or what is not saved",
    ),
    (
        "show logging [zebrad|bgpd|ospfd] [json]",
        "log level, destination and recent lines",
    ),
    (
        "configure [terminal]",
        "configure mode (router bgp, ip route, ...)",
    ),
    (
        "write [memory]",
        "save the deployed daemons' running configuration to their files",
    ),
];

/// Matches `word` against the candidates by unambiguous prefix.
fn keyword<'a>(word: &str, candidates: &[&'a str]) -> Result<&'a str, String> {
    let w = word.to_ascii_lowercase();
    if let Some(exact) = candidates.iter().find(|c| **c == w) {
        return Ok(exact);
    }
    let hits: Vec<&&str> = candidates.iter().filter(|c| c.starts_with(&w)).collect();
    match hits.as_slice() {
        [one] => Ok(one),
        [] => Err(format!(
            "% Unknown command: `{word}` (expected one of: {})",
            candidates.join(", ")
        )),
        many => Err(format!(
            "% Ambiguous command: `{word}` could be {}",
            many.iter().map(|s| **s).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// Parses one command line.
pub fn parse(line: &str) -> Result<Line, String> {
    let mut words: Vec<&str> = line.split_whitespace().collect();
    let json = words.last().is_some_and(|w| w.eq_ignore_ascii_case("json"));
    if json {
        words.pop();
    }
    let mut it = words.into_iter();
    let Some(first) = it.next() else {
        return Err("% Empty command".into());
    };
    if first == "?" {
        return Ok(Line {
            cmd: Command::Help,
            json,
        });
    }
    let cmd = match keyword(
        first,
        &[
            "show",
            "help",
            "clear",
            "configure",
            "write",
            "copy",
            "anycast",
        ],
    )? {
        "help" => Command::Help,
        "configure" => {
            if let Some(w) = it.next() {
                keyword(w, &["terminal"])?;
            }
            Command::Configure
        }
        "write" => {
            if let Some(w) = it.next() {
                keyword(w, &["memory", "file"])?;
            }
            Command::Write
        }
        "copy" => {
            let from = it
                .next()
                .ok_or("% Incomplete command: copy running-config startup-config")?;
            keyword(from, &["running-config"])?;
            let to = it
                .next()
                .ok_or("% Incomplete command: copy running-config startup-config")?;
            keyword(to, &["startup-config"])?;
            Command::Write
        }
        "anycast" => {
            let rest: Vec<&str> = it.by_ref().collect();
            crate::anycast::parse(&rest)?
        }
        "clear" => {
            let what = it.next().ok_or("% Incomplete command: clear what?")?;
            let mut what = keyword(what, &["bgp", "evpn", "route-map", "ip", "ipv6"])?;
            if what == "route-map" {
                let rest: Vec<&str> = it.by_ref().collect();
                return Ok(Line {
                    cmd: Command::Policy(crate::bgp_policy::parse_clear_route_map(&rest)?),
                    json,
                });
            }
            if what == "ip" || what == "ipv6" {
                let v6 = what == "ipv6";
                let sub = it
                    .next()
                    .ok_or("% Incomplete command: clear ip|ipv6 prefix-list ...")?;
                // FRR's `clear ip bgp` is `clear bgp`.
                what = keyword(
                    sub,
                    if v6 {
                        &["prefix-list"]
                    } else {
                        &["prefix-list", "bgp"]
                    },
                )?;
                if what == "prefix-list" {
                    let rest: Vec<&str> = it.by_ref().collect();
                    return Ok(Line {
                        cmd: Command::Policy(crate::bgp_policy::parse_clear_prefix_list(
                            v6, &rest,
                        )?),
                        json,
                    });
                }
            }
            if what == "evpn" {
                let w = it
                    .next()
                    .ok_or("% Incomplete command: clear evpn dup-addr ...")?;
                keyword(w, &["dup-addr"])?;
            }
            let rest: Vec<&str> = it.by_ref().collect();
            Command::Bgp(match what {
                "evpn" => crate::bgp_evpn::parse_clear_dup(&rest)?,
                _ => crate::bgp::parse_clear(&rest)?,
            })
        }
        _ => {
            let what = it.next().ok_or("% Incomplete command: show what?")?;
            match keyword(
                what,
                &[
                    "ip",
                    "ipv6",
                    "interface",
                    "zebra",
                    "nexthop-group",
                    "bgp",
                    "anycast",
                    "evpn",
                    "version",
                    "daemons",
                    "running-config",
                    "logging",
                    "route-map",
                ],
            )? {
                "version" => Command::ShowVersion,
                "route-map" => {
                    let rest: Vec<&str> = it.by_ref().collect();
                    Command::Policy(crate::bgp_policy::parse_route_map(&rest)?)
                }
                "evpn" => {
                    let rest: Vec<&str> = it.by_ref().collect();
                    Command::Evpn(crate::evpn::parse(&rest, |w, c| {
                        keyword(w, c).map(str::to_string)
                    })?)
                }
                "running-config" => match it.next() {
                    None => Command::ShowRunning {
                        daemon: None,
                        diff: false,
                    },
                    Some(w) => match keyword(w, &["zebrad", "bgpd", "ospfd", "diff"])? {
                        "diff" => Command::ShowRunning {
                            daemon: None,
                            diff: true,
                        },
                        d => Command::ShowRunning {
                            daemon: Some(d.to_string()),
                            diff: false,
                        },
                    },
                },
                "logging" => Command::ShowLogging {
                    daemon: match it.next() {
                        Some(w) => Some(keyword(w, &["zebrad", "bgpd", "ospfd"])?.to_string()),
                        None => None,
                    },
                },
                "daemons" => Command::ShowDaemons,
                "anycast" => {
                    let w = it
                        .next()
                        .ok_or("% Incomplete command: show anycast services|service NAME")?;
                    match keyword(w, &["services", "service"])? {
                        "services" => Command::ShowAnycast { name: None },
                        _ => Command::ShowAnycast {
                            name: Some(
                                it.next()
                                    .ok_or("% Incomplete command: show anycast service NAME")?
                                    .to_string(),
                            ),
                        },
                    }
                }
                "bgp" => {
                    let rest: Vec<&str> = it.by_ref().collect();
                    bgp_or_policy(&rest, false)?
                }
                "interface" => Command::ShowInterface {
                    name: it.next().map(str::to_string),
                },
                "zebra" => Command::ShowZebra,
                "nexthop-group" => {
                    let w = it
                        .next()
                        .ok_or("% Incomplete command: show nexthop-group rib")?;
                    keyword(w, &["rib"])?;
                    Command::ShowNexthopGroups
                }
                fam => {
                    let v6 = fam == "ipv6";
                    let sub = it.next().ok_or("% Incomplete command: show ip what?")?;
                    let sub = if v6 {
                        keyword(sub, &["route", "prefix-list"])?
                    } else {
                        keyword(sub, &["route", "rule", "bgp", "ospf", "prefix-list"])?
                    };
                    if sub == "prefix-list" {
                        let rest: Vec<&str> = it.by_ref().collect();
                        Command::Policy(crate::bgp_policy::parse_prefix_list(v6, &rest)?)
                    } else if sub == "ospf" {
                        let rest: Vec<&str> = it.by_ref().collect();
                        match crate::ospf::parse(&rest) {
                            Some(r) => Command::Ospf(r?),
                            None => {
                                return Err(format!(
                                    "% Unknown command: show ip ospf {}",
                                    rest.join(" ")
                                ))
                            }
                        }
                    } else if sub == "bgp" {
                        let rest: Vec<&str> = it.by_ref().collect();
                        bgp_or_policy(&rest, true)?
                    } else if sub == "rule" {
                        Command::ShowRule
                    } else {
                        let mut table = None;
                        let mut prefix = None;
                        while let Some(w) = it.next() {
                            if let Ok(p) = parse_target(w, v6) {
                                prefix = Some(p);
                                continue;
                            }
                            keyword(w, &["table"])?;
                            let n = it.next().ok_or("% Incomplete command: table number")?;
                            table = Some(
                                n.parse::<u32>()
                                    .ok()
                                    .filter(|&t| t > 0)
                                    .ok_or_else(|| format!("% `{n}` is not a table number"))?,
                            );
                        }
                        Command::ShowRoute { v6, table, prefix }
                    }
                }
            }
        }
    };
    if let Some(extra) = it.next() {
        return Err(format!("% Unexpected `{extra}`"));
    }
    Ok(Line { cmd, json })
}

/// `show [ip] bgp ...`: a policy list (`as-path-access-list`,
/// `community-list`, ...) or the BGP tables and neighbors.
fn bgp_or_policy(rest: &[&str], ip: bool) -> Result<Command, String> {
    if let [first, more @ ..] = rest {
        if let Ok(w) = keyword(first, &crate::bgp_policy::BGP_WORDS) {
            return Ok(Command::Policy(crate::bgp_policy::parse_bgp(w, more)?));
        }
    }
    Ok(Command::Bgp(crate::bgp::parse_show(rest, ip)?))
}

/// A prefix (exact match) or an address (longest match) of the family.
fn parse_target(w: &str, v6: bool) -> Result<(IpNetwork, bool), ()> {
    if let Ok(a) = w.parse::<std::net::IpAddr>() {
        if a.is_ipv6() == v6 {
            let len = if v6 { 128 } else { 32 };
            return IpNetwork::new(a, len).map(|n| (n, true)).map_err(|_| ());
        }
        return Err(());
    }
    match proto::parse_prefix(w) {
        Ok(p) if p.is_ipv6() == v6 => Ok((p, false)),
        _ => Err(()),
    }
}

#[cfg(test)]
mod tests {
    /// Every command of the list that prints `json` has a schema: its row
    /// in vtysh/schemas/README.md (whose files tests/tests/vtysh_json.rs
    /// checks against the real output).
    #[test]
    fn every_json_command_has_a_schema() {
        let table = include_str!("../schemas/README.md").replace('\\', "");
        for (cmd, _) in HELP.iter().filter(|(c, _)| c.contains("json")) {
            let key: Vec<&str> = cmd
                .split_whitespace()
                .take_while(|w| {
                    !w.starts_with(['[', '(', '<']) && !w.chars().any(|c| c.is_ascii_uppercase())
                })
                .collect();
            let key = format!("`{}", key.join(" "));
            assert!(
                table.contains(&key),
                "`{cmd}` prints json but vtysh/schemas/README.md has no row for {key}`"
            );
        }
    }

    use super::*;

    fn p(s: &str) -> Command {
        parse(s).unwrap().cmd
    }

    #[test]
    fn policy_show_commands() {
        use crate::bgp_policy::{Communities, PolicyCmd};
        assert_eq!(
            p("sh route-map IN"),
            Command::Policy(PolicyCmd::RouteMap {
                name: Some("IN".into())
            })
        );
        assert_eq!(
            p("show ip prefix-list detail P"),
            Command::Policy(PolicyCmd::PrefixList {
                v6: false,
                detail: true,
                name: Some("P".into())
            })
        );
        assert_eq!(
            p("show ipv6 prefix-list"),
            Command::Policy(PolicyCmd::PrefixList {
                v6: true,
                detail: false,
                name: None
            })
        );
        assert_eq!(
            p("show bgp as-path"),
            Command::Policy(PolicyCmd::AsPathList { name: None })
        );
        assert_eq!(
            p("show ip bgp extcommunity-list E"),
            Command::Policy(PolicyCmd::CommunityList {
                which: Communities::Extended,
                name: Some("E".into())
            })
        );
        let l = parse("show bgp community-list json").unwrap();
        assert!(l.json);
        // `show bgp` keeps its other forms.
        assert!(matches!(p("show bgp summary"), Command::Bgp(_)));
        assert!(matches!(p("show bgp 198.51.100.0/24"), Command::Bgp(_)));
        assert!(parse("show route-map A B").is_err());
    }

    #[test]
    fn policy_clear_commands() {
        use crate::bgp_policy::PolicyCmd;
        assert_eq!(
            p("clear route-map counter"),
            Command::Policy(PolicyCmd::ClearRouteMap { name: None })
        );
        assert_eq!(
            p("clear route-map count IN"),
            Command::Policy(PolicyCmd::ClearRouteMap {
                name: Some("IN".into())
            })
        );
        assert!(parse("clear route-map").is_err());
        assert!(parse("clear route-map IN").is_err());
        assert!(parse("clear route-map counter A B").is_err());
        assert_eq!(
            p("clear ip prefix-list"),
            Command::Policy(PolicyCmd::ClearPrefixList {
                v6: false,
                name: None,
                prefix: None
            })
        );
        assert_eq!(
            p("clear ip prefix-list P 192.0.2.0/24"),
            Command::Policy(PolicyCmd::ClearPrefixList {
                v6: false,
                name: Some("P".into()),
                prefix: Some("192.0.2.0/24".parse().unwrap())
            })
        );
        assert_eq!(
            p("clear ipv6 prefix-list P 2001:db8::/32"),
            Command::Policy(PolicyCmd::ClearPrefixList {
                v6: true,
                name: Some("P".into()),
                prefix: Some("2001:db8::/32".parse().unwrap())
            })
        );
        assert!(parse("clear ipv6 prefix-list P 192.0.2.0/24").is_err());
        assert!(parse("clear ip prefix-list P 2001:db8::/32").is_err());
        assert!(parse("clear ip prefix-list P 192.0.2.1/24").is_err());
        assert!(parse("clear ip prefix-list P 192.0.2.0/24 x").is_err());
        assert!(parse("clear ipv6 bgp *").is_err());
        // FRR's `clear ip bgp` is `clear bgp`.
        assert_eq!(p("clear ip bgp *"), p("clear bgp *"));
        assert!(parse("clear route-map counter json").unwrap().json);
    }

    #[test]
    fn full_and_abbreviated_words() {
        let all = Command::ShowRoute {
            v6: false,
            table: None,
            prefix: None,
        };
        assert_eq!(p("show ip route"), all);
        assert_eq!(p("sh ip ro"), all);
        assert_eq!(p("SHOW IP ROUTE"), all);
        assert_eq!(
            p("show ipv6 route table 1000"),
            Command::ShowRoute {
                v6: true,
                table: Some(1000),
                prefix: None
            }
        );
        assert_eq!(
            p("show ip route 192.0.2.0/24"),
            Command::ShowRoute {
                v6: false,
                table: None,
                prefix: Some(("192.0.2.0/24".parse().unwrap(), false))
            }
        );
        assert_eq!(
            p("show ip route 192.0.2.7"),
            Command::ShowRoute {
                v6: false,
                table: None,
                prefix: Some(("192.0.2.7/32".parse().unwrap(), true))
            }
        );
        assert_eq!(
            p("sh int eth0"),
            Command::ShowInterface {
                name: Some("eth0".into())
            }
        );
        assert_eq!(p("show ip rule"), Command::ShowRule);
        assert_eq!(
            p("sh evpn mac vni 100"),
            Command::Evpn(crate::evpn::EvpnCmd::Mac(100))
        );
        assert!(parse("show evpn arp-cache vni 100 json").unwrap().json);
        assert_eq!(p("show version"), Command::ShowVersion);
        assert_eq!(p("sh ver"), Command::ShowVersion);
        assert_eq!(p("sh daem"), Command::ShowDaemons);
        assert!(parse("show daemons json").unwrap().json);
        assert!(parse("show version json").unwrap().json);
        assert!(parse("show daemons x").unwrap_err().contains("Unexpected"));
        assert!(parse("show ip route json").unwrap().json);
        assert!(!parse("show ip route").unwrap().json);
        assert_eq!(p("conf t"), Command::Configure);
        assert_eq!(p("wr"), Command::Write);
        assert_eq!(p("write memory"), Command::Write);
        assert_eq!(p("copy run start"), Command::Write);
        assert_eq!(
            p("sh run bgpd"),
            Command::ShowRunning {
                daemon: Some("bgpd".into()),
                diff: false
            }
        );
        assert_eq!(
            p("show running-config diff"),
            Command::ShowRunning {
                daemon: None,
                diff: true
            }
        );
        assert_eq!(p("show logging"), Command::ShowLogging { daemon: None });
    }

    #[test]
    fn bad_lines_say_why() {
        assert!(parse("show ip r").unwrap_err().contains("Ambiguous"));
        assert!(parse("show bogus").unwrap_err().contains("Unknown"));
        assert!(parse("show ip route table x")
            .unwrap_err()
            .contains("table number"));
        assert!(parse("show ip route table")
            .unwrap_err()
            .contains("Incomplete"));
        assert!(parse("show").unwrap_err().contains("Incomplete"));
        assert_eq!(p("sh nexthop-group rib"), Command::ShowNexthopGroups);
        assert!(parse("show nexthop-group").is_err());
        assert!(parse("show zebra extra")
            .unwrap_err()
            .contains("Unexpected"));
        assert!(parse("").is_err());
    }
}

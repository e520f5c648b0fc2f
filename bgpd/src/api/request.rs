//! The management requests a client sends (`proto/proto/bgp.proto`),
//! checked and turned into typed queries before they reach the daemon
//! task: addresses of 4 or 16 octets, a known address family and RIB
//! table, a prefix of that family without host bits, an EVPN route type
//! of RFC 7432 section 7 (2 or 3), a VNI of 24 bits (RFC 8365 section 5.1.3)
//! and a 6-octet MAC. Everything here is pure and synchronous, so the
//! fuzz targets in fuzz/ run exactly what the gRPC service runs; the
//! lookups that need the daemon's state (is there such a neighbor?) stay
//! in the daemon.

use std::net::IpAddr;

use ipnetwork::IpNetwork;
use proto::bgp as pb;

use crate::config::parse_family;
use crate::evpn::nlri::Mac;
use crate::packet::AfiSafi;

/// Why a request was refused; the gRPC service answers INVALID_ARGUMENT
/// with this text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("{what}: {source}")]
    Wire {
        what: &'static str,
        source: proto::ConvError,
    },
    #[error("unknown family `{0}`")]
    Family(String),
    #[error("unknown RIB table {0}")]
    Table(i32),
    #[error("a neighbor address is needed for the {0} table")]
    NeighborMissing(&'static str),
    #[error("prefix {prefix} is not of family {family}")]
    PrefixFamily {
        prefix: IpNetwork,
        family: &'static str,
    },
    #[error("route type is 2 or 3 (0: every type), got {0}")]
    RouteType(u32),
    #[error("a VNI is 1-16777215 (0: all), got {0}")]
    Vni(u32),
    #[error("a MAC is 6 bytes, got {0}")]
    MacLength(usize),
    #[error("unknown policy counter kind {0} (1: route maps, 2: prefix lists)")]
    CounterKind(i32),
    #[error("a prefix is given only with a prefix list's name")]
    PrefixWithoutList,
}

/// An address field where empty means "every one".
fn optional_addr(what: &'static str, b: &[u8]) -> Result<Option<IpAddr>, RequestError> {
    if b.is_empty() {
        return Ok(None);
    }
    proto::addr_from_bytes(b)
        .map(Some)
        .map_err(|source| RequestError::Wire { what, source })
}

/// `Neighbors`: one neighbor or all.
pub fn neighbors(r: &pb::NeighborsRequest) -> Result<Option<IpAddr>, RequestError> {
    optional_addr("neighbor address", &r.address)
}

/// Which RIB a `Rib` request reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RibTable {
    LocRib,
    AdjRibIn(IpAddr),
    AdjRibOut(IpAddr),
}

/// A checked `Rib` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RibQuery {
    pub family: AfiSafi,
    /// Only this exact prefix.
    pub prefix: Option<IpNetwork>,
    pub table: RibTable,
}

/// `Rib`: family (default ipv4-unicast), optional exact prefix of that
/// family, and the table; Adj-RIB-In and -Out need the neighbor.
pub fn rib(r: &pb::RibRequest) -> Result<RibQuery, RequestError> {
    let name = if r.family.is_empty() {
        "ipv4-unicast"
    } else {
        r.family.as_str()
    };
    let family = parse_family(name).ok_or_else(|| RequestError::Family(name.to_string()))?;
    let prefix = match &r.prefix {
        Some(p) if !p.addr.is_empty() => {
            let net = proto::prefix_from_wire(&proto::zebra::Prefix {
                addr: p.addr.clone(),
                len: p.len,
            })
            .map_err(|source| RequestError::Wire {
                what: "prefix",
                source,
            })?;
            let fits = match family {
                AfiSafi::IPV4_UNICAST => net.is_ipv4(),
                AfiSafi::IPV6_UNICAST => net.is_ipv6(),
                _ => false,
            };
            if !fits {
                return Err(RequestError::PrefixFamily {
                    prefix: net,
                    family: crate::api::family_name(family),
                });
            }
            Some(net)
        }
        _ => None,
    };
    use pb::rib_request::Table;
    let table = match Table::try_from(r.table).map_err(|_| RequestError::Table(r.table))? {
        Table::LocRib => RibTable::LocRib,
        t => {
            let name = if t == Table::AdjRibIn {
                "received"
            } else {
                "advertised"
            };
            let addr = optional_addr("neighbor address", &r.neighbor)?
                .ok_or(RequestError::NeighborMissing(name))?;
            if t == Table::AdjRibIn {
                RibTable::AdjRibIn(addr)
            } else {
                RibTable::AdjRibOut(addr)
            }
        }
    };
    Ok(RibQuery {
        family,
        prefix,
        table,
    })
}

/// A checked `Reset` request (`clear bgp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResetQuery {
    /// One neighbor; `None`: every neighbor.
    pub neighbor: Option<IpAddr>,
    /// Ask the peer to send its routes again (ROUTE-REFRESH, RFC 2918).
    pub soft_in: bool,
    /// Send the Adj-RIB-Out again.
    pub soft_out: bool,
}

/// `Reset`.
pub fn reset(r: &pb::ResetRequest) -> Result<ResetQuery, RequestError> {
    Ok(ResetQuery {
        neighbor: optional_addr("neighbor address", &r.address)?,
        soft_in: r.soft_in,
        soft_out: r.soft_out,
    })
}

/// `Evpn`: the route type shown, `None` for every type.
pub fn evpn(r: &pb::EvpnRequest) -> Result<Option<u8>, RequestError> {
    match r.route_type {
        0 => Ok(None),
        2 => Ok(Some(2)),
        3 => Ok(Some(3)),
        t => Err(RequestError::RouteType(t)),
    }
}

/// A checked `ClearEvpnDuplicates` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClearDuplicatesQuery {
    /// 0: every VNI.
    pub vni: u32,
    /// `None`: every frozen MAC of the VNI(s).
    pub mac: Option<Mac>,
}

/// `ClearEvpnDuplicates` (`clear evpn dup-addr`).
pub fn clear_evpn_duplicates(
    r: &pb::ClearEvpnDuplicatesRequest,
) -> Result<ClearDuplicatesQuery, RequestError> {
    if r.vni > 0x00ff_ffff {
        return Err(RequestError::Vni(r.vni));
    }
    let mac = match r.mac.len() {
        0 => None,
        n => Some(Mac(
            <[u8; 6]>::try_from(r.mac.as_slice()).map_err(|_| RequestError::MacLength(n))?
        )),
    };
    Ok(ClearDuplicatesQuery { vni: r.vni, mac })
}

/// A checked `ClearPolicyCounters` request (`clear route-map counter`,
/// `clear ip|ipv6 prefix-list`); whether the name exists is the daemon's
/// to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClearCountersQuery {
    /// `None`: every route map.
    RouteMaps { name: Option<String> },
    /// One family's entries of one list (`None`: every list), with a
    /// prefix of that family only the entries covering it.
    PrefixLists {
        v6: bool,
        name: Option<String>,
        within: Option<IpNetwork>,
    },
}

/// `ClearPolicyCounters`: a known kind; a prefix only for a named prefix
/// list, of the family asked, without host bits.
pub fn clear_policy_counters(
    r: &pb::ClearPolicyCountersRequest,
) -> Result<ClearCountersQuery, RequestError> {
    use pb::clear_policy_counters_request::Kind;
    let name = (!r.name.is_empty()).then(|| r.name.clone());
    let within = match &r.prefix {
        Some(p) if !p.addr.is_empty() => Some(
            proto::prefix_from_wire(&proto::zebra::Prefix {
                addr: p.addr.clone(),
                len: p.len,
            })
            .map_err(|source| RequestError::Wire {
                what: "prefix",
                source,
            })?,
        ),
        _ => None,
    };
    match Kind::try_from(r.kind) {
        Ok(Kind::RouteMap) if within.is_none() => Ok(ClearCountersQuery::RouteMaps { name }),
        Ok(Kind::PrefixList) => {
            if let Some(p) = within {
                if name.is_none() {
                    return Err(RequestError::PrefixWithoutList);
                }
                if p.is_ipv6() != r.ipv6 {
                    return Err(RequestError::PrefixFamily {
                        prefix: p,
                        family: if r.ipv6 { "ipv6" } else { "ipv4" },
                    });
                }
            }
            Ok(ClearCountersQuery::PrefixLists {
                v6: r.ipv6,
                name,
                within,
            })
        }
        Ok(Kind::RouteMap) => Err(RequestError::PrefixWithoutList),
        _ => Err(RequestError::CounterKind(r.kind)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn prefix(addr: &[u8], len: u32) -> Option<pb::Prefix> {
        Some(pb::Prefix {
            addr: addr.to_vec(),
            len,
        })
    }

    #[test]
    fn neighbors_empty_is_all_and_bad_length_refused() {
        assert_eq!(neighbors(&pb::NeighborsRequest::default()), Ok(None));
        assert_eq!(
            neighbors(&pb::NeighborsRequest {
                address: vec![192, 0, 2, 1]
            }),
            Ok(Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))))
        );
        let e = neighbors(&pb::NeighborsRequest {
            address: vec![1, 2, 3],
        })
        .unwrap_err();
        assert!(e.to_string().contains("4 or 16 bytes"), "{e}");
    }

    #[test]
    fn rib_defaults_to_ipv4_loc_rib() {
        let q = rib(&pb::RibRequest::default()).unwrap();
        assert_eq!(
            q,
            RibQuery {
                family: AfiSafi::IPV4_UNICAST,
                prefix: None,
                table: RibTable::LocRib
            }
        );
    }

    #[test]
    fn rib_prefix_checked_against_family() {
        let ok = rib(&pb::RibRequest {
            family: "ipv6-unicast".into(),
            prefix: prefix(&Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0).octets(), 32),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(ok.prefix.unwrap().to_string(), "2001:db8::/32");
        let wrong = rib(&pb::RibRequest {
            family: "ipv6-unicast".into(),
            prefix: prefix(&[192, 0, 2, 0], 24),
            ..Default::default()
        });
        assert!(matches!(wrong, Err(RequestError::PrefixFamily { .. })));
        let host_bits = rib(&pb::RibRequest {
            prefix: prefix(&[192, 0, 2, 1], 24),
            ..Default::default()
        });
        assert!(matches!(host_bits, Err(RequestError::Wire { .. })));
        let too_long = rib(&pb::RibRequest {
            prefix: prefix(&[192, 0, 2, 0], 33),
            ..Default::default()
        });
        assert!(matches!(too_long, Err(RequestError::Wire { .. })));
        let evpn = rib(&pb::RibRequest {
            family: "l2vpn-evpn".into(),
            prefix: prefix(&[192, 0, 2, 0], 24),
            ..Default::default()
        });
        assert!(matches!(evpn, Err(RequestError::PrefixFamily { .. })));
    }

    #[test]
    fn rib_tables() {
        let n = vec![198, 51, 100, 2];
        let a = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 2));
        for (t, want) in [(1, RibTable::AdjRibIn(a)), (2, RibTable::AdjRibOut(a))] {
            let q = rib(&pb::RibRequest {
                neighbor: n.clone(),
                table: t,
                ..Default::default()
            })
            .unwrap();
            assert_eq!(q.table, want);
            let missing = rib(&pb::RibRequest {
                table: t,
                ..Default::default()
            });
            assert!(matches!(missing, Err(RequestError::NeighborMissing(_))));
        }
        assert_eq!(
            rib(&pb::RibRequest {
                table: 7,
                ..Default::default()
            }),
            Err(RequestError::Table(7))
        );
        assert_eq!(
            rib(&pb::RibRequest {
                family: "ipv5".into(),
                ..Default::default()
            }),
            Err(RequestError::Family("ipv5".into()))
        );
    }

    #[test]
    fn reset_target() {
        let q = reset(&pb::ResetRequest {
            soft_in: true,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(q.neighbor, None);
        assert!(q.soft_in && !q.soft_out);
        assert!(reset(&pb::ResetRequest {
            address: vec![0; 5],
            ..Default::default()
        })
        .is_err());
    }

    #[test]
    fn evpn_route_types() {
        assert_eq!(evpn(&pb::EvpnRequest { route_type: 0 }), Ok(None));
        assert_eq!(evpn(&pb::EvpnRequest { route_type: 2 }), Ok(Some(2)));
        assert_eq!(evpn(&pb::EvpnRequest { route_type: 3 }), Ok(Some(3)));
        assert_eq!(
            evpn(&pb::EvpnRequest { route_type: 258 }),
            Err(RequestError::RouteType(258))
        );
    }

    #[test]
    fn clear_duplicates_vni_and_mac() {
        let q = clear_evpn_duplicates(&pb::ClearEvpnDuplicatesRequest {
            vni: 100,
            mac: vec![2, 0, 0, 0, 0, 1],
        })
        .unwrap();
        assert_eq!(q.vni, 100);
        assert_eq!(q.mac, Some(Mac([2, 0, 0, 0, 0, 1])));
        assert_eq!(
            clear_evpn_duplicates(&pb::ClearEvpnDuplicatesRequest {
                vni: 1 << 24,
                mac: Vec::new(),
            }),
            Err(RequestError::Vni(1 << 24))
        );
        assert_eq!(
            clear_evpn_duplicates(&pb::ClearEvpnDuplicatesRequest {
                vni: 0,
                mac: vec![1, 2, 3],
            }),
            Err(RequestError::MacLength(3))
        );
    }

    #[test]
    fn clear_policy_counters_checked() {
        use pb::clear_policy_counters_request::Kind;
        let req = |kind: Kind, name: &str, ipv6: bool, p: Option<pb::Prefix>| {
            clear_policy_counters(&pb::ClearPolicyCountersRequest {
                kind: kind as i32,
                name: name.into(),
                ipv6,
                prefix: p,
            })
        };
        assert_eq!(
            req(Kind::RouteMap, "", false, None),
            Ok(ClearCountersQuery::RouteMaps { name: None })
        );
        assert_eq!(
            req(Kind::RouteMap, "IN", false, None),
            Ok(ClearCountersQuery::RouteMaps {
                name: Some("IN".into())
            })
        );
        assert_eq!(
            req(
                Kind::PrefixList,
                "P",
                true,
                prefix(&Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0).octets(), 32)
            )
            .map(|q| match q {
                ClearCountersQuery::PrefixLists { v6, name, within } =>
                    (v6, name, within.map(|p| p.to_string())),
                q => panic!("{q:?}"),
            }),
            Ok((true, Some("P".into()), Some("2001:db8::/32".into())))
        );
        assert_eq!(
            req(Kind::PrefixList, "", false, prefix(&[192, 0, 2, 0], 24)),
            Err(RequestError::PrefixWithoutList)
        );
        assert_eq!(
            req(Kind::RouteMap, "IN", false, prefix(&[192, 0, 2, 0], 24)),
            Err(RequestError::PrefixWithoutList)
        );
        assert!(matches!(
            req(Kind::PrefixList, "P", true, prefix(&[192, 0, 2, 0], 24)),
            Err(RequestError::PrefixFamily { .. })
        ));
        assert!(matches!(
            req(Kind::PrefixList, "P", false, prefix(&[192, 0, 2, 1], 24)),
            Err(RequestError::Wire { .. })
        ));
        assert_eq!(
            req(Kind::Unspecified, "", false, None),
            Err(RequestError::CounterKind(0))
        );
        assert_eq!(
            clear_policy_counters(&pb::ClearPolicyCountersRequest {
                kind: 9,
                ..Default::default()
            }),
            Err(RequestError::CounterKind(9))
        );
    }
}

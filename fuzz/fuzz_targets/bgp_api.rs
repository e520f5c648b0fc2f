//! bgpd's gRPC request checks, `bgpd::api::request`, on requests a client
//! could send: the first byte picks the RPC (Neighbors, Rib, Reset, Evpn,
//! ClearEvpnDuplicates, ClearPolicyCounters), the rest is its protobuf message, decoded with
//! prost as tonic would. Every input must give a typed query or an error,
//! never a panic; an accepted query must hold what the checks promise.
#![no_main]

use bgpd::api::request::{self, ClearCountersQuery, RibTable};
use bgpd::packet::AfiSafi;
use libfuzzer_sys::fuzz_target;
use prost::Message;
use proto::bgp as pb;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    match sel % 6 {
        0 => {
            if let Ok(r) = pb::NeighborsRequest::decode(rest) {
                let _ = request::neighbors(&r);
            }
        }
        1 => {
            if let Ok(r) = pb::RibRequest::decode(rest) {
                if let Ok(q) = request::rib(&r) {
                    if let Some(p) = q.prefix {
                        assert_eq!(p.network(), p.ip(), "host bits in {p}");
                        assert!(
                            (q.family == AfiSafi::IPV4_UNICAST && p.is_ipv4())
                                || (q.family == AfiSafi::IPV6_UNICAST && p.is_ipv6()),
                            "{p} accepted for {:?}",
                            q.family
                        );
                    }
                    if q.table != RibTable::LocRib {
                        assert!(!r.neighbor.is_empty());
                    }
                }
            }
        }
        2 => {
            if let Ok(r) = pb::ResetRequest::decode(rest) {
                let _ = request::reset(&r);
            }
        }
        3 => {
            if let Ok(r) = pb::EvpnRequest::decode(rest) {
                if let Ok(Some(t)) = request::evpn(&r) {
                    assert!(t == 2 || t == 3);
                }
            }
        }
        4 => {
            if let Ok(r) = pb::ClearEvpnDuplicatesRequest::decode(rest) {
                if let Ok(q) = request::clear_evpn_duplicates(&r) {
                    assert!(q.vni <= 0x00ff_ffff);
                }
            }
        }
        _ => {
            if let Ok(r) = pb::ClearPolicyCountersRequest::decode(rest) {
                if let Ok(ClearCountersQuery::PrefixLists {
                    v6,
                    name,
                    within: Some(p),
                }) = request::clear_policy_counters(&r)
                {
                    assert_eq!(p.network(), p.ip(), "host bits in {p}");
                    assert_eq!(p.is_ipv6(), v6, "{p} accepted for the other family");
                    assert!(name.is_some(), "{p} accepted without a list");
                }
            }
        }
    }
});

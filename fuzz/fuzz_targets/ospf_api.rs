//! ospfd's gRPC request checks, `ospfd::api::request`, on requests a
//! client could send: the first byte picks the RPC (Interfaces, Database),
//! the rest is its protobuf message, decoded with prost as tonic would.
//! Every input must give a typed query or an error, never a panic; an
//! accepted query must hold what the checks promise.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ospfd::api::request;
use prost::Message;
use proto::ospf as pb;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    if sel & 1 == 0 {
        if let Ok(r) = pb::InterfacesRequest::decode(rest) {
            if let Ok(Some(name)) = request::interfaces(&r) {
                assert!(!name.is_empty() && name.len() <= request::MAX_IFNAME);
                assert!(!name.contains('/'));
            }
        }
    } else if let Ok(r) = pb::DatabaseRequest::decode(rest) {
        if let Ok(q) = request::database(&r) {
            if let Some(t) = q.lsa_type {
                assert!(request::KNOWN_LSA_TYPES.contains(&t));
                assert_eq!(u32::from(t.0), r.lsa_type);
            }
        }
    }
});

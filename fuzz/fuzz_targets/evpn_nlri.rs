//! EVPN NLRI (RFC 7432 §7) straight into `bgpd::evpn::nlri::decode_routes`:
//! MAC/IP and inclusive multicast routes field by field, the other types
//! kept as bytes; every decoded route is re-encoded, decoded again and
//! must come back equal, and its key and text form are computed.
#![no_main]

use bgpd::evpn::nlri::decode_routes;
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(routes) = decode_routes(data) else {
        return;
    };
    let mut buf = BytesMut::new();
    for r in &routes {
        r.encode(&mut buf);
        let _ = r.key().to_string();
        let _ = r.key().rd();
    }
    assert_eq!(decode_routes(&buf).ok(), Some(routes));
});

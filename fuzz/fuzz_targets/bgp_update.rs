//! UPDATE bodies straight into `bgpd::packet::decode_update`: withdrawn
//! routes, every path attribute (ORIGIN, AS_PATH and AS4_PATH, NEXT_HOP,
//! MED, LOCAL_PREF, AGGREGATOR, communities, MP_REACH/MP_UNREACH, unknown
//! ones) and NLRI, with the RFC 7606 report. The first byte picks the
//! session context (see `routing_fuzz::session_caps`).
#![no_main]

use bgpd::packet::{decode_update, Message};
use libfuzzer_sys::fuzz_target;
use routing_fuzz::session_caps;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let caps = session_caps(sel);
    match decode_update(body, &caps) {
        Ok(parsed) => {
            let _ = parsed.is_treat_as_withdraw();
            let _ = parsed.announced();
            let _ = parsed.withdrawn();
            let _ = parsed.update.end_of_rib_family();
            let _ = parsed.update.reachable().count();
            let mut attrs = parsed.update.attributes.clone();
            attrs.reconcile_as4();
            let _ = attrs.for_propagation();
            let _ = Message::Update(parsed.update).to_bytes(&caps);
        }
        Err(e) => {
            let _ = e.notification();
        }
    }
});

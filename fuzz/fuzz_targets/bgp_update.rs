//! UPDATE bodies straight into `bgpd::packet::decode_update`: withdrawn
//! routes, every path attribute (ORIGIN, AS_PATH and AS4_PATH, NEXT_HOP,
//! MED, LOCAL_PREF, AGGREGATOR, communities, MP_REACH/MP_UNREACH, unknown
//! ones) and NLRI, with the RFC 7606 report. The first byte picks the
//! session context (see `routing_fuzz::session_caps`). An UPDATE that
//! takes repeats is also followed by one with its attributes and the
//! body's last bytes as NLRI: when `repeated_nlri` takes that one, decoding
//! it whole must give the same attributes, outcome and NLRI.
#![no_main]

use bgpd::packet::update::Sections;
use bgpd::packet::{decode_update, repeated_nlri, Message};
use libfuzzer_sys::fuzz_target;
use routing_fuzz::session_caps;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let caps = session_caps(sel);
    match decode_update(body, &caps) {
        Ok(parsed) => {
            if parsed.takes_repeats() {
                check_repeat(body, &parsed, &caps);
            }
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

fn check_repeat(body: &[u8], first: &bgpd::packet::ParsedUpdate, caps: &bgpd::packet::SessionCaps) {
    let Some(s) = Sections::split(body) else {
        panic!("a decoded UPDATE has sections");
    };
    let tail = &body[body.len() - body.len().min(12)..];
    let mut next = vec![0, 0];
    next.extend_from_slice(&(s.attributes.len() as u16).to_be_bytes());
    next.extend_from_slice(s.attributes);
    next.extend_from_slice(tail);
    let mut out = Vec::new();
    if repeated_nlri(&next, s.attributes, caps, &mut out) {
        let Ok(whole) = decode_update(&next, caps) else {
            panic!("a repeat that does not decode");
        };
        assert_eq!(whole.update.attributes, first.update.attributes);
        assert_eq!(whole.report, first.report);
        assert_eq!(whole.update.nlri, out);
    } else {
        assert!(out.is_empty());
    }
}

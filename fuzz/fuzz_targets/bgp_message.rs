//! Every BGP message through `bgpd::packet::decode_message`, as a session
//! would: framing first (`frame_length`), then the whole message, under
//! the session context chosen by the first byte. With bit 0x80 of that
//! byte the target writes a valid marker and length in front of the rest,
//! so most inputs reach the OPEN, UPDATE, NOTIFICATION and ROUTE-REFRESH
//! body decoders; without it the raw bytes exercise the header checks.
//! A decoded message is encoded again: that must not panic either.
#![no_main]

use bgpd::packet::header::frame_length;
use bgpd::packet::{decode_message, Message};
use libfuzzer_sys::fuzz_target;
use routing_fuzz::session_caps;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let caps = session_caps(sel);
    let mut framed;
    let frame: &[u8] = if sel & 0x80 != 0 {
        // rest = type byte + body.
        let len = 18 + rest.len();
        framed = vec![0xff; 16];
        framed.extend_from_slice(&(len.min(usize::from(u16::MAX)) as u16).to_be_bytes());
        framed.extend_from_slice(rest);
        &framed
    } else {
        rest
    };
    let frame = match frame_length(frame, &caps) {
        Ok(Some(len)) => frame.get(..len).unwrap_or(frame),
        Ok(None) => frame,
        Err(e) => {
            let _ = e.notification();
            frame
        }
    };
    match decode_message(frame, &caps) {
        Ok(decoded) => {
            if let Message::Update(u) = &decoded.message {
                let _ = u.reachable().count();
                let _ = u.end_of_rib_family();
            }
            let _ = decoded.message.to_bytes(&caps);
        }
        Err(e) => {
            let _ = e.notification();
        }
    }
});

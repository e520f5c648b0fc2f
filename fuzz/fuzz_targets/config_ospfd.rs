//! Arbitrary UTF-8 through `ospfd::config::parse`, the loader behind
//! `ospfd -f` and the reload command: every input must give a config or an
//! error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ospfd::config::parse("fuzz.toml", text);
    }
});

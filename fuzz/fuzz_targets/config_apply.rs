//! The ApplyConfig path of every daemon (`config.v1.Config`, vtysh's
//! configure mode) up to the loader: the protobuf `ApplyConfigRequest`
//! decoded with prost as tonic would, its `<hidden>` secrets put back from
//! the running text (`common::secrets::unmask`), then the daemon's loader.
//! The loaders alone are fuzzed by config_bgpd, config_ospfd and
//! config_zebrad; this target covers the secrets handling in front of
//! them. By the first byte:
//! - bits 0-1 pick the daemon (bgpd, ospfd, zebrad);
//! - bit 2 clear: the rest is a raw `ApplyConfigRequest`, unmasked
//!   against a running configuration with secrets in it;
//! - bit 2 set: the rest is a running text `t`; what a client reads,
//!   `mask(t)`, applied back must load whenever `t` loads (the secrets
//!   come back).
#![no_main]

use common::secrets::{mask, unmask};
use libfuzzer_sys::fuzz_target;
use prost::Message;
use proto::config as pb;

const RUNNING_BGPD: &str = r#"
asn = 65001
router_id = "192.0.2.1"
[[neighbor]]
address = "192.0.2.2"
remote_as = 65002
password = "bgp-secret-1"
[[neighbor]]
address = "2001:db8::2"
remote_as = 65003
password = "bgp-secret-2"
"#;

const RUNNING_OSPFD: &str = r#"
router_id = "192.0.2.1"
[[interface]]
name = "eth0"
area = "0.0.0.0"
authentication = { type = "md5", key_id = 1, key = "ospf-secret" }
[[interface]]
name = "eth1"
area = "0.0.0.0"
authentication = { type = "simple", key = "simple" }
"#;

const RUNNING_ZEBRAD: &str = "";

fn load(daemon: u8, text: &str) -> bool {
    match daemon {
        0 => bgpd::config::parse("fuzz.toml", text).is_ok(),
        1 => ospfd::config::parse("fuzz.toml", text).is_ok(),
        _ => zebrad::config::parse("fuzz.toml", text).is_ok(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let daemon = (sel & 3) % 3;
    if sel & 4 == 0 {
        let Ok(req) = pb::ApplyConfigRequest::decode(rest) else {
            return;
        };
        let running = [RUNNING_BGPD, RUNNING_OSPFD, RUNNING_ZEBRAD][usize::from(daemon)];
        let _ = load(daemon, &unmask(&req.text, running));
    } else {
        let Ok(t) = std::str::from_utf8(rest) else {
            return;
        };
        if !load(daemon, t) {
            return;
        }
        let shown = mask(t);
        let back = unmask(&shown, t);
        assert!(
            load(daemon, &back),
            "a loadable configuration no longer loads after mask/unmask:\n{t}\n---\n{back}"
        );
    }
});

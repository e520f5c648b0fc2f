//! Readers of the kernel's VXLAN state in a node, for the VTEP and EVPN
//! tests: a VXLAN device's FDB and zebrad's neighbor entries on a bridge,
//! as sets of short lines that compare exactly.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::lab::Node;

/// `dev`'s FDB as "mac dst flags... [master BRIDGE]" lines, without its
/// own permanent bridge entry.
pub fn fdb(node: &Node, dev: &str) -> BTreeSet<String> {
    let out = node.must(&["bridge", "-j", "fdb", "show", "dev", dev]);
    let v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
    v.as_array()
        .into_iter()
        .flatten()
        .filter(|e| {
            !(e["master"].is_string()
                && e["state"].as_str() == Some("permanent")
                && e["dst"].is_null())
        })
        .map(|e| {
            let mut s = format!(
                "{} {}",
                e["mac"].as_str().unwrap_or("?"),
                e["dst"].as_str().unwrap_or("-")
            );
            for f in e["flags"].as_array().into_iter().flatten() {
                s.push(' ');
                s.push_str(f.as_str().unwrap_or("?"));
            }
            if let Some(m) = e["master"].as_str() {
                s.push_str(" master ");
                s.push_str(m);
            }
            s
        })
        .collect()
}

/// zebrad's neighbor entries (protocol `zebra`) on `dev` as "ip mac" lines.
pub fn zebra_neighbors(node: &Node, dev: &str) -> BTreeSet<String> {
    let out = node.must(&["ip", "-j", "neigh", "show", "dev", dev]);
    let v: Value = serde_json::from_str(&out).unwrap_or(Value::Null);
    v.as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["protocol"].as_str() == Some("zebra"))
        .map(|e| {
            format!(
                "{} {}",
                e["dst"].as_str().unwrap_or("?"),
                e["lladdr"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

/// What a VXLAN device's FDB holds for a remote VTEP with `macs` behind it
/// (as zebrad programs them under bridge `bridge`): the flood entry, and
/// per MAC its `self` entry and its bridge entry.
pub fn expected_fdb(vtep: &str, macs: &[&str], bridge: &str) -> BTreeSet<String> {
    let mut s = BTreeSet::from([format!("00:00:00:00:00:00 {vtep} self")]);
    for mac in macs {
        s.insert(format!("{mac} {vtep} self extern_learn"));
        s.insert(format!("{mac} - extern_learn master {bridge}"));
    }
    s
}

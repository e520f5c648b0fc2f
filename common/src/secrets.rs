//! Secrets in a running configuration's text: every `password` key (bgpd's
//! TCP-MD5 keys, RFC 2385) and every `key` (ospfd's simple and MD5
//! authentication keys, RFC 2328 appendix D) is shown as `<hidden>` to readers of the
//! running configuration (`GetConfig`, `show running-config`, JSON), and
//! a text applied back with `<hidden>` keeps the running key of the same
//! table.
//!
//! Owns only the text transformation (with `toml_edit`, so comments and
//! layout stay as written). Tables are matched by their array name and
//! their `address`, `name` or `prefix` key (a `[[neighbor]]` by address, a
//! `[[peer_group]]` by name). Never logs a value.

use toml_edit::{DocumentMut, Item, Table, Value};

/// What readers see instead of a secret.
pub const HIDDEN: &str = "<hidden>";

/// Keys whose values are secrets.
const SECRET_KEYS: &[&str] = &["password", "key"];
/// Keys that identify an element of an array of tables.
const IDENTITY_KEYS: &[&str] = &["address", "name", "prefix"];

/// `text` with every secret replaced by [`HIDDEN`]. A text that is not
/// valid TOML is masked line by line: a line assigning a secret anywhere
/// (also inside an inline table) keeps only what precedes its first `=`.
pub fn mask(text: &str) -> String {
    match text.parse::<DocumentMut>() {
        Ok(mut doc) => {
            walk(doc.as_table_mut(), "", &mut |_, key, v| {
                if SECRET_KEYS.contains(&key) && v.is_str() {
                    let decor = v.decor().clone();
                    *v = Value::from(HIDDEN);
                    *v.decor_mut() = decor;
                }
            });
            doc.to_string()
        }
        Err(_) => text
            .lines()
            .map(|l| match l.split_once('=') {
                Some((k, _)) if assigns_secret(l) => format!("{k}= \"{HIDDEN}\""),
                _ => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

/// True when `line` has `<secret key> =` anywhere, the key standing as a
/// word of its own (`key_id = 1` and `password_file = ...` do not count).
fn assigns_secret(line: &str) -> bool {
    SECRET_KEYS.iter().any(|k| {
        line.match_indices(k).any(|(at, _)| {
            let before = line[..at].chars().next_back();
            let word_start = before.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '-'));
            let after = line[at + k.len()..].trim_start_matches([' ', '\t', '"', '\'']);
            word_start && after.starts_with('=')
        })
    })
}

/// `text` (a configuration applied by a client that read a masked one)
/// with each [`HIDDEN`] secret replaced by the value the same table has in
/// `running`. A secret with no counterpart stays [`HIDDEN`], which the
/// daemon's loader refuses.
pub fn unmask(text: &str, running: &str) -> String {
    if !text.contains(HIDDEN) {
        return text.to_string();
    }
    let (Ok(mut doc), Ok(run)) = (text.parse::<DocumentMut>(), running.parse::<DocumentMut>())
    else {
        return text.to_string();
    };
    let mut known = Vec::new();
    let mut run = run;
    walk(run.as_table_mut(), "", &mut |path, key, v| {
        if SECRET_KEYS.contains(&key) {
            if let Some(s) = v.as_str() {
                known.push((path.to_string(), key.to_string(), s.to_string()));
            }
        }
    });
    walk(doc.as_table_mut(), "", &mut |path, key, v| {
        if SECRET_KEYS.contains(&key) && v.as_str() == Some(HIDDEN) {
            if let Some((_, _, s)) = known.iter().find(|(p, k, _)| p == path && k == key) {
                let decor = v.decor().clone();
                *v = Value::from(s.as_str());
                *v.decor_mut() = decor;
            }
        }
    });
    doc.to_string()
}

/// Calls `f(path, key, value)` for every value of every table, where
/// `path` names the table (`neighbor[address=192.0.2.2]`).
fn walk(t: &mut Table, path: &str, f: &mut dyn FnMut(&str, &str, &mut Value)) {
    for (key, item) in t.iter_mut() {
        let key = key.get().to_string();
        match item {
            Item::Value(Value::InlineTable(it)) => {
                let sub = format!("{path}.{key}");
                for (k, v) in it.iter_mut() {
                    f(&sub, k.get(), v);
                }
            }
            Item::Value(v) => f(path, &key, v),
            Item::Table(sub) => walk(sub, &format!("{path}.{key}"), f),
            Item::ArrayOfTables(arr) => {
                for (i, sub) in arr.iter_mut().enumerate() {
                    let id = IDENTITY_KEYS
                        .iter()
                        .find_map(|k| {
                            sub.get(k)
                                .and_then(Item::as_str)
                                .map(|v| format!("{k}={v}"))
                        })
                        .unwrap_or_else(|| i.to_string());
                    walk(sub, &format!("{path}.{key}[{id}]"), f);
                }
            }
            Item::None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"[bgp]
asn = 65000

[[peer_group]]
name = "TOR"
password = "group-secret"   # shared key

[[neighbor]]
address = "192.0.2.2"
password = "n2-secret"

[[neighbor]]
address = "192.0.2.3"
password_file = "/etc/routing/secrets/n3"
"#;

    #[test]
    fn mask_hides_every_password_and_keeps_the_rest() {
        let m = mask(TEXT);
        assert!(!m.contains("secret\""), "{m}");
        assert_eq!(m.matches(HIDDEN).count(), 2);
        assert!(m.contains("# shared key"));
        assert!(m.contains("/etc/routing/secrets/n3"));
        let broken = "password = \"x\"\n[[[";
        assert!(!mask(broken).contains("\"x\""));
        let broken = "auth = { type = \"md5\", key_id = 1, key = \"x\" }\nkey_id = 2\n[[[";
        let m = mask(broken);
        assert!(!m.contains("\"x\""), "{m}");
        assert!(m.contains("key_id = 2"), "{m}");
    }

    const OSPF: &str = r#"router_id = "192.0.2.1"

[[interface]]
name = "eth0"
authentication = { type = "md5", key_id = 1, key = "md5-secret" } # rollover soon

[[interface]]
name = "eth1"
[interface.authentication]
type = "simple"
key = "simple-secret"

[[interface]]
name = "eth2"
authentication = { type = "md5", key_id = 2, key_file = "/etc/routing/eth2.key" }
"#;

    #[test]
    fn ospf_keys_hidden_and_restored() {
        let m = mask(OSPF);
        assert!(!m.contains("secret"), "{m}");
        assert_eq!(m.matches(HIDDEN).count(), 2, "{m}");
        assert!(m.contains("key_id = 1"));
        assert!(m.contains("/etc/routing/eth2.key"));
        assert!(m.contains("# rollover soon"));
        let back = unmask(&m, OSPF);
        assert!(back.contains("key = \"md5-secret\""), "{back}");
        assert!(back.contains("key = \"simple-secret\""), "{back}");
        assert!(!back.contains(HIDDEN));
    }

    #[test]
    fn unmask_restores_by_table_identity() {
        let masked = mask(TEXT);
        // The client reorders and edits, keeps the placeholders.
        let edited = masked.replace("192.0.2.3", "192.0.2.4")
            + "\n[[neighbor]]\naddress = \"192.0.2.9\"\npassword = \"<hidden>\"\n";
        let back = unmask(&edited, TEXT);
        assert!(
            back.contains("password = \"group-secret\"   # shared key"),
            "{back}"
        );
        assert!(back.contains("password = \"n2-secret\""));
        // A new neighbor has no running key: the placeholder stays.
        assert_eq!(back.matches(HIDDEN).count(), 1);
        assert_eq!(unmask(TEXT, ""), TEXT);
    }
}

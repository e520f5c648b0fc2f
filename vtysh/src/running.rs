//! The daemons' running configuration and logs, through each daemon's
//! `config.v1.Config` service (proto/proto/config.proto): `show
//! running-config [DAEMON|diff]`, `write memory`, `show logging`, and the
//! fetch-edit-apply cycle of configure mode.
//!
//! The commands that go to every daemon ask the deployed ones
//! ([`crate::deployment`]): a daemon not deployed is left out of the text
//! (`write memory` says it skipped it), and shows `"deployed": false` in
//! JSON; a deployed daemon that does not answer is named.
//!
//! JSON schemas (stable; see vtysh/schemas/):
//!
//! `show running-config json`: `{"<daemon>": {"deployed": bool, "running":
//! bool, "path": str|null, "unsaved": bool|null, "config": str|null,
//! "error": str|null}}`.
//!
//! `show logging json`: `{"<daemon>": {"deployed": bool, "running": bool,
//! "level": str|null, "destination": str|null, "capacity": int|null,
//! "lines": [str], "error": str|null}}`.

use std::fmt::Write as _;
use std::time::Duration;

use proto::config as pb;
use proto::config::config_client::ConfigClient;
use proto::transport;
use serde_json::{json, Map, Value};
use similar::TextDiff;
use tonic::transport::Channel;

use crate::configure::Daemon;
use crate::deployment::{Reach, Sockets};

/// How long a daemon gets to answer.
const TIMEOUT: Duration = Duration::from_secs(5);

async fn client(s: &Sockets, d: Daemon) -> Result<ConfigClient<Channel>, String> {
    let addr = s.of(d);
    let ch = tokio::time::timeout(TIMEOUT, transport::connect(&addr))
        .await
        .map_err(|_| format!("% {} does not answer at {addr}", d.name()))?
        .map_err(|e| {
            format!(
                "% {} is not running (cannot connect to {addr}): {}",
                d.name(),
                crate::daemons::connect_error(&e)
            )
        })?;
    Ok(ConfigClient::new(ch).max_decoding_message_size(transport::MAX_MESSAGE_SIZE))
}

fn status(d: Daemon) -> impl Fn(tonic::Status) -> String {
    move |e| format!("% {}: {}", d.name(), e.message())
}

pub async fn get(s: &Sockets, d: Daemon) -> Result<pb::ConfigReply, String> {
    let mut c = client(s, d).await?;
    tokio::time::timeout(TIMEOUT, c.get_config(pb::GetConfigRequest {}))
        .await
        .map_err(|_| format!("% {} does not answer", d.name()))?
        .map(|r| r.into_inner())
        .map_err(status(d))
}

/// Hands a complete configuration to the daemon; its refusal is the error.
pub async fn apply(s: &Sockets, d: Daemon, text: String) -> Result<Vec<String>, String> {
    let mut c = client(s, d).await?;
    let r = tokio::time::timeout(TIMEOUT, c.apply_config(pb::ApplyConfigRequest { text }))
        .await
        .map_err(|_| format!("% {} does not answer", d.name()))?
        .map_err(status(d))?
        .into_inner();
    if r.ok {
        Ok(r.changes)
    } else {
        Err(format!("% {} refused the change: {}", d.name(), r.error))
    }
}

/// The daemons a command names (one, or all of them with whether each is
/// deployed).
fn selected(s: &Sockets, daemon: Option<&str>) -> Vec<(Daemon, Reach)> {
    s.plan(daemon.and_then(Daemon::from_name))
}

/// Why `d` is left out, as the `error` of its JSON entry.
fn not_deployed(d: Daemon, why: &str) -> String {
    format!("{} is not deployed ({why})", d.name())
}

/// `show running-config [DAEMON]`: each daemon's TOML, FRR-like `!` lines
/// between them. A daemon down is named; the others are still shown.
pub async fn show(s: &Sockets, daemon: Option<&str>, json_out: bool) -> String {
    let mut out = String::new();
    let mut m = Map::new();
    for (d, reach) in selected(s, daemon) {
        if let Reach::NotDeployed(why) = reach {
            if json_out {
                m.insert(
                    d.name().into(),
                    json!({
                        "deployed": false, "running": false, "path": null,
                        "unsaved": null, "config": null, "error": not_deployed(d, &why),
                    }),
                );
            }
            continue;
        }
        let r = get(s, d).await;
        if json_out {
            m.insert(
                d.name().into(),
                match &r {
                    Ok(c) => json!({
                        "deployed": true,
                        "running": true,
                        "path": (!c.path.is_empty()).then(|| c.path.clone()),
                        "unsaved": c.unsaved,
                        "config": c.text,
                        "error": null,
                    }),
                    Err(e) => json!({
                        "deployed": true, "running": false, "path": null, "unsaved": null,
                        "config": null, "error": e.trim_start_matches("% "),
                    }),
                },
            );
            continue;
        }
        match r {
            Ok(c) => {
                let _ = writeln!(
                    out,
                    "! {} {}{}",
                    d.name(),
                    if c.path.is_empty() {
                        "(no config file)"
                    } else {
                        &c.path
                    },
                    if c.unsaved { " (unsaved changes)" } else { "" }
                );
                out.push_str(&c.text);
                if !c.text.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str("!\n");
            }
            Err(e) => {
                let _ = writeln!(out, "{e}\n!");
            }
        }
    }
    if json_out {
        return serde_json::to_string_pretty(&Value::Object(m)).unwrap_or_default() + "\n";
    }
    out
}

/// `show running-config diff`: a unified diff of each deployed daemon's
/// file against its running text.
pub async fn diff(s: &Sockets) -> String {
    let mut out = String::new();
    let mut down = String::new();
    for d in s.deployed() {
        match get(s, d).await {
            Ok(c) if c.unsaved => {
                let saved = if c.path.is_empty() {
                    "(no file)".to_string()
                } else {
                    c.path.clone()
                };
                let diff = TextDiff::from_lines(&c.saved_text, &c.text);
                let _ = write!(
                    out,
                    "{}",
                    diff.unified_diff()
                        .context_radius(3)
                        .header(&saved, &format!("{} running-config", d.name()))
                );
            }
            Ok(_) => {}
            Err(e) => {
                let _ = writeln!(down, "{e}");
            }
        }
    }
    if out.is_empty() {
        out.push_str("No unsaved changes.\n");
    }
    out + &down
}

/// `write memory`: every deployed daemon writes its file, and each line
/// names the daemon it saved. Fails, naming it, if one could not (down,
/// not answering, or its write failed); the others are saved all the same.
/// A daemon not deployed is skipped, with a line saying why.
pub async fn write(s: &Sockets) -> Result<String, String> {
    let mut out = String::from("Building Configuration...\n");
    let mut failed = false;
    for (d, reach) in s.plan(None) {
        if let Reach::NotDeployed(why) = reach {
            let _ = writeln!(out, "{}: skipped, {}", d.name(), not_deployed(d, &why));
            continue;
        }
        let r = async {
            let mut c = client(s, d).await?;
            tokio::time::timeout(TIMEOUT, c.write_config(pb::WriteConfigRequest {}))
                .await
                .map_err(|_| format!("% {} does not answer", d.name()))?
                .map(|r| r.into_inner())
                .map_err(status(d))
        }
        .await;
        match r {
            Ok(w) if w.ok => {
                let _ = writeln!(out, "{}: configuration saved to {}", d.name(), w.path);
            }
            Ok(w) => {
                failed = true;
                let _ = writeln!(out, "% {}: {}", d.name(), w.error);
            }
            Err(e) => {
                failed = true;
                let _ = writeln!(out, "{e}; {} not saved", d.name());
            }
        }
    }
    if failed {
        return Err(out.trim_end().to_string());
    }
    out.push_str("[OK]\n");
    Ok(out)
}

/// `show logging [DAEMON]`.
pub async fn logging(s: &Sockets, daemon: Option<&str>, json_out: bool) -> String {
    let mut out = String::new();
    let mut m = Map::new();
    for (d, reach) in selected(s, daemon) {
        if let Reach::NotDeployed(why) = reach {
            if json_out {
                m.insert(
                    d.name().into(),
                    json!({"deployed": false, "running": false, "level": null,
                           "destination": null, "capacity": null, "lines": [],
                           "error": not_deployed(d, &why)}),
                );
            }
            continue;
        }
        let r = async {
            let mut c = client(s, d).await?;
            tokio::time::timeout(TIMEOUT, c.logging(pb::LoggingRequest { lines: 0 }))
                .await
                .map_err(|_| format!("% {} does not answer", d.name()))?
                .map(|r| r.into_inner())
                .map_err(status(d))
        }
        .await;
        // The text form shows the last screenful; json all that is kept.
        let shown = 20;
        match (r, json_out) {
            (Ok(l), true) => {
                m.insert(
                    d.name().into(),
                    json!({"deployed": true, "running": true, "level": l.level, "destination": l.destination,
                           "capacity": l.capacity, "lines": l.lines, "error": null}),
                );
            }
            (Err(e), true) => {
                m.insert(
                    d.name().into(),
                    json!({"deployed": true, "running": false, "level": null, "destination": null,
                           "capacity": null, "lines": [], "error": e.trim_start_matches("% ")}),
                );
            }
            (Ok(l), false) => {
                let _ = writeln!(
                    out,
                    "{}: level {}, to {} (last {} of up to {} lines kept)",
                    d.name(),
                    l.level,
                    l.destination,
                    l.lines.len().min(shown),
                    l.capacity
                );
                for line in l.lines.iter().skip(l.lines.len().saturating_sub(shown)) {
                    let _ = writeln!(out, "  {line}");
                }
                out.push('\n');
            }
            (Err(e), false) => {
                let _ = writeln!(out, "{e}\n");
            }
        }
    }
    if json_out {
        return serde_json::to_string_pretty(&Value::Object(m)).unwrap_or_default() + "\n";
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::transport::Address;

    fn empty_run_dir(tag: &str, listed: Option<Vec<Daemon>>) -> Sockets {
        let dir = std::env::temp_dir().join(format!("vtysh-running-{tag}-{}", std::process::id()));
        Sockets {
            zebrad: Address::Unix(dir.join("zebrad.sock")),
            run_dir: dir,
            listed,
        }
    }

    #[tokio::test]
    async fn write_skips_what_is_not_deployed_and_names_what_is_down() {
        // Nothing runs: zebrad (always deployed) is named as down, bgpd and
        // ospfd (no socket) are skipped with the reason.
        let e = write(&empty_run_dir("auto", None)).await.unwrap_err();
        assert!(
            e.contains("% zebrad is not running") && e.contains("zebrad not saved"),
            "{e}"
        );
        assert!(
            e.contains("bgpd: skipped, bgpd is not deployed (no socket at"),
            "{e}"
        );
        assert!(e.contains("ospfd: skipped"), "{e}");
        // Listed, bgpd is deployed: down, so named.
        let s = empty_run_dir("listed", Some(vec![Daemon::Zebrad, Daemon::Bgpd]));
        let e = write(&s).await.unwrap_err();
        assert!(e.contains("bgpd not saved"), "{e}");
        assert!(
            e.contains("ospfd: skipped, ospfd is not deployed (not in --daemons zebrad,bgpd)"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn show_leaves_out_what_is_not_deployed() {
        let s = empty_run_dir("show", None);
        let t = show(&s, None, false).await;
        assert!(t.contains("% zebrad is not running"), "{t}");
        assert!(!t.contains("bgpd") && !t.contains("ospfd"), "{t}");
        // Named, it is asked all the same.
        let t = show(&s, Some("bgpd"), false).await;
        assert!(t.contains("% bgpd is not running"), "{t}");
        let j: Value = serde_json::from_str(&show(&s, None, true).await).unwrap();
        assert_eq!(j["zebrad"]["deployed"], true);
        assert_eq!(j["zebrad"]["running"], false);
        assert_eq!(j["ospfd"]["deployed"], false);
        let l: Value = serde_json::from_str(&logging(&s, None, true).await).unwrap();
        assert_eq!(l["bgpd"]["deployed"], false);
        assert!(!logging(&s, None, false).await.contains("bgpd"));
        assert!(!diff(&s).await.contains("bgpd"));
    }
}

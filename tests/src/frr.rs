//! FRR inside a test namespace: its zebra plus one protocol daemon, in the
//! foreground under the lab (so they are stopped with it), their vty sockets
//! and pid files in `<node dir>/frr`, and FRR's own vtysh to query them.
//!
//! FRR's packaging makes two things necessary: zebra must run as the `frr`
//! user (root is not in the `frrvty` group), so the directory belongs to
//! `frr`; and vtysh must not get `-N` (it would look for
//! `/etc/frr/<pathspace>/vtysh.conf`), only `--vty_socket`.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::lab::{Node, Proc};
use crate::wait::wait_until;

/// A running FRR: zebra and one daemon.
pub struct Frr {
    pub zebra: Proc,
    /// The protocol daemon (`bgpd`, `ospfd`, ...).
    pub daemon: Proc,
    pub node: Node,
    /// Where the vty sockets are.
    pub dir: String,
}

fn text(p: &std::path::Path) -> String {
    p.display().to_string()
}

/// Starts FRR's zebra and `daemon` (e.g. "bgpd") with `conf` (FRR syntax) in
/// `node`, and waits for both vty sockets.
pub fn start(node: &Node, daemon: &str, conf: &str) -> Frr {
    let dir: PathBuf = node.dir().join("frr");
    let _ = std::fs::create_dir_all(&dir);
    let zconf = node.write_file("frr/zebra.conf", "hostname zebra\n");
    let dconf = node.write_file(&format!("frr/{daemon}.conf"), conf);
    let _ = std::process::Command::new("chown")
        .args(["-R", "frr:frr", &text(&dir)])
        .status();
    let ns = node.ns().to_string();
    let d = text(&dir);
    let spawn = |name: &str, conf: &std::path::Path| {
        let p = node.spawn(
            &format!("frr-{name}"),
            &[
                &format!("/usr/lib/frr/{name}"),
                "-N",
                &ns,
                "-i",
                &format!("{d}/{name}.pid"),
                "--vty_socket",
                &d,
                "-f",
                &text(conf),
            ],
        );
        wait_until(
            Duration::from_secs(20),
            &format!("FRR {name}'s vty socket"),
            || {
                p.assert_running();
                dir.join(format!("{name}.vty")).exists()
            },
        );
        p
    };
    let zebra = spawn("zebra", &zconf);
    let daemon = spawn(daemon, &dconf);
    Frr {
        zebra,
        daemon,
        node: node.clone(),
        dir: d,
    }
}

impl Frr {
    /// FRR's vtysh with one or more `-c` commands; its output (also when it
    /// exits 1 for a missing vtysh.conf after running the commands).
    pub fn vtysh(&self, cmds: &[&str]) -> String {
        let mut args = vec!["vtysh", "--vty_socket", &self.dir];
        for c in cmds {
            args.push("-c");
            args.push(c);
        }
        self.node
            .exec_timeout(&args, Duration::from_secs(15))
            .unwrap_or_else(|e| {
                if e.stdout.trim().is_empty() {
                    format!("vtysh failed: {e}")
                } else {
                    e.stdout
                }
            })
    }

    /// A `... json` command's output, parsed (Null when it is not JSON).
    pub fn json(&self, cmd: &str) -> Value {
        serde_json::from_str(&self.vtysh(&[cmd])).unwrap_or(Value::Null)
    }
}

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
    let d = text(&dir);
    let zebra = spawn(node, &d, "zebra", &zconf, &[]);
    let daemon = spawn(node, &d, daemon, &dconf, &[]);
    Frr {
        zebra,
        daemon,
        node: node.clone(),
        dir: d,
    }
}

/// Starts FRR's `name` from `conf` with the vty socket and pid file in
/// `dir` (and `extra` arguments), and waits for its vty socket.
fn spawn(node: &Node, dir: &str, name: &str, conf: &std::path::Path, extra: &[&str]) -> Proc {
    let ns = node.ns().to_string();
    let bin = format!("/usr/lib/frr/{name}");
    let pid = format!("{dir}/{name}.pid");
    let conf = text(conf);
    let mut args = vec![
        bin.as_str(),
        "-N",
        &ns,
        "-i",
        &pid,
        "--vty_socket",
        dir,
        "-f",
        &conf,
    ];
    args.extend_from_slice(extra);
    let vty = PathBuf::from(dir).join(format!("{name}.vty"));
    let _ = std::fs::remove_file(&vty);
    let p = node.spawn(&format!("frr-{name}"), &args);
    wait_until(
        Duration::from_secs(20),
        &format!("FRR {name}'s vty socket"),
        || {
            p.assert_running();
            vty.exists()
        },
    );
    p
}

impl Frr {
    /// Starts the protocol daemon again (after it was killed) with a new
    /// `conf` and `extra` command-line arguments.
    pub fn restart_daemon(&mut self, name: &str, conf: &str, extra: &[&str]) {
        let dconf = self.node.write_file(&format!("frr/{name}.conf"), conf);
        let _ = std::process::Command::new("chown")
            .args(["frr:frr", &text(&dconf)])
            .status();
        self.daemon = spawn(&self.node, &self.dir, name, &dconf, extra);
    }

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

//! Test bed for the suite's topology tests.
//!
//! Every router is a network namespace that a [`Lab`] creates, links with
//! veth pairs and removes again, also when the test panics. Daemons run inside
//! the namespaces as processes the lab tracks; their logs live in the lab's
//! directory and their tails are printed when a test fails.
//!
//! Rules the test bed keeps, and tests built on it must keep too: only
//! documentation address ranges (192.0.2.0/24, 198.51.100.0/24,
//! 203.0.113.0/24, 2001:db8::/32), nothing created in the host's own
//! namespace, every wait bounded.
//!
//! ```no_run
//! use std::time::Duration;
//! use topotests::{Lab, wait_until};
//!
//! let lab = Lab::new("example");
//! let r1 = lab.node("r1");
//! let r2 = lab.node("r2");
//! lab.link(&r1, "eth0", &r2, "eth0");
//! r1.add_addr("eth0", "192.0.2.1/24");
//! r2.add_addr("eth0", "192.0.2.2/24");
//! wait_until(Duration::from_secs(5), "r1 reaches r2", || r1.reachable("192.0.2.2"));
//! ```

pub mod cmd;
pub mod frr;
pub mod lab;
pub mod netlink;
pub mod schema;
pub mod services;
pub mod sweep;
pub mod vxlan;
pub mod wait;

use std::path::{Path, PathBuf};

pub use cmd::CmdError;
pub use lab::{Lab, Node, Proc};
pub use netlink::RouteCounter;
pub use nix::sys::signal::Signal;
pub use sweep::sweep_stale_namespaces;
pub use wait::{try_wait_until, wait_for, wait_until, Checker};

/// The workspace root (the parent of this crate's directory).
pub fn workspace_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// Where the suite's binaries may be, most specific first: `$ROUTING_BIN_DIR`
/// alone if it is set; otherwise the profile directory of the running
/// executable (a test binary in `target/debug/deps` or a bench binary in
/// `target/debug`: what the same `cargo` invocation just built),
/// `<workspace>/target/debug`, then `$CARGO_TARGET_DIR/debug`.
pub fn bin_dirs() -> Vec<PathBuf> {
    if let Some(d) = std::env::var_os("ROUTING_BIN_DIR") {
        return vec![PathBuf::from(d)];
    }
    let mut dirs = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        if let Some(mut d) = exe.parent().map(Path::to_path_buf) {
            if d.file_name().is_some_and(|n| n == "deps") {
                d.pop();
            }
            dirs.push(d);
        }
    }
    dirs.push(workspace_dir().join("target").join("debug"));
    if let Some(t) = std::env::var_os("CARGO_TARGET_DIR") {
        dirs.push(PathBuf::from(t).join("debug"));
    }
    dirs
}

/// The path of the suite's binary `name` (zebrad, bgpd, ospfd, vtysh), if
/// built.
pub fn try_bin(name: &str) -> Option<PathBuf> {
    bin_dirs()
        .into_iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The path of the suite's binary `name`; panics with what to do when it has
/// not been built.
pub fn bin(name: &str) -> PathBuf {
    match try_bin(name) {
        Some(p) => p,
        None => panic!(
            "binary `{name}` not found in {:?}: run `cargo build --workspace --bins` first \
             (or set ROUTING_BIN_DIR to the directory holding it)",
            bin_dirs()
        ),
    }
}

/// Whether an external program (bird, gobgpd, ping, ...) is on `$PATH`.
pub fn have_program(name: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|d| d.join(name).is_file())
        || ["/usr/sbin", "/sbin"]
            .iter()
            .any(|d| Path::new(d).join(name).is_file())
}

/// Whether the process runs as root (namespaces need it).
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

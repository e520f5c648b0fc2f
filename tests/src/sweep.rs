//! Removal of namespaces left behind by test processes that died without
//! cleaning up (SIGKILL, a timeout in CI). A lab's namespaces are named
//! `rt<pid>-<lab>-<node>`; the sweep removes those whose `<pid>` is no
//! longer alive, killing whatever still runs inside them first. It never
//! touches a namespace whose name does not follow that pattern.

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::cmd;

/// The prefix of every namespace a lab creates.
pub const NS_PREFIX: &str = "rt";

/// The pid of the test process that created namespace `name`, if `name` is
/// one of ours (`rt<pid>-<n>-<node>`).
pub fn owner_pid(name: &str) -> Option<i32> {
    let rest = name.strip_prefix(NS_PREFIX)?;
    let mut parts = rest.splitn(3, '-');
    let pid = parts.next()?;
    let lab = parts.next()?;
    let node = parts.next()?;
    if pid.is_empty()
        || !pid.bytes().all(|b| b.is_ascii_digit())
        || lab.is_empty()
        || !lab.bytes().all(|b| b.is_ascii_digit())
        || node.is_empty()
    {
        return None;
    }
    pid.parse().ok()
}

/// Whether process `pid` exists.
pub fn pid_alive(pid: i32) -> bool {
    pid > 0 && std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Every network namespace name `ip netns list` shows.
pub fn list_namespaces() -> Vec<String> {
    cmd::run(&["ip", "netns", "list"])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// Kill every process inside namespace `name` (SIGKILL) and delete it.
pub fn destroy_namespace(name: &str) -> Result<(), cmd::CmdError> {
    if let Ok(pids) = cmd::run(&["ip", "netns", "pids", name]) {
        for p in pids.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
            let _ = kill(Pid::from_raw(p), Signal::SIGKILL);
        }
    }
    cmd::run(&["ip", "netns", "del", name]).map(drop)
}

/// Remove the namespaces of dead test processes; returns their names.
pub fn sweep_stale_namespaces() -> Vec<String> {
    let mut removed = Vec::new();
    for ns in list_namespaces() {
        let Some(pid) = owner_pid(&ns) else { continue };
        if pid_alive(pid) {
            continue;
        }
        match destroy_namespace(&ns) {
            Ok(()) => removed.push(ns),
            Err(e) => eprintln!("topotests: could not remove stale namespace {ns}: {e}"),
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(owner_pid("rt1234-0-r1"), Some(1234));
        assert_eq!(owner_pid("rt1234-12-r1-x"), Some(1234));
        assert_eq!(owner_pid("rt-0-r1"), None);
        assert_eq!(owner_pid("rt12a-0-r1"), None);
        assert_eq!(owner_pid("rt12-0-"), None);
        assert_eq!(owner_pid("router1"), None);
        assert_eq!(owner_pid("blue"), None);
        assert!(pid_alive(std::process::id() as i32));
    }
}

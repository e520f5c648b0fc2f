//! Labs, nodes and processes: the namespaces, links and daemons of one
//! topology test.
//!
//! A [`Lab`] owns everything it creates. Dropping it (at the end of the test
//! or while a panic unwinds) stops every process it started (SIGTERM to the
//! process group, SIGKILL after [`STOP_GRACE`]), deletes every namespace and,
//! when the test passed, its directory. When the test failed it prints the
//! tail of each process log and keeps the directory so CI shows why.
//!
//! Namespace names are `rt<pid>-<lab>-<node>`: unique across parallel tests
//! and test processes, and recognisable by the sweep
//! ([`crate::sweep_stale_namespaces`]) once their process is gone. Nothing is
//! ever created in the host's namespace: veth pairs are made with both ends
//! directly inside the nodes.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::cmd::{self, CmdError};
use crate::sweep;

/// How long a process gets between SIGTERM and SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(5);

/// How many lines of each log a failing test prints.
pub const LOG_TAIL_LINES: usize = 40;

/// Longest Linux interface name.
pub const IFNAMSIZ_MAX: usize = 15;

static LAB_COUNTER: AtomicU32 = AtomicU32::new(0);

struct ProcEntry {
    name: String,
    node: String,
    log: PathBuf,
    child: Child,
    exited: Option<ExitStatus>,
}

impl ProcEntry {
    fn poll(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none() {
            if let Ok(Some(st)) = self.child.try_wait() {
                self.exited = Some(st);
            }
        }
        self.exited
    }
}

#[derive(Default)]
struct State {
    namespaces: Vec<String>,
    nodes: BTreeSet<String>,
    procs: Vec<ProcEntry>,
}

type Shared = Arc<Mutex<State>>;

fn lock(s: &Shared) -> MutexGuard<'_, State> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

fn must(r: Result<String, CmdError>, what: &str) -> String {
    match r {
        Ok(s) => s,
        Err(e) => panic!("{what}: {e}"),
    }
}

/// One topology: its namespaces, links, processes and directory.
pub struct Lab {
    test: String,
    id: String,
    dir: PathBuf,
    state: Shared,
}

impl Lab {
    /// A new, empty lab for test `test_name`. Sweeps namespaces left by dead
    /// test processes first. Panics when not run as root.
    pub fn new(test_name: &str) -> Lab {
        assert!(
            crate::is_root(),
            "topology tests need root (network namespaces): run them through scripts/test.sh"
        );
        sweep::sweep_stale_namespaces();
        let pid = std::process::id();
        let n = LAB_COUNTER.fetch_add(1, Ordering::SeqCst);
        let id = format!("{}{pid}-{n}", sweep::NS_PREFIX);
        let safe: String = test_name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let dir = std::env::temp_dir()
            .join("topotests")
            .join(format!("{safe}-{pid}-{n}"));
        let _ = fs::remove_dir_all(&dir);
        if let Err(e) = fs::create_dir_all(&dir) {
            panic!("cannot create lab directory {}: {e}", dir.display());
        }
        Lab {
            test: test_name.to_string(),
            id,
            dir,
            state: Shared::default(),
        }
    }

    /// The test name given to [`Lab::new`].
    pub fn test_name(&self) -> &str {
        &self.test
    }

    /// The lab's directory (one subdirectory per node).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The namespaces this lab created and has not yet deleted.
    pub fn namespaces(&self) -> Vec<String> {
        lock(&self.state).namespaces.clone()
    }

    /// A new node: a namespace with `lo` up and a directory `dir/<name>`.
    /// `name` is short, `[a-z0-9_]`, and unique in the lab.
    pub fn node(&self, name: &str) -> Node {
        assert!(
            !name.is_empty()
                && name.len() <= 12
                && name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "node name `{name}` must be 1-12 characters of [a-z0-9_]"
        );
        let ns = format!("{}-{name}", self.id);
        {
            let mut st = lock(&self.state);
            assert!(
                st.nodes.insert(name.to_string()),
                "node `{name}` exists already"
            );
            // Recorded before it exists, so a failure half-way is cleaned up.
            st.namespaces.push(ns.clone());
        }
        let dir = self.dir.join(name);
        if let Err(e) = fs::create_dir_all(dir.join("run")) {
            panic!("cannot create {}: {e}", dir.display());
        }
        must(
            cmd::run(&["ip", "netns", "add", &ns]),
            "creating a namespace",
        );
        must(
            cmd::run(&["ip", "-n", &ns, "link", "set", "lo", "up"]),
            "lo up",
        );
        Node {
            name: name.to_string(),
            ns,
            dir,
            state: self.state.clone(),
        }
    }

    /// A veth pair: `a_if` in `a`, `b_if` in `b`, both up.
    pub fn link(&self, a: &Node, a_if: &str, b: &Node, b_if: &str) {
        for i in [a_if, b_if] {
            assert!(
                !i.is_empty() && i.len() <= IFNAMSIZ_MAX,
                "interface name `{i}` must be 1-{IFNAMSIZ_MAX} characters"
            );
        }
        must(
            cmd::run(&[
                "ip", "-n", &a.ns, "link", "add", a_if, "type", "veth", "peer", "name", b_if,
                "netns", &b.ns,
            ]),
            &format!("veth {}:{a_if} -- {}:{b_if}", a.name, b.name),
        );
        a.must(&["ip", "link", "set", a_if, "up"]);
        b.must(&["ip", "link", "set", b_if, "up"]);
    }

    /// A shared segment (a LAN): a node `name` holding a bridge `br0`, with
    /// a veth from each member's interface to a bridge port. Returns the
    /// switch node.
    pub fn lan(&self, name: &str, members: &[(&Node, &str)]) -> Node {
        let sw = self.node(name);
        sw.must(&[
            "ip",
            "link",
            "add",
            "br0",
            "type",
            "bridge",
            "stp_state",
            "0",
            "mcast_snooping",
            "0",
        ]);
        sw.must(&["ip", "link", "set", "br0", "up"]);
        for (i, (node, ifname)) in members.iter().enumerate() {
            let port = format!("p{i}");
            self.link(&sw, &port, node, ifname);
            sw.must(&["ip", "link", "set", &port, "master", "br0"]);
        }
        sw
    }

    /// The last `lines` lines of every process log, with each process's
    /// state.
    pub fn log_tails(&self, lines: usize) -> String {
        let mut st = lock(&self.state);
        let mut out = String::new();
        for p in st.procs.iter_mut() {
            let state = match p.poll() {
                Some(s) => format!("exited: {s}"),
                None => "running".to_string(),
            };
            out.push_str(&format!(
                "----- {}/{} ({state}), {} -----\n",
                p.node,
                p.name,
                p.log.display()
            ));
            out.push_str(&tail(&p.log, lines));
            out.push('\n');
        }
        out
    }

    fn stop_all(&self) {
        let mut st = lock(&self.state);
        for p in st.procs.iter_mut() {
            if p.poll().is_none() {
                signal_group(p.child.id(), Signal::SIGTERM);
            }
        }
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline && st.procs.iter_mut().any(|p| p.poll().is_none()) {
            thread::sleep(Duration::from_millis(20));
        }
        for p in st.procs.iter_mut() {
            if p.poll().is_none() {
                eprintln!(
                    "topotests: {}/{} ignored SIGTERM for {STOP_GRACE:?}: SIGKILL",
                    p.node, p.name
                );
                signal_group(p.child.id(), Signal::SIGKILL);
                let _ = p.child.kill();
                if let Ok(s) = p.child.wait() {
                    p.exited = Some(s);
                }
            }
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let failed = thread::panicking();
        if failed {
            eprintln!(
                "topotests: test `{}` failed; logs in {}\n{}",
                self.test,
                self.dir.display(),
                self.log_tails(LOG_TAIL_LINES)
            );
        }
        self.stop_all();
        let namespaces = std::mem::take(&mut lock(&self.state).namespaces);
        for ns in namespaces.iter().rev() {
            if !sweep::list_namespaces().contains(ns) {
                continue;
            }
            if let Err(e) = sweep::destroy_namespace(ns) {
                eprintln!("topotests: cannot delete namespace {ns}: {e}");
            }
        }
        if !failed && std::env::var_os("TOPOTESTS_KEEP").is_none() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

fn signal_group(pid: u32, sig: Signal) {
    if let Ok(pid) = i32::try_from(pid) {
        // Each process leads its own group: the signal reaches its children.
        let _ = kill(Pid::from_raw(-pid), sig);
    }
}

/// The last `lines` lines of a file, or a note why there are none.
pub fn tail(path: &Path, lines: usize) -> String {
    match fs::read(path) {
        Ok(b) => {
            let s = String::from_utf8_lossy(&b);
            let all: Vec<&str> = s.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

/// One router (or host, or switch): a network namespace of a [`Lab`].
#[derive(Clone)]
pub struct Node {
    name: String,
    ns: String,
    dir: PathBuf,
    state: Shared,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Node({} in {})", self.name, self.ns)
    }
}

impl Node {
    /// The name given to [`Lab::node`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The namespace's name (for `ip -n`, `ip netns exec`).
    pub fn ns(&self) -> &str {
        &self.ns
    }

    /// The node's directory: configs and logs.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A run directory for daemons (`--run-dir`): `dir/run`.
    pub fn run_dir(&self) -> PathBuf {
        self.dir.join("run")
    }

    /// `path` of the gRPC socket of `daemon` in [`Node::run_dir`].
    pub fn socket(&self, daemon: &str) -> PathBuf {
        self.run_dir().join(format!("{daemon}.sock"))
    }

    /// Write `contents` to `dir/<file>` and return its path.
    pub fn write_file(&self, file: &str, contents: &str) -> PathBuf {
        let p = self.dir.join(file);
        if let Err(e) = fs::write(&p, contents) {
            panic!("cannot write {}: {e}", p.display());
        }
        p
    }

    fn netns_args<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut v = vec!["ip", "netns", "exec", self.ns.as_str()];
        v.extend_from_slice(args);
        v
    }

    /// Run a command inside the node to completion (at most
    /// [`cmd::DEFAULT_TIMEOUT`]); its stdout, or an error with its stderr.
    pub fn exec(&self, args: &[&str]) -> Result<String, CmdError> {
        cmd::run(&self.netns_args(args))
    }

    /// [`Node::exec`] with a timeout.
    pub fn exec_timeout(&self, args: &[&str], timeout: Duration) -> Result<String, CmdError> {
        cmd::run_timeout(&self.netns_args(args), timeout)
    }

    /// Run a shell script (`sh -c`) inside the node.
    pub fn sh(&self, script: &str) -> Result<String, CmdError> {
        self.exec(&["sh", "-c", script])
    }

    /// [`Node::exec`], panicking (the test fails) on error.
    pub fn must(&self, args: &[&str]) -> String {
        must(self.exec(args), &format!("on {}", self.name))
    }

    /// [`Node::sh`], panicking (the test fails) on error.
    pub fn must_sh(&self, script: &str) -> String {
        must(self.sh(script), &format!("on {}", self.name))
    }

    /// Add an address (`192.0.2.1/24`, `2001:db8::1/64`) to `ifname`; IPv6
    /// addresses skip duplicate address detection so they are usable at once.
    pub fn add_addr(&self, ifname: &str, cidr: &str) {
        let mut args = vec!["ip", "addr", "add", cidr, "dev", ifname];
        if cidr.contains(':') {
            args.push("nodad");
        }
        self.must(&args);
    }

    /// Start a long-running process inside the node, in its own process
    /// group, with stdout and stderr appended to `dir/<name>.log`. The lab
    /// stops it when dropped.
    pub fn spawn(&self, name: &str, args: &[&str]) -> Proc {
        self.spawn_env(name, args, &[])
    }

    /// [`Node::spawn`] with extra environment variables.
    pub fn spawn_env(&self, name: &str, args: &[&str], env: &[(&str, &str)]) -> Proc {
        assert!(!args.is_empty(), "spawn `{name}`: empty command");
        let log = self.dir.join(format!("{name}.log"));
        let open = || {
            File::options()
                .create(true)
                .append(true)
                .open(&log)
                .unwrap_or_else(|e| panic!("cannot open {}: {e}", log.display()))
        };
        let (out, err) = (open(), open());
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns])
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        let child = c
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({args:?}) on {}: {e}", self.name));
        let pid = child.id();
        lock(&self.state).procs.push(ProcEntry {
            name: name.to_string(),
            node: self.name.clone(),
            log: log.clone(),
            child,
            exited: None,
        });
        Proc {
            name: name.to_string(),
            node: self.name.clone(),
            pid,
            log,
            state: self.state.clone(),
        }
    }

    /// The kernel's routes in `table` (254 is main) as `ip -j route` shows
    /// them; an absent table is empty.
    pub fn routes(&self, table: u32, v6: bool) -> Vec<serde_json::Value> {
        let t = table.to_string();
        let fam = if v6 { "-6" } else { "-4" };
        match self.exec(&["ip", "-j", fam, "route", "show", "table", &t]) {
            Ok(out) if out.trim().is_empty() => Vec::new(),
            Ok(out) => match serde_json::from_str::<Vec<serde_json::Value>>(&out) {
                Ok(v) => v,
                Err(e) => panic!("`ip -j route` on {} gave bad JSON ({e}): {out}", self.name),
            },
            Err(e) if e.stderr.contains("does not exist") => Vec::new(),
            Err(e) => panic!("reading routes on {}: {e}", self.name),
        }
    }

    /// The route to exactly `dst` (as `ip` prints it: `198.51.100.0/24`, or a
    /// bare address for a host route) in `table`, if present.
    pub fn route(&self, table: u32, dst: &str) -> Option<serde_json::Value> {
        let v6 = dst.contains(':');
        let bare = dst
            .strip_suffix("/32")
            .filter(|_| !v6)
            .or_else(|| dst.strip_suffix("/128").filter(|_| v6))
            .unwrap_or(dst);
        self.routes(table, v6)
            .into_iter()
            .find(|r| r["dst"].as_str() == Some(bare))
    }

    /// Whether `addr` answers from this node: one ICMP echo when `ping` is
    /// installed, else a TCP connection attempt to port 9 (a refusal proves
    /// the path as well as an accept).
    pub fn reachable(&self, addr: &str) -> bool {
        if crate::have_program("ping") {
            return self
                .exec_timeout(
                    &["ping", "-c", "1", "-W", "1", addr],
                    Duration::from_secs(5),
                )
                .is_ok();
        }
        let target = if addr.contains(':') {
            format!("[{addr}]")
        } else {
            addr.to_string()
        };
        match self.tcp_connect(&target, 9) {
            Ok(_) => true,
            Err(e) => e.stderr.contains("refused"),
        }
    }

    /// One TCP connection from this node to `host:port` through bash's
    /// `/dev/tcp`, bounded to 3 s.
    pub fn tcp_connect(&self, host: &str, port: u16) -> Result<String, CmdError> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.exec_timeout(
            &[
                "bash",
                "-c",
                &format!("exec 3<>/dev/tcp/{host}/{port} && echo connected"),
            ],
            Duration::from_secs(3),
        )
    }
}

/// A process started with [`Node::spawn`]. The lab owns it; this is a handle.
#[derive(Clone)]
pub struct Proc {
    name: String,
    node: String,
    pid: u32,
    log: PathBuf,
    state: Shared,
}

impl std::fmt::Debug for Proc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Proc({}/{} pid {})", self.node, self.name, self.pid)
    }
}

impl Proc {
    /// The name given to [`Node::spawn`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its pid (`ip netns exec` execs the command, so this is the daemon's).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Its log file.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Everything it has logged so far.
    pub fn log(&self) -> String {
        fs::read(&self.log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    fn with_entry<T>(&self, f: impl FnOnce(&mut ProcEntry) -> T) -> Option<T> {
        let mut st = lock(&self.state);
        st.procs
            .iter_mut()
            .find(|p| p.child.id() == self.pid)
            .map(f)
    }

    /// How it exited, if it has.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        self.with_entry(|p| p.poll()).flatten()
    }

    /// Whether it is still running.
    pub fn is_running(&self) -> bool {
        self.exit_status().is_none()
    }

    /// Send `sig` to its process group.
    pub fn signal(&self, sig: Signal) {
        if self.is_running() {
            signal_group(self.pid, sig);
        }
    }

    /// Wait up to `timeout` for it to exit by itself.
    pub fn wait_exit(&self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.exit_status() {
                return Some(s);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stop it: SIGTERM, then SIGKILL after [`STOP_GRACE`]. Returns how it
    /// exited.
    pub fn stop(&self) -> Option<ExitStatus> {
        self.signal(Signal::SIGTERM);
        if let Some(s) = self.wait_exit(STOP_GRACE) {
            return Some(s);
        }
        self.signal(Signal::SIGKILL);
        self.wait_exit(STOP_GRACE)
    }

    /// Kill it at once (SIGKILL), as a crash would.
    pub fn kill(&self) -> Option<ExitStatus> {
        self.signal(Signal::SIGKILL);
        self.wait_exit(STOP_GRACE)
    }

    /// Panic with its log tail unless it is running.
    pub fn assert_running(&self) {
        if let Some(s) = self.exit_status() {
            panic!(
                "{}/{} exited ({s}); log tail:\n{}",
                self.node,
                self.name,
                tail(&self.log, LOG_TAIL_LINES)
            );
        }
    }

    /// Wait until a Unix socket at `path` accepts connections (a daemon is
    /// ready); panics after `timeout` or as soon as the process exits.
    pub fn wait_socket(&self, path: &Path, timeout: Duration) {
        let what = format!(
            "{}/{} listening on {}",
            self.node,
            self.name,
            path.display()
        );
        crate::wait_until(timeout, &what, || {
            self.assert_running();
            std::os::unix::net::UnixStream::connect(path).is_ok()
        });
    }

    /// A field of `/proc/<pid>/status` in kB (`VmRSS`, `VmHWM`).
    pub fn status_kib(&self, field: &str) -> Option<u64> {
        let s = fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        s.lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
    }
}

//! vtysh driven as an operator drives it: through a pseudo-terminal (Tab
//! completion, `?` help, abbreviations, `| include` / `| count`, history
//! across two sessions, `exit`), and one-shot (`-c`, standard input, exit
//! status, `show daemons` / `show version` with daemons not deployed, and
//! listed with `--daemons` but down).
//!
//! zebrad runs in a namespace (r1 of the zebrad topology, with a static
//! route); vtysh talks to its socket in the run directory. The terminal is a
//! small python3 `pty` driver (below): it sends keys and waits, each wait
//! bounded, for text in the screen output (escape sequences stripped).

#[path = "zebrad_util.rs"]
mod util;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use topotests::bin;
use util::*;

/// The pty driver: `driver.py STEPS_JSON ARGV...`. Steps are `["send", s]`
/// or `["expect", s, timeout_secs]`; then it waits (bounded) for the child to
/// exit. It prints the cleaned transcript and, last, `EXIT <status>`; it exits
/// 3 when an expectation times out (the transcript says where).
const DRIVER: &str = r#"
import json, os, pty, re, select, signal, struct, sys, time, fcntl, termios
steps = json.loads(sys.argv[1])
argv = sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(argv[0], argv)
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 60, 200, 0, 0))
raw = b""
pos = 0
ansi = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|\r")
def clean():
    return ansi.sub("", raw.decode("utf-8", "replace"))
def pump(timeout):
    global raw
    r, _, _ = select.select([fd], [], [], timeout)
    if not r:
        return True
    try:
        data = os.read(fd, 65536)
    except OSError:
        data = b""
    if not data:
        return False
    raw += data
    return True
def fail(why):
    sys.stdout.write(clean())
    sys.stdout.write("\nDRIVER FAILED: " + why + "\n")
    sys.stdout.flush()
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
    sys.exit(3)
for step in steps:
    if step[0] == "send":
        time.sleep(0.2)
        os.write(fd, step[1].encode())
    else:
        want, deadline = step[1], time.time() + step[2]
        while want not in clean()[pos:]:
            left = deadline - time.time()
            if left <= 0:
                fail("timed out waiting for %r after offset %d" % (want, pos))
            if not pump(min(left, 0.5)):
                if want not in clean()[pos:]:
                    fail("end of output waiting for %r" % want)
        pos = clean().index(want, pos) + len(want)
deadline = time.time() + 10
status = None
while time.time() < deadline:
    pump(0.2)
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = os.waitstatus_to_exitcode(st)
        break
while pump(0.1):
    if len(raw) > 10_000_000:
        break
if status is None:
    os.kill(pid, signal.SIGKILL)
    fail("vtysh did not exit")
sys.stdout.write(clean())
sys.stdout.write("\nEXIT %d\n" % status)
"#;

enum Step<'a> {
    Send(&'a str),
    Expect(&'a str),
}
use Step::*;

/// Runs vtysh on a pty with `steps`; the transcript (the driver's output).
/// Panics with the transcript if an expectation is not met or vtysh does not
/// exit 0.
fn pty_session(dir: &Path, home: &Path, run_dir: &Path, steps: &[Step]) -> String {
    let driver = dir.join("pty_driver.py");
    std::fs::write(&driver, DRIVER).expect("write the pty driver");
    let steps: Vec<serde_json::Value> = steps
        .iter()
        .map(|s| match s {
            Send(k) => serde_json::json!(["send", k]),
            Expect(t) => serde_json::json!(["expect", t, 15]),
        })
        .collect();
    let vtysh = bin("vtysh");
    let out = bounded(
        Command::new("python3")
            .arg(&driver)
            .arg(serde_json::Value::Array(steps).to_string())
            .arg(&vtysh)
            .arg("--run-dir")
            .arg(run_dir)
            .env("HOME", home)
            .env("TERM", "xterm")
            .env("PAGER", "cat")
            .env("LINES", "1000"),
        "",
        Duration::from_secs(120),
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && text.trim_end().ends_with("EXIT 0"),
        "pty session failed ({:?}):\n{text}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// Runs a command with a time limit (the driver bounds itself too; this is
/// the backstop).
fn bounded(cmd: &mut Command, input: &str, limit: Duration) -> std::process::Output {
    use std::io::Read;
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let input = input.to_string();
    let mut stdin = child.stdin.take();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        if let Some(s) = stdin.as_mut() {
            let _ = s.write_all(input.as_bytes());
        }
        drop(stdin);
    });
    let mut so = child.stdout.take().expect("stdout");
    let mut se = child.stderr.take().expect("stderr");
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = so.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = se.read_to_end(&mut v);
        v
    });
    let deadline = std::time::Instant::now() + limit;
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let st = child.wait().expect("wait");
            panic!("{cmd:?} timed out after {limit:?} ({st:?})");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = writer.join();
    std::process::Output {
        status,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
    }
}

/// One-shot vtysh with `args` and `stdin`: (exit code, stdout, stderr).
fn oneshot(run_dir: &Path, args: &[&str], stdin: &str) -> (Option<i32>, String, String) {
    let out = bounded(
        Command::new(bin("vtysh"))
            .arg("--run-dir")
            .arg(run_dir)
            .args(args),
        stdin,
        Duration::from_secs(30),
    );
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn start(test: &str) -> (Topo, topotests::Proc, PathBuf) {
    let t = topo(test);
    let cfg = t.r1.write_file(
        "zebrad.toml",
        r#"
[[static]]
prefix = "203.0.113.0/25"
via = "192.0.2.2"
"#,
    );
    let z = start_zebrad(&t.r1, &cfg);
    wait_route(&t.r1, MAIN, "203.0.113.0/25", STATIC, SOON);
    let run = t.r1.run_dir();
    (t, z, run)
}

#[test]
fn vtysh_interactive_completion_help_filters_history() {
    let (t, z, run) = start("vtysh_interactive_completion_help_filters_history");
    let home = t.r1.dir().join("home");
    std::fs::create_dir_all(&home).expect("home");

    // Session 1: Tab, ?, abbreviations, filters, exit.
    let s1 = pty_session(
        t.r1.dir(),
        &home,
        &run,
        &[
            Expect("# "),
            // Tab completes `sh` to `show `; Enter on `show ` alone is
            // incomplete, so the line is wiped with Ctrl-U instead.
            Send("sh\t"),
            Expect("show "),
            // `?` after `show ` lists the next words at once.
            Send("?"),
            Expect("interface"),
            Expect("zebra"),
            Send("\x15"),
            Send("sh ip ro\r"),
            Expect("Codes: K - kernel route"),
            Expect("203.0.113.0/25"),
            Send("show ip route | include 203\\.0\\.113\r"),
            Expect("203.0.113.0/25"),
            Send("show ip route | include 203\\.0\\.113 | count\r"),
            Expect("Count: 1 lines"),
            Send("show ip route | exclude Codes | count\r"),
            Expect("Count: "),
            Send("show zebra\r"),
            Expect("RIB routes"),
            Send("exit\r"),
        ],
    );
    // `?` listed the words after `show `.
    let help_at = s1.find("interface").expect("help");
    let help = &s1[help_at.saturating_sub(400)..(help_at + 400).min(s1.len())];
    for w in ["ip ", "interface", "zebra", "version", "daemons"] {
        assert!(help.contains(w), "`show ?` lacks {w}:\n{s1}");
    }
    assert!(
        !s1.contains("Count: 0"),
        "the include filter kept nothing:\n{s1}"
    );

    let hist = std::fs::read_to_string(home.join(".vtysh_history")).expect("history file");
    assert!(hist.contains("sh ip ro"), "{hist}");
    assert!(hist.contains("show zebra"), "{hist}");
    assert!(!hist.lines().any(|l| l.trim() == "exit"), "{hist}");

    // Session 2: up-arrow recalls `show zebra` from the first session.
    let s2 = pty_session(
        t.r1.dir(),
        &home,
        &run,
        &[
            Expect("# "),
            Send("\x1b[A"),
            Expect("show zebra"),
            Send("\r"),
            Expect("RIB routes"),
            Send("\x1b[A\x1b[A\x1b[A"),
            Expect("include 203\\.0\\.113 | count"),
            Send("\r"),
            Expect("Count: 1 lines"),
            Send("quit\r"),
        ],
    );
    assert!(s2.contains("EXIT 0"), "{s2}");
    z.assert_running();
}

#[test]
fn vtysh_oneshot_status_stdin_and_daemons() {
    let (_t, z, run) = start("vtysh_oneshot_status_stdin_and_daemons");

    // -c: good commands exit 0, a failing one exits non-zero and says why.
    let (code, out, _) = oneshot(&run, &["-c", "sh ip ro", "-c", "show interface eth0"], "");
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("203.0.113.0/25") && out.contains("eth0"),
        "{out}"
    );
    let (code, _, err) = oneshot(&run, &["-c", "show ip route", "-c", "show bogus"], "");
    assert_ne!(code, Some(0), "a failing -c exited 0");
    assert!(err.contains("Unknown command"), "{err}");
    let (code, _, err) = oneshot(&run, &["-c", "show ip bgp summary"], "");
    assert_ne!(code, Some(0), "bgpd is down, yet exit 0");
    assert!(err.contains("bgpd is not running"), "{err}");

    // Standard input, one command a line, `!` comments skipped.
    let (code, out, err) = oneshot(
        &run,
        &[],
        "! a comment\nshow ip route | count\nshow zebra json\n",
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("Count: "), "{out}");
    assert!(out.contains("\"uptimeSecs\""), "{out}");
    let (code, _, _) = oneshot(&run, &[], "show zebra\nshow nothing\n");
    assert_ne!(code, Some(0), "a failing stdin command exited 0");

    // show daemons: zebrad up with its uptime; bgpd and ospfd have no
    // socket here, so they are not deployed (no `%` line); the command
    // itself succeeds.
    let (code, out, err) = oneshot(&run, &["-c", "show daemons"], "");
    assert_eq!(code, Some(0), "{out}{err}");
    let zl = out
        .lines()
        .find(|l| l.starts_with("zebrad"))
        .unwrap_or_default();
    assert!(zl.contains(" up ") && zl.contains("zebrad.sock"), "{out}");
    assert!(out.contains("bgpd     not deployed"), "{out}");
    assert!(out.contains("ospfd    not deployed"), "{out}");
    assert!(!out.contains("% "), "{out}");
    // Listed as deployed (`--daemons`, or VTYSH_DAEMONS), they are down and
    // named as such.
    let (code, out, err) = oneshot(
        &run,
        &["--daemons", "zebrad,bgpd,ospfd", "-c", "show daemons"],
        "",
    );
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("% bgpd is not running"), "{out}");
    assert!(out.contains("% ospfd is not running"), "{out}");
    let (code, out, _) = oneshot(&run, &["-c", "show daemons json"], "");
    assert_eq!(code, Some(0));
    let j: serde_json::Value = serde_json::from_str(&out).expect("show daemons json");
    assert_eq!(j["zebrad"]["running"], true, "{j}");
    assert_eq!(j["zebrad"]["deployed"], true, "{j}");
    assert!(j["zebrad"]["uptimeSecs"].is_u64(), "{j}");
    assert_eq!(j["bgpd"]["running"], false, "{j}");
    assert_eq!(j["bgpd"]["deployed"], false, "{j}");
    assert_eq!(j["ospfd"]["running"], false, "{j}");
    assert!(
        j["ospfd"]["socket"]
            .as_str()
            .is_some_and(|s| s.ends_with("ospfd.sock")),
        "{j}"
    );

    // show version: vtysh's, zebrad's from Status.
    let (code, out, _) = oneshot(&run, &["-c", "sh ver"], "");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.starts_with("vtysh "), "{out}");
    assert!(out.contains("zebrad ") && out.contains(", up "), "{out}");
    assert!(out.contains("bgpd is not deployed"), "{out}");
    let (_, out, _) = oneshot(&run, &["-c", "show version json"], "");
    let j: serde_json::Value = serde_json::from_str(&out).expect("show version json");
    assert!(j["vtysh"]["version"].is_string(), "{j}");
    assert!(j["daemons"]["zebrad"]["version"].is_string(), "{j}");
    z.assert_running();
}

/// Configure mode through the terminal: `?` and Tab inside `router bgp`,
/// abbreviations, and completion of live values (the configured
/// neighbor's address, a prefix list's name, an interface) fetched from
/// the running bgpd and zebrad.
#[test]
fn vtysh_configure_mode_completion_and_live_values() {
    let (t, z, run) = start("vtysh_configure_mode_completion_and_live_values");
    let home = t.r1.dir().join("home");
    std::fs::create_dir_all(&home).expect("home");
    let bcfg = t.r1.write_file(
        "bgpd.toml",
        r#"[bgp]
asn = 65001
router_id = "192.0.2.1"

[[prefix_list]]
name = "CUSTOMERS"
entries = [{ seq = 5, action = "permit", prefix = "203.0.113.0/24" }]

[[neighbor]]
address = "192.0.2.2"
remote_as = 65002
"#,
    );
    let (bgpd, cfg, dir) = (
        bin("bgpd").display().to_string(),
        bcfg.display().to_string(),
        run.display().to_string(),
    );
    let b = t.r1.spawn_env(
        "bgpd",
        &[&bgpd, "-f", &cfg, "--run-dir", &dir],
        &[("BGPD_LOG", "info")],
    );
    b.wait_socket(&t.r1.socket("bgpd"), Duration::from_secs(20));

    let s = pty_session(
        t.r1.dir(),
        &home,
        &run,
        &[
            Expect("# "),
            Send("conf t\r"),
            Expect("(config)# "),
            // Abbreviated: `router b`.
            Send("router b 65001\r"),
            Expect("(config-router)# "),
            // `?` lists the words of the mode.
            Send("?"),
            Expect("address-family"),
            // Tab completes the word, then the configured neighbor.
            Send("nei\t"),
            Expect("neighbor "),
            Send("\t"),
            Expect("192.0.2.2 "),
            Send("?"),
            Expect("remote-as"),
            Expect("prefix-list"),
            Send("prefix-l\t"),
            Expect("prefix-list "),
            // The prefix list's name, from bgpd's running configuration.
            Send("\t"),
            Expect("CUSTOMERS "),
            Send("?"),
            Expect("outbound"),
            Send("\x15"),
            // An abbreviated neighbor command, applied at once.
            Send("nei 192.0.2.2 desc set from a pty\r"),
            Expect("(config-router)# "),
            Send("do show running-config bgpd | include description\r"),
            Expect("description = \"set from a pty\""),
            Send("exit\r"),
            Expect("(config)# "),
            // An interface name from zebrad.
            Send("interface et?"),
            Expect("eth0"),
            Expect("eth1"),
            Send("\x15"),
            Send("end\r"),
            Expect("# "),
            // Exec mode: `?` after `show bgp neighbors` offers the address.
            Send("show bgp neighbors ?"),
            Expect("configured neighbor"),
            Send("\x15"),
            Send("exit\r"),
        ],
    );
    let help_at = s.find("configured neighbor").expect("help");
    assert!(
        s[help_at.saturating_sub(200)..help_at].contains("192.0.2.2"),
        "{s}"
    );
    b.assert_running();
    z.assert_running();
}

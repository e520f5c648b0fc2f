//! Running a short command to completion with a deadline: its stdout on
//! success, an error carrying the command line, exit status and stderr on
//! failure. Used for everything the test bed does with `ip` and for
//! `Node::exec`; long-running processes go through `Node::spawn` instead.

use std::fmt;
use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long a command may run before it is killed, unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// A command that could not start, failed, or ran out of time.
#[derive(Debug, Clone)]
pub struct CmdError {
    /// The command line, joined with spaces.
    pub cmd: String,
    /// The exit code; `None` when it did not start, was killed by a signal
    /// or timed out.
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// Why, when it is not a plain non-zero exit (spawn error, timeout).
    pub reason: String,
}

impl fmt::Display for CmdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` ", self.cmd)?;
        match self.status {
            Some(c) => write!(f, "exited with {c}")?,
            None => write!(f, "failed")?,
        }
        if !self.reason.is_empty() {
            write!(f, " ({})", self.reason)?;
        }
        let err = self.stderr.trim();
        if !err.is_empty() {
            write!(f, ": {err}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CmdError {}

/// Run `args[0]` with the rest as arguments; stdout when it exits 0 within
/// `timeout`.
pub fn run_timeout(args: &[&str], timeout: Duration) -> Result<String, CmdError> {
    let cmdline = args.join(" ");
    let fail = |status, stdout: String, stderr: String, reason: String| CmdError {
        cmd: cmdline.clone(),
        status,
        stdout,
        stderr,
        reason,
    };
    let Some((prog, rest)) = args.split_first() else {
        return Err(fail(
            None,
            String::new(),
            String::new(),
            "empty command".into(),
        ));
    };
    let mut child = Command::new(prog)
        .args(rest)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(None, String::new(), String::new(), e.to_string()))?;
    // Drain both pipes on their own threads so a chatty command cannot block
    // on a full pipe while we wait for it.
    let drain = |r: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut s = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut s);
            }
            String::from_utf8_lossy(&s).into_owned()
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + timeout;
    let mut sleep = Duration::from_millis(1);
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Ok(st),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!("timed out after {timeout:?}"));
            }
            Ok(None) => {
                thread::sleep(sleep);
                sleep = (sleep * 2).min(Duration::from_millis(50));
            }
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(e.to_string());
            }
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    match status {
        Ok(st) if st.success() => Ok(stdout),
        Ok(st) => Err(fail(st.code(), stdout, stderr, String::new())),
        Err(reason) => Err(fail(None, stdout, stderr, reason)),
    }
}

/// [`run_timeout`] with [`DEFAULT_TIMEOUT`].
pub fn run(args: &[&str]) -> Result<String, CmdError> {
    run_timeout(args, DEFAULT_TIMEOUT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stdout_and_errors() {
        assert_eq!(run(&["echo", "hi"]).unwrap(), "hi\n");
        let e = run(&["sh", "-c", "echo oops >&2; exit 3"]).unwrap_err();
        assert_eq!(e.status, Some(3));
        assert!(e.to_string().contains("oops"), "{e}");
        let e = run_timeout(&["sleep", "5"], Duration::from_millis(100)).unwrap_err();
        assert!(e.reason.contains("timed out"), "{e}");
        assert!(run(&["/nonexistent/prog"]).is_err());
    }
}

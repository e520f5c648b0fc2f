//! The end of every daemon's `main`: a multi-threaded tokio runtime running
//! the daemon, and its failure reported on stderr (and in the log) with the
//! daemon's name and a non-zero exit status.

use std::future::Future;
use std::process::ExitCode;

/// Runs `daemon` to completion; `Err` becomes exit status 1.
pub fn run<F>(name: &str, daemon: F) -> ExitCode
where
    F: Future<Output = Result<(), String>>,
{
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{name}: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(daemon) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("{name}: {e}");
            ExitCode::FAILURE
        }
    }
}

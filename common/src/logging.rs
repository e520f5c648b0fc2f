//! Logging setup shared by the daemons: `tracing` to stderr (so systemd's
//! journal picks it up), ANSI colours only on a terminal, the level from the
//! daemon's environment variable, else its config, else `info`.

/// Installs the subscriber. `env_var` (e.g. `ZEBRAD_LOG`) wins over
/// `configured`; both take `tracing` filter syntax ("debug", "bgpd=trace").
pub fn init(env_var: &str, configured: Option<&str>) {
    let level = std::env::var(env_var)
        .ok()
        .or_else(|| configured.map(str::to_string))
        .unwrap_or_else(|| "info".into());
    let filter = tracing_subscriber::EnvFilter::try_new(&level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
}

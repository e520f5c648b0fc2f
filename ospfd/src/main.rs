//! ospfd: the OSPFv2 daemon. See the crate docs and `ospfd --help`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use common::running::{ConfigService, RunningConfig};
use ospfd::api::OspfService;
use ospfd::config;
use ospfd::daemon::{self, Daemon};
use proto::config::config_server::ConfigServer;
use proto::ospf::ospf_server::OspfServer;
use proto::transport;
use tokio::sync::mpsc;
use tonic::service::Routes;
use tracing::info;

#[derive(Parser)]
#[command(version, about = "OSPFv2 router (RFC 2328) for the routing suite")]
struct Args {
    /// Configuration file (TOML).
    #[arg(
        short = 'f',
        long = "config",
        default_value = "/etc/routing/ospfd.toml"
    )]
    config: PathBuf,
    /// Directory of the gRPC socket (ospfd.sock), the pid file, and
    /// zebrad's socket.
    #[arg(long, default_value = "/run/routing")]
    run_dir: PathBuf,
    /// Validate the configuration, print what is wrong, and exit.
    #[arg(long)]
    check: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let cfg = match config::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ospfd: {e}");
            return ExitCode::from(2);
        }
    };
    if args.check {
        println!(
            "ospfd: configuration OK (router ID {}, {} areas, {} interfaces)",
            cfg.router_id,
            cfg.areas.len(),
            cfg.interfaces.len()
        );
        return ExitCode::SUCCESS;
    }
    common::logging::init("OSPFD_LOG", cfg.log_level.as_deref());
    common::daemon::run("ospfd", run(args, cfg))
}

async fn run(args: Args, cfg: config::Config) -> Result<(), String> {
    std::fs::create_dir_all(&args.run_dir)
        .map_err(|e| format!("run dir {}: {e}", args.run_dir.display()))?;
    let sock_path = daemon::socket_path(&cfg, &args.run_dir);
    let zebrad = daemon::zebrad_address(&cfg, &args.run_dir);
    let listeners = transport::Listeners::bind(&cfg.api, &sock_path).await?;
    let sockets = listeners.sockets();
    let pid_path = args.run_dir.join("ospfd.pid");
    let _ = std::fs::write(&pid_path, format!("{}\n", std::process::id()));
    let (api_tx, api_rx) = mpsc::channel(64);
    let running = RunningConfig::new(
        "ospfd",
        Some(args.config.clone()),
        std::fs::read_to_string(&args.config).unwrap_or_default(),
    );
    let server = listeners.serve(
        Routes::new(proto::sized_server!(OspfServer::new(OspfService::new(
            api_tx.clone()
        ))))
        .add_service(proto::sized_server!(ConfigServer::new(ConfigService::new(
            api_tx
        )))),
    );
    info!(router_id = %cfg.router_id, socket = %sock_path.display(), %zebrad, "ospfd starting");
    let result = tokio::select! {
        r = Daemon::run(cfg, running, zebrad, api_rx) => r,
        r = server => r,
    };
    for s in sockets {
        let _ = std::fs::remove_file(s);
    }
    let _ = std::fs::remove_file(&pid_path);
    result
}

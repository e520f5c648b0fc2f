//! zebrad: the RIB manager daemon. See the crate docs and `zebrad --help`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use common::running::ConfigService;
use proto::config::config_server::ConfigServer;
use proto::transport;
use proto::zebra::load_balancer_server::LoadBalancerServer;
use proto::zebra::zebra_server::ZebraServer;
use tokio::sync::mpsc;
use tonic::service::Routes;
use tracing::info;
use zebrad::api::ZebraService;
use zebrad::config::{self, Config};
use zebrad::daemon::{Daemon, RibCmd, CMD_QUEUE};

#[derive(Parser)]
#[command(
    version,
    about = "RIB manager: owns the kernel's routes for the routing suite"
)]
struct Args {
    /// Configuration file (TOML); without it, defaults.
    #[arg(short = 'f', long = "config")]
    config: Option<PathBuf>,
    /// Directory of the gRPC socket (zebrad.sock) and pid file.
    #[arg(long, default_value = "/run/routing")]
    run_dir: PathBuf,
    /// Validate the configuration, print what is wrong, and exit.
    #[arg(long)]
    check: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let cfg = match &args.config {
        Some(p) => match config::load(p) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("zebrad: {e}");
                return ExitCode::from(2);
            }
        },
        None => Config::default(),
    };
    if args.check {
        println!(
            "zebrad: configuration OK ({} static routes, {} rules)",
            cfg.statics.len(),
            cfg.rules.len()
        );
        return ExitCode::SUCCESS;
    }
    common::logging::init("ZEBRAD_LOG", cfg.log_level.as_deref());
    common::daemon::run("zebrad", run(args, cfg))
}

async fn run(args: Args, cfg: Config) -> Result<(), String> {
    std::fs::create_dir_all(&args.run_dir)
        .map_err(|e| format!("run dir {}: {e}", args.run_dir.display()))?;
    let sock_path = cfg
        .api
        .socket
        .clone()
        .unwrap_or_else(|| transport::socket_path(&args.run_dir, "zebrad"));
    let api = cfg.api.clone();
    let (daemon, krx, orx) = Daemon::start(cfg, args.config.clone(), Some(args.run_dir.clone()))
        .await
        .map_err(|e| format!("cannot read the kernel: {e}"))?;
    let (ctx, crx) = mpsc::channel::<RibCmd>(CMD_QUEUE);
    let rib_task = tokio::spawn(daemon.run(crx, krx, orx));

    let svc = ZebraService::new(ctx.clone());
    let listeners = transport::Listeners::bind(&api, &sock_path).await?;
    let sockets = listeners.sockets();
    let pid_path = args.run_dir.join("zebrad.pid");
    let _ = std::fs::write(&pid_path, format!("{}\n", std::process::id()));
    info!(socket = %sock_path.display(), "zebrad ready");
    let server = listeners.serve(
        Routes::new(proto::sized_server!(ZebraServer::new(svc.clone())))
            .add_service(proto::sized_server!(LoadBalancerServer::new(svc)))
            .add_service(proto::sized_server!(ConfigServer::new(ConfigService::new(
                ctx.clone()
            )))),
    );
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(|e| e.to_string())?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| e.to_string())?;
    let reloads = async {
        loop {
            hup.recv().await;
            info!("SIGHUP: reloading the configuration");
            if ctx.send(RibCmd::Reload { reply: None }).await.is_err() {
                break;
            }
        }
    };
    let result = tokio::select! {
        r = server => r,
        _ = reloads => Ok(()),
        _ = async {
            term.recv().await;
            info!("SIGTERM: withdrawing anycast services, then stopping; installed routes stay in the kernel");
            zebrad::anycast::stop(&ctx).await;
        } => Ok(()),
        _ = tokio::signal::ctrl_c() => { info!("interrupted; installed routes stay in the kernel"); Ok(()) }
    };
    rib_task.abort();
    for s in sockets {
        let _ = std::fs::remove_file(s);
    }
    let _ = std::fs::remove_file(&pid_path);
    result
}

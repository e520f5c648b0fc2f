//! bgpd: the BGP-4 daemon. See the crate docs and `bgpd --help`.

use std::path::PathBuf;
use std::process::ExitCode;

use bgpd::api::BgpService;
use bgpd::config;
use bgpd::daemon::{Cmd, Daemon, CMD_QUEUE};
use clap::Parser;
use common::running::ConfigService;
use proto::bgp::bgp_server::BgpServer;
use proto::config::config_server::ConfigServer;
use proto::transport;
use tokio::sync::mpsc;
use tonic::service::Routes;
use tracing::info;

#[derive(Parser)]
#[command(version, about = "BGP-4 speaker of the routing suite")]
struct Args {
    /// Configuration file (TOML).
    #[arg(short = 'f', long = "config")]
    config: PathBuf,
    /// Directory of the gRPC sockets (bgpd.sock here; zebrad.sock is looked for here too).
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
            eprintln!("bgpd: {e}");
            return ExitCode::from(2);
        }
    };
    if args.check {
        println!(
            "bgpd: configuration OK (AS {}, {} neighbors)",
            cfg.asn,
            cfg.neighbors.len()
        );
        return ExitCode::SUCCESS;
    }
    common::logging::init("BGPD_LOG", cfg.log_level.as_deref());
    common::daemon::run("bgpd", run(args, cfg))
}

async fn run(args: Args, cfg: config::Config) -> Result<(), String> {
    std::fs::create_dir_all(&args.run_dir)
        .map_err(|e| format!("run dir {}: {e}", args.run_dir.display()))?;
    let api = cfg.api.clone();
    let (daemon, events, zebra) = Daemon::start(cfg, Some(args.config.clone()), &args.run_dir)
        .await
        .map_err(|e| e.to_string())?;
    let (ctx, crx) = mpsc::channel::<Cmd>(CMD_QUEUE);
    let task = tokio::spawn(daemon.run(events, zebra, crx));
    let sock = api
        .socket
        .clone()
        .unwrap_or_else(|| transport::socket_path(&args.run_dir, "bgpd"));
    let listeners = transport::Listeners::bind(&api, &sock).await?;
    let sockets = listeners.sockets();
    let pid = args.run_dir.join("bgpd.pid");
    let _ = std::fs::write(&pid, format!("{}\n", std::process::id()));
    info!(socket = %sock.display(), "bgpd ready");
    let server = listeners.serve(
        Routes::new(proto::sized_server!(BgpServer::new(BgpService::new(
            ctx.clone()
        ))))
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
            if ctx.send(Cmd::Reload).await.is_err() {
                break;
            }
        }
    };
    let r = tokio::select! {
        r = server => r,
        _ = reloads => Ok(()),
        _ = term.recv() => { info!("SIGTERM: stopping"); Ok(()) }
        _ = tokio::signal::ctrl_c() => Ok(()),
    };
    task.abort();
    for s in sockets {
        let _ = std::fs::remove_file(s);
    }
    let _ = std::fs::remove_file(&pid);
    r
}

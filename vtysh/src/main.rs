//! vtysh: the operator's shell for the routing suite. It talks gRPC to the
//! daemons' sockets in `--run-dir` and prints FRR's formats (or JSON).
//!
//! `vtysh -c CMD [-c CMD ...]` runs commands and exits (non-zero if one
//! failed); `vtysh -f FILE` runs the file's commands, and without either
//! it reads commands from standard input, one a line, when that is not a
//! terminal. Configure mode works the same way in all three
//! (`-c 'conf t' -c 'router bgp 65000' -c 'neighbor ...'`).

mod anycast;
mod bgp;
mod bgp_evpn;
mod bgp_policy;
mod command;
mod configure;
mod daemons;
mod deployment;
mod evpn;
mod live;
mod ospf;
mod render;
mod running;
mod shell;

use std::fmt::Write as _;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use command::{Command, Line};
use configure::{Mode, Step};
use proto::transport::{self, Address};
use proto::zebra as pb;
use proto::zebra::zebra_client::ZebraClient;
use tonic::transport::Channel;

#[derive(Parser)]
#[command(version, about = "The routing suite's shell")]
struct Args {
    /// A command to run (repeatable); without any, commands are read from stdin.
    #[arg(short = 'c', long = "command")]
    commands: Vec<String>,
    /// Run the commands in FILE (one a line; `!` and `#` start comments).
    #[arg(short = 'f', long = "file", conflicts_with = "commands")]
    file: Option<PathBuf>,
    /// Directory of the daemons' sockets.
    #[arg(long, default_value = "/run/routing")]
    run_dir: PathBuf,
    /// zebrad's address, when not `<run-dir>/zebrad.sock` (a path or host:port).
    #[arg(long)]
    zebrad: Option<String>,
    /// The daemons deployed on this host (as FRR's /etc/frr/daemons):
    /// commands for every daemon ask these, and a listed daemon that does
    /// not answer is an error. Without it: zebrad, and bgpd and ospfd when
    /// their socket exists in the run directory.
    #[arg(long, env = "VTYSH_DAEMONS", value_delimiter = ',', value_parser = deployment::parse_daemon)]
    daemons: Option<Vec<configure::Daemon>>,
}

struct Shell {
    run_dir: PathBuf,
    zebrad_addr: Address,
    /// `--daemons`, when given.
    listed: Option<Vec<configure::Daemon>>,
    zebrad: Option<ZebraClient<Channel>>,
    /// Exec or one of the configure modes (shared with the line editor's
    /// completion).
    mode: std::sync::Arc<std::sync::Mutex<Mode>>,
    /// A new anycast service being built line by line: zebrad's text with
    /// it, held here until the service is complete (a prefix and a check)
    /// and zebrad takes it; the daemon's last refusal beside it.
    pending: Option<(String, String)>,
}

impl Shell {
    async fn zebra(&mut self) -> Result<&mut ZebraClient<Channel>, String> {
        if self.zebrad.is_none() {
            let ch = transport::connect(&self.zebrad_addr).await.map_err(|e| {
                format!(
                    "% zebrad is not running (cannot connect to {}): {e}",
                    self.zebrad_addr
                )
            })?;
            self.zebrad =
                Some(ZebraClient::new(ch).max_decoding_message_size(transport::MAX_MESSAGE_SIZE));
        }
        self.zebrad
            .as_mut()
            .ok_or_else(|| "% zebrad is not connected".to_string())
    }

    async fn run(&mut self, text: &str) -> Result<String, String> {
        let Line { cmd, json } = command::parse(text)?;
        let to_text =
            |v: serde_json::Value| serde_json::to_string_pretty(&v).unwrap_or_default() + "\n";
        let st = |e: tonic::Status| format!("% zebrad: {}", e.message());
        match cmd {
            Command::Help => Ok(command::HELP
                .iter()
                .map(|(c, h)| format!("  {c:<50} {h}\n"))
                .collect()),
            Command::ShowRoute { v6, table, prefix } => {
                let req = pb::ShowRoutesRequest {
                    family: if v6 {
                        pb::AddressFamily::Ipv6
                    } else {
                        pb::AddressFamily::Ipv4
                    } as i32,
                    table: table.unwrap_or(0),
                    prefix: prefix.map(|(p, _)| proto::prefix_to_wire(p)),
                    longest: prefix.is_some_and(|(_, l)| l),
                    all_tables: false,
                };
                let r = self
                    .zebra()
                    .await?
                    .show_routes(req)
                    .await
                    .map_err(st)?
                    .into_inner();
                if json {
                    Ok(to_text(render::routes_json(&r)))
                } else if prefix.is_some() && r.routes.is_empty() {
                    Err("% Network not in table".into())
                } else {
                    Ok(render::routes(&r, table))
                }
            }
            Command::ShowInterface { name } => {
                let r = self
                    .zebra()
                    .await?
                    .list_interfaces(pb::InterfaceRequest {})
                    .await
                    .map_err(st)?
                    .into_inner();
                let list: Vec<pb::Interface> = r
                    .interfaces
                    .into_iter()
                    .filter(|i| name.as_ref().is_none_or(|n| *n == i.name))
                    .collect();
                if let (Some(n), true) = (&name, list.is_empty()) {
                    return Err(format!("% Can't find interface {n}"));
                }
                Ok(if json {
                    to_text(render::interfaces_json(&list))
                } else {
                    render::interfaces(&list)
                })
            }
            Command::ShowRule => {
                let r = self
                    .zebra()
                    .await?
                    .show_rules(pb::ShowRulesRequest {})
                    .await
                    .map_err(st)?
                    .into_inner();
                Ok(if json {
                    to_text(render::rules_json(&r))
                } else {
                    render::rules(&r)
                })
            }
            Command::Bgp(b) => {
                let addr = Address::Unix(transport::socket_path(&self.run_dir, "bgpd"));
                bgp::run(&b, json, &addr).await
            }
            Command::Ospf(o) => ospf::run(&o, json, &self.run_dir).await,
            Command::Policy(p) => {
                let addr = Address::Unix(transport::socket_path(&self.run_dir, "bgpd"));
                bgp_policy::run(&p, json, &addr).await
            }
            Command::ShowAnycast { name } => {
                let one = name.is_some();
                let r = self
                    .zebra()
                    .await?
                    .show_services(pb::ShowServicesRequest {
                        name: name.clone().unwrap_or_default(),
                    })
                    .await
                    .map_err(st)?
                    .into_inner();
                if let (Some(n), true) = (&name, r.services.is_empty()) {
                    return Err(format!("% No anycast service {n}"));
                }
                Ok(if json {
                    to_text(anycast::json(&r))
                } else if one {
                    anycast::detail(&r)
                } else {
                    anycast::summary(&r)
                })
            }
            Command::AnycastDrain { name, on } => {
                let ch = transport::connect(&self.zebrad_addr).await.map_err(|e| {
                    format!(
                        "% zebrad is not running (cannot connect to {}): {e}",
                        self.zebrad_addr
                    )
                })?;
                let s = anycast::drain(ch, &name, on).await?;
                Ok(if json {
                    to_text(anycast::service_json(&s))
                } else {
                    anycast::drained(&s)
                })
            }
            Command::Evpn(e) => {
                let r = self
                    .zebra()
                    .await?
                    .show_evpn(e.request())
                    .await
                    .map_err(st)?
                    .into_inner();
                let vni = match e {
                    evpn::EvpnCmd::Vni(v) => v,
                    evpn::EvpnCmd::Mac(v) | evpn::EvpnCmd::ArpCache(v) => Some(v),
                };
                if let (Some(v), true) = (vni, r.vnis.is_empty()) {
                    return Err(format!("% VNI {v} does not exist"));
                }
                Ok(match (e, json) {
                    (evpn::EvpnCmd::Vni(v), true) => to_text(evpn::vni_json(&r, v.is_some())),
                    (evpn::EvpnCmd::Vni(v), false) => evpn::vni(&r, v.is_some()),
                    (evpn::EvpnCmd::Mac(_), true) => to_text(evpn::macs_json(&r)),
                    (evpn::EvpnCmd::Mac(_), false) => evpn::macs(&r),
                    (evpn::EvpnCmd::ArpCache(_), true) => to_text(evpn::arp_cache_json(&r)),
                    (evpn::EvpnCmd::ArpCache(_), false) => evpn::arp_cache(&r),
                })
            }
            Command::ShowVersion | Command::ShowDaemons => {
                let list = daemons::probe_all(&self.sockets()).await;
                let host = hostname();
                Ok(match (cmd, json) {
                    (Command::ShowVersion, true) => to_text(daemons::version_json(&list, &host)),
                    (Command::ShowVersion, false) => daemons::version(&list, &host),
                    (_, true) => to_text(daemons::daemons_json(&list)),
                    (_, false) => daemons::daemons(&list),
                })
            }
            Command::ShowRunning { daemon, diff } => Ok(if diff {
                running::diff(&self.sockets()).await
            } else {
                running::show(&self.sockets(), daemon.as_deref(), json).await
            }),
            Command::ShowLogging { daemon } => {
                Ok(running::logging(&self.sockets(), daemon.as_deref(), json).await)
            }
            Command::Write => running::write(&self.sockets()).await,
            Command::Configure => {
                self.set_mode(Mode::Config);
                Ok(String::new())
            }
            Command::ShowNexthopGroups => {
                let r = self
                    .zebra()
                    .await?
                    .show_nexthop_groups(pb::ShowNexthopGroupsRequest {})
                    .await
                    .map_err(st)?
                    .into_inner();
                Ok(if json {
                    to_text(render::nexthop_groups_json(&r))
                } else {
                    render::nexthop_groups(&r)
                })
            }
            Command::ShowZebra => {
                let r = self
                    .zebra()
                    .await?
                    .status(pb::StatusRequest {})
                    .await
                    .map_err(st)?
                    .into_inner();
                Ok(if json {
                    to_text(render::status_json(&r))
                } else {
                    render::status(&r)
                })
            }
        }
    }
}

impl Shell {
    /// One line with its output filters.
    async fn run_line(&mut self, line: &str) -> Result<String, String> {
        let (cmd, filters) = shell::split_filters(line)?;
        let out = if self.mode() == Mode::Exec {
            self.run(&cmd).await?
        } else {
            self.configure(&cmd).await?
        };
        Ok(shell::apply_filters(out, &filters))
    }

    fn mode(&self) -> Mode {
        self.mode.lock().map(|m| m.clone()).unwrap_or(Mode::Exec)
    }

    fn set_mode(&self, mode: Mode) {
        if let Ok(mut m) = self.mode.lock() {
            *m = mode;
        }
    }

    fn sockets(&self) -> deployment::Sockets {
        deployment::Sockets {
            zebrad: self.zebrad_addr.clone(),
            run_dir: self.run_dir.clone(),
            listed: self.listed.clone(),
        }
    }

    /// A line in a configure mode: `end`, `exit`, `do CMD`, `write`, or a
    /// configuration command applied at once to the daemon it concerns.
    async fn configure(&mut self, line: &str) -> Result<String, String> {
        let mode = self.mode();
        let words: Vec<&str> = line.split_whitespace().collect();
        let first = words
            .first()
            .map(|w| w.to_ascii_lowercase())
            .unwrap_or_default();
        match first.as_str() {
            "end" => {
                self.set_mode(Mode::Exec);
                return self.drop_pending();
            }
            "exit" | "quit" => {
                self.set_mode(mode.up());
                return self.drop_pending();
            }
            "do" => return self.run(&words[1..].join(" ")).await,
            w if "write".starts_with(w) && w.len() >= 2 => return self.run(line).await,
            _ => {}
        }
        let (next, ops) = match configure::parse(&mode, line)? {
            Step::Enter(m, ops) => (Some(m), ops),
            Step::Edit(ops) => (None, ops),
        };
        if next.is_some() && self.pending.is_some() {
            return self.drop_pending();
        }
        let mut out = String::new();
        // A line for several daemons (`log level LEVEL`) goes to the
        // deployed ones; a line for one daemon goes to it.
        let sockets = self.sockets();
        let several = configure::Daemon::ALL
            .iter()
            .filter(|d| ops.iter().any(|(x, _)| x == *d))
            .count()
            > 1;
        let targets = if several {
            sockets.deployed()
        } else {
            configure::Daemon::ALL.to_vec()
        };
        for d in targets {
            let mine: Vec<&configure::Op> = ops
                .iter()
                .filter(|(x, _)| *x == d)
                .map(|(_, op)| op)
                .collect();
            if mine.is_empty() {
                continue;
            }
            let current = running::get(&sockets, d).await?;
            // A service being built goes on from its held text.
            let (base, building) = match (&self.pending, &mode) {
                (Some((text, _)), Mode::AnycastService(_)) if d == configure::Daemon::Zebrad => {
                    (text.clone(), true)
                }
                _ => (current.text.clone(), false),
            };
            let mut doc: toml_edit::DocumentMut = base.parse().map_err(|e| {
                format!("% {}'s running configuration does not parse: {e}", d.name())
            })?;
            for op in mine {
                configure::apply(&mut doc, op)?;
            }
            let text = doc.to_string();
            if text == current.text {
                self.pending = None;
                continue;
            }
            match running::apply(&sockets, d, text.clone()).await {
                Ok(changes) => {
                    self.pending = None;
                    for c in changes {
                        if c.contains("restart") {
                            let _ = writeln!(out, "% {}: {c}", d.name());
                        }
                    }
                }
                // A new service is incomplete until it has a prefix and a
                // check: held, applied with the line that completes it.
                Err(e) if building || new_service(&mode, &current.text) => {
                    self.pending = Some((text, e));
                }
                Err(e) => return Err(e),
            }
        }
        if let Some(m) = next {
            self.set_mode(m);
        }
        Ok(out)
    }

    /// Leaving a service that never became complete: say so, drop it.
    fn drop_pending(&mut self) -> Result<String, String> {
        match self.pending.take() {
            Some((_, e)) => Err(format!("{e}\n% The anycast service was not applied")),
            None => Ok(String::new()),
        }
    }
}

/// Whether `mode` is a service that zebrad's running text lacks.
fn new_service(mode: &Mode, running: &str) -> bool {
    let Mode::AnycastService(name) = mode else {
        return false;
    };
    let Ok(doc) = running.parse::<toml_edit::DocumentMut>() else {
        return false;
    };
    !doc.get("service")
        .and_then(|s| s.as_array_of_tables())
        .is_some_and(|a| {
            a.iter()
                .any(|t| t.get("name").and_then(|n| n.as_str()) == Some(name.as_str()))
        })
}

/// Shows long output through a pager when interactive, as FRR's vtysh does.
fn page(text: &str) {
    use std::io::Write;
    let rows = std::env::var("LINES")
        .ok()
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(40);
    if text.lines().count() + 1 < rows {
        print!("{text}");
        return;
    }
    let pager = std::env::var("PAGER").unwrap_or_else(|_| "less -FRX".into());
    let mut words = pager.split_whitespace();
    let spawned = words.next().and_then(|prog| {
        std::process::Command::new(prog)
            .args(words)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .ok()
    });
    match spawned {
        Some(mut child) => {
            if let Some(mut stdin) = child.stdin.take() {
                let _ = stdin.write_all(text.as_bytes());
            }
            let _ = child.wait();
        }
        None => print!("{text}"),
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "router".into())
}

/// The interactive loop.
async fn interactive(shell: &mut Shell) {
    // List completion, as FRR and bash: a single candidate completes at
    // once, several complete their common part and a second Tab lists them.
    let config = rustyline::Config::builder()
        .auto_add_history(false)
        .completion_type(rustyline::CompletionType::List)
        .build();
    let mut rl: rustyline::Editor<shell::ShellHelper, rustyline::history::DefaultHistory> =
        match rustyline::Editor::with_config(config) {
            Ok(rl) => rl,
            Err(e) => {
                eprintln!("vtysh: cannot start the line editor: {e}");
                return;
            }
        };
    let values = std::sync::Arc::new(live::Values::new(shell.sockets()));
    rl.set_helper(Some(shell::ShellHelper {
        mode: shell.mode.clone(),
        values: values.clone(),
    }));
    let question = shell::QuestionMark::default();
    rl.bind_sequence(
        rustyline::KeyEvent::from('?'),
        rustyline::EventHandler::Conditional(Box::new(question.clone())),
    );
    let history = std::env::var("HOME")
        .map(|h| PathBuf::from(h).join(".vtysh_history"))
        .unwrap_or_else(|_| PathBuf::from(".vtysh_history"));
    let _ = rl.load_history(&history);
    let host = hostname();
    let mut initial: Option<(String, String)> = None;
    loop {
        let mode = shell.mode();
        let prompt = format!("{host}{}", mode.prompt());
        let read = match initial.take() {
            None => rl.readline(&prompt),
            Some((left, right)) => rl.readline_with_initial(&prompt, (&left, &right)),
        };
        let line = match read {
            Ok(l) => l,
            Err(rustyline::error::ReadlineError::Interrupted) => continue,
            Err(_) => break,
        };
        // `?` typed at the prompt: help for the words before the cursor,
        // then the same line again.
        if let Some((left, right)) = question.take() {
            print!(
                "{}",
                shell::help_for(&mode, &format!("{left}?"), Some(&values))
            );
            initial = Some((left, right));
            continue;
        }
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        // `show ?` pasted or typed where the key binding does not apply.
        if t.ends_with('?') && !t.contains('|') {
            print!("{}", shell::help_for(&mode, &line, Some(&values)));
            initial = Some((line.trim_end_matches('?').to_string(), String::new()));
            continue;
        }
        if mode == Mode::Exec && matches!(t, "exit" | "quit" | "end") {
            break;
        }
        let _ = rl.add_history_entry(t);
        match shell.run_line(t).await {
            Ok(out) => page(&out),
            Err(e) => eprintln!("{e}"),
        }
        // Saved after each command, so a killed shell keeps its history.
        let _ = rl.save_history(&history);
    }
    let _ = rl.save_history(&history);
}

fn main() -> ExitCode {
    let args = Args::parse();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("vtysh: {e}");
            return ExitCode::FAILURE;
        }
    };
    let zebrad_addr = args
        .zebrad
        .as_deref()
        .map(Address::parse)
        .unwrap_or_else(|| Address::Unix(transport::socket_path(&args.run_dir, "zebrad")));
    let mut shell = Shell {
        run_dir: args.run_dir.clone(),
        zebrad_addr,
        listed: args.daemons.clone(),
        zebrad: None,
        mode: Default::default(),
        pending: None,
    };
    if args.commands.is_empty()
        && args.file.is_none()
        && std::io::IsTerminal::is_terminal(&std::io::stdin())
    {
        rt.block_on(interactive(&mut shell));
        return ExitCode::SUCCESS;
    }
    let command_line = |l: &String| {
        let t = l.trim_start();
        !t.is_empty() && !t.starts_with('!') && !t.starts_with('#')
    };
    let commands: Vec<String> = if let Some(f) = &args.file {
        match std::fs::read_to_string(f) {
            Ok(text) => text
                .lines()
                .map(str::to_string)
                .filter(command_line)
                .collect(),
            Err(e) => {
                eprintln!("vtysh: {}: {e}", f.display());
                return ExitCode::FAILURE;
            }
        }
    } else if args.commands.is_empty() {
        std::io::stdin()
            .lock()
            .lines()
            .map_while(Result::ok)
            .filter(command_line)
            .collect()
    } else {
        args.commands
    };
    let mut failed = false;
    rt.block_on(async {
        for c in &commands {
            match shell.run_line(c).await {
                Ok(out) => print!("{out}"),
                Err(e) => {
                    eprintln!("{e}");
                    failed = true;
                }
            }
        }
    });
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

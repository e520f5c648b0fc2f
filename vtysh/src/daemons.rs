//! `show version` and `show daemons`: which daemons answer on their sockets,
//! since when, and which version they run.
//!
//! Each daemon is asked on its own, with a time limit, so one that is down
//! (or hung) is named as such and never hides the others. What each daemon
//! tells: zebrad's `Status` gives its version and uptime, ospfd's `Summary`
//! its uptime; bgpd's `Neighbors` only that it answers. A daemon not
//! deployed on this host ([`crate::deployment`]) is not asked and shows as
//! such.
//!
//! JSON schema (stable; fields are absent-free, unknowns are `null`):
//!
//! `show daemons json`:
//! `{"<daemon>": {"deployed": bool, "running": bool, "socket": str,
//!   "uptimeSecs": int|null,
//!   "uptime": str|null, "version": str|null, "error": str|null}, ...}`
//! for `zebrad`, `bgpd` and `ospfd`.
//!
//! `show version json`:
//! `{"vtysh": {"version": str, "hostname": str}, "daemons": <as above>}`.

use std::fmt::Write as _;
use std::time::Duration;

use proto::bgp::bgp_client::BgpClient;
use proto::ospf::ospf_client::OspfClient;
use proto::transport::{self, Address};
use proto::zebra::zebra_client::ZebraClient;
use serde_json::{json, Map, Value};

use crate::configure::Daemon;
use crate::deployment::{Reach, Sockets};
use crate::render::age;

/// How long one daemon gets to answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// What one daemon told us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonState {
    pub name: &'static str,
    pub socket: String,
    /// Deployed on this host (see [`crate::deployment`]).
    pub deployed: bool,
    /// The socket answered the RPC.
    pub running: bool,
    pub version: Option<String>,
    pub uptime_secs: Option<u64>,
    /// Why it is not running (connection refused, no socket, timeout, ...).
    pub error: Option<String>,
}

impl DaemonState {
    fn down(name: &'static str, addr: &Address, error: String) -> DaemonState {
        DaemonState {
            name,
            socket: socket_name(addr),
            deployed: true,
            running: false,
            version: None,
            uptime_secs: None,
            error: Some(error),
        }
    }

    fn not_deployed(name: &'static str, addr: &Address, why: String) -> DaemonState {
        DaemonState {
            deployed: false,
            ..DaemonState::down(name, addr, why)
        }
    }

    fn up(
        name: &'static str,
        addr: &Address,
        version: Option<String>,
        uptime: Option<u64>,
    ) -> DaemonState {
        DaemonState {
            name,
            socket: socket_name(addr),
            deployed: true,
            running: true,
            version: version.filter(|v| !v.is_empty()),
            uptime_secs: uptime,
            error: None,
        }
    }
}

/// A Unix socket as its path (what an operator looks for with `ls`), a TCP
/// address as `tcp://host:port`.
fn socket_name(addr: &Address) -> String {
    match addr {
        Address::Unix(p) => p.display().to_string(),
        Address::Tcp(_) => addr.to_string(),
    }
}

async fn bounded<T, F>(f: F) -> Result<T, String>
where
    F: std::future::Future<Output = Result<T, String>>,
{
    tokio::time::timeout(PROBE_TIMEOUT, f)
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {}s", PROBE_TIMEOUT.as_secs())))
}

async fn probe_zebrad(addr: &Address) -> DaemonState {
    let r = bounded(async {
        let ch = transport::connect(addr)
            .await
            .map_err(|e| connect_error(&e))?;
        ZebraClient::new(ch)
            .status(proto::zebra::StatusRequest {})
            .await
            .map(|r| r.into_inner())
            .map_err(|e| e.message().to_string())
    })
    .await;
    match r {
        Ok(s) => DaemonState::up("zebrad", addr, Some(s.version), Some(s.uptime_secs)),
        Err(e) => DaemonState::down("zebrad", addr, e),
    }
}

async fn probe_bgpd(addr: &Address) -> DaemonState {
    let r = bounded(async {
        let ch = transport::connect(addr)
            .await
            .map_err(|e| connect_error(&e))?;
        BgpClient::new(ch)
            .max_decoding_message_size(transport::MAX_MESSAGE_SIZE)
            .neighbors(proto::bgp::NeighborsRequest::default())
            .await
            .map(|_| ())
            .map_err(|e| e.message().to_string())
    })
    .await;
    match r {
        Ok(()) => DaemonState::up("bgpd", addr, None, None),
        Err(e) => DaemonState::down("bgpd", addr, e),
    }
}

async fn probe_ospfd(addr: &Address) -> DaemonState {
    let r = bounded(async {
        let ch = transport::connect(addr)
            .await
            .map_err(|e| connect_error(&e))?;
        OspfClient::new(ch)
            .max_decoding_message_size(transport::MAX_MESSAGE_SIZE)
            .summary(proto::ospf::SummaryRequest {})
            .await
            .map(|r| r.into_inner())
            .map_err(|e| e.message().to_string())
    })
    .await;
    match r {
        Ok(s) => DaemonState::up("ospfd", addr, None, Some(s.uptime_secs)),
        Err(e) => DaemonState::down("ospfd", addr, e),
    }
}

/// The innermost cause of a connection error ("No such file or directory",
/// "Connection refused"), not tonic's generic "transport error".
pub(crate) fn connect_error(e: &dyn std::error::Error) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// Asks every deployed daemon at once, each at its socket; the others are
/// listed as not deployed.
pub async fn probe_all(s: &Sockets) -> Vec<DaemonState> {
    let probe = |d: Daemon| async move {
        let addr = s.of(d);
        match (s.reach(d), d) {
            (Reach::NotDeployed(why), _) => DaemonState::not_deployed(d.name(), &addr, why),
            (Reach::Ask, Daemon::Zebrad) => probe_zebrad(&addr).await,
            (Reach::Ask, Daemon::Bgpd) => probe_bgpd(&addr).await,
            (Reach::Ask, Daemon::Ospfd) => probe_ospfd(&addr).await,
        }
    };
    let (z, b, o) = tokio::join!(
        probe(Daemon::Zebrad),
        probe(Daemon::Bgpd),
        probe(Daemon::Ospfd)
    );
    vec![z, b, o]
}

/// A daemon's state as `show daemons` words it.
fn state(d: &DaemonState) -> &'static str {
    match (d.deployed, d.running) {
        (false, _) => "not deployed",
        (true, true) => "up",
        (true, false) => "not running",
    }
}

/// `show daemons`.
pub fn daemons(list: &[DaemonState]) -> String {
    let mut out = format!(
        "{:<8} {:<12} {:<10} {}\n",
        "Daemon", "State", "Uptime", "Socket"
    );
    for d in list {
        let _ = writeln!(
            out,
            "{:<8} {:<12} {:<10} {}",
            d.name,
            state(d),
            d.uptime_secs.map(age).unwrap_or_else(|| "-".into()),
            d.socket
        );
    }
    let down: Vec<&DaemonState> = list.iter().filter(|d| d.deployed && !d.running).collect();
    if !down.is_empty() {
        out.push('\n');
        for d in down {
            let _ = writeln!(
                out,
                "% {} is not running ({}: {})",
                d.name,
                d.socket,
                d.error.as_deref().unwrap_or("no answer")
            );
        }
    }
    out
}

/// `show daemons json`.
pub fn daemons_json(list: &[DaemonState]) -> Value {
    let mut m = Map::new();
    for d in list {
        m.insert(
            d.name.to_string(),
            json!({
                "deployed": d.deployed,
                "running": d.running,
                "socket": d.socket,
                "uptimeSecs": d.uptime_secs,
                "uptime": d.uptime_secs.map(age),
                "version": d.version,
                "error": d.error,
            }),
        );
    }
    Value::Object(m)
}

/// vtysh's own version.
pub fn own_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// `show version`, FRR-like: the shell's version on the first line, then
/// each daemon.
pub fn version(list: &[DaemonState], hostname: &str) -> String {
    let mut out = format!(
        "vtysh {} ({hostname}) on {}.\nRouting suite: zebrad, bgpd, ospfd.\n\n",
        own_version(),
        std::env::consts::OS
    );
    for d in list {
        let line = match (d.running, &d.version) {
            (true, Some(v)) => format!("{} {v}, up {}", d.name, uptime(d)),
            (true, None) => format!("{} running", d.name),
            (false, _) => format!("{} is {}", d.name, state(d)),
        };
        let _ = writeln!(out, "  {line:<40} {}", d.socket);
    }
    out
}

fn uptime(d: &DaemonState) -> String {
    d.uptime_secs.map(age).unwrap_or_else(|| "-".into())
}

/// `show version json`.
pub fn version_json(list: &[DaemonState], hostname: &str) -> Value {
    json!({
        "vtysh": {"version": own_version(), "hostname": hostname},
        "daemons": daemons_json(list),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn sample() -> Vec<DaemonState> {
        let a = |n: &str| Address::Unix(PathBuf::from(format!("/run/routing/{n}.sock")));
        vec![
            DaemonState::up("zebrad", &a("zebrad"), Some("0.1.0".into()), Some(62)),
            DaemonState::up("bgpd", &a("bgpd"), None, None),
            DaemonState::down("ospfd", &a("ospfd"), "Connection refused".into()),
        ]
    }

    #[test]
    fn a_daemon_not_deployed_is_no_failure() {
        let a = Address::Unix(PathBuf::from("/run/routing/ospfd.sock"));
        let mut list = sample();
        list[2] = DaemonState::not_deployed("ospfd", &a, "no socket at x".into());
        let t = daemons(&list);
        assert!(t.contains("ospfd    not deployed"), "{t}");
        assert!(!t.contains("% ospfd"), "{t}");
        assert!(version(&list, "r1").contains("ospfd is not deployed"));
        let j = daemons_json(&list);
        assert_eq!(j["ospfd"]["deployed"], false);
        assert_eq!(j["ospfd"]["running"], false);
        assert_eq!(j["bgpd"]["deployed"], true);
    }

    #[test]
    fn daemons_table_names_the_one_down() {
        let t = daemons(&sample());
        assert!(t.contains("zebrad   up           00:01:02"), "{t}");
        assert!(t.contains("bgpd     up           -"), "{t}");
        assert!(t.contains("ospfd    not running"), "{t}");
        assert!(
            t.contains("% ospfd is not running (/run/routing/ospfd.sock: Connection refused)"),
            "{t}"
        );
        let j = daemons_json(&sample());
        assert_eq!(j["zebrad"]["running"], true);
        assert_eq!(j["zebrad"]["uptimeSecs"], 62);
        assert_eq!(j["zebrad"]["version"], "0.1.0");
        assert_eq!(j["bgpd"]["uptimeSecs"], Value::Null);
        assert_eq!(j["ospfd"]["running"], false);
        assert_eq!(j["ospfd"]["error"], "Connection refused");
    }

    #[test]
    fn version_lists_each_daemon() {
        let t = version(&sample(), "r1");
        assert!(
            t.starts_with(&format!("vtysh {} (r1)", own_version())),
            "{t}"
        );
        assert!(t.contains("zebrad 0.1.0, up 00:01:02"), "{t}");
        assert!(t.contains("bgpd running"), "{t}");
        assert!(t.contains("ospfd is not running"), "{t}");
        let j = version_json(&sample(), "r1");
        assert_eq!(j["vtysh"]["version"], own_version());
        assert_eq!(j["daemons"]["zebrad"]["version"], "0.1.0");
    }

    #[tokio::test]
    async fn probing_missing_sockets_says_not_running() {
        let dir = std::env::temp_dir().join(format!("vtysh-probe-{}", std::process::id()));
        let s = Sockets {
            zebrad: Address::Unix(dir.join("zebrad.sock")),
            run_dir: dir.clone(),
            listed: Some(Daemon::ALL.to_vec()),
        };
        let list = probe_all(&s).await;
        assert_eq!(list.len(), 3);
        assert!(
            list.iter()
                .all(|d| d.deployed && !d.running && d.error.is_some()),
            "{list:?}"
        );
        // Without the list, only zebrad (always deployed) is down.
        let list = probe_all(&Sockets { listed: None, ..s }).await;
        assert_eq!(
            list.iter().map(|d| d.deployed).collect::<Vec<_>>(),
            vec![true, false, false]
        );
        assert_eq!(
            list.iter().map(|d| d.name).collect::<Vec<_>>(),
            vec!["zebrad", "bgpd", "ospfd"]
        );
    }
}

//! Which daemons this host runs, and where each one listens: the one place
//! the commands that go to every daemon (`write memory`, `show
//! running-config`, `show running-config diff`, `show logging`, `show
//! daemons`, `show version`, `log level` without a daemon) learn whom to
//! ask.
//!
//! FRR's vtysh talks only to the daemons enabled in `/etc/frr/daemons`.
//! Ours takes the list from `--daemons` (or `VTYSH_DAEMONS`) when given;
//! otherwise zebrad is deployed (every other daemon needs it) and bgpd and
//! ospfd are deployed when their socket exists in the run directory. A
//! daemon creates its socket at start and removes it when it stops
//! cleanly; a crashed or killed one leaves it, so it counts as deployed
//! and down. A deployed daemon that does not answer is an error naming it;
//! one not deployed is left out, and said so where it matters. A daemon
//! named on the command line (`show running-config ospfd`) is always asked.

use std::path::PathBuf;

use proto::transport::{self, Address};

use crate::configure::Daemon;

/// Where each daemon listens, and which ones are deployed.
#[derive(Debug, Clone)]
pub struct Sockets {
    pub zebrad: Address,
    pub run_dir: PathBuf,
    /// `--daemons`: the deployed daemons, when the operator listed them.
    pub listed: Option<Vec<Daemon>>,
}

/// Whether a command that goes to every daemon asks this one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Deployed (or named by the operator): asked, and named if it fails.
    Ask,
    /// Not deployed here, with the reason (the missing socket, or the list
    /// it is not in).
    NotDeployed(String),
}

impl Sockets {
    pub fn of(&self, d: Daemon) -> Address {
        match d {
            Daemon::Zebrad => self.zebrad.clone(),
            _ => Address::Unix(transport::socket_path(&self.run_dir, d.name())),
        }
    }

    /// Whether `d` is deployed on this host.
    pub fn reach(&self, d: Daemon) -> Reach {
        if let Some(list) = &self.listed {
            return if list.contains(&d) {
                Reach::Ask
            } else {
                let names: Vec<&str> = list.iter().map(|d| d.name()).collect();
                Reach::NotDeployed(format!("not in --daemons {}", names.join(",")))
            };
        }
        match (d, self.of(d)) {
            (Daemon::Zebrad, _) | (_, Address::Tcp(_)) => Reach::Ask,
            (_, Address::Unix(p)) => {
                if std::fs::symlink_metadata(&p).is_ok() {
                    Reach::Ask
                } else {
                    Reach::NotDeployed(format!("no socket at {}", p.display()))
                }
            }
        }
    }

    /// The daemons a command talks to: the one named, or every daemon with
    /// whether it is deployed.
    pub fn plan(&self, named: Option<Daemon>) -> Vec<(Daemon, Reach)> {
        match named {
            Some(d) => vec![(d, Reach::Ask)],
            None => Daemon::ALL
                .into_iter()
                .map(|d| (d, self.reach(d)))
                .collect(),
        }
    }

    /// The daemons of `plan(None)` that are asked.
    pub fn deployed(&self) -> Vec<Daemon> {
        self.plan(None)
            .into_iter()
            .filter(|(_, r)| *r == Reach::Ask)
            .map(|(d, _)| d)
            .collect()
    }
}

/// `--daemons zebrad,bgpd`: one name of the list.
pub fn parse_daemon(s: &str) -> Result<Daemon, String> {
    Daemon::from_name(s.trim()).ok_or_else(|| format!("unknown daemon {s} (zebrad, bgpd, ospfd)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("vtysh-deploy-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn sockets(run_dir: &std::path::Path, listed: Option<Vec<Daemon>>) -> Sockets {
        Sockets {
            zebrad: Address::Unix(run_dir.join("zebrad.sock")),
            run_dir: run_dir.to_path_buf(),
            listed,
        }
    }

    #[test]
    fn a_daemon_is_deployed_when_its_socket_exists() {
        let d = dir("socket");
        std::fs::write(d.join("bgpd.sock"), "").unwrap();
        let s = sockets(&d, None);
        // zebrad always, even before its socket is there.
        assert_eq!(s.reach(Daemon::Zebrad), Reach::Ask);
        assert_eq!(s.reach(Daemon::Bgpd), Reach::Ask);
        assert_eq!(
            s.reach(Daemon::Ospfd),
            Reach::NotDeployed(format!("no socket at {}", d.join("ospfd.sock").display()))
        );
        assert_eq!(s.deployed(), vec![Daemon::Zebrad, Daemon::Bgpd]);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn the_list_wins_over_the_sockets() {
        let d = dir("list");
        std::fs::write(d.join("ospfd.sock"), "").unwrap();
        let s = sockets(&d, Some(vec![Daemon::Zebrad, Daemon::Bgpd]));
        // bgpd listed without a socket: deployed, so asked (and named when
        // it does not answer); ospfd's socket does not make it deployed.
        assert_eq!(s.deployed(), vec![Daemon::Zebrad, Daemon::Bgpd]);
        assert_eq!(
            s.reach(Daemon::Ospfd),
            Reach::NotDeployed("not in --daemons zebrad,bgpd".into())
        );
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn a_named_daemon_is_always_asked() {
        let d = dir("named");
        let s = sockets(&d, None);
        assert_eq!(
            s.plan(Some(Daemon::Ospfd)),
            vec![(Daemon::Ospfd, Reach::Ask)]
        );
        assert_eq!(s.plan(None).len(), 3);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn daemon_names_are_checked() {
        assert_eq!(parse_daemon("bgpd"), Ok(Daemon::Bgpd));
        assert!(parse_daemon("ripd")
            .unwrap_err()
            .contains("unknown daemon ripd"));
    }
}

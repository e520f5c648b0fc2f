//! vtysh's configure mode against running daemons: FRR's words become
//! edits of the daemons' TOML, applied at once over gRPC without touching
//! anything else, then saved with `write memory` keeping the operator's
//! comments.
//!
//! r1 (zebrad + bgpd, AS 65001) -- r2 (zebrad + bgpd, AS 65002) over
//! 192.0.2.0/30 and 2001:db8:1::/64. r1 starts with the IPv4 session only;
//! r2 already expects an IPv6 one too. A configure session on r1 (a file
//! given to `vtysh -f`) adds the IPv6 neighbor, a static route and a
//! prefix list; the new session comes up, the route reaches the kernel,
//! and the IPv4 session is not reset. A refused change names the line and
//! key and changes nothing; `show running-config diff` shows what is not
//! saved, `write memory` saves it. Later sessions build an anycast
//! service, a route map bound inbound, and a network with a route map and
//! an aggregate in `address-family ipv6 unicast`, each seen in `show
//! running-config` and in what the daemons do.
//!
//! On a host that runs only zebrad and bgpd, `write memory` and the other
//! commands for every daemon leave ospfd out (not deployed) and succeed;
//! a deployed daemon that is down (bgpd killed, or ospfd listed in
//! `--daemons`) fails them, named.

mod bgp_util;

use std::time::Duration;

use bgp_util::*;
use topotests::{bin, wait_until, Lab, Node};

const R1_BGP: &str = r#"# r1's bgpd: kept by vtysh's write memory
[bgp]
asn = 65001               # our AS
router_id = "192.0.2.1"
connect_retry = 1

# accept all
[[route_map]]
name = "ALL"
entries = [ { seq = 10, action = "permit" } ]

# the IPv4 session to r2
[[neighbor]]
address = "192.0.2.2"
remote_as = 65002
import = "ALL"
export = "ALL"
"#;

const R1_ZEBRAD: &str = "# r1's zebrad\n[rib]\necmp_max = 4   # small\n";

fn r2_bgp() -> String {
    format!(
        r#"{}
[[neighbor]]
address = "192.0.2.1"
remote_as = 65001
import = "ALL"
export = "ALL"

[[neighbor]]
address = "2001:db8:1::1"
remote_as = 65001
import = "ALL"
export = "ALL"
"#,
        ours_head(65002, "192.0.2.2", "networks = [\"2001:db8:99::/48\"]")
    )
}

/// `vtysh -f FILE` on `node`: (success, stdout, stderr).
fn vtysh_file(node: &Node, name: &str, commands: &str) -> (bool, String, String) {
    let f = node.write_file(name, commands);
    let run = s(&node.run_dir());
    match node.exec_timeout(
        &[&s(&bin("vtysh")), "--run-dir", &run, "-f", &s(&f)],
        Duration::from_secs(30),
    ) {
        Ok(out) => (true, out, String::new()),
        Err(e) => (false, String::new(), e.to_string()),
    }
}

#[test]
fn vtysh_configure_session_applies_and_saves() {
    if !can_run(&[]) {
        return;
    }
    let (lab, r1, r2) = pair("vtysh_configure_session_applies_and_saves");
    let zcfg = r1.write_file("zebrad.toml", R1_ZEBRAD);
    let run = s(&r1.run_dir());
    let _z1 = r1.spawn_env(
        "zebrad",
        &[&s(&bin("zebrad")), "-f", &s(&zcfg), "--run-dir", &run],
        &[("ZEBRAD_LOG", "info")],
    );
    _z1.wait_socket(&r1.socket("zebrad"), Duration::from_secs(20));
    let bcfg = r1.write_file("bgpd.toml", R1_BGP);
    let _b1 = start_bgpd(&r1, &bcfg);
    let _r2 = start_ours(&r2, &r2_bgp());
    wait_established(&r1, "192.0.2.2");
    let before = neighbor(&r1, "192.0.2.2");

    // Nothing unsaved yet.
    let diff = vtysh(&r1, "show running-config diff").unwrap();
    assert!(diff.contains("No unsaved changes"), "{diff}");

    // The configure session, as an operator would type it.
    let (ok, out, err) = vtysh_file(
        &r1,
        "session.conf",
        "! add the IPv6 session, a static route and a prefix list\n\
         configure terminal\n\
         ip route 203.0.113.0/24 192.0.2.2\n\
         ip prefix-list CUST seq 10 permit 198.51.100.0/24 le 32\n\
         router bgp 65001\n\
         neighbor 2001:db8:1::9 remote-as 65009\n\
         neighbor 2001:db8:1::2 remote-as 65002\n\
         no neighbor 2001:db8:1::9\n\
         neighbor 2001:db8:1::2 description r2 over IPv6\n\
         neighbor 2001:db8:1::2 route-map ALL in\n\
         neighbor 2001:db8:1::2 route-map ALL out\n\
         do show bgp summary\n\
         end\n",
    );
    assert!(
        ok,
        "configure session failed: {out}\n{err}\n{}",
        lab.log_tails(30)
    );

    // The effect in the daemons: the new session comes up, the route is in
    // the kernel, the old session was not reset.
    wait_established(&r1, "2001:db8:1::2");
    wait_until(T, "the static route in r1's kernel", || {
        r1.route(254, "203.0.113.0/24").is_some()
    });
    let after = neighbor(&r1, "192.0.2.2");
    assert_eq!(after["bgpState"], "Established", "{after:#}");
    assert_eq!(
        after["connectionsDropped"], before["connectionsDropped"],
        "{after:#}"
    );
    assert!(
        after["bgpTimerUpMsec"].as_u64() >= before["bgpTimerUpMsec"].as_u64(),
        "the IPv4 session was reset: {before:#} -> {after:#}"
    );
    let n6 = neighbor(&r1, "2001:db8:1::2");
    assert_eq!(n6["nbrDesc"], "r2 over IPv6", "{n6:#}");

    // Not saved yet: the diff shows the new lines, the file is unchanged.
    let diff = vtysh(&r1, "show running-config diff").unwrap();
    assert!(diff.contains("+address = \"2001:db8:1::2\""), "{diff}");
    assert!(diff.contains("+prefix = \"203.0.113.0/24\""), "{diff}");
    assert_eq!(std::fs::read_to_string(&bcfg).unwrap(), R1_BGP);
    let running = vtysh(&r1, "show running-config bgpd").unwrap();
    assert!(
        running.contains("(unsaved changes)") && running.contains("CUST"),
        "{running}"
    );

    // A refused change: bgpd's loader names the line and key; nothing changes.
    let (ok, _, err) = vtysh_file(
        &r1,
        "bad.conf",
        "configure\nrouter bgp 65001\nneighbor 192.0.2.2 route-map NO-SUCH-POLICY in\n",
    );
    assert!(!ok, "a refused change must fail the run");
    assert!(
        err.contains("refused") && err.contains("bgpd.toml:"),
        "{err}"
    );
    assert!(err.contains("import"), "{err}");
    let still = vtysh(&r1, "show running-config bgpd").unwrap();
    assert!(!still.contains("NO-SUCH-POLICY"), "{still}");
    // A wrong AS is refused before anything is sent.
    let (ok, _, err) = vtysh_file(&r1, "bad-as.conf", "configure\nrouter bgp 65009\n");
    assert!(!ok && err.contains("AS is 65001"), "{err}");

    // write memory: both files written, comments kept, nothing unsaved;
    // ospfd is not deployed here (no socket), so it is skipped.
    let w = vtysh(&r1, "write memory").expect("write memory");
    assert!(
        w.contains("ospfd: skipped, ospfd is not deployed") && w.contains("[OK]"),
        "{w}"
    );
    assert!(
        w.contains(&format!("bgpd: configuration saved to {}", s(&bcfg)))
            && w.contains(&format!("zebrad: configuration saved to {}", s(&zcfg))),
        "{w}"
    );
    let saved = std::fs::read_to_string(&bcfg).unwrap();
    for kept in [
        "# r1's bgpd: kept by vtysh's write memory",
        "asn = 65001               # our AS",
        "# the IPv4 session to r2",
        "address = \"2001:db8:1::2\"",
        "description = \"r2 over IPv6\"",
        "name = \"CUST\"",
    ] {
        assert!(saved.contains(kept), "{kept:?} missing in\n{saved}");
    }
    let zsaved = std::fs::read_to_string(&zcfg).unwrap();
    assert!(
        zsaved.starts_with(R1_ZEBRAD) && zsaved.contains("via = [\"192.0.2.2\"]"),
        "{zsaved}"
    );
    let diff = vtysh(&r1, "show running-config diff").unwrap();
    assert!(diff.contains("No unsaved changes"), "{diff}");
    // What was saved is what a restart loads.
    r1.must(&[&s(&bin("bgpd")), "--check", "-f", &s(&bcfg)]);

    // Removing the route takes it out of the kernel.
    let (ok, out, err) = vtysh_file(
        &r1,
        "undo.conf",
        "conf t\nno ip route 203.0.113.0/24 192.0.2.2\nend\n",
    );
    assert!(ok, "{out}{err}");
    wait_until(T, "the static route gone from r1's kernel", || {
        r1.route(254, "203.0.113.0/24").is_none()
    });

    // An anycast service built line by line (held until it has a prefix
    // and a check), applied by zebrad, then removed.
    let (ok, out, err) = vtysh_file(
        &r1,
        "anycast.conf",
        "configure\nanycast service web\nprefix 203.0.113.80/32\ninterface lo\n\
         check command true\ninterval 0.5\nrise 1\nfall 1\nend\n",
    );
    assert!(ok, "{out}{err}");
    wait_until(T, "the anycast service up", || {
        vtysh_json(&r1, "show anycast service web json")
            .to_string()
            .contains("\"up\"")
    });
    let z = vtysh(&r1, "show running-config zebrad").unwrap();
    assert!(
        z.contains("name = \"web\"")
            && z.contains("interval = 0.5")
            && z.contains("command = \"true\""),
        "{z}"
    );
    // Incomplete (no check) and left: refused, nothing applied.
    let (ok, _, err) = vtysh_file(
        &r1,
        "anycast-bad.conf",
        "configure\nanycast service dns\nprefix 203.0.113.53/32\nend\n",
    );
    assert!(!ok && err.contains("not applied"), "{err}");
    let z = vtysh(&r1, "show running-config zebrad").unwrap();
    assert!(!z.contains("dns"), "{z}");
    let (ok, out, err) = vtysh_file(
        &r1,
        "anycast-no.conf",
        "configure\nno anycast service web\n",
    );
    assert!(ok, "{out}{err}");
    wait_until(T, "the anycast service gone", || {
        vtysh(&r1, "show anycast service web").is_err()
    });

    // A route map with lists from configure mode, bound inbound to the IPv6
    // neighbor: bgpd re-evaluates r2's route without resetting the session.
    let up6 = neighbor(&r1, "2001:db8:1::2");
    let (ok, out, err) = vtysh_file(
        &r1,
        "route-map.conf",
        "configure\n\
         ipv6 prefix-list V6NETS seq 5 permit 2001:db8:99::/48\n\
         bgp as-path access-list FROM-R2 seq 10 permit ^65002$\n\
         bgp community-list standard MARK permit 65001:7\n\
         route-map FROM-R2 permit 10\n\
         match ipv6 address prefix-list V6NETS\n\
         match as-path FROM-R2\n\
         set local-preference 250\n\
         set community 65001:7 additive\n\
         route-map FROM-R2 deny 20\n\
         exit\n\
         router bgp 65001\n\
         address-family ipv6 unicast\n\
         neighbor 2001:db8:1::2 route-map FROM-R2 in\n\
         end\n",
    );
    assert!(ok, "{out}{err}\n{}", lab.log_tails(30));
    wait_until(T, "r2's route with the route map's sets", || {
        paths(&r1, "2001:db8:99::/48").iter().any(|p| {
            p["locPrf"] == 250
                && p["community"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|x| x == "65001:7"))
        })
    });
    let after6 = neighbor(&r1, "2001:db8:1::2");
    assert_eq!(
        after6["connectionsDropped"], up6["connectionsDropped"],
        "the IPv6 session was reset: {after6:#}"
    );
    let running = vtysh(&r1, "show running-config bgpd").unwrap();
    for want in [
        "name = \"FROM-R2\"",
        "family_policy = { ipv6-unicast = { import = \"FROM-R2\" } }",
        "kind = \"standard\"",
    ] {
        assert!(running.contains(want), "{want:?} missing in\n{running}");
    }

    // Originated routes in FRR's words, inside the address family: a
    // network through a route map and an aggregate of it; both show up in
    // the running configuration and at r2 with the map's sets. Changing
    // the map changes what r2 gets; `no network` withdraws the network
    // and the aggregate that only it fed.
    let (ok, out, err) = vtysh_file(
        &r1,
        "network.conf",
        "configure\n\
         route-map TAG permit 10\n\
         set community 65001:99\n\
         set metric 42\n\
         exit\n\
         router bgp 65001\n\
         address-family ipv6 unicast\n\
         network 2001:db8:77::/48 route-map TAG\n\
         aggregate-address 2001:db8:70::/44 as-set\n\
         exit-address-family\n\
         end\n",
    );
    assert!(ok, "{out}{err}\n{}", lab.log_tails(30));
    let running = vtysh(&r1, "show running-config bgpd").unwrap();
    for want in [
        "networks = [\"2001:db8:77::/48\"]",
        "network_policy = { \"2001:db8:77::/48\" = { route_map = \"TAG\" } }",
        "[[aggregate]]",
        "prefix = \"2001:db8:70::/44\"",
        "as_set = true",
    ] {
        assert!(running.contains(want), "{want:?} missing in\n{running}");
    }
    let with = |med: u64| {
        move |p: &serde_json::Value| {
            p["metric"] == med
                && p["community"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|x| x == "65001:99"))
        }
    };
    wait_until(T, "r1's network at r2 with the route map's sets", || {
        paths(&r2, "2001:db8:77::/48").iter().any(with(42))
    });
    wait_until(T, "r1's aggregate at r2", || {
        !paths(&r2, "2001:db8:70::/44").is_empty()
    });
    let (ok, out, err) = vtysh_file(
        &r1,
        "network-map.conf",
        "configure\nroute-map TAG permit 10\nset metric 7\nend\n",
    );
    assert!(ok, "{out}{err}");
    wait_until(T, "the changed route map's MED at r2", || {
        paths(&r2, "2001:db8:77::/48").iter().any(with(7))
    });
    let (ok, out, err) = vtysh_file(
        &r1,
        "no-network.conf",
        "configure\nrouter bgp 65001\nno network 2001:db8:77::/48\nend\n",
    );
    assert!(ok, "{out}{err}");
    wait_until(T, "the network and its aggregate gone at r2", || {
        paths(&r2, "2001:db8:77::/48").is_empty() && paths(&r2, "2001:db8:70::/44").is_empty()
    });
    let running = vtysh(&r1, "show running-config bgpd").unwrap();
    assert!(
        !running.contains("2001:db8:77::/48") && running.contains("2001:db8:70::/44"),
        "{running}"
    );

    // show logging, and log level at runtime.
    let l = vtysh_json(&r1, "show logging bgpd json");
    assert_eq!(l["bgpd"]["running"], true, "{l:#}");
    assert!(
        l["bgpd"]["lines"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x
                .as_str()
                .is_some_and(|x| x.contains("configuration applied")))),
        "{l:#}"
    );
    let (ok, out, err) = vtysh_file(&r1, "log.conf", "configure\nlog level debug zebrad\n");
    assert!(ok, "{out}{err}");
    let l = vtysh_json(&r1, "show logging zebrad json");
    assert_eq!(l["zebrad"]["level"], "debug", "{l:#}");
    // ospfd is not deployed here: left out, the others shown.
    let all = vtysh(&r1, "show logging").unwrap();
    assert!(
        !all.contains("ospfd")
            && all.contains("zebrad: level debug")
            && all.contains("bgpd: level"),
        "{all}"
    );
}

/// `vtysh --daemons LIST -c CMD` on `node`.
fn vtysh_listed(node: &Node, list: &str, cmd: &str) -> Result<String, topotests::CmdError> {
    let run = s(&node.run_dir());
    node.exec_timeout(
        &[
            &s(&bin("vtysh")),
            "--run-dir",
            &run,
            "--daemons",
            list,
            "-c",
            cmd,
        ],
        Duration::from_secs(15),
    )
}

#[test]
fn vtysh_write_memory_saves_the_deployed_daemons() {
    if !can_run(&[]) {
        return;
    }
    let lab = Lab::new("vtysh_write_memory_saves_the_deployed_daemons");
    let r1 = lab.node("r1");
    let zcfg = r1.write_file("zebrad.toml", R1_ZEBRAD);
    let run = s(&r1.run_dir());
    let z = r1.spawn_env(
        "zebrad",
        &[&s(&bin("zebrad")), "-f", &s(&zcfg), "--run-dir", &run],
        &[("ZEBRAD_LOG", "info")],
    );
    z.wait_socket(&r1.socket("zebrad"), Duration::from_secs(20));
    let bcfg = r1.write_file("bgpd.toml", &ours_head(65001, "192.0.2.1", ""));
    let b = start_bgpd(&r1, &bcfg);

    // Only zebrad and bgpd run: ospfd has no socket, so it is not deployed;
    // write memory saves the two, says which, and succeeds.
    let w = vtysh(&r1, "write memory").unwrap_or_else(|e| panic!("write memory: {e}"));
    assert!(
        w.contains(&format!("zebrad: configuration saved to {}", s(&zcfg)))
            && w.contains(&format!("bgpd: configuration saved to {}", s(&bcfg))),
        "{w}"
    );
    assert!(
        w.contains(&format!(
            "ospfd: skipped, ospfd is not deployed (no socket at {})",
            s(&r1.socket("ospfd"))
        )) && w.trim_end().ends_with("[OK]"),
        "{w}"
    );
    // The other commands for every daemon leave it out the same way, and
    // a line for every daemon goes to the deployed ones.
    let all = vtysh(&r1, "show running-config").unwrap();
    assert!(
        all.contains("! zebrad ") && all.contains("! bgpd ") && !all.contains("ospfd"),
        "{all}"
    );
    let diff = vtysh(&r1, "show running-config diff").unwrap();
    assert!(
        diff.contains("No unsaved changes") && !diff.contains("ospfd"),
        "{diff}"
    );
    let (ok, out, err) = vtysh_file(&r1, "log.conf", "configure\nlog level debug\n");
    assert!(ok, "log level for every daemon: {out}{err}");
    let l = vtysh_json(&r1, "show logging json");
    assert_eq!(l["zebrad"]["level"], "debug", "{l:#}");
    assert_eq!(l["bgpd"]["level"], "debug", "{l:#}");
    assert_eq!(l["ospfd"]["deployed"], false, "{l:#}");
    let d = vtysh(&r1, "show daemons").unwrap();
    assert!(
        d.contains("ospfd    not deployed") && !d.contains("% "),
        "{d}"
    );

    // Listed as deployed, ospfd is down: named, and the others saved.
    let e = vtysh_listed(&r1, "zebrad,bgpd,ospfd", "write memory")
        .expect_err("write memory with ospfd listed and down")
        .to_string();
    assert!(
        e.contains("ospfd is not running") && e.contains("ospfd not saved"),
        "{e}"
    );
    assert!(e.contains("bgpd: configuration saved to"), "{e}");
    // Listed without bgpd, bgpd is left out though it runs.
    let w = vtysh_listed(&r1, "zebrad", "write memory").unwrap();
    assert!(
        w.contains("bgpd: skipped, bgpd is not deployed (not in --daemons zebrad)"),
        "{w}"
    );

    // bgpd killed, as a crash would: its socket stays, so it is deployed
    // and down; write memory fails naming it and still saves zebrad.
    b.kill();
    assert!(
        r1.socket("bgpd").exists(),
        "a killed bgpd leaves its socket"
    );
    let e = vtysh(&r1, "write memory")
        .expect_err("write memory with bgpd killed")
        .to_string();
    assert!(
        e.contains("bgpd is not running") && e.contains("bgpd not saved"),
        "{e}"
    );
    assert!(
        e.contains(&format!("zebrad: configuration saved to {}", s(&zcfg))),
        "{e}"
    );
    let d = vtysh(&r1, "show daemons").unwrap();
    assert!(d.contains("% bgpd is not running"), "{d}");
    z.assert_running();
}

//! ospfd applies area and interface changes by difference: an interface
//! added to OSPF from vtysh's configure mode comes up at once and reaches
//! Full with the router behind it, while the existing adjacency with
//! another router stays Full the whole time (its uptime keeps counting);
//! removing the interface again takes only that adjacency down; a SIGHUP
//! after the file gained the interface adds it the same way.
//!
//! r2 (BIRD) -- eth0 -- r1 (our zebrad + ospfd) -- eth1 -- r3 (BIRD).
//! r1 starts with OSPF on eth0 (and lo) only; eth1 is added in area 1.

#[path = "ospf_common.rs"]
mod common;

use std::time::Duration;

use common::*;
use topotests::{bin, wait_until, Node};

const T: Duration = Duration::from_secs(60);

fn bird_conf(rid: &str) -> String {
    format!(
        r#"router id {rid};
protocol device {{ scan time 1; }}
protocol kernel {{ ipv4 {{ export all; }}; }}
protocol ospf v2 o1 {{
  ipv4 {{ import all; export none; }};
  area {area} {{
    interface "eth0" {{ hello {HELLO}; dead {DEAD}; retransmit 2; }};
    interface "lo" {{ stub yes; }};
  }};
}}
"#,
        area = if rid.ends_with(".3") { 1 } else { 0 },
    )
}

/// `vtysh -c ...` on `node`; the output, or a panic with the error.
fn vtysh(node: &Node, cmds: &[&str]) -> String {
    let (v, run) = (
        bin("vtysh").display().to_string(),
        node.run_dir().display().to_string(),
    );
    let mut args = vec![v.as_str(), "--run-dir", run.as_str()];
    for c in cmds {
        args.push("-c");
        args.push(c);
    }
    node.exec_timeout(&args, Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("vtysh {cmds:?}: {e}"))
}

/// Our adjacency with `rid`: (state, ms in that state).
fn adjacency(node: &Node, rid: &str) -> Option<(String, u64)> {
    let j: serde_json::Value =
        serde_json::from_str(&vtysh(node, &["show ip ospf neighbor json"])).ok()?;
    let n = &j["neighbors"][rid][0];
    Some((
        n["converged"].as_str()?.to_string(),
        n["upTimeInMsec"].as_u64()?,
    ))
}

#[test]
fn ospf_reconfigure_adds_an_interface_without_resetting_others() {
    if !can_run(&["bird", "birdc"]) {
        return;
    }
    let lab = lab("ospf_reconfigure_adds_an_interface");
    let r1 = lab.node("r1");
    let r2 = lab.node("r2");
    let r3 = lab.node("r3");
    lab.link(&r1, "eth0", &r2, "eth0");
    lab.link(&r1, "eth1", &r3, "eth0");
    r1.add_addr("eth0", "198.51.100.1/29");
    r2.add_addr("eth0", "198.51.100.2/29");
    r1.add_addr("eth1", "203.0.113.1/29");
    r3.add_addr("eth0", "203.0.113.3/29");
    r1.add_addr("lo", "192.0.2.1/32");
    r2.add_addr("lo", "192.0.2.2/32");
    r3.add_addr("lo", "192.0.2.3/32");
    let (z, o) = start_ours(
        &r1,
        &our_config(
            "192.0.2.1",
            &[("eth0", "0.0.0.0", ""), ("lo", "0.0.0.0", "passive = true")],
            "",
        ),
    );
    let _b2 = start_bird(&r2, &bird_conf("192.0.2.2"));
    let _b3 = start_bird(&r3, &bird_conf("192.0.2.3"));
    wait_full(&r1, 1, T);
    let (_, up_before) = adjacency(&r1, "192.0.2.2").expect("the r2 adjacency");

    // Add eth1 in area 1 from configure mode: applied at once.
    let out = vtysh(
        &r1,
        &[
            "configure",
            "interface eth1",
            "ip ospf area 1",
            "ip ospf hello-interval 1",
            "ip ospf dead-interval 4",
            "end",
        ],
    );
    assert!(!out.contains("restart"), "{out}");
    let mut lows = Vec::new();
    wait_until(T, "r1 Full with r3 and with r2", || {
        let a2 = adjacency(&r1, "192.0.2.2");
        if a2.as_ref().is_none_or(|(s, _)| s != "Full") {
            lows.push(format!("{a2:?}"));
        }
        adjacency(&r1, "192.0.2.3").is_some_and(|(s, _)| s == "Full")
    });
    assert!(lows.is_empty(), "the r2 adjacency left Full: {lows:?}");
    let (_, up_after) = adjacency(&r1, "192.0.2.2").expect("the r2 adjacency");
    assert!(
        up_after > up_before,
        "the r2 adjacency restarted: up {up_before} ms, then {up_after} ms"
    );
    // r1 is now an ABR: r2 (BIRD) installs r3's loopback through r1, and r3
    // installs r2's.
    for (node, dst, gw) in [
        (&r2, "192.0.2.3/32", "198.51.100.1"),
        (&r3, "192.0.2.2/32", "203.0.113.1"),
    ] {
        wait_until(
            T,
            &format!("BIRD on {} routes {dst} via {gw}", node.name()),
            || kernel_routes(node, "12").contains(&(dst.to_string(), vec![gw.to_string()])),
        );
    }

    // Removed again: the r3 adjacency goes, r2's stays.
    vtysh(
        &r1,
        &["configure", "interface eth1", "no ip ospf area", "end"],
    );
    wait_until(T, "the r3 adjacency gone", || {
        adjacency(&r1, "192.0.2.3").is_none()
    });
    let (state, up_last) = adjacency(&r1, "192.0.2.2").expect("the r2 adjacency");
    assert!(state == "Full" && up_last > up_after, "{state} {up_last}");
    let running = vtysh(&r1, &["show running-config ospfd"]);
    assert!(!running.contains("eth1"), "{running}");

    // The same by SIGHUP: the file gains eth1, ospfd reloads it.
    r1.write_file(
        "ospfd.toml",
        &our_config(
            "192.0.2.1",
            &[
                ("eth0", "0.0.0.0", ""),
                ("lo", "0.0.0.0", "passive = true"),
                ("eth1", "0.0.0.1", ""),
            ],
            "",
        ),
    );
    o.signal(topotests::Signal::SIGHUP);
    wait_until(T, "r1 Full with r3 again after SIGHUP", || {
        adjacency(&r1, "192.0.2.3").is_some_and(|(s, _)| s == "Full")
    });
    let (state, up_hup) = adjacency(&r1, "192.0.2.2").expect("the r2 adjacency");
    assert!(state == "Full" && up_hup > up_last, "{state} {up_hup}");
    let running = vtysh(&r1, &["show running-config ospfd"]);
    assert!(running.contains("eth1"), "{running}");
    z.assert_running();
    o.assert_running();
}

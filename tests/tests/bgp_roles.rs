//! BGP roles and the Only-to-Customer attribute (RFC 9234) with FRR 8.4
//! and BIRD 2.0.12: sessions with matching roles come up, a role
//! mismatch fails with NOTIFICATION 2/11, a leaked route is dropped, our
//! routes toward customers and peers carry OTC = our AS, and a provider's
//! route goes to customers only.
//!
//! Topology of `bgp_roles_frr_bird` (ours is r1, AS 65000):
//!
//! ```text
//!   r2 FRR AS 64502 (our provider) eth0 192.0.2.2  -- r1 eth0 192.0.2.1
//!   r3 FRR AS 64503 (our customer) eth0 192.0.2.6  -- r1 eth1 192.0.2.5
//!   r4 BIRD AS 64504 (our peer)    eth0 192.0.2.10 -- r1 eth2 192.0.2.9
//!   r2 eth1 192.0.2.13 -- r3 eth1 192.0.2.14 (r2 is r3's provider too)
//! ```
//!
//! r2 sends 198.51.100.0/25 to both; to r3 only it also sends
//! 198.51.100.128/25, which r3 (a customer of r2, with no role toward
//! us) leaks to us carrying OTC 64502.
//!
//! GoBGP 3.10 (Debian's) does not implement RFC 9234: it has no Role
//! capability (its `BGPCapabilityCode` list stops at FQDN and Cisco's
//! route refresh; osrg/gobgp#3244 asks for it) and its TOML refuses a
//! `role` or `local-role` key as invalid. `bgp_roles_gobgp_without_capability`
//! shows what our `strict_role` does with such a peer, and that OTC
//! crosses it as an unknown optional transitive attribute.

mod bgp_util;

use bgp_util::*;
use serde_json::Value;
use topotests::{try_wait_until, Lab, Signal};

const PROVIDER_ROUTE: &str = "198.51.100.0/25";
const LEAKED: &str = "198.51.100.128/25";
const OURS: &str = "203.0.113.0/24";

/// Our config: `neighbors` as (address, AS, role, strict).
fn ours_conf(neighbors: &[(&str, u32, &str, bool)], networks: &str) -> String {
    let mut c = ours_head(65000, "192.0.2.1", &format!("networks = [{networks}]"));
    for (addr, asn, role, strict) in neighbors {
        c.push_str(&format!(
            r#"
[[neighbor]]
address = "{addr}"
remote_as = {asn}
import = "ALL"
export = "ALL"
hold_time = 9
role = "{role}"
strict_role = {strict}
"#
        ));
    }
    c
}

/// An FRR bgpd.conf of AS `asn`: `neighbors` as (address, AS, local-role
/// words or "" for none, outbound route map), `networks` originated.
fn frr_conf(
    asn: u32,
    id: &str,
    neighbors: &[(&str, u32, &str, &str)],
    networks: &[&str],
) -> String {
    let mut n = String::new();
    let mut af = String::new();
    for (addr, remote, role, out) in neighbors {
        n.push_str(&format!(
            " neighbor {addr} remote-as {remote}\n neighbor {addr} timers connect 1\n neighbor {addr} timers 3 9\n"
        ));
        if !role.is_empty() {
            n.push_str(&format!(" neighbor {addr} local-role {role}\n"));
        }
        af.push_str(&format!(
            "  neighbor {addr} activate\n  neighbor {addr} route-map ALL in\n  neighbor {addr} route-map {out} out\n"
        ));
    }
    let nets: String = networks
        .iter()
        .map(|p| format!("  network {p}\n"))
        .collect();
    format!(
        r#"hostname r{asn}
log stdout debugging
debug bgp neighbor-events
!
ip prefix-list LEAKED seq 5 permit {LEAKED}
route-map ALL permit 10
!
route-map NOLEAK deny 10
 match ip address prefix-list LEAKED
route-map NOLEAK permit 20
!
router bgp {asn}
 bgp router-id {id}
 no bgp default ipv4-unicast
 no bgp network import-check
{n} !
 address-family ipv4 unicast
{nets}{af} exit-address-family
!
"#
    )
}

fn bird_conf(role: &str) -> String {
    format!(
        r#"router id 192.0.2.10;
log stderr all;
protocol device {{ }}
protocol bgp r1 {{
  local 192.0.2.10 as 64504;
  neighbor 192.0.2.9 as 65000;
  connect retry time 1;
  hold time 9;
  local role {role};
  ipv4 {{ import all; export none; }};
}}
"#
    )
}

fn role_info(node: &topotests::Node, addr: &str) -> Value {
    neighbor(node, addr)["bgpRole"].clone()
}

/// FRR's first path for `prefix` (Null when none).
fn frr_path(frr: &Frr, prefix: &str) -> Value {
    frr.paths(prefix).first().cloned().unwrap_or(Value::Null)
}

fn wait_frr_path(frr: &Frr, prefix: &str) -> Value {
    let mut last = Value::Null;
    let r = try_wait_until(T, &format!("{prefix} in FRR"), || {
        last = frr_path(frr, prefix);
        !last.is_null()
    });
    if let Err(e) = r {
        panic!("{e}: {}", frr.vtysh(&["show bgp ipv4 unicast"]));
    }
    last
}

#[test]
fn bgp_roles_frr_bird() {
    if !can_run(&["/usr/lib/frr/bgpd", "/usr/lib/frr/zebra", "vtysh", "bird"]) {
        return;
    }
    let lab = Lab::new("bgp_roles_frr_bird");
    let (r1, r2, r3, r4) = (
        lab.node("r1"),
        lab.node("r2"),
        lab.node("r3"),
        lab.node("r4"),
    );
    lab.link(&r1, "eth0", &r2, "eth0");
    lab.link(&r1, "eth1", &r3, "eth0");
    lab.link(&r1, "eth2", &r4, "eth0");
    lab.link(&r2, "eth1", &r3, "eth1");
    for (n, dev, a) in [
        (&r1, "eth0", "192.0.2.1/30"),
        (&r2, "eth0", "192.0.2.2/30"),
        (&r1, "eth1", "192.0.2.5/30"),
        (&r3, "eth0", "192.0.2.6/30"),
        (&r1, "eth2", "192.0.2.9/30"),
        (&r4, "eth0", "192.0.2.10/30"),
        (&r2, "eth1", "192.0.2.13/30"),
        (&r3, "eth1", "192.0.2.14/30"),
    ] {
        n.add_addr(dev, a);
    }
    let (_z, b) = start_ours(
        &r1,
        &ours_conf(
            &[
                ("192.0.2.2", 64502, "customer", true),
                ("192.0.2.6", 64503, "provider", false),
                ("192.0.2.10", 64504, "peer", true),
            ],
            &format!("\"{OURS}\""),
        ),
    );
    let frr2 = start_frr(
        &r2,
        &frr_conf(
            64502,
            "192.0.2.2",
            &[
                ("192.0.2.1", 65000, "provider strict-mode", "NOLEAK"),
                ("192.0.2.14", 64503, "provider", "ALL"),
            ],
            &[PROVIDER_ROUTE, LEAKED],
        ),
    );
    // r3 has no role toward us: it passes on what it got from its
    // provider, which RFC 9234 calls a leak.
    let frr3 = start_frr(
        &r3,
        &frr_conf(
            64503,
            "192.0.2.14",
            &[
                ("192.0.2.5", 65000, "", "ALL"),
                ("192.0.2.13", 64502, "customer", "ALL"),
            ],
            &[],
        ),
    );
    let bird = start_bird(&r4, &bird_conf("peer"));
    for a in ["192.0.2.2", "192.0.2.6", "192.0.2.10"] {
        wait_established(&r1, a);
    }
    frr2.wait_established("192.0.2.1");
    bird.wait_established("r1");

    // Roles as negotiated, on our side.
    let up = role_info(&r1, "192.0.2.2");
    assert_eq!(up["localRole"], "customer", "{up:#}");
    assert_eq!(up["neighborRole"], "provider", "{up:#}");
    assert_eq!(up["negotiation"], "ok", "{up:#}");
    assert_eq!(role_info(&r1, "192.0.2.10")["negotiation"], "ok");
    let down = role_info(&r1, "192.0.2.6");
    assert_eq!(down["negotiation"], "no role received", "{down:#}");
    let frr_view = frr2.json("show bgp neighbors 192.0.2.1 json")["192.0.2.1"].clone();
    assert_eq!(frr_view["localRole"], "provider", "{frr_view:#}");
    assert_eq!(frr_view["remoteRole"], "customer", "{frr_view:#}");

    // The provider's route: marked with its AS on the way in, sent down to
    // the customer, never across to the peer.
    let p = wait_best(&r1, PROVIDER_ROUTE);
    assert_eq!(p["otc"], 64502, "{p:#}");
    let to_customer = topotests::wait_for(T, "provider route at r3 via us", || {
        frr3.paths(PROVIDER_ROUTE)
            .into_iter()
            .find(|x| x["aspath"]["string"] == "65000 64502")
    });
    assert_eq!(to_customer["otc"], 64502, "{to_customer:#}");

    // Our own route: OTC = our AS toward the customer and the peer, none
    // toward the provider.
    let at_r3 = topotests::wait_for(T, "our route at r3 via us", || {
        frr3.paths(OURS)
            .into_iter()
            .find(|x| x["aspath"]["string"] == "65000")
    });
    assert_eq!(at_r3["otc"], 65000, "{at_r3:#}");
    let at_r2 = wait_frr_path(&frr2, OURS);
    assert!(at_r2["otc"].is_null(), "no OTC up to a provider: {at_r2:#}");
    let at_r4 = bird.wait_route(OURS);
    assert!(
        at_r4.contains("bgp_otc: 65000") || at_r4.contains("otc: 65000"),
        "BIRD sees OTC 65000: {at_r4}"
    );
    // The peer got ours (so its table is current) but not the provider's.
    assert!(
        !bird.has_route(PROVIDER_ROUTE),
        "a provider's route leaked to a peer: {}",
        bird.cmd("show route")
    );

    // The leak: r3 learned LEAKED from its provider r2 (OTC 64502) and
    // sends it to us; we hold it, unused, and count it.
    let leaked = topotests::wait_for(T, "the leaked route from r3 in our table", || {
        paths(&r1, LEAKED).into_iter().next()
    });
    assert_eq!(leaked["bestpath"], false, "{leaked:#}");
    assert_eq!(leaked["valid"], false, "{leaked:#}");
    assert_eq!(leaked["otc"], 64502, "{leaked:#}");
    assert!(
        role_info(&r1, "192.0.2.6")["routeLeaks"].as_u64() >= Some(1),
        "{:#}",
        role_info(&r1, "192.0.2.6")
    );
    assert!(kernel_bgp(&r1, LEAKED).is_none());
    assert!(wait_kernel(&r1, PROVIDER_ROUTE, "192.0.2.2").is_object());
    b.assert_running();
}

/// Waits until our session to `addr` has counted a Role Mismatch and
/// checks that it never came up meanwhile.
fn wait_mismatch(node: &topotests::Node, addr: &str) -> Value {
    let mut last = Value::Null;
    let r = try_wait_until(T, &format!("role mismatch with {addr}"), || {
        last = neighbor(node, addr);
        assert_ne!(last["bgpState"], "Established", "{last:#}");
        last["bgpRole"]["roleMismatches"].as_u64() >= Some(1)
    });
    if let Err(e) = r {
        panic!("{e}; last: {last:#}");
    }
    assert!(
        last["bgpRole"]["negotiation"]
            .as_str()
            .is_some_and(|s| s.starts_with("mismatch")),
        "{last:#}"
    );
    last
}

/// Ours with `role` (and `strict`) against an FRR with `frr_role` (""
/// for none): the session must fail with 2/11 seen on both sides.
/// Returns our neighbor state.
fn frr_mismatch(test: &str, role: &str, strict: bool, frr_role: &str) -> Value {
    let (_lab, r1, r2) = pair(test);
    let (_z, b) = start_ours(&r1, &ours_conf(&[("192.0.2.2", 64502, role, strict)], ""));
    let frr = start_frr(
        &r2,
        &frr_conf(
            64502,
            "192.0.2.2",
            &[("192.0.2.1", 65000, frr_role, "ALL")],
            &[],
        ),
    );
    let n = wait_mismatch(&r1, "192.0.2.2");
    let state = frr.vtysh(&["show bgp neighbors 192.0.2.1"]);
    assert!(
        frr.daemon.log().contains("Role Mismatch") || state.contains("Role Mismatch"),
        "FRR saw no 2/11: {state}"
    );
    b.assert_running();
    n
}

#[test]
fn bgp_roles_mismatch_frr() {
    if !can_run(&["/usr/lib/frr/bgpd", "/usr/lib/frr/zebra", "vtysh"]) {
        return;
    }
    // Both say provider.
    frr_mismatch("bgp_roles_mismatch_frr", "provider", false, "provider");
}

#[test]
fn bgp_roles_strict_frr() {
    if !can_run(&["/usr/lib/frr/bgpd", "/usr/lib/frr/zebra", "vtysh"]) {
        return;
    }
    // Strict mode on our side, FRR without a role: we refuse it.
    let n = frr_mismatch("bgp_roles_strict_frr", "customer", true, "");
    assert!(
        n["lastResetDueTo"]
            .as_str()
            .is_some_and(|s| s.contains("Role Mismatch")),
        "{n:#}"
    );
}

#[test]
fn bgp_roles_mismatch_bird() {
    if !can_run(&["bird"]) {
        return;
    }
    let (_lab, r1, r2) = pair("bgp_roles_mismatch_bird");
    let (_z, b) = start_ours(
        &r1,
        &ours_conf(&[("192.0.2.2", 64504, "provider", false)], ""),
    );
    let conf = bird_conf("provider")
        .replace("192.0.2.10", "192.0.2.2")
        .replace("192.0.2.9", "192.0.2.1");
    let bird = start_bird(&r2, &conf);
    wait_mismatch(&r1, "192.0.2.2");
    let st = bird.cmd("show protocols all r1");
    assert!(
        st.contains("Role mismatch") || st.contains("Role Mismatch"),
        "BIRD saw no 2/11: {st}"
    );
    // BIRD as our customer: the session comes up.
    bird.reconfigure(&conf.replace("local role provider", "local role customer"));
    bird.cmd("restart r1");
    wait_established(&r1, "192.0.2.2");
    let r = neighbor(&r1, "192.0.2.2")["bgpRole"].clone();
    assert_eq!(r["neighborRole"], "customer", "{r:#}");
    assert_eq!(r["negotiation"], "ok", "{r:#}");
    b.assert_running();
}

/// GoBGP has no BGP Role capability. Ours as its peer: with `strict_role`
/// the session is refused with 2/11 and GoBGP counts the NOTIFICATION;
/// the same neighbor without strict mode (a SIGHUP reload) comes up with
/// "no role received", and the local role still drives the §5 rules: the
/// peer's route gets OTC = its AS on the way in, ours leaves with OTC =
/// our AS, which GoBGP keeps as an unknown transitive attribute.
#[test]
fn bgp_roles_gobgp_without_capability() {
    if !can_run(&["gobgpd", "gobgp"]) {
        return;
    }
    let (_lab, r1, r2) = pair("bgp_roles_gobgp_without_capability");
    let strict = ours_conf(
        &[("192.0.2.2", 64502, "peer", true)],
        &format!("\"{OURS}\""),
    );
    let (_z, b) = start_ours(&r1, &strict);
    let g = start_gobgp(&r2, &gobgp_conf(64502, "192.0.2.2", "192.0.2.1", ""));
    g.cmd(&["global", "rib", "add", PROVIDER_ROUTE, "-a", "ipv4"]);

    // Strict: no Role capability from GoBGP is a Role Mismatch.
    let n = wait_mismatch(&r1, "192.0.2.2");
    assert!(
        n["lastResetDueTo"]
            .as_str()
            .is_some_and(|s| s.contains("Role Mismatch")),
        "{n:#}"
    );
    let mut seen = Value::Null;
    let r = try_wait_until(T, "GoBGP counting our NOTIFICATION", || {
        let out = g
            .try_cmd(&["neighbor", "192.0.2.1", "-j"])
            .unwrap_or_default();
        seen = serde_json::from_str(&out).unwrap_or(Value::Null);
        seen["state"]["messages"]["received"]["notification"].as_u64() >= Some(1)
    });
    if let Err(e) = r {
        panic!("{e}: {seen:#}");
    }

    // Loose: the same neighbor without strict mode comes up.
    r1.write_file(
        "bgpd.toml",
        &strict.replace("strict_role = true", "strict_role = false"),
    );
    b.signal(Signal::SIGHUP);
    wait_established(&r1, "192.0.2.2");
    g.wait_established("192.0.2.1");
    let role = role_info(&r1, "192.0.2.2");
    assert_eq!(role["localRole"], "peer", "{role:#}");
    assert_eq!(role["negotiation"], "no role received", "{role:#}");

    // The peer's route is marked with its AS on the way in.
    let p = wait_best(&r1, PROVIDER_ROUTE);
    assert_eq!(p["otc"], 64502, "{p:#}");
    // Ours leaves with OTC = 65000: GoBGP does not know type 35 and keeps
    // it as an unknown optional transitive attribute.
    let at_gobgp =
        topotests::wait_for(T, "our route at GoBGP", || g.paths(OURS).into_iter().next());
    let otc = at_gobgp["attrs"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["type"] == 35).cloned())
        .unwrap_or_else(|| panic!("no attribute 35 at GoBGP: {at_gobgp:#}"));
    // GoBGP prints an unknown attribute's bytes in base64: 00 00 fd e8 is
    // AS 65000.
    assert_eq!(otc["value"], "AAD96A==", "{otc:#}");
    assert_eq!(otc["flags"], 0xc0, "optional transitive: {otc:#}");
    b.assert_running();
    g.proc.assert_running();
}

//! Every show command's `json` against its committed schema
//! (vtysh/schemas/*.json, JSON Schema draft 2020-12), with the daemons up
//! and holding real state, so a change of a command's JSON that its schema
//! does not allow fails here.
//!
//! r1 runs our zebrad (a static route, a policy rule, an anycast service
//! with a command check, a VXLAN VNI on a bridge with a host port), bgpd (iBGP with BIRD,
//! EVPN advertising the VNI) and ospfd (area 0 with BIRD on eth0, lo
//! passive, redistributing the static route). r2 runs BIRD 2 with BGP (a
//! static route announced with a path, MED and communities) and OSPF.
//! Each command is run with `vtysh -c`; its output is parsed and validated
//! with [`topotests::schema`]. Every schema file must be used by some
//! command, and every command must have data: an empty answer where the
//! state should be real is a failure too.

mod bgp_util;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use bgp_util::{can_run, s, start_bird, wait_established};
use serde_json::Value;
use topotests::{bin, wait_until, Lab, Node};

const T: Duration = Duration::from_secs(60);

fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("vtysh")
        .join("schemas")
}

const ZEBRAD: &str = r#"
[[static]]
prefix = "203.0.113.0/25"
via = "198.51.100.2"

[[rule]]
priority = 100
from = "203.0.113.128/25"
table = 1000

[[service]]
name = "web"
prefixes = ["203.0.113.80/32"]
interface = "lo"
interval = 0.5
rise = 1
fall = 1

[[service.check]]
type = "command"
command = "true"
"#;

const BGPD: &str = r#"
[bgp]
asn = 65001
router_id = "192.0.2.1"
connect_retry = 1
networks = ["192.0.2.1/32"]

[evpn]
advertise_all_vni = true

[[prefix_list]]
name = "BIRD"
entries = [
  { seq = 10, action = "permit", prefix = "198.51.100.0/24", le = 32 },
  { seq = 20, action = "deny", prefix = "2001:db8::/32", ge = 48 },
]

[[as_path_list]]
name = "VIA-65009"
entries = [ { seq = 10, action = "permit", regex = "_65009_" } ]

[[community_list]]
name = "C"
entries = [ { seq = 10, action = "permit", values = ["65002:1"] } ]

[[community_list]]
name = "L"
kind = "large"
entries = [ { seq = 10, action = "permit", values = ["65002:1:1"] } ]

[[community_list]]
name = "E"
kind = "extended"
entries = [ { seq = 10, action = "permit", values = ["rt 65002:100"] } ]

[[route_map]]
name = "IN"
entries = [
  { seq = 10, action = "permit", match = { prefix_list = "BIRD", as_path = "VIA-65009", community = "C" },
    set = { med = 10 }, on_match = "next" },
  { seq = 20, action = "permit" },
]

[[neighbor]]
address = "198.51.100.2"
remote_as = 65001
families = ["ipv4-unicast", "l2vpn-evpn"]
import = "IN"
"#;

const OSPFD: &str = r#"
router_id = "192.0.2.1"

[[interface]]
name = "eth0"
area = "0.0.0.0"
hello_interval = 1
dead_interval = 4

[[interface]]
name = "lo"
area = "0.0.0.0"
passive = true

[[redistribute]]
source = "static"
"#;

const BIRD: &str = r#"
router id 192.0.2.2;
protocol device { scan time 1; }
protocol kernel { ipv4 { export none; }; }
protocol static s4 {
  ipv4;
  route 198.51.100.128/25 blackhole {
    bgp_path.prepend(65009); bgp_med = 10;
    bgp_community.add((65002, 1)); bgp_large_community.add((65002, 1, 1));
    bgp_ext_community.add((rt, 65002, 100));
  };
}
protocol bgp r1 {
  local 198.51.100.2 as 65001;
  neighbor 198.51.100.1 as 65001;
  ipv4 { import all; export all; next hop self; };
}
protocol ospf v2 o1 {
  ipv4 { import all; export none; };
  area 0 {
    interface "eth0" { hello 1; dead 4; };
    interface "lo" { stub yes; };
  };
}
"#;

/// `vtysh -c CMD` on r1, parsed.
fn json_of(node: &Node, cmd: &str) -> Value {
    let run = s(&node.run_dir());
    let out = node
        .exec_timeout(
            &[&s(&bin("vtysh")), "--run-dir", &run, "-c", cmd],
            Duration::from_secs(30),
        )
        .unwrap_or_else(|e| panic!("`{cmd}` failed: {e}"));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("`{cmd}` is not JSON ({e}):\n{out}"))
}

/// Whether a JSON value holds anything (an object or array with entries,
/// or a scalar).
fn has_data(v: &Value) -> bool {
    match v {
        Value::Object(o) => !o.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => true,
    }
}

#[test]
fn vtysh_json_matches_the_schemas() {
    if !can_run(&["bird", "birdc"]) {
        return;
    }
    let lab = Lab::new("vtysh_json_matches_the_schemas");
    let r1 = lab.node("r1");
    let r2 = lab.node("r2");
    lab.link(&r1, "eth0", &r2, "eth0");
    r1.add_addr("eth0", "198.51.100.1/25");
    r2.add_addr("eth0", "198.51.100.2/25");
    r1.add_addr("eth0", "2001:db8:1::1/64");
    r2.add_addr("eth0", "2001:db8:1::2/64");
    r1.add_addr("lo", "192.0.2.1/32");
    r2.add_addr("lo", "192.0.2.2/32");
    r1.must(&[
        "sh",
        "-c",
        "ip link add br100 type bridge && \
         ip link add vx100 type vxlan id 100 local 192.0.2.1 dstport 4789 nolearning && \
         ip link set vx100 master br100 && ip link set br100 up && ip link set vx100 up && \
         ip link add h1 type veth peer name h1p && ip link set h1 master br100 && \
         ip link set h1 up && ip link set h1p up",
    ]);

    let run = s(&r1.run_dir());
    let zcfg = r1.write_file("zebrad.toml", ZEBRAD);
    let z = r1.spawn_env(
        "zebrad",
        &[&s(&bin("zebrad")), "-f", &s(&zcfg), "--run-dir", &run],
        &[("ZEBRAD_LOG", "info")],
    );
    z.wait_socket(&r1.socket("zebrad"), Duration::from_secs(20));
    let bcfg = r1.write_file("bgpd.toml", BGPD);
    let b = bgp_util::start_bgpd(&r1, &bcfg);
    let ocfg = r1.write_file("ospfd.toml", OSPFD);
    let o = r1.spawn_env(
        "ospfd",
        &[&s(&bin("ospfd")), "-f", &s(&ocfg), "--run-dir", &run],
        &[("OSPFD_LOG", "info")],
    );
    o.wait_socket(&r1.socket("ospfd"), Duration::from_secs(20));
    let bird = start_bird(&r2, BIRD);

    // Real state first: the session, OSPF Full, BIRD's routes, the service.
    wait_established(&r1, "198.51.100.2");
    bird.wait_established("r1");
    wait_until(T, "OSPF Full with BIRD", || {
        json_of(&r1, "show ip ospf neighbor json")
            .to_string()
            .contains("Full")
    });
    wait_until(T, "BIRD's BGP route in r1's RIB", || {
        json_of(&r1, "show ip route 198.51.100.128/25 json")
            .to_string()
            .contains("bgp")
    });
    wait_until(T, "the anycast service up", || {
        json_of(&r1, "show anycast service web json")
            .to_string()
            .contains("\"up\"")
    });
    wait_until(T, "zebrad's VNI 100", || {
        has_data(&json_of(&r1, "show evpn vni json"))
    });
    wait_until(T, "a local MAC in VNI 100", || {
        has_data(&json_of(&r1, "show evpn mac vni 100 json")["macs"])
    });
    wait_until(T, "bgpd's EVPN route for VNI 100", || {
        json_of(&r1, "show bgp l2vpn evpn json")["numPrefix"] != 0
    });
    wait_until(T, "ospfd's external LSA", || {
        has_data(&json_of(&r1, "show ip ospf database json")["asExternalLinkStates"])
    });

    // The route map ran on BIRD's route (its counters are real state).
    let rm = json_of(&r1, "show route-map IN json");
    assert!(
        rm["IN"]["rules"][0]["invoked"].as_u64() >= Some(1),
        "{rm:#}"
    );

    // (command, schema): every show command that takes `json`.
    let commands: &[(&str, &str)] = &[
        ("show ip route json", "show-route"),
        ("show ipv6 route json", "show-route"),
        ("show ip route 203.0.113.0/25 json", "show-route"),
        ("show ip route table 254 json", "show-route"),
        ("show interface json", "show-interface"),
        ("show interface eth0 json", "show-interface"),
        ("show ip rule json", "show-ip-rule"),
        ("show zebra json", "show-zebra"),
        ("show nexthop-group rib json", "show-nexthop-group-rib"),
        ("show anycast services json", "show-anycast"),
        ("show anycast service web json", "show-anycast"),
        ("show evpn vni json", "show-evpn-vni"),
        ("show evpn vni 100 json", "show-evpn-vni-detail"),
        ("show evpn mac vni 100 json", "show-evpn-mac"),
        ("show evpn arp-cache vni 100 json", "show-evpn-arp-cache"),
        ("show bgp summary json", "show-bgp-summary"),
        ("show bgp ipv4 unicast summary json", "show-bgp-summary"),
        ("show bgp neighbors json", "show-bgp-neighbors"),
        ("show bgp neighbors 198.51.100.2 json", "show-bgp-neighbors"),
        ("show bgp ipv4 unicast json", "show-bgp-table"),
        ("show ip bgp json", "show-bgp-table"),
        (
            "show bgp ipv4 unicast 198.51.100.128/25 json",
            "show-bgp-prefix",
        ),
        (
            "show bgp neighbors 198.51.100.2 received-routes json",
            "show-bgp-neighbor-routes",
        ),
        (
            "show bgp neighbors 198.51.100.2 advertised-routes json",
            "show-bgp-neighbor-routes",
        ),
        ("show bgp l2vpn evpn json", "show-bgp-l2vpn-evpn"),
        (
            "show bgp l2vpn evpn route type 3 json",
            "show-bgp-l2vpn-evpn",
        ),
        ("show route-map json", "show-route-map"),
        ("show route-map IN json", "show-route-map"),
        ("show ip prefix-list json", "show-prefix-list"),
        ("show ip prefix-list detail BIRD json", "show-prefix-list"),
        ("show ipv6 prefix-list json", "show-prefix-list"),
        (
            "show bgp as-path-access-list json",
            "show-as-path-access-list",
        ),
        ("show bgp community-list json", "show-community-list"),
        (
            "show bgp large-community-list L json",
            "show-community-list",
        ),
        ("show bgp extcommunity-list json", "show-community-list"),
        ("show ip ospf json", "show-ip-ospf"),
        ("show ip ospf interface json", "show-ip-ospf-interface"),
        ("show ip ospf interface eth0 json", "show-ip-ospf-interface"),
        ("show ip ospf neighbor json", "show-ip-ospf-neighbor"),
        ("show ip ospf database json", "show-ip-ospf-database"),
        (
            "show ip ospf database router json",
            "show-ip-ospf-database-detail",
        ),
        (
            "show ip ospf database detail json",
            "show-ip-ospf-database-detail",
        ),
        ("show ip ospf route json", "show-ip-ospf-route"),
        ("show version json", "show-version"),
        ("show daemons json", "show-daemons"),
        ("show running-config json", "show-running-config"),
        ("show running-config bgpd json", "show-running-config"),
        ("show logging json", "show-logging"),
        ("anycast drain web json", "anycast-drain"),
        ("anycast undrain web json", "anycast-drain"),
    ];
    let dump = std::env::var_os("VTYSH_JSON_DUMP").map(PathBuf::from);
    let mut failures = Vec::new();
    let mut used = BTreeSet::new();
    for (cmd, name) in commands {
        let doc = json_of(&r1, cmd);
        if let Some(d) = &dump {
            let file = d.join(format!("{}.json", cmd.replace([' ', '/'], "_")));
            let _ = std::fs::write(file, serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        used.insert(name.to_string());
        if !has_data(&doc) {
            failures.push(format!("`{cmd}`: empty answer {doc}"));
            continue;
        }
        let path = schema_dir().join(format!("{name}.json"));
        let schema: Value = match std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
        {
            Ok(s) => s,
            Err(e) => {
                failures.push(format!("`{cmd}`: schema {}: {e}", path.display()));
                continue;
            }
        };
        if schema["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
            failures.push(format!("{}: not a draft 2020-12 schema", path.display()));
        }
        if let Err(errs) = topotests::schema::validate(&schema, &doc) {
            failures.push(format!(
                "`{cmd}` against {name}.json:\n    {}",
                errs.join("\n    ")
            ));
        }
    }
    // Every committed schema is checked by some command here.
    let committed: BTreeSet<String> = std::fs::read_dir(schema_dir())
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter_map(|e| {
                    e.file_name()
                        .to_str()
                        .and_then(|n| n.strip_suffix(".json"))
                        .map(str::to_string)
                })
                .collect()
        })
        .unwrap_or_default();
    for unused in committed.difference(&used) {
        failures.push(format!("schema {unused}.json is checked by no command"));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    z.assert_running();
    b.assert_running();
    o.assert_running();
}

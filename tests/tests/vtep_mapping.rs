//! zebrad's VTEP programming in the gRPC mapping mode (no EVPN): an
//! orchestrator (this test) pushes remote VTEPs, MACs and MAC+IPs to the
//! zebrad of each of two leaves; the kernel's own VXLAN and bridge devices
//! (learning off on the VXLAN port) carry the hosts' traffic, which can only
//! work if zebrad programmed the flood list and the FDB.
//!
//! Topology: leaf1 eth0 192.0.2.1/24 -- leaf2 eth0 192.0.2.2/24; VTEP
//! addresses 203.0.113.1/32 and 203.0.113.2/32 on `lo`, routed by static
//! routes of zebrad; on each leaf br100 (198.51.100.254/.253) with vx100
//! (VNI 100) and a host port. h1 (198.51.100.1, 02:00:00:00:01:01) behind
//! leaf1, h2 (198.51.100.2, 02:00:00:00:02:02) behind leaf2.

#[path = "zebrad_util.rs"]
mod util;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use proto::transport::{connect, Address};
use proto::zebra::zebra_client::ZebraClient;
use proto::zebra::{
    evpn_push_request, EvpnBatch, EvpnHello, EvpnPushReply, EvpnPushRequest, RemoteMac,
    RemoteMacIp, RemoteVtep, ShowEvpnReply, ShowEvpnRequest, WatchEvpnRequest,
};
use tokio::runtime::Runtime;
use tokio_stream::StreamExt;
use tonic::transport::Channel;
use topotests::{bin, wait_until, Lab, Node, Proc};
use util::start_zebrad;

const VNI: u32 = 100;
const H1_MAC: [u8; 6] = [2, 0, 0, 0, 1, 1];
const H2_MAC: [u8; 6] = [2, 0, 0, 0, 2, 2];
const SOON: Duration = Duration::from_secs(10);

struct Topo {
    lab: Lab,
    leaf1: Node,
    leaf2: Node,
    h1: Node,
    h2: Node,
}

fn leaf_conf(node: &Node, peer_vtep: &str, via: &str) -> PathBuf {
    node.write_file(
        "zebrad.toml",
        &format!(
            "[rib]\nstale_time = 4\n\n[[static]]\nprefix = \"{peer_vtep}/32\"\nvia = \"{via}\"\n"
        ),
    )
}

fn vxlan(leaf: &Node, vtep: &str, svi: &str, host: &str) {
    leaf.must(&["ip", "addr", "add", &format!("{vtep}/32"), "dev", "lo"]);
    leaf.must_sh(&format!(
        "ip link add br100 type bridge && \
         ip link add vx100 type vxlan id 100 local {vtep} dstport 4789 nolearning && \
         ip link set vx100 master br100 && \
         bridge link set dev vx100 learning off && \
         ip link set {host} master br100 && \
         ip addr add {svi}/24 dev br100 && \
         ip link set br100 up && ip link set vx100 up"
    ));
}

fn topo(test: &str) -> Topo {
    let lab = Lab::new(test);
    let leaf1 = lab.node("leaf1");
    let leaf2 = lab.node("leaf2");
    let h1 = lab.node("h1");
    let h2 = lab.node("h2");
    lab.link(&leaf1, "eth0", &leaf2, "eth0");
    leaf1.add_addr("eth0", "192.0.2.1/24");
    leaf2.add_addr("eth0", "192.0.2.2/24");
    lab.link(&h1, "eth0", &leaf1, "h1");
    lab.link(&h2, "eth0", &leaf2, "h2");
    h1.must(&["ip", "link", "set", "eth0", "address", "02:00:00:00:01:01"]);
    h2.must(&["ip", "link", "set", "eth0", "address", "02:00:00:00:02:02"]);
    h1.add_addr("eth0", "198.51.100.1/24");
    h2.add_addr("eth0", "198.51.100.2/24");
    vxlan(&leaf1, "203.0.113.1", "198.51.100.254", "h1");
    vxlan(&leaf2, "203.0.113.2", "198.51.100.253", "h2");
    Topo {
        lab,
        leaf1,
        leaf2,
        h1,
        h2,
    }
}

/// A blocking EVPN client of one zebrad: the orchestrator's side.
struct Orch {
    rt: Arc<Runtime>,
    client: ZebraClient<Channel>,
    tx: Option<tokio::sync::mpsc::Sender<EvpnPushRequest>>,
    replies: Option<tonic::Streaming<EvpnPushReply>>,
    hello: EvpnPushReply,
}

impl Orch {
    fn connect(node: &Node, name: &str) -> Orch {
        let rt = Arc::new(Runtime::new().expect("tokio runtime"));
        let ch = rt
            .block_on(connect(&Address::Unix(node.socket("zebrad"))))
            .expect("connect to zebrad");
        let mut client = ZebraClient::new(ch);
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        let name = name.to_string();
        let (replies, hello) = rt.block_on(async {
            tx.send(EvpnPushRequest {
                msg: Some(evpn_push_request::Msg::Hello(EvpnHello {
                    client: name,
                    stale_time: 0,
                })),
            })
            .await
            .expect("hello");
            let mut replies = client
                .push_evpn(tokio_stream::wrappers::ReceiverStream::new(rx))
                .await
                .expect("PushEvpn")
                .into_inner();
            let hello = tokio::time::timeout(SOON, replies.next())
                .await
                .expect("answer to Hello")
                .expect("stream open")
                .expect("hello reply");
            (replies, hello)
        });
        Orch {
            rt,
            client,
            tx: Some(tx),
            replies: Some(replies),
            hello,
        }
    }

    fn push(&mut self, b: EvpnBatch) -> EvpnPushReply {
        let tx = self.tx.clone().expect("open");
        let replies = self.replies.as_mut().expect("open");
        let seq = b.seq;
        self.rt.block_on(async {
            tx.send(EvpnPushRequest {
                msg: Some(evpn_push_request::Msg::Batch(b)),
            })
            .await
            .expect("send batch");
            loop {
                let r = tokio::time::timeout(SOON, replies.next())
                    .await
                    .expect("an answer")
                    .expect("stream open")
                    .expect("reply");
                if r.seq == seq {
                    break r;
                }
            }
        })
    }

    fn show(&self) -> ShowEvpnReply {
        let mut c = self.client.clone();
        self.rt
            .block_on(c.show_evpn(ShowEvpnRequest {
                vni: VNI,
                macs: true,
                neighbors: true,
            }))
            .expect("ShowEvpn")
            .into_inner()
    }
}

fn addr(s: &str) -> Vec<u8> {
    proto::addr_to_bytes(s.parse().expect("address"))
}

/// What leaf `me` is told about the other leaf (`vtep`, its host).
fn mappings(seq: u64, vtep: &str, mac: [u8; 6], ip: &str, eor: bool) -> EvpnBatch {
    EvpnBatch {
        seq,
        vtep_add: vec![RemoteVtep {
            vni: VNI,
            vtep: addr(vtep),
        }],
        mac_add: vec![RemoteMac {
            vni: VNI,
            mac: mac.to_vec(),
            vtep: addr(vtep),
            seq: 0,
            sticky: false,
        }],
        macip_add: vec![RemoteMacIp {
            vni: VNI,
            ip: addr(ip),
            mac: mac.to_vec(),
            vtep: addr(vtep),
        }],
        end_of_rib: eor,
        ..Default::default()
    }
}

fn fdb(leaf: &Node) -> BTreeSet<String> {
    topotests::vxlan::fdb(leaf, "vx100")
}

fn neighs(leaf: &Node) -> BTreeSet<String> {
    topotests::vxlan::zebra_neighbors(leaf, "br100")
}

fn vtysh(node: &Node, cmd: &str) -> String {
    let v = bin("vtysh").to_string_lossy().into_owned();
    let run = node.run_dir().to_string_lossy().into_owned();
    node.must(&[&v, "--run-dir", &run, "-c", cmd])
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn expected_fdb(vtep: &str, mac: &str) -> BTreeSet<String> {
    topotests::vxlan::expected_fdb(vtep, &[mac], "br100")
}

fn wait_tables(leaf: &Node, fdb_want: &BTreeSet<String>, neigh_want: &BTreeSet<String>) {
    let (mut f, mut n) = (BTreeSet::new(), BTreeSet::new());
    let r = topotests::try_wait_until(SOON, "FDB and neighbor tables as expected", || {
        f = fdb(leaf);
        n = neighs(leaf);
        &f == fdb_want && &n == neigh_want
    });
    if let Err(e) = r {
        panic!(
            "{e} on {}: fdb {f:?} (want {fdb_want:?}), neigh {n:?} (want {neigh_want:?})",
            leaf.name()
        );
    }
}

fn start(t: &Topo) -> (Proc, Proc) {
    let c1 = leaf_conf(&t.leaf1, "203.0.113.2", "192.0.2.2");
    let c2 = leaf_conf(&t.leaf2, "203.0.113.1", "192.0.2.1");
    (start_zebrad(&t.leaf1, &c1), start_zebrad(&t.leaf2, &c2))
}

#[test]
fn vtep_mapping_mode_ping_and_reachability() {
    let t = topo("vtep_mapping_mode_ping_and_reachability");
    let (z1, z2) = start(&t);
    let mut o1 = Orch::connect(&t.leaf1, "orchestrator");
    let mut o2 = Orch::connect(&t.leaf2, "orchestrator");
    assert_eq!(o1.hello.stale_entries, 0);

    // Local state: the VXLAN device, its bridge and VTEP address.
    let dump = o1.rt.block_on(async {
        let mut c = o1.client.clone();
        let mut s = c
            .watch_evpn(WatchEvpnRequest { vnis: vec![VNI] })
            .await
            .expect("WatchEvpn")
            .into_inner();
        tokio::time::timeout(SOON, s.next())
            .await
            .expect("a dump")
            .expect("stream open")
            .expect("update")
    });
    assert!(dump.end_of_dump);
    let dev = &dump.vni_update[0];
    assert_eq!(
        (dev.vni, dev.ifname.as_str(), dev.bridge.as_str()),
        (VNI, "vx100", "br100")
    );
    assert_eq!(dev.local_vtep, addr("203.0.113.1"));
    assert_eq!(dev.udp_port, 4789);
    assert!(dev.up && !dev.learning);

    let r = o1.push(mappings(1, "203.0.113.2", H2_MAC, "198.51.100.2", true));
    assert_eq!((r.accepted, r.rejected.len()), (3, 0));
    o2.push(mappings(1, "203.0.113.1", H1_MAC, "198.51.100.1", true));
    wait_tables(
        &t.leaf1,
        &expected_fdb("203.0.113.2", "02:00:00:00:02:02"),
        &set(&["198.51.100.2 02:00:00:00:02:02"]),
    );
    wait_tables(
        &t.leaf2,
        &expected_fdb("203.0.113.1", "02:00:00:00:01:01"),
        &set(&["198.51.100.1 02:00:00:00:01:01"]),
    );
    wait_until(SOON, "h1 pings h2 across the overlay", || {
        t.h1.reachable("198.51.100.2")
    });
    assert!(t.h2.reachable("198.51.100.1"));

    // Show: the remote VTEP reachable through the static route; h1's MAC
    // learned locally.
    wait_until(SOON, "h1's MAC local on leaf1", || {
        o1.show().vnis[0]
            .macs
            .iter()
            .any(|m| m.local && m.mac == H1_MAC && m.ifname == "h1")
    });
    let s = o1.show();
    let v = &s.vnis[0];
    assert_eq!(v.vteps.len(), 1);
    assert!(v.vteps[0].reachable && v.vteps[0].installed && v.vteps[0].flood);
    assert_eq!(v.vteps[0].macs, 1);
    assert_eq!((v.remote_macs, v.remote_neighbors), (1, 1));

    // The underlay link goes down: nothing points at the unreachable VTEP.
    t.leaf1.must(&["ip", "link", "set", "eth0", "down"]);
    wait_tables(&t.leaf1, &BTreeSet::new(), &BTreeSet::new());
    let s = o1.show();
    assert!(!s.vnis[0].vteps[0].reachable && !s.vnis[0].vteps[0].installed);
    let out = vtysh(&t.leaf1, "show evpn vni 100");
    assert!(
        out.contains("203.0.113.2 flood: HER unreachable, not installed"),
        "{out}"
    );
    let out = vtysh(&t.leaf1, "show evpn mac vni 100");
    assert!(out.contains("02:00:00:00:02:02 remote U"), "{out}");
    // Back up: the entries return, and traffic with them.
    t.leaf1.must(&["ip", "link", "set", "eth0", "up"]);
    wait_tables(
        &t.leaf1,
        &expected_fdb("203.0.113.2", "02:00:00:00:02:02"),
        &set(&["198.51.100.2 02:00:00:00:02:02"]),
    );
    wait_until(SOON, "h1 pings h2 again", || t.h1.reachable("198.51.100.2"));

    // Our entries deleted by hand come back (as zebrad's routes do).
    t.leaf1.must(&[
        "sh",
        "-c",
        "bridge fdb del 02:00:00:00:02:02 dev vx100 self && \
         bridge fdb del 00:00:00:00:00:00 dev vx100 dst 203.0.113.2 self && \
         ip neigh del 198.51.100.2 dev br100",
    ]);
    wait_tables(
        &t.leaf1,
        &expected_fdb("203.0.113.2", "02:00:00:00:02:02"),
        &set(&["198.51.100.2 02:00:00:00:02:02"]),
    );
    let out = vtysh(&t.leaf1, "show evpn vni 100");
    assert!(
        out.contains("203.0.113.2 flood: HER reachable via 203.0.113.2/32 (static)"),
        "{out}"
    );
    let j: serde_json::Value =
        serde_json::from_str(&vtysh(&t.leaf1, "show evpn arp-cache vni 100 json")).expect("json");
    assert_eq!(j["198.51.100.2"]["state"], "active", "{j}");
    assert_eq!(j["198.51.100.2"]["remoteVtep"], "203.0.113.2", "{j}");

    // A MAC moves to another VTEP: replaced in place, never duplicated.
    o1.push(EvpnBatch {
        seq: 2,
        mac_add: vec![RemoteMac {
            vni: VNI,
            mac: H2_MAC.to_vec(),
            vtep: addr("192.0.2.2"),
            seq: 1,
            sticky: false,
        }],
        ..Default::default()
    });
    let mut want = expected_fdb("203.0.113.2", "02:00:00:00:02:02");
    want.remove("02:00:00:00:02:02 203.0.113.2 self extern_learn");
    want.insert("02:00:00:00:02:02 192.0.2.2 self extern_learn".into());
    wait_tables(&t.leaf1, &want, &set(&["198.51.100.2 02:00:00:00:02:02"]));
    z1.assert_running();
    z2.assert_running();
}

#[test]
fn vtep_restart_adopts_and_leaves_foreign_entries() {
    let t = topo("vtep_restart_adopts_and_leaves_foreign_entries");
    let (z1, _z2) = start(&t);
    // Foreign entries: a flood entry, a static MAC and a neighbor made by
    // hand; zebrad must never touch them.
    t.leaf1.must_sh(
        "bridge fdb append 00:00:00:00:00:00 dev vx100 dst 203.0.113.9 && \
         bridge fdb add 02:00:00:00:09:09 dev vx100 dst 203.0.113.9 && \
         ip neigh add 198.51.100.9 lladdr 02:00:00:00:09:09 dev br100 nud permanent",
    );
    let foreign = set(&[
        "00:00:00:00:00:00 203.0.113.9 self",
        "02:00:00:00:09:09 203.0.113.9 self",
    ]);
    let mut o1 = Orch::connect(&t.leaf1, "orchestrator");
    let mut b = mappings(1, "203.0.113.2", H2_MAC, "198.51.100.2", false);
    // A second VTEP and MAC that the orchestrator will not re-send.
    b.vtep_add.push(RemoteVtep {
        vni: VNI,
        vtep: addr("192.0.2.2"),
    });
    b.mac_add.push(RemoteMac {
        vni: VNI,
        mac: vec![2, 0, 0, 0, 3, 3],
        vtep: addr("192.0.2.2"),
        seq: 0,
        sticky: false,
    });
    b.end_of_rib = true;
    o1.push(b);
    let mut full: BTreeSet<String> = expected_fdb("203.0.113.2", "02:00:00:00:02:02");
    full.extend(foreign.iter().cloned());
    full.insert("00:00:00:00:00:00 192.0.2.2 self".into());
    full.insert("02:00:00:00:03:03 192.0.2.2 self extern_learn".into());
    full.insert("02:00:00:00:03:03 - extern_learn master br100".into());
    let neigh = set(&["198.51.100.2 02:00:00:00:02:02"]);
    wait_tables(&t.leaf1, &full, &neigh);

    // zebrad restarts (killed: no clean shutdown); the orchestrator comes
    // back and re-sends only part of what it had.
    drop(o1);
    z1.kill();
    let c1 = t.leaf1.dir().join("zebrad.toml");
    let z1 = start_zebrad(&t.leaf1, &c1);
    assert_eq!(fdb(&t.leaf1), full, "entries kept across the restart");
    let mut o1 = Orch::connect(&t.leaf1, "orchestrator");
    o1.push(mappings(1, "203.0.113.2", H2_MAC, "198.51.100.2", true));
    // Adopted, not duplicated; the rest removed after the stale time (4 s);
    // the foreign entries untouched throughout.
    let mut kept = expected_fdb("203.0.113.2", "02:00:00:00:02:02");
    kept.extend(foreign.iter().cloned());
    wait_tables(&t.leaf1, &kept, &neigh);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(fdb(&t.leaf1), kept);
    let n = t
        .leaf1
        .must(&["ip", "neigh", "show", "198.51.100.9", "dev", "br100"]);
    assert!(
        n.contains("02:00:00:00:09:09") && n.contains("PERMANENT"),
        "{n}"
    );
    z1.assert_running();
    let _ = &t.lab;
    let _ = (&t.h1, &t.h2);
}

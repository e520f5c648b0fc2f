//! RIB throughput and memory: 1,000,000 IPv4 prefixes received from one
//! eBGP peer in realistic UPDATEs (500 prefixes each, 2,000 distinct
//! attribute sets) and re-advertised to another, timed until every UPDATE
//! byte for the second peer is produced; then the memory the RIB holds
//! per prefix (RSS delta from /proc/self/status).
//!
//! Run: `cargo bench -p bgpd --bench rib` (plain timing, no harness).
//! With `RIB_BENCH_ROLES=1` the sessions have BGP roles (RFC 9234): A is
//! our provider (every route gets OTC on import) and B our customer (OTC
//! kept on export), to measure what the Only-to-Customer rules cost.
//! `RIB_BENCH_ADD_PATH=1` makes peer B an ADD-PATH receiver.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use bgpd::packet::{
    decode_message, AfiSafi, AsPath, Community, Message, Nlri, Origin, PathAttributes, Role,
    SessionCaps, Update,
};
use bgpd::policy::{Action, Bindings, Entry, Policies, RouteMap};
use bgpd::rib::{PeerInfo, Rib, RibConfig};
use bytes::Bytes;
use ipnetwork::IpNetwork;

const PREFIXES: u32 = 1_000_000;
const PER_UPDATE: u32 = 500;
const ATTR_SETS: u32 = 2_000;
/// UPDATEs handed to the RIB between two `take_output` calls (what one
/// read of a busy socket delivers).
const BATCH: usize = 64;

fn rss_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn peer(id: u32, remote_as: u32) -> PeerInfo {
    PeerInfo {
        id,
        addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, id as u8)),
        remote_as,
        remote_id: Ipv4Addr::new(10, 0, 0, id as u8),
        ibgp: false,
        caps: SessionCaps::four_octet(),
        local_addr: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 254)),
        local_v6_global: None,
        local_v6_link_local: None,
        next_hop_self: false,
        allowas_in: 0,
        families: vec![AfiSafi::IPV4_UNICAST],
        policy: Bindings {
            import: Some("all".into()),
            export: Some("all".into()),
            ..Bindings::default()
        },
        rr_client: false,
        enhanced_route_refresh: false,
        graceful_restart: None,
        add_path_send: Default::default(),
        interface: None,
    }
}

/// The UPDATE messages peer A sends, on the wire.
fn updates(caps: &SessionCaps) -> Vec<Bytes> {
    let mut out = Vec::new();
    let mut i = 0u32;
    let mut n = 0u32;
    while i < PREFIXES {
        let set = n % ATTR_SETS;
        let attributes = PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence([
                65001,
                64512 + set % 400,
                4_200_000_000 + set,
                13335 + set % 7,
            ])),
            next_hop: Some(Ipv4Addr::new(198, 51, 100, 1)),
            med: Some(set % 10),
            communities: vec![Community::new(65001, (set % 50) as u16)],
            ..PathAttributes::default()
        };
        let nlri = (i..(i + PER_UPDATE).min(PREFIXES))
            .map(|k| {
                // /24s spread over 1.0.0.0 - 16.255.255.0, every 16th a /22
                // or /20 where it does not collide.
                let addr = Ipv4Addr::from((1u32 << 24) + (k << 8));
                let len = match k % 16 {
                    0 if k % 64 == 0 => 20,
                    0 => 24,
                    _ => 24,
                };
                Nlri::new(IpNetwork::new(IpAddr::V4(addr), len).expect("valid"))
            })
            .collect();
        let u = Update {
            attributes,
            nlri,
            ..Update::default()
        };
        out.push(Message::Update(u).to_bytes(caps).expect("encodes"));
        i += PER_UPDATE;
        n += 1;
    }
    out
}

fn main() {
    let caps = SessionCaps::four_octet();
    let msgs = updates(&caps);
    let in_bytes: usize = msgs.iter().map(|m| m.len()).sum();
    let mut pol = Policies::new();
    pol.add_route_map(
        "all",
        RouteMap::new(vec![Entry {
            seq: 10,
            action: Action::Permit,
            matches: vec![],
            sets: vec![],
            flow: None,
        }]),
    );
    let cfg = RibConfig {
        local_as: 65000,
        router_id: Ipv4Addr::new(10, 255, 0, 1),
        multipath_ebgp: 1,
        multipath_ibgp: 1,
        always_compare_med: false,
        cluster_id: None,
    };
    let now = Instant::now();
    // The codec's share: decoding alone.
    let start = Instant::now();
    let mut decoded = 0usize;
    for m in &msgs {
        if let Ok(d) = decode_message(m, &caps) {
            if let Message::Update(u) = d.message {
                decoded += u.nlri.len();
            }
        }
    }
    let decode_time = start.elapsed();
    let rss0 = rss_kb("VmRSS:");

    let mut rib = Rib::new(cfg, pol);
    let (mut a, mut b) = (peer(1, 65001), peer(2, 65002));
    if std::env::var_os("RIB_BENCH_ROLES").is_some() {
        a.caps.local_role = Some(Role::Customer);
        b.caps.local_role = Some(Role::Provider);
        println!("rib: with roles (A our provider, B our customer)");
    }
    if std::env::var_os("RIB_BENCH_ADD_PATH").is_some() {
        // Peer B takes ADD-PATH ids (RFC 7911): every path, our TX ids,
        // its Adj-RIB-Out stored.
        b.caps.add_path_tx = vec![AfiSafi::IPV4_UNICAST];
        println!("rib: peer B receives with ADD-PATH");
    }
    rib.peer_up(a, now);
    rib.peer_up(b, now);
    drop(rib.take_output());

    let start = Instant::now();
    let (mut out_msgs, mut out_bytes, mut zebra) = (0usize, 0usize, 0usize);
    for (k, chunk) in msgs.chunks(BATCH).enumerate() {
        for m in chunk {
            let d = decode_message(m, &caps).expect("decodes");
            let Message::Update(update) = d.message else {
                continue;
            };
            let parsed = bgpd::packet::ParsedUpdate {
                update,
                report: d.report,
            };
            rib.update(1, &parsed, now);
        }
        let out = rib.take_output();
        for nh in &out.nht_register {
            rib.nexthop_update(*nh, true, 0);
        }
        zebra += rib.take_fib(usize::MAX).add.len();
        for (peer, b) in &out.to_peers {
            if *peer == 2 {
                out_msgs += b.len();
                out_bytes += b.iter().map(|m| m.len()).sum::<usize>();
            }
        }
        if k == 0 {
            // The first batch only registered the next hop.
            let out = rib.take_output();
            zebra += rib.take_fib(usize::MAX).add.len();
            for (peer, b) in &out.to_peers {
                if *peer == 2 {
                    out_msgs += b.len();
                    out_bytes += b.iter().map(|m| m.len()).sum::<usize>();
                }
            }
        }
    }
    let elapsed = start.elapsed();
    println!(
        "rib: of which decoding {decoded} NLRI alone takes {:.3} s",
        decode_time.as_secs_f64()
    );
    let rss1 = rss_kb("VmRSS:");
    let hwm = rss_kb("VmHWM:");
    let held = rib.prefix_count(AfiSafi::IPV4_UNICAST);
    println!(
        "rib: {held} prefixes in {} UPDATEs ({:.1} MB) from peer A -> {out_msgs} UPDATEs ({:.1} MB) to peer B, {zebra} zebra routes",
        msgs.len(),
        in_bytes as f64 / 1e6,
        out_bytes as f64 / 1e6
    );
    println!(
        "rib: {:.3} s ({:.0} ns/prefix, {:.2} M prefixes/s)",
        elapsed.as_secs_f64(),
        elapsed.as_nanos() as f64 / f64::from(PREFIXES),
        f64::from(PREFIXES) / elapsed.as_secs_f64() / 1e6
    );
    println!(
        "rib: RSS +{:.1} MB ({:.0} bytes/prefix), peak RSS {:.1} MB, {} attribute sets",
        (rss1.saturating_sub(rss0)) as f64 / 1024.0,
        (rss1.saturating_sub(rss0) * 1024) as f64 / f64::from(PREFIXES),
        hwm as f64 / 1024.0,
        rib.attribute_sets()
    );

    if std::env::var_os("RIB_BENCH_CHECK").is_some() {
        let views = rib.loc_rib(AfiSafi::IPV4_UNICAST, None);
        let best = views.iter().filter(|v| v.best).count();
        let reasons: std::collections::BTreeMap<String, usize> = views
            .iter()
            .filter(|v| !v.best)
            .fold(Default::default(), |mut m, v| {
                *m.entry(format!("{:?}", v.reason)).or_default() += 1;
                m
            });
        println!(
            "rib: check: {} paths, {best} best, others {reasons:?}",
            views.len()
        );
    }

    if std::env::var_os("RIB_BENCH_MAIN_ONLY").is_some() {
        return;
    }

    // A third peer comes up: full table dump.
    let start = Instant::now();
    rib.peer_up(peer(3, 65003), now);
    let out = rib.take_output();
    let n: usize = out.to_peers.iter().map(|(_, b)| b.len()).sum();
    println!(
        "rib: full dump to a new peer: {n} UPDATEs in {:.3} s",
        start.elapsed().as_secs_f64()
    );
    drop(out);

    // Peer A goes away: everything withdrawn toward B and C.
    let start = Instant::now();
    rib.peer_down(1);
    let out = rib.take_output();
    let fib = rib.take_fib(usize::MAX);
    let n: usize = out.to_peers.iter().map(|(_, b)| b.len()).sum();
    println!(
        "rib: peer down, {} prefixes withdrawn ({n} UPDATEs, {} zebra deletes) in {:.3} s",
        held,
        fib.del.len(),
        start.elapsed().as_secs_f64()
    );
}

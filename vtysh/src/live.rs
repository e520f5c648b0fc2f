//! Live values for completion: where the grammar takes a neighbor address,
//! an interface, a VNI, an anycast service, a route map, a list or a peer
//! group, Tab and `?` offer the ones the running daemons have.
//!
//! The line editor asks synchronously, from inside the shell's runtime, so a
//! fetch runs on a thread of its own with its own small runtime and a short
//! time limit ([`FETCH_TIMEOUT`]); its answer is cached for [`CACHE_FOR`],
//! so repeated Tabs do not ask again. A daemon that is down or slow gives
//! no values and no message: completion never prints errors.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use proto::bgp::bgp_client::BgpClient;
use proto::transport::{self, Address};
use proto::zebra as pb;
use proto::zebra::zebra_client::ZebraClient;
use toml_edit::DocumentMut;

use crate::configure::Daemon;
use crate::deployment::Sockets;
use crate::running;

/// How long one fetch may take before completion goes on without it.
pub const FETCH_TIMEOUT: Duration = Duration::from_millis(700);
/// How long fetched values are reused.
pub const CACHE_FOR: Duration = Duration::from_secs(5);

/// A kind of value the grammar takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Live {
    /// bgpd's neighbors (addresses).
    Neighbor,
    /// zebrad's interfaces.
    Interface,
    /// zebrad's VXLAN VNIs.
    Vni,
    /// zebrad's anycast services.
    Service,
    /// bgpd's `[[route_map]]` names.
    RouteMap,
    /// bgpd's `[[prefix_list]]` names.
    PrefixList,
    /// bgpd's `[[as_path_list]]` names.
    AsPathList,
    /// bgpd's `[[community_list]]` names.
    CommunityList,
    /// bgpd's `[[peer_group]]` names.
    PeerGroup,
}

impl Live {
    /// The one-line help shown beside each value under `?`.
    pub fn help(self) -> &'static str {
        match self {
            Live::Neighbor => "configured neighbor",
            Live::Interface => "interface",
            Live::Vni => "VNI",
            Live::Service => "anycast service",
            Live::RouteMap => "route map",
            Live::PrefixList => "prefix list",
            Live::AsPathList => "as-path access-list",
            Live::CommunityList => "community list",
            Live::PeerGroup => "peer group",
        }
    }
}

/// The values of the running daemons, cached briefly.
pub struct Values {
    sockets: Sockets,
    cache: Mutex<HashMap<Live, (Instant, Vec<String>)>>,
}

impl Values {
    pub fn new(sockets: Sockets) -> Values {
        Values {
            sockets,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The values of `kind` (empty when the daemon is down or slow).
    pub fn get(&self, kind: Live) -> Vec<String> {
        if let Ok(c) = self.cache.lock() {
            if let Some((at, v)) = c.get(&kind) {
                if at.elapsed() < CACHE_FOR {
                    return v.clone();
                }
            }
        }
        let sockets = self.sockets.clone();
        // A thread of its own: the caller may be inside the shell's runtime.
        let fetched = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                tokio::time::timeout(FETCH_TIMEOUT, fetch(kind, &sockets))
                    .await
                    .ok()?
                    .ok()
            })
        })
        .join()
        .ok()
        .flatten()
        .unwrap_or_default();
        if let Ok(mut c) = self.cache.lock() {
            c.insert(kind, (Instant::now(), fetched.clone()));
        }
        fetched
    }
}

async fn zebra(s: &Sockets) -> Result<ZebraClient<tonic::transport::Channel>, String> {
    let ch = transport::connect(&s.zebrad)
        .await
        .map_err(|e| e.to_string())?;
    Ok(ZebraClient::new(ch).max_decoding_message_size(transport::MAX_MESSAGE_SIZE))
}

/// Asks the daemon that has values of `kind`.
async fn fetch(kind: Live, s: &Sockets) -> Result<Vec<String>, String> {
    let st = |e: tonic::Status| e.message().to_string();
    let mut out: Vec<String> = match kind {
        Live::Neighbor => {
            let addr = Address::Unix(transport::socket_path(&s.run_dir, "bgpd"));
            let ch = transport::connect(&addr).await.map_err(|e| e.to_string())?;
            BgpClient::new(ch)
                .max_decoding_message_size(transport::MAX_MESSAGE_SIZE)
                .neighbors(proto::bgp::NeighborsRequest::default())
                .await
                .map_err(st)?
                .into_inner()
                .neighbors
                .iter()
                .filter_map(|n| proto::addr_from_bytes(&n.address).ok())
                .map(|a| a.to_string())
                .collect()
        }
        Live::Interface => zebra(s)
            .await?
            .list_interfaces(pb::InterfaceRequest {})
            .await
            .map_err(st)?
            .into_inner()
            .interfaces
            .into_iter()
            .map(|i| i.name)
            .collect(),
        Live::Vni => zebra(s)
            .await?
            .show_evpn(pb::ShowEvpnRequest::default())
            .await
            .map_err(st)?
            .into_inner()
            .vnis
            .iter()
            .map(|v| v.vni.to_string())
            .collect(),
        Live::Service => zebra(s)
            .await?
            .show_services(pb::ShowServicesRequest::default())
            .await
            .map_err(st)?
            .into_inner()
            .services
            .into_iter()
            .map(|v| v.name)
            .collect(),
        Live::RouteMap
        | Live::PrefixList
        | Live::AsPathList
        | Live::CommunityList
        | Live::PeerGroup => {
            let text = running::get(s, Daemon::Bgpd).await?.text;
            names(&text, kind)
        }
    };
    out.sort();
    out.dedup();
    Ok(out)
}

/// The `name`s of the list of `kind` in bgpd's configuration text.
pub fn names(text: &str, kind: Live) -> Vec<String> {
    let aot = match kind {
        Live::RouteMap => "route_map",
        Live::PrefixList => "prefix_list",
        Live::AsPathList => "as_path_list",
        Live::CommunityList => "community_list",
        Live::PeerGroup => "peer_group",
        _ => return Vec::new(),
    };
    let Ok(doc) = text.parse::<DocumentMut>() else {
        return Vec::new();
    };
    doc.get(aot)
        .and_then(|i| i.as_array_of_tables())
        .map(|a| {
            a.iter()
                .filter_map(|t| t.get("name").and_then(|n| n.as_str()).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_lists_in_the_text() {
        let t = "[bgp]\nasn = 1\n[[route_map]]\nname = \"IN\"\n[[route_map]]\nname = \"OUT\"\n[[prefix_list]]\nname = \"P\"\nentries = []\n";
        assert_eq!(names(t, Live::RouteMap), vec!["IN", "OUT"]);
        assert_eq!(names(t, Live::PrefixList), vec!["P"]);
        assert!(names(t, Live::PeerGroup).is_empty());
        assert!(names("not toml [", Live::RouteMap).is_empty());
    }

    #[test]
    fn a_daemon_down_gives_no_values_quickly() {
        let dir = std::env::temp_dir().join(format!("vtysh-live-{}", std::process::id()));
        let v = Values::new(Sockets {
            zebrad: Address::Unix(dir.join("zebrad.sock")),
            run_dir: dir,
            listed: None,
        });
        let t = Instant::now();
        for k in [Live::Neighbor, Live::Interface, Live::Vni, Live::RouteMap] {
            assert!(v.get(k).is_empty());
        }
        assert!(t.elapsed() < FETCH_TIMEOUT * 5, "{:?}", t.elapsed());
        // Cached: asked again without a fetch.
        let t = Instant::now();
        assert!(v.get(Live::Neighbor).is_empty());
        assert!(t.elapsed() < Duration::from_millis(50));
    }
}

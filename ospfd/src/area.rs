//! Areas (RFC 2328 §3, §6): the backbone and normal areas, stub areas
//! (§3.6: no AS-external-LSAs, a default summary from the ABR), and what an
//! area border router originates into each area: summary-LSAs of type 3 for
//! the routes of other areas, with configured ranges summarised (§12.4.3,
//! cost of a range = the largest cost of its components), and of type 4 for
//! AS boundary routers.
//!
//! Owns each area's configuration and link-state database. It never floods
//! or originates by itself: `origination` asks it what to advertise.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ipnetwork::Ipv4Network;

use crate::instance::{Instance, Scope};
use crate::lsa::{LsaBody, LsaKey, LsaType, SummaryLsa, LS_INFINITY};
use crate::lsdb::Lsdb;
use crate::origination::Desired;
use crate::spf::{PathType, BACKBONE};

/// An area's configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AreaConfig {
    pub id: Ipv4Addr,
    pub stub: bool,
    /// Cost of the default summary an ABR originates into a stub area.
    pub stub_default_cost: u32,
    /// Address ranges (§3.5): intra-area networks inside one are advertised
    /// to other areas as the range alone.
    pub ranges: Vec<Ipv4Network>,
}

impl AreaConfig {
    pub fn normal(id: Ipv4Addr) -> AreaConfig {
        AreaConfig {
            id,
            stub: false,
            stub_default_cost: 1,
            ranges: Vec::new(),
        }
    }
}

/// One area.
#[derive(Clone, Debug)]
pub struct Area {
    pub id: Ipv4Addr,
    pub cfg: AreaConfig,
    pub lsdb: Lsdb,
}

impl Area {
    pub fn new(cfg: AreaConfig) -> Area {
        Area {
            id: cfg.id,
            cfg,
            lsdb: Lsdb::new(),
        }
    }

    pub fn is_backbone(&self) -> bool {
        self.id == BACKBONE
    }
}

impl Instance {
    /// §12.4.3: the summary-LSAs an ABR originates into `area`, added to
    /// `out`. Nothing unless this router is an ABR.
    pub(crate) fn desired_summaries(&self, area: Ipv4Addr, out: &mut Desired) {
        if !self.is_abr() {
            return;
        }
        let Some(a) = self.areas.get(&area) else {
            return;
        };
        let opts = self.area_options(Some(area));
        let rid = self.router_id;
        let mut nets: BTreeMap<Ipv4Network, u32> = BTreeMap::new();
        let mut ranges: BTreeMap<Ipv4Network, u32> = BTreeMap::new();
        for (prefix, r) in &self.table.networks {
            if r.area == area || r.cost >= LS_INFINITY {
                continue;
            }
            match r.path_type {
                PathType::IntraArea => {
                    let range = self.areas.get(&r.area).and_then(|o| {
                        o.cfg
                            .ranges
                            .iter()
                            .find(|g| g.contains(prefix.network()) && g.prefix() <= prefix.prefix())
                    });
                    match range {
                        Some(g) => {
                            let c = ranges.entry(*g).or_insert(0);
                            *c = (*c).max(r.cost);
                        }
                        None => {
                            nets.insert(*prefix, r.cost);
                        }
                    }
                }
                // Inter-area routes (learnt over the backbone) go only
                // into the other areas.
                PathType::InterArea if area != BACKBONE && r.area == BACKBONE => {
                    nets.insert(*prefix, r.cost);
                }
                _ => {}
            }
        }
        for (g, c) in ranges {
            nets.entry(g).or_insert(c);
        }
        if a.cfg.stub {
            // §12.4.3.1: the default route into a stub area.
            nets.insert(
                Ipv4Network::new(Ipv4Addr::UNSPECIFIED, 0)
                    .unwrap_or_else(|_| Ipv4Network::from(Ipv4Addr::UNSPECIFIED)),
                a.cfg.stub_default_cost,
            );
        }
        for (prefix, cost) in nets {
            out.insert(
                (
                    Scope::Area(area),
                    LsaKey::new(LsaType::SUMMARY_NETWORK, prefix.network(), rid),
                ),
                (
                    opts,
                    LsaBody::SummaryNetwork(SummaryLsa {
                        mask: prefix.mask(),
                        metric: cost,
                    }),
                ),
            );
        }
        // Type 4: the AS boundary routers of other areas, except into
        // stub areas.
        if a.cfg.stub {
            return;
        }
        for ((asbr, via), r) in &self.table.routers {
            if *via == area || !r.asbr || *asbr == rid || r.cost >= LS_INFINITY {
                continue;
            }
            if r.path_type != PathType::IntraArea && !(area != BACKBONE && *via == BACKBONE) {
                continue;
            }
            out.insert(
                (
                    Scope::Area(area),
                    LsaKey::new(LsaType::SUMMARY_ROUTER, *asbr, rid),
                ),
                (
                    opts,
                    LsaBody::SummaryRouter(SummaryLsa {
                        mask: Ipv4Addr::UNSPECIFIED,
                        metric: r.cost,
                    }),
                ),
            );
        }
    }
}

//! The `[evpn]` section of bgpd.toml: whether local VNIs are advertised
//! (FRR's `advertise-all-vni`), per-VNI route distinguishers and route
//! targets (`[[evpn.vni]]`; derived automatically otherwise, RFC 8365
//! §5.1.2.1), and duplicate-MAC detection (RFC 7432 §15.1: N moves in M
//! seconds, 5 in 180 by default).
//!
//! Owns validation of those keys, with errors through
//! [`common::config::Locator`]. Never looks at the kernel or the RIB.

use std::net::IpAddr;
use std::time::Duration;

use common::config::{ConfigError, Locator};
use serde::Deserialize;
use toml::Spanned;

use super::community::RouteTarget;
use super::nlri::RouteDistinguisher;

/// Per-VNI settings that override the derived ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VniConfig {
    pub vni: u32,
    pub rd: Option<RouteDistinguisher>,
    /// Route targets a received route must carry one of to be imported.
    pub import_rts: Vec<RouteTarget>,
    /// Route targets our routes carry.
    pub export_rts: Vec<RouteTarget>,
}

/// The validated `[evpn]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvpnConfig {
    /// Originate routes for every VNI zebrad reports (FRR's
    /// `advertise-all-vni`); off: only learn and reflect.
    pub advertise_all_vni: bool,
    /// The local VTEP address when the VXLAN devices have none.
    pub vtep: Option<IpAddr>,
    pub vnis: Vec<VniConfig>,
    /// Duplicate-MAC detection: a MAC moving `dup_max_moves` times within
    /// `dup_time` is frozen.
    pub dup_detection: bool,
    pub dup_max_moves: u32,
    pub dup_time: Duration,
    /// How long a duplicate stays frozen; `None`: until `clear evpn
    /// dup-addr` (FRR's `freeze permanent`).
    pub dup_freeze_time: Option<Duration>,
}

impl Default for EvpnConfig {
    fn default() -> Self {
        Self {
            advertise_all_vni: true,
            vtep: None,
            vnis: Vec::new(),
            dup_detection: true,
            dup_max_moves: 5,
            dup_time: Duration::from_secs(180),
            dup_freeze_time: None,
        }
    }
}

impl EvpnConfig {
    pub fn vni(&self, vni: u32) -> Option<&VniConfig> {
        self.vnis.iter().find(|v| v.vni == vni)
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEvpn {
    advertise_all_vni: Option<bool>,
    vtep: Option<Spanned<String>>,
    dup_addr_detection: Option<bool>,
    dup_max_moves: Option<Spanned<i64>>,
    dup_time: Option<Spanned<i64>>,
    dup_freeze_time: Option<Spanned<i64>>,
    #[serde(default)]
    vni: Vec<Spanned<RawVni>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVni {
    vni: Spanned<i64>,
    rd: Option<Spanned<String>>,
    #[serde(default)]
    route_targets: Vec<Spanned<String>>,
    #[serde(default)]
    import_rts: Vec<Spanned<String>>,
    #[serde(default)]
    export_rts: Vec<Spanned<String>>,
}

fn rts(
    loc: &Locator<'_>,
    v: &[Spanned<String>],
    key: &str,
) -> Result<Vec<RouteTarget>, ConfigError> {
    v.iter()
        .map(|s| match s.get_ref().parse::<RouteTarget>() {
            Ok(rt) => Ok(rt),
            Err(_) => loc.err(
                s.span(),
                key,
                format!(
                    "`{}` is not a route target (ASN:VALUE or IPv4:VALUE)",
                    s.get_ref()
                ),
            ),
        })
        .collect()
}

pub(crate) fn parse(loc: &Locator<'_>, raw: &RawEvpn) -> Result<EvpnConfig, ConfigError> {
    let mut cfg = EvpnConfig {
        advertise_all_vni: raw.advertise_all_vni.unwrap_or(true),
        dup_detection: raw.dup_addr_detection.unwrap_or(true),
        ..EvpnConfig::default()
    };
    if let Some(v) = &raw.vtep {
        cfg.vtep = Some(loc.addr(v, "evpn.vtep")?);
    }
    if let Some(v) = &raw.dup_max_moves {
        cfg.dup_max_moves = loc.int(v, "evpn.dup_max_moves", 2, 1000)? as u32;
    }
    if let Some(v) = &raw.dup_time {
        cfg.dup_time = Duration::from_secs(loc.int(v, "evpn.dup_time", 2, 1800)? as u64);
    }
    if let Some(v) = &raw.dup_freeze_time {
        // 0: permanent; otherwise FRR's range.
        let secs = loc.int(v, "evpn.dup_freeze_time", 0, 3600)? as u64;
        if (1..30).contains(&secs) {
            return loc.err(
                v.span(),
                "evpn.dup_freeze_time",
                "must be 0 (until cleared) or 30-3600 seconds",
            );
        }
        cfg.dup_freeze_time = (secs > 0).then(|| Duration::from_secs(secs));
    }
    for v in &raw.vni {
        let x = v.get_ref();
        let vni = loc.int(&x.vni, "evpn.vni.vni", 1, 0x00ff_ffff)? as u32;
        if cfg.vni(vni).is_some() {
            return loc.err(
                x.vni.span(),
                "evpn.vni.vni",
                format!("VNI {vni} is configured twice"),
            );
        }
        let rd = match &x.rd {
            Some(s) => match s.get_ref().parse::<RouteDistinguisher>() {
                Ok(rd) => Some(rd),
                Err(_) => {
                    return loc.err(
                        s.span(),
                        "evpn.vni.rd",
                        format!(
                            "`{}` is not a route distinguisher (ASN:NN or IPv4:NN)",
                            s.get_ref()
                        ),
                    )
                }
            },
            None => None,
        };
        let both = rts(loc, &x.route_targets, "evpn.vni.route_targets")?;
        let mut import_rts = rts(loc, &x.import_rts, "evpn.vni.import_rts")?;
        let mut export_rts = rts(loc, &x.export_rts, "evpn.vni.export_rts")?;
        import_rts.extend(&both);
        export_rts.extend(&both);
        cfg.vnis.push(VniConfig {
            vni,
            rd,
            import_rts,
            export_rts,
        });
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::time::Duration;

    use crate::evpn::community::RouteTarget;
    use crate::evpn::nlri::RouteDistinguisher;

    const HEAD: &str = "[bgp]\nasn = 65000\nrouter_id = \"192.0.2.1\"\n";

    fn parse(extra: &str) -> Result<super::EvpnConfig, String> {
        crate::config::parse("bgpd.toml", &format!("{HEAD}{extra}"))
            .map(|c| c.evpn)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_and_overrides() {
        let c = parse("").unwrap();
        assert!(c.advertise_all_vni && c.dup_detection);
        assert_eq!((c.dup_max_moves, c.dup_time), (5, Duration::from_secs(180)));
        let c = parse(
            "[evpn]\nvtep = \"203.0.113.1\"\ndup_max_moves = 3\ndup_time = 60\n\
             [[evpn.vni]]\nvni = 100\nrd = \"192.0.2.1:7\"\nroute_targets = [\"65000:100\"]\n\
             import_rts = [\"65001:100\"]\n",
        )
        .unwrap();
        assert_eq!(c.vtep, Some("203.0.113.1".parse().unwrap()));
        assert_eq!((c.dup_max_moves, c.dup_time), (3, Duration::from_secs(60)));
        let v = c.vni(100).unwrap();
        assert_eq!(
            v.rd,
            Some(RouteDistinguisher::Ip {
                addr: Ipv4Addr::new(192, 0, 2, 1),
                number: 7
            })
        );
        assert_eq!(
            v.import_rts,
            vec![RouteTarget::auto(65001, 100), RouteTarget::auto(65000, 100)]
        );
        assert_eq!(v.export_rts, vec![RouteTarget::auto(65000, 100)]);
    }

    #[test]
    fn errors_name_line_and_key() {
        let e = parse("[evpn]\n[[evpn.vni]]\nvni = 0\n").unwrap_err();
        assert!(
            e.contains("bgpd.toml:6") && e.contains("evpn.vni.vni"),
            "{e}"
        );
        let e = parse("[[evpn.vni]]\nvni = 5\nrd = \"x\"\n").unwrap_err();
        assert!(e.contains("evpn.vni.rd"), "{e}");
        let e = parse("[[evpn.vni]]\nvni = 5\n[[evpn.vni]]\nvni = 5\n").unwrap_err();
        assert!(e.contains("twice"), "{e}");
        let e = parse("[evpn]\ndup_max_moves = 1\n").unwrap_err();
        assert!(e.contains("evpn.dup_max_moves"), "{e}");
        let e =
            parse("[[neighbor]]\naddress = \"192.0.2.2\"\nremote_as = 1\nfamilies = [\"vpnv4\"]\n")
                .unwrap_err();
        assert!(e.contains("l2vpn-evpn"), "{e}");
    }
}

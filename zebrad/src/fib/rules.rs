//! Policy routing rules (`ip rule`) that zebrad owns.
//!
//! Owns `RTM_NEWRULE` / `RTM_DELRULE` / `RTM_GETRULE` (rtnetlink(7),
//! `struct fib_rule_hdr` + `FRA_*` attributes) for "look up table N" rules.
//! Every rule we add carries `FRA_PROTOCOL` = our protocol id; the dump only
//! returns rules with that id, and a delete names it, so the kernel itself
//! refuses to remove a rule someone else made.
//!
//! Never: touches rules without our protocol id, or rules whose action is
//! not "to table" (goto, nop, blackhole... are not ours).

use std::io;

use ipnetwork::IpNetwork;
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::route::RouteProtocol;
use netlink_packet_route::rule::{RuleAction, RuleAttribute, RuleMessage};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::nl;

/// One "from/to/iif/oif/fwmark → table" rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FibRule {
    /// IPv6 rule list (else IPv4).
    pub v6: bool,
    /// Rule priority (`pref`); lower is looked at first.
    pub priority: u32,
    pub from: Option<IpNetwork>,
    pub to: Option<IpNetwork>,
    /// Incoming interface name.
    pub iif: Option<String>,
    /// Outgoing interface name.
    pub oif: Option<String>,
    pub fwmark: Option<u32>,
    pub fwmask: Option<u32>,
    /// Table to look up.
    pub table: u32,
}

/// The message body that adds or deletes `r` with our `protocol`.
pub fn rule_message(r: &FibRule, protocol: u8) -> RuleMessage {
    let mut m = RuleMessage::default();
    m.header.family = if r.v6 {
        AddressFamily::Inet6
    } else {
        AddressFamily::Inet
    };
    m.header.action = RuleAction::ToTable;
    // The table in the header only when it fits in a byte; always FRA_TABLE.
    m.header.table = u8::try_from(r.table).unwrap_or(0);
    let a = &mut m.attributes;
    a.push(RuleAttribute::Priority(r.priority));
    if let Some(from) = r.from {
        m.header.src_len = from.prefix();
        a.push(RuleAttribute::Source(from.network()));
    }
    if let Some(to) = r.to {
        m.header.dst_len = to.prefix();
        a.push(RuleAttribute::Destination(to.network()));
    }
    if let Some(iif) = &r.iif {
        a.push(RuleAttribute::Iifname(iif.clone()));
    }
    if let Some(oif) = &r.oif {
        a.push(RuleAttribute::Oifname(oif.clone()));
    }
    if let Some(mark) = r.fwmark {
        a.push(RuleAttribute::FwMark(mark));
    }
    if let Some(mask) = r.fwmask {
        a.push(RuleAttribute::FwMask(mask));
    }
    a.push(RuleAttribute::Table(r.table));
    a.push(RuleAttribute::Protocol(RouteProtocol::from(protocol)));
    m
}

/// Reads a rule back, with its protocol id; `None` for families other than
/// IPv4/IPv6 and actions other than "to table".
pub fn rule_from_message(m: &RuleMessage) -> Option<(FibRule, u8)> {
    let v6 = match m.header.family {
        AddressFamily::Inet => false,
        AddressFamily::Inet6 => true,
        _ => return None,
    };
    if m.header.action != RuleAction::ToTable {
        return None;
    }
    let mut r = FibRule {
        v6,
        priority: 0,
        from: None,
        to: None,
        iif: None,
        oif: None,
        fwmark: None,
        fwmask: None,
        table: u32::from(m.header.table),
    };
    let mut protocol = 0;
    for a in &m.attributes {
        match a {
            RuleAttribute::Priority(p) => r.priority = *p,
            RuleAttribute::Source(ip) => r.from = IpNetwork::new(*ip, m.header.src_len).ok(),
            RuleAttribute::Destination(ip) => r.to = IpNetwork::new(*ip, m.header.dst_len).ok(),
            RuleAttribute::Iifname(n) => r.iif = Some(n.clone()),
            RuleAttribute::Oifname(n) => r.oif = Some(n.clone()),
            RuleAttribute::FwMark(v) => r.fwmark = Some(*v),
            RuleAttribute::FwMask(v) => r.fwmask = Some(*v),
            RuleAttribute::Table(t) => r.table = *t,
            RuleAttribute::Protocol(p) => protocol = u8::from(*p),
            _ => {}
        }
    }
    Some((r, protocol))
}

/// The IPv4 and IPv6 rules carrying `protocol`.
pub async fn dump_rules(protocol: u8) -> io::Result<Vec<FibRule>> {
    let mut out = Vec::new();
    for family in [AddressFamily::Inet, AddressFamily::Inet6] {
        let mut req = RuleMessage::default();
        req.header.family = family;
        let rules = nl::dump(RouteNetlinkMessage::GetRule(req), |m| match m {
            RouteNetlinkMessage::NewRule(r) => rule_from_message(&r)
                .filter(|(_, p)| *p == protocol)
                .map(|(r, _)| r),
            _ => None,
        })
        .await?;
        out.extend(rules);
    }
    Ok(out)
}

/// Adds `r` tagged with `protocol`; `EEXIST` if the same rule is there.
pub async fn add_rule(r: &FibRule, protocol: u8) -> io::Result<()> {
    nl::request(
        RouteNetlinkMessage::NewRule(rule_message(r, protocol)),
        NLM_F_CREATE | NLM_F_EXCL,
    )
    .await
}

/// Deletes our rule `r`; `ENOENT` if there is none.
pub async fn del_rule(r: &FibRule, protocol: u8) -> io::Result<()> {
    nl::request(RouteNetlinkMessage::DelRule(rule_message(r, protocol)), 0).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::{Emitable, Parseable};

    fn wire(m: &RuleMessage) -> RuleMessage {
        let mut buf = vec![0u8; m.buffer_len()];
        m.emit(&mut buf);
        RuleMessage::parse(&buf[..]).unwrap()
    }

    #[test]
    fn rule_round_trips() {
        let r = FibRule {
            v6: false,
            priority: 100,
            from: Some("198.51.100.0/24".parse().unwrap()),
            to: None,
            iif: Some("veth0".into()),
            oif: None,
            fwmark: Some(7),
            fwmask: Some(0xff),
            table: 1000,
        };
        let m = rule_message(&r, 196);
        assert_eq!(m.header.table, 0);
        assert_eq!(m.header.src_len, 24);
        assert_eq!(rule_from_message(&wire(&m)), Some((r, 196)));
    }

    #[test]
    fn v6_rule_round_trips() {
        let r = FibRule {
            v6: true,
            priority: 5,
            from: None,
            to: Some("2001:db8:5::/48".parse().unwrap()),
            iif: None,
            oif: Some("veth1".into()),
            fwmark: None,
            fwmask: None,
            table: 100,
        };
        let m = rule_message(&r, 186);
        assert_eq!(m.header.table, 100);
        assert_eq!(rule_from_message(&wire(&m)), Some((r, 186)));
    }
}

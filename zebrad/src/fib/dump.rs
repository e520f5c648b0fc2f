//! Reading the kernel FIB: every route of every table, IPv4 and IPv6.
//!
//! Owns the `RTM_GETROUTE` dump (rtnetlink(7), `NLM_F_DUMP`) used when
//! zebrad starts, to adopt or remove the routes a previous run left behind.
//!
//! Reports unicast, blackhole, unreachable and prohibit routes of all tables
//! except the local table (255), and not the kernel's own `proto kernel`
//! (connected) routes; the protocol id is kept so the caller can pick its
//! own. Never changes anything.

use std::io;

use netlink_packet_route::route::RouteMessage;
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::msg::route_from_message;
use super::{nl, FibRoute};

/// Every route of every table (v4 then v6), except table 255 and
/// `proto kernel` routes. Runs in the calling thread's network namespace.
pub async fn dump_routes() -> io::Result<Vec<FibRoute>> {
    let mut out = Vec::new();
    for family in [AddressFamily::Inet, AddressFamily::Inet6] {
        let mut req = RouteMessage::default();
        req.header.address_family = family;
        let routes = nl::dump(RouteNetlinkMessage::GetRoute(req), |m| match m {
            RouteNetlinkMessage::NewRoute(r) => route_from_message(&r).ok(),
            _ => None,
        })
        .await?;
        out.extend(routes);
    }
    Ok(out)
}

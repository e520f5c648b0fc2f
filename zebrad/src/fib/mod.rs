//! The FIB stage: zebrad's only door to the kernel's routing tables.
//!
//! Owns the rtnetlink (RFC 3549, `NETLINK_ROUTE`) conversation about routes
//! and policy rules:
//!
//! - [`writer`]: the route writer task. Takes batches of [`FibOp`] and
//!   installs them with many `RTM_NEWROUTE`/`RTM_DELROUTE` messages per
//!   `sendto`, matching every ack to its request; one [`FibOutcome`] per op.
//! - [`dump`]: reads every route of every table (start-up reconciliation).
//! - [`monitor`]: link, address and route notifications, with zebrad's own
//!   `RTM_NEWROUTE` echoes dropped in the kernel by a socket filter.
//! - [`rules`]: `ip rule` entries tagged with our protocol id.
//! - [`msg`]: translation between [`FibRoute`] and the crate's
//!   `RouteMessage` (building requests, parsing dumps/notifications).
//! - [`nl`]: socket plumbing shared by the above and by [`crate::iface`].
//!
//! What it never does: decide what to install (that is the RIB's job), or
//! touch a route of a protocol id it was not given. Deletes always carry the
//! protocol id, so the kernel itself refuses to match another protocol's
//! route. (A *replace* is matched by the kernel on table, prefix, TOS and
//! metric only; the RIB must choose metrics that do not collide with other
//! daemons' routes it wants to leave alone.)

pub mod dump;
pub mod monitor;
pub mod msg;
pub mod nhobj;
pub(crate) mod nl;
pub mod rules;
pub mod writer;

use std::net::IpAddr;

use ipnetwork::IpNetwork;

pub use dump::dump_routes;
pub use monitor::{spawn_monitor, KernelEvent};
pub use nhobj::{dump_nexthops, GroupMember, NexthopObject, ObjectBody};
pub use rules::{add_rule, del_rule, dump_rules, FibRule};
pub use writer::{
    spawn_nl_writer, spawn_writer, FibClosed, FibWriter, NlOp, NlWriter, WriterConfig,
};

/// One path of a route.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FibNexthop {
    /// Gateway address; `None` for a route straight onto a link. A gateway of
    /// the other family than the prefix (RFC 5549/8950: IPv4 over an IPv6
    /// nexthop) is sent as `RTA_VIA`.
    pub gateway: Option<IpAddr>,
    /// Outgoing interface index; 0 = let the kernel resolve the gateway.
    pub ifindex: u32,
    /// ECMP weight, 1..=256 (sent as `rtnh_hops = weight - 1`; values
    /// outside the range are clamped). Ignored on single-path routes.
    pub weight: u16,
}

/// The kernel route type (`rtm_type`) of a route we install.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FibKind {
    /// `RTN_UNICAST`: forward via the nexthops.
    Unicast,
    /// `RTN_BLACKHOLE`: drop silently.
    Blackhole,
    /// `RTN_UNREACHABLE`: drop, ICMP unreachable.
    Unreachable,
    /// `RTN_PROHIBIT`: drop, ICMP administratively prohibited.
    Prohibit,
}

/// A route as the kernel holds it, in one table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FibRoute {
    /// Destination; host bits beyond the prefix length are ignored on send.
    pub prefix: IpNetwork,
    /// Routing table id (any u32; 254 = main).
    pub table: u32,
    /// `rtm_protocol` (e.g. 186 bgp, 188 ospf).
    pub protocol: u8,
    /// Metric (`RTA_PRIORITY`); 0 = the kernel's default (IPv6 uses 1024).
    pub priority: u32,
    /// Route type.
    pub kind: FibKind,
    /// Paths; empty for blackhole/unreachable/prohibit. More than one makes an
    /// `RTA_MULTIPATH` route.
    pub nexthops: Vec<FibNexthop>,
    /// A kernel nexthop object holding `nexthops` (`RTA_NH_ID` is sent
    /// instead of them); 0: the nexthops go inline.
    pub nh_id: u32,
}

/// One change to the kernel FIB.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FibOp {
    /// Create the route, or replace the one with the same table, prefix and
    /// metric (`NLM_F_CREATE | NLM_F_REPLACE`).
    Replace(FibRoute),
    /// Delete our route (matched on table, prefix, protocol and, when
    /// non-zero, metric).
    Delete {
        prefix: IpNetwork,
        table: u32,
        protocol: u8,
        priority: u32,
    },
    /// Create or replace a kernel nexthop object (`RTM_NEWNEXTHOP` with
    /// `NLM_F_CREATE | NLM_F_REPLACE`); routes name it by id.
    Nexthop(NexthopObject),
    /// Delete a kernel nexthop object (with any route still using it).
    DeleteNexthop { id: u32 },
}

/// What a [`FibOp`] changes in the kernel: a route or a nexthop object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FibTarget {
    /// (table, prefix, metric).
    Route(u32, IpNetwork, u32),
    Nexthop(u32),
}

impl FibOp {
    /// The route or object this op changes.
    pub fn target(&self) -> FibTarget {
        match self {
            FibOp::Replace(r) => FibTarget::Route(r.table, r.prefix, r.priority),
            FibOp::Delete {
                prefix,
                table,
                priority,
                ..
            } => FibTarget::Route(*table, *prefix, *priority),
            FibOp::Nexthop(o) => FibTarget::Nexthop(o.id),
            FibOp::DeleteNexthop { id } => FibTarget::Nexthop(*id),
        }
    }

    /// Whether it creates or replaces (rather than deletes).
    pub fn is_replace(&self) -> bool {
        matches!(self, FibOp::Replace(_) | FibOp::Nexthop(_))
    }
}

/// The kernel's answer to one [`FibOp`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FibOutcome {
    /// The route or nexthop object the op was about.
    pub target: FibTarget,
    /// `true` for a [`FibOp::Replace`] or [`FibOp::Nexthop`], `false` for a
    /// delete.
    pub replace: bool,
    /// `None` on success, else the positive errno from the kernel's ack
    /// (e.g. `libc::ENETUNREACH`), or from `sendto` when the request could
    /// not be sent at all.
    pub error: Option<i32>,
}

impl FibOutcome {
    /// The route's prefix (`None` for a nexthop object).
    pub fn prefix(&self) -> Option<IpNetwork> {
        match self.target {
            FibTarget::Route(_, prefix, _) => Some(prefix),
            FibTarget::Nexthop(_) => None,
        }
    }

    pub(crate) fn of(op: &FibOp, error: Option<i32>) -> FibOutcome {
        FibOutcome {
            target: op.target(),
            replace: op.is_replace(),
            error,
        }
    }
}

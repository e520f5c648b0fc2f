//! Adding and removing a service's addresses on an interface over rtnetlink
//! (`RTM_NEWADDR`/`RTM_DELADDR`, rtnetlink(7)).
//!
//! Owns: the address messages and their round trips. An address that is
//! already there counts as added (`EEXIST`), one that is already gone as
//! removed (`EADDRNOTAVAIL`/`ENOENT`), so retries and restarts are harmless.
//!
//! Never: decides when an address goes on or off (the manager in
//! [`super`] does, in the order the issue asks: on before advertising, off
//! after withdrawing).

use std::io;

use ipnetwork::IpNetwork;
use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::address::{
    AddressAttribute, AddressHeaderFlags, AddressMessage, AddressScope,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use crate::fib::nl;

/// The address message for `addr` (the prefix's first address with the
/// prefix's length) on interface `ifindex`.
pub fn message(ifindex: u32, addr: IpNetwork) -> AddressMessage {
    let mut m = AddressMessage::default();
    m.header.family = if addr.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    m.header.prefix_len = addr.prefix();
    m.header.index = ifindex;
    m.header.scope = AddressScope::Universe;
    let ip = addr.network();
    if addr.is_ipv4() {
        m.attributes.push(AddressAttribute::Local(ip));
    } else {
        // No duplicate address detection: the address is ours by design
        // (anycast) and must be usable at once.
        m.header.flags = AddressHeaderFlags::Nodad;
    }
    m.attributes.push(AddressAttribute::Address(ip));
    m
}

/// Adds `addr` on `ifindex`; already present is success.
pub async fn add(ifindex: u32, addr: IpNetwork) -> io::Result<()> {
    match nl::request(
        RouteNetlinkMessage::NewAddress(message(ifindex, addr)),
        NLM_F_CREATE | NLM_F_EXCL,
    )
    .await
    {
        Err(e) if e.raw_os_error().map(i32::abs) == Some(libc::EEXIST) => Ok(()),
        r => r,
    }
}

/// Removes `addr` from `ifindex`; already absent is success.
pub async fn del(ifindex: u32, addr: IpNetwork) -> io::Result<()> {
    match nl::request(RouteNetlinkMessage::DelAddress(message(ifindex, addr)), 0).await {
        Err(e)
            if matches!(
                e.raw_os_error().map(i32::abs),
                Some(libc::EADDRNOTAVAIL) | Some(libc::ENOENT) | Some(libc::ENODEV)
            ) =>
        {
            Ok(())
        }
        r => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        let m = message(1, "203.0.113.10/32".parse().unwrap());
        assert_eq!(m.header.family, AddressFamily::Inet);
        assert_eq!((m.header.index, m.header.prefix_len), (1, 32));
        assert_eq!(
            crate::iface::addr_from_message(&m),
            Some((1, "203.0.113.10/32".parse().unwrap()))
        );
        let m = message(3, "2001:db8:53::10/128".parse().unwrap());
        assert_eq!(m.header.family, AddressFamily::Inet6);
        assert!(m.header.flags.contains(AddressHeaderFlags::Nodad));
        assert_eq!(
            crate::iface::addr_from_message(&m),
            Some((3, "2001:db8:53::10/128".parse().unwrap()))
        );
    }
}

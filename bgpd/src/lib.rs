//! BGP-4 speaker.
//!
//! `packet` is the wire codec (RFC 4271 and its extensions): pure,
//! synchronous encode/decode with no I/O.

pub mod api;
pub mod config;
pub mod daemon;
pub mod evpn;
pub mod packet;
pub mod policy;
pub mod rib;
pub mod session;

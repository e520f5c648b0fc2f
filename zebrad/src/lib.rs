//! zebrad: the RIB manager. It owns the kernel's routing state: it learns
//! interfaces and addresses over rtnetlink, keeps every protocol's routes in
//! one RIB, selects the best per prefix, installs the winners into kernel
//! tables, and answers clients over gRPC (see `proto/proto/zebra.proto`).

pub mod anycast;
pub mod api;
pub mod config;
pub mod daemon;
pub mod fib;
pub mod iface;
pub mod rib;
pub mod vtep;

//! OSPFv2 router (RFC 2328).
//!
//! The protocol core is pure and synchronous: codecs (`packet`, `lsa`), the
//! link-state database (`lsdb`), the route calculation (`spf`) and the
//! state machines of one router (`instance` with `interface`, `neighbor`,
//! `flooding`, `origination`, `area`). No sockets, no clocks: time enters
//! as a `now` argument, bytes as slices, and what must happen leaves as
//! actions. The async shell (`daemon`, `net`, `zebra`, `api`) owns the
//! sockets, timers and gRPC streams and drives the core; `config` reads
//! the TOML file.

/// Declares a bit-set newtype over an integer, with named bits.
macro_rules! bit_flags {
    (
        $(#[$meta:meta])*
        pub struct $name:ident($ty:ty) {
            $( $(#[$bmeta:meta])* const $bit:ident = $value:expr; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub $ty);

        impl $name {
            $( $(#[$bmeta])* pub const $bit: $name = $name($value); )*

            /// No bit set.
            pub const fn empty() -> Self {
                $name(0)
            }

            /// True when every bit of `other` is set in `self`.
            pub const fn contains(self, other: Self) -> bool {
                self.0 & other.0 == other.0
            }

            /// Sets or clears the bits of `other`.
            pub fn set(&mut self, other: Self, on: bool) {
                if on {
                    self.0 |= other.0;
                } else {
                    self.0 &= !other.0;
                }
            }
        }

        impl std::ops::BitOr for $name {
            type Output = $name;
            fn bitor(self, rhs: Self) -> Self {
                $name(self.0 | rhs.0)
            }
        }
    };
}

pub mod api;
pub mod area;
pub mod checksum;
pub mod config;
pub mod daemon;
pub mod flooding;
pub mod instance;
pub mod interface;
pub mod lsa;
pub mod lsdb;
pub mod neighbor;
pub mod net;
pub mod options;
pub mod origination;
pub mod packet;
pub mod reconfig;
pub mod spf;
mod wire;
pub mod zebra;

#[cfg(test)]
mod sim_tests;

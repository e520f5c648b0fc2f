//! What every daemon of the suite shares and is not a wire contract: the
//! located config error every daemon reports (`file:line: key: message`),
//! the helpers that locate TOML values, and logging setup. Each daemon keeps
//! its own config schema; this crate only makes their errors alike.

pub mod api;
pub mod config;
pub mod daemon;
pub mod logging;
pub mod running;
pub mod secrets;

//! Writing to the host's log. Lines land in Cairn's log tagged with the
//! plugin's name, at the level given; `cairn serve` shows them with
//! `CAIRN_LOG=cairn::plugin=debug`. One call may log up to the host's limit
//! (1 MiB by default); a call that logs more fails, naming the limit.
//!
//! Natively (in unit tests, through `cairn_sdk::testing`) lines go to stderr.

#[cfg(all(target_arch = "wasm32", feature = "aggregate"))]
use crate::aggregate::bindings::cairn::plugin::log as host;
#[cfg(all(target_arch = "wasm32", feature = "handler"))]
use crate::handler::bindings::cairn::plugin::log as host;
#[cfg(all(target_arch = "wasm32", feature = "migrator"))]
use crate::migrator::bindings::cairn::plugin::log as host;

#[cfg(target_arch = "wasm32")]
fn write(level: host::Level, _name: &str, message: &str) {
    host::log(level, message);
}

#[cfg(not(target_arch = "wasm32"))]
fn write(_level: (), name: &str, message: &str) {
    eprintln!("[{name}] {message}");
}

macro_rules! levels {
    ($($function:ident => $level:ident),+ $(,)?) => {
        $(
            #[doc = concat!("Logs `message` at the ", stringify!($function), " level.")]
            pub fn $function(message: &str) {
                #[cfg(target_arch = "wasm32")]
                write(host::Level::$level, stringify!($function), message);
                #[cfg(not(target_arch = "wasm32"))]
                write((), stringify!($function), message);
            }
        )+
    };
}

levels!(trace => Trace, debug => Debug, info => Info, warn => Warn, error => Error);

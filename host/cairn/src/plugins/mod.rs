//! The plugin host: the registry (stored by the event store) joined to the
//! runtime (which runs components). It validates plugins before they are
//! stored, keeps the active version of each loaded, and swaps in new
//! versions while the process runs.
//!
//! Invariants:
//! - A plugin reaches the registry only after it compiled, exported exactly
//!   one Cairn world and answered `describe`.
//! - A caller holds an `Arc` to the plugin version it started with, so a
//!   call in flight finishes on that version while the next call uses the
//!   new one.

mod active;
mod add;
pub mod calls;
mod description;
mod error;
mod name;
mod rules;
mod shadow;
mod shadow_migrator;

pub use active::{PluginHost, PluginStatus, DEFAULT_REFRESH_INTERVAL};
pub use add::{AddedPlugin, PluginSource};
pub use description::{DescribedInfo, Description};
pub use error::PluginHostError;
pub use name::validate_plugin_name;
pub use shadow::{diff_values, AggregateShadowReport, ShadowReport, StreamDifference, ValueDifference};
pub use shadow_migrator::{EventDifference, MigratorShadowReport};

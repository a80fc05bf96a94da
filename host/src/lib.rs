//! Cairn: an event-sourcing host. This library holds everything the `cairn`
//! command does; the binary only parses flags and prints.
//!
//! See ARCHITECTURE.md at the repository root for the code map.

pub mod bench;
pub mod command;
pub mod event;
pub mod http;
pub mod import;
pub mod json;
pub mod migrate;
pub mod plugins;
pub mod replay;
pub mod runtime;
pub mod sequence;
pub mod store;
pub mod telemetry;
pub mod time;

pub use event::{AppendOutcome, AppendRequest, ExpectedVersion, NewEvent, RecordedEvent, StreamId};
pub use json::JsonText;
pub use store::{EventStore, LogFilter, StoreError, StoreLimits, StoreUrl};

//! Cairn: an event-sourcing host. This library joins the event store
//! (`cairn-store`) to the plugin runtime (`cairn-runtime`): the plugin host
//! and its registry, commands through aggregate plugins, the one upcasting
//! reader, replay and projections. The CLI and the HTTP server are thin
//! front ends over it.
//!
//! See ARCHITECTURE.md at the repository root for the code map.

pub mod cluster;
pub mod command;
pub mod migrate;
pub mod plugins;
pub mod publish;
pub mod read;
pub mod replay;
pub mod sequence;
pub mod telemetry;

pub use cairn_event::{event, import, json, time, whole_number};
pub use cairn_event::{Classified, ErrorKind, Problem};
pub use cairn_runtime as runtime;
pub use cairn_store as store;

pub use cairn_event::{AppendOutcome, AppendRequest, ExpectedVersion, NewEvent, RecordedEvent, StreamId};
pub use cairn_event::JsonText;
pub use cairn_store::{EventStore, LogFilter, StoreError, StoreLimits, StoreUrl};

//! Cairn's event model, shared by every crate of the host: the stored event
//! record and the shapes that propose new events, JSON kept as validated
//! text, UTC times at microsecond precision, the JSON-lines format that
//! `cairn log` prints and `append --file` reads, and the error taxonomy.
//!
//! Invariant: this crate depends on no database, wasm runtime or web
//! framework, so that the store and the plugin runtime can share it without
//! depending on each other.

pub mod answer;
pub mod event;
pub mod import;
pub mod json;
mod kind;
mod problem;
pub mod time;
pub mod whole_number;

pub use event::{AppendOutcome, AppendRequest, ExpectedVersion, NewEvent, RecordedEvent, StreamId, DEFAULT_SCHEMA_VERSION};
pub use json::{JsonProblem, JsonText, MAX_JSON_DEPTH};
pub use kind::{Classified, ErrorKind};
pub use problem::Problem;

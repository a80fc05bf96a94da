//! Host-side shapes of what crosses the plugin boundary. The store, the
//! command path and replay use these, never the generated bindings.

use cairn_event::json::JsonText;

pub use cairn_event::answer::{CheckedEvent, MigratedPayload, MigrationAnswer, ProposedEvent, ReturnedEvent};

/// What an aggregate plugin says about itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AggregateInfo {
    pub aggregate_type: String,
    pub state_version: String,
    /// Required when decoding, though it may be null: a stored description
    /// that lacks it was written by something else.
    #[serde(deserialize_with = "Option::deserialize")]
    pub snapshot_every: Option<u32>,
}

/// A command as the host hands it to an aggregate.
#[derive(Debug, Clone)]
pub struct CommandInput {
    pub command_id: String,
    pub command_type: String,
    pub aggregate_id: String,
    pub payload: JsonText,
    pub metadata: JsonText,
}


/// A plugin's own answer when it refuses a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginReply {
    Rejected(String),
    Invalid(String),
    Internal(String),
}

/// One upcasting step a migrator offers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MigrationStep {
    pub event_type: String,
    pub from_version: String,
    pub to_version: String,
}

/// What a handler says about itself; empty lists mean every type.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HandlerInfo {
    pub name: String,
    pub event_types: Vec<String>,
    pub aggregate_types: Vec<String>,
}

/// What a handler's `read-model` calls reach during one `handle` call. The
/// replay engine implements it over a batch buffer, so the batch's writes
/// commit with its checkpoint. An error traps the handler's call.
pub trait ReadModelAccess: Send {
    fn get(&mut self, collection: &str, key: &str) -> Result<Option<String>, String>;
    fn put(&mut self, collection: &str, key: &str, value: String) -> Result<(), String>;
    fn delete(&mut self, collection: &str, key: &str) -> Result<(), String>;
    /// For getting the concrete access back after the call.
    fn as_any(self: Box<Self>) -> Box<dyn std::any::Any>;
}

/// A version of the WIT package `cairn:plugin` that the host speaks. A
/// released version is frozen; the host links every version side by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum ContractVersion {
    #[serde(rename = "0.1.0")]
    V0_1,
    #[serde(rename = "0.2.0")]
    V0_2,
}

impl ContractVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            ContractVersion::V0_1 => "0.1.0",
            ContractVersion::V0_2 => "0.2.0",
        }
    }
}

/// Which parts of each event a plugin receives. A 0.2 plugin says in
/// `describe` whether it wants the envelope (id, stream, metadata,
/// correlation, causation, user, source); a 0.1 plugin always gets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventShape {
    /// Type, schema version, positions, time and payload.
    Compact,
    /// The compact record and the envelope.
    WithEnvelope,
}

impl std::fmt::Display for ContractVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

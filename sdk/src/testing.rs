//! Run an aggregate natively, through exactly the code the WebAssembly
//! export runs: JSON in, JSON out. Use it in a plugin's own unit tests,
//! where no host is needed, and to compare native and wasm speed.

use crate::aggregate::{bindings::cairn::plugin::types as wire, Adapter};
use crate::{Aggregate, PluginError};

/// An event as the host hands it to `apply`.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    /// Such as "MoneyDeposited".
    pub event_type: String,
    /// Such as "1.0".
    pub schema_version: String,
    /// The payload, JSON text.
    pub payload: String,
    /// The metadata object, JSON text.
    pub metadata: String,
    /// The aggregate the event belongs to.
    pub aggregate_id: String,
    /// 1-based position in its stream.
    pub stream_version: u64,
}

impl StoredEvent {
    /// An event with empty metadata.
    pub fn new(aggregate_id: &str, stream_version: u64, event_type: &str, payload: &str) -> Self {
        Self {
            event_type: event_type.to_owned(),
            schema_version: "1.0".to_owned(),
            payload: payload.to_owned(),
            metadata: "{}".to_owned(),
            aggregate_id: aggregate_id.to_owned(),
            stream_version,
        }
    }
}

/// The state JSON before the first event.
pub fn initial_state<A: Aggregate>(aggregate_id: &str) -> String {
    serde_json::to_string(&A::initial_state(aggregate_id)).unwrap_or_default()
}

/// Folds events into a state, as the host's `apply` call does.
pub fn apply<A: Aggregate>(state: &str, events: &[StoredEvent]) -> Result<String, PluginError> {
    let wire_events = events
        .iter()
        .map(|event| wire::Event {
            id: String::new(),
            global_position: event.stream_version,
            aggregate_type: A::AGGREGATE_TYPE.to_owned(),
            aggregate_id: event.aggregate_id.clone(),
            stream_version: event.stream_version,
            event_type: event.event_type.clone(),
            schema_version: event.schema_version.clone(),
            timestamp: "2000-01-01T00:00:00Z".to_owned(),
            payload: event.payload.clone(),
            metadata: event.metadata.clone(),
            correlation_id: None,
            causation_id: None,
            user_id: None,
            source: None,
        })
        .collect();
    Adapter::<A>::apply_all(state.to_owned(), wire_events)
}

/// Decides on a command, as the host's `decide` call does, and returns each
/// new event's type and payload JSON.
pub fn decide<A: Aggregate>(state: &str, command_type: &str, payload: &str) -> Result<Vec<(String, String)>, PluginError> {
    let command = wire::Command {
        command_id: "test-command".to_owned(),
        command_type: command_type.to_owned(),
        aggregate_id: "test-aggregate".to_owned(),
        payload: payload.to_owned(),
        metadata: "{}".to_owned(),
    };
    Ok(Adapter::<A>::decide_command(state.to_owned(), command)?
        .into_iter()
        .map(|event| (event.event_type, event.payload))
        .collect())
}

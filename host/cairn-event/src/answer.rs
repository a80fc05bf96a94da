//! What the host accepts from a plugin's answer, on plain shapes that do
//! not name any generated binding or wasm runtime, so that the checks can be
//! fuzzed and tested on their own. The runtime turns each contract
//! version's generated types into these shapes, then calls these checks
//! before anything else sees an answer.

use crate::event::RecordedEvent;
use crate::json::JsonText;

/// An event an aggregate proposes, exactly as the plugin returned it: not
/// yet checked, which `check_proposed` does before anything uses it.
#[derive(Debug, Clone)]
pub struct ProposedEvent {
    pub event_type: String,
    pub schema_version: String,
    pub payload: String,
}

/// An aggregate's proposed event is usable when its event type and schema
/// version are not blank and its payload is JSON by the host's strict rules.
pub fn check_proposed(event: ProposedEvent) -> Result<CheckedEvent, String> {
    let mut problems = Vec::new();
    if event.event_type.trim().is_empty() {
        problems.push("the event type is empty".to_owned());
    }
    if event.schema_version.trim().is_empty() {
        problems.push("the schema version is empty".to_owned());
    }
    let payload = match JsonText::parse(event.payload) {
        Ok(payload) => Some(payload),
        Err(error) => {
            problems.push(format!("the payload is not JSON: {error}"));
            None
        }
    };
    match payload {
        Some(payload) if problems.is_empty() => {
            Ok(CheckedEvent { event_type: event.event_type, schema_version: event.schema_version, payload })
        }
        _ => Err(problems.join(", ")),
    }
}

/// A proposed event that passed the host's checks.
#[derive(Debug, Clone)]
pub struct CheckedEvent {
    pub event_type: String,
    pub schema_version: String,
    pub payload: JsonText,
}

/// An event as a migrator returned it: not yet checked against the
/// original, which `check_migrated` does before anything uses it.
#[derive(Debug, Clone)]
pub struct ReturnedEvent {
    pub id: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub event_type: String,
    pub schema_version: String,
    pub payload: String,
    pub metadata: String,
}

/// A migrated event back from the plugin, checked against the original.
/// Only the payload, the metadata and the schema version may change.
pub fn check_migrated(original: &RecordedEvent, reply: ReturnedEvent, to_version: &str) -> Result<RecordedEvent, String> {
    let mut problems = Vec::new();
    if uuid::Uuid::parse_str(&reply.id).ok() != Some(original.id) {
        problems.push(format!("it changed the event id to `{}`", reply.id));
    }
    if reply.event_type != original.event_type {
        problems.push(format!("it changed the event type to `{}`", reply.event_type));
    }
    if reply.aggregate_type != original.aggregate_type || reply.aggregate_id != original.aggregate_id {
        problems.push("it moved the event to another stream".to_owned());
    }
    if reply.schema_version != to_version {
        problems.push(format!("it returned schema version `{}`, but the step goes to `{to_version}`", reply.schema_version));
    }
    let payload = JsonText::parse(reply.payload).map_err(|error| format!("the payload is not JSON: {error}"));
    let metadata = JsonText::parse(reply.metadata).map_err(|error| format!("the metadata is not JSON: {error}"));
    if let Err(problem) = &payload {
        problems.push(problem.clone());
    }
    match &metadata {
        Err(problem) => problems.push(problem.clone()),
        Ok(metadata) if !metadata.is_object() => problems.push("the metadata is not a JSON object".to_owned()),
        Ok(_) => {}
    }
    let (Ok(payload), Ok(metadata), true) = (payload, metadata, problems.is_empty()) else {
        return Err(problems.join("; "));
    };
    // Built field by field: cloning the original would copy its payload too.
    Ok(RecordedEvent {
        id: original.id,
        global_position: original.global_position,
        aggregate_type: reply.aggregate_type,
        aggregate_id: reply.aggregate_id,
        stream_version: original.stream_version,
        event_type: reply.event_type,
        schema_version: reply.schema_version,
        timestamp: original.timestamp,
        recorded_at: original.recorded_at,
        payload,
        metadata,
        correlation_id: original.correlation_id.clone(),
        causation_id: original.causation_id.clone(),
        user_id: original.user_id.clone(),
        source: original.source.clone(),
    })
}

/// A read-model document a handler writes must be JSON by the host's
/// strict rules, since readers parse it.
pub fn check_read_model_value(value: &str) -> Result<(), String> {
    crate::json::validate(value).map_err(|problem| format!("the value is not acceptable JSON ({problem})"))
}

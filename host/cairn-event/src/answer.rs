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

/// What a contract 0.2 migrator answers for one event: the new payload and,
/// when the step changed it, new metadata. The event's id, type and stream
/// cannot change, so they are not in the answer.
#[derive(Debug, Clone)]
pub struct MigratedPayload {
    pub payload: String,
    pub metadata: Option<String>,
}

/// A migrator's answer for one event, in the shape of its contract version.
#[derive(Debug, Clone)]
pub enum MigrationAnswer {
    /// Contract 0.1: the whole event, which `check_migrated` holds to the original.
    Whole(ReturnedEvent),
    /// Contract 0.2: the payload and optional metadata, `check_migrated_payload`.
    Payload(MigratedPayload),
}

impl MigrationAnswer {
    /// The bytes the plugin handed back, for the answer-size limit.
    pub fn bytes(&self) -> usize {
        match self {
            MigrationAnswer::Whole(event) => event.payload.len() + event.metadata.len(),
            MigrationAnswer::Payload(answer) => answer.payload.len() + answer.metadata.as_ref().map_or(0, String::len),
        }
    }

    /// The migrated event, checked as its contract version requires.
    pub fn check(self, original: &RecordedEvent, to_version: &str) -> Result<RecordedEvent, String> {
        match self {
            MigrationAnswer::Whole(event) => check_migrated(original, event, to_version),
            MigrationAnswer::Payload(answer) => check_migrated_payload(original, answer, to_version),
        }
    }
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
    let read = read_migrated(original, reply.payload, Some(reply.metadata));
    match read {
        Ok((payload, metadata)) if problems.is_empty() => Ok(migrated_event(original, to_version, payload, metadata)),
        Ok(_) => Err(problems.join("; ")),
        Err(more) => {
            problems.extend(more);
            Err(problems.join("; "))
        }
    }
}

/// A contract 0.2 answer for `original`: the payload must be JSON and new
/// metadata a JSON object; without new metadata the stored one stays.
pub fn check_migrated_payload(original: &RecordedEvent, answer: MigratedPayload, to_version: &str) -> Result<RecordedEvent, String> {
    let (payload, metadata) = read_migrated(original, answer.payload, answer.metadata).map_err(|problems| problems.join("; "))?;
    Ok(migrated_event(original, to_version, payload, metadata))
}

/// The payload and metadata of a migrated event, by the host's strict JSON
/// rules; every problem is named.
fn read_migrated(original: &RecordedEvent, payload: String, metadata: Option<String>) -> Result<(JsonText, JsonText), Vec<String>> {
    let mut problems = Vec::new();
    let payload = JsonText::parse(payload).map_err(|error| format!("the payload is not JSON: {error}"));
    if let Err(problem) = &payload {
        problems.push(problem.clone());
    }
    let metadata = match metadata {
        None => Ok(original.metadata.clone()),
        Some(text) => JsonText::parse(text).map_err(|error| format!("the metadata is not JSON: {error}")),
    };
    match &metadata {
        Err(problem) => problems.push(problem.clone()),
        Ok(metadata) if !metadata.is_object() => problems.push("the metadata is not a JSON object".to_owned()),
        Ok(_) => {}
    }
    match (payload, metadata) {
        (Ok(payload), Ok(metadata)) if problems.is_empty() => Ok((payload, metadata)),
        _ => Err(problems),
    }
}

/// The original event with a migrated payload and metadata at `to_version`.
fn migrated_event(original: &RecordedEvent, to_version: &str, payload: JsonText, metadata: JsonText) -> RecordedEvent {
    // Built field by field: cloning the original would copy its payload too.
    RecordedEvent {
        id: original.id,
        global_position: original.global_position,
        aggregate_type: original.aggregate_type.clone(),
        aggregate_id: original.aggregate_id.clone(),
        stream_version: original.stream_version,
        event_type: original.event_type.clone(),
        schema_version: to_version.to_owned(),
        timestamp: original.timestamp,
        recorded_at: original.recorded_at,
        payload,
        metadata,
        correlation_id: original.correlation_id.clone(),
        causation_id: original.causation_id.clone(),
        user_id: original.user_id.clone(),
        source: original.source.clone(),
    }
}

/// A read-model document a handler writes must be JSON by the host's
/// strict rules, since readers parse it.
pub fn check_read_model_value(value: &str) -> Result<(), String> {
    crate::json::validate(value).map_err(|problem| format!("the value is not acceptable JSON ({problem})"))
}

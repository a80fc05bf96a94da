//! Checks an append request before any backend sees it, reporting every
//! problem at once so that a user fixes a file in one pass.

use std::collections::HashSet;

use super::{Problem, StoreError, StoreLimits};
use cairn_event::{AppendRequest, NewEvent};

/// Validates with problems located as "event N" (1-based, request order).
pub fn validate_append(request: &AppendRequest, limits: &StoreLimits) -> Result<(), StoreError> {
    validate_append_located(request, limits, &|index| format!("event {}", index + 1))
}

/// Validates with a caller-chosen name for each event's place, such as a line number.
pub fn validate_append_located(
    request: &AppendRequest,
    limits: &StoreLimits,
    locate: &dyn Fn(usize) -> String,
) -> Result<(), StoreError> {
    let mut problems = Vec::new();
    if request.events.is_empty() {
        problems.push(Problem::new("", "an append needs at least one event"));
    }
    if request.events.len() > limits.max_events_per_append {
        problems.push(Problem::new(
            "",
            format!(
                "an append may carry at most {} events, this one has {}; split it into several appends",
                limits.max_events_per_append,
                request.events.len()
            ),
        ));
    }
    let mut seen_ids = HashSet::new();
    for (index, event) in request.events.iter().enumerate() {
        let location = locate(index);
        check_event(event, limits, &location, &mut problems);
        if let Some(id) = event.id {
            if !seen_ids.insert(id) {
                problems.push(Problem::new(&location, format!("id {id} appears twice in this append")));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Invalid(problems))
    }
}

fn check_event(event: &NewEvent, limits: &StoreLimits, location: &str, problems: &mut Vec<Problem>) {
    check_name("aggregate_type", &event.aggregate_type, limits, location, problems);
    check_name("aggregate_id", &event.aggregate_id, limits, location, problems);
    check_name("event_type", &event.event_type, limits, location, problems);
    check_name("schema_version", &event.schema_version, limits, location, problems);
    let optional_names = [
        ("correlation_id", &event.correlation_id),
        ("causation_id", &event.causation_id),
        ("user_id", &event.user_id),
        ("source", &event.source),
    ];
    for (field, value) in optional_names {
        if let Some(value) = value {
            check_name(field, value, limits, location, problems);
        }
    }
    if event.payload.len() > limits.max_payload_bytes {
        problems.push(Problem::new(
            location,
            format!(
                "payload is {} bytes, over the limit of {} bytes; store large documents elsewhere and reference them, or raise --max-payload-bytes",
                event.payload.len(),
                limits.max_payload_bytes
            ),
        ));
    }
    if !event.metadata.is_object() {
        problems.push(Problem::new(location, "metadata must be a JSON object, like {\"key\": \"value\"}"));
    }
    if event.metadata.len() > limits.max_metadata_bytes {
        problems.push(Problem::new(
            location,
            format!("metadata is {} bytes, over the limit of {} bytes", event.metadata.len(), limits.max_metadata_bytes),
        ));
    }
}

fn check_name(field: &str, value: &str, limits: &StoreLimits, location: &str, problems: &mut Vec<Problem>) {
    if value.trim().is_empty() {
        problems.push(Problem::new(location, format!("{field} is empty; give it a non-blank value")));
    } else if value.len() > limits.max_name_bytes {
        problems.push(Problem::new(
            location,
            format!("{field} is {} bytes long, over the limit of {} bytes; use a shorter name", value.len(), limits.max_name_bytes),
        ));
    } else if value.chars().any(char::is_control) {
        problems.push(Problem::new(location, format!("{field} contains a control character; use printable text")));
    }
}

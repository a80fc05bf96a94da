//! The part of an append that needs no database: deciding, from what the
//! backend read inside its write transaction, which rows to insert or why
//! the append must fail. Both backends call this, so they cannot disagree on
//! concurrency or idempotency rules.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::StoreError;
use crate::event::{AppendOutcome, AppendRequest, ExpectedVersion, NewEvent, RecordedEvent, StreamId};

/// What the backend read under its write lock.
pub(crate) struct StoreView {
    pub head_position: u64,
    pub stream_versions: HashMap<StreamId, u64>,
    pub existing_by_id: HashMap<Uuid, RecordedEvent>,
    pub now: DateTime<Utc>,
}

pub(crate) struct AppendPlan {
    /// Rows to insert, in position order.
    pub new_rows: Vec<RecordedEvent>,
    pub outcome: AppendOutcome,
}

impl AppendPlan {
    pub fn new_head_position(&self) -> Option<u64> {
        self.new_rows.last().map(|row| row.global_position)
    }
}

/// The streams whose current version the backend must read.
pub(crate) fn streams_of(request: &AppendRequest) -> Vec<StreamId> {
    let mut streams: Vec<StreamId> = Vec::new();
    for event in &request.events {
        if !streams.iter().any(|stream| stream.aggregate_type == event.aggregate_type && stream.aggregate_id == event.aggregate_id) {
            streams.push(event.stream());
        }
    }
    streams
}

/// Ids the caller chose; only these can already exist.
pub(crate) fn caller_ids(request: &AppendRequest) -> Vec<Uuid> {
    request.events.iter().filter_map(|event| event.id).collect()
}

pub(crate) fn plan_append(request: AppendRequest, view: StoreView) -> Result<AppendPlan, StoreError> {
    let mut already_present = 0;
    let mut is_new = Vec::with_capacity(request.events.len());
    for event in &request.events {
        match event.id.and_then(|id| view.existing_by_id.get(&id)) {
            Some(existing) => {
                if let Some(difference) = first_difference(event, existing) {
                    return Err(StoreError::DuplicateId { id: existing.id, difference });
                }
                already_present += 1;
                is_new.push(false);
            }
            None => is_new.push(true),
        }
    }

    let mut next_versions: HashMap<StreamId, u64> = HashMap::new();
    for (event, new) in request.events.iter().zip(&is_new) {
        if !new {
            continue;
        }
        let stream = event.stream();
        if next_versions.contains_key(&stream) {
            continue;
        }
        let current = view.stream_versions.get(&stream).copied().unwrap_or(0);
        let expected = request.expectation_for(&stream);
        if !expected.is_satisfied_by(current) {
            return Err(StoreError::Conflict { stream, expected, actual: current });
        }
        next_versions.insert(stream, current);
    }

    let mut position = view.head_position;
    let mut new_rows = Vec::new();
    let mut outcome_events = Vec::with_capacity(request.events.len());
    for (event, new) in request.events.into_iter().zip(is_new) {
        if !new {
            let existing = view.existing_by_id.get(&event.id.expect("a present event has an id")).expect("looked up above");
            outcome_events.push(existing.clone());
            continue;
        }
        let version = next_versions.get_mut(&event.stream()).expect("every new event's stream was checked");
        *version += 1;
        if let Some(required) = event.stream_version {
            if required != *version {
                return Err(StoreError::Conflict {
                    stream: event.stream(),
                    expected: ExpectedVersion::Exact(required.saturating_sub(1)),
                    actual: *version - 1,
                });
            }
        }
        position += 1;
        let row = record(event, position, *version, view.now);
        outcome_events.push(row.clone());
        new_rows.push(row);
    }
    Ok(AppendPlan { new_rows, outcome: AppendOutcome { events: outcome_events, already_present } })
}

fn record(event: NewEvent, global_position: u64, stream_version: u64, now: DateTime<Utc>) -> RecordedEvent {
    RecordedEvent {
        id: event.id.unwrap_or_else(Uuid::now_v7),
        global_position,
        aggregate_type: event.aggregate_type,
        aggregate_id: event.aggregate_id,
        stream_version,
        event_type: event.event_type,
        schema_version: event.schema_version,
        timestamp: event.timestamp.map(crate::time::truncate_to_micros).unwrap_or(now),
        recorded_at: now,
        payload: event.payload,
        metadata: event.metadata,
        correlation_id: event.correlation_id,
        causation_id: event.causation_id,
        user_id: event.user_id,
        source: event.source,
    }
}

/// Names the first field in which a re-sent event differs from the stored one.
fn first_difference(proposed: &NewEvent, stored: &RecordedEvent) -> Option<String> {
    let text_fields = [
        ("aggregate_type", proposed.aggregate_type.as_str(), stored.aggregate_type.as_str()),
        ("aggregate_id", &proposed.aggregate_id, &stored.aggregate_id),
        ("event_type", &proposed.event_type, &stored.event_type),
        ("schema_version", &proposed.schema_version, &stored.schema_version),
    ];
    for (field, proposed_value, stored_value) in text_fields {
        if proposed_value != stored_value {
            return Some(format!("{field} is `{proposed_value}`, stored `{stored_value}`"));
        }
    }
    let optional_fields = [
        ("correlation_id", &proposed.correlation_id, &stored.correlation_id),
        ("causation_id", &proposed.causation_id, &stored.causation_id),
        ("user_id", &proposed.user_id, &stored.user_id),
        ("source", &proposed.source, &stored.source),
    ];
    for (field, proposed_value, stored_value) in optional_fields {
        if proposed_value != stored_value {
            return Some(format!("{field} differs"));
        }
    }
    if let Some(version) = proposed.stream_version {
        if version != stored.stream_version {
            return Some(format!("stream_version is {version}, stored {}", stored.stream_version));
        }
    }
    if let Some(timestamp) = proposed.timestamp {
        if crate::time::truncate_to_micros(timestamp) != stored.timestamp {
            return Some("timestamp differs".to_owned());
        }
    }
    if !proposed.payload.same_json_as(&stored.payload) {
        return Some("payload differs".to_owned());
    }
    if !proposed.metadata.same_json_as(&stored.metadata) {
        return Some("metadata differs".to_owned());
    }
    None
}

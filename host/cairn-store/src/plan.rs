//! The part of an append that needs no database: deciding, from what the
//! backend read inside its write transaction, which rows to insert or why
//! the append must fail. Both backends call this, so they cannot disagree on
//! concurrency or idempotency rules.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::StoreError;
use cairn_event::{AppendOutcome, AppendRequest, ExpectedVersion, NewEvent, RecordedEvent, StreamId};

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

/// The streams whose current version the backend must read: those the
/// events go to, and those an expectation names without events (a
/// precondition: "append these only if that stream is at version N").
pub(crate) fn streams_of(request: &AppendRequest) -> Vec<StreamId> {
    let mut streams: Vec<StreamId> = Vec::new();
    for event in &request.events {
        if !streams.iter().any(|stream| stream.aggregate_type == event.aggregate_type && stream.aggregate_id == event.aggregate_id) {
            streams.push(event.stream());
        }
    }
    for (stream, _) in &request.expectations {
        if !streams.contains(stream) {
            streams.push(stream.clone());
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

    // Expectations of streams this append writes nothing to are
    // preconditions on the rest of the store.
    for (stream, expected) in &request.expectations {
        let has_events = request.events.iter().any(|event| event.aggregate_type == stream.aggregate_type && event.aggregate_id == stream.aggregate_id);
        let current = view.stream_versions.get(stream).copied().unwrap_or(0);
        if !has_events && !expected.is_satisfied_by(current) {
            return Err(StoreError::Conflict { stream: stream.clone(), expected: *expected, actual: current });
        }
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
        timestamp: event.timestamp.map(cairn_event::time::truncate_to_micros).unwrap_or(now),
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
        if cairn_event::time::truncate_to_micros(timestamp) != stored.timestamp {
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use cairn_event::JsonText;

    fn new_event(stream: u8, id: Option<u8>) -> NewEvent {
        let mut event = NewEvent::new("account", format!("a{stream}"), "Deposited", JsonText::parse(r#"{"amount":1}"#).unwrap());
        event.id = id.map(|id| Uuid::from_u128(u128::from(id) + 1));
        event
    }

    fn view(head: u64, versions: &[(u8, u64)], existing: Vec<RecordedEvent>) -> StoreView {
        StoreView {
            head_position: head,
            stream_versions: versions.iter().map(|(stream, version)| (StreamId::new("account", format!("a{stream}")), *version)).collect(),
            existing_by_id: existing.into_iter().map(|event| (event.id, event)).collect(),
            now: cairn_event::time::now_micros(),
        }
    }

    #[test]
    fn an_identical_resend_is_present_and_a_changed_one_names_the_field() {
        let first = plan_append(AppendRequest { events: vec![new_event(1, Some(7))], expectations: Vec::new() }, view(0, &[], Vec::new())).unwrap();
        let stored = first.new_rows[0].clone();
        let again = plan_append(AppendRequest { events: vec![new_event(1, Some(7))], expectations: Vec::new() }, view(1, &[(1, 1)], vec![stored.clone()])).unwrap();
        assert!(again.new_rows.is_empty());
        assert_eq!(again.outcome.already_present, 1);
        let mut changed = new_event(1, Some(7));
        changed.event_type = "Withdrawn".into();
        let refused = plan_append(AppendRequest { events: vec![changed], expectations: Vec::new() }, view(1, &[(1, 1)], vec![stored])).err().unwrap();
        assert!(matches!(refused, StoreError::DuplicateId { ref difference, .. } if difference.contains("event_type")), "{refused}");
    }

    #[test]
    fn a_required_stream_version_must_be_where_the_event_lands() {
        let mut event = new_event(1, None);
        event.stream_version = Some(3);
        let refused = plan_append(AppendRequest { events: vec![event], expectations: Vec::new() }, view(5, &[(1, 1)], Vec::new())).err().unwrap();
        assert!(matches!(refused, StoreError::Conflict { expected: ExpectedVersion::Exact(2), actual: 1, .. }), "{refused}");
    }

    #[test]
    fn an_expectation_of_a_stream_without_events_is_a_precondition() {
        let other = StreamId::new("account", "a9");
        let request = |expected| AppendRequest { events: vec![new_event(1, None)], expectations: vec![(other.clone(), expected)] };
        assert!(plan_append(request(ExpectedVersion::Exact(2)), view(0, &[(9, 2)], Vec::new())).is_ok());
        let refused = plan_append(request(ExpectedVersion::Exact(3)), view(0, &[(9, 2)], Vec::new())).err().unwrap();
        assert!(matches!(refused, StoreError::Conflict { ref stream, actual: 2, .. } if *stream == other), "{refused}");
        assert!(plan_append(request(ExpectedVersion::NoStream), view(0, &[], Vec::new())).is_ok());
    }

    fn expectation() -> impl Strategy<Value = ExpectedVersion> {
        prop_oneof![Just(ExpectedVersion::Any), Just(ExpectedVersion::NoStream), Just(ExpectedVersion::Exists), (0u64..4).prop_map(ExpectedVersion::Exact)]
    }

    proptest! {
        /// Whatever the request, a plan either refuses it whole or assigns
        /// gap-free positions after the head and gap-free versions after
        /// each stream's current one, in request order.
        #[test]
        fn plans_assign_gap_free_positions_and_versions(
            head in 0u64..1_000,
            current in proptest::collection::vec(0u64..4, 3),
            events in proptest::collection::vec(0u8..3, 1..20),
            expected in proptest::collection::vec(expectation(), 3),
        ) {
            let versions: Vec<(u8, u64)> = current.iter().enumerate().map(|(stream, version)| (stream as u8, *version)).collect();
            let request = AppendRequest {
                events: events.iter().map(|stream| new_event(*stream, None)).collect(),
                expectations: (0u8..3)
                    .filter(|stream| events.contains(stream))
                    .map(|stream| (StreamId::new("account", format!("a{stream}")), expected[stream as usize]))
                    .collect(),
            };
            let satisfied = (0u8..3).filter(|stream| events.contains(stream)).all(|stream| expected[stream as usize].is_satisfied_by(current[stream as usize]));
            match plan_append(request, view(head, &versions, Vec::new())) {
                Err(StoreError::Conflict { .. }) => prop_assert!(!satisfied),
                Err(other) => prop_assert!(false, "unexpected refusal: {other}"),
                Ok(plan) => {
                    prop_assert!(satisfied);
                    prop_assert_eq!(plan.new_rows.len(), events.len());
                    prop_assert_eq!(plan.outcome.events.len(), events.len());
                    let mut next_version = current.clone();
                    for (index, (row, stream)) in plan.new_rows.iter().zip(&events).enumerate() {
                        prop_assert_eq!(row.global_position, head + 1 + index as u64);
                        next_version[*stream as usize] += 1;
                        prop_assert_eq!(row.stream_version, next_version[*stream as usize]);
                    }
                    prop_assert_eq!(plan.new_rows.last().map(|row| row.global_position), Some(head + events.len() as u64));
                }
            }
        }
    }
}

//! The checks on what a plugin answers: an aggregate's proposed events, a
//! migrator's upcast event and a handler's read-model document. They must
//! never panic, whatever a hostile plugin returns, and what they pass must
//! be safe to store: strict JSON, and a migrated event that is still the
//! original event in the same stream.
#![no_main]

use arbitrary::Arbitrary;
use cairn_event::answer::{check_migrated, check_migrated_payload, check_proposed, check_read_model_value, MigratedPayload, ProposedEvent, ReturnedEvent};
use cairn_event::json::{validate, JsonText};
use cairn_event::RecordedEvent;
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Answer {
    event_type: String,
    schema_version: String,
    payload: String,
    metadata: String,
    /// Whether the migrator keeps the original's id, type and stream, so
    /// that the fuzzer reaches the payload checks as well as the refusals.
    keeps_identity: bool,
    id: String,
    aggregate_type: String,
    aggregate_id: String,
    to_version: String,
}

fn original() -> RecordedEvent {
    RecordedEvent {
        id: uuid::Uuid::from_u128(0x0190_b5c4_0000_7000_8000_0000_0000_0001),
        global_position: 7,
        aggregate_type: "account".to_owned(),
        aggregate_id: "acc-1".to_owned(),
        stream_version: 3,
        event_type: "MoneyDeposited".to_owned(),
        schema_version: "1.0".to_owned(),
        timestamp: chrono::DateTime::UNIX_EPOCH,
        recorded_at: chrono::DateTime::UNIX_EPOCH,
        payload: JsonText::from_trusted(r#"{"amount":1}"#.to_owned()),
        metadata: JsonText::empty_object(),
        correlation_id: None,
        causation_id: None,
        user_id: None,
        source: None,
    }
}

fuzz_target!(|answer: Answer| {
    let proposed = ProposedEvent { event_type: answer.event_type.clone(), schema_version: answer.schema_version.clone(), payload: answer.payload.clone() };
    if let Ok(checked) = check_proposed(proposed) {
        validate(checked.payload.as_str()).expect("a passed payload is strict JSON");
        assert!(!checked.event_type.trim().is_empty() && !checked.schema_version.trim().is_empty());
    }
    if check_read_model_value(&answer.payload).is_ok() {
        validate(&answer.payload).expect("a passed document is strict JSON");
    }
    let original = original();
    // Contract 0.2's answer: the payload, and new metadata or none.
    let metadata = answer.keeps_identity.then(|| answer.metadata.clone());
    if let Ok(migrated) = check_migrated_payload(&original, MigratedPayload { payload: answer.payload.clone(), metadata }, &answer.to_version) {
        assert_eq!((migrated.id, &migrated.event_type, &migrated.aggregate_id), (original.id, &original.event_type, &original.aggregate_id));
        assert_eq!(migrated.schema_version, answer.to_version);
        validate(migrated.payload.as_str()).expect("a migrated payload is strict JSON");
        assert!(migrated.metadata.is_object(), "migrated metadata is an object");
    }
    let returned = if answer.keeps_identity {
        ReturnedEvent {
            id: original.id.to_string(),
            aggregate_type: original.aggregate_type.clone(),
            aggregate_id: original.aggregate_id.clone(),
            event_type: original.event_type.clone(),
            schema_version: answer.to_version.clone(),
            payload: answer.payload,
            metadata: answer.metadata,
        }
    } else {
        ReturnedEvent {
            id: answer.id,
            aggregate_type: answer.aggregate_type,
            aggregate_id: answer.aggregate_id,
            event_type: answer.event_type,
            schema_version: answer.schema_version,
            payload: answer.payload,
            metadata: answer.metadata,
        }
    };
    if let Ok(migrated) = check_migrated(&original, returned, &answer.to_version) {
        assert_eq!((migrated.id, migrated.global_position, migrated.stream_version), (original.id, original.global_position, original.stream_version));
        assert_eq!((&migrated.aggregate_type, &migrated.aggregate_id, &migrated.event_type), (&original.aggregate_type, &original.aggregate_id, &original.event_type));
        assert_eq!(migrated.schema_version, answer.to_version);
        validate(migrated.payload.as_str()).expect("a migrated payload is strict JSON");
        assert!(migrated.metadata.is_object(), "migrated metadata is an object");
    }
});

//! Named checkpoints and sequence validation, on both backends.

use std::sync::Arc;

use cairn::sequence::{validate_sequence, SequenceDifference};
use cairn::{AppendRequest, EventStore, ExpectedVersion, JsonText, NewEvent, StreamId};

crate::conformance_tests!(checkpoints_are_created_moved_listed_and_deleted, sequences_report_every_difference_by_position);

async fn checkpoints_are_created_moved_listed_and_deleted(store: Arc<dyn EventStore>) {
    assert_eq!(store.checkpoint("daily_replay").await.unwrap(), None);
    let first = store.set_checkpoint("daily_replay", 10, 10).await.unwrap();
    let moved = store.set_checkpoint("daily_replay", 25, 24).await.unwrap();
    assert!(moved.updated_at >= first.updated_at);
    store.set_checkpoint("account-summary", 3, 3).await.unwrap();
    let listed: Vec<(String, u64, u64)> =
        store.checkpoints().await.unwrap().into_iter().map(|checkpoint| (checkpoint.name, checkpoint.position, checkpoint.events)).collect();
    assert_eq!(listed, [("account-summary".to_owned(), 3, 3), ("daily_replay".to_owned(), 25, 24)]);
    assert_eq!(store.checkpoint("daily_replay").await.unwrap().unwrap(), moved);
    assert!(store.delete_checkpoint("daily_replay").await.unwrap());
    assert!(!store.delete_checkpoint("daily_replay").await.unwrap());
    assert_eq!(store.checkpoints().await.unwrap().len(), 1);
}

async fn sequences_report_every_difference_by_position(store: Arc<dyn EventStore>) {
    let events = ["MigrationStarted", "DataExtracted", "DataValidated"]
        .into_iter()
        .map(|event_type| NewEvent::new("migration", "m-1", event_type, JsonText::empty_object()))
        .collect();
    store.append(AppendRequest::to_stream(ExpectedVersion::NoStream, events)).await.unwrap();
    let stream = StreamId::new("migration", "m-1");
    let names = |names: &[&str]| names.iter().map(|name| (*name).to_owned()).collect::<Vec<_>>();
    let valid = validate_sequence(store.as_ref(), &stream, &names(&["MigrationStarted", "DataExtracted", "DataValidated"])).await.unwrap();
    assert!(valid.is_valid && valid.differences.is_empty());
    let report = validate_sequence(
        store.as_ref(),
        &stream,
        &names(&["MigrationStarted", "DataTransformed", "DataValidated", "MigrationCompleted"]),
    )
    .await
    .unwrap();
    assert!(!report.is_valid);
    assert_eq!(
        report.differences,
        [
            SequenceDifference { position: 2, expected: Some("DataTransformed".into()), actual: Some("DataExtracted".into()) },
            SequenceDifference { position: 4, expected: Some("MigrationCompleted".into()), actual: None },
        ]
    );
    let empty = validate_sequence(store.as_ref(), &StreamId::new("migration", "none"), &names(&["MigrationStarted"])).await.unwrap();
    assert_eq!(empty.differences[0].actual, None);
}

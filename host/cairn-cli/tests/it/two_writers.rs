//! Two store handles on one store, as two processes have: each writer
//! plans from its memory of the log only while no one else has appended
//! (SQLite checks `data_version`, PostgreSQL the head under its lock), so
//! positions stay gap-free, versions stay checked, and a handle whose
//! memory is old neither duplicates a position nor invents a conflict.

use std::sync::Arc;

use cairn::event::{AppendRequest, ExpectedVersion, NewEvent};
use cairn::store::{self, StoreLimits};
use cairn::{EventStore, JsonText, LogFilter, StoreError};

use crate::support::TestStore;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_handles_interleave_without_gaps_duplicates_or_false_conflicts() {
    let first = crate::support::sqlite_store().await;
    interleave(&first).await;
}

#[cfg(cairn_postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_handles_interleave_without_gaps_duplicates_or_false_conflicts() {
    let first = crate::support::postgres_store().await;
    interleave(&first).await;
    first.remove().await;
}

async fn append(store: &dyn EventStore, stream: &str, label: &str, expected: ExpectedVersion) -> Result<u64, StoreError> {
    let event = NewEvent::new("account", stream, label, JsonText::parse(&format!("\"{label}\"")).unwrap());
    let outcome = store.append(AppendRequest::to_stream(expected, vec![event])).await?;
    Ok(outcome.events[0].global_position)
}

async fn interleave(first: &TestStore) {
    let a = first.store.clone();
    let b: Arc<dyn EventStore> = store::open(&first.url, StoreLimits::default()).await.expect("a second handle opens");
    let (a, b) = (a.as_ref(), b.as_ref());
    // A learns the stream, then appends from what it knows.
    assert_eq!(append(a, "s", "a1", ExpectedVersion::NoStream).await.unwrap(), 1);
    assert_eq!(append(a, "s", "a2", ExpectedVersion::Exact(1)).await.unwrap(), 2);
    // B appends behind A's back.
    assert_eq!(append(b, "s", "b3", ExpectedVersion::Exact(2)).await.unwrap(), 3);
    // A remembers version 2; the stream is at 3, and A's expectation is right.
    assert_eq!(append(a, "s", "a4", ExpectedVersion::Exact(3)).await.unwrap(), 4, "old memory must not invent a conflict");
    // B remembers position 3; an append at any version lands after A's.
    assert_eq!(append(b, "s", "b5", ExpectedVersion::Any).await.unwrap(), 5, "old memory must not re-use a position");
    // A expects what its memory says, but the stream has moved on: a real conflict.
    let stale = append(a, "s", "a-stale", ExpectedVersion::Exact(4)).await;
    assert!(matches!(stale, Err(StoreError::Conflict { actual: 5, .. })), "a stale expectation is refused: {stale:?}");
    assert_eq!(append(b, "t", "b6", ExpectedVersion::NoStream).await.unwrap(), 6);
    assert_eq!(append(a, "s", "a7", ExpectedVersion::Exact(5)).await.unwrap(), 7);
    let log = a.read_log(&LogFilter::default(), 0, 100).await.unwrap();
    let written: Vec<(u64, &str, u64, &str)> = log.iter().map(|event| (event.global_position, event.aggregate_id.as_str(), event.stream_version, event.event_type.as_str())).collect();
    assert_eq!(
        written,
        [(1, "s", 1, "a1"), (2, "s", 2, "a2"), (3, "s", 3, "b3"), (4, "s", 4, "a4"), (5, "s", 5, "b5"), (6, "t", 1, "b6"), (7, "s", 6, "a7")],
        "every append once, in order, gap-free"
    );
    assert_eq!(b.head_position().await.unwrap(), 7);
}

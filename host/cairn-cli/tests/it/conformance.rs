//! The event-store contract. Every test here runs on both backends.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use cairn::store::{follow_log, StreamRange};
use cairn::{
    AppendRequest, EventStore, ExpectedVersion, JsonText, LogFilter, NewEvent, RecordedEvent, StoreError, StreamId,
};
use futures::StreamExt;

crate::conformance_tests!(
    append_assigns_positions_and_stream_versions,
    expected_version_rules_hold_and_conflicts_write_nothing,
    multi_stream_append_is_all_or_nothing,
    identical_reappend_is_a_no_op_and_changed_reappend_fails,
    required_stream_version_keeps_each_event_in_place,
    stream_reads_honour_from_to_and_limit,
    log_filters_select_exactly_the_matching_events,
    log_pages_continue_after_a_position,
    events_are_found_by_id_and_streams_report_their_version,
    caller_timestamps_backfill_history_at_microsecond_precision,
    invalid_input_is_refused_whole_with_every_problem,
    statistics_count_by_type_and_aggregate_type,
    concurrent_writers_never_let_a_tailing_reader_skip_an_event,
    concurrent_writers_on_one_stream_never_duplicate_a_version,
    a_follower_wakes_for_events_appended_after_it_started,
);

fn json(text: &str) -> JsonText {
    JsonText::parse(text).expect("test JSON is valid")
}

fn event(aggregate_type: &str, aggregate_id: &str, event_type: &str, payload: &str) -> NewEvent {
    NewEvent::new(aggregate_type, aggregate_id, event_type, json(payload))
}

async fn append_one(store: &dyn EventStore, new_event: NewEvent, expected: ExpectedVersion) -> RecordedEvent {
    let outcome = store.append(AppendRequest::to_stream(expected, vec![new_event])).await.expect("append succeeds");
    outcome.events.into_iter().next().expect("one event back")
}

async fn whole_log(store: &dyn EventStore) -> Vec<RecordedEvent> {
    store.read_log(&LogFilter::default(), 0, 1_000_000).await.expect("read log")
}

async fn append_assigns_positions_and_stream_versions(store: Arc<dyn EventStore>) {
    let first = append_one(store.as_ref(), event("account", "a1", "Opened", r#"{"owner":"ann"}"#), ExpectedVersion::NoStream).await;
    let second = append_one(store.as_ref(), event("account", "a2", "Opened", r#"{"owner":"bob"}"#), ExpectedVersion::Any).await;
    let third = append_one(store.as_ref(), event("account", "a1", "Deposited", r#"{"amount":5}"#), ExpectedVersion::Exact(1)).await;
    assert_eq!((first.global_position, first.stream_version), (1, 1));
    assert_eq!((second.global_position, second.stream_version), (2, 1));
    assert_eq!((third.global_position, third.stream_version), (3, 2));
    assert_eq!(first.id.get_version_num(), 7, "generated ids are UUID v7");
    assert_eq!(first.payload.to_value(), serde_json::json!({"owner": "ann"}));
    assert_eq!(first.metadata.to_value(), serde_json::json!({}));
    assert_eq!(first.schema_version, "1.0");
    assert_eq!(first.timestamp, first.recorded_at, "timestamp defaults to the time of the append");
    assert_eq!(store.head_position().await.unwrap(), 3);
    let stored = whole_log(store.as_ref()).await;
    assert_eq!(stored, vec![first, second, third], "what append returns is what the store holds");
}

async fn expected_version_rules_hold_and_conflicts_write_nothing(store: Arc<dyn EventStore>) {
    let store = store.as_ref();
    let exists = store.append(AppendRequest::to_stream(ExpectedVersion::Exists, vec![event("t", "s", "E", "1")])).await;
    assert_conflict(exists, "t/s", ExpectedVersion::Exists, 0);
    append_one(store, event("t", "s", "E", "1"), ExpectedVersion::NoStream).await;
    let no_stream = store.append(AppendRequest::to_stream(ExpectedVersion::NoStream, vec![event("t", "s", "E", "2")])).await;
    assert_conflict(no_stream, "t/s", ExpectedVersion::NoStream, 1);
    let stale = store.append(AppendRequest::to_stream(ExpectedVersion::Exact(0), vec![event("t", "s", "E", "2")])).await;
    assert_conflict(stale, "t/s", ExpectedVersion::Exact(0), 1);
    let ahead = store.append(AppendRequest::to_stream(ExpectedVersion::Exact(5), vec![event("t", "s", "E", "2")])).await;
    assert_conflict(ahead, "t/s", ExpectedVersion::Exact(5), 1);
    append_one(store, event("t", "s", "E", "2"), ExpectedVersion::Exists).await;
    append_one(store, event("t", "s", "E", "3"), ExpectedVersion::Exact(2)).await;
    append_one(store, event("t", "s", "E", "4"), ExpectedVersion::Any).await;
    let payloads: Vec<String> = whole_log(store).await.iter().map(|event| event.payload.to_string()).collect();
    assert_eq!(payloads, ["1", "2", "3", "4"], "failed appends wrote nothing");
}

fn assert_conflict(result: Result<cairn::AppendOutcome, StoreError>, stream: &str, expected: ExpectedVersion, actual: u64) {
    match result {
        Err(StoreError::Conflict { stream: conflicted, expected: said_expected, actual: said_actual }) => {
            assert_eq!(conflicted.to_string(), stream);
            assert_eq!(said_expected, expected);
            assert_eq!(said_actual, actual);
            let message = StoreError::Conflict { stream: conflicted, expected, actual }.to_string();
            assert!(message.contains(stream) && message.contains(&expected.to_string()) && message.contains(&actual.to_string()));
        }
        other => panic!("expected a conflict on {stream}, got {other:?}"),
    }
}

async fn multi_stream_append_is_all_or_nothing(store: Arc<dyn EventStore>) {
    let store = store.as_ref();
    append_one(store, event("order", "o2", "Placed", "{}"), ExpectedVersion::NoStream).await;
    let request = AppendRequest {
        events: vec![
            event("order", "o1", "Placed", "{}"),
            event("stock", "s1", "Reserved", "{}"),
            event("order", "o2", "Placed", "{}"),
        ],
        expectations: vec![
            (StreamId::new("order", "o1"), ExpectedVersion::NoStream),
            (StreamId::new("order", "o2"), ExpectedVersion::NoStream),
        ],
    };
    let result = store.append(request.clone()).await;
    assert_conflict(result, "order/o2", ExpectedVersion::NoStream, 1);
    assert_eq!(whole_log(store).await.len(), 1, "no event of the failed append was written");

    let mut fixed = request;
    fixed.expectations[1].1 = ExpectedVersion::Exact(1);
    let outcome = store.append(fixed).await.expect("append across three streams");
    let placed: Vec<(u64, String, u64)> = outcome
        .events
        .iter()
        .map(|event| (event.global_position, event.stream().to_string(), event.stream_version))
        .collect();
    assert_eq!(
        placed,
        vec![(2, "order/o1".into(), 1), (3, "stock/s1".into(), 1), (4, "order/o2".into(), 2)],
        "positions follow request order and versions count per stream"
    );
}

async fn identical_reappend_is_a_no_op_and_changed_reappend_fails(store: Arc<dyn EventStore>) {
    let store = store.as_ref();
    let mut original = event("account", "a1", "Opened", r#"{"owner":"ann","limit":10}"#);
    original.id = Some(uuid::Uuid::now_v7());
    original.metadata = json(r#"{"ip":"10.0.0.1"}"#);
    let first = append_one(store, original.clone(), ExpectedVersion::NoStream).await;

    // The same event again, even with the stream's expectation now stale and
    // the payload's keys reordered, succeeds and writes nothing.
    let mut resent = original.clone();
    resent.payload = json(r#"{ "limit": 10, "owner": "ann" }"#);
    let outcome = store.append(AppendRequest::to_stream(ExpectedVersion::NoStream, vec![resent])).await.unwrap();
    assert_eq!(outcome.already_present, 1);
    assert_eq!(outcome.events, vec![first.clone()]);
    assert_eq!(whole_log(store).await.len(), 1);

    let mut changed = original.clone();
    changed.payload = json(r#"{"owner":"eve","limit":10}"#);
    match store.append(AppendRequest::to_stream(ExpectedVersion::Any, vec![changed])).await {
        Err(StoreError::DuplicateId { id, difference }) => {
            assert_eq!(id, first.id);
            assert!(difference.contains("payload"), "names the difference: {difference}");
        }
        other => panic!("expected a duplicate-id error, got {other:?}"),
    }
    let mut moved = original;
    moved.aggregate_id = "a2".into();
    let error = store.append(AppendRequest::to_stream(ExpectedVersion::Any, vec![moved])).await.unwrap_err();
    assert!(error.to_string().contains("aggregate_id"), "{error}");
    assert_eq!(whole_log(store).await.len(), 1, "nothing was written");
}

async fn required_stream_version_keeps_each_event_in_place(store: Arc<dyn EventStore>) {
    let store = store.as_ref();
    let mut first = event("doc", "d1", "Written", "1");
    first.id = Some(uuid::Uuid::now_v7());
    first.stream_version = Some(1);
    let mut second = event("doc", "d1", "Written", "2");
    second.id = Some(uuid::Uuid::now_v7());
    second.stream_version = Some(2);
    store.append(AppendRequest { events: vec![first.clone()], expectations: vec![] }).await.unwrap();

    // A copy that overlaps what is already there: the present event is
    // skipped and the new one lands exactly where it must.
    let outcome = store
        .append(AppendRequest { events: vec![first, second.clone()], expectations: vec![] })
        .await
        .unwrap();
    assert_eq!(outcome.already_present, 1);
    assert_eq!(outcome.events[1].stream_version, 2);

    let mut misplaced = event("doc", "d1", "Written", "4");
    misplaced.stream_version = Some(4);
    let result = store.append(AppendRequest { events: vec![misplaced], expectations: vec![] }).await;
    assert_conflict(result, "doc/d1", ExpectedVersion::Exact(3), 2);
}

async fn stream_reads_honour_from_to_and_limit(store: Arc<dyn EventStore>) {
    let store = store.as_ref();
    let events: Vec<NewEvent> = (1..=10).map(|n| event("s", "x", "E", &n.to_string())).collect();
    store.append(AppendRequest::to_stream(ExpectedVersion::NoStream, events)).await.unwrap();
    append_one(store, event("s", "other", "E", "0"), ExpectedVersion::Any).await;
    let stream = StreamId::new("s", "x");
    let versions = |events: Vec<RecordedEvent>| events.iter().map(|event| event.stream_version).collect::<Vec<_>>();
    assert_eq!(versions(store.read_stream(&stream, &StreamRange::default()).await.unwrap()), (1..=10).collect::<Vec<_>>());
    let range = StreamRange { from_version: Some(3), to_version: Some(6), limit: None };
    assert_eq!(versions(store.read_stream(&stream, &range).await.unwrap()), vec![3, 4, 5, 6]);
    let range = StreamRange { from_version: Some(8), to_version: None, limit: Some(2) };
    assert_eq!(versions(store.read_stream(&stream, &range).await.unwrap()), vec![8, 9]);
    let missing = StreamId::new("s", "nobody");
    assert!(store.read_stream(&missing, &StreamRange::default()).await.unwrap().is_empty());
}

async fn log_filters_select_exactly_the_matching_events(store: Arc<dyn EventStore>) {
    let store = store.as_ref();
    let base = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().with_timezone(&chrono::Utc);
    let mut all = Vec::new();
    for index in 0..60u32 {
        let aggregate_type = ["user", "order", "invoice"][index as usize % 3];
        let event_type = ["Created", "Updated", "Deleted", "Archived"][index as usize % 4];
        let mut new_event = event(aggregate_type, &format!("id-{}", index % 7), event_type, &index.to_string());
        new_event.timestamp = Some(base + chrono::Duration::minutes(index as i64));
        new_event.correlation_id = (index % 5 == 0).then(|| format!("corr-{}", index % 2));
        new_event.causation_id = (index % 6 == 0).then(|| "cause".to_owned());
        new_event.user_id = Some(format!("user-{}", index % 4));
        all.push(append_one(store, new_event, ExpectedVersion::Any).await);
    }
    let filters = vec![
        LogFilter { event_types: vec!["Created".into(), "Deleted".into()], ..Default::default() },
        LogFilter { aggregate_types: vec!["order".into()], ..Default::default() },
        LogFilter { aggregate_types: vec!["user".into(), "invoice".into()], event_types: vec!["Updated".into()], ..Default::default() },
        LogFilter { aggregate_types: vec!["user".into()], aggregate_id: Some("id-3".into()), ..Default::default() },
        LogFilter { correlation_id: Some("corr-0".into()), ..Default::default() },
        LogFilter { causation_id: Some("cause".into()), ..Default::default() },
        LogFilter { user_id: Some("user-2".into()), ..Default::default() },
        LogFilter { since: Some(base + chrono::Duration::minutes(10)), until: Some(base + chrono::Duration::minutes(20)), ..Default::default() },
        LogFilter { until: Some(base), ..Default::default() },
        LogFilter { to_position: Some(7), event_types: vec!["Created".into()], ..Default::default() },
        LogFilter { event_types: vec!["NoSuchType".into()], ..Default::default() },
    ];
    for filter in filters {
        let expected: Vec<&RecordedEvent> = all.iter().filter(|event| filter.matches(event)).collect();
        let found = store.read_log(&filter, 0, 1000).await.unwrap();
        assert_eq!(found.iter().collect::<Vec<_>>(), expected, "filter {filter:?}");
    }
    let window = LogFilter { since: Some(base + chrono::Duration::minutes(10)), until: Some(base + chrono::Duration::minutes(20)), ..Default::default() };
    assert_eq!(store.read_log(&window, 0, 1000).await.unwrap().len(), 11, "both ends of a time range are inclusive");
}

async fn log_pages_continue_after_a_position(store: Arc<dyn EventStore>) {
    let store = store.as_ref();
    let events: Vec<NewEvent> = (0..25).map(|n| event("p", &format!("s{}", n % 4), "E", &n.to_string())).collect();
    store.append(AppendRequest { events, expectations: vec![] }).await.unwrap();
    let mut after = 0;
    let mut positions = Vec::new();
    loop {
        let page = store.read_log(&LogFilter::default(), after, 10).await.unwrap();
        assert!(page.len() <= 10);
        let Some(last) = page.last() else { break };
        after = last.global_position;
        positions.extend(page.iter().map(|event| event.global_position));
    }
    assert_eq!(positions, (1..=25).collect::<Vec<_>>());
}

async fn events_are_found_by_id_and_streams_report_their_version(store: Arc<dyn EventStore>) {
    let store = store.as_ref();
    let stored = append_one(store, event("k", "1", "E", "{}"), ExpectedVersion::Any).await;
    append_one(store, event("k", "1", "E", "{}"), ExpectedVersion::Any).await;
    assert_eq!(store.event_by_id(stored.id).await.unwrap(), Some(stored));
    assert_eq!(store.event_by_id(uuid::Uuid::now_v7()).await.unwrap(), None);
    assert_eq!(store.stream_version(&StreamId::new("k", "1")).await.unwrap(), 2);
    assert_eq!(store.stream_version(&StreamId::new("k", "2")).await.unwrap(), 0);
}

async fn caller_timestamps_backfill_history_at_microsecond_precision(store: Arc<dyn EventStore>) {
    let store = store.as_ref();
    let mut old = event("h", "1", "E", "{}");
    let given = chrono::DateTime::parse_from_rfc3339("2019-03-04T05:06:07.123456789+02:00").unwrap().with_timezone(&chrono::Utc);
    old.timestamp = Some(given);
    let stored = append_one(store, old, ExpectedVersion::Any).await;
    assert_eq!(cairn::time::format_rfc3339(&stored.timestamp), "2019-03-04T03:06:07.123456Z");
    assert!(stored.recorded_at > stored.timestamp, "recorded_at is set by the store");
    let read = store.event_by_id(stored.id).await.unwrap().unwrap();
    assert_eq!(read.timestamp, stored.timestamp);
}

async fn invalid_input_is_refused_whole_with_every_problem(store: Arc<dyn EventStore>) {
    let store = store.as_ref();
    let mut too_big = event("t", "1", "E", "{}");
    too_big.payload = json(&format!("\"{}\"", "x".repeat(store.limits().max_payload_bytes)));
    let mut bad_metadata = event("t", "2", "E", "{}");
    bad_metadata.metadata = json("[1,2]");
    let request = AppendRequest {
        events: vec![
            event("t", "ok", "E", "{}"),
            event("", "1", "E", "{}"),
            event("t", &"i".repeat(300), "E", "{}"),
            event("t", "3", "  ", "{}"),
            too_big,
            bad_metadata,
        ],
        expectations: vec![],
    };
    match store.append(request).await {
        Err(StoreError::Invalid(problems)) => {
            let text = cairn::store::Problem::list(&problems);
            assert_eq!(problems.len(), 5, "every problem is reported: {text}");
            for needle in ["event 2: aggregate_type is empty", "event 3: aggregate_id is 300 bytes", "event 4: event_type is empty", "event 5: payload is", "event 6: metadata must be a JSON object"] {
                assert!(text.contains(needle), "missing `{needle}` in: {text}");
            }
        }
        other => panic!("expected invalid input, got {other:?}"),
    }
    let empty = store.append(AppendRequest::default()).await.unwrap_err();
    assert!(empty.to_string().contains("at least one event"), "{empty}");
    assert!(whole_log(store).await.is_empty(), "nothing was written, not even the valid event");
}

async fn statistics_count_by_type_and_aggregate_type(store: Arc<dyn EventStore>) {
    let store = store.as_ref();
    let empty = store.statistics().await.unwrap();
    assert_eq!((empty.total_events, empty.total_streams, empty.first_event_timestamp), (0, 0, None));
    let events = vec![
        event("user", "1", "Created", "{}"),
        event("user", "1", "Renamed", "{}"),
        event("user", "2", "Created", "{}"),
        event("order", "9", "Created", "{}"),
    ];
    let outcome = store.append(AppendRequest { events, expectations: vec![] }).await.unwrap();
    let statistics = store.statistics().await.unwrap();
    assert_eq!(statistics.total_events, 4);
    assert_eq!(statistics.total_streams, 3);
    assert_eq!(statistics.last_global_position, 4);
    let pairs = |counts: &[cairn::store::CountByName]| counts.iter().map(|count| (count.name.clone(), count.count)).collect::<Vec<_>>();
    assert_eq!(pairs(&statistics.events_by_type), vec![("Created".into(), 3), ("Renamed".into(), 1)]);
    assert_eq!(pairs(&statistics.events_by_aggregate_type), vec![("user".into(), 3), ("order".into(), 1)]);
    assert_eq!(statistics.first_event_timestamp, Some(outcome.events[0].timestamp));
    assert_eq!(statistics.latest_event_timestamp, Some(outcome.events[3].timestamp));
    assert!(statistics.store_size_bytes > 0);
}

/// Eight writers append while a reader tails the log. If a later position
/// could commit before an earlier one, the reader would move past the
/// earlier one and never see it.
async fn concurrent_writers_never_let_a_tailing_reader_skip_an_event(store: Arc<dyn EventStore>) {
    const WRITERS: usize = 8;
    const APPENDS_PER_WRITER: usize = 60;
    let reader_store = store.clone();
    let reader = tokio::spawn(async move {
        let mut seen = Vec::new();
        let events = follow_log(reader_store.clone(), LogFilter::default(), 0, 7);
        futures::pin_mut!(events);
        let expected_total = WRITERS * APPENDS_PER_WRITER * 2;
        while seen.len() < expected_total {
            let event = tokio::time::timeout(Duration::from_secs(60), events.next())
                .await
                .expect("the reader keeps receiving events")
                .expect("the follow stream never ends")
                .expect("reading succeeds");
            seen.push((event.global_position, event.id));
        }
        seen
    });
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for append in 0..APPENDS_PER_WRITER {
                let events = vec![
                    event("w", &format!("{writer}-{}", append % 5), "A", "{}"),
                    event("shared", &format!("{}", append % 3), "B", "{}"),
                ];
                let outcome = store.append(AppendRequest { events, expectations: vec![] }).await.expect("append");
                ids.extend(outcome.events.iter().map(|event| event.id));
            }
            ids
        }));
    }
    let mut written = HashSet::new();
    for writer in writers {
        written.extend(writer.await.unwrap());
    }
    let seen = reader.await.unwrap();
    let positions: Vec<u64> = seen.iter().map(|(position, _)| *position).collect();
    assert_eq!(positions, (1..=written.len() as u64).collect::<Vec<_>>(), "every position once, in order, with no gap");
    let seen_ids: HashSet<_> = seen.iter().map(|(_, id)| *id).collect();
    assert_eq!(seen_ids, written, "the reader saw exactly the committed events");
}

async fn concurrent_writers_on_one_stream_never_duplicate_a_version(store: Arc<dyn EventStore>) {
    let mut tasks = Vec::new();
    for writer in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let stream = StreamId::new("counter", "c");
            let mut written = 0;
            let mut conflicts = 0;
            while written < 10 {
                let version = store.stream_version(&stream).await.unwrap();
                let request = AppendRequest::to_stream(ExpectedVersion::Exact(version), vec![event("counter", "c", "Incremented", &writer.to_string())]);
                match store.append(request).await {
                    Ok(_) => written += 1,
                    Err(StoreError::Conflict { .. }) => conflicts += 1,
                    Err(other) => panic!("unexpected error {other}"),
                }
            }
            conflicts
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let stream = store.read_stream(&StreamId::new("counter", "c"), &StreamRange::default()).await.unwrap();
    assert_eq!(stream.iter().map(|event| event.stream_version).collect::<Vec<_>>(), (1..=80).collect::<Vec<_>>());
}

async fn a_follower_wakes_for_events_appended_after_it_started(store: Arc<dyn EventStore>) {
    append_one(store.as_ref(), event("f", "1", "Before", "{}"), ExpectedVersion::Any).await;
    let follower_store = store.clone();
    let (started_sender, started_receiver) = tokio::sync::oneshot::channel();
    let follower = tokio::spawn(async move {
        let filter = LogFilter { event_types: vec!["After".into()], ..Default::default() };
        let events = follow_log(follower_store.clone(), filter, 0, 100);
        futures::pin_mut!(events);
        let _ = started_sender.send(());
        events.next().await.expect("an event").expect("read succeeds")
    });
    started_receiver.await.unwrap();
    let appended = append_one(store.as_ref(), event("f", "1", "After", r#"{"late":true}"#), ExpectedVersion::Any).await;
    let received = tokio::time::timeout(Duration::from_secs(30), follower).await.expect("the follower woke").unwrap();
    assert_eq!(received, appended);
}

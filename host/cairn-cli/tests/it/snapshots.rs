//! Snapshots, time travel and their storage, on both backends.

use std::sync::Arc;

use cairn::command::{CommandRequest, Commands, SnapshotPolicy, StateTarget};
use cairn::store::NewSnapshot;
use cairn::{AppendRequest, EventStore, ExpectedVersion, JsonText, NewEvent, StreamId};

use crate::support::{add_plugin, plugin_host};

crate::conformance_tests!(
    snapshot_storage_keeps_the_newest_and_deletes_by_stream_or_type,
    states_through_snapshots_equal_states_from_all_events,
    snapshots_of_another_state_version_or_damaged_are_ignored_and_replaced,
    time_travel_by_instant_includes_exactly_the_events_at_or_before_it,
    versions_beyond_the_end_are_refused_with_the_current_version,
    a_rebuild_writes_fresh_snapshots_and_resumes,
    a_load_reads_the_newest_snapshots_and_the_events_after_them_at_once,
);

fn deposit(aggregate_id: &str, amount: i64) -> CommandRequest {
    CommandRequest {
        aggregate_type: "bank-account".to_owned(),
        aggregate_id: aggregate_id.to_owned(),
        command_type: "Deposit".to_owned(),
        payload: JsonText::parse(format!(r#"{{"amount":{amount}}}"#)).unwrap(),
        metadata: JsonText::empty_object(),
        command_id: None,
    }
}

/// A bank with one account of `deposits` deposits, snapshotting every `every` events.
async fn account(store: &Arc<dyn EventStore>, every: u32, deposits: i64) -> Commands {
    let host = plugin_host(store.clone()).await;
    add_plugin(&host, "bank-account").await;
    let commands = Commands::with_snapshot_policy(host, SnapshotPolicy { every: Some(every), keep: 3 });
    let open = CommandRequest { command_type: "Open".to_owned(), payload: JsonText::parse(r#"{"owner":"Ann"}"#).unwrap(), ..deposit("acc", 0) };
    commands.execute(open).await.unwrap();
    for amount in 1..=deposits {
        commands.execute(deposit("acc", amount)).await.unwrap();
    }
    commands.flush_snapshots().await;
    commands
}

fn snapshot(version: u64, state: &str, state_version: &str) -> NewSnapshot {
    NewSnapshot {
        stream: StreamId::new("bank-account", "acc"),
        stream_version: version,
        state: state.to_owned(),
        plugin_content_hash: "hash".to_owned(),
        state_version: state_version.to_owned(),
    }
}

async fn snapshot_storage_keeps_the_newest_and_deletes_by_stream_or_type(store: Arc<dyn EventStore>) {
    for version in [10, 20, 30, 40, 50] {
        store.save_snapshot(&snapshot(version, "{}", "1"), 3).await.unwrap();
    }
    let stream = StreamId::new("bank-account", "acc");
    let versions: Vec<u64> = store.snapshots(&stream, u64::MAX, 10).await.unwrap().iter().map(|s| s.stream_version).collect();
    assert_eq!(versions, [50, 40, 30]);
    let at_or_below: Vec<u64> = store.snapshots(&stream, 45, 1).await.unwrap().iter().map(|s| s.stream_version).collect();
    assert_eq!(at_or_below, [40]);
    // Writing the same version again replaces it.
    store.save_snapshot(&snapshot(50, r#"{"replaced":true}"#, "1"), 3).await.unwrap();
    assert_eq!(store.snapshots(&stream, u64::MAX, 1).await.unwrap()[0].state, r#"{"replaced":true}"#);
    let other = NewSnapshot { stream: StreamId::new("bank-account", "other"), ..snapshot(5, "{}", "1") };
    store.save_snapshot(&other, 3).await.unwrap();
    assert_eq!(store.delete_snapshots("bank-account", Some("other")).await.unwrap(), 1);
    assert_eq!(store.delete_snapshots("bank-account", None).await.unwrap(), 3);
}

async fn states_through_snapshots_equal_states_from_all_events(store: Arc<dyn EventStore>) {
    let commands = account(&store, 10, 120).await;
    let snapshotted = commands.snapshots("bank-account", "acc").await.unwrap();
    assert_eq!(snapshotted.iter().map(|s| s.stream_version).collect::<Vec<_>>(), [120, 110, 100], "every 10 events, 3 kept");
    // A runner with an empty cache loads through the snapshots.
    let fresh = Commands::with_snapshot_policy(commands.plugins().clone(), commands.snapshot_policy());
    let latest = fresh.state("bank-account", "acc").await.unwrap();
    assert_eq!((latest.snapshot_version, latest.events_applied, latest.stream_version), (Some(120), 1, 121));
    let mut through_snapshots = Vec::new();
    for version in [0, 1, 7, 99, 100, 101, 105, 110, 111, 121] {
        through_snapshots.push(fresh.state_at("bank-account", "acc", StateTarget::AtVersion(version)).await.unwrap());
    }
    assert_eq!(through_snapshots[5].snapshot_version, Some(100), "version 101 starts from the snapshot at 100");
    commands.delete_snapshots("bank-account", None).await.unwrap();
    let from_events = Commands::new(commands.plugins().clone());
    for loaded in &through_snapshots {
        let expected = from_events.state_at("bank-account", "acc", StateTarget::AtVersion(loaded.stream_version)).await.unwrap();
        assert_eq!(expected.snapshot_version, None);
        assert_eq!(loaded.state, expected.state, "at version {}", loaded.stream_version);
    }
    assert_eq!(through_snapshots[9].state.to_value()["balance"], (1..=120).sum::<i64>());
    let statistics = fresh.load_statistics();
    assert!(statistics.snapshot_hits >= 6 && statistics.snapshot_misses >= 3, "{statistics:?}");
}

async fn snapshots_of_another_state_version_or_damaged_are_ignored_and_replaced(store: Arc<dyn EventStore>) {
    let commands = account(&store, 1_000, 30).await;
    let stream = StreamId::new("bank-account", "acc");
    // A damaged row and one from another state version, both newer than any real one.
    store.save_snapshot(&snapshot(30, "{damaged", "1"), 3).await.unwrap();
    store.save_snapshot(&snapshot(20, r#"{"balance":-1}"#, "0-old"), 3).await.unwrap();
    let fresh = Commands::with_snapshot_policy(commands.plugins().clone(), SnapshotPolicy { every: Some(10), keep: 3 });
    let loaded = fresh.state("bank-account", "acc").await.unwrap();
    assert_eq!(loaded.snapshot_version, None, "neither snapshot was used");
    assert_eq!(loaded.state.to_value()["balance"], (1..=30).sum::<i64>());
    fresh.flush_snapshots().await;
    let newest = &store.snapshots(&stream, u64::MAX, 1).await.unwrap()[0];
    assert_eq!((newest.stream_version, newest.state.as_str()), (31, loaded.state.as_str()), "the load replaced the damaged one");
    // Another build of the plugin that declares the same state-version may use it.
    store.delete_snapshots("bank-account", None).await.unwrap();
    store.save_snapshot(&NewSnapshot { plugin_content_hash: "another-build".to_owned(), ..snapshot(31, loaded.state.as_str(), "1") }, 3).await.unwrap();
    let from_other_build = Commands::new(commands.plugins().clone()).state("bank-account", "acc").await.unwrap();
    assert_eq!((from_other_build.snapshot_version, from_other_build.state), (Some(31), loaded.state));
}

async fn time_travel_by_instant_includes_exactly_the_events_at_or_before_it(store: Arc<dyn EventStore>) {
    let host = plugin_host(store.clone()).await;
    add_plugin(&host, "bank-account").await;
    let at = |text: &str| cairn::time::parse_rfc3339(text).unwrap();
    let event = |event_type: &str, payload: &str, timestamp: &str| NewEvent {
        timestamp: Some(at(timestamp)),
        ..NewEvent::new("bank-account", "acc", event_type, JsonText::parse(payload).unwrap())
    };
    // Backfilled history: the third event happened before the second.
    let events = vec![
        event("AccountOpened", r#"{"owner":"Ann"}"#, "2026-05-01T09:00:00Z"),
        event("MoneyDeposited", r#"{"amount":100}"#, "2026-05-03T09:00:00Z"),
        event("MoneyDeposited", r#"{"amount":7}"#, "2026-05-02T09:00:00Z"),
        event("MoneyWithdrawn", r#"{"amount":50}"#, "2026-05-04T09:00:00Z"),
    ];
    store.append(AppendRequest::to_stream(ExpectedVersion::NoStream, events)).await.unwrap();
    let commands = Commands::with_snapshot_policy(host, SnapshotPolicy { every: Some(1), keep: 3 });
    commands.create_snapshot("bank-account", "acc", Some(1)).await.unwrap();
    let balance_at = |text: &'static str| {
        let commands = commands.clone();
        async move { commands.state_at("bank-account", "acc", StateTarget::AtInstant(at(text))).await.unwrap() }
    };
    let may_2 = balance_at("2026-05-02T12:00:00Z").await;
    assert_eq!(may_2.state.to_value()["balance"], 7, "only the events at or before the instant");
    assert_eq!(may_2.snapshot_version, Some(1), "a snapshot older than the target is used");
    assert_eq!(balance_at("2026-05-03T09:00:00Z").await.state.to_value()["balance"], 107, "at the instant counts");
    assert_eq!(balance_at("2026-06-01T00:00:00Z").await.state.to_value()["balance"], 57);
    // A full replay (no snapshots, nothing cached) agrees at every instant.
    let instants = ["2026-05-01T09:00:00Z", "2026-05-02T12:00:00Z", "2026-05-03T09:00:00Z", "2026-06-01T00:00:00Z"];
    let mut through_snapshot = Vec::new();
    for instant in instants {
        through_snapshot.push(commands.state_at("bank-account", "acc", StateTarget::AtInstant(at(instant))).await.unwrap().state);
    }
    store.delete_snapshots("bank-account", None).await.unwrap();
    for (instant, expected) in instants.iter().zip(through_snapshot) {
        let replayed = Commands::new(commands.plugins().clone()).state_at("bank-account", "acc", StateTarget::AtInstant(at(instant))).await.unwrap();
        assert_eq!((replayed.snapshot_version, replayed.state), (None, expected), "at {instant}");
    }
    let before = balance_at("2026-04-01T00:00:00Z").await;
    assert_eq!((before.stream_version, before.state.to_value()["status"].as_str()), (0, Some("unopened")));
    assert!(before.note.unwrap().contains("before the stream's first event (2026-05-01T09:00:00.000000Z)"));
}

async fn versions_beyond_the_end_are_refused_with_the_current_version(store: Arc<dyn EventStore>) {
    let commands = account(&store, 100, 2).await;
    let error = commands.state_at("bank-account", "acc", StateTarget::AtVersion(9)).await.unwrap_err();
    assert_eq!(error.to_string(), "stream bank-account/acc has 3 events, so version 9 is beyond its end; ask for a version from 0 to 3");
    let initial = commands.state_at("bank-account", "acc", StateTarget::AtVersion(0)).await.unwrap();
    assert_eq!(initial.state.to_value()["status"], "unopened");
}

async fn a_rebuild_writes_fresh_snapshots_and_resumes(store: Arc<dyn EventStore>) {
    let commands = account(&store, 1_000, 5).await;
    for id in ["b", "c"] {
        let open = CommandRequest { command_type: "Open".to_owned(), payload: JsonText::parse(r#"{"owner":"Bo"}"#).unwrap(), ..deposit(id, 0) };
        commands.execute(open).await.unwrap();
    }
    assert_eq!(commands.count_streams("bank-account").await.unwrap(), 3);
    let mut progress = Vec::new();
    let first = commands.rebuild_snapshots("bank-account", |report| progress.push(report.streams)).await.unwrap();
    assert_eq!((first.streams, first.written, first.already_current), (3, 3, 0));
    assert_eq!(progress, [1, 2, 3]);
    let again = commands.rebuild_snapshots("bank-account", |_| {}).await.unwrap();
    assert_eq!((again.written, again.already_current), (0, 3), "a second run finds everything done");
    let snapshot = &commands.snapshots("bank-account", "acc").await.unwrap()[0];
    assert_eq!(snapshot.stream_version, 6);
    assert_eq!(serde_json::from_str::<serde_json::Value>(&snapshot.state).unwrap()["balance"], 15);
}

/// Drops the snapshot table behind the store's back, so every snapshot write fails.
async fn break_snapshot_table(test_store: &crate::support::TestStore) {
    use sqlx::Connection;
    match &test_store.url {
        cairn::store::StoreUrl::Sqlite { path } => {
            rusqlite::Connection::open(path).unwrap().execute_batch("DROP TABLE cairn_snapshots").unwrap();
        }
        cairn::store::StoreUrl::Postgres { url, schema } => {
            let mut connection = sqlx::PgConnection::connect(url).await.unwrap();
            let schema = schema.as_deref().unwrap();
            sqlx::query(&format!("DROP TABLE \"{schema}\".cairn_snapshots")).execute(&mut connection).await.unwrap();
        }
    }
}

async fn a_failed_snapshot_write_does_not_fail_the_command(test_store: crate::support::TestStore) {
    let commands = account(&test_store.store, 2, 1).await;
    break_snapshot_table(&test_store).await;
    for amount in [5, 6, 7] {
        commands.execute(deposit("acc", amount)).await.expect("the command succeeds although its snapshot cannot be written");
    }
    commands.flush_snapshots().await;
    let statistics = commands.load_statistics();
    assert!(statistics.snapshot_write_failures >= 1, "{statistics:?}");
    assert_eq!(test_store.store.stream_version(&StreamId::new("bank-account", "acc")).await.unwrap(), 5);
    test_store.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_snapshot_write_does_not_fail_the_command_on_sqlite() {
    a_failed_snapshot_write_does_not_fail_the_command(crate::support::sqlite_store().await).await;
}

#[cfg(cairn_postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_snapshot_write_does_not_fail_the_command_on_postgres() {
    let test_store = crate::support::postgres_store().await;
    a_failed_snapshot_write_does_not_fail_the_command(test_store).await;
}

/// `snapshots_and_events_after`, which a backend may answer in one round
/// trip, answers what `snapshots` and `read_stream` answer together.
async fn a_load_reads_the_newest_snapshots_and_the_events_after_them_at_once(store: Arc<dyn EventStore>) {
    let stream = StreamId::new("bank-account", "acc");
    let events: Vec<NewEvent> = (1..=12).map(|amount| NewEvent::new("bank-account", "acc", "MoneyDeposited", JsonText::parse(format!(r#"{{"amount":{amount}}}"#)).unwrap())).collect();
    store.append(AppendRequest::to_stream(ExpectedVersion::NoStream, events)).await.unwrap();
    let (snapshots, events) = store.snapshots_and_events_after(&stream, u64::MAX, 3, None).await.unwrap();
    assert!(snapshots.is_empty());
    assert_eq!(events, store.read_stream(&stream, &Default::default()).await.unwrap(), "with no snapshot, every event");
    for version in [4, 8, 10] {
        store.save_snapshot(&snapshot(version, &format!(r#"{{"at":{version}}}"#), "1"), 5).await.unwrap();
    }
    let (snapshots, events) = store.snapshots_and_events_after(&stream, 9, 2, Some(11)).await.unwrap();
    let versions: Vec<u64> = snapshots.iter().map(|snapshot| snapshot.stream_version).collect();
    assert_eq!(versions, [8, 4], "the newest at or below the limit, newest first");
    assert_eq!(snapshots, store.snapshots(&stream, 9, 2).await.unwrap(), "the same records as snapshots() gives");
    let event_versions: Vec<u64> = events.iter().map(|event| event.stream_version).collect();
    assert_eq!(event_versions, [9, 10, 11], "the events after the newest snapshot, up to the last version asked for");
    assert_eq!(events[0], store.read_stream(&stream, &Default::default()).await.unwrap()[8], "whole events, as read_stream gives them");
    let (_, none_after) = store.snapshots_and_events_after(&StreamId::new("bank-account", "nobody"), u64::MAX, 3, None).await.unwrap();
    assert!(none_after.is_empty());
}

//! Replay through handler plugins, on both backends: resuming, retries and
//! dead letters with per-stream parking, stop-on-error, workers, blue/green
//! rebuilds, jobs, and every filter.

use std::sync::Arc;
use std::time::Duration;

use cairn::replay::{
    rebuild, release_stream, replay, run_job, CheckpointChoice, DeadLetterAction, FailurePolicy, JobRequest, ReplayError, ReplayOptions,
    StopReason,
};
use cairn::store::{DeadLetterStatus, HandlerCommit, JobStatus, LogFilter, ReadModelWrite};
use cairn::{AppendRequest, EventStore, JsonText, NewEvent, StoreError};
use serde_json::{json, Value};

use crate::support::{add_plugin, plugin_host};

crate::conformance_tests!(
    a_projection_builds_its_read_model_and_resumes_without_doubling,
    a_failing_event_is_retried_then_dead_lettered_and_its_stream_parked,
    stop_on_error_stops_before_the_failing_event,
    a_handler_that_fails_on_everything_is_stopped,
    workers_keep_each_stream_in_order_and_shared_documents_stay_exact,
    a_rebuild_fills_a_new_generation_while_the_old_one_serves,
    every_filter_selects_its_events,
    jobs_are_recorded_with_their_results,
    a_scan_walks_every_document_of_a_generation_once_in_order,
);

fn event(aggregate_type: &str, id: &str, event_type: &str, payload: Value) -> NewEvent {
    NewEvent::new(aggregate_type, id, event_type, JsonText::parse(&payload.to_string()).unwrap())
}

async fn append(store: &Arc<dyn EventStore>, events: Vec<NewEvent>) {
    store.append(AppendRequest { events, expectations: vec![] }).await.unwrap();
}

fn quick_failures(options: ReplayOptions) -> ReplayOptions {
    ReplayOptions {
        failure: FailurePolicy { max_retries: 2, retry_delay: Duration::from_millis(1), stop_on_error: false, max_consecutive_failures: 10 },
        ..options
    }
}

async fn document(store: &Arc<dyn EventStore>, handler: &str, collection: &str, key: &str) -> Option<Value> {
    store.read_model_get(handler, None, collection, key).await.unwrap().map(|text| serde_json::from_str(&text).unwrap())
}

/// The stream versions the picky handler saw, per stream.
async fn seen(store: &Arc<dyn EventStore>) -> Vec<(String, Vec<u64>)> {
    seen_in(store, None).await
}

async fn seen_in(store: &Arc<dyn EventStore>, generation: Option<u64>) -> Vec<(String, Vec<u64>)> {
    let documents = store.read_model_list("picky", generation, "seen", &cairn::store::KeyPage::prefixed("", 10_000)).await.unwrap();
    documents.into_iter().map(|(key, value)| (key, serde_json::from_str(&value).unwrap())).collect()
}

async fn a_projection_builds_its_read_model_and_resumes_without_doubling(store: Arc<dyn EventStore>) {
    let mut events = vec![event("bank-account", "a", "AccountOpened", json!({"owner": "Ann"})), event("other", "x", "Noise", json!({}))];
    for amount in 1..=10 {
        events.push(event("bank-account", "a", "MoneyDeposited", json!({ "amount": amount })));
    }
    events.push(event("bank-account", "a", "MoneyWithdrawn", json!({"amount": 5})));
    append(&store, events).await;
    let host = plugin_host(store.clone()).await;
    add_plugin(&host, "account-summary").await;

    // Stop halfway, as if the process had been killed after position 6.
    let halfway_options = ReplayOptions { batch_size: 4, filter: LogFilter { to_position: Some(6), ..LogFilter::default() }, ..ReplayOptions::default() };
    let first = replay(&host, "account-summary", &halfway_options, |_| {}).await.unwrap();
    assert_eq!((first.total_events, first.processed, first.skipped, first.position), (6, 5, 1, 6));
    assert_eq!(first.checkpoint.as_deref(), Some("handler:account-summary"));
    assert_eq!(document(&store, "account-summary", "accounts", "a").await.unwrap()["balance"], 1 + 2 + 3 + 4);

    let rest = replay(&host, "account-summary", &ReplayOptions::default(), |_| {}).await.unwrap();
    assert_eq!((rest.total_events, rest.processed, rest.position), (7, 7, 13));
    let done = document(&store, "account-summary", "accounts", "a").await.unwrap();
    assert_eq!((done["balance"].clone(), done["transactions"].clone(), done["owner"].clone()), (json!(55 - 5), json!(11), json!("Ann")));
    let checkpoint = store.checkpoint("handler:account-summary").await.unwrap().unwrap();
    assert_eq!((checkpoint.position, checkpoint.events), (13, 12), "every handled event counted once");

    // A third run finds nothing new and changes nothing.
    let again = replay(&host, "account-summary", &ReplayOptions::default(), |_| {}).await.unwrap();
    assert_eq!((again.total_events, again.processed), (0, 0));
    assert_eq!(store.read_model_list("account-summary", None, "accounts", &cairn::store::KeyPage::prefixed("", 10)).await.unwrap().len(), 1);
    let error = replay(&host, "nobody", &ReplayOptions::default(), |_| {}).await.unwrap_err();
    assert_eq!(error.to_string(), "no handler plugin named nobody; registered handlers: account-summary");

    // A checkpoint ahead of the log (a store restored from an older copy)
    // is refused with the way out.
    store.set_checkpoint("ahead", 99, 0).await.unwrap();
    let ahead = ReplayOptions { checkpoint: CheckpointChoice::Named("ahead".to_owned()), ..ReplayOptions::default() };
    let error = replay(&host, "account-summary", &ahead, |_| {}).await.unwrap_err();
    assert!(matches!(error, ReplayError::CheckpointAhead { position: 99, head: 13, .. }), "{error}");
    assert!(error.to_string().contains("cairn checkpoint set ahead 13"), "{error}");
}

async fn a_failing_event_is_retried_then_dead_lettered_and_its_stream_parked(store: Arc<dyn EventStore>) {
    append(
        &store,
        vec![
            event("thing", "a", "Made", json!({})),
            event("thing", "b", "Made", json!({})),
            event("thing", "a", "Changed", json!({"poison": true})),
            event("thing", "b", "Changed", json!({})),
            event("thing", "a", "Changed", json!({})),
            event("thing", "c", "Made", json!({"poison": true})),
            event("thing", "c", "Changed", json!({})),
            event("thing", "b", "Changed", json!({})),
        ],
    )
    .await;
    let host = plugin_host(store.clone()).await;
    add_plugin(&host, "picky-handler").await;
    let result = replay(&host, "picky", &quick_failures(ReplayOptions::default()), |_| {}).await.unwrap();
    assert_eq!((result.processed, result.failed, result.parked, result.position, result.stopped), (4, 2, 2, 8, None));
    assert_eq!(result.errors.iter().map(|error| error.global_position).collect::<Vec<_>>(), vec![3, 6]);
    assert!(result.errors[0].message.contains("event 2 is poisoned"), "{}", result.errors[0].message);
    // Other streams went on; a and c stopped at their failing events.
    assert_eq!(seen(&store).await, vec![("thing:a".to_owned(), vec![1]), ("thing:b".to_owned(), vec![1, 2, 3])]);
    let letters = store.dead_letters(Some("picky"), true, 100).await.unwrap();
    let summary: Vec<_> = letters.iter().map(|letter| (letter.global_position, letter.status, letter.attempts)).collect();
    assert_eq!(
        summary,
        vec![(3, DeadLetterStatus::Failed, 3), (5, DeadLetterStatus::Parked, 0), (6, DeadLetterStatus::Failed, 3), (7, DeadLetterStatus::Parked, 0)]
    );
    assert_eq!(store.dead_letters(Some("picky"), false, 100).await.unwrap().len(), 2, "parked ones only on request");

    // A later event of a parked stream is parked too, in a later run.
    append(&store, vec![event("thing", "a", "Changed", json!({}))]).await;
    let later = replay(&host, "picky", &quick_failures(ReplayOptions::default()), |_| {}).await.unwrap();
    assert_eq!((later.processed, later.parked), (0, 1));

    // Only the head of a stream's dead letters can be released.
    let error = release_stream(&host, letters[1].id, DeadLetterAction::Retry).await.unwrap_err();
    assert!(error.to_string().contains(&format!("parked behind dead letter {}", letters[0].id)), "{error}");
    // Retrying while the handler still fails keeps everything parked and
    // counts the attempt.
    let again = release_stream(&host, letters[0].id, DeadLetterAction::Retry).await.unwrap();
    assert_eq!((again.handled, again.still_failing.as_ref().map(|failing| failing.global_position)), (0, Some(3)));
    assert_eq!(store.dead_letter(letters[0].id).await.unwrap().unwrap().attempts, 4);

    // "Fix" the handler for event 3, then retry: a's events run in order.
    let fix = HandlerCommit {
        handler: "picky".to_owned(),
        writes: vec![ReadModelWrite { collection: "forgiven".to_owned(), key: letters[0].event_id.to_string(), value: Some("true".to_owned()) }],
        ..HandlerCommit::default()
    };
    store.commit_handler_batch(&fix).await.unwrap();
    let released = release_stream(&host, letters[0].id, DeadLetterAction::Retry).await.unwrap();
    assert_eq!((released.handled, released.skipped, released.still_failing.is_none()), (3, 0, true));
    // Skipping c's failed event runs the one parked behind it.
    let skipped = release_stream(&host, letters[2].id, DeadLetterAction::Skip).await.unwrap();
    assert_eq!((skipped.handled, skipped.skipped), (1, 1));
    assert_eq!(
        seen(&store).await,
        vec![("thing:a".to_owned(), vec![1, 2, 3, 4]), ("thing:b".to_owned(), vec![1, 2, 3]), ("thing:c".to_owned(), vec![2])]
    );
    assert!(store.dead_letters(None, true, 100).await.unwrap().is_empty());
    let checkpoint = store.checkpoint("handler:picky").await.unwrap().unwrap();
    assert_eq!(checkpoint.position, 9, "the checkpoint moved past parked events when they were parked");
}

async fn stop_on_error_stops_before_the_failing_event(store: Arc<dyn EventStore>) {
    append(
        &store,
        vec![event("thing", "a", "Made", json!({})), event("thing", "b", "Made", json!({"poison": true})), event("thing", "a", "Changed", json!({}))],
    )
    .await;
    let host = plugin_host(store.clone()).await;
    add_plugin(&host, "picky-handler").await;
    let options = quick_failures(ReplayOptions::default());
    let options = ReplayOptions { failure: FailurePolicy { stop_on_error: true, ..options.failure.clone() }, ..options };
    let result = replay(&host, "picky", &options, |_| {}).await.unwrap();
    assert_eq!((result.processed, result.failed, result.position, result.stopped), (1, 1, 1, Some(StopReason::FailingEvent)));
    assert_eq!(store.checkpoint("handler:picky").await.unwrap().unwrap().position, 1);
    assert!(store.dead_letters(None, true, 10).await.unwrap().is_empty(), "nothing is dead-lettered under stop-on-error");
    // The next run starts at the failing event again.
    let again = replay(&host, "picky", &options, |_| {}).await.unwrap();
    assert_eq!((again.total_events, again.processed, again.position), (2, 0, 1));
}

async fn a_handler_that_fails_on_everything_is_stopped(store: Arc<dyn EventStore>) {
    let events = (0..6).map(|index| event("thing", &format!("t{index}"), "Made", json!({"poison": true}))).collect();
    append(&store, events).await;
    let host = plugin_host(store.clone()).await;
    add_plugin(&host, "picky-handler").await;
    let options = quick_failures(ReplayOptions { batch_size: 2, ..ReplayOptions::default() });
    let options = ReplayOptions { failure: FailurePolicy { max_consecutive_failures: 3, ..options.failure.clone() }, ..options };
    let result = replay(&host, "picky", &options, |_| {}).await.unwrap();
    assert_eq!((result.failed, result.stopped), (3, Some(StopReason::ConsecutiveFailures)));
    assert_eq!(result.position, 3, "the checkpoint stops after the last dead letter");
    assert_eq!(store.dead_letters(Some("picky"), false, 10).await.unwrap().len(), 3);
}

async fn workers_keep_each_stream_in_order_and_shared_documents_stay_exact(store: Arc<dyn EventStore>) {
    // 12 streams of 25 events, interleaved, so every page holds them all.
    let mut events = Vec::new();
    for _version in 1..=25 {
        for stream in 0..12 {
            events.push(event("thing", &format!("s{stream:02}"), "Step", json!({ "shared": stream == 0 })));
        }
    }
    append(&store, events).await;
    let host = plugin_host(store.clone()).await;
    add_plugin(&host, "picky-handler").await;
    let options = ReplayOptions { workers: 4, batch_size: 40, ..ReplayOptions::default() };
    let result = replay(&host, "picky", &options, |_| {}).await.unwrap();
    assert_eq!((result.processed, result.position), (300, 300));
    let expected: Vec<u64> = (1..=25).collect();
    let streams = seen(&store).await;
    assert_eq!(streams.len(), 12);
    for (stream, versions) in &streams {
        assert_eq!(versions, &expected, "stream {stream} handled in order, each event once");
    }
    assert_eq!(document(&store, "picky", "totals", "shared").await, Some(json!(25)), "only stream s00 touches the shared document so far");

    // Now every stream touches one document: the workers' pages collide,
    // and the engine falls back to one worker without losing an update.
    let events = (0..12).flat_map(|stream| (0..5).map(move |_| event("thing", &format!("s{stream:02}"), "Step", json!({"shared": true})))).collect();
    append(&store, events).await;
    let result = replay(&host, "picky", &options, |_| {}).await.unwrap();
    assert_eq!(result.processed, 60);
    assert_eq!(document(&store, "picky", "totals", "shared").await, Some(json!(25 + 60)));
}

async fn a_rebuild_fills_a_new_generation_while_the_old_one_serves(store: Arc<dyn EventStore>) {
    append(&store, vec![event("bank-account", "a", "AccountOpened", json!({"owner": "Ann"})), event("bank-account", "a", "MoneyDeposited", json!({"amount": 7}))]).await;
    let host = plugin_host(store.clone()).await;
    add_plugin(&host, "account-summary").await;
    replay(&host, "account-summary", &ReplayOptions::default(), |_| {}).await.unwrap();
    // The live copy holds what an older handler version wrote.
    let stale = HandlerCommit {
        handler: "account-summary".to_owned(),
        writes: vec![ReadModelWrite { collection: "accounts".to_owned(), key: "a".to_owned(), value: Some(r#"{"stale":true}"#.to_owned()) }],
        ..HandlerCommit::default()
    };
    store.commit_handler_batch(&stale).await.unwrap();

    // A rebuild under way writes its own generation; readers still see the old one.
    let generation = store.begin_rebuild("account-summary", "handler:account-summary:rebuild").await.unwrap();
    assert_eq!(generation, 1);
    let partial = ReplayOptions {
        checkpoint: CheckpointChoice::Named("handler:account-summary:rebuild".to_owned()),
        generation: Some(generation),
        filter: LogFilter { to_position: Some(1), ..LogFilter::default() },
        ..ReplayOptions::default()
    };
    replay(&host, "account-summary", &partial, |_| {}).await.unwrap();
    assert_eq!(document(&store, "account-summary", "accounts", "a").await, Some(json!({"stale": true})));
    let building = store.read_model_get("account-summary", Some(1), "accounts", "a").await.unwrap().unwrap();
    assert!(building.contains(r#""balance":0"#), "{building}");

    // A full rebuild replaces that unfinished one, catches up, and switches.
    append(&store, vec![event("bank-account", "a", "MoneyDeposited", json!({"amount": 5}))]).await;
    let result = rebuild(&host, "account-summary", &ReplayOptions::default(), |_| {}).await.unwrap();
    assert_eq!((result.generation, result.processed, result.position), (2, 3, 3));
    assert_eq!(store.generations("account-summary").await.unwrap(), cairn::store::Generations { live: 2, building: None });
    assert_eq!(document(&store, "account-summary", "accounts", "a").await.unwrap()["balance"], 12);
    assert_eq!(store.read_model_get("account-summary", Some(0), "accounts", "a").await.unwrap(), None, "the old copy is gone");
    let live = store.checkpoint("handler:account-summary").await.unwrap().unwrap();
    assert_eq!(live.position, 3);
    assert_eq!(store.checkpoint("handler:account-summary:rebuild").await.unwrap(), None);
    // A writer still on the old generation is refused, so it cannot write
    // into a retired copy.
    let error = store.commit_handler_batch(&HandlerCommit { handler: "account-summary".to_owned(), generation: 0, ..HandlerCommit::default() }).await.unwrap_err();
    assert!(matches!(error, StoreError::GenerationRetired { generation: 0, .. }), "{error}");
    // And the live projection goes on in the new generation.
    append(&store, vec![event("bank-account", "a", "MoneyWithdrawn", json!({"amount": 2}))]).await;
    replay(&host, "account-summary", &ReplayOptions::default(), |_| {}).await.unwrap();
    assert_eq!(document(&store, "account-summary", "accounts", "a").await.unwrap()["balance"], 10);
}

async fn every_filter_selects_its_events(store: Arc<dyn EventStore>) {
    let at = |day: u32| Some(chrono::DateTime::parse_from_rfc3339(&format!("2026-01-{day:02}T00:00:00Z")).unwrap().to_utc());
    let mut events = vec![
        event("account", "a", "Opened", json!({})),
        event("account", "a", "Deposited", json!({})),
        event("account", "b", "Opened", json!({})),
        event("order", "o", "Placed", json!({})),
        event("account", "b", "Deposited", json!({})),
        event("order", "o", "Shipped", json!({})),
    ];
    for (index, new_event) in events.iter_mut().enumerate() {
        new_event.timestamp = at(index as u32 + 1);
    }
    events[1].correlation_id = Some("c-1".to_owned());
    events[3].correlation_id = Some("c-1".to_owned());
    append(&store, events).await;
    let host = plugin_host(store.clone()).await;
    add_plugin(&host, "picky-handler").await;
    let cases: Vec<(&str, LogFilter, u64, Vec<(&str, Vec<u64>)>)> = vec![
        ("type", LogFilter { event_types: vec!["Deposited".to_owned()], ..LogFilter::default() }, 0, vec![("account:a", vec![2]), ("account:b", vec![2])]),
        ("aggregate type", LogFilter { aggregate_types: vec!["order".to_owned()], ..LogFilter::default() }, 0, vec![("order:o", vec![1, 2])]),
        (
            "aggregate id",
            LogFilter { aggregate_types: vec!["account".to_owned()], aggregate_id: Some("b".to_owned()), ..LogFilter::default() },
            0,
            vec![("account:b", vec![1, 2])],
        ),
        ("correlation", LogFilter { correlation_id: Some("c-1".to_owned()), ..LogFilter::default() }, 0, vec![("account:a", vec![2]), ("order:o", vec![1])]),
        ("time", LogFilter { since: at(3), until: at(4), ..LogFilter::default() }, 0, vec![("account:b", vec![1]), ("order:o", vec![1])]),
        ("positions", LogFilter { to_position: Some(5), ..LogFilter::default() }, 3, vec![("account:b", vec![2]), ("order:o", vec![1])]),
        ("nothing", LogFilter { event_types: vec!["Nope".to_owned()], ..LogFilter::default() }, 0, vec![]),
    ];
    for (label, filter, after_position, expected) in cases {
        // An empty rebuild makes a fresh, empty read model for each case.
        let generation = store.begin_rebuild("picky", "reset").await.unwrap();
        store
            .finish_rebuild(&cairn::store::RebuildSwitch {
                handler: "picky".to_owned(),
                generation,
                rebuild_checkpoint: "reset".to_owned(),
                live_checkpoint: "unused".to_owned(),
            })
            .await
            .unwrap();
        let options = ReplayOptions { filter, after_position, checkpoint: CheckpointChoice::None, ..ReplayOptions::default() };
        let result = replay(&host, "picky", &options, |_| {}).await.unwrap();
        let expected: Vec<(String, Vec<u64>)> = expected.into_iter().map(|(key, versions)| (key.to_owned(), versions)).collect();
        // Not the live projection, so into a generation of its own.
        assert_eq!(seen_in(&store, Some(result.generation)).await, expected, "filter by {label}");
        assert_eq!(result.total_events, expected.iter().map(|(_, versions)| versions.len() as u64).sum::<u64>(), "filter by {label}");
    }
    // Filtering by content never moves the handler's own checkpoint, which
    // would skip the events the filter left out.
    let filtered = ReplayOptions { filter: LogFilter { event_types: vec!["Opened".to_owned()], ..LogFilter::default() }, ..ReplayOptions::default() };
    let result = replay(&host, "picky", &filtered, |_| {}).await.unwrap();
    assert_eq!(result.checkpoint, None);
    assert!(result.notes[0].contains("does not move handler:picky"), "{:?}", result.notes);
    assert_eq!(store.checkpoint("handler:picky").await.unwrap(), None);
}

async fn jobs_are_recorded_with_their_results(store: Arc<dyn EventStore>) {
    append(&store, vec![event("bank-account", "a", "AccountOpened", json!({"owner": "Ann"})), event("thing", "t", "Made", json!({}))]).await;
    let host = plugin_host(store.clone()).await;
    add_plugin(&host, "account-summary").await;
    add_plugin(&host, "picky-handler").await;
    let request = JobRequest { id: uuid::Uuid::new_v4(), handlers: vec!["account-summary".to_owned(), "picky".to_owned()], options: ReplayOptions::default() };
    let outcome = run_job(&host, &request, |_, _| {}).await.unwrap();
    assert_eq!(outcome.status, JobStatus::Completed);
    assert_eq!(outcome.results.iter().map(|result| (result.processed, result.skipped)).collect::<Vec<_>>(), vec![(1, 1), (2, 0)]);
    let recorded = store.replay_job(request.id).await.unwrap().unwrap();
    assert_eq!((recorded.status, recorded.handlers.clone(), recorded.finished_at.is_some()), (JobStatus::Completed, request.handlers.clone(), true));
    let results: Vec<cairn::replay::ReplayResult> = serde_json::from_str(recorded.result.as_deref().unwrap()).unwrap();
    let figures = |results: &[cairn::replay::ReplayResult]| results.iter().map(|result| (result.handler.clone(), result.processed, result.position)).collect::<Vec<_>>();
    assert_eq!(figures(&results), figures(&outcome.results));
    assert_eq!(store.replay_jobs(10).await.unwrap().len(), 1);

    let unknown = JobRequest { id: uuid::Uuid::new_v4(), handlers: vec!["nobody".to_owned()], options: ReplayOptions::default() };
    assert!(run_job(&host, &unknown, |_, _| {}).await.is_err());
    assert_eq!(store.replay_job(unknown.id).await.unwrap(), None, "a job naming an unknown handler is refused before it is recorded");
}

/// `read_model_scan` pages through a whole generation across collections,
/// each document once, in (collection, key) order, and no other generation's.
async fn a_scan_walks_every_document_of_a_generation_once_in_order(store: Arc<dyn EventStore>) {
    let put = |collection: &str, key: &str| ReadModelWrite { collection: collection.to_owned(), key: key.to_owned(), value: Some(format!(r#"{{"at":"{collection}/{key}"}}"#)) };
    let writes = vec![put("b", "2"), put("a", "z"), put("b", "1"), put("a", "a/b"), put("c", "k"), put("a", "gone")];
    store.commit_handler_batch(&HandlerCommit { handler: "scanned".to_owned(), writes, ..HandlerCommit::default() }).await.unwrap();
    let deleted = ReadModelWrite { collection: "a".to_owned(), key: "gone".to_owned(), value: None };
    store.commit_handler_batch(&HandlerCommit { handler: "scanned".to_owned(), writes: vec![deleted], ..HandlerCommit::default() }).await.unwrap();
    let other = store.begin_rebuild("scanned", "handler:scanned:rebuild").await.unwrap();
    store.commit_handler_batch(&HandlerCommit { handler: "scanned".to_owned(), generation: other, writes: vec![put("a", "other")], ..HandlerCommit::default() }).await.unwrap();
    let mut walked = Vec::new();
    let mut after = (String::new(), String::new());
    loop {
        let page = store.read_model_scan("scanned", None, &after, 2).await.unwrap();
        assert!(page.len() <= 2);
        let Some((collection, key, _)) = page.last() else { break };
        after = (collection.clone(), key.clone());
        walked.extend(page.into_iter().map(|(collection, key, value)| {
            assert_eq!(value, format!(r#"{{"at":"{collection}/{key}"}}"#));
            format!("{collection}/{key}")
        }));
    }
    assert_eq!(walked, ["a/a/b", "a/z", "b/1", "b/2", "c/k"]);
    let building = store.read_model_scan("scanned", Some(other), &(String::new(), String::new()), 10).await.unwrap();
    assert_eq!(building.len(), 1, "the rebuild's generation holds only its own document");
}

//! Plugins written in Python (componentize-py) and JavaScript (jco), built
//! by `plugins/build-polyglot`, held to the behaviour their sources
//! document: the Python migrator upcasts exactly like the Rust one, the
//! Python bank account keeps the Rust one's rules, the JavaScript ticket
//! aggregate enforces its rules, and both handlers build
//! their read models. Plugin behaviour does not depend on the backend, so
//! these run on SQLite only.

use std::sync::Arc;

use cairn::command::{CommandError, CommandRequest, Commands};
use cairn::replay::{replay, ReplayOptions};
use cairn::runtime::FailureReason;
use cairn::store::StreamRange;
use cairn::{AppendRequest, EventStore, JsonText, StreamId};
use serde_json::{json, Value};

use crate::support::{add_plugin, sqlite_store};

/// A plugin host whose compile cache is shared by these tests: a Python
/// component takes seconds to compile, and the cache is keyed by content
/// hash, so sharing it cannot mix plugins up.
async fn plugin_host(store: Arc<dyn EventStore>) -> Arc<cairn::plugins::PluginHost> {
    let runtime = cairn::runtime::PluginRuntime::new(cairn::runtime::RuntimeConfig {
        cache_directory: Some(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("polyglot-compile-cache")),
        ..cairn::runtime::RuntimeConfig::default()
    })
    .expect("runtime starts");
    cairn::plugins::PluginHost::open(store, runtime, false).await.expect("plugin host opens")
}

fn fixture_lines(name: &str) -> Vec<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(name);
    std::fs::read_to_string(&path).unwrap().lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

async fn append_user_events(store: &Arc<dyn EventStore>) {
    let events = fixture_lines("user-events.jsonl").into_iter().map(|line| cairn::import::parse_event_json(&line.to_string()).unwrap()).collect();
    store.append(AppendRequest { events, expectations: Vec::new() }).await.unwrap();
}

/// Every user event as the given migrator upcasts it: (type, version, payload).
async fn upcast_with(migrator: &str) -> Vec<(String, String, Value)> {
    let test_store = sqlite_store().await;
    append_user_events(&test_store.store).await;
    let host = plugin_host(test_store.store.clone()).await;
    add_plugin(&host, migrator).await;
    let chains = host.migration_chains().await.unwrap();
    let stored = test_store.store.read_log(&Default::default(), 0, 100).await.unwrap();
    let upcast = cairn::migrate::upcast_events(&chains, stored).await.unwrap();
    upcast.into_iter().map(|event| (event.event_type, event.schema_version, event.payload.to_value())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_migrator_upcasts_exactly_like_the_rust_one() {
    let rust = upcast_with("user-migrator").await;
    let python = upcast_with("user-migrator-py").await;
    assert_eq!(python, rust);
    // And both match the seed's documented example, so equality is not two
    // identical mistakes.
    assert_eq!(
        python[0].2,
        json!({"user_id": "456", "email": "user@example.com", "expertise_domains": ["ai", "machine learning", "nlp"],
               "user_preferences": {"email_notifications": true, "push_notifications": true, "weekly_digest": true},
               "notification_settings": {"frequency": "immediate", "channels": ["email"], "quiet_hours": {"enabled": false}}})
    );
    assert_eq!(python[1].2["expertise_domains"], json!(["robotics", "vision"]));
    assert_eq!(python[1].2["user_preferences"], json!({"email_notifications": false}), "values an event carries are kept");
    let versions: Vec<&str> = python.iter().map(|(_, version, _)| version.as_str()).collect();
    assert_eq!(versions, ["1.1", "1.1", "1.1", "1.1", "1.1", "1.0"], "events without a step pass through");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_handler_builds_the_user_directory_from_upcast_events() {
    let test_store = sqlite_store().await;
    let store = test_store.store.clone();
    append_user_events(&store).await;
    let host = plugin_host(store.clone()).await;
    add_plugin(&host, "user-migrator-py").await;
    add_plugin(&host, "user-directory").await;
    let result = replay(&host, "user-directory", &ReplayOptions::default(), |_| {}).await.unwrap();
    assert_eq!((result.processed, result.failed, result.skipped), (5, 0, 1), "{result:?}");
    let document = |collection: &'static str, key: &'static str| {
        let store = store.clone();
        async move { store.read_model_get("user-directory", None, collection, key).await.unwrap().map(|text| serde_json::from_str::<Value>(&text).unwrap()) }
    };
    let user = document("users", "456").await.unwrap();
    assert_eq!((user["email"].clone(), user["expertise_domains"].clone(), user["changes"].clone()), (json!("user@example.com"), json!(["ai", "robotics"]), json!(2)));
    assert_eq!(document("domains", "robotics").await, Some(json!(["456"])), "457 moved from robotics to vision only");
    assert_eq!(document("domains", "vision").await, Some(json!(["457"])));
    assert_eq!(document("domains", "machine learning").await, Some(json!([])), "456 left it");
    assert_eq!(document("users", "458").await.unwrap()["user_preferences"]["weekly_digest"], true, "defaults from the migrator");
}

fn command(aggregate_type: &str, aggregate_id: &str, command_type: &str, payload: &Value) -> CommandRequest {
    CommandRequest {
        aggregate_type: aggregate_type.to_owned(),
        aggregate_id: aggregate_id.to_owned(),
        command_type: command_type.to_owned(),
        payload: JsonText::from_value(payload),
        metadata: JsonText::empty_object(),
        command_id: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_javascript_ticket_aggregate_enforces_its_rules_and_its_handler_keeps_the_board() {
    let test_store = sqlite_store().await;
    let store = test_store.store.clone();
    let host = plugin_host(store.clone()).await;
    add_plugin(&host, "ticket").await;
    add_plugin(&host, "ticket-board").await;
    let commands = Commands::new(host.clone());
    for (line, step) in fixture_lines("ticket-commands.jsonl").iter().enumerate() {
        let outcome = commands.execute(command("ticket", step["ticket"].as_str().unwrap(), step["command_type"].as_str().unwrap(), &step["payload"])).await;
        let got = outcome_text(outcome);
        assert_eq!(got, step["expect"].as_str().unwrap(), "line {} of ticket-commands.jsonl", line + 1);
    }
    let state = commands.state("ticket", "t-1").await.unwrap();
    assert_eq!(
        state.state.to_value(),
        json!({"status": "closed", "title": "Login fails", "description": "500 on submit", "project_id": 7, "priority": "high", "assigned_to": 3, "assignments": 1})
    );
    let events = store.read_stream(&StreamId::new("ticket", "t-1"), &StreamRange::default()).await.unwrap();
    assert_eq!(events[2].payload.to_value(), json!({"old_status": "open", "new_status": "in_progress"}));

    let result = replay(&host, "ticket-board", &ReplayOptions::default(), |_| {}).await.unwrap();
    assert_eq!((result.processed, result.failed), (7, 0), "{result:?}");
    let board = store.read_model_get("ticket-board", None, "projects", "7").await.unwrap().unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&board).unwrap(),
        json!({"project_id": 7, "tickets": 2, "counts": {"open": 0, "in_progress": 0, "resolved": 1, "closed": 1}})
    );
    let card = store.read_model_get("ticket-board", None, "tickets", "t-1").await.unwrap().unwrap();
    assert_eq!(serde_json::from_str::<Value>(&card).unwrap()["assigned_to"], 3);
}

/// A command's outcome in the words the fixtures use: the new event types,
/// "nothing", "rejected: …", "invalid: …".
fn outcome_text(outcome: Result<cairn::command::CommandOutcome, CommandError>) -> String {
    match outcome {
        Ok(outcome) if outcome.events.is_empty() => "nothing".to_owned(),
        Ok(outcome) => outcome.events.iter().map(|event| event.event_type.clone()).collect::<Vec<_>>().join(","),
        Err(CommandError::Rejected { message, .. }) => format!("rejected: {message}"),
        Err(CommandError::Plugin(failure)) => match failure.reason {
            FailureReason::Invalid(message) => format!("invalid: {message}"),
            other => format!("plugin failure: {other}"),
        },
        Err(other) => format!("error: {other}"),
    }
}

/// Runs tests/fixtures/bank-account-rules.jsonl through one bank-account
/// plugin; returns its stream as (type, schema version, payload) and the
/// final state.
async fn run_bank_rules(plugin: &str) -> (Vec<(String, String, Value)>, Value) {
    let test_store = sqlite_store().await;
    let host = plugin_host(test_store.store.clone()).await;
    add_plugin(&host, plugin).await;
    let commands = Commands::new(host.clone());
    for (line, step) in fixture_lines("bank-account-rules.jsonl").iter().enumerate() {
        let outcome = commands.execute(command(plugin, step["account"].as_str().unwrap(), step["command_type"].as_str().unwrap(), &step["payload"])).await;
        let got = outcome_text(outcome);
        // Invalid input is named in each language's own words.
        let got = if got.starts_with("invalid: ") { "invalid".to_owned() } else { got };
        assert_eq!(got, step["expect"].as_str().unwrap(), "{plugin}, line {} of bank-account-rules.jsonl", line + 1);
    }
    let events = test_store.store.read_stream(&StreamId::new(plugin, "a-1"), &StreamRange::default()).await.unwrap();
    let state = commands.state(plugin, "a-1").await.unwrap().state.to_value();
    (events.into_iter().map(|event| (event.event_type, event.schema_version, event.payload.to_value())).collect(), state)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_bank_account_keeps_the_rules_of_the_rust_one() {
    let (rust_events, rust_state) = run_bank_rules("bank-account").await;
    let (python_events, python_state) = run_bank_rules("bank-account-py").await;
    assert_eq!(python_events, rust_events);
    assert_eq!(python_state, rust_state);
    assert_eq!(python_state, json!({"status": "closed", "owner": "Ann", "balance": 300, "transactions": 2}));
}

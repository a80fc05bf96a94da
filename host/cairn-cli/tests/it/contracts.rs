//! Contract versions side by side. `tests/fixtures/contract-0.1` keeps
//! `cairn:plugin@0.1.0` builds of bank-account, user-migrator,
//! account-summary and test-migrator, made before the SDK moved to 0.2.0;
//! `plugins/dist` holds today's 0.2.0 builds of the same sources. Each host
//! here runs 0.1.0 and 0.2.0 plugins together, and both mixes must give
//! identical results. Components that export both contracts, or a 0.2.0
//! world without one of its functions, are refused at `plugin add`.

use std::sync::Arc;

use cairn::command::{CommandRequest, Commands};
use cairn::plugins::{PluginHost, PluginSource};
use cairn::replay::{replay, ReplayOptions};
use cairn::store::StreamRange;
use cairn::{AppendRequest, EventStore, JsonText, StreamId};
use serde_json::{json, Value};

use crate::support::{plugin_bytes, plugin_host};

crate::conformance_tests!(
    a_0_1_migrator_is_still_held_to_the_0_1_checks,
    a_component_of_two_contracts_or_a_missing_function_is_refused_and_nothing_is_stored,
);

fn contract_0_1_bytes(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/contract-0.1").join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

fn fixture_lines(name: &str) -> Vec<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(name);
    std::fs::read_to_string(&path).unwrap().lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

/// Adds `name` from the 0.1.0 fixtures or from `plugins/dist`, checks the
/// contract its description records, and returns it.
async fn add(host: &PluginHost, name: &str, contract: &str) {
    let bytes = if contract == "0.1.0" { contract_0_1_bytes(name) } else { plugin_bytes(name) };
    let added = host
        .add(PluginSource { bytes, requested_name: None, file_stem: Some(name.to_owned()) })
        .await
        .unwrap_or_else(|error| panic!("{name} {contract} is accepted: {error}"));
    let description: Value = serde_json::from_str(&added.record.description).unwrap();
    assert_eq!(description["contract"], contract, "{name}");
}

/// What one host makes of the same inputs: the bank-account rules (each
/// command's outcome, the stream, the state), the user events as read
/// through the migrator, and the account-summary documents after a replay.
async fn run_mix(store: Arc<dyn EventStore>, contracts: [&str; 3]) -> Value {
    let host = plugin_host(store.clone()).await;
    add(&host, "bank-account", contracts[0]).await;
    add(&host, "user-migrator", contracts[1]).await;
    add(&host, "account-summary", contracts[2]).await;

    let commands = Commands::new(host.clone());
    let mut outcomes = Vec::new();
    for step in fixture_lines("bank-account-rules.jsonl") {
        let request = CommandRequest {
            aggregate_type: "bank-account".to_owned(),
            aggregate_id: step["account"].as_str().unwrap().to_owned(),
            command_type: step["command_type"].as_str().unwrap().to_owned(),
            payload: JsonText::from_value(&step["payload"]),
            metadata: JsonText::empty_object(),
            command_id: None,
        };
        outcomes.push(match commands.execute(request).await {
            Ok(outcome) => json!(outcome.events.iter().map(|event| event.event_type.clone()).collect::<Vec<_>>()),
            Err(error) => json!(format!("{}: {error}", cairn::Classified::kind(&error))),
        });
    }
    let stream = store.read_stream(&StreamId::new("bank-account", "a-1"), &StreamRange::default()).await.unwrap();
    let state = commands.state("bank-account", "a-1").await.unwrap().state.to_value();

    let users = fixture_lines("user-events.jsonl").into_iter().map(|line| cairn::import::parse_event_json(&line.to_string()).unwrap()).collect();
    store.append(AppendRequest { events: users, expectations: Vec::new() }).await.unwrap();
    let chains = host.migration_chains().await.unwrap();
    let stored = store.read_log(&Default::default(), 0, 1_000).await.unwrap();
    let upcast: Vec<Value> = cairn::migrate::upcast_events(&chains, stored)
        .await
        .unwrap()
        .into_iter()
        .filter(|event| event.aggregate_type == "user")
        .map(|event| json!([event.event_type, event.schema_version, event.payload.to_value(), event.metadata.to_value()]))
        .collect();

    let result = replay(&host, "account-summary", &ReplayOptions::default(), |_| {}).await.unwrap();
    let summary = store.read_model_get("account-summary", None, "accounts", "a-1").await.unwrap().map(|text| serde_json::from_str::<Value>(&text).unwrap());
    let mut summary = summary.expect("the replay wrote the account's summary");
    // The only field that differs between runs: when the last event happened.
    assert!(summary["last_event_at"].as_str().unwrap().ends_with('Z'), "{summary}");
    summary["last_event_at"] = json!("(time)");
    json!({
        "outcomes": outcomes,
        "stream": stream.iter().map(|event| json!([event.event_type, event.schema_version, event.payload.to_value()])).collect::<Vec<_>>(),
        "state": state,
        "user_payloads": upcast,
        "replay": [result.processed, result.failed],
        "summary": summary,
    })
}

/// Runs one mix of contracts on each store, and compares.
async fn both_mixes_agree(first_store: &crate::support::TestStore, second_store: &crate::support::TestStore) {
    let first = run_mix(first_store.store.clone(), ["0.1.0", "0.2.0", "0.1.0"]).await;
    let second = run_mix(second_store.store.clone(), ["0.2.0", "0.1.0", "0.2.0"]).await;
    assert_eq!(first, second);
    // And what they agree on is right, so agreement is not two identical mistakes.
    assert_eq!(first["state"], json!({"status": "closed", "owner": "Ann", "balance": 300, "transactions": 2}));
    assert_eq!(first["user_payloads"][0][2]["expertise_domains"], json!(["ai", "machine learning", "nlp"]));
    assert_eq!(first["user_payloads"][0][1], "1.1");
    assert_eq!(first["summary"], json!({"owner": "Ann", "balance": 300, "status": "closed", "transactions": 2, "last_event_at": "(time)"}));
    assert_eq!(first["outcomes"][7], "rejected: insufficient funds: the balance is 500, the withdrawal 501");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn contract_0_1_and_0_2_plugins_run_side_by_side_with_identical_results_on_sqlite() {
    both_mixes_agree(&crate::support::sqlite_store().await, &crate::support::sqlite_store().await).await;
}

#[cfg(cairn_postgres)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn contract_0_1_and_0_2_plugins_run_side_by_side_with_identical_results_on_postgres() {
    let (first, second) = (crate::support::postgres_store().await, crate::support::postgres_store().await);
    both_mixes_agree(&first, &second).await;
    first.remove().await;
    second.remove().await;
}

async fn a_0_1_migrator_is_still_held_to_the_0_1_checks(store: Arc<dyn EventStore>) {
    let host = plugin_host(store.clone()).await;
    add(&host, "test-migrator", "0.1.0").await;
    let chains = host.migration_chains().await.unwrap();
    for (request, expected) in [
        ("wrong-version", "it returned schema version `1.5`, but the step goes to `2.0`"),
        ("change-id", "it changed the event id"),
        ("refuse", "refused on purpose"),
    ] {
        let event = cairn::NewEvent::new(&format!("fragile-{request}"), "x-1", "Fragile", JsonText::parse(format!(r#"{{"do":"{request}"}}"#)).unwrap());
        let event = cairn::NewEvent { schema_version: "1.0".to_owned(), ..event };
        store.append(AppendRequest { events: vec![event], expectations: Vec::new() }).await.unwrap();
        let stored = store.read_stream(&StreamId::new(&format!("fragile-{request}"), "x-1"), &StreamRange::default()).await.unwrap();
        let error = cairn::migrate::upcast_events(&chains, stored).await.unwrap_err();
        let message = format!("{error}: {}", error.reason);
        assert!(message.contains(expected), "expected `{expected}` in: {message}");
    }
}

async fn a_component_of_two_contracts_or_a_missing_function_is_refused_and_nothing_is_stored(store: Arc<dyn EventStore>) {
    let host = plugin_host(store.clone()).await;
    for (name, expected) in [
        ("test-two-contracts", "exports more than one Cairn world (aggregate 0.1.0, aggregate 0.2.0)"),
        ("test-missing-decide", "exports cairn:plugin/aggregate@0.2.0 without the function(s) decide"),
    ] {
        let error = host
            .add(PluginSource { bytes: plugin_bytes(name), requested_name: None, file_stem: Some(name.to_owned()) })
            .await
            .map(|added| added.record.name)
            .unwrap_err();
        let message = format!("{error}: {}", error_chain(&error));
        assert!(message.contains(expected), "expected `{expected}` in: {message}");
        assert!(message.contains("wit/cairn-plugin@"), "the message names the fix: {message}");
        assert_eq!(cairn::Classified::kind(&error), cairn::ErrorKind::Refused);
    }
    assert!(store.plugin_versions().await.unwrap().is_empty(), "nothing was stored");
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = String::new();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(&format!("{cause}; "));
        source = cause.source();
    }
    text
}

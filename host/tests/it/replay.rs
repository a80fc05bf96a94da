//! Replay through handler plugins, on both backends.

use std::sync::Arc;

use cairn::replay::{replay, ReplayOptions, DEFAULT_BATCH_SIZE};
use cairn::store::LogFilter;
use cairn::{AppendRequest, EventStore, ExpectedVersion, JsonText, NewEvent};
use serde_json::json;

use crate::support::{add_plugin, plugin_host};

crate::conformance_tests!(a_projection_builds_its_read_model_and_resumes_without_doubling);

fn options(batch_size: usize, to_position: Option<u64>) -> ReplayOptions {
    ReplayOptions {
        handler: "account-summary".to_owned(),
        filter: LogFilter { to_position, ..LogFilter::default() },
        after_position: 0,
        batch_size,
        checkpoint: None,
        max_retries: 0,
    }
}

async fn a_projection_builds_its_read_model_and_resumes_without_doubling(store: Arc<dyn EventStore>) {
    let event = |aggregate_type: &str, id: &str, event_type: &str, payload: &str| {
        NewEvent::new(aggregate_type, id, event_type, JsonText::parse(payload).unwrap())
    };
    let mut events = vec![event("bank-account", "a", "AccountOpened", r#"{"owner":"Ann"}"#), event("other", "x", "Noise", "{}")];
    for amount in 1..=10 {
        events.push(event("bank-account", "a", "MoneyDeposited", &format!(r#"{{"amount":{amount}}}"#)));
    }
    events.push(event("bank-account", "a", "MoneyWithdrawn", r#"{"amount":5}"#));
    store.append(AppendRequest { events, expectations: vec![] }).await.unwrap();
    let host = plugin_host(store.clone()).await;
    add_plugin(&host, "account-summary").await;

    // Stop halfway, as if the process had been killed after position 6.
    let first = replay(&host, &options(4, Some(6)), |_, _| {}).await.unwrap();
    assert_eq!((first.total_events, first.processed, first.skipped, first.checkpoint_position), (6, 5, 1, 6));
    let halfway: serde_json::Value = serde_json::from_str(&store.read_model_get("account-summary", "accounts", "a").await.unwrap().unwrap()).unwrap();
    assert_eq!(halfway["balance"], 1 + 2 + 3 + 4);

    let rest = replay(&host, &options(DEFAULT_BATCH_SIZE, None), |_, _| {}).await.unwrap();
    assert_eq!((rest.total_events, rest.processed, rest.checkpoint_position), (7, 7, 13));
    let done: serde_json::Value = serde_json::from_str(&store.read_model_get("account-summary", "accounts", "a").await.unwrap().unwrap()).unwrap();
    assert_eq!((done["balance"].clone(), done["transactions"].clone(), done["owner"].clone()), (json!(55 - 5), json!(11), json!("Ann")));
    let checkpoint = store.checkpoint("handler:account-summary").await.unwrap().unwrap();
    assert_eq!((checkpoint.position, checkpoint.events), (13, 12), "every handled event counted once");

    // A third run finds nothing new and changes nothing.
    let again = replay(&host, &options(DEFAULT_BATCH_SIZE, None), |_, _| {}).await.unwrap();
    assert_eq!(again.processed, 0);
    assert_eq!(store.read_model_list("account-summary", "accounts", "", 10).await.unwrap().len(), 1);
    let error = replay(&host, &ReplayOptions { handler: "nobody".to_owned(), ..options(10, None) }, |_, _| {}).await.unwrap_err();
    assert_eq!(error.to_string(), "no handler plugin named nobody; registered handlers: account-summary");
}

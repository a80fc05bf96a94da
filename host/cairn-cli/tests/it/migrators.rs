//! Migrators: chains, upcasting on read, refusals and failures, on both backends.

use std::sync::Arc;

use cairn::migrate::{chain_problems, SchemaVersion};
use cairn::plugins::{PluginHostError, PluginSource};
use cairn::runtime::types::MigrationStep;
use cairn::store::StreamRange;
use cairn::{AppendRequest, EventStore, ExpectedVersion, JsonText, NewEvent, RecordedEvent, StreamId};
use serde_json::json;

use crate::support::{add_plugin, plugin_bytes, plugin_host, with_custom_section};

crate::conformance_tests!(
    the_seed_migrations_upcast_exactly_and_stored_bytes_stay,
    steps_chain_and_events_without_a_step_pass_through,
    a_conflicting_migrator_is_refused_naming_the_conflict,
    a_failing_migrator_fails_the_read_naming_event_migrator_and_step,
    aggregates_fold_upcast_events,
);

async fn append(store: &Arc<dyn EventStore>, aggregate_type: &str, event_type: &str, schema_version: &str, payload: &str) -> RecordedEvent {
    let event = NewEvent {
        schema_version: schema_version.to_owned(),
        ..NewEvent::new(aggregate_type, "x-1", event_type, JsonText::parse(payload).unwrap())
    };
    store.append(AppendRequest::to_stream(ExpectedVersion::Any, vec![event])).await.unwrap().events.remove(0)
}

async fn stream(store: &Arc<dyn EventStore>, aggregate_type: &str) -> Vec<RecordedEvent> {
    store.read_stream(&StreamId::new(aggregate_type, "x-1"), &StreamRange::default()).await.unwrap()
}

async fn the_seed_migrations_upcast_exactly_and_stored_bytes_stay(store: Arc<dyn EventStore>) {
    let opportunity = r#"{"opportunity_id": "123", "title": "AI Chatbot", "ai_solution_type": "nlp", "market_size": 1000000}"#;
    let user = r#"{"user_id": "456", "email": "user@example.com", "expertise_domains": "ai,machine learning,nlp"}"#;
    append(&store, "opportunity", "OpportunityCreated", "1.0", opportunity).await;
    append(&store, "user", "UserRegistered", "1.0", user).await;
    let host = plugin_host(store.clone()).await;
    add_plugin(&host, "opportunity-migrator").await;
    add_plugin(&host, "user-migrator").await;
    let chains = host.migration_chains().await.unwrap();
    let upcast = cairn::migrate::upcast_events(&chains, [stream(&store, "opportunity").await, stream(&store, "user").await].concat()).await.unwrap();
    assert_eq!((upcast[0].schema_version.as_str(), upcast[1].schema_version.as_str()), ("2.0", "1.1"));
    assert_eq!(
        upcast[0].payload.to_value(),
        json!({"opportunity_id": "123", "title": "AI Chatbot", "ai_solution_type": "nlp", "market_size_estimate": 1000000,
               "ai_solution_category": "natural_language_processing", "confidence_score": 0.7})
    );
    assert_eq!(
        upcast[1].payload.to_value(),
        json!({"user_id": "456", "email": "user@example.com", "expertise_domains": ["ai", "machine learning", "nlp"],
               "user_preferences": {"email_notifications": true, "push_notifications": true, "weekly_digest": true},
               "notification_settings": {"frequency": "immediate", "channels": ["email"], "quiet_hours": {"enabled": false}}})
    );
    // The store still holds exactly what was written.
    let stored = [stream(&store, "opportunity").await, stream(&store, "user").await].concat();
    assert_eq!((stored[0].schema_version.as_str(), stored[0].payload.as_str()), ("1.0", opportunity));
    assert_eq!((stored[1].schema_version.as_str(), stored[1].payload.as_str()), ("1.0", user));
    let counts = chains.counts();
    assert!(counts.iter().all(|count| count.upcast == 1 && count.failed == 0), "{counts:?}");
}

async fn steps_chain_and_events_without_a_step_pass_through(store: Arc<dyn EventStore>) {
    append(&store, "opportunity", "OpportunityCreated", "1.0", r#"{"title":"T","ai_solution_type":"cv","market_size":5}"#).await;
    append(&store, "opportunity", "OpportunityArchived", "1.0", r#"{"reason":"done"}"#).await;
    append(&store, "opportunity", "OpportunityCreated", "2.1", r#"{"already":"newest"}"#).await;
    let host = plugin_host(store.clone()).await;
    add_plugin(&host, "opportunity-migrator").await;
    add_plugin(&host, "test-migrator").await;
    let chains = host.migration_chains().await.unwrap();
    assert_eq!(chains.newest_version("OpportunityCreated"), Some("2.1"));
    assert_eq!(chains.reachable_version("OpportunityCreated", "1.0"), "2.1");
    let upcast = cairn::migrate::upcast_events(&chains, stream(&store, "opportunity").await).await.unwrap();
    assert_eq!(upcast[0].schema_version, "2.1", "two steps, from two migrators");
    assert_eq!(upcast[0].payload.to_value()["reviewed"], false);
    assert_eq!(upcast[0].payload.to_value()["ai_solution_category"], "computer_vision");
    assert_eq!((upcast[1].schema_version.as_str(), upcast[1].payload.as_str()), ("1.0", r#"{"reason":"done"}"#));
    assert_eq!(upcast[2].payload.as_str(), r#"{"already":"newest"}"#);
}

async fn a_conflicting_migrator_is_refused_naming_the_conflict(store: Arc<dyn EventStore>) {
    let host = plugin_host(store.clone()).await;
    add_plugin(&host, "opportunity-migrator").await;
    let error = host
        .add(PluginSource {
            bytes: with_custom_section(&plugin_bytes("opportunity-migrator"), "copy"),
            requested_name: Some("another-upcaster".to_owned()),
            file_stem: None,
        })
        .await
        .unwrap_err();
    assert!(matches!(error, PluginHostError::ConflictingMigrators(_)), "{error}");
    assert!(
        error.to_string().contains("opportunity-migrator and another-upcaster both migrate OpportunityCreated from version 1.0"),
        "{error}"
    );
    // A new version of the same migrator replaces its own steps: no conflict.
    host.add(PluginSource { bytes: with_custom_section(&plugin_bytes("opportunity-migrator"), "v2"), requested_name: None, file_stem: Some("opportunity-migrator".to_owned()) })
        .await
        .unwrap();
    assert_eq!(store.plugin_versions().await.unwrap().len(), 2);
}

async fn a_failing_migrator_fails_the_read_naming_event_migrator_and_step(store: Arc<dyn EventStore>) {
    let host = plugin_host(store.clone()).await;
    add_plugin(&host, "test-migrator").await;
    let chains = host.migration_chains().await.unwrap();
    for (request, expected) in [
        ("trap", "this migrator traps on purpose"),
        ("invalid-json", "the payload is not JSON"),
        ("bad-metadata", "metadata"),
        ("short-answer", "it answered 0 results for a batch of 1 events"),
        ("refuse", "refused on purpose"),
    ] {
        let event = append(&store, &format!("fragile-{request}"), "Fragile", "1.0", &format!(r#"{{"do":"{request}"}}"#)).await;
        let error = cairn::migrate::upcast_events(&chains, vec![event.clone()]).await.unwrap_err();
        let message = format!("{error}: {}", error.reason);
        assert!(
            message.starts_with(&format!("cannot upcast event {} (Fragile 1.0 → 2.0) with migrator test-migrator", event.id)),
            "{message}"
        );
        assert!(message.contains(expected), "expected `{expected}` in: {message}");
    }
    assert_eq!(chains.counts()[0].failed, 5);
    // The migrator still serves healthy events afterwards, until it is removed.
    let healthy = append(&store, "fragile-ok", "Fragile", "1.0", r#"{"do":"nothing"}"#).await;
    assert_eq!(cairn::migrate::upcast_events(&chains, vec![healthy.clone()]).await.unwrap()[0].schema_version, "2.0");
    host.remove("test-migrator", None).await.unwrap();
    let after_removal = host.migration_chains().await.unwrap();
    assert!(after_removal.is_empty());
    assert_eq!(cairn::migrate::upcast_events(&after_removal, vec![healthy]).await.unwrap()[0].schema_version, "1.0");
    // A read that took the chains before the removal keeps them.
    assert!(!chains.is_empty());
}

async fn aggregates_fold_upcast_events(store: Arc<dyn EventStore>) {
    let host = plugin_host(store.clone()).await;
    add_plugin(&host, "opportunity").await;
    add_plugin(&host, "test-migrator").await;
    let event = NewEvent {
        schema_version: "2.0".to_owned(),
        ..NewEvent::new("opportunity", "o-1", "OpportunityCreated", JsonText::parse(r#"{"opportunity_id":"o-1","title":"T","ai_solution_type":"nlp","market_size_estimate":9}"#).unwrap())
    };
    store.append(AppendRequest::to_stream(ExpectedVersion::NoStream, vec![event])).await.unwrap();
    let commands = cairn::command::Commands::new(host);
    let state = commands.state("opportunity", "o-1").await.unwrap();
    assert_eq!((state.state.to_value()["market_size"].as_u64(), state.state.to_value()["status"].as_str()), (Some(9), Some("open")));
}

#[test]
fn versions_compare_as_semantic_versions() {
    let versions: Vec<SchemaVersion> = ["1.0", "1.1", "2.0", "10.0", "10.0.1"].iter().map(|text| SchemaVersion::parse(text).unwrap()).collect();
    assert!(versions.windows(2).all(|pair| pair[0] < pair[1]));
    assert_eq!(SchemaVersion::parse("2").unwrap(), SchemaVersion::parse("2.0.0").unwrap());
    assert!(SchemaVersion::parse("v1").unwrap_err().contains("is not a schema version"));
}

#[test]
fn steps_that_do_not_go_up_or_collide_are_reported_all_at_once() {
    let step = |event_type: &str, from: &str, to: &str| MigrationStep { event_type: event_type.into(), from_version: from.into(), to_version: to.into() };
    let problems = chain_problems(&[
        ("a".to_owned(), vec![step("E", "2.0", "1.0"), step("F", "1.0", "1.1")]),
        ("b".to_owned(), vec![step("F", "1.0", "2.0"), step("G", "one", "2.0")]),
    ]);
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems[0].contains("a's step E 2.0 → 1.0 does not go up"));
    assert!(problems[1].contains("a and b both migrate F from version 1.0"));
    assert!(problems[2].contains("`one` is not a schema version"));
}

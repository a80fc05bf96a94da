//! The plugin registry: storage on both backends, and the checks the plugin
//! host makes before anything is stored.

use std::sync::Arc;

use cairn::plugins::{PluginHostError, PluginSource};
use cairn::store::{NewPluginVersion, Registration};
use cairn::EventStore;

use crate::support::{add_plugin, plugin_bytes, plugin_host, with_custom_section};

crate::conformance_tests!(
    registering_numbers_versions_and_keeps_one_active,
    registering_the_active_bytes_again_writes_nothing,
    removing_the_active_version_activates_the_newest_remaining,
    the_host_refuses_what_is_not_a_valid_plugin_and_stores_nothing,
    the_host_refuses_an_aggregate_type_served_by_another_plugin,
    a_refreshed_host_uses_the_new_version_and_a_held_one_keeps_working,
    every_kind_of_plugin_is_described_when_added,
);

fn version(name: &str, hash: &str) -> NewPluginVersion {
    NewPluginVersion {
        name: name.to_owned(),
        kind: "aggregate".to_owned(),
        content_hash: hash.to_owned(),
        description: r#"{"aggregate_type":"thing"}"#.to_owned(),
        component: hash.as_bytes().to_vec(),
    }
}

async fn registering_numbers_versions_and_keeps_one_active(store: Arc<dyn EventStore>) {
    for hash in ["aaa", "bbb", "ccc"] {
        assert!(matches!(store.register_plugin(version("thing", hash)).await.unwrap(), Registration::Added(_)));
    }
    store.register_plugin(version("other", "ddd")).await.unwrap();
    let all = store.plugin_versions().await.unwrap();
    let summary: Vec<(String, u64, bool)> = all.iter().map(|record| (record.name.clone(), record.version, record.active)).collect();
    assert_eq!(
        summary,
        [("other".into(), 1, true), ("thing".into(), 1, false), ("thing".into(), 2, false), ("thing".into(), 3, true)]
    );
    let active = store.active_plugin_versions().await.unwrap();
    assert_eq!(active.iter().map(|record| record.content_hash.as_str()).collect::<Vec<_>>(), ["ddd", "ccc"]);
    assert_eq!(store.plugin_component("thing", 2).await.unwrap().unwrap(), b"bbb");
    assert_eq!(store.plugin_component("thing", 9).await.unwrap(), None);
}

async fn registering_the_active_bytes_again_writes_nothing(store: Arc<dyn EventStore>) {
    store.register_plugin(version("thing", "aaa")).await.unwrap();
    let again = store.register_plugin(version("thing", "aaa")).await.unwrap();
    assert!(matches!(&again, Registration::AlreadyActive(record) if record.version == 1), "{again:?}");
    store.register_plugin(version("thing", "bbb")).await.unwrap();
    // Going back to older bytes is a new version, so the history stays in order.
    let back = store.register_plugin(version("thing", "aaa")).await.unwrap();
    assert!(matches!(&back, Registration::Added(record) if record.version == 3), "{back:?}");
}

async fn removing_the_active_version_activates_the_newest_remaining(store: Arc<dyn EventStore>) {
    for hash in ["aaa", "bbb", "ccc"] {
        store.register_plugin(version("thing", hash)).await.unwrap();
    }
    assert_eq!(store.remove_plugin("thing", Some(3)).await.unwrap(), 1);
    let active = store.active_plugin_versions().await.unwrap();
    assert_eq!((active[0].version, active[0].content_hash.as_str()), (2, "bbb"));
    assert_eq!(store.remove_plugin("thing", Some(1)).await.unwrap(), 1);
    assert_eq!(store.active_plugin_versions().await.unwrap()[0].version, 2, "removing an inactive version changes nothing else");
    assert_eq!(store.remove_plugin("thing", None).await.unwrap(), 1);
    assert!(store.plugin_versions().await.unwrap().is_empty());
    assert_eq!(store.remove_plugin("thing", None).await.unwrap(), 0);
}

async fn the_host_refuses_what_is_not_a_valid_plugin_and_stores_nothing(store: Arc<dyn EventStore>) {
    let host = plugin_host(store.clone()).await;
    let attempts = [
        (plugin_bytes("test-no-world"), None, "exports none of Cairn's worlds"),
        (b"not wasm".to_vec(), None, "not a WebAssembly component"),
        (plugin_bytes("bank-account"), Some("Bad Name"), "not a valid plugin name"),
    ];
    for (bytes, requested_name, expected) in attempts {
        let error = host
            .add(PluginSource { bytes, requested_name: requested_name.map(str::to_owned), file_stem: Some("file".to_owned()) })
            .await
            .unwrap_err();
        assert!(error.to_string().contains(expected), "expected `{expected}` in: {error}");
    }
    assert!(store.plugin_versions().await.unwrap().is_empty());
}

async fn the_host_refuses_an_aggregate_type_served_by_another_plugin(store: Arc<dyn EventStore>) {
    let host = plugin_host(store.clone()).await;
    add_plugin(&host, "bank-account").await;
    let error = host
        .add(PluginSource {
            bytes: with_custom_section(&plugin_bytes("bank-account"), "copy"),
            requested_name: Some("second-bank".to_owned()),
            file_stem: None,
        })
        .await
        .unwrap_err();
    assert!(matches!(&error, PluginHostError::AggregateTypeTaken { owner, .. } if owner == "bank-account"), "{error}");
    let error = host
        .add(PluginSource { bytes: plugin_bytes("test-noop"), requested_name: Some("bank-account".to_owned()), file_stem: None })
        .await
        .unwrap_err();
    assert!(matches!(error, PluginHostError::AggregateTypeChanged { .. }), "{error}");
    assert_eq!(store.plugin_versions().await.unwrap().len(), 1);
}

async fn a_refreshed_host_uses_the_new_version_and_a_held_one_keeps_working(store: Arc<dyn EventStore>) {
    let running = plugin_host(store.clone()).await;
    let admin = plugin_host(store.clone()).await;
    add_plugin(&admin, "bank-account").await;
    running.refresh().await.unwrap();
    let (held, first) = running.aggregate("bank-account").await.unwrap();
    assert_eq!(first.version, 1);
    admin
        .add(PluginSource {
            bytes: with_custom_section(&plugin_bytes("bank-account"), "v2"),
            requested_name: None,
            file_stem: None,
        })
        .await
        .unwrap();
    running.refresh().await.unwrap();
    let (_, second) = running.aggregate("bank-account").await.unwrap();
    assert_eq!(second.version, 2);
    // A caller that took version 1 before the swap finishes on it.
    let state = tokio::task::spawn_blocking(move || held.initial_state("a-1")).await.unwrap().unwrap();
    assert!(state.as_str().contains("unopened"), "{state}");
}

async fn every_kind_of_plugin_is_described_when_added(store: Arc<dyn EventStore>) {
    let host = plugin_host(store.clone()).await;
    let aggregate = add_plugin(&host, "opportunity").await;
    let migrator = add_plugin(&host, "opportunity-migrator").await;
    let handler = add_plugin(&host, "account-summary").await;
    let described = |record: &cairn::store::PluginVersionRecord| serde_json::from_str::<serde_json::Value>(&record.description).unwrap();
    assert_eq!((aggregate.name.as_str(), aggregate.kind.as_str()), ("opportunity", "aggregate"));
    assert_eq!(described(&aggregate), serde_json::json!({"format":1,"contract":"0.2.0","aggregate_type":"opportunity","state_version":"1","snapshot_every":50}));
    assert_eq!((migrator.name.as_str(), migrator.kind.as_str()), ("opportunity-migrator", "migrator"));
    assert_eq!(
        described(&migrator)["steps"][0],
        serde_json::json!({"event_type":"OpportunityCreated","from_version":"1.0","to_version":"2.0"})
    );
    assert_eq!((handler.name.as_str(), handler.kind.as_str()), ("account-summary", "handler"));
    assert_eq!(described(&handler), serde_json::json!({"format":1,"contract":"0.2.0","name":"account-summary","event_types":[],"aggregate_types":["bank-account"]}));
    // A plugin's kind is part of its name's identity.
    let error = host
        .add(PluginSource { bytes: plugin_bytes("opportunity-migrator"), requested_name: Some("opportunity".to_owned()), file_stem: None })
        .await
        .unwrap_err();
    assert_eq!(error.to_string(), "plugin opportunity is an aggregate, but this file is a migrator; give it another name with --name");
}

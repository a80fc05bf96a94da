use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{events_json, split_tagged, TestEvent};
use crate::handler::HandlerAdapter;
use crate::{Handler, PluginError, ReadModels};

/// A test of a handler: given events, then read-model documents, kept in
/// memory.
///
/// ```text
/// let mut test = HandlerTest::<AccountSummary>::new();
/// test.given("account", "acc-1", &[AccountEvent::MoneyDeposited { amount: 5 }]).unwrap();
/// test.then_document("summaries", "acc-1", json!({ "balance": 5 }));
/// ```
///
/// Events are filtered by the handler's declared types, as the host does,
/// and each `given` call is one batch through the same `handle` the wasm
/// export runs.
pub struct HandlerTest<H: Handler> {
    documents: BTreeMap<(String, String), String>,
    global_position: u64,
    stream_versions: BTreeMap<(String, String), u64>,
    _handler: std::marker::PhantomData<H>,
}

impl<H: Handler> Default for HandlerTest<H> {
    fn default() -> Self {
        Self::new()
    }
}

impl<H: Handler> HandlerTest<H> {
    /// A handler with empty read models.
    pub fn new() -> Self {
        Self { documents: BTreeMap::new(), global_position: 0, stream_versions: BTreeMap::new(), _handler: std::marker::PhantomData }
    }

    /// Appends `events` to the stream (`aggregate_type`, `aggregate_id`) and
    /// hands them to the handler as one batch. An error names the index of
    /// the failing event in `events`; the documents keep the writes of the
    /// events before it.
    pub fn given<E: Serialize>(&mut self, aggregate_type: &str, aggregate_id: &str, events: &[E]) -> Result<(), (usize, PluginError)> {
        let mut batch = Vec::new();
        let mut indices = Vec::new();
        for (index, event) in events.iter().enumerate() {
            let (event_type, payload) = split_tagged("event_type", event);
            self.global_position += 1;
            let version = self.stream_versions.entry((aggregate_type.to_owned(), aggregate_id.to_owned())).or_default();
            *version += 1;
            let wanted_type = H::EVENT_TYPES.is_empty() || H::EVENT_TYPES.contains(&event_type.as_str());
            let wanted_aggregate = H::AGGREGATE_TYPES.is_empty() || H::AGGREGATE_TYPES.contains(&aggregate_type);
            if wanted_type && wanted_aggregate {
                indices.push(index);
                batch.push((event_type, payload, *version, self.global_position));
            }
        }
        let as_json = |batch: &[(String, String, u64, u64)]| {
            let test_events: Vec<TestEvent<'_>> = batch
                .iter()
                .map(|(event_type, payload, stream_version, global_position)| TestEvent {
                    event_type,
                    schema_version: "1.0",
                    stream_version: *stream_version,
                    global_position: *global_position,
                    payload,
                    envelope: H::WANTS_ENVELOPE.then_some((aggregate_type, aggregate_id, "{}")),
                })
                .collect();
            events_json(&test_events)
        };
        // The host commits the writes of the events before a failure only,
        // and runs them again: do the same on a copy of the documents.
        let mut attempt = self.documents.clone();
        match HandlerAdapter::<H>::handle_batch(&as_json(&batch), &mut ReadModels::in_memory(&mut attempt)) {
            Ok(()) => {
                self.documents = attempt;
                Ok(())
            }
            Err((index, error)) => {
                let index = (index as usize).min(batch.len().saturating_sub(1));
                let mut kept = self.documents.clone();
                if index > 0 && HandlerAdapter::<H>::handle_batch(&as_json(&batch[..index]), &mut ReadModels::in_memory(&mut kept)).is_ok() {
                    self.documents = kept;
                }
                Err((indices.get(index).copied().unwrap_or(index), error))
            }
        }
    }

    /// The document at (collection, key), read into `T`.
    pub fn document<T: DeserializeOwned>(&self, collection: &str, key: &str) -> Option<T> {
        let text = self.documents.get(&(collection.to_owned(), key.to_owned()))?;
        Some(serde_json::from_str(text).unwrap_or_else(|error| panic!("document {collection}/{key} does not read as the type asked for: {error}")))
    }

    /// The document at (collection, key) equals `expected`.
    pub fn then_document(&self, collection: &str, key: &str, expected: impl Serialize) {
        let expected = serde_json::to_value(expected).unwrap_or_else(|error| panic!("cannot serialize the expected document: {error}"));
        match self.document::<serde_json::Value>(collection, key) {
            Some(document) => assert_eq!(document, expected, "document {collection}/{key} differs"),
            None => panic!("there is no document {collection}/{key}; there are: {:?}", self.documents.keys().collect::<Vec<_>>()),
        }
    }

    /// There is no document at (collection, key).
    pub fn then_no_document(&self, collection: &str, key: &str) {
        assert!(self.document::<serde_json::Value>(collection, key).is_none(), "document {collection}/{key} exists");
    }

    /// Every document, by (collection, key), as JSON text.
    pub fn documents(&self) -> &BTreeMap<(String, String), String> {
        &self.documents
    }
}

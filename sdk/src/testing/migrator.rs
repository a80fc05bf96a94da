use serde::Serialize;
use serde_json::Value;

use super::{events_json, TestEvent};
use crate::migrator::MigratorAdapter;
use crate::{Migrator, PluginError};

/// A test of a migrator: this payload in, that one out.
///
/// ```text
/// MigratorTest::<UserUpcast>::event("UserRegistered", "1.0")
///     .given(json!({ "expertise_domains": "rust, wasm" }))
///     .then_payload(json!({ "expertise_domains": ["rust", "wasm"], ... }));
/// ```
///
/// The payload goes through the same `migrate` the wasm export runs, one
/// step: the step this migrator declares for the type at that version.
pub struct MigratorTest<M: Migrator> {
    event_type: String,
    schema_version: String,
    payload: String,
    _migrator: std::marker::PhantomData<M>,
}

impl<M: Migrator> MigratorTest<M> {
    /// An event of `event_type` stored at `schema_version`.
    pub fn event(event_type: &str, schema_version: &str) -> Self {
        Self { event_type: event_type.to_owned(), schema_version: schema_version.to_owned(), payload: "{}".to_owned(), _migrator: std::marker::PhantomData }
    }

    /// The stored payload.
    pub fn given(mut self, payload: impl Serialize) -> Self {
        self.payload = serde_json::to_string(&payload).unwrap_or_else(|error| panic!("cannot serialize the given payload: {error}"));
        self
    }

    /// The stored payload as raw JSON text, embedded in the batch as the host
    /// embeds it.
    pub fn given_text(mut self, payload: &str) -> Self {
        self.payload = payload.to_owned();
        self
    }

    /// What the migrator answers: the new payload, or its error.
    pub fn outcome(&self) -> Result<Value, PluginError> {
        let text = events_json(&[TestEvent {
            event_type: &self.event_type,
            schema_version: &self.schema_version,
            stream_version: 1,
            global_position: 1,
            payload: &self.payload,
            envelope: M::WANTS_ENVELOPE.then_some(("test", "test-1", "{}")),
        }]);
        let mut answers = MigratorAdapter::<M>::migrate_batch(&text);
        let migrated = answers.pop().ok_or_else(|| PluginError::internal("the migrator answered nothing"))??;
        serde_json::from_str(&migrated.payload).map_err(|error| PluginError::internal(format!("the migrated payload is not JSON: {error}")))
    }

    /// The migrator answers exactly this payload.
    pub fn then_payload(self, expected: impl Serialize) {
        let expected = serde_json::to_value(expected).unwrap_or_else(|error| panic!("cannot serialize the expected payload: {error}"));
        match self.outcome() {
            Ok(payload) => assert_eq!(payload, expected, "the migrated payload differs"),
            Err(error) => panic!("expected a payload, but the migrator failed: {error}"),
        }
    }

    /// The migrator refuses the event as invalid, with a message containing `text`.
    pub fn then_invalid(self, text: &str) {
        match self.outcome() {
            Err(PluginError::Invalid(message)) => assert!(message.contains(text), "invalid with {message:?}, which does not contain {text:?}"),
            other => panic!("expected an invalid-input error containing {text:?}, got {other:?}"),
        }
    }
}

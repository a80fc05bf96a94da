//! A batch's read-model access: writes are buffered (and read back by later
//! events of the same batch), reads fall through to the store. Nothing
//! reaches the store until the batch commits with its checkpoint.

use std::any::Any;
use std::collections::HashMap;
use std::sync::Arc;

use crate::runtime::types::ReadModelAccess;
use crate::store::{EventStore, ReadModelWrite};

pub(super) struct BatchBuffer {
    store: Arc<dyn EventStore>,
    handler: String,
    runtime: tokio::runtime::Handle,
    writes: Vec<ReadModelWrite>,
    latest: HashMap<(String, String), Option<String>>,
}

impl BatchBuffer {
    pub fn new(store: Arc<dyn EventStore>, handler: String, runtime: tokio::runtime::Handle) -> Self {
        Self { store, handler, runtime, writes: Vec::new(), latest: HashMap::new() }
    }

    fn record(&mut self, collection: &str, key: &str, value: Option<String>) {
        self.latest.insert((collection.to_owned(), key.to_owned()), value.clone());
        self.writes.push(ReadModelWrite { collection: collection.to_owned(), key: key.to_owned(), value });
    }
}

impl ReadModelAccess for BatchBuffer {
    fn get(&mut self, collection: &str, key: &str) -> Result<Option<String>, String> {
        if let Some(value) = self.latest.get(&(collection.to_owned(), key.to_owned())) {
            return Ok(value.clone());
        }
        // Called on a blocking thread inside a plugin call, so waiting here
        // holds no async worker.
        self.runtime
            .block_on(self.store.read_model_get(&self.handler, collection, key))
            .map_err(|error| error.to_string())
    }

    fn put(&mut self, collection: &str, key: &str, value: String) -> Result<(), String> {
        self.record(collection, key, Some(value));
        Ok(())
    }

    fn delete(&mut self, collection: &str, key: &str) -> Result<(), String> {
        self.record(collection, key, None);
        Ok(())
    }

    fn as_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

/// The writes a batch made, in order.
pub(super) fn into_writes(access: Box<dyn ReadModelAccess>) -> Vec<ReadModelWrite> {
    access.as_any().downcast::<BatchBuffer>().map(|buffer| buffer.writes).unwrap_or_default()
}

//! Read-model storage: JSON documents by handler, collection and key. The
//! only way to write is `commit_handler_batch`, which applies a batch's
//! writes and advances the handler's checkpoint in one transaction, so an
//! event's effects are never applied twice or half.

use async_trait::async_trait;

use super::StoreError;

/// One write of a batch: a document, or its deletion (`value: None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadModelWrite {
    pub collection: String,
    pub key: String,
    pub value: Option<String>,
}

/// Where a committed batch leaves the handler's checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointAdvance {
    pub name: String,
    pub position: u64,
    /// Events the batch handled, added to the checkpoint's count.
    pub events: u64,
}

#[async_trait]
pub trait ReadModelStore: Send + Sync {
    async fn read_model_get(&self, handler: &str, collection: &str, key: &str) -> Result<Option<String>, StoreError>;

    /// Documents whose key starts with `prefix`, by key, at most `limit`.
    async fn read_model_list(
        &self,
        handler: &str,
        collection: &str,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<(String, String)>, StoreError>;

    /// Applies `writes` in order and moves the checkpoint, atomically.
    async fn commit_handler_batch(
        &self,
        handler: &str,
        writes: &[ReadModelWrite],
        checkpoint: &CheckpointAdvance,
    ) -> Result<(), StoreError>;
}

//! Named checkpoints: the last position a reader has fully handled, with
//! how many events it has handled in all. Replays and projections resume
//! from them; a projection's checkpoint will commit in the same transaction
//! as its read-model writes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checkpoint {
    pub name: String,
    /// The last global position handled.
    pub position: u64,
    /// Events handled under this name.
    pub events: u64,
    #[serde(with = "cairn_event::time::rfc3339_micros")]
    pub updated_at: DateTime<Utc>,
}

/// Checkpoint storage, implemented by every backend.
#[async_trait]
pub trait CheckpointStore: Send + Sync {
    /// Creates or moves a checkpoint.
    async fn set_checkpoint(&self, name: &str, position: u64, events: u64) -> Result<Checkpoint, StoreError>;
    async fn checkpoint(&self, name: &str) -> Result<Option<Checkpoint>, StoreError>;
    async fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError>;
    /// Whether there was one to delete.
    async fn delete_checkpoint(&self, name: &str) -> Result<bool, StoreError>;
}

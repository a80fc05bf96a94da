//! Snapshot storage: a stream's folded state at a version. The store keeps
//! the state as text and never interprets it; the loader in
//! `crate::command` decides whether a snapshot is usable.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::StoreError;
use cairn_event::StreamId;

/// A snapshot to write.
#[derive(Debug, Clone)]
pub struct NewSnapshot {
    pub stream: StreamId,
    pub stream_version: u64,
    /// JSON text, as the aggregate plugin produced it.
    pub state: String,
    pub plugin_content_hash: String,
    pub state_version: String,
}

/// A stored snapshot. `state` is returned as stored, even if damaged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotRecord {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub stream_version: u64,
    pub state: String,
    pub plugin_content_hash: String,
    pub state_version: String,
    #[serde(with = "cairn_event::time::rfc3339_micros")]
    pub created_at: DateTime<Utc>,
}

/// Snapshot storage, implemented by every backend and covered by the
/// conformance suite.
#[async_trait]
pub trait SnapshotStore: Send + Sync {
    /// Writes (or replaces) the snapshot at its version, then keeps only the
    /// newest `keep` snapshots of its stream.
    async fn save_snapshot(&self, snapshot: &NewSnapshot, keep: usize) -> Result<(), StoreError>;

    /// Snapshots of one stream at or below `at_or_below`, newest first.
    async fn snapshots(&self, stream: &StreamId, at_or_below: u64, limit: usize) -> Result<Vec<SnapshotRecord>, StoreError>;

    /// Deletes every snapshot of an aggregate type, or of one stream.
    async fn delete_snapshots(&self, aggregate_type: &str, aggregate_id: Option<&str>) -> Result<u64, StoreError>;
}

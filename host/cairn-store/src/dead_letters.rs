//! Dead letters: events a handler failed on after its retries, and the later
//! events of the same stream parked behind them so that per-stream order
//! holds. They are written only with a handler batch
//! ([`super::HandlerCommit`]), so parking and the checkpoint's advance past
//! a parked event are one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadLetterStatus {
    /// The handler failed on the event after its retries.
    Failed,
    /// Held back behind an earlier failed event of the same stream.
    Parked,
}

impl DeadLetterStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeadLetterStatus::Failed => "failed",
            DeadLetterStatus::Parked => "parked",
        }
    }

    pub fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "failed" => Ok(DeadLetterStatus::Failed),
            "parked" => Ok(DeadLetterStatus::Parked),
            other => Err(StoreError::CorruptRow(format!("dead letter status {other:?} is neither failed nor parked"))),
        }
    }
}

/// A dead letter to add, or to update when the event already has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeadLetter {
    pub generation: u64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub event_id: Uuid,
    pub global_position: u64,
    pub event_type: String,
    pub status: DeadLetterStatus,
    pub error: Option<String>,
    pub attempts: u32,
}

/// How many dead letters one handler has, across its generations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadLetterCounts {
    pub handler: String,
    pub failed: u64,
    pub parked: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadLetter {
    pub id: i64,
    pub handler: String,
    pub generation: u64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub event_id: Uuid,
    pub global_position: u64,
    pub event_type: String,
    pub status: DeadLetterStatus,
    pub error: Option<String>,
    pub attempts: u32,
    #[serde(with = "cairn_event::time::rfc3339_micros")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "cairn_event::time::rfc3339_micros")]
    pub updated_at: DateTime<Utc>,
}

#[async_trait]
pub trait DeadLetterStore: Send + Sync {
    /// Dead letters by position, of one handler or all, parked ones too when
    /// asked.
    async fn dead_letters(&self, handler: Option<&str>, include_parked: bool, limit: usize) -> Result<Vec<DeadLetter>, StoreError>;

    async fn dead_letter(&self, id: i64) -> Result<Option<DeadLetter>, StoreError>;

    /// Per handler, by name: how many dead letters failed and how many are
    /// parked behind them. One aggregate query, for health and metrics.
    async fn dead_letter_counts(&self) -> Result<Vec<DeadLetterCounts>, StoreError>;

    /// A stream's dead letters for one handler generation, by position: the
    /// failed event first, then those parked behind it.
    async fn dead_letters_of_stream(
        &self,
        handler: &str,
        generation: u64,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Vec<DeadLetter>, StoreError>;

    /// The streams a handler generation has parked, as (aggregate type, id).
    async fn parked_streams(&self, handler: &str, generation: u64) -> Result<Vec<(String, String)>, StoreError>;
}

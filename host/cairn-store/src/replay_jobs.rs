//! Replay jobs, recorded so that any process can list them and show their
//! results. The request and the result are JSON that the replay engine
//! writes; the store keeps them as opaque text.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Running,
    Completed,
    /// Ended by an error or by a failing event under stop-on-error.
    Failed,
    /// Interrupted by the user.
    Stopped,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Running => "running",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
            JobStatus::Stopped => "stopped",
        }
    }

    pub fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "running" => Ok(JobStatus::Running),
            "completed" => Ok(JobStatus::Completed),
            "failed" => Ok(JobStatus::Failed),
            "stopped" => Ok(JobStatus::Stopped),
            other => Err(StoreError::CorruptRow(format!("replay job status {other:?} is unknown"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplayJobRecord {
    pub id: Uuid,
    pub handlers: Vec<String>,
    /// The options the job ran with, as JSON text.
    pub request: String,
    pub status: JobStatus,
    /// How far the job had come when it last reported, of `head`.
    pub position: u64,
    pub head: u64,
    /// The result, as JSON text, once the job has ended.
    pub result: Option<String>,
    pub error: Option<String>,
    #[serde(with = "cairn_event::time::rfc3339_micros")]
    pub started_at: DateTime<Utc>,
    #[serde(with = "cairn_event::time::rfc3339_micros")]
    pub updated_at: DateTime<Utc>,
    #[serde(with = "cairn_event::time::optional_rfc3339_micros")]
    pub finished_at: Option<DateTime<Utc>>,
}

#[async_trait]
pub trait ReplayJobStore: Send + Sync {
    async fn create_replay_job(&self, id: Uuid, handlers: &[String], request: &str, head: u64) -> Result<(), StoreError>;

    async fn report_replay_progress(&self, id: Uuid, position: u64, head: u64) -> Result<(), StoreError>;

    async fn finish_replay_job(&self, id: Uuid, status: JobStatus, result: Option<&str>, error: Option<&str>) -> Result<(), StoreError>;

    /// The latest jobs first.
    async fn replay_jobs(&self, limit: usize) -> Result<Vec<ReplayJobRecord>, StoreError>;

    async fn replay_job(&self, id: Uuid) -> Result<Option<ReplayJobRecord>, StoreError>;
}

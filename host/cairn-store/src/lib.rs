//! The event store: an append-only log with expected-version concurrency.
//!
//! Invariants:
//! - The store knows nothing of wasm or HTTP. It keeps plugin components
//!   for the registry as opaque bytes ([`PluginCatalog`]).
//! - `global_position` is gap-free and commit-ordered: a reader that has seen
//!   position P never later finds a newly committed event below P.
//! - An append is all or nothing.
//!
//! [`EventStore`] is the boundary. Both backends implement it, and one
//! conformance suite (`host/cairn-cli/tests/it/conformance.rs`) runs
//! against both.

mod append_queue;
pub mod blocking;
mod checkpoints;
mod command_records;
mod dead_letters;
mod error;
mod filter;
mod filter_text;
mod follow;
mod head;
mod leases;
mod limits;
mod options;
mod plan;
mod plugin_catalog;
mod read_models;
mod replay_jobs;
mod snapshots;
mod postgres;
mod sqlite;
mod telemetry;
mod url;
mod validate;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use cairn_event::{AppendOutcome, AppendRequest, RecordedEvent, StreamId};

pub use checkpoints::{Checkpoint, CheckpointStore};
pub use command_records::{CommandAppend, CommandMark, CommandRecord, CommandRecordStore, CommandResult};
pub use cairn_event::Problem;
pub use error::StoreError;
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
pub use telemetry::{APPEND_DURATION, EVENTS_APPENDED};
pub use filter::LogFilter;
pub use filter_text::{comma_list, FilterText, MAX_FILTER_VALUES};
pub use follow::follow_log;
pub use leases::{Fence, Lease, LeaseStore, HOST_LEASE_PREFIX};
pub use limits::StoreLimits;
pub use options::{Durability, StoreOptions};
pub use plugin_catalog::{NewPluginVersion, PluginCatalog, PluginVersionRecord, Registration, RegistryChange, RegistryCheck};
pub use dead_letters::{DeadLetter, DeadLetterCounts, DeadLetterStatus, DeadLetterStore, NewDeadLetter};
pub use read_models::{CheckpointAdvance, Generations, HandlerCommit, KeyPage, ReadModelStore, ReadModelWrite, RebuildSwitch};
pub(crate) use read_models::coalesce;
pub use replay_jobs::{JobStatus, ReplayJobRecord, ReplayJobStore};
pub use snapshots::{NewSnapshot, SnapshotRecord, SnapshotStore};
pub use url::{StoreUrl, DEFAULT_STORE_URL};
pub use validate::{validate_append, validate_append_located};

/// Registry changes made by any process, as the store announces them
/// (PostgreSQL's LISTEN/NOTIFY). `changes` moves on each change, and after
/// the listening connection was re-established (changes may have been
/// missed meanwhile); while `listening` is false, poll instead.
#[derive(Debug, Clone)]
pub struct RegistryNotices {
    pub changes: tokio::sync::watch::Receiver<u64>,
    pub listening: tokio::sync::watch::Receiver<bool>,
}

/// A bounded slice of one stream.
#[derive(Debug, Clone, Default)]
pub struct StreamRange {
    /// First stream version to return (1-based, inclusive).
    pub from_version: Option<u64>,
    /// Last stream version to return (inclusive).
    pub to_version: Option<u64>,
    pub limit: Option<usize>,
}

/// Figures about the whole store.
#[derive(Debug, Clone, Serialize)]
pub struct StoreStatistics {
    pub total_events: u64,
    pub total_streams: u64,
    pub last_global_position: u64,
    pub events_by_type: Vec<CountByName>,
    pub events_by_aggregate_type: Vec<CountByName>,
    #[serde(with = "cairn_event::time::optional_rfc3339_micros")]
    pub first_event_timestamp: Option<DateTime<Utc>>,
    #[serde(with = "cairn_event::time::optional_rfc3339_micros")]
    pub latest_event_timestamp: Option<DateTime<Utc>>,
    pub store_size_bytes: u64,
    pub backend: &'static str,
    /// What an acknowledged append survives, as the database reports it:
    /// `full` or `normal` (see `Durability`).
    pub durability: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CountByName {
    pub name: String,
    pub count: u64,
}

/// What every backend provides. The consumers of the store (the CLI, the
/// plugin runtime's command path, replay) own this contract.
#[async_trait]
pub trait EventStore:
    PluginCatalog + SnapshotStore + CheckpointStore + ReadModelStore + DeadLetterStore + ReplayJobStore + CommandRecordStore + LeaseStore + Send + Sync + 'static {
    /// Appends atomically, and with `command`, records it with the
    /// positions written, in the same transaction; unless a command with its
    /// id is recorded already, when nothing is written and that record is
    /// answered. On a failed expectation nothing is written and the error is
    /// [`StoreError::Conflict`].
    async fn append_recorded(&self, request: AppendRequest, command: Option<CommandMark>) -> Result<CommandAppend, StoreError>;

    /// Appends atomically. On a failed expectation nothing is written and the
    /// error is [`StoreError::Conflict`].
    async fn append(&self, request: AppendRequest) -> Result<AppendOutcome, StoreError> {
        match self.append_recorded(request, None).await? {
            CommandAppend::Appended(outcome) => Ok(outcome),
            CommandAppend::AlreadyRecorded(_) => unreachable!("an append without a command finds no command record"),
        }
    }

    /// Appends as [`append`](Self::append) does, and records `command`.
    async fn append_command(&self, request: AppendRequest, command: CommandMark) -> Result<CommandAppend, StoreError> {
        self.append_recorded(request, Some(command)).await
    }

    /// Events of one stream in version order.
    async fn read_stream(&self, stream: &StreamId, range: &StreamRange) -> Result<Vec<RecordedEvent>, StoreError>;

    /// What loading a stream reads first: its newest snapshots at or below
    /// `at_or_below` (at most `limit`, newest first), and its events after
    /// the newest of them up to `to_version`, in version order. A backend
    /// that can does both in one round trip; this default makes two.
    async fn snapshots_and_events_after(
        &self,
        stream: &StreamId,
        at_or_below: u64,
        limit: usize,
        to_version: Option<u64>,
    ) -> Result<(Vec<SnapshotRecord>, Vec<RecordedEvent>), StoreError> {
        let snapshots = self.snapshots(stream, at_or_below, limit).await?;
        let from_version = snapshots.first().map_or(0, |snapshot| snapshot.stream_version) + 1;
        let events = self.read_stream(stream, &StreamRange { from_version: Some(from_version), to_version, limit: None }).await?;
        Ok((snapshots, events))
    }

    /// Up to `limit` events with a position above `after_position` that match
    /// `filter`, in position order.
    async fn read_log(
        &self,
        filter: &LogFilter,
        after_position: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    async fn event_by_id(&self, id: Uuid) -> Result<Option<RecordedEvent>, StoreError>;

    /// The stream's current version; 0 when the stream has no events.
    async fn stream_version(&self, stream: &StreamId) -> Result<u64, StoreError>;

    /// The lowest version of the stream whose `timestamp` is after `instant`,
    /// or `None` when every event is at or before it.
    async fn first_version_after(&self, stream: &StreamId, instant: DateTime<Utc>) -> Result<Option<u64>, StoreError>;

    /// The streams of one aggregate type with their current versions, in
    /// aggregate-id order, after `after_id` (empty: from the start).
    async fn streams_of_type(&self, aggregate_type: &str, after_id: &str, limit: usize) -> Result<Vec<(String, u64)>, StoreError>;

    /// How many events the log holds of each (event type, schema version).
    async fn count_by_type_and_version(&self) -> Result<Vec<(String, String, u64)>, StoreError>;

    /// The highest committed position; 0 for an empty log.
    async fn head_position(&self) -> Result<u64, StoreError>;

    /// Resolves once the head may have moved past `after_position`, or after
    /// `max_wait`. Callers re-read; a spurious wake-up is harmless.
    async fn wait_for_new_events(&self, after_position: u64, max_wait: std::time::Duration);

    async fn statistics(&self) -> Result<StoreStatistics, StoreError>;

    /// Announcements of registry changes from every process, when the
    /// backend has them; None (SQLite) means the registry must be polled.
    fn registry_notices(&self) -> Option<RegistryNotices> {
        None
    }

    /// A value that moves each time any process lets a lease go, when the
    /// backend announces it; None (SQLite) means leases are looked at on a
    /// timer only.
    fn lease_notices(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        None
    }

    /// Whether the store can take appends and reads now: its database
    /// answers, and (SQLite) its writer runs. For readiness checks.
    async fn readiness(&self) -> Result<(), StoreError> {
        self.head_position().await.map(|_| ())
    }

    fn backend_name(&self) -> &'static str;

    fn limits(&self) -> &StoreLimits;
}

/// Opens (and if needed creates and migrates) the store behind `url`, with
/// the default durability and timeouts.
pub async fn open(url: &StoreUrl, limits: StoreLimits) -> Result<Arc<dyn EventStore>, StoreError> {
    open_with(url, &limits.into()).await
}

/// Opens (and if needed creates and migrates) the store behind `url`.
pub async fn open_with(url: &StoreUrl, options: &StoreOptions) -> Result<Arc<dyn EventStore>, StoreError> {
    match url {
        StoreUrl::Sqlite { path } => Ok(Arc::new(sqlite::SqliteStore::open(path, options).await?)),
        StoreUrl::Postgres { .. } => Ok(Arc::new(postgres::PostgresStore::open(url, options).await?)),
    }
}

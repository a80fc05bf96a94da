//! Snapshot policy, writing and the load counters. Writes happen on a
//! background task, so a command never waits for one and a failed write
//! never fails a command; `flush` lets a one-shot process finish them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tokio::task::JoinSet;

use crate::event::StreamId;
use crate::json::JsonText;
use crate::runtime::AggregatePlugin;
use crate::store::{EventStore, NewSnapshot, StoreError};

/// Used when neither the plugin nor the configuration says.
pub const DEFAULT_SNAPSHOT_EVERY: u32 = 100;
pub const DEFAULT_SNAPSHOTS_KEPT: usize = 3;

/// When to snapshot and how many to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotPolicy {
    /// Overrides the plugin's `snapshot-every` for every aggregate type.
    pub every: Option<u32>,
    /// Snapshots kept per stream, newest first.
    pub keep: usize,
}

impl Default for SnapshotPolicy {
    fn default() -> Self {
        Self { every: None, keep: DEFAULT_SNAPSHOTS_KEPT }
    }
}

impl SnapshotPolicy {
    pub fn every_for(&self, plugin: &AggregatePlugin) -> u64 {
        u64::from(self.every.or(plugin.info().snapshot_every).unwrap_or(DEFAULT_SNAPSHOT_EVERY).max(1))
    }

    /// Whether going from `from` to `to` passes a multiple of the interval.
    pub fn crosses(&self, plugin: &AggregatePlugin, from: u64, to: u64) -> bool {
        let every = self.every_for(plugin);
        to / every > from / every
    }
}

/// How loads went, for statistics and the metrics endpoint.
#[derive(Debug, Default)]
pub struct LoadMetrics {
    loads: AtomicU64,
    snapshot_hits: AtomicU64,
    snapshot_misses: AtomicU64,
    events_applied: AtomicU64,
    snapshots_written: AtomicU64,
    snapshot_write_failures: AtomicU64,
}

/// A copy of [`LoadMetrics`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LoadStatistics {
    pub loads: u64,
    pub snapshot_hits: u64,
    pub snapshot_misses: u64,
    pub events_applied: u64,
    pub snapshots_written: u64,
    pub snapshot_write_failures: u64,
}

impl LoadMetrics {
    pub(super) fn record_load(&self, used_snapshot: bool, events_applied: u64) {
        self.loads.fetch_add(1, Ordering::Relaxed);
        let counter = if used_snapshot { &self.snapshot_hits } else { &self.snapshot_misses };
        counter.fetch_add(1, Ordering::Relaxed);
        self.events_applied.fetch_add(events_applied, Ordering::Relaxed);
    }

    pub fn statistics(&self) -> LoadStatistics {
        LoadStatistics {
            loads: self.loads.load(Ordering::Relaxed),
            snapshot_hits: self.snapshot_hits.load(Ordering::Relaxed),
            snapshot_misses: self.snapshot_misses.load(Ordering::Relaxed),
            events_applied: self.events_applied.load(Ordering::Relaxed),
            snapshots_written: self.snapshots_written.load(Ordering::Relaxed),
            snapshot_write_failures: self.snapshot_write_failures.load(Ordering::Relaxed),
        }
    }
}

/// Writes snapshots off the caller's path.
pub(super) struct SnapshotWriter {
    store: Arc<dyn EventStore>,
    pub policy: SnapshotPolicy,
    metrics: Arc<LoadMetrics>,
    pending: Mutex<JoinSet<()>>,
}

impl SnapshotWriter {
    pub fn new(store: Arc<dyn EventStore>, policy: SnapshotPolicy, metrics: Arc<LoadMetrics>) -> Self {
        Self { store, policy, metrics, pending: Mutex::new(JoinSet::new()) }
    }

    pub fn snapshot_of(plugin: &AggregatePlugin, stream: &StreamId, stream_version: u64, state: &JsonText) -> NewSnapshot {
        NewSnapshot {
            stream: stream.clone(),
            stream_version,
            state: state.as_str().to_owned(),
            plugin_content_hash: plugin.content_hash().to_owned(),
            state_version: plugin.info().state_version.clone(),
        }
    }

    /// Writes now and reports the outcome: for `cairn snapshot create`.
    pub async fn write_now(&self, snapshot: &NewSnapshot) -> Result<(), StoreError> {
        self.store.save_snapshot(snapshot, self.policy.keep).await?;
        self.metrics.snapshots_written.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Starts a write and returns at once. A failure is logged and counted.
    pub fn write_in_background(&self, snapshot: NewSnapshot) {
        let store = self.store.clone();
        let metrics = self.metrics.clone();
        let keep = self.policy.keep;
        let mut pending = self.pending.lock().expect("snapshot writer lock");
        // Finished writes are reaped here so the set stays small.
        while pending.try_join_next().is_some() {}
        pending.spawn(async move {
            match store.save_snapshot(&snapshot, keep).await {
                Ok(()) => {
                    metrics.snapshots_written.fetch_add(1, Ordering::Relaxed);
                }
                Err(error) => {
                    metrics.snapshot_write_failures.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(stream = %snapshot.stream, version = snapshot.stream_version, "snapshot not written: {error}");
                }
            }
        });
    }

    /// Waits for every write started so far.
    pub async fn flush(&self) {
        let mut pending = std::mem::take(&mut *self.pending.lock().expect("snapshot writer lock"));
        while pending.join_next().await.is_some() {}
    }
}

//! Snapshot commands: create one now, rebuild a whole aggregate type, list
//! and delete. Rebuilds fold from events only, never from older snapshots.

use super::snapshots::SnapshotWriter;
use super::state::{fold_events, StateTarget};
use super::{AggregateState, CommandError, Commands};
use crate::event::StreamId;
use crate::read::Reader;
use crate::store::{SnapshotRecord, StreamRange};

/// Streams read per page while rebuilding.
const REBUILD_PAGE: usize = 500;

/// What a rebuild did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RebuildReport {
    pub streams: u64,
    pub written: u64,
    /// Streams that already had a current snapshot from this plugin's state
    /// version: what an interrupted rebuild finished before it stopped.
    pub already_current: u64,
}

impl Commands {
    /// Snapshots one stream now, at its current version or at `at_version`.
    pub async fn create_snapshot(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        at_version: Option<u64>,
    ) -> Result<AggregateState, CommandError> {
        let target = at_version.map_or(StateTarget::Latest, StateTarget::AtVersion);
        let state = self.state_at(aggregate_type, aggregate_id, target).await?;
        if state.stream_version == 0 {
            return Err(CommandError::EmptyStream(StreamId::new(aggregate_type, aggregate_id)));
        }
        let (plugin, _) = self.plugins.aggregate(aggregate_type).await?;
        let stream = StreamId::new(aggregate_type, aggregate_id);
        let snapshot = SnapshotWriter::snapshot_of(&plugin, &stream, state.stream_version, &state.state);
        self.snapshots.write_now(&snapshot).await?;
        Ok(state)
    }

    /// Every snapshot of one stream, newest first.
    pub async fn snapshots(&self, aggregate_type: &str, aggregate_id: &str) -> Result<Vec<SnapshotRecord>, CommandError> {
        Ok(self.plugins.store().snapshots(&StreamId::new(aggregate_type, aggregate_id), u64::MAX, 1_000).await?)
    }

    pub async fn delete_snapshots(&self, aggregate_type: &str, aggregate_id: Option<&str>) -> Result<u64, CommandError> {
        Ok(self.plugins.store().delete_snapshots(aggregate_type, aggregate_id).await?)
    }

    /// How many streams `rebuild_snapshots` will go through.
    pub async fn count_streams(&self, aggregate_type: &str) -> Result<u64, CommandError> {
        let store = self.plugins.store();
        let (mut after, mut count) = (String::new(), 0u64);
        loop {
            let page = store.streams_of_type(aggregate_type, &after, 10_000).await?;
            let Some((last, _)) = page.last() else { return Ok(count) };
            after = last.clone();
            count += page.len() as u64;
        }
    }

    /// Folds every stream of the type through the current plugin from its
    /// first event and writes a fresh snapshot at its current version.
    /// Streams that already have one are skipped, so an interrupted rebuild
    /// resumes where it stopped. `progress` is called after each stream.
    pub async fn rebuild_snapshots(
        &self,
        aggregate_type: &str,
        mut progress: impl FnMut(&RebuildReport),
    ) -> Result<RebuildReport, CommandError> {
        let (plugin, _) = self.plugins.aggregate(aggregate_type).await?;
        let store = self.plugins.store();
        let mut report = RebuildReport::default();
        let mut after = String::new();
        loop {
            let page = store.streams_of_type(aggregate_type, &after, REBUILD_PAGE).await?;
            let Some((last, _)) = page.last() else { return Ok(report) };
            after = last.clone();
            for (aggregate_id, version) in page {
                let stream = StreamId::new(aggregate_type, &aggregate_id);
                report.streams += 1;
                let newest = store.snapshots(&stream, version, 1).await?;
                let current = newest.first().is_some_and(|snapshot| {
                    snapshot.stream_version == version
                        && snapshot.state_version == plugin.info().state_version
                        && snapshot.plugin_content_hash == plugin.content_hash()
                });
                if current {
                    report.already_current += 1;
                } else {
                    let events = Reader::live(&self.plugins).stream(&stream, &StreamRange::default()).await?;
                    let state = fold_events(&plugin, None, &aggregate_id, events).await?;
                    self.snapshots.write_now(&SnapshotWriter::snapshot_of(&plugin, &stream, version, &state)).await?;
                    report.written += 1;
                }
                progress(&report);
            }
        }
    }
}

//! Snapshots on SQLite.

use async_trait::async_trait;
use rusqlite::{Row, TransactionBehavior};

use super::{query_file, to_sql_limit, SqliteStore as Backend};
use crate::{NewSnapshot, SnapshotRecord, SnapshotStore, StoreError};
use cairn_event::StreamId;

#[async_trait]
impl SnapshotStore for Backend {
    async fn save_snapshot(&self, snapshot: &NewSnapshot, keep: usize) -> Result<(), StoreError> {
        let snapshot = snapshot.clone();
        self.database
            .write(move |connection| {
                let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let stream = &snapshot.stream;
                transaction.prepare_cached(query_file!("snapshot_upsert"))?.execute(rusqlite::params![
                    stream.aggregate_type,
                    stream.aggregate_id,
                    snapshot.stream_version as i64,
                    snapshot.state,
                    snapshot.plugin_content_hash,
                    snapshot.state_version,
                    cairn_event::time::now_micros().timestamp_micros()
                ])?;
                transaction.prepare_cached(query_file!("snapshot_prune"))?.execute(rusqlite::params![
                    stream.aggregate_type,
                    stream.aggregate_id,
                    keep.max(1) as i64
                ])?;
                transaction.commit()?;
                Ok(())
            })
            .await
    }

    async fn snapshots(&self, stream: &StreamId, at_or_below: u64, limit: usize) -> Result<Vec<SnapshotRecord>, StoreError> {
        let stream = stream.clone();
        self.database
            .read(move |connection| {
                let mut statement = connection.prepare_cached(query_file!("snapshots_of_stream"))?;
                let rows = statement.query_map(
                    rusqlite::params![stream.aggregate_type, stream.aggregate_id, at_or_below.min(i64::MAX as u64) as i64, to_sql_limit(limit)],
                    decode_snapshot,
                )?;
                Ok(rows.collect::<Result<_, _>>()?)
            })
            .await
    }

    async fn delete_snapshots(&self, aggregate_type: &str, aggregate_id: Option<&str>) -> Result<u64, StoreError> {
        let (aggregate_type, aggregate_id) = (aggregate_type.to_owned(), aggregate_id.map(str::to_owned));
        self.database
            .write(move |connection| Ok(connection.prepare_cached(query_file!("snapshot_delete"))?.execute(rusqlite::params![aggregate_type, aggregate_id])? as u64))
            .await
    }
}

fn decode_snapshot(row: &Row<'_>) -> rusqlite::Result<SnapshotRecord> {
    Ok(SnapshotRecord {
        aggregate_type: row.get(0)?,
        aggregate_id: row.get(1)?,
        stream_version: row.get::<_, i64>(2)? as u64,
        state: row.get(3)?,
        plugin_content_hash: row.get(4)?,
        state_version: row.get(5)?,
        created_at: cairn_event::time::micros_to_datetime(row.get(6)?),
    })
}

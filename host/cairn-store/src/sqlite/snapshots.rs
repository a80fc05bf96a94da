//! Snapshots on SQLite.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::SqliteStore as Backend;
use cairn_event::StreamId;
use crate::{NewSnapshot, SnapshotRecord, SnapshotStore, StoreError};

#[async_trait]
impl SnapshotStore for Backend {
    async fn save_snapshot(&self, snapshot: &NewSnapshot, keep: usize) -> Result<(), StoreError> {
        let mut transaction = self.write_pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(include_str!("../../queries/sqlite/snapshot_upsert.sql"))
            .bind(&snapshot.stream.aggregate_type)
            .bind(&snapshot.stream.aggregate_id)
            .bind(snapshot.stream_version as i64)
            .bind(&snapshot.state)
            .bind(&snapshot.plugin_content_hash)
            .bind(&snapshot.state_version)
            .bind(cairn_event::time::now_micros().timestamp_micros())
            .execute(&mut *transaction)
            .await?;
        sqlx::query(include_str!("../../queries/sqlite/snapshot_prune.sql"))
            .bind(&snapshot.stream.aggregate_type)
            .bind(&snapshot.stream.aggregate_id)
            .bind(keep.max(1) as i64)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn snapshots(&self, stream: &StreamId, at_or_below: u64, limit: usize) -> Result<Vec<SnapshotRecord>, StoreError> {
        let rows = sqlx::query(include_str!("../../queries/sqlite/snapshots_of_stream.sql"))
            .bind(&stream.aggregate_type)
            .bind(&stream.aggregate_id)
            .bind(at_or_below.min(i64::MAX as u64) as i64)
            .bind(limit as i64)
            .fetch_all(&self.read_pool)
            .await?;
        rows.iter().map(decode_snapshot).collect()
    }

    async fn delete_snapshots(&self, aggregate_type: &str, aggregate_id: Option<&str>) -> Result<u64, StoreError> {
        let deleted = sqlx::query(include_str!("../../queries/sqlite/snapshot_delete.sql"))
            .bind(aggregate_type)
            .bind(aggregate_id)
            .execute(&self.write_pool)
            .await?
            .rows_affected();
        Ok(deleted)
    }
}

fn decode_snapshot(row: &SqliteRow) -> Result<SnapshotRecord, StoreError> {
    Ok(SnapshotRecord {
        aggregate_type: row.try_get(0)?,
        aggregate_id: row.try_get(1)?,
        stream_version: row.try_get::<i64, _>(2)? as u64,
        state: row.try_get(3)?,
        plugin_content_hash: row.try_get(4)?,
        state_version: row.try_get(5)?,
        created_at: cairn_event::time::micros_to_datetime(row.try_get(6)?),
    })
}

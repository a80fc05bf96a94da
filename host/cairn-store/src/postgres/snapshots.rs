//! Snapshots on PostgreSQL.

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::Row;

use super::PostgresStore as Backend;
use cairn_event::{RecordedEvent, StreamId};
use crate::{NewSnapshot, SnapshotRecord, SnapshotStore, StoreError};

#[async_trait]
impl SnapshotStore for Backend {
    async fn save_snapshot(&self, snapshot: &NewSnapshot, keep: usize) -> Result<(), StoreError> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query(include_str!("../../queries/postgres/snapshot_upsert.sql"))
            .bind(&snapshot.stream.aggregate_type)
            .bind(&snapshot.stream.aggregate_id)
            .bind(snapshot.stream_version as i64)
            .bind(&snapshot.state)
            .bind(&snapshot.plugin_content_hash)
            .bind(&snapshot.state_version)
            .bind(cairn_event::time::now_micros())
            .execute(&mut *transaction)
            .await?;
        sqlx::query(include_str!("../../queries/postgres/snapshot_prune.sql"))
            .bind(&snapshot.stream.aggregate_type)
            .bind(&snapshot.stream.aggregate_id)
            .bind(keep.max(1) as i64)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn snapshots(&self, stream: &StreamId, at_or_below: u64, limit: usize) -> Result<Vec<SnapshotRecord>, StoreError> {
        let rows = sqlx::query(include_str!("../../queries/postgres/snapshots_of_stream.sql"))
            .bind(&stream.aggregate_type)
            .bind(&stream.aggregate_id)
            .bind(at_or_below.min(i64::MAX as u64) as i64)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decode_snapshot).collect()
    }

    async fn delete_snapshots(&self, aggregate_type: &str, aggregate_id: Option<&str>) -> Result<u64, StoreError> {
        let deleted = sqlx::query(include_str!("../../queries/postgres/snapshot_delete.sql"))
            .bind(aggregate_type)
            .bind(aggregate_id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(deleted)
    }
}

fn decode_snapshot(row: &PgRow) -> Result<SnapshotRecord, StoreError> {
    Ok(SnapshotRecord {
        aggregate_type: row.try_get(0)?,
        aggregate_id: row.try_get(1)?,
        stream_version: row.try_get::<i64, _>(2)? as u64,
        state: row.try_get(3)?,
        plugin_content_hash: row.try_get(4)?,
        state_version: row.try_get(5)?,
        created_at: row.try_get::<chrono::DateTime<chrono::Utc>, _>(6)?,
    })
}

/// The rows of `snapshots_and_events_after.sql`: snapshots (newest first)
/// and events (in version order).
pub(super) fn decode_load_rows(stream: &StreamId, rows: &[PgRow]) -> Result<(Vec<SnapshotRecord>, Vec<RecordedEvent>), StoreError> {
    let (mut snapshots, mut events) = (Vec::new(), Vec::new());
    for row in rows {
        if row.try_get::<bool, _>(15)? {
            snapshots.push(SnapshotRecord {
                aggregate_type: stream.aggregate_type.clone(),
                aggregate_id: stream.aggregate_id.clone(),
                stream_version: row.try_get::<i64, _>(4)? as u64,
                state: row.try_get(16)?,
                plugin_content_hash: row.try_get(17)?,
                state_version: row.try_get(18)?,
                created_at: row.try_get::<chrono::DateTime<chrono::Utc>, _>(19)?,
            });
        } else {
            events.push(super::decode_row(row)?);
        }
    }
    // The statement returns them oldest first.
    snapshots.reverse();
    Ok((snapshots, events))
}

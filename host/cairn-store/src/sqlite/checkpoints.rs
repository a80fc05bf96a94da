//! Checkpoints on SQLite.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::SqliteStore as Backend;
use crate::{Checkpoint, CheckpointStore, StoreError};

#[async_trait]
impl CheckpointStore for Backend {
    async fn set_checkpoint(&self, name: &str, position: u64, events: u64) -> Result<Checkpoint, StoreError> {
        let updated_at = cairn_event::time::now_micros();
        sqlx::query(include_str!("../../queries/sqlite/checkpoint_upsert.sql"))
            .bind(name)
            .bind(position as i64)
            .bind(events as i64)
            .bind(updated_at.timestamp_micros())
            .execute(&self.write_pool)
            .await?;
        Ok(Checkpoint { name: name.to_owned(), position, events, updated_at })
    }

    async fn checkpoint(&self, name: &str) -> Result<Option<Checkpoint>, StoreError> {
        let row = sqlx::query(include_str!("../../queries/sqlite/checkpoint_get.sql")).bind(name).fetch_optional(&self.read_pool).await?;
        row.as_ref().map(decode_checkpoint).transpose()
    }

    async fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        let rows = sqlx::query(include_str!("../../queries/sqlite/checkpoints.sql")).fetch_all(&self.read_pool).await?;
        rows.iter().map(decode_checkpoint).collect()
    }

    async fn delete_checkpoint(&self, name: &str) -> Result<bool, StoreError> {
        let deleted = sqlx::query(include_str!("../../queries/sqlite/checkpoint_delete.sql")).bind(name).execute(&self.write_pool).await?;
        Ok(deleted.rows_affected() > 0)
    }
}

fn decode_checkpoint(row: &SqliteRow) -> Result<Checkpoint, StoreError> {
    Ok(Checkpoint {
        name: row.try_get(0)?,
        position: row.try_get::<i64, _>(1)? as u64,
        events: row.try_get::<i64, _>(2)? as u64,
        updated_at: cairn_event::time::micros_to_datetime(row.try_get(3)?),
    })
}

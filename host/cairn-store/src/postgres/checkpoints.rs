//! Checkpoints on PostgreSQL.

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::Row;

use super::PostgresStore as Backend;
use crate::{Checkpoint, CheckpointStore, StoreError};

#[async_trait]
impl CheckpointStore for Backend {
    async fn set_checkpoint(&self, name: &str, position: u64, events: u64) -> Result<Checkpoint, StoreError> {
        let updated_at = cairn_event::time::now_micros();
        sqlx::query(include_str!("../../queries/postgres/checkpoint_upsert.sql"))
            .bind(name)
            .bind(position as i64)
            .bind(events as i64)
            .bind(updated_at)
            .execute(&self.pool)
            .await?;
        Ok(Checkpoint { name: name.to_owned(), position, events, updated_at })
    }

    async fn checkpoint(&self, name: &str) -> Result<Option<Checkpoint>, StoreError> {
        let row = sqlx::query(include_str!("../../queries/postgres/checkpoint_get.sql")).bind(name).fetch_optional(&self.pool).await?;
        row.as_ref().map(decode_checkpoint).transpose()
    }

    async fn checkpoints(&self) -> Result<Vec<Checkpoint>, StoreError> {
        let rows = sqlx::query(include_str!("../../queries/postgres/checkpoints.sql")).fetch_all(&self.pool).await?;
        rows.iter().map(decode_checkpoint).collect()
    }

    async fn delete_checkpoint(&self, name: &str) -> Result<bool, StoreError> {
        let deleted = sqlx::query(include_str!("../../queries/postgres/checkpoint_delete.sql")).bind(name).execute(&self.pool).await?;
        Ok(deleted.rows_affected() > 0)
    }
}

fn decode_checkpoint(row: &PgRow) -> Result<Checkpoint, StoreError> {
    Ok(Checkpoint {
        name: row.try_get(0)?,
        position: row.try_get::<i64, _>(1)? as u64,
        events: row.try_get::<i64, _>(2)? as u64,
        updated_at: row.try_get::<chrono::DateTime<chrono::Utc>, _>(3)?,
    })
}

//! Dead letters on SQLite. They are written with handler batches, in
//! `read_models.rs`.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::read_models::query_file;
use super::SqliteStore as Backend;
use crate::{DeadLetter, DeadLetterCounts, DeadLetterStatus, DeadLetterStore, StoreError};
use cairn_event::time::micros_to_datetime;

fn decode_dead_letter(row: &SqliteRow) -> Result<DeadLetter, StoreError> {
    let event_id: String = row.try_get(5)?;
    Ok(DeadLetter {
        id: row.try_get(0)?,
        handler: row.try_get(1)?,
        generation: row.try_get::<i64, _>(2)? as u64,
        aggregate_type: row.try_get(3)?,
        aggregate_id: row.try_get(4)?,
        event_id: event_id.parse().map_err(|error| StoreError::CorruptRow(format!("dead letter event id is not a UUID: {error}")))?,
        global_position: row.try_get::<i64, _>(6)? as u64,
        event_type: row.try_get(7)?,
        status: DeadLetterStatus::parse(row.try_get(8)?)?,
        error: row.try_get(9)?,
        attempts: row.try_get::<i64, _>(10)? as u32,
        created_at: micros_to_datetime(row.try_get(11)?),
        updated_at: micros_to_datetime(row.try_get(12)?),
    })
}

#[async_trait]
impl DeadLetterStore for Backend {
    async fn dead_letters(&self, handler: Option<&str>, include_parked: bool, limit: usize) -> Result<Vec<DeadLetter>, StoreError> {
        let rows = sqlx::query(query_file!("dead_letters"))
            .bind(handler)
            .bind(include_parked)
            .bind(limit.min(i64::MAX as usize) as i64)
            .fetch_all(&self.read_pool)
            .await?;
        rows.iter().map(decode_dead_letter).collect()
    }

    async fn dead_letter(&self, id: i64) -> Result<Option<DeadLetter>, StoreError> {
        let row = sqlx::query(query_file!("dead_letter_get")).bind(id).fetch_optional(&self.read_pool).await?;
        row.as_ref().map(decode_dead_letter).transpose()
    }

    async fn dead_letter_counts(&self) -> Result<Vec<DeadLetterCounts>, StoreError> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(query_file!("dead_letter_counts")).fetch_all(&self.read_pool).await?;
        Ok(rows.into_iter().map(|(handler, failed, parked)| DeadLetterCounts { handler, failed: failed as u64, parked: parked as u64 }).collect())
    }

    async fn dead_letters_of_stream(
        &self,
        handler: &str,
        generation: u64,
        aggregate_type: &str,
        aggregate_id: &str,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        let rows = sqlx::query(query_file!("dead_letters_of_stream"))
            .bind(handler)
            .bind(generation as i64)
            .bind(aggregate_type)
            .bind(aggregate_id)
            .fetch_all(&self.read_pool)
            .await?;
        rows.iter().map(decode_dead_letter).collect()
    }

    async fn parked_streams(&self, handler: &str, generation: u64) -> Result<Vec<(String, String)>, StoreError> {
        Ok(sqlx::query_as(query_file!("parked_streams")).bind(handler).bind(generation as i64).fetch_all(&self.read_pool).await?)
    }
}

//! Replay jobs on SQLite.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;
use uuid::Uuid;

use super::read_models::query_file;
use super::SqliteStore as Backend;
use crate::{JobStatus, ReplayJobRecord, ReplayJobStore, StoreError};
use cairn_event::time::micros_to_datetime;

fn decode_job(row: &SqliteRow) -> Result<ReplayJobRecord, StoreError> {
    let id: String = row.try_get(0)?;
    let handlers: String = row.try_get(1)?;
    Ok(ReplayJobRecord {
        id: id.parse().map_err(|error| StoreError::CorruptRow(format!("replay job id is not a UUID: {error}")))?,
        handlers: serde_json::from_str(&handlers).map_err(|error| StoreError::CorruptRow(format!("replay job handlers: {error}")))?,
        request: row.try_get(2)?,
        status: JobStatus::parse(row.try_get(3)?)?,
        position: row.try_get::<i64, _>(4)? as u64,
        head: row.try_get::<i64, _>(5)? as u64,
        result: row.try_get(6)?,
        error: row.try_get(7)?,
        started_at: micros_to_datetime(row.try_get(8)?),
        updated_at: micros_to_datetime(row.try_get(9)?),
        finished_at: row.try_get::<Option<i64>, _>(10)?.map(micros_to_datetime),
    })
}

#[async_trait]
impl ReplayJobStore for Backend {
    async fn create_replay_job(&self, id: Uuid, handlers: &[String], request: &str, head: u64) -> Result<(), StoreError> {
        let handlers = serde_json::to_string(handlers).expect("strings serialise");
        sqlx::query(query_file!("replay_job_insert"))
            .bind(id.to_string())
            .bind(handlers)
            .bind(request)
            .bind(head as i64)
            .bind(cairn_event::time::now_micros().timestamp_micros())
            .execute(&self.write_pool)
            .await?;
        Ok(())
    }

    async fn report_replay_progress(&self, id: Uuid, position: u64, head: u64) -> Result<(), StoreError> {
        sqlx::query(query_file!("replay_job_progress"))
            .bind(id.to_string())
            .bind(position as i64)
            .bind(head as i64)
            .bind(cairn_event::time::now_micros().timestamp_micros())
            .execute(&self.write_pool)
            .await?;
        Ok(())
    }

    async fn finish_replay_job(&self, id: Uuid, status: JobStatus, result: Option<&str>, error: Option<&str>) -> Result<(), StoreError> {
        sqlx::query(query_file!("replay_job_finish"))
            .bind(id.to_string())
            .bind(status.as_str())
            .bind(result)
            .bind(error)
            .bind(cairn_event::time::now_micros().timestamp_micros())
            .execute(&self.write_pool)
            .await?;
        Ok(())
    }

    async fn replay_jobs(&self, limit: usize) -> Result<Vec<ReplayJobRecord>, StoreError> {
        let rows = sqlx::query(query_file!("replay_jobs")).bind(limit.min(i64::MAX as usize) as i64).fetch_all(&self.read_pool).await?;
        rows.iter().map(decode_job).collect()
    }

    async fn replay_job(&self, id: Uuid) -> Result<Option<ReplayJobRecord>, StoreError> {
        let row = sqlx::query(query_file!("replay_job_get")).bind(id.to_string()).fetch_optional(&self.read_pool).await?;
        row.as_ref().map(decode_job).transpose()
    }
}

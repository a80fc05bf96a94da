//! Replay jobs on PostgreSQL.

use async_trait::async_trait;
use sqlx::postgres::PgRow;
use sqlx::Row;
use uuid::Uuid;

use super::read_models::query_file;
use super::PostgresStore as Backend;
use crate::{JobStatus, ReplayJobRecord, ReplayJobStore, StoreError};

fn decode_job(row: &PgRow) -> Result<ReplayJobRecord, StoreError> {
    let handlers: String = row.try_get(1)?;
    Ok(ReplayJobRecord {
        id: row.try_get(0)?,
        handlers: serde_json::from_str(&handlers).map_err(|error| StoreError::CorruptRow(format!("replay job handlers: {error}")))?,
        request: row.try_get(2)?,
        status: JobStatus::parse(row.try_get(3)?)?,
        position: row.try_get::<i64, _>(4)? as u64,
        head: row.try_get::<i64, _>(5)? as u64,
        result: row.try_get(6)?,
        error: row.try_get(7)?,
        started_at: row.try_get(8)?,
        updated_at: row.try_get(9)?,
        finished_at: row.try_get(10)?,
    })
}

#[async_trait]
impl ReplayJobStore for Backend {
    async fn create_replay_job(&self, id: Uuid, handlers: &[String], request: &str, head: u64) -> Result<(), StoreError> {
        let handlers = serde_json::to_string(handlers).expect("strings serialise");
        sqlx::query(query_file!("replay_job_insert"))
            .bind(id)
            .bind(handlers)
            .bind(request)
            .bind(head as i64)
            .bind(cairn_event::time::now_micros())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn report_replay_progress(&self, id: Uuid, position: u64, head: u64) -> Result<(), StoreError> {
        sqlx::query(query_file!("replay_job_progress"))
            .bind(id)
            .bind(position as i64)
            .bind(head as i64)
            .bind(cairn_event::time::now_micros())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn finish_replay_job(&self, id: Uuid, status: JobStatus, result: Option<&str>, error: Option<&str>) -> Result<(), StoreError> {
        sqlx::query(query_file!("replay_job_finish"))
            .bind(id)
            .bind(status.as_str())
            .bind(result)
            .bind(error)
            .bind(cairn_event::time::now_micros())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn replay_jobs(&self, limit: usize) -> Result<Vec<ReplayJobRecord>, StoreError> {
        let rows = sqlx::query(query_file!("replay_jobs")).bind(limit.min(i64::MAX as usize) as i64).fetch_all(&self.pool).await?;
        rows.iter().map(decode_job).collect()
    }

    async fn replay_job(&self, id: Uuid) -> Result<Option<ReplayJobRecord>, StoreError> {
        let row = sqlx::query(query_file!("replay_job_get")).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(decode_job).transpose()
    }
}

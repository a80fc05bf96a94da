//! Replay jobs on SQLite.

use async_trait::async_trait;
use rusqlite::{OptionalExtension, Row};
use uuid::Uuid;

use super::{query_file, to_sql_limit, SqliteStore as Backend};
use crate::{JobStatus, ReplayJobRecord, ReplayJobStore, StoreError};
use cairn_event::time::micros_to_datetime;

/// The job's columns, checked after the row is read.
struct JobRow {
    id: String,
    handlers: String,
    status: String,
    record: ReplayJobRecord,
}

fn read_job(row: &Row<'_>) -> rusqlite::Result<JobRow> {
    Ok(JobRow {
        id: row.get(0)?,
        handlers: row.get(1)?,
        status: row.get(3)?,
        record: ReplayJobRecord {
            id: Uuid::nil(),
            handlers: Vec::new(),
            request: row.get(2)?,
            status: JobStatus::Running,
            position: row.get::<_, i64>(4)? as u64,
            head: row.get::<_, i64>(5)? as u64,
            result: row.get(6)?,
            error: row.get(7)?,
            started_at: micros_to_datetime(row.get(8)?),
            updated_at: micros_to_datetime(row.get(9)?),
            finished_at: row.get::<_, Option<i64>>(10)?.map(micros_to_datetime),
        },
    })
}

fn decode_job(row: JobRow) -> Result<ReplayJobRecord, StoreError> {
    Ok(ReplayJobRecord {
        id: row.id.parse().map_err(|error| StoreError::CorruptRow(format!("replay job id is not a UUID: {error}")))?,
        handlers: serde_json::from_str(&row.handlers).map_err(|error| StoreError::CorruptRow(format!("replay job handlers: {error}")))?,
        status: JobStatus::parse(&row.status)?,
        ..row.record
    })
}

#[async_trait]
impl ReplayJobStore for Backend {
    async fn create_replay_job(&self, id: Uuid, handlers: &[String], request: &str, head: u64) -> Result<(), StoreError> {
        let handlers = serde_json::to_string(handlers).expect("strings serialise");
        let request = request.to_owned();
        self.database
            .write(move |connection| {
                connection.prepare_cached(query_file!("replay_job_insert"))?.execute(rusqlite::params![
                    id.to_string(),
                    handlers,
                    request,
                    head as i64,
                    cairn_event::time::now_micros().timestamp_micros()
                ])?;
                Ok(())
            })
            .await
    }

    async fn report_replay_progress(&self, id: Uuid, position: u64, head: u64) -> Result<(), StoreError> {
        self.database
            .write(move |connection| {
                connection.prepare_cached(query_file!("replay_job_progress"))?.execute(rusqlite::params![
                    id.to_string(),
                    position as i64,
                    head as i64,
                    cairn_event::time::now_micros().timestamp_micros()
                ])?;
                Ok(())
            })
            .await
    }

    async fn finish_replay_job(&self, id: Uuid, status: JobStatus, result: Option<&str>, error: Option<&str>) -> Result<(), StoreError> {
        let (result, error) = (result.map(str::to_owned), error.map(str::to_owned));
        self.database
            .write(move |connection| {
                connection.prepare_cached(query_file!("replay_job_finish"))?.execute(rusqlite::params![
                    id.to_string(),
                    status.as_str(),
                    result,
                    error,
                    cairn_event::time::now_micros().timestamp_micros()
                ])?;
                Ok(())
            })
            .await
    }

    async fn replay_jobs(&self, limit: usize) -> Result<Vec<ReplayJobRecord>, StoreError> {
        self.database
            .read(move |connection| {
                let mut statement = connection.prepare_cached(query_file!("replay_jobs"))?;
                let rows = statement.query_map([to_sql_limit(limit)], read_job)?.collect::<Result<Vec<_>, _>>()?;
                rows.into_iter().map(decode_job).collect()
            })
            .await
    }

    async fn replay_job(&self, id: Uuid) -> Result<Option<ReplayJobRecord>, StoreError> {
        self.database
            .read(move |connection| connection.prepare_cached(query_file!("replay_job_get"))?.query_row([id.to_string()], read_job).optional()?.map(decode_job).transpose())
            .await
    }
}

//! Command records on SQLite. Every write of a record runs under SQLite's
//! write lock (`BEGIN IMMEDIATE`, or the group writer's transaction), as
//! appends do, so records and appends are serialized across processes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::SqliteStore as Backend;
use crate::{CommandMark, CommandRecord, CommandRecordStore, CommandResult, StoreError};
use cairn_event::time::micros_to_datetime;

pub(super) async fn read_record(connection: &mut sqlx::SqliteConnection, command_id: &str) -> Result<Option<CommandRecord>, StoreError> {
    let row = sqlx::query(include_str!("../../queries/sqlite/command_record.sql")).bind(command_id).fetch_optional(connection).await?;
    row.as_ref().map(decode_record).transpose()
}

pub(super) async fn insert_record(connection: &mut sqlx::SqliteConnection, record: &CommandRecord) -> Result<(), StoreError> {
    let (first, last, version, message) = record.result.columns();
    let mark = &record.mark;
    sqlx::query(include_str!("../../queries/sqlite/command_insert.sql"))
        .bind(&mark.command_id)
        .bind(&mark.aggregate_type)
        .bind(&mark.aggregate_id)
        .bind(&mark.command_type)
        .bind(&mark.digest)
        .bind(&mark.plugin)
        .bind(mark.plugin_version as i64)
        .bind(record.result.kind())
        .bind(first)
        .bind(last)
        .bind(version)
        .bind(message)
        .bind(record.recorded_at.timestamp_micros())
        .execute(connection)
        .await?;
    Ok(())
}

#[async_trait]
impl CommandRecordStore for Backend {
    async fn command_record(&self, command_id: &str) -> Result<Option<CommandRecord>, StoreError> {
        let mut connection = self.read_pool.acquire().await?;
        read_record(&mut connection, command_id).await
    }

    async fn record_command(&self, record: &CommandRecord) -> Result<Option<CommandRecord>, StoreError> {
        let mut transaction = self.write_pool.begin_with("BEGIN IMMEDIATE").await?;
        if let Some(earlier) = read_record(&mut transaction, &record.mark.command_id).await? {
            return Ok(Some(earlier));
        }
        insert_record(&mut transaction, record).await?;
        transaction.commit().await?;
        Ok(None)
    }

    async fn prune_command_records(&self, recorded_before: DateTime<Utc>) -> Result<u64, StoreError> {
        let pruned = sqlx::query(include_str!("../../queries/sqlite/command_prune.sql"))
            .bind(recorded_before.timestamp_micros())
            .execute(&self.write_pool)
            .await?;
        Ok(pruned.rows_affected())
    }
}

fn decode_record(row: &SqliteRow) -> Result<CommandRecord, StoreError> {
    let kind: String = row.try_get(7)?;
    Ok(CommandRecord {
        mark: CommandMark {
            command_id: row.try_get(0)?,
            aggregate_type: row.try_get(1)?,
            aggregate_id: row.try_get(2)?,
            command_type: row.try_get(3)?,
            digest: row.try_get(4)?,
            plugin: row.try_get(5)?,
            plugin_version: row.try_get::<i64, _>(6)? as u64,
        },
        result: CommandResult::from_columns(&kind, row.try_get(8)?, row.try_get(9)?, row.try_get(10)?, row.try_get(11)?)?,
        recorded_at: micros_to_datetime(row.try_get(12)?),
    })
}

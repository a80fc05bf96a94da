//! Command records on PostgreSQL. Every write of a record holds the log
//! head's row lock, as appends do, so a record and the appends are
//! serialized across every host sharing the store.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::Row;

use super::PostgresStore as Backend;
use crate::{CommandMark, CommandRecord, CommandRecordStore, CommandResult, StoreError};

pub(super) async fn read_record(connection: &mut sqlx::PgConnection, command_id: &str) -> Result<Option<CommandRecord>, StoreError> {
    let row = sqlx::query(include_str!("../../queries/postgres/command_record.sql")).bind(command_id).fetch_optional(connection).await?;
    row.as_ref().map(decode_record).transpose()
}

pub(super) async fn insert_record(connection: &mut sqlx::PgConnection, record: &CommandRecord) -> Result<(), StoreError> {
    let (first, last, version, message) = record.result.columns();
    let mark = &record.mark;
    sqlx::query(include_str!("../../queries/postgres/command_insert.sql"))
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
        .bind(record.recorded_at)
        .execute(connection)
        .await?;
    Ok(())
}

#[async_trait]
impl CommandRecordStore for Backend {
    async fn command_record(&self, command_id: &str) -> Result<Option<CommandRecord>, StoreError> {
        let mut connection = self.pool.acquire().await?;
        read_record(&mut connection, command_id).await
    }

    async fn record_command(&self, record: &CommandRecord) -> Result<Option<CommandRecord>, StoreError> {
        let mut transaction = self.pool.begin_with(include_str!("../../queries/postgres/lock_log_head.sql")).await?;
        if let Some(earlier) = read_record(&mut transaction, &record.mark.command_id).await? {
            return Ok(Some(earlier));
        }
        insert_record(&mut transaction, record).await?;
        transaction.commit().await?;
        Ok(None)
    }

    async fn prune_command_records(&self, recorded_before: DateTime<Utc>) -> Result<u64, StoreError> {
        let pruned = sqlx::query(include_str!("../../queries/postgres/command_prune.sql")).bind(recorded_before).execute(&self.pool).await?;
        Ok(pruned.rows_affected())
    }
}

fn decode_record(row: &PgRow) -> Result<CommandRecord, StoreError> {
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
        recorded_at: row.try_get(12)?,
    })
}

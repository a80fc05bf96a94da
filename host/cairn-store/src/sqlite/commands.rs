//! Command records on SQLite. Every write of a record runs on the writer
//! connection under SQLite's write lock (`BEGIN IMMEDIATE`, or the group
//! writer's transaction), as appends do, so records and appends are
//! serialized across processes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior};

use super::{query_file, SqliteStore as Backend};
use crate::{CommandMark, CommandRecord, CommandRecordStore, CommandResult, StoreError};
use cairn_event::time::micros_to_datetime;

pub(super) fn read_record(connection: &Connection, command_id: &str) -> Result<Option<CommandRecord>, StoreError> {
    let columns = connection.prepare_cached(query_file!("command_record"))?.query_row([command_id], read_columns).optional()?;
    columns.map(decode_record).transpose()
}

pub(super) fn insert_record(connection: &Connection, record: &CommandRecord) -> rusqlite::Result<()> {
    let (first, last, version, message) = record.result.columns();
    let mark = &record.mark;
    connection.prepare_cached(query_file!("command_insert"))?.execute(rusqlite::params![
        mark.command_id,
        mark.aggregate_type,
        mark.aggregate_id,
        mark.command_type,
        mark.digest,
        mark.plugin,
        mark.plugin_version as i64,
        record.result.kind(),
        first,
        last,
        version,
        message,
        record.recorded_at.timestamp_micros()
    ])?;
    Ok(())
}

#[async_trait]
impl CommandRecordStore for Backend {
    async fn command_record(&self, command_id: &str) -> Result<Option<CommandRecord>, StoreError> {
        let command_id = command_id.to_owned();
        self.database.read(move |connection| read_record(connection, &command_id)).await
    }

    async fn record_command(&self, record: &CommandRecord) -> Result<Option<CommandRecord>, StoreError> {
        let record = record.clone();
        self.database
            .write(move |connection| {
                let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
                if let Some(earlier) = read_record(&transaction, &record.mark.command_id)? {
                    return Ok(Some(earlier));
                }
                insert_record(&transaction, &record)?;
                transaction.commit()?;
                Ok(None)
            })
            .await
    }

    async fn prune_command_records(&self, recorded_before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.database
            .write(move |connection| Ok(connection.prepare_cached(query_file!("command_prune"))?.execute([recorded_before.timestamp_micros()])? as u64))
            .await
    }
}

/// A record's columns as stored: the mark, the result's kind and columns,
/// and when it was recorded.
type RecordColumns = (CommandMark, String, Option<i64>, Option<i64>, Option<i64>, Option<String>, i64);

fn read_columns(row: &Row<'_>) -> rusqlite::Result<RecordColumns> {
    let mark = CommandMark {
        command_id: row.get(0)?,
        aggregate_type: row.get(1)?,
        aggregate_id: row.get(2)?,
        command_type: row.get(3)?,
        digest: row.get(4)?,
        plugin: row.get(5)?,
        plugin_version: row.get::<_, i64>(6)? as u64,
    };
    Ok((mark, row.get(7)?, row.get(8)?, row.get(9)?, row.get(10)?, row.get(11)?, row.get(12)?))
}

fn decode_record((mark, kind, first, last, version, message, recorded_at): RecordColumns) -> Result<CommandRecord, StoreError> {
    Ok(CommandRecord { mark, result: CommandResult::from_columns(&kind, first, last, version, message)?, recorded_at: micros_to_datetime(recorded_at) })
}

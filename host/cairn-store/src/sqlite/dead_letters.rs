//! Dead letters on SQLite. They are written with handler batches, in
//! `read_models.rs`.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row};

use super::{query_file, to_sql_limit, SqliteStore as Backend};
use crate::{DeadLetter, DeadLetterCounts, DeadLetterStatus, DeadLetterStore, StoreError};
use cairn_event::time::micros_to_datetime;

/// Decodes a dead letter; a row that breaks the table's rules is a
/// [`StoreError::CorruptRow`], inside the row's result.
fn decode_dead_letter(row: &Row<'_>) -> rusqlite::Result<Result<DeadLetter, StoreError>> {
    let event_id: String = row.get(5)?;
    let status: String = row.get(8)?;
    let (event_id, status) = match (event_id.parse(), DeadLetterStatus::parse(&status)) {
        (Ok(event_id), Ok(status)) => (event_id, status),
        (Err(error), _) => return Ok(Err(StoreError::CorruptRow(format!("dead letter event id is not a UUID: {error}")))),
        (_, Err(error)) => return Ok(Err(error)),
    };
    Ok(Ok(DeadLetter {
        id: row.get(0)?,
        handler: row.get(1)?,
        generation: row.get::<_, i64>(2)? as u64,
        aggregate_type: row.get(3)?,
        aggregate_id: row.get(4)?,
        event_id,
        global_position: row.get::<_, i64>(6)? as u64,
        event_type: row.get(7)?,
        status,
        error: row.get(9)?,
        attempts: row.get::<_, i64>(10)? as u32,
        created_at: micros_to_datetime(row.get(11)?),
        updated_at: micros_to_datetime(row.get(12)?),
    }))
}

fn query_dead_letters(connection: &Connection, sql: &str, parameters: impl rusqlite::Params) -> Result<Vec<DeadLetter>, StoreError> {
    let mut statement = connection.prepare_cached(sql)?;
    let mut rows = statement.query(parameters)?;
    let mut letters = Vec::new();
    while let Some(row) = rows.next()? {
        letters.push(decode_dead_letter(row)??);
    }
    Ok(letters)
}

#[async_trait]
impl DeadLetterStore for Backend {
    async fn dead_letters(&self, handler: Option<&str>, include_parked: bool, limit: usize) -> Result<Vec<DeadLetter>, StoreError> {
        let handler = handler.map(str::to_owned);
        self.database
            .read(move |connection| query_dead_letters(connection, query_file!("dead_letters"), rusqlite::params![handler, include_parked, to_sql_limit(limit)]))
            .await
    }

    async fn dead_letter(&self, id: i64) -> Result<Option<DeadLetter>, StoreError> {
        self.database
            .read(move |connection| connection.prepare_cached(query_file!("dead_letter_get"))?.query_row([id], decode_dead_letter).optional()?.transpose())
            .await
    }

    async fn dead_letter_counts(&self) -> Result<Vec<DeadLetterCounts>, StoreError> {
        self.database
            .read(|connection| {
                let mut statement = connection.prepare_cached(query_file!("dead_letter_counts"))?;
                let rows = statement.query_map([], |row| {
                    Ok(DeadLetterCounts { handler: row.get(0)?, failed: row.get::<_, i64>(1)? as u64, parked: row.get::<_, i64>(2)? as u64 })
                })?;
                Ok(rows.collect::<Result<_, _>>()?)
            })
            .await
    }

    async fn dead_letters_of_stream(&self, handler: &str, generation: u64, aggregate_type: &str, aggregate_id: &str) -> Result<Vec<DeadLetter>, StoreError> {
        let (handler, aggregate_type, aggregate_id) = (handler.to_owned(), aggregate_type.to_owned(), aggregate_id.to_owned());
        self.database
            .read(move |connection| {
                query_dead_letters(connection, query_file!("dead_letters_of_stream"), rusqlite::params![handler, generation as i64, aggregate_type, aggregate_id])
            })
            .await
    }

    async fn parked_streams(&self, handler: &str, generation: u64) -> Result<Vec<(String, String)>, StoreError> {
        let handler = handler.to_owned();
        self.database
            .read(move |connection| {
                let mut statement = connection.prepare_cached(query_file!("parked_streams"))?;
                let rows = statement.query_map(rusqlite::params![handler, generation as i64], |row| Ok((row.get(0)?, row.get(1)?)))?;
                Ok(rows.collect::<Result<_, _>>()?)
            })
            .await
    }
}

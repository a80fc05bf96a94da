//! Events to and from SQLite rows: decoded straight into `RecordedEvent`,
//! inserted through cached multi-row statements.

use rusqlite::{Connection, Row};
use uuid::Uuid;

use cairn_event::json::JsonText;
use cairn_event::time::micros_to_datetime;
use cairn_event::RecordedEvent;

use crate::StoreError;

/// Rows per INSERT statement: 15 parameters each keeps a statement well under
/// SQLite's parameter limit while amortizing the per-statement cost.
pub(super) const ROWS_PER_INSERT: usize = 64;
const COLUMNS_PER_ROW: usize = 15;

/// Decodes a row of the event columns, in the order every query file
/// selects them.
pub(super) fn decode_event(row: &Row<'_>) -> rusqlite::Result<Result<RecordedEvent, StoreError>> {
    let id_bytes = row.get_ref(1)?;
    let id = match Uuid::from_slice(id_bytes.as_blob()?) {
        Ok(id) => id,
        Err(error) => return Ok(Err(StoreError::CorruptRow(format!("event id is not a UUID: {error}")))),
    };
    Ok(Ok(RecordedEvent {
        global_position: row.get::<_, i64>(0)? as u64,
        id,
        aggregate_type: row.get(2)?,
        aggregate_id: row.get(3)?,
        stream_version: row.get::<_, i64>(4)? as u64,
        event_type: row.get(5)?,
        schema_version: row.get(6)?,
        timestamp: micros_to_datetime(row.get(7)?),
        recorded_at: micros_to_datetime(row.get(8)?),
        payload: JsonText::from_trusted(row.get(9)?),
        metadata: JsonText::from_trusted(row.get(10)?),
        correlation_id: row.get(11)?,
        causation_id: row.get(12)?,
        user_id: row.get(13)?,
        source: row.get(14)?,
    }))
}

/// Runs a cached event query with `parameters` and decodes every row.
pub(super) fn query_events(connection: &Connection, sql: &str, parameters: impl rusqlite::Params) -> Result<Vec<RecordedEvent>, StoreError> {
    let mut statement = connection.prepare_cached(sql)?;
    let events = decode_all(statement.query(parameters)?, 0);
    events
}

/// Decodes every row of a running event query.
/// `expected` rows are reserved up front: a page is usually full, and
/// growing the vector by doubling would move every decoded event again.
pub(super) fn decode_all(mut rows: rusqlite::Rows<'_>, expected: usize) -> Result<Vec<RecordedEvent>, StoreError> {
    let mut events = Vec::with_capacity(expected.min(10_000));
    while let Some(row) = rows.next()? {
        events.push(decode_event(row)??);
    }
    Ok(events)
}

/// The multi-row INSERT for `rows` rows, from a query file whose `{rows}`
/// marks where the tuples go.
pub(crate) fn insert_statement(template: &str, rows: usize, columns: usize) -> String {
    // Anonymous placeholders: numbered by position, with no names to look up.
    let tuple = format!("({})", vec!["?"; columns].join(", "));
    let tuples = vec![tuple; rows];
    template.replace("{rows}", &tuples.join(",\n"))
}

/// The event INSERT statements, one per chunk size from 0 to
/// [`ROWS_PER_INSERT`], built once.
pub(super) fn insert_statements() -> Vec<String> {
    let template = include_str!("../../queries/sqlite/insert_events.sql");
    (0..=ROWS_PER_INSERT).map(|rows| insert_statement(template, rows, COLUMNS_PER_ROW)).collect()
}

/// Inserts `rows` as they are, in chunks; the caller owns the transaction.
pub(super) fn insert_events(connection: &Connection, statements: &[String], rows: &[RecordedEvent]) -> rusqlite::Result<()> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut statement = connection.prepare_cached(&statements[chunk.len()])?;
        let mut index = 0;
        let mut bind = |value: &dyn rusqlite::ToSql| -> rusqlite::Result<()> {
            index += 1;
            statement.raw_bind_parameter(index, value)
        };
        for row in chunk {
            bind(&(row.global_position as i64))?;
            bind(&row.id.as_bytes().as_slice())?;
            bind(&row.aggregate_type)?;
            bind(&row.aggregate_id)?;
            bind(&(row.stream_version as i64))?;
            bind(&row.event_type)?;
            bind(&row.schema_version)?;
            bind(&row.timestamp.timestamp_micros())?;
            bind(&row.recorded_at.timestamp_micros())?;
            bind(&row.payload.as_str())?;
            bind(&row.metadata.as_str())?;
            bind(&row.correlation_id)?;
            bind(&row.causation_id)?;
            bind(&row.user_id)?;
            bind(&row.source)?;
        }
        statement.raw_execute()?;
    }
    Ok(())
}

/// Clamps a position or version to SQLite's signed integers.
pub(super) fn to_sql_integer(value: u64) -> i64 {
    value.min(i64::MAX as u64) as i64
}

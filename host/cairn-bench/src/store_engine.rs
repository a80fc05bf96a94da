//! The engine-limit rows of `cairn bench store`: the store's rows written
//! and read with the lowest-level path each engine has, in the same run, so
//! that Cairn's figures are ratios to what the engine itself can do.
//!
//! - SQLite: rusqlite, one prepared single-row INSERT executed per row, one
//!   transaction per batch; and a plain scan of every column.
//! - PostgreSQL: `COPY … FROM STDIN`, one transaction per batch; and a
//!   server-side cursor fetched in pages.
//!
//! Both write into `cairn_bench_raw`, a table with the event log's columns,
//! with or without its secondary indexes.

use std::time::{Duration, Instant};

use futures::TryStreamExt;
use sqlx::Row;

use cairn::event::RecordedEvent;
use cairn::store::{Durability, PostgresStore, SqliteStore, StoreError};

/// Rows fetched per cursor page.
const CURSOR_PAGE: i64 = 10_000;

/// Inserts `batches()` into a fresh `cairn_bench_raw` on SQLite; the time
/// spent in the engine, not in building rows.
pub(super) async fn sqlite_insert(store: &SqliteStore, batches: Vec<Vec<RecordedEvent>>, with_indexes: bool, durability: Durability) -> Result<Duration, StoreError> {
    let connection = store.engine_connection(durability)?;
    blocking(move || {
        sqlite_create_table(&connection, with_indexes)?;
        let mut elapsed = Duration::ZERO;
        for batch in batches {
            let started = Instant::now();
            connection.execute_batch("BEGIN IMMEDIATE")?;
            let mut insert = connection.prepare_cached(include_str!("../queries/sqlite/bench_raw_insert_one.sql"))?;
            for row in &batch {
                sqlite_insert_row(&mut insert, row)?;
            }
            connection.execute_batch("COMMIT")?;
            elapsed += started.elapsed();
        }
        Ok(elapsed)
    })
    .await
}

/// A fresh `cairn_bench_raw` on SQLite, with the log's secondary indexes or not.
pub(super) fn sqlite_create_table(connection: &rusqlite::Connection, with_indexes: bool) -> Result<(), rusqlite::Error> {
    connection.execute_batch("DROP TABLE IF EXISTS cairn_bench_raw")?;
    connection.execute_batch(include_str!("../queries/sqlite/bench_raw_create.sql"))?;
    if with_indexes {
        connection.execute_batch(include_str!("../queries/sqlite/bench_raw_indexes.sql"))?;
    }
    Ok(())
}

/// Runs `bench_raw_insert_one.sql` for `row`.
pub(super) fn sqlite_insert_row(insert: &mut rusqlite::CachedStatement<'_>, row: &RecordedEvent) -> Result<(), rusqlite::Error> {
    insert.execute(rusqlite::params![
        row.global_position as i64,
        row.id.as_bytes().as_slice(),
        row.aggregate_type,
        row.aggregate_id,
        row.stream_version as i64,
        row.event_type,
        row.schema_version,
        row.timestamp.timestamp_micros(),
        row.recorded_at.timestamp_micros(),
        row.payload.as_str(),
        row.metadata.as_str(),
        row.correlation_id,
        row.causation_id,
        row.user_id,
        row.source
    ])?;
    Ok(())
}

/// Reads every row of `cairn_bench_raw` on SQLite, touching each column.
pub(super) async fn sqlite_scan(store: &SqliteStore) -> Result<(u64, Duration), StoreError> {
    let connection = store.engine_connection(Durability::Full)?;
    blocking(move || {
        let started = Instant::now();
        let mut statement = connection.prepare(include_str!("../queries/sqlite/bench_raw_select.sql"))?;
        let mut rows = statement.query([])?;
        let mut count = 0u64;
        let mut bytes = 0usize;
        while let Some(row) = rows.next()? {
            for column in 0..15 {
                bytes += match row.get_ref(column)? {
                    rusqlite::types::ValueRef::Text(text) | rusqlite::types::ValueRef::Blob(text) => text.len(),
                    _ => 8,
                };
            }
            count += 1;
        }
        std::hint::black_box(bytes);
        Ok((count, started.elapsed()))
    })
    .await
}

/// Inserts the batches into a fresh `cairn_bench_raw` on PostgreSQL with
/// COPY, one transaction per batch.
pub(super) async fn postgres_insert(store: &PostgresStore, batches: Vec<Vec<RecordedEvent>>, with_indexes: bool) -> Result<Duration, StoreError> {
    postgres_create_table(store.pool(), with_indexes).await?;
    let mut connection = store.pool().acquire().await?;
    let mut elapsed = Duration::ZERO;
    for batch in batches {
        let text = copy_text(&batch);
        let started = Instant::now();
        let mut transaction = sqlx::Connection::begin(&mut *connection).await?;
        let mut copy = transaction.copy_in_raw(include_str!("../queries/postgres/bench_raw_copy.sql")).await?;
        copy.send(text.as_bytes()).await?;
        copy.finish().await?;
        transaction.commit().await?;
        elapsed += started.elapsed();
    }
    Ok(elapsed)
}

/// A fresh `cairn_bench_raw` on PostgreSQL, with the log's secondary indexes or not.
pub(super) async fn postgres_create_table(pool: &sqlx::PgPool, with_indexes: bool) -> Result<(), StoreError> {
    sqlx::query("DROP TABLE IF EXISTS cairn_bench_raw").execute(pool).await?;
    sqlx::query(include_str!("../queries/postgres/bench_raw_create.sql")).execute(pool).await?;
    if with_indexes {
        sqlx::raw_sql(include_str!("../queries/postgres/bench_raw_indexes.sql")).execute(pool).await?;
    }
    Ok(())
}

/// Reads every row of `cairn_bench_raw` on PostgreSQL through a cursor.
pub(super) async fn postgres_scan(store: &PostgresStore) -> Result<(u64, Duration), StoreError> {
    let started = Instant::now();
    let mut transaction = store.pool().begin().await?;
    sqlx::query(&format!("DECLARE bench_scan NO SCROLL CURSOR FOR {}", include_str!("../queries/postgres/bench_raw_select.sql")))
        .execute(&mut *transaction)
        .await?;
    let mut count = 0u64;
    let mut bytes = 0usize;
    let fetch = format!("FETCH {CURSOR_PAGE} FROM bench_scan");
    loop {
        let mut rows = sqlx::query(&fetch).fetch(&mut *transaction);
        let mut fetched = 0;
        while let Some(row) = rows.try_next().await? {
            let texts: (&str, &str, &str, &str, &str, &str) = (row.try_get(2)?, row.try_get(3)?, row.try_get(5)?, row.try_get(6)?, row.try_get(9)?, row.try_get(10)?);
            bytes += texts.0.len() + texts.1.len() + texts.2.len() + texts.3.len() + texts.4.len() + texts.5.len();
            fetched += 1;
        }
        if fetched == 0 {
            break;
        }
        count += fetched;
    }
    transaction.commit().await?;
    std::hint::black_box(bytes);
    Ok((count, started.elapsed()))
}

/// The rows in COPY's text format: tab-separated, `\N` for NULL, with
/// backslash, tab and line breaks escaped.
fn copy_text(rows: &[RecordedEvent]) -> String {
    fn push_field(text: &mut String, value: Option<&str>) {
        match value {
            None => text.push_str("\\N"),
            Some(value) => {
                for character in value.chars() {
                    match character {
                        '\\' => text.push_str("\\\\"),
                        '\t' => text.push_str("\\t"),
                        '\n' => text.push_str("\\n"),
                        '\r' => text.push_str("\\r"),
                        other => text.push(other),
                    }
                }
            }
        }
    }
    let mut text = String::new();
    for row in rows {
        let fields = [
            Some(row.global_position.to_string()),
            Some(row.id.to_string()),
            Some(row.aggregate_type.clone()),
            Some(row.aggregate_id.clone()),
            Some(row.stream_version.to_string()),
            Some(row.event_type.clone()),
            Some(row.schema_version.clone()),
            Some(row.timestamp.to_rfc3339()),
            Some(row.recorded_at.to_rfc3339()),
            Some(row.payload.as_str().to_owned()),
            Some(row.metadata.as_str().to_owned()),
            row.correlation_id.clone(),
            row.causation_id.clone(),
            row.user_id.clone(),
            row.source.clone(),
        ];
        for (index, field) in fields.iter().enumerate() {
            if index > 0 {
                text.push('\t');
            }
            push_field(&mut text, field.as_deref());
        }
        text.push('\n');
    }
    text
}

pub(super) async fn blocking<T: Send + 'static>(work: impl FnOnce() -> Result<T, rusqlite::Error> + Send + 'static) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work).await.map_err(|error| StoreError::Bug(format!("the engine baseline panicked: {error}")))?.map_err(StoreError::from)
}

//! `cairn bench store`: append and read throughput of the event store
//! against raw inserts and selects of the same rows through the same driver.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use sqlx::Row;
use uuid::Uuid;

use super::{events_per_second, format_latency, format_rate, quantile, resident_bytes, BenchReport, BenchRow};
use cairn::event::{AppendRequest, ExpectedVersion, NewEvent, RecordedEvent, StreamId};
use cairn::json::JsonText;
use cairn::store::{EventStore, LogFilter, PostgresStore, SqliteStore, StoreError, StoreOptions, StoreUrl};

pub struct StoreBenchConfig {
    /// Picks the backend; the benchmark itself runs in a throwaway store beside it.
    pub store_url: StoreUrl,
    pub events: u64,
    pub single_appends: usize,
}

const EVENTS_PER_APPEND: usize = 100;
const STREAMS_PER_APPEND: usize = 10;
const READ_PAGE: usize = 10_000;

/// A store that exists only for the run and is removed afterwards.
enum ThrowawayStore {
    Sqlite { store: SqliteStore, path: PathBuf },
    Postgres { store: PostgresStore, schema: String },
}

impl ThrowawayStore {
    async fn create(url: &StoreUrl) -> Result<Self, StoreError> {
        let run = Uuid::now_v7().simple().to_string();
        match url {
            StoreUrl::Sqlite { path } => {
                let directory = path.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new("."));
                let path = directory.join(format!(".cairn-bench-{run}.db"));
                let store = SqliteStore::open(&path, &StoreOptions::default()).await?;
                Ok(ThrowawayStore::Sqlite { store, path })
            }
            StoreUrl::Postgres { url, .. } => {
                let schema = format!("cairn_bench_{run}");
                let bench_url = StoreUrl::Postgres { url: url.clone(), schema: Some(schema.clone()) };
                let store = PostgresStore::open(&bench_url, &StoreOptions::default()).await?;
                Ok(ThrowawayStore::Postgres { store, schema })
            }
        }
    }

    fn store(&self) -> &dyn EventStore {
        match self {
            ThrowawayStore::Sqlite { store, .. } => store,
            ThrowawayStore::Postgres { store, .. } => store,
        }
    }

    async fn remove(self) {
        match self {
            ThrowawayStore::Sqlite { store, path } => {
                drop(store);
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            ThrowawayStore::Postgres { store, schema } => {
                let _ = sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE")).execute(store.pool()).await;
            }
        }
    }

    /// Inserts rows into the baseline table with no event-store logic:
    /// the same columns, the same statements' shape, one transaction per batch.
    async fn raw_insert(&self, appends: u64, with_indexes: bool) -> Result<Duration, StoreError> {
        match self {
            ThrowawayStore::Sqlite { store, .. } => {
                let pool = sqlx::SqlitePool::connect_with(store.connect_options().clone()).await?;
                sqlx::query("DROP TABLE IF EXISTS cairn_bench_raw").execute(&pool).await?;
                sqlx::query(include_str!("../queries/sqlite/bench_raw_create.sql")).execute(&pool).await?;
                if with_indexes {
                    sqlx::raw_sql(include_str!("../queries/sqlite/bench_raw_indexes.sql")).execute(&pool).await?;
                }
                let statements = sqlite_insert_statements(include_str!("../queries/sqlite/bench_raw_insert.sql"));
                let mut connection = pool.acquire().await?;
                let mut elapsed = Duration::ZERO;
                for append_index in 0..appends {
                    let batch = baseline_batch(append_index);
                    let started = Instant::now();
                    let mut transaction = sqlx::Connection::begin(&mut *connection).await?;
                    sqlite_insert_rows(&mut transaction, &statements, &batch).await?;
                    transaction.commit().await?;
                    elapsed += started.elapsed();
                }
                Ok(elapsed)
            }
            ThrowawayStore::Postgres { store, .. } => {
                sqlx::query("DROP TABLE IF EXISTS cairn_bench_raw").execute(store.pool()).await?;
                sqlx::query(include_str!("../queries/postgres/bench_raw_create.sql")).execute(store.pool()).await?;
                if with_indexes {
                    sqlx::raw_sql(include_str!("../queries/postgres/bench_raw_indexes.sql")).execute(store.pool()).await?;
                }
                let mut elapsed = Duration::ZERO;
                for append_index in 0..appends {
                    let batch = baseline_batch(append_index);
                    let started = Instant::now();
                    let mut transaction = store.pool().begin().await?;
                    postgres_insert_rows(&mut transaction, include_str!("../queries/postgres/bench_raw_insert.sql"), &batch).await?;
                    transaction.commit().await?;
                    elapsed += started.elapsed();
                }
                Ok(elapsed)
            }
        }
    }

    /// Selects every baseline row and reads each column, building nothing.
    async fn raw_select(&self) -> Result<(u64, Duration), StoreError> {
        let started = Instant::now();
        let mut count = 0u64;
        match self {
            ThrowawayStore::Sqlite { store, .. } => {
                let pool = sqlx::SqlitePool::connect_with(store.connect_options().clone()).await?;
                let mut rows = sqlx::query(include_str!("../queries/sqlite/bench_raw_select.sql")).fetch(&pool);
                while let Some(row) = rows.try_next().await? {
                    touch_sqlite_row(&row)?;
                    count += 1;
                }
            }
            ThrowawayStore::Postgres { store, .. } => {
                let mut rows = sqlx::query(include_str!("../queries/postgres/bench_raw_select.sql")).fetch(store.pool());
                while let Some(row) = rows.try_next().await? {
                    touch_postgres_row(&row)?;
                    count += 1;
                }
            }
        }
        Ok((count, started.elapsed()))
    }
}

fn touch_sqlite_row(row: &sqlx::sqlite::SqliteRow) -> Result<(), sqlx::Error> {
    let _: (i64, &[u8], &str, &str, i64) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?);
    let _: (&str, &str, i64, i64, &str, &str) =
        (row.try_get(5)?, row.try_get(6)?, row.try_get(7)?, row.try_get(8)?, row.try_get(9)?, row.try_get(10)?);
    let _: (Option<&str>, Option<&str>, Option<&str>, Option<&str>) =
        (row.try_get(11)?, row.try_get(12)?, row.try_get(13)?, row.try_get(14)?);
    Ok(())
}

fn touch_postgres_row(row: &sqlx::postgres::PgRow) -> Result<(), sqlx::Error> {
    let _: (i64, Uuid, &str, &str, i64) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?);
    let _: (&str, &str, chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>, &str, &str) =
        (row.try_get(5)?, row.try_get(6)?, row.try_get(7)?, row.try_get(8)?, row.try_get(9)?, row.try_get(10)?);
    let _: (Option<&str>, Option<&str>, Option<&str>, Option<&str>) =
        (row.try_get(11)?, row.try_get(12)?, row.try_get(13)?, row.try_get(14)?);
    Ok(())
}

fn bench_event(stream_index: u64, sequence: u64) -> NewEvent {
    let payload = format!(
        r#"{{"account_id":"acc-{stream_index}","amount":{},"currency":"EUR","note":"bench event {sequence}"}}"#,
        (sequence * 37) % 10_000
    );
    let mut event = NewEvent::new(
        "account",
        format!("acc-{stream_index}"),
        if sequence % 3 == 0 { "Deposited" } else { "Withdrew" },
        JsonText::parse(payload).expect("bench payload is JSON"),
    );
    event.correlation_id = Some(format!("corr-{}", sequence / 50));
    event.user_id = Some("bench".to_owned());
    event
}

/// The `append_index`-th append: [`EVENTS_PER_APPEND`] events over
/// [`STREAMS_PER_APPEND`] new streams. Built on demand, so the benchmark's
/// own memory does not grow with `--events`.
fn batch_request(append_index: u64) -> AppendRequest {
    let events_per_stream = (EVENTS_PER_APPEND / STREAMS_PER_APPEND) as u64;
    let mut request = AppendRequest::default();
    for stream in 0..STREAMS_PER_APPEND as u64 {
        let stream_index = append_index * STREAMS_PER_APPEND as u64 + stream;
        let mut events: Vec<NewEvent> = (0..events_per_stream).map(|sequence| bench_event(stream_index, sequence)).collect();
        request.expectations.push((events[0].stream(), ExpectedVersion::NoStream));
        request.events.append(&mut events);
    }
    request
}

/// The rows the store will hold for `append_index`, positions and all, for the baseline.
fn baseline_batch(append_index: u64) -> Vec<RecordedEvent> {
    let first_position = append_index * EVENTS_PER_APPEND as u64 + 1;
    batch_request(append_index)
        .events
        .iter()
        .enumerate()
        .map(|(offset, event)| baseline_row(event, first_position + offset as u64))
        .collect()
}

pub async fn run(config: &StoreBenchConfig) -> Result<BenchReport, StoreError> {
    let throwaway = ThrowawayStore::create(&config.store_url).await?;
    let result = measure(&throwaway, config).await;
    throwaway.remove().await;
    result
}

async fn measure(throwaway: &ThrowawayStore, config: &StoreBenchConfig) -> Result<BenchReport, StoreError> {
    let store = throwaway.store();
    let appends = config.events.div_ceil(EVENTS_PER_APPEND as u64).max(1);
    let total_events = appends * EVENTS_PER_APPEND as u64;
    let raw_insert_time = throwaway.raw_insert(appends, false).await?;
    let indexed_insert_time = throwaway.raw_insert(appends, true).await?;

    let batch_time = time_batch_appends(store, appends).await?;
    let mut latencies = time_single_appends(store, config.single_appends).await?;
    let (raw_selected, raw_select_time) = throwaway.raw_select().await?;
    let memory_before_read = resident_bytes();
    let (read, read_time, peak_memory) = time_read_all(store).await?;

    let raw_insert_rate = events_per_second(total_events, raw_insert_time);
    let indexed_insert_rate = events_per_second(total_events, indexed_insert_time);
    let batch_rate = events_per_second(total_events, batch_time);
    let raw_select_rate = events_per_second(raw_selected, raw_select_time);
    let read_rate = events_per_second(read, read_time);
    let p50 = quantile(&mut latencies, 0.50);
    let p99 = quantile(&mut latencies, 0.99);
    let megabytes = |bytes: Option<u64>| bytes.map(|bytes| format!("{:.1} MiB", bytes as f64 / 1048576.0)).unwrap_or_default();
    Ok(BenchReport {
        title: format!("cairn bench store: {} backend, {total_events} events", store.backend_name()),
        rows: vec![
            BenchRow::new("raw insert (baseline, 100 rows per transaction)", format_rate(raw_insert_rate), "1.00x"),
            BenchRow::new(
                "raw insert with the log's 5 secondary indexes",
                format_rate(indexed_insert_rate),
                format!("{:.2}x of raw insert", indexed_insert_rate / raw_insert_rate),
            ),
            BenchRow::new(
                "batch append (100 events over 10 streams per append)",
                format_rate(batch_rate),
                format!(
                    "{:.2}x of raw insert, {:.2}x of indexed raw insert",
                    batch_rate / raw_insert_rate,
                    batch_rate / indexed_insert_rate
                ),
            ),
            BenchRow::new("single-event append p50", format_latency(p50), format!("{} appends", latencies.len())),
            BenchRow::new("single-event append p99", format_latency(p99), ""),
            BenchRow::new("raw select (baseline)", format_rate(raw_select_rate), "1.00x"),
            BenchRow::new(
                "read-all (pages of 10,000)",
                format_rate(read_rate),
                format!("{:.2}x of raw select", read_rate / raw_select_rate),
            ),
            BenchRow::new(
                "resident memory during read-all",
                format!("{} before, {} peak", megabytes(memory_before_read), megabytes(peak_memory)),
                "",
            ),
        ],
    })
}

/// Requests are built outside the timed section for the store as they are
/// for the baseline, a slice at a time to keep memory bounded.
async fn time_batch_appends(store: &dyn EventStore, appends: u64) -> Result<Duration, StoreError> {
    let mut batch_time = Duration::ZERO;
    for first in (0..appends).step_by(1_000) {
        let requests: Vec<AppendRequest> = (first..(first + 1_000).min(appends)).map(batch_request).collect();
        let started = Instant::now();
        for request in requests {
            store.append(request).await?;
        }
        batch_time += started.elapsed();
    }
    Ok(batch_time)
}

async fn time_single_appends(store: &dyn EventStore, count: usize) -> Result<Vec<Duration>, StoreError> {
    let mut latencies = Vec::with_capacity(count);
    for index in 0..count {
        let stream = StreamId::new("account", format!("acc-{}", index % 100));
        let version = store.stream_version(&stream).await?;
        let event = bench_event(index as u64 % 100, version);
        let started = Instant::now();
        store.append(AppendRequest::to_stream(ExpectedVersion::Exact(version), vec![event])).await?;
        latencies.push(started.elapsed());
    }
    Ok(latencies)
}

/// Events read, the time taken and the peak resident memory meanwhile.
async fn time_read_all(store: &dyn EventStore) -> Result<(u64, Duration, Option<u64>), StoreError> {
    let started = Instant::now();
    let mut after = 0;
    let mut read = 0u64;
    let mut peak_memory = resident_bytes();
    loop {
        let page = store.read_log(&LogFilter::default(), after, READ_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.global_position;
        read += page.len() as u64;
        peak_memory = peak_memory.max(resident_bytes());
    }
    Ok((read, started.elapsed(), peak_memory))
}

fn baseline_row(event: &NewEvent, position: u64) -> RecordedEvent {
    let now = cairn::time::now_micros();
    RecordedEvent {
        id: Uuid::now_v7(),
        global_position: position,
        aggregate_type: event.aggregate_type.clone(),
        aggregate_id: event.aggregate_id.clone(),
        stream_version: position,
        event_type: event.event_type.clone(),
        schema_version: event.schema_version.clone(),
        timestamp: now,
        recorded_at: now,
        payload: event.payload.clone(),
        metadata: event.metadata.clone(),
        correlation_id: event.correlation_id.clone(),
        causation_id: event.causation_id.clone(),
        user_id: event.user_id.clone(),
        source: event.source.clone(),
    }
}

/// Rows per multi-row INSERT of the SQLite baseline, as the store writes them.
const ROWS_PER_INSERT: usize = 64;

/// One INSERT per row count from 0 to [`ROWS_PER_INSERT`]: `{rows}` in the
/// query file marks where the tuples go.
fn sqlite_insert_statements(template: &str) -> Vec<String> {
    let tuple = format!("({})", vec!["?"; 15].join(", "));
    (0..=ROWS_PER_INSERT).map(|rows| template.replace("{rows}", &vec![tuple.as_str(); rows].join(",\n"))).collect()
}

async fn sqlite_insert_rows(connection: &mut sqlx::SqliteConnection, statements: &[String], rows: &[RecordedEvent]) -> Result<(), sqlx::Error> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut query = sqlx::query(&statements[chunk.len()]);
        for row in chunk {
            query = query
                .bind(row.global_position as i64)
                .bind(row.id.as_bytes().as_slice())
                .bind(row.aggregate_type.as_str())
                .bind(row.aggregate_id.as_str())
                .bind(row.stream_version as i64)
                .bind(row.event_type.as_str())
                .bind(row.schema_version.as_str())
                .bind(row.timestamp.timestamp_micros())
                .bind(row.recorded_at.timestamp_micros())
                .bind(row.payload.as_str())
                .bind(row.metadata.as_str())
                .bind(row.correlation_id.as_deref())
                .bind(row.causation_id.as_deref())
                .bind(row.user_id.as_deref())
                .bind(row.source.as_deref());
        }
        query.execute(&mut *connection).await?;
    }
    Ok(())
}

/// One UNNEST insert of every row, as the store writes a batch.
async fn postgres_insert_rows(connection: &mut sqlx::PgConnection, sql: &'static str, rows: &[RecordedEvent]) -> Result<(), sqlx::Error> {
    let column = |field: fn(&RecordedEvent) -> Option<&str>| rows.iter().map(field).collect::<Vec<_>>();
    sqlx::query(sql)
        .bind(rows.iter().map(|row| row.global_position as i64).collect::<Vec<_>>())
        .bind(rows.iter().map(|row| row.id).collect::<Vec<_>>())
        .bind(column(|row| Some(&row.aggregate_type)))
        .bind(column(|row| Some(&row.aggregate_id)))
        .bind(rows.iter().map(|row| row.stream_version as i64).collect::<Vec<_>>())
        .bind(column(|row| Some(&row.event_type)))
        .bind(column(|row| Some(&row.schema_version)))
        .bind(rows.iter().map(|row| row.timestamp).collect::<Vec<_>>())
        .bind(rows.iter().map(|row| row.recorded_at).collect::<Vec<_>>())
        .bind(column(|row| Some(row.payload.as_str())))
        .bind(column(|row| Some(row.metadata.as_str())))
        .bind(column(|row| row.correlation_id.as_deref()))
        .bind(column(|row| row.causation_id.as_deref()))
        .bind(column(|row| row.user_id.as_deref()))
        .bind(column(|row| row.source.as_deref()))
        .execute(connection)
        .await?;
    Ok(())
}

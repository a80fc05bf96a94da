//! The embedded default backend: one SQLite file in WAL mode.
//!
//! Writers go through a pool of one connection and `BEGIN IMMEDIATE`, so
//! appends are serialized in commit order within and across processes, which
//! is what keeps positions commit-ordered. Within a process, concurrent
//! appends share commits (`group_commit.rs`). Readers have their own pool
//! and never block the writer.

mod checkpoints;
mod commands;
mod dead_letters;
mod group_commit;
mod plugin_catalog;
mod read_models;
mod replay_jobs;
mod snapshots;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::Row;
use uuid::Uuid;

use super::filter::{filter_predicates, FilterArgument};
use super::head::HeadWatch;
use super::plan::{caller_ids, streams_of, StoreView};
use super::{
    CommandAppend, CommandMark,
    validate_append, CountByName, EventStore, LogFilter, StoreError, StoreLimits, StoreStatistics, StreamRange,
};
use cairn_event::{AppendOutcome, AppendRequest, RecordedEvent, StreamId};
use cairn_event::json::JsonText;
use cairn_event::time::micros_to_datetime;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Rows per INSERT statement: 15 parameters each keeps a statement well under
/// SQLite's parameter limit while amortizing the per-statement cost.
const ROWS_PER_INSERT: usize = 64;
const COLUMNS_PER_ROW: usize = 15;

pub struct SqliteStore {
    options: SqliteConnectOptions,
    path: PathBuf,
    write_pool: SqlitePool,
    read_pool: SqlitePool,
    limits: StoreLimits,
    head: HeadWatch,
    appends: tokio::sync::mpsc::Sender<group_commit::PendingAppend>,
}

impl SqliteStore {
    pub async fn open(path: &Path, options: &crate::StoreOptions) -> Result<Self, StoreError> {
        let limits = options.limits.clone();
        refuse_non_sqlite_file(path)?;
        let location = format!("sqlite://{}", path.display());
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL syncs every commit; NORMAL in WAL mode never corrupts the
            // file, but a power cut may lose the last commits (`--durability`).
            .synchronous(match options.durability {
                crate::Durability::Full => SqliteSynchronous::Full,
                crate::Durability::Normal => SqliteSynchronous::Normal,
            })
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", "-65536")
            .pragma("mmap_size", "1073741824")
            .statement_cache_capacity(256);
        let unreachable = |error: sqlx::Error| StoreError::Unreachable {
            url: location.clone(),
            reason: format!("{error} (does the directory exist and is it writable?)"),
        };
        let write_pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(unreachable)?;
        check_is_cairn_store(&write_pool, &location).await?;
        migrate(&write_pool).await?;
        let read_pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.pragma("query_only", "ON"))
            .await
            .map_err(unreachable)?;
        let head: i64 = sqlx::query_scalar(include_str!("../../queries/sqlite/head_position.sql"))
            .fetch_one(&read_pool)
            .await?;
        let insert_statements = insert_statements(include_str!("../../queries/sqlite/insert_events.sql"));
        let head = HeadWatch::new(head as u64);
        let appends = group_commit::GroupWriter { pool: write_pool.clone(), insert_statements, head: head.clone() }.spawn();
        Ok(Self {
            options: write_pool.connect_options().as_ref().clone(),
            path: path.to_owned(),
            write_pool,
            read_pool,
            limits,
            head,
            appends,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The options this store connects with, for tools (such as the
    /// benchmark's raw baseline) that must see the database exactly as it does.
    pub fn connect_options(&self) -> &SqliteConnectOptions {
        &self.options
    }

    /// An append through the group writer, with the record of the command
    /// that decided it.
    async fn append_recorded(&self, request: AppendRequest, command: Option<CommandMark>) -> Result<CommandAppend, StoreError> {
        let started = std::time::Instant::now();
        validate_append(&request, &self.limits)?;
        let (reply, answer) = tokio::sync::oneshot::channel();
        let stopped = || StoreError::Unreachable { url: format!("sqlite://{}", self.path.display()), reason: "the store's writer has stopped; restart cairn".to_owned() };
        self.appends.send(group_commit::PendingAppend { request, command, reply }).await.map_err(|_| stopped())?;
        let appended = answer.await.map_err(|_| StoreError::Unreachable {
            url: format!("sqlite://{}", self.path.display()),
            reason: "the writer failed while writing this append (the log says why), so it may or may not be stored; read the stream, or re-send it with the same event ids, which is safe".to_owned(),
        })??;
        if let CommandAppend::Appended(outcome) = &appended {
            crate::telemetry::appended(outcome, started);
        }
        Ok(appended)
    }

    async fn read_view(
        connection: &mut sqlx::SqliteConnection,
        request: &AppendRequest,
    ) -> Result<StoreView, StoreError> {
        let head: i64 = sqlx::query_scalar(include_str!("../../queries/sqlite/head_position.sql"))
            .fetch_one(&mut *connection)
            .await?;
        let ids = caller_ids(request);
        let mut existing_by_id = HashMap::new();
        if !ids.is_empty() {
            let hex_ids: Vec<String> = ids.iter().map(|id| id.simple().to_string()).collect();
            let rows = sqlx::query(include_str!("../../queries/sqlite/events_by_ids.sql"))
                .bind(serde_json::to_string(&hex_ids).expect("strings serialize"))
                .fetch_all(&mut *connection)
                .await?;
            for row in rows {
                let event = decode_row(&row)?;
                existing_by_id.insert(event.id, event);
            }
        }
        let streams = streams_of(request);
        let pairs: Vec<[&str; 2]> =
            streams.iter().map(|stream| [stream.aggregate_type.as_str(), stream.aggregate_id.as_str()]).collect();
        let rows: Vec<(String, String, i64)> = sqlx::query_as(include_str!("../../queries/sqlite/stream_versions.sql"))
            .bind(serde_json::to_string(&pairs).expect("strings serialize"))
            .fetch_all(&mut *connection)
            .await?;
        let stream_versions = rows
            .into_iter()
            .map(|(aggregate_type, aggregate_id, version)| (StreamId::new(aggregate_type, aggregate_id), version as u64))
            .collect();
        Ok(StoreView { head_position: head as u64, stream_versions, existing_by_id, now: cairn_event::time::now_micros() })
    }
}

/// One multi-row INSERT per row count from 0 to [`ROWS_PER_INSERT`], built
/// from a query file whose `{rows}` marks where the tuples go.
pub(crate) fn insert_statements(template: &str) -> Vec<String> {
    (0..=ROWS_PER_INSERT).map(|rows| insert_statement(template, rows, COLUMNS_PER_ROW)).collect()
}

/// Inserts `rows` as they are, in chunks; the caller owns the transaction.
pub(crate) async fn insert_rows(
    connection: &mut sqlx::SqliteConnection,
    statements: &[String],
    rows: &[RecordedEvent],
) -> Result<(), sqlx::Error> {
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

pub(crate) fn insert_statement(template: &str, rows: usize, columns: usize) -> String {
    // Anonymous placeholders on purpose: sqlx asks SQLite for every
    // parameter's name, SQLite finds `$N` names by a linear search, and a
    // 960-parameter statement then spends most of its time there.
    let tuple = format!("({})", vec!["?"; columns].join(", "));
    let tuples = vec![tuple; rows];
    template.replace("{rows}", &tuples.join(",\n"))
}

/// Applies the migrations. SQLite has no lock for sqlx's migrator to take,
/// so processes opening a new store at once can both start a migration;
/// the one that loses finds it applied when it tries again.
async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        match MIGRATOR.run(pool).await {
            Ok(()) => return Ok(()),
            Err(error) if attempts < 5 => tracing::debug!(%error, "another process migrated the store at the same time; trying again"),
            Err(error) => return Err(error.into()),
        }
    }
}

/// A file that exists and is not SQLite gets a clear refusal instead of
/// SQLite's "file is not a database" on the first query.
fn refuse_non_sqlite_file(path: &Path) -> Result<(), StoreError> {
    use std::io::Read;
    let Ok(mut file) = std::fs::File::open(path) else { return Ok(()) };
    let mut header = [0u8; 16];
    let read = file.read(&mut header).unwrap_or(0);
    if read == 0 || header.starts_with(b"SQLite format 3\0") {
        return Ok(());
    }
    Err(StoreError::NotACairnStore {
        location: format!("sqlite://{}", path.display()),
        reason: "the file is not a SQLite database".to_owned(),
    })
}

async fn check_is_cairn_store(pool: &SqlitePool, location: &str) -> Result<(), StoreError> {
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            .fetch_all(pool)
            .await
            .map_err(|error| StoreError::NotACairnStore { location: location.to_owned(), reason: error.to_string() })?;
    if tables.is_empty() {
        return Ok(());
    }
    // Another process creating this store right now may have made sqlx's
    // table and not yet Cairn's; that is a Cairn store in the making.
    if tables.iter().all(|table| table == "_sqlx_migrations") {
        return Ok(());
    }
    if !tables.iter().any(|table| table == "cairn_events") {
        return Err(StoreError::NotACairnStore {
            location: location.to_owned(),
            reason: format!("it holds other tables ({})", tables.join(", ")),
        });
    }
    if tables.iter().any(|table| table == "_sqlx_migrations") {
        let found: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations").fetch_one(pool).await?;
        let known = MIGRATOR.iter().map(|migration| migration.version).max().unwrap_or(0);
        if let Some(found) = found.filter(|found| *found > known) {
            return Err(StoreError::NewerSchema { location: location.to_owned(), found, known });
        }
    }
    Ok(())
}

fn decode_row(row: &SqliteRow) -> Result<RecordedEvent, StoreError> {
    let id_bytes: &[u8] = row.try_get(1)?;
    let id = Uuid::from_slice(id_bytes)
        .map_err(|error| StoreError::CorruptRow(format!("event id is not a UUID: {error}")))?;
    Ok(RecordedEvent {
        global_position: row.try_get::<i64, _>(0)? as u64,
        id,
        aggregate_type: row.try_get(2)?,
        aggregate_id: row.try_get(3)?,
        stream_version: row.try_get::<i64, _>(4)? as u64,
        event_type: row.try_get(5)?,
        schema_version: row.try_get(6)?,
        timestamp: micros_to_datetime(row.try_get(7)?),
        recorded_at: micros_to_datetime(row.try_get(8)?),
        payload: JsonText::from_trusted(row.try_get(9)?),
        metadata: JsonText::from_trusted(row.try_get(10)?),
        correlation_id: row.try_get(11)?,
        causation_id: row.try_get(12)?,
        user_id: row.try_get(13)?,
        source: row.try_get(14)?,
    })
}

fn to_sql_integer(value: u64) -> i64 {
    value.min(i64::MAX as u64) as i64
}

#[async_trait]
impl EventStore for SqliteStore {
    async fn append(&self, request: AppendRequest) -> Result<AppendOutcome, StoreError> {
        match self.append_recorded(request, None).await? {
            CommandAppend::Appended(outcome) => Ok(outcome),
            CommandAppend::AlreadyRecorded(_) => unreachable!("an append without a command finds no command record"),
        }
    }

    async fn append_command(&self, request: AppendRequest, command: CommandMark) -> Result<CommandAppend, StoreError> {
        self.append_recorded(request, Some(command)).await
    }

    async fn read_stream(&self, stream: &StreamId, range: &StreamRange) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(include_str!("../../queries/sqlite/read_stream.sql"))
            .bind(&stream.aggregate_type)
            .bind(&stream.aggregate_id)
            .bind(to_sql_integer(range.from_version.unwrap_or(1)))
            .bind(to_sql_integer(range.to_version.unwrap_or(u64::MAX)))
            .bind(range.limit.map(|limit| limit as i64).unwrap_or(-1))
            .fetch_all(&self.read_pool)
            .await?;
        rows.iter().map(decode_row).collect()
    }

    async fn read_log(
        &self,
        filter: &LogFilter,
        after_position: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let (predicates, arguments) = filter_predicates(filter, 3);
        let sql = include_str!("../../queries/sqlite/read_log.sql").replace("/* filter */", &predicates);
        let mut query = sqlx::query(&sql).bind(to_sql_integer(after_position)).bind(limit as i64);
        for argument in arguments {
            query = match argument {
                FilterArgument::Text(text) => query.bind(text),
                FilterArgument::Position(position) => query.bind(position),
                FilterArgument::Time(instant) => query.bind(instant.timestamp_micros()),
            };
        }
        let rows = query.fetch_all(&self.read_pool).await?;
        rows.iter().map(decode_row).collect()
    }

    async fn event_by_id(&self, id: Uuid) -> Result<Option<RecordedEvent>, StoreError> {
        let row = sqlx::query(include_str!("../../queries/sqlite/event_by_id.sql"))
            .bind(id.as_bytes().as_slice())
            .fetch_optional(&self.read_pool)
            .await?;
        row.as_ref().map(decode_row).transpose()
    }

    async fn stream_version(&self, stream: &StreamId) -> Result<u64, StoreError> {
        let version: i64 = sqlx::query_scalar(include_str!("../../queries/sqlite/stream_version.sql"))
            .bind(&stream.aggregate_type)
            .bind(&stream.aggregate_id)
            .fetch_one(&self.read_pool)
            .await?;
        Ok(version as u64)
    }

    async fn first_version_after(
        &self,
        stream: &StreamId,
        instant: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<u64>, StoreError> {
        let version: Option<i64> = sqlx::query_scalar(include_str!("../../queries/sqlite/first_version_after.sql"))
            .bind(&stream.aggregate_type)
            .bind(&stream.aggregate_id)
            .bind(instant.timestamp_micros())
            .fetch_one(&self.read_pool)
            .await?;
        Ok(version.map(|version| version as u64))
    }

    async fn streams_of_type(
        &self,
        aggregate_type: &str,
        after_id: &str,
        limit: usize,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(include_str!("../../queries/sqlite/streams_of_type.sql"))
            .bind(aggregate_type)
            .bind(after_id)
            .bind(limit as i64)
            .fetch_all(&self.read_pool)
            .await?;
        Ok(rows.into_iter().map(|(id, version)| (id, version as u64)).collect())
    }

    async fn count_by_type_and_version(&self) -> Result<Vec<(String, String, u64)>, StoreError> {
        let rows: Vec<(String, String, i64)> =
            sqlx::query_as(include_str!("../../queries/sqlite/count_by_type_and_version.sql")).fetch_all(&self.read_pool).await?;
        Ok(rows.into_iter().map(|(event_type, version, count)| (event_type, version, count as u64)).collect())
    }

    async fn head_position(&self) -> Result<u64, StoreError> {
        let head: i64 = sqlx::query_scalar(include_str!("../../queries/sqlite/head_position.sql"))
            .fetch_one(&self.read_pool)
            .await?;
        Ok(head as u64)
    }

    async fn wait_for_new_events(&self, after_position: u64, max_wait: Duration) {
        self.head.wait_beyond(after_position, max_wait).await;
    }

    async fn statistics(&self) -> Result<StoreStatistics, StoreError> {
        let summary = sqlx::query(include_str!("../../queries/sqlite/summary.sql")).fetch_one(&self.read_pool).await?;
        let size: i64 = sqlx::query_scalar(include_str!("../../queries/sqlite/store_size.sql"))
            .fetch_one(&self.read_pool)
            .await?;
        let wal_size = std::fs::metadata(format!("{}-wal", self.path.display())).map(|meta| meta.len()).unwrap_or(0);
        Ok(StoreStatistics {
            total_events: summary.try_get::<i64, _>(0)? as u64,
            total_streams: summary.try_get::<i64, _>(1)? as u64,
            last_global_position: summary.try_get::<i64, _>(2)? as u64,
            first_event_timestamp: summary.try_get::<Option<i64>, _>(3)?.map(micros_to_datetime),
            latest_event_timestamp: summary.try_get::<Option<i64>, _>(4)?.map(micros_to_datetime),
            events_by_type: count_by_name(&self.read_pool, include_str!("../../queries/sqlite/count_by_event_type.sql")).await?,
            events_by_aggregate_type: count_by_name(
                &self.read_pool,
                include_str!("../../queries/sqlite/count_by_aggregate_type.sql"),
            )
            .await?,
            store_size_bytes: size as u64 + wal_size,
            backend: "sqlite",
            durability: match sqlx::query_scalar::<_, i64>("PRAGMA synchronous").fetch_one(&self.write_pool).await? {
                0 => "off",
                1 => "normal",
                _ => "full",
            }
            .to_owned(),
        })
    }

    async fn readiness(&self) -> Result<(), StoreError> {
        if self.appends.is_closed() {
            return Err(StoreError::Unreachable { url: format!("sqlite://{}", self.path.display()), reason: "the store's writer has stopped; restart cairn".to_owned() });
        }
        self.head_position().await.map(|_| ())
    }

    fn backend_name(&self) -> &'static str {
        "sqlite"
    }

    fn limits(&self) -> &StoreLimits {
        &self.limits
    }
}

async fn count_by_name(pool: &SqlitePool, sql: &'static str) -> Result<Vec<CountByName>, StoreError> {
    let rows: Vec<(String, i64)> = sqlx::query_as(sql).fetch_all(pool).await?;
    Ok(rows.into_iter().map(|(name, count)| CountByName { name, count: count as u64 }).collect())
}

//! The embedded default backend: one SQLite file in WAL mode, driven
//! directly through rusqlite (`database.rs` says why).
//!
//! Every write of this process goes through one connection on the writer's
//! thread, under `BEGIN IMMEDIATE`, so appends are serialized in commit
//! order within and across processes, which keeps positions commit-ordered.
//! Within a process, concurrent appends share commits (`group_commit.rs`).
//! Readers have their own connections and never block the writer.

mod checkpoints;
mod commands;
mod database;
mod dead_letters;
mod group_commit;
mod leases;
mod migrate;
mod plugin_catalog;
mod read_models;
mod replay_jobs;
mod rows;
mod snapshots;
mod writer_queue;

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::OptionalExtension;
use uuid::Uuid;

use super::filter::{filter_predicates, FilterArgument};
use super::head::HeadWatch;
use super::{CommandAppend, CommandMark, CountByName, EventStore, LogFilter, StoreError, StoreLimits, StoreStatistics, StreamRange};
use cairn_event::time::micros_to_datetime;
use cairn_event::{AppendRequest, RecordedEvent, StreamId};
use database::Database;
use rows::{query_events, to_sql_integer};

pub(crate) use database::connect;
pub(crate) use rows::insert_statement;

macro_rules! query_file {
    ($name:literal) => {
        include_str!(concat!("../../queries/sqlite/", $name, ".sql"))
    };
}
pub(super) use query_file;

pub struct SqliteStore {
    path: PathBuf,
    database: Database,
    limits: StoreLimits,
    head: HeadWatch,
    /// The writer connection's `synchronous`, read when the store opened.
    durability: &'static str,
}

impl SqliteStore {
    pub async fn open(path: &Path, options: &crate::StoreOptions) -> Result<Self, StoreError> {
        refuse_non_sqlite_file(path)?;
        let location = format!("sqlite://{}", path.display());
        let owned_path = path.to_owned();
        let durability = options.durability;
        let opening = location.clone();
        let (writer, head, synchronous) = tokio::task::spawn_blocking(move || -> Result<_, StoreError> {
            let mut writer = connect(&owned_path, durability, false).map_err(|error| StoreError::Unreachable {
                url: opening.clone(),
                reason: format!("{error} (does the directory exist and is it writable?)"),
            })?;
            migrate::check_is_cairn_store(&writer, &opening)?;
            migrate::migrate(&mut writer, &opening)?;
            let head: i64 = writer.query_row(query_file!("head_position"), [], |row| row.get(0))?;
            // What the writer commits with, as SQLite reports it; it does
            // not change while the store is open.
            let synchronous: i64 = writer.query_row("PRAGMA synchronous", [], |row| row.get(0))?;
            Ok((writer, head as u64, synchronous))
        })
        .await
        .map_err(|error| StoreError::Bug(format!("opening {location} panicked: {error}")))??;
        let head = HeadWatch::new(head);
        let database = Database::start(path, writer, head.clone())?;
        let durability = match synchronous {
            0 => "off",
            1 => "normal",
            _ => "full",
        };
        Ok(Self { path: path.to_owned(), database, limits: options.limits.clone(), head, durability })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A new connection to this store's file with the settings the store
    /// uses (WAL, synchronous, cache), for tools that drive SQLite directly,
    /// such as the benchmark's engine-limit rows.
    pub fn engine_connection(&self, durability: crate::Durability) -> Result<rusqlite::Connection, StoreError> {
        Ok(connect(&self.path, durability, false)?)
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

/// Rows of (name, count) from a cached statement.
fn count_by_name(connection: &rusqlite::Connection, sql: &str) -> Result<Vec<CountByName>, StoreError> {
    let mut statement = connection.prepare_cached(sql)?;
    let rows = statement.query_map([], |row| Ok(CountByName { name: row.get(0)?, count: row.get::<_, i64>(1)? as u64 }))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[async_trait]
impl EventStore for SqliteStore {
    async fn append_recorded(&self, request: AppendRequest, command: Option<CommandMark>) -> Result<CommandAppend, StoreError> {
        crate::append_queue::submit(&self.limits, self.database.location(), request, command, |append| self.database.send_append(append)).await
    }

    async fn read_stream(&self, stream: &StreamId, range: &StreamRange) -> Result<Vec<RecordedEvent>, StoreError> {
        let stream = stream.clone();
        let from = to_sql_integer(range.from_version.unwrap_or(1));
        let to = to_sql_integer(range.to_version.unwrap_or(u64::MAX));
        let limit = range.limit.map_or(-1, to_sql_limit);
        self.database
            .read(move |connection| query_events(connection, query_file!("read_stream"), rusqlite::params![stream.aggregate_type, stream.aggregate_id, from, to, limit]))
            .await
    }

    async fn read_log(&self, filter: &LogFilter, after_position: u64, limit: usize) -> Result<Vec<RecordedEvent>, StoreError> {
        let (predicates, arguments) = filter_predicates(filter, 3);
        let sql = query_file!("read_log").replace("/* filter */", &predicates);
        let after = to_sql_integer(after_position);
        let limit = to_sql_limit(limit);
        self.database
            .read(move |connection| {
                let mut values: Vec<rusqlite::types::Value> = vec![after.into(), limit.into()];
                for argument in arguments {
                    values.push(match argument {
                        FilterArgument::Text(text) => text.into(),
                        FilterArgument::Position(position) => position.into(),
                        FilterArgument::Time(instant) => instant.timestamp_micros().into(),
                    });
                }
                // The filter's placeholders ($3…) come before LIMIT's $2 in
                // the text, so these are bound by name, not position.
                let mut statement = connection.prepare_cached(&sql)?;
                for (number, value) in values.iter().enumerate() {
                    if let Some(index) = statement.parameter_index(&format!("${}", number + 1))? {
                        statement.raw_bind_parameter(index, value)?;
                    }
                }
                let events = rows::decode_all(statement.raw_query(), limit as usize);
                events
            })
            .await
    }

    async fn event_by_id(&self, id: Uuid) -> Result<Option<RecordedEvent>, StoreError> {
        self.database
            .read(move |connection| {
                let mut statement = connection.prepare_cached(query_file!("event_by_id"))?;
                statement.query_row([id.as_bytes().as_slice()], rows::decode_event).optional()?.transpose()
            })
            .await
    }

    async fn stream_version(&self, stream: &StreamId) -> Result<u64, StoreError> {
        let stream = stream.clone();
        self.database
            .read(move |connection| {
                let mut statement = connection.prepare_cached(query_file!("stream_version"))?;
                Ok(statement.query_row([&stream.aggregate_type, &stream.aggregate_id], |row| row.get::<_, i64>(0))? as u64)
            })
            .await
    }

    async fn first_version_after(&self, stream: &StreamId, instant: chrono::DateTime<chrono::Utc>) -> Result<Option<u64>, StoreError> {
        let stream = stream.clone();
        self.database
            .read(move |connection| {
                let mut statement = connection.prepare_cached(query_file!("first_version_after"))?;
                let version: Option<i64> =
                    statement.query_row(rusqlite::params![stream.aggregate_type, stream.aggregate_id, instant.timestamp_micros()], |row| row.get(0))?;
                Ok(version.map(|version| version as u64))
            })
            .await
    }

    async fn streams_of_type(&self, aggregate_type: &str, after_id: &str, limit: usize) -> Result<Vec<(String, u64)>, StoreError> {
        let (aggregate_type, after_id) = (aggregate_type.to_owned(), after_id.to_owned());
        self.database
            .read(move |connection| {
                let mut statement = connection.prepare_cached(query_file!("streams_of_type"))?;
                let rows = statement.query_map(rusqlite::params![aggregate_type, after_id, to_sql_limit(limit)], |row| Ok((row.get(0)?, row.get::<_, i64>(1)? as u64)))?;
                Ok(rows.collect::<Result<_, _>>()?)
            })
            .await
    }

    async fn count_by_type_and_version(&self) -> Result<Vec<(String, String, u64)>, StoreError> {
        self.database
            .read(|connection| {
                let mut statement = connection.prepare_cached(query_file!("count_by_type_and_version"))?;
                let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get::<_, i64>(2)? as u64)))?;
                Ok(rows.collect::<Result<_, _>>()?)
            })
            .await
    }

    async fn head_position(&self) -> Result<u64, StoreError> {
        self.database.read(|connection| Ok(connection.prepare_cached(query_file!("head_position"))?.query_row([], |row| row.get::<_, i64>(0))? as u64)).await
    }

    async fn wait_for_new_events(&self, after_position: u64, max_wait: Duration) {
        self.head.wait_beyond(after_position, max_wait).await;
    }

    async fn statistics(&self) -> Result<StoreStatistics, StoreError> {
        let wal_size = std::fs::metadata(format!("{}-wal", self.path.display())).map(|meta| meta.len()).unwrap_or(0);
        let durability = self.durability;
        self.database
            .read(move |connection| {
                let summary = connection.prepare_cached(query_file!("summary"))?.query_row([], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, row.get::<_, i64>(2)?, row.get::<_, Option<i64>>(3)?, row.get::<_, Option<i64>>(4)?))
                })?;
                let size: i64 = connection.prepare_cached(query_file!("store_size"))?.query_row([], |row| row.get(0))?;
                Ok(StoreStatistics {
                    total_events: summary.0 as u64,
                    total_streams: summary.1 as u64,
                    last_global_position: summary.2 as u64,
                    first_event_timestamp: summary.3.map(micros_to_datetime),
                    latest_event_timestamp: summary.4.map(micros_to_datetime),
                    events_by_type: count_by_name(connection, query_file!("count_by_event_type"))?,
                    events_by_aggregate_type: count_by_name(connection, query_file!("count_by_aggregate_type"))?,
                    store_size_bytes: size as u64 + wal_size,
                    backend: "sqlite",
                    durability: durability.to_owned(),
                })
            })
            .await
    }

    async fn readiness(&self) -> Result<(), StoreError> {
        self.head_position().await.map(|_| ())
    }

    fn backend_name(&self) -> &'static str {
        "sqlite"
    }

    fn limits(&self) -> &StoreLimits {
        &self.limits
    }
}

/// A row limit as SQLite takes it.
fn to_sql_limit(limit: usize) -> i64 {
    limit.min(i64::MAX as usize) as i64
}

#[cfg(test)]
mod tests {
    /// Parameters are bound by position. SQLite numbers `?N` by its digits,
    /// but a `$N` by the order in which the names first appear, so every
    /// query file must name its `$N` placeholders in that order.
    #[test]
    fn query_files_number_placeholders_in_order_of_appearance() {
        let directory = concat!(env!("CARGO_MANIFEST_DIR"), "/queries/sqlite");
        for entry in std::fs::read_dir(directory).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let code: String = text.lines().map(|line| line.split("--").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
            let mut seen: Vec<u32> = Vec::new();
            let mut rest = code.as_str();
            while let Some(at) = rest.find('$') {
                let digits: String = rest[at + 1..].chars().take_while(char::is_ascii_digit).collect();
                if let Ok(number) = digits.parse::<u32>() {
                    if !seen.contains(&number) {
                        seen.push(number);
                    }
                }
                rest = &rest[at + 1..];
            }
            let expected: Vec<u32> = (1..=seen.len() as u32).collect();
            assert_eq!(seen, expected, "{} numbers its placeholders out of order", path.display());
        }
    }
}

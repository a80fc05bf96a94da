//! The production backend, for several host processes sharing one store.
//!
//! Every append first locks the single row of `cairn_log_head` and holds it
//! to commit. PostgreSQL releases that lock only after the commit is visible
//! to new snapshots, so the next writer assigns higher positions only once
//! every lower position is visible: positions are commit-ordered and
//! gap-free, and a tailing reader can never skip an event.

mod checkpoints;
mod commands;
mod dead_letters;
mod fast_append;
mod group_commit;
mod leases;
mod notifications;
mod plugin_catalog;
mod read_models;
mod replay_jobs;
mod snapshots;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::{ConnectOptions, Row};
use uuid::Uuid;

use super::filter::{filter_predicates, FilterArgument};
use super::head::HeadWatch;
use super::{
    CommandAppend, CommandMark,
    CountByName, EventStore, LogFilter, SnapshotRecord, StoreError, StoreLimits, StoreStatistics, StoreUrl,
    StreamRange,
};
use cairn_event::{AppendRequest, RecordedEvent, StreamId};
use cairn_event::json::JsonText;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub struct PostgresStore {
    pool: PgPool,
    limits: StoreLimits,
    head: HeadWatch,
    notifications: notifications::Notifications,
    appends: tokio::sync::mpsc::Sender<crate::append_queue::PendingAppend>,
}

impl PostgresStore {
    /// The pool this store uses, for tools (such as the benchmark's raw
    /// baseline) that must see the database exactly as it does.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn open(url: &StoreUrl, store_options: &crate::StoreOptions) -> Result<Self, StoreError> {
        let limits = store_options.limits.clone();
        let StoreUrl::Postgres { url: connect_url, schema } = url else {
            return Err(StoreError::BadUrl(format!("{url} is not a PostgreSQL URL")));
        };
        let location = url.redacted();
        let unreachable = |error: sqlx::Error| StoreError::Unreachable {
            url: location.clone(),
            reason: format!("{error}; check that PostgreSQL runs there and the URL is right"),
        };
        let mut options = PgConnectOptions::from_str(connect_url)
            .map_err(|error| StoreError::BadUrl(format!("store URL {location} is malformed: {error}")))?
            .log_statements(tracing::log::LevelFilter::Trace);
        // One direct connection first: a pool would report a refused
        // connection only as a timeout, hiding the reason.
        let mut connection = options.connect().await.map_err(unreachable)?;
        // Processes opening one new store at once take turns: one creates
        // the schema and the tables while the others wait, then find them
        // made. Migrations run on this connection, without the statement
        // timeout: building an index on a long log may take longer than any
        // request.
        let lock_key = format!("cairn_open:{}", schema.as_deref().unwrap_or(""));
        sqlx::query("SELECT pg_advisory_lock(hashtextextended($1, 0))").bind(&lock_key).execute(&mut connection).await?;
        if let Some(schema) = schema {
            check_schema_name(schema)?;
            sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"")).execute(&mut connection).await?;
            sqlx::query(&format!("SET search_path TO \"{schema}\"")).execute(&mut connection).await?;
            options = options.options([("search_path", schema.as_str())]);
        }
        check_is_cairn_store(&mut connection, &location).await?;
        MIGRATOR.run(&mut connection).await?;
        sqlx::query("SELECT pg_advisory_unlock(hashtextextended($1, 0))").bind(&lock_key).execute(&mut connection).await?;
        drop(connection);
        let milliseconds = |duration: Duration| format!("{}ms", duration.as_millis().max(1));
        let options = options.options([
            ("lock_timeout", milliseconds(store_options.lock_timeout).as_str()),
            ("statement_timeout", milliseconds(store_options.statement_timeout).as_str()),
            ("synchronous_commit", if store_options.durability == crate::Durability::Full { "on" } else { "off" }),
        ]);
        // No ping before each use of a pooled connection: it doubled the
        // round trips of every statement. A connection that broke while idle
        // fails the one statement that meets it and leaves the pool, and
        // every caller already handles a failed statement.
        let listen_options = options.clone();
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(unreachable)?;
        let head: i64 = sqlx::query_scalar(include_str!("../../queries/postgres/head_position.sql"))
            .fetch_one(&pool)
            .await?;
        let head = HeadWatch::new(head as u64);
        let notifications = notifications::Notifications::new(listen_options, schema.as_deref(), head.clone());
        let notify_channel = notifications.events_channel().to_owned();
        let appends = group_commit::GroupWriter { pool: pool.clone(), notify_channel, head: head.clone(), memory: Default::default() }.spawn();
        Ok(Self { pool, limits, head, notifications, appends })
    }

    /// The channel registry changes are announced on.
    pub(super) fn registry_channel(&self) -> &str {
        self.notifications.registry_channel()
    }

    /// The channel leases let go are announced on.
    pub(super) fn lease_channel(&self) -> &str {
        self.notifications.lease_channel()
    }
}

fn check_schema_name(schema: &str) -> Result<(), StoreError> {
    let valid = !schema.is_empty()
        && schema.len() <= 63
        && schema.chars().all(|character| character.is_ascii_lowercase() || character.is_ascii_digit() || character == '_');
    if valid {
        Ok(())
    } else {
        Err(StoreError::BadUrl(format!(
            "schema `{schema}` is not allowed; use 1 to 63 lowercase letters, digits or underscores"
        )))
    }
}

async fn check_is_cairn_store(pool: &mut sqlx::PgConnection, location: &str) -> Result<(), StoreError> {
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()")
            .fetch_all(&mut *pool)
            .await?;
    let has_migrations = tables.iter().any(|table| table == "_sqlx_migrations");
    if has_migrations && !tables.iter().any(|table| table == "cairn_events") {
        return Err(StoreError::NotACairnStore {
            location: location.to_owned(),
            reason: "its schema holds another application's migrations; add ?schema=NAME to the URL to use a schema of its own".to_owned(),
        });
    }
    if has_migrations {
        let found: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations").fetch_one(&mut *pool).await?;
        let known = MIGRATOR.iter().map(|migration| migration.version).max().unwrap_or(0);
        if let Some(found) = found.filter(|found| *found > known) {
            return Err(StoreError::NewerSchema { location: location.to_owned(), found, known });
        }
    }
    Ok(())
}

fn decode_row(row: &PgRow) -> Result<RecordedEvent, StoreError> {
    Ok(RecordedEvent {
        global_position: row.try_get::<i64, _>(0)? as u64,
        id: row.try_get(1)?,
        aggregate_type: row.try_get(2)?,
        aggregate_id: row.try_get(3)?,
        stream_version: row.try_get::<i64, _>(4)? as u64,
        event_type: row.try_get(5)?,
        schema_version: row.try_get(6)?,
        timestamp: row.try_get(7)?,
        recorded_at: row.try_get(8)?,
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

/// Column arrays for the UNNEST insert.
#[derive(Default)]
struct InsertColumns<'a> {
    positions: Vec<i64>,
    ids: Vec<Uuid>,
    aggregate_types: Vec<&'a str>,
    aggregate_ids: Vec<&'a str>,
    stream_versions: Vec<i64>,
    event_types: Vec<&'a str>,
    schema_versions: Vec<&'a str>,
    timestamps: Vec<DateTime<Utc>>,
    recorded_ats: Vec<DateTime<Utc>>,
    payloads: Vec<&'a str>,
    metadatas: Vec<&'a str>,
    correlation_ids: Vec<Option<&'a str>>,
    causation_ids: Vec<Option<&'a str>>,
    user_ids: Vec<Option<&'a str>>,
    sources: Vec<Option<&'a str>>,
}

impl<'a> InsertColumns<'a> {
    fn of(rows: &'a [RecordedEvent]) -> Self {
        let mut columns = Self::default();
        for row in rows {
            columns.positions.push(row.global_position as i64);
            columns.ids.push(row.id);
            columns.aggregate_types.push(&row.aggregate_type);
            columns.aggregate_ids.push(&row.aggregate_id);
            columns.stream_versions.push(row.stream_version as i64);
            columns.event_types.push(&row.event_type);
            columns.schema_versions.push(&row.schema_version);
            columns.timestamps.push(row.timestamp);
            columns.recorded_ats.push(row.recorded_at);
            columns.payloads.push(row.payload.as_str());
            columns.metadatas.push(row.metadata.as_str());
            columns.correlation_ids.push(row.correlation_id.as_deref());
            columns.causation_ids.push(row.causation_id.as_deref());
            columns.user_ids.push(row.user_id.as_deref());
            columns.sources.push(row.source.as_deref());
        }
        columns
    }
}

impl<'a> InsertColumns<'a> {
    /// Binds the fifteen column arrays, in the order of the insert's UNNEST.
    fn bind(&'a self, query: sqlx::query::Query<'a, sqlx::Postgres, sqlx::postgres::PgArguments>) -> sqlx::query::Query<'a, sqlx::Postgres, sqlx::postgres::PgArguments> {
        query
            .bind(&self.positions)
            .bind(&self.ids)
            .bind(&self.aggregate_types)
            .bind(&self.aggregate_ids)
            .bind(&self.stream_versions)
            .bind(&self.event_types)
            .bind(&self.schema_versions)
            .bind(&self.timestamps)
            .bind(&self.recorded_ats)
            .bind(&self.payloads)
            .bind(&self.metadatas)
            .bind(&self.correlation_ids)
            .bind(&self.causation_ids)
            .bind(&self.user_ids)
            .bind(&self.sources)
    }
}

#[async_trait]
impl EventStore for PostgresStore {
    async fn append_recorded(&self, request: AppendRequest, command: Option<CommandMark>) -> Result<CommandAppend, StoreError> {
        crate::append_queue::submit(&self.limits, "the PostgreSQL store", request, command, |append| async move { self.appends.send(append).await.is_ok() }).await
    }

    async fn read_stream(&self, stream: &StreamId, range: &StreamRange) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(include_str!("../../queries/postgres/read_stream.sql"))
            .bind(&stream.aggregate_type)
            .bind(&stream.aggregate_id)
            .bind(to_sql_integer(range.from_version.unwrap_or(1)))
            .bind(to_sql_integer(range.to_version.unwrap_or(u64::MAX)))
            .bind(range.limit.map(|limit| limit as i64))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(decode_row).collect()
    }

    async fn snapshots_and_events_after(
        &self,
        stream: &StreamId,
        at_or_below: u64,
        limit: usize,
        to_version: Option<u64>,
    ) -> Result<(Vec<SnapshotRecord>, Vec<RecordedEvent>), StoreError> {
        let rows = sqlx::query(include_str!("../../queries/postgres/snapshots_and_events_after.sql"))
            .bind(&stream.aggregate_type)
            .bind(&stream.aggregate_id)
            .bind(to_sql_integer(at_or_below))
            .bind(limit as i64)
            .bind(to_sql_integer(to_version.unwrap_or(u64::MAX)))
            .fetch_all(&self.pool)
            .await?;
        snapshots::decode_load_rows(stream, &rows)
    }

    async fn read_log(
        &self,
        filter: &LogFilter,
        after_position: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let (predicates, arguments) = filter_predicates(filter, 3);
        let sql = include_str!("../../queries/postgres/read_log.sql").replace("/* filter */", &predicates);
        let mut query = sqlx::query(&sql).bind(to_sql_integer(after_position)).bind(limit as i64);
        for argument in arguments {
            query = match argument {
                FilterArgument::Text(text) => query.bind(text),
                FilterArgument::Position(position) => query.bind(position),
                FilterArgument::Time(instant) => query.bind(instant),
            };
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(decode_row).collect()
    }

    async fn event_by_id(&self, id: Uuid) -> Result<Option<RecordedEvent>, StoreError> {
        let row = sqlx::query(include_str!("../../queries/postgres/event_by_id.sql"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(decode_row).transpose()
    }

    async fn stream_version(&self, stream: &StreamId) -> Result<u64, StoreError> {
        let version: i64 = sqlx::query_scalar(include_str!("../../queries/postgres/stream_version.sql"))
            .bind(&stream.aggregate_type)
            .bind(&stream.aggregate_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(version as u64)
    }

    async fn first_version_after(
        &self,
        stream: &StreamId,
        instant: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<u64>, StoreError> {
        let version: Option<i64> = sqlx::query_scalar(include_str!("../../queries/postgres/first_version_after.sql"))
            .bind(&stream.aggregate_type)
            .bind(&stream.aggregate_id)
            .bind(instant)
            .fetch_one(&self.pool)
            .await?;
        Ok(version.map(|version| version as u64))
    }

    async fn streams_of_type(
        &self,
        aggregate_type: &str,
        after_id: &str,
        limit: usize,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(include_str!("../../queries/postgres/streams_of_type.sql"))
            .bind(aggregate_type)
            .bind(after_id)
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|(id, version)| (id, version as u64)).collect())
    }

    async fn count_by_type_and_version(&self) -> Result<Vec<(String, String, u64)>, StoreError> {
        let rows: Vec<(String, String, i64)> =
            sqlx::query_as(include_str!("../../queries/postgres/count_by_type_and_version.sql")).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|(event_type, version, count)| (event_type, version, count as u64)).collect())
    }

    async fn head_position(&self) -> Result<u64, StoreError> {
        let head: i64 = sqlx::query_scalar(include_str!("../../queries/postgres/head_position.sql"))
            .fetch_one(&self.pool)
            .await?;
        Ok(head as u64)
    }

    fn registry_notices(&self) -> Option<crate::RegistryNotices> {
        Some(self.notifications.registry_notices())
    }

    fn lease_notices(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        Some(self.notifications.lease_notices())
    }

    async fn wait_for_new_events(&self, after_position: u64, max_wait: Duration) {
        self.notifications.ensure_started();
        self.head.wait_beyond(after_position, max_wait).await;
    }

    async fn statistics(&self) -> Result<StoreStatistics, StoreError> {
        let summary = sqlx::query(include_str!("../../queries/postgres/summary.sql")).fetch_one(&self.pool).await?;
        let size: i64 = sqlx::query_scalar(include_str!("../../queries/postgres/store_size.sql"))
            .fetch_one(&self.pool)
            .await?;
        Ok(StoreStatistics {
            total_events: summary.try_get::<i64, _>(0)? as u64,
            total_streams: summary.try_get::<i64, _>(1)? as u64,
            last_global_position: summary.try_get::<i64, _>(2)? as u64,
            first_event_timestamp: summary.try_get(3)?,
            latest_event_timestamp: summary.try_get(4)?,
            events_by_type: count_by_name(&self.pool, include_str!("../../queries/postgres/count_by_event_type.sql")).await?,
            events_by_aggregate_type: count_by_name(
                &self.pool,
                include_str!("../../queries/postgres/count_by_aggregate_type.sql"),
            )
            .await?,
            store_size_bytes: size as u64,
            backend: "postgres",
            durability: match sqlx::query_scalar::<_, String>("SHOW synchronous_commit").fetch_one(&self.pool).await?.as_str() {
                "off" | "local" => "normal",
                _ => "full",
            }
            .to_owned(),
        })
    }

    fn backend_name(&self) -> &'static str {
        "postgres"
    }

    fn limits(&self) -> &StoreLimits {
        &self.limits
    }
}

async fn count_by_name(pool: &PgPool, sql: &'static str) -> Result<Vec<CountByName>, StoreError> {
    let rows: Vec<(String, i64)> = sqlx::query_as(sql).fetch_all(pool).await?;
    Ok(rows.into_iter().map(|(name, count)| CountByName { name, count: count as u64 }).collect())
}

//! The engine-limit rows of `cairn bench commands`: the least any event
//! store must do for workloads A and B, done by the backend driven
//! directly in the same run, so that Cairn's and cqrs-es's rates read as
//! shares of what the engine allows one command at a time.
//! - A command: one single-row INSERT of the command's event into a table
//!   with the event log's columns and secondary indexes (`cairn_bench_raw`),
//!   committed on its own at the durability both frameworks run with.
//! - A cold load: one read of a whole stream, every column, in version order.
//!
//! Neither reads state, runs rules, checks a version or moves a log head,
//! so no framework on that engine beats them: a goal above these rates is
//! out of reach, whatever the framework does.

use std::time::Instant;

use cairn::event::RecordedEvent;
use cairn::json::JsonText;
use cairn::store::{Durability, PostgresStore, SqliteStore, StoreOptions, StoreUrl};
use cairn_bench_peer::AccountCommand;
use sqlx::Row;

use super::{workload_a, with_parameter, Backend, CommandBenchConfig, RunPlace};
use crate::{events_per_second, store_engine};

#[derive(Clone, Copy, Default)]
pub(super) struct EngineFigures {
    pub commands_per_second: f64,
    pub cold_loads_per_second: f64,
}

pub(super) async fn measure(config: &CommandBenchConfig, place: &RunPlace<'_>) -> anyhow::Result<EngineFigures> {
    let events = workload_events(config);
    let streams: Vec<String> = (0..config.accounts).map(|account| format!("acc-{account}")).collect();
    match place.backend {
        Backend::Sqlite => {
            let path = place.scratch.join(format!("engine-{}.db", place.run));
            let figures = measure_sqlite(&path, events, streams).await;
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            figures
        }
        Backend::Postgres(url) => {
            let schema = place.schema("engine");
            let figures = measure_postgres(&with_parameter(url, &format!("schema={schema}")), events, &streams).await;
            cairn_bench_peer::drop_postgres_schema(url, &schema).await?;
            figures
        }
    }
}

/// SQLite at `normal` durability, as both frameworks run it here.
async fn measure_sqlite(path: &std::path::Path, events: Vec<RecordedEvent>, streams: Vec<String>) -> anyhow::Result<EngineFigures> {
    let options = StoreOptions { durability: Durability::Normal, ..StoreOptions::default() };
    let store = SqliteStore::open(path, &options).await?;
    let connection = store.engine_connection(Durability::Normal)?;
    let figures = store_engine::blocking(move || {
        store_engine::sqlite_create_table(&connection, true)?;
        let mut insert = connection.prepare_cached(include_str!("../../queries/sqlite/bench_raw_insert_one.sql"))?;
        let started = Instant::now();
        for event in &events {
            // Outside a transaction, each INSERT commits on its own.
            store_engine::sqlite_insert_row(&mut insert, event)?;
        }
        let commands = events_per_second(events.len() as u64, started.elapsed());
        let mut read = connection.prepare_cached(include_str!("../../queries/sqlite/bench_raw_stream.sql"))?;
        let (started, mut bytes) = (Instant::now(), 0usize);
        for stream in &streams {
            let mut rows = read.query(rusqlite::params!["bank-account", stream])?;
            while let Some(row) = rows.next()? {
                for column in 0..15 {
                    bytes += match row.get_ref(column)? {
                        rusqlite::types::ValueRef::Text(text) | rusqlite::types::ValueRef::Blob(text) => text.len(),
                        _ => 8,
                    };
                }
            }
        }
        std::hint::black_box(bytes);
        Ok(EngineFigures { commands_per_second: commands, cold_loads_per_second: events_per_second(streams.len() as u64, started.elapsed()) })
    })
    .await?;
    drop(store);
    Ok(figures)
}

/// PostgreSQL with every commit synchronous, as both frameworks run it.
async fn measure_postgres(url: &str, events: Vec<RecordedEvent>, streams: &[String]) -> anyhow::Result<EngineFigures> {
    let store = PostgresStore::open(&StoreUrl::parse(url)?, &StoreOptions::default()).await?;
    store_engine::postgres_create_table(store.pool(), true).await?;
    let mut connection = store.pool().acquire().await?;
    let started = Instant::now();
    for event in &events {
        sqlx::query(include_str!("../../queries/postgres/bench_raw_insert_one.sql"))
            .bind(event.global_position as i64)
            .bind(event.id)
            .bind(&event.aggregate_type)
            .bind(&event.aggregate_id)
            .bind(event.stream_version as i64)
            .bind(&event.event_type)
            .bind(&event.schema_version)
            .bind(event.timestamp)
            .bind(event.recorded_at)
            .bind(event.payload.as_str())
            .bind(event.metadata.as_str())
            .bind(&event.correlation_id)
            .bind(&event.causation_id)
            .bind(&event.user_id)
            .bind(&event.source)
            .execute(&mut *connection)
            .await?;
    }
    let commands = events_per_second(events.len() as u64, started.elapsed());
    let (started, mut bytes) = (Instant::now(), 0usize);
    for stream in streams {
        let rows = sqlx::query(include_str!("../../queries/postgres/bench_raw_stream.sql")).bind("bank-account").bind(stream).fetch_all(&mut *connection).await?;
        for row in &rows {
            let texts: (&str, &str, &str, &str, &str, &str) = (row.try_get(2)?, row.try_get(3)?, row.try_get(5)?, row.try_get(6)?, row.try_get(9)?, row.try_get(10)?);
            bytes += texts.0.len() + texts.1.len() + texts.2.len() + texts.3.len() + texts.4.len() + texts.5.len();
        }
    }
    std::hint::black_box(bytes);
    Ok(EngineFigures { commands_per_second: commands, cold_loads_per_second: events_per_second(streams.len() as u64, started.elapsed()) })
}

/// The event each command of workload A records, shaped as Cairn records
/// it (ids, times, correlation and causation, source).
fn workload_events(config: &CommandBenchConfig) -> Vec<RecordedEvent> {
    let now = chrono::Utc::now();
    workload_a(config.accounts, config.deposits)
        .enumerate()
        .map(|(index, (account, command))| {
            let (event_type, payload) = match command {
                AccountCommand::Open { owner } => ("AccountOpened", serde_json::json!({ "owner": owner })),
                AccountCommand::Deposit { amount } => ("MoneyDeposited", serde_json::json!({ "amount": amount })),
                other => unreachable!("workload A has no {other:?}"),
            };
            RecordedEvent {
                id: uuid::Uuid::now_v7(),
                global_position: index as u64 + 1,
                aggregate_type: "bank-account".to_owned(),
                aggregate_id: account,
                stream_version: (index / config.accounts) as u64 + 1,
                event_type: event_type.to_owned(),
                schema_version: "1.0".to_owned(),
                timestamp: now,
                recorded_at: now,
                payload: JsonText::parse(payload.to_string()).expect("a JSON value prints as JSON"),
                metadata: JsonText::parse("{}".to_owned()).expect("{} is JSON"),
                correlation_id: Some(uuid::Uuid::now_v7().to_string()),
                causation_id: Some(uuid::Uuid::now_v7().to_string()),
                user_id: None,
                source: Some("bank-account@1".to_owned()),
            }
        })
        .collect()
}

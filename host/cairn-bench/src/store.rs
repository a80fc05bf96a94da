//! `cairn bench store`: append and read throughput of the event store
//! against the engine itself (`store_engine.rs`) writing and reading the
//! same rows, and many writers against one.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::store_engine;
use super::{events_per_second, format_latency, format_rate, quantile, resident_bytes, BenchReport, BenchRow};
use cairn::event::{AppendRequest, ExpectedVersion, NewEvent, RecordedEvent, StreamId};
use cairn::json::JsonText;
use cairn::store::{Durability, EventStore, LogFilter, PostgresStore, SqliteStore, StoreError, StoreOptions, StoreUrl};

pub struct StoreBenchConfig {
    /// Picks the backend; the benchmark itself runs in a throwaway store beside it.
    pub store_url: StoreUrl,
    pub events: u64,
    pub single_appends: usize,
}

const EVENTS_PER_APPEND: usize = 100;
const STREAMS_PER_APPEND: usize = 10;
const READ_PAGE: usize = 10_000;

/// Single-event appends each concurrent writer makes in the writers rows.
const APPENDS_PER_WRITER: usize = 250;
/// Concurrent writers of the many-writers row.
const WRITERS: usize = 8;

/// A store that exists only for the run and is removed afterwards, opened
/// twice: with full durability (the default), and with normal.
enum ThrowawayStore {
    Sqlite { store: SqliteStore, normal: SqliteStore, path: PathBuf },
    Postgres { store: PostgresStore, normal: PostgresStore, schema: String },
}

impl ThrowawayStore {
    async fn create(url: &StoreUrl) -> Result<Self, StoreError> {
        let run = Uuid::now_v7().simple().to_string();
        let normal = StoreOptions { durability: Durability::Normal, ..StoreOptions::default() };
        match url {
            StoreUrl::Sqlite { path } => {
                let directory = path.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new("."));
                let path = directory.join(format!(".cairn-bench-{run}.db"));
                let store = SqliteStore::open(&path, &StoreOptions::default()).await?;
                let normal = SqliteStore::open(&path, &normal).await?;
                Ok(ThrowawayStore::Sqlite { store, normal, path })
            }
            StoreUrl::Postgres { url, .. } => {
                let schema = format!("cairn_bench_{run}");
                let bench_url = StoreUrl::Postgres { url: url.clone(), schema: Some(schema.clone()) };
                let store = PostgresStore::open(&bench_url, &StoreOptions::default()).await?;
                let normal = PostgresStore::open(&bench_url, &normal).await?;
                Ok(ThrowawayStore::Postgres { store, normal, schema })
            }
        }
    }

    fn store(&self) -> &dyn EventStore {
        match self {
            ThrowawayStore::Sqlite { store, .. } => store,
            ThrowawayStore::Postgres { store, .. } => store,
        }
    }

    fn normal_store(&self) -> &dyn EventStore {
        match self {
            ThrowawayStore::Sqlite { normal, .. } => normal,
            ThrowawayStore::Postgres { normal, .. } => normal,
        }
    }

    async fn remove(self) {
        match self {
            ThrowawayStore::Sqlite { store, normal, path } => {
                drop((store, normal));
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            ThrowawayStore::Postgres { store, normal, schema } => {
                drop(normal);
                let _ = sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE")).execute(store.pool()).await;
            }
        }
    }

    /// The engine-limit insert of the rows the store will hold, committed
    /// with `durability`.
    async fn engine_insert(&self, appends: u64, with_indexes: bool, durability: Durability) -> Result<Duration, StoreError> {
        let batches: Vec<Vec<RecordedEvent>> = (0..appends).map(baseline_batch).collect();
        match self {
            ThrowawayStore::Sqlite { store, .. } => store_engine::sqlite_insert(store, batches, with_indexes, durability).await,
            ThrowawayStore::Postgres { store, normal, .. } => {
                let store = if durability == Durability::Full { store } else { normal };
                store_engine::postgres_insert(store, batches, with_indexes).await
            }
        }
    }

    async fn engine_scan(&self) -> Result<(u64, Duration), StoreError> {
        match self {
            ThrowawayStore::Sqlite { store, .. } => store_engine::sqlite_scan(store).await,
            ThrowawayStore::Postgres { store, .. } => store_engine::postgres_scan(store).await,
        }
    }
}

fn bench_event(stream_index: u64, sequence: u64) -> NewEvent {
    let payload = format!(
        r#"{{"account_id":"acc-{stream_index}","amount":{},"currency":"EUR","note":"bench event {sequence}"}}"#,
        (sequence * 37) % 10_000
    );
    let mut event = NewEvent::new(
        "account",
        format!("acc-{stream_index}"),
        if sequence.is_multiple_of(3) { "Deposited" } else { "Withdrew" },
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
    let bare_insert_rate = events_per_second(total_events, throwaway.engine_insert(appends, false, Durability::Full).await?);
    let engine_insert_rate = events_per_second(total_events, throwaway.engine_insert(appends, true, Durability::Full).await?);
    let batch_rate = events_per_second(total_events, time_batch_appends(store, 0..appends).await?);
    let engine_normal_rate = events_per_second(total_events, throwaway.engine_insert(appends, true, Durability::Normal).await?);
    let batch_normal_rate = events_per_second(total_events, time_batch_appends(throwaway.normal_store(), appends..2 * appends).await?);
    let mut full = time_single_appends(store, "full", config.single_appends).await?;
    let mut normal = time_single_appends(throwaway.normal_store(), "normal", config.single_appends).await?;
    let one_writer = time_writers(store, 1).await?;
    let mut many_writers = time_writers(store, WRITERS).await?;
    let (scanned, scan_time) = throwaway.engine_scan().await?;
    let scan_rate = events_per_second(scanned, scan_time);
    let memory_before_read = resident_bytes();
    let (read, read_time, peak_memory) = time_read_all(store).await?;
    let read_rate = events_per_second(read, read_time);
    let engine = match throwaway {
        ThrowawayStore::Sqlite { .. } => ("rusqlite, a prepared single-row INSERT per row", "rusqlite, one SELECT stepped to the end"),
        ThrowawayStore::Postgres { .. } => ("COPY FROM STDIN", "a server-side cursor, FETCH 10,000"),
    };
    let megabytes = |bytes: Option<u64>| bytes.map(|bytes| format!("{:.1} MiB", bytes as f64 / 1048576.0)).unwrap_or_default();
    let rows = vec![
        BenchRow::new(format!("engine insert without indexes ({}; 100 rows per transaction)", engine.0), format_rate(bare_insert_rate), ""),
        BenchRow::new("engine insert with the log's 5 secondary indexes (the engine limit)", format_rate(engine_insert_rate), "1.00x"),
        BenchRow::new("batch append (100 events over 10 streams per append)", format_rate(batch_rate), format!("{:.2}x of the engine limit", batch_rate / engine_insert_rate)),
        BenchRow::new("engine limit, durability normal", format_rate(engine_normal_rate), "1.00x"),
        BenchRow::new("batch append, durability normal", format_rate(batch_normal_rate), format!("{:.2}x of the engine limit, durability normal", batch_normal_rate / engine_normal_rate)),
        BenchRow::new("single-event append p50, durability full", format_latency(quantile(&mut full, 0.50)), format!("{} appends", full.len())),
        BenchRow::new("single-event append p99, durability full", format_latency(quantile(&mut full, 0.99)), ""),
        BenchRow::new("single-event append p50, durability normal", format_latency(quantile(&mut normal, 0.50)), format!("{} appends", normal.len())),
        BenchRow::new("single-event append p99, durability normal", format_latency(quantile(&mut normal, 0.99)), ""),
        BenchRow::new("1 writer of single-event appends", format_rate(one_writer.rate), "1.00x"),
        BenchRow::new(
            format!("{WRITERS} concurrent writers of single-event appends"),
            format_rate(many_writers.rate),
            format!("{:.2}x of 1 writer; p99 {}", many_writers.rate / one_writer.rate, format_latency(quantile(&mut many_writers.latencies, 0.99))),
        ),
        BenchRow::new(format!("engine scan ({})", engine.1), format_rate(scan_rate), "1.00x"),
        BenchRow::new("read-all (pages of 10,000)", format_rate(read_rate), format!("{:.2}x of the engine scan", read_rate / scan_rate)),
        BenchRow::new("resident memory during read-all", format!("{} before, {} peak", megabytes(memory_before_read), megabytes(peak_memory)), ""),
    ];
    Ok(BenchReport { title: format!("cairn bench store: {} backend, {total_events} events", store.backend_name()), rows })
}

/// What a set of concurrent writers achieved.
struct WritersRun {
    rate: f64,
    latencies: Vec<Duration>,
}

/// `writers` tasks, each appending [`APPENDS_PER_WRITER`] single events to
/// a stream of its own, each append expecting the version before it.
async fn time_writers(store: &dyn EventStore, writers: usize) -> Result<WritersRun, StoreError> {
    let run = Uuid::now_v7().simple().to_string();
    let started = Instant::now();
    let tasks = (0..writers).map(|writer| {
        let stream = format!("writer-{run}-{writer}");
        async move {
            let mut latencies = Vec::with_capacity(APPENDS_PER_WRITER);
            for version in 0..APPENDS_PER_WRITER as u64 {
                let mut event = bench_event(0, version);
                event.aggregate_id = stream.clone();
                let appended = Instant::now();
                store.append(AppendRequest::to_stream(ExpectedVersion::Exact(version), vec![event])).await?;
                latencies.push(appended.elapsed());
            }
            Ok::<_, StoreError>(latencies)
        }
    });
    let latencies: Vec<Duration> = futures::future::try_join_all(tasks).await?.into_iter().flatten().collect();
    Ok(WritersRun { rate: events_per_second(latencies.len() as u64, started.elapsed()), latencies })
}

/// Requests are built outside the timed section for the store as they are
/// for the baseline, a slice at a time to keep memory bounded.
async fn time_batch_appends(store: &dyn EventStore, appends: std::ops::Range<u64>) -> Result<Duration, StoreError> {
    let mut batch_time = Duration::ZERO;
    for first in appends.clone().step_by(1_000) {
        let requests: Vec<AppendRequest> = (first..(first + 1_000).min(appends.end)).map(batch_request).collect();
        let started = Instant::now();
        for request in requests {
            store.append(request).await?;
        }
        batch_time += started.elapsed();
    }
    Ok(batch_time)
}

async fn time_single_appends(store: &dyn EventStore, label: &str, count: usize) -> Result<Vec<Duration>, StoreError> {
    let mut latencies = Vec::with_capacity(count);
    for index in 0..count {
        let stream = StreamId::new("account", format!("{label}-{}", index % 100));
        let version = store.stream_version(&stream).await?;
        let mut event = bench_event(index as u64 % 100, version);
        event.aggregate_id = stream.aggregate_id.clone();
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

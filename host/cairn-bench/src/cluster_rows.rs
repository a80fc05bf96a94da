//! The command and publisher rows of `cairn bench cluster`, and the
//! engine-side measures they stand beside.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::cluster::{command_load, next_position, rate_cell, ClusterBenchConfig};
use super::{format_latency, format_rate, BenchRow};
use cairn::event::{AppendRequest, NewEvent};
use cairn::json::JsonText;
use cairn::store::{EventStore, PostgresStore, StoreOptions, StoreUrl};

/// Commands with one host and with three, beside `clients` connections
/// committing single-row INSERTs into a table with the log's columns.
pub(super) async fn commands(config: &ClusterBenchConfig, store_url: &str, one: &[super::cluster::Host], three: &[super::cluster::Host], duration: Duration) -> anyhow::Result<Vec<BenchRow>> {
    let engine = engine_inserts(store_url, config.clients, duration).await?;
    let single = command_load(one, config.clients, duration, "one").await?;
    let spread = command_load(three, config.clients, duration, "three").await?;
    let versus = |rate: f64| format!("{:.2}× the engine", rate / engine.max(1e-9));
    Ok(vec![
        BenchRow::new(format!("engine: {} connections committing single-row INSERTs", config.clients), format!("{}/s", format_rate(engine).replace(" events/s", "")), "baseline"),
        BenchRow::new(format!("POST /commands to 1 host, {} clients: rate / p99", config.clients), format!("{} / {}", rate_cell(single.completed, single.elapsed), format_latency(single.quantile(0.99))), versus(single.rate())),
        BenchRow::new(
            format!("POST /commands spread over 3 hosts, {} clients: rate / p99", config.clients),
            format!("{} / {}", rate_cell(spread.completed, spread.elapsed), format_latency(spread.quantile(0.99))),
            format!("{}; {:.2}× one host", versus(spread.rate()), spread.rate() / single.rate().max(1e-9)),
        ),
    ])
}

async fn engine_inserts(store_url: &str, clients: usize, duration: Duration) -> anyhow::Result<f64> {
    let store = PostgresStore::open(&StoreUrl::parse(store_url)?, &StoreOptions::default()).await?;
    super::store_engine::postgres_create_table(store.pool(), true).await?;
    let (pool, positions) = (store.pool().clone(), Arc::new(AtomicU64::new(0)));
    let payload = JsonText::parse(r#"{"amount":1}"#)?;
    let load = super::http::load(clients, duration, move |client, _| {
        let (pool, positions, payload) = (pool.clone(), positions.clone(), payload.clone());
        async move {
            let position = next_position(&positions) as i64;
            sqlx::query(include_str!("../queries/postgres/bench_raw_insert_one.sql"))
                .bind(position)
                .bind(uuid::Uuid::now_v7())
                .bind("bank-account")
                .bind(format!("engine-{client}"))
                .bind(position)
                .bind("MoneyDeposited")
                .bind("1.0")
                .bind(chrono::Utc::now())
                .bind(chrono::Utc::now())
                .bind(payload.as_str())
                .bind("{}")
                .bind(None::<String>)
                .bind(None::<String>)
                .bind(None::<String>)
                .bind(None::<String>)
                .execute(&pool)
                .await
                .is_ok()
        }
    })
    .await;
    Ok(load.rate())
}

/// NOTIFY sent on one connection until a LISTEN connection hears it.
pub(super) async fn notify_round_trips(postgres_url: &str, rounds: usize) -> anyhow::Result<Vec<Duration>> {
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(2).connect(postgres_url).await?;
    let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
    let channel = format!("cairn_bench_{}", uuid::Uuid::now_v7().simple());
    listener.listen(&channel).await?;
    let mut samples = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        sqlx::query("SELECT pg_notify($1, '')").bind(&channel).execute(&pool).await?;
        listener.recv().await?;
        samples.push(started.elapsed());
    }
    Ok(samples)
}

/// A backlog published by the publisher, beside the same number of
/// messages of the same size published with async-nats directly.
pub(super) async fn publisher(config: &ClusterBenchConfig, store: &Arc<dyn EventStore>) -> anyhow::Result<Vec<BenchRow>> {
    let unique = uuid::Uuid::now_v7().simple().to_string();
    let events: Vec<NewEvent> = (0..config.backlog).map(|index| NewEvent::new("published", format!("p-{}", index % 500), "Happened", JsonText::parse(format!(r#"{{"n":{index}}}"#)).expect("built JSON"))).collect();
    for chunk in events.chunks(10_000) {
        store.append(AppendRequest { events: chunk.to_vec(), expectations: vec![] }).await?;
    }
    let sample = store.read_log(&Default::default(), store.head_position().await? - 1, 1).await?.remove(0);
    let size = serde_json::to_vec(&sample)?.len();
    let client = async_nats::connect(&config.nats_url).await.map_err(|error| anyhow::anyhow!("cannot reach NATS at {}: {error}", config.nats_url))?;
    let jetstream = async_nats::jetstream::new(client);
    let direct = direct_publish(&jetstream, &format!("CAIRN_BENCH_DIRECT_{unique}"), &format!("bd{unique}"), config.backlog, size).await?;

    let stream = format!("CAIRN_BENCH_{unique}");
    let options = cairn::publish::PublishOptions {
        nats_url: config.nats_url.clone(),
        stream: stream.clone(),
        subject_prefix: format!("b{unique}"),
        filter: cairn::store::LogFilter { aggregate_types: vec!["published".to_owned()], ..Default::default() },
    };
    let member = Arc::new(cairn::cluster::ClusterMember::new(store.clone(), "bench-publisher", Duration::from_secs(5)));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let head = store.head_position().await?;
    let started = Instant::now();
    let task = tokio::spawn(cairn::publish::run_publisher(store.clone(), member, options, stopped));
    let name = cairn::publish::publisher_name(&stream);
    while store.checkpoint(&name).await?.is_none_or(|checkpoint| checkpoint.position < head) {
        anyhow::ensure!(!task.is_finished(), "the publisher stopped early");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let published = started.elapsed();
    // Lag: one event appended to a caught-up publisher until its checkpoint
    // passes it (acknowledged by JetStream and committed).
    let mut lags = Vec::with_capacity(LAG_SAMPLES);
    for index in 0..LAG_SAMPLES {
        let event = NewEvent::new("published", "lag", "Happened", JsonText::parse(format!(r#"{{"n":{index}}}"#))?);
        let appended = Instant::now();
        let position = store.append(AppendRequest { events: vec![event], expectations: vec![] }).await?.events[0].global_position;
        while store.checkpoint(&name).await?.is_none_or(|checkpoint| checkpoint.position < position) {
            anyhow::ensure!(appended.elapsed() < Duration::from_secs(30), "the publisher never passed position {position}");
        }
        lags.push(appended.elapsed());
    }
    stop.send_replace(true);
    task.await??;
    jetstream.delete_stream(&stream).await.ok();
    let rate = |elapsed: Duration| config.backlog as f64 / elapsed.as_secs_f64().max(1e-9);
    let mut round_trips = single_round_trips(&jetstream, &unique, size).await?;
    let (round_trip, lag) = (super::quantile(&mut round_trips, 0.5), super::quantile(&mut lags, 0.5));
    Ok(vec![
        BenchRow::new(format!("engine: one message published to JetStream directly until acknowledged, p50 of {LAG_SAMPLES}"), format_latency(round_trip), "baseline"),
        BenchRow::new(format!("the publisher's lag: one event appended until acknowledged and checkpointed, p50 of {LAG_SAMPLES}"), format_latency(lag), format!("{:.1}× the round trip", lag.as_secs_f64() / round_trip.as_secs_f64().max(1e-9))),
        BenchRow::new(format!("engine: {} messages of {size} bytes published to JetStream directly, 1,000 acks outstanding", config.backlog), format_rate(rate(direct)), "baseline"),
        BenchRow::new(format!("the publisher: a backlog of {} stored events to JetStream, acked and checkpointed", config.backlog), format_rate(rate(published)), format!("{:.2}× direct (goal: at least 20,000 events/s)", rate(published) / rate(direct).max(1e-9))),
    ])
}

const LAG_SAMPLES: usize = 20;

async fn single_round_trips(jetstream: &async_nats::jetstream::Context, unique: &str, size: usize) -> anyhow::Result<Vec<Duration>> {
    let (stream, prefix) = (format!("CAIRN_BENCH_ROUND_{unique}"), format!("br{unique}"));
    jetstream.get_or_create_stream(async_nats::jetstream::stream::Config { name: stream.clone(), subjects: vec![format!("{prefix}.>")], ..Default::default() }).await?;
    let body = bytes::Bytes::from(vec![b'x'; size]);
    let mut samples = Vec::with_capacity(LAG_SAMPLES);
    for _ in 0..LAG_SAMPLES {
        let started = Instant::now();
        jetstream.publish(format!("{prefix}.published.Happened"), body.clone()).await?.await?;
        samples.push(started.elapsed());
    }
    jetstream.delete_stream(&stream).await.ok();
    Ok(samples)
}

async fn direct_publish(jetstream: &async_nats::jetstream::Context, stream: &str, prefix: &str, messages: u64, size: usize) -> anyhow::Result<Duration> {
    jetstream.get_or_create_stream(async_nats::jetstream::stream::Config { name: stream.to_owned(), subjects: vec![format!("{prefix}.>")], ..Default::default() }).await?;
    let body = bytes::Bytes::from(vec![b'x'; size]);
    let started = Instant::now();
    let mut pending = Vec::with_capacity(1_000);
    for index in 0..messages {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Nats-Msg-Id", uuid::Uuid::now_v7().to_string().as_str());
        pending.push(jetstream.publish_with_headers(format!("{prefix}.published.Happened"), headers, body.clone()).await?);
        if pending.len() == 1_000 || index + 1 == messages {
            for acknowledgement in pending.drain(..) {
                acknowledgement.await?;
            }
        }
    }
    let elapsed = started.elapsed();
    jetstream.delete_stream(stream).await.ok();
    Ok(elapsed)
}

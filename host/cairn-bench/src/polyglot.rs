//! The Python and JavaScript rows of `cairn bench plugins`, each beside a
//! Rust plugin doing the same work in the same run:
//! - compiling a component, and a restart that finds it in the compile cache;
//! - the user migration (Python `user-migrator-py` against Rust
//!   `user-migrator`): per-call latency and events per second;
//! - folding events in an aggregate (JavaScript `ticket` against Rust
//!   `bank-account` in wasm): an empty call and events per second.
//!
//! These figures are reported, not gated: they tell users what each
//! language costs.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{events_per_second, format_latency, format_rate, read_plugin, BenchRow, ScratchDirectory};
use cairn::event::RecordedEvent;
use cairn::json::JsonText;
use cairn::runtime::{AggregatePlugin, LoadedPlugin, MigratorPlugin, PluginRuntime, RuntimeConfig};

const MIGRATED_EVENTS: usize = 2_000;
const FOLDED_EVENTS: usize = 1_000;
const FOLD_ROUNDS: usize = 20;
const EMPTY_CALLS: u32 = 2_000;
const HANDLED_EVENTS: usize = 5_000;
const HANDLED_BATCH: usize = 500;

/// Read models in memory: the handler bench measures the plugin, not the store.
#[derive(Default)]
struct MemoryReadModels(std::collections::HashMap<(String, String), String>);

impl cairn::runtime::types::ReadModelAccess for MemoryReadModels {
    fn get(&mut self, collection: &str, key: &str) -> Result<Option<String>, String> {
        Ok(self.0.get(&(collection.to_owned(), key.to_owned())).cloned())
    }
    fn put(&mut self, collection: &str, key: &str, value: String) -> Result<(), String> {
        self.0.insert((collection.to_owned(), key.to_owned()), value);
        Ok(())
    }
    fn delete(&mut self, collection: &str, key: &str) -> Result<(), String> {
        self.0.remove(&(collection.to_owned(), key.to_owned()));
        Ok(())
    }
    fn as_any(self: Box<Self>) -> Box<dyn std::any::Any> {
        self
    }
}

/// Events per second through `handle`, in batches of `HANDLED_BATCH`.
async fn handle_rate(handler: Arc<cairn::runtime::HandlerPlugin>, events: Vec<RecordedEvent>) -> anyhow::Result<f64> {
    tokio::task::spawn_blocking(move || -> anyhow::Result<f64> {
        let mut read_models: Box<dyn cairn::runtime::types::ReadModelAccess> = Box::new(MemoryReadModels::default());
        let started = Instant::now();
        for batch in events.chunks(HANDLED_BATCH) {
            let (given_back, outcome) = handler.handle(batch, read_models);
            read_models = given_back;
            outcome.map_err(|(_, error)| error)?;
        }
        Ok(events_per_second(events.len() as u64, started.elapsed()))
    })
    .await?
}

pub async fn rows(plugin_directory: &Path) -> anyhow::Result<Vec<BenchRow>> {
    let scratch = ScratchDirectory::new()?;
    let cache = scratch.path().join("compiled");
    let mut rows = Vec::new();
    let runtime = PluginRuntime::new(RuntimeConfig { cache_directory: Some(cache.clone()), ..RuntimeConfig::default() })?;
    let mut loaded = Vec::new();
    let mut rust_compile = Duration::ZERO;
    for (name, language) in [("bank-account", "Rust"), ("user-migrator", "Rust"), ("user-migrator-py", "Python"), ("ticket", "JavaScript"), ("event-counter", "Rust"), ("user-directory", "Python")] {
        let bytes = read_plugin(plugin_directory, name)?;
        let runtime = runtime.clone();
        let (plugin, compile, restart) = tokio::task::spawn_blocking({
            let cache = cache.clone();
            move || -> anyhow::Result<_> {
                let started = Instant::now();
                let plugin = runtime.load(name, &runtime.compile(&bytes)?)?;
                let compile = started.elapsed();
                // A restarted host: a new runtime over the same cache.
                let restarted = PluginRuntime::new(RuntimeConfig { cache_directory: Some(cache), ..RuntimeConfig::default() })?;
                let started = Instant::now();
                restarted.load(name, &restarted.compile(&bytes)?)?;
                Ok((plugin, compile, started.elapsed()))
            }
        })
        .await??;
        if name == "bank-account" {
            rust_compile = compile;
        }
        if language != "Rust" || name == "bank-account" {
            let size = read_plugin(plugin_directory, name)?.len();
            let versus = if name == "bank-account" { "baseline".to_owned() } else { format!("{:.1}× the Rust compile", compile.as_secs_f64() / rust_compile.as_secs_f64().max(1e-9)) };
            rows.push(BenchRow::new(format!("compile {name} ({language}, {:.1} MB)", size as f64 / 1e6), format_latency(compile), versus));
            rows.push(BenchRow::new(format!("restart with {name} in the compile cache"), format_latency(restart), format!("{:.0}× faster than compiling", compile.as_secs_f64() / restart.as_secs_f64().max(1e-9))));
        }
        loaded.push(plugin);
    }
    let [LoadedPlugin::Aggregate(bank), LoadedPlugin::Migrator(rust_migrator), LoadedPlugin::Migrator(python_migrator), LoadedPlugin::Aggregate(ticket), LoadedPlugin::Handler(rust_handler), LoadedPlugin::Handler(python_handler)] = &loaded[..] else {
        anyhow::bail!("the bench plugins do not export the worlds expected of them");
    };

    let users = user_events(MIGRATED_EVENTS);
    let (rust_call, rust_rate) = migrate_timing(rust_migrator.clone(), &users).await?;
    let (python_call, python_rate) = migrate_timing(python_migrator.clone(), &users).await?;
    rows.push(BenchRow::new(
        format!("user migration, Rust (user-migrator): one event per call; a batch of {MIGRATED_EVENTS} in one call"),
        format!("{}, {}", format_latency(rust_call), format_rate(rust_rate)),
        "baseline",
    ));
    rows.push(BenchRow::new(
        "user migration, Python (user-migrator-py, on the SDK)",
        format!("{}, {}", format_latency(python_call), format_rate(python_rate)),
        format!("{:.1}× the Rust call, {:.2}× its throughput", python_call.as_secs_f64() / rust_call.as_secs_f64().max(1e-12), python_rate / rust_rate),
    ));

    let (rust_empty, rust_fold) = fold_timing(bank.clone(), r#"{"status":"open","owner":"Ann","balance":0,"transactions":0}"#, super::plugins::deposit_events(FOLDED_EVENTS)).await?;
    let ticket_state = r#"{"status":"open","title":"t","description":"","project_id":1,"priority":"low","assigned_to":null,"assignments":0}"#;
    let (javascript_empty, javascript_fold) = fold_timing(ticket.clone(), ticket_state, assignment_events(FOLDED_EVENTS)).await?;
    rows.push(BenchRow::new("empty aggregate call, Rust (bank-account apply, no events)", format!("{:.1} µs", rust_empty.as_secs_f64() * 1e6), "baseline"));
    rows.push(BenchRow::new(
        "empty aggregate call, JavaScript (ticket)",
        format!("{:.1} µs", javascript_empty.as_secs_f64() * 1e6),
        format!("{:.1}× Rust", javascript_empty.as_secs_f64() / rust_empty.as_secs_f64().max(1e-12)),
    ));
    rows.push(BenchRow::new(format!("aggregate apply, Rust (bank-account), batches of {FOLDED_EVENTS}"), format_rate(rust_fold), "baseline"));
    rows.push(BenchRow::new(format!("aggregate apply, JavaScript (ticket), batches of {FOLDED_EVENTS}"), format_rate(javascript_fold), format!("{:.2}× Rust", javascript_fold / rust_fold)));

    // A replay's inner loop: handle calls on batches, read models in memory.
    let users = user_events(HANDLED_EVENTS);
    let rust_handled = handle_rate(rust_handler.clone(), users.clone()).await?;
    let python_handled = handle_rate(python_handler.clone(), users).await?;
    rows.push(BenchRow::new(format!("handler calls, Rust (event-counter), batches of {HANDLED_BATCH}"), format_rate(rust_handled), "baseline"));
    rows.push(BenchRow::new(
        format!("handler calls, Python (user-directory, on the SDK), batches of {HANDLED_BATCH}"),
        format_rate(python_handled),
        format!("{:.2}× Rust", python_handled / rust_handled),
    ));
    Ok(rows)
}

/// Per-call latency (one event per call) and batch throughput.
async fn migrate_timing(migrator: Arc<MigratorPlugin>, events: &[RecordedEvent]) -> anyhow::Result<(Duration, f64)> {
    let events = events.to_vec();
    tokio::task::spawn_blocking(move || -> anyhow::Result<(Duration, f64)> {
        let references: Vec<&RecordedEvent> = events.iter().collect();
        let targets = vec!["1.1"; events.len()];
        // The first call warms the instance pool.
        migrator.migrate(&references[..1], &targets[..1]).map_err(|(_, error)| error)?;
        let single = 200.min(events.len());
        let started = Instant::now();
        for event in &references[..single] {
            migrator.migrate(std::slice::from_ref(event), &targets[..1]).map_err(|(_, error)| error)?;
        }
        let per_call = started.elapsed() / single as u32;
        let started = Instant::now();
        migrator.migrate(&references, &targets).map_err(|(_, error)| error)?;
        Ok((per_call, events_per_second(events.len() as u64, started.elapsed())))
    })
    .await?
}

/// An apply with no events, and throughput folding `events` repeatedly.
async fn fold_timing(aggregate: Arc<AggregatePlugin>, state: &str, events: Vec<RecordedEvent>) -> anyhow::Result<(Duration, f64)> {
    let state = JsonText::parse(state)?;
    tokio::task::spawn_blocking(move || -> anyhow::Result<(Duration, f64)> {
        aggregate.apply(&state, &[])?;
        let started = Instant::now();
        for _ in 0..EMPTY_CALLS {
            aggregate.apply(&state, &[])?;
        }
        let empty = started.elapsed() / EMPTY_CALLS;
        let started = Instant::now();
        for _ in 0..FOLD_ROUNDS {
            aggregate.apply(&state, &events)?;
        }
        Ok((empty, events_per_second((FOLD_ROUNDS * events.len()) as u64, started.elapsed())))
    })
    .await?
}

fn event(aggregate_type: &str, index: usize, event_type: &str, payload: String) -> RecordedEvent {
    RecordedEvent {
        id: uuid::Uuid::now_v7(),
        global_position: index as u64 + 2,
        aggregate_type: aggregate_type.to_owned(),
        aggregate_id: "bench".to_owned(),
        stream_version: index as u64 + 2,
        event_type: event_type.to_owned(),
        schema_version: "1.0".to_owned(),
        timestamp: cairn::time::now_micros(),
        recorded_at: cairn::time::now_micros(),
        payload: JsonText::parse(payload).expect("valid JSON"),
        metadata: JsonText::empty_object(),
        correlation_id: None,
        causation_id: None,
        user_id: None,
        source: None,
    }
}

fn user_events(count: usize) -> Vec<RecordedEvent> {
    (0..count)
        .map(|index| event("user", index, "UserRegistered", format!(r#"{{"user_id":"{index}","email":"u{index}@example.com","expertise_domains":"ai, machine learning,nlp"}}"#)))
        .collect()
}

fn assignment_events(count: usize) -> Vec<RecordedEvent> {
    (0..count).map(|index| event("ticket", index, "TicketAssigned", format!(r#"{{"assigned_to":{},"assigned_by":1}}"#, index % 13))).collect()
}

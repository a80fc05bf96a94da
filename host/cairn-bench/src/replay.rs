//! `cairn bench replay`: replay throughput over one stored log, side by
//! side in one run: raw read-all (the baseline), a wasm handler that folds
//! every event into an in-memory count, the same logic as a native Rust
//! handler, and a wasm projection that writes one document per stream, on
//! one worker and on two. Resident memory is sampled during the wasm
//! handler's run to show whether it grows with the log.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::{append_in_batches, build_profile, events_per_second, format_rate, read_plugin, resident_bytes, BenchReport, BenchRow, ScratchDirectory};
use cairn::event::{NewEvent, RecordedEvent};
use cairn::json::JsonText;
use cairn::migrate::MigrationChains;
use cairn::plugins::{PluginHost, PluginSource};
use cairn::replay::{run_replay, BatchBuffer, BatchHandler, CheckpointChoice, HandlerFailure, PluginHandler, ReplayOptions};
use cairn::runtime::types::ReadModelAccess;
use cairn::runtime::{PluginRuntime, RuntimeConfig};
use cairn::store::{self, EventStore, LogFilter, StoreLimits, StoreUrl};

pub struct ReplayBenchConfig {
    pub plugin_directory: PathBuf,
    pub events: u64,
    pub streams: u64,
    pub batch_size: usize,
}

pub async fn run(config: &ReplayBenchConfig) -> anyhow::Result<BenchReport> {
    let counter = read_plugin(&config.plugin_directory, "event-counter")?;
    let projection = read_plugin(&config.plugin_directory, "stream-index")?;
    let directory = ScratchDirectory::new()?;
    let store = store::open(&StoreUrl::Sqlite { path: directory.path().join("bench.db") }, StoreLimits::default()).await?;
    let streams = config.streams.max(1);
    append_in_batches(store.as_ref(), config.events, |index| {
        NewEvent::new("bench-stream", format!("s-{}", index % streams), "Counted", JsonText::from_trusted(format!(r#"{{"n":{index}}}"#)))
    })
    .await?;
    let runtime = PluginRuntime::new(RuntimeConfig { cache_directory: Some(directory.path().join("compiled")), ..RuntimeConfig::default() })?;
    let host = PluginHost::open(store.clone(), runtime, true).await?;
    for (bytes, stem) in [(counter, "event-counter"), (projection, "stream-index")] {
        host.add(PluginSource { bytes, requested_name: None, file_stem: Some(stem.to_owned()) }).await?;
    }
    let chains = Arc::new(MigrationChains::default());
    // Every timed run writes the live generation afresh, as a rebuild would.
    let options = |workers: usize| ReplayOptions {
        batch_size: config.batch_size,
        checkpoint: CheckpointChoice::None,
        workers,
        generation: Some(0),
        ..ReplayOptions::default()
    };

    // The first read warms the page cache, so that the baseline is not
    // slower than the handlers merely for going first.
    read_all(store.as_ref(), config.batch_size).await?;
    let raw = read_all(store.as_ref(), config.batch_size).await?;
    let wasm_counter: Arc<dyn BatchHandler> = Arc::new(PluginHandler(host.handler("event-counter").await?));
    let memory = MemorySamples::start(config.events);
    let memory_cell = std::sync::Mutex::new(memory);
    let wasm = timed(&store, &chains, wasm_counter, &options(1), |position| memory_cell.lock().expect("not poisoned").sample(position)).await?;
    let memory = memory_cell.into_inner().expect("not poisoned");
    expect_count(store.as_ref(), "event-counter", config.events).await?;
    let native = timed(&store, &chains, Arc::new(NativeCounter), &options(1), |_| {}).await?;
    expect_count(store.as_ref(), "native-counter", config.events).await?;
    let projection_handler: Arc<dyn BatchHandler> = Arc::new(PluginHandler(host.handler("stream-index").await?));
    let projection_one = timed(&store, &chains, projection_handler.clone(), &options(1), |_| {}).await?;
    let projection_two = timed(&store, &chains, projection_handler, &options(2), |_| {}).await?;
    let documents = store.read_model_list("stream-index", None, "streams", &cairn::store::KeyPage::prefixed("", usize::MAX)).await?.len() as u64;
    if documents != streams.min(config.events) {
        anyhow::bail!("the projection wrote {documents} documents, not one per stream ({streams})");
    }

    let rows = vec![
        BenchRow::new(format!("raw read-all of {} events ({streams} streams)", config.events), format_rate(raw), "baseline"),
        BenchRow::new("wasm handler (event-counter), in-memory count", format_rate(wasm), format!("{:.2}× raw, {:.2}× native", wasm / raw, wasm / native)),
        BenchRow::new("native Rust handler, same logic", format_rate(native), format!("{:.2}× raw", native / raw)),
        BenchRow::new("wasm projection (stream-index), one document per stream", format_rate(projection_one), format!("{:.2}× raw", projection_one / raw)),
        BenchRow::new("wasm projection, 2 workers", format_rate(projection_two), format!("{:.2}× raw", projection_two / raw)),
        BenchRow::new("resident memory during the wasm handler's replay", memory.describe(), "growth from 10% to 100% of the log"),
    ];
    Ok(BenchReport {
        title: format!("cairn bench replay (SQLite, pages of {}, {})", config.batch_size, build_profile()),
        rows,
    })
}

async fn read_all(store: &dyn EventStore, page_size: usize) -> anyhow::Result<f64> {
    let started = Instant::now();
    let (mut after, mut events) = (0, 0u64);
    loop {
        let page = store.read_log(&LogFilter::default(), after, page_size).await?;
        let Some(last) = page.last() else { break };
        after = last.global_position;
        events += page.len() as u64;
    }
    Ok(events_per_second(events, started.elapsed()))
}

async fn timed(
    store: &Arc<dyn EventStore>,
    chains: &Arc<MigrationChains>,
    handler: Arc<dyn BatchHandler>,
    options: &ReplayOptions,
    mut on_position: impl FnMut(u64),
) -> anyhow::Result<f64> {
    let started = Instant::now();
    let result = run_replay(store, chains, handler, options, |progress| on_position(progress.position)).await?;
    if result.failed > 0 {
        anyhow::bail!("the handler failed during the benchmark: {:?}", result.errors.first());
    }
    Ok(events_per_second(result.processed, started.elapsed()))
}

async fn expect_count(store: &dyn EventStore, handler: &str, events: u64) -> anyhow::Result<()> {
    let counted = store.read_model_get(handler, None, "counts", "all").await?.unwrap_or_default();
    if counted != events.to_string() {
        anyhow::bail!("{handler} counted {counted:?} events, not {events}");
    }
    Ok(())
}

/// The event-counter plugin's logic in Rust: count the batch in memory, then
/// add it to one document.
struct NativeCounter;

impl BatchHandler for NativeCounter {
    fn name(&self) -> &str {
        "native-counter"
    }

    fn wants(&self, _event: &RecordedEvent) -> bool {
        true
    }

    fn handle(&self, events: &[RecordedEvent], mut read_models: Box<BatchBuffer>) -> (Box<BatchBuffer>, Result<(), HandlerFailure>) {
        let outcome = (|| {
            let mut counted = 0u64;
            for event in events {
                // The plugin parses each payload (the SDK does); so does this.
                let _: serde_json::Value = serde_json::from_str(event.payload.as_str()).map_err(|error| error.to_string())?;
                counted += 1;
            }
            let total: u64 = read_models.get("counts", "all")?.map_or(Ok(0), |text| text.parse().map_err(|_| "not a count".to_owned()))?;
            read_models.put("counts", "all", (total + counted).to_string())
        })();
        (read_models, outcome.map_err(|message| HandlerFailure { index: None, message }))
    }
}

/// Resident memory at 10% of the log and its peak from there to the end.
struct MemorySamples {
    tenth: u64,
    at_tenth: Option<u64>,
    peak_after: u64,
}

impl MemorySamples {
    fn start(events: u64) -> Self {
        Self { tenth: events / 10, at_tenth: None, peak_after: 0 }
    }

    fn sample(&mut self, position: u64) {
        let Some(resident) = resident_bytes() else { return };
        if position >= self.tenth && self.at_tenth.is_none() {
            self.at_tenth = Some(resident);
        }
        if self.at_tenth.is_some() {
            self.peak_after = self.peak_after.max(resident);
        }
    }

    fn describe(&self) -> String {
        match self.at_tenth {
            Some(start) => {
                let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
                format!("{:.1} MiB → peak {:.1} MiB (+{:.1} MiB)", mib(start), mib(self.peak_after), mib(self.peak_after.saturating_sub(start)))
            }
            None => "not measured (no /proc)".to_owned(),
        }
    }
}

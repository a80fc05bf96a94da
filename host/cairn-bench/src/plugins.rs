//! `cairn bench plugins`: the plugin boundary's cost, side by side with
//! baselines from the same run: the bank-account aggregate compiled natively
//! (the same crate, through the same SDK code), and a plain store append.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cairn_sdk::testing::StoredEvent;

use super::{build_profile, events_per_second, format_latency, format_rate, quantile, read_plugin, BenchReport, BenchRow, ScratchDirectory};
use cairn::command::{CommandRequest, Commands};
use cairn::event::{AppendRequest, ExpectedVersion, NewEvent, RecordedEvent};
use cairn::json::JsonText;
use cairn::plugins::{PluginHost, PluginSource};
use cairn::runtime::{LoadedPlugin, PluginRuntime, RuntimeConfig};
use cairn::store::{self, StoreLimits, StoreUrl};

pub struct PluginBenchConfig {
    /// Where `plugins/build` put bank-account.wasm and test-noop.wasm.
    pub plugin_directory: PathBuf,
    pub empty_calls: u64,
    pub apply_batches: u64,
    pub commands: usize,
    /// Adds the Python and JavaScript rows (plugins/build-polyglot builds them).
    pub polyglot: bool,
}

const APPLY_BATCH_EVENTS: usize = 1_000;
const STREAM_EVENTS: u64 = 100;
const STREAMS: usize = 20;

pub async fn run(config: &PluginBenchConfig) -> anyhow::Result<BenchReport> {
    let bank_bytes = read_plugin(&config.plugin_directory, "bank-account")?;
    let noop_bytes = read_plugin(&config.plugin_directory, "test-noop")?;
    let scratch = ScratchDirectory::new()?;
    let cache = scratch.path().to_owned();
    let mut rows = Vec::new();

    // Cold start: compile from scratch, then from the compile cache.
    let runtime = PluginRuntime::new(RuntimeConfig { cache_directory: Some(cache.clone()), ..RuntimeConfig::default() })?;
    let started = Instant::now();
    let compiled = runtime.compile(&bank_bytes)?;
    runtime.load("bank-account", &compiled)?;
    let uncached = started.elapsed();
    let fresh_runtime = PluginRuntime::new(RuntimeConfig { cache_directory: Some(cache.clone()), ..RuntimeConfig::default() })?;
    let started = Instant::now();
    let compiled = fresh_runtime.compile(&bank_bytes)?;
    let LoadedPlugin::Aggregate(bank) = fresh_runtime.load("bank-account", &compiled)? else {
        anyhow::bail!("bank-account.wasm is not an aggregate plugin");
    };
    let cached = started.elapsed();
    rows.push(BenchRow::new(format!("cold start, compiling (bank-account, {} KiB)", bank_bytes.len() / 1024), format_latency(uncached), "baseline"));
    rows.push(BenchRow::new("cold start from the compile cache", format_latency(cached), ratio(uncached, cached, "faster")));

    // The boundary: a call that does nothing, against a native call that does nothing.
    let compiled = runtime.compile(&noop_bytes)?;
    let LoadedPlugin::Aggregate(noop) = runtime.load("test-noop", &compiled)? else {
        anyhow::bail!("test-noop.wasm is not an aggregate plugin");
    };
    let state = JsonText::parse("{}")?;
    let started = Instant::now();
    for _ in 0..config.empty_calls {
        noop.apply(&state, &[])?;
    }
    let per_call = started.elapsed() / config.empty_calls as u32;
    rows.push(BenchRow::new("empty plugin call (apply with no events)", format!("{:.2} µs", per_call.as_secs_f64() * 1e6), "per call"));

    rows.extend(apply_rows(&runtime, &bank, config)?);

    rows.extend(command_rows(runtime, &bank_bytes, config.commands).await?);
    rows.extend(super::swap::rows(&bank_bytes).await?);
    if config.polyglot {
        rows.extend(super::polyglot::rows(&config.plugin_directory).await?);
        let plugin_directory = config.plugin_directory.clone();
        rows.extend(tokio::task::spawn_blocking(move || super::exec_process::rows(&plugin_directory)).await??);
    }
    Ok(BenchReport { title: format!("cairn bench plugins (SQLite, {})", build_profile()), rows })
}

/// `exec` on streams of 100 events, with this process's state cache and
/// without it, against a plain single-event append in the same store.
async fn command_rows(runtime: Arc<PluginRuntime>, bank_bytes: &[u8], commands: usize) -> anyhow::Result<Vec<BenchRow>> {
    let directory = ScratchDirectory::new()?;
    let store = store::open(&StoreUrl::Sqlite { path: directory.path().join("bench.db") }, StoreLimits::default()).await?;
    let host = PluginHost::open(store.clone(), runtime, true).await?;
    host.add(PluginSource { bytes: bank_bytes.to_vec(), requested_name: None, file_stem: None }).await?;
    for stream in 0..STREAMS {
        let mut events = vec![NewEvent::new("bank-account", format!("acc-{stream}"), "AccountOpened", JsonText::parse(r#"{"owner":"Ann"}"#)?)];
        for _ in 1..STREAM_EVENTS {
            events.push(NewEvent::new("bank-account", format!("acc-{stream}"), "MoneyDeposited", JsonText::parse(r#"{"amount":5}"#)?));
        }
        store.append(AppendRequest::to_stream(ExpectedVersion::NoStream, events)).await?;
    }

    let mut append_latencies = Vec::with_capacity(commands);
    for index in 0..commands {
        let event = NewEvent::new("baseline", format!("b-{}", index % STREAMS), "Appended", JsonText::parse(r#"{"amount":5}"#)?);
        let started = Instant::now();
        store.append(AppendRequest::to_stream(ExpectedVersion::Any, vec![event])).await?;
        append_latencies.push(started.elapsed());
    }

    let cached_runner = Commands::new(host.clone());
    let mut cached = Vec::with_capacity(commands);
    let mut uncached = Vec::with_capacity(commands / 4);
    let started_all = Instant::now();
    for index in 0..commands {
        let started = Instant::now();
        cached_runner.execute(deposit(index)).await?;
        cached.push(started.elapsed());
    }
    let cached_rate = events_per_second(commands as u64, started_all.elapsed());
    // With and without a command id, interleaved so that both see the same
    // store and cache: what recording the id (a look-up and a row written
    // in the append's transaction) costs a command.
    let (mut plain, mut with_id) = (Vec::with_capacity(commands), Vec::with_capacity(commands));
    for index in 0..commands {
        for (latencies, command_id) in [(&mut plain, None), (&mut with_id, Some(format!("bench-{index}")))] {
            let request = CommandRequest { command_id, ..deposit(index) };
            let started = Instant::now();
            cached_runner.execute(request).await?;
            latencies.push(started.elapsed());
        }
    }
    for index in 0..commands / 4 {
        // A runner with nothing cached folds the whole stream each time.
        let runner = Commands::new(host.clone());
        let started = Instant::now();
        runner.execute(deposit(index)).await?;
        uncached.push(started.elapsed());
    }
    let append_p50 = quantile(&mut append_latencies, 0.5);
    let append_p99 = quantile(&mut append_latencies, 0.99);
    let rows = vec![
        BenchRow::new("single-event append (store only) p50 / p99", format!("{} / {}", format_latency(append_p50), format_latency(append_p99)), "baseline"),
        BenchRow::new(
            format!("exec on streams of {STREAM_EVENTS}+ events, state cached: p50 / p99"),
            format!("{} / {}", format_latency(quantile(&mut cached, 0.5)), format_latency(quantile(&mut cached, 0.99))),
            ratio(append_p50, quantile(&mut cached, 0.5), "the append p50"),
        ),
        BenchRow::new("exec throughput, one at a time, state cached", format!("{:.0} commands/s", cached_rate), ""),
        BenchRow::new(
            "exec without a command id, interleaved with the next row: p50 / p99",
            format!("{} / {}", format_latency(quantile(&mut plain, 0.5)), format_latency(quantile(&mut plain, 0.99))),
            "baseline",
        ),
        BenchRow::new(
            "exec with a command id (recorded, runs once): p50 / p99",
            format!("{} / {}", format_latency(quantile(&mut with_id, 0.5)), format_latency(quantile(&mut with_id, 0.99))),
            format!("p50 {:.2}× without an id", quantile(&mut with_id, 0.5).as_secs_f64() / quantile(&mut plain, 0.5).as_secs_f64().max(1e-9)),
        ),
        BenchRow::new(
            format!("exec on streams of {STREAM_EVENTS}+ events, full fold each time: p50 / p99"),
            format!("{} / {}", format_latency(quantile(&mut uncached, 0.5)), format_latency(quantile(&mut uncached, 0.99))),
            ratio(append_p50, quantile(&mut uncached, 0.5), "the append p50"),
        ),
    ];
    Ok(rows)
}

fn deposit(index: usize) -> CommandRequest {
    CommandRequest {
        aggregate_type: "bank-account".to_owned(),
        aggregate_id: format!("acc-{}", index % STREAMS),
        command_type: "Deposit".to_owned(),
        payload: JsonText::parse(r#"{"amount":7}"#).expect("static JSON"),
        metadata: JsonText::empty_object(),
        command_id: None,
    }
}

pub(super) fn deposit_events(count: usize) -> Vec<RecordedEvent> {
    (0..count)
        .map(|index| RecordedEvent {
            id: uuid::Uuid::now_v7(),
            global_position: index as u64 + 2,
            aggregate_type: "bank-account".to_owned(),
            aggregate_id: "bench".to_owned(),
            stream_version: index as u64 + 2,
            event_type: "MoneyDeposited".to_owned(),
            schema_version: "1.0".to_owned(),
            timestamp: cairn::time::now_micros(),
            recorded_at: cairn::time::now_micros(),
            payload: JsonText::parse(format!(r#"{{"amount":{}}}"#, index % 97 + 1)).expect("static JSON"),
            metadata: JsonText::empty_object(),
            correlation_id: None,
            causation_id: None,
            user_id: None,
            source: None,
        })
        .collect()
}

/// `measured / baseline` as a ratio with a word for which way it goes.
fn ratio(baseline: Duration, measured: Duration, label: &str) -> String {
    let times = measured.as_secs_f64() / baseline.as_secs_f64().max(1e-12);
    if label == "faster" {
        format!("{:.1}× faster", 1.0 / times.max(1e-12))
    } else {
        format!("{times:.2}× {label}")
    }
}

/// Events per second folding `events` `batches` times.
fn apply_rate(plugin: &cairn::runtime::AggregatePlugin, state: &JsonText, events: &[cairn::event::RecordedEvent], batches: u64) -> anyhow::Result<f64> {
    plugin.apply(state, events)?;
    let started = Instant::now();
    for _ in 0..batches {
        plugin.apply(state, events)?;
    }
    Ok(events_per_second(batches * events.len() as u64, started.elapsed()))
}

/// Apply throughput: wasm against the same crate compiled natively, and the
/// contract 0.1.0 build of the same source, with the empty call of both.
fn apply_rows(runtime: &Arc<PluginRuntime>, bank: &cairn::runtime::AggregatePlugin, config: &PluginBenchConfig) -> anyhow::Result<Vec<BenchRow>> {
    let mut rows = Vec::new();
    // Apply throughput: wasm against the same crate compiled natively, fed
    // the same events JSON text the host hands the plugin (contract 0.2.0).
    let events = deposit_events(APPLY_BATCH_EVENTS);
    let events_json = serde_json::to_string(
        &events
            .iter()
            .map(|event| {
                serde_json::json!({
                    "event_type": event.event_type, "schema_version": event.schema_version, "stream_version": event.stream_version,
                    "global_position": event.global_position, "timestamp": cairn::time::format_rfc3339(&event.timestamp), "payload": event.payload.to_value(),
                })
            })
            .collect::<Vec<_>>(),
    )?;
    let open_state = cairn_sdk::testing::apply::<bank_account::BankAccount>(
        &cairn_sdk::testing::initial_state::<bank_account::BankAccount>("bench"),
        &[StoredEvent::new("bench", 1, "AccountOpened", r#"{"owner":"Ann"}"#)],
    )
    .map_err(|error| anyhow::anyhow!("native apply failed: {error}"))?;
    let started = Instant::now();
    for _ in 0..config.apply_batches {
        cairn_sdk::testing::apply_events_json::<bank_account::BankAccount>(&open_state, "bench", &events_json)
            .map_err(|error| anyhow::anyhow!("native apply failed: {error}"))?;
    }
    let native_rate = events_per_second(config.apply_batches * APPLY_BATCH_EVENTS as u64, started.elapsed());
    let wasm_state = JsonText::parse(open_state)?;
    let wasm_rate = apply_rate(bank, &wasm_state, &events, config.apply_batches)?;
    rows.push(BenchRow::new("bank-account apply, native (same crate and SDK code, same events JSON)", format_rate(native_rate), "baseline"));
    rows.push(BenchRow::new(
        format!("bank-account apply in wasm, contract 0.2.0, batches of {APPLY_BATCH_EVENTS}"),
        format_rate(wasm_rate),
        format!("{:.2}× native ({:.2}× slower)", wasm_rate / native_rate, native_rate / wasm_rate),
    ));
    // The same source built against contract 0.1.0, kept as a test fixture
    // beside plugins/ in a checkout; left out when the bench runs elsewhere.
    if let Ok(bytes) = std::fs::read(config.plugin_directory.join("../../tests/fixtures/contract-0.1/bank-account.wasm")) {
        let LoadedPlugin::Aggregate(old) = runtime.load("bank-account-0.1", &runtime.compile(&bytes)?)? else {
            anyhow::bail!("the 0.1.0 bank-account fixture is not an aggregate plugin");
        };
        let old_rate = apply_rate(&old, &wasm_state, &events, config.apply_batches)?;
        rows.push(BenchRow::new(
            "the same in its contract 0.1.0 build (tests/fixtures/contract-0.1)",
            format_rate(old_rate),
            format!("{:.2}× native; 0.2.0 is {:.2}× faster", old_rate / native_rate, wasm_rate / old_rate),
        ));
        // The empty call through both builds, interleaved so that both see
        // the same machine: the contract's fixed cost per call.
        let (mut old_total, mut new_total) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
        for _ in 0..config.empty_calls {
            let started = Instant::now();
            old.apply(&wasm_state, &[])?;
            old_total += started.elapsed();
            let started = Instant::now();
            bank.apply(&wasm_state, &[])?;
            new_total += started.elapsed();
        }
        let calls = config.empty_calls.max(1) as f64;
        let (old_call, new_call) = (old_total.as_secs_f64() / calls, new_total.as_secs_f64() / calls);
        rows.push(BenchRow::new("empty bank-account apply, contract 0.1.0 build", format!("{:.2} µs", old_call * 1e6), "baseline"));
        rows.push(BenchRow::new("empty bank-account apply, contract 0.2.0 build", format!("{:.2} µs", new_call * 1e6), format!("{:.2}× the 0.1.0 call", new_call / old_call)));
    }

    Ok(rows)
}

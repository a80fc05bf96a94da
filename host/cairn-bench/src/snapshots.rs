//! `cairn bench snapshots`: loading a 10,000-event stream without snapshots
//! (the baseline) and with snapshots every 100 events, in one run.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::{build_profile, format_latency, quantile, read_plugin, BenchReport, BenchRow, ScratchDirectory};
use cairn::command::{Commands, SnapshotPolicy, StateTarget};
use cairn::event::{AppendRequest, ExpectedVersion, NewEvent};
use cairn::json::JsonText;
use cairn::plugins::{PluginHost, PluginSource};
use cairn::runtime::{PluginRuntime, RuntimeConfig};
use cairn::store::{self, StoreLimits, StoreUrl};

pub struct SnapshotBenchConfig {
    pub plugin_directory: PathBuf,
    pub stream_events: u64,
    pub loads: usize,
}

const SNAPSHOT_EVERY: u64 = 100;

pub async fn run(config: &SnapshotBenchConfig) -> anyhow::Result<BenchReport> {
    let bytes = read_plugin(&config.plugin_directory, "bank-account")?;
    let directory = ScratchDirectory::new()?;
    measure(config, bytes, directory.path()).await
}

async fn measure(config: &SnapshotBenchConfig, bytes: Vec<u8>, directory: &std::path::Path) -> anyhow::Result<BenchReport> {
    let store = store::open(&StoreUrl::Sqlite { path: directory.join("bench.db") }, StoreLimits::default()).await?;
    let runtime = PluginRuntime::new(RuntimeConfig { cache_directory: Some(directory.join("compiled")), ..RuntimeConfig::default() })?;
    let host = PluginHost::open(store.clone(), runtime, true).await?;
    host.add(PluginSource { bytes, requested_name: None, file_stem: None }).await?;
    let stream_events = config.stream_events.max(2 * SNAPSHOT_EVERY);
    let mut events = vec![NewEvent::new("bank-account", "long", "AccountOpened", JsonText::parse(r#"{"owner":"Ann"}"#)?)];
    for index in 1..stream_events {
        events.push(NewEvent::new("bank-account", "long", "MoneyDeposited", JsonText::parse(format!(r#"{{"amount":{}}}"#, index % 97 + 1))?));
    }
    for chunk in events.chunks(1_000) {
        store.append(AppendRequest::to_stream(ExpectedVersion::Any, chunk.to_vec())).await?;
    }
    let policy = SnapshotPolicy { every: Some(SNAPSHOT_EVERY as u32), keep: 3 };
    let setup = Commands::with_snapshot_policy(host.clone(), policy);

    let without = time_loads(&host, policy, config.loads, StateTarget::Latest).await?;
    let boundary = stream_events - stream_events % SNAPSHOT_EVERY;
    for version in [boundary - SNAPSHOT_EVERY, boundary].into_iter().filter(|version| *version > 0) {
        setup.create_snapshot("bank-account", "long", Some(version)).await?;
    }
    let at_boundary = time_loads(&host, policy, config.loads, StateTarget::AtVersion(boundary)).await?;
    // The longest tail a snapshot leaves: one event short of the next snapshot.
    let worst_target = boundary - 1;
    let worst = time_loads(&host, policy, config.loads, StateTarget::AtVersion(worst_target)).await?;

    let mut without_samples = without;
    let baseline_p50 = quantile(&mut without_samples, 0.5);
    let row = |measure: String, mut samples: Vec<Duration>, baseline: Option<Duration>| {
        let p50 = quantile(&mut samples, 0.5);
        let p99 = quantile(&mut samples, 0.99);
        let versus = baseline.map_or("baseline".to_owned(), |baseline| {
            format!("{:.1}× faster", baseline.as_secs_f64() / p50.as_secs_f64().max(1e-12))
        });
        BenchRow::new(measure, format!("{} / {}", format_latency(p50), format_latency(p99)), versus)
    };
    let rows = vec![
        row(format!("load without snapshots, {stream_events} events: p50 / p99"), without_samples.clone(), None),
        row(format!("load from a snapshot at version {boundary}, 0 events to apply"), at_boundary, Some(baseline_p50)),
        row(
            format!("load at version {worst_target}: snapshot at {} + {} events", boundary - SNAPSHOT_EVERY, SNAPSHOT_EVERY - 1),
            worst,
            Some(baseline_p50),
        ),
    ];
    Ok(BenchReport { title: format!("cairn bench snapshots (SQLite, bank-account, {})", build_profile()), rows })
}

/// Loads with a fresh runner each time, so no process cache helps.
async fn time_loads(
    host: &std::sync::Arc<PluginHost>,
    policy: SnapshotPolicy,
    loads: usize,
    target: StateTarget,
) -> anyhow::Result<Vec<Duration>> {
    // The baseline must not write snapshots while it measures.
    let policy = if target == StateTarget::Latest { SnapshotPolicy { every: Some(u32::MAX), ..policy } } else { policy };
    let mut samples = Vec::with_capacity(loads);
    for _ in 0..loads {
        let runner = Commands::with_snapshot_policy(host.clone(), policy);
        let started = Instant::now();
        runner.state_at("bank-account", "long", target).await?;
        samples.push(started.elapsed());
    }
    Ok(samples)
}

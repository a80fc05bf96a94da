//! `cairn bench migrators`: read-all throughput of version-1.0 events with
//! no migrators (the baseline), through a 1-step chain and through a 2-step
//! chain, in one run and one throwaway store.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::{append_in_batches, build_profile, events_per_second, format_rate, read_plugin, BenchReport, BenchRow, ScratchDirectory};
use cairn::event::NewEvent;
use cairn::json::JsonText;
use cairn::migrate::{upcast_events, MigrationChains};
use cairn::plugins::{PluginHost, PluginSource};
use cairn::runtime::{PluginRuntime, RuntimeConfig};
use cairn::store::{self, EventStore, LogFilter, StoreLimits, StoreUrl};

pub struct MigratorBenchConfig {
    pub plugin_directory: PathBuf,
    pub events: u64,
}

const PAGE: usize = 10_000;

pub async fn run(config: &MigratorBenchConfig) -> anyhow::Result<BenchReport> {
    let first_step = read_plugin(&config.plugin_directory, "opportunity-migrator")?;
    let second_step = read_plugin(&config.plugin_directory, "test-migrator")?;
    let directory = ScratchDirectory::new()?;
    measure(config, directory.path(), first_step, second_step).await
}

async fn measure(config: &MigratorBenchConfig, directory: &std::path::Path, first_step: Vec<u8>, second_step: Vec<u8>) -> anyhow::Result<BenchReport> {
    let store = store::open(&StoreUrl::Sqlite { path: directory.join("bench.db") }, StoreLimits::default()).await?;
    append_in_batches(store.as_ref(), config.events, |index| {
        let payload = format!(
            r#"{{"opportunity_id":"o-{index}","title":"Opportunity {index}","ai_solution_type":"nlp","market_size":{}}}"#,
            index * 10
        );
        NewEvent::new("opportunity", format!("o-{}", index % 1_000), "OpportunityCreated", JsonText::from_trusted(payload))
    })
    .await?;
    let runtime = PluginRuntime::new(RuntimeConfig { cache_directory: Some(directory.join("compiled")), ..RuntimeConfig::default() })?;
    let host = PluginHost::open(store.clone(), runtime, true).await?;

    let raw = read_all(store.as_ref(), &Arc::new(MigrationChains::default()), "").await?;
    host.add(PluginSource { bytes: first_step, requested_name: None, file_stem: Some("opportunity-migrator".to_owned()) }).await?;
    let one_step = read_all(store.as_ref(), &host.migration_chains().await?, "2.0").await?;
    host.add(PluginSource { bytes: second_step, requested_name: None, file_stem: Some("test-migrator".to_owned()) }).await?;
    let two_steps = read_all(store.as_ref(), &host.migration_chains().await?, "2.1").await?;

    let rows = vec![
        BenchRow::new(format!("read-all of {} version-1.0 events, no migrators", config.events), format_rate(raw), "baseline"),
        BenchRow::new("read-all through a 1-step chain (1.0 → 2.0)", format_rate(one_step), format!("{:.2}× raw", one_step / raw)),
        BenchRow::new("read-all through a 2-step chain (1.0 → 2.0 → 2.1)", format_rate(two_steps), format!("{:.2}× raw", two_steps / raw)),
    ];
    Ok(BenchReport { title: format!("cairn bench migrators (SQLite, pages of {PAGE}, {})", build_profile()), rows })
}

/// Reads the whole log in pages, upcasting each page, and checks that every
/// event arrived at `expected_version` (empty: as stored).
async fn read_all(store: &dyn EventStore, chains: &Arc<MigrationChains>, expected_version: &str) -> anyhow::Result<f64> {
    let started = Instant::now();
    let (mut after, mut events) = (0, 0u64);
    loop {
        let page = store.read_log(&LogFilter::default(), after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.global_position;
        let page = upcast_events(chains, page).await?;
        if let Some(wrong) = page.iter().find(|event| !expected_version.is_empty() && event.schema_version != expected_version) {
            anyhow::bail!("event {} came out at version {}, not {expected_version}", wrong.id, wrong.schema_version);
        }
        events += page.len() as u64;
    }
    Ok(events_per_second(events, started.elapsed()))
}

//! `cairn bench console`: how fast each console page shows its data on a
//! large store, timed by Chromium itself. The store holds `events` bank
//! events over 10,000 accounts; the server is the one `cairn serve` runs
//! (without tokens, on loopback), and `tests/browser/page-timing.mjs`
//! (playwright-core, installed by `tests/browser/run`) loads each page and
//! reads `performance.now()` when its data is on screen. The baseline is a
//! navigation to a static file of the same server: the browser's floor,
//! with no API call behind it.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;

use anyhow::Context;
use tokio::io::AsyncBufReadExt;

use super::http::TestServer;
use super::{append_in_batches, build_profile, read_plugin, BenchReport, BenchRow, ScratchDirectory};
use cairn::command::Commands;
use cairn::event::NewEvent;
use cairn::json::JsonText;
use cairn::plugins::{PluginHost, PluginSource};
use cairn::runtime::{PluginRuntime, RuntimeConfig};
use cairn::store::{self, StoreLimits, StoreUrl};

/// Each page must show its data within this, on the largest store.
const GOAL_MILLISECONDS: f64 = 300.0;
const ACCOUNTS: u64 = 10_000;

pub struct ConsoleBenchConfig {
    pub plugin_directory: PathBuf,
    pub events: u64,
    /// Loads of each page; the median is reported.
    pub runs: u32,
    /// `tests/browser/page-timing.mjs`.
    pub timing_script: PathBuf,
    /// The Chromium to drive; Debian's `chromium` by default.
    pub chromium: PathBuf,
}

#[derive(serde::Deserialize)]
struct Timings {
    median_ms: f64,
    max_ms: f64,
}

#[derive(serde::Deserialize)]
struct PageTiming {
    page: String,
    /// Each load in a fresh browser context: an empty cache.
    cold: Timings,
    /// Loads in one context: cached files revalidated.
    warm: Timings,
    runs: u32,
}

fn bank_event(index: u64) -> NewEvent {
    let account = format!("account-{}", index % ACCOUNTS);
    if index < ACCOUNTS {
        NewEvent::new("bank-account", account, "AccountOpened", JsonText::parse(r#"{"owner":"Ann"}"#).expect("valid JSON"))
    } else {
        NewEvent::new("bank-account", account, "MoneyDeposited", JsonText::parse(r#"{"amount":5}"#).expect("valid JSON"))
    }
}

/// Runs the timing script against `base` and reads one line per page.
async fn time_pages(config: &ConsoleBenchConfig, base: &str) -> anyhow::Result<Vec<PageTiming>> {
    if !config.timing_script.is_file() {
        anyhow::bail!("{} is missing; run cairn bench console from the repository's root", config.timing_script.display());
    }
    let mut child = tokio::process::Command::new("node")
        .arg(&config.timing_script)
        .arg(base)
        .arg(config.runs.to_string())
        .env("CHROMIUM", &config.chromium)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start node; install Node.js, and run tests/browser/run once to install playwright-core and Chromium")?;
    let mut lines = tokio::io::BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
    let mut timings = Vec::new();
    while let Some(line) = lines.next_line().await? {
        timings.push(serde_json::from_str::<PageTiming>(&line).with_context(|| format!("the timing script printed {line:?}, not a page's timing"))?);
    }
    let status = child.wait().await?;
    if !status.success() {
        anyhow::bail!("the timing script failed ({status}); its error is above. tests/browser/run installs what it needs");
    }
    Ok(timings)
}

pub async fn run(config: &ConsoleBenchConfig) -> anyhow::Result<BenchReport> {
    let directory = ScratchDirectory::new()?;
    let store = store::open(&StoreUrl::Sqlite { path: directory.path().join("bench.db") }, StoreLimits::default()).await?;
    let runtime = PluginRuntime::new(RuntimeConfig { cache_directory: Some(directory.path().join("compiled")), ..RuntimeConfig::default() })?;
    let host = PluginHost::open(store.clone(), runtime, true).await?;
    for plugin in ["bank-account", "account-summary"] {
        host.add(PluginSource { bytes: read_plugin(&config.plugin_directory, plugin)?, requested_name: None, file_stem: None }).await?;
    }
    append_in_batches(store.as_ref(), config.events, bank_event).await?;
    let server = TestServer::start(Arc::new(Commands::new(host.clone()))).await?;
    let timings = time_pages(config, &format!("http://{}", server.address)).await;
    server.stop().await;
    let timings = timings?;
    let floor = timings.iter().find(|timing| timing.page == "blank").context("the timing script reported no baseline")?;
    let mut rows = Vec::new();
    for (mode, of) in [("cold: a fresh browser context", (|timing: &PageTiming| &timing.cold) as fn(&PageTiming) -> &Timings), ("warm: files cached and revalidated", |timing: &PageTiming| &timing.warm)] {
        let baseline = of(floor);
        rows.push(BenchRow::new(format!("{mode}; a static file of the server (median of {})", floor.runs), format!("{:.0} ms", baseline.median_ms), "baseline"));
        for timing in timings.iter().filter(|timing| timing.page != "blank") {
            let measured = of(timing);
            let verdict = if measured.median_ms < GOAL_MILLISECONDS { "goal < 300 ms met" } else { "goal < 300 ms MISSED" };
            rows.push(BenchRow::new(
                format!("{mode}; page {}: data on screen", timing.page),
                format!("{:.0} ms (slowest {:.0} ms)", measured.median_ms, measured.max_ms),
                format!("{:.1}× the static file; {verdict}", measured.median_ms / baseline.median_ms.max(1.0)),
            ));
        }
    }
    Ok(BenchReport {
        title: format!("console page loads in Chromium, SQLite store of {} events over 10,000 accounts ({})", super::format_rate(config.events as f64).trim_end_matches(" events/s"), build_profile()),
        rows,
    })
}

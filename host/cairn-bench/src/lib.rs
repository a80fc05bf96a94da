//! `cairn bench`: measurements taken side by side with a baseline in the same
//! run, so that figures compare across machines as ratios.
//!
//! Performance goals live here and never in timed tests.

mod cairn_process;
pub mod cluster;
mod cluster_rows;
pub mod commands;
pub mod console;
mod exec_process;
pub mod http;
pub mod migrators;
pub mod plugins;
pub mod polyglot;
pub mod replay;
mod saturation;
pub mod shadow;
pub mod snapshots;
pub mod store;
mod store_engine;
mod swap;

use std::time::Duration;

/// One measured line of a benchmark report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchRow {
    pub measure: String,
    pub value: String,
    /// How this compares with the baseline measured in the same run.
    pub versus_baseline: String,
}

impl BenchRow {
    pub fn new(measure: impl Into<String>, value: impl Into<String>, versus_baseline: impl Into<String>) -> Self {
        Self { measure: measure.into(), value: value.into(), versus_baseline: versus_baseline.into() }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchReport {
    pub title: String,
    pub rows: Vec<BenchRow>,
}

pub fn events_per_second(events: u64, elapsed: Duration) -> f64 {
    events as f64 / elapsed.as_secs_f64().max(1e-9)
}

pub fn format_rate(rate: f64) -> String {
    let whole = rate.round() as u64;
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{grouped} events/s")
}

pub fn format_latency(duration: Duration) -> String {
    format!("{:.3} ms", duration.as_secs_f64() * 1000.0)
}

/// The value at quantile `q` (0..=1) of `samples`, which it sorts.
pub fn quantile(samples: &mut [Duration], q: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.sort_unstable();
    let index = ((samples.len() - 1) as f64 * q).round() as usize;
    samples[index]
}

/// Peak resident memory of this process so far, from /proc (Linux only).
pub fn peak_resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kilobytes: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes * 1024)
}

/// Current resident memory of this process, from /proc (Linux only).
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kilobytes: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes * 1024)
}

/// A throwaway directory for a benchmark's store and compile cache, removed
/// when dropped, also when the benchmark fails halfway.
pub struct ScratchDirectory(std::path::PathBuf);

impl ScratchDirectory {
    pub fn new() -> std::io::Result<Self> {
        let path = std::env::temp_dir().join(format!("cairn-bench-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&path)?;
        Ok(Self(path))
    }

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for ScratchDirectory {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Appends `count` events made by `make` (given each event's index), in
/// atomic batches of 1,000.
pub async fn append_in_batches(
    store: &dyn cairn::store::EventStore,
    count: u64,
    make: impl Fn(u64) -> cairn::event::NewEvent,
) -> anyhow::Result<()> {
    let mut batch = Vec::with_capacity(1_000);
    for index in 0..count {
        batch.push(make(index));
        if batch.len() == 1_000 || index + 1 == count {
            store.append(cairn::event::AppendRequest { events: std::mem::take(&mut batch), expectations: Vec::new() }).await?;
        }
    }
    Ok(())
}

/// A component that `plugins/build` wrote into `directory`.
pub fn read_plugin(directory: &std::path::Path, name: &str) -> anyhow::Result<Vec<u8>> {
    let path = directory.join(format!("{name}.wasm"));
    std::fs::read(&path).map_err(|error| anyhow::anyhow!("cannot read {} ({error}); build the plugins with plugins/build", path.display()))
}

/// Said in every report title, because debug figures mean little.
pub fn build_profile() -> &'static str {
    if cfg!(debug_assertions) {
        "a debug build: use --release for real figures"
    } else {
        "release build"
    }
}

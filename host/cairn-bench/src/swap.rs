//! How soon a running process uses a plugin version another process added:
//! the hot-swap promise of the registry poll, measured rather than asserted
//! in a timed test. Two plugin hosts share one store file, as two processes
//! would; one adds versions, the other polls the registry and is asked for
//! the aggregate until it answers with the new version.

use std::time::{Duration, Instant};

use super::{format_latency, quantile, BenchRow, ScratchDirectory};
use cairn::plugins::{PluginHost, PluginSource, DEFAULT_REFRESH_INTERVAL};
use cairn::runtime::{PluginRuntime, RuntimeConfig};
use cairn::store::{self, StoreLimits, StoreUrl};

/// Versions swapped in per run.
const SWAPS: usize = 8;

pub async fn rows(bank_bytes: &[u8]) -> anyhow::Result<Vec<BenchRow>> {
    let directory = ScratchDirectory::new()?;
    let url = StoreUrl::Sqlite { path: directory.path().join("swap.db") };
    let config = || RuntimeConfig { cache_directory: Some(directory.path().join("compiled")), ..RuntimeConfig::default() };
    let adder = PluginHost::open(store::open(&url, StoreLimits::default()).await?, PluginRuntime::new(config())?, false).await?;
    let running = PluginHost::open(store::open(&url, StoreLimits::default()).await?, PluginRuntime::new(config())?, true).await?;
    let _watch = running.watch(DEFAULT_REFRESH_INTERVAL);
    let mut delays = Vec::with_capacity(SWAPS);
    for swap in 0..=SWAPS {
        // Each version differs by a custom section, which changes nothing but its hash.
        let mut bytes = bank_bytes.to_vec();
        bytes.extend_from_slice(&custom_section(&format!("bench swap {swap}")));
        let added = adder.add(PluginSource { bytes, requested_name: None, file_stem: None }).await?;
        let started = Instant::now();
        loop {
            // Until the first version arrives, the type is unknown there.
            if let Ok((_, record)) = running.aggregate("bank-account").await {
                if record.version == added.record.version {
                    break;
                }
            }
            anyhow::ensure!(started.elapsed() < Duration::from_secs(30), "the running host never saw version {}", added.record.version);
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // The first version is only the starting point.
        if swap > 0 {
            delays.push(started.elapsed());
        }
    }
    let p50 = quantile(&mut delays, 0.5);
    let max = quantile(&mut delays, 1.0);
    Ok(vec![
        BenchRow::new("registry poll interval of a running process", format_latency(DEFAULT_REFRESH_INTERVAL), "baseline"),
        BenchRow::new(
            format!("a new version reaches a running process (another host added it), {SWAPS} swaps"),
            format!("p50 {}, max {}", format_latency(p50), format_latency(max)),
            format!("max {:.2}× the poll interval; the promise is under 1 s", max.as_secs_f64() / DEFAULT_REFRESH_INTERVAL.as_secs_f64()),
        ),
    ])
}

/// A custom section named `cairn-bench` holding `label`; a component may
/// carry custom sections anywhere.
fn custom_section(label: &str) -> Vec<u8> {
    let name = b"cairn-bench";
    let mut content = vec![name.len() as u8];
    content.extend_from_slice(name);
    content.extend_from_slice(label.as_bytes());
    let mut section = vec![0u8];
    let mut length = content.len();
    loop {
        let byte = (length & 0x7f) as u8;
        length >>= 7;
        if length == 0 {
            section.push(byte);
            break;
        }
        section.push(byte | 0x80);
    }
    section.extend_from_slice(&content);
    section
}

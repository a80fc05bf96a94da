//! `cairn exec` as a user runs it: one whole process per command, with the
//! plugin's machine code already in the compile cache. The Rust
//! bank-account is the baseline; `bank-account-py` is the same aggregate in
//! Python, an 18 MB component. A warm start reads the catalog row's content
//! hash and the cached machine code, never the component itself, so the two
//! should differ by the work inside the plugin, not by its size.

use std::path::Path;
use std::time::{Duration, Instant};

use super::{format_latency, quantile, read_plugin, BenchRow, ScratchDirectory};
use crate::cairn_process::CairnProcess;

/// Timed `cairn exec` processes per plugin.
const PROCESSES: usize = 25;

pub fn rows(plugin_directory: &Path) -> anyhow::Result<Vec<BenchRow>> {
    let scratch = ScratchDirectory::new()?;
    let cairn = CairnProcess::new(format!("sqlite://{}", scratch.path().join("exec.db").display()), "full", scratch.path().join("compiled"))?;
    let mut rust_median: Option<Duration> = None;
    let mut rows = Vec::new();
    // Each plugin's name is also its aggregate type.
    for (name, language) in [("bank-account", "Rust"), ("bank-account-py", "Python")] {
        let size = read_plugin(plugin_directory, name)?.len();
        cairn.run(&["plugin", "add", &plugin_directory.join(format!("{name}.wasm")).to_string_lossy()])?;
        // The first exec compiles into the cache; the timed ones find it there.
        cairn.run(&["exec", name, "bench", "Open", r#"{"owner":"Ann"}"#])?;
        let mut samples = Vec::with_capacity(PROCESSES);
        for _ in 0..PROCESSES {
            let started = Instant::now();
            cairn.run(&["exec", name, "bench", "Deposit", r#"{"amount":100}"#])?;
            samples.push(started.elapsed());
        }
        let median = quantile(&mut samples, 0.5);
        let slowest = quantile(&mut samples, 0.9);
        let versus = match rust_median {
            None => "baseline".to_owned(),
            Some(rust) => format!("{:.2}× the Rust process", median.as_secs_f64() / rust.as_secs_f64().max(1e-9)),
        };
        rust_median.get_or_insert(median);
        rows.push(BenchRow::new(
            format!("cairn exec, whole process, warm compile cache: {language} ({name}, {:.1} MB), p50 / p90", size as f64 / 1e6),
            format!("{} / {}", format_latency(median), format_latency(slowest)),
            versus,
        ));
    }
    Ok(rows)
}

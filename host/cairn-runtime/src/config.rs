//! What the runtime allows one plugin: memory, CPU time, how many calls at
//! once, and how much it may answer. Every limit has a flag in the CLI and a
//! row in README's "Limits and guarantees".

use std::path::PathBuf;
use std::time::Duration;

use crate::cache::default_cache_directory;

#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Linear memory one instance may use, across all of its memories.
    pub memory_limit_bytes: usize,
    /// CPU time one call may take.
    pub call_time_limit: Duration,
    /// Where compiled components are kept; `None` disables the cache.
    pub cache_directory: Option<PathBuf>,
    /// Idle instances kept per plugin for reuse.
    pub idle_instances_per_plugin: usize,
    /// Calls one plugin version runs at once; later ones wait their turn
    /// without holding a thread, so a plugin that is slow (or stuck until
    /// its CPU-time limit) cannot take every thread from the others.
    pub concurrent_calls_per_plugin: usize,
    pub output: OutputLimits,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            memory_limit_bytes: 64 * 1024 * 1024,
            call_time_limit: Duration::from_secs(1),
            cache_directory: default_cache_directory(),
            idle_instances_per_plugin: 4,
            concurrent_calls_per_plugin: default_concurrency(),
            output: OutputLimits::default(),
        }
    }
}

/// Two calls per core: enough to keep every core busy while some calls
/// wait on the store (a handler reading its read model).
pub fn default_concurrency() -> usize {
    std::thread::available_parallelism().map_or(2, |cores| cores.get()) * 2
}

/// How much one call may hand back. Memory bounds what a plugin can build;
/// these bound what the host accepts from it, each with a failure that
/// names the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputLimits {
    /// Events one `decide` may propose.
    pub events_per_decision: usize,
    /// Bytes of JSON one answer may carry: a state, the payloads of one
    /// decision, one migrated event.
    pub answer_bytes: usize,
    /// Read-model writes (puts and deletes) one `handle` call may make.
    pub read_model_writes_per_call: usize,
    /// Bytes one call may send to the host's log through `log`.
    pub log_bytes_per_call: usize,
}

impl Default for OutputLimits {
    fn default() -> Self {
        Self { events_per_decision: 10_000, answer_bytes: 16 * 1024 * 1024, read_model_writes_per_call: 100_000, log_bytes_per_call: 1024 * 1024 }
    }
}

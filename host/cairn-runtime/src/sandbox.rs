//! What a plugin instance may touch: nothing of the host's filesystem,
//! network or environment; a fixed clock and a fixed random seed, so that
//! replaying history always gives the same result; capped memory; and
//! stdout and stderr routed to the host log under the plugin's name.

use std::time::Duration;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};


/// Bytes of plugin output kept between two log flushes.
const OUTPUT_CAPACITY: usize = 1 << 20;

/// 2000-01-01T00:00:00Z: what a plugin's clock always says.
const FIXED_WALL_CLOCK: Duration = Duration::from_secs(946_684_800);

pub struct PluginState {
    plugin_name: String,
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limits: crate::limits::InstanceLimits,
    pub(crate) budget: crate::limits::CallBudget,
    stdout: OutputCapture,
    stderr: OutputCapture,
    /// What the plugin wrote to stderr during the last call: a panicking
    /// Rust plugin explains itself there, and a trap report quotes it.
    last_call_stderr: String,
    /// Set only while a handler handles events.
    pub(crate) read_model: Option<Box<dyn super::types::ReadModelAccess>>,
}

struct OutputCapture {
    pipe: MemoryOutputPipe,
    logged_bytes: usize,
}

impl OutputCapture {
    fn new() -> Self {
        Self { pipe: MemoryOutputPipe::new(OUTPUT_CAPACITY), logged_bytes: 0 }
    }

    fn take_new_text(&mut self) -> Option<String> {
        let contents = self.pipe.contents();
        if contents.len() <= self.logged_bytes {
            return None;
        }
        let text = String::from_utf8_lossy(&contents[self.logged_bytes..]).into_owned();
        self.logged_bytes = contents.len();
        Some(text)
    }

    fn nearly_full(&self) -> bool {
        self.logged_bytes > OUTPUT_CAPACITY / 2
    }
}

struct FixedWallClock;

impl HostWallClock for FixedWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        FIXED_WALL_CLOCK
    }
}

struct FixedMonotonicClock;

impl HostMonotonicClock for FixedMonotonicClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }

    fn now(&self) -> u64 {
        0
    }
}

impl PluginState {
    pub fn new(plugin_name: &str, memory_limit_bytes: usize, output: crate::OutputLimits) -> Self {
        let stdout = OutputCapture::new();
        let stderr = OutputCapture::new();
        let mut builder = WasiCtxBuilder::new();
        // No preopened directories, no environment, no arguments and no
        // network: the builder grants none of them unless asked.
        builder
            .stdout(stdout.pipe.clone())
            .stderr(stderr.pipe.clone())
            .wall_clock(FixedWallClock)
            .monotonic_clock(FixedMonotonicClock)
            .secure_random(DeterministicRandom::new(0x0ca1_2d5e_ed00_0001))
            .insecure_random(DeterministicRandom::new(0x0ca1_2d5e_ed00_0002))
            .insecure_random_seed(0x0ca1_2d5e_ed00_0003);
        Self {
            plugin_name: plugin_name.to_owned(),
            wasi: builder.build(),
            table: ResourceTable::new(),
            limits: crate::limits::InstanceLimits::new(memory_limit_bytes),
            budget: crate::limits::CallBudget::new(output),
            stdout,
            stderr,
            last_call_stderr: String::new(),
            read_model: None,
        }
    }

    /// Sends what the plugin printed since the last flush to the host log.
    /// Returns false when the instance should be retired because its output
    /// buffer is filling up.
    pub fn flush_output(&mut self) -> bool {
        let plugin = self.plugin_name.as_str();
        if let Some(text) = self.stdout.take_new_text() {
            for line in text.lines() {
                tracing::info!(target: "cairn::plugin", plugin, stream = "stdout", "{line}");
            }
        }
        self.last_call_stderr.clear();
        if let Some(text) = self.stderr.take_new_text() {
            for line in text.lines() {
                tracing::warn!(target: "cairn::plugin", plugin, stream = "stderr", "{line}");
            }
            self.last_call_stderr = text;
        }
        !(self.stdout.nearly_full() || self.stderr.nearly_full())
    }
}

impl PluginState {
    /// What the plugin wrote to stderr during its last call, on one line
    /// and cut to a readable length, without Rust's advice about
    /// RUST_BACKTRACE, which a plugin author cannot act on here.
    pub fn last_call_stderr(&self) -> Option<String> {
        let lines: Vec<&str> = self
            .last_call_stderr
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with("note: run with `RUST_BACKTRACE"))
            .collect();
        if lines.is_empty() {
            return None;
        }
        Some(lines.join(" ").chars().take(300).collect())
    }
}

impl PluginState {
    pub(crate) fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }
}

impl WasiView for PluginState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// A plugin's log level, whatever contract version it speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// What the `log` and `read-model` imports do, in host types: the
/// generated import traits (in `bindings`) delegate here.
impl PluginState {
    pub(crate) fn write_log(&mut self, level: LogLevel, message: &str) {
        if !self.budget.log(message.len()) {
            return;
        }
        let plugin = self.plugin_name.as_str();
        match level {
            LogLevel::Trace => tracing::trace!(target: "cairn::plugin", plugin, "{message}"),
            LogLevel::Debug => tracing::debug!(target: "cairn::plugin", plugin, "{message}"),
            LogLevel::Info => tracing::info!(target: "cairn::plugin", plugin, "{message}"),
            LogLevel::Warn => tracing::warn!(target: "cairn::plugin", plugin, "{message}"),
            LogLevel::Error => tracing::error!(target: "cairn::plugin", plugin, "{message}"),
        }
    }

    /// Handlers reach read models only while the host runs them over
    /// events, which puts a batch's read-model access in the state; any
    /// other call, and any value that is not JSON, traps the handler's call.
    pub(crate) fn read_model_get(&mut self, collection: &str, key: &str) -> wasmtime::Result<Option<String>> {
        let access = self.read_model.as_mut().ok_or_else(|| read_model_unavailable(collection))?;
        access.get(collection, key).map_err(|error| wasmtime::format_err!("read model {collection}/{key}: {error}"))
    }

    pub(crate) fn read_model_put(&mut self, collection: &str, key: &str, value: String) -> wasmtime::Result<()> {
        if let Err(problem) = cairn_event::answer::check_read_model_value(&value) {
            return Err(wasmtime::format_err!("read model {collection}/{key}: {problem}"));
        }
        self.budget.read_model_write().map_err(|message| wasmtime::format_err!("{message}"))?;
        let access = self.read_model.as_mut().ok_or_else(|| read_model_unavailable(collection))?;
        access.put(collection, key, value).map_err(|error| wasmtime::format_err!("read model {collection}/{key}: {error}"))
    }

    pub(crate) fn read_model_delete(&mut self, collection: &str, key: &str) -> wasmtime::Result<()> {
        self.budget.read_model_write().map_err(|message| wasmtime::format_err!("{message}"))?;
        let access = self.read_model.as_mut().ok_or_else(|| read_model_unavailable(collection))?;
        access.delete(collection, key).map_err(|error| wasmtime::format_err!("read model {collection}/{key}: {error}"))
    }
}

fn read_model_unavailable(collection: &str) -> wasmtime::Error {
    wasmtime::format_err!("read model collection `{collection}` is not available outside event handling")
}

/// A seeded generator (SplitMix64): the same bytes on every run, which is
/// what replay needs. Plugins must not use it for secrets.
struct DeterministicRandom {
    state: u64,
}

impl DeterministicRandom {
    fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl rand_core::TryRng for DeterministicRandom {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.next() as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.next())
    }

    fn try_fill_bytes(&mut self, destination: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in destination.chunks_mut(8) {
            let bytes = self.next().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

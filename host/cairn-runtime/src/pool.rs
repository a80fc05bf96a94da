//! Instances of one plugin version, reused across calls. A call checks an
//! instance out, runs under the CPU deadline, and returns it only if the
//! call succeeded: an instance that trapped may hold broken state.

use std::sync::{Arc, Mutex};

use wasmtime::component::InstancePre;
use wasmtime::Store;

use super::error::{FailureReason, PluginCallError, PluginLoadError};
use super::sandbox::PluginState;
use super::{CompiledPlugin, PluginRuntime};

/// A pre-linked world that can be instantiated into a store: implemented
/// by each world's version enum in `bindings`.
pub(crate) trait WorldPre: Send + Sync + 'static {
    type Bindings: Send + 'static;
    fn instantiate_into(&self, store: &mut Store<PluginState>) -> wasmtime::Result<Self::Bindings>;
}

type Instance<B> = (Store<PluginState>, B);

pub(crate) struct InstancePool<P: WorldPre> {
    runtime: Arc<PluginRuntime>,
    plugin_name: String,
    gate: crate::CallGate,
    pre: P,
    idle: Mutex<Vec<Instance<P::Bindings>>>,
}


impl<P: WorldPre> InstancePool<P> {
    /// Links `compiled` into its world (`link` wraps the linker's
    /// `InstancePre` in the world's generated type) and makes the pool.
    pub fn link(
        runtime: Arc<PluginRuntime>,
        plugin_name: &str,
        compiled: &CompiledPlugin,
        link: impl FnOnce(crate::types::ContractVersion, InstancePre<PluginState>) -> wasmtime::Result<P>,
    ) -> Result<Self, PluginLoadError> {
        let instance_pre = runtime.instantiate_pre(&compiled.component)?;
        let pre = link(compiled.contract, instance_pre).map_err(|error| PluginLoadError::Instantiation(format!("{error:#}")))?;
        let gate = crate::CallGate::new(runtime.config.concurrent_calls_per_plugin);
        Ok(Self { runtime, plugin_name: plugin_name.to_owned(), gate, pre, idle: Mutex::new(Vec::new()) })
    }

    pub fn plugin_name(&self) -> &str {
        &self.plugin_name
    }

    /// How many calls of this plugin version run at once.
    pub fn gate(&self) -> &crate::CallGate {
        &self.gate
    }

    /// Bytes of events one call should carry at most: an eighth of the
    /// instance's memory, so that the plugin's copy and what it builds from
    /// it fit.
    pub fn event_bytes_per_call(&self) -> usize {
        self.runtime.config.memory_limit_bytes / 8
    }

    pub fn output_limits(&self) -> &crate::OutputLimits {
        &self.runtime.config.output
    }

    /// The CPU deadline for one call, for bodies that make several calls.
    pub fn deadline_ticks(&self) -> u64 {
        self.runtime.epoch_deadline_ticks()
    }

    /// Runs one call on an idle instance (or a new one) under the CPU
    /// deadline. An instance that failed is dropped, never reused.
    pub fn call<R>(
        &self,
        function: &'static str,
        body: impl FnOnce(&mut Store<PluginState>, &P::Bindings) -> wasmtime::Result<R>,
    ) -> Result<R, PluginCallError> {
        let started = std::time::Instant::now();
        let idle = self.idle.lock().expect("instance pool lock").pop();
        let (mut store, bindings) = match idle {
            Some(instance) => instance,
            None => self.instantiate(function).inspect_err(|error| crate::telemetry::plugin_called(&self.plugin_name, function, Some(&error.reason), started.elapsed()))?,
        };
        store.set_epoch_deadline(self.runtime.epoch_deadline_ticks());
        store.data_mut().budget.reset();
        let result = body(&mut store, &bindings);
        let output_has_room = store.data_mut().flush_output();
        // Over a limit: the call fails even if the plugin answered, and the
        // instance (which may hold the excess) is not reused.
        let result = match store.data_mut().budget.over.take() {
            Some(limit) => Err(wasmtime::Error::new(OverLimit(limit))),
            None => result,
        };
        match result {
            Ok(value) => {
                crate::telemetry::plugin_called(&self.plugin_name, function, None, started.elapsed());
                let mut idle = self.idle.lock().expect("instance pool lock");
                if output_has_room && idle.len() < self.runtime.config.idle_instances_per_plugin {
                    idle.push((store, bindings));
                }
                Ok(value)
            }
            Err(error) => {
                let failure = self.classify(function, &store, error);
                crate::telemetry::plugin_called(&self.plugin_name, function, Some(&failure.reason), started.elapsed());
                Err(failure)
            }
        }
    }

    pub fn failure(&self, function: &'static str, reason: FailureReason) -> PluginCallError {
        PluginCallError { plugin: self.plugin_name.clone(), function, reason }
    }

    fn instantiate(&self, function: &'static str) -> Result<Instance<P::Bindings>, PluginCallError> {
        let state = PluginState::new(&self.plugin_name, self.runtime.config.memory_limit_bytes, self.runtime.config.output.clone());
        let mut store = Store::new(&self.runtime.engine, state);
        store.limiter(|state| &mut state.limits);
        store.set_epoch_deadline(self.runtime.epoch_deadline_ticks());
        match self.pre.instantiate_into(&mut store) {
            Ok(bindings) => Ok((store, bindings)),
            Err(error) => {
                store.data_mut().flush_output();
                Err(self.classify(function, &store, error))
            }
        }
    }

    fn classify(&self, function: &'static str, store: &Store<PluginState>, error: wasmtime::Error) -> PluginCallError {
        let config = &self.runtime.config;
        let reason = if let Some(OverLimit(limit)) = error.downcast_ref::<OverLimit>() {
            FailureReason::OverLimit(limit.clone())
        } else if let Some(limit) = crate::limits::count_over_limit(&error) {
            FailureReason::OverLimit(limit)
        } else if store.data().limits.exceeded == Some(crate::limits::Exceeded::Memory) {
            FailureReason::OutOfMemory((config.memory_limit_bytes / (1024 * 1024)) as u64)
        } else if matches!(error.downcast_ref::<wasmtime::Trap>(), Some(wasmtime::Trap::Interrupt)) {
            FailureReason::Timeout(config.call_time_limit)
        } else {
            FailureReason::Trap(trap_summary(&error, store.data().last_call_stderr()))
        };
        tracing::warn!(plugin = %self.plugin_name, function, "plugin call failed: {reason}");
        tracing::debug!(plugin = %self.plugin_name, function, "plugin failure in full: {error:?}");
        self.failure(function, reason)
    }
}

/// A call that went over one of the output limits; the text names it.
#[derive(Debug)]
struct OverLimit(String);

impl std::fmt::Display for OverLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OverLimit {}

/// The trap's own message, without the wasm backtrace (the host log has
/// it), and what the plugin wrote to stderr, where a panic message lands.
fn trap_summary(error: &wasmtime::Error, stderr: Option<String>) -> String {
    let message = match error.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => trap.to_string(),
        None => error.chain().last().map(|cause| cause.to_string()).unwrap_or_default(),
    };
    let message = message.lines().next().unwrap_or_default().to_owned();
    match stderr {
        Some(line) => format!("{message}; the plugin wrote to stderr: {line}"),
        None => message,
    }
}

//! The plugin runtime: wasmtime components in a sandbox.
//!
//! Invariants:
//! - Only `bindings` names generated code; the rest of the runtime, and
//!   everything outside this crate, sees `types`. Each contract version has
//!   its own module there, linked side by side.
//! - A failing plugin call affects that call only: its instance is thrown
//!   away and the error names the plugin, the function and the reason.
//! - Plugin calls are synchronous and run on blocking threads, never on an
//!   async runtime thread.

mod aggregate;
mod bindings;
mod cache;
mod clock;
mod config;
mod gate;
mod error;
mod handler;
mod limits;
mod migrator;
mod pool;
mod sandbox;
mod telemetry;
pub mod types;

use std::sync::{Arc, Weak};
use std::time::Duration;

use wasmtime::component::{types::ComponentItem, Component, Linker};
use wasmtime::{Config, Engine};

pub use aggregate::AggregatePlugin;
pub use types::CheckedEvent;
pub use cache::{content_hash, default_cache_directory, CompileSource};
pub use error::{FailureReason, PluginCallError, PluginLoadError};
pub use handler::HandlerPlugin;
pub use migrator::MigratorPlugin;
use sandbox::PluginState;
pub use telemetry::{PLUGIN_CALLS, PLUGIN_CALL_DURATION};
pub use config::{OutputLimits, RuntimeConfig};
pub use gate::{CallGate, CallPermit, GateReading};
pub use types::ContractVersion;

/// How often the CPU-time clock ticks; a call's limit is a number of ticks.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The Cairn worlds a component can export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PluginKind {
    Aggregate,
    Migrator,
    Handler,
}

impl PluginKind {
    pub const ALL: [PluginKind; 3] = [PluginKind::Aggregate, PluginKind::Migrator, PluginKind::Handler];

    pub fn parse(text: &str) -> Option<Self> {
        PluginKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Aggregate => "aggregate",
            PluginKind::Migrator => "migrator",
            PluginKind::Handler => "handler",
        }
    }
}

/// WASI interfaces a plugin may import. They exist so that ordinary
/// standard libraries link; the sandbox behind them is empty or fixed.
/// Filesystem, sockets and HTTP are not granted.
const GRANTED_IMPORT_PREFIXES: &[&str] = &[
    "cairn:plugin/",
    "wasi:io/",
    "wasi:cli/environment@",
    "wasi:cli/exit@",
    "wasi:cli/stdin@",
    "wasi:cli/stdout@",
    "wasi:cli/stderr@",
    "wasi:cli/terminal-",
    "wasi:clocks/",
    "wasi:random/",
];

pub struct PluginRuntime {
    engine: Engine,
    linker: Linker<PluginState>,
    config: RuntimeConfig,
}

/// A compiled, checked component, not yet bound to a world's API.
pub struct CompiledPlugin {
    pub kind: PluginKind,
    /// The version of the `cairn:plugin` contract the component exports.
    pub contract: types::ContractVersion,
    pub content_hash: String,
    pub compile_source: CompileSource,
    component: Component,
}

impl PluginRuntime {
    pub fn new(config: RuntimeConfig) -> Result<Arc<Self>, PluginLoadError> {
        let mut engine_config = Config::new();
        engine_config.epoch_interruption(true);
        // For profiling plugins with `perf`: names the compiled guest
        // functions in /tmp/perf-PID.map, which perf reads. Off by default,
        // because the map grows with every component loaded.
        if std::env::var_os("CAIRN_WASM_PERFMAP").is_some_and(|value| value == "1") {
            engine_config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = Engine::new(&engine_config).map_err(|error| PluginLoadError::Instantiation(format!("{error:#}")))?;
        let mut linker = Linker::new(&engine);
        let link = |result: wasmtime::Result<()>| result.map_err(|error| PluginLoadError::Instantiation(format!("{error:#}")));
        link(wasmtime_wasi::p2::add_to_linker_sync(&mut linker))?;
        link(clock::shadow_monotonic_clock(&mut linker))?;
        link(bindings::add_imports(&mut linker))?;
        let runtime = Arc::new(Self { engine, linker, config });
        start_epoch_ticker(Arc::downgrade(&runtime));
        Ok(runtime)
    }

    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// Compiles (or loads from the cache) and checks which world the
    /// component exports and what it imports.
    pub fn compile(&self, bytes: &[u8]) -> Result<CompiledPlugin, PluginLoadError> {
        if !wasmparser_is_component(bytes) {
            return Err(PluginLoadError::NotAComponent(
                "it does not start with the component-model header".to_owned(),
            ));
        }
        let content_hash = content_hash(bytes);
        let (component, compile_source) =
            cache::compile(&self.engine, self.config.cache_directory.as_deref(), bytes, &content_hash)?;
        self.inspect(component, content_hash, compile_source)
    }

    /// The plugin whose component has `content_hash`, from the compile
    /// cache alone, without reading its bytes: `None` when the cache lacks
    /// it, and the caller then reads the bytes and calls [`compile`](Self::compile).
    /// Loading from the registry goes this way first, so a process that
    /// starts with a warm cache never reads an 18 MB component from the store.
    pub fn compile_from_cache(&self, content_hash: &str) -> Option<Result<CompiledPlugin, PluginLoadError>> {
        let component = cache::cached(&self.engine, self.config.cache_directory.as_deref(), content_hash)?;
        Some(self.inspect(component, content_hash.to_owned(), CompileSource::Cache))
    }

    /// Checks which world a compiled component exports and what it imports.
    fn inspect(&self, component: Component, content_hash: String, compile_source: CompileSource) -> Result<CompiledPlugin, PluginLoadError> {
        let component_type = component.component_type();
        let exports: Vec<(String, ComponentItem)> =
            component_type.exports(&self.engine).map(|(name, item)| (name.to_owned(), item.ty)).collect();
        let export_names: Vec<String> = exports.iter().map(|(name, _)| name.clone()).collect();
        let world = match bindings::exported_worlds(&export_names).as_slice() {
            [world] => *world,
            [] => return Err(PluginLoadError::NoKnownWorld(if exports.is_empty() { "nothing".to_owned() } else { export_names.join(", ") })),
            several => {
                return Err(PluginLoadError::SeveralWorlds(
                    several.iter().map(|world| format!("{} {}", world.kind.as_str(), world.contract)).collect::<Vec<_>>().join(", "),
                ))
            }
        };
        let functions: Vec<String> = match exports.iter().find(|(name, _)| name == world.export) {
            Some((_, ComponentItem::ComponentInstance(instance))) => instance.exports(&self.engine).map(|(name, _)| name.to_owned()).collect(),
            _ => Vec::new(),
        };
        let missing: Vec<&str> = world.functions.iter().copied().filter(|function| !functions.iter().any(|name| name == function)).collect();
        if !missing.is_empty() {
            return Err(PluginLoadError::MissingFunctions {
                export: world.export.to_owned(),
                missing: missing.join(", "),
                contract: world.contract,
            });
        }
        let (kind, contract) = (world.kind, world.contract);
        let forbidden: Vec<String> = component_type
            .imports(&self.engine)
            .filter(|(name, item)| {
                matches!(item.ty, ComponentItem::ComponentInstance(_) | ComponentItem::ComponentFunc(_))
                    && !GRANTED_IMPORT_PREFIXES.iter().any(|prefix| name.starts_with(prefix))
            })
            .map(|(name, _)| name.to_owned())
            .collect();
        if !forbidden.is_empty() {
            return Err(PluginLoadError::ForbiddenImports(format!(
                "{}; a plugin may import only cairn:plugin and the WASI clocks, random, io and cli stdio interfaces",
                forbidden.join(", ")
            )));
        }
        Ok(CompiledPlugin { kind, contract, content_hash, compile_source, component })
    }

    /// Links a compiled plugin into its world and asks it to describe itself.
    pub fn load(self: &Arc<Self>, name: &str, compiled: &CompiledPlugin) -> Result<LoadedPlugin, PluginLoadError> {
        Ok(match compiled.kind {
            PluginKind::Aggregate => LoadedPlugin::Aggregate(Arc::new(AggregatePlugin::new(self.clone(), name, compiled)?)),
            PluginKind::Migrator => LoadedPlugin::Migrator(Arc::new(MigratorPlugin::new(self.clone(), name, compiled)?)),
            PluginKind::Handler => LoadedPlugin::Handler(Arc::new(HandlerPlugin::new(self.clone(), name, compiled)?)),
        })
    }

    fn instantiate_pre(
        &self,
        component: &Component,
    ) -> Result<wasmtime::component::InstancePre<PluginState>, PluginLoadError> {
        self.linker.instantiate_pre(component).map_err(|error| PluginLoadError::Instantiation(format!("{error:#}")))
    }

    fn epoch_deadline_ticks(&self) -> u64 {
        (self.config.call_time_limit.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64
    }
}

/// A plugin linked into its world, of whichever kind it is.
#[derive(Clone)]
pub enum LoadedPlugin {
    Aggregate(Arc<AggregatePlugin>),
    Migrator(Arc<MigratorPlugin>),
    Handler(Arc<HandlerPlugin>),
}

impl LoadedPlugin {
    /// Where this version's calls wait for a place among those running.
    pub fn gate(&self) -> &CallGate {
        match self {
            LoadedPlugin::Aggregate(plugin) => plugin.gate(),
            LoadedPlugin::Migrator(plugin) => plugin.gate(),
            LoadedPlugin::Handler(plugin) => plugin.gate(),
        }
    }

    pub fn kind(&self) -> PluginKind {
        match self {
            LoadedPlugin::Aggregate(_) => PluginKind::Aggregate,
            LoadedPlugin::Migrator(_) => PluginKind::Migrator,
            LoadedPlugin::Handler(_) => PluginKind::Handler,
        }
    }
}

/// Components start with the preamble `\0asm` followed by a layer of 1;
/// core modules have layer 0.
fn wasmparser_is_component(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && &bytes[0..4] == b"\0asm" && bytes[6..8] == [1, 0]
}

/// Advances the engine's epoch so that calls past their deadline trap. The
/// thread ends when the runtime is dropped.
fn start_epoch_ticker(runtime: Weak<PluginRuntime>) {
    std::thread::Builder::new()
        .name("cairn-epoch".to_owned())
        .spawn(move || loop {
            std::thread::sleep(EPOCH_TICK);
            match runtime.upgrade() {
                Some(runtime) => runtime.engine.increment_epoch(),
                None => return,
            }
        })
        .expect("the epoch thread starts");
}

impl std::fmt::Display for PluginKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

//! The only module that names generated bindings. Each contract version
//! the host speaks has a module of its own (`v0_1`, `v0_2`), generated from its
//! frozen WIT package and linked side by side with the others; the rest of
//! the runtime calls a world through the enums here, in host types
//! (`crate::types`), whatever version the component exports.

/// The bindgen output of one contract version's three worlds, from its WIT
/// folder, in a module `generated` (`handler`, `aggregate`, `migrator`; the
/// last two share the handler world's `types` and `log`).
macro_rules! generated_worlds {
    ($path:tt) => {
        mod generated {
            pub mod handler {
                wasmtime::component::bindgen!({
                    path: $path,
                    world: "handler-plugin",
                    // Read-model calls reach the store and can fail; they trap
                    // the handler's call rather than answer with made-up data.
                    imports: { "cairn:plugin/read-model": trappable },
                });
            }

            pub mod aggregate {
                wasmtime::component::bindgen!({
                    path: $path,
                    world: "aggregate-plugin",
                    with: {
                        "cairn:plugin/types": super::handler::cairn::plugin::types,
                        "cairn:plugin/log": super::handler::cairn::plugin::log,
                    },
                });
            }

            pub mod migrator {
                wasmtime::component::bindgen!({
                    path: $path,
                    world: "migrator-plugin",
                    with: {
                        "cairn:plugin/types": super::handler::cairn::plugin::types,
                        "cairn:plugin/log": super::handler::cairn::plugin::log,
                    },
                });
            }
        }
    };
}

/// What every contract version does alike, written against that version's
/// own generated modules (in scope as `log`, `read_model` and `wire`): the
/// host side of `log` and `read-model`, and reading the `error` variant.
macro_rules! version_glue {
    () => {
        /// The imports every world of this version may use: `log`, and
        /// `read-model` for handlers.
        pub(super) fn add_imports(linker: &mut wasmtime::component::Linker<PluginState>) -> wasmtime::Result<()> {
            use wasmtime::component::HasSelf;
            log::add_to_linker::<PluginState, HasSelf<PluginState>>(linker, |state| state)?;
            read_model::add_to_linker::<PluginState, HasSelf<PluginState>>(linker, |state| state)
        }

        impl log::Host for PluginState {
            fn log(&mut self, level: log::Level, message: String) {
                let level = match level {
                    log::Level::Trace => LogLevel::Trace,
                    log::Level::Debug => LogLevel::Debug,
                    log::Level::Info => LogLevel::Info,
                    log::Level::Warn => LogLevel::Warn,
                    log::Level::Error => LogLevel::Error,
                };
                self.write_log(level, &message);
            }
        }

        impl read_model::Host for PluginState {
            fn get(&mut self, collection: String, key: String) -> wasmtime::Result<Option<String>> {
                self.read_model_get(&collection, &key)
            }

            fn put(&mut self, collection: String, key: String, value: String) -> wasmtime::Result<()> {
                self.read_model_put(&collection, &key, value)
            }

            fn delete(&mut self, collection: String, key: String) -> wasmtime::Result<()> {
                self.read_model_delete(&collection, &key)
            }
        }

        fn reply_from_wire(error: wire::Error) -> PluginReply {
            match error {
                wire::Error::Rejected(message) => PluginReply::Rejected(message),
                wire::Error::Invalid(message) => PluginReply::Invalid(message),
                wire::Error::Internal(message) => PluginReply::Internal(message),
            }
        }
    };
}

mod events_json;
mod v0_1;
mod v0_2;

use cairn_event::RecordedEvent;
use wasmtime::component::{InstancePre, Linker};
use wasmtime::Store;

use crate::pool::WorldPre;
use crate::sandbox::PluginState;
use crate::types::{AggregateInfo, CommandInput, ContractVersion, EventShape, HandlerInfo, MigrationAnswer, MigrationStep, PluginReply, ProposedEvent};
use crate::PluginKind;

/// Adds the imports of every contract version to `linker`.
pub(crate) fn add_imports(linker: &mut Linker<PluginState>) -> wasmtime::Result<()> {
    v0_1::add_imports(linker)?;
    v0_2::add_imports(linker)
}

/// A world interface the host knows: its export name, and the functions it must have.
pub(crate) struct KnownWorld {
    pub kind: PluginKind,
    pub contract: ContractVersion,
    pub export: &'static str,
    pub functions: &'static [&'static str],
}

/// The functions each world's interface exports; every version so far has
/// the same names.
const AGGREGATE_FUNCTIONS: &[&str] = &["describe", "initial-state", "apply", "decide"];
const MIGRATOR_FUNCTIONS: &[&str] = &["describe", "migrate"];
const HANDLER_FUNCTIONS: &[&str] = &["describe", "handle"];

const KNOWN_WORLDS: [KnownWorld; 6] = [
    KnownWorld { kind: PluginKind::Aggregate, contract: ContractVersion::V0_1, export: v0_1::AGGREGATE_EXPORT, functions: AGGREGATE_FUNCTIONS },
    KnownWorld { kind: PluginKind::Migrator, contract: ContractVersion::V0_1, export: v0_1::MIGRATOR_EXPORT, functions: MIGRATOR_FUNCTIONS },
    KnownWorld { kind: PluginKind::Handler, contract: ContractVersion::V0_1, export: v0_1::HANDLER_EXPORT, functions: HANDLER_FUNCTIONS },
    KnownWorld { kind: PluginKind::Aggregate, contract: ContractVersion::V0_2, export: v0_2::AGGREGATE_EXPORT, functions: AGGREGATE_FUNCTIONS },
    KnownWorld { kind: PluginKind::Migrator, contract: ContractVersion::V0_2, export: v0_2::MIGRATOR_EXPORT, functions: MIGRATOR_FUNCTIONS },
    KnownWorld { kind: PluginKind::Handler, contract: ContractVersion::V0_2, export: v0_2::HANDLER_EXPORT, functions: HANDLER_FUNCTIONS },
];

/// Every known world whose interface `exports` names.
pub(crate) fn exported_worlds(exports: &[String]) -> Vec<&'static KnownWorld> {
    KNOWN_WORLDS.iter().filter(|world| exports.iter().any(|export| export == world.export)).collect()
}

/// Implements [`WorldPre`] for a world's version enum.
macro_rules! world_pre {
    ($pre:ident, $instance:ident, $($version:ident),+) => {
        impl WorldPre for $pre {
            type Bindings = $instance;

            fn instantiate_into(&self, store: &mut Store<PluginState>) -> wasmtime::Result<$instance> {
                match self {
                    $($pre::$version(pre) => pre.instantiate(store).map($instance::$version),)+
                }
            }
        }
    };
}

pub(crate) enum AggregatePre {
    V0_1(v0_1::AggregatePre),
    V0_2(v0_2::AggregatePre),
}

pub(crate) enum AggregateInstance {
    V0_1(v0_1::AggregateInstance),
    V0_2(v0_2::AggregateInstance),
}

world_pre!(AggregatePre, AggregateInstance, V0_1, V0_2);

impl AggregatePre {
    pub fn new(version: ContractVersion, pre: InstancePre<PluginState>) -> wasmtime::Result<Self> {
        match version {
            ContractVersion::V0_1 => v0_1::AggregatePre::new(pre).map(Self::V0_1),
            ContractVersion::V0_2 => v0_2::AggregatePre::new(pre).map(Self::V0_2),
        }
    }
}

impl AggregateInstance {
    pub fn describe(&self, store: &mut Store<PluginState>) -> wasmtime::Result<(AggregateInfo, EventShape)> {
        match self {
            Self::V0_1(instance) => instance.describe(store),
            Self::V0_2(instance) => instance.describe(store),
        }
    }

    pub fn initial_state(&self, store: &mut Store<PluginState>, aggregate_id: &str) -> wasmtime::Result<String> {
        match self {
            Self::V0_1(instance) => instance.initial_state(store, aggregate_id),
            Self::V0_2(instance) => instance.initial_state(store, aggregate_id),
        }
    }

    /// `events` are all of one stream.
    pub fn apply(&self, store: &mut Store<PluginState>, state: &str, events: &[RecordedEvent], shape: EventShape) -> wasmtime::Result<Result<String, PluginReply>> {
        match self {
            Self::V0_1(instance) => instance.apply(store, state, events),
            Self::V0_2(instance) => instance.apply(store, state, events, shape),
        }
    }

    pub fn decide(
        &self,
        store: &mut Store<PluginState>,
        state: &str,
        command: &CommandInput,
    ) -> wasmtime::Result<Result<Vec<ProposedEvent>, PluginReply>> {
        match self {
            Self::V0_1(instance) => instance.decide(store, state, command),
            Self::V0_2(instance) => instance.decide(store, state, command),
        }
    }
}

pub(crate) enum MigratorPre {
    V0_1(v0_1::MigratorPre),
    V0_2(v0_2::MigratorPre),
}

pub(crate) enum MigratorInstance {
    V0_1(v0_1::MigratorInstance),
    V0_2(v0_2::MigratorInstance),
}

world_pre!(MigratorPre, MigratorInstance, V0_1, V0_2);

impl MigratorPre {
    pub fn new(version: ContractVersion, pre: InstancePre<PluginState>) -> wasmtime::Result<Self> {
        match version {
            ContractVersion::V0_1 => v0_1::MigratorPre::new(pre).map(Self::V0_1),
            ContractVersion::V0_2 => v0_2::MigratorPre::new(pre).map(Self::V0_2),
        }
    }
}

impl MigratorInstance {
    pub fn describe(&self, store: &mut Store<PluginState>) -> wasmtime::Result<(Vec<MigrationStep>, EventShape)> {
        match self {
            Self::V0_1(instance) => instance.describe(store),
            Self::V0_2(instance) => instance.describe(store),
        }
    }

    /// Answers for `events` in order: 0.2 answers the batch in one call;
    /// 0.1 takes one call per event, each with a fresh CPU deadline of
    /// `deadline_ticks`, and stops at the first refusal, so its answer may be
    /// shorter than the batch. `failed_at` tracks the event being migrated,
    /// for a call that traps: for a 0.2 batch, its first event.
    pub fn migrate_batch(
        &self,
        store: &mut Store<PluginState>,
        events: &[&RecordedEvent],
        shape: EventShape,
        deadline_ticks: u64,
        failed_at: &std::cell::Cell<usize>,
    ) -> wasmtime::Result<Vec<Result<MigrationAnswer, PluginReply>>> {
        match self {
            Self::V0_1(instance) => {
                let mut answers = Vec::with_capacity(events.len());
                for (index, event) in events.iter().enumerate() {
                    failed_at.set(index);
                    store.set_epoch_deadline(deadline_ticks);
                    let answer = instance.migrate(&mut *store, event)?.map(MigrationAnswer::Whole);
                    let refused = answer.is_err();
                    answers.push(answer);
                    if refused {
                        break;
                    }
                }
                Ok(answers)
            }
            Self::V0_2(instance) => {
                failed_at.set(0);
                instance.migrate_batch(store, events, shape)
            }
        }
    }
}

pub(crate) enum HandlerPre {
    V0_1(v0_1::HandlerPre),
    V0_2(v0_2::HandlerPre),
}

pub(crate) enum HandlerInstance {
    V0_1(v0_1::HandlerInstance),
    V0_2(v0_2::HandlerInstance),
}

world_pre!(HandlerPre, HandlerInstance, V0_1, V0_2);

impl HandlerPre {
    pub fn new(version: ContractVersion, pre: InstancePre<PluginState>) -> wasmtime::Result<Self> {
        match version {
            ContractVersion::V0_1 => v0_1::HandlerPre::new(pre).map(Self::V0_1),
            ContractVersion::V0_2 => v0_2::HandlerPre::new(pre).map(Self::V0_2),
        }
    }
}

impl HandlerInstance {
    pub fn describe(&self, store: &mut Store<PluginState>) -> wasmtime::Result<(HandlerInfo, EventShape)> {
        match self {
            Self::V0_1(instance) => instance.describe(store),
            Self::V0_2(instance) => instance.describe(store),
        }
    }

    pub fn handle(&self, store: &mut Store<PluginState>, events: &[RecordedEvent], shape: EventShape) -> wasmtime::Result<Result<(), (u32, PluginReply)>> {
        match self {
            Self::V0_1(instance) => instance.handle(store, events),
            Self::V0_2(instance) => instance.handle(store, events, shape),
        }
    }
}

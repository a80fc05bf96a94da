//! The only module that names generated bindings. Each contract version
//! the host speaks has a module of its own (`v0_1`), generated from its
//! frozen WIT package and linked side by side with the others; the rest of
//! the runtime calls a world through the enums here, in host types
//! (`crate::types`), whatever version the component exports.

mod v0_1;

use cairn_event::RecordedEvent;
use wasmtime::component::{InstancePre, Linker};
use wasmtime::Store;

use crate::pool::WorldPre;
use crate::sandbox::PluginState;
use crate::types::{AggregateInfo, CommandInput, ContractVersion, HandlerInfo, MigrationStep, PluginReply, ProposedEvent, ReturnedEvent};
use crate::PluginKind;

/// Adds the imports of every contract version to `linker`.
pub(crate) fn add_imports(linker: &mut Linker<PluginState>) -> wasmtime::Result<()> {
    v0_1::add_imports(linker)
}

/// Every (kind, contract version) whose world interface `exports` names.
pub(crate) fn exported_worlds(exports: &[String]) -> Vec<(PluginKind, ContractVersion)> {
    let known = [
        (v0_1::AGGREGATE_EXPORT, PluginKind::Aggregate, ContractVersion::V0_1),
        (v0_1::MIGRATOR_EXPORT, PluginKind::Migrator, ContractVersion::V0_1),
        (v0_1::HANDLER_EXPORT, PluginKind::Handler, ContractVersion::V0_1),
    ];
    known
        .into_iter()
        .filter(|(name, _, _)| exports.iter().any(|export| export == name))
        .map(|(_, kind, version)| (kind, version))
        .collect()
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
}

pub(crate) enum AggregateInstance {
    V0_1(v0_1::AggregateInstance),
}

world_pre!(AggregatePre, AggregateInstance, V0_1);

impl AggregatePre {
    pub fn new(version: ContractVersion, pre: InstancePre<PluginState>) -> wasmtime::Result<Self> {
        match version {
            ContractVersion::V0_1 => v0_1::AggregatePre::new(pre).map(Self::V0_1),
        }
    }
}

impl AggregateInstance {
    pub fn describe(&self, store: &mut Store<PluginState>) -> wasmtime::Result<AggregateInfo> {
        match self {
            Self::V0_1(instance) => instance.describe(store),
        }
    }

    pub fn initial_state(&self, store: &mut Store<PluginState>, aggregate_id: &str) -> wasmtime::Result<String> {
        match self {
            Self::V0_1(instance) => instance.initial_state(store, aggregate_id),
        }
    }

    pub fn apply(&self, store: &mut Store<PluginState>, state: &str, events: &[RecordedEvent]) -> wasmtime::Result<Result<String, PluginReply>> {
        match self {
            Self::V0_1(instance) => instance.apply(store, state, events),
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
        }
    }
}

pub(crate) enum MigratorPre {
    V0_1(v0_1::MigratorPre),
}

pub(crate) enum MigratorInstance {
    V0_1(v0_1::MigratorInstance),
}

world_pre!(MigratorPre, MigratorInstance, V0_1);

impl MigratorPre {
    pub fn new(version: ContractVersion, pre: InstancePre<PluginState>) -> wasmtime::Result<Self> {
        match version {
            ContractVersion::V0_1 => v0_1::MigratorPre::new(pre).map(Self::V0_1),
        }
    }
}

impl MigratorInstance {
    pub fn describe(&self, store: &mut Store<PluginState>) -> wasmtime::Result<Vec<MigrationStep>> {
        match self {
            Self::V0_1(instance) => instance.describe(store),
        }
    }

    pub fn migrate(&self, store: &mut Store<PluginState>, event: &RecordedEvent) -> wasmtime::Result<Result<ReturnedEvent, PluginReply>> {
        match self {
            Self::V0_1(instance) => instance.migrate(store, event),
        }
    }
}

pub(crate) enum HandlerPre {
    V0_1(v0_1::HandlerPre),
}

pub(crate) enum HandlerInstance {
    V0_1(v0_1::HandlerInstance),
}

world_pre!(HandlerPre, HandlerInstance, V0_1);

impl HandlerPre {
    pub fn new(version: ContractVersion, pre: InstancePre<PluginState>) -> wasmtime::Result<Self> {
        match version {
            ContractVersion::V0_1 => v0_1::HandlerPre::new(pre).map(Self::V0_1),
        }
    }
}

impl HandlerInstance {
    pub fn describe(&self, store: &mut Store<PluginState>) -> wasmtime::Result<HandlerInfo> {
        match self {
            Self::V0_1(instance) => instance.describe(store),
        }
    }

    pub fn handle(&self, store: &mut Store<PluginState>, events: &[RecordedEvent]) -> wasmtime::Result<Result<(), (u32, PluginReply)>> {
        match self {
            Self::V0_1(instance) => instance.handle(store, events),
        }
    }
}

//! Migrator plugins. Loading checks the steps a migrator declares; the
//! upcasting chain that calls `migrate` is built on top of this.

use std::sync::Arc;

use wasmtime::Store;

use super::bindings::migrator::{MigratorPlugin as Bindings, MigratorPluginPre};
use super::bindings::migration_step_from_wire;
use super::error::{FailureReason, PluginLoadError};
use super::pool::{InstancePool, WorldPre};
use super::sandbox::PluginState;
use super::types::MigrationStep;
use super::{CompiledPlugin, PluginRuntime};

impl WorldPre for MigratorPluginPre<PluginState> {
    type Bindings = Bindings;

    fn instantiate_into(&self, store: &mut Store<PluginState>) -> wasmtime::Result<Bindings> {
        self.instantiate(store)
    }
}

pub struct MigratorPlugin {
    #[allow(dead_code)] // `migrate` calls go through it once chains land.
    instances: InstancePool<MigratorPluginPre<PluginState>>,
    content_hash: String,
    steps: Vec<MigrationStep>,
}

impl MigratorPlugin {
    pub(super) fn new(runtime: Arc<PluginRuntime>, name: &str, compiled: &CompiledPlugin) -> Result<Self, PluginLoadError> {
        let instance_pre = runtime.instantiate_pre(&compiled.component)?;
        let pre = MigratorPluginPre::new(instance_pre).map_err(|error| PluginLoadError::Instantiation(format!("{error:#}")))?;
        let instances = InstancePool::new(runtime, name, pre);
        let described = instances.call("describe", |store, bindings| bindings.cairn_plugin_migrator().call_describe(store))?;
        let steps: Vec<MigrationStep> = described.into_iter().map(migration_step_from_wire).collect();
        let mut problems = Vec::new();
        if steps.is_empty() {
            problems.push("it declares no migration steps".to_owned());
        }
        for (index, step) in steps.iter().enumerate() {
            for (field, value) in
                [("event-type", &step.event_type), ("from-version", &step.from_version), ("to-version", &step.to_version)]
            {
                if value.trim().is_empty() {
                    problems.push(format!("step {}: {field} is empty", index + 1));
                }
            }
        }
        if !problems.is_empty() {
            return Err(instances.failure("describe", FailureReason::Malformed(problems.join("; "))).into());
        }
        Ok(Self { instances, content_hash: compiled.content_hash.clone(), steps })
    }

    pub fn content_hash(&self) -> &str {
        &self.content_hash
    }

    pub fn steps(&self) -> &[MigrationStep] {
        &self.steps
    }
}

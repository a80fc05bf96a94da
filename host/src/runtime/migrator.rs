//! Migrator plugins. Loading checks the steps a migrator declares; the
//! upcasting chain that calls `migrate` is built on top of this.

use std::sync::Arc;

use super::bindings::migrator::{MigratorPlugin as Bindings, MigratorPluginPre};
use super::bindings::migration_step_from_wire;
use super::error::{FailureReason, PluginLoadError};
use super::pool::{world_pre, InstancePool};
use super::sandbox::PluginState;
use super::types::MigrationStep;
use super::{CompiledPlugin, PluginRuntime};

world_pre!(MigratorPluginPre, Bindings);

pub struct MigratorPlugin {
    #[allow(dead_code)] // `migrate` calls go through it once chains land.
    instances: InstancePool<MigratorPluginPre<PluginState>>,
    content_hash: String,
    steps: Vec<MigrationStep>,
}

impl MigratorPlugin {
    pub(super) fn new(runtime: Arc<PluginRuntime>, name: &str, compiled: &CompiledPlugin) -> Result<Self, PluginLoadError> {
        let instances = InstancePool::link(runtime, name, compiled, MigratorPluginPre::new)?;
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

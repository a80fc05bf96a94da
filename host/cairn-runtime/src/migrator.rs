//! Migrator plugins. Loading checks the steps a migrator declares; the
//! upcasting chain that calls `migrate` is built on top of this.

use std::sync::Arc;

use cairn_event::RecordedEvent;

use crate::bindings::MigratorPre;
use crate::error::{FailureReason, PluginCallError, PluginLoadError};
use crate::pool::InstancePool;
use crate::types::MigrationStep;
use cairn_event::answer::check_migrated;
use crate::{CompiledPlugin, PluginRuntime};

pub struct MigratorPlugin {
    instances: InstancePool<MigratorPre>,
    content_hash: String,
    steps: Vec<MigrationStep>,
}

impl MigratorPlugin {
    pub(super) fn new(runtime: Arc<PluginRuntime>, name: &str, compiled: &CompiledPlugin) -> Result<Self, PluginLoadError> {
        let instances = InstancePool::link(runtime, name, compiled, MigratorPre::new)?;
        let steps = instances.call("describe", |store, bindings| bindings.describe(store))?;
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

    pub fn name(&self) -> &str {
        self.instances.plugin_name()
    }

    /// How many calls of this version run at once; callers wait here,
    /// asynchronously, before they take a thread for a call.
    pub fn gate(&self) -> &crate::CallGate {
        self.instances.gate()
    }

    /// Runs one step on each event, on one instance: `to_versions[i]` is the
    /// version event `i` must come back with. The first failure stops the
    /// batch and reports which event it was; nothing the plugin returned is
    /// used unless every check passes: same id, event type and stream, the
    /// step's to-version, a JSON payload and a JSON object of metadata.
    pub fn migrate(&self, events: &[&RecordedEvent], to_versions: &[&str]) -> Result<Vec<RecordedEvent>, (usize, PluginCallError)> {
        let failed_at = std::cell::Cell::new(0usize);
        let replies = self
            .instances
            .call("migrate", |store, bindings| {
                let mut replies = Vec::with_capacity(events.len());
                for (index, event) in events.iter().enumerate() {
                    failed_at.set(index);
                    store.set_epoch_deadline(self.instances.deadline_ticks());
                    match bindings.migrate(&mut *store, event)? {
                        Ok(reply) => replies.push(reply),
                        Err(error) => return Ok(Err(error)),
                    }
                }
                Ok(Ok(replies))
            })
            .map_err(|error| (failed_at.get(), error))?;
        let replies = replies.map_err(|error| {
            (failed_at.get(), self.instances.failure("migrate", FailureReason::from(error)))
        })?;
        replies
            .into_iter()
            .zip(events.iter().zip(to_versions))
            .enumerate()
            .map(|(index, (reply, (original, to_version)))| {
                let limit = self.instances.output_limits().answer_bytes;
                if reply.payload.len() + reply.metadata.len() > limit {
                    let message = format!("the migrated event came to {} bytes, over the limit of {limit} for one answer (--plugin-max-answer-bytes)", reply.payload.len() + reply.metadata.len());
                    return Err((index, self.instances.failure("migrate", FailureReason::OverLimit(message))));
                }
                check_migrated(original, reply, to_version)
                    .map_err(|problem| (index, self.instances.failure("migrate", FailureReason::Malformed(problem))))
            })
            .collect()
    }
}

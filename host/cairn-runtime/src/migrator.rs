//! Migrator plugins. Loading checks the steps a migrator declares; the
//! upcasting chain that calls `migrate` is built on top of this.

use std::sync::Arc;

use cairn_event::RecordedEvent;

use crate::bindings::MigratorPre;
use crate::error::{FailureReason, PluginCallError, PluginLoadError};
use crate::pool::InstancePool;
use crate::types::{EventShape, MigrationStep};
use crate::{CompiledPlugin, PluginRuntime};

pub struct MigratorPlugin {
    instances: InstancePool<MigratorPre>,
    content_hash: String,
    steps: Vec<MigrationStep>,
    shape: EventShape,
}

impl MigratorPlugin {
    pub(super) fn new(runtime: Arc<PluginRuntime>, name: &str, compiled: &CompiledPlugin) -> Result<Self, PluginLoadError> {
        let instances = InstancePool::link(runtime, name, compiled, MigratorPre::new)?;
        let (steps, shape) = instances.call("describe", |store, bindings| bindings.describe(store))?;
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
        Ok(Self { instances, content_hash: compiled.content_hash.clone(), steps, shape })
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
    /// used unless every check passes: one answer per event, the event's id,
    /// type and stream, the step's to-version, a JSON payload and a JSON
    /// object of metadata.
    pub fn migrate(&self, events: &[&RecordedEvent], to_versions: &[&str]) -> Result<Vec<RecordedEvent>, (usize, PluginCallError)> {
        let failed_at = std::cell::Cell::new(0usize);
        let deadline = self.instances.deadline_ticks();
        let answers = self
            .instances
            .call("migrate", |store, bindings| bindings.migrate_batch(store, events, self.shape, deadline, &failed_at))
            .map_err(|error| (failed_at.get(), error))?;
        if let Some(index) = answers.iter().position(Result::is_err) {
            let Some(Err(reply)) = answers.into_iter().nth(index) else { unreachable!("the answer at {index} is an error") };
            return Err((index, self.instances.failure("migrate", FailureReason::from(reply))));
        }
        if answers.len() != events.len() {
            let message = format!("it answered {} results for a batch of {} events; answer one result per event, in order", answers.len(), events.len());
            return Err((answers.len().min(events.len().saturating_sub(1)), self.instances.failure("migrate", FailureReason::Malformed(message))));
        }
        let limit = self.instances.output_limits().answer_bytes;
        answers
            .into_iter()
            .map(|answer| answer.expect("errors were handled above"))
            .zip(events.iter().zip(to_versions))
            .enumerate()
            .map(|(index, (reply, (original, to_version)))| {
                if reply.bytes() > limit {
                    let message = format!("the migrated event came to {} bytes, over the limit of {limit} for one answer (--plugin-max-answer-bytes)", reply.bytes());
                    return Err((index, self.instances.failure("migrate", FailureReason::OverLimit(message))));
                }
                reply
                    .check(original, to_version)
                    .map_err(|problem| (index, self.instances.failure("migrate", FailureReason::Malformed(problem))))
            })
            .collect()
    }
}

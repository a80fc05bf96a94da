//! Aggregate plugins: fold events into state and decide on commands. Every
//! answer is checked before the host uses it.

use std::sync::Arc;

use cairn_event::{JsonText, RecordedEvent};

use crate::bindings::AggregatePre;
use crate::error::{FailureReason, PluginCallError, PluginLoadError};
use crate::pool::InstancePool;
use crate::types::{AggregateInfo, CheckedEvent, CommandInput, EventShape, PluginReply};
use cairn_event::answer::check_proposed;
use crate::{CompiledPlugin, PluginRuntime};

/// A loaded aggregate plugin. Calls are synchronous: run them on a blocking
/// thread. Instances are reused; one that failed is thrown away.
pub struct AggregatePlugin {
    instances: InstancePool<AggregatePre>,
    content_hash: String,
    info: AggregateInfo,
    shape: EventShape,
}

impl AggregatePlugin {
    pub(super) fn new(runtime: Arc<PluginRuntime>, name: &str, compiled: &CompiledPlugin) -> Result<Self, PluginLoadError> {
        let instances = InstancePool::link(runtime, name, compiled, AggregatePre::new)?;
        let (info, shape) = instances.call("describe", |store, bindings| bindings.describe(store))?;
        let mut problems = Vec::new();
        if info.aggregate_type.trim().is_empty() {
            problems.push("aggregate-type is empty");
        }
        if info.state_version.trim().is_empty() {
            problems.push("state-version is empty");
        }
        if info.snapshot_every == Some(0) {
            problems.push("snapshot-every is 0; answer none to leave snapshots to the host");
        }
        if !problems.is_empty() {
            return Err(instances.failure("describe", FailureReason::Malformed(problems.join("; "))).into());
        }
        Ok(Self { instances, content_hash: compiled.content_hash.clone(), info, shape })
    }

    pub fn name(&self) -> &str {
        self.instances.plugin_name()
    }

    /// How many calls of this version run at once; callers wait here,
    /// asynchronously, before they take a thread for a call.
    pub fn gate(&self) -> &crate::CallGate {
        self.instances.gate()
    }

    /// Bytes of events one call should carry at most (see `InstancePool`).
    pub fn event_bytes_per_call(&self) -> usize {
        self.instances.event_bytes_per_call()
    }

    pub fn content_hash(&self) -> &str {
        &self.content_hash
    }

    pub fn info(&self) -> &AggregateInfo {
        &self.info
    }

    pub fn initial_state(&self, aggregate_id: &str) -> Result<JsonText, PluginCallError> {
        let state = self.instances.call("initial-state", |store, bindings| bindings.initial_state(store, aggregate_id))?;
        self.check_size("initial-state", "the state", state.len())?;
        JsonText::parse(state).map_err(|error| self.malformed("initial-state", format!("the state is not JSON: {error}")))
    }

    /// Folds `events`, which are all of one stream, into `state`.
    pub fn apply(&self, state: &JsonText, events: &[RecordedEvent]) -> Result<JsonText, PluginCallError> {
        let reply = self.instances.call("apply", |store, bindings| bindings.apply(store, state.as_str(), events, self.shape))?;
        let state = reply.map_err(|reply| self.refused("apply", reply))?;
        self.check_size("apply", "the state", state.len())?;
        JsonText::parse(state).map_err(|error| self.malformed("apply", format!("the state is not JSON: {error}")))
    }

    pub fn decide(&self, state: &JsonText, command: &CommandInput) -> Result<Vec<CheckedEvent>, PluginCallError> {
        let reply = self.instances.call("decide", |store, bindings| bindings.decide(store, state.as_str(), command))?;
        let proposed = reply.map_err(|reply| self.refused("decide", reply))?;
        let limits = self.instances.output_limits();
        if proposed.len() > limits.events_per_decision {
            let message = format!("it decided {} events, more than the limit of {} for one command (--plugin-max-events)", proposed.len(), limits.events_per_decision);
            return Err(self.instances.failure("decide", FailureReason::OverLimit(message)));
        }
        self.check_size("decide", "the decided payloads", proposed.iter().map(|event| event.payload.len()).sum())?;
        let mut checked = Vec::with_capacity(proposed.len());
        let mut problems = Vec::new();
        for (index, event) in proposed.into_iter().enumerate() {
            match check_proposed(event) {
                Ok(event) => checked.push(event),
                Err(problem) => problems.push(format!("event {}: {problem}", index + 1)),
            }
        }
        if !problems.is_empty() {
            return Err(self.malformed("decide", problems.join("; ")));
        }
        Ok(checked)
    }

    /// Refuses an answer of more bytes than `--plugin-max-answer-bytes`.
    fn check_size(&self, function: &'static str, what: &str, bytes: usize) -> Result<(), PluginCallError> {
        let limit = self.instances.output_limits().answer_bytes;
        if bytes <= limit {
            return Ok(());
        }
        let message = format!("{what} came to {bytes} bytes, over the limit of {limit} for one answer (--plugin-max-answer-bytes)");
        Err(self.instances.failure(function, FailureReason::OverLimit(message)))
    }

    fn malformed(&self, function: &'static str, message: impl Into<String>) -> PluginCallError {
        self.instances.failure(function, FailureReason::Malformed(message.into()))
    }

    fn refused(&self, function: &'static str, reply: PluginReply) -> PluginCallError {
        self.instances.failure(function, FailureReason::from(reply))
    }
}

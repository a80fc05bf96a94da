//! Handler plugins. Loading checks what a handler declares; replay and
//! projections call `handle` on top of this.

use std::sync::Arc;

use cairn_event::RecordedEvent;

use crate::bindings::HandlerPre;
use crate::error::{FailureReason, PluginCallError, PluginLoadError};
use crate::pool::InstancePool;
use crate::types::{EventShape, HandlerInfo, ReadModelAccess};
use crate::{CompiledPlugin, PluginRuntime};

pub struct HandlerPlugin {
    instances: InstancePool<HandlerPre>,
    content_hash: String,
    info: HandlerInfo,
    shape: EventShape,
}

impl HandlerPlugin {
    pub(super) fn new(runtime: Arc<PluginRuntime>, name: &str, compiled: &CompiledPlugin) -> Result<Self, PluginLoadError> {
        let instances = InstancePool::link(runtime, name, compiled, HandlerPre::new)?;
        let (info, shape) = instances.call("describe", |store, bindings| bindings.describe(store))?;
        if info.name.trim().is_empty() {
            return Err(instances.failure("describe", FailureReason::Malformed("the handler's name is empty".to_owned())).into());
        }
        Ok(Self { instances, content_hash: compiled.content_hash.clone(), info, shape })
    }

    pub fn content_hash(&self) -> &str {
        &self.content_hash
    }

    pub fn info(&self) -> &HandlerInfo {
        &self.info
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

    /// Hands `events` to the plugin in one call, with `read_models` behind
    /// its `read-model` imports, and gives `read_models` back. A failure says
    /// which event failed when the plugin said so (`Some(index)`); a trap or
    /// a timeout cannot tell (`None`).
    pub fn handle(
        &self,
        events: &[RecordedEvent],
        read_models: Box<dyn ReadModelAccess>,
    ) -> (Box<dyn ReadModelAccess>, Result<(), (Option<usize>, PluginCallError)>) {
        let mut slot = Some(read_models);
        let result = self.instances.call("handle", |store, bindings| {
            store.data_mut().read_model = slot.take();
            let outcome = bindings.handle(&mut *store, events, self.shape);
            slot = store.data_mut().read_model.take();
            outcome
        });
        let read_models = slot.expect("the read-model access comes back from every call");
        let result = match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err((index, reply))) => {
                let index = index as usize;
                let reason = FailureReason::from(reply);
                Err((Some(index.min(events.len().saturating_sub(1))), self.instances.failure("handle", reason)))
            }
            Err(error) => Err((None, error)),
        };
        (read_models, result)
    }
}

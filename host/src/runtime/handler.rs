//! Handler plugins. Loading checks what a handler declares; replay and
//! projections call `handle` on top of this.

use std::sync::Arc;

use super::bindings::handler::{HandlerPlugin as Bindings, HandlerPluginPre};
use super::bindings::{event_to_wire, handler_info_from_wire, reply_from_wire};
use super::error::{FailureReason, PluginCallError, PluginLoadError};
use super::pool::{world_pre, InstancePool};
use super::sandbox::PluginState;
use super::types::{HandlerInfo, ReadModelAccess};
use crate::event::RecordedEvent;
use super::{CompiledPlugin, PluginRuntime};

world_pre!(HandlerPluginPre, Bindings);

pub struct HandlerPlugin {
    instances: InstancePool<HandlerPluginPre<PluginState>>,
    content_hash: String,
    info: HandlerInfo,
}

impl HandlerPlugin {
    pub(super) fn new(runtime: Arc<PluginRuntime>, name: &str, compiled: &CompiledPlugin) -> Result<Self, PluginLoadError> {
        let instances = InstancePool::link(runtime, name, compiled, HandlerPluginPre::new)?;
        let described = instances.call("describe", |store, bindings| bindings.cairn_plugin_handler().call_describe(store))?;
        let info = handler_info_from_wire(described);
        if info.name.trim().is_empty() {
            return Err(instances.failure("describe", FailureReason::Malformed("the handler's name is empty".to_owned())).into());
        }
        Ok(Self { instances, content_hash: compiled.content_hash.clone(), info })
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

    /// Hands `events` to the plugin in one call, with `read_models` behind
    /// its `read-model` imports, and gives `read_models` back. A failure says
    /// which event failed when the plugin said so (`Some(index)`); a trap or
    /// a timeout cannot tell (`None`).
    pub fn handle(
        &self,
        events: &[RecordedEvent],
        read_models: Box<dyn ReadModelAccess>,
    ) -> (Box<dyn ReadModelAccess>, Result<(), (Option<usize>, PluginCallError)>) {
        let wire_events: Vec<_> = events.iter().map(event_to_wire).collect();
        let mut slot = Some(read_models);
        let result = self.instances.call("handle", |store, bindings| {
            store.data_mut().read_model = slot.take();
            let outcome = bindings.cairn_plugin_handler().call_handle(&mut *store, &wire_events);
            slot = store.data_mut().read_model.take();
            outcome
        });
        let read_models = slot.expect("the read-model access comes back from every call");
        let result = match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(failure)) => {
                let index = failure.index as usize;
                let reason = FailureReason::from(reply_from_wire(failure.error));
                Err((Some(index.min(events.len().saturating_sub(1))), self.instances.failure("handle", reason)))
            }
            Err(error) => Err((None, error)),
        };
        (read_models, result)
    }
}

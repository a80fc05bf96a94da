//! Handler plugins. Loading checks what a handler declares; replay and
//! projections call `handle` on top of this.

use std::sync::Arc;

use super::bindings::handler::{HandlerPlugin as Bindings, HandlerPluginPre};
use super::bindings::handler_info_from_wire;
use super::error::{FailureReason, PluginLoadError};
use super::pool::{world_pre, InstancePool};
use super::sandbox::PluginState;
use super::types::HandlerInfo;
use super::{CompiledPlugin, PluginRuntime};

world_pre!(HandlerPluginPre, Bindings);

pub struct HandlerPlugin {
    #[allow(dead_code)] // `handle` calls go through it once replay lands.
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
}

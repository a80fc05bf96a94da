use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::batch::PayloadValue;
use crate::{Event, PluginError};

#[doc(hidden)]
#[allow(missing_docs)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit/cairn-plugin@0.2.0",
        world: "handler-plugin",
        pub_export_macro: true,
        export_macro_name: "export_handler_world",
        default_bindings_module: "cairn_sdk::__private::handler_bindings",
    });
}

use bindings::cairn::plugin::read_model;
use bindings::cairn::plugin::types as wire;
use bindings::exports::cairn::plugin::handler as exported;

/// An event handler or projection. The host filters events by
/// `EVENT_TYPES` and `AGGREGATE_TYPES` before calling, passes them in
/// batches, and commits the batch's read-model writes together with the
/// handler's checkpoint, so an event's effects are applied exactly once.
pub trait Handler {
    /// The handler's name: its checkpoint and read models are kept under it.
    const NAME: &'static str;
    /// The event types to receive; empty means all.
    const EVENT_TYPES: &'static [&'static str] = &[];
    /// The aggregate types to receive; empty means all.
    const AGGREGATE_TYPES: &'static [&'static str] = &[];
    /// Whether events come with their envelopes: id, stream, metadata,
    /// correlation, causation, user and source. Most handlers key documents
    /// by stream, so the default is true; a handler that reads only types,
    /// positions, times and payloads sets false and runs faster.
    const WANTS_ENVELOPE: bool = true;

    /// Handles one event. The event's body is its payload; read it into a
    /// type of your own with [`Event::body_as`].
    fn handle(event: Event<Value>, read_models: &mut ReadModels) -> Result<(), PluginError>;

    /// Called after the last event of each batch, with the same read models.
    /// A handler that folds events into memory (a running count, say)
    /// writes its documents here once per batch instead of once per event.
    /// The batch's writes, these included, commit together. The default
    /// does nothing.
    fn end_batch(read_models: &mut ReadModels) -> Result<(), PluginError> {
        let _ = read_models;
        Ok(())
    }
}

/// JSON documents by collection and key, kept by the host for this handler.
pub struct ReadModels<'a> {
    backend: Backend<'a>,
}

/// Where documents live: the host's read models in a plugin, a map in
/// `cairn_sdk::testing`.
enum Backend<'a> {
    Host,
    Memory(&'a mut std::collections::BTreeMap<(String, String), String>),
}

impl<'a> ReadModels<'a> {
    /// Documents kept in `documents`, by (collection, key), as JSON text.
    pub(crate) fn in_memory(documents: &'a mut std::collections::BTreeMap<(String, String), String>) -> Self {
        Self { backend: Backend::Memory(documents) }
    }

    fn read(&mut self, collection: &str, key: &str) -> Option<String> {
        match &mut self.backend {
            Backend::Host => read_model::get(collection, key),
            Backend::Memory(documents) => documents.get(&(collection.to_owned(), key.to_owned())).cloned(),
        }
    }

    /// The document at `key`, if there is one.
    pub fn get<T: DeserializeOwned>(&mut self, collection: &str, key: &str) -> Result<Option<T>, PluginError> {
        match self.read(collection, key) {
            None => Ok(None),
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|error| PluginError::internal(format!("read model {collection}/{key} is not the expected shape: {error}"))),
        }
    }

    /// Writes the document at `key`.
    pub fn put<T: Serialize>(&mut self, collection: &str, key: &str, value: &T) -> Result<(), PluginError> {
        let text = serde_json::to_string(value).map_err(|error| PluginError::internal(format!("cannot write {collection}/{key}: {error}")))?;
        match &mut self.backend {
            Backend::Host => read_model::put(collection, key, &text),
            Backend::Memory(documents) => {
                documents.insert((collection.to_owned(), key.to_owned()), text);
            }
        }
        Ok(())
    }

    /// Deletes the document at `key`, if there is one.
    pub fn delete(&mut self, collection: &str, key: &str) {
        match &mut self.backend {
            Backend::Host => read_model::delete(collection, key),
            Backend::Memory(documents) => {
                documents.remove(&(collection.to_owned(), key.to_owned()));
            }
        }
    }
}

impl Event<Value> {
    /// The payload read into `T`.
    pub fn body_as<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        T::deserialize(&self.body).map_err(|error| PluginError::invalid(format!("cannot read the payload: {error}")))
    }
}

/// Connects a [`Handler`] to the generated bindings; used by [`crate::export_handler!`].
pub struct HandlerAdapter<H>(std::marker::PhantomData<H>);

crate::event::wire_glue!();

impl<H: Handler> HandlerAdapter<H> {
    /// The batch (the contract's JSON array) through `handle` and
    /// `end_batch`; a failure names its event.
    pub(crate) fn handle_batch(events: &str, read_models: &mut ReadModels) -> Result<(), (u32, PluginError)> {
        let count = crate::batch::for_each_event::<PayloadValue>(events, ("", ""), |_, event| H::handle(event, read_models))
            .map_err(|(index, error)| (index as u32, error))?;
        let last = count.saturating_sub(1) as u32;
        // A failure here is the last event's: the host then commits the
        // events before it, which runs `end_batch` again for them.
        H::end_batch(read_models).map_err(|error| (last, error))
    }
}

impl<H: Handler> exported::Guest for HandlerAdapter<H> {
    fn describe() -> exported::Info {
        exported::Info {
            name: H::NAME.to_owned(),
            event_types: H::EVENT_TYPES.iter().map(|name| (*name).to_owned()).collect(),
            aggregate_types: H::AGGREGATE_TYPES.iter().map(|name| (*name).to_owned()).collect(),
            wants_envelope: H::WANTS_ENVELOPE,
        }
    }

    fn handle(events: String) -> Result<(), exported::Failure> {
        let mut read_models = ReadModels { backend: Backend::Host };
        Self::handle_batch(&events, &mut read_models).map_err(|(index, error)| exported::Failure { index, error: to_wire(error) })
    }
}

/// Exports a [`Handler`] as this component's `handler-plugin` world.
#[macro_export]
macro_rules! export_handler {
    ($handler:ty) => {
        type __CairnHandlerAdapter = $crate::__private::HandlerAdapter<$handler>;
        $crate::__private::handler_bindings::export_handler_world!(__CairnHandlerAdapter with_types_in $crate::__private::handler_bindings);
    };
}

//! What the replay engine runs events through. A handler plugin is the
//! usual one; native handlers exist so that benchmarks can compare the same
//! logic in Rust, and they keep the engine free of wasm types.

use std::sync::Arc;

use super::buffer::BatchBuffer;
use crate::event::RecordedEvent;
use crate::runtime::types::ReadModelAccess;
use crate::runtime::HandlerPlugin;

/// Why a handler failed on a batch.
#[derive(Debug, Clone)]
pub struct HandlerFailure {
    /// The failing event's index in the batch, when the handler said so; a
    /// trap or a timeout cannot tell.
    pub index: Option<usize>,
    pub message: String,
}

/// A handler the engine can run. `handle` runs on a blocking thread.
pub trait BatchHandler: Send + Sync + 'static {
    fn name(&self) -> &str;

    /// Whether the handler wants the event at all. Unwanted events are
    /// counted as skipped and never reach `handle`.
    fn wants(&self, event: &RecordedEvent) -> bool;

    /// Handles `events` in order, reading and writing read models through
    /// `read_models`, which it gives back.
    fn handle(&self, events: &[RecordedEvent], read_models: Box<BatchBuffer>) -> (Box<BatchBuffer>, Result<(), HandlerFailure>);
}

/// A handler plugin as a [`BatchHandler`].
pub struct PluginHandler(pub Arc<HandlerPlugin>);

impl BatchHandler for PluginHandler {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn wants(&self, event: &RecordedEvent) -> bool {
        let info = self.0.info();
        (info.event_types.is_empty() || info.event_types.contains(&event.event_type))
            && (info.aggregate_types.is_empty() || info.aggregate_types.contains(&event.aggregate_type))
    }

    fn handle(&self, events: &[RecordedEvent], read_models: Box<BatchBuffer>) -> (Box<BatchBuffer>, Result<(), HandlerFailure>) {
        let (access, outcome) = self.0.handle(events, read_models as Box<dyn ReadModelAccess>);
        let buffer = access.as_any().downcast::<BatchBuffer>().expect("the plugin gives back the buffer it was handed");
        let outcome = outcome.map_err(|(index, error)| HandlerFailure { index, message: error.to_string() });
        (buffer, outcome)
    }
}

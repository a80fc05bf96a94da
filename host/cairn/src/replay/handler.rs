//! What the replay engine runs events through. A handler plugin is the
//! usual one; native handlers exist so that benchmarks can compare the same
//! logic in Rust, and they keep the engine free of wasm types.

use std::sync::Arc;

use super::buffer::BatchBuffer;
use crate::event::RecordedEvent;
use crate::runtime::types::ReadModelAccess;
use crate::runtime::{CallGate, HandlerPlugin};

/// Why a handler failed on a batch.
#[derive(Debug, Clone)]
pub struct HandlerFailure {
    /// The failing event's index in the batch, when the handler said so; a
    /// trap or a timeout cannot tell.
    pub index: Option<usize>,
    pub message: String,
}

/// A handler the engine can run. `handle` runs where it holds no async
/// worker (`plugins::calls::run_blocking`), so it may block.
pub trait BatchHandler: Send + Sync + 'static {
    fn name(&self) -> &str;

    /// Whether the handler wants the event at all. Unwanted events are
    /// counted as skipped and never reach `handle`.
    fn wants(&self, event: &RecordedEvent) -> bool;

    /// Handles `events` in order, reading and writing read models through
    /// `read_models`, which it gives back.
    fn handle(&self, events: &[RecordedEvent], read_models: Box<BatchBuffer>) -> (Box<BatchBuffer>, Result<(), HandlerFailure>);

    /// Where calls wait for a place among the handler's calls running at
    /// once; native handlers have none.
    fn gate(&self) -> Option<&CallGate> {
        None
    }
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

    /// One plugin call per batch bounded by count and bytes; a failure's
    /// index is into the whole of `events`.
    fn handle(&self, events: &[RecordedEvent], read_models: Box<BatchBuffer>) -> (Box<BatchBuffer>, Result<(), HandlerFailure>) {
        let mut access = read_models as Box<dyn ReadModelAccess>;
        let mut start = 0;
        for batch in crate::plugins::calls::batches(events, self.0.event_bytes_per_call()) {
            let (given_back, outcome) = self.0.handle(batch, access);
            access = given_back;
            if let Err((index, error)) = outcome {
                // A trap cannot say which event failed, but the batches before
                // this one were handled.
                let index = index.map(|index| start + index).or((start > 0).then_some(start));
                let buffer = access.as_any().downcast::<BatchBuffer>().expect("the plugin gives back the buffer it was handed");
                return (buffer, Err(HandlerFailure { index, message: error.to_string() }));
            }
            start += batch.len();
        }
        let buffer = access.as_any().downcast::<BatchBuffer>().expect("the plugin gives back the buffer it was handed");
        (buffer, Ok(()))
    }

    fn gate(&self) -> Option<&CallGate> {
        Some(self.0.gate())
    }
}

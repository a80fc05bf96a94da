//! Counts events in guest memory and writes the total once per batch, so
//! that `cairn bench replay` measures the engine and the call boundary,
//! not read-model writes.

use std::cell::Cell;

use cairn_sdk::{Event, Handler, PluginError, ReadModels};
use serde_json::Value;

thread_local! {
    static IN_BATCH: Cell<u64> = const { Cell::new(0) };
}

struct EventCounter;

impl Handler for EventCounter {
    const NAME: &'static str = "event-counter";

    fn handle(_event: Event<Value>, _read_models: &mut ReadModels) -> Result<(), PluginError> {
        IN_BATCH.with(|count| count.set(count.get() + 1));
        Ok(())
    }

    fn end_batch(read_models: &mut ReadModels) -> Result<(), PluginError> {
        let counted = IN_BATCH.with(|count| count.replace(0));
        let total: u64 = read_models.get("counts", "all")?.unwrap_or(0);
        read_models.put("counts", "all", &(total + counted))
    }
}

cairn_sdk::export_handler!(EventCounter);

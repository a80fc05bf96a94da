//! Counts events in `counts/<event type>`; an event of type `Flood` also
//! writes 100,001 documents, one more than the host allows in one call by
//! default.

use cairn_sdk::{Event, Handler, PluginError, ReadModels};
use serde_json::Value;

struct FloodHandler;

impl Handler for FloodHandler {
    const NAME: &'static str = "flood";

    fn handle(event: Event<Value>, read_models: &mut ReadModels) -> Result<(), PluginError> {
        if event.event_type == "Flood" {
            for index in 0..100_001u32 {
                read_models.put("flood", &index.to_string(), &index)?;
            }
        }
        let count: u64 = read_models.get("counts", &event.event_type)?.unwrap_or(0);
        read_models.put("counts", &event.event_type, &(count + 1))
    }
}

cairn_sdk::export_handler!(FloodHandler);

//! Writes `streams/<aggregate type>:<aggregate id>` with the stream's
//! latest version and event type: one document per stream, overwritten by
//! each event, as a projection that `cairn bench replay` can time.

use cairn_sdk::{Event, Handler, PluginError, ReadModels};
use serde_json::{json, Value};

struct StreamIndex;

impl Handler for StreamIndex {
    const NAME: &'static str = "stream-index";

    fn handle(event: Event<Value>, read_models: &mut ReadModels) -> Result<(), PluginError> {
        let key = format!("{}:{}", event.aggregate_type, event.aggregate_id);
        read_models.put("streams", &key, &json!({ "version": event.stream_version, "event_type": event.event_type }))
    }
}

cairn_sdk::export_handler!(StreamIndex);

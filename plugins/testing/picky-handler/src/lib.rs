//! For replay tests. Appends each event's stream version to
//! `seen/<aggregate type>:<aggregate id>`, so a test can check that every
//! stream was handled in order and exactly once. An event whose payload has
//! `"poison": true` fails, unless `forgiven/<event id>` exists (a test
//! writes it to "fix" the handler), or when built with the `forgive-poison`
//! feature (the fixed version a test uploads). An event with `"shared": true` also
//! counts into `totals/shared`, a document every stream touches.

use cairn_sdk::{Event, Handler, PluginError, ReadModels};
use serde_json::Value;

struct PickyHandler;

impl Handler for PickyHandler {
    const NAME: &'static str = "picky";

    fn handle(event: Event<Value>, read_models: &mut ReadModels) -> Result<(), PluginError> {
        let forgiven = cfg!(feature = "forgive-poison") || read_models.get::<Value>("forgiven", &event.id)?.is_some();
        if event.body["poison"] == Value::Bool(true) && !forgiven {
            return Err(PluginError::invalid(format!("event {} is poisoned", event.stream_version)));
        }
        let key = format!("{}:{}", event.aggregate_type, event.aggregate_id);
        let mut seen: Vec<u64> = read_models.get("seen", &key)?.unwrap_or_default();
        seen.push(event.stream_version);
        read_models.put("seen", &key, &seen)?;
        if event.body["shared"] == Value::Bool(true) {
            let total: u64 = read_models.get("totals", "shared")?.unwrap_or(0);
            read_models.put("totals", "shared", &(total + 1))?;
        }
        Ok(())
    }
}

cairn_sdk::export_handler!(PickyHandler);

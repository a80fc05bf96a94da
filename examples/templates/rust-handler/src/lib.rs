//! A handler: counts events per type into a read model. Replace the name,
//! the event types and `handle` with your projection's.

use cairn_sdk::{Event, Handler, PluginError, ReadModels};
use serde_json::Value;

pub struct EventTypeCounts;

impl Handler for EventTypeCounts {
    const NAME: &'static str = "event-type-counts";
    // Empty means every event type.
    const EVENT_TYPES: &'static [&'static str] = &[];

    fn handle(event: Event<Value>, read_models: &mut ReadModels) -> Result<(), PluginError> {
        let count: u64 = read_models.get("counts", &event.event_type)?.unwrap_or(0);
        read_models.put("counts", &event.event_type, &(count + 1))
    }
}

#[cfg(target_arch = "wasm32")]
cairn_sdk::export_handler!(EventTypeCounts);

#[cfg(test)]
mod tests {
    use cairn_sdk::testing::HandlerTest;
    use serde_json::json;

    #[test]
    fn events_are_counted_per_type() {
        let mut test = HandlerTest::<super::EventTypeCounts>::new();
        test.given("counter", "c-1", &[json!({"event_type": "Added", "payload": {"amount": 1}}), json!({"event_type": "Added", "payload": {}}), json!({"event_type": "Reset", "payload": {}})]).unwrap();
        test.then_document("counts", "Added", 2);
        test.then_document("counts", "Reset", 1);
    }
}

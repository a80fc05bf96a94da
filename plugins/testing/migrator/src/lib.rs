//! Two steps. `OpportunityCreated` 2.0 → 2.1 adds `"reviewed": false`, so
//! with the opportunity migrator the chain has two steps. `Fragile` 1.0 →
//! 2.0 misbehaves as its payload's `do` field asks: `trap`, `wrong-version`,
//! `invalid-json`, `change-id` or `refuse`; anything else succeeds. It uses
//! the raw bindings, because the SDK cannot produce most of these replies.

use cairn_sdk::__private::migrator_bindings::cairn::plugin::types::{Error, Event};
use cairn_sdk::__private::migrator_bindings::exports::cairn::plugin::migrator::{Guest, Migration};

struct TestMigrator;

impl Guest for TestMigrator {
    fn describe() -> Vec<Migration> {
        vec![
            Migration { event_type: "OpportunityCreated".into(), from_version: "2.0".into(), to_version: "2.1".into() },
            Migration { event_type: "Fragile".into(), from_version: "1.0".into(), to_version: "2.0".into() },
        ]
    }

    fn migrate(mut event: Event) -> Result<Event, Error> {
        if event.event_type == "OpportunityCreated" {
            let payload = event.payload.trim_end().trim_end_matches('}');
            let separator = if payload.trim_end().ends_with('{') { "" } else { "," };
            event.payload = format!("{payload}{separator}\"reviewed\":false}}");
            event.schema_version = "2.1".into();
            return Ok(event);
        }
        event.schema_version = "2.0".into();
        if event.payload.contains("\"trap\"") {
            panic!("this migrator traps on purpose");
        } else if event.payload.contains("\"wrong-version\"") {
            event.schema_version = "1.5".into();
        } else if event.payload.contains("\"invalid-json\"") {
            event.payload = "{not json".into();
        } else if event.payload.contains("\"change-id\"") {
            event.id = "00000000-0000-0000-0000-000000000000".into();
        } else if event.payload.contains("\"refuse\"") {
            return Err(Error::Internal("refused on purpose".into()));
        }
        Ok(event)
    }
}

cairn_sdk::__private::migrator_bindings::export_migrator_world!(TestMigrator with_types_in cairn_sdk::__private::migrator_bindings);

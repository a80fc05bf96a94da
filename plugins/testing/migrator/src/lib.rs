//! Two steps. `OpportunityCreated` 2.0 → 2.1 adds `"reviewed": false`, so
//! with the opportunity migrator the chain has two steps. `Fragile` 1.0 →
//! 2.0 misbehaves as its payload's `do` field asks: `trap`, `invalid-json`,
//! `bad-metadata`, `short-answer` or `refuse`; anything else succeeds. It
//! uses the raw bindings, because the SDK cannot produce most of these
//! replies. (Its 0.1.0 build, which could also change ids and versions, is
//! kept in tests/fixtures/contract-0.1.)

use cairn_sdk::__private::migrator_bindings::cairn::plugin::types::Error;
use serde_json::Value;
use cairn_sdk::__private::migrator_bindings::exports::cairn::plugin::migrator::{Guest, Info, Migrated, Migration};

struct TestMigrator;

impl Guest for TestMigrator {
    fn describe() -> Info {
        let steps = vec![
            Migration { event_type: "OpportunityCreated".into(), from_version: "2.0".into(), to_version: "2.1".into() },
            Migration { event_type: "Fragile".into(), from_version: "1.0".into(), to_version: "2.0".into() },
        ];
        Info { steps, wants_envelope: false }
    }

    fn migrate(events: String) -> Vec<Result<Migrated, Error>> {
        let events: Vec<Value> = serde_json::from_str(&events).expect("the host sends a JSON array");
        let mut answers = Vec::with_capacity(events.len());
        for event in events {
            let payload = event["payload"].to_string();
            if event["event_type"] == "OpportunityCreated" {
                let mut payload = event["payload"].clone();
                payload["reviewed"] = Value::Bool(false);
                answers.push(Ok(Migrated { payload: payload.to_string(), metadata: None }));
                continue;
            }
            let mut migrated = Migrated { payload: payload.clone(), metadata: None };
            if payload.contains("\"trap\"") {
                panic!("this migrator traps on purpose");
            } else if payload.contains("\"invalid-json\"") {
                migrated.payload = "{not json".into();
            } else if payload.contains("\"bad-metadata\"") {
                migrated.metadata = Some("[1]".into());
            } else if payload.contains("\"short-answer\"") {
                continue;
            } else if payload.contains("\"refuse\"") {
                answers.push(Err(Error::Internal("refused on purpose".into())));
                continue;
            }
            answers.push(Ok(migrated));
        }
        answers
    }
}

cairn_sdk::__private::migrator_bindings::export_migrator_world!(TestMigrator with_types_in cairn_sdk::__private::migrator_bindings);

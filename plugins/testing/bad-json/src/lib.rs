//! Answers every call with text that is not JSON, or with an event that has
//! an empty type, to prove the host checks what plugins return. It uses the
//! raw bindings on purpose: the SDK cannot produce such replies.

use cairn_sdk::__private::aggregate_bindings::cairn::plugin::types::{Command, Error, NewEvent};
use cairn_sdk::__private::aggregate_bindings::exports::cairn::plugin::aggregate::{Guest, Info};

struct BadJson;

impl Guest for BadJson {
    fn describe() -> Info {
        Info { aggregate_type: "test-bad-json".into(), state_version: "1".into(), snapshot_every: None, wants_envelope: false }
    }

    fn initial_state(_aggregate_id: String) -> String {
        "{}".into()
    }

    fn apply(_state: String, _aggregate_id: String, _events: String) -> Result<String, Error> {
        Ok("{this is not json".into())
    }

    fn decide(_state: String, command: Command) -> Result<Vec<NewEvent>, Error> {
        match command.command_type.as_str() {
            "EmptyType" => Ok(vec![NewEvent { event_type: String::new(), schema_version: "1.0".into(), payload: "{}".into() }]),
            _ => Ok(vec![NewEvent { event_type: "Broken".into(), schema_version: "1.0".into(), payload: "{not: json}".into() }]),
        }
    }
}

cairn_sdk::__private::aggregate_bindings::export_aggregate_world!(BadJson with_types_in cairn_sdk::__private::aggregate_bindings);

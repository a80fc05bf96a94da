//! Every call returns at once without reading its input, so that timing a
//! call measures only the boundary: instance checkout, argument lowering and
//! result lifting. It uses the raw bindings because the SDK always parses.
//! Only `initial-state` does work: it reports the sandbox's clock and seed.

use cairn_sdk::__private::aggregate_bindings::cairn::plugin::types::{Command, Error, NewEvent};
use cairn_sdk::__private::aggregate_bindings::exports::cairn::plugin::aggregate::{Guest, Info};

struct Noop;

impl Guest for Noop {
    fn describe() -> Info {
        Info { aggregate_type: "test-noop".into(), state_version: "1".into(), snapshot_every: None, wants_envelope: false }
    }

    /// Reports what the sandbox's clock and random source say, so that a
    /// test can check both are fixed.
    fn initial_state(_aggregate_id: String) -> String {
        use std::hash::BuildHasher;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|elapsed| elapsed.as_secs()).unwrap_or(0);
        let random = std::collections::hash_map::RandomState::new().hash_one(0u8);
        format!(r#"{{"clock":{now},"random":"{random}"}}"#)
    }

    fn apply(state: String, _aggregate_id: String, _events: String) -> Result<String, Error> {
        Ok(state)
    }

    fn decide(_state: String, _command: Command) -> Result<Vec<NewEvent>, Error> {
        Ok(Vec::new())
    }
}

cairn_sdk::__private::aggregate_bindings::export_aggregate_world!(Noop with_types_in cairn_sdk::__private::aggregate_bindings);

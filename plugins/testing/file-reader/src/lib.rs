//! A plugin author's likely mistake: reading configuration from a file inside
//! `decide`. Rust's standard library then links WASI's filesystem interfaces
//! into the component, and the host must refuse it at `plugin add`, naming
//! them, rather than fail later at instantiation.

use cairn_sdk::__private::aggregate_bindings::cairn::plugin::types::{Command, Error, NewEvent};
use cairn_sdk::__private::aggregate_bindings::exports::cairn::plugin::aggregate::{Guest, Info};

struct FileReader;

impl Guest for FileReader {
    fn describe() -> Info {
        Info { aggregate_type: "test-file-reader".into(), state_version: "1".into(), snapshot_every: None, wants_envelope: false }
    }

    fn initial_state(_aggregate_id: String) -> String {
        "{}".into()
    }

    fn apply(state: String, _aggregate_id: String, _events: String) -> Result<String, Error> {
        Ok(state)
    }

    fn decide(_state: String, _command: Command) -> Result<Vec<NewEvent>, Error> {
        let limits = std::fs::read_to_string("/etc/cairn/limits.json").unwrap_or_default();
        std::hint::black_box(limits);
        Ok(Vec::new())
    }
}

cairn_sdk::__private::aggregate_bindings::export_aggregate_world!(FileReader with_types_in cairn_sdk::__private::aggregate_bindings);

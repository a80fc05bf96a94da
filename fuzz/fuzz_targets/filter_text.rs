//! The log-filter parser behind the query strings of `GET /events` and the
//! live stream. It must never panic; a filter it accepts has no problems
//! left, no empty names, and survives a JSON round trip (the way replay
//! jobs store it) unchanged.
#![no_main]

use arbitrary::Arbitrary;
use cairn_store::{FilterText, LogFilter, MAX_FILTER_VALUES};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Query {
    event_types: Option<String>,
    aggregate_types: Option<String>,
    aggregate_id: Option<String>,
    correlation_id: Option<String>,
    causation_id: Option<String>,
    user_id: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

fuzz_target!(|query: Query| {
    let text = FilterText {
        event_types: query.event_types.as_deref(),
        aggregate_types: query.aggregate_types.as_deref(),
        aggregate_id: query.aggregate_id.as_deref(),
        correlation_id: query.correlation_id.as_deref(),
        causation_id: query.causation_id.as_deref(),
        user_id: query.user_id.as_deref(),
        since: query.since.as_deref(),
        until: query.until.as_deref(),
    };
    match text.parse() {
        Ok(filter) => {
            assert!(filter.problems().is_empty());
            assert!(filter.event_types.len() <= MAX_FILTER_VALUES && filter.aggregate_types.len() <= MAX_FILTER_VALUES);
            assert!(filter.event_types.iter().chain(&filter.aggregate_types).all(|name| !name.trim().is_empty()));
            let stored = serde_json::to_string(&filter).expect("filters serialise");
            let read: LogFilter = serde_json::from_str(&stored).expect("a stored filter reads back");
            assert_eq!(read, filter);
        }
        Err(problems) => assert!(!problems.is_empty(), "a refusal says why"),
    }
});

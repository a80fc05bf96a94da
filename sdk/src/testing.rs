//! Test plugins natively, through the same code their wasm exports run, in
//! given/when/then form with typed events and commands:
//!
//! - aggregates ([`AggregateTest`]): given events, when a command, then
//!   events, a rejection, or an invalid-input error;
//! - migrators ([`MigratorTest`]): this payload in, that one out;
//! - handlers ([`HandlerTest`]): given events, then read-model documents,
//!   kept in memory.
//!
//! Events and payloads go through JSON exactly as the host hands them over,
//! so a test also catches a type that does not round-trip.

#[cfg(feature = "aggregate")]
mod aggregate;
#[cfg(feature = "handler")]
mod handler;
#[cfg(feature = "migrator")]
mod migrator;

#[cfg(feature = "aggregate")]
pub use aggregate::{apply, apply_events_json, decide, initial_state, AggregateTest, AggregateThen, StoredEvent};
#[cfg(feature = "handler")]
pub use handler::HandlerTest;
#[cfg(feature = "migrator")]
pub use migrator::MigratorTest;

/// The time every test event carries.
pub const TEST_TIMESTAMP: &str = "2000-01-01T00:00:00.000000Z";

/// A typed event or command split into its type name and payload JSON, the
/// way the host stores it (`#[serde(tag = "...", content = "payload")]`).
#[cfg(any(feature = "aggregate", feature = "handler"))]
fn split_tagged<T: serde::Serialize>(tag: &str, value: &T) -> (String, String) {
    let mut object = match serde_json::to_value(value) {
        Ok(serde_json::Value::Object(object)) => object,
        Ok(other) => panic!("a typed event or command must serialize to an object tagged `{tag}`, not {other}"),
        Err(error) => panic!("cannot serialize a test value: {error}"),
    };
    let Some(serde_json::Value::String(type_name)) = object.remove(tag) else {
        panic!("a typed value must serialize with a `{tag}` string; use #[serde(tag = \"{tag}\", content = \"payload\")]");
    };
    let payload = object.remove("payload").unwrap_or(serde_json::Value::Null);
    (type_name, payload.to_string())
}

/// One event of a test batch, written as the host writes the contract's
/// `events` JSON array.
struct TestEvent<'a> {
    event_type: &'a str,
    schema_version: &'a str,
    stream_version: u64,
    global_position: u64,
    /// Payload JSON text, embedded as it is (it need not be valid JSON).
    payload: &'a str,
    /// (aggregate type, aggregate id, metadata JSON) when the plugin wants envelopes.
    envelope: Option<(&'a str, &'a str, &'a str)>,
}

fn events_json(events: &[TestEvent<'_>]) -> String {
    let quoted = |text: &str| serde_json::to_string(text).expect("a string serializes");
    let mut json = String::from("[");
    for (index, event) in events.iter().enumerate() {
        if index > 0 {
            json.push(',');
        }
        json.push_str(&format!(
            "{{\"event_type\":{},\"schema_version\":{},\"stream_version\":{},\"global_position\":{},\"timestamp\":\"{TEST_TIMESTAMP}\",\"payload\":{}",
            quoted(event.event_type),
            quoted(event.schema_version),
            event.stream_version,
            event.global_position,
            event.payload
        ));
        if let Some((aggregate_type, aggregate_id, metadata)) = event.envelope {
            json.push_str(&format!(
                ",\"id\":\"00000000-0000-7000-8000-{:012}\",\"aggregate_type\":{},\"aggregate_id\":{},\"metadata\":{metadata},\"correlation_id\":null,\"causation_id\":null,\"user_id\":null,\"source\":null",
                event.global_position,
                quoted(aggregate_type),
                quoted(aggregate_id)
            ));
        }
        json.push('}');
    }
    json.push(']');
    json
}

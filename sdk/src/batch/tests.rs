//! The batch reader against the texts a host (or a hand-written fixture)
//! may send: key order, escapes, unknown keys, the envelope, and bodies or
//! batches that cannot be read.

use serde::Deserialize;

use super::{for_each_event, TaggedBody};
use crate::{Event, PluginError};

#[derive(Debug, PartialEq, Deserialize)]
#[serde(tag = "event_type", content = "payload")]
enum Tally {
    Added { amount: i64 },
    Reset {},
}

fn read(text: &str) -> Result<Vec<Event<Tally>>, (usize, PluginError)> {
    let mut events = Vec::new();
    for_each_event::<TaggedBody<Tally>>(text, ("tally", "t-1"), |_, event| {
        events.push(event);
        Ok(())
    })?;
    Ok(events)
}

const COMPACT: &str = r#"[
  {"event_type":"Added","schema_version":"1.0","stream_version":1,"global_position":7,"timestamp":"2026-01-01T00:00:00Z","payload":{"amount":5}},
  {"event_type":"Reset","schema_version":"1.0","stream_version":2,"global_position":9,"timestamp":"2026-01-01T00:00:01Z","payload":{}}
]"#;

#[test]
fn compact_events_get_their_stream_from_the_call_and_an_empty_envelope() {
    let events = read(COMPACT).unwrap();
    assert_eq!(events.len(), 2);
    let first = &events[0];
    assert_eq!((first.aggregate_type.as_str(), first.aggregate_id.as_str()), ("tally", "t-1"));
    assert_eq!((first.stream_version, first.global_position), (1, 7));
    assert_eq!((first.event_type.as_str(), first.schema_version.as_str(), first.timestamp.as_str()), ("Added", "1.0", "2026-01-01T00:00:00Z"));
    assert_eq!(first.body, Tally::Added { amount: 5 });
    assert_eq!((first.id.as_str(), first.metadata_json.as_str(), &first.user_id), ("", "", &None));
    assert_eq!(events[1].body, Tally::Reset {});
}

#[test]
fn the_envelope_and_escaped_strings_arrive_as_sent_and_unknown_keys_are_skipped() {
    let text = r#"[{"id":"e-1","aggregate_type":"tally","aggregate_id":"t-\"2\"","future_key":[1,{"x":2}],
        "event_type":"Added","schema_version":"1.0","stream_version":3,"global_position":4,"timestamp":"2026-01-01T00:00:00Z",
        "payload":{"amount":-1},"metadata":{"k":"v"},"correlation_id":"c","causation_id":null,"user_id":"ann\u00e9","source":"s"}]"#;
    let event = read(text).unwrap().remove(0);
    assert_eq!((event.id.as_str(), event.aggregate_id.as_str()), ("e-1", "t-\"2\""));
    assert_eq!(event.metadata_json, r#"{"k":"v"}"#);
    assert_eq!((event.correlation_id.as_deref(), event.causation_id.as_deref()), (Some("c"), None));
    assert_eq!((event.user_id.as_deref(), event.source.as_deref()), (Some("anné"), Some("s")));
    assert_eq!(event.body, Tally::Added { amount: -1 });
}

#[test]
fn a_payload_before_its_event_type_is_still_read() {
    let text = r#"[{"payload":{"amount":2},"schema_version":"1.0","stream_version":1,"global_position":1,"timestamp":"t","event_type":"Added"}]"#;
    assert_eq!(read(text).unwrap()[0].body, Tally::Added { amount: 2 });
}

#[test]
fn an_unreadable_body_names_its_event_type_and_index() {
    let text = COMPACT.replace(r#""payload":{}"#, r#""payload":{"amount":"ten"}"#).replace("Reset", "Added");
    let (index, error) = read(&text).unwrap_err();
    assert_eq!(index, 1);
    assert!(matches!(&error, PluginError::Invalid(message) if message.starts_with("cannot read Added: ")), "{error:?}");
    let (_, unknown) = read(&COMPACT.replace("Reset", "Renamed")).unwrap_err();
    assert!(matches!(&unknown, PluginError::Invalid(message) if message.contains("cannot read Renamed") && message.contains("unknown variant")), "{unknown:?}");
}

#[test]
fn a_batch_that_is_not_the_contracts_array_is_invalid() {
    for text in ["", "{}", "[1]", r#"[{"event_type":"Added"}]"#, &COMPACT[..COMPACT.len() - 1], &format!("{COMPACT} trailing")] {
        let (_, error) = read(text).unwrap_err();
        assert!(matches!(&error, PluginError::Invalid(message) if message.starts_with("the events are not the contract's JSON array")), "{text:?}: {error:?}");
    }
}

#[test]
fn an_error_from_the_callback_stops_the_batch_at_its_event() {
    let mut seen = 0;
    let failure = for_each_event::<TaggedBody<Tally>>(COMPACT, ("tally", "t-1"), |index, _| {
        seen += 1;
        if index == 0 {
            return Err(PluginError::rejected("no"));
        }
        Ok(())
    });
    assert_eq!(seen, 1);
    assert!(matches!(failure, Err((0, PluginError::Rejected(message))) if message == "no"));
}

#[test]
fn an_empty_batch_calls_nothing() {
    assert_eq!(for_each_event::<TaggedBody<Tally>>("[]", ("tally", "t-1"), |_, _| unreachable!()).unwrap(), 0);
}

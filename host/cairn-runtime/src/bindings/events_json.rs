//! The `events` text of `cairn:plugin@0.2.0`: a batch of stored events as
//! one JSON array, written straight from the host's records. Payloads and
//! metadata are embedded as they are stored (they are JSON already), so the
//! only copy of a payload is this one and the one into the plugin's memory.

use std::fmt::Write as _;

use cairn_event::RecordedEvent;

use crate::types::EventShape;

/// Writes `events` as the 0.2 `events` JSON array, in `shape`.
pub(super) fn events_json<'a>(events: impl ExactSizeIterator<Item = &'a RecordedEvent>, shape: EventShape) -> String {
    if events.len() == 0 {
        return String::from("[]");
    }
    let with_envelope = shape == EventShape::WithEnvelope;
    let mut text = String::with_capacity(events.len() * if with_envelope { 320 } else { 160 });
    text.push('[');
    for (index, event) in events.enumerate() {
        if index > 0 {
            text.push(',');
        }
        text.push_str("{\"event_type\":");
        push_string(&mut text, &event.event_type);
        text.push_str(",\"schema_version\":");
        push_string(&mut text, &event.schema_version);
        // Writing into a String cannot fail.
        let _ = write!(text, ",\"stream_version\":{},\"global_position\":{},\"timestamp\":\"", event.stream_version, event.global_position);
        cairn_event::time::write_rfc3339(&event.timestamp, &mut text);
        text.push_str("\",\"payload\":");
        text.push_str(event.payload.as_str());
        if with_envelope {
            let _ = write!(text, ",\"id\":\"{}\",\"aggregate_type\":", event.id.hyphenated());
            push_string(&mut text, &event.aggregate_type);
            text.push_str(",\"aggregate_id\":");
            push_string(&mut text, &event.aggregate_id);
            text.push_str(",\"metadata\":");
            text.push_str(event.metadata.as_str());
            for (key, value) in [
                ("correlation_id", &event.correlation_id),
                ("causation_id", &event.causation_id),
                ("user_id", &event.user_id),
                ("source", &event.source),
            ] {
                let _ = write!(text, ",\"{key}\":");
                match value {
                    Some(value) => push_string(&mut text, value),
                    None => text.push_str("null"),
                }
            }
        }
        text.push('}');
    }
    text.push(']');
    text
}

/// Appends `value` as a JSON string. Names and versions almost never need
/// escaping, so they are checked and copied; the rest go through serde_json.
fn push_string(text: &mut String, value: &str) {
    if value.bytes().all(|byte| byte >= 0x20 && byte != b'"' && byte != b'\\') {
        text.push('"');
        text.push_str(value);
        text.push('"');
    } else {
        text.push_str(&serde_json::to_string(value).expect("a string always serializes"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_event::JsonText;

    fn event() -> RecordedEvent {
        RecordedEvent {
            id: uuid::Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001),
            global_position: 9_007_199_254_740_991,
            aggregate_type: "bank-account".into(),
            aggregate_id: "acc \"1\"\n".into(),
            stream_version: 3,
            event_type: "MoneyDeposited".into(),
            schema_version: "1.0".into(),
            timestamp: cairn_event::time::micros_to_datetime(1_777_000_000_123_456),
            recorded_at: cairn_event::time::micros_to_datetime(1_777_000_000_123_456),
            payload: JsonText::parse(r#"{"amount":5,"note":"é\u0000"}"#.to_owned()).unwrap(),
            metadata: JsonText::parse(r#"{"k":[1]}"#.to_owned()).unwrap(),
            correlation_id: Some("c-1".into()),
            causation_id: None,
            user_id: Some("ann".into()),
            source: None,
        }
    }

    #[test]
    fn the_compact_shape_is_json_with_the_payload_embedded() {
        let text = events_json([event()].iter(), EventShape::Compact);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value,
            serde_json::json!([{
                "event_type": "MoneyDeposited", "schema_version": "1.0", "stream_version": 3,
                "global_position": 9_007_199_254_740_991u64, "timestamp": "2026-04-24T03:06:40.123456Z",
                "payload": {"amount": 5, "note": "é\u{0}"}
            }])
        );
    }

    #[test]
    fn the_envelope_escapes_what_needs_escaping() {
        let text = events_json([event(), event()].iter(), EventShape::WithEnvelope);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value[1]["aggregate_id"], "acc \"1\"\n");
        assert_eq!(value[1]["id"], "01900000-0000-7000-8000-000000000001");
        assert_eq!(value[0]["metadata"], serde_json::json!({"k": [1]}));
        assert_eq!(value[0]["correlation_id"], "c-1");
        assert_eq!(value[0]["causation_id"], serde_json::Value::Null);
        assert_eq!(events_json(std::iter::empty(), EventShape::Compact), "[]");
    }
}

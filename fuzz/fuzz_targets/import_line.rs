//! The event-line parser behind `cairn append --file`, `POST /events` and
//! `POST /events/batch`. It must never panic, and an event it accepts must
//! carry a payload and metadata that pass the strict validator.
#![no_main]

use cairn_event::import::{parse_event_json, parse_event_lines};
use cairn_event::json::validate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(event) = parse_event_json(text) {
        validate(event.payload.as_str()).expect("an accepted payload is strict JSON");
        validate(event.metadata.as_str()).expect("accepted metadata is strict JSON");
        assert_ne!(event.stream_version, Some(0), "stream versions start at 1");
    }
    match parse_event_lines(text) {
        Ok(parsed) => {
            assert_eq!(parsed.request.events.len(), parsed.line_numbers.len());
            assert!(!parsed.request.events.is_empty(), "an accepted file holds an event");
        }
        Err(problems) => assert!(!problems.is_empty(), "a refusal says why"),
    }
});

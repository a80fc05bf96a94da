//! The strict JSON validator that every way in uses (HTTP bodies, `cairn
//! append`, plugin answers). It must never panic, and what it accepts must
//! be JSON every reader in the host can read back: serde_json parses it
//! into a value, and `JsonText` writes it out as JSON that passes again.
#![no_main]

use cairn_event::json::{validate, JsonText};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(()) = validate(text) else { return };
    let value: serde_json::Value = serde_json::from_str(text).expect("accepted text parses as a serde_json value");
    let parsed = JsonText::parse(text).expect("validate and parse agree");
    let written = serde_json::to_string(&parsed).expect("accepted text serialises");
    validate(&written).expect("written text passes again");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&written).expect("written text parses"), value);
    assert!(parsed.same_json_as(&JsonText::from_value(&value)));
});

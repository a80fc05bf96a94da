//! JSON text that is known to be valid.
//!
//! Payloads and metadata are kept as text from the moment they are validated
//! until they are printed, so reading the log never parses them. Parsing a
//! payload per event would cost more than the rest of a read put together.

use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct JsonText(String);

impl JsonText {
    /// Validates `text` as JSON and keeps it verbatim.
    pub fn parse(text: impl Into<String>) -> Result<Self, serde_json::Error> {
        let text = text.into();
        serde_json::from_str::<&RawValue>(&text)?;
        Ok(Self(text))
    }

    /// Wraps text that came out of the store, where it was validated on the way in.
    pub fn from_trusted(text: String) -> Self {
        Self(text)
    }

    pub fn from_value(value: &serde_json::Value) -> Self {
        Self(value.to_string())
    }

    pub fn empty_object() -> Self {
        Self("{}".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(&self.0).expect("JsonText holds valid JSON")
    }

    pub fn is_object(&self) -> bool {
        self.0.trim_start().starts_with('{')
    }

    /// Equal as JSON values: whitespace and key order do not matter.
    pub fn same_json_as(&self, other: &JsonText) -> bool {
        self.0 == other.0 || self.to_value() == other.to_value()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for JsonText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for JsonText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for JsonText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw: &RawValue = serde_json::from_str(&self.0).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for JsonText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer).map_err(D::Error::custom)?;
        Ok(Self(raw.get().to_owned()))
    }
}

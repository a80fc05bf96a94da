#[cfg(feature = "aggregate")]
use serde::de::DeserializeOwned;
#[cfg(feature = "aggregate")]
use serde::Serialize;

use crate::PluginError;

/// A stored event's envelope with a typed body.
///
/// Aggregates and migrators get the envelope's fields (`id`, `metadata_json`,
/// `correlation_id`, `causation_id`, `user_id`, `source`) only when they set
/// `WANTS_ENVELOPE = true`; otherwise those are empty, and the host saves
/// copying them. Handlers get them unless they set it to false.
#[derive(Debug, Clone)]
pub struct Event<T> {
    /// The event's UUID; empty unless the envelope was asked for.
    pub id: String,
    /// Position in the whole log.
    pub global_position: u64,
    /// The aggregate type, the first half of the stream name. Always set
    /// for aggregates; for migrators, only with the envelope.
    pub aggregate_type: String,
    /// The aggregate id, the second half of the stream name. Always set
    /// for aggregates; for migrators, only with the envelope.
    pub aggregate_id: String,
    /// 1-based position within the stream.
    pub stream_version: u64,
    /// Such as "MoneyDeposited"; for typed bodies, also the enum variant.
    pub event_type: String,
    /// The payload's schema version.
    pub schema_version: String,
    /// When the event happened, RFC 3339 in UTC.
    pub timestamp: String,
    /// The metadata object as JSON text; [`Event::metadata`] parses it.
    /// Kept as text because most folds never look at it, and parsing it for
    /// every event would cost more than many folds. Empty unless the
    /// envelope was asked for.
    pub metadata_json: String,
    /// Links events of one business transaction.
    pub correlation_id: Option<String>,
    /// What caused the event, usually a command id.
    pub causation_id: Option<String>,
    /// Who caused the event.
    pub user_id: Option<String>,
    /// What produced the event.
    pub source: Option<String>,
    /// The typed body, read from `event_type` and `payload`.
    pub body: T,
}

impl<T> Event<T> {
    /// The metadata object, parsed.
    pub fn metadata(&self) -> Result<serde_json::Value, PluginError> {
        if self.metadata_json.is_empty() {
            return Err(PluginError::internal(
                "this event came without its envelope, so without metadata: set `const WANTS_ENVELOPE: bool = true` on the plugin",
            ));
        }
        parse_object("metadata", &self.metadata_json)
    }
}

/// A command with a typed body.
#[derive(Debug, Clone)]
pub struct Command<T> {
    /// Chosen by the host; becomes the causation id of the new events.
    pub command_id: String,
    /// The aggregate the command is for.
    pub aggregate_id: String,
    /// The metadata object.
    pub metadata: serde_json::Value,
    /// The typed body, read from `command_type` and `payload`.
    pub body: T,
}

/// The glue every world's adapter needs, for that world's own generated
/// `wire` module (each world is generated separately, so the types differ):
/// `to_wire` for errors.
macro_rules! wire_glue {
    () => {
        fn to_wire(error: $crate::PluginError) -> wire::Error {
            match error {
                $crate::PluginError::Rejected(message) => wire::Error::Rejected(message),
                $crate::PluginError::Invalid(message) => wire::Error::Invalid(message),
                $crate::PluginError::Internal(message) => wire::Error::Internal(message),
            }
        }

    };
}
pub(crate) use wire_glue;

#[cfg(feature = "aggregate")]
/// Reads a tagged body from a type name and a JSON payload: the pair
/// `{"<tag>": type_name, "payload": payload}` deserialized into `T`, which
/// suits `#[serde(tag = "...", content = "payload")]` enums.
pub(crate) fn tagged_body<T: DeserializeOwned>(tag: &str, type_name: &str, payload_json: &str) -> Result<T, PluginError> {
    // One pass over text built around the payload, rather than parsing the
    // payload into a tree and converting the tree: folds spend most of
    // their time here. The host guarantees the payload is valid JSON.
    let quoted_type = serde_json::to_string(type_name).map_err(|error| PluginError::internal(error.to_string()))?;
    let mut text = String::with_capacity(tag.len() + quoted_type.len() + payload_json.len() + 16);
    text.push_str("{\"");
    text.push_str(tag);
    text.push_str("\":");
    text.push_str(&quoted_type);
    text.push_str(",\"payload\":");
    text.push_str(payload_json);
    text.push('}');
    serde_json::from_str(&text).map_err(|error| PluginError::invalid(format!("cannot read {type_name}: {error}")))
}

#[cfg(feature = "aggregate")]
/// Splits a tagged body back into its type name and payload JSON.
pub(crate) fn untagged_body<T: Serialize>(tag: &str, body: &T) -> Result<(String, String), PluginError> {
    let value = serde_json::to_value(body).map_err(|error| PluginError::internal(format!("cannot write an event: {error}")))?;
    let serde_json::Value::Object(mut object) = value else {
        return Err(PluginError::internal(format!("an event must serialize to an object with `{tag}` and `payload`")));
    };
    let Some(serde_json::Value::String(type_name)) = object.remove(tag) else {
        return Err(PluginError::internal(format!("an event must serialize with a `{tag}` string; use #[serde(tag = \"{tag}\", content = \"payload\")]")));
    };
    let payload = object.remove("payload").unwrap_or(serde_json::Value::Null);
    Ok((type_name, payload.to_string()))
}

pub(crate) fn parse_object(what: &str, json: &str) -> Result<serde_json::Value, PluginError> {
    serde_json::from_str(json).map_err(|error| PluginError::invalid(format!("{what} is not JSON: {error}")))
}

//! The JSON-lines event format: what `cairn read` and `cairn log` print and
//! what `cairn append --file` reads back.
//!
//! Store-assigned fields (`global_position`, `recorded_at`) are accepted and
//! ignored, so a log can be piped from one store into another. A line's
//! `stream_version`, when present, is enforced as the event's place in its
//! stream.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::event::{AppendRequest, NewEvent, DEFAULT_SCHEMA_VERSION};
use crate::json::JsonText;
use crate::problem::Problem;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventLine {
    id: Option<Uuid>,
    #[allow(dead_code)]
    #[serde(default, deserialize_with = "crate::whole_number::optional")]
    global_position: Option<u64>,
    aggregate_type: String,
    aggregate_id: String,
    #[serde(default, deserialize_with = "crate::whole_number::optional")]
    stream_version: Option<u64>,
    event_type: String,
    schema_version: Option<String>,
    #[serde(default, with = "crate::time::optional_rfc3339_micros_de")]
    timestamp: Option<DateTime<Utc>>,
    #[allow(dead_code)]
    #[serde(default, with = "crate::time::optional_rfc3339_micros_de")]
    recorded_at: Option<DateTime<Utc>>,
    payload: JsonText,
    metadata: Option<JsonText>,
    correlation_id: Option<String>,
    causation_id: Option<String>,
    user_id: Option<String>,
    source: Option<String>,
}

/// A parsed file: the request, and for each event the 1-based line it came from.
#[derive(Debug)]
pub struct ParsedEventLines {
    pub request: AppendRequest,
    pub line_numbers: Vec<usize>,
}

/// Parses every non-blank line, reporting every bad line at once.
pub fn parse_event_lines(text: &str) -> Result<ParsedEventLines, Vec<Problem>> {
    let mut events = Vec::new();
    let mut line_numbers = Vec::new();
    let mut problems = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<EventLine>(line) {
            Ok(parsed) => {
                if parsed.stream_version == Some(0) {
                    problems.push(Problem::new(format!("line {}", index + 1), "stream_version starts at 1"));
                }
                events.push(new_event(parsed));
                line_numbers.push(index + 1);
            }
            Err(error) => problems.push(Problem::new(
                format!("line {}", index + 1),
                format!("{}; each line must be one JSON object", describe_json_error(&error)),
            )),
        }
    }
    if events.is_empty() && problems.is_empty() {
        problems.push(Problem::new("", "the input holds no events; give one JSON object per line"));
    }
    if problems.is_empty() {
        Ok(ParsedEventLines { request: AppendRequest { events, expectations: Vec::new() }, line_numbers })
    } else {
        Err(problems)
    }
}

fn new_event(line: EventLine) -> NewEvent {
    NewEvent {
        id: line.id,
        aggregate_type: line.aggregate_type,
        aggregate_id: line.aggregate_id,
        event_type: line.event_type,
        schema_version: line.schema_version.unwrap_or_else(|| DEFAULT_SCHEMA_VERSION.to_owned()),
        timestamp: line.timestamp,
        payload: line.payload,
        metadata: line.metadata.unwrap_or_else(JsonText::empty_object),
        correlation_id: line.correlation_id,
        causation_id: line.causation_id,
        user_id: line.user_id,
        source: line.source,
        stream_version: line.stream_version,
    }
}

/// serde_json's messages name columns; say what to do as well.
pub fn describe_json_error(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match error.classify() {
        Category::Syntax | Category::Eof => format!("not valid JSON ({error})"),
        Category::Data => format!("{error}; fields are those `cairn log` prints"),
        Category::Io => error.to_string(),
    }
}

/// One event in the same format as a line, from its text (an HTTP body,
/// say); payload and metadata keep their bytes.
pub fn parse_event_json(text: &str) -> Result<NewEvent, String> {
    let line: EventLine = serde_json::from_str(text).map_err(|error| describe_json_error(&error))?;
    if line.stream_version == Some(0) {
        return Err("stream_version starts at 1".to_owned());
    }
    Ok(new_event(line))
}

//! The stored event record and the shapes used to propose new events.
//!
//! Field names here are the public names: JSON output, HTTP bodies and the
//! plugin contract all use them unchanged.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::json::JsonText;

/// One event as the store holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedEvent {
    pub id: Uuid,
    pub global_position: u64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub stream_version: u64,
    pub event_type: String,
    pub schema_version: String,
    #[serde(with = "crate::time::rfc3339_micros")]
    pub timestamp: DateTime<Utc>,
    #[serde(with = "crate::time::rfc3339_micros")]
    pub recorded_at: DateTime<Utc>,
    pub payload: JsonText,
    pub metadata: JsonText,
    pub correlation_id: Option<String>,
    pub causation_id: Option<String>,
    pub user_id: Option<String>,
    pub source: Option<String>,
}

impl RecordedEvent {
    pub fn stream(&self) -> StreamId {
        StreamId::new(&self.aggregate_type, &self.aggregate_id)
    }
}

/// The name of a stream: an aggregate type and an aggregate id together.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StreamId {
    pub aggregate_type: String,
    pub aggregate_id: String,
}

impl StreamId {
    pub fn new(aggregate_type: impl Into<String>, aggregate_id: impl Into<String>) -> Self {
        Self { aggregate_type: aggregate_type.into(), aggregate_id: aggregate_id.into() }
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.aggregate_type, self.aggregate_id)
    }
}

/// An event proposed for appending. The store fills in what is missing.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// When absent the store generates a UUID v7.
    pub id: Option<Uuid>,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub event_type: String,
    pub schema_version: String,
    /// When absent the store uses the time of the append. Callers set it to backfill history.
    pub timestamp: Option<DateTime<Utc>>,
    pub payload: JsonText,
    pub metadata: JsonText,
    pub correlation_id: Option<String>,
    pub causation_id: Option<String>,
    pub user_id: Option<String>,
    pub source: Option<String>,
    /// When set, the append fails with a conflict unless this event lands at
    /// exactly this stream version. Copies between stores use it to keep
    /// each event's place in its stream.
    pub stream_version: Option<u64>,
}

impl NewEvent {
    /// A new event with an empty metadata object and schema version "1.0".
    pub fn new(
        aggregate_type: impl Into<String>,
        aggregate_id: impl Into<String>,
        event_type: impl Into<String>,
        payload: JsonText,
    ) -> Self {
        Self {
            id: None,
            aggregate_type: aggregate_type.into(),
            aggregate_id: aggregate_id.into(),
            event_type: event_type.into(),
            schema_version: DEFAULT_SCHEMA_VERSION.to_owned(),
            timestamp: None,
            payload,
            metadata: JsonText::empty_object(),
            correlation_id: None,
            causation_id: None,
            user_id: None,
            source: None,
            stream_version: None,
        }
    }

    pub fn stream(&self) -> StreamId {
        StreamId::new(&self.aggregate_type, &self.aggregate_id)
    }
}

pub const DEFAULT_SCHEMA_VERSION: &str = "1.0";

/// What a writer believes about a stream before it appends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExpectedVersion {
    /// No check at all.
    #[default]
    Any,
    /// The stream must not have any event yet.
    NoStream,
    /// The stream must have at least one event.
    Exists,
    /// The stream's current version must be exactly this (0 means empty).
    Exact(u64),
}

impl ExpectedVersion {
    pub fn is_satisfied_by(self, current_version: u64) -> bool {
        match self {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => current_version == 0,
            ExpectedVersion::Exists => current_version > 0,
            ExpectedVersion::Exact(expected) => current_version == expected,
        }
    }
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any"),
            ExpectedVersion::NoStream => f.write_str("no-stream"),
            ExpectedVersion::Exists => f.write_str("exists"),
            ExpectedVersion::Exact(version) => write!(f, "{version}"),
        }
    }
}

impl std::str::FromStr for ExpectedVersion {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "any" => Ok(ExpectedVersion::Any),
            "no-stream" => Ok(ExpectedVersion::NoStream),
            "exists" => Ok(ExpectedVersion::Exists),
            number => number.parse::<u64>().map(ExpectedVersion::Exact).map_err(|_| {
                format!("`{number}` is not an expected version: use any, no-stream, exists or a whole number")
            }),
        }
    }
}

/// One atomic append: events in the order they should take in the log, and
/// the expectation for each stream they touch. Streams without an entry in
/// `expectations` are appended with [`ExpectedVersion::Any`].
#[derive(Debug, Clone, Default)]
pub struct AppendRequest {
    pub events: Vec<NewEvent>,
    pub expectations: Vec<(StreamId, ExpectedVersion)>,
}

impl AppendRequest {
    /// Events for one stream under one expectation.
    pub fn to_stream(expected_version: ExpectedVersion, events: Vec<NewEvent>) -> Self {
        let expectations = events
            .first()
            .map(|first| vec![(first.stream(), expected_version)])
            .unwrap_or_default();
        Self { events, expectations }
    }

    pub fn expectation_for(&self, stream: &StreamId) -> ExpectedVersion {
        self.expectations
            .iter()
            .find(|(candidate, _)| candidate == stream)
            .map(|(_, expected)| *expected)
            .unwrap_or_default()
    }
}

/// What an append did: every event of the request as stored, in request order.
/// Events that already existed with identical content come back as stored
/// earlier and are counted in `already_present`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AppendOutcome {
    pub events: Vec<RecordedEvent>,
    pub already_present: usize,
}

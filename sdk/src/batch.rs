//! Reads a 0.2 `events` batch (the host's JSON array) in one pass, handing
//! each event to a callback as soon as its object ends.
//!
//! Why not parse the array into a `Vec` and then each payload into a body:
//! folds spend most of their time here, and that way scanned every payload
//! twice, built a tagged text around each one to parse it again, and moved
//! every event through a growing vector. Here the body is deserialized
//! straight from the payload's place in the text, and nothing is kept
//! between events.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::{Event, PluginError};

/// How an event's body is read from its type and payload.
pub(crate) trait BodyReader {
    type Body;
    fn read<'de, D: Deserializer<'de>>(event_type: &str, payload: D) -> Result<Self::Body, D::Error>;
}

/// The payload as a JSON value (handlers, migrators).
#[cfg(any(feature = "handler", feature = "migrator"))]
pub(crate) struct PayloadValue;

#[cfg(any(feature = "handler", feature = "migrator"))]
impl BodyReader for PayloadValue {
    type Body = serde_json::Value;
    fn read<'de, D: Deserializer<'de>>(_event_type: &str, payload: D) -> Result<serde_json::Value, D::Error> {
        serde_json::Value::deserialize(payload)
    }
}

#[cfg(feature = "aggregate")]
mod tagged;
#[cfg(feature = "aggregate")]
pub(crate) use tagged::TaggedBody;

/// Calls `each(index, event)` for every event of `text`, in order. A batch
/// that is not the contract's array is `invalid`; an error from `each` stops
/// the batch and comes back as it is, with its event's index.
pub(crate) fn for_each_event<R: BodyReader>(
    text: &str,
    stream: (&str, &str),
    mut each: impl FnMut(usize, Event<R::Body>) -> Result<(), PluginError>,
) -> Result<usize, (usize, PluginError)> {
    let (mut stopped, mut index) = (None, 0);
    let unreadable_body = std::cell::RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let visitor = BatchVisitor::<R, _> { stream, each: &mut each, stopped: &mut stopped, index: &mut index, unreadable_body: &unreadable_body, reader: PhantomData };
    let read = deserializer.deserialize_seq(visitor).and_then(|count| deserializer.end().map(|()| count));
    match (read, stopped, unreadable_body.into_inner()) {
        (_, Some(failure), _) => Err(failure),
        (Ok(count), None, _) => Ok(count),
        (Err(error), None, Some(event_type)) => Err((index, PluginError::invalid(format!("cannot read {event_type}: {error}")))),
        (Err(error), None, None) => Err((index, PluginError::invalid(format!("the events are not the contract's JSON array: {error}")))),
    }
}

struct BatchVisitor<'s, R, F> {
    stream: (&'s str, &'s str),
    each: &'s mut F,
    stopped: &'s mut Option<(usize, PluginError)>,
    /// The event being read, for errors.
    index: &'s mut usize,
    /// The type of an event whose payload is not its body's shape.
    unreadable_body: &'s std::cell::RefCell<Option<String>>,
    reader: PhantomData<R>,
}

impl<'de, R: BodyReader, F: FnMut(usize, Event<R::Body>) -> Result<(), PluginError>> Visitor<'de> for BatchVisitor<'_, R, F> {
    type Value = usize;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON array of events")
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut events: S) -> Result<usize, S::Error> {
        let seed = || EventSeed::<R> { stream: self.stream, unreadable_body: self.unreadable_body, reader: PhantomData };
        while let Some(event) = events.next_element_seed(seed())? {
            if let Err(error) = (self.each)(*self.index, event) {
                *self.stopped = Some((*self.index, error));
                return Err(de::Error::custom("stopped"));
            }
            *self.index += 1;
        }
        Ok(*self.index)
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Field {
    EventType,
    SchemaVersion,
    StreamVersion,
    GlobalPosition,
    Timestamp,
    Payload,
    Id,
    AggregateType,
    AggregateId,
    Metadata,
    CorrelationId,
    CausationId,
    UserId,
    Source,
    #[serde(other)]
    Unknown,
}

struct EventSeed<'s, R> {
    stream: (&'s str, &'s str),
    unreadable_body: &'s std::cell::RefCell<Option<String>>,
    reader: PhantomData<R>,
}

impl<'de, R: BodyReader> DeserializeSeed<'de> for EventSeed<'_, R> {
    type Value = Event<R::Body>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

/// The body, read in place once the type is known; a payload that comes
/// before its `event_type` is kept as text and read at the object's end.
struct BodySeed<'t, R> {
    event_type: &'t str,
    unreadable_body: &'t std::cell::RefCell<Option<String>>,
    reader: PhantomData<R>,
}

impl<'de, R: BodyReader> DeserializeSeed<'de> for BodySeed<'_, R> {
    type Value = R::Body;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<R::Body, D::Error> {
        R::read(self.event_type, deserializer).inspect_err(|_| {
            self.unreadable_body.replace(Some(self.event_type.to_owned()));
        })
    }
}

impl<'de, R: BodyReader> Visitor<'de> for EventSeed<'_, R> {
    type Value = Event<R::Body>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an event object")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        let missing = |field| de::Error::missing_field(field);
        let (mut event_type, mut schema_version, mut timestamp) = (None::<String>, None::<String>, None::<String>);
        let (mut stream_version, mut global_position) = (None::<u64>, None::<u64>);
        let (mut body, mut early_payload) = (None, None::<&'de serde_json::value::RawValue>);
        let (mut id, mut aggregate_type, mut aggregate_id, mut metadata) = (None::<String>, None::<String>, None::<String>, None::<&'de serde_json::value::RawValue>);
        let (mut correlation_id, mut causation_id, mut user_id, mut source) = (None, None, None, None);
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::EventType => event_type = Some(map.next_value()?),
                Field::SchemaVersion => schema_version = Some(map.next_value()?),
                Field::StreamVersion => stream_version = Some(map.next_value()?),
                Field::GlobalPosition => global_position = Some(map.next_value()?),
                Field::Timestamp => timestamp = Some(map.next_value()?),
                Field::Payload => match &event_type {
                    Some(event_type) => body = Some(map.next_value_seed(BodySeed::<R> { event_type, unreadable_body: self.unreadable_body, reader: PhantomData })?),
                    None => early_payload = Some(map.next_value()?),
                },
                Field::Id => id = map.next_value()?,
                Field::AggregateType => aggregate_type = map.next_value()?,
                Field::AggregateId => aggregate_id = map.next_value()?,
                Field::Metadata => metadata = map.next_value()?,
                Field::CorrelationId => correlation_id = map.next_value()?,
                Field::CausationId => causation_id = map.next_value()?,
                Field::UserId => user_id = map.next_value()?,
                Field::Source => source = map.next_value()?,
                Field::Unknown => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        let event_type = event_type.ok_or_else(|| missing("event_type"))?;
        let body = match (body, early_payload) {
            (Some(body), _) => body,
            (None, Some(payload)) => {
                let seed = BodySeed::<R> { event_type: &event_type, unreadable_body: self.unreadable_body, reader: PhantomData };
                seed.deserialize(&mut serde_json::Deserializer::from_str(payload.get())).map_err(de::Error::custom)?
            }
            (None, None) => return Err(missing("payload")),
        };
        Ok(Event {
            id: id.unwrap_or_default(),
            global_position: global_position.ok_or_else(|| missing("global_position"))?,
            aggregate_type: aggregate_type.unwrap_or_else(|| self.stream.0.to_owned()),
            aggregate_id: aggregate_id.unwrap_or_else(|| self.stream.1.to_owned()),
            stream_version: stream_version.ok_or_else(|| missing("stream_version"))?,
            event_type,
            schema_version: schema_version.ok_or_else(|| missing("schema_version"))?,
            timestamp: timestamp.ok_or_else(|| missing("timestamp"))?,
            metadata_json: metadata.map(|metadata| metadata.get().to_owned()).unwrap_or_default(),
            correlation_id,
            causation_id,
            user_id,
            source,
            body,
        })
    }
}

#[cfg(all(test, feature = "aggregate"))]
mod tests;

//! Aggregates' bodies: enums tagged the way Cairn stores events, read
//! straight from the payload's place in the batch.

use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor};

use super::BodyReader;

/// A body tagged the way Cairn stores events,
/// `#[serde(tag = "event_type", content = "payload")]` (aggregates).
pub(crate) struct TaggedBody<T>(PhantomData<T>);

impl<T: de::DeserializeOwned> BodyReader for TaggedBody<T> {
    type Body = T;
    fn read<'de, D: Deserializer<'de>>(event_type: &str, payload: D) -> Result<T, D::Error> {
        T::deserialize(TaggedPayload { event_type, payload })
    }
}

/// Presents `{"event_type": <type>, "payload": <payload>}` to an adjacently
/// tagged enum without writing that text: the tag from the string we hold,
/// the content from the payload's own deserializer.
struct TaggedPayload<'t, D> {
    event_type: &'t str,
    payload: D,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for TaggedPayload<'_, D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        visitor.visit_map(TagThenPayload { event_type: self.event_type, payload: Some(self.payload), next: 0 })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

struct TagThenPayload<'t, D> {
    event_type: &'t str,
    payload: Option<D>,
    next: u8,
}

impl<'de, D: Deserializer<'de>> MapAccess<'de> for TagThenPayload<'_, D> {
    type Error = D::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, D::Error> {
        let key = match self.next {
            0 => "event_type",
            1 => "payload",
            _ => return Ok(None),
        };
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, D::Error> {
        self.next += 1;
        if self.next == 1 {
            return seed.deserialize(self.event_type.into_deserializer());
        }
        match self.payload.take() {
            Some(payload) => seed.deserialize(payload),
            None => Err(de::Error::custom("the payload was read twice")),
        }
    }
}

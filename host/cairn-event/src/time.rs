//! Timestamps are UTC with microsecond precision everywhere: the store keeps
//! microseconds, so anything finer would not survive a round trip.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

/// Truncates to whole microseconds, the store's precision.
pub fn truncate_to_micros(instant: DateTime<Utc>) -> DateTime<Utc> {
    micros_to_datetime(instant.timestamp_micros())
}

pub fn now_micros() -> DateTime<Utc> {
    truncate_to_micros(Utc::now())
}

pub fn micros_to_datetime(micros: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(micros).single().unwrap_or_default()
}

/// Parses RFC 3339 text and converts it to UTC.
pub fn parse_rfc3339(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|instant| truncate_to_micros(instant.with_timezone(&Utc)))
        .map_err(|error| {
            format!("`{text}` is not an RFC 3339 time ({error}); write it like 2026-05-01T12:00:00Z")
        })
}

pub fn format_rfc3339(instant: &DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Serde adapter that writes RFC 3339 with exactly six fractional digits and a `Z`.
pub mod rfc3339_micros {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(instant: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&super::format_rfc3339(instant))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        super::parse_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}

/// Like [`rfc3339_micros`], for optional instants.
pub mod optional_rfc3339_micros {
    use chrono::{DateTime, Utc};
    use serde::Serializer;

    pub fn serialize<S: Serializer>(instant: &Option<DateTime<Utc>>, serializer: S) -> Result<S::Ok, S::Error> {
        match instant {
            Some(instant) => serializer.serialize_str(&super::format_rfc3339(instant)),
            None => serializer.serialize_none(),
        }
    }
}

/// Reads optional RFC 3339 instants; the counterpart of [`optional_rfc3339_micros`].
pub mod optional_rfc3339_micros_de {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer};

    pub use super::optional_rfc3339_micros::serialize;

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        let text = Option::<String>::deserialize(deserializer)?;
        text.map(|text| super::parse_rfc3339(&text).map_err(serde::de::Error::custom)).transpose()
    }
}

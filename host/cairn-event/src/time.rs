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
///
/// Only years 1 to 9999 in UTC are taken: RFC 3339 cannot write others, so
/// an instant outside them could be stored but not printed and read back.
pub fn parse_rfc3339(text: &str) -> Result<DateTime<Utc>, String> {
    let instant = DateTime::parse_from_rfc3339(text)
        .map(|instant| truncate_to_micros(instant.with_timezone(&Utc)))
        .map_err(|error| format!("`{text}` is not an RFC 3339 time ({error}); write it like 2026-05-01T12:00:00Z"))?;
    if !(1..=9999).contains(&chrono::Datelike::year(&instant)) {
        return Err(format!("`{text}` is outside the years 0001 to 9999 in UTC; give a time between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z"));
    }
    Ok(instant)
}

pub fn format_rfc3339(instant: &DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The length of [`format_rfc3339`]'s text for years 0001 to 9999.
pub const RFC3339_MICROS_LENGTH: usize = 27;

/// Appends what [`format_rfc3339`] writes, without its allocation and about
/// five times faster: the plugin boundary formats a time for every event it
/// hands over.
pub fn write_rfc3339(instant: &DateTime<Utc>, text: &mut String) {
    use chrono::{Datelike, Timelike};
    let year = instant.year();
    if !(1..=9999).contains(&year) {
        // Stored times are within these years; anything else goes the slow, general way.
        text.push_str(&format_rfc3339(instant));
        return;
    }
    let mut digits = [0u8; RFC3339_MICROS_LENGTH];
    let mut put = |at: usize, width: usize, mut value: u32| {
        for place in (at..at + width).rev() {
            digits[place] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, 4, year as u32);
    put(5, 2, instant.month());
    put(8, 2, instant.day());
    put(11, 2, instant.hour());
    put(14, 2, instant.minute());
    // A leap second shows as second 60, as chrono writes it.
    let nanosecond = instant.nanosecond();
    put(17, 2, instant.second() + nanosecond / 1_000_000_000);
    put(20, 6, (nanosecond % 1_000_000_000) / 1_000);
    for (place, separator) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':'), (19, b'.'), (26, b'Z')] {
        digits[place] = separator;
    }
    text.push_str(std::str::from_utf8(&digits).expect("digits and separators are ASCII"));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_writer_writes_what_chrono_writes() {
        let samples = [i64::MIN / 4, -62_135_596_800_000_000, -1, 0, 1, 999_999, 1_777_000_000_123_456, 253_402_300_799_999_999, 253_402_300_800_000_000];
        let spread = (0..2_000i64).map(|step| -62_135_596_800_000_000 + step * 158_000_000_123_457);
        for micros in samples.into_iter().chain(spread) {
            let instant = micros_to_datetime(micros);
            let mut written = String::new();
            write_rfc3339(&instant, &mut written);
            assert_eq!(written, format_rfc3339(&instant), "at {micros} µs");
        }
    }

    #[test]
    fn times_are_read_in_utc_at_microseconds() {
        let instant = parse_rfc3339("2026-05-01T14:00:00.1234567+02:00").unwrap();
        assert_eq!(format_rfc3339(&instant), "2026-05-01T12:00:00.123456Z");
    }

    #[test]
    fn instants_outside_the_years_rfc_3339_can_write_are_refused() {
        assert!(parse_rfc3339("0001-01-01T00:00:00Z").is_ok());
        assert!(parse_rfc3339("9999-12-31T23:59:59Z").is_ok());
        let past_the_end = parse_rfc3339("9999-12-31T23:59:59-01:00").unwrap_err();
        assert!(past_the_end.contains("outside the years 0001 to 9999"), "{past_the_end}");
        assert!(parse_rfc3339("0001-01-01T00:00:00+01:00").is_err());
        assert!(parse_rfc3339("").unwrap_err().contains("write it like 2026-05-01T12:00:00Z"));
    }
}

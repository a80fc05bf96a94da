//! Whole numbers as JSON has them. JSON has one number type, and JSON
//! Schema counts `972.0` as an integer, so a client (or a generator reading
//! our OpenAPI document) may send a version or a count with a zero
//! fraction. These serde adapters take any JSON number that is exactly a
//! whole number in range, and refuse fractions and out-of-range values
//! with a message that says so.

use serde::de::{Error, Visitor};
use serde::Deserializer;

/// The largest whole number an `f64` holds exactly as every integer below
/// it: 2^53. Larger floats may be rounded already, so they are refused.
const LARGEST_EXACT_FLOAT: f64 = 9_007_199_254_740_992.0;

struct WholeNumber;

impl<'de> Visitor<'de> for WholeNumber {
    type Value = Option<u64>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a whole number from 0, or null")
    }

    fn visit_u64<E: Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(Some(value))
    }

    fn visit_i64<E: Error>(self, value: i64) -> Result<Self::Value, E> {
        u64::try_from(value).map(Some).map_err(|_| E::custom(format!("{value} is negative; give a whole number from 0")))
    }

    fn visit_f64<E: Error>(self, value: f64) -> Result<Self::Value, E> {
        if value.fract() == 0.0 && (0.0..=LARGEST_EXACT_FLOAT).contains(&value) {
            // In range and whole, so the conversion is exact.
            Ok(Some(value as u64))
        } else {
            Err(E::custom(format!("{value} is not a whole number from 0 to 2^53 as written; write it without a fraction or exponent")))
        }
    }

    fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// `#[serde(default, deserialize_with = "cairn_event::whole_number::optional")]`
/// on an `Option<u64>`: absent and null are `None`.
pub fn optional<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    deserializer.deserialize_any(WholeNumber)
}

/// The same for an `Option<usize>` (sizes and counts).
pub fn optional_usize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<usize>, D::Error> {
    optional(deserializer)?.map(|value| usize::try_from(value).map_err(|_| D::Error::custom(format!("{value} is too large")))).transpose()
}

/// The same for an `Option<u32>` (retries).
pub fn optional_u32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    optional(deserializer)?.map(|value| u32::try_from(value).map_err(|_| D::Error::custom(format!("{value} is too large")))).transpose()
}

/// A whole number from a `serde_json::Number`, by the same rule.
pub fn from_number(number: &serde_json::Number) -> Option<u64> {
    number.as_u64().or_else(|| number.as_f64().filter(|value| value.fract() == 0.0 && (0.0..=LARGEST_EXACT_FLOAT).contains(value)).map(|value| value as u64))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Holder {
        #[serde(default, deserialize_with = "super::optional")]
        number: Option<u64>,
    }

    fn read(text: &str) -> Result<Option<u64>, String> {
        serde_json::from_str::<Holder>(text).map(|holder| holder.number).map_err(|error| error.to_string())
    }

    #[test]
    fn whole_numbers_with_or_without_a_zero_fraction_are_taken() {
        assert_eq!(read(r#"{"number": 972}"#), Ok(Some(972)));
        assert_eq!(read(r#"{"number": 972.0}"#), Ok(Some(972)));
        assert_eq!(read(r#"{"number": 9.72e2}"#), Ok(Some(972)));
        assert_eq!(read(r#"{"number": 18446744073709551615}"#), Ok(Some(u64::MAX)));
        assert_eq!(read(r#"{"number": null}"#), Ok(None));
        assert_eq!(read(r#"{}"#), Ok(None));
    }

    #[test]
    fn fractions_negatives_and_inexact_floats_are_refused() {
        assert!(read(r#"{"number": 1.5}"#).unwrap_err().contains("not a whole number"));
        assert!(read(r#"{"number": -1}"#).unwrap_err().contains("negative"));
        assert!(read(r#"{"number": 1e300}"#).unwrap_err().contains("not a whole number"));
        assert!(read(r#"{"number": "1"}"#).is_err());
    }
}

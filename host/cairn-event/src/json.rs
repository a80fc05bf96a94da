//! JSON text that is known to be valid.
//!
//! Payloads and metadata are kept as text from the moment they are validated
//! until they are printed, so reading the log never parses them. Parsing a
//! payload per event would cost more than the rest of a read put together.
//!
//! Every way in (the CLI, HTTP bodies, files, plugin answers) validates with
//! [`JsonText::parse`], which is stricter than JSON's grammar: it refuses what
//! other JSON readers disagree on or cannot represent, so that every stored
//! payload reads back the same in every language (see [`JsonProblem`]).

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// The deepest nesting of arrays and objects accepted. JSON libraries differ
/// in how deep they go before failing (serde_json stops at 128, some at 100,
/// some overflow their stack); 64 leaves room under every one of them.
pub const MAX_JSON_DEPTH: usize = 64;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct JsonText(String);

/// Why a text is not acceptable JSON, and where: `pointer` is a JSON
/// Pointer (RFC 6901) to the value at fault, empty for the whole text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonProblem {
    pub pointer: String,
    pub message: String,
}

impl fmt::Display for JsonProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pointer.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{} (at {})", self.message, self.pointer)
        }
    }
}

impl std::error::Error for JsonProblem {}

impl JsonText {
    /// Validates `text` and keeps it verbatim. Refused: text that is not
    /// JSON; a lone UTF-16 surrogate in a string (`"\ud800"`); a number
    /// outside what a 64-bit float holds (`1e400`); nesting deeper than
    /// [`MAX_JSON_DEPTH`]; an object with a key twice.
    pub fn parse(text: impl Into<String>) -> Result<Self, JsonProblem> {
        let text = text.into();
        validate(&text)?;
        Ok(Self(text))
    }

    /// Wraps text that came out of the store, where it was validated on the
    /// way in. Text stored before the validation was strict may not pass it;
    /// every method here copes with that instead of failing.
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

    /// The value, parsed. Text a JSON reader cannot represent (stored
    /// before validation was strict) comes back as a string holding it.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(&self.0).unwrap_or_else(|_| serde_json::Value::String(self.0.clone()))
    }

    pub fn is_object(&self) -> bool {
        self.0.trim_start().starts_with('{')
    }

    /// Equal as JSON values: whitespace and key order do not matter. Text
    /// that does not parse equals only the same text.
    pub fn same_json_as(&self, other: &JsonText) -> bool {
        if self.0 == other.0 {
            return true;
        }
        match (serde_json::from_str::<serde_json::Value>(&self.0), serde_json::from_str::<serde_json::Value>(&other.0)) {
            (Ok(mine), Ok(theirs)) => mine == theirs,
            _ => false,
        }
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

/// Written as the JSON it holds. Text that is not even JSON's grammar (a
/// corrupt row) is written as a string holding it, so that one bad row never
/// fails a whole page of output.
impl Serialize for JsonText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match serde_json::from_str::<&RawValue>(&self.0) {
            Ok(raw) => raw.serialize(serializer),
            Err(_) => serializer.serialize_str(&self.0),
        }
    }
}

/// Read as the text it is, validated as [`JsonText::parse`] does.
impl<'de> Deserialize<'de> for JsonText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        validate(raw.get()).map_err(D::Error::custom)?;
        Ok(Self(raw.get().to_owned()))
    }
}

/// Checks `text` as [`JsonText::parse`] describes.
pub fn validate(text: &str) -> Result<(), JsonProblem> {
    let path = RefCell::new(Vec::new());
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let checked = Checker { path: &path, depth: 0 }.deserialize(&mut deserializer).and_then(|()| deserializer.end());
    checked.map_err(|error| JsonProblem { pointer: pointer(&path.borrow()), message: describe(&error) })
}

fn pointer(path: &[String]) -> String {
    path.iter().map(|segment| format!("/{}", segment.replace('~', "~0").replace('/', "~1"))).collect()
}

/// serde_json's message, with the fix for the refusals it makes on our behalf.
fn describe(error: &serde_json::Error) -> String {
    let text = error.to_string();
    if text.contains("surrogate") || text.contains("hex escape") {
        format!("{text}: a string holds half of a UTF-16 surrogate pair (or a broken \\u escape); send both halves, or the character itself")
    } else if text.contains("number out of range") {
        format!("{text}: the number does not fit a 64-bit float; send it as a string")
    } else {
        text
    }
}

/// Visits every value once, keeping the path to it, refusing duplicate keys
/// and nesting beyond [`MAX_JSON_DEPTH`]; serde_json refuses lone surrogates
/// and numbers out of range while it decodes them.
struct Checker<'a> {
    path: &'a RefCell<Vec<String>>,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Checker<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Checker<'_> {
    fn nested<E: serde::de::Error>(&self) -> Result<Checker<'_>, E> {
        if self.depth >= MAX_JSON_DEPTH {
            return Err(E::custom(format!("arrays and objects nest deeper than {MAX_JSON_DEPTH} levels; flatten the document")));
        }
        Ok(Checker { path: self.path, depth: self.depth + 1 })
    }
}

impl<'de> Visitor<'de> for Checker<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<(), A::Error> {
        let inner = self.nested()?;
        let mut index = 0usize;
        loop {
            self.path.borrow_mut().push(index.to_string());
            if items.next_element_seed(Checker { path: inner.path, depth: inner.depth })?.is_none() {
                self.path.borrow_mut().pop();
                return Ok(());
            }
            self.path.borrow_mut().pop();
            index += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<(), A::Error> {
        let inner = self.nested()?;
        let mut seen: HashSet<Cow<'de, str>> = HashSet::new();
        while let Some(key) = entries.next_key_seed(KeySeed)? {
            self.path.borrow_mut().push(key.to_string());
            if seen.contains(&key) {
                return Err(A::Error::custom(format!("the key `{key}` appears twice in one object; keep one")));
            }
            entries.next_value_seed(Checker { path: inner.path, depth: inner.depth })?;
            self.path.borrow_mut().pop();
            seen.insert(key);
        }
        Ok(())
    }
}

/// An object key, borrowed from the text when it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Cow<'de, str>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(key))
    }

    fn visit_str<E>(self, key: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(key.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> JsonProblem {
        JsonText::parse(text).expect_err(text)
    }

    #[test]
    fn valid_json_is_kept_byte_for_byte() {
        for text in [r#"{"b":1,  "a":[1,2.5e10,"x\u00e9",null,true]}"#, "123456789012345678901234567890", r#""\ud83d\ude00""#, "  [] "] {
            assert_eq!(JsonText::parse(text).unwrap().as_str(), text);
        }
    }

    #[test]
    fn what_json_readers_disagree_on_is_refused_with_its_path() {
        let surrogate = refused(r#"{"note":["ok","\ud800"]}"#);
        assert_eq!(surrogate.pointer, "/note/1");
        assert!(surrogate.message.contains("surrogate pair"), "{surrogate}");
        assert!(refused(r#"["\udc00"]"#).message.contains("surrogate pair"));
        let huge = refused(r#"{"amount":1e400}"#);
        assert_eq!(huge.pointer, "/amount");
        assert!(huge.message.contains("64-bit float"), "{huge}");
        let twice = refused(r#"{"a":{"b":1,"b":2}}"#);
        assert_eq!(twice.pointer, "/a/b");
        assert!(twice.message.contains("`b` appears twice"), "{twice}");
        let deep = refused(&format!("{}{}", "[".repeat(MAX_JSON_DEPTH + 1), "]".repeat(MAX_JSON_DEPTH + 1)));
        assert!(deep.message.contains("deeper than 64"), "{deep}");
        assert_eq!(deep.pointer.matches('/').count(), MAX_JSON_DEPTH);
        assert!(JsonText::parse(format!("{}{}", "[".repeat(MAX_JSON_DEPTH), "]".repeat(MAX_JSON_DEPTH))).is_ok());
        assert_eq!(refused(r#"{"a/b~":x}"#).pointer, "/a~1b~0");
        assert!(JsonText::parse("{} {}").is_err(), "trailing values are refused");
    }

    #[test]
    fn deserializing_validates_too() {
        assert!(serde_json::from_str::<JsonText>(r#"{"a":1,"a":2}"#).is_err());
        assert_eq!(serde_json::from_str::<JsonText>(r#"{"a": 1}"#).unwrap().as_str(), r#"{"a": 1}"#);
    }

    #[test]
    fn text_stored_before_strict_validation_never_panics() {
        let old = JsonText::from_trusted(r#"{"n":1e400}"#.to_owned());
        assert_eq!(old.to_value(), serde_json::Value::String(old.as_str().to_owned()));
        assert!(!old.same_json_as(&JsonText::from_trusted(r#"{"n":1}"#.to_owned())));
        assert!(old.same_json_as(&old.clone()));
        assert_eq!(serde_json::to_string(&old).unwrap(), r#"{"n":1e400}"#, "written as stored");
        let corrupt = JsonText::from_trusted("{not json".to_owned());
        assert_eq!(serde_json::to_string(&corrupt).unwrap(), r#""{not json""#);
    }
}

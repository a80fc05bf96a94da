//! Encrypted fields inside a JSON payload. A protected field's value is
//! replaced by an envelope, `{"$enc": "v1:<base64 of nonce, ciphertext and
//! tag>"}`, sealed with the subject's data key and a fresh nonce. The
//! associated data binds the envelope to its event id and its JSON pointer,
//! so an envelope moved to another event or field does not open.

use aes_gcm::aead::{Aead, OsRng, Payload};
use aes_gcm::{AeadCore, Nonce};
use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::keys::DataKey;

const ENVELOPE_FIELD: &str = "$enc";
const VERSION_PREFIX: &str = "v1:";
const NONCE_BYTES: usize = 12;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FieldError {
    #[error("the personal-data policy names {pointer}, which is not a JSON pointer; pointers start with `/`, as in /name or /child/age")]
    NotAPointer { pointer: String },
    #[error("the subject field {pointer} is also listed as a personal field; the subject names whose key encrypts the others, so it stays readable")]
    SubjectEncrypted { pointer: String },
    #[error("the payload has personal fields ({fields}) but no subject at {subject}; put the data subject's id there")]
    NoSubject { subject: String, fields: String },
    #[error("the subject at {pointer} must be a string or a whole number")]
    SubjectNotAnId { pointer: String },
    #[error("the payload already holds an encrypted envelope at {pointer}; send plaintext, the host encrypts it")]
    AlreadyEncrypted { pointer: String },
    #[error("the encrypted field at {pointer} is damaged or was moved from another event or field, and cannot be opened")]
    Damaged { pointer: String },
}

/// Which fields of an event type's payload are personal, and which field
/// names the data subject whose key encrypts them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPolicy {
    fields: Vec<String>,
    subject: String,
}

impl FieldPolicy {
    pub fn new(fields: &[String], subject: &str) -> Result<Self, FieldError> {
        for pointer in fields.iter().chain(std::iter::once(&subject.to_owned())) {
            if !pointer.starts_with('/') {
                return Err(FieldError::NotAPointer { pointer: pointer.clone() });
            }
        }
        if fields.iter().any(|field| field == subject) {
            return Err(FieldError::SubjectEncrypted { pointer: subject.to_owned() });
        }
        Ok(Self { fields: fields.to_vec(), subject: subject.to_owned() })
    }

    /// The subject this payload's personal fields belong to; `None` when it
    /// holds none of them, so there is nothing to encrypt.
    pub fn subject_of(&self, payload: &Value) -> Result<Option<String>, FieldError> {
        let present: Vec<&str> = self.fields.iter().filter(|field| payload.pointer(field).is_some_and(|value| !value.is_null())).map(String::as_str).collect();
        if present.is_empty() {
            return Ok(None);
        }
        match payload.pointer(&self.subject) {
            Some(Value::String(id)) if !id.is_empty() => Ok(Some(id.clone())),
            Some(Value::Number(number)) if number.is_u64() || number.is_i64() => Ok(Some(number.to_string())),
            None | Some(Value::Null) => Err(FieldError::NoSubject { subject: self.subject.clone(), fields: present.join(", ") }),
            Some(_) => Err(FieldError::SubjectNotAnId { pointer: self.subject.clone() }),
        }
    }

    /// Seals each personal field present in `payload` (null ones stay
    /// null), and answers how many it sealed. Refuses a payload that
    /// already holds an envelope anywhere: a client cannot plant one.
    pub fn protect(&self, payload: &mut Value, key: &DataKey, event_id: Uuid) -> Result<usize, FieldError> {
        if has_envelopes(payload) {
            let mut planted = Vec::new();
            visit_envelopes(payload, &mut String::new(), &mut |pointer, _| planted.push(pointer.to_owned()));
            return Err(FieldError::AlreadyEncrypted { pointer: planted.swap_remove(0) });
        }
        let mut sealed = 0;
        for pointer in &self.fields {
            let Some(value) = payload.pointer_mut(pointer).filter(|value| !value.is_null()) else { continue };
            let plaintext = serde_json::to_vec(value).expect("a JSON value serialises");
            let nonce = aes_gcm::Aes256Gcm::generate_nonce(OsRng);
            let ciphertext = key.cipher.encrypt(&nonce, Payload { msg: &plaintext, aad: associated_data(event_id, pointer).as_bytes() }).expect("encryption in memory cannot fail");
            let mut bytes = nonce.to_vec();
            bytes.extend_from_slice(&ciphertext);
            *value = envelope(&bytes);
            sealed += 1;
        }
        Ok(sealed)
    }
}

fn envelope(bytes: &[u8]) -> Value {
    let mut fields = Map::new();
    fields.insert(ENVELOPE_FIELD.to_owned(), Value::String(format!("{VERSION_PREFIX}{}", STANDARD_NO_PAD.encode(bytes))));
    Value::Object(fields)
}

fn associated_data(event_id: Uuid, pointer: &str) -> String {
    format!("cairn field v1\0{event_id}\0{pointer}")
}

/// Whether `value` is an envelope: an object whose only field is `$enc`.
fn is_envelope(value: &Value) -> bool {
    matches!(value, Value::Object(fields) if fields.len() == 1 && fields.contains_key(ENVELOPE_FIELD))
}

/// Calls `found` with the JSON pointer of every envelope in `value`.
fn visit_envelopes(value: &mut Value, pointer: &mut String, found: &mut impl FnMut(&str, &mut Value)) {
    if is_envelope(value) {
        found(pointer, value);
        return;
    }
    let length = pointer.len();
    match value {
        Value::Object(fields) => {
            for (name, child) in fields.iter_mut() {
                pointer.push('/');
                pointer.push_str(&name.replace('~', "~0").replace('/', "~1"));
                visit_envelopes(child, pointer, found);
                pointer.truncate(length);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter_mut().enumerate() {
                pointer.push('/');
                pointer.push_str(&index.to_string());
                visit_envelopes(child, pointer, found);
                pointer.truncate(length);
            }
        }
        _ => {}
    }
}

/// Opens every envelope in `payload` with `key`. Without a key (the subject
/// was forgotten) each envelope becomes `null`. Answers the pointers that
/// were redacted, in payload order.
pub fn reveal(payload: &mut Value, key: Option<&DataKey>, event_id: Uuid) -> Result<Vec<String>, FieldError> {
    let mut redacted = Vec::new();
    let mut failure = None;
    visit_envelopes(payload, &mut String::new(), &mut |pointer, value| {
        if failure.is_some() {
            return;
        }
        let Some(key) = key else {
            *value = Value::Null;
            redacted.push(pointer.to_owned());
            return;
        };
        match open(value, key, event_id, pointer) {
            Some(plaintext) => *value = plaintext,
            None => failure = Some(FieldError::Damaged { pointer: pointer.to_owned() }),
        }
    });
    failure.map_or(Ok(redacted), Err)
}

fn open(envelope: &Value, key: &DataKey, event_id: Uuid, pointer: &str) -> Option<Value> {
    let text = envelope.get(ENVELOPE_FIELD)?.as_str()?.strip_prefix(VERSION_PREFIX)?;
    let bytes = STANDARD_NO_PAD.decode(text).ok()?;
    if bytes.len() < NONCE_BYTES + 16 {
        return None;
    }
    let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
    let plaintext = key.cipher.decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: associated_data(event_id, pointer).as_bytes() }).ok()?;
    serde_json::from_slice(&plaintext).ok()
}

/// Whether `payload` holds any envelope: a read that finds none needs no key.
pub fn has_envelopes(payload: &Value) -> bool {
    match payload {
        _ if is_envelope(payload) => true,
        Value::Object(fields) => fields.values().any(has_envelopes),
        Value::Array(items) => items.iter().any(has_envelopes),
        _ => false,
    }
}

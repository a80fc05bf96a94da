//! Personal data in an immutable log. An event log never changes, so a
//! person's data can be erased only if it was encrypted with a key that can
//! be destroyed: each data subject gets a data key, stored wrapped by the
//! deployment's master key (`keys`), and the personal fields of each payload
//! are sealed with it field by field (`fields`).
//!
//! Invariants:
//! - Keys never leave memory unwrapped, and their bytes are wiped on drop;
//!   only a hash of the master key (its id) is ever shown or stored.
//! - Every sealed field has its own random nonce, and its associated data
//!   binds it to its event id and JSON pointer: an envelope copied to
//!   another event or field does not open, and a damaged one is an error,
//!   never garbage.
//! - Without its key an envelope reads as `null` and its pointer is reported
//!   as redacted; it never reads as ciphertext.

mod fields;
mod keys;

pub use fields::{has_envelopes, reveal, FieldError, FieldPolicy};
pub use keys::{DataKey, KeyError, MasterKey, WrappedKey, KEY_BYTES};

#[cfg(test)]
mod tests;

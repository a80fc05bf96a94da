//! Keys: one master key per deployment, kept outside the store, and one data
//! key per data subject, stored only wrapped (encrypted) by the master key.
//! Destroying a subject's wrapped key makes every field encrypted with it
//! unreadable for good: crypto-shredding.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, OsRng, Payload};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// AES-256: 32-byte keys.
pub const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the master key file {path}: {reason}; give the file with --master-key-file or CAIRN_MASTER_KEY_FILE (`cairn keys new-master` writes one)")]
    Unreadable { path: String, reason: String },
    #[error("the master key file {path} holds {found} bytes; it must hold 32 bytes, or 64 hex digits (`cairn keys new-master` writes one)")]
    WrongLength { path: String, found: usize },
    #[error("the data key of subject {subject} is wrapped by master key {wrapped_by}, not by the one given ({given}); give the master key the store was written with")]
    WrongMasterKey { subject: String, wrapped_by: String, given: String },
    #[error("the wrapped data key of subject {subject} is damaged and cannot be unwrapped")]
    Damaged { subject: String },
}

/// The deployment's master key. Its bytes are wiped from memory when it is
/// dropped; its id (a hash, not the key) names it in errors and in the store.
pub struct MasterKey {
    cipher: Aes256Gcm,
    id: String,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("MasterKey").field("id", &self.id).finish_non_exhaustive()
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: &[u8; KEY_BYTES]) -> Self {
        let id = hex::encode(&Sha256::new().chain_update(b"cairn master key id\0").chain_update(bytes).finalize()[..8]);
        Self { cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(bytes)), id }
    }

    /// Reads a file of 32 raw bytes, or of 64 hex digits with an optional
    /// trailing newline.
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        let shown = path.display().to_string();
        let content = Zeroizing::new(std::fs::read(path).map_err(|error| KeyError::Unreadable { path: shown.clone(), reason: error.to_string() })?);
        let mut key = Zeroizing::new([0u8; KEY_BYTES]);
        let hex = std::str::from_utf8(&content).ok().map(str::trim_end).filter(|text| text.len() == 2 * KEY_BYTES);
        match hex.map(|text| hex::decode_to_slice(text, key.as_mut_slice())) {
            Some(Ok(())) => {}
            _ if content.len() == KEY_BYTES => key.copy_from_slice(&content),
            _ => return Err(KeyError::WrongLength { path: shown, found: content.len() }),
        }
        Ok(Self::from_bytes(&key))
    }

    /// A new random key, as the 64 hex digits a key file holds.
    pub fn generate_hex() -> Zeroizing<String> {
        let key = Aes256Gcm::generate_key(OsRng);
        Zeroizing::new(hex::encode(key))
    }

    /// A hash that names the key without revealing it.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// A data subject's key, in memory only while in use.
pub struct DataKey {
    pub(crate) cipher: Aes256Gcm,
}

/// A data key as stored: encrypted by a master key, bound to its subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    /// The id of the master key that wrapped it.
    pub master_key_id: String,
    /// Nonce, then ciphertext and tag.
    pub bytes: Vec<u8>,
}

impl DataKey {
    /// A fresh random key for `subject`, and its wrapped form to store.
    pub fn generate(master: &MasterKey, subject: &str) -> (Self, WrappedKey) {
        let key = Zeroizing::new(Aes256Gcm::generate_key(OsRng).to_vec());
        let wrapped = seal(master, subject, &key);
        (Self { cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key)) }, wrapped)
    }

    /// The key `wrapped` holds; the subject is authenticated with it, so a
    /// wrapped key copied to another subject's row does not unwrap.
    pub fn unwrap(master: &MasterKey, subject: &str, wrapped: &WrappedKey) -> Result<Self, KeyError> {
        let key = open(master, subject, wrapped)?;
        Ok(Self { cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key)) })
    }

    /// Re-wraps under another master key (`cairn keys rotate-master`).
    pub fn rewrap(old: &MasterKey, new: &MasterKey, subject: &str, wrapped: &WrappedKey) -> Result<WrappedKey, KeyError> {
        Ok(seal(new, subject, &open(old, subject, wrapped)?))
    }
}

fn seal(master: &MasterKey, subject: &str, key: &[u8]) -> WrappedKey {
    let nonce = Aes256Gcm::generate_nonce(OsRng);
    let sealed = master.cipher.encrypt(&nonce, Payload { msg: key, aad: wrap_context(subject).as_bytes() }).expect("encrypting 32 bytes cannot fail");
    let mut bytes = nonce.to_vec();
    bytes.extend_from_slice(&sealed);
    WrappedKey { master_key_id: master.id.clone(), bytes }
}

fn open(master: &MasterKey, subject: &str, wrapped: &WrappedKey) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    if wrapped.master_key_id != master.id {
        return Err(KeyError::WrongMasterKey { subject: subject.to_owned(), wrapped_by: wrapped.master_key_id.clone(), given: master.id.clone() });
    }
    let damaged = || KeyError::Damaged { subject: subject.to_owned() };
    if wrapped.bytes.len() != NONCE_BYTES + KEY_BYTES + 16 {
        return Err(damaged());
    }
    let (nonce, sealed) = wrapped.bytes.split_at(NONCE_BYTES);
    let key = master.cipher.decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: wrap_context(subject).as_bytes() }).map_err(|_| damaged())?;
    Ok(Zeroizing::new(key))
}

fn wrap_context(subject: &str) -> String {
    format!("cairn data key v1\0{subject}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master(byte: u8) -> MasterKey {
        MasterKey::from_bytes(&[byte; KEY_BYTES])
    }

    #[test]
    fn a_wrapped_key_unwraps_only_with_its_master_key_and_subject() {
        let (_, wrapped) = DataKey::generate(&master(1), "child-7");
        assert!(DataKey::unwrap(&master(1), "child-7", &wrapped).is_ok());
        assert!(matches!(DataKey::unwrap(&master(2), "child-7", &wrapped), Err(KeyError::WrongMasterKey { .. })));
        assert!(matches!(DataKey::unwrap(&master(1), "child-8", &wrapped), Err(KeyError::Damaged { .. })), "bound to its subject");
        let mut flipped = wrapped.clone();
        flipped.bytes[20] ^= 1;
        assert!(matches!(DataKey::unwrap(&master(1), "child-7", &flipped), Err(KeyError::Damaged { .. })));
        flipped.bytes.truncate(10);
        assert!(matches!(DataKey::unwrap(&master(1), "child-7", &flipped), Err(KeyError::Damaged { .. })), "short bytes are damage, not a panic");
    }

    #[test]
    fn rewrapping_moves_a_key_to_the_new_master_key() {
        let (_, wrapped) = DataKey::generate(&master(1), "child-7");
        let moved = DataKey::rewrap(&master(1), &master(3), "child-7", &wrapped).unwrap();
        assert_eq!(moved.master_key_id, master(3).id());
        assert!(DataKey::unwrap(&master(3), "child-7", &moved).is_ok());
        assert!(DataKey::unwrap(&master(1), "child-7", &moved).is_err());
    }

    #[test]
    fn key_files_hold_hex_or_raw_bytes_and_nothing_else() {
        let directory = std::env::temp_dir().join(format!("cairn-protect-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&directory).unwrap();
        let hex = MasterKey::generate_hex();
        std::fs::write(directory.join("hex"), format!("{}\n", hex.as_str())).unwrap();
        std::fs::write(directory.join("raw"), [7u8; KEY_BYTES]).unwrap();
        std::fs::write(directory.join("short"), "abc").unwrap();
        assert_eq!(MasterKey::from_file(&directory.join("hex")).unwrap().id().len(), 16);
        assert_eq!(MasterKey::from_file(&directory.join("raw")).unwrap().id(), master(7).id());
        let short = MasterKey::from_file(&directory.join("short")).unwrap_err().to_string();
        assert!(short.contains("holds 3 bytes") && short.contains("cairn keys new-master"), "{short}");
        let missing = MasterKey::from_file(&directory.join("missing")).unwrap_err().to_string();
        assert!(missing.contains("CAIRN_MASTER_KEY_FILE"), "{missing}");
        assert!(!format!("{:?}", master(7)).contains("cipher"), "Debug shows the id only");
        std::fs::remove_dir_all(directory).unwrap();
    }
}

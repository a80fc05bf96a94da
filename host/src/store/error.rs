use std::fmt;

use uuid::Uuid;

use crate::event::{ExpectedVersion, StreamId};

/// Everything the store can refuse or fail at. Messages name the problem and,
/// where there is one, the fix.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("concurrency conflict on stream {stream}: expected version {expected}, actual version {actual}")]
    Conflict { stream: StreamId, expected: ExpectedVersion, actual: u64 },

    #[error("{}", Problem::list(.0))]
    Invalid(Vec<Problem>),

    #[error("event {id} already exists with different content ({difference}); give the new event a new id, or re-send the original unchanged")]
    DuplicateId { id: Uuid, difference: String },

    #[error("cannot reach the store at {url}: {reason}")]
    Unreachable { url: String, reason: String },

    #[error("{location} is not a Cairn store: {reason}; point --store at a Cairn database or at a new file")]
    NotACairnStore { location: String, reason: String },

    #[error("the store at {location} has schema version {found}, newer than this cairn understands (up to {known}); upgrade cairn")]
    NewerSchema { location: String, found: i64, known: i64 },

    #[error("{0}")]
    BadUrl(String),

    #[error("store query failed: {0}")]
    Database(#[from] sqlx::Error),

    #[error("store schema migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),

    #[error("generation {generation} of the read model of {handler} is no longer live or being built: a rebuild replaced it; read the handler's generations again")]
    GenerationRetired { handler: String, generation: u64 },

    #[error("checkpoint {name} moved from position {expected} to {actual} under this run: another process is running the same handler; stop one of them")]
    CheckpointMoved { name: String, expected: u64, actual: u64 },

    #[error("the store holds a row it cannot read: {0}")]
    CorruptRow(String),
}

impl StoreError {
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { .. })
    }

    pub fn invalid(location: impl Into<String>, message: impl Into<String>) -> Self {
        StoreError::Invalid(vec![Problem::new(location, message)])
    }
}

/// One thing wrong with the input, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Such as "event 3" or "line 12"; empty when the whole input is meant.
    pub location: String,
    pub message: String,
}

impl Problem {
    pub fn new(location: impl Into<String>, message: impl Into<String>) -> Self {
        Self { location: location.into(), message: message.into() }
    }

    pub fn list(problems: &[Problem]) -> String {
        let mut text = String::new();
        for (index, problem) in problems.iter().enumerate() {
            if index > 0 {
                text.push_str("; ");
            }
            text.push_str(&problem.to_string());
        }
        text
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.location.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.location, self.message)
        }
    }
}

//! How a store is opened: the input limits every append is checked
//! against, how durable an acknowledged append is, and (PostgreSQL) how
//! long a statement may wait for a lock or run.

use std::time::Duration;

use crate::StoreLimits;

/// What an acknowledged append survives. README's "Limits and guarantees"
/// says what each promises on each backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// SQLite `synchronous=NORMAL` (WAL): a power cut may lose the last
    /// commits, never the file. PostgreSQL `synchronous_commit=off`: a crash
    /// of the server may lose about the last 600 ms of commits.
    Normal,
    /// SQLite `synchronous=FULL`: every acknowledged append is on disk.
    /// PostgreSQL `synchronous_commit=on`: every acknowledged append is in
    /// the write-ahead log on disk.
    #[default]
    Full,
}

impl Durability {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "normal" => Some(Durability::Normal),
            "full" => Some(Durability::Full),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Durability::Normal => "normal",
            Durability::Full => "full",
        }
    }
}

#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub limits: StoreLimits,
    pub durability: Durability,
    /// PostgreSQL: how long a statement waits for a lock (the log's head,
    /// a checkpoint) before it fails; a stuck transaction then stalls writers
    /// for this long, not forever.
    pub lock_timeout: Duration,
    /// PostgreSQL: how long one statement may run. Schema migrations are not
    /// bound by it.
    pub statement_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self { limits: StoreLimits::default(), durability: Durability::Full, lock_timeout: Duration::from_secs(5), statement_timeout: Duration::from_secs(60) }
    }
}

impl From<StoreLimits> for StoreOptions {
    fn from(limits: StoreLimits) -> Self {
        Self { limits, ..Self::default() }
    }
}

use uuid::Uuid;

use cairn_event::{ExpectedVersion, Problem, StreamId};

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
    Database(sqlx::Error),

    #[error("SQLite store query failed: {0}")]
    Sqlite(rusqlite::Error),

    /// The store's own code failed (a panic in a read or in the writer);
    /// the log holds the panic's message.
    #[error("the store failed unexpectedly: {0}; this is a bug in cairn, and the log says where")]
    Bug(String),

    #[error("the store is busy: {0}; nothing of this request was written, so retry it")]
    Busy(String),

    #[error("store schema migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),

    #[error("generation {generation} of the read model of {handler} is no longer live or being built: a rebuild replaced it; read the handler's generations again")]
    GenerationRetired { handler: String, generation: u64 },

    #[error("checkpoint {name} moved from position {expected} to {actual} under this run: another process is running the same handler; stop one of them")]
    CheckpointMoved { name: String, expected: u64, actual: u64 },

    #[error("lease {lease} is no longer held with token {token} ({}): another host took over this work after this one stalled past the lease, so nothing was committed; this host stops that work", .current.map_or_else(|| "it no longer exists".to_owned(), |current| format!("its token is now {current}")))]
    LeaseLost { lease: String, token: u64, current: Option<u64> },

    #[error("the store holds a row it cannot read: {0}")]
    CorruptRow(String),

    /// A registry change the caller's check refused; nothing was written.
    #[error("{0}")]
    RegistryRefused(Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::Conflict { .. })
    }

    pub fn invalid(location: impl Into<String>, message: impl Into<String>) -> Self {
        StoreError::Invalid(vec![Problem::new(location, message)])
    }
}


/// PostgreSQL's refusals for a lock it waited too long for (`55P03`) and a
/// statement that ran too long (`57014`) become [`StoreError::Busy`], naming
/// the setting; every other failure stays a database error.
impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error.as_database_error().and_then(|database| database.code()).as_deref() {
            Some("55P03") => StoreError::Busy("a lock (the log's head, a checkpoint) stayed held by another transaction longer than --store-lock-timeout".to_owned()),
            Some("57014") => StoreError::Busy("a statement ran longer than --store-statement-timeout".to_owned()),
            _ => StoreError::Database(error),
        }
    }
}

/// SQLite's refusals for a file locked longer than the busy timeout become
/// [`StoreError::Busy`]; a full disk or an unreadable file become
/// [`StoreError::Unreachable`], naming what to check.
impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match error.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                StoreError::Busy("another process held the SQLite file's write lock longer than the 10 s busy timeout".to_owned())
            }
            Some(ErrorCode::DiskFull) => StoreError::Unreachable { url: "the SQLite store".to_owned(), reason: "the disk is full; free space and retry".to_owned() },
            Some(ErrorCode::CannotOpen | ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::SystemIoFailure) => StoreError::Unreachable {
                url: "the SQLite store".to_owned(),
                reason: format!("{error} (does the directory exist, and may cairn write the file and its -wal and -shm files?)"),
            },
            _ => StoreError::Sqlite(error),
        }
    }
}

impl cairn_event::Classified for StoreError {
    fn kind(&self) -> cairn_event::ErrorKind {
        use cairn_event::ErrorKind;
        match self {
            StoreError::Conflict { .. }
            | StoreError::DuplicateId { .. }
            | StoreError::GenerationRetired { .. }
            | StoreError::CheckpointMoved { .. }
            | StoreError::LeaseLost { .. } => ErrorKind::Conflict,
            StoreError::Invalid(_) | StoreError::BadUrl(_) | StoreError::NotACairnStore { .. } => ErrorKind::Invalid,
            StoreError::NewerSchema { .. } | StoreError::RegistryRefused(_) => ErrorKind::Refused,
            StoreError::Unreachable { .. } | StoreError::Busy(_) => ErrorKind::Unavailable,
            StoreError::Database(error) if is_unavailable(error) => ErrorKind::Unavailable,
            StoreError::Database(_) | StoreError::Sqlite(_) | StoreError::Bug(_) | StoreError::Migration(_) | StoreError::CorruptRow(_) => ErrorKind::Internal,
        }
    }
}

/// Failures that a later retry may not meet: the database was unreachable,
/// busy or shutting down, rather than refusing the statement.
fn is_unavailable(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed)
}

use crate::plugins::PluginHostError;
use crate::runtime::PluginCallError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{}", .0.join("; "))]
    Invalid(Vec<String>),

    /// The aggregate refused the command for a business reason; the message
    /// is the plugin's own, meant for the caller as-is.
    #[error("{message}")]
    Rejected { plugin: String, message: String },

    #[error("{source}; gave up after {attempts} attempts, each of which found the stream changed by another writer")]
    Conflict {
        attempts: u32,
        #[source]
        source: StoreError,
    },

    /// A command id the store has a record of, sent with another command.
    #[error("command id {command_id} already ran, for {difference}; a command id names one command, so send a new id for a new command")]
    CommandIdReused { command_id: String, difference: String },

    #[error("{0} has no events, so there is nothing to snapshot; check the aggregate type and id")]
    EmptyStream(crate::event::StreamId),

    #[error("stream {stream} has {current} events, so version {requested} is beyond its end; ask for a version from 0 to {current}")]
    VersionBeyondEnd { stream: crate::event::StreamId, requested: u64, current: u64 },

    #[error(transparent)]
    Plugin(PluginCallError),

    #[error(transparent)]
    Upcast(#[from] crate::migrate::UpcastError),

    #[error(transparent)]
    Read(#[from] crate::read::ReadError),

    #[error(transparent)]
    Plugins(#[from] PluginHostError),

    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CommandError {
    pub(super) fn from_plugin(error: PluginCallError) -> Self {
        match error.reason {
            crate::runtime::FailureReason::Rejected(message) => CommandError::Rejected { plugin: error.plugin, message },
            _ => CommandError::Plugin(error),
        }
    }
}

impl crate::Classified for CommandError {
    fn kind(&self) -> crate::ErrorKind {
        match self {
            CommandError::Invalid(_) => crate::ErrorKind::Invalid,
            // The version asked for does not exist (yet).
            CommandError::VersionBeyondEnd { .. } | CommandError::EmptyStream(_) => crate::ErrorKind::NotFound,
            CommandError::Rejected { .. } => crate::ErrorKind::Rejected,
            CommandError::Conflict { .. } | CommandError::CommandIdReused { .. } => crate::ErrorKind::Conflict,
            CommandError::Plugin(error) => error.kind(),
            CommandError::Upcast(error) => error.kind(),
            CommandError::Read(error) => error.kind(),
            CommandError::Plugins(error) => error.kind(),
            CommandError::Store(error) => error.kind(),
        }
    }
}

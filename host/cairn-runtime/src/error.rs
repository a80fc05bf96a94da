use std::time::Duration;

/// A plugin call that did not produce a usable answer. It affects that one
/// call only: the instance is discarded and nothing is written.
#[derive(Debug, thiserror::Error)]
#[error("plugin {plugin}: {function} failed: {reason}")]
pub struct PluginCallError {
    pub plugin: String,
    pub function: &'static str,
    pub reason: FailureReason,
}

#[derive(Debug, thiserror::Error)]
pub enum FailureReason {
    #[error("it ran past its CPU time limit of {0:?}; look for a loop that never ends")]
    Timeout(Duration),
    #[error("it needed more than its memory limit of {0} MiB")]
    OutOfMemory(u64),
    #[error("it trapped: {0}")]
    Trap(String),
    #[error("it returned malformed data: {0}")]
    Malformed(String),
    #[error("{0}")]
    OverLimit(String),
    #[error("{0}")]
    Rejected(String),
    #[error("it could not understand its input: {0}")]
    Invalid(String),
    #[error("it reported an internal error: {0}")]
    Internal(String),
}

impl PluginCallError {
    pub fn is_rejection(&self) -> bool {
        matches!(self.reason, FailureReason::Rejected(_))
    }
}

/// Why a component was refused when it was loaded.
#[derive(Debug, thiserror::Error)]
pub enum PluginLoadError {
    #[error("the file is not a WebAssembly component ({0}); build it for wasm32-wasip2 or with a component toolchain such as componentize-py or jco")]
    NotAComponent(String),
    #[error("the component exports none of Cairn's worlds (aggregate-plugin, migrator-plugin, handler-plugin); it exports: {0}")]
    NoKnownWorld(String),
    #[error("the component exports more than one Cairn world ({0}); a plugin exports exactly one, of one contract version: build it against one of wit/cairn-plugin@0.1.0 or wit/cairn-plugin@0.2.0")]
    SeveralWorlds(String),
    #[error("the component exports {export} without the function(s) {missing}; contract {contract} needs all of them: rebuild it against wit/cairn-plugin@{contract}")]
    MissingFunctions { export: String, missing: String, contract: super::types::ContractVersion },
    #[error("the component imports what the sandbox does not grant: {0}")]
    ForbiddenImports(String),
    #[error("the component failed to start: {0}")]
    Instantiation(String),
    #[error("the compile cache failed: {0}")]
    Cache(String),
    #[error(transparent)]
    Call(#[from] PluginCallError),
}

impl From<super::types::PluginReply> for FailureReason {
    fn from(reply: super::types::PluginReply) -> Self {
        match reply {
            super::types::PluginReply::Rejected(message) => FailureReason::Rejected(message),
            super::types::PluginReply::Invalid(message) => FailureReason::Invalid(message),
            super::types::PluginReply::Internal(message) => FailureReason::Internal(message),
        }
    }
}

impl cairn_event::Classified for PluginCallError {
    /// A plugin's own answer keeps its meaning (a rejection is the caller's
    /// business, a command it cannot read is the caller's input); anything
    /// else is the plugin's fault.
    fn kind(&self) -> cairn_event::ErrorKind {
        match self.reason {
            FailureReason::Rejected(_) => cairn_event::ErrorKind::Rejected,
            FailureReason::Invalid(_) => cairn_event::ErrorKind::Invalid,
            _ => cairn_event::ErrorKind::Internal,
        }
    }
}

impl cairn_event::Classified for PluginLoadError {
    fn kind(&self) -> cairn_event::ErrorKind {
        match self {
            PluginLoadError::Cache(_) => cairn_event::ErrorKind::Internal,
            _ => cairn_event::ErrorKind::Refused,
        }
    }
}

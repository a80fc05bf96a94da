use crate::runtime::{PluginCallError, PluginLoadError};
use crate::store::StoreError;

/// What the plugin host refuses or fails at; each message names the fix.
#[derive(Debug, thiserror::Error)]
pub enum PluginHostError {
    #[error("{0}")]
    InvalidName(String),

    #[error("plugin {name} is refused: {source}")]
    Refused {
        name: String,
        #[source]
        source: PluginLoadError,
    },

    #[error("plugin {name} is a{} {existing}, but this file is a{} {new}; give it another name with --name", article(.existing), article(.new))]
    KindChanged { name: String, existing: String, new: String },

    #[error("a migrator has no name of its own; name it (`cairn plugin add --name NAME`, or `POST /plugins?name=NAME`)")]
    MigratorNeedsName,

    #[error("plugin {name} serves aggregate type {existing}, but this file serves {new}; streams of {existing} would lose their plugin, so add it under another name with --name")]
    AggregateTypeChanged { name: String, existing: String, new: String },

    #[error("aggregate type {aggregate_type} is already served by plugin {owner}; add this file with --name {owner} to make it that plugin's next version, or remove {owner} first")]
    AggregateTypeTaken { aggregate_type: String, owner: String },

    #[error("no plugin named {name}{}; registered: {}", .version.map(|version| format!(" with version {version}")).unwrap_or_default(), list_or_none(.registered))]
    UnknownPlugin { name: String, version: Option<u64>, registered: Vec<String> },

    #[error("no handler plugin named {name}; registered handlers: {}", list_or_none(.registered))]
    UnknownHandler { name: String, registered: Vec<String> },

    #[error("no aggregate plugin serves aggregate type {aggregate_type}; registered aggregate types: {}; add one with `cairn plugin add FILE.wasm`", list_or_none(.registered))]
    UnknownAggregateType { aggregate_type: String, registered: Vec<String> },

    #[error("plugin {name} version {version} is registered but cannot be loaded: {reason}")]
    Unloadable { name: String, version: u64, reason: String },

    #[error("the migrators conflict: {}; remove or replace one with `cairn plugin remove`", .0.join("; "))]
    ConflictingMigrators(Vec<String>),

    #[error("removing it would make an older version of {name} active again, which is refused ({reason}); remove every version of {name}, or add a fixed version first")]
    RemovalRefused { name: String, reason: String },

    #[error("handler {handler} has no live read model yet (no projection has run it), so a shadow run has nothing to compare with; start `cairn serve`, or run `cairn replay --handler {handler}`, first")]
    NothingToCompare { handler: String },

    #[error("--limit samples the streams of an aggregate or the events of a migrator; a handler's read model is compared whole, so leave --limit out")]
    ShadowLimitOnHandler,

    #[error(transparent)]
    Call(#[from] PluginCallError),

    #[error(transparent)]
    Store(#[from] StoreError),
}

fn article(kind: &str) -> &'static str {
    if kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "n"
    } else {
        ""
    }
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

impl crate::Classified for PluginHostError {
    fn kind(&self) -> crate::ErrorKind {
        use crate::ErrorKind;
        match self {
            PluginHostError::InvalidName(_) | PluginHostError::MigratorNeedsName => ErrorKind::Invalid,
            PluginHostError::Refused { source, .. } => source.kind(),
            PluginHostError::KindChanged { .. }
            | PluginHostError::AggregateTypeChanged { .. }
            | PluginHostError::AggregateTypeTaken { .. }
            | PluginHostError::ConflictingMigrators(_)
            | PluginHostError::RemovalRefused { .. } => ErrorKind::Refused,
            PluginHostError::ShadowLimitOnHandler => ErrorKind::Invalid,
            PluginHostError::UnknownPlugin { .. }
            | PluginHostError::UnknownHandler { .. }
            | PluginHostError::UnknownAggregateType { .. }
            | PluginHostError::NothingToCompare { .. } => ErrorKind::NotFound,
            PluginHostError::Unloadable { .. } => ErrorKind::Internal,
            PluginHostError::Call(error) => error.kind(),
            PluginHostError::Store(error) => error.kind(),
        }
    }
}

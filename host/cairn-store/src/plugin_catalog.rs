//! The plugin registry's storage: versions of named plugins, with their
//! component bytes. The store treats a component as opaque bytes and a
//! plugin's kind and description as opaque text; the plugin host
//! (`crate::plugins`) validates them before they get here.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::StoreError;

/// A plugin version to register; it becomes the active one for its name.
#[derive(Debug, Clone)]
pub struct NewPluginVersion {
    pub name: String,
    pub kind: String,
    pub content_hash: String,
    /// What the plugin's `describe` answered, as JSON text.
    pub description: String,
    pub component: Vec<u8>,
}

/// One stored version, without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginVersionRecord {
    pub name: String,
    pub version: u64,
    pub kind: String,
    pub content_hash: String,
    pub description: String,
    pub size_bytes: u64,
    #[serde(with = "cairn_event::time::rfc3339_micros")]
    pub added_at: DateTime<Utc>,
    pub active: bool,
}

/// What a registration did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registration {
    /// A new version was stored and made active.
    Added(PluginVersionRecord),
    /// The active version already has these exact bytes; nothing was written.
    AlreadyActive(PluginVersionRecord),
}

impl Registration {
    pub fn record(&self) -> &PluginVersionRecord {
        match self {
            Registration::Added(record) | Registration::AlreadyActive(record) => record,
        }
    }
}

/// Plugin registry storage, implemented by every backend and covered by the
/// same conformance suite as the event log.
#[async_trait]
pub trait PluginCatalog: Send + Sync {
    /// Stores a new version numbered one above the newest for its name and
    /// makes it the only active one, atomically. Re-registering the bytes of
    /// the active version writes nothing.
    async fn register_plugin(&self, plugin: NewPluginVersion) -> Result<Registration, StoreError>;

    /// Every version of every plugin, by name then version.
    async fn plugin_versions(&self) -> Result<Vec<PluginVersionRecord>, StoreError>;

    /// The active version of each plugin. Cheap enough to poll.
    async fn active_plugin_versions(&self) -> Result<Vec<PluginVersionRecord>, StoreError>;

    /// The component bytes of one version, if it exists.
    async fn plugin_component(&self, name: &str, version: u64) -> Result<Option<Vec<u8>>, StoreError>;

    /// Deletes one version, or every version when `version` is `None`, and
    /// returns how many were deleted. When the active version goes, the
    /// newest remaining one becomes active.
    async fn remove_plugin(&self, name: &str, version: Option<u64>) -> Result<u64, StoreError>;
}

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

impl NewPluginVersion {
    /// What the catalog holds once this is stored as `version` and made
    /// active.
    pub(crate) fn into_active_record(self, version: u64, added_at: DateTime<Utc>) -> PluginVersionRecord {
        PluginVersionRecord {
            size_bytes: self.component.len() as u64,
            name: self.name,
            version,
            kind: self.kind,
            content_hash: self.content_hash,
            description: self.description,
            added_at,
            active: true,
        }
    }
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

/// Judges a registry change inside its transaction, from the active
/// versions before it and those it would leave: an error refuses the change
/// and nothing is written. The store knows nothing of what plugins mean; the
/// plugin host passes its rules (one owner per aggregate type, migrators
/// that chain, a name that keeps its kind).
pub type RegistryCheck<'a> = &'a (dyn Fn(&RegistryChange<'_>) -> Result<(), Box<dyn std::error::Error + Send + Sync>> + Send + Sync);

/// The active versions before a registry change and after it.
pub struct RegistryChange<'a> {
    pub before: &'a [PluginVersionRecord],
    pub after: &'a [PluginVersionRecord],
}

/// Plugin registry storage, implemented by every backend and covered by the
/// same conformance suite as the event log. Registry changes are serialized
/// across processes, so two changes never both pass a check that only one
/// of them could.
#[async_trait]
pub trait PluginCatalog: Send + Sync {
    /// Stores a new version numbered one above the newest for its name and
    /// makes it the only active one, atomically, if `check` accepts the
    /// active versions that leaves. Re-registering the bytes of the active
    /// version writes nothing.
    async fn register_plugin_checked(&self, plugin: NewPluginVersion, check: RegistryCheck<'_>) -> Result<Registration, StoreError>;

    /// [`Self::register_plugin_checked`] with no check.
    async fn register_plugin(&self, plugin: NewPluginVersion) -> Result<Registration, StoreError> {
        self.register_plugin_checked(plugin, &|_| Ok(())).await
    }

    /// Every version of every plugin, by name then version.
    async fn plugin_versions(&self) -> Result<Vec<PluginVersionRecord>, StoreError>;

    /// The active version of each plugin. Cheap enough to poll.
    async fn active_plugin_versions(&self) -> Result<Vec<PluginVersionRecord>, StoreError>;

    /// The component bytes of one version, if it exists.
    async fn plugin_component(&self, name: &str, version: u64) -> Result<Option<Vec<u8>>, StoreError>;

    /// Deletes one version, or every version when `version` is `None`, and
    /// returns how many were deleted. When the active version goes, the
    /// newest remaining one becomes active, if `check` accepts the active
    /// versions that leaves.
    async fn remove_plugin_checked(&self, name: &str, version: Option<u64>, check: RegistryCheck<'_>) -> Result<u64, StoreError>;

    /// [`Self::remove_plugin_checked`] with no check.
    async fn remove_plugin(&self, name: &str, version: Option<u64>) -> Result<u64, StoreError> {
        self.remove_plugin_checked(name, version, &|_| Ok(())).await
    }
}

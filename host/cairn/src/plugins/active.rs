//! The active version of every registered plugin, kept in step with the
//! registry. `refresh` reads the registry's active versions (a cheap query)
//! and swaps in whatever changed; `watch` does that on an interval, which
//! is how long-running processes hot-load plugins.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::OnceCell;

use super::add::short_hash;
use super::description::Description;
use super::error::PluginHostError;
use crate::migrate::MigrationChains;
use crate::runtime::{AggregatePlugin, LoadedPlugin, PluginKind, PluginRuntime};
use crate::store::{EventStore, PluginVersionRecord};

/// How often `watch` polls the registry where the store announces no
/// changes (SQLite, or PostgreSQL while its listening connection is down):
/// well inside the promise that a long-running process uses a new version
/// within one second.
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_millis(250);

/// How long `watch` waits for an announced change before reading the
/// registry anyway: a safety net, not the way changes arrive.
const ANNOUNCED_CHANGES_RECHECK: Duration = Duration::from_secs(5);

/// Returns once the registry may have changed: at an announcement when the
/// store makes them and is listening, else after `poll`.
async fn wait_for_registry_change(notices: Option<&mut crate::store::RegistryNotices>, poll: Duration) {
    match notices {
        Some(notices) if *notices.listening.borrow() => {
            if let Ok(Err(_)) = tokio::time::timeout(ANNOUNCED_CHANGES_RECHECK, notices.changes.changed()).await {
                // The store stopped announcing (it is closing): poll.
                tokio::time::sleep(poll).await;
            }
        }
        _ => tokio::time::sleep(poll).await,
    }
}

/// One active version; it is loaded on first use, or at once by an eager host.
struct ActiveEntry {
    record: PluginVersionRecord,
    /// The stored kind and `describe` answer, decoded once per version
    /// rather than on every command's lookup; why not, if they cannot be.
    description: Result<Description, String>,
    loaded: OnceCell<Result<LoadedPlugin, String>>,
}

impl ActiveEntry {
    fn new(record: PluginVersionRecord) -> Self {
        let description = decode_record(&record);
        Self { record, description, loaded: OnceCell::new() }
    }

    fn kind(&self) -> Option<PluginKind> {
        self.description.as_ref().ok().map(Description::kind)
    }

    fn aggregate_type(&self) -> Option<&str> {
        self.description.as_ref().ok().and_then(Description::aggregate_type)
    }
}

/// The typed description of a stored version.
pub(super) fn decode_record(record: &PluginVersionRecord) -> Result<Description, String> {
    let kind = PluginKind::parse(&record.kind)
        .ok_or_else(|| format!("its stored kind `{}` is none this cairn knows (aggregate, migrator, handler); upgrade cairn", record.kind))?;
    Description::decode(kind, &record.description)
}

type ActiveSet = Arc<BTreeMap<String, Arc<ActiveEntry>>>;

/// The plugin host. See the module documentation of `crate::plugins`.
pub struct PluginHost {
    store: Arc<dyn EventStore>,
    runtime: Arc<PluginRuntime>,
    /// Load every active plugin at each refresh (servers), rather than on
    /// first use (one-shot commands).
    eager: bool,
    /// Replaced only when the registry's active versions change.
    active: RwLock<ActiveSet>,
    refreshing: tokio::sync::Mutex<()>,
    /// The chains built from the active migrators, with the active set and
    /// the migrator versions they were built from; rebuilt when those change.
    chains: tokio::sync::Mutex<Option<(ActiveSet, Vec<(String, u64)>, Arc<MigrationChains>)>>,
}

/// A plugin as this process sees it, for listings and health checks.
#[derive(Debug, Clone, Serialize)]
pub struct PluginStatus {
    #[serde(flatten)]
    pub record: PluginVersionRecord,
    /// The decoded kind; `None` when the stored description is unreadable
    /// (`load_error` says why).
    #[serde(skip)]
    pub kind: Option<PluginKind>,
    pub loaded: bool,
    pub load_error: Option<String>,
}

impl PluginHost {
    /// Opens the host and reads the registry once.
    pub async fn open(
        store: Arc<dyn EventStore>,
        runtime: Arc<PluginRuntime>,
        eager: bool,
    ) -> Result<Arc<Self>, PluginHostError> {
        let host = Arc::new(Self {
            store,
            runtime,
            eager,
            active: RwLock::new(Arc::new(BTreeMap::new())),
            refreshing: tokio::sync::Mutex::new(()),
            chains: tokio::sync::Mutex::new(None),
        });
        host.refresh().await?;
        Ok(host)
    }

    pub fn store(&self) -> &Arc<dyn EventStore> {
        &self.store
    }

    pub fn runtime(&self) -> &Arc<PluginRuntime> {
        &self.runtime
    }

    /// Brings this process in step with the registry. Versions that did not
    /// change keep their loaded instances; a changed version replaces the
    /// old one for every call that starts after the swap.
    pub async fn refresh(&self) -> Result<(), PluginHostError> {
        let _one_at_a_time = self.refreshing.lock().await;
        let records = self.store.active_plugin_versions().await?;
        let current = self.snapshot();
        let mut next = BTreeMap::new();
        let mut changed = records.len() != current.len();
        for record in records {
            let entry = match current.get(&record.name) {
                Some(entry) if entry.record.version == record.version && entry.record.content_hash == record.content_hash => {
                    entry.clone()
                }
                previous => {
                    changed = true;
                    let was_loaded = previous.is_some_and(|entry| entry.loaded.initialized());
                    let entry = Arc::new(ActiveEntry::new(record));
                    if was_loaded || self.eager {
                        // A failure is logged and kept on the entry, where
                        // callers and health checks find it.
                        let _ = self.load(&entry).await;
                    }
                    if let Some(previous) = previous {
                        tracing::info!(
                            plugin = %entry.record.name,
                            from_version = previous.record.version,
                            to_version = entry.record.version,
                            hash = %short_hash(&entry.record.content_hash),
                            "plugin version swapped"
                        );
                    }
                    entry
                }
            };
            next.insert(entry.record.name.clone(), entry);
        }
        for (name, entry) in current.iter() {
            if !next.contains_key(name) {
                tracing::info!(plugin = %name, version = entry.record.version, "plugin removed from this process");
            }
        }
        if changed {
            *self.active.write().expect("active plugins lock") = Arc::new(next);
        }
        Ok(())
    }

    /// Refreshes every `interval` until the host is dropped.
    pub fn watch(self: &Arc<Self>, interval: Duration) -> tokio::task::JoinHandle<()> {
        let host: Weak<Self> = Arc::downgrade(self);
        let mut notices = self.store.registry_notices();
        tokio::spawn(async move {
            loop {
                wait_for_registry_change(notices.as_mut(), interval).await;
                let Some(host) = host.upgrade() else { return };
                if let Err(error) = host.refresh().await {
                    tracing::warn!("cannot refresh plugins from the registry: {error}");
                }
            }
        })
    }

    /// The active aggregate plugin for `aggregate_type`, with the version
    /// record it came from. The caller keeps this version for its whole call.
    pub async fn aggregate(
        &self,
        aggregate_type: &str,
    ) -> Result<(Arc<AggregatePlugin>, PluginVersionRecord), PluginHostError> {
        let active = self.snapshot();
        let entry = active
            .values()
            .find(|entry| entry.aggregate_type() == Some(aggregate_type))
            .ok_or_else(|| PluginHostError::UnknownAggregateType {
                aggregate_type: aggregate_type.to_owned(),
                registered: active.values().filter_map(|entry| entry.aggregate_type().map(str::to_owned)).collect(),
            })?;
        match self.load(entry).await {
            Ok(LoadedPlugin::Aggregate(plugin)) => Ok((plugin, entry.record.clone())),
            Ok(_) => Err(self.unloadable(entry, "the registry calls it an aggregate but it is not one".to_owned())),
            Err(reason) => Err(self.unloadable(entry, reason)),
        }
    }

    /// The active migrators, loaded, with their names and versions.
    pub(super) async fn active_migrators(&self) -> Result<Vec<(String, u64, Arc<crate::runtime::MigratorPlugin>)>, PluginHostError> {
        let active = self.snapshot();
        let migrators: Vec<&Arc<ActiveEntry>> = active.values().filter(|entry| entry.kind() == Some(PluginKind::Migrator)).collect();
        self.load_migrators(&migrators).await
    }

    async fn load_migrators(&self, migrators: &[&Arc<ActiveEntry>]) -> Result<Vec<(String, u64, Arc<crate::runtime::MigratorPlugin>)>, PluginHostError> {
        let mut plugins = Vec::with_capacity(migrators.len());
        for entry in migrators {
            match self.load(entry).await {
                Ok(LoadedPlugin::Migrator(plugin)) => plugins.push((entry.record.name.clone(), entry.record.version, plugin)),
                Ok(_) => return Err(self.unloadable(entry, "the registry calls it a migrator but it is not one".to_owned())),
                Err(reason) => return Err(self.unloadable(entry, reason)),
            }
        }
        Ok(plugins)
    }

    /// The upcasting chains of the active migrators. A reader keeps the
    /// `Arc` for its whole read, so a swap applies to reads that start after it.
    pub async fn migration_chains(&self) -> Result<Arc<MigrationChains>, PluginHostError> {
        let active = self.snapshot();
        let mut cached = self.chains.lock().await;
        if let Some((built_for, _, chains)) = cached.as_ref() {
            if Arc::ptr_eq(built_for, &active) {
                return Ok(chains.clone());
            }
        }
        let migrators: Vec<&Arc<ActiveEntry>> = active.values().filter(|entry| entry.kind() == Some(PluginKind::Migrator)).collect();
        let key: Vec<(String, u64)> = migrators.iter().map(|entry| (entry.record.name.clone(), entry.record.version)).collect();
        if let Some((built_for, built_from, chains)) = cached.as_mut() {
            if built_from == &key {
                // Other plugins changed; the chains did not.
                *built_for = active.clone();
                return Ok(chains.clone());
            }
        }
        let plugins = self.load_migrators(&migrators).await?.into_iter().map(|(_, _, plugin)| plugin).collect();
        let chains = Arc::new(MigrationChains::build(plugins).map_err(PluginHostError::ConflictingMigrators)?);
        if !key.is_empty() {
            tracing::info!(migrators = ?key, "migration chains built");
        }
        *cached = Some((active.clone(), key, chains.clone()));
        Ok(chains)
    }

    /// The active handler plugin named `name` (its plugin name).
    pub async fn handler(&self, name: &str) -> Result<Arc<crate::runtime::HandlerPlugin>, PluginHostError> {
        let active = self.snapshot();
        let entry = active.get(name).filter(|entry| entry.kind() == Some(PluginKind::Handler)).ok_or_else(|| PluginHostError::UnknownHandler {
            name: name.to_owned(),
            registered: active.values().filter(|entry| entry.kind() == Some(PluginKind::Handler)).map(|entry| entry.record.name.clone()).collect(),
        })?;
        match self.load(entry).await {
            Ok(LoadedPlugin::Handler(plugin)) => Ok(plugin),
            Ok(_) => Err(self.unloadable(entry, "the registry calls it a handler but it is not one".to_owned())),
            Err(reason) => Err(self.unloadable(entry, reason)),
        }
    }

    /// The active migrators' names and versions: what the migration chains
    /// are built from.
    pub fn migrator_versions(&self) -> Vec<(String, u64)> {
        self.snapshot()
            .values()
            .filter(|entry| entry.kind() == Some(PluginKind::Migrator))
            .map(|entry| (entry.record.name.clone(), entry.record.version))
            .collect()
    }

    /// How busy each loaded plugin is: calls running and waiting.
    pub fn gate_readings(&self) -> Vec<(String, crate::runtime::GateReading)> {
        self.snapshot()
            .values()
            .filter_map(|entry| match entry.loaded.get() {
                Some(Ok(plugin)) => Some((entry.record.name.clone(), plugin.gate().reading())),
                _ => None,
            })
            .collect()
    }

    /// Every active plugin, loaded or not.
    pub fn statuses(&self) -> Vec<PluginStatus> {
        self.snapshot()
            .values()
            .map(|entry| {
                let loaded = entry.loaded.get();
                PluginStatus {
                    record: entry.record.clone(),
                    kind: entry.kind(),
                    loaded: matches!(loaded, Some(Ok(_))),
                    load_error: entry.description.as_ref().err().cloned().or_else(|| loaded.and_then(|result| result.as_ref().err().cloned())),
                }
            })
            .collect()
    }

    /// Deletes one version of a plugin, or all of them, from the registry.
    pub async fn remove(&self, name: &str, version: Option<u64>) -> Result<u64, PluginHostError> {
        // A removal that would re-activate a version breaking the rules
        // (an older migrator that conflicts) is refused whole.
        let removed = self.store.remove_plugin_checked(name, version, &super::rules::check).await.map_err(|error| match super::rules::unbox(error) {
            PluginHostError::Store(error) => PluginHostError::Store(error),
            refusal => PluginHostError::RemovalRefused { name: name.to_owned(), reason: refusal.to_string() },
        })?;
        if removed == 0 {
            let mut registered: Vec<String> = self.store.plugin_versions().await?.into_iter().map(|record| record.name).collect();
            registered.dedup();
            return Err(PluginHostError::UnknownPlugin { name: name.to_owned(), version, registered });
        }
        tracing::info!(plugin = %name, version = ?version, removed, "plugin removed from the registry");
        self.refresh().await?;
        Ok(removed)
    }

    fn snapshot(&self) -> ActiveSet {
        self.active.read().expect("active plugins lock").clone()
    }

    async fn load(&self, entry: &ActiveEntry) -> Result<LoadedPlugin, String> {
        entry
            .loaded
            .get_or_init(|| async {
                let record = &entry.record;
                if let Err(reason) = &entry.description {
                    return Err(reason.clone());
                }
                let started = std::time::Instant::now();
                // The catalog row's hash finds the compiled code in the
                // cache; only on a miss are the component's bytes read.
                let runtime = self.runtime.clone();
                let hash = record.content_hash.clone();
                let cached = tokio::task::spawn_blocking(move || runtime.compile_from_cache(&hash)).await.ok().flatten();
                let source = match cached {
                    Some(Ok(compiled)) => ComponentSource::Cached(compiled),
                    _ => match self.store.plugin_component(&record.name, record.version).await {
                        Ok(Some(bytes)) => ComponentSource::Bytes(bytes),
                        Ok(None) => return Err("its component is no longer in the registry".to_owned()),
                        Err(error) => return Err(error.to_string()),
                    },
                };
                let runtime = self.runtime.clone();
                let name = record.name.clone();
                let result = tokio::task::spawn_blocking(move || {
                    let compiled = match source {
                        ComponentSource::Bytes(bytes) => runtime.compile(&bytes).map_err(|error| error.to_string())?,
                        ComponentSource::Cached(compiled) => compiled,
                    };
                    let source = compiled.compile_source;
                    runtime.load(&name, &compiled).map(|loaded| (loaded, source)).map_err(|error| error.to_string())
                })
                .await
                .unwrap_or_else(|panic| Err(format!("loading panicked: {panic}")));
                match result {
                    Ok((loaded, source)) => {
                        tracing::info!(
                            plugin = %record.name,
                            version = record.version,
                            hash = %short_hash(&record.content_hash),
                            kind = %record.kind,
                            compiled_from = ?source,
                            milliseconds = started.elapsed().as_millis() as u64,
                            "plugin loaded"
                        );
                        Ok(loaded)
                    }
                    Err(reason) => {
                        tracing::error!(plugin = %record.name, version = record.version, "plugin cannot be loaded: {reason}");
                        Err(reason)
                    }
                }
            })
            .await
            .clone()
    }

    fn unloadable(&self, entry: &ActiveEntry, reason: String) -> PluginHostError {
        PluginHostError::Unloadable { name: entry.record.name.clone(), version: entry.record.version, reason }
    }
}

/// Where a plugin being loaded comes from: the compile cache, found by the
/// catalog's hash, or the component's bytes read from the store.
enum ComponentSource {
    Cached(cairn_runtime::CompiledPlugin),
    Bytes(Vec<u8>),
}

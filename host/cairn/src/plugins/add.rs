//! Adding a plugin: validate it completely, then store it.

use crate::runtime::{CompileSource, LoadedPlugin};
use crate::store::{NewPluginVersion, PluginVersionRecord, Registration};

use super::active::PluginHost;
use super::description::Description;
use super::error::PluginHostError;
use super::name::validate_plugin_name;

/// A component to add, and how to name it.
#[derive(Debug, Clone)]
pub struct PluginSource {
    pub bytes: Vec<u8>,
    /// The name asked for; without one, an aggregate is named after its
    /// aggregate type, a handler after its own name, and a migrator after
    /// `file_stem`.
    pub requested_name: Option<String>,
    pub file_stem: Option<String>,
}

impl PluginSource {
    /// The name the source is (or would be) registered under, once loaded.
    pub(super) fn registry_name(&self, loaded: &LoadedPlugin) -> Result<String, PluginHostError> {
        let name = match (&self.requested_name, loaded) {
            (Some(name), _) => name.clone(),
            (None, LoadedPlugin::Aggregate(plugin)) => plugin.info().aggregate_type.clone(),
            (None, LoadedPlugin::Handler(plugin)) => plugin.info().name.clone(),
            (None, LoadedPlugin::Migrator(_)) => self.file_stem.clone().ok_or(PluginHostError::MigratorNeedsName)?,
        };
        validate_plugin_name(&name).map_err(PluginHostError::InvalidName)?;
        Ok(name)
    }

    /// The name to report a failure to load it under, before it has one.
    pub(super) fn provisional_name(&self) -> String {
        self.requested_name.clone().or(self.file_stem.clone()).unwrap_or_else(|| "(unnamed)".to_owned())
    }
}

#[derive(Debug, Clone)]
pub struct AddedPlugin {
    pub record: PluginVersionRecord,
    /// The active version already had these bytes; nothing was written.
    pub already_active: bool,
    pub compile_source: CompileSource,
}

impl PluginHost {
    /// Compiles the component, checks its world and imports, asks it to
    /// describe itself, checks it against the plugins already active, and
    /// only then stores it as the new active version of its name.
    pub async fn add(&self, source: PluginSource) -> Result<AddedPlugin, PluginHostError> {
        let provisional_name = source.provisional_name();
        let runtime = self.runtime().clone();
        let bytes = source.bytes.clone();
        let check_name = provisional_name.clone();
        let (compiled, loaded) = tokio::task::spawn_blocking(move || {
            let compiled = runtime.compile(&bytes)?;
            let loaded = runtime.load(&check_name, &compiled)?;
            Ok::<_, crate::runtime::PluginLoadError>((compiled, loaded))
        })
        .await
        .expect("plugin validation does not panic")
        .map_err(|source| PluginHostError::Refused { name: provisional_name.clone(), source })?;

        let name = source.registry_name(&loaded)?;
        let description = Description::of(&loaded, compiled.contract);
        let new_version = NewPluginVersion {
            name,
            kind: description.kind().as_str().to_owned(),
            content_hash: compiled.content_hash.clone(),
            description: description.encode(),
            component: source.bytes,
        };
        // Judged inside the registry's transaction, against the versions
        // active then: concurrent additions cannot both pass.
        let registration = self.store().register_plugin_checked(new_version, &super::rules::check).await.map_err(super::rules::unbox)?;
        if let Registration::Added(record) = &registration {
            tracing::info!(
                plugin = %record.name,
                version = record.version,
                hash = %short_hash(&record.content_hash),
                kind = %record.kind,
                "plugin added to the registry"
            );
        }
        // This host sees its own additions at once; others within a refresh.
        self.refresh().await?;
        Ok(AddedPlugin {
            already_active: matches!(registration, Registration::AlreadyActive(_)),
            record: registration.record().clone(),
            compile_source: compiled.compile_source,
        })
    }
}

/// The first 12 hex digits: enough to tell versions apart in a log line.
pub(crate) fn short_hash(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

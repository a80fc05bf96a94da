//! Adding a plugin: validate it completely, then store it.

use crate::runtime::{CompileSource, LoadedPlugin};
use crate::store::{NewPluginVersion, PluginVersionRecord, Registration};

use super::active::PluginHost;
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
        let provisional_name = source.requested_name.clone().or(source.file_stem.clone()).unwrap_or_else(|| "(unnamed)".to_owned());
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

        let name = match (&source.requested_name, &loaded) {
            (Some(name), _) => name.clone(),
            (None, LoadedPlugin::Aggregate(plugin)) => plugin.info().aggregate_type.clone(),
            (None, LoadedPlugin::Handler(plugin)) => plugin.info().name.clone(),
            (None, LoadedPlugin::Migrator(_)) => source.file_stem.clone().ok_or(PluginHostError::MigratorNeedsName)?,
        };
        validate_plugin_name(&name).map_err(PluginHostError::InvalidName)?;
        self.check_against_active(&name, &loaded).await?;

        let registration = self
            .store()
            .register_plugin(NewPluginVersion {
                name,
                kind: loaded.kind().as_str().to_owned(),
                content_hash: compiled.content_hash.clone(),
                description: loaded.description().to_string(),
                component: source.bytes,
            })
            .await?;
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

    async fn check_against_active(&self, name: &str, loaded: &LoadedPlugin) -> Result<(), PluginHostError> {
        let active = self.store().active_plugin_versions().await?;
        let kind = loaded.kind().as_str();
        if let Some(existing) = active.iter().find(|record| record.name == name && record.kind != kind) {
            return Err(PluginHostError::KindChanged {
                name: name.to_owned(),
                existing: existing.kind.clone(),
                new: kind.to_owned(),
            });
        }
        if let LoadedPlugin::Migrator(plugin) = loaded {
            // The new steps must chain with every other active migrator's
            // (a new version of the same name replaces its old steps).
            let mut declared: Vec<(String, Vec<crate::runtime::types::MigrationStep>)> = active
                .iter()
                .filter(|record| record.kind == "migrator" && record.name != name)
                .map(|record| (record.name.clone(), described_steps(&record.description)))
                .collect();
            declared.push((name.to_owned(), plugin.steps().to_vec()));
            let problems = crate::migrate::chain_problems(&declared);
            if !problems.is_empty() {
                return Err(PluginHostError::ConflictingMigrators(problems));
            }
        }
        if let LoadedPlugin::Aggregate(plugin) = loaded {
            let aggregate_type = &plugin.info().aggregate_type;
            let same_name = active.iter().find(|record| record.name == name);
            if let Some(existing) = same_name.and_then(|record| described_aggregate_type(&record.description)) {
                if &existing != aggregate_type {
                    return Err(PluginHostError::AggregateTypeChanged {
                        name: name.to_owned(),
                        existing,
                        new: aggregate_type.clone(),
                    });
                }
            }
            let owner = active.iter().find(|record| {
                record.name != name
                    && record.kind == kind
                    && described_aggregate_type(&record.description).as_ref() == Some(aggregate_type)
            });
            if let Some(owner) = owner {
                return Err(PluginHostError::AggregateTypeTaken {
                    aggregate_type: aggregate_type.clone(),
                    owner: owner.name.clone(),
                });
            }
        }
        Ok(())
    }
}

/// The aggregate type a stored `describe` answer names, if any.
pub(crate) fn described_aggregate_type(description: &str) -> Option<String> {
    let description: serde_json::Value = serde_json::from_str(description).ok()?;
    description["aggregate_type"].as_str().map(str::to_owned)
}

/// The steps a stored `describe` answer of a migrator lists.
fn described_steps(description: &str) -> Vec<crate::runtime::types::MigrationStep> {
    let Ok(description) = serde_json::from_str::<serde_json::Value>(description) else { return Vec::new() };
    description["steps"]
        .as_array()
        .map(|steps| {
            steps
                .iter()
                .map(|step| crate::runtime::types::MigrationStep {
                    event_type: step["event_type"].as_str().unwrap_or_default().to_owned(),
                    from_version: step["from_version"].as_str().unwrap_or_default().to_owned(),
                    to_version: step["to_version"].as_str().unwrap_or_default().to_owned(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The first 12 hex digits: enough to tell versions apart in a log line.
pub(crate) fn short_hash(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

//! Adding a plugin: validate it completely, then store it.

use crate::runtime::{CompileSource, LoadedPlugin, PluginKind};
use crate::store::{NewPluginVersion, PluginVersionRecord, Registration};

use super::active::{decode_record, PluginHost};
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
        let description = Description::of(&loaded, compiled.contract);
        self.check_against_active(&name, &description).await?;

        let registration = self
            .store()
            .register_plugin(NewPluginVersion {
                name,
                kind: description.kind().as_str().to_owned(),
                content_hash: compiled.content_hash.clone(),
                description: description.encode(),
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

    async fn check_against_active(&self, name: &str, description: &Description) -> Result<(), PluginHostError> {
        let kind = description.kind();
        // Versions whose stored description cannot be read take no part in
        // the checks; they cannot load either, and `plugin list` says why.
        let active: Vec<(PluginVersionRecord, Description)> = self
            .store()
            .active_plugin_versions()
            .await?
            .into_iter()
            .filter_map(|record| decode_record(&record).ok().map(|decoded| (record, decoded)))
            .collect();
        if let Some((existing, decoded)) = active.iter().find(|(record, decoded)| record.name == name && decoded.kind() != kind) {
            return Err(PluginHostError::KindChanged { name: existing.name.clone(), existing: decoded.kind().to_string(), new: kind.to_string() });
        }
        if kind == PluginKind::Migrator {
            // The new steps must chain with every other active migrator's
            // (a new version of the same name replaces its old steps).
            let mut declared: Vec<(String, Vec<crate::runtime::types::MigrationStep>)> = active
                .iter()
                .filter(|(record, decoded)| decoded.kind() == PluginKind::Migrator && record.name != name)
                .map(|(record, decoded)| (record.name.clone(), decoded.steps().to_vec()))
                .collect();
            declared.push((name.to_owned(), description.steps().to_vec()));
            let problems = crate::migrate::chain_problems(&declared);
            if !problems.is_empty() {
                return Err(PluginHostError::ConflictingMigrators(problems));
            }
        }
        if let Some(aggregate_type) = description.aggregate_type() {
            let same_name = active.iter().find(|(record, _)| record.name == name);
            if let Some(existing) = same_name.and_then(|(_, decoded)| decoded.aggregate_type()) {
                if existing != aggregate_type {
                    return Err(PluginHostError::AggregateTypeChanged {
                        name: name.to_owned(),
                        existing: existing.to_owned(),
                        new: aggregate_type.to_owned(),
                    });
                }
            }
            let owner = active.iter().find(|(record, decoded)| record.name != name && decoded.aggregate_type() == Some(aggregate_type));
            if let Some((owner, _)) = owner {
                return Err(PluginHostError::AggregateTypeTaken { aggregate_type: aggregate_type.to_owned(), owner: owner.name.clone() });
            }
        }
        Ok(())
    }
}

/// The first 12 hex digits: enough to tell versions apart in a log line.
pub(crate) fn short_hash(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

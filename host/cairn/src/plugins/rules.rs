//! The registry's rules, judged inside the store's transaction for every
//! change (`PluginCatalog::register_plugin_checked`, `remove_plugin_checked`),
//! so that concurrent changes cannot both pass and a removal cannot
//! re-activate a version that breaks them:
//! - a name keeps its kind, and an aggregate plugin its aggregate type;
//! - an aggregate type has one plugin;
//! - the active migrators' steps chain.

use crate::store::{PluginVersionRecord, RegistryChange};

use super::active::decode_record;
use super::description::Description;
use super::error::PluginHostError;
use crate::runtime::PluginKind;

/// Records whose stored description reads, with it; the others take no
/// part (they cannot load either, and `plugin list` says why).
fn decoded(records: &[PluginVersionRecord]) -> Vec<(&PluginVersionRecord, Description)> {
    records.iter().filter_map(|record| decode_record(record).ok().map(|description| (record, description))).collect()
}

/// Every rule over `change`; the first one broken.
pub(super) fn judge(change: &RegistryChange<'_>) -> Result<(), PluginHostError> {
    let before = decoded(change.before);
    let after = decoded(change.after);
    let newly_active = after.iter().filter(|(record, _)| !change.before.iter().any(|old| old.name == record.name && old.version == record.version));
    for (record, description) in newly_active {
        let Some((_, previous)) = before.iter().find(|(old, _)| old.name == record.name) else { continue };
        if previous.kind() != description.kind() {
            return Err(PluginHostError::KindChanged { name: record.name.clone(), existing: previous.kind().to_string(), new: description.kind().to_string() });
        }
        if let (Some(existing), Some(new)) = (previous.aggregate_type(), description.aggregate_type()) {
            if existing != new {
                return Err(PluginHostError::AggregateTypeChanged { name: record.name.clone(), existing: existing.to_owned(), new: new.to_owned() });
            }
        }
    }
    for (index, (record, description)) in after.iter().enumerate() {
        let Some(aggregate_type) = description.aggregate_type() else { continue };
        if let Some((other, _)) = after.iter().skip(index + 1).find(|(_, other)| other.aggregate_type() == Some(aggregate_type)) {
            // The owner named is the plugin that served the type before.
            let owner = if change.before.iter().any(|old| old.name == other.name) { other } else { record };
            return Err(PluginHostError::AggregateTypeTaken { aggregate_type: aggregate_type.to_owned(), owner: owner.name.clone() });
        }
    }
    // The migrators active before come first, so that a conflict names the
    // one already there first and the newcomer second.
    let was_active = |record: &PluginVersionRecord| change.before.iter().any(|old| old.name == record.name && old.version == record.version);
    let mut migrators: Vec<(bool, String, Vec<crate::runtime::types::MigrationStep>)> = after
        .iter()
        .filter(|(_, description)| description.kind() == PluginKind::Migrator)
        .map(|(record, description)| (!was_active(record), record.name.clone(), description.steps().to_vec()))
        .collect();
    migrators.sort_by_key(|(newcomer, _, _)| *newcomer);
    let migrators: Vec<(String, Vec<crate::runtime::types::MigrationStep>)> = migrators.into_iter().map(|(_, name, steps)| (name, steps)).collect();
    let problems = crate::migrate::chain_problems(&migrators);
    if !problems.is_empty() {
        return Err(PluginHostError::ConflictingMigrators(problems));
    }
    Ok(())
}

/// The check to hand the store: the rules, with their error boxed.
pub(super) fn check(change: &RegistryChange<'_>) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    judge(change).map_err(|error| Box::new(error) as Box<dyn std::error::Error + Send + Sync>)
}

/// A store error back as the plugin host's, when it carries the rules' refusal.
pub(super) fn unbox(error: crate::store::StoreError) -> PluginHostError {
    match error {
        crate::store::StoreError::RegistryRefused(refusal) => match refusal.downcast::<PluginHostError>() {
            Ok(refusal) => *refusal,
            Err(other) => PluginHostError::Store(crate::store::StoreError::RegistryRefused(other)),
        },
        other => PluginHostError::Store(other),
    }
}

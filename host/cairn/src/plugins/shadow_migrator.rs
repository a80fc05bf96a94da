//! The migrator half of a shadow run: every stored event of a type that
//! the candidate's steps (or the steps of the version it would replace)
//! touch is upcast with the active chains and with the chains as they
//! would be with the candidate, and each event whose result differs, or
//! that one side fails to upcast, is reported by id. It writes nothing.

use std::sync::Arc;

use serde::Serialize;
use uuid::Uuid;

use super::shadow::{diff_values, ValueDifference};
use super::{PluginHost, PluginHostError};
use crate::event::RecordedEvent;
use crate::migrate::{upcast_isolated, MigrationChains};
use crate::read::ReadError;
use crate::runtime::MigratorPlugin;
use crate::store::LogFilter;

/// Stored events read per page.
const EVENT_PAGE: usize = 1_000;

#[derive(Debug, Serialize)]
pub struct MigratorShadowReport {
    pub migrator: String,
    /// The active version the candidate would replace, if any.
    pub replaces_version: Option<u64>,
    pub event_types: Vec<String>,
    pub events_compared: u64,
    pub differing: Vec<EventDifference>,
}

#[derive(Debug, Serialize)]
pub struct EventDifference {
    pub event_id: Uuid,
    pub event_type: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub stream_version: u64,
    pub stored_schema_version: String,
    /// The schema version each side upcasts it to (the stored one on failure).
    pub active_schema_version: String,
    pub candidate_schema_version: String,
    /// Where the payloads differ, as JSON pointers with both values.
    pub differences: Vec<ValueDifference>,
    pub active_error: Option<String>,
    pub candidate_error: Option<String>,
}

impl PluginHost {
    /// Compares `candidate`, named `name` (it replaces the active migrator
    /// of that name, if any), with the active chains over the stored events
    /// its steps touch (the first `limit`, or all). `progress` hears (events
    /// compared, 0). Chains that would conflict are refused.
    pub(super) async fn shadow_migrator(&self, name: &str, candidate: Arc<MigratorPlugin>, limit: Option<usize>, progress: &(dyn Fn(u64, u64) + Sync)) -> Result<MigratorShadowReport, ReadError> {
        let active_chains = self.migration_chains().await?;
        let active = self.active_migrators().await?;
        let replaced = active.iter().find(|(active_name, _, _)| active_name == name);
        let mut event_types: Vec<String> = candidate.steps().iter().chain(replaced.map(|(_, _, plugin)| plugin.steps()).unwrap_or_default()).map(|step| step.event_type.clone()).collect();
        event_types.sort();
        event_types.dedup();
        let mut plugins: Vec<Arc<MigratorPlugin>> = active.iter().filter(|(active_name, _, _)| active_name != name).map(|(_, _, plugin)| plugin.clone()).collect();
        plugins.push(candidate);
        let candidate_chains = Arc::new(MigrationChains::build(plugins).map_err(PluginHostError::ConflictingMigrators)?);
        let mut report = MigratorShadowReport { migrator: name.to_owned(), replaces_version: replaced.map(|(_, version, _)| *version), event_types: event_types.clone(), events_compared: 0, differing: Vec::new() };
        let filter = LogFilter { event_types, ..LogFilter::default() };
        let (mut after, wanted) = (0, limit.unwrap_or(usize::MAX));
        while (report.events_compared as usize) < wanted {
            let page = self.store().read_log(&filter, after, EVENT_PAGE.min(wanted - report.events_compared as usize)).await?;
            let Some(last) = page.last() else { break };
            after = last.global_position;
            let (ours, our_failures) = upcast_isolated(&active_chains, page.clone()).await;
            let (theirs, their_failures) = upcast_isolated(&candidate_chains, page.clone()).await;
            for ((stored, ours), theirs) in page.iter().zip(&ours).zip(&theirs) {
                let (active_error, candidate_error) = (our_failures.get(&stored.id).cloned(), their_failures.get(&stored.id).cloned());
                if let Some(difference) = compare_event(stored, ours, theirs, active_error, candidate_error) {
                    report.differing.push(difference);
                }
            }
            report.events_compared += page.len() as u64;
            progress(report.events_compared, 0);
        }
        Ok(report)
    }
}

/// One event upcast both ways; the difference, if any.
fn compare_event(stored: &RecordedEvent, ours: &RecordedEvent, theirs: &RecordedEvent, active_error: Option<String>, candidate_error: Option<String>) -> Option<EventDifference> {
    let differences = if ours.payload.same_json_as(&theirs.payload) { Vec::new() } else { diff_values(&ours.payload.to_value(), &theirs.payload.to_value()) };
    let same = differences.is_empty() && ours.schema_version == theirs.schema_version && active_error.is_none() == candidate_error.is_none();
    if same {
        return None;
    }
    Some(EventDifference {
        event_id: stored.id,
        event_type: stored.event_type.clone(),
        aggregate_type: stored.aggregate_type.clone(),
        aggregate_id: stored.aggregate_id.clone(),
        stream_version: stored.stream_version,
        stored_schema_version: stored.schema_version.clone(),
        active_schema_version: ours.schema_version.clone(),
        candidate_schema_version: theirs.schema_version.clone(),
        differences,
        active_error,
        candidate_error,
    })
}

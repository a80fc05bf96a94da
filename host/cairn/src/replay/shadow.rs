//! The handler half of a shadow run (`cairn plugin try`): a candidate
//! handler builds its read model into a throwaway generation held in
//! memory, over the log up to where the live projection stands, and the
//! documents it would add, remove or change against the live generation
//! are reported. It writes nothing: no document, dead letter or checkpoint.
//!
//! The candidate runs through the same partitions as a replay (the same
//! wanted-event filter, migrators, retries and per-stream parking), so an
//! event it fails on is reported as it would be dead-lettered.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::buffer::{DocumentCache, ReadTarget};
use super::handler::{BatchHandler, PluginHandler};
use super::partition::{run_partition, FailurePolicy, StreamKey};
use super::{live_checkpoint_name, DEFAULT_BATCH_SIZE};
use crate::event::RecordedEvent;
use crate::plugins::{diff_values, PluginHost, PluginHostError, ValueDifference};
use crate::read::{ReadError, Reader};
use crate::runtime::HandlerPlugin;
use crate::store::{DeadLetterStatus, LogFilter};

/// Live documents read per page when comparing.
const DOCUMENT_PAGE: usize = 1_000;
/// The live generation's dead letters looked at, to tell a failure the
/// candidate shares with the live projection from a new one.
const LIVE_DEAD_LETTERS: usize = 100_000;

#[derive(Debug, Serialize)]
pub struct HandlerShadowReport {
    pub handler: String,
    pub active_version: u64,
    pub live_generation: u64,
    /// Where the live projection's checkpoint stood when the run started:
    /// the candidate handles the log up to there, so both read models cover
    /// the same events. (A projection that moves on meanwhile shows its
    /// later documents as differences; compare with no server writing.)
    pub position: u64,
    pub events_handled: u64,
    pub documents_compared: u64,
    pub added: u64,
    pub removed: u64,
    pub changed: u64,
    /// Documents that differ, by collection and key.
    pub differing: Vec<DocumentDifference>,
    /// Events the candidate failed on that the live projection did not
    /// dead-letter, in log order: they would be dead-lettered.
    pub failures: Vec<CandidateFailure>,
}

#[derive(Debug, Serialize, PartialEq, Eq, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub enum DocumentChange {
    Added,
    Removed,
    Changed,
}

#[derive(Debug, Serialize)]
pub struct DocumentDifference {
    pub collection: String,
    pub key: String,
    pub change: DocumentChange,
    /// Where a changed document differs, as JSON pointers with both values
    /// (the whole document, at the empty pointer, when one is not JSON).
    pub differences: Vec<ValueDifference>,
}

#[derive(Debug, Serialize)]
pub struct CandidateFailure {
    pub event_id: uuid::Uuid,
    pub global_position: u64,
    pub event_type: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub error: String,
}

/// Runs `candidate` in place of the active handler `name` over the log up
/// to the live checkpoint, and compares the read models. `progress` hears
/// (position reached, live position).
pub async fn shadow_handler(host: &Arc<PluginHost>, name: &str, candidate: Arc<HandlerPlugin>, progress: &(dyn Fn(u64, u64) + Sync)) -> Result<HandlerShadowReport, ReadError> {
    let name = name.to_owned();
    host.handler(&name).await?;
    let active_version = host.statuses().into_iter().find(|status| status.record.name == name).map_or(0, |status| status.record.version);
    let store = host.store().clone();
    let position = store
        .checkpoint(&live_checkpoint_name(&name))
        .await?
        .map(|checkpoint| checkpoint.position)
        .ok_or_else(|| PluginHostError::NothingToCompare { handler: name.clone() })?;
    let live_generation = store.generations(&name).await?.live;
    let cache = Arc::new(DocumentCache::whole());
    let target = ReadTarget { store: store.clone(), handler: name.clone(), generation: live_generation, runtime: tokio::runtime::Handle::current(), cache: cache.clone() };
    let handler: Arc<dyn BatchHandler> = Arc::new(PluginHandler(candidate));
    let mut report = HandlerShadowReport {
        handler: name.clone(),
        active_version,
        live_generation,
        position,
        events_handled: 0,
        documents_compared: 0,
        added: 0,
        removed: 0,
        changed: 0,
        differing: Vec::new(),
        failures: Vec::new(),
    };
    let failed = run_candidate(host, &handler, target, position, &mut report, progress).await?;
    let live_failures: HashSet<uuid::Uuid> = store
        .dead_letters(Some(&name), false, LIVE_DEAD_LETTERS)
        .await?
        .into_iter()
        .filter(|letter| letter.generation == live_generation && letter.status == DeadLetterStatus::Failed)
        .map(|letter| letter.event_id)
        .collect();
    report.failures = failed.into_iter().filter(|failure| !live_failures.contains(&failure.event_id)).collect();
    compare_documents(host, &name, live_generation, cache.documents(), &mut report).await?;
    Ok(report)
}

/// Handles the log up to `position` with the candidate, page by page, into
/// the in-memory generation; gives back the events it failed on.
async fn run_candidate(
    host: &Arc<PluginHost>,
    handler: &Arc<dyn BatchHandler>,
    target: ReadTarget,
    position: u64,
    report: &mut HandlerShadowReport,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<Vec<CandidateFailure>, ReadError> {
    let chains = host.migration_chains().await?;
    let reader = Reader::raw(host.store().clone());
    let filter = LogFilter { to_position: Some(position), ..LogFilter::default() };
    // Retrying is for transient faults of a live projection; a shadow run
    // reports the first failure, and never stops short of the live position.
    let policy = FailurePolicy { max_retries: 0, retry_delay: Duration::ZERO, stop_on_error: false, max_consecutive_failures: u32::MAX };
    let (mut parked, mut failures, mut after) = (HashSet::<StreamKey>::new(), Vec::new(), 0);
    loop {
        let page = reader.log(&filter, after, DEFAULT_BATCH_SIZE).await?;
        let Some(last) = page.last() else { break };
        after = last.global_position;
        let wanted: Vec<RecordedEvent> = page.into_iter().filter(|event| handler.wants(event)).collect();
        let (wanted, unreadable) = crate::migrate::upcast_isolated(&chains, wanted).await;
        let outcome = run_partition(handler, target.clone(), wanted, &parked, &unreadable, &policy, 0).await;
        report.events_handled += outcome.processed;
        target.cache.apply(outcome.buffer.writes());
        parked.extend(outcome.newly_parked);
        // A dead letter with an error is an event the candidate failed on
        // (the others are parked behind one); it names the event already.
        failures.extend(outcome.dead_letters.into_iter().filter_map(|letter| {
            let error = letter.error?;
            Some(CandidateFailure {
                event_id: letter.event_id,
                global_position: letter.global_position,
                event_type: letter.event_type,
                aggregate_type: letter.aggregate_type,
                aggregate_id: letter.aggregate_id,
                error,
            })
        }));
        progress(after, position);
    }
    Ok(failures)
}

/// Walks the live generation and compares each document with the
/// candidate's; what is left of the candidate's was added.
async fn compare_documents(
    host: &Arc<PluginHost>,
    name: &str,
    live_generation: u64,
    mut candidate: HashMap<(String, String), String>,
    report: &mut HandlerShadowReport,
) -> Result<(), ReadError> {
    let mut after = (String::new(), String::new());
    loop {
        let page = host.store().read_model_scan(name, Some(live_generation), &after, DOCUMENT_PAGE).await?;
        let Some((collection, key, _)) = page.last() else { break };
        after = (collection.clone(), key.clone());
        for (collection, key, live) in page {
            report.documents_compared += 1;
            let document = (collection, key);
            let difference = match candidate.remove(&document) {
                None => Some((DocumentChange::Removed, Vec::new())),
                Some(theirs) => {
                    let differences = document_differences(&live, &theirs);
                    (!differences.is_empty()).then_some((DocumentChange::Changed, differences))
                }
            };
            if let Some((change, differences)) = difference {
                let (collection, key) = document;
                report.differing.push(DocumentDifference { collection, key, change, differences });
            }
        }
    }
    report.documents_compared += candidate.len() as u64;
    let mut added: Vec<(String, String)> = candidate.into_keys().collect();
    added.sort();
    report.differing.extend(added.into_iter().map(|(collection, key)| DocumentDifference { collection, key, change: DocumentChange::Added, differences: Vec::new() }));
    report.differing.sort_by(|one, other| (&one.collection, &one.key).cmp(&(&other.collection, &other.key)));
    for difference in &report.differing {
        match difference.change {
            DocumentChange::Added => report.added += 1,
            DocumentChange::Removed => report.removed += 1,
            DocumentChange::Changed => report.changed += 1,
        }
    }
    Ok(())
}

/// Two stored documents compared as JSON (key order is no difference), or as
/// text when either is not JSON.
fn document_differences(live: &str, candidate: &str) -> Vec<ValueDifference> {
    match (serde_json::from_str::<Value>(live), serde_json::from_str::<Value>(candidate)) {
        (Ok(ours), Ok(theirs)) => diff_values(&ours, &theirs),
        _ if live == candidate => Vec::new(),
        _ => vec![ValueDifference { path: String::new(), active: Some(Value::String(live.to_owned())), candidate: Some(Value::String(candidate.to_owned())) }],
    }
}

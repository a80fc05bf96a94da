//! Releasing dead letters: running a parked stream through its handler
//! again (retry), or dropping its failed event and running the rest (skip).
//! Like replay, the writes and the dead-letter changes commit together.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::buffer::{DocumentCache, ReadTarget};
use super::handler::{BatchHandler, PluginHandler};
use super::partition::{run_partition, FailurePolicy};
use super::ReplayError;
use crate::plugins::PluginHost;
use crate::read::Reader;
use crate::store::{DeadLetter, DeadLetterStatus, EventStore, HandlerCommit, NewDeadLetter, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadLetterAction {
    /// Runs the failed event and those parked behind it again.
    Retry,
    /// Drops the failed event unhandled and runs those parked behind it.
    Skip,
}

/// What releasing one stream did.
#[derive(Debug, Clone, Serialize)]
pub struct StreamRelease {
    pub handler: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub handled: u64,
    pub skipped: u64,
    /// The event the handler failed on again, if it did; it and the events
    /// after it stay dead-lettered.
    pub still_failing: Option<StillFailing>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StillFailing {
    pub dead_letter_id: i64,
    pub event_id: uuid::Uuid,
    pub global_position: u64,
    pub error: String,
}

/// Retries or skips dead letter `id`, which must head its stream's dead
/// letters, and then runs the events parked behind it.
pub async fn release_stream(host: &Arc<PluginHost>, id: i64, action: DeadLetterAction) -> Result<StreamRelease, ReplayError> {
    let store = host.store().clone();
    let (letter, entries) = stream_headed_by(store.as_ref(), id).await?;
    let handler: Arc<dyn BatchHandler> = Arc::new(PluginHandler(host.handler(&letter.handler).await?));
    let reader = Reader::raw(store.clone());
    let mut resolved = Vec::new();
    let mut stored = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        if index == 0 && action == DeadLetterAction::Skip {
            resolved.push(entry.id);
            continue;
        }
        let event = reader.event(entry.event_id).await?.ok_or_else(|| {
            StoreError::CorruptRow(format!("dead letter {} names event {}, which the log does not hold", entry.id, entry.event_id))
        })?;
        stored.push(event);
    }
    // Events the migrators still cannot upcast fail again, as dead letters.
    let (to_run, unreadable) = crate::migrate::upcast_isolated(&host.migration_chains().await?, stored).await;
    let target = ReadTarget {
        store: store.clone(),
        handler: letter.handler.clone(),
        generation: letter.generation,
        runtime: tokio::runtime::Handle::current(),
        cache: Arc::new(DocumentCache::new(1024)),
    };
    // The user asked for this attempt; retrying it again here would only
    // delay the answer.
    let policy = FailurePolicy { max_retries: 0, retry_delay: Duration::ZERO, stop_on_error: true, max_consecutive_failures: u32::MAX };
    let (wanted, unwanted): (Vec<_>, Vec<_>) = to_run.into_iter().partition(|event| handler.wants(event));
    let by_event: BTreeMap<uuid::Uuid, &DeadLetter> = entries.iter().map(|entry| (entry.event_id, entry)).collect();
    resolved.extend(unwanted.iter().map(|event| by_event[&event.id].id));
    let skipped = resolved.len() as u64;
    let outcome = run_partition(&handler, target, wanted.clone(), &HashSet::new(), &unreadable, &policy, 0).await;
    let stop_position = outcome.stopped_before.as_ref().map_or(u64::MAX, |event| event.global_position);
    resolved.extend(wanted.iter().filter(|event| event.global_position < stop_position).map(|event| by_event[&event.id].id));
    let still_failing = match (&outcome.stopped_before, outcome.errors.first()) {
        (Some(event), Some(error)) => Some((by_event[&event.id], error.message.clone())),
        _ => None,
    };
    let commit = HandlerCommit {
        handler: letter.handler.clone(),
        generation: letter.generation,
        writes: outcome.buffer.into_writes(),
        resolved_dead_letters: resolved,
        dead_letters: still_failing.iter().map(|(entry, error)| failed_again(entry, error)).collect(),
        ..HandlerCommit::default()
    };
    store.commit_handler_batch(&commit).await?;
    Ok(StreamRelease {
        handler: letter.handler,
        aggregate_type: letter.aggregate_type,
        aggregate_id: letter.aggregate_id,
        handled: outcome.processed,
        skipped,
        still_failing: still_failing.map(|(entry, error)| StillFailing {
            dead_letter_id: entry.id,
            event_id: entry.event_id,
            global_position: entry.global_position,
            error,
        }),
    })
}

/// Dead letter `id` and every dead letter of its stream, in order; refused
/// unless `id` heads them.
async fn stream_headed_by(store: &dyn EventStore, id: i64) -> Result<(DeadLetter, Vec<DeadLetter>), ReplayError> {
    let letter = store
        .dead_letter(id)
        .await?
        .ok_or_else(|| ReplayError::NotFound(format!("there is no dead letter {id}; `cairn dead-letter list` shows them")))?;
    let entries = store.dead_letters_of_stream(&letter.handler, letter.generation, &letter.aggregate_type, &letter.aggregate_id).await?;
    let first = entries.first().expect("the dead letter itself is among its stream's");
    if first.id != letter.id {
        return Err(ReplayError::Conflict(format!(
            "dead letter {id} is parked behind dead letter {} (event {}) of the same stream; retry or skip {} first",
            first.id, first.event_id, first.id
        )));
    }
    Ok((letter, entries))
}

/// The dead letter of an event that failed again, with one more attempt.
fn failed_again(entry: &DeadLetter, error: &str) -> NewDeadLetter {
    NewDeadLetter {
        generation: entry.generation,
        aggregate_type: entry.aggregate_type.clone(),
        aggregate_id: entry.aggregate_id.clone(),
        event_id: entry.event_id,
        global_position: entry.global_position,
        event_type: entry.event_type.clone(),
        status: DeadLetterStatus::Failed,
        error: Some(error.to_owned()),
        attempts: entry.attempts + 1,
    }
}

/// Retries every dead-lettered stream, of one handler or of all.
pub async fn retry_all(host: &Arc<PluginHost>, handler: Option<&str>) -> Result<Vec<StreamRelease>, ReplayError> {
    retry_where(host, handler, |_| true).await
}

/// Retries the dead-lettered streams whose failed event fails because its
/// migrators could not upcast it: after the migrators change, they may.
pub async fn retry_unreadable(host: &Arc<PluginHost>, handler: &str) -> Result<Vec<StreamRelease>, ReplayError> {
    retry_where(host, Some(handler), |letter| letter.error.as_deref().is_some_and(|error| error.starts_with(UNREADABLE_PREFIX))).await
}

/// How the error of a dead letter begins when the event's migrators could
/// not upcast it (`migrate::UpcastError`'s message).
const UNREADABLE_PREFIX: &str = "cannot upcast event";

async fn retry_where(host: &Arc<PluginHost>, handler: Option<&str>, wanted: impl Fn(&DeadLetter) -> bool) -> Result<Vec<StreamRelease>, ReplayError> {
    let letters = host.store().dead_letters(handler, true, usize::MAX).await?;
    // The first letter of each stream heads it; only heads are released.
    let mut heads: BTreeMap<(String, u64, String, String), DeadLetter> = BTreeMap::new();
    for letter in letters {
        heads.entry((letter.handler.clone(), letter.generation, letter.aggregate_type.clone(), letter.aggregate_id.clone())).or_insert(letter);
    }
    let mut releases = Vec::new();
    for head in heads.into_values().filter(|head| wanted(head)) {
        releases.push(release_stream(host, head.id, DeadLetterAction::Retry).await?);
    }
    Ok(releases)
}

//! Replay: history through handlers, in pages, resumable from a named
//! checkpoint, optionally over several workers.
//!
//! Invariants:
//! - A page's read-model writes and dead letters commit in the same
//!   transaction as the checkpoint's advance, so after a crash, a failure or
//!   a retry no event's effects are applied twice or half. The advance names
//!   the position it expects the checkpoint at, so two runs of one handler
//!   cannot both apply a page.
//! - A handler's declared event and aggregate types are applied before any
//!   wasm call; events it does not want are counted as skipped.
//! - The checkpoint never passes an event that was not handled, skipped, or
//!   dead-lettered. An event that fails after its retries is dead-lettered
//!   and the handler's later events of its stream are parked behind it;
//!   other streams go on. Under stop-on-error the run stops before it.
//! - With several workers each stream stays on one worker, so its events
//!   are handled in order. Workers that touch one another's documents make
//!   the page run again on one worker: parallelism never changes results.
//! - The engine knows handlers only as [`BatchHandler`]; it never names the
//!   generated bindings.

mod buffer;
mod dead_letters;
mod handler;
mod jobs;
mod partition;
mod project;
mod result;
mod shadow;
mod supervise;

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

pub use buffer::{BatchBuffer, DocumentCache, ReadTarget};
pub use dead_letters::{release_stream, retry_all, DeadLetterAction, StreamRelease};
pub use handler::{BatchHandler, HandlerFailure, PluginHandler};
pub use jobs::{run_job, JobOutcome, JobRequest};
pub use partition::FailurePolicy;
pub use project::{project, rebuild, ProjectionReport};
pub use result::{ReplayErrorRecord, ReplayResult, StopReason};
pub use shadow::{shadow_handler, CandidateFailure, DocumentChange, DocumentDifference, HandlerShadowReport};
pub use supervise::{ProjectionState, ProjectionSupervisor};

use crate::event::RecordedEvent;
use crate::migrate::MigrationChains;
use crate::plugins::{PluginHost, PluginHostError};
use crate::store::{CheckpointAdvance, EventStore, HandlerCommit, LogFilter, StoreError};
use partition::{run_partition, stream_key, PartitionOutcome, StreamKey};

pub const DEFAULT_BATCH_SIZE: usize = 500;
/// Documents a run keeps in its read cache before starting it afresh.
const DOCUMENT_CACHE_CAPACITY: usize = 100_000;

/// The checkpoint a handler's live read model moves with.
pub fn live_checkpoint_name(handler: &str) -> String {
    format!("handler:{handler}")
}

/// Which checkpoint a run resumes from and advances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckpointChoice {
    /// `handler:<name>` when the filter selects by position only; none when
    /// it selects by anything else, because moving the handler's checkpoint
    /// past events the filter left out would lose them.
    Default,
    Named(String),
    None,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReplayOptions {
    pub filter: LogFilter,
    /// Events after this position only (the checkpoint's, if later).
    pub after_position: u64,
    pub batch_size: usize,
    pub checkpoint: CheckpointChoice,
    pub failure: FailurePolicy,
    pub workers: usize,
    #[serde(rename = "delay_between_batches_ms", with = "duration_millis")]
    pub delay_between_batches: Duration,
    /// The read-model generation to write; the live one when `None`.
    pub generation: Option<u64>,
    /// The lease the run works under (a live projection's): every page's
    /// commit is refused once another host has taken the lease over.
    #[serde(skip)]
    pub fence: Option<crate::store::Fence>,
}

/// Events per page at most: a page is read into memory and committed in
/// one transaction.
pub const MAX_BATCH_SIZE: usize = 10_000;
/// Retries of one event at most.
pub const MAX_RETRIES: u32 = 100;

/// Workers at most: four per core. More only adds contention, and each
/// holds a share of the page.
pub fn max_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |cores| cores.get()) * 4
}

impl ReplayOptions {
    /// Every option out of its bounds, each naming the bound; the front
    /// ends check before they start a run, and `run_replay` refuses too.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = self.filter.problems();
        if !(1..=MAX_BATCH_SIZE).contains(&self.batch_size) {
            problems.push(format!("the batch size is {}; give 1 to {MAX_BATCH_SIZE}", self.batch_size));
        }
        if !(1..=max_workers()).contains(&self.workers) {
            problems.push(format!("{} workers were asked for; give 1 to {} (four per core)", self.workers, max_workers()));
        }
        if self.failure.max_retries > MAX_RETRIES {
            problems.push(format!("{} retries were asked for; give 0 to {MAX_RETRIES}", self.failure.max_retries));
        }
        if self.failure.max_consecutive_failures == 0 {
            problems.push("the number of consecutive failures that stops a run must be at least 1".to_owned());
        }
        problems
    }
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self {
            filter: LogFilter::default(),
            after_position: 0,
            batch_size: DEFAULT_BATCH_SIZE,
            checkpoint: CheckpointChoice::Default,
            failure: FailurePolicy {
                max_retries: 3,
                retry_delay: Duration::from_millis(100),
                stop_on_error: false,
                max_consecutive_failures: 10,
            },
            workers: 1,
            delay_between_batches: Duration::ZERO,
            generation: None,
            fence: None,
        }
    }
}

mod duration_millis {
    pub fn serialize<S: serde::Serializer>(duration: &std::time::Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(duration.as_millis() as u64)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Plugins(#[from] PluginHostError),
    #[error(transparent)]
    Upcast(#[from] crate::migrate::UpcastError),
    #[error(transparent)]
    Read(#[from] crate::read::ReadError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("checkpoint {name} is at position {position}, but the log ends at {head}: the store was probably restored from an older copy. Move it with `cairn checkpoint set {name} {head}` (events after it are then not replayed) or `cairn checkpoint delete {name}` to replay from the start")]
    CheckpointAhead { name: String, position: u64, head: u64 },
    /// Something the user asked for that cannot be done.
    #[error("{0}")]
    Invalid(String),
    /// Something the user named that does not exist, such as a dead letter.
    #[error("{0}")]
    NotFound(String),
    /// Something that cannot be done in the state things are in, such as
    /// releasing a dead letter parked behind another.
    #[error("{0}")]
    Conflict(String),
    /// A run that ended because its handler kept failing.
    #[error("{0}")]
    Stopped(String),
}

impl crate::Classified for ReplayError {
    fn kind(&self) -> crate::ErrorKind {
        match self {
            ReplayError::Plugins(error) => crate::Classified::kind(error),
            ReplayError::Upcast(error) => crate::Classified::kind(error),
            ReplayError::Read(error) => crate::Classified::kind(error),
            ReplayError::Store(error) => crate::Classified::kind(error),
            ReplayError::CheckpointAhead { .. } => crate::ErrorKind::Conflict,
            ReplayError::Invalid(_) => crate::ErrorKind::Invalid,
            ReplayError::NotFound(_) => crate::ErrorKind::NotFound,
            ReplayError::Conflict(_) => crate::ErrorKind::Conflict,
            ReplayError::Stopped(_) => crate::ErrorKind::Internal,
        }
    }
}

/// How far a run has come, for progress bars and job records.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub position: u64,
    pub head: u64,
    pub processed: u64,
}

/// Runs handler plugin `handler` over the log: see [`run_replay`].
pub async fn replay(
    host: &Arc<PluginHost>,
    handler: &str,
    options: &ReplayOptions,
    progress: impl FnMut(Progress),
) -> Result<ReplayResult, ReplayError> {
    let plugin: Arc<dyn BatchHandler> = Arc::new(PluginHandler(host.handler(handler).await?));
    let chains = host.migration_chains().await?;
    run_replay(host.store(), &chains, plugin, options, progress).await
}

/// Everything one run keeps between pages.
struct Run {
    store: Arc<dyn EventStore>,
    handler: Arc<dyn BatchHandler>,
    target: ReadTarget,
    checkpoint: Option<String>,
    checkpoint_position: u64,
    parked: HashSet<StreamKey>,
    /// The page's events its migrators could not upcast, with why: they
    /// fail without reaching the handler.
    unreadable: HashMap<uuid::Uuid, String>,
    workers: usize,
    consecutive_failures: u32,
    fence: Option<crate::store::Fence>,
}

/// Runs `handler` over the log from the checkpoint (or `after_position`) to
/// the log's end as it was at the start, and commits page by page.
pub async fn run_replay(
    store: &Arc<dyn EventStore>,
    chains: &Arc<MigrationChains>,
    handler: Arc<dyn BatchHandler>,
    options: &ReplayOptions,
    progress: impl FnMut(Progress),
) -> Result<ReplayResult, ReplayError> {
    let started = Instant::now();
    let problems = options.problems();
    if !problems.is_empty() {
        return Err(ReplayError::Invalid(problems.join("; ")));
    }
    let name = handler.name().to_owned();
    let mut start = starting_point(store.as_ref(), &name, options).await?;
    let generation = match options.generation {
        Some(generation) => generation,
        None if start.checkpoint.as_deref() == Some(live_checkpoint_name(&name).as_str()) => store.generations(&name).await?.live,
        // Not the live projection: its effects would double those already
        // in the live read model, so it gets a generation of its own.
        None => {
            let generation = store.replay_generation(&name, start.checkpoint.as_deref()).await?;
            start.notes.push(format!(
                "this replay is not {name}'s live projection (it filters by content or resumes a checkpoint of its own), so it wrote into generation {generation}, apart from the live read model; read it with `cairn read-model get {name} COLLECTION KEY --generation {generation}`"
            ));
            generation
        }
    };
    let mut run = Run {
        store: store.clone(),
        handler,
        target: ReadTarget {
            store: store.clone(),
            handler: name.clone(),
            generation,
            runtime: tokio::runtime::Handle::current(),
            cache: Arc::new(DocumentCache::new(DOCUMENT_CACHE_CAPACITY)),
        },
        checkpoint: start.checkpoint.clone(),
        checkpoint_position: start.checkpoint_position,
        parked: HashSet::new(),
        unreadable: HashMap::new(),
        workers: options.workers,
        consecutive_failures: 0,
        fence: options.fence.clone(),
    };
    let position = start.checkpoint_position.max(options.after_position);
    let mut result = ReplayResult::starting(name, start.checkpoint, generation, position, start.notes);
    let filter = LogFilter { to_position: Some(options.filter.to_position.unwrap_or(start.head).min(start.head)), ..options.filter.clone() };
    let reader = crate::read::Reader::raw(store.clone());
    result.position = run_pages(&mut run, &reader, chains, filter, options, position, start.head, &mut result, progress).await?;
    let elapsed = started.elapsed();
    result.duration_ms = elapsed.as_millis() as u64;
    result.events_per_second = result.processed as f64 / elapsed.as_secs_f64().max(1e-9);
    let attempted = result.processed + result.failed;
    result.success_rate = if attempted == 0 { 1.0 } else { result.processed as f64 / attempted as f64 };
    Ok(result)
}

/// Where a run starts: the checkpoint it resumes and advances, if any, its
/// position, the log's head at the start, and what the user should know.
struct StartingPoint {
    checkpoint: Option<String>,
    checkpoint_position: u64,
    head: u64,
    notes: Vec<String>,
}

async fn starting_point(store: &dyn EventStore, name: &str, options: &ReplayOptions) -> Result<StartingPoint, ReplayError> {
    let selects_by_content = LogFilter { to_position: None, ..options.filter.clone() } != LogFilter::default();
    let mut notes = Vec::new();
    let checkpoint = match &options.checkpoint {
        CheckpointChoice::Named(checkpoint) => Some(checkpoint.clone()),
        CheckpointChoice::None => None,
        CheckpointChoice::Default if selects_by_content => {
            notes.push(format!(
                "the filter selects events by content, so the run does not move {}; pass --checkpoint NAME to make it resumable",
                live_checkpoint_name(name)
            ));
            None
        }
        CheckpointChoice::Default => Some(live_checkpoint_name(name)),
    };
    let head = store.head_position().await?;
    let checkpoint_position = match &checkpoint {
        Some(checkpoint) => store.checkpoint(checkpoint).await?.map_or(0, |found| found.position),
        None => 0,
    };
    if let (Some(checkpoint), true) = (&checkpoint, checkpoint_position > head) {
        return Err(ReplayError::CheckpointAhead { name: checkpoint.clone(), position: checkpoint_position, head });
    }
    if checkpoint_position > options.after_position && options.after_position > 0 {
        notes.push(format!(
            "checkpoint {} is at position {checkpoint_position}, after the requested start; resuming from the checkpoint (set or delete it to replay earlier events)",
            checkpoint.as_deref().unwrap_or_default()
        ));
    }
    Ok(StartingPoint { checkpoint, checkpoint_position, head, notes })
}

/// Pages through the log from `position` and handles each page; gives the
/// position reached. The next page is read (and upcast) while the current
/// one is handled and committed, so reading and handling overlap.
#[allow(clippy::too_many_arguments)]
async fn run_pages(
    run: &mut Run,
    reader: &crate::read::Reader,
    chains: &Arc<MigrationChains>,
    filter: LogFilter,
    options: &ReplayOptions,
    mut position: u64,
    head: u64,
    result: &mut ReplayResult,
    mut progress: impl FnMut(Progress),
) -> Result<u64, ReplayError> {
    // Only the events the handler wants are upcast (upcasting changes
    // neither type nor stream, so what it wants is known before); one its
    // migrators cannot read fails for this handler alone, as a dead letter.
    let wanting = run.handler.clone();
    let read_page = |after: u64| {
        let (reader, chains, handler, filter, size) = (reader.clone(), chains.clone(), wanting.clone(), filter.clone(), options.batch_size);
        tokio::spawn(async move {
            let page = reader.log(&filter, after, size).await?;
            let (read, end) = (page.len() as u64, page.last().map(|event| event.global_position));
            let wanted: Vec<RecordedEvent> = page.into_iter().filter(|event| handler.wants(event)).collect();
            let (wanted, unreadable) = crate::migrate::upcast_isolated(&chains, wanted).await;
            Ok::<_, ReplayError>((wanted, unreadable, read, end))
        })
    };
    let mut next = read_page(position);
    loop {
        let (wanted, unreadable, read, end) = next.await.expect("page reads do not panic")?;
        let Some(page_end) = end else { break };
        next = read_page(page_end);
        result.total_events += read;
        run.parked = run.store.parked_streams(&result.handler, run.target.generation).await?.into_iter().collect();
        result.skipped += read - wanted.len() as u64;
        run.unreadable = unreadable;
        let (reached, stopped) = run_page(run, options, wanted, page_end, result).await?;
        position = reached;
        progress(Progress { position, head, processed: result.processed });
        if stopped.is_some() {
            next.abort();
            result.stopped = stopped;
            break;
        }
        if !options.delay_between_batches.is_zero() {
            tokio::time::sleep(options.delay_between_batches).await;
        }
    }
    Ok(position)
}

fn partition_of(event: &RecordedEvent, workers: usize) -> usize {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    stream_key(event).hash(&mut hasher);
    (hasher.finish() % workers as u64) as usize
}

/// Handles one page's wanted events and commits it. Gives the position the
/// run reached and why it stopped, if it did.
async fn run_page(
    run: &mut Run,
    options: &ReplayOptions,
    wanted: Vec<RecordedEvent>,
    page_end: u64,
    result: &mut ReplayResult,
) -> Result<(u64, Option<StopReason>), ReplayError> {
    if run.workers > 1 && wanted.len() > 1 {
        if let Some(outcomes) = run_in_parallel(run, options, &wanted).await {
            return commit_page(run, &options.failure, outcomes, page_end, result).await;
        }
    }
    let outcome = run_partition(&run.handler, run.target.clone(), wanted, &run.parked, &run.unreadable, &options.failure, run.consecutive_failures).await;
    commit_page(run, &options.failure, vec![outcome], page_end, result).await
}

/// The page split by stream over the workers; `None` when it must run again
/// in order on one worker: after a stop, or when workers touched a common
/// document (then the rest of the run uses one worker too).
async fn run_in_parallel(run: &mut Run, options: &ReplayOptions, wanted: &[RecordedEvent]) -> Option<Vec<PartitionOutcome>> {
    let mut partitions = vec![Vec::new(); run.workers];
    for event in wanted {
        partitions[partition_of(event, run.workers)].push(event.clone());
    }
    let tasks: Vec<_> = partitions
        .into_iter()
        .filter(|events| !events.is_empty())
        .map(|events| {
            let (handler, target, parked, policy) = (run.handler.clone(), run.target.clone(), run.parked.clone(), options.failure.clone());
            let (unreadable, consecutive_failures) = (run.unreadable.clone(), run.consecutive_failures);
            tokio::spawn(async move { run_partition(&handler, target, events, &parked, &unreadable, &policy, consecutive_failures).await })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("partitions do not panic"));
    }
    let overlapping = outcomes
        .iter()
        .enumerate()
        .any(|(index, outcome)| outcomes.iter().enumerate().any(|(other, theirs)| index != other && outcome.buffer.overlaps(&theirs.buffer)));
    if overlapping {
        tracing::warn!(handler = %run.handler.name(), "workers touched the same read-model documents; this handler's pages run on one worker from now on");
        run.workers = 1;
        return None;
    }
    let stopped_early = outcomes.iter().any(|outcome| outcome.stopped_before.is_some());
    (!stopped_early).then_some(outcomes)
}

async fn commit_page(
    run: &mut Run,
    policy: &FailurePolicy,
    outcomes: Vec<PartitionOutcome>,
    page_end: u64,
    result: &mut ReplayResult,
) -> Result<(u64, Option<StopReason>), ReplayError> {
    // Only a single, in-order partition can stop early (see run_page).
    let stopped_before = outcomes.iter().find_map(|outcome| outcome.stopped_before.clone());
    let reached = stopped_before.as_ref().map_or(page_end, |event| event.global_position - 1);
    let mut commit = HandlerCommit { handler: run.handler.name().to_owned(), generation: run.target.generation, fence: run.fence.clone(), ..HandlerCommit::default() };
    let mut processed = 0;
    let mut newly_parked = HashSet::new();
    let mut consecutive_failures = 0;
    for outcome in outcomes {
        processed += outcome.processed;
        result.failed += outcome.failed;
        result.errors.extend(outcome.errors);
        consecutive_failures = consecutive_failures.max(outcome.consecutive_failures);
        commit.writes.extend(outcome.buffer.into_writes());
        commit.dead_letters.extend(outcome.dead_letters.into_iter().filter(|letter| letter.global_position <= reached));
        newly_parked.extend(outcome.newly_parked);
    }
    run.consecutive_failures = consecutive_failures;
    result.parked += commit.dead_letters.iter().filter(|letter| letter.status == crate::store::DeadLetterStatus::Parked).count() as u64;
    commit.checkpoint = run.checkpoint.as_ref().map(|name| CheckpointAdvance {
        name: name.clone(),
        expected_position: run.checkpoint_position,
        position: reached,
        events: processed,
    });
    let nothing_to_commit = commit.writes.is_empty() && commit.dead_letters.is_empty() && commit.checkpoint.is_none();
    if !nothing_to_commit {
        if let Err(error) = run.store.commit_handler_batch(&commit).await {
            run.target.cache.clear();
            return Err(error.into());
        }
    }
    run.target.cache.apply(&commit.writes);
    crate::telemetry::replay_page_committed(&commit.handler, processed, commit.dead_letters.len() as u64);
    if commit.checkpoint.is_some() {
        run.checkpoint_position = reached;
    }
    run.parked.extend(newly_parked);
    result.processed += processed;
    let stop = if run.consecutive_failures >= policy.max_consecutive_failures {
        Some(StopReason::ConsecutiveFailures)
    } else if stopped_before.is_some() {
        Some(StopReason::FailingEvent)
    } else {
        None
    };
    Ok((reached, stop))
}

//! Commands: load a stream's state through its aggregate plugin, let the
//! plugin decide, and append what it decided under the version it saw.
//!
//! Invariants:
//! - Events are appended with expected version = the version the decision
//!   was made on, so a decision is never applied to a state it did not see.
//! - A conflict re-runs load and decide, up to `max_retries` times. A command
//!   decides on this process's cached state without reading the stream
//!   first; if another writer moved the stream on, the append's expected
//!   version fails, the cache entry is dropped, and the retry reads.
//! - Plugin calls never hold an async worker (`plugins::calls::run_gated`).

mod error;
mod manage;
mod once;
mod snapshots;
mod state;

use std::sync::Arc;

use serde::Serialize;
use uuid::Uuid;

use crate::event::{AppendRequest, ExpectedVersion, NewEvent, RecordedEvent, StreamId};
use crate::json::JsonText;
use crate::plugins::PluginHost;
use crate::runtime::types::CommandInput;
use crate::runtime::CheckedEvent;
use crate::store::{CommandAppend, CommandResult, PluginVersionRecord, StoreError};

pub use error::CommandError;
pub use manage::RebuildReport;
pub use once::{keep_pruning_command_records, prune_command_records, DEFAULT_COMMAND_TTL};
pub use snapshots::{LoadMetrics, LoadStatistics, SnapshotPolicy, DEFAULT_SNAPSHOTS_KEPT, DEFAULT_SNAPSHOT_EVERY};
pub use state::{AggregateState, StateCache, StateTarget};
use snapshots::SnapshotWriter;
use state::{Freshness, LoadContext};

pub const DEFAULT_MAX_RETRIES: u32 = 3;

/// A command for one aggregate.
#[derive(Debug, Clone)]
pub struct CommandRequest {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub command_type: String,
    pub payload: JsonText,
    /// A JSON object. `correlation_id` and `user_id`, when they are strings,
    /// are carried onto the new events.
    pub metadata: JsonText,
    /// Generated (a UUID v7) when absent; it becomes each new event's
    /// causation id. Given by the caller, it makes the command run once per
    /// store: a later run of the id answers as the first did (its events,
    /// its rejection, or nothing to do), and an id re-used for another
    /// command is refused (`once.rs`).
    pub command_id: Option<String>,
}

/// What a command did.
#[derive(Debug, Clone, Serialize)]
pub struct CommandOutcome {
    pub command_id: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// The stream's version after the command.
    pub stream_version: u64,
    pub events: Vec<RecordedEvent>,
    /// 1 when the first try succeeded; more after concurrency conflicts.
    pub attempts: u32,
    /// The command id had already run: nothing new was decided or written,
    /// and `events` are the ones it wrote then.
    pub already_executed: bool,
    pub plugin: String,
    pub plugin_version: u64,
}

/// A command's outcome without the new events' bodies: what a caller that
/// sent the command needs to know of it, at a tenth of the full answer's size.
#[derive(Debug, Clone, Serialize)]
pub struct CommandSummary<'a> {
    pub command_id: &'a str,
    pub aggregate_type: &'a str,
    pub aggregate_id: &'a str,
    pub stream_version: u64,
    /// The new events' types, in order.
    pub event_types: Vec<&'a str>,
    pub attempts: u32,
    pub already_executed: bool,
    pub plugin: &'a str,
    pub plugin_version: u64,
}

impl CommandOutcome {
    pub fn summary(&self) -> CommandSummary<'_> {
        CommandSummary {
            command_id: &self.command_id,
            aggregate_type: &self.aggregate_type,
            aggregate_id: &self.aggregate_id,
            stream_version: self.stream_version,
            event_types: self.events.iter().map(|event| event.event_type.as_str()).collect(),
            attempts: self.attempts,
            already_executed: self.already_executed,
            plugin: &self.plugin,
            plugin_version: self.plugin_version,
        }
    }
}

/// Runs commands and reads state. Cheap to clone; share one per process so
/// that its state cache is shared.
#[derive(Clone)]
pub struct Commands {
    plugins: Arc<PluginHost>,
    cache: Arc<StateCache>,
    snapshots: Arc<SnapshotWriter>,
    metrics: Arc<LoadMetrics>,
    max_retries: u32,
}

impl Commands {
    pub fn new(plugins: Arc<PluginHost>) -> Self {
        Self::with_snapshot_policy(plugins, SnapshotPolicy::default())
    }

    pub fn with_snapshot_policy(plugins: Arc<PluginHost>, policy: SnapshotPolicy) -> Self {
        let metrics = Arc::new(LoadMetrics::default());
        let snapshots = Arc::new(SnapshotWriter::new(plugins.store().clone(), policy, metrics.clone()));
        Self { plugins, cache: Arc::new(StateCache::default()), snapshots, metrics, max_retries: DEFAULT_MAX_RETRIES }
    }

    pub fn snapshot_policy(&self) -> SnapshotPolicy {
        self.snapshots.policy
    }

    /// Snapshot hits and misses, and events folded, since this runner started.
    pub fn load_statistics(&self) -> LoadStatistics {
        self.metrics.statistics()
    }

    /// Waits for the snapshot writes started so far; a one-shot process
    /// calls it before exiting, after it has answered.
    pub async fn flush_snapshots(&self) {
        self.snapshots.flush().await;
    }

    /// What a load needs, with the migration chains current at this moment.
    async fn context<'a>(
        &'a self,
        plugin: &'a Arc<crate::runtime::AggregatePlugin>,
        record: &'a PluginVersionRecord,
    ) -> Result<LoadContext<'a>, CommandError> {
        Ok(LoadContext {
            store: self.plugins.store(),
            cache: &self.cache,
            snapshots: &self.snapshots,
            metrics: &self.metrics,
            chains: self.plugins.migration_chains().await?,
            plugin,
            record,
        })
    }

    pub fn with_max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    pub fn plugins(&self) -> &Arc<PluginHost> {
        &self.plugins
    }

    /// The current state of one aggregate.
    pub async fn state(&self, aggregate_type: &str, aggregate_id: &str) -> Result<AggregateState, CommandError> {
        self.state_at(aggregate_type, aggregate_id, StateTarget::Latest).await
    }

    /// The state of one aggregate now, at a stream version, or at an instant.
    pub async fn state_at(
        &self,
        aggregate_type: &str,
        aggregate_id: &str,
        target: StateTarget,
    ) -> Result<AggregateState, CommandError> {
        let (plugin, record) = self.plugins.aggregate(aggregate_type).await?;
        let stream = StreamId::new(aggregate_type, aggregate_id);
        let loaded = state::load(&self.context(&plugin, &record).await?, &stream, target, Freshness::Current).await?;
        Ok(loaded.state)
    }

    pub async fn execute(&self, request: CommandRequest) -> Result<CommandOutcome, CommandError> {
        request_problems(&request)?;
        let command_id = request.command_id.clone().unwrap_or_else(|| Uuid::now_v7().to_string());
        // Only a caller's id can come again, so only it is recorded.
        let digest = request.command_id.is_some().then(|| once::digest(&request));
        let command = CommandInput {
            command_id: command_id.clone(),
            command_type: request.command_type.clone(),
            aggregate_id: request.aggregate_id.clone(),
            payload: request.payload.clone(),
            metadata: request.metadata.clone(),
        };
        let stream = StreamId::new(&request.aggregate_type, &request.aggregate_id);
        let store = self.plugins.store().as_ref();
        let mut attempts = 0;
        let mut freshness = Freshness::Optimistic;
        // A command id is not looked up before the run: the store checks it
        // under its write lock on every way a command ends (its append, or
        // the record of a rejection or of nothing to do), and a run that
        // fails otherwise looks its id up before failing (`failed`).
        loop {
            attempts += 1;
            // Looked up on every attempt: a retry after a swap uses the new version.
            let (plugin, record) = self.plugins.aggregate(&request.aggregate_type).await?;
            let context = self.context(&plugin, &record).await?;
            let loaded = state::load(&context, &stream, StateTarget::Latest, freshness).await?;
            let decided = decide(&plugin, &loaded.state.state, &command).await;
            // An answer that appends nothing is never checked by an expected
            // version, so it must not rest on a state that was not read.
            let unchecked = decided.as_ref().map_or(true, |events| events.is_empty());
            if unchecked && loaded.from_unread_cache {
                freshness = Freshness::Current;
                attempts -= 1;
                continue;
            }
            let version = loaded.state.stream_version;
            let mark = digest.as_ref().map(|digest| once::mark(&request, &command_id, digest, &record));
            let decided = match decided.map_err(CommandError::from_plugin) {
                Ok(decided) if !decided.is_empty() => decided,
                Ok(_) => return self.settle_without_events(&request, command_id, mark, Ok(version), attempts, &record).await,
                Err(rejected @ CommandError::Rejected { .. }) => {
                    return self.settle_without_events(&request, command_id, mark, Err(rejected), attempts, &record).await;
                }
                Err(error) => return self.failed(&request, &command_id, digest.as_deref(), error, attempts).await,
            };
            let new_events = new_events(&request, &command_id, &record, decided);
            let expected = if version == 0 { ExpectedVersion::NoStream } else { ExpectedVersion::Exact(version) };
            let append = AppendRequest::to_stream(expected, new_events);
            let appended = match mark {
                Some(mark) => store.append_command(append, mark).await,
                None => store.append(append).await.map(CommandAppend::Appended),
            };
            match appended {
                Ok(CommandAppend::Appended(appended)) => {
                    let stream_version = appended.events.last().map_or(version, |event| event.stream_version);
                    // The next command on this stream decides on the cache
                    // without reading, so the cache moves past these events now.
                    state::advance(&context, &stream, &loaded.state, &appended.events).await;
                    return Ok(outcome(&request, command_id, stream_version, appended.events, attempts, &record));
                }
                // A run of the same id committed first: its answer is ours.
                Ok(CommandAppend::AlreadyRecorded(earlier)) => {
                    return once::answer_recorded(store, &request, digest.as_deref().expect("marked"), earlier, attempts).await;
                }
                Err(conflict @ StoreError::Conflict { .. }) => {
                    self.cache.forget(&stream);
                    freshness = Freshness::Current;
                    if attempts > self.max_retries {
                        return self.failed(&request, &command_id, digest.as_deref(), CommandError::Conflict { attempts, source: conflict }, attempts).await;
                    }
                    tracing::debug!(stream = %stream, attempts, "command hit a concurrency conflict; retrying");
                }
                Err(error) => return Err(error.into()),
            }
        }
    }
}

impl Commands {
    /// Ends a run that failed (its plugin failed, or conflicts outlasted the
    /// retries): a command whose id an earlier run recorded answers as that
    /// run did, since the id is not looked up before running.
    async fn failed(&self, request: &CommandRequest, command_id: &str, digest: Option<&str>, error: CommandError, attempts: u32) -> Result<CommandOutcome, CommandError> {
        let Some(digest) = digest else { return Err(error) };
        let store = self.plugins.store().as_ref();
        match store.command_record(command_id).await? {
            Some(record) => once::answer_recorded(store, request, digest, record, attempts).await,
            None => Err(error),
        }
    }

    /// Ends a command that appends nothing (it decided no events, or was
    /// rejected): with an id, it is recorded so that a retry answers alike,
    /// unless a concurrent run of the id recorded first, whose answer wins.
    async fn settle_without_events(
        &self,
        request: &CommandRequest,
        command_id: String,
        mark: Option<crate::store::CommandMark>,
        ended: Result<u64, CommandError>,
        attempts: u32,
        record: &PluginVersionRecord,
    ) -> Result<CommandOutcome, CommandError> {
        let result = match &ended {
            Ok(version) => Some(CommandResult::NothingToDo { stream_version: *version }),
            Err(CommandError::Rejected { message, .. }) => Some(CommandResult::Rejected { message: message.clone() }),
            Err(_) => None,
        };
        if let (Some(mark), Some(result)) = (mark, result) {
            let digest = mark.digest.clone();
            let store = self.plugins.store().as_ref();
            if let Some(earlier) = once::record_without_events(store, mark, result).await? {
                return once::answer_recorded(store, request, &digest, earlier, attempts).await;
            }
        }
        let version = ended?;
        Ok(outcome(request, command_id, version, Vec::new(), attempts, record))
    }
}

/// The plugin's decision, through its gate, holding no async worker.
async fn decide(plugin: &Arc<crate::runtime::AggregatePlugin>, state: &JsonText, command: &CommandInput) -> Result<Vec<CheckedEvent>, crate::runtime::PluginCallError> {
    let (plugin, state, command) = (plugin.clone(), state.clone(), command.clone());
    let gated = plugin.clone();
    crate::plugins::calls::run_gated(gated.gate(), move || plugin.decide(&state, &command)).await
}

fn request_problems(request: &CommandRequest) -> Result<(), CommandError> {
    let mut problems = Vec::new();
    for (field, value) in [
        ("aggregate type", &request.aggregate_type),
        ("aggregate id", &request.aggregate_id),
        ("command type", &request.command_type),
    ] {
        if value.trim().is_empty() {
            problems.push(format!("the {field} is empty"));
        }
    }
    if !request.metadata.is_object() {
        problems.push("metadata must be a JSON object, such as {\"correlation_id\":\"c-1\"}".to_owned());
    }
    if request.command_id.as_deref().is_some_and(|id| id.trim().is_empty()) {
        problems.push("the command id is empty; leave it out to have one generated".to_owned());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(CommandError::Invalid(problems))
    }
}

fn new_events(
    request: &CommandRequest,
    command_id: &str,
    record: &PluginVersionRecord,
    decided: Vec<CheckedEvent>,
) -> Vec<NewEvent> {
    let metadata = request.metadata.to_value();
    let text_field = |field: &str| metadata.get(field).and_then(|value| value.as_str()).map(str::to_owned);
    let correlation_id = text_field("correlation_id").unwrap_or_else(|| command_id.to_owned());
    let user_id = text_field("user_id");
    decided
        .into_iter()
        .map(|event| NewEvent {
            schema_version: event.schema_version,
            metadata: request.metadata.clone(),
            correlation_id: Some(correlation_id.clone()),
            causation_id: Some(command_id.to_owned()),
            user_id: user_id.clone(),
            source: Some(format!("{}@{}", record.name, record.version)),
            ..NewEvent::new(&request.aggregate_type, &request.aggregate_id, event.event_type, event.payload)
        })
        .collect()
}

fn outcome(
    request: &CommandRequest,
    command_id: String,
    stream_version: u64,
    events: Vec<RecordedEvent>,
    attempts: u32,
    record: &PluginVersionRecord,
) -> CommandOutcome {
    CommandOutcome {
        command_id,
        aggregate_type: request.aggregate_type.clone(),
        aggregate_id: request.aggregate_id.clone(),
        stream_version,
        events,
        attempts,
        already_executed: false,
        plugin: record.name.clone(),
        plugin_version: record.version,
    }
}

//! Loading an aggregate's state: fold its stream through the plugin's
//! `apply`, starting from the newest state this process already computed
//! for the same plugin build, or else from the newest usable snapshot.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::snapshots::{LoadMetrics, SnapshotWriter};
use super::CommandError;
use crate::event::{RecordedEvent, StreamId};
use crate::json::JsonText;
use crate::read::Reader;
use crate::runtime::AggregatePlugin;
use crate::store::{EventStore, PluginVersionRecord, StreamRange};

/// States kept in memory; beyond this, half are dropped.
const CACHE_CAPACITY: usize = 10_000;

/// An aggregate's state at a stream version.
#[derive(Debug, Clone, Serialize)]
pub struct AggregateState {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub stream_version: u64,
    pub state: JsonText,
    pub plugin: String,
    pub plugin_version: u64,
    /// The snapshot the fold started from, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_version: Option<u64>,
    /// Events folded by this load (0 when it came from this process's cache).
    pub events_applied: u64,
    /// Something the reader should know, such as an instant before the stream began.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Which state to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateTarget {
    Latest,
    /// After the event at this stream version.
    AtVersion(u64),
    /// After every event whose `timestamp` is at or before this instant.
    AtInstant(DateTime<Utc>),
    /// Both limits at once: after the event at this version, leaving out
    /// events after this instant.
    AtVersionAndInstant(u64, DateTime<Utc>),
}

struct CachedState {
    content_hash: String,
    stream_version: u64,
    state: JsonText,
}

/// States this process computed, keyed by stream and valid only for the
/// plugin build (content hash) that computed them. A cached state is a
/// starting point: every load still reads the events after it.
#[derive(Default)]
pub struct StateCache {
    entries: Mutex<HashMap<StreamId, CachedState>>,
}

impl StateCache {
    fn get(&self, stream: &StreamId, content_hash: &str) -> Option<(u64, JsonText)> {
        let entries = self.entries.lock().expect("state cache lock");
        let cached = entries.get(stream).filter(|cached| cached.content_hash == content_hash)?;
        Some((cached.stream_version, cached.state.clone()))
    }

    fn put(&self, stream: &StreamId, content_hash: &str, stream_version: u64, state: &JsonText) {
        let mut entries = self.entries.lock().expect("state cache lock");
        if entries.len() >= CACHE_CAPACITY && !entries.contains_key(stream) {
            let evicted: Vec<StreamId> = entries.keys().take(CACHE_CAPACITY / 2).cloned().collect();
            for key in evicted {
                entries.remove(&key);
            }
        }
        entries.insert(
            stream.clone(),
            CachedState { content_hash: content_hash.to_owned(), stream_version, state: state.clone() },
        );
    }

    pub(super) fn forget(&self, stream: &StreamId) {
        self.entries.lock().expect("state cache lock").remove(stream);
    }
}

/// How far to trust a cached state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Freshness {
    /// Read the events after the cached state: for answers that must be current.
    Current,
    /// Use a cached state as it is. Commands do this: their append's expected
    /// version fails if the stream moved on, and the retry reads.
    Optimistic,
}

/// A loaded state, and whether it came from the cache without a read.
pub(super) struct Loaded {
    pub state: AggregateState,
    pub from_unread_cache: bool,
}

/// What a load needs besides the stream.
pub(super) struct LoadContext<'a> {
    pub store: &'a Arc<dyn EventStore>,
    pub cache: &'a StateCache,
    pub snapshots: &'a SnapshotWriter,
    pub metrics: &'a LoadMetrics,
    /// Events are folded at the newest version these chains reach.
    pub chains: Arc<crate::migrate::MigrationChains>,
    pub plugin: &'a Arc<AggregatePlugin>,
    pub record: &'a PluginVersionRecord,
}

impl LoadContext<'_> {
    fn state(&self, stream: &StreamId, stream_version: u64, state: JsonText) -> AggregateState {
        AggregateState {
            aggregate_type: stream.aggregate_type.clone(),
            aggregate_id: stream.aggregate_id.clone(),
            stream_version,
            state,
            plugin: self.record.name.clone(),
            plugin_version: self.record.version,
            snapshot_version: None,
            events_applied: 0,
            note: None,
        }
    }
}

pub(super) async fn load(
    context: &LoadContext<'_>,
    stream: &StreamId,
    target: StateTarget,
    freshness: Freshness,
) -> Result<Loaded, CommandError> {
    if target == StateTarget::Latest {
        if let Some((stream_version, state)) = context.cache.get(stream, context.plugin.content_hash()) {
            if freshness == Freshness::Optimistic {
                return Ok(Loaded { state: context.state(stream, stream_version, state), from_unread_cache: true });
            }
            let newer = read_events(context, stream, stream_version + 1, u64::MAX).await?;
            let state = fold_events(context.plugin, Some(state), &stream.aggregate_id, newer.clone()).await?;
            let mut loaded = context.state(stream, newer.last().map_or(stream_version, |event| event.stream_version), state);
            loaded.events_applied = newer.len() as u64;
            remember(context, stream, stream_version, &loaded);
            return Ok(Loaded { state: loaded, from_unread_cache: false });
        }
    }
    let state = load_from_store(context, stream, target).await?;
    if target == StateTarget::Latest {
        remember(context, stream, state.snapshot_version.unwrap_or(0), &state);
    }
    Ok(Loaded { state, from_unread_cache: false })
}

/// Caches a current state and, when the fold passed a snapshot boundary
/// since where it started, snapshots it in the background.
fn remember(context: &LoadContext<'_>, stream: &StreamId, started_at: u64, loaded: &AggregateState) {
    context.cache.put(stream, &context.record.content_hash, loaded.stream_version, &loaded.state);
    if context.snapshots.policy.crosses(context.plugin, started_at, loaded.stream_version) {
        let snapshot = SnapshotWriter::snapshot_of(context.plugin, stream, loaded.stream_version, &loaded.state);
        context.snapshots.write_in_background(snapshot);
    }
}

async fn load_from_store(context: &LoadContext<'_>, stream: &StreamId, target: StateTarget) -> Result<AggregateState, CommandError> {
    // The newest version a snapshot may have for this target, and which
    // events after it take part.
    let (snapshot_limit, last_version, until) = match target {
        StateTarget::Latest => (u64::MAX, u64::MAX, None),
        StateTarget::AtVersion(version) => (version, version, None),
        StateTarget::AtInstant(instant) => {
            let first_after = context.store.first_version_after(stream, instant).await?;
            (first_after.map_or(u64::MAX, |version| version - 1), u64::MAX, Some(instant))
        }
        StateTarget::AtVersionAndInstant(version, instant) => {
            let first_after = context.store.first_version_after(stream, instant).await?;
            (first_after.map_or(u64::MAX, |after| after - 1).min(version), version, Some(instant))
        }
    };
    if let StateTarget::AtVersionAndInstant(requested, _) = target {
        let current = context.store.stream_version(stream).await?;
        if current < requested {
            return Err(CommandError::VersionBeyondEnd { stream: stream.clone(), requested, current });
        }
    }
    let (snapshot, mut events) = snapshot_and_events(context, stream, snapshot_limit, last_version).await?;
    if let Some(until) = until {
        events.retain(|event| event.timestamp <= until);
    }
    let snapshot_version = snapshot.as_ref().map(|(version, _)| *version);
    let stream_version = events.last().map(|event| event.stream_version).or(snapshot_version).unwrap_or(0);
    if let StateTarget::AtVersion(requested) = target {
        if stream_version < requested {
            let current = context.store.stream_version(stream).await?;
            return Err(CommandError::VersionBeyondEnd { stream: stream.clone(), requested, current });
        }
    }
    let note = match target {
        StateTarget::AtInstant(instant) | StateTarget::AtVersionAndInstant(_, instant) if stream_version == 0 => {
            Some(instant_note(context.store.as_ref(), stream, instant).await?)
        }
        _ => None,
    };
    let events_applied = events.len() as u64;
    context.metrics.record_load(snapshot.is_some(), events_applied);
    let state = fold_events(context.plugin, snapshot.map(|(_, state)| state), &stream.aggregate_id, events).await?;
    let mut loaded = context.state(stream, stream_version, state);
    loaded.snapshot_version = snapshot_version;
    loaded.events_applied = events_applied;
    loaded.note = note;
    Ok(loaded)
}

/// The newest snapshot at or below `at_or_below` that this plugin can use,
/// and the stream's events after it up to `to` (`u64::MAX`: the end),
/// upcast. One read when that snapshot is the newest (or there is none),
/// which is the usual case; a second when the newest cannot be used.
async fn snapshot_and_events(
    context: &LoadContext<'_>,
    stream: &StreamId,
    at_or_below: u64,
    to: u64,
) -> Result<(Option<(u64, JsonText)>, Vec<RecordedEvent>), CommandError> {
    let to_version = (to != u64::MAX).then_some(to);
    let (snapshots, events) = context.store.snapshots_and_events_after(stream, at_or_below, SNAPSHOTS_CONSIDERED, to_version).await?;
    let newest = snapshots.first().map(|snapshot| snapshot.stream_version);
    let snapshot = usable_snapshot(context, stream, snapshots);
    let start = snapshot.as_ref().map(|(version, _)| *version);
    let events = if start == newest {
        crate::migrate::upcast_events(&context.chains, events).await.map_err(|error| CommandError::Read(error.into()))?
    } else {
        read_events(context, stream, start.unwrap_or(0) + 1, to).await?
    };
    Ok((snapshot, events))
}

/// The newest of `snapshots` (newest first) that this plugin can use: same
/// `state-version`, and state that is JSON. Others are logged and skipped;
/// the next snapshot written replaces them.
fn usable_snapshot(context: &LoadContext<'_>, stream: &StreamId, snapshots: Vec<crate::store::SnapshotRecord>) -> Option<(u64, JsonText)> {
    let wanted = &context.plugin.info().state_version;
    for snapshot in snapshots {
        if &snapshot.state_version != wanted {
            tracing::debug!(stream = %stream, version = snapshot.stream_version, "snapshot has state version {}, the plugin {wanted}; ignored", snapshot.state_version);
            continue;
        }
        match JsonText::parse(snapshot.state) {
            Ok(state) => return Some((snapshot.stream_version, state)),
            Err(error) => {
                tracing::warn!(stream = %stream, version = snapshot.stream_version, "corrupt snapshot ignored, folding events instead: {error}")
            }
        }
    }
    None
}

/// Snapshots looked at per load before falling back to the events.
const SNAPSHOTS_CONSIDERED: usize = 3;

async fn instant_note(store: &dyn EventStore, stream: &StreamId, instant: DateTime<Utc>) -> Result<String, CommandError> {
    let first = store.read_stream(stream, &StreamRange { from_version: Some(1), to_version: Some(1), limit: Some(1) }).await?;
    Ok(match first.first() {
        Some(event) => format!(
            "{} is before the stream's first event ({}); this is the initial state",
            crate::time::format_rfc3339(&instant),
            crate::time::format_rfc3339(&event.timestamp)
        ),
        None => format!("stream {stream} has no events; this is the initial state"),
    })
}

/// A stream's events in a version range, upcast by the context's chains.
async fn read_events(context: &LoadContext<'_>, stream: &StreamId, from: u64, to: u64) -> Result<Vec<RecordedEvent>, CommandError> {
    let range = StreamRange { from_version: Some(from), to_version: (to != u64::MAX).then_some(to), limit: None };
    Ok(Reader::pinned(context.store.clone(), context.chains.clone()).stream(stream, &range).await?)
}

/// Folds `events` onto `state` (or the initial state), one plugin call per
/// batch bounded by count and bytes (`plugins::calls::batches`), each
/// admitted by the plugin's gate.
pub(super) async fn fold_events(
    plugin: &Arc<AggregatePlugin>,
    state: Option<JsonText>,
    aggregate_id: &str,
    events: Vec<RecordedEvent>,
) -> Result<JsonText, CommandError> {
    crate::plugins::calls::fold(plugin, state, aggregate_id, Arc::new(events)).await.map_err(CommandError::from_plugin)
}

/// Folds events this process just appended into the cached state, and
/// snapshots in the background when they pass a snapshot boundary. A
/// failure only drops the cache entry: the next load reads the stream.
pub(super) async fn advance(
    context: &LoadContext<'_>,
    stream: &StreamId,
    before: &AggregateState,
    appended: &[RecordedEvent],
) {
    let Some(last) = appended.last() else { return };
    // A later load would fold these events upcast, so the cache must too.
    let Ok(appended) = crate::migrate::upcast_events(&context.chains, appended.to_vec()).await else {
        context.cache.forget(stream);
        return;
    };
    let count = appended.len() as u64;
    match fold_events(context.plugin, Some(before.state.clone()), &stream.aggregate_id, appended).await {
        Ok(state) => {
            let mut after = context.state(stream, last.stream_version, state);
            after.events_applied = count;
            remember(context, stream, before.stream_version, &after);
        }
        Err(_) => context.cache.forget(stream),
    }
}

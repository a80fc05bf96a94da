//! Loading an aggregate's state: fold its stream through the plugin's
//! `apply`, starting from the newest state this process already computed
//! for the same plugin build.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::CommandError;
use crate::event::StreamId;
use crate::json::JsonText;
use crate::runtime::AggregatePlugin;
use crate::store::{EventStore, PluginVersionRecord, StreamRange};

/// Events per `apply` call: large enough to amortize the boundary, small
/// enough that one call stays far inside the CPU limit.
const APPLY_BATCH: usize = 1_000;

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

pub(super) async fn load(
    store: &dyn EventStore,
    cache: &StateCache,
    plugin: &Arc<AggregatePlugin>,
    record: &PluginVersionRecord,
    stream: &StreamId,
    freshness: Freshness,
) -> Result<Loaded, CommandError> {
    let cached = cache.get(stream, plugin.content_hash());
    if let (Freshness::Optimistic, Some((stream_version, state))) = (freshness, &cached) {
        let state = AggregateState {
            aggregate_type: stream.aggregate_type.clone(),
            aggregate_id: stream.aggregate_id.clone(),
            stream_version: *stream_version,
            state: state.clone(),
            plugin: record.name.clone(),
            plugin_version: record.version,
        };
        return Ok(Loaded { state, from_unread_cache: true });
    }
    let from_version = cached.as_ref().map_or(0, |(version, _)| *version) + 1;
    let events =
        store.read_stream(stream, &StreamRange { from_version: Some(from_version), ..StreamRange::default() }).await?;
    let (stream_version, state) = match (cached, events.last()) {
        (Some((version, state)), None) => (version, state),
        (cached, last) => {
            let stream_version = last.map_or(0, |event| event.stream_version);
            let plugin = plugin.clone();
            let aggregate_id = stream.aggregate_id.clone();
            let state = tokio::task::spawn_blocking(move || {
                let mut state = match cached {
                    Some((_, state)) => state,
                    None => plugin.initial_state(&aggregate_id)?,
                };
                for batch in events.chunks(APPLY_BATCH) {
                    state = plugin.apply(&state, batch)?;
                }
                Ok::<_, crate::runtime::PluginCallError>(state)
            })
            .await
            .expect("apply does not panic")
            .map_err(CommandError::from_plugin)?;
            cache.put(stream, &record.content_hash, stream_version, &state);
            (stream_version, state)
        }
    };
    let state = AggregateState {
        aggregate_type: stream.aggregate_type.clone(),
        aggregate_id: stream.aggregate_id.clone(),
        stream_version,
        state,
        plugin: record.name.clone(),
        plugin_version: record.version,
    };
    Ok(Loaded { state, from_unread_cache: false })
}

/// Folds events this process just appended into the cached state. A failure
/// only drops the cache entry: the next load reads the stream.
pub(super) async fn advance(
    cache: &StateCache,
    plugin: &Arc<AggregatePlugin>,
    record: &PluginVersionRecord,
    stream: &StreamId,
    state: JsonText,
    appended: &[crate::event::RecordedEvent],
) {
    let Some(last) = appended.last() else { return };
    let stream_version = last.stream_version;
    let plugin = plugin.clone();
    let events = appended.to_vec();
    let folded = tokio::task::spawn_blocking(move || plugin.apply(&state, &events)).await;
    match folded {
        Ok(Ok(state)) => cache.put(stream, &record.content_hash, stream_version, &state),
        _ => cache.forget(stream),
    }
}

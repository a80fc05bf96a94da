//! The one way to read events: a [`Reader`] is the store joined to the
//! migration chains, so every event it hands out is upcast to the newest
//! schema version the active migrators reach. Front ends (the CLI, HTTP,
//! SSE) and the library's own readers (state loads, replay) all read
//! through it; `Reader::raw` is the one explicit way to see events as
//! stored (`--raw`).
//!
//! Invariant: a read keeps the chains it started with, so a migrator
//! swapped in halfway never changes one page or one fold midway.

use std::sync::Arc;


use futures::{Stream, StreamExt};
use serde::Serialize;
use uuid::Uuid;

use crate::event::{RecordedEvent, StreamId};
use crate::json::JsonText;
use crate::migrate::{upcast_events, MigrationChains, UpcastError};
use crate::plugins::{PluginHost, PluginHostError};
use crate::runtime::{PluginKind, PluginLoadError, PluginRuntime, RuntimeConfig};
use crate::store::{follow_log, EventStore, LogFilter, StoreError, StreamRange};

/// Where a reader's migration chains come from.
#[derive(Clone)]
enum Upcasting {
    /// Events as stored.
    Raw,
    /// One set of chains for every read: a replay run, one state load.
    Pinned(Arc<MigrationChains>),
    /// The chains active at the start of each read, so hot-added migrators
    /// apply to the next read (servers, `log --follow`).
    Live(Arc<PluginHost>),
}

#[derive(Clone)]
pub struct Reader {
    store: Arc<dyn EventStore>,
    upcasting: Upcasting,
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}; add --raw to see them as stored")]
    Upcast(#[from] UpcastError),
    #[error(transparent)]
    Plugins(#[from] PluginHostError),
    #[error("the plugin runtime cannot start: {0}")]
    Runtime(#[from] PluginLoadError),
}

impl crate::Classified for ReadError {
    fn kind(&self) -> crate::ErrorKind {
        match self {
            ReadError::Store(error) => error.kind(),
            ReadError::Upcast(error) => error.kind(),
            ReadError::Plugins(error) => error.kind(),
            ReadError::Runtime(_) => crate::ErrorKind::Internal,
        }
    }
}

impl Reader {
    /// Events exactly as stored.
    pub fn raw(store: Arc<dyn EventStore>) -> Self {
        Self { store, upcasting: Upcasting::Raw }
    }

    /// Upcast by `chains`, whatever the registry does meanwhile.
    pub fn pinned(store: Arc<dyn EventStore>, chains: Arc<MigrationChains>) -> Self {
        Self { store, upcasting: Upcasting::Pinned(chains) }
    }

    /// Upcast by the migrators active at the start of each read.
    pub fn live(plugins: &Arc<PluginHost>) -> Self {
        Self { store: plugins.store().clone(), upcasting: Upcasting::Live(plugins.clone()) }
    }

    /// For one-shot front ends (`cairn read`, `cairn log`): upcast by the
    /// store's active migrators. When there are none, and `follow` is off so
    /// that none can arrive, no plugin runtime is started at all.
    pub async fn open(store: Arc<dyn EventStore>, runtime: RuntimeConfig, follow: bool) -> Result<Self, ReadError> {
        let has_migrators = store.active_plugin_versions().await?.iter().any(|record| record.kind == PluginKind::Migrator.as_str());
        if !has_migrators && !follow {
            return Ok(Self::pinned(store, Arc::new(MigrationChains::default())));
        }
        let runtime = PluginRuntime::new(runtime)?;
        let plugins = PluginHost::open(store, runtime, false).await?;
        if follow {
            // The watcher lives as long as the host, which the reader keeps.
            plugins.watch(crate::plugins::DEFAULT_REFRESH_INTERVAL);
        }
        Ok(Self::live(&plugins))
    }

    pub fn store(&self) -> &Arc<dyn EventStore> {
        &self.store
    }

    /// The chains one read uses; `None` reads as stored.
    async fn chains(&self) -> Result<Option<Arc<MigrationChains>>, ReadError> {
        Ok(match &self.upcasting {
            Upcasting::Raw => None,
            Upcasting::Pinned(chains) => Some(chains.clone()),
            Upcasting::Live(plugins) => Some(plugins.migration_chains().await?),
        })
    }

    async fn upcast(&self, chains: Option<Arc<MigrationChains>>, events: Vec<RecordedEvent>) -> Result<Vec<RecordedEvent>, ReadError> {
        match chains {
            Some(chains) => Ok(upcast_events(&chains, events).await?),
            None => Ok(events),
        }
    }

    /// Events of one stream in version order.
    pub async fn stream(&self, stream: &StreamId, range: &StreamRange) -> Result<Vec<RecordedEvent>, ReadError> {
        let chains = self.chains().await?;
        let events = self.store.read_stream(stream, range).await?;
        self.upcast(chains, events).await
    }

    /// Up to `limit` events after `after_position` that match `filter`.
    pub async fn log(&self, filter: &LogFilter, after_position: u64, limit: usize) -> Result<Vec<RecordedEvent>, ReadError> {
        let chains = self.chains().await?;
        let events = self.store.read_log(filter, after_position, limit).await?;
        self.upcast(chains, events).await
    }

    pub async fn event(&self, id: Uuid) -> Result<Option<RecordedEvent>, ReadError> {
        let chains = self.chains().await?;
        match self.store.event_by_id(id).await? {
            Some(event) => Ok(self.upcast(chains, vec![event]).await?.pop()),
            None => Ok(None),
        }
    }

    /// Every matching event after `after_position`, then each new one as it
    /// is committed, forever; each upcast with the chains current when it
    /// is read.
    pub fn follow(
        &self,
        filter: LogFilter,
        after_position: u64,
        page_size: usize,
    ) -> impl Stream<Item = Result<RecordedEvent, ReadError>> + Send + 'static {
        let reader = self.clone();
        follow_log(self.store.clone(), filter, after_position, page_size).then(move |event| {
            let reader = reader.clone();
            async move {
                let event = event?;
                let chains = reader.chains().await?;
                Ok(reader.upcast(chains, vec![event]).await?.remove(0))
            }
        })
    }

    /// One page of a stream's audit trail: who changed it, when, what and
    /// why, as readers see the events (upcast).
    pub async fn audit(&self, stream: &StreamId, query: &AuditQuery, after_position: u64, limit: usize) -> Result<AuditPage, ReadError> {
        let filter = LogFilter {
            event_types: query.event_types.clone(),
            aggregate_types: vec![stream.aggregate_type.clone()],
            aggregate_id: Some(stream.aggregate_id.clone()),
            correlation_id: query.correlation_id.clone(),
            user_id: query.user_id.clone(),
            since: query.since,
            until: query.until,
            ..LogFilter::default()
        };
        let events = self.log(&filter, after_position, limit).await?;
        let next_after = (events.len() == limit).then(|| events.last().map(|event| event.global_position)).flatten();
        Ok(AuditPage { entries: events.into_iter().map(AuditEntry::from).collect(), next_after })
    }
}

/// Which changes an audit trail lists; empty fields mean any.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    pub user_id: Option<String>,
    pub correlation_id: Option<String>,
    pub event_types: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// The position to continue after, when the page was full.
    pub next_after: Option<u64>,
}

/// One change: one event, as readers see it.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry {
    pub stream_version: u64,
    pub global_position: u64,
    pub event_id: Uuid,
    #[serde(with = "crate::time::rfc3339_micros")]
    pub at: chrono::DateTime<chrono::Utc>,
    pub user_id: Option<String>,
    pub source: Option<String>,
    pub event_type: String,
    pub schema_version: String,
    pub payload: JsonText,
    pub correlation_id: Option<String>,
    pub causation_id: Option<String>,
}

impl From<RecordedEvent> for AuditEntry {
    fn from(event: RecordedEvent) -> Self {
        Self {
            stream_version: event.stream_version,
            global_position: event.global_position,
            event_id: event.id,
            at: event.timestamp,
            user_id: event.user_id,
            source: event.source,
            event_type: event.event_type,
            schema_version: event.schema_version,
            payload: event.payload,
            correlation_id: event.correlation_id,
            causation_id: event.causation_id,
        }
    }
}

impl AuditEntry {
    /// Who made the change: the user, the source, or both.
    pub fn who(&self) -> String {
        match (&self.user_id, &self.source) {
            (Some(user), Some(source)) => format!("{user} via {source}"),
            (Some(user), None) => user.clone(),
            (None, Some(source)) => format!("via {source}"),
            (None, None) => "unknown".to_owned(),
        }
    }

    /// Why: the command and correlation that led to it.
    pub fn why(&self) -> String {
        match (&self.correlation_id, &self.causation_id) {
            // A command that started its own correlation: one id says it all.
            (Some(correlation), Some(causation)) if correlation == causation => format!("command {causation}"),
            (correlation, causation) => {
                let mut why = Vec::new();
                if let Some(correlation) = correlation {
                    why.push(format!("correlation {correlation}"));
                }
                if let Some(causation) = causation {
                    why.push(format!("caused by {causation}"));
                }
                why.join(", ")
            }
        }
    }
}

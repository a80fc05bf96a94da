//! What `cairn migrate` and `cairn stream migrate` do with the chains:
//! check that stored versions can reach the newest, run the chains over the
//! whole log without writing, and copy a stream into a new one, upcast.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use super::{upcast_events, MigrationChains, UpcastError};
use crate::event::{AppendRequest, ExpectedVersion, NewEvent, RecordedEvent, StreamId};
use crate::json::JsonText;
use crate::store::{EventStore, LogFilter, StoreError, StreamRange};

/// One (event type, stored version) and where the chains take it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionCheck {
    pub event_type: String,
    pub schema_version: String,
    pub events: u64,
    /// Where the chains take events of this version.
    pub reaches: String,
    /// The newest version known for the type: from the chains, or stored.
    pub newest: String,
    pub ok: bool,
}

/// Every stored (event type, version) with whether it reaches the newest
/// version known for its type.
pub async fn check(store: &dyn EventStore, chains: &MigrationChains) -> Result<Vec<VersionCheck>, StoreError> {
    let counts = store.count_by_type_and_version().await?;
    let mut newest: BTreeMap<&str, &str> = BTreeMap::new();
    for (event_type, version, _) in &counts {
        let candidate = chains.newest_version(event_type).map_or(version.as_str(), |known| newer(known, version));
        let entry = newest.entry(event_type).or_insert(candidate);
        *entry = newer(entry, candidate);
    }
    Ok(counts
        .iter()
        .map(|(event_type, version, events)| {
            let reaches = chains.reachable_version(event_type, version).to_owned();
            let newest = newest[event_type.as_str()].to_owned();
            VersionCheck {
                event_type: event_type.clone(),
                schema_version: version.clone(),
                events: *events,
                ok: reaches == newest,
                reaches,
                newest,
            }
        })
        .collect())
}

fn newer<'a>(left: &'a str, right: &'a str) -> &'a str {
    match (super::SchemaVersion::parse(left), super::SchemaVersion::parse(right)) {
        (Ok(a), Ok(b)) if b > a => right,
        (Err(_), Ok(_)) => right,
        _ => left,
    }
}

/// Per (event type, stored version): how a dry run went.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DryRunRow {
    pub event_type: String,
    pub schema_version: String,
    pub events: u64,
    pub upcast: u64,
    pub failed: u64,
    /// The first few failures, each naming the event, the migrator and the step.
    pub first_errors: Vec<String>,
}

/// Errors kept per row of a dry run.
const ERRORS_KEPT: usize = 3;
const DRY_RUN_PAGE: usize = 1_000;

/// Runs the chains over every event (of `event_type`, if given) and counts
/// what would be upcast and what would fail. Writes nothing. `progress` gets
/// the position reached and the head.
pub async fn dry_run(
    store: &dyn EventStore,
    chains: &Arc<MigrationChains>,
    event_type: Option<&str>,
    mut progress: impl FnMut(u64, u64),
) -> Result<Vec<DryRunRow>, StoreError> {
    let filter = LogFilter { event_types: event_type.map(|name| vec![name.to_owned()]).unwrap_or_default(), ..LogFilter::default() };
    let head = store.head_position().await?;
    let mut rows: BTreeMap<(String, String), DryRunRow> = BTreeMap::new();
    let mut after = 0;
    loop {
        let page = store.read_log(&LogFilter { to_position: Some(head), ..filter.clone() }, after, DRY_RUN_PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.global_position;
        // A whole page at once; if any event fails, each event alone, to count exactly.
        let outcomes: Vec<Result<RecordedEvent, UpcastError>> = match upcast_events(chains, page.clone()).await {
            Ok(upcast) => upcast.into_iter().map(Ok).collect(),
            Err(_) => {
                let mut outcomes = Vec::with_capacity(page.len());
                for event in &page {
                    outcomes.push(upcast_events(chains, vec![event.clone()]).await.map(|mut one| one.remove(0)));
                }
                outcomes
            }
        };
        for (original, outcome) in page.iter().zip(outcomes) {
            let row = rows.entry((original.event_type.clone(), original.schema_version.clone())).or_insert_with(|| DryRunRow {
                event_type: original.event_type.clone(),
                schema_version: original.schema_version.clone(),
                ..DryRunRow::default()
            });
            row.events += 1;
            match outcome {
                Ok(upcast) if upcast.schema_version != original.schema_version => row.upcast += 1,
                Ok(_) => {}
                Err(error) => {
                    row.failed += 1;
                    if row.first_errors.len() < ERRORS_KEPT {
                        row.first_errors.push(format!("{error}: {}", error.reason));
                    }
                }
            }
        }
        progress(after, head);
    }
    Ok(rows.into_values().collect())
}

/// Why a stream could not be copied.
#[derive(Debug, thiserror::Error)]
pub enum StreamMigrationError {
    #[error("stream {0} has no events to migrate")]
    EmptySource(StreamId),
    #[error("the source and the target are the same stream, {0}; choose a new aggregate type or id")]
    SameStream(StreamId),
    #[error(transparent)]
    Upcast(#[from] UpcastError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::Classified for StreamMigrationError {
    fn kind(&self) -> crate::ErrorKind {
        match self {
            StreamMigrationError::EmptySource(_) => crate::ErrorKind::NotFound,
            StreamMigrationError::SameStream(_) => crate::ErrorKind::Invalid,
            StreamMigrationError::Upcast(error) => crate::Classified::kind(error),
            StreamMigrationError::Store(error) => crate::Classified::kind(error),
        }
    }
}

/// Copies every event of `source` into the new stream `target`, upcast,
/// with its original timestamp, correlation, causation, user and source.
/// Each copy's metadata gains `migrated_from`: the original's id, stream,
/// version and schema version. The target must not exist yet; nothing is
/// deleted, and the copy is one atomic append.
pub async fn migrate_stream(
    store: &dyn EventStore,
    chains: &Arc<MigrationChains>,
    source: &StreamId,
    target: &StreamId,
) -> Result<Vec<RecordedEvent>, StreamMigrationError> {
    if source == target {
        return Err(StreamMigrationError::SameStream(source.clone()));
    }
    let originals = store.read_stream(source, &StreamRange::default()).await?;
    if originals.is_empty() {
        return Err(StreamMigrationError::EmptySource(source.clone()));
    }
    let upcast = upcast_events(chains, originals.clone()).await?;
    let copies = originals
        .iter()
        .zip(upcast)
        .map(|(original, event)| {
            let mut metadata = event.metadata.to_value();
            metadata["migrated_from"] = serde_json::json!({
                "event_id": original.id,
                "aggregate_type": original.aggregate_type,
                "aggregate_id": original.aggregate_id,
                "stream_version": original.stream_version,
                "schema_version": original.schema_version,
            });
            NewEvent {
                schema_version: event.schema_version,
                timestamp: Some(original.timestamp),
                metadata: JsonText::from_value(&metadata),
                correlation_id: event.correlation_id,
                causation_id: event.causation_id,
                user_id: event.user_id,
                source: event.source,
                ..NewEvent::new(&target.aggregate_type, &target.aggregate_id, event.event_type, event.payload)
            }
        })
        .collect();
    Ok(store.append(AppendRequest::to_stream(ExpectedVersion::NoStream, copies)).await?.events)
}

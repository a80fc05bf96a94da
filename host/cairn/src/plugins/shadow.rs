//! A shadow run (`cairn plugin try`): a candidate version run over history
//! beside the active one, and the differences reported. It writes nothing:
//! the candidate is compiled and loaded in this process only, and the
//! store is only read.
//!
//! For an aggregate (a migrator's half is `shadow_migrator.rs`, a
//! handler's `replay/shadow.rs`), every stream of its type (or the first `limit`) is
//! folded with both versions from its first event (snapshots are the
//! active version's, so they are not used). A stream whose final states
//! differ, or that one version fails to fold, is folded again one event at
//! a time to name the first event after which the two disagree.

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use super::calls::fold;
use super::shadow_migrator::MigratorShadowReport;
use super::{PluginHost, PluginHostError, PluginSource};
use crate::event::{RecordedEvent, StreamId};
use crate::json::JsonText;
use crate::read::{ReadError, Reader};
use crate::replay::HandlerShadowReport;
use crate::runtime::{AggregatePlugin, LoadedPlugin};
use crate::store::StreamRange;

/// Streams listed per page while walking an aggregate type.
const STREAM_PAGE: usize = 1_000;

#[derive(Debug, Serialize)]
pub struct AggregateShadowReport {
    pub aggregate_type: String,
    pub active_version: u64,
    pub streams_compared: u64,
    pub events_folded: u64,
    /// Streams where the two versions disagree, in stream order.
    pub differing: Vec<StreamDifference>,
}

#[derive(Debug, Serialize)]
pub struct StreamDifference {
    pub aggregate_id: String,
    /// The first stream version after which the states differ (or one
    /// version failed); None when the difference is in the initial state.
    pub first_diverging_version: Option<u64>,
    pub first_diverging_event_type: Option<String>,
    /// Where the final states differ, as JSON pointers with both values.
    pub differences: Vec<ValueDifference>,
    /// A version that failed to fold the stream, and why.
    pub active_error: Option<String>,
    pub candidate_error: Option<String>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct ValueDifference {
    pub path: String,
    pub active: Option<Value>,
    pub candidate: Option<Value>,
}

/// What a shadow run found, by the candidate's kind.
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ShadowReport {
    Aggregate(AggregateShadowReport),
    Migrator(MigratorShadowReport),
    Handler(HandlerShadowReport),
}

impl ShadowReport {
    /// How many streams (aggregates), events (migrators), or documents and
    /// newly failing events (handlers) differ.
    pub fn differing(&self) -> usize {
        match self {
            ShadowReport::Aggregate(report) => report.differing.len(),
            ShadowReport::Migrator(report) => report.differing.len(),
            ShadowReport::Handler(report) => report.differing.len() + report.failures.len(),
        }
    }
}

impl PluginHost {
    /// Runs `source`, a candidate component, over stored history beside the
    /// active plugins: an aggregate against the active version of
    /// `aggregate_type` (default: its own), a migrator or a handler in place
    /// of the active one of the name `plugin add` would give it. `limit`
    /// bounds the streams or events compared (a handler's read model is
    /// compared whole); `progress` hears (done, total when known, else 0).
    /// A version failing on some history is a difference, not an error; a
    /// store or read failure is.
    pub async fn shadow(self: &Arc<Self>, source: PluginSource, aggregate_type: Option<&str>, limit: Option<usize>, progress: &(dyn Fn(u64, u64) + Sync)) -> Result<ShadowReport, ReadError> {
        let (name, candidate) = self.load_candidate(source).await?;
        match candidate {
            LoadedPlugin::Aggregate(candidate) => Ok(ShadowReport::Aggregate(self.shadow_aggregate(candidate, aggregate_type, limit, progress).await?)),
            LoadedPlugin::Migrator(candidate) => Ok(ShadowReport::Migrator(self.shadow_migrator(&name, candidate, limit, progress).await?)),
            LoadedPlugin::Handler(_) if limit.is_some() => Err(PluginHostError::ShadowLimitOnHandler.into()),
            LoadedPlugin::Handler(candidate) => Ok(ShadowReport::Handler(crate::replay::shadow_handler(self, &name, candidate, progress).await?)),
        }
    }

    /// The check before adding `source` as a new version: its shadow run,
    /// or None when there is nothing to compare it with: no active version
    /// serves its aggregate type, no handler of its name is active, or the
    /// active one has no live read model yet. A new migrator is compared
    /// with the chains without it.
    pub async fn shadow_before_adding(self: &Arc<Self>, source: PluginSource, progress: &(dyn Fn(u64, u64) + Sync)) -> Result<Option<ShadowReport>, ReadError> {
        match self.shadow(source, None, None, progress).await {
            Ok(report) => Ok(Some(report)),
            Err(ReadError::Plugins(PluginHostError::UnknownAggregateType { .. } | PluginHostError::UnknownHandler { .. } | PluginHostError::NothingToCompare { .. })) => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn shadow_aggregate(self: &Arc<Self>, candidate: Arc<AggregatePlugin>, aggregate_type: Option<&str>, limit: Option<usize>, progress: &(dyn Fn(u64, u64) + Sync)) -> Result<AggregateShadowReport, ReadError> {
        let aggregate_type = aggregate_type.map(str::to_owned).unwrap_or_else(|| candidate.info().aggregate_type.clone());
        let (active, record) = self.aggregate(&aggregate_type).await?;
        let streams = self.streams_to_compare(&aggregate_type, limit).await?;
        let reader = Reader::live(self);
        let mut report = AggregateShadowReport { aggregate_type: aggregate_type.clone(), active_version: record.version, streams_compared: 0, events_folded: 0, differing: Vec::new() };
        for aggregate_id in &streams {
            let stream = StreamId::new(&aggregate_type, aggregate_id);
            let events = reader.stream(&stream, &StreamRange::default()).await?;
            report.events_folded += events.len() as u64;
            if let Some(difference) = compare_stream(&active, &candidate, aggregate_id, events).await {
                report.differing.push(difference);
            }
            report.streams_compared += 1;
            progress(report.streams_compared, streams.len() as u64);
        }
        Ok(report)
    }

    /// The candidate compiled and loaded in this process only, with the
    /// name `plugin add` would register it under.
    async fn load_candidate(&self, source: PluginSource) -> Result<(String, LoadedPlugin), PluginHostError> {
        let (runtime, provisional_name, bytes) = (self.runtime().clone(), source.provisional_name(), source.bytes.clone());
        let load_name = provisional_name.clone();
        let loaded = crate::plugins::calls::run_blocking(move || {
            let compiled = runtime.compile(&bytes)?;
            runtime.load(&load_name, &compiled)
        })
        .await
        .map_err(|error| PluginHostError::Refused { name: provisional_name, source: error })?;
        Ok((source.registry_name(&loaded)?, loaded))
    }

    async fn streams_to_compare(&self, aggregate_type: &str, limit: Option<usize>) -> Result<Vec<String>, PluginHostError> {
        let wanted = limit.unwrap_or(usize::MAX);
        let mut streams = Vec::new();
        let mut after = String::new();
        while streams.len() < wanted {
            let page = self.store().streams_of_type(aggregate_type, &after, STREAM_PAGE.min(wanted - streams.len())).await?;
            let Some((last, _)) = page.last() else { break };
            after = last.clone();
            streams.extend(page.into_iter().map(|(aggregate_id, _)| aggregate_id));
        }
        Ok(streams)
    }
}

/// Folds one stream with both versions; the difference, if any.
async fn compare_stream(active: &Arc<AggregatePlugin>, candidate: &Arc<AggregatePlugin>, aggregate_id: &str, events: Vec<RecordedEvent>) -> Option<StreamDifference> {
    let events = Arc::new(events);
    let (ours, theirs) = (fold(active, None, aggregate_id, events.clone()).await, fold(candidate, None, aggregate_id, events.clone()).await);
    if let (Ok(ours), Ok(theirs)) = (&ours, &theirs) {
        if ours.same_json_as(theirs) {
            return None;
        }
    }
    let (first_diverging_version, first_diverging_event_type) = first_divergence(active, candidate, aggregate_id, &events).await;
    let differences = match (&ours, &theirs) {
        (Ok(ours), Ok(theirs)) => diff_values(&ours.to_value(), &theirs.to_value()),
        _ => Vec::new(),
    };
    Some(StreamDifference {
        aggregate_id: aggregate_id.to_owned(),
        first_diverging_version,
        first_diverging_event_type,
        differences,
        active_error: ours.err().map(|error| error.to_string()),
        candidate_error: theirs.err().map(|error| error.to_string()),
    })
}

/// The first event after which the two versions' states differ, or one of
/// them fails; (None, None) when they differ from the initial state on.
async fn first_divergence(active: &Arc<AggregatePlugin>, candidate: &Arc<AggregatePlugin>, aggregate_id: &str, events: &Arc<Vec<RecordedEvent>>) -> (Option<u64>, Option<String>) {
    let (mut ours, mut theirs) = (fold(active, None, aggregate_id, Arc::new(Vec::new())).await, fold(candidate, None, aggregate_id, Arc::new(Vec::new())).await);
    if !same_outcome(&ours, &theirs) {
        return (None, None);
    }
    for event in events.iter() {
        let one = Arc::new(vec![event.clone()]);
        ours = match ours {
            Ok(state) => fold(active, Some(state), aggregate_id, one.clone()).await,
            failed => failed,
        };
        theirs = match theirs {
            Ok(state) => fold(candidate, Some(state), aggregate_id, one).await,
            failed => failed,
        };
        if !same_outcome(&ours, &theirs) {
            return (Some(event.stream_version), Some(event.event_type.clone()));
        }
    }
    (None, None)
}

fn same_outcome<E>(ours: &Result<JsonText, E>, theirs: &Result<JsonText, E>) -> bool {
    match (ours, theirs) {
        (Ok(ours), Ok(theirs)) => ours.same_json_as(theirs),
        (Err(_), Err(_)) => true,
        _ => false,
    }
}

/// Where two JSON values differ, as JSON pointers (RFC 6901), objects
/// compared key by key and arrays index by index.
pub fn diff_values(active: &Value, candidate: &Value) -> Vec<ValueDifference> {
    let mut differences = Vec::new();
    diff_at(String::new(), Some(active), Some(candidate), &mut differences);
    differences
}

fn diff_at(path: String, active: Option<&Value>, candidate: Option<&Value>, differences: &mut Vec<ValueDifference>) {
    match (active, candidate) {
        (Some(Value::Object(ours)), Some(Value::Object(theirs))) => {
            let mut keys: Vec<&String> = ours.keys().chain(theirs.keys().filter(|key| !ours.contains_key(*key))).collect();
            keys.sort();
            for key in keys {
                let escaped = key.replace('~', "~0").replace('/', "~1");
                diff_at(format!("{path}/{escaped}"), ours.get(key), theirs.get(key), differences);
            }
        }
        (Some(Value::Array(ours)), Some(Value::Array(theirs))) => {
            for index in 0..ours.len().max(theirs.len()) {
                diff_at(format!("{path}/{index}"), ours.get(index), theirs.get(index), differences);
            }
        }
        (ours, theirs) if ours != theirs => differences.push(ValueDifference { path, active: ours.cloned(), candidate: theirs.cloned() }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::{diff_values, ValueDifference};
    use serde_json::json;

    #[test]
    fn a_diff_names_each_changed_added_and_removed_leaf_by_its_pointer() {
        let active = json!({"balance": 5000, "owner": "Ann", "tags": ["a", "b"], "a/b": 1});
        let candidate = json!({"balance": 1000, "owner": "Ann", "tags": ["a"], "closed": true, "a/b": 1});
        assert_eq!(
            diff_values(&active, &candidate),
            vec![
                ValueDifference { path: "/balance".into(), active: Some(json!(5000)), candidate: Some(json!(1000)) },
                ValueDifference { path: "/closed".into(), active: None, candidate: Some(json!(true)) },
                ValueDifference { path: "/tags/1".into(), active: Some(json!("b")), candidate: None },
            ]
        );
        assert!(diff_values(&json!({"x": 1, "y": 2}), &json!({"y": 2, "x": 1})).is_empty(), "key order is no difference");
        assert_eq!(diff_values(&json!(1), &json!("1"))[0].path, "", "a whole-value change has the empty pointer");
    }
}

//! Upcasting: events are read as stored and handed on at the newest schema
//! version the active migrators reach. Stored events never change.
//!
//! Invariants:
//! - Every step goes strictly up in version, so chains cannot loop, and at
//!   most one step leaves any (event type, version).
//! - Only events that have a step cross the plugin boundary, grouped per
//!   migrator; an event without a step passes through untouched.
//! - A failed step fails the read, naming the event, the migrator and the
//!   step; the old payload is never passed on in its place.

mod tools;
mod version;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde::Serialize;

pub use tools::{check, dry_run, migrate_stream, DryRunRow, StreamMigrationError, VersionCheck};
pub use version::SchemaVersion;

use crate::event::RecordedEvent;
use crate::runtime::types::MigrationStep;
use crate::runtime::{MigratorPlugin, PluginCallError};

/// Why a set of migrators cannot be chained.
pub fn chain_problems(migrators: &[(String, Vec<MigrationStep>)]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut from: HashMap<(&str, &str), &str> = HashMap::new();
    for (name, steps) in migrators {
        for step in steps {
            let label = format!("{name}'s step {} {} → {}", step.event_type, step.from_version, step.to_version);
            match (SchemaVersion::parse(&step.from_version), SchemaVersion::parse(&step.to_version)) {
                (Ok(low), Ok(high)) if high <= low => {
                    problems.push(format!("{label} does not go up; a step's to-version must be greater than its from-version, which also rules out cycles"))
                }
                (Ok(_), Ok(_)) => {}
                (Err(problem), _) | (_, Err(problem)) => problems.push(format!("{label}: {problem}")),
            }
            if let Some(other) = from.insert((&step.event_type, &step.from_version), name) {
                problems.push(format!(
                    "{other} and {name} both migrate {} from version {}; remove one of them first",
                    step.event_type, step.from_version
                ));
            }
        }
    }
    problems
}

/// A step of the chain: which migrator, and the version it produces.
struct Step {
    migrator: usize,
    to_version: String,
}

/// One migrator's counts, for the metrics endpoint.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct MigratorCounts {
    pub migrator: String,
    pub upcast: u64,
    pub failed: u64,
}

#[derive(Default)]
struct Counters {
    upcast: AtomicU64,
    failed: AtomicU64,
}

/// The upcasting chains of every active migrator. Cheap to share; a read
/// keeps the `Arc` it started with, so a swap never changes a read midway.
#[derive(Default)]
pub struct MigrationChains {
    migrators: Vec<Arc<MigratorPlugin>>,
    counters: Vec<Counters>,
    /// Event type, then from-version: looked up by `&str`, without building
    /// a key per event on the read path.
    steps: HashMap<String, HashMap<String, Step>>,
    /// Per event type, the newest version any step produces or reads.
    newest: BTreeMap<String, String>,
}

/// A failed upcast: which event, which migrator and step, and why.
#[derive(Debug, thiserror::Error)]
#[error("cannot upcast event {event_id} ({event_type} {from_version} → {to_version}) with migrator {migrator}: {reason}")]
pub struct UpcastError {
    pub event_id: uuid::Uuid,
    pub event_type: String,
    pub from_version: String,
    pub to_version: String,
    pub migrator: String,
    #[source]
    pub reason: PluginCallError,
}

/// A migrator failing on a stored event is a fault of that migrator, not of
/// the reader's request.
impl crate::Classified for UpcastError {
    fn kind(&self) -> crate::ErrorKind {
        crate::ErrorKind::Internal
    }
}

impl MigrationChains {
    /// Chains the migrators' steps, or says every reason it cannot.
    pub fn build(migrators: Vec<Arc<MigratorPlugin>>) -> Result<Self, Vec<String>> {
        let declared: Vec<(String, Vec<MigrationStep>)> =
            migrators.iter().map(|plugin| (plugin.name().to_owned(), plugin.steps().to_vec())).collect();
        let problems = chain_problems(&declared);
        if !problems.is_empty() {
            return Err(problems);
        }
        let mut chains = MigrationChains::default();
        for (index, plugin) in migrators.iter().enumerate() {
            for step in plugin.steps() {
                chains.steps.entry(step.event_type.clone()).or_default().insert(
                    step.from_version.clone(),
                    Step { migrator: index, to_version: step.to_version.clone() },
                );
                for version in [&step.from_version, &step.to_version] {
                    let newest = chains.newest.entry(step.event_type.clone()).or_insert_with(|| version.clone());
                    if SchemaVersion::parse(version).ok() > SchemaVersion::parse(newest).ok() {
                        *newest = version.clone();
                    }
                }
            }
        }
        chains.counters = migrators.iter().map(|_| Counters::default()).collect();
        chains.migrators = migrators;
        Ok(chains)
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    fn step(&self, event_type: &str, version: &str) -> Option<&Step> {
        self.steps.get(event_type)?.get(version)
    }

    /// The newest version the chains know for an event type.
    pub fn newest_version(&self, event_type: &str) -> Option<&str> {
        self.newest.get(event_type).map(String::as_str)
    }

    /// The version an event at `version` ends at after every step.
    pub fn reachable_version<'a>(&'a self, event_type: &str, mut version: &'a str) -> &'a str {
        while let Some(step) = self.step(event_type, version) {
            version = &step.to_version;
        }
        version
    }

    pub fn counts(&self) -> Vec<MigratorCounts> {
        self.migrators
            .iter()
            .zip(&self.counters)
            .map(|(plugin, counters)| MigratorCounts {
                migrator: plugin.name().to_owned(),
                upcast: counters.upcast.load(Ordering::Relaxed),
                failed: counters.failed.load(Ordering::Relaxed),
            })
            .collect()
    }
}

/// Upcasts every event as far as the chains go, round after round; in each
/// round every migrator gets the events that have a step of its own, in one
/// call, holding no async worker, once its gate admits it. Most reads meet no
/// event with a step and never leave this task.
pub async fn upcast_events(chains: &Arc<MigrationChains>, mut events: Vec<RecordedEvent>) -> Result<Vec<RecordedEvent>, UpcastError> {
    loop {
        // This round's work, grouped per migrator: event indices and target versions.
        let mut work: BTreeMap<usize, Vec<(usize, String)>> = BTreeMap::new();
        for (index, event) in events.iter().enumerate() {
            if let Some(step) = chains.step(&event.event_type, &event.schema_version) {
                work.entry(step.migrator).or_default().push((index, step.to_version.clone()));
            }
        }
        if work.is_empty() {
            return Ok(events);
        }
        for (migrator, items) in work {
            let plugin = chains.migrators[migrator].clone();
            let batch: Vec<RecordedEvent> = items.iter().map(|(index, _)| events[*index].clone()).collect();
            let to_versions: Vec<String> = items.iter().map(|(_, to)| to.clone()).collect();
            let call = plugin.clone();
            let migrated = crate::plugins::calls::run_gated(plugin.gate(), move || {
                let batch: Vec<&RecordedEvent> = batch.iter().collect();
                let to_versions: Vec<&str> = to_versions.iter().map(String::as_str).collect();
                call.migrate(&batch, &to_versions)
            })
            .await;
            match migrated {
                Ok(migrated) => {
                    chains.counters[migrator].upcast.fetch_add(migrated.len() as u64, Ordering::Relaxed);
                    crate::telemetry::migrated(plugin.name(), migrated.len() as u64, 0);
                    for ((index, _), event) in items.iter().zip(migrated) {
                        events[*index] = event;
                    }
                }
                Err((failed, reason)) => {
                    chains.counters[migrator].failed.fetch_add(1, Ordering::Relaxed);
                    crate::telemetry::migrated(plugin.name(), 0, 1);
                    let event = &events[items[failed].0];
                    return Err(UpcastError {
                        event_id: event.id,
                        event_type: event.event_type.clone(),
                        from_version: event.schema_version.clone(),
                        to_version: items[failed].1.clone(),
                        migrator: plugin.name().to_owned(),
                        reason,
                    });
                }
            }
        }
    }
}

/// Upcasts `events`; an event whose upcast fails is kept as stored and
/// named, with the failure, in the second half of the answer, so that one
/// event a migrator cannot read does not stop the others.
pub async fn upcast_isolated(chains: &Arc<MigrationChains>, events: Vec<RecordedEvent>) -> (Vec<RecordedEvent>, HashMap<uuid::Uuid, String>) {
    let mut failures = HashMap::new();
    match upcast_events(chains, events.clone()).await {
        Ok(upcast) => (upcast, failures),
        Err(_) => {
            let mut upcast = Vec::with_capacity(events.len());
            for event in events {
                match upcast_events(chains, vec![event.clone()]).await {
                    Ok(mut one) => upcast.push(one.remove(0)),
                    Err(error) => {
                        failures.insert(event.id, format!("{error}: {}", error.reason));
                        upcast.push(event);
                    }
                }
            }
            (upcast, failures)
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn step(event_type: &str, from: &str, to: &str) -> MigrationStep {
        MigrationStep { event_type: event_type.into(), from_version: from.into(), to_version: to.into() }
    }

    #[test]
    fn a_chain_across_migrators_is_fine_and_every_conflict_is_named() {
        let fine = [("a".to_owned(), vec![step("T", "1.0", "1.1")]), ("b".to_owned(), vec![step("T", "1.1", "2.0"), step("U", "1", "2")])];
        assert!(chain_problems(&fine).is_empty());
        let problems = chain_problems(&[
            ("a".to_owned(), vec![step("T", "1.0", "2.0"), step("T", "3.0", "2.0")]),
            ("b".to_owned(), vec![step("T", "1.0", "1.5"), step("T", "x", "2.0")]),
        ]);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems.iter().any(|problem| problem.contains("does not go up")), "{problems:?}");
        assert!(problems.iter().any(|problem| problem.contains("a and b both migrate T from version 1.0")), "{problems:?}");
        assert!(problems.iter().any(|problem| problem.contains("b's step T x")), "{problems:?}");
    }

    proptest! {
        /// Steps that go up, with at most one leaving each (type, version),
        /// are accepted, and then every chain ends: no version is visited twice.
        #[test]
        fn accepted_steps_always_form_chains_that_end(
            steps in proptest::collection::vec((0u8..2, 0u8..6, 0u8..6), 0..12),
        ) {
            let declared: Vec<(String, Vec<MigrationStep>)> = steps
                .iter()
                .enumerate()
                .map(|(index, (event_type, from, to))| (format!("m{}", index % 3), vec![step(&format!("T{event_type}"), &format!("{from}.0"), &format!("{to}.0"))]))
                .collect();
            let problems = chain_problems(&declared);
            let goes_up = steps.iter().all(|(_, from, to)| to > from);
            let mut starts = std::collections::HashSet::new();
            let unique = steps.iter().all(|(event_type, from, _)| starts.insert((*event_type, *from)));
            prop_assert_eq!(problems.is_empty(), goes_up && unique, "{:?}", problems);
            if problems.is_empty() {
                for (event_type, from, _) in &steps {
                    let mut version = *from;
                    let mut hops = 0;
                    while let Some((_, _, to)) = steps.iter().find(|(t, f, _)| t == event_type && *f == version) {
                        version = *to;
                        hops += 1;
                        prop_assert!(hops <= steps.len(), "a chain loops");
                    }
                }
            }
        }
    }
}

//! Live projections in a long-running server: one per active handler,
//! started for handlers added while it runs, and each one's state kept for
//! health checks and metrics.
//!
//! A projection that fails stays failed until its handler or the migrators
//! change: a new version (the fix), or a removal and a new registration.
//! Restarting the same code on a timer would only fail again and fill the
//! log with errors. (Failures of the store do not end a projection: it
//! waits them out itself, with backoff.)
//! A projection whose handler was removed has not failed; it is forgotten,
//! so registering the handler again starts it afresh.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::{project, ReplayError, ReplayOptions};
use crate::plugins::{PluginHost, PluginHostError};

/// Where one handler's live projection stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectionState {
    /// Following the log.
    Running,
    /// Ended with `error` while `version` of the handler and `migrators`
    /// were active; it starts again when either changes.
    Failed { version: u64, migrators: Vec<(String, u64)>, error: String },
}

/// Runs the live projections and answers where each stands.
pub struct ProjectionSupervisor {
    host: Arc<PluginHost>,
    options: ReplayOptions,
    states: Mutex<BTreeMap<String, ProjectionState>>,
}

/// What a projection task answers; `handler_of_task` knows whose it is,
/// even for a task that panicked.
type Finished = Result<(), ReplayError>;

/// How a projection task ended.
enum Ending {
    Stopped,
    Removed,
    Failed(String),
}

impl ProjectionSupervisor {
    pub fn new(host: Arc<PluginHost>, options: ReplayOptions) -> Arc<Self> {
        Arc::new(Self { host, options, states: Mutex::new(BTreeMap::new()) })
    }

    /// The state of `handler`'s projection; `None` before it has started.
    pub fn state(&self, handler: &str) -> Option<ProjectionState> {
        self.states.lock().expect("projection states are never poisoned").get(handler).cloned()
    }

    /// The failed projections, with their errors.
    pub fn failures(&self) -> Vec<(String, String)> {
        let states = self.states.lock().expect("projection states are never poisoned");
        states
            .iter()
            .filter_map(|(handler, state)| match state {
                ProjectionState::Failed { error, .. } => Some((handler.clone(), error.clone())),
                ProjectionState::Running => None,
            })
            .collect()
    }

    /// Looks for handlers to start every `check_interval` until `shutdown`
    /// turns true, then waits for every projection to stop between pages.
    /// Answers the projections that had failed by then.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>, check_interval: Duration) -> Vec<(String, String)> {
        let mut tasks = JoinSet::new();
        let mut handler_of_task = HashMap::new();
        let mut checks = tokio::time::interval(check_interval);
        loop {
            tokio::select! {
                _ = checks.tick() => self.start_due(&mut tasks, &mut handler_of_task, &shutdown),
                Some(finished) = tasks.join_next_with_id() => self.record_end(finished, &mut handler_of_task),
                _ = shutdown.changed() => break,
            }
        }
        while let Some(finished) = tasks.join_next_with_id().await {
            self.record_end(finished, &mut handler_of_task);
        }
        self.failures()
    }

    /// Starts every active handler that has no projection yet, and every
    /// failed one whose active version has changed since it failed.
    fn start_due(&self, tasks: &mut JoinSet<Finished>, handler_of_task: &mut HashMap<tokio::task::Id, String>, shutdown: &watch::Receiver<bool>) {
        let mut states = self.states.lock().expect("projection states are never poisoned");
        for status in self.host.statuses().into_iter().filter(|status| status.kind == Some(crate::runtime::PluginKind::Handler)) {
            let handler = status.record.name;
            match states.get(&handler) {
                Some(ProjectionState::Running) => continue,
                Some(ProjectionState::Failed { version, migrators, .. }) if *version == status.record.version && *migrators == self.host.migrator_versions() => continue,
                Some(ProjectionState::Failed { .. }) => tracing::info!(%handler, version = status.record.version, "the handler or the migrators changed; restarting its live projection"),
                None => tracing::info!(%handler, "starting its live projection"),
            }
            states.insert(handler.clone(), ProjectionState::Running);
            let (host, options, shutdown, name) = (self.host.clone(), self.options.clone(), shutdown.clone(), handler.clone());
            let task = tasks.spawn(async move {
                project(&host, &name, &options, shutdown, |round| {
                    tracing::info!(handler = %round.handler, position = round.position, processed = round.processed, failed = round.failed, "projection round");
                })
                .await
            });
            handler_of_task.insert(task.id(), handler);
        }
    }

    fn record_end(&self, finished: Result<(tokio::task::Id, Finished), tokio::task::JoinError>, handler_of_task: &mut HashMap<tokio::task::Id, String>) {
        let (id, outcome) = match finished {
            Ok((id, Ok(()))) => (id, Ending::Stopped),
            // Asked for by name each round, so a removed handler ends its
            // projection this way; it is not a failure.
            Ok((id, Err(ReplayError::Plugins(PluginHostError::UnknownHandler { .. })))) => (id, Ending::Removed),
            Ok((id, Err(error))) => (id, Ending::Failed(error.to_string())),
            Err(panic) => (panic.id(), Ending::Failed(format!("the projection task panicked: {panic}"))),
        };
        let Some(handler) = handler_of_task.remove(&id) else { return };
        let mut states = self.states.lock().expect("projection states are never poisoned");
        match outcome {
            Ending::Stopped => {
                states.remove(&handler);
            }
            Ending::Removed => {
                tracing::info!(%handler, "the handler was removed; its live projection has ended");
                states.remove(&handler);
            }
            Ending::Failed(error) => match self.host.statuses().into_iter().find(|status| status.kind == Some(crate::runtime::PluginKind::Handler) && status.record.name == handler) {
                Some(status) => {
                    tracing::error!(%handler, %error, "live projection failed; it starts again when a new version of the handler is added");
                    states.insert(handler, ProjectionState::Failed { version: status.record.version, migrators: self.host.migrator_versions(), error });
                }
                None => {
                    tracing::info!(%handler, %error, "the live projection of a removed handler ended");
                    states.remove(&handler);
                }
            },
        }
    }
}

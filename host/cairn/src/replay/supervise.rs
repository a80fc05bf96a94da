//! Live projections in a long-running server: one per active handler, each
//! run under its lease by exactly one of the hosts sharing the store, and
//! each one's state kept for health checks and metrics.
//!
//! A host takes leases up to its fair share (`cluster::fair_share`) and
//! hands the surplus back one at a time; a lease it cannot renew stops that
//! projection between pages, and a commit after the lease changed hands is
//! refused by its fence. On SQLite the same code runs, with every process
//! on the one machine.
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
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::{project, ReplayError, ReplayOptions};
use crate::cluster::{fair_share, projection_lease_name, ClusterMember};
use crate::plugins::{PluginHost, PluginHostError};
use crate::store::{Fence, Lease, StoreError};

/// Where one handler's live projection stands on this host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectionState {
    /// Following the log, under this host's lease.
    Running,
    /// Ended with `error` while `version` of the handler and `migrators`
    /// were active; it starts again when either changes.
    Failed { version: u64, migrators: Vec<(String, u64)>, error: String },
}

/// Runs the live projections and answers where each stands.
pub struct ProjectionSupervisor {
    host: Arc<PluginHost>,
    options: ReplayOptions,
    member: Arc<ClusterMember>,
    states: Mutex<BTreeMap<String, ProjectionState>>,
}

/// A projection running here: its lease, and how to stop it.
struct Running {
    lease: Lease,
    stop: watch::Sender<bool>,
    renewed: Instant,
    /// Asked to stop: handed back, or its lease was lost.
    stopping: bool,
    lost: bool,
}

/// What a projection task answers; `handler_of_task` knows whose it is,
/// even for a task that panicked.
type Finished = Result<(), ReplayError>;

/// How a projection task ended.
enum Ending {
    Stopped,
    Removed,
    LeaseLost(String),
    Failed(String),
}

impl ProjectionSupervisor {
    pub fn new(host: Arc<PluginHost>, options: ReplayOptions, member: Arc<ClusterMember>) -> Arc<Self> {
        Arc::new(Self { host, options, member, states: Mutex::new(BTreeMap::new()) })
    }

    pub fn member(&self) -> &Arc<ClusterMember> {
        &self.member
    }

    /// The state of `handler`'s projection on this host; `None` when it
    /// does not run here (another host holds it, or it has not started).
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

    /// Every `check_interval` until `shutdown` turns true: renews this
    /// host's leases, hands back a surplus, and starts the projections it
    /// may take. Then stops every projection between pages, lets its leases
    /// go, and answers the projections that had failed.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>, check_interval: Duration) -> Vec<(String, String)> {
        let mut tasks = JoinSet::new();
        let mut handler_of_task = HashMap::new();
        let mut running: HashMap<String, Running> = HashMap::new();
        let mut checks = tokio::time::interval(check_interval.min(self.member.renew_every()));
        let mut released = self.host.store().lease_notices();
        loop {
            tokio::select! {
                _ = checks.tick() => {
                    self.keep_leases(&mut running).await;
                    self.start_due(&mut tasks, &mut handler_of_task, &mut running).await;
                }
                // Another host let a projection go: take it now, not at the next tick.
                true = lease_released(released.as_mut()) => self.start_due(&mut tasks, &mut handler_of_task, &mut running).await,
                Some(finished) = tasks.join_next_with_id() => self.record_end(finished, &mut handler_of_task, &mut running).await,
                _ = shutdown.changed() => break,
            }
        }
        for projection in running.values() {
            projection.stop.send_replace(true);
        }
        while let Some(finished) = tasks.join_next_with_id().await {
            self.record_end(finished, &mut handler_of_task, &mut running).await;
        }
        self.member.leave().await;
        self.failures()
    }

    /// Renews this host's own lease and each projection's; a projection
    /// whose lease was lost, or could not be renewed for a whole time to
    /// live, is stopped.
    async fn keep_leases(&self, running: &mut HashMap<String, Running>) {
        if let Err(error) = self.member.heartbeat().await {
            tracing::warn!(%error, "could not renew this host's lease; retrying");
        }
        for (handler, projection) in running.iter_mut().filter(|(_, projection)| !projection.lost && projection.renewed.elapsed() >= self.member.renew_every()) {
            match self.member.renew(&projection.lease).await {
                Ok(true) => projection.renewed = Instant::now(),
                Ok(false) => {
                    tracing::warn!(%handler, lease = %projection.lease.name, "another host took this projection's lease over; stopping it here");
                    (projection.lost, projection.stopping) = (true, true);
                    projection.stop.send_replace(true);
                }
                Err(error) if projection.renewed.elapsed() >= self.member.ttl() => {
                    tracing::warn!(%handler, %error, "could not renew this projection's lease for a whole time to live; stopping it here");
                    (projection.lost, projection.stopping) = (true, true);
                    projection.stop.send_replace(true);
                }
                Err(error) => tracing::warn!(%handler, %error, "could not renew this projection's lease; retrying"),
            }
        }
    }

    /// Hands back one projection above this host's fair share, then takes
    /// leases for due projections up to it: active handlers not running
    /// here, and failed ones whose version or migrators changed since.
    async fn start_due(&self, tasks: &mut JoinSet<Finished>, handler_of_task: &mut HashMap<tokio::task::Id, String>, running: &mut HashMap<String, Running>) {
        let handlers: Vec<(String, u64)> = self
            .host
            .statuses()
            .into_iter()
            .filter(|status| status.kind == Some(crate::runtime::PluginKind::Handler))
            .map(|status| (status.record.name, status.record.version))
            .collect();
        let hosts = match self.member.hosts_alive().await {
            Ok(hosts) => hosts,
            Err(error) => {
                tracing::warn!(%error, "could not read the leases; trying again");
                return;
            }
        };
        let share = fair_share(handlers.len(), hosts);
        let mut held = running.values().filter(|projection| !projection.stopping).count();
        if held > share {
            if let Some((handler, projection)) = running.iter_mut().filter(|(_, projection)| !projection.stopping).max_by(|one, other| one.0.cmp(other.0)) {
                tracing::info!(%handler, hosts, share, "handing this projection back: this host holds more than its share");
                projection.stopping = true;
                projection.stop.send_replace(true);
                held -= 1;
            }
        }
        let migrators = self.host.migrator_versions();
        for (handler, version) in handlers {
            if held >= share {
                break;
            }
            let due = match self.state(&handler) {
                _ if running.contains_key(&handler) => false,
                Some(ProjectionState::Failed { version: failed_version, migrators: failed_migrators, .. }) => failed_version != version || failed_migrators != migrators,
                _ => true,
            };
            if !due {
                continue;
            }
            let lease = match self.member.acquire(&projection_lease_name(&handler)).await {
                Ok(Some(lease)) => lease,
                Ok(None) => continue,
                Err(error) => {
                    tracing::warn!(%handler, %error, "could not take the projection's lease; trying again");
                    continue;
                }
            };
            tracing::info!(%handler, version, token = lease.token, "starting its live projection under its lease");
            self.states.lock().expect("projection states are never poisoned").insert(handler.clone(), ProjectionState::Running);
            let (stop, stopped) = watch::channel(false);
            let options = ReplayOptions { fence: Some(Fence { lease: lease.name.clone(), token: lease.token }), ..self.options.clone() };
            let (host, name) = (self.host.clone(), handler.clone());
            let task = tasks.spawn(async move {
                project(&host, &name, &options, stopped, |round| {
                    tracing::info!(handler = %round.handler, position = round.position, processed = round.processed, failed = round.failed, "projection round");
                })
                .await
            });
            handler_of_task.insert(task.id(), handler.clone());
            running.insert(handler, Running { lease, stop, renewed: Instant::now(), stopping: false, lost: false });
            held += 1;
        }
    }

    async fn record_end(&self, finished: Result<(tokio::task::Id, Finished), tokio::task::JoinError>, handler_of_task: &mut HashMap<tokio::task::Id, String>, running: &mut HashMap<String, Running>) {
        let (id, outcome) = match finished {
            Ok((id, Ok(()))) => (id, Ending::Stopped),
            // Asked for by name each round, so a removed handler ends its
            // projection this way; it is not a failure.
            Ok((id, Err(ReplayError::Plugins(PluginHostError::UnknownHandler { .. })))) => (id, Ending::Removed),
            Ok((id, Err(ReplayError::Store(error @ StoreError::LeaseLost { .. })))) => (id, Ending::LeaseLost(error.to_string())),
            Ok((id, Err(error))) => (id, Ending::Failed(error.to_string())),
            Err(panic) => (panic.id(), Ending::Failed(format!("the projection task panicked: {panic}"))),
        };
        let Some(handler) = handler_of_task.remove(&id) else { return };
        if let Some(projection) = running.remove(&handler) {
            if !projection.lost && !matches!(outcome, Ending::LeaseLost(_)) {
                self.member.release(&projection.lease).await;
            }
        }
        let mut states = self.states.lock().expect("projection states are never poisoned");
        match outcome {
            Ending::Stopped => {
                states.remove(&handler);
            }
            Ending::Removed => {
                tracing::info!(%handler, "the handler was removed; its live projection has ended");
                states.remove(&handler);
            }
            Ending::LeaseLost(error) => {
                tracing::warn!(%handler, %error, "the projection's commit was fenced off: another host holds its lease now");
                crate::telemetry::lease_fenced(&handler);
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

/// Resolves (true) when another process has let a lease go; never, where
/// the store does not announce it.
async fn lease_released(notices: Option<&mut watch::Receiver<u64>>) -> bool {
    match notices {
        Some(notices) => notices.changed().await.is_ok(),
        None => std::future::pending().await,
    }
}

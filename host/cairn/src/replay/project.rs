//! Continuous projections: a handler caught up from its checkpoint and then
//! kept up with new events, and blue/green rebuilds of its read model.

use std::sync::Arc;
use std::time::Duration;

use super::{live_checkpoint_name, replay, CheckpointChoice, Progress, ReplayError, ReplayOptions, ReplayResult, StopReason};
use crate::plugins::PluginHost;
use crate::store::{RebuildSwitch, StoreError};

/// How long a caught-up projection waits for new events before it looks
/// again on its own (a missed wake-up costs at most this).
const FOLLOW_WAIT: Duration = Duration::from_secs(1);

/// What a projection round did, for logs and callers.
pub type ProjectionReport = ReplayResult;

/// Keeps handler `handler`'s live read model up to date until `shutdown`
/// turns true: each round replays from the checkpoint to the log's end and
/// then waits for new events. A new plugin version is picked up on the next
/// round; a rebuild that switched generations is followed; a store that
/// fails (an outage, a lock held too long) is retried with backoff; and when
/// the migrators change, the events they could not upcast are retried.
pub async fn project(
    host: &Arc<PluginHost>,
    handler: &str,
    options: &ReplayOptions,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    mut on_round: impl FnMut(&ProjectionReport),
) -> Result<(), ReplayError> {
    let options = ReplayOptions { checkpoint: CheckpointChoice::Named(live_checkpoint_name(handler)), generation: None, ..options.clone() };
    let store = host.store().clone();
    let mut backoff = Backoff::default();
    let mut chains = host.migration_chains().await.ok();
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        if let Err(error) = retry_unreadable_after_migrator_change(host, handler, &mut chains).await {
            tracing::warn!(%handler, %error, "could not retry the events the old migrators could not upcast; the next round tries again");
        }
        let position = match replay(host, handler, &options, |_| {}).await {
            Ok(report) => {
                backoff = Backoff::default();
                if report.processed + report.failed + report.parked > 0 {
                    on_round(&report);
                }
                if report.stopped == Some(StopReason::ConsecutiveFailures) {
                    return Err(ReplayError::Stopped(format!(
                        "projection {handler} stopped: the handler failed on {} events in a row; see `cairn dead-letter list --handler {handler}`",
                        options.failure.max_consecutive_failures
                    )));
                }
                report.position
            }
            // Another process moved the checkpoint or a rebuild switched
            // the generation: read both again and go on from there.
            Err(ReplayError::Store(error @ (StoreError::CheckpointMoved { .. } | StoreError::GenerationRetired { .. }))) => {
                tracing::info!(%handler, %error, "projection resumes from the store's checkpoint");
                continue;
            }
            // Another host took the lease over while this one stalled: its
            // commit was fenced off, and the work is no longer this host's.
            Err(error @ ReplayError::Store(StoreError::LeaseLost { .. })) => return Err(error),
            Err(error) if is_store_failure(&error) => {
                let wait = backoff.next();
                tracing::warn!(%handler, %error, retry_in_ms = wait.as_millis() as u64, "the store failed under the projection; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
            Err(error) => return Err(error),
        };
        tokio::select! {
            _ = store.wait_for_new_events(position, FOLLOW_WAIT) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// A failure of the store rather than of the handler: worth waiting out.
fn is_store_failure(error: &ReplayError) -> bool {
    matches!(
        error,
        ReplayError::Store(_) | ReplayError::Read(crate::read::ReadError::Store(_)) | ReplayError::Plugins(crate::plugins::PluginHostError::Store(_))
    )
}

/// When the migration chains are not the ones of the last round, retries
/// the dead letters of events the migrators could not upcast.
async fn retry_unreadable_after_migrator_change(
    host: &Arc<PluginHost>,
    handler: &str,
    seen: &mut Option<Arc<crate::migrate::MigrationChains>>,
) -> Result<(), ReplayError> {
    let current = host.migration_chains().await?;
    let changed = seen.as_ref().is_some_and(|seen| !Arc::ptr_eq(seen, &current));
    *seen = Some(current);
    if changed {
        let released = super::dead_letters::retry_unreadable(host, handler).await?;
        if !released.is_empty() {
            tracing::info!(%handler, streams = released.len(), "the migrators changed; retried the events they could not upcast");
        }
    }
    Ok(())
}

/// Waits that double from 100 ms to 30 s.
struct Backoff(Duration);

impl Default for Backoff {
    fn default() -> Self {
        Self(Duration::from_millis(100))
    }
}

impl Backoff {
    fn next(&mut self) -> Duration {
        let wait = self.0;
        self.0 = (self.0 * 2).min(Duration::from_secs(30));
        wait
    }
}

/// Builds a fresh generation of `handler`'s read model from position 0
/// beside the live one, catches it up to the log's end, and makes it live
/// in one transaction. The live checkpoint takes the rebuild's position, so
/// a running projection goes on from there in the new generation.
pub async fn rebuild(
    host: &Arc<PluginHost>,
    handler: &str,
    options: &ReplayOptions,
    mut progress: impl FnMut(Progress),
) -> Result<ReplayResult, ReplayError> {
    host.handler(handler).await?;
    let store = host.store().clone();
    let rebuild_checkpoint = format!("{}:rebuild", live_checkpoint_name(handler));
    let generation = store.begin_rebuild(handler, &rebuild_checkpoint).await?;
    let options = ReplayOptions {
        checkpoint: CheckpointChoice::Named(rebuild_checkpoint.clone()),
        generation: Some(generation),
        after_position: 0,
        ..options.clone()
    };
    let mut total: Option<ReplayResult> = None;
    loop {
        let round = replay(host, handler, &options, &mut progress).await?;
        let reached = round.position;
        let stopped = round.stopped;
        total = Some(match total {
            None => round,
            Some(mut total) => {
                total.absorb(round);
                total
            }
        });
        if stopped.is_some() {
            return Err(ReplayError::Stopped(format!(
                "the rebuild of {handler} stopped at position {reached} because the handler kept failing; the live read model is unchanged. Fix the handler and run the rebuild again"
            )));
        }
        // Events appended during a round are caught up by another; the
        // switch happens once a round ends at the log's end.
        if reached >= store.head_position().await? {
            break;
        }
    }
    store
        .finish_rebuild(&RebuildSwitch {
            handler: handler.to_owned(),
            generation,
            rebuild_checkpoint,
            live_checkpoint: live_checkpoint_name(handler),
        })
        .await?;
    let mut total = total.expect("at least one round ran");
    total.checkpoint = Some(live_checkpoint_name(handler));
    Ok(total)
}

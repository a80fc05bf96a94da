//! Replay jobs: one or more handlers replayed under one id, recorded in
//! the store so that `cairn replay list` and `cairn replay show` work from
//! any process.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use uuid::Uuid;

use super::{replay, Progress, ReplayError, ReplayOptions, ReplayResult};
use crate::plugins::PluginHost;
use crate::store::JobStatus;

/// How often a running job writes its progress to the store.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Clone, Serialize)]
pub struct JobRequest {
    pub id: Uuid,
    pub handlers: Vec<String>,
    pub options: ReplayOptions,
}

#[derive(Debug, Clone, Serialize)]
pub struct JobOutcome {
    pub id: Uuid,
    pub status: JobStatus,
    pub results: Vec<ReplayResult>,
}

/// Runs the handlers one after another and records the job. `progress`
/// gets the handler's name with each page's progress.
pub async fn run_job(host: &Arc<PluginHost>, request: &JobRequest, mut progress: impl FnMut(&str, Progress)) -> Result<JobOutcome, ReplayError> {
    let store = host.store().clone();
    for name in &request.handlers {
        host.handler(name).await?;
    }
    let head = store.head_position().await?;
    let request_json = serde_json::to_string(request).expect("replay requests serialise");
    store.create_replay_job(request.id, &request.handlers, &request_json, head).await?;
    // The engine reports progress synchronously; a task of its own writes
    // the latest to the store once a second, so pages never wait on it.
    let (latest, mut watched) = tokio::sync::watch::channel(None::<Progress>);
    let reporter_store = store.clone();
    let job_id = request.id;
    let reporter = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(PROGRESS_EVERY);
        loop {
            ticks.tick().await;
            if watched.has_changed().unwrap_or(false) {
                let latest_step = *watched.borrow_and_update();
                if let Some(step) = latest_step {
                    if let Err(error) = reporter_store.report_replay_progress(job_id, step.position, step.head).await {
                        tracing::warn!(%error, "could not record the replay job's progress");
                    }
                }
            }
        }
    });
    let mut results = Vec::new();
    for name in &request.handlers {
        // A named checkpoint is each handler's own: with several handlers,
        // NAME:HANDLER, so that none resumes from another's position.
        let options = match (&request.options.checkpoint, request.handlers.len()) {
            (super::CheckpointChoice::Named(checkpoint), several) if several > 1 => {
                ReplayOptions { checkpoint: super::CheckpointChoice::Named(format!("{checkpoint}:{name}")), ..request.options.clone() }
            }
            _ => request.options.clone(),
        };
        let outcome = replay(host, name, &options, |step| {
            progress(name, step);
            latest.send_replace(Some(step));
        })
        .await;
        match outcome {
            Ok(result) => results.push(result),
            Err(error) => {
                reporter.abort();
                let partial = serde_json::to_string(&results).expect("results serialise");
                store.finish_replay_job(request.id, JobStatus::Failed, Some(&partial), Some(&error.to_string())).await?;
                return Err(error);
            }
        }
    }
    reporter.abort();
    let status = if results.iter().any(|result| result.stopped.is_some()) { JobStatus::Failed } else { JobStatus::Completed };
    let results_json = serde_json::to_string(&results).expect("results serialise");
    store.finish_replay_job(request.id, status, Some(&results_json), None).await?;
    Ok(JobOutcome { id: request.id, status, results })
}

//! Replay: history through a handler plugin, in batches, resumable from a
//! named checkpoint.
//!
//! Invariants:
//! - A batch's read-model writes commit in the same transaction as the
//!   checkpoint's advance, so after a crash, a failure or a retry no
//!   event's effects are applied twice or half.
//! - The handler's declared event and aggregate types are applied before
//!   any wasm call; events it does not want are counted as skipped.
//! - The checkpoint never passes an event the handler failed on: a replay
//!   stops there, and the next run under the same checkpoint retries it.

mod buffer;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::event::RecordedEvent;
use crate::plugins::{PluginHost, PluginHostError};
use crate::runtime::{HandlerPlugin, PluginCallError};
use crate::store::{CheckpointAdvance, LogFilter, StoreError};
use buffer::BatchBuffer;

pub const DEFAULT_BATCH_SIZE: usize = 500;

#[derive(Debug, Clone)]
pub struct ReplayOptions {
    pub handler: String,
    pub filter: LogFilter,
    /// Events after this position only (the checkpoint's, if later).
    pub after_position: u64,
    pub batch_size: usize,
    /// Defaults to `handler:<name>`.
    pub checkpoint: Option<String>,
    /// Tries per failing event before the replay stops.
    pub max_retries: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReplayErrorRecord {
    pub event_id: uuid::Uuid,
    pub global_position: u64,
    pub handler: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReplayResult {
    pub handler: String,
    pub checkpoint: String,
    pub total_events: u64,
    pub processed: u64,
    pub failed: u64,
    pub skipped: u64,
    pub success_rate: f64,
    pub duration_ms: u64,
    pub events_per_second: f64,
    /// Where the checkpoint stands after the run.
    pub checkpoint_position: u64,
    pub errors: Vec<ReplayErrorRecord>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Plugins(#[from] PluginHostError),
    #[error(transparent)]
    Upcast(#[from] crate::migrate::UpcastError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn wanted(handler: &HandlerPlugin, event: &RecordedEvent) -> bool {
    let info = handler.info();
    (info.event_types.is_empty() || info.event_types.contains(&event.event_type))
        && (info.aggregate_types.is_empty() || info.aggregate_types.contains(&event.aggregate_type))
}

/// Runs the replay to the log's end as it was at the start, or to the first
/// event that fails after its retries. `progress` gets the position reached.
pub async fn replay(
    host: &Arc<PluginHost>,
    options: &ReplayOptions,
    mut progress: impl FnMut(u64, u64),
) -> Result<ReplayResult, ReplayError> {
    let started = Instant::now();
    let handler = host.handler(&options.handler).await?;
    let store = host.store().clone();
    let checkpoint_name = options.checkpoint.clone().unwrap_or_else(|| format!("handler:{}", options.handler));
    let resume_at = store.checkpoint(&checkpoint_name).await?.map_or(0, |checkpoint| checkpoint.position);
    let head = store.head_position().await?;
    let mut position = resume_at.max(options.after_position);
    let filter = LogFilter { to_position: Some(options.filter.to_position.unwrap_or(head).min(head)), ..options.filter.clone() };
    let chains = host.migration_chains().await?;
    let mut result = ReplayResult {
        handler: options.handler.clone(),
        checkpoint: checkpoint_name.clone(),
        total_events: 0,
        processed: 0,
        failed: 0,
        skipped: 0,
        success_rate: 1.0,
        duration_ms: 0,
        events_per_second: 0.0,
        checkpoint_position: position,
        errors: Vec::new(),
    };
    'pages: loop {
        let page = store.read_log(&filter, position, options.batch_size.max(1)).await?;
        let Some(last) = page.last() else { break };
        let page_end = last.global_position;
        result.total_events += page.len() as u64;
        let page = crate::migrate::upcast_events(&chains, page).await?;
        let (batch, skipped): (Vec<RecordedEvent>, Vec<RecordedEvent>) = page.into_iter().partition(|event| wanted(&handler, event));
        result.skipped += skipped.len() as u64;
        let nothing_to_handle = batch.is_empty();
        // Handle the batch; on a failure, commit what came before the
        // failing event, retry it alone, and stop if it keeps failing.
        let mut remaining = batch;
        while !remaining.is_empty() {
            match handle_and_commit(host, &handler, &checkpoint_name, &remaining, page_end).await? {
                Ok(()) => {
                    result.processed += remaining.len() as u64;
                    break;
                }
                Err((index, error)) => {
                    let failing = index.unwrap_or(0);
                    if failing > 0 {
                        let before = remaining[..failing].to_vec();
                        let before_end = before.last().expect("not empty").global_position;
                        if handle_and_commit(host, &handler, &checkpoint_name, &before, before_end).await?.is_ok() {
                            result.processed += before.len() as u64;
                            remaining.drain(..failing);
                        }
                    }
                    let event = remaining[0].clone();
                    let mut last_error = error;
                    let mut recovered = false;
                    for attempt in 1..=options.max_retries {
                        tokio::time::sleep(Duration::from_millis(10 << attempt.min(6))).await;
                        match handle_and_commit(host, &handler, &checkpoint_name, std::slice::from_ref(&event), event.global_position).await? {
                            Ok(()) => {
                                recovered = true;
                                break;
                            }
                            Err((_, error)) => last_error = error,
                        }
                    }
                    if !recovered {
                        result.failed += 1;
                        result.errors.push(ReplayErrorRecord {
                            event_id: event.id,
                            global_position: event.global_position,
                            handler: options.handler.clone(),
                            message: last_error.to_string(),
                        });
                        break 'pages;
                    }
                    result.processed += 1;
                    remaining.remove(0);
                }
            }
        }
        if nothing_to_handle {
            // Pages of skipped events still move the checkpoint past them.
            store.commit_handler_batch(&options.handler, &[], &CheckpointAdvance { name: checkpoint_name.clone(), position: page_end, events: 0 }).await?;
        }
        position = page_end;
        progress(position, head);
    }
    result.checkpoint_position = store.checkpoint(&checkpoint_name).await?.map_or(0, |checkpoint| checkpoint.position);
    let elapsed = started.elapsed();
    result.duration_ms = elapsed.as_millis() as u64;
    result.events_per_second = result.processed as f64 / elapsed.as_secs_f64().max(1e-9);
    let attempted = result.processed + result.failed;
    result.success_rate = if attempted == 0 { 1.0 } else { result.processed as f64 / attempted as f64 };
    Ok(result)
}

/// One `handle` call over `events`, then its writes and the checkpoint
/// (moved to `through`) in one transaction. The outer error is the store's;
/// the inner one the handler's, in which case nothing was committed.
async fn handle_and_commit(
    host: &Arc<PluginHost>,
    handler: &Arc<HandlerPlugin>,
    checkpoint: &str,
    events: &[RecordedEvent],
    through: u64,
) -> Result<Result<(), (Option<usize>, PluginCallError)>, StoreError> {
    let buffer = BatchBuffer::new(host.store().clone(), handler.name().to_owned(), tokio::runtime::Handle::current());
    let handler_for_call = handler.clone();
    let batch = events.to_vec();
    let (access, outcome) = tokio::task::spawn_blocking(move || handler_for_call.handle(&batch, Box::new(buffer)))
        .await
        .expect("handle does not panic");
    if let Err(failure) = outcome {
        return Ok(Err(failure));
    }
    let writes = buffer::into_writes(access);
    let advance = CheckpointAdvance { name: checkpoint.to_owned(), position: through, events: events.len() as u64 };
    host.store().commit_handler_batch(handler.name(), &writes, &advance).await?;
    Ok(Ok(()))
}

//! One partition of a page: the wanted events of some streams, handled in
//! order with retries. A failing event is dead-lettered and its stream
//! parked, or, under stop-on-error, ends the partition.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use super::buffer::{BatchBuffer, ReadTarget};
use super::handler::{BatchHandler, HandlerFailure};
use super::ReplayErrorRecord;
use crate::event::RecordedEvent;
use crate::store::{DeadLetterStatus, NewDeadLetter};

/// A stream, as the dead-letter table names it.
pub type StreamKey = (String, String);

pub fn stream_key(event: &RecordedEvent) -> StreamKey {
    (event.aggregate_type.clone(), event.aggregate_id.clone())
}

/// How a partition treats failures.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FailurePolicy {
    pub max_retries: u32,
    /// Before the first retry; doubled before each further one.
    #[serde(rename = "retry_delay_ms", with = "super::duration_millis")]
    pub retry_delay: Duration,
    pub stop_on_error: bool,
    /// Dead letters in a row, with no event handled between them, after
    /// which the run stops: a handler that fails on everything would
    /// otherwise dead-letter the whole log.
    pub max_consecutive_failures: u32,
}

pub struct PartitionOutcome {
    pub buffer: BatchBuffer,
    pub processed: u64,
    pub failed: u64,
    pub parked: u64,
    pub dead_letters: Vec<NewDeadLetter>,
    pub errors: Vec<ReplayErrorRecord>,
    /// Streams this partition parked, to add to the run's set once the page
    /// commits.
    pub newly_parked: HashSet<StreamKey>,
    /// The first event left unhandled when the partition stopped early
    /// (stop-on-error, or too many failures in a row); nothing from it on
    /// was handled.
    pub stopped_before: Option<RecordedEvent>,
    pub consecutive_failures: u32,
}

async fn attempt(handler: &Arc<dyn BatchHandler>, events: Vec<RecordedEvent>, buffer: BatchBuffer) -> (BatchBuffer, Result<(), HandlerFailure>) {
    let handler = handler.clone();
    let (buffer, outcome) = tokio::task::spawn_blocking(move || handler.handle(&events, Box::new(buffer)))
        .await
        .expect("handlers do not panic: plugin failures come back as errors");
    (*buffer, outcome)
}

fn dead_letter(event: &RecordedEvent, generation: u64, status: DeadLetterStatus, error: Option<String>, attempts: u32) -> NewDeadLetter {
    NewDeadLetter {
        generation,
        aggregate_type: event.aggregate_type.clone(),
        aggregate_id: event.aggregate_id.clone(),
        event_id: event.id,
        global_position: event.global_position,
        event_type: event.event_type.clone(),
        status,
        error,
        attempts,
    }
}

/// Handles `events` (wanted ones, in position order) on top of a fresh
/// buffer over `target`. `parked` holds the streams already parked.
pub async fn run_partition(
    handler: &Arc<dyn BatchHandler>,
    target: ReadTarget,
    events: Vec<RecordedEvent>,
    parked: &HashSet<StreamKey>,
    policy: &FailurePolicy,
    mut consecutive_failures: u32,
) -> PartitionOutcome {
    let generation = target.generation;
    let mut outcome = PartitionOutcome {
        buffer: BatchBuffer::new(target),
        processed: 0,
        failed: 0,
        parked: 0,
        dead_letters: Vec::new(),
        errors: Vec::new(),
        newly_parked: HashSet::new(),
        stopped_before: None,
        consecutive_failures,
    };
    let mut rest = events;
    while !rest.is_empty() {
        let (held, segment): (Vec<_>, Vec<_>) = std::mem::take(&mut rest).into_iter().partition(|event| {
            let stream = stream_key(event);
            parked.contains(&stream) || outcome.newly_parked.contains(&stream)
        });
        for event in &held {
            outcome.dead_letters.push(dead_letter(event, generation, DeadLetterStatus::Parked, None, 0));
        }
        outcome.parked += held.len() as u64;
        if segment.is_empty() {
            break;
        }
        let (tried, result) = attempt(handler, segment.clone(), outcome.buffer.clone()).await;
        let failure = match result {
            Ok(()) => {
                outcome.buffer = tried;
                outcome.processed += segment.len() as u64;
                consecutive_failures = 0;
                break;
            }
            Err(failure) => failure,
        };
        // Keep what came before the failing event, then retry it alone.
        let mut failing_index = failure.index.unwrap_or(0).min(segment.len() - 1);
        if failing_index > 0 {
            let (tried, result) = attempt(handler, segment[..failing_index].to_vec(), outcome.buffer.clone()).await;
            if result.is_ok() {
                outcome.buffer = tried;
                outcome.processed += failing_index as u64;
                consecutive_failures = 0;
            } else {
                // The handler failed earlier this time; go one event at a time.
                failing_index = 0;
            }
        }
        let event = segment[failing_index].clone();
        let mut last_failure = failure;
        let mut recovered = false;
        for retry in 0..policy.max_retries {
            tokio::time::sleep(policy.retry_delay.saturating_mul(1 << retry.min(16))).await;
            let (tried, result) = attempt(handler, vec![event.clone()], outcome.buffer.clone()).await;
            match result {
                Ok(()) => {
                    outcome.buffer = tried;
                    recovered = true;
                    break;
                }
                Err(failure) => last_failure = failure,
            }
        }
        rest = segment[failing_index + 1..].to_vec();
        if recovered {
            outcome.processed += 1;
            consecutive_failures = 0;
            continue;
        }
        outcome.failed += 1;
        consecutive_failures += 1;
        outcome.errors.push(ReplayErrorRecord {
            event_id: event.id,
            global_position: event.global_position,
            handler: handler.name().to_owned(),
            message: last_failure.message.clone(),
        });
        if policy.stop_on_error {
            outcome.stopped_before = Some(event);
            break;
        }
        outcome.dead_letters.push(dead_letter(&event, generation, DeadLetterStatus::Failed, Some(last_failure.message), policy.max_retries + 1));
        outcome.newly_parked.insert(stream_key(&event));
        if consecutive_failures >= policy.max_consecutive_failures {
            outcome.stopped_before = rest.first().cloned();
            break;
        }
    }
    outcome.consecutive_failures = consecutive_failures;
    outcome
}

//! One partition of a page: the wanted events of some streams, handled in
//! order with retries. A failing event is dead-lettered and its stream
//! parked, or, under stop-on-error, ends the partition.

use std::collections::{HashMap, HashSet};
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
    let call = handler.clone();
    let work = move || call.handle(&events, Box::new(buffer));
    let (buffer, outcome) = match handler.gate() {
        Some(gate) => crate::plugins::calls::run_gated(gate, work).await,
        None => crate::plugins::calls::run_blocking(work).await,
    };
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
    unreadable: &HashMap<uuid::Uuid, String>,
    policy: &FailurePolicy,
    consecutive_failures: u32,
) -> PartitionOutcome {
    let mut partition = Partition {
        handler,
        policy,
        parked,
        unreadable,
        generation: target.generation,
        outcome: PartitionOutcome {
            buffer: BatchBuffer::new(target),
            processed: 0,
            failed: 0,
            parked: 0,
            dead_letters: Vec::new(),
            errors: Vec::new(),
            newly_parked: HashSet::new(),
            stopped_before: None,
            consecutive_failures,
        },
    };
    let mut rest = events;
    while !rest.is_empty() {
        let segment = partition.hold_parked(std::mem::take(&mut rest));
        if segment.is_empty() {
            break;
        }
        match partition.run_segment(segment).await {
            Some(after_failure) => rest = after_failure,
            None => break,
        }
    }
    partition.outcome
}

struct Partition<'a> {
    handler: &'a Arc<dyn BatchHandler>,
    policy: &'a FailurePolicy,
    parked: &'a HashSet<StreamKey>,
    /// Events that cannot reach the handler: their migrators could not
    /// upcast them. Each fails as if the handler had failed on it.
    unreadable: &'a HashMap<uuid::Uuid, String>,
    generation: u64,
    outcome: PartitionOutcome,
}

impl Partition<'_> {
    /// Parks the events of parked streams and gives back the others.
    fn hold_parked(&mut self, events: Vec<RecordedEvent>) -> Vec<RecordedEvent> {
        let (held, segment): (Vec<_>, Vec<_>) = events.into_iter().partition(|event| {
            let stream = stream_key(event);
            self.parked.contains(&stream) || self.outcome.newly_parked.contains(&stream)
        });
        for event in &held {
            self.outcome.dead_letters.push(dead_letter(event, self.generation, DeadLetterStatus::Parked, None, 0));
        }
        self.outcome.parked += held.len() as u64;
        segment
    }

    /// Handles `segment` on top of the buffer. When it fails, the events
    /// before the failing one are kept, the failing one is retried alone,
    /// and the events after it come back to run next; `None` when nothing
    /// is left to run.
    async fn run_segment(&mut self, segment: Vec<RecordedEvent>) -> Option<Vec<RecordedEvent>> {
        let failure = match self.try_events(segment.clone()).await {
            Ok(()) => return None,
            Err(failure) => failure,
        };
        // Keep what came before the failing event, then retry it alone.
        let mut failing_index = failure.index.unwrap_or(0).min(segment.len() - 1);
        let mut blamed = failure.index.is_some();
        if failing_index > 0 && self.try_events(segment[..failing_index].to_vec()).await.is_err() {
            // The handler failed earlier this time; go one event at a time.
            (failing_index, blamed) = (0, false);
        }
        let event = segment[failing_index].clone();
        let rest = segment[failing_index + 1..].to_vec();
        // A failure that named no event (a trap, a timeout) is not yet this
        // event's: it gets one attempt alone before any retry counts.
        let failure = match blamed || segment.len() == 1 {
            true => failure,
            false => match self.try_events(vec![event.clone()]).await {
                Ok(()) => return Some(rest),
                Err(failure) => failure,
            },
        };
        match self.retry_alone(&event, failure).await {
            Ok(()) => Some(rest),
            Err(last_failure) => self.give_up_on(event, last_failure, rest),
        }
    }

    /// One attempt; its writes and count are kept only when it succeeds.
    async fn try_events(&mut self, events: Vec<RecordedEvent>) -> Result<(), HandlerFailure> {
        if let Some((index, message)) = events.iter().enumerate().find_map(|(index, event)| self.unreadable.get(&event.id).map(|message| (index, message))) {
            return Err(HandlerFailure { index: Some(index), message: message.clone() });
        }
        let count = events.len() as u64;
        let (tried, result) = attempt(self.handler, events, self.outcome.buffer.clone()).await;
        if result.is_ok() {
            self.outcome.buffer = tried;
            self.outcome.processed += count;
            self.outcome.consecutive_failures = 0;
        }
        result
    }

    /// The policy's retries with backoff; the last failure if all fail.
    async fn retry_alone(&mut self, event: &RecordedEvent, mut last_failure: HandlerFailure) -> Result<(), HandlerFailure> {
        if self.unreadable.contains_key(&event.id) {
            // Retrying cannot help: the same migrators would fail the same way.
            return Err(last_failure);
        }
        for retry in 0..self.policy.max_retries {
            tokio::time::sleep(self.policy.retry_delay.saturating_mul(1 << retry.min(16))).await;
            match self.try_events(vec![event.clone()]).await {
                Ok(()) => return Ok(()),
                Err(failure) => last_failure = failure,
            }
        }
        Err(last_failure)
    }

    /// Records `event` as failed: a stop under stop-on-error, else a dead
    /// letter that parks its stream. Gives back what to run next, if anything.
    fn give_up_on(&mut self, event: RecordedEvent, failure: HandlerFailure, rest: Vec<RecordedEvent>) -> Option<Vec<RecordedEvent>> {
        let outcome = &mut self.outcome;
        outcome.failed += 1;
        outcome.consecutive_failures += 1;
        outcome.errors.push(ReplayErrorRecord {
            event_id: event.id,
            global_position: event.global_position,
            handler: self.handler.name().to_owned(),
            message: failure.message.clone(),
        });
        if self.policy.stop_on_error {
            outcome.stopped_before = Some(event);
            return None;
        }
        let attempts = self.policy.max_retries + 1;
        outcome.dead_letters.push(dead_letter(&event, self.generation, DeadLetterStatus::Failed, Some(failure.message), attempts));
        outcome.newly_parked.insert(stream_key(&event));
        if outcome.consecutive_failures >= self.policy.max_consecutive_failures {
            outcome.stopped_before = rest.first().cloned();
            return None;
        }
        Some(rest)
    }
}

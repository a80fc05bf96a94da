//! What a replay run reports: its counts, where it ended and why, and the
//! errors it met. Recorded with jobs, so it reads back as it was written.

use serde::Serialize;

#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct ReplayErrorRecord {
    pub event_id: uuid::Uuid,
    pub global_position: u64,
    pub handler: String,
    pub message: String,
}

/// Why a run ended before the log's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Stop-on-error, at the first event that failed after its retries.
    FailingEvent,
    /// Too many dead letters in a row with nothing handled between them.
    ConsecutiveFailures,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct ReplayResult {
    pub handler: String,
    /// The checkpoint the run resumed from and advanced, if any.
    pub checkpoint: Option<String>,
    pub generation: u64,
    pub total_events: u64,
    pub processed: u64,
    /// Events that failed after their retries.
    pub failed: u64,
    /// Events the handler does not want.
    pub skipped: u64,
    /// Events parked behind a failed event of their stream.
    pub parked: u64,
    pub success_rate: f64,
    pub duration_ms: u64,
    pub events_per_second: f64,
    /// Where the checkpoint (or, without one, the run) stands at the end.
    pub position: u64,
    pub stopped: Option<StopReason>,
    pub errors: Vec<ReplayErrorRecord>,
    /// Things the user should know, such as a --from-position the
    /// checkpoint overrode.
    pub notes: Vec<String>,
}

impl ReplayResult {
    pub(super) fn starting(handler: String, checkpoint: Option<String>, generation: u64, position: u64, notes: Vec<String>) -> Self {
        Self {
            handler,
            checkpoint,
            generation,
            total_events: 0,
            processed: 0,
            failed: 0,
            skipped: 0,
            parked: 0,
            success_rate: 1.0,
            duration_ms: 0,
            events_per_second: 0.0,
            position,
            stopped: None,
            errors: Vec::new(),
            notes,
        }
    }
}

impl ReplayResult {
    /// Adds a later run's figures to this one's.
    pub fn absorb(&mut self, later: ReplayResult) {
        self.total_events += later.total_events;
        self.processed += later.processed;
        self.failed += later.failed;
        self.skipped += later.skipped;
        self.parked += later.parked;
        self.duration_ms += later.duration_ms;
        self.events_per_second = self.processed as f64 / (self.duration_ms as f64 / 1000.0).max(1e-9);
        let attempted = self.processed + self.failed;
        self.success_rate = if attempted == 0 { 1.0 } else { self.processed as f64 / attempted as f64 };
        self.position = later.position;
        self.stopped = later.stopped;
        self.errors.extend(later.errors);
        self.notes.extend(later.notes);
    }
}

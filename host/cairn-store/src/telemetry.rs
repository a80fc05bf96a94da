//! The store's metrics. Recorded through the `metrics` facade: without an
//! installed recorder (every command but `cairn serve`) a record costs one
//! atomic load. `cairn::telemetry` lists every metric of the host.

use std::time::Instant;

use cairn_event::AppendOutcome;
use metrics::{counter, histogram};

pub const EVENTS_APPENDED: &str = "cairn_events_appended_total";
pub const APPEND_DURATION: &str = "cairn_append_duration_seconds";

/// One committed append. Events an idempotent re-send found already stored
/// are not counted again.
pub(crate) fn appended(outcome: &AppendOutcome, started: Instant) {
    histogram!(APPEND_DURATION).record(started.elapsed().as_secs_f64());
    if outcome.already_present > 0 {
        return;
    }
    let mut events = outcome.events.iter().peekable();
    while let Some(first) = events.next() {
        // Batches are usually one stream, so runs of one type count at once.
        let mut run = 1;
        while events.next_if(|next| next.aggregate_type == first.aggregate_type).is_some() {
            run += 1;
        }
        counter!(EVENTS_APPENDED, "aggregate_type" => first.aggregate_type.clone()).increment(run);
    }
}

//! How the library calls plugins: through the plugin's gate (a place among
//! its calls running at once, waited for without holding a thread), then
//! where it holds no async worker (`run_blocking`); and with events in batches bounded by bytes as well as
//! by count, so that any stream whose single events fit the store's limits
//! can be handed to a plugin within its memory.

use std::sync::Arc;

use cairn_event::{JsonText, RecordedEvent};

use crate::runtime::{AggregatePlugin, CallGate, PluginCallError};
pub use crate::store::blocking::run_blocking;

/// Events per plugin call at most.
pub const EVENTS_PER_CALL: usize = 1_000;

/// What one event costs to hand over: its payload, its metadata, and its
/// envelope of ids, names and times.
fn event_bytes(event: &RecordedEvent) -> usize {
    event.payload.len() + event.metadata.len() + event.aggregate_type.len() + event.aggregate_id.len() + event.event_type.len() + 200
}

/// `events` cut into runs of at most [`EVENTS_PER_CALL`] events and
/// `max_bytes` bytes (a plugin's `event_bytes_per_call`), in order; never
/// an empty run. One event larger than `max_bytes` goes alone.
pub fn batches(events: &[RecordedEvent], max_bytes: usize) -> Vec<&[RecordedEvent]> {
    let mut batches = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (index, event) in events.iter().enumerate() {
        let size = event_bytes(event);
        let full = index - start == EVENTS_PER_CALL || (index > start && bytes + size > max_bytes);
        if full {
            batches.push(&events[start..index]);
            (start, bytes) = (index, 0);
        }
        bytes += size;
    }
    if start < events.len() {
        batches.push(&events[start..]);
    }
    batches
}

/// Runs `work` (one or more calls of the plugin behind `gate`) once the gate
/// admits it, where it blocks no async worker (`run_blocking`: in place
/// where the runtime allows, else on a blocking thread). A panic in `work`
/// is a bug in the host; it is raised again here, where the caller's task
/// (an HTTP request, which answers 500) meets it.
pub async fn run_gated<T: Send + 'static>(gate: &CallGate, work: impl FnOnce() -> T + Send + 'static) -> T {
    let _permit = gate.admit().await;
    run_blocking(work).await
}

/// Folds `events` onto `state` (or the aggregate's initial state), one
/// plugin call per batch (`batches`), each admitted by the plugin's gate.
pub async fn fold(plugin: &Arc<AggregatePlugin>, state: Option<JsonText>, aggregate_id: &str, events: Arc<Vec<RecordedEvent>>) -> Result<JsonText, PluginCallError> {
    let mut state = match state {
        Some(state) => state,
        None => {
            let (plugin, aggregate_id) = (plugin.clone(), aggregate_id.to_owned());
            let gate = plugin.clone();
            run_gated(gate.gate(), move || plugin.initial_state(&aggregate_id)).await?
        }
    };
    let mut start = 0;
    for length in batches(&events, plugin.event_bytes_per_call()).iter().map(|batch| batch.len()).collect::<Vec<_>>() {
        let (plugin, events, folded) = (plugin.clone(), events.clone(), state);
        let gate = plugin.clone();
        state = run_gated(gate.gate(), move || plugin.apply(&folded, &events[start..start + length])).await?;
        start += length;
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_event::JsonText;

    fn event(payload_bytes: usize) -> RecordedEvent {
        let payload = JsonText::from_trusted(format!("\"{}\"", "x".repeat(payload_bytes)));
        RecordedEvent {
            id: uuid::Uuid::nil(),
            global_position: 1,
            aggregate_type: "a".into(),
            aggregate_id: "1".into(),
            stream_version: 1,
            event_type: "E".into(),
            schema_version: "1.0".into(),
            timestamp: cairn_event::time::now_micros(),
            recorded_at: cairn_event::time::now_micros(),
            payload,
            metadata: JsonText::empty_object(),
            correlation_id: None,
            causation_id: None,
            user_id: None,
            source: None,
        }
    }

    #[test]
    fn batches_are_bounded_by_count_and_bytes_and_keep_every_event_in_order() {
        let small: Vec<RecordedEvent> = (0..2_500).map(|_| event(10)).collect();
        let bound = 8 * 1024 * 1024;
        let sizes: Vec<usize> = batches(&small, bound).iter().map(|batch| batch.len()).collect();
        assert_eq!(sizes, vec![1_000, 1_000, 500]);
        let large: Vec<RecordedEvent> = (0..20).map(|_| event(1024 * 1024)).collect();
        let sizes: Vec<usize> = batches(&large, bound).iter().map(|batch| batch.len()).collect();
        assert_eq!(sizes.iter().sum::<usize>(), 20);
        assert!(sizes.iter().all(|size| *size <= 7), "{sizes:?}");
        let huge = vec![event(bound * 2)];
        assert_eq!(batches(&huge, bound).len(), 1, "one event larger than the bound goes alone");
        assert!(batches(&[], bound).is_empty());
    }
}

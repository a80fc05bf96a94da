//! Sequence validation (001_34768bf2bf442dff.txt): does a stream hold the
//! expected event types, in order? Every difference is reported by position.

use serde::Serialize;

use crate::event::StreamId;
use crate::store::{EventStore, StoreError, StreamRange};

/// One position where the stream and the expectation differ. `None` means
/// the side has no event there: the stream is shorter, or longer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SequenceDifference {
    /// 1-based, the stream version.
    pub position: u64,
    pub expected: Option<String>,
    pub actual: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SequenceReport {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub is_valid: bool,
    pub expected: Vec<String>,
    pub actual: Vec<String>,
    pub differences: Vec<SequenceDifference>,
}

pub async fn validate_sequence(store: &dyn EventStore, stream: &StreamId, expected: &[String]) -> Result<SequenceReport, StoreError> {
    let actual: Vec<String> =
        store.read_stream(stream, &StreamRange::default()).await?.into_iter().map(|event| event.event_type).collect();
    let differences: Vec<SequenceDifference> = (0..expected.len().max(actual.len()))
        .filter_map(|index| {
            let (wanted, found) = (expected.get(index), actual.get(index));
            (wanted != found).then(|| SequenceDifference {
                position: index as u64 + 1,
                expected: wanted.cloned(),
                actual: found.cloned(),
            })
        })
        .collect();
    Ok(SequenceReport {
        aggregate_type: stream.aggregate_type.clone(),
        aggregate_id: stream.aggregate_id.clone(),
        is_valid: differences.is_empty(),
        expected: expected.to_vec(),
        actual,
        differences,
    })
}

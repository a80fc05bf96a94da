//! Commands with a caller's id run once. The store keeps a record per id
//! (`cairn_store::CommandRecord`), written in the same transaction as the
//! command's events, or on its own for a command that decided nothing or
//! was rejected. Every later run of the id, a retry racing the original
//! included, answers from that record: the same events with
//! `already_executed`, the same rejection, or the same "nothing to do",
//! whatever the run decided on the newer state (the store finds the record
//! under its write lock however the run ends, and the run's own decision
//! is dropped). An id sent with another command
//! (type, stream or payload) is refused as a conflict naming the id.

use sha2::{Digest, Sha256};

use super::{CommandError, CommandOutcome, CommandRequest};
use crate::store::{CommandMark, CommandRecord, CommandResult, EventStore, LogFilter, PluginVersionRecord};

/// What identifies `request` as a command: SHA-256 over its type, its
/// stream and its payload as a JSON value with keys in order, so a retry
/// that spaces or orders its payload differently is the same command.
/// Metadata is left out: a retry may carry other tracing fields.
pub(super) fn digest(request: &CommandRequest) -> String {
    let identity = serde_json::json!([request.aggregate_type, request.aggregate_id, request.command_type, canonical(&request.payload.to_value())]);
    hex::encode(Sha256::digest(identity.to_string().as_bytes()))
}

/// The value with every object's keys sorted, whatever map order serde_json
/// was built with.
fn canonical(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|left, right| left.0.cmp(right.0));
            let mut sorted = serde_json::Map::new();
            for (key, value) in entries {
                sorted.insert(key.clone(), canonical(value));
            }
            serde_json::Value::Object(sorted)
        }
        serde_json::Value::Array(items) => serde_json::Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

pub(super) fn mark(request: &CommandRequest, command_id: &str, digest: &str, plugin: &PluginVersionRecord) -> CommandMark {
    CommandMark {
        command_id: command_id.to_owned(),
        aggregate_type: request.aggregate_type.clone(),
        aggregate_id: request.aggregate_id.clone(),
        command_type: request.command_type.clone(),
        digest: digest.to_owned(),
        plugin: plugin.name.clone(),
        plugin_version: plugin.version,
    }
}

/// The record of a command that appended nothing, or the earlier record of
/// its id if another run got there first.
pub(super) async fn record_without_events(store: &dyn EventStore, mark: CommandMark, result: CommandResult) -> Result<Option<CommandRecord>, CommandError> {
    let record = CommandRecord { mark, result, recorded_at: cairn_event::time::now_micros() };
    Ok(store.record_command(&record).await?)
}

/// Answers a command from the record of its id: as it ran then, or refused
/// when the id was used for another command.
pub(super) async fn answer_recorded(
    store: &dyn EventStore,
    request: &CommandRequest,
    digest: &str,
    record: CommandRecord,
    attempts: u32,
) -> Result<CommandOutcome, CommandError> {
    let mark = &record.mark;
    if mark.digest != digest {
        let difference = if mark.aggregate_type != request.aggregate_type || mark.aggregate_id != request.aggregate_id {
            format!("the stream {}/{}", mark.aggregate_type, mark.aggregate_id)
        } else if mark.command_type != request.command_type {
            format!("the command type {}", mark.command_type)
        } else {
            "another payload".to_owned()
        };
        return Err(CommandError::CommandIdReused { command_id: mark.command_id.clone(), difference });
    }
    let (stream_version, events) = match record.result {
        CommandResult::Rejected { message } => return Err(CommandError::Rejected { plugin: mark.plugin.clone(), message }),
        CommandResult::NothingToDo { stream_version } => (stream_version, Vec::new()),
        CommandResult::Appended { first_position, last_position, stream_version } => {
            let count = (last_position + 1).saturating_sub(first_position) as usize;
            let events = store.read_log(&LogFilter::default(), first_position.saturating_sub(1), count).await?;
            (stream_version, events)
        }
    };
    Ok(CommandOutcome {
        command_id: mark.command_id.clone(),
        aggregate_type: mark.aggregate_type.clone(),
        aggregate_id: mark.aggregate_id.clone(),
        stream_version,
        events,
        attempts,
        already_executed: true,
        plugin: mark.plugin.clone(),
        plugin_version: mark.plugin_version,
    })
}

/// How long command records are kept by default (`--command-ttl`): a
/// retry later than this runs as a new command.
pub const DEFAULT_COMMAND_TTL: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// Deletes the records of commands that ran more than `ttl` ago; answers how many.
pub async fn prune_command_records(store: &dyn EventStore, ttl: std::time::Duration) -> Result<u64, crate::store::StoreError> {
    let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
    let cutoff = cairn_event::time::now_micros().checked_sub_signed(ttl).unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
    store.prune_command_records(cutoff).await
}

/// A server's pruning task: prunes now, then every 24th of `ttl` (at least
/// a minute apart, at most an hour). A failure is logged and tried again
/// next time; records are only ever kept longer than asked, never shorter.
pub async fn keep_pruning_command_records(store: std::sync::Arc<dyn EventStore>, ttl: std::time::Duration) {
    let period = (ttl / 24).clamp(std::time::Duration::from_secs(60), std::time::Duration::from_secs(3600));
    loop {
        match prune_command_records(store.as_ref(), ttl).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "pruned command records past --command-ttl"),
            Err(error) => tracing::warn!(%error, "could not prune command records; trying again later"),
        }
        tokio::time::sleep(period).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::JsonText;

    fn request(payload: &str) -> CommandRequest {
        CommandRequest {
            aggregate_type: "account".to_owned(),
            aggregate_id: "acc-1".to_owned(),
            command_type: "Deposit".to_owned(),
            payload: JsonText::parse(payload).unwrap(),
            metadata: JsonText::parse(r#"{"user_id":"u-1"}"#).unwrap(),
            command_id: Some("c-1".to_owned()),
        }
    }

    #[test]
    fn the_same_command_spelled_differently_has_the_same_digest() {
        assert_eq!(digest(&request(r#"{"amount":10,"memo":{"b":1,"a":2}}"#)), digest(&request(r#"{ "memo": {"a": 2, "b": 1}, "amount": 10 }"#)));
        let mut other_metadata = request(r#"{"amount":10}"#);
        other_metadata.metadata = JsonText::parse(r#"{"user_id":"u-2"}"#).unwrap();
        assert_eq!(digest(&request(r#"{"amount":10}"#)), digest(&other_metadata), "metadata is not part of the command");
    }

    #[test]
    fn another_payload_type_or_stream_is_another_command() {
        let base = digest(&request(r#"{"amount":10}"#));
        assert_ne!(base, digest(&request(r#"{"amount":11}"#)));
        let mut other_type = request(r#"{"amount":10}"#);
        other_type.command_type = "Withdraw".to_owned();
        assert_ne!(base, digest(&other_type));
        let mut other_stream = request(r#"{"amount":10}"#);
        other_stream.aggregate_id = "acc-2".to_owned();
        assert_ne!(base, digest(&other_stream));
    }
}

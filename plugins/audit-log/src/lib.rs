//! Every change, per user (the audit trail of seeds 001 and 003):
//! `changes/<user>:<position>` holds one change, with keys that sort by
//! position so `cairn read-model list audit-log changes --prefix <user>:`
//! reads a user's history in order, and `users/<user>` sums it up. Events
//! without a user id are filed under `unknown`.

use std::collections::BTreeMap;

use cairn_sdk::{Event, Handler, PluginError, ReadModels};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Serialize)]
struct Change<'a> {
    event_id: &'a str,
    at: &'a str,
    aggregate_type: &'a str,
    aggregate_id: &'a str,
    stream_version: u64,
    event_type: &'a str,
    correlation_id: Option<&'a str>,
    source: Option<&'a str>,
    payload: &'a Value,
}

#[derive(Default, Serialize, Deserialize)]
struct UserSummary {
    changes: u64,
    first_change_at: Option<String>,
    last_change_at: Option<String>,
    by_aggregate_type: BTreeMap<String, u64>,
}

struct AuditLog;

impl Handler for AuditLog {
    const NAME: &'static str = "audit-log";

    fn handle(event: Event<Value>, read_models: &mut ReadModels) -> Result<(), PluginError> {
        let user = event.user_id.as_deref().filter(|user| !user.is_empty()).unwrap_or("unknown");
        let change = Change {
            event_id: &event.id,
            at: &event.timestamp,
            aggregate_type: &event.aggregate_type,
            aggregate_id: &event.aggregate_id,
            stream_version: event.stream_version,
            event_type: &event.event_type,
            correlation_id: event.correlation_id.as_deref(),
            source: event.source.as_deref(),
            payload: &event.body,
        };
        read_models.put("changes", &format!("{user}:{:020}", event.global_position), &change)?;
        let mut summary: UserSummary = read_models.get("users", user)?.unwrap_or_default();
        summary.changes += 1;
        summary.first_change_at.get_or_insert_with(|| event.timestamp.clone());
        summary.last_change_at = Some(event.timestamp.clone());
        *summary.by_aggregate_type.entry(event.aggregate_type.clone()).or_default() += 1;
        read_models.put("users", user, &summary)
    }
}

cairn_sdk::export_handler!(AuditLog);

//! The statistics of seed 001's MigrationEventHandler, from the events of
//! `migration` aggregates: `migrations/<migration id>` holds the status,
//! the times, and the counts per stage; `users/<user id>` holds each migrated
//! user. Event types are accepted in Cairn's PascalCase (`MigrationStarted`)
//! and in the seed's SCREAMING_CASE (`MIGRATION_STARTED`).

use cairn_sdk::{Event, Handler, PluginError, ReadModels};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Default, Serialize, Deserialize)]
struct MigrationStats {
    status: String,
    started_at: Option<String>,
    finished_at: Option<String>,
    error: Option<String>,
    user_count: u64,
    admin_count: u64,
    extracted_count: u64,
    transformed_count: u64,
    validated_count: u64,
    imported_count: u64,
    rollback: Option<String>,
}

/// `MIGRATION_STARTED` and `MigrationStarted` both become `migrationstarted`.
fn normalised(event_type: &str) -> String {
    event_type.chars().filter(|character| *character != '_').flat_map(char::to_lowercase).collect()
}

/// A stage event's `count`, or 1 for an event that stands for one record.
fn count(payload: &Value) -> u64 {
    payload.get("count").and_then(Value::as_u64).unwrap_or(1)
}

fn text(payload: &Value, field: &str) -> Option<String> {
    payload.get(field).and_then(Value::as_str).map(str::to_owned)
}

struct MigrationStatsHandler;

impl Handler for MigrationStatsHandler {
    const NAME: &'static str = "migration-stats";
    const AGGREGATE_TYPES: &'static [&'static str] = &["migration"];

    fn handle(event: Event<Value>, read_models: &mut ReadModels) -> Result<(), PluginError> {
        let mut stats: MigrationStats = read_models.get("migrations", &event.aggregate_id)?.unwrap_or_default();
        let payload = &event.body;
        match normalised(&event.event_type).as_str() {
            "migrationstarted" => {
                stats.status = "started".to_owned();
                stats.started_at = Some(event.timestamp.clone());
            }
            "migrationcompleted" => {
                stats.status = "completed".to_owned();
                stats.finished_at = Some(event.timestamp.clone());
            }
            "migrationfailed" => {
                stats.status = "failed".to_owned();
                stats.finished_at = Some(event.timestamp.clone());
                stats.error = text(payload, "error");
            }
            "dataextracted" => stats.extracted_count += count(payload),
            "datatransformed" => stats.transformed_count += count(payload),
            "datavalidated" => stats.validated_count += count(payload),
            "dataimported" => stats.imported_count += count(payload),
            "usermigrated" => {
                stats.user_count += 1;
                let user_id = text(payload, "user_id").ok_or_else(|| PluginError::invalid("a UserMigrated event needs a user_id"))?;
                let user = json!({
                    "username": text(payload, "username"),
                    "migration_id": event.aggregate_id,
                    "migrated_at": event.timestamp,
                });
                read_models.put("users", &user_id, &user)?;
            }
            "adminmigrated" => stats.admin_count += 1,
            "rollbackinitiated" => {
                stats.status = "rolling_back".to_owned();
                stats.rollback = Some("initiated".to_owned());
            }
            "rollbackcompleted" => {
                stats.status = "rolled_back".to_owned();
                stats.rollback = Some("completed".to_owned());
            }
            _ => return Ok(()),
        }
        read_models.put("migrations", &event.aggregate_id, &stats)
    }
}

cairn_sdk::export_handler!(MigrationStatsHandler);

//! A projection of opportunity events (seed 000): `opportunities/<id>`
//! holds each opportunity's current summary and `totals/by-status` the
//! number of opportunities per status with their total market size. It
//! reads schema 1.0 payloads (`market_size`) and the 2.0 ones the
//! opportunity migrator produces (`market_size_estimate`).

use std::collections::BTreeMap;

use cairn_sdk::{Event, Handler, PluginError, ReadModels};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Default, Serialize, Deserialize)]
struct Summary {
    title: String,
    ai_solution_type: String,
    market_size: u64,
    status: String,
    validators: Vec<String>,
    archive_reason: Option<String>,
    created_at: String,
    updated_at: String,
}

#[derive(Default, Serialize, Deserialize)]
struct StatusTotal {
    opportunities: u64,
    market_size: u64,
}

type Totals = BTreeMap<String, StatusTotal>;

fn market_size(payload: &Value) -> Option<u64> {
    payload.get("market_size").or_else(|| payload.get("market_size_estimate")).and_then(Value::as_u64)
}

fn text(payload: &Value, field: &str) -> Option<String> {
    payload.get(field).and_then(Value::as_str).map(str::to_owned)
}

struct OpportunitySummary;

impl Handler for OpportunitySummary {
    const NAME: &'static str = "opportunity-summary";
    const AGGREGATE_TYPES: &'static [&'static str] = &["opportunity"];

    fn handle(event: Event<Value>, read_models: &mut ReadModels) -> Result<(), PluginError> {
        let payload = &event.body;
        let existing: Option<Summary> = read_models.get("opportunities", &event.aggregate_id)?;
        let before = existing.as_ref().map(|summary| (summary.status.clone(), summary.market_size));
        let mut summary = existing.unwrap_or_default();
        match event.event_type.as_str() {
            "OpportunityCreated" => {
                summary.title = text(payload, "title").unwrap_or_default();
                summary.ai_solution_type = text(payload, "ai_solution_type").unwrap_or_default();
                summary.market_size = market_size(payload).unwrap_or(0);
                summary.status = "open".to_owned();
                summary.created_at = event.timestamp.clone();
            }
            "OpportunityUpdated" => {
                if let Some(title) = text(payload, "title") {
                    summary.title = title;
                }
                if let Some(solution) = text(payload, "ai_solution_type") {
                    summary.ai_solution_type = solution;
                }
                if let Some(size) = market_size(payload) {
                    summary.market_size = size;
                }
            }
            "OpportunityValidated" => {
                summary.status = "validated".to_owned();
                summary.validators.extend(text(payload, "validator"));
            }
            "OpportunityArchived" => {
                summary.status = "archived".to_owned();
                summary.archive_reason = text(payload, "reason");
            }
            _ => return Ok(()),
        }
        summary.updated_at = event.timestamp.clone();
        let mut totals: Totals = read_models.get("totals", "by-status")?.unwrap_or_default();
        if let Some((status, size)) = before {
            let total = totals.entry(status).or_default();
            total.opportunities = total.opportunities.saturating_sub(1);
            total.market_size = total.market_size.saturating_sub(size);
        }
        let total = totals.entry(summary.status.clone()).or_default();
        total.opportunities += 1;
        total.market_size += summary.market_size;
        read_models.put("totals", "by-status", &totals)?;
        read_models.put("opportunities", &event.aggregate_id, &summary)
    }
}

cairn_sdk::export_handler!(OpportunitySummary);

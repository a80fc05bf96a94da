//! Opportunity events, 1.0 → 2.0 (000_f9af0f096825d203.txt, "Migration
//! Examples"): `market_size` is renamed `market_size_estimate`,
//! `ai_solution_category` is derived from `ai_solution_type`, and
//! `confidence_score` is added at 0.7.

use cairn_sdk::{Event, Migrator, PluginError, Step};
use serde_json::Value;

pub struct OpportunityMigrator;

/// The category for each solution type the seed's system uses; an unknown
/// type keeps its own name as its category rather than failing the read.
pub fn category_of(solution_type: &str) -> String {
    match solution_type {
        "nlp" => "natural_language_processing",
        "ml" => "machine_learning",
        "cv" | "computer_vision" => "computer_vision",
        "speech" => "speech_recognition",
        "recommendation" | "recsys" => "recommendation_systems",
        "automation" | "rpa" => "process_automation",
        "analytics" | "predictive" => "predictive_analytics",
        "generative" | "genai" => "generative_ai",
        other => other,
    }
    .to_owned()
}

pub fn upgrade_payload(mut payload: Value) -> Result<Value, PluginError> {
    let object = payload.as_object_mut().ok_or_else(|| PluginError::invalid("an opportunity payload must be a JSON object"))?;
    if let Some(size) = object.remove("market_size") {
        object.insert("market_size_estimate".to_owned(), size);
    }
    if let Some(kind) = object.get("ai_solution_type").and_then(Value::as_str) {
        let category = category_of(kind);
        object.insert("ai_solution_category".to_owned(), Value::String(category));
    }
    object.insert("confidence_score".to_owned(), serde_json::json!(0.7));
    Ok(payload)
}

impl Migrator for OpportunityMigrator {
    const STEPS: &'static [Step] = &[
        Step { event_type: "OpportunityCreated", from_version: "1.0", to_version: "2.0" },
        Step { event_type: "OpportunityUpdated", from_version: "1.0", to_version: "2.0" },
    ];

    fn migrate(_step: &Step, event: Event<Value>) -> Result<Value, PluginError> {
        upgrade_payload(event.body)
    }
}

#[cfg(target_arch = "wasm32")]
cairn_sdk::export_migrator!(OpportunityMigrator);

#[cfg(test)]
mod tests {
    #[test]
    fn the_seed_example_upgrades_exactly() {
        let before = serde_json::json!({"opportunity_id":"123","title":"AI Chatbot","ai_solution_type":"nlp","market_size":1000000});
        let after = serde_json::json!({"opportunity_id":"123","title":"AI Chatbot","ai_solution_type":"nlp","market_size_estimate":1000000,"ai_solution_category":"natural_language_processing","confidence_score":0.7});
        assert_eq!(super::upgrade_payload(before).unwrap(), after);
    }
}

//! User events, 1.0 → 1.1 (000_f9af0f096825d203.txt, "Migration
//! Examples"): `expertise_domains` goes from a comma-separated string to a
//! list of trimmed names, and `user_preferences` and
//! `notification_settings` are added with their defaults. Values an event
//! already carries are kept.

use cairn_sdk::{Event, Migrator, PluginError, Step};
use serde_json::{json, Value};

pub struct UserMigrator;

pub fn upgrade_payload(mut payload: Value) -> Result<Value, PluginError> {
    let object = payload.as_object_mut().ok_or_else(|| PluginError::invalid("a user payload must be a JSON object"))?;
    if let Some(Value::String(domains)) = object.get("expertise_domains") {
        let list: Vec<Value> = domains
            .split(',')
            .map(str::trim)
            .filter(|domain| !domain.is_empty())
            .map(|domain| Value::String(domain.to_owned()))
            .collect();
        object.insert("expertise_domains".to_owned(), Value::Array(list));
    }
    object
        .entry("user_preferences")
        .or_insert_with(|| json!({"email_notifications": true, "push_notifications": true, "weekly_digest": true}));
    object
        .entry("notification_settings")
        .or_insert_with(|| json!({"frequency": "immediate", "channels": ["email"], "quiet_hours": {"enabled": false}}));
    Ok(payload)
}

impl Migrator for UserMigrator {
    const STEPS: &'static [Step] = &[
        Step { event_type: "UserRegistered", from_version: "1.0", to_version: "1.1" },
        Step { event_type: "UserProfileUpdated", from_version: "1.0", to_version: "1.1" },
    ];

    fn migrate(_step: &Step, event: Event<Value>) -> Result<Value, PluginError> {
        upgrade_payload(event.body)
    }
}

#[cfg(target_arch = "wasm32")]
cairn_sdk::export_migrator!(UserMigrator);

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn the_seed_example_upgrades_exactly() {
        let before = json!({"user_id": "456", "email": "user@example.com", "expertise_domains": "ai,machine learning,nlp"});
        let after = json!({
            "user_id": "456",
            "email": "user@example.com",
            "expertise_domains": ["ai", "machine learning", "nlp"],
            "user_preferences": {"email_notifications": true, "push_notifications": true, "weekly_digest": true},
            "notification_settings": {"frequency": "immediate", "channels": ["email"], "quiet_hours": {"enabled": false}}
        });
        assert_eq!(super::upgrade_payload(before).unwrap(), after);
    }

    #[test]
    fn a_registration_at_1_0_comes_out_at_1_1_through_the_export() {
        cairn_sdk::testing::MigratorTest::<super::UserMigrator>::event("UserRegistered", "1.0")
            .given(json!({"user_id": "7", "expertise_domains": " rust ,, wasm ", "user_preferences": {"weekly_digest": false}}))
            .then_payload(json!({
                "user_id": "7",
                "expertise_domains": ["rust", "wasm"],
                "user_preferences": {"weekly_digest": false},
                "notification_settings": {"frequency": "immediate", "channels": ["email"], "quiet_hours": {"enabled": false}}
            }));
    }

    #[test]
    fn a_payload_that_is_not_an_object_is_invalid() {
        cairn_sdk::testing::MigratorTest::<super::UserMigrator>::event("UserProfileUpdated", "1.0").given(json!([1, 2])).then_invalid("");
        cairn_sdk::testing::MigratorTest::<super::UserMigrator>::event("UserRegistered", "0.9").given(json!({})).then_invalid("no step");
    }
}

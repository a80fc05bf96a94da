//! A migrator: raises Added events from 1.0 to 2.0 by adding a unit to
//! their payload. Replace the steps and `migrate` with yours.

use cairn_sdk::{Event, Migrator, PluginError, Step};
use serde_json::Value;

pub struct AddUnit;

impl Migrator for AddUnit {
    const STEPS: &'static [Step] = &[Step { event_type: "Added", from_version: "1.0", to_version: "2.0" }];

    fn migrate(_step: &Step, event: Event<Value>) -> Result<Value, PluginError> {
        let mut payload = event.body;
        let object = payload.as_object_mut().filter(|object| object.contains_key("amount")).ok_or_else(|| PluginError::invalid("an Added payload needs amount"))?;
        object.insert("unit".to_owned(), Value::from("each"));
        Ok(payload)
    }
}

#[cfg(target_arch = "wasm32")]
cairn_sdk::export_migrator!(AddUnit);

#[cfg(test)]
mod tests {
    use cairn_sdk::testing::MigratorTest;
    use serde_json::json;

    #[test]
    fn an_added_event_gets_a_unit_and_one_without_amount_is_invalid() {
        MigratorTest::<super::AddUnit>::event("Added", "1.0").given(json!({"amount": 2})).then_payload(json!({"amount": 2, "unit": "each"}));
        MigratorTest::<super::AddUnit>::event("Added", "1.0").given(json!({})).then_invalid("needs amount");
    }
}

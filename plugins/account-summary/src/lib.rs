//! Keeps `accounts/<aggregate id>`: owner, balance, status and the number
//! of transactions, from bank-account events.

use cairn_sdk::{Event, Handler, PluginError, ReadModels};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Default, Serialize, Deserialize)]
struct AccountSummary {
    owner: Option<String>,
    balance: i64,
    status: String,
    transactions: u64,
    last_event_at: String,
}

#[derive(Deserialize)]
struct Amount {
    amount: i64,
}

#[derive(Deserialize)]
struct Opened {
    owner: String,
}

struct AccountSummaryProjection;

impl Handler for AccountSummaryProjection {
    const NAME: &'static str = "account-summary";
    const AGGREGATE_TYPES: &'static [&'static str] = &["bank-account"];

    fn handle(event: Event<Value>, read_models: &mut ReadModels) -> Result<(), PluginError> {
        let key = event.aggregate_id.clone();
        let mut summary: AccountSummary = read_models.get("accounts", &key)?.unwrap_or_default();
        match event.event_type.as_str() {
            "AccountOpened" => {
                summary.owner = Some(event.body_as::<Opened>()?.owner);
                summary.status = "open".to_owned();
            }
            "MoneyDeposited" => {
                summary.balance += event.body_as::<Amount>()?.amount;
                summary.transactions += 1;
            }
            "MoneyWithdrawn" => {
                summary.balance -= event.body_as::<Amount>()?.amount;
                summary.transactions += 1;
            }
            "AccountClosed" => summary.status = "closed".to_owned(),
            _ => return Ok(()),
        }
        summary.last_event_at = event.timestamp.clone();
        read_models.put("accounts", &key, &summary)
    }
}

cairn_sdk::export_handler!(AccountSummaryProjection);

#[cfg(test)]
mod tests {
    use cairn_sdk::testing::HandlerTest;
    use cairn_sdk::PluginError;
    use serde_json::json;

    fn event(event_type: &str, payload: serde_json::Value) -> serde_json::Value {
        json!({ "event_type": event_type, "payload": payload })
    }

    #[test]
    fn an_account_summary_follows_its_events() {
        let mut test = HandlerTest::<super::AccountSummaryProjection>::new();
        test.given("bank-account", "acc-1", &[event("AccountOpened", json!({"owner": "Ann"})), event("MoneyDeposited", json!({"amount": 300})), event("MoneyWithdrawn", json!({"amount": 120}))])
            .unwrap();
        test.given("other", "acc-2", &[event("AccountOpened", json!({"owner": "Bob"}))]).unwrap();
        test.then_document(
            "accounts",
            "acc-1",
            json!({"owner": "Ann", "balance": 180, "status": "open", "transactions": 2, "last_event_at": cairn_sdk::testing::TEST_TIMESTAMP}),
        );
        // Not a bank account: the handler never sees it.
        test.then_no_document("accounts", "acc-2");
    }

    #[test]
    fn a_deposit_without_an_amount_is_invalid_and_names_its_event() {
        let mut test = HandlerTest::<super::AccountSummaryProjection>::new();
        let failure = test.given("bank-account", "acc-1", &[event("AccountOpened", json!({"owner": "Ann"})), event("MoneyDeposited", json!({"sum": 5}))]).unwrap_err();
        assert!(matches!(failure, (1, PluginError::Invalid(_))), "{failure:?}");
        // The event before the failure is kept, as the host commits it.
        assert_eq!(test.document::<serde_json::Value>("accounts", "acc-1").unwrap()["owner"], "Ann");
    }
}

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

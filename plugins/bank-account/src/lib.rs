//! A bank account. Amounts are whole cents.
//!
//! Rules: an account is opened once; deposits and withdrawals need an open
//! account and a positive amount; a withdrawal may not overdraw; a closed
//! account accepts nothing more.

use cairn_sdk::{Aggregate, Command, Event, PluginError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Unopened,
    Open,
    Closed,
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub status: Status,
    pub owner: Option<String>,
    pub balance: i64,
    pub transactions: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "payload")]
pub enum AccountEvent {
    AccountOpened { owner: String },
    MoneyDeposited { amount: i64 },
    MoneyWithdrawn { amount: i64 },
    AccountClosed {},
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "command_type", content = "payload")]
pub enum AccountCommand {
    Open { owner: String },
    Deposit { amount: i64 },
    Withdraw { amount: i64 },
    Close {},
}

pub struct BankAccount;

impl BankAccount {
    /// The whole fold, usable natively: the benchmark compares it with the wasm build.
    pub fn fold(state: &mut Account, event: &AccountEvent) {
        match event {
            AccountEvent::AccountOpened { owner } => {
                state.status = Status::Open;
                state.owner = Some(owner.clone());
            }
            AccountEvent::MoneyDeposited { amount } => {
                state.balance += if cfg!(feature = "capped-deposits") { (*amount).min(1_000) } else { *amount };
                state.transactions += 1;
            }
            AccountEvent::MoneyWithdrawn { amount } => {
                state.balance -= amount;
                state.transactions += 1;
            }
            AccountEvent::AccountClosed {} => state.status = Status::Closed,
        }
    }
}

fn require_open(state: &Account) -> Result<(), PluginError> {
    match state.status {
        Status::Open => Ok(()),
        Status::Unopened => Err(PluginError::rejected("the account is not open")),
        Status::Closed => Err(PluginError::rejected("the account is closed")),
    }
}

fn require_positive(amount: i64) -> Result<(), PluginError> {
    if amount > 0 {
        Ok(())
    } else {
        Err(PluginError::rejected(format!("the amount must be positive, got {amount}")))
    }
}

impl Aggregate for BankAccount {
    type State = Account;
    type Event = AccountEvent;
    type Command = AccountCommand;

    const AGGREGATE_TYPE: &'static str = "bank-account";
    const STATE_VERSION: &'static str = "1";
    const SNAPSHOT_EVERY: Option<u32> = Some(100);

    fn initial_state(_aggregate_id: &str) -> Account {
        Account::default()
    }

    fn apply(state: &mut Account, event: Event<AccountEvent>) -> Result<(), PluginError> {
        Self::fold(state, &event.body);
        Ok(())
    }

    fn decide(state: &Account, command: Command<AccountCommand>) -> Result<Vec<AccountEvent>, PluginError> {
        match command.body {
            AccountCommand::Open { owner } => match state.status {
                Status::Unopened if owner.trim().is_empty() => Err(PluginError::rejected("an account needs an owner")),
                Status::Unopened => Ok(vec![AccountEvent::AccountOpened { owner }]),
                Status::Open => Err(PluginError::rejected("the account is already open")),
                Status::Closed => Err(PluginError::rejected("the account is closed")),
            },
            AccountCommand::Deposit { amount } => {
                require_open(state)?;
                require_positive(amount)?;
                Ok(vec![AccountEvent::MoneyDeposited { amount }])
            }
            AccountCommand::Withdraw { amount } => {
                require_open(state)?;
                require_positive(amount)?;
                if amount > state.balance {
                    return Err(PluginError::rejected(format!(
                        "insufficient funds: the balance is {}, the withdrawal {amount}",
                        state.balance
                    )));
                }
                Ok(vec![AccountEvent::MoneyWithdrawn { amount }])
            }
            AccountCommand::Close {} => {
                require_open(state)?;
                Ok(vec![AccountEvent::AccountClosed {}])
            }
        }
    }
}

#[cfg(target_arch = "wasm32")]
cairn_sdk::export_aggregate!(BankAccount);

#[cfg(test)]
mod tests {
    use super::{AccountCommand, AccountEvent, BankAccount};
    use cairn_sdk::testing::AggregateTest;

    fn opened() -> AccountEvent {
        AccountEvent::AccountOpened { owner: "Ann".into() }
    }

    #[test]
    fn a_deposit_into_an_open_account_is_recorded() {
        AggregateTest::<BankAccount>::new("acc-1")
            .given([opened()])
            .when(AccountCommand::Deposit { amount: 250 })
            .then_events([AccountEvent::MoneyDeposited { amount: 250 }]);
    }

    #[test]
    fn a_withdrawal_beyond_the_balance_is_rejected() {
        AggregateTest::<BankAccount>::new("acc-1")
            .given([opened(), AccountEvent::MoneyDeposited { amount: 100 }, AccountEvent::MoneyWithdrawn { amount: 40 }])
            .when(AccountCommand::Withdraw { amount: 61 })
            .then_rejected("insufficient funds: the balance is 60");
    }

    #[test]
    fn nothing_happens_to_a_closed_account() {
        AggregateTest::<BankAccount>::new("acc-1")
            .given([opened(), AccountEvent::AccountClosed {}])
            .when(AccountCommand::Deposit { amount: 1 })
            .then_rejected("the account is closed");
    }

    #[test]
    fn an_account_is_opened_once() {
        AggregateTest::<BankAccount>::new("acc-1").when(AccountCommand::Open { owner: "Ann".into() }).then_events([opened()]);
        AggregateTest::<BankAccount>::new("acc-1").given([opened()]).when(AccountCommand::Open { owner: "Bob".into() }).then_rejected("already open");
    }

    #[test]
    fn an_event_type_the_account_does_not_know_is_invalid() {
        let folded = cairn_sdk::testing::apply::<BankAccount>(
            &cairn_sdk::testing::initial_state::<BankAccount>("acc-1"),
            &[cairn_sdk::testing::StoredEvent::new("acc-1", 1, "AccountFrozen", "{}")],
        );
        assert!(matches!(folded, Err(cairn_sdk::PluginError::Invalid(_))), "{folded:?}");
    }
}

//! The bank account of `plugins/bank-account`, written for cqrs-es 0.5 (the
//! Rust event-sourcing framework a Rust user would otherwise pick), with the
//! same rules and payload fields, and a runner over its PostgreSQL and
//! SQLite repositories (postgres-es, sqlite-es). `cairn bench commands`
//! runs the same workload through it and through Cairn in one run.
//!
//! cqrs-es stores each event as its enum serialized whole, so a stored
//! payload is `{"MoneyDeposited":{"amount":5}}` where Cairn stores
//! `{"amount":5}` beside the type; otherwise the rows carry the same data.

use std::str::FromStr;

use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{Aggregate, AggregateError, CqrsFramework, DomainEvent};
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Unopened,
    Open,
    Closed,
}

/// The state, as in the plugin.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct BankAccount {
    pub status: Status,
    pub owner: Option<String>,
    pub balance: i64,
    pub transactions: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AccountEvent {
    AccountOpened { owner: String },
    MoneyDeposited { amount: i64 },
    MoneyWithdrawn { amount: i64 },
    AccountClosed {},
}

impl DomainEvent for AccountEvent {
    fn event_type(&self) -> String {
        match self {
            Self::AccountOpened { .. } => "AccountOpened",
            Self::MoneyDeposited { .. } => "MoneyDeposited",
            Self::MoneyWithdrawn { .. } => "MoneyWithdrawn",
            Self::AccountClosed {} => "AccountClosed",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub enum AccountCommand {
    Open { owner: String },
    Deposit { amount: i64 },
    Withdraw { amount: i64 },
    Close {},
}

/// A business rule refused the command.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Rejected(String);

fn require_open(state: &BankAccount) -> Result<(), Rejected> {
    match state.status {
        Status::Open => Ok(()),
        Status::Unopened => Err(Rejected("the account is not open".to_owned())),
        Status::Closed => Err(Rejected("the account is closed".to_owned())),
    }
}

fn require_positive(amount: i64) -> Result<(), Rejected> {
    if amount > 0 {
        Ok(())
    } else {
        Err(Rejected(format!("the amount must be positive, got {amount}")))
    }
}

impl BankAccount {
    fn decide(&self, command: AccountCommand) -> Result<AccountEvent, Rejected> {
        match command {
            AccountCommand::Open { owner } => match self.status {
                Status::Unopened if owner.trim().is_empty() => Err(Rejected("an account needs an owner".to_owned())),
                Status::Unopened => Ok(AccountEvent::AccountOpened { owner }),
                Status::Open => Err(Rejected("the account is already open".to_owned())),
                Status::Closed => Err(Rejected("the account is closed".to_owned())),
            },
            AccountCommand::Deposit { amount } => {
                require_open(self)?;
                require_positive(amount)?;
                Ok(AccountEvent::MoneyDeposited { amount })
            }
            AccountCommand::Withdraw { amount } => {
                require_open(self)?;
                require_positive(amount)?;
                if amount > self.balance {
                    return Err(Rejected(format!("insufficient funds: the balance is {}, the withdrawal {amount}", self.balance)));
                }
                Ok(AccountEvent::MoneyWithdrawn { amount })
            }
            AccountCommand::Close {} => {
                require_open(self)?;
                Ok(AccountEvent::AccountClosed {})
            }
        }
    }
}

impl Aggregate for BankAccount {
    const TYPE: &'static str = "bank-account";
    type Command = AccountCommand;
    type Event = AccountEvent;
    type Error = Rejected;
    type Services = ();

    async fn handle(&mut self, command: AccountCommand, _services: &(), sink: &cqrs_es::event_sink::EventSink<Self>) -> Result<(), Rejected> {
        let event = self.decide(command)?;
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: AccountEvent) {
        match event {
            AccountEvent::AccountOpened { owner } => {
                self.status = Status::Open;
                self.owner = Some(owner);
            }
            AccountEvent::MoneyDeposited { amount } => {
                self.balance += amount;
                self.transactions += 1;
            }
            AccountEvent::MoneyWithdrawn { amount } => {
                self.balance -= amount;
                self.transactions += 1;
            }
            AccountEvent::AccountClosed {} => self.status = Status::Closed,
        }
    }
}

/// What one command came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Accepted,
    Rejected,
}

/// The framework over one backend, as its crates set it up by default
/// (re-reading every event of the stream on each command).
pub enum PeerFramework {
    Postgres(CqrsFramework<BankAccount, PersistedEventStore<postgres_es::PostgresEventRepository, BankAccount>>),
    Sqlite(CqrsFramework<BankAccount, PersistedEventStore<sqlite_es::SqliteEventRepository, BankAccount>>),
}

impl PeerFramework {
    /// cqrs-es on PostgreSQL, in a new schema of `url`'s database made with
    /// postgres-es's tables; the pool is postgres-es's default (10 connections).
    pub async fn postgres(url: &str, schema: &str) -> Result<Self, sqlx::Error> {
        use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
        let admin = PgPoolOptions::new().max_connections(1).connect(url).await?;
        sqlx::raw_sql(&format!("CREATE SCHEMA {schema}")).execute(&admin).await?;
        admin.close().await;
        let options = PgConnectOptions::from_str(url)?.options([("search_path", schema)]);
        let pool = PgPoolOptions::new().max_connections(10).connect_with(options).await?;
        sqlx::raw_sql(include_str!("../sql/postgres.sql")).execute(&pool).await?;
        Ok(Self::Postgres(postgres_es::postgres_cqrs(pool, Vec::new(), ())))
    }

    /// cqrs-es on SQLite: sqlite-es's default pool (WAL, synchronous=NORMAL,
    /// 10 connections) on a new file.
    pub async fn sqlite(path: &std::path::Path) -> Result<Self, sqlx::Error> {
        let pool = sqlite_es::default_sqlite_pool(&format!("sqlite://{}", path.display())).await;
        sqlx::raw_sql(include_str!("../sql/sqlite.sql")).execute(&pool).await?;
        Ok(Self::Sqlite(sqlite_es::sqlite_cqrs(pool, Vec::new(), ())))
    }

    /// Runs one command; a rejection is an outcome, anything else an error.
    pub async fn execute(&self, aggregate_id: &str, command: AccountCommand) -> Result<Outcome, String> {
        let result = match self {
            Self::Postgres(framework) => framework.execute(aggregate_id, command).await.map_err(describe),
            Self::Sqlite(framework) => framework.execute(aggregate_id, command).await.map_err(describe),
        };
        match result {
            Ok(()) => Ok(Outcome::Accepted),
            Err(None) => Ok(Outcome::Rejected),
            Err(Some(message)) => Err(message),
        }
    }
}

/// None for a business rejection; the message for any other failure.
fn describe(error: AggregateError<Rejected>) -> Option<String> {
    match error {
        AggregateError::UserError(_) => None,
        other => Some(other.to_string()),
    }
}

/// Drops a schema `postgres` made, with its tables.
pub async fn drop_postgres_schema(url: &str, schema: &str) -> Result<(), sqlx::Error> {
    let admin = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(url).await?;
    sqlx::raw_sql(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(&admin).await?;
    admin.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(events: Vec<AccountEvent>) -> BankAccount {
        let mut state = BankAccount::default();
        events.into_iter().for_each(|event| state.apply(event));
        state
    }

    #[test]
    fn the_rules_are_the_plugins() {
        let open = given(vec![AccountEvent::AccountOpened { owner: "Ann".into() }, AccountEvent::MoneyDeposited { amount: 50 }]);
        assert_eq!(open.decide(AccountCommand::Deposit { amount: 5 }).unwrap(), AccountEvent::MoneyDeposited { amount: 5 });
        assert_eq!(open.decide(AccountCommand::Withdraw { amount: 51 }).unwrap_err().0, "insufficient funds: the balance is 50, the withdrawal 51");
        assert_eq!(open.decide(AccountCommand::Open { owner: "Bo".into() }).unwrap_err().0, "the account is already open");
        assert_eq!(given(vec![]).decide(AccountCommand::Deposit { amount: 5 }).unwrap_err().0, "the account is not open");
        assert_eq!(open.decide(AccountCommand::Deposit { amount: 0 }).unwrap_err().0, "the amount must be positive, got 0");
    }
}

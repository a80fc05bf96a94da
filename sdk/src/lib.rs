#![deny(missing_docs)]
//! Write Cairn plugins in Rust: implement a plain trait, export it with one
//! macro, and build for `wasm32-wasip2`. The generated WebAssembly bindings
//! stay inside this crate; a plugin contains only domain code.
//!
//! A component exports exactly one Cairn world, so enable exactly one
//! feature: `aggregate` ([`Aggregate`], [`export_aggregate!`]), `migrator`
//! (`Migrator`, `export_migrator!`) or `handler` (`Handler`,
//! `export_handler!`).
//!
//! The crate targets contract `cairn:plugin@0.2.0`. Everything crosses the
//! boundary as JSON: events (one JSON text per batch), payloads, metadata,
//! commands and state. Typed events and commands are enums tagged the way Cairn stores
//! them, `#[serde(tag = "event_type", content = "payload")]` and
//! `#[serde(tag = "command_type", content = "payload")]`.
//!
//! Errors are [`PluginError`]: `rejected` for a business rule that refuses
//! a command (the caller sees the message as it is), `invalid` for input
//! the plugin cannot understand, `internal` for a bug. A panic also fails
//! only the one call, but reports less.
//!
//! Plugins run in a sandbox with no files, network or environment; their
//! clock always reads 2000-01-01T00:00:00Z and their random numbers are
//! seeded, so that replaying history gives the same result every time.
//! Each instance has 64 MiB of memory and each call 1 s of CPU by default.
//!
//! # Building
//!
//! ```toml
//! [lib]
//! crate-type = ["cdylib", "rlib"]   # rlib: test the plugin natively too
//!
//! [dependencies]
//! cairn-sdk = { path = "../sdk", features = ["aggregate"] }
//! serde = { version = "1", features = ["derive"] }
//! ```
//!
//! `cargo build --release --target wasm32-wasip2` produces the component;
//! `cairn plugin add target/wasm32-wasip2/release/NAME.wasm` registers it.
//!
//! # An aggregate
//!
// A doc test only where the `aggregate` feature exists; with another world's
// feature the same text shows, unrun.
#![cfg_attr(feature = "aggregate", doc = "```")]
#![cfg_attr(not(feature = "aggregate"), doc = "```text")]
//! use cairn_sdk::{Aggregate, Command, Event, PluginError};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Default, Serialize, Deserialize)]
//! pub struct Counter { value: i64 }
//!
//! #[derive(Serialize, Deserialize)]
//! #[serde(tag = "event_type", content = "payload")]
//! pub enum CounterEvent { Added { amount: i64 } }
//!
//! #[derive(Deserialize)]
//! #[serde(tag = "command_type", content = "payload")]
//! pub enum CounterCommand { Add { amount: i64 } }
//!
//! pub struct CounterAggregate;
//!
//! impl Aggregate for CounterAggregate {
//!     type State = Counter;
//!     type Event = CounterEvent;
//!     type Command = CounterCommand;
//!     const AGGREGATE_TYPE: &'static str = "counter";
//!
//!     fn initial_state(_aggregate_id: &str) -> Counter { Counter::default() }
//!
//!     fn apply(state: &mut Counter, event: Event<CounterEvent>) -> Result<(), PluginError> {
//!         match event.body { CounterEvent::Added { amount } => state.value += amount }
//!         Ok(())
//!     }
//!
//!     fn decide(state: &Counter, command: Command<CounterCommand>) -> Result<Vec<CounterEvent>, PluginError> {
//!         match command.body {
//!             CounterCommand::Add { amount } if amount <= 0 => Err(PluginError::rejected("amount must be positive")),
//!             CounterCommand::Add { amount } => Ok(vec![CounterEvent::Added { amount }]),
//!         }
//!     }
//! }
//!
//! #[cfg(target_arch = "wasm32")]
//! cairn_sdk::export_aggregate!(CounterAggregate);
//!
//! // Natively, `cairn_sdk::testing` runs the same code the host runs in
//! // wasm, given/when/then (this needs `PartialEq` and `Debug` on events):
//! use cairn_sdk::testing::AggregateTest;
//! # impl PartialEq for CounterEvent { fn eq(&self, other: &Self) -> bool { matches!((self, other), (CounterEvent::Added { amount: a }, CounterEvent::Added { amount: b }) if a == b) } }
//! # impl std::fmt::Debug for CounterEvent { fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("Added") } }
//! AggregateTest::<CounterAggregate>::new("c-1")
//!     .given([CounterEvent::Added { amount: 1 }])
//!     .when(CounterCommand::Add { amount: 2 })
//!     .then_events([CounterEvent::Added { amount: 2 }]);
//! AggregateTest::<CounterAggregate>::new("c-1").when(CounterCommand::Add { amount: 0 }).then_rejected("must be positive");
//! ```
//!
//! # A migrator
//!
//! With the `migrator` feature (`plugins/opportunity-migrator` is a complete,
//! tested one):
//!
//! ```text
//! use cairn_sdk::{Event, Migrator, PluginError, Step};
//! use serde_json::Value;
//!
//! pub struct RenameMarketSize;
//!
//! impl Migrator for RenameMarketSize {
//!     const STEPS: &'static [Step] = &[Step { event_type: "OpportunityCreated", from_version: "1.0", to_version: "2.0" }];
//!
//!     fn migrate(_step: &Step, event: Event<Value>) -> Result<Value, PluginError> {
//!         let mut payload = event.body;
//!         let object = payload.as_object_mut().ok_or_else(|| PluginError::invalid("the payload is not an object"))?;
//!         if let Some(size) = object.remove("market_size") {
//!             object.insert("market_size_estimate".to_owned(), size);
//!         }
//!         Ok(payload)
//!     }
//! }
//!
//! cairn_sdk::export_migrator!(RenameMarketSize);
//! ```
//!
//! # A handler (projection)
//!
//! With the `handler` feature (`plugins/account-summary` is a complete one):
//!
//! ```text
//! use cairn_sdk::{Event, Handler, PluginError, ReadModels};
//! use serde_json::Value;
//!
//! pub struct DepositTotals;
//!
//! impl Handler for DepositTotals {
//!     const NAME: &'static str = "deposit-totals";
//!     const EVENT_TYPES: &'static [&'static str] = &["MoneyDeposited"];
//!
//!     fn handle(event: Event<Value>, read_models: &mut ReadModels) -> Result<(), PluginError> {
//!         let amount = event.body["amount"].as_i64().unwrap_or(0);
//!         let total: i64 = read_models.get("totals", &event.aggregate_id)?.unwrap_or(0);
//!         read_models.put("totals", &event.aggregate_id, &(total + amount))
//!     }
//! }
//!
//! cairn_sdk::export_handler!(DepositTotals);
//! ```
//!
//! The plugins in this repository's `plugins/` directory are complete
//! examples of each: `bank-account` and `opportunity` (aggregates),
//! `opportunity-migrator`, and `account-summary` (a projection); each has
//! given/when/then tests through [`testing`].

#[cfg(any(
    all(feature = "aggregate", feature = "migrator"),
    all(feature = "aggregate", feature = "handler"),
    all(feature = "migrator", feature = "handler"),
))]
compile_error!("enable exactly one of the cairn-sdk features `aggregate`, `migrator` and `handler`: a component exports one Cairn world");

#[cfg(any(feature = "aggregate", feature = "migrator", feature = "handler"))]
mod batch;
mod error;
mod event;
pub mod log;

#[cfg(feature = "aggregate")]
mod aggregate;

pub use error::PluginError;
pub use event::{Command, Event};

#[cfg(feature = "aggregate")]
pub use aggregate::Aggregate;

#[cfg(any(feature = "aggregate", feature = "migrator", feature = "handler"))]
pub mod testing;

#[cfg(feature = "migrator")]
mod migrator;
#[cfg(feature = "migrator")]
pub use migrator::{Migrator, Step};

#[cfg(feature = "handler")]
mod handler;
#[cfg(feature = "handler")]
pub use handler::{Handler, ReadModels};

#[doc(hidden)]
pub mod __private {
    pub use serde_json;
    #[cfg(feature = "aggregate")]
    pub use crate::aggregate::bindings as aggregate_bindings;
    #[cfg(feature = "aggregate")]
    pub use crate::aggregate::Adapter as AggregateAdapter;
    #[cfg(feature = "migrator")]
    pub use crate::migrator::bindings as migrator_bindings;
    #[cfg(feature = "migrator")]
    pub use crate::migrator::MigratorAdapter;
    #[cfg(feature = "handler")]
    pub use crate::handler::bindings as handler_bindings;
    #[cfg(feature = "handler")]
    pub use crate::handler::HandlerAdapter;
}

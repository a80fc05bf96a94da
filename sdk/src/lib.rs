#![deny(missing_docs)]
//! Write Cairn plugins in Rust: implement a plain trait, export it with one
//! macro, and build for `wasm32-wasip2`. The generated WebAssembly bindings
//! stay inside this crate.
//!
//! Enable exactly one feature: `aggregate`, `migrator` or `handler`.
//!
//! # An aggregate
//!
//! ```ignore
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
//! cairn_sdk::export_aggregate!(CounterAggregate);
//! ```

#[cfg(any(
    all(feature = "aggregate", feature = "migrator"),
    all(feature = "aggregate", feature = "handler"),
    all(feature = "migrator", feature = "handler"),
))]
compile_error!("enable exactly one of the cairn-sdk features `aggregate`, `migrator` and `handler`: a component exports one Cairn world");

mod error;
mod event;

#[cfg(feature = "aggregate")]
mod aggregate;

pub use error::PluginError;
pub use event::{Command, Event};

#[cfg(feature = "aggregate")]
pub use aggregate::Aggregate;

#[cfg(feature = "aggregate")]
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

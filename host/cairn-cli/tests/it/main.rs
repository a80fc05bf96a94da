//! The host crate's one integration test binary.
//!
//! - `conformance`: the event-store contract, run against SQLite and, when
//!   CAIRN_TEST_POSTGRES_URL is set, PostgreSQL.
//! - `checkpoints`: named checkpoints and sequence validation, on both backends.
//! - `commands`: commands and state through aggregate plugins, on both backends.
//! - `contracts`: contract 0.1.0 and 0.2.0 plugins side by side, on both backends.
//! - `leases`: leases and fencing, through the store and the replay engine, on both backends.
//! - `migrators`: migration chains, upcasting, refusals and failures, on both backends.
//! - `notifications`: PostgreSQL's commit and registry notifications between two handles.
//! - `polyglot`: the Python and JavaScript plugins against their documented behaviour.
//! - `registry`: plugin registry storage on both backends, and the plugin host.
//! - `snapshots`: snapshots, time travel and snapshot storage, on both backends.
//! - `replay`: replays through handler plugins, on both backends.
//! - `runtime`: the plugin runtime against the components `plugins/build` makes.
//! - `two_writers`: two store handles on one store, as two processes have.
//! - `cli`: the real `cairn` binary against real SQLite files and PostgreSQL.

mod checkpoints;
mod cli;
mod commands;
mod conformance;
mod contracts;
mod leases;
mod migrators;
mod notifications;
mod polyglot;
mod registry;
mod replay;
mod runtime;
mod snapshots;
mod support;
mod tidy;
mod two_writers;

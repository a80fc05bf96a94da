//! The host crate's one integration test binary.
//!
//! - `conformance`: the event-store contract, run against SQLite and, when
//!   CAIRN_TEST_POSTGRES_URL is set, PostgreSQL.
//! - `runtime`: the plugin runtime against the components `plugins/build` makes.
//! - `cli`: the real `cairn` binary against real SQLite files and PostgreSQL.

mod cli;
mod conformance;
mod runtime;
mod support;

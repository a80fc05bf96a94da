//! End-to-end tests of the real `cairn` binary against real SQLite files and,
//! when CAIRN_TEST_POSTGRES_URL is set, the real PostgreSQL.
//!
//! - `store`: appending, reading, copying and the store's refusals.
//! - `migrators`: upcast reads, checks, dry runs, stream migration and hot-added migrators.
//! - `plugins`: the plugin registry, commands, and hot-loading in a running process.
//! - `replay`: replay jobs, kills mid-run, projections, rebuilds and dead letters.
//! - `serve`: the HTTP server: endpoints, tokens, the live stream, health.
//! - `serve_under_load`: plugin uploads and shutdown while commands flow.
//! - `commands_once`: command ids run once, however their runs race.
//! - `command_output`: the shapes of `exec`'s answers and of its input lines.

mod bench_commands;
mod cluster;
mod command_output;
mod commands_once;
mod console;
mod crash;
mod migrators;
mod durability;
mod healing;
mod hostile;
mod plugin_project;
mod plugin_try;
mod publish;
mod plugins;
mod replay;
mod serve;
mod serve_under_load;
mod store;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// One `#[test]` per backend for a test body that takes the store.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $name() {
                super::$name($crate::cli::Cairn::with_sqlite());
            })+
        }
        #[cfg(cairn_postgres)]
        mod postgres {
            $(#[test]
            fn $name() {
                super::$name($crate::cli::Cairn::with_postgres());
            })+
        }
    };
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(name)
}

pub struct Cairn {
    pub store: String,
    _directory: tempfile::TempDir,
    /// The PostgreSQL base URL and the schema this test owns, dropped at the end.
    postgres_schema: Option<(String, String)>,
}

impl Drop for Cairn {
    fn drop(&mut self) {
        if let Some((base, schema)) = &self.postgres_schema {
            let _ = Command::new("psql").args([base.as_str(), "-q", "-c", &format!("DROP SCHEMA IF EXISTS {schema} CASCADE")]).output();
        }
    }
}

impl Cairn {
    pub fn with_sqlite() -> Self {
        let directory = tempfile::tempdir().unwrap();
        let store = format!("sqlite://{}", directory.path().join("cairn.db").display());
        Self { store, _directory: directory, postgres_schema: None }
    }

    /// A store in a fresh schema of the test PostgreSQL database.
    #[cfg(cairn_postgres)]
    pub fn with_postgres() -> Self {
        let base = crate::support::postgres_base_url();
        let schema = format!("cairn_cli_{}", uuid::Uuid::now_v7().simple());
        let store = format!("{base}{}schema={schema}", if base.contains('?') { "&" } else { "?" });
        Self { store, _directory: tempfile::tempdir().unwrap(), postgres_schema: Some((base, schema)) }
    }

    pub fn directory(&self) -> &Path {
        self._directory.path()
    }

    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cairn"));
        command
            .env_remove("CAIRN_STORE")
            .env("CAIRN_STORE", &self.store)
            .env("CAIRN_LOG", "error")
            .env("CAIRN_CACHE_DIR", self.directory().join("compiled"));
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("cairn runs")
    }

    /// Registers a plugin built by `plugins/build`.
    pub fn add_plugin(&self, name: &str) {
        assert_exit(&self.run(&["plugin", "add", &crate::support::plugin_path(name).to_string_lossy()]), 0);
    }

    /// Polls `check` until it holds; fails after 60 s with `what`.
    pub fn wait_until(&self, what: &str, mut check: impl FnMut(&Cairn) -> bool) {
        let started = std::time::Instant::now();
        while !check(self) {
            assert!(started.elapsed() < std::time::Duration::from_secs(60), "timed out waiting until {what}");
            std::thread::yield_now();
        }
    }

    pub fn run_with_input(&self, args: &[&str], input: &[u8]) -> Output {
        let mut child = self.command().args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap()
    }
}

pub fn json_lines(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout).lines().map(|line| serde_json::from_str(line).expect("a JSON line")).collect()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn assert_exit(output: &Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "stdout: {}\nstderr: {}", String::from_utf8_lossy(&output.stdout), stderr(output));
}


//! The `cairn` command: parse flags, validate them into a config, call the
//! library, print. Nothing here knows how the store works, and errors reach
//! the user through one table from error kinds to exit codes (`exit.rs`).

mod append;
mod audit;
mod bench;
mod checkpoint;
mod cluster;
mod command_id;
mod dead_letter;
#[cfg(test)]
mod error_agreement;
mod exec;
mod exit;
mod migrate;
mod output;
mod plugin;
mod plugin_dev;
mod plugin_project;
mod plugin_try;
mod publish;
mod project;
mod read;
mod read_model;
mod replay;
mod sequence;
mod serve;
mod snapshot;

use std::sync::Arc;

use std::path::PathBuf;
use std::time::Duration;

use cairn::plugins::PluginHost;
use cairn::runtime::{OutputLimits, PluginRuntime, RuntimeConfig};
use cairn::store::{self, StoreLimits, StoreUrl};
use cairn::EventStore;
use clap::{Parser, Subcommand};

/// mimalloc instead of the system allocator: a read of the log allocates
/// every event's strings, and glibc's malloc and free took about a third of
/// a read-all's time (`perf`, in README's Performance section).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;


/// Cairn: an event-sourcing host with a built-in event store.
#[derive(Debug, Parser)]
#[command(name = "cairn", version, about, propagate_version = true)]
pub struct Cli {
    /// Where the store lives: sqlite://PATH (embedded, the default) or postgres://USER@HOST:PORT/DB[?schema=NAME]
    #[arg(long, global = true, env = "CAIRN_STORE", default_value = cairn::store::DEFAULT_STORE_URL)]
    store: String,

    /// Largest event payload accepted, in bytes
    #[arg(long, global = true, env = "CAIRN_MAX_PAYLOAD_BYTES", default_value_t = StoreLimits::default().max_payload_bytes)]
    max_payload_bytes: usize,

    /// What an acknowledged append survives: full (synced to disk on every commit) or normal (faster; a power cut may lose the last commits). See README, "Limits and guarantees"
    #[arg(long, global = true, env = "CAIRN_DURABILITY", default_value = "full", value_parser = ["full", "normal"])]
    durability: String,

    /// PostgreSQL: how long a statement waits for a lock before it fails, in milliseconds
    #[arg(long, global = true, env = "CAIRN_STORE_LOCK_TIMEOUT_MS", default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    store_lock_timeout_ms: u64,

    /// PostgreSQL: how long one statement may run, in milliseconds
    #[arg(long, global = true, env = "CAIRN_STORE_STATEMENT_TIMEOUT_MS", default_value_t = 60_000, value_parser = clap::value_parser!(u64).range(1..=86_400_000))]
    store_statement_timeout_ms: u64,

    /// Linear memory one plugin instance may use, in MiB
    #[arg(long, global = true, env = "CAIRN_PLUGIN_MEMORY_MIB", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    plugin_memory_mib: u32,

    /// CPU time one plugin call may take, in milliseconds
    #[arg(long, global = true, env = "CAIRN_PLUGIN_TIME_LIMIT_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=600_000))]
    plugin_time_limit_ms: u64,

    /// Calls of one plugin version that run at once; more wait their turn without holding a thread [default: 2 per core]
    #[arg(long, global = true, env = "CAIRN_PLUGIN_CONCURRENCY", value_parser = clap::value_parser!(u32).range(1..=1024))]
    plugin_concurrency: Option<u32>,

    /// Events one `decide` may propose
    #[arg(long, global = true, env = "CAIRN_PLUGIN_MAX_EVENTS", default_value_t = OutputLimits::default().events_per_decision as u64, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    plugin_max_events: u64,

    /// Bytes one plugin answer may carry: a state, a decision's payloads, a migrated event
    #[arg(long, global = true, env = "CAIRN_PLUGIN_MAX_ANSWER_BYTES", default_value_t = OutputLimits::default().answer_bytes as u64, value_parser = clap::value_parser!(u64).range(1024..=1_073_741_824))]
    plugin_max_answer_bytes: u64,

    /// Read-model writes one handler call may make
    #[arg(long, global = true, env = "CAIRN_PLUGIN_MAX_READ_MODEL_WRITES", default_value_t = OutputLimits::default().read_model_writes_per_call as u64, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    plugin_max_read_model_writes: u64,

    /// Bytes one plugin call may write to the host's log
    #[arg(long, global = true, env = "CAIRN_PLUGIN_MAX_LOG_BYTES", default_value_t = OutputLimits::default().log_bytes_per_call as u64, value_parser = clap::value_parser!(u64).range(1..=1_073_741_824))]
    plugin_max_log_bytes: u64,

    /// Where compiled plugins are cached [default: $XDG_CACHE_HOME/cairn/compiled or ~/.cache/cairn/compiled]
    #[arg(long, global = true, env = "CAIRN_CACHE_DIR", value_name = "DIR")]
    compile_cache: Option<PathBuf>,

    /// Compile plugins on every start instead of caching the machine code
    #[arg(long, global = true, conflicts_with = "compile_cache")]
    no_compile_cache: bool,

    /// Snapshot every N events for every aggregate type [default: each plugin's snapshot-every, else 100]
    #[arg(long, global = true, env = "CAIRN_SNAPSHOT_EVERY", value_parser = clap::value_parser!(u32).range(1..))]
    snapshot_every: Option<u32>,

    /// Snapshots kept per stream
    #[arg(long, global = true, env = "CAIRN_SNAPSHOT_KEEP", default_value_t = cairn::command::DEFAULT_SNAPSHOTS_KEPT)]
    snapshot_keep: usize,

    /// How long a command id is remembered, such as 7d or 12h: a retry within it answers as the first run did; after it, the id runs as a new command. `cairn serve` prunes older records
    #[arg(long, global = true, env = "CAIRN_COMMAND_TTL", default_value = "7d", value_parser = command_id::parse_ttl)]
    command_ttl: Duration,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Append one event, or a file of events (atomically), to the store
    Append(append::AppendArgs),
    /// Print the events of one stream as JSON lines
    Read(read::ReadArgs),
    /// Print the whole log, or the part that matches filters, as JSON lines
    Log(read::LogArgs),
    /// Print statistics about the store
    Stats(read::StatsArgs),
    /// Add, list and remove plugins in the store's registry
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Test, build and add a plugin project, again on every save (the author's loop)
    Dev(plugin_dev::DevArgs),
    /// Run a command through its aggregate plugin and append the events it decides
    Exec(exec::ExecArgs),
    /// Print an aggregate's state, now or at a version or instant, folded through its plugin
    State(exec::StateArgs),
    /// Create, list, delete and rebuild aggregate snapshots
    #[command(subcommand)]
    Snapshot(snapshot::SnapshotCommand),
    /// Who changed an aggregate, when, what and why
    Audit(audit::AuditArgs),
    /// Check and dry-run the migration chains of the active migrators
    #[command(subcommand)]
    Migrate(migrate::MigrateCommand),
    /// Operations on whole streams
    #[command(subcommand)]
    Stream(migrate::StreamCommand),
    /// List, set and delete named checkpoints
    #[command(subcommand)]
    Checkpoint(checkpoint::CheckpointCommand),
    /// Show what a command id did, and prune command records past --command-ttl
    #[command(subcommand)]
    CommandId(command_id::CommandIdCommand),
    /// Check that a stream holds the expected event types, in order
    ValidateSequence(sequence::ValidateSequenceArgs),
    /// Run history through handler plugins, resumable from their checkpoints; list and show recorded jobs
    Replay(replay::ReplayArgs),
    /// Keep a handler's read model up to date (catch up, then follow), or rebuild it blue/green
    Project(project::ProjectArgs),
    /// List, retry and skip the events handlers failed on
    #[command(subcommand)]
    DeadLetter(dead_letter::DeadLetterCommand),
    /// Read the documents handler plugins keep
    #[command(subcommand)]
    ReadModel(read_model::ReadModelCommand),
    /// Serve the events, commands, replay and read models over HTTP, and run the handlers as live projections
    Serve(serve::ServeArgs),
    /// Make bearer tokens for `cairn serve`
    #[command(subcommand)]
    Token(serve::TokenCommand),
    /// Publish the log to NATS JetStream, in order, each event acknowledged before the checkpoint passes it
    Publish(publish::PublishArgs),
    /// The hosts sharing this store, and which one runs each live projection
    #[command(subcommand)]
    Cluster(cluster::ClusterCommand),
    /// Measure performance against baselines taken in the same run
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

impl Cli {
    fn store_url(&self) -> anyhow::Result<StoreUrl> {
        Ok(StoreUrl::parse(&self.store)?)
    }

    fn limits(&self) -> StoreLimits {
        StoreLimits { max_payload_bytes: self.max_payload_bytes, ..StoreLimits::default() }
    }

    async fn open_store(&self) -> anyhow::Result<Arc<dyn EventStore>> {
        let url = self.store_url()?;
        let options = store::StoreOptions {
            limits: self.limits(),
            durability: store::Durability::parse(&self.durability).unwrap_or_default(),
            lock_timeout: Duration::from_millis(self.store_lock_timeout_ms),
            statement_timeout: Duration::from_millis(self.store_statement_timeout_ms),
        };
        Ok(store::open_with(&url, &options).await?)
    }

    fn runtime_config(&self) -> RuntimeConfig {
        let defaults = RuntimeConfig::default();
        RuntimeConfig {
            memory_limit_bytes: self.plugin_memory_mib as usize * 1024 * 1024,
            call_time_limit: Duration::from_millis(self.plugin_time_limit_ms),
            cache_directory: if self.no_compile_cache {
                None
            } else {
                self.compile_cache.clone().or(defaults.cache_directory)
            },
            concurrent_calls_per_plugin: self.plugin_concurrency.map_or(defaults.concurrent_calls_per_plugin, |calls| calls as usize),
            output: OutputLimits {
                events_per_decision: self.plugin_max_events as usize,
                answer_bytes: self.plugin_max_answer_bytes as usize,
                read_model_writes_per_call: self.plugin_max_read_model_writes as usize,
                log_bytes_per_call: self.plugin_max_log_bytes as usize,
            },
            ..defaults
        }
    }

    /// A command runner over the store's plugins, with the snapshot policy
    /// from the flags.
    async fn open_commands(&self, eager: bool) -> anyhow::Result<cairn::command::Commands> {
        let policy = cairn::command::SnapshotPolicy { every: self.snapshot_every, keep: self.snapshot_keep.max(1) };
        Ok(cairn::command::Commands::with_snapshot_policy(self.open_plugins(eager).await?, policy))
    }

    /// The store and its plugins. `eager` loads every active plugin now
    /// (long-running processes); otherwise each loads on first use.
    async fn open_plugins(&self, eager: bool) -> anyhow::Result<Arc<PluginHost>> {
        let store = self.open_store().await?;
        let runtime = PluginRuntime::new(self.runtime_config())?;
        Ok(PluginHost::open(store, runtime, eager).await?)
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Append(args) => append::run(&cli, args).await,
        Command::Read(args) => read::run_read(&cli, args).await,
        Command::Log(args) => read::run_log(&cli, args).await,
        Command::Stats(args) => read::run_stats(&cli, args).await,
        Command::Plugin(command) => plugin::run(&cli, command).await,
        Command::Dev(args) => plugin_dev::run(&cli, args).await,
        Command::Exec(args) => exec::run_exec(&cli, args).await,
        Command::State(args) => exec::run_state(&cli, args).await,
        Command::Snapshot(command) => snapshot::run(&cli, command).await,
        Command::Audit(args) => audit::run(&cli, args).await,
        Command::Migrate(command) => migrate::run(&cli, command).await,
        Command::Stream(command) => migrate::run_stream(&cli, command).await,
        Command::Checkpoint(command) => checkpoint::run(&cli, command).await,
        Command::CommandId(command) => command_id::run(&cli, command).await,
        Command::ValidateSequence(args) => sequence::run(&cli, args).await,
        Command::Replay(args) => replay::run(&cli, args).await,
        Command::Project(args) => project::run(&cli, args).await,
        Command::DeadLetter(command) => dead_letter::run(&cli, command).await,
        Command::ReadModel(command) => read_model::run(&cli, command).await,
        Command::Serve(args) => serve::run(&cli, args).await,
        Command::Token(command) => serve::run_token(command),
        Command::Cluster(command) => cluster::run(&cli, command).await,
        Command::Publish(args) => publish::run(&cli, args).await,
        Command::Bench(command) => bench::run(&cli, command).await,
    }
}

fn main() -> std::process::ExitCode {
    exit::run()
}

use anyhow::Context;
use cairn_bench::store::StoreBenchConfig;
use cairn_bench::BenchReport;
use clap::{Args, Subcommand};

use super::Cli;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Append and read throughput of the event store against raw baselines.
    /// Runs in a throwaway store of the --store backend; your data is never touched.
    Store(StoreBenchArgs),
    /// The plugin boundary: empty calls, apply against native code, exec
    /// latency against a plain append, and cold starts with and without the compile cache
    Plugins(PluginBenchArgs),
    /// Loading a long stream without snapshots and with snapshots every 100 events
    Snapshots(SnapshotBenchArgs),
    /// Read-all throughput with no migrators, a 1-step chain and a 2-step chain
    Migrators(MigratorBenchArgs),
    /// Replay throughput: wasm handler, native handler, raw read-all and a
    /// wasm projection over one stored log, and memory during the replay
    Replay(ReplayBenchArgs),
    /// The server under load on loopback: POST /commands throughput and p99,
    /// GET /events throughput, SSE delivery delay to 100 subscribers, each
    /// beside the same work done in-process, and an unrelated command's p99
    /// while 600 calls to a sleeping plugin are in flight
    Http(HttpBenchArgs),
    /// `cairn plugin try` of bank-account with deposits capped at 1,000 over
    /// 10,000 stored accounts, beside the engine's read of the same events
    /// and the same comparison in native Rust
    Shadow(ShadowBenchArgs),
    /// Three `cairn serve` processes on one PostgreSQL schema: commands with
    /// 1 and 3 hosts, plugin propagation between hosts, a lease take-over
    /// after kill -9, and the NATS publisher's rate, each beside the
    /// engine's own limit
    Cluster(ClusterBenchArgs),
    /// How fast each console page shows its data on a store of 1,000,000
    /// events, timed by Chromium (tests/browser/run installs it), beside a
    /// static file of the same server
    Console(ConsoleBenchArgs),
    /// Commands and cold loads through `cairn exec --commands` against the
    /// same bank account on cqrs-es 0.5, on SQLite and (with --postgres) PostgreSQL
    Commands(CommandBenchArgs),
}

#[derive(Debug, Args)]
pub struct CommandBenchArgs {
    /// Where plugins/build put bank-account.wasm
    #[arg(long, default_value = "plugins/dist")]
    plugin_directory: std::path::PathBuf,
    /// A PostgreSQL database to measure in too, each framework in schemas of its own (dropped afterwards)
    #[arg(long, env = "CAIRN_BENCH_POSTGRES_URL")]
    postgres: Option<String>,
    /// Accounts opened in workload A (and cold-loaded in B)
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    accounts: u32,
    /// Deposits to each account after it opens
    #[arg(long, default_value_t = 49, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    deposits: u32,
    /// Runs of both workloads; each figure is their median
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    runs: u32,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ConsoleBenchArgs {
    /// Where plugins/build put bank-account.wasm and account-summary.wasm
    #[arg(long, default_value = "plugins/dist")]
    plugin_directory: std::path::PathBuf,
    /// Events in the store
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(10_000..))]
    events: u64,
    /// Loads of each page; the median is reported
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    runs: u32,
    /// The script that drives the browser
    #[arg(long, default_value = "tests/browser/page-timing.mjs")]
    timing_script: std::path::PathBuf,
    /// The Chromium to drive
    #[arg(long, env = "CHROMIUM", default_value = "/usr/bin/chromium")]
    chromium: std::path::PathBuf,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct HttpBenchArgs {
    /// Where plugins/build put bank-account.wasm and test-sleep.wasm
    #[arg(long, default_value = "plugins/dist")]
    plugin_directory: std::path::PathBuf,
    #[command(flatten)]
    load: LoadArgs,
    /// Live-stream subscribers
    #[arg(long, default_value_t = 100)]
    subscribers: usize,
    /// Events appended per second while the subscribers listen
    #[arg(long, default_value_t = 200)]
    fan_out_rate: u64,
    /// Calls to the sleeping test plugin (test-sleep) in flight while an
    /// unrelated command is timed
    #[arg(long, default_value_t = 600)]
    sleeping_calls: usize,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ReplayBenchArgs {
    /// Where plugins/build put event-counter.wasm and stream-index.wasm
    #[arg(long, default_value = "plugins/dist")]
    plugin_directory: std::path::PathBuf,
    /// Events in the log
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Streams the events are spread over (one projection document each)
    #[arg(long, default_value_t = 10_000)]
    streams: u64,
    /// Events per page
    #[arg(long, default_value_t = 5_000)]
    batch_size: usize,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct MigratorBenchArgs {
    /// Where plugins/build put the components
    #[arg(long, default_value = "plugins/dist")]
    plugin_directory: std::path::PathBuf,
    /// Version-1.0 events in the throwaway store
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

/// How hard and how long an HTTP load runs.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Seconds each load runs
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Concurrent clients (kept-alive connections) per load
    #[arg(long, default_value_t = 16)]
    clients: usize,
}

impl LoadArgs {
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !(self.seconds > 0.0 && self.seconds <= 3600.0) {
            problems.push(format!("--seconds {} must be more than 0 and at most 3600", self.seconds));
        }
        if self.clients == 0 {
            problems.push("--clients must be at least 1".to_owned());
        }
        problems
    }
}

#[derive(Debug, Args)]
pub struct ClusterBenchArgs {
    /// The PostgreSQL database the hosts share, in a schema of their own (dropped afterwards)
    #[arg(long, env = "CAIRN_BENCH_POSTGRES_URL")]
    postgres: String,
    /// The NATS server the publisher's rows publish to
    #[arg(long, env = "CAIRN_NATS_URL", default_value = "nats://127.0.0.1:4222")]
    nats: String,
    /// Where plugins/build put the components
    #[arg(long, default_value = "plugins/dist")]
    plugin_directory: std::path::PathBuf,
    #[command(flatten)]
    load: LoadArgs,
    /// Events in the publisher's backlog
    #[arg(long, default_value_t = 50_000)]
    backlog: u64,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ShadowBenchArgs {
    /// Where plugins/build put bank-account.wasm and bank-account-capped.wasm
    #[arg(long, default_value = "plugins/dist")]
    plugin_directory: std::path::PathBuf,
    /// Accounts in the throwaway store, five events each
    #[arg(long, default_value_t = 10_000)]
    accounts: u64,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct SnapshotBenchArgs {
    /// Where plugins/build put the components
    #[arg(long, default_value = "plugins/dist")]
    plugin_directory: std::path::PathBuf,
    /// Events in the stream
    #[arg(long, default_value_t = 10_000)]
    stream_events: u64,
    /// Loads timed per measure
    #[arg(long, default_value_t = 200)]
    loads: usize,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct PluginBenchArgs {
    /// Where plugins/build put the components
    #[arg(long, default_value = "plugins/dist")]
    plugin_directory: std::path::PathBuf,
    /// Empty plugin calls timed for the per-call overhead
    #[arg(long, default_value_t = 20_000)]
    empty_calls: u64,
    /// Batches of 1,000 events applied, in wasm and natively
    #[arg(long, default_value_t = 200)]
    apply_batches: u64,
    /// Commands executed for the exec latency figures
    #[arg(long, default_value_t = 2_000)]
    commands: usize,
    /// Leave out the Python and JavaScript plugins (compiling the Python
    /// component alone takes seconds)
    #[arg(long)]
    rust_only: bool,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct StoreBenchArgs {
    /// Events to append in the batch measurement (and then read back)
    #[arg(long, default_value_t = 200_000)]
    events: u64,
    /// Single-event appends timed for the latency figures
    #[arg(long, default_value_t = 2_000)]
    single_appends: usize,
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

pub async fn run(cli: &Cli, command: &BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Store(args) => {
            let config = StoreBenchConfig {
                store_url: cli.store_url()?,
                events: args.events,
                single_appends: args.single_appends,
            };
            let report = cairn_bench::store::run(&config).await.context("store benchmark failed")?;
            print_report(&report, args.json)
        }
        BenchCommand::Plugins(args) => {
            let config = cairn_bench::plugins::PluginBenchConfig {
                plugin_directory: args.plugin_directory.clone(),
                empty_calls: args.empty_calls,
                apply_batches: args.apply_batches,
                commands: args.commands,
                polyglot: !args.rust_only,
            };
            let report = cairn_bench::plugins::run(&config).await.context("plugin benchmark failed")?;
            print_report(&report, args.json)
        }
        BenchCommand::Snapshots(args) => {
            let config = cairn_bench::snapshots::SnapshotBenchConfig {
                plugin_directory: args.plugin_directory.clone(),
                stream_events: args.stream_events,
                loads: args.loads,
            };
            let report = cairn_bench::snapshots::run(&config).await.context("snapshot benchmark failed")?;
            print_report(&report, args.json)
        }
        BenchCommand::Cluster(args) => run_cluster(args).await,
        BenchCommand::Shadow(args) => run_shadow(args).await,
        BenchCommand::Console(args) => run_console(args).await,
        BenchCommand::Commands(args) => run_commands(args).await,
        BenchCommand::Migrators(args) => {
            let config = cairn_bench::migrators::MigratorBenchConfig { plugin_directory: args.plugin_directory.clone(), events: args.events };
            let report = cairn_bench::migrators::run(&config).await.context("migrator benchmark failed")?;
            print_report(&report, args.json)
        }
        BenchCommand::Replay(args) => {
            if args.batch_size == 0 || args.streams == 0 {
                return Err(super::exit::UsageError("--batch-size and --streams must be at least 1".to_owned()).into());
            }
            let config = cairn_bench::replay::ReplayBenchConfig {
                plugin_directory: args.plugin_directory.clone(),
                events: args.events,
                streams: args.streams,
                batch_size: args.batch_size,
            };
            let report = cairn_bench::replay::run(&config).await.context("replay benchmark failed")?;
            print_report(&report, args.json)
        }
        BenchCommand::Http(args) => {
            let mut problems = args.load.problems();
            if args.subscribers == 0 || args.fan_out_rate == 0 {
                problems.push("--subscribers and --fan-out-rate must be at least 1".to_owned());
            }
            if !problems.is_empty() {
                return Err(super::exit::UsageError(problems.join("; ")).into());
            }
            let config = cairn_bench::http::HttpBenchConfig {
                plugin_directory: args.plugin_directory.clone(),
                duration: std::time::Duration::from_secs_f64(args.load.seconds),
                clients: args.load.clients,
                subscribers: args.subscribers,
                fan_out_rate: args.fan_out_rate,
                sleeping_calls: args.sleeping_calls,
            };
            let report = cairn_bench::http::run(&config).await.context("HTTP benchmark failed")?;
            print_report(&report, args.json)
        }
    }
}

fn print_report(report: &BenchReport, json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
        return Ok(());
    }
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED).set_header(["measure", "value", "versus baseline"]);
    for row in &report.rows {
        table.add_row([&row.measure, &row.value, &row.versus_baseline]);
    }
    println!("{}\n{table}", report.title);
    Ok(())
}

async fn run_commands(args: &CommandBenchArgs) -> anyhow::Result<()> {
    let config = cairn_bench::commands::CommandBenchConfig {
        plugin_directory: args.plugin_directory.clone(),
        postgres_url: args.postgres.clone(),
        accounts: args.accounts as usize,
        deposits: args.deposits as usize,
        runs: args.runs as usize,
    };
    let report = cairn_bench::commands::run(&config).await.context("command benchmark failed")?;
    print_report(&report, args.json)
}

async fn run_cluster(args: &ClusterBenchArgs) -> anyhow::Result<()> {
    let problems = args.load.problems();
    if !problems.is_empty() {
        return Err(super::exit::UsageError(problems.join("; ")).into());
    }
    let config = cairn_bench::cluster::ClusterBenchConfig {
        postgres_url: args.postgres.clone(),
        nats_url: args.nats.clone(),
        plugin_directory: args.plugin_directory.clone(),
        seconds: args.load.seconds,
        clients: args.load.clients,
        backlog: args.backlog.max(1),
    };
    let report = cairn_bench::cluster::run(&config).await.context("cluster benchmark failed")?;
    print_report(&report, args.json)
}

async fn run_console(args: &ConsoleBenchArgs) -> anyhow::Result<()> {
    let config = cairn_bench::console::ConsoleBenchConfig {
        plugin_directory: args.plugin_directory.clone(),
        events: args.events,
        runs: args.runs,
        timing_script: args.timing_script.clone(),
        chromium: args.chromium.clone(),
    };
    let report = cairn_bench::console::run(&config).await.context("console benchmark failed")?;
    print_report(&report, args.json)
}

async fn run_shadow(args: &ShadowBenchArgs) -> anyhow::Result<()> {
    let config = cairn_bench::shadow::ShadowBenchConfig { plugin_directory: args.plugin_directory.clone(), accounts: args.accounts };
    let report = cairn_bench::shadow::run(&config).await.context("shadow benchmark failed")?;
    print_report(&report, args.json)
}

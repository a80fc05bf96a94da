//! `cairn bench commands`: Cairn's command path against cqrs-es 0.5 (the
//! Rust framework a user would otherwise pick), the same bank-account rules
//! on the same backend, in one run:
//! - A: `accounts` accounts, each opened and then given `deposits` deposits,
//!   round-robin, one command at a time: commands/s, p50, p99 and client CPU
//!   time per command;
//! - B: a cold load of each of those accounts (then 1 + `deposits` events
//!   long), each a rejected over-large withdrawal: cold loads/s.
//!
//! Cairn runs as a user runs it, `cairn exec --commands -`, one process per
//! workload, fed a line and read a line at a time; cqrs-es runs in this
//! process (its `CqrsFramework` over postgres-es or sqlite-es, as those
//! crates set it up). Runs alternate which goes first, and each figure is
//! the median of the runs. Each run gets new stores, deleted afterwards.
//!
//! Each run also measures the engine alone (`engine.rs`): one committed
//! single-row INSERT per command and one stream read per cold load, the
//! floor under both frameworks, so a ratio between them reads against
//! what the backend allows.

mod engine;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cairn_bench_peer::{AccountCommand, Outcome, PeerFramework};

use super::{build_profile, format_latency, quantile, BenchReport, BenchRow, ScratchDirectory};
use crate::cairn_process::{self, CairnProcess, Session};

pub struct CommandBenchConfig {
    pub plugin_directory: PathBuf,
    /// The PostgreSQL database both run in (each in schemas of its own);
    /// without it only SQLite is measured.
    pub postgres_url: Option<String>,
    pub accounts: usize,
    pub deposits: usize,
    pub runs: usize,
}

/// An amount no account in the workload holds: every withdrawal of it is refused.
const OVERDRAFT: i64 = 1_000_000_000_000;

/// What one run of both workloads measured for one framework.
#[derive(Clone, Copy, Default)]
struct Figures {
    commands_per_second: f64,
    p50: Duration,
    p99: Duration,
    cpu_per_command: Duration,
    cold_loads_per_second: f64,
}

/// One command of workload A: the round decides which.
fn workload_a(accounts: usize, deposits: usize) -> impl Iterator<Item = (String, AccountCommand)> {
    (0..=deposits).flat_map(move |round| {
        (0..accounts).map(move |account| {
            let command = if round == 0 { AccountCommand::Open { owner: format!("Owner {account}") } } else { AccountCommand::Deposit { amount: 100 } };
            (format!("acc-{account}"), command)
        })
    })
}

pub async fn run(config: &CommandBenchConfig) -> anyhow::Result<BenchReport> {
    anyhow::ensure!(config.accounts > 0 && config.runs > 0, "--accounts and --runs must be at least 1");
    let plugin = config.plugin_directory.join("bank-account.wasm");
    anyhow::ensure!(plugin.is_file(), "{} is missing; build the plugins first (plugins/build)", plugin.display());
    let scratch = ScratchDirectory::new()?;
    let mut rows = Vec::new();
    let mut backends = vec![Backend::Sqlite];
    match &config.postgres_url {
        // Both frameworks connect with the same URL, so with the same TLS.
        Some(url) => backends.push(Backend::Postgres(url.clone())),
        None => rows.push(BenchRow::new("PostgreSQL", "not measured", "pass --postgres URL (or set CAIRN_BENCH_POSTGRES_URL) to measure it too")),
    }
    for backend in &backends {
        let (mut cairn, mut peer, mut engine) = (Vec::new(), Vec::new(), Vec::new());
        for run in 0..config.runs {
            let place = RunPlace { scratch: scratch.path(), run, backend };
            engine.push(engine::measure(config, &place).await?);
            // Alternate which goes first, so neither always meets a warmer machine.
            if run % 2 == 0 {
                cairn.push(measure_cairn(config, &place, &plugin).await?);
                peer.push(measure_peer(config, &place).await?);
            } else {
                peer.push(measure_peer(config, &place).await?);
                cairn.push(measure_cairn(config, &place, &plugin).await?);
            }
        }
        let (cairn, peer) = (median(&cairn), median(&peer));
        rows.extend(figure_rows(backend.name(), &cairn, &peer));
        rows.extend(engine_rows(backend.name(), &median_engine(&engine), &cairn, &peer));
    }
    let title = format!(
        "cairn bench commands ({} accounts × {} commands, then {} cold loads; median of {} runs; {})",
        config.accounts,
        config.deposits + 1,
        config.accounts,
        config.runs,
        build_profile()
    );
    Ok(BenchReport { title, rows })
}

enum Backend {
    Sqlite,
    Postgres(String),
}

impl Backend {
    fn name(&self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres(_) => "PostgreSQL",
        }
    }
}

/// Where one run keeps its stores.
struct RunPlace<'a> {
    scratch: &'a Path,
    run: usize,
    backend: &'a Backend,
}

impl RunPlace<'_> {
    fn schema(&self, framework: &str) -> String {
        format!("bench_commands_{framework}_{}_{}", std::process::id(), self.run)
    }
}

/// Whoever runs the commands: a `cairn exec` process, or cqrs-es here.
enum Client<'a> {
    Cairn(Session),
    Peer(&'a PeerFramework),
}

impl Client<'_> {
    async fn send(&mut self, account: &str, command: AccountCommand, expected: Outcome) -> anyhow::Result<()> {
        match self {
            Client::Cairn(session) => session.send(account, &command, expected),
            Client::Peer(framework) => {
                let outcome = framework.execute(account, command).await.map_err(|message| anyhow::anyhow!("cqrs-es failed on {account}: {message}"))?;
                anyhow::ensure!(outcome == expected, "cqrs-es answered {outcome:?} on {account}, where {expected:?} was due");
                Ok(())
            }
        }
    }

    /// CPU time of the process the commands run in.
    fn cpu_time(&self) -> anyhow::Result<Duration> {
        match self {
            Client::Cairn(session) => session.cpu_time(),
            Client::Peer(_) => cairn_process::cpu_time(std::process::id()),
        }
    }

    fn finish(self) -> anyhow::Result<()> {
        match self {
            Client::Cairn(session) => session.finish(),
            Client::Peer(_) => Ok(()),
        }
    }
}

/// Workload A, after a warm-up command on an account of its own: commands/s,
/// p50, p99 and CPU per command.
async fn run_workload_a(config: &CommandBenchConfig, client: &mut Client<'_>, figures: &mut Figures) -> anyhow::Result<()> {
    client.send("warm-up", AccountCommand::Open { owner: "Warm".to_owned() }, Outcome::Accepted).await?;
    let mut latencies = Vec::new();
    let (cpu_before, started) = (client.cpu_time()?, Instant::now());
    for (account, command) in workload_a(config.accounts, config.deposits) {
        let sent = Instant::now();
        client.send(&account, command, Outcome::Accepted).await?;
        latencies.push(sent.elapsed());
    }
    figures.commands_per_second = latencies.len() as f64 / started.elapsed().as_secs_f64();
    figures.cpu_per_command = (client.cpu_time()? - cpu_before) / latencies.len() as u32;
    (figures.p50, figures.p99) = (quantile(&mut latencies, 0.5), quantile(&mut latencies, 0.99));
    Ok(())
}

/// Workload B, after a warm-up command on an account of its own: one refused
/// withdrawal from each account of A, each a cold load for a client that
/// has not seen the account.
async fn run_cold_loads(config: &CommandBenchConfig, client: &mut Client<'_>, figures: &mut Figures) -> anyhow::Result<()> {
    client.send("warm-up-cold", AccountCommand::Open { owner: "Warm".to_owned() }, Outcome::Accepted).await?;
    let started = Instant::now();
    for account in 0..config.accounts {
        client.send(&format!("acc-{account}"), AccountCommand::Withdraw { amount: OVERDRAFT }, Outcome::Rejected).await?;
    }
    figures.cold_loads_per_second = config.accounts as f64 / started.elapsed().as_secs_f64();
    Ok(())
}

async fn measure_cairn(config: &CommandBenchConfig, place: &RunPlace<'_>, plugin: &Path) -> anyhow::Result<Figures> {
    // SQLite at `normal` durability, as sqlite-es runs (WAL, synchronous=NORMAL);
    // PostgreSQL with every commit synchronous, as postgres-es runs.
    let (store, durability) = match place.backend {
        Backend::Sqlite => (format!("sqlite://{}", place.scratch.join(format!("cairn-{}.db", place.run)).display()), "normal"),
        Backend::Postgres(url) => (with_parameter(url, &format!("schema={}", place.schema("cairn"))), "full"),
    };
    let cairn = CairnProcess::new(store, durability, place.scratch.join("compiled"))?;
    let figures = async {
        cairn.run(&["plugin", "add", &plugin.to_string_lossy()])?;
        let mut figures = Figures::default();
        let mut client = Client::Cairn(cairn.start()?);
        run_workload_a(config, &mut client, &mut figures).await?;
        client.finish()?;
        // Cold loads in a new process, whose caches start empty.
        let mut client = Client::Cairn(cairn.start()?);
        run_cold_loads(config, &mut client, &mut figures).await?;
        client.finish()?;
        anyhow::Ok(figures)
    }
    .await;
    if let Backend::Postgres(url) = place.backend {
        cairn_bench_peer::drop_postgres_schema(url, &place.schema("cairn")).await?;
    }
    figures
}

async fn measure_peer(config: &CommandBenchConfig, place: &RunPlace<'_>) -> anyhow::Result<Figures> {
    let framework = match place.backend {
        Backend::Sqlite => PeerFramework::sqlite(&place.scratch.join(format!("cqrs-es-{}.db", place.run))).await?,
        Backend::Postgres(url) => PeerFramework::postgres(url, &place.schema("cqrs_es")).await?,
    };
    let figures = async {
        let mut figures = Figures::default();
        let mut client = Client::Peer(&framework);
        run_workload_a(config, &mut client, &mut figures).await?;
        // cqrs-es keeps no state between commands: every command is a cold load.
        run_cold_loads(config, &mut client, &mut figures).await?;
        anyhow::Ok(figures)
    }
    .await;
    drop(framework);
    if let Backend::Postgres(url) = place.backend {
        cairn_bench_peer::drop_postgres_schema(url, &place.schema("cqrs_es")).await?;
    }
    figures
}

/// `url` with `parameter` (such as `schema=NAME`, the way `--store` takes
/// it) added to its query.
fn with_parameter(url: &str, parameter: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{parameter}")
}

/// The median over `runs` of one figure.
fn median_of<Run>(runs: &[Run], value: impl Fn(&Run) -> f64) -> f64 {
    let mut values: Vec<f64> = runs.iter().map(value).collect();
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn median_engine(runs: &[engine::EngineFigures]) -> engine::EngineFigures {
    engine::EngineFigures {
        commands_per_second: median_of(runs, |figures| figures.commands_per_second),
        cold_loads_per_second: median_of(runs, |figures| figures.cold_loads_per_second),
    }
}

fn median(runs: &[Figures]) -> Figures {
    let pick = |value: fn(&Figures) -> f64| median_of(runs, value);
    let seconds = Duration::from_secs_f64;
    Figures {
        commands_per_second: pick(|figures| figures.commands_per_second),
        p50: seconds(pick(|figures| figures.p50.as_secs_f64())),
        p99: seconds(pick(|figures| figures.p99.as_secs_f64())),
        cpu_per_command: seconds(pick(|figures| figures.cpu_per_command.as_secs_f64())),
        cold_loads_per_second: pick(|figures| figures.cold_loads_per_second),
    }
}

fn figure_rows(backend: &str, cairn: &Figures, peer: &Figures) -> Vec<BenchRow> {
    let ratio = |ours: f64, theirs: f64| format!("{:.2}× cqrs-es", ours / theirs.max(1e-12));
    let p99_ratio = format!("{:.2}× cqrs-es's p99", cairn.p99.as_secs_f64() / peer.p99.as_secs_f64().max(1e-12));
    let latency = |figures: &Figures| format!("{} / {}", format_latency(figures.p50), format_latency(figures.p99));
    let rate = |value: f64| format!("{value:.0}/s");
    vec![
        BenchRow::new(format!("{backend}: commands, cqrs-es 0.5 (baseline)"), rate(peer.commands_per_second), "baseline"),
        BenchRow::new(format!("{backend}: commands, Cairn (cairn exec --commands)"), rate(cairn.commands_per_second), ratio(cairn.commands_per_second, peer.commands_per_second)),
        BenchRow::new(format!("{backend}: command p50 / p99, cqrs-es (baseline)"), latency(peer), "baseline"),
        BenchRow::new(format!("{backend}: command p50 / p99, Cairn"), latency(cairn), p99_ratio),
        BenchRow::new(format!("{backend}: client CPU per command, cqrs-es (baseline)"), format_latency(peer.cpu_per_command), "baseline"),
        BenchRow::new(format!("{backend}: client CPU per command, Cairn"), format_latency(cairn.cpu_per_command), ratio(cairn.cpu_per_command.as_secs_f64(), peer.cpu_per_command.as_secs_f64())),
        BenchRow::new(format!("{backend}: cold loads, cqrs-es (baseline)"), rate(peer.cold_loads_per_second), "baseline"),
        BenchRow::new(format!("{backend}: cold loads, Cairn"), rate(cairn.cold_loads_per_second), ratio(cairn.cold_loads_per_second, peer.cold_loads_per_second)),
    ]
}

/// The engine's floor rows, with each framework's rate as a share of it
/// and what twice cqrs-es's rate would need of it (above 1.00: out of reach).
fn engine_rows(backend: &str, engine: &engine::EngineFigures, cairn: &Figures, peer: &Figures) -> Vec<BenchRow> {
    let shares = |limit: f64, ours: f64, theirs: f64| {
        format!("Cairn {:.2}×, cqrs-es {:.2}× of it; 2× cqrs-es is {:.2}× of it", ours / limit.max(1e-12), theirs / limit.max(1e-12), 2.0 * theirs / limit.max(1e-12))
    };
    vec![
        BenchRow::new(
            format!("{backend}: engine limit, one committed single-row INSERT per command"),
            format!("{:.0}/s", engine.commands_per_second),
            shares(engine.commands_per_second, cairn.commands_per_second, peer.commands_per_second),
        ),
        BenchRow::new(
            format!("{backend}: engine limit, one whole-stream read per cold load"),
            format!("{:.0}/s", engine.cold_loads_per_second),
            shares(engine.cold_loads_per_second, cairn.cold_loads_per_second, peer.cold_loads_per_second),
        ),
    ]
}

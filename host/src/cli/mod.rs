mod append;
mod bench;
mod exit;
mod output;
mod read;

use std::sync::Arc;

use cairn::store::{self, StoreLimits, StoreUrl};
use cairn::EventStore;
use clap::{Parser, Subcommand};

pub use exit::run;

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
        Ok(store::open(&url, self.limits()).await?)
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Append(args) => append::run(&cli, args).await,
        Command::Read(args) => read::run_read(&cli, args).await,
        Command::Log(args) => read::run_log(&cli, args).await,
        Command::Stats(args) => read::run_stats(&cli, args).await,
        Command::Bench(command) => bench::run(&cli, command).await,
    }
}

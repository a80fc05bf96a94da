use anyhow::Context;
use cairn::bench::store::StoreBenchConfig;
use cairn::bench::BenchReport;
use clap::{Args, Subcommand};

use super::Cli;

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Append and read throughput of the event store against raw baselines.
    /// Runs in a throwaway store of the --store backend; your data is never touched.
    Store(StoreBenchArgs),
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
            let report = cairn::bench::store::run(&config).await.context("store benchmark failed")?;
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

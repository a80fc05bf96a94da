use std::sync::Arc;

use anyhow::Context;
use cairn::migrate::MigrationChains;
use cairn::plugins::PluginHost;
use cairn::StreamId;
use clap::{Args, Subcommand};

use super::exit::{ProblemsFound, UsageError};
use super::Cli;

#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// Report every stored event type and version that cannot reach the newest known version
    Check(CheckArgs),
    /// Run the migration chains over the whole log without writing, and report what would happen
    DryRun(DryRunArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// JSON lines instead of a table
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct DryRunArgs {
    /// Only events of this type
    #[arg(long = "type", value_name = "TYPE")]
    event_type: Option<String>,
    /// JSON lines instead of a table, and no progress bar
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
pub enum StreamCommand {
    /// Copy a stream's events, upcast, into a new stream; nothing is deleted
    Migrate(StreamMigrateArgs),
}

#[derive(Debug, Args)]
pub struct StreamMigrateArgs {
    aggregate_type: String,
    aggregate_id: String,
    /// The new stream, as AGGREGATE_TYPE/AGGREGATE_ID
    #[arg(long, value_name = "TYPE/ID")]
    to: String,
}

async fn chains(cli: &Cli) -> anyhow::Result<(Arc<PluginHost>, Arc<MigrationChains>)> {
    let plugins = cli.open_plugins(false).await?;
    let chains = plugins.migration_chains().await?;
    Ok((plugins, chains))
}

pub async fn run(cli: &Cli, command: &MigrateCommand) -> anyhow::Result<()> {
    let (plugins, chains) = chains(cli).await?;
    let store = plugins.store();
    match command {
        MigrateCommand::Check(args) => {
            let rows = cairn::migrate::check(store.as_ref(), &chains).await?;
            let stuck = rows.iter().filter(|row| !row.ok).count();
            if args.json {
                for row in &rows {
                    println!("{}", serde_json::to_string(row)?);
                }
            } else {
                let mut table = comfy_table::Table::new();
                table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED).set_header(["event type", "stored version", "events", "reaches", "newest", ""]);
                for row in &rows {
                    table.add_row([
                        row.event_type.clone(),
                        row.schema_version.clone(),
                        row.events.to_string(),
                        row.reaches.clone(),
                        row.newest.clone(),
                        if row.ok { "ok".to_owned() } else { "cannot reach the newest".to_owned() },
                    ]);
                }
                println!("{table}");
            }
            if stuck > 0 {
                return Err(ProblemsFound(format!("{stuck} stored event type and version pairs cannot reach their newest version; add a migrator step from each")).into());
            }
        }
        MigrateCommand::DryRun(args) => {
            let bar = if args.json { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new(0) };
            bar.set_style(indicatif::ProgressStyle::with_template("{bar:40} position {pos}/{len}, {eta} left").expect("a valid progress template"));
            let rows = cairn::migrate::dry_run(store.as_ref(), &chains, args.event_type.as_deref(), |position, head| {
                bar.set_length(head);
                bar.set_position(position);
            })
            .await?;
            bar.finish_and_clear();
            if args.json {
                for row in &rows {
                    println!("{}", serde_json::to_string(row)?);
                }
            } else {
                let mut table = comfy_table::Table::new();
                table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED).set_header(["event type", "version", "events", "would upcast", "would fail", "first errors"]);
                for row in &rows {
                    table.add_row([
                        row.event_type.clone(),
                        row.schema_version.clone(),
                        row.events.to_string(),
                        row.upcast.to_string(),
                        row.failed.to_string(),
                        row.first_errors.join("\n"),
                    ]);
                }
                println!("{table}");
            }
            let failed: u64 = rows.iter().map(|row| row.failed).sum();
            if failed > 0 {
                return Err(ProblemsFound(format!("{failed} events would fail to upcast; nothing was written")).into());
            }
        }
    }
    Ok(())
}

pub async fn run_stream(cli: &Cli, command: &StreamCommand) -> anyhow::Result<()> {
    let StreamCommand::Migrate(args) = command;
    let Some((target_type, target_id)) = args.to.split_once('/').filter(|(kind, id)| !kind.is_empty() && !id.is_empty()) else {
        return Err(UsageError(format!("--to `{}` is not TYPE/ID; write it like --to opportunity-v2/opportunity-123", args.to)).into());
    };
    let (plugins, chains) = chains(cli).await?;
    let source = StreamId::new(&args.aggregate_type, &args.aggregate_id);
    let target = StreamId::new(target_type, target_id);
    let copied = cairn::migrate::migrate_stream(plugins.store().as_ref(), &chains, &source, &target)
        .await
        .with_context(|| format!("cannot migrate {source} to {target}"))?;
    println!("copied {} events from {source} to {target}, upcast; {source} is unchanged", copied.len());
    Ok(())
}

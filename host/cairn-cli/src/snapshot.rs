use clap::{Args, Subcommand};

use super::exec::command_failure;
use super::Cli;

#[derive(Debug, Subcommand)]
pub enum SnapshotCommand {
    /// Snapshot one stream now, at its current version or at --at-version
    Create(CreateArgs),
    /// List one stream's snapshots, newest first
    List(ListArgs),
    /// Delete the snapshots of an aggregate type, or of one stream
    Delete(DeleteArgs),
    /// Fold every stream of a type through the current plugin and write fresh snapshots.
    /// Re-running it after an interruption skips streams already done
    Rebuild(RebuildArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    aggregate_type: String,
    aggregate_id: String,
    #[arg(long)]
    at_version: Option<u64>,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    aggregate_type: String,
    aggregate_id: String,
    /// JSON lines (with each snapshot's state) instead of a table
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    aggregate_type: String,
    aggregate_id: Option<String>,
}

#[derive(Debug, Args)]
pub struct RebuildArgs {
    aggregate_type: String,
    /// No progress bar; print only the summary
    #[arg(long)]
    quiet: bool,
}

pub async fn run(cli: &Cli, command: &SnapshotCommand) -> anyhow::Result<()> {
    let commands = cli.open_commands(false).await?;
    match command {
        SnapshotCommand::Create(args) => {
            let state = commands
                .create_snapshot(&args.aggregate_type, &args.aggregate_id, args.at_version)
                .await
                .map_err(command_failure)?;
            println!(
                "snapshot of {}/{} written at version {} (plugin {} version {})",
                state.aggregate_type, state.aggregate_id, state.stream_version, state.plugin, state.plugin_version
            );
        }
        SnapshotCommand::List(args) => {
            let snapshots = commands.snapshots(&args.aggregate_type, &args.aggregate_id).await.map_err(command_failure)?;
            if args.json {
                for snapshot in &snapshots {
                    println!("{}", serde_json::to_string(snapshot)?);
                }
            } else if snapshots.is_empty() {
                println!("no snapshots of {}/{}", args.aggregate_type, args.aggregate_id);
            } else {
                let mut table = comfy_table::Table::new();
                table
                    .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
                    .set_header(["stream version", "state version", "plugin sha256", "state bytes", "created"]);
                for snapshot in &snapshots {
                    table.add_row([
                        snapshot.stream_version.to_string(),
                        snapshot.state_version.clone(),
                        snapshot.plugin_content_hash.chars().take(12).collect(),
                        snapshot.state.len().to_string(),
                        super::output::format_time(&snapshot.created_at),
                    ]);
                }
                println!("{table}");
            }
        }
        SnapshotCommand::Delete(args) => {
            let deleted = commands
                .delete_snapshots(&args.aggregate_type, args.aggregate_id.as_deref())
                .await
                .map_err(command_failure)?;
            println!("deleted {deleted} snapshot{}", if deleted == 1 { "" } else { "s" });
        }
        SnapshotCommand::Rebuild(args) => {
            let total = commands.count_streams(&args.aggregate_type).await.map_err(command_failure)?;
            let bar = if args.quiet { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new(total) };
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} streams, {per_sec}, {eta} left")
                    .expect("a valid progress template"),
            );
            let report = commands
                .rebuild_snapshots(&args.aggregate_type, |report| bar.set_position(report.streams))
                .await
                .map_err(command_failure)?;
            bar.finish_and_clear();
            println!(
                "{} streams of {}: {} snapshots written, {} already current",
                report.streams, args.aggregate_type, report.written, report.already_current
            );
        }
    }
    Ok(())
}

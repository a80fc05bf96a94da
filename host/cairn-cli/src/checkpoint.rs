use clap::{Args, Subcommand};

use super::exit::{NotFoundError, UsageError};
use super::Cli;

#[derive(Debug, Subcommand)]
pub enum CheckpointCommand {
    /// Every named checkpoint: position, events handled, last update
    List(ListArgs),
    /// Create or move a checkpoint, for example to re-run a replay from a position
    Set(SetArgs),
    /// Delete a checkpoint; a replay under that name then starts from the beginning
    Delete(DeleteArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// JSON lines instead of a table
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    name: String,
    /// The last global position counted as handled (0: nothing handled)
    position: u64,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    name: String,
}

pub async fn run(cli: &Cli, command: &CheckpointCommand) -> anyhow::Result<()> {
    let store = cli.open_store().await?;
    match command {
        CheckpointCommand::List(args) => {
            let checkpoints = store.checkpoints().await?;
            if args.json {
                for checkpoint in &checkpoints {
                    println!("{}", serde_json::to_string(checkpoint)?);
                }
            } else if checkpoints.is_empty() {
                println!("no checkpoints");
            } else {
                let mut table = comfy_table::Table::new();
                table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED).set_header(["name", "position", "events", "updated"]);
                for checkpoint in &checkpoints {
                    table.add_row([
                        checkpoint.name.clone(),
                        checkpoint.position.to_string(),
                        checkpoint.events.to_string(),
                        super::output::format_time(&checkpoint.updated_at),
                    ]);
                }
                println!("{table}");
            }
        }
        CheckpointCommand::Set(args) => {
            if args.name.trim().is_empty() {
                return Err(UsageError("the checkpoint name is empty; give it a name such as daily_replay".to_owned()).into());
            }
            let head = store.head_position().await?;
            if args.position > head {
                return Err(UsageError(format!(
                    "position {} is ahead of the log's end ({head}); a checkpoint can be at most {head}",
                    args.position
                ))
                .into());
            }
            let events = store.checkpoint(&args.name).await?.map_or(0, |existing| existing.events);
            let checkpoint = store.set_checkpoint(&args.name, args.position, events).await?;
            println!("checkpoint {} is at position {}", checkpoint.name, checkpoint.position);
        }
        CheckpointCommand::Delete(args) => {
            if !store.delete_checkpoint(&args.name).await? {
                let names: Vec<String> = store.checkpoints().await?.into_iter().map(|checkpoint| checkpoint.name).collect();
                let existing = if names.is_empty() { "none".to_owned() } else { names.join(", ") };
                return Err(NotFoundError(format!("no checkpoint named {}; existing: {existing}", args.name)).into());
            }
            println!("deleted checkpoint {}", args.name);
        }
    }
    Ok(())
}

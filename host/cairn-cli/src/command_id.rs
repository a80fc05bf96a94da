//! `cairn command-id`: what the store remembers of commands run with an id
//! (`exec --command-id`, `POST /commands` with `command_id` or
//! `Idempotency-Key`), and pruning it.

use clap::{Args, Subcommand};

use super::exit::{NotFoundError, UsageError};
use super::Cli;

#[derive(Debug, Subcommand)]
pub enum CommandIdCommand {
    /// What a command id did: its command, stream, plugin and result, as JSON
    Show(ShowArgs),
    /// Delete the records of commands older than --command-ttl (`cairn serve` does it by itself)
    Prune,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    command_id: String,
}

/// `7d`, `12h`, `90m`, `3600s` and their combinations; at least a second.
pub fn parse_ttl(text: &str) -> Result<std::time::Duration, String> {
    let ttl = humantime::parse_duration(text).map_err(|error| format!("`{text}` is not a duration ({error}); write it like 7d, 12h or 30m"))?;
    if ttl < std::time::Duration::from_secs(1) {
        return Err(format!("`{text}` is under a second; a command id must be remembered at least as long as a client may retry"));
    }
    Ok(ttl)
}

pub async fn run(cli: &Cli, command: &CommandIdCommand) -> anyhow::Result<()> {
    let store = cli.open_store().await?;
    match command {
        CommandIdCommand::Show(args) => {
            if args.command_id.trim().is_empty() {
                return Err(UsageError("the command id is empty".to_owned()).into());
            }
            let record = store.command_record(&args.command_id).await?.ok_or_else(|| {
                NotFoundError(format!("no record of command id {}: it never ran with this id, or its record is older than --command-ttl and was pruned", args.command_id))
            })?;
            println!("{}", serde_json::to_string(&record)?);
        }
        CommandIdCommand::Prune => {
            let pruned = cairn::command::prune_command_records(store.as_ref(), cli.command_ttl).await?;
            println!("pruned {pruned} command records older than {}", humantime::format_duration(cli.command_ttl));
        }
    }
    Ok(())
}

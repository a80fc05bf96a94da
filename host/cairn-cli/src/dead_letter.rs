use clap::{Args, Subcommand};

use super::exit::UsageError;
use super::Cli;
use cairn::replay::{DeadLetterAction, StreamRelease};

#[derive(Debug, Subcommand)]
pub enum DeadLetterCommand {
    /// Events handlers failed on, with the error and the attempts
    List(ListArgs),
    /// Run a failed event and the events parked behind it through the handler again
    Retry(RetryArgs),
    /// Drop a failed event unhandled and run the events parked behind it
    Skip { id: i64 },
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this handler's
    #[arg(long)]
    handler: Option<String>,
    /// Parked events too
    #[arg(long)]
    parked: bool,
    #[arg(long, default_value_t = 100)]
    limit: usize,
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct RetryArgs {
    /// The dead letter to retry
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    id: Option<i64>,
    /// Every dead-lettered stream (of --handler, if given)
    #[arg(long)]
    all: bool,
    #[arg(long, requires = "all")]
    handler: Option<String>,
}

pub async fn run(cli: &Cli, command: &DeadLetterCommand) -> anyhow::Result<()> {
    match command {
        DeadLetterCommand::List(args) => list(cli, args).await,
        DeadLetterCommand::Retry(args) => {
            let plugins = cli.open_plugins(false).await?;
            let releases = match args.id {
                Some(id) => vec![cairn::replay::release_stream(&plugins, id, DeadLetterAction::Retry).await?],
                None => cairn::replay::retry_all(&plugins, args.handler.as_deref()).await?,
            };
            report(&releases)
        }
        DeadLetterCommand::Skip { id } => {
            let plugins = cli.open_plugins(false).await?;
            let release = cairn::replay::release_stream(&plugins, *id, DeadLetterAction::Skip).await?;
            report(&[release])
        }
    }
}

async fn list(cli: &Cli, args: &ListArgs) -> anyhow::Result<()> {
    let letters = cli.open_store().await?.dead_letters(args.handler.as_deref(), args.parked, args.limit).await?;
    if args.json {
        for letter in &letters {
            println!("{}", serde_json::to_string(letter)?);
        }
        return Ok(());
    }
    if letters.is_empty() {
        println!("no dead letters");
        return Ok(());
    }
    let mut table = comfy_table::Table::new();
    table
        .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_header(["id", "handler", "stream", "position", "event", "status", "attempts", "error"]);
    for letter in &letters {
        table.add_row([
            letter.id.to_string(),
            letter.handler.clone(),
            format!("{}/{}", letter.aggregate_type, letter.aggregate_id),
            letter.global_position.to_string(),
            format!("{} {}", letter.event_type, letter.event_id),
            letter.status.as_str().to_owned(),
            letter.attempts.to_string(),
            letter.error.clone().unwrap_or_default(),
        ]);
    }
    println!("{table}");
    Ok(())
}

fn report(releases: &[StreamRelease]) -> anyhow::Result<()> {
    if releases.is_empty() {
        println!("no dead letters to retry");
    }
    let mut still_failing = 0;
    for release in releases {
        println!(
            "{} {}/{}: {} handled, {} skipped",
            release.handler, release.aggregate_type, release.aggregate_id, release.handled, release.skipped
        );
        if let Some(failing) = &release.still_failing {
            still_failing += 1;
            println!("  dead letter {} (event {}) failed again: {}", failing.dead_letter_id, failing.event_id, failing.error);
        }
    }
    if still_failing > 0 {
        return Err(UsageError(format!("{still_failing} stream(s) still fail; fix the handler (`cairn plugin add`) and retry, or skip the event")).into());
    }
    Ok(())
}

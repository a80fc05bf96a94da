use clap::{Args, Subcommand};

use super::append::parse_time;
use super::exit::UsageError;
use super::Cli;

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The handler plugin to run history through
    #[arg(long)]
    handler: String,
    /// Only events of this type (repeatable)
    #[arg(long = "type", value_name = "TYPE")]
    event_types: Vec<String>,
    #[arg(long)]
    aggregate_type: Option<String>,
    #[arg(long, requires = "aggregate_type")]
    aggregate_id: Option<String>,
    #[arg(long)]
    correlation_id: Option<String>,
    #[arg(long, value_parser = parse_time)]
    since: Option<chrono::DateTime<chrono::Utc>>,
    #[arg(long, value_parser = parse_time)]
    until: Option<chrono::DateTime<chrono::Utc>>,
    /// First global position to replay
    #[arg(long)]
    from_position: Option<u64>,
    /// Last global position to replay
    #[arg(long)]
    to_position: Option<u64>,
    #[arg(long, default_value_t = cairn::replay::DEFAULT_BATCH_SIZE)]
    batch_size: usize,
    /// Resume from, and advance, this checkpoint [default: handler:<NAME>]
    #[arg(long)]
    checkpoint: Option<String>,
    /// Tries per failing event before the replay stops at it
    #[arg(long, default_value_t = 3)]
    max_retries: u32,
    /// JSON instead of a progress bar and a table
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ReadModelCommand {
    /// One document
    Get { handler: String, collection: String, key: String },
    /// Documents of a collection, by key
    List {
        handler: String,
        collection: String,
        #[arg(long, default_value = "")]
        prefix: String,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

pub async fn run(cli: &Cli, args: &ReplayArgs) -> anyhow::Result<()> {
    if args.batch_size == 0 {
        return Err(UsageError("--batch-size must be at least 1".to_owned()).into());
    }
    let plugins = cli.open_plugins(false).await?;
    let options = cairn::replay::ReplayOptions {
        handler: args.handler.clone(),
        filter: cairn::store::LogFilter {
            event_types: args.event_types.clone(),
            aggregate_types: args.aggregate_type.iter().cloned().collect(),
            aggregate_id: args.aggregate_id.clone(),
            correlation_id: args.correlation_id.clone(),
            since: args.since,
            until: args.until,
            to_position: args.to_position,
            ..cairn::store::LogFilter::default()
        },
        after_position: args.from_position.map_or(0, |position| position.saturating_sub(1)),
        batch_size: args.batch_size,
        checkpoint: args.checkpoint.clone(),
        max_retries: args.max_retries,
    };
    let bar = if args.json { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new(0) };
    bar.set_style(indicatif::ProgressStyle::with_template("{bar:40} position {pos}/{len}, {per_sec}").expect("a valid progress template"));
    let result = cairn::replay::replay(&plugins, &options, |position, head| {
        bar.set_length(head);
        bar.set_position(position);
    })
    .await
    .map_err(|error| match error {
        cairn::replay::ReplayError::Plugins(unknown @ cairn::plugins::PluginHostError::UnknownHandler { .. }) => {
            UsageError(unknown.to_string()).into()
        }
        other => anyhow::Error::new(other),
    })?;
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string(&result)?);
    } else {
        if result.total_events == 0 {
            println!("no events match the filters after position {}; nothing to replay", options.after_position);
        }
        let mut table = comfy_table::Table::new();
        table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED).set_header(["result", "value"]);
        for (label, value) in [
            ("handler", result.handler.clone()),
            ("checkpoint", format!("{} at position {}", result.checkpoint, result.checkpoint_position)),
            ("total events", result.total_events.to_string()),
            ("processed", result.processed.to_string()),
            ("failed", result.failed.to_string()),
            ("skipped (not wanted by the handler)", result.skipped.to_string()),
            ("success rate", format!("{:.1}%", result.success_rate * 100.0)),
            ("duration", format!("{} ms", result.duration_ms)),
            ("events/s", format!("{:.0}", result.events_per_second)),
        ] {
            table.add_row([label.to_owned(), value]);
        }
        println!("{table}");
        for error in &result.errors {
            eprintln!("event {} (position {}) failed in {}: {}", error.event_id, error.global_position, error.handler, error.message);
        }
    }
    if result.failed > 0 {
        anyhow::bail!("the replay stopped at a failing event; fix the handler and run it again to resume from {}", result.checkpoint);
    }
    Ok(())
}

pub async fn run_read_model(cli: &Cli, command: &ReadModelCommand) -> anyhow::Result<()> {
    let store = cli.open_store().await?;
    match command {
        ReadModelCommand::Get { handler, collection, key } => match store.read_model_get(handler, collection, key).await? {
            Some(value) => println!("{value}"),
            None => return Err(UsageError(format!("no document {collection}/{key} in the read model of {handler}")).into()),
        },
        ReadModelCommand::List { handler, collection, prefix, limit } => {
            for (key, value) in store.read_model_list(handler, collection, prefix, *limit).await? {
                println!("{}", serde_json::json!({ "key": key, "value": serde_json::from_str::<serde_json::Value>(&value)? }));
            }
        }
    }
    Ok(())
}

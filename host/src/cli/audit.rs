//! `cairn audit`: who changed an aggregate, when, what and why.

use cairn::store::LogFilter;
use clap::Args;

use super::append::parse_time;
use super::Cli;

#[derive(Debug, Args)]
pub struct AuditArgs {
    aggregate_type: String,
    aggregate_id: String,
    /// Only changes at or after this RFC 3339 time
    #[arg(long, value_parser = parse_time)]
    since: Option<chrono::DateTime<chrono::Utc>>,
    /// Only changes at or before this RFC 3339 time
    #[arg(long, value_parser = parse_time)]
    until: Option<chrono::DateTime<chrono::Utc>>,
    /// Only changes by this user id
    #[arg(long)]
    user: Option<String>,
    #[arg(long)]
    correlation_id: Option<String>,
    /// Only this event type (repeatable)
    #[arg(long = "type", value_name = "TYPE")]
    event_types: Vec<String>,
    /// JSON lines (the full events) instead of a table
    #[arg(long)]
    json: bool,
}

/// Payloads longer than this are cut in the table; --json has them whole.
const PAYLOAD_COLUMN_CHARS: usize = 60;

pub async fn run(cli: &Cli, args: &AuditArgs) -> anyhow::Result<()> {
    let store = cli.open_store().await?;
    super::read::ignore_broken_pipe(print_audit(store.as_ref(), args).await)
}

async fn print_audit(store: &dyn cairn::EventStore, args: &AuditArgs) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let filter = LogFilter {
        event_types: args.event_types.clone(),
        aggregate_types: vec![args.aggregate_type.clone()],
        aggregate_id: Some(args.aggregate_id.clone()),
        correlation_id: args.correlation_id.clone(),
        user_id: args.user.clone(),
        since: args.since,
        until: args.until,
        ..LogFilter::default()
    };
    let mut table = comfy_table::Table::new();
    table
        .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_header(["version", "when", "who", "what", "payload", "why"]);
    let mut after = 0;
    let mut rows = 0u64;
    loop {
        let page = store.read_log(&filter, after, 1_000).await?;
        let Some(last) = page.last() else { break };
        after = last.global_position;
        for event in &page {
            rows += 1;
            if args.json {
                serde_json::to_writer(&mut out, event)?;
                out.write_all(b"\n")?;
                continue;
            }
            let who = match (&event.user_id, &event.source) {
                (Some(user), Some(source)) => format!("{user} via {source}"),
                (Some(user), None) => user.clone(),
                (None, Some(source)) => format!("via {source}"),
                (None, None) => "unknown".to_owned(),
            };
            let mut why = Vec::new();
            match (&event.correlation_id, &event.causation_id) {
                // A command that started its own correlation: one id says it all.
                (Some(correlation), Some(causation)) if correlation == causation => why.push(format!("command {causation}")),
                (correlation, causation) => {
                    if let Some(correlation) = correlation {
                        why.push(format!("correlation {correlation}"));
                    }
                    if let Some(causation) = causation {
                        why.push(format!("caused by {causation}"));
                    }
                }
            }
            let payload = event.payload.as_str();
            let payload = if payload.chars().count() > PAYLOAD_COLUMN_CHARS {
                format!("{}…", payload.chars().take(PAYLOAD_COLUMN_CHARS).collect::<String>())
            } else {
                payload.to_owned()
            };
            table.add_row([
                event.stream_version.to_string(),
                super::output::format_time(&event.timestamp),
                who,
                format!("{} v{}", event.event_type, event.schema_version),
                payload,
                why.join(", "),
            ]);
        }
    }
    if !args.json {
        if rows == 0 {
            writeln!(out, "no changes of {}/{} match", args.aggregate_type, args.aggregate_id)?;
        } else {
            writeln!(out, "{table}")?;
        }
    }
    out.flush()?;
    Ok(())
}

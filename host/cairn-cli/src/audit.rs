//! `cairn audit`: who changed an aggregate, when, what and why.

use cairn::read::{AuditQuery, Reader};
use cairn::StreamId;
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

/// Entries read per query.
const AUDIT_PAGE: usize = 1_000;

pub async fn run(cli: &Cli, args: &AuditArgs) -> anyhow::Result<()> {
    let reader = Reader::open(cli.open_store().await?, cli.runtime_config(), false).await?;
    super::read::ignore_broken_pipe(print_audit(&reader, args).await)
}

async fn print_audit(reader: &Reader, args: &AuditArgs) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let stream = StreamId::new(&args.aggregate_type, &args.aggregate_id);
    let query = AuditQuery {
        since: args.since,
        until: args.until,
        user_id: args.user.clone(),
        correlation_id: args.correlation_id.clone(),
        event_types: args.event_types.clone(),
    };
    let mut table = comfy_table::Table::new();
    table
        .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
        .set_header(["version", "when", "who", "what", "payload", "why"]);
    let mut after = 0;
    let mut rows = 0u64;
    loop {
        let page = reader.audit(&stream, &query, after, AUDIT_PAGE).await?;
        for entry in &page.entries {
            rows += 1;
            after = entry.global_position;
            if args.json {
                serde_json::to_writer(&mut out, entry)?;
                out.write_all(b"\n")?;
                continue;
            }
            let payload = entry.payload.as_str();
            let payload = if payload.chars().count() > PAYLOAD_COLUMN_CHARS {
                format!("{}…", payload.chars().take(PAYLOAD_COLUMN_CHARS).collect::<String>())
            } else {
                payload.to_owned()
            };
            table.add_row([
                entry.stream_version.to_string(),
                super::output::format_time(&entry.at),
                entry.who(),
                format!("{} v{}", entry.event_type, entry.schema_version),
                payload,
                entry.why(),
            ]);
        }
        if page.next_after.is_none() {
            break;
        }
    }
    if !args.json {
        if rows == 0 {
            writeln!(out, "no changes of {stream} match")?;
        } else {
            writeln!(out, "{table}")?;
        }
    }
    out.flush()?;
    Ok(())
}

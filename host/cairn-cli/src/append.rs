use std::io::Read;
use std::path::PathBuf;

use anyhow::Context;
use cairn::import::parse_event_lines;
use cairn::store::{validate_append_located, Problem};
use cairn::{AppendRequest, ExpectedVersion, JsonText, NewEvent, StoreError};
use clap::Args;

use super::exit::UsageError;
use super::output::EventPrinter;
use super::Cli;

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("single").multiple(true).conflicts_with("file")))]
pub struct AppendArgs {
    /// Aggregate type, the first half of the stream name
    #[arg(group = "single", required_unless_present = "file")]
    aggregate_type: Option<String>,
    /// Aggregate id, the second half of the stream name
    #[arg(group = "single", required_unless_present = "file")]
    aggregate_id: Option<String>,
    /// Event type, such as AccountOpened
    #[arg(group = "single", required_unless_present = "file")]
    event_type: Option<String>,
    /// The payload: any JSON value
    #[arg(group = "single", required_unless_present = "file")]
    payload: Option<String>,

    /// Append every event of a JSON-lines file (- for standard input), all or nothing
    #[arg(long, value_name = "FILE")]
    file: Option<PathBuf>,

    /// Version of the payload's schema
    #[arg(long, group = "single", default_value = "1.0")]
    schema_version: String,
    /// What the stream's version must be: any, no-stream, exists or a number
    #[arg(long, group = "single", default_value = "any")]
    expected_version: ExpectedVersion,
    #[arg(long, group = "single")]
    correlation_id: Option<String>,
    #[arg(long, group = "single")]
    causation_id: Option<String>,
    #[arg(long, group = "single")]
    user_id: Option<String>,
    /// What produced the event, such as a service name
    #[arg(long, group = "single")]
    source: Option<String>,
    /// A JSON object of metadata
    #[arg(long, group = "single")]
    metadata: Option<String>,
    /// When the event happened, RFC 3339 (to backfill history); defaults to now
    #[arg(long, group = "single", value_parser = parse_time)]
    timestamp: Option<chrono::DateTime<chrono::Utc>>,
}

pub fn parse_time(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    cairn::time::parse_rfc3339(text)
}

pub async fn run(cli: &Cli, args: &AppendArgs) -> anyhow::Result<()> {
    let limits = cli.limits();
    let (request, line_numbers) = match &args.file {
        Some(path) => {
            let text = read_input(path)?;
            let parsed = parse_event_lines(&text).map_err(|problems| UsageError(Problem::list(&problems)))?;
            (parsed.request, Some(parsed.line_numbers))
        }
        None => (single_event_request(args)?, None),
    };
    let located = |index: usize| match &line_numbers {
        Some(lines) => format!("line {}", lines[index]),
        None => String::new(),
    };
    validate_append_located(&request, &limits, &located).map_err(|error| match error {
        StoreError::Invalid(problems) => UsageError(Problem::list(&problems)),
        other => UsageError(other.to_string()),
    })?;
    let store = cli.open_store().await?;
    let event_count = request.events.len();
    let outcome = store.append(request).await.context("append failed, nothing was written")?;
    if args.file.is_some() {
        let summary = serde_json::json!({
            "events": event_count,
            "appended": event_count - outcome.already_present,
            "already_present": outcome.already_present,
            "last_global_position": outcome.events.iter().map(|event| event.global_position).max(),
        });
        println!("{summary}");
    } else {
        let mut printer = EventPrinter::new();
        for event in &outcome.events {
            printer.print(event)?;
        }
        printer.flush()?;
    }
    Ok(())
}

fn read_input(path: &PathBuf) -> anyhow::Result<String> {
    let mut text = String::new();
    if path.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut text).context("cannot read events from standard input")?;
    } else {
        text = std::fs::read_to_string(path).with_context(|| format!("cannot read events from {}", path.display()))?;
    }
    Ok(text)
}

fn single_event_request(args: &AppendArgs) -> anyhow::Result<AppendRequest> {
    let mut problems = Vec::new();
    let payload = parse_json("payload", args.payload.as_deref().unwrap_or_default(), &mut problems);
    let metadata = match &args.metadata {
        Some(text) => parse_json("--metadata", text, &mut problems),
        None => Some(JsonText::empty_object()),
    };
    let (Some(payload), Some(metadata)) = (payload, metadata) else {
        return Err(UsageError(Problem::list(&problems)).into());
    };
    let mut event = NewEvent::new(
        args.aggregate_type.clone().unwrap_or_default(),
        args.aggregate_id.clone().unwrap_or_default(),
        args.event_type.clone().unwrap_or_default(),
        payload,
    );
    event.schema_version = args.schema_version.clone();
    event.metadata = metadata;
    event.correlation_id = args.correlation_id.clone();
    event.causation_id = args.causation_id.clone();
    event.user_id = args.user_id.clone();
    event.source = args.source.clone();
    event.timestamp = args.timestamp;
    Ok(AppendRequest::to_stream(args.expected_version, vec![event]))
}

fn parse_json(what: &str, text: &str, problems: &mut Vec<Problem>) -> Option<JsonText> {
    match JsonText::parse(text) {
        Ok(json) => Some(json),
        Err(error) => {
            problems.push(Problem::new(what, format!("not valid JSON ({error})")));
            None
        }
    }
}

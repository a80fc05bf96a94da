use std::io::{BufRead, Write};
use std::path::PathBuf;

use anyhow::Context;
use cairn::command::{CommandError, CommandOutcome, CommandRequest, CommandSummary, StateTarget, DEFAULT_MAX_RETRIES};
use cairn::plugins::DEFAULT_REFRESH_INTERVAL;
use cairn::{Classified, JsonText};
use clap::Args;
use serde::{Deserialize, Serialize};

use super::exit::UsageError;
use super::Cli;

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("single").multiple(true).conflicts_with("commands")))]
pub struct ExecArgs {
    /// The aggregate type, which selects the plugin
    #[arg(group = "single", required_unless_present = "commands")]
    aggregate_type: Option<String>,
    #[arg(group = "single", required_unless_present = "commands")]
    aggregate_id: Option<String>,
    /// Such as Deposit
    #[arg(group = "single", required_unless_present = "commands")]
    command_type: Option<String>,
    /// The command's payload: any JSON value
    #[arg(group = "single", required_unless_present = "commands")]
    payload: Option<String>,
    /// A JSON object; its correlation_id and user_id are carried onto the new events
    #[arg(long, group = "single")]
    metadata: Option<String>,
    /// The command's id, which becomes each new event's causation id [default: a new UUID v7].
    /// Given, the command runs once: a retry with the id answers as the first run did (its
    /// events, rejection or nothing to do), until --command-ttl; the id with another command
    /// exits 3
    #[arg(long, group = "single")]
    command_id: Option<String>,
    /// Re-runs after a concurrency conflict before giving up
    #[arg(long, default_value_t = DEFAULT_MAX_RETRIES)]
    max_retries: u32,
    /// Run every command of a JSON-lines file (- for standard input), one result line each.
    /// Runs until the input ends, picking up plugin changes as it goes
    #[arg(long, value_name = "FILE")]
    commands: Option<PathBuf>,
    /// What an answer holds: the whole outcome with every new event, or a summary (command id,
    /// stream version, the new events' types) for a caller that needs only to know what happened
    #[arg(long, value_enum, default_value_t = OutputShape::Full)]
    output: OutputShape,
}

/// The shape of a command's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum OutputShape {
    Full,
    Summary,
}

impl OutputShape {
    fn answer(self, outcome: &CommandOutcome) -> Answer<'_> {
        match self {
            Self::Full => Answer::Full(outcome),
            Self::Summary => Answer::Summary(outcome.summary()),
        }
    }
}

/// A command's answer in the shape asked for, serialized straight to text.
#[derive(Serialize)]
#[serde(untagged)]
enum Answer<'a> {
    Full(&'a CommandOutcome),
    Summary(CommandSummary<'a>),
}

/// The result line of a command of `--commands` that succeeded.
#[derive(Serialize)]
struct SucceededLine<'a> {
    line: u64,
    ok: bool,
    outcome: Answer<'a>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").args(["at_version", "at"])))]
pub struct StateArgs {
    aggregate_type: String,
    aggregate_id: String,
    /// The state after the event at this stream version (0: the initial state)
    #[arg(long)]
    at_version: Option<u64>,
    /// The state after every event whose timestamp is at or before this RFC 3339 instant
    #[arg(long, value_parser = super::append::parse_time)]
    at: Option<chrono::DateTime<chrono::Utc>>,
    /// Print the state inside an object with the stream version and the plugin version
    #[arg(long)]
    with_version: bool,
}

/// One line of `--commands` input.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommandLine {
    aggregate_type: String,
    aggregate_id: String,
    command_type: String,
    #[serde(default = "empty_object")]
    payload: JsonText,
    #[serde(default = "empty_object")]
    metadata: JsonText,
    command_id: Option<String>,
}

fn empty_object() -> JsonText {
    JsonText::empty_object()
}

pub async fn run_exec(cli: &Cli, args: &ExecArgs) -> anyhow::Result<()> {
    if let Some(path) = &args.commands {
        return run_command_stream(cli, args, path).await;
    }
    let request = single_request(args)?;
    let commands = cli.open_commands(false).await?.with_max_retries(args.max_retries);
    let outcome = commands.execute(request).await.map_err(command_failure)?;
    println!("{}", serde_json::to_string(&args.output.answer(&outcome))?);
    commands.flush_snapshots().await;
    Ok(())
}

fn single_request(args: &ExecArgs) -> anyhow::Result<CommandRequest> {
    let mut problems = Vec::new();
    let payload = args.payload.as_deref().unwrap_or_default();
    let payload = JsonText::parse(payload)
        .map_err(|error| problems.push(format!("the payload is not JSON ({error}); quote it like '{{\"amount\":10}}'")))
        .ok();
    let metadata = match args.metadata.as_deref() {
        None => Some(JsonText::empty_object()),
        Some(text) => JsonText::parse(text)
            .map_err(|error| problems.push(format!("--metadata is not JSON ({error}); give an object like '{{\"user_id\":\"u-1\"}}'")))
            .ok(),
    };
    match (payload, metadata) {
        (Some(payload), Some(metadata)) if problems.is_empty() => Ok(CommandRequest {
            aggregate_type: args.aggregate_type.clone().unwrap_or_default(),
            aggregate_id: args.aggregate_id.clone().unwrap_or_default(),
            command_type: args.command_type.clone().unwrap_or_default(),
            payload,
            metadata,
            command_id: args.command_id.clone(),
        }),
        _ => Err(UsageError(problems.join("; ")).into()),
    }
}

/// Says who refused a rejected command; the exit code comes from the
/// error's kind, like every other failure's.
pub fn command_failure(error: CommandError) -> anyhow::Error {
    match &error {
        CommandError::Rejected { plugin, .. } => {
            let context = format!("{plugin} rejected the command");
            anyhow::Error::new(error).context(context)
        }
        _ => anyhow::Error::new(error),
    }
}

/// Runs commands as they arrive, one result line each, until the input
/// ends. A failed command is reported on its line and the stream goes on.
async fn run_command_stream(cli: &Cli, args: &ExecArgs, path: &PathBuf) -> anyhow::Result<()> {
    let commands = cli.open_commands(true).await?.with_max_retries(args.max_retries);
    let _watch = commands.plugins().watch(DEFAULT_REFRESH_INTERVAL);
    let mut input: Box<dyn BufRead + Send> = if path.as_os_str() == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(path).map_err(|error| UsageError(format!("cannot read {}: {error}", path.display())))?,
        ))
    };
    let mut failures = 0u64;
    let mut line_number = 0u64;
    loop {
        // Read where the loop runs (standard input blocks, so through
        // run_blocking): a reader thread would cost a hand-off per command.
        let (returned, read) = cairn::store::blocking::run_blocking(move || {
            let mut line = String::new();
            let read = input.read_line(&mut line).map(|bytes| (bytes > 0).then_some(line));
            (input, read)
        })
        .await;
        input = returned;
        let Some(line) = read.context("cannot read the commands")? else { break };
        let line = line.trim_end_matches(['\r', '\n']);
        line_number += 1;
        if line.trim().is_empty() {
            continue;
        }
        let result = match serde_json::from_str::<CommandLine>(line) {
            Ok(parsed) => commands
                .execute(CommandRequest {
                    aggregate_type: parsed.aggregate_type,
                    aggregate_id: parsed.aggregate_id,
                    command_type: parsed.command_type,
                    payload: parsed.payload,
                    metadata: parsed.metadata,
                    command_id: parsed.command_id,
                })
                .await
                .map_err(|error| (error.kind().code(), error.to_string())),
            Err(error) => Err((
                cairn::ErrorKind::Invalid.code(),
                format!("{error}; each line is an object with aggregate_type, aggregate_id, command_type and optionally payload, metadata and command_id"),
            )),
        };
        let report = match result {
            Ok(outcome) => serde_json::to_string(&SucceededLine { line: line_number, ok: true, outcome: args.output.answer(&outcome) })?,
            Err((kind, message)) => {
                failures += 1;
                serde_json::json!({ "line": line_number, "ok": false, "error": kind, "message": message }).to_string()
            }
        };
        let mut out = std::io::stdout().lock();
        writeln!(out, "{report}")?;
        out.flush()?;
    }
    commands.flush_snapshots().await;
    if failures > 0 {
        anyhow::bail!("{failures} of {line_number} commands failed; their lines say why");
    }
    Ok(())
}

pub async fn run_state(cli: &Cli, args: &StateArgs) -> anyhow::Result<()> {
    let commands = cli.open_commands(false).await?;
    let target = match (args.at_version, args.at) {
        (Some(version), _) => StateTarget::AtVersion(version),
        (None, Some(instant)) => StateTarget::AtInstant(instant),
        (None, None) => StateTarget::Latest,
    };
    let state = commands.state_at(&args.aggregate_type, &args.aggregate_id, target).await.map_err(command_failure)?;
    if let Some(note) = &state.note {
        eprintln!("note: {note}");
    }
    if args.with_version {
        println!("{}", serde_json::to_string(&state)?);
    } else {
        println!("{}", state.state);
    }
    commands.flush_snapshots().await;
    Ok(())
}

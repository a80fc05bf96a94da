use std::time::Duration;

use clap::{Args, Subcommand};

use super::append::parse_time;
use super::exit::{NotFoundError, UsageError};
use super::Cli;
use cairn::replay::{CheckpointChoice, FailurePolicy, JobRequest, ReplayOptions, ReplayResult, StopReason};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ReplayArgs {
    #[command(subcommand)]
    command: Option<ReplayCommand>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum ReplayCommand {
    /// Recorded replay jobs, latest first
    List {
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// One recorded job: its options, progress and result
    Show {
        id: uuid::Uuid,
        #[arg(long)]
        json: bool,
    },
}

/// How handlers run: shared by `replay`, `project` and `project rebuild`.
#[derive(Debug, Args)]
pub struct HandlingArgs {
    /// Events per page; each page commits with its checkpoint
    #[arg(long, default_value_t = cairn::replay::DEFAULT_BATCH_SIZE)]
    batch_size: usize,
    /// Pause between pages, to spare a busy store
    #[arg(long, value_name = "MS", default_value_t = 0)]
    delay_between_batches: u64,
    /// Stop at the first event that fails after its retries, instead of
    /// dead-lettering it and parking its stream
    #[arg(long)]
    stop_on_error: bool,
    /// Retries of a failing event before it is dead-lettered
    #[arg(long, default_value_t = 3)]
    max_retries: u32,
    /// Delay before the first retry, doubled before each further one
    #[arg(long, value_name = "MS", default_value_t = 100)]
    retry_delay: u64,
    /// Dead letters in a row, with nothing handled between, that stop the run
    #[arg(long, default_value_t = 10)]
    max_consecutive_failures: u32,
    /// Streams are split among this many workers by hash; each stream's
    /// events stay in order on one worker
    #[arg(long, default_value_t = 1)]
    workers: usize,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// A handler plugin to run history through (repeatable)
    #[arg(long = "handler", value_name = "NAME")]
    handlers: Vec<String>,
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
    /// Resume from, and advance, this checkpoint (with several handlers, NAME:HANDLER for each) [default: handler:<NAME>,
    /// or none when filtering by anything but position]
    #[arg(long)]
    checkpoint: Option<String>,
    #[command(flatten)]
    handling: HandlingArgs,
    /// JSON instead of a progress bar and a table
    #[arg(long)]
    json: bool,
}

impl HandlingArgs {
    /// Options with every problem in the flags reported at once.
    pub fn options(&self, problems: &mut Vec<String>) -> ReplayOptions {
        if self.batch_size == 0 {
            problems.push("--batch-size must be at least 1".to_owned());
        } else if self.batch_size > cairn::replay::MAX_BATCH_SIZE {
            problems.push(format!("--batch-size {} is over the most, {}", self.batch_size, cairn::replay::MAX_BATCH_SIZE));
        }
        if self.workers == 0 {
            problems.push("--workers must be at least 1".to_owned());
        } else if self.workers > cairn::replay::max_workers() {
            problems.push(format!("--workers {} is over the most, {} (four per core)", self.workers, cairn::replay::max_workers()));
        }
        if self.max_retries > cairn::replay::MAX_RETRIES {
            problems.push(format!("--max-retries {} is over the most, {}", self.max_retries, cairn::replay::MAX_RETRIES));
        }
        if self.max_consecutive_failures == 0 {
            problems.push("--max-consecutive-failures must be at least 1".to_owned());
        }
        ReplayOptions {
            batch_size: self.batch_size.max(1),
            workers: self.workers.max(1),
            delay_between_batches: Duration::from_millis(self.delay_between_batches),
            failure: FailurePolicy {
                max_retries: self.max_retries,
                retry_delay: Duration::from_millis(self.retry_delay),
                stop_on_error: self.stop_on_error,
                max_consecutive_failures: self.max_consecutive_failures.max(1),
            },
            ..ReplayOptions::default()
        }
    }
}

pub fn usage_problems(problems: Vec<String>) -> anyhow::Result<()> {
    if problems.is_empty() {
        return Ok(());
    }
    Err(UsageError(problems.join("; ")).into())
}

fn run_options(args: &RunArgs) -> anyhow::Result<ReplayOptions> {
    let mut problems = Vec::new();
    if args.handlers.is_empty() {
        problems.push("name at least one handler with --handler NAME (`cairn plugin list` shows them)".to_owned());
    }
    if let (Some(from), Some(to)) = (args.from_position, args.to_position) {
        if from > to {
            problems.push(format!("--from-position {from} is after --to-position {to}"));
        }
    }
    if let (Some(since), Some(until)) = (args.since, args.until) {
        if since > until {
            problems.push("--since is after --until, so no event could match".to_owned());
        }
    }
    let options = ReplayOptions {
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
        checkpoint: args.checkpoint.clone().map_or(CheckpointChoice::Default, CheckpointChoice::Named),
        ..args.handling.options(&mut problems)
    };
    usage_problems(problems)?;
    Ok(options)
}

pub fn progress_bar(hidden: bool) -> indicatif::ProgressBar {
    let bar = if hidden { indicatif::ProgressBar::hidden() } else { indicatif::ProgressBar::new(0) };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{prefix} {bar:40} position {pos}/{len}, {per_sec}").expect("a valid progress template"),
    );
    bar
}

pub async fn run(cli: &Cli, args: &ReplayArgs) -> anyhow::Result<()> {
    match &args.command {
        Some(ReplayCommand::List { limit, json }) => return list_jobs(cli, *limit, *json).await,
        Some(ReplayCommand::Show { id, json }) => return show_job(cli, *id, *json).await,
        None => {}
    }
    let args = &args.run;
    let options = run_options(args)?;
    let plugins = cli.open_plugins(false).await?;
    let request = JobRequest { id: uuid::Uuid::new_v4(), handlers: args.handlers.clone(), options };
    let bar = progress_bar(args.json);
    let job = cairn::replay::run_job(&plugins, &request, |handler, step| {
        bar.set_prefix(handler.to_owned());
        bar.set_length(step.head);
        bar.set_position(step.position);
    });
    let outcome = tokio::select! {
        outcome = job => outcome?,
        _ = tokio::signal::ctrl_c() => {
            bar.finish_and_clear();
            plugins.store().finish_replay_job(request.id, cairn::store::JobStatus::Stopped, None, Some("interrupted")).await?;
            anyhow::bail!("interrupted; every committed page stands, and running the same replay again resumes from its checkpoint (job {})", request.id);
        }
    };
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string(&outcome)?);
    } else {
        println!("replay job {}", outcome.id);
        for result in &outcome.results {
            print_result(result);
        }
    }
    for result in &outcome.results {
        match result.stopped {
            Some(StopReason::FailingEvent) => anyhow::bail!(
                "{} stopped at a failing event (--stop-on-error); fix the handler and run the replay again to resume from {}",
                result.handler,
                result.checkpoint.as_deref().unwrap_or("the same position")
            ),
            Some(StopReason::ConsecutiveFailures) => anyhow::bail!(
                "{} failed on {} events in a row and was stopped; see `cairn dead-letter list --handler {}`, fix the handler, then `cairn dead-letter retry --all` and run the replay again",
                result.handler,
                request.options.failure.max_consecutive_failures,
                result.handler
            ),
            None => {}
        }
    }
    Ok(())
}

pub fn print_result(result: &ReplayResult) {
    for note in &result.notes {
        println!("note: {note}");
    }
    if result.total_events == 0 {
        println!("no events match the filters after position {}; nothing to replay", result.position);
    }
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED).set_header(["result", "value"]);
    let checkpoint = match &result.checkpoint {
        Some(name) => format!("{name} at position {}", result.position),
        None => format!("none (reached position {})", result.position),
    };
    for (label, value) in [
        ("handler", format!("{} (read-model generation {})", result.handler, result.generation)),
        ("checkpoint", checkpoint),
        ("total events", result.total_events.to_string()),
        ("processed", result.processed.to_string()),
        ("failed (dead-lettered or stopped at)", result.failed.to_string()),
        ("parked behind a failed event", result.parked.to_string()),
        ("skipped (not wanted by the handler)", result.skipped.to_string()),
        ("success rate", format!("{:.1}%", result.success_rate * 100.0)),
        ("duration", format!("{} ms", result.duration_ms)),
        ("events/s", format!("{:.0}", result.events_per_second)),
    ] {
        table.add_row([label.to_owned(), value]);
    }
    println!("{table}");
    for error in &result.errors {
        println!("event {} (position {}) failed in {}: {}", error.event_id, error.global_position, error.handler, error.message);
    }
}

async fn list_jobs(cli: &Cli, limit: usize, json: bool) -> anyhow::Result<()> {
    let jobs = cli.open_store().await?.replay_jobs(limit).await?;
    if json {
        for job in &jobs {
            println!("{}", serde_json::to_string(job)?);
        }
        return Ok(());
    }
    if jobs.is_empty() {
        println!("no replay jobs recorded");
        return Ok(());
    }
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED).set_header(["id", "handlers", "status", "progress", "started", "finished"]);
    for job in &jobs {
        table.add_row([
            job.id.to_string(),
            job.handlers.join(", "),
            job.status.as_str().to_owned(),
            format!("{}/{}", job.position, job.head),
            super::output::format_time(&job.started_at),
            job.finished_at.as_ref().map_or_else(String::new, super::output::format_time),
        ]);
    }
    println!("{table}");
    Ok(())
}

async fn show_job(cli: &Cli, id: uuid::Uuid, json: bool) -> anyhow::Result<()> {
    let Some(job) = cli.open_store().await?.replay_job(id).await? else {
        return Err(NotFoundError(format!("there is no replay job {id}; `cairn replay list` shows the recorded ones")).into());
    };
    let results: Vec<ReplayResult> = match &job.result {
        Some(text) => serde_json::from_str(text).map_err(|error| anyhow::anyhow!("replay job {id} holds a result this cairn cannot read: {error}"))?,
        None => Vec::new(),
    };
    if json {
        let request: serde_json::Value = serde_json::from_str(&job.request)?;
        println!("{}", serde_json::json!({ "job": job, "request": request, "results": results }));
        return Ok(());
    }
    println!("replay job {id}: {} ({})", job.status.as_str(), job.handlers.join(", "));
    println!("started {}, last update {}", super::output::format_time(&job.started_at), super::output::format_time(&job.updated_at));
    println!("request: {}", job.request);
    if let Some(error) = &job.error {
        println!("error: {error}");
    }
    for result in &results {
        print_result(result);
    }
    Ok(())
}

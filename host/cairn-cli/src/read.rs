use anyhow::Context;
use cairn::read::Reader;
use cairn::store::StreamRange;
use cairn::{LogFilter, StreamId};
use clap::Args;
use futures::StreamExt;

use super::append::parse_time;
use super::output::{is_broken_pipe, EventPrinter};
use super::Cli;

/// Events fetched per query while printing the log; bounds memory.
const LOG_PAGE_SIZE: usize = 10_000;

#[derive(Debug, Args)]
pub struct ReadArgs {
    aggregate_type: String,
    aggregate_id: String,
    /// First stream version to print
    #[arg(long)]
    from: Option<u64>,
    /// Last stream version to print
    #[arg(long)]
    to: Option<u64>,
    /// Print events exactly as stored, without upcasting them through the active migrators
    #[arg(long)]
    raw: bool,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// Print only events after this global position
    #[arg(long, default_value_t = 0)]
    after: u64,
    /// Only this event type (repeatable)
    #[arg(long = "type", value_name = "TYPE")]
    event_types: Vec<String>,
    /// Only this aggregate type (repeatable)
    #[arg(long = "aggregate-type")]
    aggregate_types: Vec<String>,
    #[arg(long)]
    aggregate_id: Option<String>,
    #[arg(long)]
    correlation_id: Option<String>,
    #[arg(long)]
    causation_id: Option<String>,
    #[arg(long = "user-id")]
    user_id: Option<String>,
    /// Only events whose timestamp is at or after this RFC 3339 time
    #[arg(long, value_parser = parse_time)]
    since: Option<chrono::DateTime<chrono::Utc>>,
    /// Only events whose timestamp is at or before this RFC 3339 time
    #[arg(long, value_parser = parse_time)]
    until: Option<chrono::DateTime<chrono::Utc>>,
    /// Stop after this many events
    #[arg(long)]
    limit: Option<u64>,
    /// Keep waiting for new events after the end of the log
    #[arg(long)]
    follow: bool,
    /// Print events exactly as stored, without upcasting them through the active migrators
    #[arg(long)]
    raw: bool,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Print JSON instead of a table
    #[arg(long)]
    json: bool,
}

pub async fn run_read(cli: &Cli, args: &ReadArgs) -> anyhow::Result<()> {
    let reader = open_reader(cli, args.raw, false).await?;
    let stream = StreamId::new(&args.aggregate_type, &args.aggregate_id);
    let range = StreamRange { from_version: args.from, to_version: args.to, limit: None };
    let events = reader.stream(&stream, &range).await.with_context(|| format!("cannot read stream {stream}"))?;
    let mut printer = EventPrinter::new();
    let printed: anyhow::Result<()> = events.iter().try_for_each(|event| printer.print(event)).and_then(|_| printer.flush());
    ignore_broken_pipe(printed)
}

pub async fn run_log(cli: &Cli, args: &LogArgs) -> anyhow::Result<()> {
    let filter = LogFilter {
        event_types: args.event_types.clone(),
        aggregate_types: args.aggregate_types.clone(),
        aggregate_id: args.aggregate_id.clone(),
        correlation_id: args.correlation_id.clone(),
        causation_id: args.causation_id.clone(),
        user_id: args.user_id.clone(),
        since: args.since,
        until: args.until,
        to_position: None,
    };
    crate::replay::usage_problems(filter.problems())?;
    let reader = open_reader(cli, args.raw, args.follow).await?;
    let mut printer = EventPrinter::new();
    let mut remaining = args.limit.unwrap_or(u64::MAX);
    let printed: anyhow::Result<()> = async {
        if args.follow {
            let events = reader.follow(filter, args.after, LOG_PAGE_SIZE);
            futures::pin_mut!(events);
            while remaining > 0 {
                let Some(event) = events.next().await else { break };
                printer.print(&event.context("cannot read the log")?)?;
                printer.flush()?;
                remaining -= 1;
            }
            return Ok(());
        }
        let mut after = args.after;
        while remaining > 0 {
            let page_size = LOG_PAGE_SIZE.min(remaining.min(usize::MAX as u64) as usize);
            let page = reader.log(&filter, after, page_size).await.context("cannot read the log")?;
            let Some(last) = page.last() else { break };
            after = last.global_position;
            let full_page = page.len() == page_size;
            remaining -= page.len() as u64;
            for event in &page {
                printer.print(event)?;
            }
            if !full_page {
                break;
            }
        }
        printer.flush()
    }
    .await;
    ignore_broken_pipe(printed)
}

pub(super) fn ignore_broken_pipe(result: anyhow::Result<()>) -> anyhow::Result<()> {
    match result {
        Err(error) if is_broken_pipe(&error) => Ok(()),
        other => other,
    }
}

pub async fn run_stats(cli: &Cli, args: &StatsArgs) -> anyhow::Result<()> {
    let store = cli.open_store().await?;
    let statistics = store.statistics().await.context("cannot compute statistics")?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&statistics)?);
        return Ok(());
    }
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED).set_header(["statistic", "value"]);
    let time = |instant: Option<chrono::DateTime<chrono::Utc>>| {
        instant.map(|instant| cairn::time::format_rfc3339(&instant)).unwrap_or_else(|| "-".to_owned())
    };
    table.add_row(["backend".to_owned(), statistics.backend.to_owned()]);
    table.add_row(["durability".to_owned(), statistics.durability.clone()]);
    table.add_row(["total events".to_owned(), statistics.total_events.to_string()]);
    table.add_row(["streams".to_owned(), statistics.total_streams.to_string()]);
    table.add_row(["last global position".to_owned(), statistics.last_global_position.to_string()]);
    table.add_row(["first event".to_owned(), time(statistics.first_event_timestamp)]);
    table.add_row(["latest event".to_owned(), time(statistics.latest_event_timestamp)]);
    table.add_row(["store size".to_owned(), format!("{} bytes", statistics.store_size_bytes)]);
    for count in &statistics.events_by_type {
        table.add_row([format!("event type {}", count.name), count.count.to_string()]);
    }
    for count in &statistics.events_by_aggregate_type {
        table.add_row([format!("aggregate type {}", count.name), count.count.to_string()]);
    }
    println!("{table}");
    Ok(())
}

/// What `read` and `log` print: upcast through the active migrators, or as
/// stored with `--raw`. A following reader keeps watching the registry, so
/// a migrator added meanwhile applies to the next events.
async fn open_reader(cli: &Cli, raw: bool, follow: bool) -> anyhow::Result<Reader> {
    let store = cli.open_store().await?;
    if raw {
        return Ok(Reader::raw(store));
    }
    Ok(Reader::open(store, cli.runtime_config(), follow).await?)
}

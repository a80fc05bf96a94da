//! `cairn plugin try FILE`: a shadow run of a candidate version beside the
//! active one over stored history (`PluginHost::shadow_aggregate`), with a
//! summary table or `--json`; exit 0 when nothing differs, 1 otherwise.

use std::path::PathBuf;

use clap::Args;

use super::exit::UsageError;
use super::Cli;
use cairn::plugins::{AggregateShadowReport, PluginHost, PluginHostError, StreamDifference};
use cairn::read::ReadError;

/// Differing streams the table shows; `--json` lists them all.
const SHOWN: usize = 50;

#[derive(Debug, Args)]
pub struct TryArgs {
    /// The candidate component (an aggregate, for now)
    file: PathBuf,
    /// The aggregate type whose streams and active plugin to compare with [default: the candidate's]
    #[arg(long = "type")]
    aggregate_type: Option<String>,
    /// Compare the first N streams only [default: every stream]
    #[arg(long)]
    limit: Option<usize>,
    /// The report as one JSON object instead of a table
    #[arg(long)]
    json: bool,
}

pub async fn run(cli: &Cli, args: &TryArgs) -> anyhow::Result<()> {
    let bytes = std::fs::read(&args.file).map_err(|error| UsageError(format!("cannot read {}: {error}", args.file.display())))?;
    let plugins = cli.open_plugins(false).await?;
    let report = shadow_run(&plugins, &args.file, bytes, args.aggregate_type.as_deref(), args.limit, args.json).await?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_report(&report);
    }
    if !report.differing.is_empty() {
        anyhow::bail!(
            "{} of {} {} streams differ between the active version {} and {}; nothing was written",
            report.differing.len(),
            report.streams_compared,
            report.aggregate_type,
            report.active_version,
            args.file.display()
        );
    }
    Ok(())
}

/// `plugin add --shadow`: the shadow run, printed, before anything is
/// stored. Differences refuse the addition unless `accept_differences`; a
/// first version has nothing to differ from.
pub async fn check_before_adding(plugins: &std::sync::Arc<PluginHost>, file: &std::path::Path, bytes: &[u8], accept_differences: bool) -> anyhow::Result<()> {
    let report = match shadow_run(plugins, file, bytes.to_vec(), None, None, false).await {
        Ok(report) => report,
        Err(ReadError::Plugins(PluginHostError::UnknownAggregateType { aggregate_type, .. })) => {
            println!("no active version serves {aggregate_type}, so the shadow run has nothing to compare");
            return Ok(());
        }
        Err(error) => return Err(error.into()),
    };
    print_report(&report);
    if !report.differing.is_empty() && !accept_differences {
        return Err(UsageError(format!(
            "refused: {} of {} {} streams would fold differently than with the active version {}; nothing was registered. Fix the plugin, or pass --accept-differences to register it anyway",
            report.differing.len(),
            report.streams_compared,
            report.aggregate_type,
            report.active_version
        ))
        .into());
    }
    Ok(())
}

/// The shadow run of `file`, with a progress bar on standard error unless `quiet`.
async fn shadow_run(plugins: &std::sync::Arc<PluginHost>, file: &std::path::Path, bytes: Vec<u8>, aggregate_type: Option<&str>, limit: Option<usize>, quiet: bool) -> Result<AggregateShadowReport, ReadError> {
    let candidate_name = file.file_name().map_or_else(|| "candidate".to_owned(), |name| name.to_string_lossy().into_owned());
    let bar = super::replay::progress_bar(quiet);
    bar.set_prefix("streams");
    let progress = |done: u64, total: u64| {
        bar.set_length(total);
        bar.set_position(done);
    };
    let report = plugins.shadow_aggregate(&candidate_name, bytes, aggregate_type, limit, &progress).await;
    bar.finish_and_clear();
    report
}

fn print_report(report: &AggregateShadowReport) {
    println!(
        "compared {} {} streams ({} events) with the active version {}: {} differ",
        report.streams_compared,
        report.aggregate_type,
        report.events_folded,
        report.active_version,
        report.differing.len()
    );
    if report.differing.is_empty() {
        return;
    }
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED).set_header(["stream", "first differs after", "differences (active → candidate)"]);
    for difference in report.differing.iter().take(SHOWN) {
        table.add_row([difference.aggregate_id.clone(), diverging_event(difference), describe(difference)]);
    }
    println!("{table}");
    if report.differing.len() > SHOWN {
        println!("… and {} more; --json lists every one", report.differing.len() - SHOWN);
    }
}

fn diverging_event(difference: &StreamDifference) -> String {
    match (difference.first_diverging_version, &difference.first_diverging_event_type) {
        (Some(version), Some(event_type)) => format!("version {version} ({event_type})"),
        _ => "the initial state".to_owned(),
    }
}

fn describe(difference: &StreamDifference) -> String {
    let mut lines: Vec<String> = Vec::new();
    for (who, error) in [("active", &difference.active_error), ("candidate", &difference.candidate_error)] {
        if let Some(error) = error {
            lines.push(format!("the {who} version fails: {error}"));
        }
    }
    let show = |value: &Option<serde_json::Value>| value.as_ref().map_or("(absent)".to_owned(), |value| value.to_string());
    for change in difference.differences.iter().take(5) {
        let path = if change.path.is_empty() { "(the whole state)" } else { change.path.as_str() };
        lines.push(format!("{path}: {} → {}", show(&change.active), show(&change.candidate)));
    }
    if difference.differences.len() > 5 {
        lines.push(format!("… {} more", difference.differences.len() - 5));
    }
    lines.join("\n")
}

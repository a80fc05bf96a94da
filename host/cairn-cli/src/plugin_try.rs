//! `cairn plugin try FILE`: a shadow run of a candidate version beside the
//! active plugins over stored history (`PluginHost::shadow`), with a
//! summary table or `--json`; exit 0 when nothing differs, 1 otherwise.

use std::path::{Path, PathBuf};

use clap::Args;

use super::exit::UsageError;
use super::Cli;
use cairn::plugins::{AggregateShadowReport, MigratorShadowReport, PluginHost, PluginSource, ShadowReport, StreamDifference, ValueDifference};
use cairn::replay::{DocumentChange, HandlerShadowReport};

/// Differing streams or events the table shows; `--json` lists them all.
const SHOWN: usize = 50;

#[derive(Debug, Args)]
pub struct TryArgs {
    /// The candidate component: an aggregate, a migrator or a handler
    file: PathBuf,
    /// An aggregate: the aggregate type whose streams and active plugin to compare with [default: the candidate's]
    #[arg(long = "type")]
    aggregate_type: Option<String>,
    /// A migrator or handler: the name of the active plugin it would replace [default: the file name, as `plugin add` names it]
    #[arg(long)]
    name: Option<String>,
    /// Compare the first N streams (aggregates) or events (migrators) only [default: all]
    #[arg(long)]
    limit: Option<usize>,
    /// The report as one JSON object instead of a table
    #[arg(long)]
    json: bool,
}

pub async fn run(cli: &Cli, args: &TryArgs) -> anyhow::Result<()> {
    let bytes = std::fs::read(&args.file).map_err(|error| UsageError(format!("cannot read {}: {error}", args.file.display())))?;
    let plugins = cli.open_plugins(false).await?;
    let bar = shadow_bar(args.json);
    let report = plugins.shadow(candidate_source(&args.file, args.name.as_deref(), bytes), args.aggregate_type.as_deref(), args.limit, &progress_on(&bar)).await;
    bar.finish_and_clear();
    let report = report?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_report(&report);
    }
    if report.differing() > 0 {
        anyhow::bail!("{}; nothing was written", summary(&report, &args.file.display().to_string()));
    }
    Ok(())
}

/// `plugin add --shadow`: the shadow run, printed, before anything is
/// stored (`PluginHost::shadow_before_adding`). Differences refuse the
/// addition unless `accept_differences`.
pub async fn check_before_adding(plugins: &std::sync::Arc<PluginHost>, file: &Path, requested_name: Option<&str>, bytes: &[u8], accept_differences: bool) -> anyhow::Result<()> {
    let bar = shadow_bar(false);
    let report = plugins.shadow_before_adding(candidate_source(file, requested_name, bytes.to_vec()), &progress_on(&bar)).await;
    bar.finish_and_clear();
    let Some(report) = report? else {
        println!("nothing to compare it with (no active version of it, or a handler with no live read model yet), so there was no shadow run");
        return Ok(());
    };
    print_report(&report);
    if report.differing() > 0 && !accept_differences {
        return Err(UsageError(format!(
            "refused: {}; nothing was registered. Fix the plugin, or pass --accept-differences to register it anyway",
            summary(&report, "this version")
        ))
        .into());
    }
    Ok(())
}

/// The candidate as `plugin add` would name it: as given, else (for a
/// migrator) after its file's stem, lower-cased.
fn candidate_source(file: &Path, requested_name: Option<&str>, bytes: Vec<u8>) -> PluginSource {
    PluginSource { bytes, requested_name: requested_name.map(str::to_owned), file_stem: file.file_stem().map(|stem| stem.to_string_lossy().to_lowercase()) }
}

/// One sentence: how much differs, and against what.
fn summary(report: &ShadowReport, candidate: &str) -> String {
    match report {
        ShadowReport::Aggregate(report) => format!(
            "{} of {} {} streams would fold differently with {candidate} than with the active version {}",
            report.differing.len(),
            report.streams_compared,
            report.aggregate_type,
            report.active_version
        ),
        ShadowReport::Migrator(report) => format!(
            "{} of {} stored events would upcast differently with {candidate} in place of {}",
            report.differing.len(),
            report.events_compared,
            report.replaces_version.map_or_else(|| format!("no migrator {}", report.migrator), |version| format!("{} version {version}", report.migrator))
        ),
        ShadowReport::Handler(report) => format!(
            "{} of {} {} documents would differ with {candidate} in place of version {} ({} added, {} removed, {} changed), and it fails on {} events the live projection handled",
            report.differing.len(),
            report.documents_compared,
            report.handler,
            report.active_version,
            report.added,
            report.removed,
            report.changed,
            report.failures.len()
        ),
    }
}

/// A progress bar for a shadow run on standard error, hidden when `quiet`.
fn shadow_bar(quiet: bool) -> indicatif::ProgressBar {
    let bar = super::replay::progress_bar(quiet);
    bar.set_prefix("compared");
    bar
}

/// What a shadow run reports its progress to: (done, total when known, else 0).
fn progress_on(bar: &indicatif::ProgressBar) -> impl Fn(u64, u64) + Sync + '_ {
    move |done, total| {
        bar.set_length(total.max(done));
        bar.set_position(done);
    }
}

fn print_report(report: &ShadowReport) {
    match report {
        ShadowReport::Aggregate(report) => print_aggregate_report(report),
        ShadowReport::Migrator(report) => print_migrator_report(report),
        ShadowReport::Handler(report) => print_handler_report(report),
    }
}

fn print_handler_report(report: &HandlerShadowReport) {
    println!(
        "built {}'s read model up to position {} ({} events) and compared its {} documents with the live generation {} of version {}: {} added, {} removed, {} changed; {} events fail",
        report.handler,
        report.position,
        report.events_handled,
        report.documents_compared,
        report.live_generation,
        report.active_version,
        report.added,
        report.removed,
        report.changed,
        report.failures.len()
    );
    if !report.differing.is_empty() {
        let mut table = comfy_table::Table::new();
        table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED).set_header(["document", "change", "differences (live → candidate)"]);
        for difference in report.differing.iter().take(SHOWN) {
            let change = match difference.change {
                DocumentChange::Added => "added",
                DocumentChange::Removed => "removed",
                DocumentChange::Changed => "changed",
            };
            table.add_row([format!("{}/{}", difference.collection, difference.key), change.to_owned(), changes(&difference.differences, "(the document)")]);
        }
        println!("{table}");
        if report.differing.len() > SHOWN {
            println!("… and {} more; --json lists every one", report.differing.len() - SHOWN);
        }
    }
    if !report.failures.is_empty() {
        let mut table = comfy_table::Table::new();
        table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED).set_header(["event", "stream", "the candidate fails"]);
        for failure in report.failures.iter().take(SHOWN) {
            table.add_row([format!("{} ({} @{})", failure.event_id, failure.event_type, failure.global_position), format!("{}/{}", failure.aggregate_type, failure.aggregate_id), failure.error.clone()]);
        }
        println!("{table}");
    }
}

/// At most five changes, one per line, as `pointer: before → after`.
fn changes(differences: &[ValueDifference], whole: &str) -> String {
    let mut lines: Vec<String> = differences
        .iter()
        .take(5)
        .map(|change| format!("{}: {} → {}", if change.path.is_empty() { whole } else { &change.path }, shown(&change.active), shown(&change.candidate)))
        .collect();
    if differences.len() > 5 {
        lines.push(format!("… {} more", differences.len() - 5));
    }
    lines.join("\n")
}

fn print_migrator_report(report: &MigratorShadowReport) {
    let replaced = report.replaces_version.map_or_else(|| "no active version".to_owned(), |version| format!("the active version {version}"));
    println!("compared {} stored events of {} with {replaced} of {}: {} differ", report.events_compared, report.event_types.join(", "), report.migrator, report.differing.len());
    if report.differing.is_empty() {
        return;
    }
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED).set_header(["event", "stream", "upcast (active → candidate)", "differences"]);
    for difference in report.differing.iter().take(SHOWN) {
        let mut lines: Vec<String> = Vec::new();
        for (who, error) in [("active", &difference.active_error), ("candidate", &difference.candidate_error)] {
            if let Some(error) = error {
                lines.push(format!("the {who} chains fail: {error}"));
            }
        }
        if !difference.differences.is_empty() {
            lines.push(changes(&difference.differences, "(the payload)"));
        }
        table.add_row([
            format!("{} ({} {})", difference.event_id, difference.event_type, difference.stored_schema_version),
            format!("{}/{} @{}", difference.aggregate_type, difference.aggregate_id, difference.stream_version),
            format!("{} → {}", difference.active_schema_version, difference.candidate_schema_version),
            lines.join("\n"),
        ]);
    }
    println!("{table}");
    if report.differing.len() > SHOWN {
        println!("… and {} more; --json lists every one", report.differing.len() - SHOWN);
    }
}

fn shown(value: &Option<serde_json::Value>) -> String {
    value.as_ref().map_or("(absent)".to_owned(), |value| value.to_string())
}

fn print_aggregate_report(report: &AggregateShadowReport) {
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
    if !difference.differences.is_empty() {
        lines.push(changes(&difference.differences, "(the whole state)"));
    }
    lines.join("\n")
}

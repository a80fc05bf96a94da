use cairn::StreamId;
use clap::Args;

use super::exit::{ProblemsFound, UsageError};
use super::Cli;

#[derive(Debug, Args)]
pub struct ValidateSequenceArgs {
    aggregate_type: String,
    aggregate_id: String,
    /// The event types the stream should hold, in order, separated by commas
    #[arg(long, value_name = "TYPE,TYPE,...")]
    expect: String,
    /// JSON instead of a table
    #[arg(long)]
    json: bool,
}

/// Exit status 0 when the stream matches, 1 when it does not.
pub async fn run(cli: &Cli, args: &ValidateSequenceArgs) -> anyhow::Result<()> {
    let expected: Vec<String> = args.expect.split(',').map(|name| name.trim().to_owned()).collect();
    if expected.iter().any(String::is_empty) {
        return Err(UsageError(format!("--expect `{}` has an empty event type; write it like --expect AccountOpened,MoneyDeposited", args.expect)).into());
    }
    let store = cli.open_store().await?;
    let stream = StreamId::new(&args.aggregate_type, &args.aggregate_id);
    let report = cairn::sequence::validate_sequence(store.as_ref(), &stream, &expected).await?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else if report.is_valid {
        println!("{stream} holds exactly the expected {} events", report.expected.len());
    } else {
        let mut table = comfy_table::Table::new();
        table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED).set_header(["position", "expected", "actual"]);
        for difference in &report.differences {
            table.add_row([
                difference.position.to_string(),
                difference.expected.clone().unwrap_or_else(|| "(nothing)".to_owned()),
                difference.actual.clone().unwrap_or_else(|| "(nothing)".to_owned()),
            ]);
        }
        println!("{table}");
    }
    if !report.is_valid {
        return Err(ProblemsFound(format!("{stream} differs from the expected sequence at {} positions", report.differences.len())).into());
    }
    Ok(())
}

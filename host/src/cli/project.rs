use clap::{Args, Subcommand};

use super::replay::{print_result, progress_bar, replay_error, usage_problems, HandlingArgs};
use super::Cli;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ProjectArgs {
    #[command(subcommand)]
    command: Option<ProjectCommand>,
    /// The handler whose read model to keep up to date
    #[arg(long, required = true)]
    handler: Option<String>,
    #[command(flatten)]
    handling: HandlingArgs,
}

#[derive(Debug, Subcommand)]
enum ProjectCommand {
    /// Build a fresh copy of a handler's read model from position 0 while the
    /// old copy keeps serving, then switch to it atomically
    Rebuild {
        handler: String,
        #[command(flatten)]
        handling: HandlingArgs,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(cli: &Cli, args: &ProjectArgs) -> anyhow::Result<()> {
    if let Some(ProjectCommand::Rebuild { handler, handling, json }) = &args.command {
        let mut problems = Vec::new();
        let options = handling.options(&mut problems);
        usage_problems(problems)?;
        let plugins = cli.open_plugins(false).await?;
        let bar = progress_bar(*json);
        bar.set_prefix(format!("rebuilding {handler}"));
        let result = cairn::replay::rebuild(&plugins, handler, &options, |step| {
            bar.set_length(step.head);
            bar.set_position(step.position);
        })
        .await
        .map_err(replay_error)?;
        bar.finish_and_clear();
        if *json {
            println!("{}", serde_json::to_string(&result)?);
        } else {
            println!("rebuilt {handler}: generation {} is live", result.generation);
            print_result(&result);
        }
        return Ok(());
    }
    let handler = args.handler.as_deref().expect("clap requires --handler without a subcommand");
    let mut problems = Vec::new();
    let options = args.handling.options(&mut problems);
    usage_problems(problems)?;
    let plugins = cli.open_plugins(true).await?;
    let watcher = plugins.watch(cairn::plugins::DEFAULT_REFRESH_INTERVAL);
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let projection = cairn::replay::project(&plugins, handler, &options, shutdown, |round| {
        tracing::info!(
            handler = %round.handler,
            position = round.position,
            processed = round.processed,
            failed = round.failed,
            parked = round.parked,
            "projection caught up"
        );
        println!("{}", serde_json::json!({
            "handler": round.handler,
            "position": round.position,
            "processed": round.processed,
            "failed": round.failed,
            "parked": round.parked,
        }));
    });
    tokio::pin!(projection);
    let outcome = tokio::select! {
        outcome = &mut projection => outcome,
        _ = tokio::signal::ctrl_c() => {
            stop.send_replace(true);
            projection.await
        }
    };
    watcher.abort();
    outcome.map_err(replay_error)
}

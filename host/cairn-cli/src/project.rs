use clap::{Args, Subcommand};

use super::replay::{print_result, progress_bar, usage_problems, HandlingArgs};
use super::Cli;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ProjectArgs {
    #[command(subcommand)]
    command: Option<ProjectCommand>,
    /// A handler whose read model to keep up to date (repeatable)
    #[arg(long = "handler", value_name = "NAME", required_unless_present = "all")]
    handlers: Vec<String>,
    /// Every handler plugin active when the projection starts
    #[arg(long, conflicts_with = "handlers")]
    all: bool,
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
        ?;
        bar.finish_and_clear();
        if *json {
            println!("{}", serde_json::to_string(&result)?);
        } else {
            println!("rebuilt {handler}: generation {} is live", result.generation);
            print_result(&result);
        }
        return Ok(());
    }
    let mut problems = Vec::new();
    let options = args.handling.options(&mut problems);
    usage_problems(problems)?;
    let plugins = cli.open_plugins(true).await?;
    let handlers: Vec<String> = if args.all {
        let mut names: Vec<String> =
            plugins.statuses().into_iter().filter(|status| status.record.kind == "handler").map(|status| status.record.name).collect();
        names.sort();
        names
    } else {
        args.handlers.clone()
    };
    if handlers.is_empty() {
        return Err(super::exit::UsageError("no handler plugins are registered; add one with `cairn plugin add`".to_owned()).into());
    }
    for handler in &handlers {
        plugins.handler(handler).await?;
    }
    eprintln!("projecting {} (Ctrl-C stops)", handlers.join(", "));
    let watcher = plugins.watch(cairn::plugins::DEFAULT_REFRESH_INTERVAL);
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let mut projections = spawn_projections(&plugins, handlers, &options, shutdown, true);
    let mut failures = Vec::new();
    loop {
        tokio::select! {
            finished = projections.join_next() => match finished {
                None => break,
                Some(finished) => failures.extend(projection_failure(finished)?),
            },
            _ = tokio::signal::ctrl_c() => {
                stop.send_replace(true);
            }
        }
    }
    watcher.abort();
    if !failures.is_empty() {
        anyhow::bail!("projection of {} ended with an error (above)", failures.join(", "));
    }
    Ok(())
}

type ProjectionTask = (String, Result<(), cairn::replay::ReplayError>);

/// Runs each handler as a live projection until `shutdown` turns true. Each
/// runs on its own: one that fails is reported and the others go on.
pub fn spawn_projections(
    plugins: &std::sync::Arc<cairn::plugins::PluginHost>,
    handlers: Vec<String>,
    options: &cairn::replay::ReplayOptions,
    shutdown: tokio::sync::watch::Receiver<bool>,
    print_rounds: bool,
) -> tokio::task::JoinSet<ProjectionTask> {
    let mut projections = tokio::task::JoinSet::new();
    for handler in handlers {
        spawn_projection(&mut projections, plugins, handler, options, &shutdown, print_rounds);
    }
    projections
}

/// Adds one live projection to `projections`.
fn spawn_projection(
    projections: &mut tokio::task::JoinSet<ProjectionTask>,
    plugins: &std::sync::Arc<cairn::plugins::PluginHost>,
    handler: String,
    options: &cairn::replay::ReplayOptions,
    shutdown: &tokio::sync::watch::Receiver<bool>,
    print_rounds: bool,
) {
    {
        let (plugins, options, shutdown) = (plugins.clone(), options.clone(), shutdown.clone());
        projections.spawn(async move {
            let outcome = cairn::replay::project(&plugins, &handler, &options, shutdown, |round| {
                tracing::info!(handler = %round.handler, position = round.position, processed = round.processed, failed = round.failed, "projection round");
                if print_rounds {
                    println!(
                        "{}",
                        serde_json::json!({
                            "handler": round.handler,
                            "position": round.position,
                            "processed": round.processed,
                            "failed": round.failed,
                            "parked": round.parked,
                        })
                    );
                }
            })
            .await;
            (handler, outcome)
        });
    }
}

/// The handler whose projection ended with an error, reported on stderr.
fn projection_failure(finished: Result<ProjectionTask, tokio::task::JoinError>) -> anyhow::Result<Option<String>> {
    match finished {
        Ok((_, Ok(()))) => Ok(None),
        Ok((handler, Err(error))) => {
            eprintln!("error: projection {handler} ended: {error}");
            Ok(Some(handler))
        }
        Err(panic) => Err(anyhow::anyhow!("a projection task failed: {panic}")),
    }
}

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};

use super::exit::UsageError;
use super::Cli;
use cairn_http::{OriginPolicy, ServeOptions, ServerState, TokenTable};
use cairn::cluster::ClusterMember;
use cairn::replay::{ProjectionSupervisor, ReplayOptions};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on (port 0 picks a free one)
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// A file of token lines, `sha256:<hex> <read|write|admin>`; `cairn token new` prints them
    #[arg(long, env = "CAIRN_TOKENS_FILE")]
    tokens_file: Option<PathBuf>,
    /// Token lines given directly, separated by `;` or newlines
    #[arg(long, env = "CAIRN_TOKENS", hide_env_values = true)]
    tokens: Option<String>,
    /// Largest request body accepted, in bytes
    #[arg(long, default_value_t = 1 << 20)]
    body_limit: usize,
    /// Largest plugin upload (`POST /plugins`) accepted, in bytes
    #[arg(long, default_value_t = 64 << 20)]
    upload_limit: usize,
    /// Requests taking longer get 408 (the live stream excepted)
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    request_timeout: u64,
    /// Do not run handler plugins as live projections (by default every
    /// active handler runs, including ones added while the server runs)
    #[arg(long)]
    no_projections: bool,
    /// Live-stream (SSE) subscribers at once; more get 503
    #[arg(long, env = "CAIRN_MAX_SSE_CLIENTS", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    max_sse_clients: u32,
    /// Events a caught-up live-stream subscriber may fall behind the log's head before it is dropped (it resumes with Last-Event-ID)
    #[arg(long, env = "CAIRN_SSE_MAX_LAG", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    sse_max_lag: u64,
    /// An origin (scheme://host[:port]) besides the server's own whose pages may send state-changing requests; repeatable
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    allowed_origins: Vec<String>,
    /// How long a host's leases (on each live projection, and on being alive) last unless renewed: when a host dies, others take its work over within this, such as 5s or 1500ms
    #[arg(long, env = "CAIRN_LEASE_TTL", default_value = "5s", value_parser = parse_lease_ttl)]
    lease_ttl: Duration,
    /// How this host is named in leases, `/health` and `cairn cluster status` [default: the listening address]
    #[arg(long, env = "CAIRN_HOST_NAME")]
    host_name: Option<String>,
    /// Also publish every committed event to this NATS server's JetStream (one host at a time publishes, under a lease), such as nats://127.0.0.1:4222
    #[arg(long, value_name = "NATS_URL")]
    publish: Option<String>,
    #[command(flatten)]
    publish_target: super::publish::PublishTarget,
}

/// A lease's time to live: 300ms to 10m. Shorter ones renew so often that a
/// slow store round trip would lose them; longer ones leave dead hosts'
/// work undone for too long.
pub(super) fn parse_lease_ttl(text: &str) -> Result<Duration, String> {
    let ttl = humantime::parse_duration(text).map_err(|error| format!("`{text}` is not a duration ({error}); write it like 5s or 1500ms"))?;
    if !(Duration::from_millis(300)..=Duration::from_secs(600)).contains(&ttl) {
        return Err(format!("`{text}` is out of range; give 300ms to 10m"));
    }
    Ok(ttl)
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Print a new random token and the line that configures it (only its hash)
    New {
        #[arg(long, value_parser = ["read", "write", "admin"])]
        scope: String,
    },
}

pub fn run_token(command: &TokenCommand) -> anyhow::Result<()> {
    let TokenCommand::New { scope } = command;
    let token = format!("cairn_{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    println!("token (give it to the client; it is not stored): {token}");
    println!("line for --tokens-file or CAIRN_TOKENS: sha256:{} {scope}", cairn_http::hash_token(&token));
    Ok(())
}

fn token_table(args: &ServeArgs) -> anyhow::Result<TokenTable> {
    let mut text = String::new();
    if let Some(path) = &args.tokens_file {
        text.push_str(&std::fs::read_to_string(path).with_context(|| format!("cannot read the tokens file {}", path.display()))?);
        text.push('\n');
    }
    if let Some(lines) = &args.tokens {
        text.push_str(&lines.replace(';', "\n"));
    }
    TokenTable::parse(&text).map_err(|problems| UsageError(problems.join("; ")).into())
}

pub async fn run(cli: &Cli, args: &ServeArgs) -> anyhow::Result<()> {
    let address: SocketAddr = args
        .listen
        .parse()
        .map_err(|_| UsageError(format!("--listen {} is not an address and port, such as 127.0.0.1:8080", args.listen)))?;
    let tokens = Arc::new(token_table(args)?);
    if tokens.is_empty() && !address.ip().is_loopback() {
        return Err(UsageError(format!(
            "refusing to listen on {address} without tokens: anyone who can reach it could append events and run replays. Configure tokens (`cairn token new --scope admin`, then --tokens-file or CAIRN_TOKENS) or listen on 127.0.0.1"
        ))
        .into());
    }
    if tokens.is_empty() {
        eprintln!("warning: no tokens configured; every endpoint is open to anyone who can reach {address} (loopback only)");
    }
    let commands = Arc::new(cli.open_commands(true).await?);
    let plugins = commands.plugins().clone();
    let watcher = plugins.watch(cairn::plugins::DEFAULT_REFRESH_INTERVAL);
    let listener = tokio::net::TcpListener::bind(address).await.with_context(|| format!("cannot listen on {address}"))?;
    let local = listener.local_addr()?;
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let member = Arc::new(ClusterMember::new(plugins.store().clone(), args.host_name.as_deref().unwrap_or(&local.to_string()), args.lease_ttl));
    let supervisor = (!args.no_projections).then(|| ProjectionSupervisor::new(plugins.clone(), ReplayOptions::default(), member.clone()));
    let projections = supervisor.clone().map(|supervisor| tokio::spawn(supervisor.run(shutdown.clone(), NEW_HANDLER_CHECK_INTERVAL)));
    let publish_options = args.publish.as_deref().map(|url| args.publish_target.options(url)).transpose()?;
    let publisher = publish_options.map(|options| tokio::spawn(cairn::publish::run_publisher(plugins.store().clone(), member.clone(), options, shutdown.clone())));
    let pruning = tokio::spawn(cairn::command::keep_pruning_command_records(plugins.store().clone(), cli.command_ttl));
    let metrics = cairn::telemetry::install_prometheus().map_err(anyhow::Error::msg)?;
    let options = ServeOptions {
        body_limit: args.body_limit,
        upload_limit: args.upload_limit,
        request_timeout: Duration::from_millis(args.request_timeout),
        max_sse_clients: args.max_sse_clients as usize,
        sse_max_lag: args.sse_max_lag,
        origins: OriginPolicy { allowed_origins: args.allowed_origins.clone(), loopback_hosts_only: tokens.is_empty() },
    };
    let state = Arc::new(ServerState::new(commands.clone(), supervisor, Some(metrics), &options));
    let app = cairn_http::router(state.clone(), tokens, &options);
    println!("listening on http://{local}");
    let stopping = async move {
        shutdown_signal().await;
        // Live streams never end by themselves; end them, or the graceful
        // shutdown would wait for their clients forever.
        state.live.stop();
    };
    axum::serve(listener, app).with_graceful_shutdown(stopping).await.context("the server failed")?;
    // In-flight requests have finished; stop the projections between pages
    // (each committed page stands) and write pending snapshots.
    eprintln!("shutting down: finishing projections and snapshots");
    stop.send_replace(true);
    let failures = match projections {
        Some(projections) => projections.await.context("the projection supervisor failed")?,
        None => Vec::new(),
    };
    if let Some(publisher) = publisher {
        publisher.await.context("the publisher failed")?.context("the publisher stopped")?;
    }
    commands.flush_snapshots().await;
    watcher.abort();
    pruning.abort();
    if !failures.is_empty() {
        let handlers: Vec<String> = failures.into_iter().map(|(handler, _)| handler).collect();
        anyhow::bail!("the live projection of {} had failed (the error is above and in /health)", handlers.join(", "));
    }
    Ok(())
}

/// How often the server looks for handler plugins that are not projecting
/// yet (such as one uploaded with `POST /plugins`, one whose projection
/// failed and that has a new version since, or one whose lease another host
/// let go), and hands back projections above its share.
const NEW_HANDLER_CHECK_INTERVAL: Duration = Duration::from_millis(500);

/// SIGINT (Ctrl-C) or SIGTERM.
pub(super) async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("a SIGTERM handler installs");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

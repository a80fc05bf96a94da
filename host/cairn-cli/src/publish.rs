//! `cairn publish` (a publisher process of its own) and the publishing
//! flags `cairn serve --publish` shares with it.

use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use super::exit::UsageError;
use super::Cli;
use cairn::cluster::ClusterMember;
use cairn::publish::{run_publisher, PublishOptions};
use cairn::store::{EventStore, LogFilter};

/// Where and what to publish.
#[derive(Debug, Args)]
pub struct PublishTarget {
    /// The NATS stream's JetStream stream, created when missing
    #[arg(long, env = "CAIRN_NATS_STREAM", default_value = "CAIRN")]
    nats_stream: String,
    /// Subjects are PREFIX.<aggregate_type>.<event_type>, and the stream takes PREFIX.>
    #[arg(long, env = "CAIRN_NATS_SUBJECT_PREFIX", default_value = "cairn")]
    nats_subject_prefix: String,
    /// Publish only events of this type (repeatable)
    #[arg(long = "publish-type", value_name = "TYPE")]
    publish_types: Vec<String>,
    /// Publish only events of this aggregate type (repeatable)
    #[arg(long = "publish-aggregate-type", value_name = "AGGREGATE_TYPE")]
    publish_aggregate_types: Vec<String>,
}

impl PublishTarget {
    pub fn options(&self, nats_url: &str) -> Result<PublishOptions, UsageError> {
        let options = PublishOptions {
            nats_url: nats_url.to_owned(),
            stream: self.nats_stream.clone(),
            subject_prefix: self.nats_subject_prefix.clone(),
            filter: LogFilter { event_types: self.publish_types.clone(), aggregate_types: self.publish_aggregate_types.clone(), ..LogFilter::default() },
        };
        let mut problems = options.problems();
        problems.extend(options.filter.problems());
        if problems.is_empty() {
            Ok(options)
        } else {
            Err(UsageError(problems.join("; ")))
        }
    }
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// The NATS server, such as nats://127.0.0.1:4222
    #[arg(long, env = "CAIRN_NATS_URL")]
    nats: String,
    #[command(flatten)]
    target: PublishTarget,
    /// How long the publisher's lease lasts unless renewed: a publisher that dies is replaced within this
    #[arg(long, env = "CAIRN_LEASE_TTL", default_value = "5s", value_parser = super::serve::parse_lease_ttl)]
    lease_ttl: Duration,
}

/// Publishes until Ctrl-C or SIGTERM, then stops between pages.
pub async fn run(cli: &Cli, args: &PublishArgs) -> anyhow::Result<()> {
    let options = args.target.options(&args.nats)?;
    let store: Arc<dyn EventStore> = cli.open_store().await?;
    let member = Arc::new(ClusterMember::new(store.clone(), &format!("publish@{}", std::process::id()), args.lease_ttl));
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let mut publisher = tokio::spawn(run_publisher(store, member.clone(), options, shutdown));
    let finished = tokio::select! {
        _ = super::serve::shutdown_signal() => {
            stop.send_replace(true);
            (&mut publisher).await
        }
        finished = &mut publisher => finished,
    };
    member.leave().await;
    Ok(finished??)
}

//! Publishing the log to NATS JetStream: the log is the outbox.
//!
//! A publisher sends every committed event (or those its filter selects),
//! in log order, to `<prefix>.<aggregate_type>.<event_type>` on a JetStream
//! stream it creates when missing, and moves its checkpoint
//! (`publisher:<stream>`) only past events JetStream acknowledged.
//!
//! Invariants:
//! - An event is acknowledged by JetStream, or dead-lettered with the
//!   reason the server gave, before the checkpoint passes it. A crash
//!   between the ack and the checkpoint re-sends it, and JetStream drops
//!   the duplicate by its `Nats-Msg-Id` (the event id) within the stream's
//!   duplicate window.
//! - One publisher per stream runs at a time, under the lease of its
//!   checkpoint's name; its commits name the lease's token, so one that
//!   stalled past the lease commits nothing after another took over.
//! - A failure to reach NATS is retried with backoff and never skips an
//!   event; only a refusal of the event itself (too large, or refused by
//!   the stream) dead-letters it, and the events after it go on.

mod message;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::cluster::ClusterMember;
use crate::store::{CheckpointAdvance, DeadLetterStatus, EventStore, Fence, HandlerCommit, Lease, LogFilter, NewDeadLetter, StoreError};
pub use message::{subject_token, EventMessage};

/// Events sent before their acknowledgements are awaited.
const IN_FLIGHT: usize = 1_000;
const FIRST_RETRY: Duration = Duration::from_millis(100);
const LAST_RETRY: Duration = Duration::from_secs(30);
/// How long a caught-up publisher waits for a commit before it looks again.
const FOLLOW_WAIT: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct PublishOptions {
    pub nats_url: String,
    /// The JetStream stream, created when missing.
    pub stream: String,
    /// Subjects are `<prefix>.<aggregate_type>.<event_type>`; the stream
    /// takes `<prefix>.>`.
    pub subject_prefix: String,
    /// Which events to publish (types and aggregate types only).
    pub filter: LogFilter,
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("cannot reach NATS at {url}: {reason}; check that nats-server runs there with JetStream enabled (-js)")]
    Unreachable { url: String, reason: String },
    #[error("cannot create or read the JetStream stream {stream}: {reason}; a stream whose subjects overlap `{prefix}.>` may exist already (pick another --nats-stream or --nats-subject-prefix)")]
    Stream { stream: String, prefix: String, reason: String },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::Classified for PublishError {
    fn kind(&self) -> crate::ErrorKind {
        match self {
            PublishError::Unreachable { .. } => crate::ErrorKind::Unavailable,
            PublishError::Stream { .. } => crate::ErrorKind::Refused,
            PublishError::Invalid(_) => crate::ErrorKind::Invalid,
            PublishError::Store(error) => error.kind(),
        }
    }
}

/// The checkpoint, lease and dead-letter name of the publisher to `stream`.
pub fn publisher_name(stream: &str) -> String {
    format!("publisher:{stream}")
}

impl PublishOptions {
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let valid = |name: &str| !name.is_empty() && name.chars().all(|character| character.is_ascii_alphanumeric() || character == '-' || character == '_');
        if !valid(&self.stream) {
            problems.push(format!("--nats-stream `{}` is not a JetStream stream name; use letters, digits, `-` and `_`", self.stream));
        }
        if !valid(&self.subject_prefix) {
            problems.push(format!("--nats-subject-prefix `{}` is not one subject token; use letters, digits, `-` and `_`", self.subject_prefix));
        }
        problems
    }
}

/// Publishes until `shutdown` turns true: connects, makes sure the stream
/// exists, then (under the lease, when `member` is given) sends page after
/// page and follows the log.
pub async fn run_publisher(store: Arc<dyn EventStore>, member: Arc<ClusterMember>, options: PublishOptions, mut shutdown: watch::Receiver<bool>) -> Result<(), PublishError> {
    let problems = options.problems();
    if !problems.is_empty() {
        return Err(PublishError::Invalid(problems.join("; ")));
    }
    let client = async_nats::connect(&options.nats_url).await.map_err(|error| PublishError::Unreachable { url: options.nats_url.clone(), reason: error.to_string() })?;
    let jetstream = async_nats::jetstream::new(client.clone());
    let stream_config = async_nats::jetstream::stream::Config { name: options.stream.clone(), subjects: vec![format!("{}.>", options.subject_prefix)], ..Default::default() };
    jetstream
        .get_or_create_stream(stream_config)
        .await
        .map_err(|error| PublishError::Stream { stream: options.stream.clone(), prefix: options.subject_prefix.clone(), reason: error.to_string() })?;
    let publisher = Publisher { store, member, name: publisher_name(&options.stream), options, jetstream, client };
    publisher.run(&mut shutdown).await
}

struct Publisher {
    store: Arc<dyn EventStore>,
    member: Arc<ClusterMember>,
    name: String,
    options: PublishOptions,
    jetstream: async_nats::jetstream::Context,
    client: async_nats::Client,
}

/// How a page went: how far the checkpoint may move, what was refused.
struct PageOutcome {
    reached: Option<u64>,
    published: u64,
    dead_letters: Vec<NewDeadLetter>,
    /// A failure to reach NATS that stopped the page; retried after backoff.
    interrupted: Option<String>,
}

impl Publisher {
    async fn run(&self, shutdown: &mut watch::Receiver<bool>) -> Result<(), PublishError> {
        let mut retry = FIRST_RETRY;
        while !*shutdown.borrow() {
            let Some(lease) = self.wait_for_lease(shutdown).await? else { return Ok(()) };
            tracing::info!(publisher = %self.name, token = lease.token, "publishing under its lease");
            match self.publish_under(&lease, shutdown, &mut retry).await {
                Ok(()) => {}
                Err(PublishError::Store(error @ StoreError::LeaseLost { .. })) => tracing::warn!(publisher = %self.name, %error, "another process publishes now"),
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }

    /// This process's lease on the publisher, once it has it; None at shutdown.
    async fn wait_for_lease(&self, shutdown: &mut watch::Receiver<bool>) -> Result<Option<Lease>, PublishError> {
        loop {
            if *shutdown.borrow() {
                return Ok(None);
            }
            self.member.heartbeat().await.ok();
            if let Some(lease) = self.member.acquire(&self.name).await? {
                return Ok(Some(lease));
            }
            tokio::select! {
                _ = tokio::time::sleep(self.member.renew_every()) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Pages until shutdown or until the lease is lost (an error).
    async fn publish_under(&self, lease: &Lease, shutdown: &mut watch::Receiver<bool>, retry: &mut Duration) -> Result<(), PublishError> {
        let fence = Fence { lease: lease.name.clone(), token: lease.token };
        let mut renewed = tokio::time::Instant::now();
        while !*shutdown.borrow() {
            if renewed.elapsed() >= self.member.renew_every() {
                self.member.heartbeat().await.ok();
                if !self.member.renew(lease).await? {
                    return Err(StoreError::LeaseLost { lease: lease.name.clone(), token: lease.token, current: None }.into());
                }
                renewed = tokio::time::Instant::now();
            }
            let checkpoint = self.store.checkpoint(&self.name).await?.map_or(0, |checkpoint| checkpoint.position);
            let head = self.store.head_position().await?;
            crate::telemetry::publisher_lag(&self.options.stream, head.saturating_sub(checkpoint));
            let page = crate::read::Reader::raw(self.store.clone()).log(&LogFilter { to_position: Some(head), ..self.options.filter.clone() }, checkpoint, IN_FLIGHT).await.map_err(|error| match error {
                crate::read::ReadError::Store(error) => PublishError::Store(error),
                other => PublishError::Invalid(other.to_string()),
            })?;
            if page.is_empty() {
                if head > checkpoint {
                    // Nothing the filter selects up to the head: pass it.
                    self.commit(&fence, checkpoint, head, Vec::new(), 0).await?;
                    continue;
                }
                tokio::select! {
                    _ = self.store.wait_for_new_events(checkpoint, FOLLOW_WAIT) => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
            let outcome = self.publish_page(&page).await;
            if let Some(reached) = outcome.reached {
                self.commit(&fence, checkpoint, reached, outcome.dead_letters, outcome.published).await?;
            }
            crate::telemetry::events_published(&self.options.stream, outcome.published);
            if let Some(reason) = outcome.interrupted {
                crate::telemetry::publish_failed(&self.options.stream, "unreachable");
                tracing::warn!(publisher = %self.name, %reason, retry_in_ms = retry.as_millis() as u64, "could not publish; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(*retry) => {}
                    _ = shutdown.changed() => {}
                }
                *retry = (*retry * 2).min(LAST_RETRY);
            } else {
                *retry = FIRST_RETRY;
            }
        }
        Ok(())
    }

    /// Sends the page's events, then awaits their acknowledgements in order.
    async fn publish_page(&self, page: &[crate::event::RecordedEvent]) -> PageOutcome {
        let mut outcome = PageOutcome { reached: None, published: 0, dead_letters: Vec::new(), interrupted: None };
        let max_payload = self.client.server_info().max_payload;
        let mut pending = Vec::with_capacity(page.len());
        for event in page {
            let message = EventMessage::of(event, &self.options.subject_prefix);
            if message.size() > max_payload {
                pending.push((event, Err(format!("the event is {} bytes as a message, over the NATS server's max_payload of {max_payload}; raise max_payload in the server's configuration and retry it", message.size()))));
                continue;
            }
            match self.jetstream.publish_with_headers(message.subject, message.headers, message.body).await {
                Ok(acknowledgement) => pending.push((event, Ok(acknowledgement))),
                Err(error) => {
                    outcome.interrupted = Some(error.to_string());
                    break;
                }
            }
        }
        for (event, sent) in pending {
            let refused = match sent {
                Ok(acknowledgement) => match acknowledgement.await {
                    Ok(_) => None,
                    Err(error) if refused_by_server(&error) => Some(format!("JetStream refused it: {}", std::error::Error::source(&error).map_or_else(|| error.to_string(), |source| source.to_string()))),
                    Err(error) => {
                        outcome.interrupted = Some(error.to_string());
                        break;
                    }
                },
                Err(reason) => Some(reason),
            };
            match refused {
                None => outcome.published += 1,
                Some(reason) => {
                    crate::telemetry::publish_failed(&self.options.stream, "refused");
                    tracing::warn!(publisher = %self.name, event = %event.id, %reason, "dead-lettered an event the server refused");
                    outcome.dead_letters.push(dead_letter(event, reason));
                }
            }
            outcome.reached = Some(event.global_position);
        }
        outcome
    }

    async fn commit(&self, fence: &Fence, expected: u64, reached: u64, dead_letters: Vec<NewDeadLetter>, published: u64) -> Result<(), PublishError> {
        let commit = HandlerCommit {
            handler: self.name.clone(),
            dead_letters,
            checkpoint: Some(CheckpointAdvance { name: self.name.clone(), expected_position: expected, position: reached, events: published }),
            fence: Some(fence.clone()),
            ..HandlerCommit::default()
        };
        Ok(self.store.commit_handler_batch(&commit).await?)
    }
}

/// A refusal of the message itself (a JetStream API error in the ack),
/// rather than a failure to reach the server.
fn refused_by_server(error: &async_nats::jetstream::context::PublishError) -> bool {
    std::error::Error::source(error).is_some_and(|source| source.downcast_ref::<async_nats::jetstream::Error>().is_some())
}

fn dead_letter(event: &crate::event::RecordedEvent, reason: String) -> NewDeadLetter {
    NewDeadLetter {
        generation: 0,
        aggregate_type: event.aggregate_type.clone(),
        aggregate_id: event.aggregate_id.clone(),
        event_id: event.id,
        global_position: event.global_position,
        event_type: event.event_type.clone(),
        status: DeadLetterStatus::Failed,
        error: Some(reason),
        attempts: 1,
    }
}

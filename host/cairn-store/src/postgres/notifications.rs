//! What other processes tell this one over LISTEN/NOTIFY: commits (the new
//! head, on `cairn_events_<schema>`), registry changes (on
//! `cairn_registry_<schema>`) and leases let go (on `cairn_leases_<schema>`,
//! so that another host takes the work at once).
//!
//! One connection listens on both channels, started on first need and kept
//! up for the store's life: when it drops, it is re-established with
//! backoff (100 ms doubling to 30 s), and then the head is read again and
//! a registry change is announced, because whatever was committed while no
//! one listened sent notifications nobody heard. While it is down, waiters
//! fall back to polling.

use std::sync::OnceLock;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use tokio::sync::{oneshot, watch};

use super::super::head::HeadWatch;
use crate::RegistryNotices;

pub(super) struct Notifications {
    options: PgConnectOptions,
    events_channel: String,
    registry_channel: String,
    lease_channel: String,
    head: HeadWatch,
    registry: watch::Sender<u64>,
    leases: watch::Sender<u64>,
    listening: watch::Sender<bool>,
    /// Dropped with the store, which ends the listening task.
    started: OnceLock<oneshot::Sender<()>>,
}

impl Notifications {
    pub fn new(options: PgConnectOptions, schema: Option<&str>, head: HeadWatch) -> Self {
        let schema = schema.unwrap_or("default");
        Self {
            options,
            events_channel: channel_name("events", schema),
            registry_channel: channel_name("registry", schema),
            lease_channel: channel_name("leases", schema),
            head,
            registry: watch::Sender::new(0),
            leases: watch::Sender::new(0),
            listening: watch::Sender::new(false),
            started: OnceLock::new(),
        }
    }

    pub fn events_channel(&self) -> &str {
        &self.events_channel
    }

    pub fn registry_channel(&self) -> &str {
        &self.registry_channel
    }

    pub fn lease_channel(&self) -> &str {
        &self.lease_channel
    }

    /// Moves each time another process lets a lease go.
    pub fn lease_notices(&self) -> watch::Receiver<u64> {
        self.ensure_started();
        self.leases.subscribe()
    }

    /// Starts the listening task, once. Short commands never call it, so
    /// they never hold a listening connection.
    pub fn ensure_started(&self) {
        self.started.get_or_init(|| {
            let (stop, stopped) = oneshot::channel();
            let task = ListenTask {
                options: self.options.clone(),
                channels: [self.events_channel.clone(), self.registry_channel.clone(), self.lease_channel.clone()],
                head: self.head.clone(),
                registry: self.registry.clone(),
                leases: self.leases.clone(),
                listening: self.listening.clone(),
            };
            tokio::spawn(task.run(stopped));
            stop
        });
    }

    pub fn registry_notices(&self) -> RegistryNotices {
        self.ensure_started();
        RegistryNotices { changes: self.registry.subscribe(), listening: self.listening.subscribe() }
    }
}

/// `cairn_<kind>_<schema>`, or, when that is longer than PostgreSQL's 63
/// bytes for a channel name, the schema's SHA-256 in its place: the same on
/// every host of the schema, whatever its version.
fn channel_name(kind: &str, schema: &str) -> String {
    let plain = format!("cairn_{kind}_{schema}");
    if plain.len() <= 63 {
        return plain;
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(schema.as_bytes());
    let hex: String = digest.iter().take(16).map(|byte| format!("{byte:02x}")).collect();
    format!("cairn_{kind}_{hex}")
}

struct ListenTask {
    options: PgConnectOptions,
    channels: [String; 3],
    head: HeadWatch,
    registry: watch::Sender<u64>,
    leases: watch::Sender<u64>,
    listening: watch::Sender<bool>,
}

const FIRST_RETRY: Duration = Duration::from_millis(100);
const LAST_RETRY: Duration = Duration::from_secs(30);

impl ListenTask {
    async fn run(self, mut stopped: oneshot::Receiver<()>) {
        let pool = PgPoolOptions::new().max_connections(2).connect_lazy_with(self.options.clone());
        let mut retry = FIRST_RETRY;
        loop {
            let subscribed = tokio::select! {
                _ = &mut stopped => return,
                subscribed = subscribe(&pool, &self.channels) => subscribed,
            };
            let mut listener = match subscribed {
                Ok(listener) => listener,
                Err(error) => {
                    tracing::warn!(%error, retry_in_ms = retry.as_millis() as u64, "cannot listen for other processes' commits and registry changes; polling meanwhile");
                    tokio::select! {
                        _ = &mut stopped => return,
                        _ = tokio::time::sleep(retry) => {}
                    }
                    retry = (retry * 2).min(LAST_RETRY);
                    continue;
                }
            };
            retry = FIRST_RETRY;
            self.catch_up(&pool).await;
            self.listening.send_replace(true);
            loop {
                let received = tokio::select! {
                    _ = &mut stopped => return,
                    received = listener.try_recv() => received,
                };
                match received {
                    Ok(Some(notification)) if notification.channel() == self.channels[0] => {
                        if let Ok(head) = notification.payload().parse::<u64>() {
                            self.head.publish(head);
                        }
                    }
                    Ok(Some(notification)) if notification.channel() == self.channels[1] => self.registry.send_modify(|changes| *changes += 1),
                    Ok(Some(_)) => self.leases.send_modify(|released| *released += 1),
                    Ok(None) | Err(_) => {
                        tracing::warn!("the connection listening for commits and registry changes dropped; re-establishing it");
                        self.listening.send_replace(false);
                        break;
                    }
                }
            }
        }
    }

    /// What no one heard while nobody listened: the head as it is, and a
    /// registry change, so that the registry is read again.
    async fn catch_up(&self, pool: &PgPool) {
        match sqlx::query_scalar::<_, i64>(include_str!("../../queries/postgres/head_position.sql")).fetch_one(pool).await {
            Ok(head) => self.head.publish(head as u64),
            Err(error) => tracing::warn!(%error, "cannot read the log's head after listening again"),
        }
        self.registry.send_modify(|changes| *changes += 1);
        self.leases.send_modify(|released| *released += 1);
    }
}

async fn subscribe(pool: &PgPool, channels: &[String; 3]) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen_all(channels.iter().map(String::as_str)).await?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::channel_name;

    #[test]
    fn channel_names_fit_postgresql_and_stay_apart() {
        assert_eq!(channel_name("events", "shop"), "cairn_events_shop");
        let long = "s".repeat(63);
        let (events, registry) = (channel_name("events", &long), channel_name("registry", &long));
        assert!(events.len() <= 63 && registry.len() <= 63, "{events} {registry}");
        assert_ne!(channel_name("registry", &long), channel_name("registry", &"t".repeat(63)));
    }
}

//! `cairn bench cluster` (PostgreSQL): several real `cairn serve` processes
//! on one schema, each figure beside the engine's or the server's own
//! limit from the same run:
//! - commands over HTTP with 1 host and with 3, beside 16 connections
//!   committing single-row INSERTs straight into PostgreSQL;
//! - a plugin uploaded to one host until it is active on another, beside
//!   one NOTIFY heard by a LISTEN connection;
//! - a `kill -9` of a projection's lease holder until another host holds
//!   it, beside the lease's time to live;
//! - the publisher sending a backlog to JetStream, beside the same messages
//!   published with async-nats directly.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::http::{load, Connection};
use super::{build_profile, format_latency, format_rate, quantile, read_plugin, BenchReport, BenchRow};
use cairn::store::{EventStore, StoreLimits, StoreUrl};

pub struct ClusterBenchConfig {
    pub postgres_url: String,
    pub nats_url: String,
    pub plugin_directory: std::path::PathBuf,
    pub seconds: f64,
    pub clients: usize,
    pub backlog: u64,
}

const LEASE_TTL: &str = "2s";

/// One `cairn serve` child on a free port.
pub(crate) struct Host {
    child: Child,
    address: std::net::SocketAddr,
}

impl Host {
    fn start(store: &str, cache: &std::path::Path) -> anyhow::Result<Self> {
        use std::io::BufRead;
        let mut child = Command::new(std::env::current_exe()?)
            .args(["serve", "--listen", "127.0.0.1:0", "--lease-ttl", LEASE_TTL, "--compile-cache"])
            .arg(cache)
            .env("CAIRN_STORE", store)
            .env("CAIRN_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout"))?).read_line(&mut line)?;
        let address = line.trim().strip_prefix("listening on http://").ok_or_else(|| anyhow::anyhow!("cairn serve said {line:?}"))?.parse()?;
        Ok(Self { child, address })
    }

    async fn get(&self, path: &str) -> anyhow::Result<serde_json::Value> {
        let (_, body) = Connection::open(self.address).await?.send(hyper::Method::GET, path, None).await?;
        Ok(serde_json::from_slice(&body)?)
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn run(config: &ClusterBenchConfig) -> anyhow::Result<BenchReport> {
    let schema = format!("cairn_bench_cluster_{}", uuid::Uuid::now_v7().simple());
    let separator = if config.postgres_url.contains('?') { '&' } else { '?' };
    let store_url = format!("{}{separator}schema={schema}", config.postgres_url);
    let scratch = super::ScratchDirectory::new()?;
    let outcome = measure(config, &store_url, scratch.path()).await;
    cairn_bench_peer::drop_postgres_schema(&config.postgres_url, &schema).await?;
    outcome
}

async fn measure(config: &ClusterBenchConfig, store_url: &str, scratch: &std::path::Path) -> anyhow::Result<BenchReport> {
    let store = cairn::store::open(&StoreUrl::parse(store_url)?, StoreLimits::default()).await?;
    let host = cairn::plugins::PluginHost::open(store.clone(), cairn::runtime::PluginRuntime::new(cairn::runtime::RuntimeConfig::default())?, false).await?;
    for plugin in ["bank-account", "account-summary"] {
        host.add(cairn::plugins::PluginSource { bytes: read_plugin(&config.plugin_directory, plugin)?, requested_name: None, file_stem: None }).await?;
    }
    let cache = scratch.join("compiled");
    let hosts = (0..3).map(|_| Host::start(store_url, &cache)).collect::<anyhow::Result<Vec<_>>>()?;
    let duration = Duration::from_secs_f64(config.seconds);
    let mut rows = super::cluster_rows::commands(config, store_url, &hosts[..1], &hosts, duration).await?;
    rows.extend(propagation(config, &hosts).await?);
    rows.extend(takeover(&store, hosts).await?);
    rows.extend(super::cluster_rows::publisher(config, &store).await?);
    Ok(BenchReport { title: format!("cairn bench cluster (PostgreSQL, 3 hosts on one schema, {})", build_profile()), rows })
}

/// POST /commands from `clients` kept-alive connections spread over `hosts`.
pub(crate) async fn command_load(hosts: &[Host], clients: usize, duration: Duration, prefix: &'static str) -> anyhow::Result<super::http::Load> {
    let mut connections = Vec::with_capacity(clients);
    for client in 0..clients {
        connections.push(Arc::new(tokio::sync::Mutex::new(Connection::open(hosts[client % hosts.len()].address).await?)));
    }
    let connections = Arc::new(connections);
    Ok(load(clients, duration, move |client, sequence| {
        let connections = connections.clone();
        async move {
            let request = super::http::bank_command(prefix, client, sequence);
            let body = serde_json::json!({"command_type": request.command_type, "payload": request.payload.to_value()}).to_string();
            let path = format!("/commands/bank-account/{}", request.aggregate_id);
            let mut connection = connections[client].lock().await;
            matches!(connection.send(hyper::Method::POST, &path, Some(body)).await, Ok((status, _)) if status.is_success())
        }
    })
    .await)
}

/// Uploads to the first host until active on the second, beside one NOTIFY
/// heard by a LISTEN connection.
async fn propagation(config: &ClusterBenchConfig, hosts: &[Host]) -> anyhow::Result<Vec<BenchRow>> {
    let component = read_plugin(&config.plugin_directory, "event-counter")?;
    let mut samples = Vec::new();
    for round in 0..5 {
        let name = format!("propagated-{round}");
        let started = Instant::now();
        let mut connection = Connection::open(hosts[0].address).await?;
        let (status, body) = connection.send_bytes(&format!("/plugins?name={name}"), component.clone()).await?;
        anyhow::ensure!(status.is_success(), "the upload failed: {}", String::from_utf8_lossy(&body));
        loop {
            let health = hosts[1].get("/health").await?;
            if health["plugins"].as_array().is_some_and(|plugins| plugins.iter().any(|plugin| plugin["name"] == name.as_str())) {
                break;
            }
            anyhow::ensure!(started.elapsed() < Duration::from_secs(30), "{name} never became active on the other host");
        }
        samples.push(started.elapsed());
    }
    let notify = super::cluster_rows::notify_round_trips(&config.postgres_url, 5).await?;
    let (mut samples, mut notify) = (samples, notify);
    let (baseline, p50, worst) = (quantile(&mut notify, 0.5), quantile(&mut samples, 0.5), quantile(&mut samples, 1.0));
    Ok(vec![
        BenchRow::new("engine: a NOTIFY heard by a LISTEN connection, p50 of 5", format_latency(baseline), "baseline"),
        BenchRow::new(
            "a plugin uploaded to one host until active on another, p50 / max of 5",
            format!("{} / {}", format_latency(p50), format_latency(worst)),
            format!("{:.0}× the NOTIFY (goal: at most 1 s)", p50.as_secs_f64() / baseline.as_secs_f64().max(1e-9)),
        ),
    ])
}

/// Kills the host holding account-summary's projection lease and times
/// until another holds it.
async fn takeover(store: &Arc<dyn EventStore>, mut hosts: Vec<Host>) -> anyhow::Result<Vec<BenchRow>> {
    let lease_name = cairn::cluster::projection_lease_name("account-summary");
    let holder_of = |leases: Vec<cairn::store::Lease>| leases.into_iter().find(|lease| lease.name == lease_name && !lease.expired).map(|lease| lease.holder);
    let started = Instant::now();
    let holder = loop {
        if let Some(holder) = holder_of(store.leases().await?) {
            break holder;
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(30), "no host took the projection's lease");
    };
    let mut victim = None;
    for (index, host) in hosts.iter().enumerate() {
        if host.get("/health").await?["host"] == holder.as_str() {
            victim = Some(index);
        }
    }
    let mut victim = hosts.remove(victim.ok_or_else(|| anyhow::anyhow!("no host says it is {holder}"))?);
    let killed = Instant::now();
    victim.child.kill()?;
    victim.child.wait()?;
    let taken = loop {
        if holder_of(store.leases().await?).is_some_and(|now| now != holder) {
            break killed.elapsed();
        }
        anyhow::ensure!(killed.elapsed() < Duration::from_secs(60), "no host took the killed host's lease over");
    };
    let ttl = humantime::parse_duration(LEASE_TTL)?;
    Ok(vec![
        BenchRow::new(format!("lease time to live (--lease-ttl {LEASE_TTL}): the longest a killed holder's lease outlives it"), format_latency(ttl), "baseline"),
        BenchRow::new("kill -9 of a projection's lease holder until another host holds it", format_latency(taken), format!("{:.2}× the time to live", taken.as_secs_f64() / ttl.as_secs_f64())),
    ])
}

/// The rate of `completed` over `elapsed`, as a table cell.
pub(crate) fn rate_cell(completed: u64, elapsed: Duration) -> String {
    format_rate(completed as f64 / elapsed.as_secs_f64().max(1e-9)).replace(" events/s", "/s")
}

pub(crate) fn next_position(counter: &AtomicU64) -> u64 {
    counter.fetch_add(1, Ordering::Relaxed) + 1
}

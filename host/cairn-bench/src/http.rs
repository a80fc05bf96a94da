//! `cairn bench http`: the server under load on loopback, each figure beside
//! the same work done in-process without HTTP (the baseline):
//! - commands per second and their p99 latency, through `POST /commands`
//!   and through `Commands::execute`;
//! - pages of `GET /events` against `read_log`;
//! - SSE fan-out: delay from append to delivery at 100 subscribers of
//!   `/events/stream` against 100 in-process followers of the log.
//!
//! The server runs in this process, on its own port, with the router that
//! `cairn serve` uses; the load comes over real TCP connections, one per
//! client, kept alive.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

use super::{build_profile, format_latency, quantile, read_plugin, BenchReport, BenchRow, ScratchDirectory};
use cairn::command::{CommandRequest, Commands};
use cairn::event::{AppendRequest, NewEvent};
use cairn_http::{ServeOptions, ServerState, TokenTable};
use cairn::json::JsonText;
use cairn::plugins::{PluginHost, PluginSource};
use cairn::runtime::{PluginRuntime, RuntimeConfig};
use cairn::store::{self, EventStore, LogFilter, StoreLimits, StoreUrl};

pub struct HttpBenchConfig {
    pub plugin_directory: PathBuf,
    /// How long each load runs.
    pub duration: Duration,
    /// Concurrent clients for commands and reads.
    pub clients: usize,
    pub subscribers: usize,
    /// Events appended per second while the subscribers listen.
    pub fan_out_rate: u64,
    /// Calls to the sleeping plugin in flight while an unrelated command is timed.
    pub sleeping_calls: usize,
}

/// `POST /commands` against `Commands::execute` in-process, one load each.
async fn command_loads(config: &HttpBenchConfig, commands: &Arc<Commands>, connections: &Connections) -> anyhow::Result<(Load, Load)> {
    let direct = {
        let commands = commands.clone();
        load(config.clients, config.duration, move |client, sequence| {
            let commands = commands.clone();
            async move { commands.execute(bank_command("direct", client, sequence)).await.is_ok() }
        })
        .await
    };
    let over_http = {
        let connections = connections.clone();
        load(config.clients, config.duration, move |client, sequence| {
            let connection = connections[client].clone();
            async move {
                let request = bank_command("http", client, sequence);
                let body = serde_json::json!({ "command_type": request.command_type, "payload": serde_json::from_str::<serde_json::Value>(request.payload.as_str()).expect("valid") });
                let path = format!("/commands/bank-account/{}", request.aggregate_id);
                matches!(connection.lock().await.send(hyper::Method::POST, &path, Some(body.to_string())).await, Ok((status, _)) if status == 200)
            }
        })
        .await
    };
    if over_http.errors > 0 || direct.errors > 0 {
        anyhow::bail!("{} commands over HTTP and {} in-process failed; the benchmark needs every one to succeed", over_http.errors, direct.errors);
    }
    Ok((direct, over_http))
}

/// `GET /events` pages against the store's `read_log` in-process.
async fn read_loads(config: &HttpBenchConfig, store: &Arc<dyn EventStore>, connections: &Connections) -> anyhow::Result<(Load, Load)> {
    let head = store.head_position().await?;
    let read_direct = {
        let store = store.clone();
        load(config.clients, config.duration, move |client, sequence| {
            let store = store.clone();
            async move { store.read_log(&LogFilter::default(), page_start(head, client, sequence), PAGE).await.is_ok_and(|page| page.len() == PAGE) }
        })
        .await
    };
    let read_http = {
        let connections = connections.clone();
        load(config.clients, config.duration, move |client, sequence| {
            let connection = connections[client].clone();
            async move {
                let path = format!("/events?after={}&limit={PAGE}", page_start(head, client, sequence));
                matches!(connection.lock().await.send(hyper::Method::GET, &path, None).await, Ok((status, _)) if status == 200)
            }
        })
        .await
    };
    Ok((read_direct, read_http))
}

pub async fn run(config: &HttpBenchConfig) -> anyhow::Result<BenchReport> {
    let bank_account = read_plugin(&config.plugin_directory, "bank-account")?;
    let directory = ScratchDirectory::new()?;
    let store = store::open(&StoreUrl::Sqlite { path: directory.path().join("bench.db") }, StoreLimits::default()).await?;
    let runtime = PluginRuntime::new(RuntimeConfig { cache_directory: Some(directory.path().join("compiled")), ..RuntimeConfig::default() })?;
    let host = PluginHost::open(store.clone(), runtime, true).await?;
    host.add(PluginSource { bytes: bank_account, requested_name: None, file_stem: None }).await?;
    let sleeper = read_plugin(&config.plugin_directory, "test-sleep")?;
    host.add(PluginSource { bytes: sleeper, requested_name: None, file_stem: None }).await?;
    let commands = Arc::new(Commands::new(host.clone()));
    let server = TestServer::start(commands.clone()).await?;

    let connections = server.connect_clients(config.clients).await?;
    let (direct, over_http) = command_loads(config, &commands, &connections).await?;
    let (read_direct, read_http) = read_loads(config, &store, &connections).await?;
    let followers = fan_out(store.clone(), config, Delivery::InProcess).await?;
    let subscribers = fan_out(store.clone(), config, Delivery::Sse(server.address)).await?;
    let saturation = super::saturation::measure(&server, config.duration, config.sleeping_calls).await?;
    server.stop().await;

    let command_rate = |load: &Load| format!("{} commands/s, p50 {}, p99 {}", group(load.rate()), format_latency(load.quantile(0.5)), format_latency(load.quantile(0.99)));
    let page_rate = |load: &Load| format!("{} events/s ({} pages/s)", group(load.rate() * PAGE as f64), group(load.rate()));
    let delay = |samples: &Delays| format!("p50 {}, p99 {}, max {} ({} deliveries)", format_latency(samples.p50), format_latency(samples.p99), format_latency(samples.max), samples.count);
    let rows = vec![
        BenchRow::new(format!("commands in-process (Commands::execute), {} clients", config.clients), command_rate(&direct), "baseline"),
        BenchRow::new(
            format!("POST /commands, {} keep-alive connections", config.clients),
            format!("{}, {} errors", command_rate(&over_http), over_http.errors),
            format!("{:.2}× in-process throughput, p99 {:.2}×", over_http.rate() / direct.rate(), ratio(over_http.quantile(0.99), direct.quantile(0.99))),
        ),
        BenchRow::new(format!("read_log in-process, pages of {PAGE}"), page_rate(&read_direct), "baseline"),
        BenchRow::new(format!("GET /events, pages of {PAGE}"), page_rate(&read_http), format!("{:.2}× in-process", read_http.rate() / read_direct.rate())),
        BenchRow::new(format!("{} in-process followers of the log, {} appends/s", config.subscribers, config.fan_out_rate), delay(&followers), "baseline"),
        BenchRow::new(
            format!("{} SSE subscribers of /events/stream", config.subscribers),
            delay(&subscribers),
            format!("p99 {:.2}× in-process", ratio(subscribers.p99, followers.p99)),
        ),
    ];
    let rows = rows.into_iter().chain(super::saturation::rows(&saturation)).collect();
    Ok(BenchReport { title: format!("cairn bench http (SQLite, loopback, {}s per load, {})", config.duration.as_secs_f64(), build_profile()), rows })
}

const PAGE: usize = 100;

/// Open the account on a client's first command, deposit after that.
pub(crate) fn bank_command(prefix: &str, client: usize, sequence: u64) -> CommandRequest {
    let (command_type, payload) = if sequence == 0 { ("Open", r#"{"owner":"bench"}"#) } else { ("Deposit", r#"{"amount":1}"#) };
    CommandRequest {
        aggregate_type: "bank-account".to_owned(),
        aggregate_id: format!("{prefix}-{client}"),
        command_type: command_type.to_owned(),
        payload: JsonText::from_trusted(payload.to_owned()),
        metadata: JsonText::from_trusted("{}".to_owned()),
        command_id: None,
    }
}

/// Pages spread over the log, different per client, always full.
fn page_start(head: u64, client: usize, sequence: u64) -> u64 {
    let span = head.saturating_sub(PAGE as u64).max(1);
    (sequence * 7919 + client as u64 * 104_729) % span
}

fn group(rate: f64) -> String {
    super::format_rate(rate).trim_end_matches(" events/s").to_owned()
}

fn ratio(value: Duration, baseline: Duration) -> f64 {
    value.as_secs_f64() / baseline.as_secs_f64().max(1e-9)
}

/// What one load produced: completed requests, failures and latencies.
/// One kept-alive connection per client.
type Connections = Arc<Vec<Arc<tokio::sync::Mutex<Connection>>>>;

pub(crate) struct Load {
    pub(crate) completed: u64,
    pub(crate) errors: u64,
    pub(crate) elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Load {
    pub(crate) fn rate(&self) -> f64 {
        self.completed as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    pub(crate) fn quantile(&self, q: f64) -> Duration {
        quantile(&mut self.latencies.clone(), q)
    }
}

/// Runs `request` from `clients` tasks, each in a loop, until `duration`
/// has passed; a request answers whether it succeeded.
pub(crate) async fn load<F, Fut>(clients: usize, duration: Duration, request: F) -> Load
where
    F: Fn(usize, u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = bool> + Send,
{
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = (0..clients)
        .map(|client| {
            let request = request.clone();
            tokio::spawn(async move {
                let (mut latencies, mut errors) = (Vec::new(), 0);
                let mut sequence = 0;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    if request(client, sequence).await {
                        latencies.push(sent.elapsed());
                    } else {
                        errors += 1;
                    }
                    sequence += 1;
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut result = Load { completed: 0, errors: 0, elapsed: Duration::ZERO, latencies: Vec::new() };
    for task in tasks {
        let (latencies, errors) = task.await.expect("a load task does not panic");
        result.completed += latencies.len() as u64;
        result.errors += errors;
        result.latencies.extend(latencies);
    }
    result.elapsed = started.elapsed();
    result
}

/// The server `cairn serve` runs, on a free loopback port.
pub(crate) struct TestServer {
    pub(crate) address: SocketAddr,
    state: Arc<ServerState>,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    pub(crate) async fn start(commands: Arc<Commands>) -> anyhow::Result<Self> {
        let options = ServeOptions { max_sse_clients: 10_000, ..ServeOptions::default() };
        let state = Arc::new(ServerState::new(commands, None, None, &options));
        let router = cairn_http::router(state.clone(), Arc::new(TokenTable::default()), &options);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopped.wait_for(|stopped| *stopped).await;
                })
                .await
        });
        Ok(Self { address, state, stop, task })
    }

    async fn connect_clients(&self, clients: usize) -> anyhow::Result<Connections> {
        let mut connections = Vec::with_capacity(clients);
        for _ in 0..clients {
            connections.push(Arc::new(tokio::sync::Mutex::new(Connection::open(self.address).await?)));
        }
        Ok(Arc::new(connections))
    }

    pub(crate) async fn stop(self) {
        // Ends the open SSE streams, so that the graceful shutdown finishes.
        self.state.live.stop();
        self.stop.send_replace(true);
        let _ = self.task.await;
    }
}

/// One kept-alive HTTP/1.1 connection.
pub(crate) struct Connection {
    sender: SendRequest<Full<Bytes>>,
}

impl Connection {
    pub(crate) async fn open(address: SocketAddr) -> anyhow::Result<Self> {
        let stream = tokio::net::TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(Self { sender })
    }

    pub(crate) async fn send(&mut self, method: hyper::Method, path: &str, body: Option<String>) -> anyhow::Result<(hyper::StatusCode, Bytes)> {
        let response = self.start(method, path, body).await?;
        let status = response.status();
        Ok((status, response.into_body().collect().await?.to_bytes()))
    }

    /// POSTs a component (`application/wasm`).
    pub(crate) async fn send_bytes(&mut self, path: &str, body: Vec<u8>) -> anyhow::Result<(hyper::StatusCode, Bytes)> {
        self.sender.ready().await?;
        let request = hyper::Request::builder()
            .method(hyper::Method::POST)
            .uri(path)
            .header(hyper::header::HOST, "127.0.0.1")
            .header(hyper::header::CONTENT_TYPE, "application/wasm")
            .body(Full::new(Bytes::from(body)))?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        Ok((status, response.into_body().collect().await?.to_bytes()))
    }

    async fn start(&mut self, method: hyper::Method, path: &str, body: Option<String>) -> anyhow::Result<hyper::Response<hyper::body::Incoming>> {
        self.sender.ready().await?;
        let request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, "127.0.0.1")
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body.unwrap_or_default())))?;
        Ok(self.sender.send_request(request).await?)
    }
}

enum Delivery {
    InProcess,
    Sse(SocketAddr),
}

struct Delays {
    count: usize,
    p50: Duration,
    p99: Duration,
    max: Duration,
}

/// Appends `fan_out_rate` events a second for the configured duration while
/// every subscriber follows the log, and measures each delivery's delay
/// from the moment its append began.
async fn fan_out(store: Arc<dyn EventStore>, config: &HttpBenchConfig, delivery: Delivery) -> anyhow::Result<Delays> {
    let clock = Instant::now();
    let after = store.head_position().await?;
    let events = (config.fan_out_rate as f64 * config.duration.as_secs_f64()).round().max(1.0) as usize;
    let filter = LogFilter { event_types: vec!["Pinged".to_owned()], ..LogFilter::default() };
    let mut subscribers = tokio::task::JoinSet::new();
    let (ready, mut all_ready) = tokio::sync::mpsc::channel::<()>(config.subscribers.max(1));
    for _ in 0..config.subscribers {
        let ready = ready.clone();
        match delivery {
            Delivery::InProcess => {
                let follow = cairn::store::follow_log(store.clone(), filter.clone(), after, 500);
                subscribers.spawn(async move {
                    let _ = ready.send(()).await;
                    let delays = follow
                        .take(events)
                        .map(|event| event.map(|event| delay_of(clock, event.payload.as_str())))
                        .collect::<Vec<_>>()
                        .await;
                    delays.into_iter().collect::<Result<Vec<_>, _>>().map_err(anyhow::Error::from)
                });
            }
            Delivery::Sse(address) => {
                let mut connection = Connection::open(address).await?;
                let response = connection.start(hyper::Method::GET, &format!("/events/stream?type=Pinged&after={after}"), None).await?;
                anyhow::ensure!(response.status() == 200, "the live stream answered {}", response.status());
                subscribers.spawn(async move {
                    let _ = ready.send(()).await;
                    read_server_sent_events(response.into_body(), clock, events).await
                });
            }
        }
    }
    drop(ready);
    for _ in 0..config.subscribers {
        all_ready.recv().await;
    }
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / config.fan_out_rate.max(1) as f64));
    for index in 0..events {
        ticks.tick().await;
        let payload = format!(r#"{{"sent_micros":{}}}"#, clock.elapsed().as_micros());
        let event = NewEvent::new("bench-ping", format!("p-{}", index % 10), "Pinged", JsonText::from_trusted(payload));
        store.append(AppendRequest { events: vec![event], expectations: Vec::new() }).await?;
    }
    let mut delays = Vec::new();
    let deadline = Duration::from_secs(30) + config.duration;
    while let Some(finished) = tokio::time::timeout(deadline, subscribers.join_next()).await.map_err(|_| anyhow::anyhow!("subscribers did not receive every event within {deadline:?}"))? {
        delays.extend(finished??);
    }
    let count = delays.len();
    Ok(Delays { count, p50: quantile(&mut delays, 0.5), p99: quantile(&mut delays, 0.99), max: delays.last().copied().unwrap_or_default() })
}

fn delay_of(clock: Instant, payload: &str) -> Duration {
    let sent = serde_json::from_str::<serde_json::Value>(payload).ok().and_then(|value| value["sent_micros"].as_u64()).unwrap_or(0);
    clock.elapsed().saturating_sub(Duration::from_micros(sent))
}

/// Reads `events` messages from an SSE body, timing each on arrival.
async fn read_server_sent_events(mut body: hyper::body::Incoming, clock: Instant, events: usize) -> anyhow::Result<Vec<Duration>> {
    let mut delays = Vec::with_capacity(events);
    let mut pending = String::new();
    while delays.len() < events {
        let Some(frame) = body.frame().await else { anyhow::bail!("the live stream ended after {} events", delays.len()) };
        let Ok(data) = frame?.into_data() else { continue };
        pending.push_str(std::str::from_utf8(&data)?);
        while let Some(end) = pending.find('\n') {
            let line: String = pending.drain(..=end).collect();
            if let Some(json) = line.strip_prefix("data: ") {
                let event: serde_json::Value = serde_json::from_str(json.trim_end())?;
                delays.push(delay_of(clock, &event["payload"].to_string()));
            }
        }
    }
    Ok(delays)
}

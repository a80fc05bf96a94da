//! Metrics: the names Cairn records and the one place that installs the
//! Prometheus recorder.
//!
//! Invariants:
//! - Library code records through the functions of a `telemetry` module
//!   (this one, and the store's, runtime's and HTTP crate's own), never
//!   through the `metrics` macros with names of its own; [`METRIC_NAMES`]
//!   lists every metric of the host.
//! - Without an installed recorder (every command but `cairn serve`) each
//!   function costs one atomic load and records nothing.
//! - Gauges that describe stored state (lag, pending dead letters, snapshot
//!   hits) are set when `/metrics` is scraped, not on the hot path.

use std::time::Duration;

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

pub use cairn_runtime::{PLUGIN_CALLS, PLUGIN_CALL_DURATION};
pub use cairn_store::{APPEND_DURATION, EVENTS_APPENDED};

pub const MIGRATIONS: &str = "cairn_migrations_total";
pub const REPLAY_EVENTS: &str = "cairn_replay_events_total";
pub const HANDLER_POSITION: &str = "cairn_handler_position";
pub const HANDLER_LAG: &str = "cairn_handler_lag_events";
pub const PROJECTION_RUNNING: &str = "cairn_projection_running";
pub const LEASE_FENCED: &str = "cairn_lease_fenced_commits_total";
pub const EVENTS_PUBLISHED: &str = "cairn_published_events_total";
pub const PUBLISH_FAILURES: &str = "cairn_publish_failures_total";
pub const PUBLISHER_LAG: &str = "cairn_publisher_lag_events";
pub const DEAD_LETTERS_PENDING: &str = "cairn_dead_letters_pending";
pub const DEAD_LETTERS_RECORDED: &str = "cairn_dead_letters_recorded_total";
pub const SNAPSHOT_LOADS: &str = "cairn_aggregate_loads_total";
pub const SNAPSHOT_HIT_RATIO: &str = "cairn_snapshot_hit_ratio";
pub const LOG_HEAD: &str = "cairn_log_head_position";
pub const HTTP_REQUESTS: &str = "cairn_http_requests_total";
pub const HTTP_REQUEST_DURATION: &str = "cairn_http_request_duration_seconds";

/// Every metric the host records, in whichever crate records it.
pub const METRIC_NAMES: &[&str] = &[
    EVENTS_APPENDED,
    APPEND_DURATION,
    PLUGIN_CALLS,
    PLUGIN_CALL_DURATION,
    MIGRATIONS,
    REPLAY_EVENTS,
    HANDLER_POSITION,
    HANDLER_LAG,
    PROJECTION_RUNNING,
    LEASE_FENCED,
    EVENTS_PUBLISHED,
    PUBLISH_FAILURES,
    PUBLISHER_LAG,
    DEAD_LETTERS_PENDING,
    DEAD_LETTERS_RECORDED,
    SNAPSHOT_LOADS,
    SNAPSHOT_HIT_RATIO,
    LOG_HEAD,
    HTTP_REQUESTS,
    HTTP_REQUEST_DURATION,
];

/// Bucket bounds in seconds, from 100 µs (an append to SQLite, a plugin
/// call) to 10 s (a request at its timeout).
const LATENCY_BUCKETS: [f64; 15] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// Installs the process-wide recorder and keeps its histograms drained.
/// Call once, inside the Tokio runtime.
pub fn install_prometheus() -> Result<PrometheusHandle, String> {
    let handle = PrometheusBuilder::new()
        .set_buckets(&LATENCY_BUCKETS)
        .map_err(|error| error.to_string())?
        .install_recorder()
        .map_err(|error| format!("cannot install the metrics recorder: {error}"))?;
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(Duration::from_secs(5));
        loop {
            ticks.tick().await;
            upkeep.run_upkeep();
        }
    });
    Ok(handle)
}

/// Events a migrator upcast, or one that failed.
pub fn migrated(migrator: &str, succeeded: u64, failed: u64) {
    if succeeded > 0 {
        counter!(MIGRATIONS, "migrator" => migrator.to_owned(), "outcome" => "success").increment(succeeded);
    }
    if failed > 0 {
        counter!(MIGRATIONS, "migrator" => migrator.to_owned(), "outcome" => "failure").increment(failed);
    }
}

/// One committed replay page: `rate(cairn_replay_events_total)` is a
/// handler's replay throughput.
pub fn replay_page_committed(handler: &str, events: u64, dead_letters: u64) {
    counter!(REPLAY_EVENTS, "handler" => handler.to_owned()).increment(events);
    if dead_letters > 0 {
        counter!(DEAD_LETTERS_RECORDED, "handler" => handler.to_owned()).increment(dead_letters);
    }
}

/// A projection's commit refused by its lease's fence: this host had
/// stalled past its lease, and another had taken the work over.
pub fn lease_fenced(handler: &str) {
    counter!(LEASE_FENCED, "handler" => handler.to_owned()).increment(1);
}

/// Events JetStream acknowledged to the publisher of `stream`.
pub fn events_published(stream: &str, events: u64) {
    if events > 0 {
        counter!(EVENTS_PUBLISHED, "stream" => stream.to_owned()).increment(events);
    }
}

/// A publish that failed: `unreachable` (retried) or `refused` (dead-lettered).
pub fn publish_failed(stream: &str, reason: &'static str) {
    counter!(PUBLISH_FAILURES, "stream" => stream.to_owned(), "reason" => reason).increment(1);
}

/// Committed events the publisher of `stream` has not yet passed.
pub fn publisher_lag(stream: &str, events: u64) {
    gauge!(PUBLISHER_LAG, "stream" => stream.to_owned()).set(events as f64);
}

/// One HTTP request, labelled by its route template so that ids do not
/// multiply the series.
pub fn http_request(method: &str, route: &str, status: u16, elapsed: Duration) {
    counter!(HTTP_REQUESTS, "method" => method.to_owned(), "route" => route.to_owned(), "status" => status.to_string()).increment(1);
    histogram!(HTTP_REQUEST_DURATION, "method" => method.to_owned(), "route" => route.to_owned()).record(elapsed.as_secs_f64());
}

/// State read from the store at scrape time.
pub struct ScrapeState {
    pub head_position: u64,
    /// Each handler's live checkpoint position, and whether its projection
    /// runs (`None` when this process runs no projections).
    pub handlers: Vec<(String, u64, Option<bool>)>,
    pub dead_letters_pending: Vec<(String, u64)>,
    pub snapshot_hits: u64,
    pub snapshot_misses: u64,
}

pub fn record_scrape(state: &ScrapeState) {
    gauge!(LOG_HEAD).set(state.head_position as f64);
    for (handler, position, running) in &state.handlers {
        gauge!(HANDLER_POSITION, "handler" => handler.clone()).set(*position as f64);
        gauge!(HANDLER_LAG, "handler" => handler.clone()).set(state.head_position.saturating_sub(*position) as f64);
        if let Some(running) = running {
            gauge!(PROJECTION_RUNNING, "handler" => handler.clone()).set(if *running { 1.0 } else { 0.0 });
        }
    }
    for (handler, pending) in &state.dead_letters_pending {
        gauge!(DEAD_LETTERS_PENDING, "handler" => handler.clone()).set(*pending as f64);
    }
    counter!(SNAPSHOT_LOADS, "snapshot" => "hit").absolute(state.snapshot_hits);
    counter!(SNAPSHOT_LOADS, "snapshot" => "miss").absolute(state.snapshot_misses);
    let loads = state.snapshot_hits + state.snapshot_misses;
    if loads > 0 {
        gauge!(SNAPSHOT_HIT_RATIO).set(state.snapshot_hits as f64 / loads as f64);
    }
}

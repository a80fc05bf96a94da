//! Health, metrics and the OpenAPI document: what operators and their
//! tools read.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::{json, Value};

use super::error::ApiError;
use super::ServerState;
use cairn::plugins::PluginStatus;
use cairn::cluster::{hosts_alive, projection_lease_name};
use cairn::replay::{live_checkpoint_name, ProjectionState};
use cairn::store::Lease;

/// Where each handler's live projection stands.
pub(crate) struct ProjectionReading {
    pub(crate) handler: String,
    pub(crate) position: u64,
    /// `None` when this server runs no projections.
    state: Option<ProjectionState>,
    /// The host holding the projection's lease, while it has not expired.
    holder: Option<String>,
}

/// Each handler's live checkpoint position, projection state and lease
/// holder, for the plugin statuses the caller has already read.
pub(crate) async fn projection_readings(state: &ServerState, statuses: &[PluginStatus], leases: &[Lease]) -> Vec<ProjectionReading> {
    let mut readings = Vec::new();
    for status in statuses.iter().filter(|status| status.kind == Some(cairn::runtime::PluginKind::Handler)) {
        let handler = status.record.name.clone();
        let checkpoint = state.store().checkpoint(&live_checkpoint_name(&handler)).await.ok().flatten();
        let lease_name = projection_lease_name(&handler);
        let holder = leases.iter().find(|lease| lease.name == lease_name && !lease.expired).map(|lease| lease.holder.clone());
        let projection_state = state.projections.as_ref().and_then(|supervisor| supervisor.state(&handler));
        readings.push(ProjectionReading { position: checkpoint.map_or(0, |checkpoint| checkpoint.position), state: projection_state, holder, handler });
    }
    readings
}

pub(crate) fn projection_json(reading: &ProjectionReading, head: Option<u64>, runs_projections: bool) -> Value {
    let (state, error) = match (&reading.state, &reading.holder) {
        (Some(ProjectionState::Running), _) => ("running", None),
        (Some(ProjectionState::Failed { error, .. }), _) => ("failed", Some(error.clone())),
        (None, Some(_)) => ("running_elsewhere", None),
        (None, None) if runs_projections => ("starting", None),
        (None, None) => ("not_run_by_this_server", None),
    };
    json!({
        "handler": reading.handler,
        "position": reading.position,
        "lag": head.map_or(0, |head| head.saturating_sub(reading.position)),
        "state": state,
        "holder": reading.holder,
        "error": error,
    })
}

/// Whether the process serves at all
///
/// Liveness: answers whenever the process can answer, whatever the store or
/// the plugins say, so that an orchestrator restarts only a process that
/// no longer serves (a restart would not fix a database that is down).
#[utoipa::path(get, path = "/health/live", tag = "operations", security(()),
    responses((status = 200, description = "`status` live and the uptime", body = Object)))]
pub async fn live(State(state): State<Arc<ServerState>>) -> Json<Value> {
    Json(json!({ "status": "live", "uptime_seconds": state.started.elapsed().as_secs() }))
}

/// Whether the server can serve: readiness
#[utoipa::path(get, path = "/health/ready", tag = "operations", security(()),
    responses(
        (status = 200, description = "The store takes appends and reads (on SQLite, its writer runs), every active plugin loads and no live projection has failed; with plugin calls running and waiting, each projection's state and lag, and pending dead letters", body = Object),
        (status = 503, description = "The same details, with what is wrong", body = Object)))]
pub async fn ready(State(state): State<Arc<ServerState>>) -> (StatusCode, Json<Value>) {
    readiness(&state).await
}

/// What `/health/ready` answers, kept at `/health` too.
#[utoipa::path(get, path = "/health", tag = "operations", security(()),
    responses(
        (status = 200, description = "As /health/ready", body = Object),
        (status = 503, description = "As /health/ready", body = Object)))]
pub async fn health(State(state): State<Arc<ServerState>>) -> (StatusCode, Json<Value>) {
    readiness(&state).await
}

async fn readiness(state: &ServerState) -> (StatusCode, Json<Value>) {
    let store = state.store();
    let ready_store = store.readiness().await;
    let head = store.head_position().await;
    let latest_event_at = match &head {
        // Only the timestamp is read, so the event is read as stored.
        Ok(head) if *head > 0 => cairn::read::Reader::raw(store.clone()).log(&Default::default(), head - 1, 1).await.ok().and_then(|page| page.first().map(|event| event.timestamp)),
        _ => None,
    };
    let statuses = state.plugins.statuses();
    let plugins: Vec<Value> = statuses
        .iter()
        .map(|status| json!({ "name": status.record.name, "kind": status.record.kind, "version": status.record.version, "loaded": status.loaded, "error": status.load_error }))
        .collect();
    let calls: Vec<Value> = state
        .plugins
        .gate_readings()
        .into_iter()
        .map(|(name, reading)| json!({ "plugin": name, "limit": reading.limit, "running": reading.running, "waiting": reading.waiting, "saturated": reading.saturated() }))
        .collect();
    let saturated = calls.iter().any(|call| call["saturated"] == true);
    let leases = store.leases().await.unwrap_or_default();
    let readings = projection_readings(state, &statuses, &leases).await;
    let projections_healthy = readings.iter().all(|reading| !matches!(reading.state, Some(ProjectionState::Failed { .. })));
    let projections: Vec<Value> = readings.iter().map(|reading| projection_json(reading, head.as_ref().ok().copied(), state.projections.is_some())).collect();
    let hosts = hosts_alive(&leases);
    let this_host = state.projections.as_ref().map(|supervisor| supervisor.member().holder().to_owned());
    let dead_letters = store.dead_letter_counts().await.ok();
    let pending_dead_letters = dead_letters.as_ref().map(|counts| counts.iter().map(|count| count.failed + count.parked).sum::<u64>());
    let plugins_healthy = plugins.iter().all(|plugin| plugin["error"].is_null());
    let healthy = ready_store.is_ok() && plugins_healthy && projections_healthy;
    let body = json!({
        "status": if healthy { "healthy" } else { "unhealthy" },
        "store": {
            "reachable": ready_store.is_ok(),
            "error": ready_store.as_ref().err().map(|_| "the store does not take appends or reads; the server log says why"),
            "backend": store.backend_name(),
            "head_position": head.as_ref().ok(),
            "latest_event_at": latest_event_at.map(|at| cairn::time::format_rfc3339(&at)),
        },
        "plugins": plugins,
        "plugin_calls": { "saturated": saturated, "plugins": calls },
        "live_stream_clients": state.live.clients(),
        "host": this_host,
        "hosts": hosts,
        "projections": projections,
        "dead_letters_pending": pending_dead_letters,
        "dead_letters": dead_letters,
        "uptime_seconds": state.started.elapsed().as_secs(),
    });
    if let Err(error) = &ready_store {
        tracing::warn!(%error, "not ready: the store");
    }
    (if healthy { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, Json(body))
}

/// Prometheus metrics
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text format: appends by aggregate type, append latency, plugin calls (count, duration, traps, timeouts), migrations, replay events, handler lag, snapshot hits, dead letters, HTTP requests", content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<Arc<ServerState>>) -> Result<impl IntoResponse, ApiError> {
    let Some(handle) = &state.metrics else {
        return Err(ApiError::not_found("metrics are not recorded by this server"));
    };
    let store = state.store();
    let head_position = store.head_position().await?;
    let dead_letters_pending = store.dead_letter_counts().await?.into_iter().map(|count| (count.handler, count.failed + count.parked)).collect();
    let loads = state.commands.load_statistics();
    cairn::telemetry::record_scrape(&cairn::telemetry::ScrapeState {
        head_position,
        // 1 where the projection runs on this host, 0 where it runs on
        // another or has failed; absent when this server runs none.
        handlers: projection_readings(&state, &state.plugins.statuses(), &[])
            .await
            .into_iter()
            .map(|reading| (reading.handler, reading.position, state.projections.is_some().then_some(reading.state == Some(ProjectionState::Running))))
            .collect(),
        dead_letters_pending,
        snapshot_hits: loads.snapshot_hits,
        snapshot_misses: loads.snapshot_misses,
    });
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle.render()))
}

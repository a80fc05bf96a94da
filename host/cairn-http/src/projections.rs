//! Live projections as an operator sees them (state, checkpoint, lag in
//! events and seconds, dead letters) and their blue/green rebuild, started
//! here and followed by polling.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::Utc;
use serde::Serialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::health::{projection_json, projection_readings};
use super::openapi::ErrorBody;
use super::schemas::PluginName;
use super::ServerState;
use cairn::replay::ReplayOptions;

/// A rebuild started by this server, while it runs and after it ends.
#[derive(Debug, Clone, Serialize)]
pub struct RebuildProgress {
    /// running, completed or failed.
    pub status: &'static str,
    pub position: u64,
    /// The log's head when the progress was last reported.
    pub head: u64,
    pub processed: u64,
    pub started_at: String,
    pub error: Option<String>,
}

/// The rebuilds this server started, by handler: the latest of each.
#[derive(Default)]
pub struct Rebuilds(Mutex<HashMap<String, RebuildProgress>>);

impl Rebuilds {
    fn get(&self, handler: &str) -> Option<RebuildProgress> {
        self.0.lock().expect("the rebuild table is never poisoned").get(handler).cloned()
    }

    fn update(&self, handler: &str, change: impl FnOnce(&mut RebuildProgress)) {
        if let Some(progress) = self.0.lock().expect("the rebuild table is never poisoned").get_mut(handler) {
            change(progress);
        }
    }

    /// Records a new running rebuild, unless one of `handler` runs already.
    fn start(&self, handler: &str) -> bool {
        let mut rebuilds = self.0.lock().expect("the rebuild table is never poisoned");
        if rebuilds.get(handler).is_some_and(|progress| progress.status == "running") {
            return false;
        }
        let started_at = cairn::time::format_rfc3339(&Utc::now());
        rebuilds.insert(handler.to_owned(), RebuildProgress { status: "running", position: 0, head: 0, processed: 0, started_at, error: None });
        true
    }
}

/// Seconds between now and the first event `position` has not reached:
/// how far behind in time the projection is. Zero when it is caught up.
async fn seconds_behind(state: &ServerState, position: u64, lag: u64) -> f64 {
    if lag == 0 {
        return 0.0;
    }
    let oldest_unprocessed = cairn::read::Reader::raw(state.store().clone()).log(&Default::default(), position, 1).await.ok().and_then(|page| page.into_iter().next());
    oldest_unprocessed.map_or(0.0, |event| (Utc::now() - event.timestamp).num_milliseconds().max(0) as f64 / 1000.0)
}

/// Live projections
///
/// Each handler's projection: its state, checkpoint position, lag in events
/// and in seconds (the age of the oldest event it has not handled), dead
/// letters, read-model generations and the latest rebuild this server ran.
#[utoipa::path(get, path = "/projections", tag = "replay",
    responses((status = 200, description = "`projections`, one per handler plugin", body = Object)))]
pub async fn list(State(state): State<Arc<ServerState>>) -> Result<Json<Value>, ApiError> {
    let store = state.store();
    let head = store.head_position().await?;
    let leases = store.leases().await?;
    let counts = store.dead_letter_counts().await?;
    let mut projections = Vec::new();
    for reading in projection_readings(&state, &state.plugins.statuses(), &leases).await {
        let mut projection = projection_json(&reading, Some(head), state.projections.is_some());
        let lag = head.saturating_sub(reading.position);
        let generations = store.generations(&reading.handler).await?;
        let dead_letters = counts.iter().find(|count| count.handler == reading.handler);
        projection["lag_seconds"] = json!(seconds_behind(&state, reading.position, lag).await);
        projection["dead_letters"] = json!({ "failed": dead_letters.map_or(0, |count| count.failed), "parked": dead_letters.map_or(0, |count| count.parked) });
        projection["generation"] = json!({ "live": generations.live, "building": generations.building });
        projection["rebuild"] = serde_json::to_value(state.rebuilds.get(&reading.handler)).expect("progress serialises");
        projections.push(projection);
    }
    Ok(Json(json!({ "head_position": head, "projections": projections })))
}

/// Rebuild a projection, blue/green
///
/// Builds a fresh generation of the handler's read model beside the live
/// one, from the start of the log, and makes it live in one step once it
/// has caught up; readers see the old one until then. Answers 202 at once;
/// `GET /projections` shows the progress.
#[utoipa::path(post, path = "/projections/{handler}/rebuild", tag = "replay", params(("handler" = PluginName, Path, example = "account-summary")),
    responses((status = 202, description = "The rebuild started", body = Object), (status = 404, body = ErrorBody),
        (status = 409, description = "A rebuild of this handler is already running", body = ErrorBody)))]
pub async fn rebuild(State(state): State<Arc<ServerState>>, Path(handler): Path<String>) -> Result<(StatusCode, Json<Value>), ApiError> {
    state.plugins.handler(&handler).await?;
    if !state.rebuilds.start(&handler) {
        return Err(ApiError::new(StatusCode::CONFLICT, "conflict", format!("a rebuild of {handler} is already running; GET /projections shows its progress")));
    }
    let task_state = state.clone();
    let task_handler = handler.clone();
    tokio::spawn(async move {
        let rebuilds = &task_state.rebuilds;
        let outcome = cairn::replay::rebuild(&task_state.plugins, &task_handler, &ReplayOptions::default(), |step| {
            rebuilds.update(&task_handler, |progress| {
                (progress.position, progress.head, progress.processed) = (step.position, step.head, step.processed);
            });
        })
        .await;
        match outcome {
            Ok(result) => rebuilds.update(&task_handler, |progress| {
                progress.status = "completed";
                progress.position = result.position;
                progress.head = progress.head.max(result.position);
            }),
            Err(error) => {
                tracing::warn!(handler = %task_handler, %error, "a rebuild failed");
                rebuilds.update(&task_handler, |progress| {
                    progress.status = "failed";
                    progress.error = Some(error.to_string());
                });
            }
        }
    });
    Ok((StatusCode::ACCEPTED, Json(json!({ "handler": handler, "status": "running", "href": "/projections" }))))
}

//! Read models, dead letters, replay jobs and health.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::ServerState;
use crate::replay::{live_checkpoint_name, DeadLetterAction, JobRequest, ReplayOptions};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    prefix: Option<String>,
    limit: Option<usize>,
}

fn parse_document(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::String(text.to_owned()))
}

/// `GET /read-models/{handler}/{collection}/{key}`
pub async fn read_model(State(state): State<Arc<ServerState>>, Path((handler, collection, key)): Path<(String, String, String)>) -> Result<Json<Value>, ApiError> {
    let document = state.store().read_model_get(&handler, None, &collection, &key).await?;
    let document = document.ok_or_else(|| ApiError::not_found(format!("no document {collection}/{key} in the read model of {handler}")))?;
    Ok(Json(parse_document(&document)))
}

/// `GET /read-models/{handler}/{collection}[?prefix=P&limit=N]`
pub async fn read_models(
    State(state): State<Arc<ServerState>>,
    Path((handler, collection)): Path<(String, String)>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query?;
    let limit = query.limit.unwrap_or(100).clamp(1, 10_000);
    let documents = state.store().read_model_list(&handler, None, &collection, query.prefix.as_deref().unwrap_or(""), limit).await?;
    let documents: Vec<Value> = documents.iter().map(|(key, value)| json!({ "key": key, "value": parse_document(value) })).collect();
    Ok(Json(json!({ "documents": documents })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterQuery {
    handler: Option<String>,
    #[serde(default)]
    parked: bool,
    limit: Option<usize>,
}

/// `GET /dead-letters[?handler=H&parked=true]`
pub async fn dead_letters(State(state): State<Arc<ServerState>>, query: Result<Query<DeadLetterQuery>, QueryRejection>) -> Result<Json<Value>, ApiError> {
    let Query(query) = query?;
    let letters = state.store().dead_letters(query.handler.as_deref(), query.parked, query.limit.unwrap_or(100).clamp(1, 10_000)).await?;
    Ok(Json(json!({ "dead_letters": letters })))
}

/// `POST /dead-letters/{id}/retry` and `POST /dead-letters/{id}/skip`
pub async fn release_dead_letter(State(state): State<Arc<ServerState>>, Path((id, action)): Path<(i64, String)>) -> Result<Json<Value>, ApiError> {
    let action = match action.as_str() {
        "retry" => DeadLetterAction::Retry,
        "skip" => DeadLetterAction::Skip,
        other => return Err(ApiError::not_found(format!("no dead-letter action {other}; use retry or skip"))),
    };
    let release = crate::replay::release_stream(&state.plugins, id, action).await?;
    Ok(Json(serde_json::to_value(&release).expect("releases serialise")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayBody {
    handlers: Vec<String>,
    #[serde(default)]
    filter: crate::store::LogFilter,
    #[serde(default)]
    from_position: Option<u64>,
    #[serde(default)]
    checkpoint: Option<String>,
    #[serde(default)]
    batch_size: Option<usize>,
    #[serde(default)]
    workers: Option<usize>,
    #[serde(default)]
    max_retries: Option<u32>,
    #[serde(default)]
    stop_on_error: bool,
}

/// `POST /replay`: starts a job and answers 202 with its id; `GET
/// /replay/{id}` follows it.
pub async fn start_replay(State(state): State<Arc<ServerState>>, body: Result<Json<ReplayBody>, JsonRejection>) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(body) = body?;
    let mut problems = Vec::new();
    if body.handlers.is_empty() {
        problems.push("name at least one handler in handlers".to_owned());
    }
    if body.checkpoint.is_some() && body.handlers.len() > 1 {
        problems.push("checkpoint names one checkpoint, so it takes exactly one handler".to_owned());
    }
    if body.batch_size == Some(0) || body.workers == Some(0) {
        problems.push("batch_size and workers must be at least 1".to_owned());
    }
    if !problems.is_empty() {
        return Err(ApiError::bad_request(problems.join("; ")));
    }
    for handler in &body.handlers {
        state.plugins.handler(handler).await?;
    }
    let defaults = ReplayOptions::default();
    let options = ReplayOptions {
        filter: body.filter,
        after_position: body.from_position.map_or(0, |position| position.saturating_sub(1)),
        checkpoint: body.checkpoint.map_or(crate::replay::CheckpointChoice::Default, crate::replay::CheckpointChoice::Named),
        batch_size: body.batch_size.unwrap_or(defaults.batch_size),
        workers: body.workers.unwrap_or(1),
        failure: crate::replay::FailurePolicy {
            max_retries: body.max_retries.unwrap_or(defaults.failure.max_retries),
            stop_on_error: body.stop_on_error,
            ..defaults.failure.clone()
        },
        ..defaults
    };
    let request = JobRequest { id: uuid::Uuid::new_v4(), handlers: body.handlers, options };
    let id = request.id;
    let plugins = state.plugins.clone();
    tokio::spawn(async move {
        if let Err(error) = crate::replay::run_job(&plugins, &request, |_, _| {}).await {
            tracing::warn!(job = %request.id, %error, "replay job failed");
        }
    });
    Ok((StatusCode::ACCEPTED, Json(json!({ "id": id, "status": "running", "href": format!("/replay/{id}") }))))
}

fn job_json(job: &crate::store::ReplayJobRecord) -> Value {
    let mut value = serde_json::to_value(job).expect("jobs serialise");
    value["request"] = parse_document(&job.request);
    value["result"] = job.result.as_deref().map_or(Value::Null, parse_document);
    value
}

/// `GET /replay`
pub async fn replay_jobs(State(state): State<Arc<ServerState>>) -> Result<Json<Value>, ApiError> {
    let jobs = state.store().replay_jobs(100).await?;
    Ok(Json(json!({ "jobs": jobs.iter().map(job_json).collect::<Vec<_>>() })))
}

/// `GET /replay/{id}`
pub async fn replay_job(State(state): State<Arc<ServerState>>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = uuid::Uuid::parse_str(&id).map_err(|_| ApiError::bad_request(format!("{id} is not a job id (a UUID)")))?;
    let job = state.store().replay_job(id).await?.ok_or_else(|| ApiError::not_found(format!("no replay job {id}")))?;
    Ok(Json(job_json(&job)))
}

/// `GET /health`: 200 when the store answers and every active plugin
/// loads, 503 otherwise, with the details either way.
pub async fn health(State(state): State<Arc<ServerState>>) -> (StatusCode, Json<Value>) {
    let store = state.store();
    let head = store.head_position().await;
    let latest_event_at = match &head {
        Ok(head) if *head > 0 => store.read_log(&Default::default(), head - 1, 1).await.ok().and_then(|page| page.first().map(|event| event.timestamp)),
        _ => None,
    };
    let statuses = state.plugins.statuses();
    let plugins: Vec<Value> = statuses
        .iter()
        .map(|status| json!({ "name": status.record.name, "kind": status.record.kind, "version": status.record.version, "loaded": status.loaded, "error": status.load_error }))
        .collect();
    let mut projections = Vec::new();
    for status in statuses.iter().filter(|status| status.record.kind == "handler") {
        let position = store.checkpoint(&live_checkpoint_name(&status.record.name)).await.ok().flatten().map_or(0, |checkpoint| checkpoint.position);
        let lag = head.as_ref().map_or(0, |head| head.saturating_sub(position));
        projections.push(json!({ "handler": status.record.name, "position": position, "lag": lag }));
    }
    let pending_dead_letters = store.dead_letters(None, false, 100_000).await.map(|letters| letters.len()).ok();
    let plugins_healthy = plugins.iter().all(|plugin| plugin["error"].is_null());
    let healthy = head.is_ok() && plugins_healthy;
    let body = json!({
        "status": if healthy { "healthy" } else { "unhealthy" },
        "store": { "reachable": head.is_ok(), "backend": store.backend_name(), "head_position": head.as_ref().ok(), "latest_event_at": latest_event_at.map(|at| crate::time::format_rfc3339(&at)) },
        "plugins": plugins,
        "projections": projections,
        "dead_letters_pending": pending_dead_letters,
        "uptime_seconds": state.started.elapsed().as_secs(),
    });
    (if healthy { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, Json(body))
}

//! Read models, dead letters, replay jobs and health.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use utoipa::IntoParams;

use super::body::JsonBody;
use super::error::ApiError;
use super::openapi::ErrorBody;
use super::schemas::{AnyJson, DeadLetterActionName, DeadLetterId, Name, PageSize, PluginName, Position, ReplayInput, UuidText};
use super::ServerState;
use cairn::replay::{DeadLetterAction, JobRequest, ReplayOptions};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only keys that start with this.
    prefix: Option<String>,
    /// Only keys after this one: the previous page's `next_after`.
    after: Option<String>,
    /// 1 to 10,000 (100 by default).
    #[param(value_type = Option<PageSize>)]
    limit: Option<usize>,
    /// A generation other than the live one, such as a filtered replay's.
    #[param(value_type = Option<Position>)]
    generation: Option<u64>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DocumentQuery {
    /// A generation other than the live one, such as a filtered replay's.
    #[param(value_type = Option<Position>)]
    generation: Option<u64>,
}

fn parse_document(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::String(text.to_owned()))
}

/// One read-model document
#[utoipa::path(get, path = "/read-models/{handler}/{collection}/{key}", tag = "replay",
    params(("handler" = PluginName, Path, example = "account-summary"), ("collection" = Name, Path, example = "accounts"), ("key" = Name, Path, example = "acc-1"), DocumentQuery),
    responses((status = 200, description = "The document as the handler wrote it", body = AnyJson), (status = 404, body = ErrorBody)))]
pub async fn read_model(
    State(state): State<Arc<ServerState>>,
    Path((handler, collection, key)): Path<(String, String, String)>,
    query: Result<Query<DocumentQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query?;
    let document = state.store().read_model_get(&handler, query.generation, &collection, &key).await?;
    let document = document.ok_or_else(|| ApiError::not_found(format!("no document {collection}/{key} in the read model of {handler}")))?;
    Ok(Json(parse_document(&document)))
}

/// A read-model collection, by key
#[utoipa::path(get, path = "/read-models/{handler}/{collection}", tag = "replay",
    params(("handler" = PluginName, Path, example = "account-summary"), ("collection" = Name, Path, example = "accounts"), ListQuery),
    responses((status = 200, description = "`documents`, each with its key and value, and `next_after`: the key to page on from, when the page is full", body = Object)))]
pub async fn read_models(
    State(state): State<Arc<ServerState>>,
    Path((handler, collection)): Path<(String, String)>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query?;
    let limit = super::error::page_size(query.limit, 100)?;
    let page = cairn::store::KeyPage { prefix: query.prefix.as_deref().unwrap_or(""), after: query.after.as_deref(), limit };
    let documents = state.store().read_model_list(&handler, query.generation, &collection, &page).await?;
    // A full page may have more behind it; the last key is where to go on.
    let next_after = documents.last().filter(|_| documents.len() == limit).map(|(key, _)| key.clone());
    let documents: Vec<Value> = documents.iter().map(|(key, value)| json!({ "key": key, "value": parse_document(value) })).collect();
    Ok(Json(json!({ "documents": documents, "next_after": next_after })))
}

/// A read model's collections
#[utoipa::path(get, path = "/read-models/{handler}", tag = "replay",
    params(("handler" = PluginName, Path, example = "account-summary"), DocumentQuery),
    responses((status = 200, description = "`collections`: the names of those that hold documents, at most 1,000", body = Object)))]
pub async fn read_model_collections(
    State(state): State<Arc<ServerState>>,
    Path(handler): Path<String>,
    query: Result<Query<DocumentQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query?;
    let collections = state.store().read_model_collections(&handler, query.generation, 1_000).await?;
    Ok(Json(json!({ "handler": handler, "collections": collections })))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeadLetterQuery {
    /// Only this handler's.
    #[param(value_type = Option<PluginName>)]
    handler: Option<String>,
    /// Include the events parked behind failed ones.
    #[serde(default)]
    parked: bool,
    /// 1 to 10,000 (100 by default).
    #[param(value_type = Option<PageSize>)]
    limit: Option<usize>,
}

/// Dead letters, failed and optionally parked
#[utoipa::path(get, path = "/dead-letters", tag = "replay", params(DeadLetterQuery),
    responses((status = 200, description = "`dead_letters` by handler and position", body = Object)))]
pub async fn dead_letters(State(state): State<Arc<ServerState>>, query: Result<Query<DeadLetterQuery>, QueryRejection>) -> Result<Json<Value>, ApiError> {
    let Query(query) = query?;
    let letters = state.store().dead_letters(query.handler.as_deref(), query.parked, super::error::page_size(query.limit, 100)?).await?;
    Ok(Json(json!({ "dead_letters": letters })))
}

/// Retry or skip a dead letter
///
/// Releases the stream it heads: the failed event is retried (or skipped),
/// then the events parked behind it, in order.
#[utoipa::path(post, path = "/dead-letters/{id}/{action}", tag = "replay",
    params(("id" = DeadLetterId, Path), ("action" = DeadLetterActionName, Path)),
    responses((status = 200, description = "What was released, and what failed again", body = Object), (status = 404, body = ErrorBody),
        (status = 409, description = "The dead letter is parked behind another; release that one", body = ErrorBody)))]
pub async fn release_dead_letter(State(state): State<Arc<ServerState>>, Path((id, action)): Path<(i64, String)>) -> Result<Json<Value>, ApiError> {
    let action = match action.as_str() {
        "retry" => DeadLetterAction::Retry,
        "skip" => DeadLetterAction::Skip,
        other => return Err(ApiError::not_found(format!("no dead-letter action {other}; use retry or skip"))),
    };
    let release = cairn::replay::release_stream(&state.plugins, id, action).await?;
    Ok(Json(serde_json::to_value(&release).expect("releases serialise")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayBody {
    handlers: Vec<String>,
    /// The filters of `cairn replay`: event_types, aggregate_types,
    /// aggregate_id, correlation_id, causation_id, user_id, since, until,
    /// to_position.
    #[serde(default)]
    filter: cairn::store::LogFilter,
    #[serde(default, deserialize_with = "cairn::whole_number::optional")]
    from_position: Option<u64>,
    #[serde(default)]
    checkpoint: Option<String>,
    #[serde(default, deserialize_with = "cairn::whole_number::optional_usize")]
    batch_size: Option<usize>,
    #[serde(default, deserialize_with = "cairn::whole_number::optional_usize")]
    workers: Option<usize>,
    #[serde(default, deserialize_with = "cairn::whole_number::optional_u32")]
    max_retries: Option<u32>,
    #[serde(default)]
    stop_on_error: bool,
}

/// Start a replay job
///
/// Answers 202 with the job's id at once; `GET /replay/{id}` follows it.
#[utoipa::path(post, path = "/replay", tag = "replay", request_body = ReplayInput,
    responses((status = 202, description = "The job's id and where to follow it", body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn start_replay(State(state): State<Arc<ServerState>>, JsonBody(body): JsonBody<ReplayBody>) -> Result<(StatusCode, Json<Value>), ApiError> {
    let mut problems = Vec::new();
    if body.handlers.is_empty() {
        problems.push("name at least one handler in handlers".to_owned());
    }
    let defaults = ReplayOptions::default();
    let options = ReplayOptions {
        filter: body.filter,
        after_position: body.from_position.map_or(0, |position| position.saturating_sub(1)),
        checkpoint: body.checkpoint.map_or(cairn::replay::CheckpointChoice::Default, cairn::replay::CheckpointChoice::Named),
        batch_size: body.batch_size.unwrap_or(defaults.batch_size),
        workers: body.workers.unwrap_or(1),
        failure: cairn::replay::FailurePolicy {
            max_retries: body.max_retries.unwrap_or(defaults.failure.max_retries),
            stop_on_error: body.stop_on_error,
            ..defaults.failure.clone()
        },
        ..defaults
    };
    // Checked here, before the job starts: a job's own failure reaches
    // only the log and the job record.
    problems.extend(options.problems());
    if !problems.is_empty() {
        return Err(ApiError::bad_request(problems.join("; ")));
    }
    for handler in &body.handlers {
        state.plugins.handler(handler).await?;
    }
    let request = JobRequest { id: uuid::Uuid::new_v4(), handlers: body.handlers, options };
    let id = request.id;
    let plugins = state.plugins.clone();
    tokio::spawn(async move {
        if let Err(error) = cairn::replay::run_job(&plugins, &request, |_, _| {}).await {
            tracing::warn!(job = %request.id, %error, "replay job failed");
        }
    });
    Ok((StatusCode::ACCEPTED, Json(json!({ "id": id, "status": "running", "href": format!("/replay/{id}") }))))
}

fn job_json(job: &cairn::store::ReplayJobRecord) -> Value {
    let mut value = serde_json::to_value(job).expect("jobs serialise");
    value["request"] = parse_document(&job.request);
    value["result"] = job.result.as_deref().map_or(Value::Null, parse_document);
    value
}

/// Recent replay jobs
#[utoipa::path(get, path = "/replay", tag = "replay", responses((status = 200, description = "`jobs`, newest first, with progress and results", body = Object)))]
pub async fn replay_jobs(State(state): State<Arc<ServerState>>) -> Result<Json<Value>, ApiError> {
    let jobs = state.store().replay_jobs(100).await?;
    Ok(Json(json!({ "jobs": jobs.iter().map(job_json).collect::<Vec<_>>() })))
}

/// One replay job: progress and result
#[utoipa::path(get, path = "/replay/{id}", tag = "replay", params(("id" = UuidText, Path, description = "The job's UUID")),
    responses((status = 200, description = "The job", body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn replay_job(State(state): State<Arc<ServerState>>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = uuid::Uuid::parse_str(&id).map_err(|_| ApiError::bad_request(format!("{id} is not a job id (a UUID)")))?;
    let job = state.store().replay_job(id).await?.ok_or_else(|| ApiError::not_found(format!("no replay job {id}")))?;
    Ok(Json(job_json(&job)))
}

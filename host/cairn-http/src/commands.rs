//! Commands through aggregate plugins, and aggregate state (time travel by
//! version or instant).

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

use utoipa::IntoParams;

use super::body::JsonBody;
use super::error::ApiError;
use super::openapi::ErrorBody;
use super::schemas::{CommandInput, IdempotencyKey, Instant, Name, Position};
use super::ServerState;
use axum::http::HeaderMap;
use cairn::command::{CommandError, CommandRequest, StateTarget};
use cairn::ErrorKind;
use cairn::json::JsonText;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandBody {
    command_type: String,
    /// Kept as the client sent it: serde has checked that it is JSON, and
    /// the plugin reads it as text, so parsing it into a tree would be waste.
    #[serde(default)]
    payload: Option<Box<serde_json::value::RawValue>>,
    /// Copied onto the events: user_id, correlation_id, source and more.
    #[serde(default)]
    metadata: Option<Box<serde_json::value::RawValue>>,
    /// Makes the command idempotent: a re-sent id answers with the events
    /// it wrote the first time.
    #[serde(default)]
    command_id: Option<String>,
}

/// Run a command through the aggregate's plugin
///
/// With a command id (`command_id`, or the `Idempotency-Key` header) the
/// command runs once: a retry answers as the first run did, with
/// `already_executed: true`, until the server's --command-ttl.
#[utoipa::path(post, path = "/commands/{aggregate_type}/{aggregate_id}", tag = "aggregates",
    params(("aggregate_type" = Name, Path, example = "bank-account"), ("aggregate_id" = Name, Path, example = "acc-1"),
        ("Idempotency-Key" = Option<IdempotencyKey>, Header, description = "The command's id, as the IETF Idempotency-Key draft has it: a retry with the key answers as the first request did; the key with another body gets 422")),
    request_body = CommandInput,
    responses(
        (status = 200, description = "The new events and the stream's version", body = Object),
        (status = 400, body = ErrorBody),
        (status = 404, description = "No plugin serves the aggregate type", body = ErrorBody),
        (status = 409, description = "Concurrent writers outlasted the retries, or the body's command_id already ran for another command", body = ErrorBody),
        (status = 422, description = "The aggregate rejected the command (the message is the plugin's), or the Idempotency-Key was used with another body", body = ErrorBody)))]
pub async fn execute(
    State(state): State<Arc<ServerState>>,
    Path((aggregate_type, aggregate_id)): Path<(String, String)>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CommandBody>,
) -> Result<Json<cairn::command::CommandOutcome>, ApiError> {
    let key = idempotency_key(&headers)?;
    let command_id = match (key.clone(), body.command_id) {
        (Some(key), Some(id)) if key != id => {
            return Err(ApiError::bad_request(format!("the Idempotency-Key header ({key}) and command_id ({id}) differ; send one of them")));
        }
        (key, id) => key.or(id),
    };
    // JsonBody validated the whole body strictly, so its parts are valid
    // JSON text, kept as the client sent them.
    let metadata = body.metadata.filter(|metadata| metadata.get() != "null").map_or_else(JsonText::empty_object, |metadata| JsonText::from_trusted(metadata.get().to_owned()));
    if !metadata.is_object() {
        return Err(ApiError::bad_request("metadata must be a JSON object"));
    }
    let request = CommandRequest {
        aggregate_type,
        aggregate_id,
        command_type: body.command_type,
        payload: body
            .payload
            .filter(|payload| payload.get() != "null")
            .map_or_else(JsonText::empty_object, |payload| JsonText::from_trusted(payload.get().to_owned())),
        metadata,
        command_id,
    };
    match state.commands.execute(request).await {
        Ok(outcome) => Ok(Json(outcome)),
        // The IETF draft answers a key re-used with another request with 422.
        Err(CommandError::CommandIdReused { difference, .. }) if key.is_some() => Err(ApiError::of_kind(
            ErrorKind::Rejected,
            format!("the Idempotency-Key {} was already used for {difference}; send a new key for a new request", key.unwrap_or_default()),
        )),
        Err(error) => Err(error.into()),
    }
}

/// The `Idempotency-Key` header, when present: a non-empty visible string.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("idempotency-key") else { return Ok(None) };
    // The draft writes the key as a structured-field string, in quotes;
    // most clients send it bare. Either way the key is what is inside.
    let key = value.to_str().ok().map(str::trim).map(|key| key.strip_prefix('"').and_then(|key| key.strip_suffix('"')).unwrap_or(key));
    let key = key.filter(|key| !key.is_empty() && key.len() <= 256).map(str::to_owned);
    key.map(Some).ok_or_else(|| ApiError::bad_request("the Idempotency-Key header must be 1 to 256 visible ASCII characters, such as a UUID"))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StateQuery {
    /// The state after the event at this stream version (0: the initial state).
    #[param(value_type = Option<Position>)]
    at_version: Option<u64>,
    /// The state as it was at this instant (RFC 3339); with at_version, both limits hold.
    #[param(value_type = Option<Instant>)]
    at: Option<String>,
}

fn parse_instant(at: &str) -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
    cairn::time::parse_rfc3339(at).map_err(|error| ApiError::bad_request(format!("at: {error}")))
}

/// An aggregate's state, now or in the past
#[utoipa::path(get, path = "/aggregates/{aggregate_type}/{aggregate_id}", tag = "aggregates",
    params(("aggregate_type" = Name, Path, example = "bank-account"), ("aggregate_id" = Name, Path, example = "acc-1"), StateQuery),
    responses((status = 200, description = "The state, its stream version and the plugin version that folded it", body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn state(
    State(state): State<Arc<ServerState>>,
    Path((aggregate_type, aggregate_id)): Path<(String, String)>,
    query: Result<Query<StateQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query?;
    let target = match (query.at_version, query.at) {
        (Some(version), Some(at)) => StateTarget::AtVersionAndInstant(version, parse_instant(&at)?),
        (Some(version), None) => StateTarget::AtVersion(version),
        (None, Some(at)) => StateTarget::AtInstant(parse_instant(&at)?),
        (None, None) => StateTarget::Latest,
    };
    let loaded = state.commands.state_at(&aggregate_type, &aggregate_id, target).await?;
    Ok(Json(serde_json::to_value(&loaded).expect("states serialise")))
}

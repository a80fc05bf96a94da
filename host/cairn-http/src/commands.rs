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
use super::schemas::{CommandInput, Instant, Name, Position};
use super::ServerState;
use cairn::command::{CommandRequest, StateTarget};
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
#[utoipa::path(post, path = "/commands/{aggregate_type}/{aggregate_id}", tag = "aggregates",
    params(("aggregate_type" = Name, Path, example = "bank-account"), ("aggregate_id" = Name, Path, example = "acc-1")), request_body = CommandInput,
    responses(
        (status = 200, description = "The new events and the stream's version", body = Object),
        (status = 400, body = ErrorBody),
        (status = 404, description = "No plugin serves the aggregate type", body = ErrorBody),
        (status = 409, description = "Concurrent writers outlasted the retries", body = ErrorBody),
        (status = 422, description = "The aggregate rejected the command; the message is the plugin's", body = ErrorBody)))]
pub async fn execute(
    State(state): State<Arc<ServerState>>,
    Path((aggregate_type, aggregate_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<CommandBody>,
) -> Result<Json<cairn::command::CommandOutcome>, ApiError> {
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
        command_id: body.command_id,
    };
    Ok(Json(state.commands.execute(request).await?))
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

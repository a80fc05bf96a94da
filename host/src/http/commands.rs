//! Commands through aggregate plugins, and aggregate state (time travel by
//! version or instant).

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

use super::error::ApiError;
use super::ServerState;
use crate::command::{CommandRequest, StateTarget};
use crate::json::JsonText;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandBody {
    command_type: String,
    #[serde(default)]
    payload: Option<Value>,
    #[serde(default)]
    metadata: Option<Value>,
    /// Makes the command idempotent: a re-sent id answers with the events
    /// it wrote the first time.
    #[serde(default)]
    command_id: Option<String>,
}

/// `POST /commands/{aggregate_type}/{aggregate_id}`: 200 with the new
/// events and version; 422 when the aggregate rejects; 409 when conflicts
/// outlast the retries.
pub async fn execute(
    State(state): State<Arc<ServerState>>,
    Path((aggregate_type, aggregate_id)): Path<(String, String)>,
    body: Result<Json<CommandBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(body) = body?;
    let metadata = body.metadata.unwrap_or_else(|| Value::Object(Default::default()));
    if !metadata.is_object() {
        return Err(ApiError::bad_request("metadata must be a JSON object"));
    }
    let request = CommandRequest {
        aggregate_type,
        aggregate_id,
        command_type: body.command_type,
        payload: JsonText::from_value(&body.payload.unwrap_or(Value::Object(Default::default()))),
        metadata: JsonText::from_value(&metadata),
        command_id: body.command_id,
    };
    let outcome = state.commands.execute(request).await?;
    Ok(Json(serde_json::to_value(&outcome).expect("outcomes serialise")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateQuery {
    at_version: Option<u64>,
    at: Option<String>,
}

/// `GET /aggregates/{aggregate_type}/{aggregate_id}[?at_version=N | ?at=T]`
pub async fn state(
    State(state): State<Arc<ServerState>>,
    Path((aggregate_type, aggregate_id)): Path<(String, String)>,
    query: Result<Query<StateQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query?;
    let target = match (query.at_version, query.at) {
        (Some(_), Some(_)) => return Err(ApiError::bad_request("give at_version or at, not both")),
        (Some(version), None) => StateTarget::AtVersion(version),
        (None, Some(at)) => StateTarget::AtInstant(crate::time::parse_rfc3339(&at).map_err(|error| ApiError::bad_request(format!("at: {error}")))?),
        (None, None) => StateTarget::Latest,
    };
    let loaded = state.commands.state_at(&aggregate_type, &aggregate_id, target).await?;
    Ok(Json(serde_json::to_value(&loaded).expect("states serialise")))
}

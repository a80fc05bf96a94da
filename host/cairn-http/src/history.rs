//! An aggregate's history: its audit trail, its snapshots, and checks of
//! its event sequence.

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
use super::schemas::{Instant, Name, PageSize, Position, SequenceInput, SnapshotInput};
use super::ServerState;
use cairn::event::StreamId;
use cairn::read::AuditQuery as AuditFilter;

const DEFAULT_AUDIT_PAGE: usize = 100;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Changes at or after this instant (RFC 3339).
    #[param(value_type = Option<Instant>)]
    since: Option<String>,
    /// Changes at or before this instant (RFC 3339).
    #[param(value_type = Option<Instant>)]
    until: Option<String>,
    /// Only changes made by this user.
    #[param(value_type = Option<Name>)]
    user_id: Option<String>,
    #[param(value_type = Option<Name>)]
    correlation_id: Option<String>,
    /// Event types, comma-separated.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    event_type: Option<String>,
    /// Entries after this global position, for the next page.
    #[param(value_type = Option<Position>)]
    after: Option<u64>,
    /// Page size, 1 to 10,000 (100 by default).
    #[param(value_type = Option<PageSize>)]
    limit: Option<usize>,
}

/// One page of an audit trail: `entries` and `next_after`, beside the stream.
#[derive(serde::Serialize)]
pub struct AuditAnswer {
    aggregate_type: String,
    aggregate_id: String,
    #[serde(flatten)]
    page: cairn::read::AuditPage,
}

/// An aggregate's audit trail
#[utoipa::path(get, path = "/aggregates/{aggregate_type}/{aggregate_id}/audit", tag = "aggregates",
    params(("aggregate_type" = Name, Path, example = "account"), ("aggregate_id" = Name, Path, example = "acc-1"), AuditQuery),
    responses((status = 200, description = "`entries` by stream version, and `next_after` for the next page", body = Object), (status = 400, body = ErrorBody)))]
pub async fn audit(
    State(state): State<Arc<ServerState>>,
    Path((aggregate_type, aggregate_id)): Path<(String, String)>,
    query: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<AuditAnswer>, ApiError> {
    let Query(query) = query?;
    let mut problems = Vec::new();
    let mut time = |name: &str, text: &Option<String>| {
        text.as_deref().and_then(|text| cairn::time::parse_rfc3339(text).map_err(|error| problems.push(format!("{name}: {error}"))).ok())
    };
    let since = time("since", &query.since);
    let until = time("until", &query.until);
    if !problems.is_empty() {
        return Err(ApiError::bad_request(problems.join("; ")));
    }
    let audit = AuditFilter { since, until, user_id: query.user_id, correlation_id: query.correlation_id, event_types: cairn::store::comma_list(query.event_type.as_deref()) };
    let limit = super::error::page_size(query.limit, DEFAULT_AUDIT_PAGE)?;
    let stream = StreamId::new(&aggregate_type, &aggregate_id);
    let page = state.reader.audit(&stream, &audit, query.after.unwrap_or(0), limit).await?;
    Ok(Json(AuditAnswer { aggregate_type, aggregate_id, page }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotBody {
    aggregate_type: String,
    aggregate_id: String,
    /// The stream version to snapshot; the latest without it.
    #[serde(default, deserialize_with = "cairn::whole_number::optional")]
    at_version: Option<u64>,
}

/// Write a snapshot of an aggregate now
#[utoipa::path(post, path = "/snapshots", tag = "aggregates", request_body = SnapshotInput,
    responses((status = 201, description = "The state written, with its stream version and plugin version", body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create_snapshot(State(state): State<Arc<ServerState>>, JsonBody(body): JsonBody<SnapshotBody>) -> Result<(StatusCode, Json<Value>), ApiError> {
    let written = state.commands.create_snapshot(&body.aggregate_type, &body.aggregate_id, body.at_version).await?;
    Ok((StatusCode::CREATED, Json(serde_json::to_value(&written).expect("states serialise"))))
}

/// An aggregate's stored snapshots, newest first
#[utoipa::path(get, path = "/snapshots/{aggregate_type}/{aggregate_id}", tag = "aggregates",
    params(("aggregate_type" = Name, Path, example = "account"), ("aggregate_id" = Name, Path, example = "acc-1")),
    responses((status = 200, description = "`snapshots`, each with its state parsed", body = Object)))]
pub async fn snapshots(State(state): State<Arc<ServerState>>, Path((aggregate_type, aggregate_id)): Path<(String, String)>) -> Result<Json<Value>, ApiError> {
    let snapshots = state.commands.snapshots(&aggregate_type, &aggregate_id).await?;
    let snapshots: Vec<Value> = snapshots
        .iter()
        .map(|snapshot| {
            let mut value = serde_json::to_value(snapshot).expect("snapshots serialise");
            value["state"] = serde_json::from_str(&snapshot.state).unwrap_or(Value::String(snapshot.state.clone()));
            value
        })
        .collect();
    Ok(Json(json!({ "aggregate_type": aggregate_type, "aggregate_id": aggregate_id, "snapshots": snapshots })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequenceBody {
    aggregate_type: String,
    aggregate_id: String,
    /// The event types the stream should hold, in order.
    expected: Vec<String>,
}

/// Check that a stream holds exactly the expected event types
#[utoipa::path(post, path = "/validate-sequence", tag = "aggregates", request_body = SequenceInput,
    responses((status = 200, description = "`is_valid`, and each position where expected and actual differ", body = Object), (status = 400, body = ErrorBody)))]
pub async fn validate_sequence(State(state): State<Arc<ServerState>>, JsonBody(body): JsonBody<SequenceBody>) -> Result<Json<Value>, ApiError> {
    if let Some(index) = body.expected.iter().position(|name| name.trim().is_empty()) {
        return Err(ApiError::bad_request(format!("expected[{index}] is empty; list event types such as [\"AccountOpened\", \"MoneyDeposited\"]")));
    }
    let stream = StreamId::new(&body.aggregate_type, &body.aggregate_id);
    let report = cairn::sequence::validate_sequence(state.store().as_ref(), &stream, &body.expected).await?;
    Ok(Json(serde_json::to_value(&report).expect("reports serialise")))
}

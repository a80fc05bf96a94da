//! The Event Service: append, query, one event, statistics, streams, and
//! the live stream over Server-Sent Events.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

use utoipa::IntoParams;

use super::body::JsonBody;
use super::error::{page_size, ApiError};
use super::openapi::ErrorBody;
use super::schemas::{BatchInput, EventWithExpectation, Instant, Name, PageSize, Position, UuidText};
use super::ServerState;
use std::collections::BTreeMap;

use cairn::event::{AppendOutcome, AppendRequest, ExpectedVersion, NewEvent, RecordedEvent, StreamId};
use serde_json::value::RawValue;
use cairn::store::{LogFilter, StreamRange};

const DEFAULT_PAGE: usize = 100;
/// Events of one stream per answer when the client gives no limit.
const DEFAULT_STREAM_PAGE: usize = 1_000;

/// A page of the log. Responses are serialized from these types straight to
/// bytes, never through `serde_json::Value`, so an event stored before JSON
/// validation was strict is written as stored instead of failing the page.
#[derive(serde::Serialize)]
pub struct EventPage {
    events: Vec<RecordedEvent>,
    /// The position to ask for the next page after; null on an empty page.
    next_after: Option<u64>,
}

#[derive(serde::Serialize)]
pub struct StreamPage {
    aggregate_type: String,
    aggregate_id: String,
    /// The stream's current version.
    version: u64,
    events: Vec<RecordedEvent>,
    /// Where the next page starts, when this one was full and more follow.
    next_from_version: Option<u64>,
}

/// The filters of `cairn log`; lists are comma-separated.
#[derive(Debug, Deserialize, Default, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Event types, comma-separated.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    event_type: Option<String>,
    /// Aggregate types, comma-separated.
    aggregate_type: Option<String>,
    /// One aggregate id (of any aggregate type unless aggregate_type is given).
    #[param(value_type = Option<Name>)]
    aggregate_id: Option<String>,
    #[param(value_type = Option<Name>)]
    correlation_id: Option<String>,
    #[param(value_type = Option<Name>)]
    causation_id: Option<String>,
    #[param(value_type = Option<Name>)]
    user_id: Option<String>,
    /// Events at or after this instant (RFC 3339).
    #[param(value_type = Option<Instant>)]
    since: Option<String>,
    /// Events at or before this instant (RFC 3339).
    #[param(value_type = Option<Instant>)]
    until: Option<String>,
    /// Events after this global position: `next_after` of the previous page.
    #[param(value_type = Option<Position>)]
    pub(crate) after: Option<u64>,
    /// Page size, 1 to 10,000 (100 by default).
    #[param(value_type = Option<PageSize>)]
    limit: Option<usize>,
}

impl EventQuery {
    pub(crate) fn filter(&self) -> Result<LogFilter, ApiError> {
        let text = cairn::store::FilterText {
            event_types: self.event_type.as_deref(),
            aggregate_types: self.aggregate_type.as_deref(),
            aggregate_id: self.aggregate_id.as_deref(),
            correlation_id: self.correlation_id.as_deref(),
            causation_id: self.causation_id.as_deref(),
            user_id: self.user_id.as_deref(),
            since: self.since.as_deref(),
            until: self.until.as_deref(),
        };
        text.parse().map_err(|problems| ApiError::bad_request(problems.join("; ")))
    }
}

/// One event of `POST /events`: the fields of a `cairn log` line, kept as
/// the client sent them (payload and metadata byte for byte), and an
/// optional `expected_version` beside them.
fn event_from_body(body: &RawValue) -> Result<(NewEvent, ExpectedVersion), ApiError> {
    let mut fields: BTreeMap<String, Box<RawValue>> =
        serde_json::from_str(body.get()).map_err(|_| ApiError::bad_request("the body must be one JSON object: an event"))?;
    let expected = match fields.remove("expected_version") {
        Some(raw) => expected_version(Some(&serde_json::from_str::<Value>(raw.get()).map_err(|error| ApiError::bad_request(error.to_string()))?))?,
        None => ExpectedVersion::Any,
    };
    // The remaining fields go back together as they came: each value is
    // the client's own text, so payloads keep their bytes and key order.
    let line = serde_json::to_string(&fields).map_err(|error| ApiError::bad_request(error.to_string()))?;
    let event = cairn::import::parse_event_json(&line).map_err(ApiError::bad_request)?;
    Ok((event, expected))
}

fn expected_version(value: Option<&Value>) -> Result<ExpectedVersion, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(ExpectedVersion::Any),
        Some(Value::Number(number)) => cairn::whole_number::from_number(number).map(ExpectedVersion::Exact).ok_or_else(|| ApiError::bad_request("expected_version must be a whole number")),
        Some(Value::String(text)) => text.parse().map_err(ApiError::bad_request),
        Some(_) => Err(ApiError::bad_request("expected_version must be any, no-stream, exists or a whole number")),
    }
}

/// Append one event
///
/// The fields of `cairn log`'s lines, with an optional `expected_version`:
/// `any`, `no-stream`, `exists` or a stream version.
#[utoipa::path(post, path = "/events", tag = "events",
    request_body = EventWithExpectation,
    responses((status = 201, description = "The recorded event", body = Object), (status = 400, body = ErrorBody), (status = 409, description = "The stream is not at the expected version", body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn append_one(State(state): State<Arc<ServerState>>, JsonBody(body): JsonBody<Box<RawValue>>) -> Result<(StatusCode, Json<AppendOutcome>), ApiError> {
    let (event, expected) = event_from_body(&body)?;
    let outcome = state.store().append(AppendRequest::to_stream(expected, vec![event])).await?;
    Ok((StatusCode::CREATED, Json(outcome)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    events: Vec<Box<RawValue>>,
    #[serde(default)]
    expectations: Vec<Expectation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expectation {
    aggregate_type: String,
    aggregate_id: String,
    expected_version: Value,
}

/// Append several events atomically
///
/// With per-stream expectations. Every bad event is reported at once and
/// nothing is written.
#[utoipa::path(post, path = "/events/batch", tag = "events", request_body = BatchInput,
    responses((status = 201, description = "The recorded events", body = Object), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn append_batch(State(state): State<Arc<ServerState>>, JsonBody(body): JsonBody<BatchBody>) -> Result<(StatusCode, Json<AppendOutcome>), ApiError> {
    let mut problems = Vec::new();
    let mut events = Vec::new();
    for (index, event) in body.events.iter().enumerate() {
        match cairn::import::parse_event_json(event.get()) {
            Ok(event) => events.push(event),
            Err(problem) => problems.push(format!("event {index}: {problem}")),
        }
    }
    let mut expectations = Vec::new();
    for expectation in &body.expectations {
        match expected_version(Some(&expectation.expected_version)) {
            Ok(expected) => expectations.push((StreamId::new(&expectation.aggregate_type, &expectation.aggregate_id), expected)),
            Err(error) => problems.push(format!("expectation for {}/{}: {}", expectation.aggregate_type, expectation.aggregate_id, error.message)),
        }
    }
    if events.is_empty() && problems.is_empty() {
        problems.push("the batch holds no events".to_owned());
    }
    if !problems.is_empty() {
        return Err(ApiError::bad_request(problems.join("; ")));
    }
    let outcome = state.store().append(AppendRequest { events, expectations }).await?;
    Ok((StatusCode::CREATED, Json(outcome)))
}

/// Query the log
///
/// A page of the log, filtered, with the position to ask for the next page
/// from. Events are upcast by the active migrators.
#[utoipa::path(get, path = "/events", tag = "events", params(EventQuery),
    responses((status = 200, description = "`events` and `next_after`", body = Object), (status = 400, body = ErrorBody)))]
pub async fn query(State(state): State<Arc<ServerState>>, query: Result<Query<EventQuery>, QueryRejection>) -> Result<Json<EventPage>, ApiError> {
    let Query(query) = query?;
    let filter = query.filter()?;
    let limit = page_size(query.limit, DEFAULT_PAGE)?;
    let events = state.reader.log(&filter, query.after.unwrap_or(0), limit).await?;
    let next_after = events.last().map(|event| event.global_position);
    Ok(Json(EventPage { events, next_after }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct EventLookup {
    /// The event exactly as stored, not upcast by the active migrators.
    #[serde(default)]
    raw: bool,
}

/// One event by id
///
/// Upcast by the active migrators, or as stored with `raw=true`.
#[utoipa::path(get, path = "/events/{id}", tag = "events", params(("id" = UuidText, Path, description = "The event's UUID", example = "0190b5c4-0000-7000-8000-000000000001"), EventLookup),
    responses((status = 200, description = "The event", body = Object), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn by_id(State(state): State<Arc<ServerState>>, Path(id): Path<String>, lookup: Result<Query<EventLookup>, QueryRejection>) -> Result<Json<RecordedEvent>, ApiError> {
    let Query(lookup) = lookup?;
    let id = uuid::Uuid::parse_str(&id).map_err(|_| ApiError::bad_request(format!("{id} is not a UUID")))?;
    let event = if lookup.raw { cairn::read::Reader::raw(state.store().clone()).event(id).await? } else { state.reader.event(id).await? };
    Ok(Json(event.ok_or_else(|| ApiError::not_found(format!("no event {id}")))?))
}

/// How old an answer of `/events/stats` may be. Counting by type reads the
/// whole log (0.4 s at a million events on SQLite), so every console tab
/// and dashboard asking at once must not each start a scan.
const STATISTICS_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(5);

/// The latest statistics and when they were counted; the lock also makes
/// concurrent callers wait for one count instead of starting their own.
#[derive(Default)]
pub struct StatisticsCache(tokio::sync::Mutex<Option<(std::time::Instant, Arc<cairn::store::StoreStatistics>)>>);

/// Statistics of the log
///
/// Counted at most 5 s before the answer: concurrent and repeated requests
/// share one count of the log.
#[utoipa::path(get, path = "/events/stats", tag = "events",
    responses((status = 200, description = "Totals by aggregate type and event type, streams, first and last event", body = Object)))]
pub async fn statistics(State(state): State<Arc<ServerState>>) -> Result<Json<Arc<cairn::store::StoreStatistics>>, ApiError> {
    let mut latest = state.statistics.0.lock().await;
    if let Some((counted, statistics)) = latest.as_ref().filter(|(counted, _)| counted.elapsed() < STATISTICS_MAX_AGE) {
        tracing::trace!(age_ms = counted.elapsed().as_millis() as u64, "statistics from the cache");
        return Ok(Json(statistics.clone()));
    }
    let statistics = Arc::new(state.store().statistics().await?);
    *latest = Some((std::time::Instant::now(), statistics.clone()));
    Ok(Json(statistics))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// The first stream version to answer (1-based).
    #[param(value_type = Option<Position>)]
    from_version: Option<u64>,
    /// The last stream version to answer.
    #[param(value_type = Option<Position>)]
    to_version: Option<u64>,
    /// Events per answer, 1 to 10,000 (1,000 by default); `next_from_version` continues.
    #[param(value_type = Option<PageSize>)]
    limit: Option<usize>,
}

/// One stream's events
#[utoipa::path(get, path = "/streams/{aggregate_type}/{aggregate_id}", tag = "events",
    params(("aggregate_type" = Name, Path, example = "account"), ("aggregate_id" = Name, Path, example = "acc-1"), StreamQuery),
    responses((status = 200, description = "`events` and the stream's `version`", body = Object), (status = 400, body = ErrorBody)))]
pub async fn stream(
    State(state): State<Arc<ServerState>>,
    Path((aggregate_type, aggregate_id)): Path<(String, String)>,
    query: Result<Query<StreamQuery>, QueryRejection>,
) -> Result<Json<StreamPage>, ApiError> {
    let Query(query) = query?;
    let stream = StreamId::new(&aggregate_type, &aggregate_id);
    let limit = page_size(query.limit, DEFAULT_STREAM_PAGE)?;
    let range = StreamRange { from_version: query.from_version, to_version: query.to_version, limit: Some(limit) };
    let events = state.reader.stream(&stream, &range).await?;
    let version = state.store().stream_version(&stream).await?;
    let next_from_version = events.last().filter(|last| events.len() == limit && last.stream_version < query.to_version.unwrap_or(version).min(version)).map(|last| last.stream_version + 1);
    Ok(Json(StreamPage { aggregate_type, aggregate_id, version, events, next_from_version }))
}

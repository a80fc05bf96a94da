//! The live stream: the log over Server-Sent Events, bounded three ways so
//! that subscribers cannot take the server down: at most `max_clients` at
//! once (more get 503); a subscriber that has caught up and then falls more
//! than `max_lag` events behind the head is told so and dropped; and every
//! stream ends when the server begins to shut down, so that shutdown never
//! waits on an open subscriber.

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use serde_json::json;

use super::error::ApiError;
use super::events::EventQuery;
use super::openapi::ErrorBody;
use super::ServerState;

/// Events read per page while a subscriber catches up; the lag is checked
/// once per this many events delivered.
const PAGE: usize = 500;

/// The live streams' limits and the signal that ends them.
pub struct LiveStreams {
    pub max_clients: usize,
    pub max_lag: u64,
    clients: Arc<AtomicUsize>,
    stopping: tokio::sync::watch::Sender<bool>,
}

impl LiveStreams {
    pub fn new(max_clients: usize, max_lag: u64) -> Self {
        Self { max_clients, max_lag, clients: Arc::new(AtomicUsize::new(0)), stopping: tokio::sync::watch::Sender::new(false) }
    }

    /// Ends every open stream (each gets a last `shutdown` message) and
    /// refuses new ones.
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// Subscribers connected now.
    pub fn clients(&self) -> usize {
        self.clients.load(Ordering::Relaxed)
    }
}

/// A subscriber's place among the `max_clients`; given back when its
/// stream is dropped, however it ends.
struct ClientSlot(Arc<AtomicUsize>);

impl Drop for ClientSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn error_message(code: &str, message: impl Into<String>) -> SseEvent {
    SseEvent::default().event("error").data(json!({ "error": { "code": code, "message": message.into() } }).to_string())
}

/// Follow the log live (Server-Sent Events)
///
/// Each message's id is the event's global position; a client that
/// reconnects with `Last-Event-ID` (or `?after=`) resumes right after it.
/// Heartbeat comments keep idle connections open. A subscriber that has
/// caught up and then falls more than `--sse-max-lag` events behind gets an
/// `error` message and is dropped; when the server shuts down, every stream
/// gets a `shutdown` message and ends.
#[utoipa::path(get, path = "/events/stream", tag = "events", params(EventQuery, ("Last-Event-ID" = Option<u64>, Header, description = "Resume after this global position")),
    responses(
        (status = 200, description = "`event` messages with one event each as data", content_type = "text/event-stream", body = String),
        (status = 400, body = ErrorBody),
        (status = 503, description = "As many subscribers as --max-sse-clients are connected, or the server is shutting down", body = ErrorBody)))]
pub async fn live(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    query: Result<Query<EventQuery>, QueryRejection>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let Query(query) = query?;
    let filter = query.filter()?;
    let resume_from = match headers.get("last-event-id").map(|value| value.to_str().map(str::parse::<u64>)) {
        Some(Ok(Ok(position))) => Some(position),
        Some(_) => return Err(ApiError::bad_request("Last-Event-ID must be a global position (a whole number)")),
        None => None,
    };
    let limits = &state.live;
    let mut stopping = limits.stopping.subscribe();
    if *stopping.borrow() {
        return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the server is shutting down; reconnect to another one or later"));
    }
    if limits.clients.fetch_add(1, Ordering::Relaxed) >= limits.max_clients {
        limits.clients.fetch_sub(1, Ordering::Relaxed);
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            format!("{} live-stream subscribers are connected, the most this server takes (--max-sse-clients); retry later", limits.max_clients),
        ));
    }
    let slot = ClientSlot(limits.clients.clone());
    let after = resume_from.or(query.after).unwrap_or(0);
    let store = state.store().clone();
    let max_lag = limits.max_lag;
    let mut delivered = 0usize;
    // Each message, with the subscriber's lag behind the head where it was measured.
    let measured = state.reader.follow(filter, after, PAGE).then(move |event| {
        let store = store.clone();
        delivered += 1;
        let measure = delivered.is_multiple_of(PAGE);
        async move {
            let event = match event {
                Ok(event) => event,
                Err(error) => {
                    let error = ApiError::from(error);
                    return (error_message(error.code, error.message), None);
                }
            };
            // Measured once a page: a head query per event would cost more than the event.
            let lag = match measure {
                true => store.head_position().await.ok().map(|head| head.saturating_sub(event.global_position)),
                false => None,
            };
            let data = serde_json::to_string(&event).unwrap_or_default();
            (SseEvent::default().id(event.global_position.to_string()).event("event").data(data), lag)
        }
    });
    // A subscriber catching up from far behind is not slow; one that was
    // within `max_lag` of the head and then falls further behind is.
    let mut caught_up = false;
    let events = measured
        .map(move |(message, lag)| {
            let _slot = &slot;
            match lag {
                Some(lag) if lag <= max_lag => caught_up = true,
                Some(lag) if caught_up => {
                    let message = format!("this subscriber fell {lag} events behind the log's head, more than {max_lag}; reconnect with Last-Event-ID to resume");
                    return (true, error_message("too_slow", message));
                }
                _ => {}
            }
            (false, message)
        })
        .scan(false, |ended, (ending, message)| {
            let answer = if *ended { None } else { Some(Ok(message)) };
            *ended |= ending;
            std::future::ready(answer)
        });
    let shutdown = async move {
        let _ = stopping.wait_for(|stopping| *stopping).await;
    };
    let ending = futures::stream::once(async { Ok(SseEvent::default().event("shutdown").data(r#"{"message":"the server is shutting down; reconnect with Last-Event-ID"}"#)) });
    let events = events.take_until(shutdown).chain(ending);
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)).text("heartbeat")))
}

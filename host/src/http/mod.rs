//! `cairn serve`: the Event, Command and Replay services over HTTP, with a
//! live stream (SSE), health and bearer-token scopes.
//!
//! Invariants:
//! - Handlers turn requests into library calls and library results into
//!   JSON; no store or plugin logic lives here.
//! - Every error is `{"error": {"code", "message"}}` (`error.rs`), with no
//!   internal details.
//! - Every route but `/health` sits behind a scope (`auth.rs`); with no
//!   tokens configured everything is open, which the CLI allows on loopback
//!   only.

mod auth;
mod commands;
mod error;
mod events;
mod operations;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

pub use auth::{hash_token, Scope, TokenTable};
pub use error::ApiError;

use crate::command::Commands;
use crate::event::RecordedEvent;
use crate::plugins::PluginHost;
use crate::store::EventStore;

/// What every request handler shares.
pub struct ServerState {
    pub plugins: Arc<PluginHost>,
    pub commands: Arc<Commands>,
    pub started: Instant,
}

impl ServerState {
    fn store(&self) -> &Arc<dyn EventStore> {
        self.plugins.store()
    }

    /// Events as readers see them: through the active migrators.
    async fn upcast(&self, events: Vec<RecordedEvent>) -> Result<Vec<RecordedEvent>, ApiError> {
        let chains = self.plugins.migration_chains().await?;
        crate::migrate::upcast_events(&chains, events).await.map_err(|error| ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "upcast_failed", error.to_string()))
    }
}

#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub body_limit: usize,
    pub request_timeout: Duration,
}

/// Every route, with its scope, body limit and timeout.
pub fn router(state: Arc<ServerState>, tokens: Arc<TokenTable>, options: &ServeOptions) -> Router {
    let guard = |scope: Scope| axum::middleware::from_fn_with_state(auth::Requirement { tokens: tokens.clone(), scope }, auth::require);
    let read = Router::new()
        .route("/events", get(events::query))
        .route("/events/stats", get(events::statistics))
        .route("/events/{id}", get(events::by_id))
        .route("/streams/{aggregate_type}/{aggregate_id}", get(events::stream))
        .route("/aggregates/{aggregate_type}/{aggregate_id}", get(commands::state))
        .route("/read-models/{handler}/{collection}", get(operations::read_models))
        .route("/read-models/{handler}/{collection}/{key}", get(operations::read_model))
        .layer(guard(Scope::Read));
    let write = Router::new()
        .route("/events", post(events::append_one))
        .route("/events/batch", post(events::append_batch))
        .route("/commands/{aggregate_type}/{aggregate_id}", post(commands::execute))
        .layer(guard(Scope::Write));
    let admin = Router::new()
        .route("/replay", get(operations::replay_jobs).post(operations::start_replay))
        .route("/replay/{id}", get(operations::replay_job))
        .route("/dead-letters", get(operations::dead_letters))
        .route("/dead-letters/{id}/{action}", post(operations::release_dead_letter))
        .layer(guard(Scope::Admin));
    // The live stream is long-lived, so it sits outside the request timeout.
    let live = Router::new().route("/events/stream", get(events::live)).layer(guard(Scope::Read));
    let timed = Router::new()
        .merge(read)
        .merge(write)
        .merge(admin)
        .route("/health", get(operations::health))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, options.request_timeout));
    Router::new()
        .merge(timed)
        .merge(live)
        .fallback(|| async { ApiError::not_found("no such route; GET /health lists what the server runs") })
        .layer(DefaultBodyLimit::max(options.body_limit))
        .with_state(state)
}

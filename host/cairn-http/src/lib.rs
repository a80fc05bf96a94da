//! `cairn serve`: the Event, Command and Replay services over HTTP, with a
//! live stream (SSE), health and bearer-token scopes.
//!
//! Invariants:
//! - Handlers turn requests into library calls and library results into
//!   JSON; no store or plugin logic lives here.
//! - Every error is `{"error": {"code", "message"}}` (`error.rs`), with no
//!   internal details.
//! - Every route but `/health` and `/session` sits behind a scope
//!   (`auth.rs`), proved by a bearer token or by a session cookie opened
//!   with one (`session.rs`); with no tokens configured everything is open,
//!   which the CLI allows on loopback only.
//! - A state-changing request from a browser page of another origin is
//!   refused (`guard.rs`), whatever it carries.

mod auth;
mod body;
mod commands;
mod console;
mod error;
mod events;
mod guard;
mod health;
mod history;
mod live;
mod openapi;
mod operations;
mod plugins;
mod projections;
mod schemas;
mod session;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use auth::{hash_token, Scope, TokenTable};
pub use guard::OriginPolicy;
pub use live::LiveStreams;
pub use error::{status_of, ApiError};

use cairn::command::Commands;
use cairn::plugins::PluginHost;
use cairn::store::EventStore;

/// What every request handler shares.
pub struct ServerState {
    pub plugins: Arc<PluginHost>,
    /// Every event a handler answers with is read through it, upcast.
    pub reader: cairn::read::Reader,
    pub commands: Arc<Commands>,
    /// The live projections, when this server runs them.
    pub projections: Option<Arc<cairn::replay::ProjectionSupervisor>>,
    pub started: Instant,
    /// The Prometheus recorder's handle, when this process installed one.
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// Live-stream subscribers, their limits and the signal that ends them.
    pub live: LiveStreams,
    /// The projection rebuilds this server started.
    rebuilds: projections::Rebuilds,
    statistics: events::StatisticsCache,
}

impl ServerState {
    pub fn new(
        commands: Arc<Commands>,
        projections: Option<Arc<cairn::replay::ProjectionSupervisor>>,
        metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
        options: &ServeOptions,
    ) -> Self {
        let plugins = commands.plugins().clone();
        Self {
            reader: cairn::read::Reader::live(&plugins),
            plugins,
            commands,
            projections,
            started: Instant::now(),
            metrics,
            live: LiveStreams::new(options.max_sse_clients, options.sse_max_lag),
            rebuilds: projections::Rebuilds::default(),
            statistics: events::StatisticsCache::default(),
        }
    }

    fn store(&self) -> &Arc<dyn EventStore> {
        self.plugins.store()
    }
}

#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub body_limit: usize,
    /// The body limit of `POST /plugins`, which carries a component.
    pub upload_limit: usize,
    pub request_timeout: Duration,
    /// Live-stream subscribers at once.
    pub max_sse_clients: usize,
    /// Events a caught-up subscriber may fall behind before it is dropped.
    pub sse_max_lag: u64,
    pub origins: OriginPolicy,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            body_limit: 1 << 20,
            upload_limit: 64 << 20,
            request_timeout: Duration::from_secs(30),
            max_sse_clients: 256,
            sse_max_lag: 10_000,
            origins: OriginPolicy::default(),
        }
    }
}

/// Routes that need `scope`, marked so in the OpenAPI document too.
fn scoped(routes: OpenApiRouter<Arc<ServerState>>, scope: Scope, access: &Arc<session::Access>) -> OpenApiRouter<Arc<ServerState>> {
    let mut routes = routes.layer(axum::middleware::from_fn_with_state(auth::Requirement { access: access.clone(), scope }, auth::require));
    openapi::require_scope(routes.get_openapi_mut(), scope);
    routes
}

/// Every route, with its scope, body limit and timeout. Routes are declared
/// once, through `routes!`, which also writes them into `/openapi.json`.
pub fn router(state: Arc<ServerState>, tokens: Arc<TokenTable>, options: &ServeOptions) -> Router {
    let access = Arc::new(session::Access { tokens, sessions: Default::default() });
    let read = OpenApiRouter::new()
        .routes(routes!(events::query))
        .routes(routes!(events::statistics))
        .routes(routes!(events::by_id))
        .routes(routes!(events::stream))
        .routes(routes!(commands::state))
        .routes(routes!(history::audit))
        .routes(routes!(history::snapshots))
        .routes(routes!(operations::read_models))
        .routes(routes!(operations::read_model))
        .routes(routes!(operations::read_model_collections))
        .routes(routes!(projections::list))
        .routes(routes!(history::validate_sequence))
        .routes(routes!(health::metrics));
    let write = OpenApiRouter::new()
        .routes(routes!(events::append_one))
        .routes(routes!(events::append_batch))
        .routes(routes!(commands::execute));
    let admin = OpenApiRouter::new()
        .routes(routes!(operations::replay_jobs, operations::start_replay))
        .routes(routes!(operations::replay_job))
        .routes(routes!(operations::dead_letters))
        .routes(routes!(operations::release_dead_letter))
        .routes(routes!(projections::rebuild))
        .routes(routes!(history::create_snapshot))
        .routes(routes!(plugins::list))
        .routes(routes!(plugins::remove));
    // A component is larger than any JSON request, so uploads have a limit of their own.
    let upload = OpenApiRouter::new().routes(routes!(plugins::upload)).layer(DefaultBodyLimit::max(options.upload_limit));
    let open = OpenApiRouter::new()
        .routes(routes!(health::health))
        .routes(routes!(health::live))
        .routes(routes!(health::ready))
        .routes(routes!(session::login, session::current, session::logout))
        .layer(axum::Extension(access.clone()));
    let timed = OpenApiRouter::with_openapi(openapi::BaseDocument::openapi())
        .merge(scoped(read, Scope::Read, &access))
        .merge(scoped(write, Scope::Write, &access))
        .merge(scoped(admin.merge(upload), Scope::Admin, &access))
        .merge(open)
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, options.request_timeout));
    // The live stream is long-lived, so it sits outside the request timeout.
    let live = scoped(OpenApiRouter::new().routes(routes!(live::live)), Scope::Read, &access);
    let (routes, mut document) = timed.merge(live).split_for_parts();
    openapi::declare_errors(&mut document);
    openapi::set_machine_bounds(&mut document, cairn::replay::max_workers());
    let document = Arc::new(document.to_pretty_json().expect("the OpenAPI document serialises"));
    routes
        .route("/openapi.json", axum::routing::get(move || async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], document.to_string()) }))
        .merge(console::routes())
        .layer(axum::middleware::from_fn(guard::json_refusals))
        .layer(axum::middleware::from_fn(count_request))
        .fallback(|| async { ApiError::not_found("no such route; GET /openapi.json lists them") })
        .layer(DefaultBodyLimit::max(options.body_limit))
        .layer(axum::middleware::from_fn_with_state(options.origins.clone(), guard::same_origin))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(guard::panic_response))
        .with_state(state)
}

/// Counts and times each request under its route template.
async fn count_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    cairn::telemetry::http_request(method.as_str(), &route, response.status().as_u16(), started.elapsed());
    response
}

//! The web console: static files built into the binary
//! (`host/cairn-http/console/`), served at `/console`; `/` leads there. The
//! pages hold no data: they read the same API as any client, with the
//! session cookie a login opened (`session.rs`), so serving them needs no
//! scope. No CDN, no network at run time, and a content security policy
//! that lets the pages talk only to this server.

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::error::ApiError;

const PAGE: &str = include_str!("../console/index.html");
const POLICY: &str = "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Every file under `/console/`, by name. A new module is listed here.
const FILES: &[(&str, &str, &str)] = &[
    ("console.css", "text/css; charset=utf-8", include_str!("../console/console.css")),
    ("console.js", "text/javascript; charset=utf-8", include_str!("../console/console.js")),
    ("api.js", "text/javascript; charset=utf-8", include_str!("../console/api.js")),
    ("chart.js", "text/javascript; charset=utf-8", include_str!("../console/chart.js")),
    ("overview.js", "text/javascript; charset=utf-8", include_str!("../console/overview.js")),
    ("streams.js", "text/javascript; charset=utf-8", include_str!("../console/streams.js")),
    ("aggregate.js", "text/javascript; charset=utf-8", include_str!("../console/aggregate.js")),
    ("plugins.js", "text/javascript; charset=utf-8", include_str!("../console/plugins.js")),
    ("projections.js", "text/javascript; charset=utf-8", include_str!("../console/projections.js")),
    ("replay.js", "text/javascript; charset=utf-8", include_str!("../console/replay.js")),
    ("tail.js", "text/javascript; charset=utf-8", include_str!("../console/tail.js")),
];

fn file(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CONTENT_SECURITY_POLICY, POLICY), (header::X_CONTENT_TYPE_OPTIONS, "nosniff"), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

async fn asset(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(file_name, _, _)| *file_name == name) {
        Some((_, content_type, body)) => file(content_type, body),
        None => ApiError::not_found(format!("the console has no file {name}")).into_response(),
    }
}

/// The console's routes, for any router state.
pub fn routes<State: Clone + Send + Sync + 'static>() -> Router<State> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route("/console", get(|| async { file("text/html; charset=utf-8", PAGE) }))
        .route("/console/{name}", get(asset))
}

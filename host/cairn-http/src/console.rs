//! The web console: three static files built into the binary
//! (`host/cairn-http/console/`), served at `/console`; `/` leads there. The
//! pages hold no data: they read the same API as any client, with the
//! bearer token the user gives, so serving them needs no scope. No CDN, no
//! network at run time, and a content security policy that lets the pages
//! talk only to this server.

use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

const PAGE: &str = include_str!("../console/index.html");
const SCRIPT: &str = include_str!("../console/console.js");
const STYLE: &str = include_str!("../console/console.css");
const POLICY: &str = "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

fn file(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CONTENT_SECURITY_POLICY, POLICY), (header::X_CONTENT_TYPE_OPTIONS, "nosniff"), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

/// The console's routes, for any router state.
pub fn routes<State: Clone + Send + Sync + 'static>() -> Router<State> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route("/console", get(|| async { file("text/html; charset=utf-8", PAGE) }))
        .route("/console/console.js", get(|| async { file("text/javascript; charset=utf-8", SCRIPT) }))
        .route("/console/console.css", get(|| async { file("text/css; charset=utf-8", STYLE) }))
}

//! The web console: static files built into the binary
//! (`host/cairn-http/console/`), served at `/console`; `/` leads there. The
//! pages hold no data: they read the same API as any client, with the
//! session cookie a login opened (`session.rs`), so serving them needs no
//! scope. No CDN, no network at run time, and a content security policy
//! that lets the pages talk only to this server.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

use crate::error::ApiError;

const PAGE: &str = include_str!("../console/index.html");
const PAGE_NAME: &str = "index.html";
const POLICY: &str = "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Every file under `/console/`, by name. A new module is listed here.
const FILES: &[(&str, &str)] = &[
    ("console.css", include_str!("../console/console.css")),
    ("console.js", include_str!("../console/console.js")),
    ("api.js", include_str!("../console/api.js")),
    ("chart.js", include_str!("../console/chart.js")),
    ("overview.js", include_str!("../console/overview.js")),
    ("streams.js", include_str!("../console/streams.js")),
    ("aggregate.js", include_str!("../console/aggregate.js")),
    ("plugins.js", include_str!("../console/plugins.js")),
    ("projections.js", include_str!("../console/projections.js")),
    ("replay.js", include_str!("../console/replay.js")),
    ("tail.js", include_str!("../console/tail.js")),
];

/// Each file's entity tag: a hash of its bytes, so that a browser that has
/// the file revalidates it with one small request (304) instead of
/// downloading it again, and a new binary's files are never stale.
fn entity_tag(name: &str) -> &'static HeaderValue {
    static TAGS: OnceLock<HashMap<&'static str, HeaderValue>> = OnceLock::new();
    let tags = TAGS.get_or_init(|| {
        std::iter::once((PAGE_NAME, PAGE))
            .chain(FILES.iter().copied())
            .map(|(name, body)| (name, HeaderValue::from_str(&format!("\"{}\"", &crate::auth::hash_token(body)[..20])).expect("hex is a valid header")))
            .collect()
    });
    &tags[name]
}

fn file(headers: &HeaderMap, name: &str, content_type: &'static str, body: &'static str) -> Response {
    let tag = entity_tag(name);
    let fresh = headers.get(header::IF_NONE_MATCH).is_some_and(|presented| presented == tag);
    let mut response = if fresh { StatusCode::NOT_MODIFIED.into_response() } else { ([(header::CONTENT_TYPE, content_type)], body).into_response() };
    let response_headers = response.headers_mut();
    response_headers.insert(header::ETAG, tag.clone());
    response_headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    response_headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    match FILES.iter().find(|(file_name, _)| *file_name == name) {
        Some((name, body)) => {
            let content_type = if name.ends_with(".css") { "text/css; charset=utf-8" } else { "text/javascript; charset=utf-8" };
            file(&headers, name, content_type, body)
        }
        None => ApiError::not_found(format!("the console has no file {name}")).into_response(),
    }
}

/// The console's routes, for any router state.
pub fn routes<State: Clone + Send + Sync + 'static>() -> Router<State> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route("/console", get(|headers: HeaderMap| async move { file(&headers, PAGE_NAME, "text/html; charset=utf-8", PAGE) }))
        .route("/console/{name}", get(asset))
}

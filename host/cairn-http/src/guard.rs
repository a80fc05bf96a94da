//! What every request passes before a handler: browsers on other sites are
//! kept out, a panic becomes a JSON 500 instead of a dropped connection,
//! and the framework's own refusals (405, 408) answer in the one JSON
//! error shape.

use std::any::Any;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Who may send state-changing requests, as a browser sees it.
#[derive(Debug, Clone, Default)]
pub struct OriginPolicy {
    /// Origins besides the server's own that may change state, such as
    /// `https://console.example.com` (`--allow-origin`).
    pub allowed_origins: Vec<String>,
    /// Without tokens the server is open to anyone who can reach it, which
    /// the CLI allows on loopback only; then the `Host` header must name a
    /// loopback address too, so that a DNS-rebinding page cannot reach it.
    pub loopback_hosts_only: bool,
}

/// A page on another site can make a browser send requests here (a form, or
/// `fetch` in `no-cors` mode, needs no preflight). Browsers always send
/// `Origin` on such cross-origin requests, so a state-changing request whose
/// `Origin` is neither this server nor an allowed one is refused.
pub async fn same_origin(State(policy): State<OriginPolicy>, request: Request, next: Next) -> Result<Response, ApiError> {
    let host = request.headers().get(header::HOST).and_then(|value| value.to_str().ok()).unwrap_or_default().to_ascii_lowercase();
    if policy.loopback_hosts_only && !is_loopback_host(&host) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden_host",
            format!("this server has no tokens and answers only requests addressed to a loopback host, not `{host}`; configure tokens to serve other names"),
        ));
    }
    if changes_state(request.method()) {
        if let Some(origin) = origin_of(request.headers()) {
            let same = origin.split_once("://").is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(&host));
            if !same && !policy.allowed_origins.iter().any(|allowed| allowed.eq_ignore_ascii_case(&origin)) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "cross_origin",
                    format!("a request from the page at {origin} may not change this server's state; allow that origin with --allow-origin"),
                ));
            }
        }
    }
    Ok(next.run(request).await)
}

/// Whether a request of `method` may change state: all but GET, HEAD and OPTIONS.
pub fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn origin_of(headers: &HeaderMap) -> Option<String> {
    headers.get(header::ORIGIN).map(|value| value.to_str().unwrap_or("null").trim().to_owned())
}

/// `localhost`, `127.x.x.x` or `[::1]`, with or without a port.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, port)| if port.chars().all(|c| c.is_ascii_digit()) { name } else { host }),
    };
    name == "localhost" || name.parse::<std::net::IpAddr>().is_ok_and(|address| address.is_loopback())
}

/// The answer to a handler that panicked: the panic is a bug, logged; the
/// client gets the same 500 as for any other fault, and the server goes on.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a panic without a message");
    tracing::error!(panic = message, "a request handler panicked; this is a bug in cairn");
    ApiError::of_kind(cairn::ErrorKind::Internal, "the server failed to handle the request; its log says why").into_response()
}

/// The framework answers some refusals itself, without a body: a method a
/// route does not have (405) and a request past its timeout (408). They get
/// the one error shape too.
pub async fn json_refusals(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let already_json = response.headers().get(header::CONTENT_TYPE).is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    match response.status() {
        StatusCode::METHOD_NOT_ALLOWED if !already_json => {
            let allow = response.headers().get(header::ALLOW).cloned();
            let mut refusal = ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this route does not take that method; GET /openapi.json lists each route's methods").into_response();
            if let Some(allow) = allow {
                refusal.headers_mut().insert(header::ALLOW, allow);
            }
            refusal
        }
        StatusCode::REQUEST_TIMEOUT if !already_json => {
            ApiError::new(StatusCode::REQUEST_TIMEOUT, "timeout", "the request took longer than the server allows (--request-timeout); it may have taken effect, so retry it with the same command id or event id").into_response()
        }
        _ => response,
    }
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    #[test]
    fn loopback_hosts_are_told_from_others() {
        for host in ["localhost", "localhost:8080", "127.0.0.1", "127.0.0.1:80", "[::1]", "[::1]:8080", "127.1.2.3:9"] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in ["", "example.com", "example.com:8080", "10.0.0.1", "localhost.evil.com", "127.0.0.1.evil.com"] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}

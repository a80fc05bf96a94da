//! Request bodies. Every JSON body is read by [`JsonBody`], which demands
//! `content-type: application/json` (so that a page on another site cannot
//! send one as a form or `text/plain` without a CORS preflight), validates it
//! as strictly as every other way into Cairn (`cairn::json::validate`: no
//! duplicate keys, lone surrogates, numbers beyond a 64-bit float, or
//! nesting beyond 64 levels), and only then deserializes it. Fields meant to
//! be stored (payloads, metadata) are kept as the client's bytes.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

pub struct JsonBody<T>(pub T);

/// Whether the request says its body is JSON (`application/json`, with or
/// without parameters, or a `+json` type).
pub fn declares_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()) else { return false };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        if !declares_json(request.headers()) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with `content-type: application/json`",
            ));
        }
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "the request body is larger than the server accepts (--body-limit)")
            } else {
                ApiError::bad_request(format!("cannot read the body: {}", rejection.body_text()))
            }
        })?;
        let text = std::str::from_utf8(&bytes).map_err(|_| ApiError::bad_request("the body is not UTF-8 text; JSON must be"))?;
        cairn::json::validate(text).map_err(|problem| ApiError::bad_request(format!("the body is not acceptable JSON: {problem}")))?;
        let value = serde_json::from_str(text).map_err(|error| ApiError::bad_request(format!("the body is not acceptable JSON: {error}")))?;
        Ok(JsonBody(value))
    }
}

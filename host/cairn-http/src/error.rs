//! Every failure as JSON `{"error": {"code", "message"}}`. Library errors
//! map through their kind (`cairn::ErrorKind`), in one table
//! ([`status_of`]), so a failure answers the same status whichever
//! endpoint meets it, and agrees with the CLI's exit code. Messages name the
//! problem and the fix; internal details (database errors, traps) go to the
//! server log, never to the client.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use cairn::{Classified, ErrorKind};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

/// The one table from error kinds to HTTP statuses.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Invalid => StatusCode::BAD_REQUEST,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Rejected | ErrorKind::Refused => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }

    /// An answer of `kind` with a message meant for the client.
    pub fn of_kind(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self::new(status_of(kind), kind.code(), message)
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::of_kind(ErrorKind::Invalid, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::of_kind(ErrorKind::NotFound, message)
    }

    /// Any library error. Faults and outages are logged in full and
    /// answered in general terms: their details are the server's, not the
    /// client's, business.
    pub fn from_library<E: Classified + std::fmt::Display + ?Sized>(error: &E) -> Self {
        let kind = error.kind();
        match kind {
            ErrorKind::Internal => {
                tracing::error!(error = %error, "request failed");
                Self::of_kind(kind, "the server failed to handle the request; its log says why")
            }
            ErrorKind::Unavailable => {
                tracing::warn!(error = %error, "request could not be served");
                Self::of_kind(kind, "the store is unavailable at the moment; retry later (the server log says why)")
            }
            _ => Self::of_kind(kind, error.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": { "code": self.code, "message": self.message } });
        (self.status, Json(body)).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return Self::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "the request body is larger than the server accepts (--body-limit)");
        }
        Self::bad_request(format!("the body is not acceptable JSON: {}", rejection.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::bad_request(format!("bad query parameters: {}", rejection.body_text()))
    }
}

/// Library errors convert through their kind.
macro_rules! from_library_errors {
    ($($error:ty),+ $(,)?) => {
        $(impl From<$error> for ApiError {
            fn from(error: $error) -> Self {
                Self::from_library(&error)
            }
        })+
    };
}

from_library_errors!(cairn::StoreError, cairn::plugins::PluginHostError, cairn::replay::ReplayError);

/// A migrator that fails on a stored event is the operator's to fix, and
/// the failure names the event, the migrator and the step: nothing in it is
/// the server's secret, so the client gets it whole.
impl From<cairn::migrate::UpcastError> for ApiError {
    fn from(error: cairn::migrate::UpcastError) -> Self {
        tracing::error!(%error, reason = %error.reason, "a migrator failed on a stored event");
        Self::of_kind(
            ErrorKind::Internal,
            format!("{error}: {}; fix the migrator (add a new version) or remove it (`cairn plugin remove`)", error.reason),
        )
    }
}

impl From<cairn::read::ReadError> for ApiError {
    fn from(error: cairn::read::ReadError) -> Self {
        match error {
            cairn::read::ReadError::Upcast(error) => error.into(),
            other => Self::from_library(&other),
        }
    }
}

impl From<cairn::command::CommandError> for ApiError {
    fn from(error: cairn::command::CommandError) -> Self {
        use cairn::command::CommandError;
        use cairn::runtime::{FailureReason, PluginCallError};
        match &error {
            // The plugin could not read the command: the client sent a
            // command type or payload the aggregate does not know.
            CommandError::Plugin(PluginCallError { reason: FailureReason::Invalid(message), plugin, .. }) => {
                Self::bad_request(format!("the aggregate plugin {plugin} cannot read this command: {message}"))
            }
            // A rejection's message is the plugin's own, for the caller as it is.
            CommandError::Rejected { message, .. } => Self::of_kind(ErrorKind::Rejected, message.clone()),
            CommandError::Plugin(failure) if failure.kind() == ErrorKind::Internal => {
                tracing::error!(error = %failure, "aggregate plugin failed");
                Self::of_kind(ErrorKind::Internal, format!("the aggregate plugin {} failed; the server log says why", failure.plugin))
            }
            _ => Self::from_library(&error),
        }
    }
}

/// The most items one page of any list answers.
pub const MAX_PAGE: usize = 10_000;

/// A page size from `limit`: `default` when absent, refused (naming the
/// bounds) when outside 1 to [`MAX_PAGE`].
pub fn page_size(limit: Option<usize>, default: usize) -> Result<usize, ApiError> {
    match limit {
        None => Ok(default),
        Some(limit) if (1..=MAX_PAGE).contains(&limit) => Ok(limit),
        Some(limit) => Err(ApiError::bad_request(format!("limit {limit} is out of range; give 1 to {MAX_PAGE}"))),
    }
}

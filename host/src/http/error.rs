//! Every failure as JSON `{"error": {"code", "message"}}`. Messages name the
//! problem and the fix; internal details (database errors, paths) go to the
//! server log, never to the client.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::command::CommandError;
use crate::plugins::PluginHostError;
use crate::replay::ReplayError;
use crate::store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// A failure the client cannot fix: logged in full, answered in general.
    fn internal(detail: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the server failed to handle the request; its log says why")
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

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict { .. } | StoreError::DuplicateId { .. } | StoreError::CheckpointMoved { .. } => {
                Self::new(StatusCode::CONFLICT, "conflict", error.to_string())
            }
            StoreError::Invalid(_) | StoreError::BadUrl(_) => Self::new(StatusCode::BAD_REQUEST, "invalid", error.to_string()),
            other => Self::internal(&other),
        }
    }
}

impl From<PluginHostError> for ApiError {
    fn from(error: PluginHostError) -> Self {
        match error {
            PluginHostError::UnknownAggregateType { .. } | PluginHostError::UnknownHandler { .. } | PluginHostError::UnknownPlugin { .. } => {
                Self::not_found(error.to_string())
            }
            PluginHostError::InvalidName(_)
            | PluginHostError::MigratorNeedsName
            | PluginHostError::Refused { .. }
            | PluginHostError::KindChanged { .. }
            | PluginHostError::ConflictingMigrators(_)
            | PluginHostError::AggregateTypeChanged { .. }
            | PluginHostError::AggregateTypeTaken { .. } => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "plugin_refused", error.to_string()),
            other => Self::internal(&other),
        }
    }
}

impl From<CommandError> for ApiError {
    fn from(error: CommandError) -> Self {
        match error {
            CommandError::Rejected { message, .. } => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "rejected", message),
            CommandError::Conflict { .. } => Self::new(StatusCode::CONFLICT, "conflict", error.to_string()),
            CommandError::Invalid(_) | CommandError::VersionBeyondEnd { .. } => Self::bad_request(error.to_string()),
            // The plugin could not read the command: the client sent a
            // command type or payload the aggregate does not know.
            CommandError::Plugin(crate::runtime::PluginCallError { reason: crate::runtime::FailureReason::Invalid(message), plugin, .. }) => {
                Self::new(StatusCode::BAD_REQUEST, "invalid_command", format!("the aggregate plugin {plugin} cannot read this command: {message}"))
            }
            CommandError::Plugin(failure) => {
                tracing::error!(error = %failure, "aggregate plugin failed");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "plugin_failed", format!("the aggregate plugin {} failed; the server log says why", failure.plugin))
            }
            CommandError::Plugins(error) => error.into(),
            CommandError::Store(error) => error.into(),
            other => Self::internal(&other),
        }
    }
}

impl From<ReplayError> for ApiError {
    fn from(error: ReplayError) -> Self {
        match error {
            ReplayError::Plugins(error) => error.into(),
            ReplayError::Store(error) => error.into(),
            ReplayError::Invalid(message) => Self::bad_request(message),
            ReplayError::CheckpointAhead { .. } => Self::new(StatusCode::CONFLICT, "checkpoint_ahead", error.to_string()),
            other => Self::internal(&other),
        }
    }
}

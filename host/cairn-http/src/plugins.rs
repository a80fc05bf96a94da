//! Plugins over HTTP: upload (validated, stored and hot-loaded), list and
//! remove. A call in flight keeps the version it started with; the next
//! call uses the new one.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;

use super::error::ApiError;
use super::openapi::ErrorBody;
use super::schemas::{ComponentBytes, PluginName};
use super::ServerState;
use cairn::plugins::PluginSource;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The plugin's name; by default an aggregate is named after its
    /// aggregate type and a handler after its own name. A migrator needs one.
    #[param(value_type = Option<PluginName>)]
    name: Option<String>,
    /// Shadow-run the component over stored history first (as `cairn plugin
    /// try`) and register it only if nothing differs; the report is in the
    /// answer's `shadow`.
    shadow: Option<bool>,
    /// With `shadow`: register it even when something differs.
    accept_differences: Option<bool>,
}

fn record_json(record: &cairn::store::PluginVersionRecord) -> Value {
    let mut value = serde_json::to_value(record).expect("records serialise");
    value["description"] = serde_json::from_str(&record.description).unwrap_or(Value::Null);
    value
}

/// Upload a component: it is validated, stored and hot-loaded
#[utoipa::path(post, path = "/plugins", tag = "plugins", params(UploadQuery),
    request_body(description = "A WebAssembly component exporting one Cairn world", content(
        (ComponentBytes = "application/wasm"),
        (ComponentBytes = "application/octet-stream"))),
    responses(
        (status = 201, description = "A new active version", body = Object),
        (status = 200, description = "The active version already had these bytes; nothing changed", body = Object),
        (status = 409, description = "With shadow=true: stored history would change (the report is in `shadow`); nothing was registered", body = Object),
        (status = 413, description = "Larger than --upload-limit", body = ErrorBody),
        (status = 422, description = "Refused: not a component, wrong world, forbidden imports, or in conflict with active plugins", body = ErrorBody)))]
pub async fn upload(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    query: Result<Query<UploadQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Query(query) = query?;
    // A form or `text/plain` post from another site's page needs no CORS
    // preflight; a component's own content types do.
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if essence != "application/wasm" && essence != "application/octet-stream" {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the component with `content-type: application/wasm` (curl: -H 'content-type: application/wasm' --data-binary @plugin.wasm)",
        ));
    }
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", "the component is larger than the server accepts (--upload-limit)")
        } else {
            ApiError::bad_request(format!("cannot read the upload: {}", rejection.body_text()))
        }
    })?;
    if bytes.is_empty() {
        return Err(ApiError::bad_request("the body is empty; send the component's bytes, for example with curl --data-binary @plugin.wasm"));
    }
    let source = PluginSource { bytes: bytes.to_vec(), requested_name: query.name, file_stem: None };
    let shadow = match query.shadow.unwrap_or(false) {
        true => state.plugins.shadow_before_adding(source.clone(), &|_, _| {}).await?,
        false if query.accept_differences.is_some() => return Err(ApiError::bad_request("accept_differences goes with shadow=true; add shadow=true, or leave accept_differences out")),
        false => None,
    };
    if let Some(report) = shadow.as_ref().filter(|report| report.differing() > 0 && !query.accept_differences.unwrap_or(false)) {
        let message = format!("refused: {} stored streams, events or documents would change with this version; nothing was registered. Fix the plugin, or add accept_differences=true", report.differing());
        return Ok((StatusCode::CONFLICT, Json(json!({ "error": "shadow_differences", "message": message, "shadow": report }))));
    }
    let added = state.plugins.add(source).await?;
    let status = if added.already_active { StatusCode::OK } else { StatusCode::CREATED };
    let mut body = record_json(&added.record);
    body["already_active"] = Value::Bool(added.already_active);
    if let Some(report) = shadow {
        body["shadow"] = serde_json::to_value(report).expect("reports serialise");
    }
    Ok((status, Json(body)))
}

/// Every stored version of every plugin, with which is active and loaded
#[utoipa::path(get, path = "/plugins", tag = "plugins", responses((status = 200, description = "`plugins`: every version, newest last", body = Object)))]
pub async fn list(State(state): State<Arc<ServerState>>) -> Result<Json<Value>, ApiError> {
    let versions = state.store().plugin_versions().await?;
    let statuses = state.plugins.statuses();
    let plugins: Vec<Value> = versions
        .iter()
        .map(|record| {
            let mut value = record_json(record);
            if let Some(status) = statuses.iter().find(|status| status.record.name == record.name && status.record.version == record.version) {
                value["loaded"] = Value::Bool(status.loaded);
                value["load_error"] = status.load_error.clone().map_or(Value::Null, Value::String);
            }
            value
        })
        .collect();
    Ok(Json(json!({ "plugins": plugins })))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RemoveQuery {
    /// Remove only this version; if it was active, the newest remaining one
    /// becomes active.
    #[param(value_type = Option<u64>, minimum = 1, maximum = 9_223_372_036_854_775_807_i64)]
    version: Option<u64>,
}

/// Remove a plugin, or one of its versions
#[utoipa::path(delete, path = "/plugins/{name}", tag = "plugins", params(("name" = PluginName, Path), RemoveQuery),
    responses((status = 200, description = "How many versions were removed", body = Object), (status = 404, body = ErrorBody)))]
pub async fn remove(
    State(state): State<Arc<ServerState>>,
    Path(name): Path<String>,
    query: Result<Query<RemoveQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query?;
    let removed = state.plugins.remove(&name, query.version).await?;
    Ok(Json(json!({ "name": name, "version": query.version, "removed_versions": removed })))
}

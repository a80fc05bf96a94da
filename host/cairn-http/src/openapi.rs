//! The OpenAPI document. Paths come from the same `routes!` calls that
//! build the router (see `mod.rs`), so the document cannot list a route the
//! server lacks or miss one it has; this file adds what is shared: the
//! title, the tags, the bearer scheme and the error shape.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, RefOr, Schema};
use utoipa::{Modify, OpenApi, ToSchema};

use super::auth::Scope;

/// Every error the server answers: a stable code and a message that names
/// the problem and the fix.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ErrorDetail {
    /// For example `bad_request`, `conflict`, `rejected`, `not_found`.
    code: String,
    message: String,
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Cairn", description = "The Event, Command and Replay services of a Cairn host. Every error is `{\"error\": {\"code\", \"message\"}}`."),
    components(schemas(
        ErrorBody, ErrorDetail,
        // Schemas that parameters name: utoipa registers those of bodies itself.
        super::schemas::Name, super::schemas::PluginName, super::schemas::Position, super::schemas::PageSize,
        super::schemas::DeadLetterId, super::schemas::DeadLetterActionName, super::schemas::AnyJson,
        super::schemas::Instant, super::schemas::UuidText, super::schemas::IdempotencyKey)),
    modifiers(&BearerScheme),
    tags(
        (name = "events", description = "Append, query and follow the event log"),
        (name = "aggregates", description = "Commands, state, time travel, audit, snapshots"),
        (name = "replay", description = "Replay jobs, read models and dead letters"),
        (name = "plugins", description = "Upload, list and remove plugins while the server runs"),
        (name = "operations", description = "Health, metrics and this document"),
    )
)]
pub struct BaseDocument;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, document: &mut Document) {
        let components = document.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some("A token made with `cairn token new --scope read|write|admin`; write includes read and admin includes both"))
            .build();
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// Marks every operation of `document` as needing a token of `scope`.
pub fn require_scope(document: &mut Document, scope: Scope) {
    let requirement = SecurityRequirement::new("bearer", [scope.name()]);
    for item in document.paths.paths.values_mut() {
        for operation in [&mut item.get, &mut item.post, &mut item.put, &mut item.delete, &mut item.patch].into_iter().flatten() {
            operation.security = Some(vec![requirement.clone()]);
        }
    }
}

/// Declares, on every operation, the errors the server can answer there
/// beyond those the operation lists itself: every route can be malformed
/// (400), time out (408), fail inside (500) or find the store busy (503); a
/// route with a path parameter can miss (404); a route with a body can be
/// too large (413) or of another type (415); a scoped route can lack a
/// token (401) or its scope (403). All answer with `ErrorBody`.
pub fn declare_errors(document: &mut Document) {
    for item in document.paths.paths.values_mut() {
        let has_path_parameter = item.parameters.is_some();
        for operation in [&mut item.get, &mut item.post, &mut item.put, &mut item.delete, &mut item.patch].into_iter().flatten() {
            declare_operation_errors(operation, has_path_parameter);
        }
    }
}

fn declare_operation_errors(operation: &mut Operation, has_path_parameter: bool) {
    let has_path_parameter = has_path_parameter
        || operation.parameters.iter().flatten().any(|parameter| matches!(parameter.parameter_in, utoipa::openapi::path::ParameterIn::Path));
    let mut statuses = vec![
        ("400", "The request is malformed; the message names the field and the fix"),
        ("408", "The request took longer than --request-timeout"),
        ("500", "An internal error; the server's log has the details"),
        ("503", "The store is busy or unreachable; retry later"),
    ];
    if has_path_parameter {
        statuses.push(("404", "Nothing is at this path"));
    }
    if operation.request_body.is_some() {
        statuses.push(("413", "The body is larger than the server accepts"));
        statuses.push(("415", "The body's content type is not one the operation takes"));
    }
    let open = utoipa::openapi::security::SecurityRequirement::default();
    if operation.security.iter().flatten().any(|requirement| *requirement != open) {
        statuses.push(("401", "A bearer token is needed"));
        statuses.push(("403", "The token lacks this route's scope"));
    }
    for (status, description) in statuses {
        match operation.responses.responses.entry(status.to_owned()) {
            std::collections::btree_map::Entry::Vacant(entry) => {
                entry.insert(error_response(description));
            }
            // Declared by the operation with a body but no words: say what it means.
            std::collections::btree_map::Entry::Occupied(mut entry) => {
                if let RefOr::T(response) = entry.get_mut() {
                    if response.description.is_empty() {
                        response.description = description.to_owned();
                    }
                }
            }
        }
    }
}

fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    let schema: RefOr<Schema> = Ref::from_schema_name(ErrorBody::name()).into();
    ResponseBuilder::new().description(description).content("application/json", ContentBuilder::new().schema(Some(schema)).build()).build().into()
}

/// Sets the bound the document cannot know when it is compiled: replay
/// workers, which depend on this machine's cores.
pub fn set_machine_bounds(document: &mut Document, max_workers: usize) {
    let Some(components) = document.components.as_mut() else { return };
    let Some(RefOr::T(Schema::Object(replay))) = components.schemas.get_mut("ReplayInput") else { return };
    if let Some(RefOr::T(Schema::Object(workers))) = replay.properties.get_mut("workers") {
        workers.maximum = Some(utoipa::Number::from(max_workers as u64));
    }
}

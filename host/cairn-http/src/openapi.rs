//! The OpenAPI document. Paths come from the same `routes!` calls that
//! build the router (see `mod.rs`), so the document cannot list a route the
//! server lacks or miss one it has; this file adds what is shared: the
//! title, the tags, the bearer scheme and the error shape.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::OpenApi as Document;
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
    components(schemas(ErrorBody, ErrorDetail)),
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

//! Bearer tokens with scopes. Tokens are configured by their SHA-256 hash,
//! never in plain text: `cairn token new` prints a token and the line that
//! configures it.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};

use super::error::ApiError;
use super::session::{Access, Credential};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Reading events, state, read models and health.
    Read,
    /// Appending events and running commands; includes read.
    Write,
    /// Plugins, replay, checkpoints and dead letters; includes everything.
    Admin,
}

impl Scope {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "read" => Some(Scope::Read),
            "write" => Some(Scope::Write),
            "admin" => Some(Scope::Admin),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }
}

/// The configured tokens, by hash. Empty means access control is off.
#[derive(Debug, Default)]
pub struct TokenTable {
    scopes_by_hash: HashMap<String, Scope>,
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl TokenTable {
    /// Reads lines of `sha256:<hex> <scope>`; blank lines and `#` comments
    /// are skipped. Every bad line is reported at once.
    pub fn parse(text: &str) -> Result<Self, Vec<String>> {
        let mut table = TokenTable::default();
        let mut problems = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            let (hash, scope) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
            let hash = hash.strip_prefix("sha256:").filter(|hex| hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()));
            match (hash, Scope::parse(scope), parts.next()) {
                (Some(hash), Some(scope), None) => {
                    table.scopes_by_hash.insert(hash.to_ascii_lowercase(), scope);
                }
                _ => problems.push(format!(
                    "token line {}: expected `sha256:<64 hex digits> <read|write|admin>`; `cairn token new --scope read` prints one",
                    index + 1
                )),
            }
        }
        if problems.is_empty() {
            Ok(table)
        } else {
            Err(problems)
        }
    }

    pub fn is_empty(&self) -> bool {
        self.scopes_by_hash.is_empty()
    }

    pub(crate) fn scope_of(&self, token: &str) -> Option<Scope> {
        self.scopes_by_hash.get(&hash_token(token)).copied()
    }
}

/// What a route group needs, for the middleware.
#[derive(Clone)]
pub struct Requirement {
    pub access: Arc<Access>,
    pub scope: Scope,
}

/// 401 without a known bearer token or session, 403 when its scope is too
/// small, and 403 for a cookie-authorised change that names no origin.
pub async fn require(State(requirement): State<Requirement>, request: Request, next: Next) -> Result<Response, ApiError> {
    let Some(credential) = requirement.access.credential(request.headers()) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send a valid token as `Authorization: Bearer <token>`, or log in with it (POST /session) for a session cookie",
        ));
    };
    let scope = credential.scope();
    if scope < requirement.scope {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this needs the {} scope; the token has {}", requirement.scope.name(), scope.name()),
        ));
    }
    // Browsers send `Origin` with every state-changing fetch, and the origin
    // guard has refused foreign ones; a cookie without it came from
    // something that is not a browser page of this server.
    if matches!(credential, Credential::Cookie(_)) && super::guard::changes_state(request.method()) && !request.headers().contains_key(header::ORIGIN) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_origin",
            "a change authorised by a session cookie must come from this server's own pages (with an Origin header); other clients send `Authorization: Bearer <token>`",
        ));
    }
    Ok(next.run(request).await)
}

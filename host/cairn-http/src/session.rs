//! Browser sessions: `POST /session` turns a bearer token into an
//! `HttpOnly`, `SameSite=Strict` cookie, so that the console keeps no token
//! where a script could read it, and the live tail (`EventSource`, which
//! cannot send headers) is authorised too.
//!
//! Invariants:
//! - A session has its token's scope, never more, and ends after
//!   [`SESSION_LIFETIME`] or at `DELETE /session`; the server keeps only a
//!   hash of its id, so its memory holds no usable credential.
//! - A cookie-authorised request that changes state must carry an `Origin`
//!   header naming this server (`auth::require`); the origin guard has
//!   already refused every other origin. `SameSite=Strict` keeps the cookie
//!   off requests from other sites, but not from other ports of the same
//!   host, which the `Origin` rule covers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;

use super::auth::{hash_token, Scope, TokenTable};
use super::body::JsonBody;
use super::error::ApiError;
use super::openapi::ErrorBody;
use super::schemas::SessionInput;

/// How long a console login lasts: a working day.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 60 * 60);
/// Sessions held at once. Only holders of a valid token can open one, but a
/// script looping over `POST /session` must not grow the table without end;
/// the oldest session goes first.
const MAX_SESSIONS: usize = 10_000;
const COOKIE_NAME: &str = "cairn_session";

struct Session {
    scope: Scope,
    expires: Instant,
}

/// The open sessions, by the SHA-256 of their id.
#[derive(Default)]
pub struct SessionTable {
    sessions: Mutex<HashMap<String, Session>>,
}

impl SessionTable {
    fn open(&self, scope: Scope) -> Result<String, ApiError> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret)
            .map_err(|_| ApiError::of_kind(cairn::ErrorKind::Internal, "the operating system gave no random bytes for a session id; the server log says why"))?;
        let id = hex::encode(secret);
        let now = Instant::now();
        let mut sessions = self.sessions.lock().expect("the session table is never poisoned");
        sessions.retain(|_, session| session.expires > now);
        if sessions.len() >= MAX_SESSIONS {
            if let Some(oldest) = sessions.iter().min_by_key(|(_, session)| session.expires).map(|(hash, _)| hash.clone()) {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(hash_token(&id), Session { scope, expires: now + SESSION_LIFETIME });
        Ok(id)
    }

    fn scope_of(&self, id: &str) -> Option<Scope> {
        let sessions = self.sessions.lock().expect("the session table is never poisoned");
        sessions.get(&hash_token(id)).filter(|session| session.expires > Instant::now()).map(|session| session.scope)
    }

    fn close(&self, id: &str) {
        self.sessions.lock().expect("the session table is never poisoned").remove(&hash_token(id));
    }
}

/// Who may do what: the configured tokens and the sessions opened with them.
#[derive(Default)]
pub struct Access {
    pub tokens: Arc<TokenTable>,
    pub sessions: SessionTable,
}

/// How a request proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// No tokens are configured: everything is open.
    Open,
    Bearer(Scope),
    Cookie(Scope),
}

impl Credential {
    pub fn scope(self) -> Scope {
        match self {
            Credential::Open => Scope::Admin,
            Credential::Bearer(scope) | Credential::Cookie(scope) => scope,
        }
    }
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION).and_then(|value| value.to_str().ok()).and_then(|value| value.strip_prefix("Bearer ")).map(str::trim)
}

fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE_NAME).and_then(|rest| rest.strip_prefix('=')))
}

impl Access {
    /// A bearer token wins over a cookie; a request with neither, or with
    /// an unknown one, has no credential.
    pub fn credential(&self, headers: &HeaderMap) -> Option<Credential> {
        if self.tokens.is_empty() {
            return Some(Credential::Open);
        }
        if let Some(token) = bearer_token(headers) {
            return self.tokens.scope_of(token).map(Credential::Bearer);
        }
        session_cookie(headers).and_then(|id| self.sessions.scope_of(id)).map(Credential::Cookie)
    }
}

fn cookie(value: &str, max_age: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("{COOKIE_NAME}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}")).expect("a hex id makes a valid header")
}

fn session_json(credential: Credential) -> serde_json::Value {
    let via = match credential {
        Credential::Open => "open",
        Credential::Bearer(_) => "bearer",
        Credential::Cookie(_) => "cookie",
    };
    json!({ "scope": credential.scope().name(), "via": via, "access_control": credential != Credential::Open })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    token: String,
}

/// Log in: a token becomes a session cookie
///
/// Answers the token's scope and sets an `HttpOnly`, `SameSite=Strict`
/// cookie that authorises later requests from the same origin, the live
/// stream included, for eight hours. With no tokens configured the server
/// is open: the answer says so and sets no cookie.
#[utoipa::path(post, path = "/session", tag = "operations", security(()), request_body = SessionInput,
    responses((status = 200, description = "`scope`, `via` and `access_control`; the cookie in `Set-Cookie`", body = Object), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn login(Extension(access): Extension<Arc<Access>>, JsonBody(body): JsonBody<LoginBody>) -> Result<Response, ApiError> {
    if access.tokens.is_empty() {
        return Ok(Json(session_json(Credential::Open)).into_response());
    }
    let scope = access.tokens.scope_of(body.token.trim()).ok_or_else(|| {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "that token is not configured on this server; `cairn token new --scope read` makes one")
    })?;
    let id = access.sessions.open(scope)?;
    let mut response = Json(session_json(Credential::Cookie(scope))).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie(&id, SESSION_LIFETIME.as_secs()));
    Ok(response)
}

/// Who the caller is: the scope of its token or session
#[utoipa::path(get, path = "/session", tag = "operations", security(()),
    responses((status = 200, description = "`scope`, `via` (open, bearer or cookie) and `access_control`", body = Object), (status = 401, body = ErrorBody)))]
pub async fn current(Extension(access): Extension<Arc<Access>>, request: Request) -> Result<Json<serde_json::Value>, ApiError> {
    let credential = access.credential(request.headers()).ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "log in with a token: POST /session"))?;
    Ok(Json(session_json(credential)))
}

/// Log out: the session ends and its cookie is cleared
#[utoipa::path(delete, path = "/session", tag = "operations", security(()),
    responses((status = 204, description = "The session, if any, is over")))]
pub async fn logout(Extension(access): Extension<Arc<Access>>, request: Request) -> Response {
    if let Some(id) = session_cookie(request.headers()) {
        access.sessions.close(id);
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie("", 0));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        pairs.iter().map(|(name, value)| (name.clone(), HeaderValue::from_str(value).unwrap())).collect()
    }

    fn access_with(scope: &str) -> (Access, String) {
        let token = "a-test-token";
        let tokens = TokenTable::parse(&format!("sha256:{} {scope}", hash_token(token))).unwrap();
        (Access { tokens: Arc::new(tokens), sessions: SessionTable::default() }, token.to_owned())
    }

    #[test]
    fn a_session_has_its_tokens_scope_until_it_is_closed() {
        let (access, _) = access_with("read");
        let id = access.sessions.open(Scope::Read).unwrap();
        let request = headers(&[(header::COOKIE, &format!("theme=dark; {COOKIE_NAME}={id}"))]);
        assert_eq!(access.credential(&request), Some(Credential::Cookie(Scope::Read)));
        access.sessions.close(&id);
        assert_eq!(access.credential(&request), None);
    }

    #[test]
    fn unknown_cookies_and_tokens_give_no_credential() {
        let (access, token) = access_with("admin");
        assert_eq!(access.credential(&headers(&[(header::COOKIE, &format!("{COOKIE_NAME}=forged"))])), None);
        assert_eq!(access.credential(&headers(&[(header::AUTHORIZATION, "Bearer wrong")])), None);
        assert_eq!(access.credential(&headers(&[(header::AUTHORIZATION, &format!("Bearer {token}"))])), Some(Credential::Bearer(Scope::Admin)));
        assert_eq!(access.credential(&HeaderMap::new()), None);
    }

    #[test]
    fn a_server_without_tokens_is_open_to_everyone() {
        assert_eq!(Access::default().credential(&HeaderMap::new()), Some(Credential::Open));
    }

    #[test]
    fn the_table_stays_bounded() {
        let table = SessionTable::default();
        for _ in 0..MAX_SESSIONS + 5 {
            table.open(Scope::Read).unwrap();
        }
        assert_eq!(table.sessions.lock().unwrap().len(), MAX_SESSIONS);
    }
}

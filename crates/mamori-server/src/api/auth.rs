//! Who is calling: API tokens (`Authorization: Bearer`, or as the password of
//! HTTP Basic for shippers that only speak Basic) and browser sessions (a
//! `mamori_session` cookie, with an `X-CSRF-Token` header on every request
//! that changes something).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json as JsonOut, Router};
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::{ApiError, ApiResult, ErrorBody, Shared, blocking};
use crate::state::{Credential, Principal, Role};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "mamori_session";
/// Header carrying the CSRF token of a session.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The authenticated caller of a request and where it came from.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who.
    pub principal: Principal,
    /// Client address (for the audit log).
    pub origin: String,
}

impl Caller {
    /// The audit actor.
    pub fn actor(&self) -> crate::state::Actor {
        super::actor(&self.principal, &self.origin)
    }
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The bearer token of a request: `Bearer <token>`, or the password of `Basic`.
fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    if let Some(t) = value.strip_prefix("Bearer ") {
        return Some(t.trim().to_string());
    }
    let b64 = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (_, password) = text.split_once(':')?;
    Some(password.to_string())
}

impl FromRequestParts<Shared> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Shared) -> Result<Self, Self::Rejection> {
        let origin = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string());
        if let Some(token) = bearer(&parts.headers) {
            let principal = state
                .db()
                .authenticate_token(&token)?
                .ok_or_else(ApiError::unauthorized)?;
            return Ok(Caller { principal, origin });
        }
        if let Some(c) = cookie(&parts.headers, SESSION_COOKIE) {
            let principal = state.db().session(c)?.ok_or_else(ApiError::unauthorized)?;
            if let Credential::Session { csrf } = &principal.credential {
                let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
                let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
                if !safe && sent != Some(csrf.as_str()) {
                    return Err(ApiError::forbidden(
                        "missing or wrong X-CSRF-Token header (reload the page)",
                    ));
                }
            }
            return Ok(Caller { principal, origin });
        }
        Err(ApiError::unauthorized())
    }
}

/// Login form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LoginBody {
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
}

/// Who is logged in.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    /// User name.
    pub user: String,
    /// Role.
    pub role: Role,
    /// Tenants (`["*"]`: all).
    pub tenants: Vec<String>,
    /// The CSRF token to send as `X-CSRF-Token` (sessions only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf: Option<String>,
}

fn me_of(p: &Principal) -> Me {
    Me {
        user: p.name.clone(),
        role: p.role,
        tenants: p.tenants.to_list(),
        csrf: match &p.credential {
            Credential::Session { csrf } => Some(csrf.clone()),
            _ => None,
        },
    }
}

/// Log in with a user name and password; sets the session cookie.
#[utoipa::path(post, path = "/api/v1/login", tag = "auth", request_body = LoginBody, security(()),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn login(
    State(state): State<Shared>,
    super::Json(body): super::Json<LoginBody>,
) -> ApiResult<Response> {
    let st = state.clone();
    let user = body.user.clone();
    let principal = blocking(move || Ok(st.db().verify_password(&body.user, &body.password)?)).await?;
    let Some(principal) = principal else {
        tracing::warn!(user = %user, "failed login");
        return Err(ApiError::new(
            axum::http::StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "wrong user name or password",
        ));
    };
    let session = state.db().create_session(&principal.name)?;
    let secure = if state.config.tls.is_some() {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        session.cookie,
        crate::state::SESSION_HOURS * 3600
    );
    let me = Me {
        csrf: Some(session.csrf),
        ..me_of(&principal)
    };
    let mut resp = JsonOut(me).into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(ApiError::internal)?,
    );
    Ok(resp)
}

/// End the session.
#[utoipa::path(post, path = "/api/v1/logout", tag = "auth", responses((status = 204)))]
pub async fn logout(State(state): State<Shared>, headers: HeaderMap, _caller: Caller) -> ApiResult<Response> {
    if let Some(c) = cookie(&headers, SESSION_COOKIE) {
        state.db().delete_session(c)?;
    }
    let mut resp = axum::http::StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("mamori_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(resp)
}

/// The caller: user, role, tenants and (for sessions) the CSRF token.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn me(caller: Caller) -> JsonOut<Me> {
    JsonOut(me_of(&caller.principal))
}

/// Routes of this module.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/me", get(me))
}

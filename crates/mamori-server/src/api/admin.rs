//! Administration: users, API tokens, the audit log.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, put};
use axum::{Json as JsonOut, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::auth::Caller;
use super::{ApiError, ApiResult, ErrorBody, Shared, blocking};
use crate::access::{Action, authorize};
use crate::state::{AuditEntry, NewToken, Role, TenantAccess, TokenInfo, User};

fn admin(caller: &Caller) -> ApiResult<()> {
    Ok(authorize(&caller.principal, Action::Administer, None)?)
}

fn admin_or_self(caller: &Caller, user: &str) -> ApiResult<()> {
    if caller.principal.name == user && caller.principal.role != Role::Ingest {
        return Ok(());
    }
    admin(caller)
}

/// Every user (admin).
#[utoipa::path(get, path = "/api/v1/users", tag = "admin", responses((status = 200, body = Vec<User>), (status = 403, body = ErrorBody)))]
pub async fn list_users(State(state): State<Shared>, caller: Caller) -> ApiResult<JsonOut<Vec<User>>> {
    admin(&caller)?;
    Ok(JsonOut(state.db().users()?))
}

/// A new user.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewUser {
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Tenants (`["*"]`: all; a customer has exactly one).
    pub tenants: Vec<String>,
    /// Password (at least 8 characters); without one the user can only use tokens.
    #[serde(default)]
    pub password: Option<String>,
}

/// Create a user (admin; audited).
#[utoipa::path(post, path = "/api/v1/users", tag = "admin", request_body = NewUser,
    responses((status = 201, body = User), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_user(
    State(state): State<Shared>,
    caller: Caller,
    super::Json(body): super::Json<NewUser>,
) -> ApiResult<(StatusCode, JsonOut<User>)> {
    admin(&caller)?;
    let user = blocking(move || {
        Ok(state.db().add_user(
            &caller.actor(),
            &body.name,
            body.role,
            &TenantAccess::from_list(&body.tenants),
            body.password.as_deref(),
        )?)
    })
    .await?;
    Ok((StatusCode::CREATED, JsonOut(user)))
}

/// One user (admin, or the user themself).
#[utoipa::path(get, path = "/api/v1/users/{name}", tag = "admin", params(("name" = String, Path)),
    responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
pub async fn get_user(
    State(state): State<Shared>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<JsonOut<User>> {
    admin_or_self(&caller, &name)?;
    state
        .db()
        .user(&name)?
        .map(JsonOut)
        .ok_or_else(|| ApiError::not_found(format!("no user {name}")))
}

/// Changes to a user.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UserChange {
    /// New role.
    #[serde(default)]
    pub role: Option<Role>,
    /// New tenants.
    #[serde(default)]
    pub tenants: Option<Vec<String>>,
    /// Disable (or enable) the user.
    #[serde(default)]
    pub disabled: Option<bool>,
}

/// Change a user's role, tenants or disabled flag (admin; audited).
#[utoipa::path(patch, path = "/api/v1/users/{name}", tag = "admin", params(("name" = String, Path)), request_body = UserChange,
    responses((status = 200, body = User), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_user(
    State(state): State<Shared>,
    caller: Caller,
    Path(name): Path<String>,
    super::Json(body): super::Json<UserChange>,
) -> ApiResult<JsonOut<User>> {
    admin(&caller)?;
    let tenants = body.tenants.as_deref().map(TenantAccess::from_list);
    Ok(JsonOut(state.db().update_user(
        &caller.actor(),
        &name,
        body.role,
        tenants.as_ref(),
        body.disabled,
    )?))
}

/// Delete a user and revoke their tokens (admin; audited).
#[utoipa::path(delete, path = "/api/v1/users/{name}", tag = "admin", params(("name" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_user(
    State(state): State<Shared>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    admin(&caller)?;
    if name == caller.principal.name {
        return Err(ApiError::bad_request("you cannot delete yourself"));
    }
    state.db().delete_user(&caller.actor(), &name)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new password.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PasswordBody {
    /// At least 8 characters.
    pub password: String,
}

/// Set a password (admin, or the user themself; audited without the password).
#[utoipa::path(put, path = "/api/v1/users/{name}/password", tag = "admin", params(("name" = String, Path)), request_body = PasswordBody,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn set_password(
    State(state): State<Shared>,
    caller: Caller,
    Path(name): Path<String>,
    super::Json(body): super::Json<PasswordBody>,
) -> ApiResult<StatusCode> {
    admin_or_self(&caller, &name)?;
    blocking(move || Ok(state.db().set_password(&caller.actor(), &name, &body.password)?)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Tokens: all of them for an admin, one's own otherwise.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "admin", responses((status = 200, body = Vec<TokenInfo>)))]
pub async fn list_tokens(State(state): State<Shared>, caller: Caller) -> ApiResult<JsonOut<Vec<TokenInfo>>> {
    let p = &caller.principal;
    if p.role == Role::Ingest {
        return Err(ApiError::forbidden("your role (ingest) may not list tokens"));
    }
    let user = (p.role != Role::Admin).then_some(p.name.as_str());
    Ok(JsonOut(state.db().tokens(user)?))
}

/// A token to create.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewTokenBody {
    /// What it is for (`fluent-bit acme`).
    pub name: String,
    /// Owner (default: you; only an admin may create tokens for others).
    #[serde(default)]
    pub user: Option<String>,
    /// Role (default: the owner's); at most the owner's.
    #[serde(default)]
    pub role: Option<Role>,
    /// Tenants (default: the owner's); at most the owner's.
    #[serde(default)]
    pub tenants: Option<Vec<String>>,
    /// Expiry (RFC 3339); none: never.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// Create a token; the answer holds the secret, shown this once (audited).
#[utoipa::path(post, path = "/api/v1/tokens", tag = "admin", request_body = NewTokenBody,
    responses((status = 201, body = NewToken), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_token(
    State(state): State<Shared>,
    caller: Caller,
    super::Json(body): super::Json<NewTokenBody>,
) -> ApiResult<(StatusCode, JsonOut<NewToken>)> {
    let owner = body.user.clone().unwrap_or_else(|| caller.principal.name.clone());
    admin_or_self(&caller, &owner)?;
    if caller.principal.role == Role::Ingest {
        return Err(ApiError::forbidden("your role (ingest) may not create tokens"));
    }
    let mut db = state.db();
    let user = db
        .user(&owner)?
        .ok_or_else(|| ApiError::not_found(format!("no user {owner}")))?;
    let role = body.role.unwrap_or(user.role);
    let tenants = body
        .tenants
        .as_deref()
        .map(TenantAccess::from_list)
        .unwrap_or(user.tenants);
    // A non-admin's token never exceeds what the calling credential itself grants.
    if caller.principal.role != Role::Admin
        && (!caller.principal.role.includes(role) || !caller.principal.tenants.covers(&tenants))
    {
        return Err(ApiError::forbidden("a token cannot grant more than you have"));
    }
    let t = db.create_token(
        &caller.actor(),
        &owner,
        &body.name,
        role,
        &tenants,
        body.expires_at,
    )?;
    Ok((StatusCode::CREATED, JsonOut(t)))
}

/// Revoke a token (admin, or its owner; audited).
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "admin", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn revoke_token(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let mut db = state.db();
    let t = db
        .token(&id)?
        .ok_or_else(|| ApiError::not_found(format!("no token {id}")))?;
    if caller.principal.role != Role::Admin && t.user != caller.principal.name {
        return Err(ApiError::not_found(format!("no token {id}")));
    }
    db.revoke_token(&caller.actor(), &id)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Audit log filter.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AuditParams {
    /// Only objects equal to or under this (`acme`, `user/alice`).
    pub object: Option<String>,
    /// At most this many entries (default 100, at most 10,000).
    pub limit: Option<usize>,
}

/// The audit log, newest first (admin).
#[utoipa::path(get, path = "/api/v1/audit", tag = "admin", params(AuditParams),
    responses((status = 200, body = Vec<AuditEntry>), (status = 403, body = ErrorBody)))]
pub async fn audit(
    State(state): State<Shared>,
    caller: Caller,
    Query(q): Query<AuditParams>,
) -> ApiResult<JsonOut<Vec<AuditEntry>>> {
    admin(&caller)?;
    Ok(JsonOut(state.db().audit_log(
        q.object.as_deref(),
        q.limit.unwrap_or(100).min(10_000),
    )?))
}

/// Routes of this module.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/users", get(list_users).post(create_user))
        .route(
            "/users/{name}",
            get(get_user).patch(update_user).delete(delete_user),
        )
        .route("/users/{name}/password", put(set_password))
        .route("/tokens", get(list_tokens).post(create_token))
        .route("/tokens/{id}", delete(revoke_token))
        .route("/audit", get(audit))
}

//! Exclusions over the API: propose, approve (by another user), revoke,
//! list with their state and hits, and preview what one would hide.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json as JsonOut, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::{ApiError, ApiResult, ErrorBody, Shared, blocking};
use crate::access::{Action, authorize};
use crate::state::{AlertQuery, Exclusion, Role};

/// May the caller act on every tenant an exclusion covers?
fn check_scope(caller: &Caller, tenants: &[String], action: Action) -> ApiResult<()> {
    for t in tenants {
        if t == "*" {
            if caller.principal.role != Role::Admin
                && caller.principal.tenants != crate::state::TenantAccess::All
            {
                return Err(ApiError::forbidden(
                    "only a user with every tenant may scope an exclusion to all tenants",
                ));
            }
            authorize(&caller.principal, action, None)?;
        } else {
            authorize(&caller.principal, action, Some(t))?;
        }
    }
    Ok(())
}

fn visible(caller: &Caller, x: &Exclusion) -> bool {
    x.tenants
        .iter()
        .any(|t| t == "*" || caller.principal.tenants.allows(t))
}

/// Exclusions you may see: proposed, active, expired and revoked, with hit counts.
#[utoipa::path(get, path = "/api/v1/exclusions", tag = "exclusions",
    responses((status = 200, body = Vec<Exclusion>), (status = 403, body = ErrorBody)))]
pub async fn list_exclusions(
    State(state): State<Shared>,
    caller: Caller,
) -> ApiResult<JsonOut<Vec<Exclusion>>> {
    authorize(&caller.principal, Action::ReadConfig, None)?;
    let all = state.db().exclusions()?;
    Ok(JsonOut(all.into_iter().filter(|x| visible(&caller, x)).collect()))
}

/// A proposed exclusion.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewExclusion {
    /// Tenants (`["*"]`: all).
    pub tenants: Vec<String>,
    /// Rule ids (`["*"]`: all).
    pub rules: Vec<String>,
    /// Filter selecting the events whose detections are suppressed.
    pub filter: String,
    /// Why it is needed (10+ characters).
    pub reason: String,
    /// What could be missed because of it.
    pub risk: String,
    /// When it stops applying (at most 365 days ahead).
    pub expires_at: DateTime<Utc>,
}

/// Propose an exclusion; it applies once another user approves it (audited).
#[utoipa::path(post, path = "/api/v1/exclusions", tag = "exclusions", request_body = NewExclusion,
    responses((status = 201, body = Exclusion), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn propose_exclusion(
    State(state): State<Shared>,
    caller: Caller,
    super::Json(body): super::Json<NewExclusion>,
) -> ApiResult<(StatusCode, JsonOut<Exclusion>)> {
    check_scope(&caller, &body.tenants, Action::WriteConfig)?;
    let x = state.db().propose_exclusion(
        &caller.actor(),
        &body.tenants,
        &body.rules,
        &body.filter,
        &body.reason,
        &body.risk,
        body.expires_at,
    )?;
    Ok((StatusCode::CREATED, JsonOut(x)))
}

fn load(state: &Shared, caller: &Caller, id: i64) -> ApiResult<Exclusion> {
    state
        .db()
        .exclusion(id)?
        .filter(|x| visible(caller, x))
        .ok_or_else(|| ApiError::not_found(format!("no exclusion {id}")))
}

/// Approve an exclusion (not its owner; audited); it applies from now until it expires.
#[utoipa::path(post, path = "/api/v1/exclusions/{id}/approve", tag = "exclusions", params(("id" = i64, Path)),
    responses((status = 200, body = Exclusion), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn approve_exclusion(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<JsonOut<Exclusion>> {
    change(&state, &caller, id, crate::state::StateDb::approve_exclusion)
}

/// Revoke an exclusion (audited); it never applies again.
#[utoipa::path(delete, path = "/api/v1/exclusions/{id}", tag = "exclusions", params(("id" = i64, Path)),
    responses((status = 200, body = Exclusion), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_exclusion(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<JsonOut<Exclusion>> {
    change(&state, &caller, id, crate::state::StateDb::revoke_exclusion)
}

/// Apply a state change to an exclusion the caller may change, then reload the set in force.
fn change(
    state: &Shared,
    caller: &Caller,
    id: i64,
    step: fn(
        &mut crate::state::StateDb,
        &crate::state::Actor,
        i64,
    ) -> Result<Exclusion, crate::state::StateError>,
) -> ApiResult<JsonOut<Exclusion>> {
    let x = load(state, caller, id)?;
    check_scope(caller, &x.tenants, Action::WriteConfig)?;
    let x = step(&mut state.db(), &caller.actor(), id)?;
    state.reload_exclusions();
    Ok(JsonOut(x))
}

/// How far back a preview looks.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PreviewParams {
    /// Days of alerts to examine (default 7, at most 90).
    pub days: Option<i64>,
}

/// One alert an exclusion would have hidden (wholly or partly).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct HiddenAlert {
    /// Alert number.
    pub alert: i64,
    /// Tenant.
    pub tenant: String,
    /// Rule title.
    pub rule_title: String,
    /// What it is about.
    pub group_key: String,
    /// Events of the alert examined.
    pub events: u64,
    /// Of those, events the exclusion matches.
    pub hidden: u64,
}

/// What an exclusion would have hidden among the alerts of the last days.
#[utoipa::path(get, path = "/api/v1/exclusions/{id}/preview", tag = "exclusions", params(("id" = i64, Path), PreviewParams),
    responses((status = 200, body = Vec<HiddenAlert>), (status = 404, body = ErrorBody)))]
pub async fn preview_exclusion(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<i64>,
    Query(q): Query<PreviewParams>,
) -> ApiResult<JsonOut<Vec<HiddenAlert>>> {
    let x = load(&state, &caller, id)?;
    authorize(&caller.principal, Action::ReadConfig, None)?;
    let matcher = mamori_model::filter::parse(&x.filter)?.compile()?;
    let days = q.days.unwrap_or(7).clamp(1, 90);
    blocking(move || {
        let scoped = state.events.scoped(&caller.principal);
        let mut tenants: Vec<String> = if x.tenants.iter().any(|t| t == "*") {
            state.db().tenants()?
        } else {
            x.tenants.clone()
        };
        tenants.retain(|t| caller.principal.tenants.allows(t));
        let alerts = state.db().alerts(&AlertQuery {
            tenants,
            from: Some(Utc::now() - chrono::Duration::days(days)),
            limit: 500,
            ..AlertQuery::default()
        })?;
        let mut out = Vec::new();
        for a in alerts.into_iter().filter(|a| x.covers(&a.tenant, &a.rule_id)) {
            let mut hidden = 0;
            let mut events = 0;
            for id in &a.event_ids {
                if let Some(ev) = scoped.event(&a.tenant, id)? {
                    events += 1;
                    hidden += u64::from(matcher.matches(&ev));
                }
            }
            if hidden > 0 {
                out.push(HiddenAlert {
                    alert: a.id,
                    tenant: a.tenant,
                    rule_title: a.rule_title,
                    group_key: a.group_key,
                    events,
                    hidden,
                });
            }
        }
        Ok(JsonOut(out))
    })
    .await
}

/// Routes of this module.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/exclusions", get(list_exclusions).post(propose_exclusion))
        .route("/exclusions/{id}", axum::routing::delete(revoke_exclusion))
        .route("/exclusions/{id}/approve", post(approve_exclusion))
        .route("/exclusions/{id}/preview", get(preview_exclusion))
}

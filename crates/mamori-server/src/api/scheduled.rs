//! Scheduled rules over the API: list, create or replace, delete, run now.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json as JsonOut, Router};
use serde::Serialize;

use super::auth::Caller;
use super::{ApiError, ApiResult, ErrorBody, Shared, blocking};
use crate::access::{Action, authorize};
use crate::state::{Role, ScheduledRule, TenantAccess};

fn check_tenants(caller: &Caller, tenants: &[String], action: Action) -> ApiResult<()> {
    for t in tenants {
        if t == "*" {
            if caller.principal.role != Role::Admin && caller.principal.tenants != TenantAccess::All {
                return Err(ApiError::forbidden(
                    "only a user with every tenant may schedule a rule over all tenants",
                ));
            }
            authorize(&caller.principal, action, None)?;
        } else {
            authorize(&caller.principal, action, Some(t))?;
        }
    }
    Ok(())
}

/// Scheduled rules over tenants you may see.
#[utoipa::path(get, path = "/api/v1/scheduled-rules", tag = "rules", responses((status = 200, body = Vec<ScheduledRule>)))]
pub async fn list_scheduled(
    State(state): State<Shared>,
    caller: Caller,
) -> ApiResult<JsonOut<Vec<ScheduledRule>>> {
    authorize(&caller.principal, Action::ReadConfig, None)?;
    let all = state.db().scheduled_rules()?;
    Ok(JsonOut(
        all.into_iter()
            .filter(|r| {
                r.tenants
                    .iter()
                    .any(|t| t == "*" || caller.principal.tenants.allows(t))
            })
            .collect(),
    ))
}

/// Create or replace a scheduled rule (audited).
#[utoipa::path(put, path = "/api/v1/scheduled-rules/{name}", tag = "rules", params(("name" = String, Path)), request_body = ScheduledRule,
    responses((status = 200, body = ScheduledRule), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn put_scheduled(
    State(state): State<Shared>,
    caller: Caller,
    Path(name): Path<String>,
    super::Json(mut body): super::Json<ScheduledRule>,
) -> ApiResult<JsonOut<ScheduledRule>> {
    check_tenants(&caller, &body.tenants, Action::WriteConfig)?;
    if let Some(old) = state.db().scheduled_rule(&name)? {
        check_tenants(&caller, &old.tenants, Action::WriteConfig)?;
    }
    body.name = name;
    Ok(JsonOut(state.db().save_scheduled_rule(&caller.actor(), &body)?))
}

fn load(state: &Shared, caller: &Caller, name: &str) -> ApiResult<ScheduledRule> {
    state
        .db()
        .scheduled_rule(name)?
        .filter(|r| {
            r.tenants
                .iter()
                .any(|t| t == "*" || caller.principal.tenants.allows(t))
        })
        .ok_or_else(|| ApiError::not_found(format!("no scheduled rule {name}")))
}

/// Delete a scheduled rule (audited).
#[utoipa::path(delete, path = "/api/v1/scheduled-rules/{name}", tag = "rules", params(("name" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_scheduled(
    State(state): State<Shared>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    let r = load(&state, &caller, &name)?;
    check_tenants(&caller, &r.tenants, Action::WriteConfig)?;
    state.db().delete_scheduled_rule(&caller.actor(), &name)?;
    Ok(StatusCode::NO_CONTENT)
}

/// What a run found.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RunOut {
    /// Groups at or over the threshold (each raises or joins an alert).
    pub groups: usize,
}

/// Run a scheduled rule now.
#[utoipa::path(post, path = "/api/v1/scheduled-rules/{name}/run", tag = "rules", params(("name" = String, Path)),
    responses((status = 200, body = RunOut), (status = 404, body = ErrorBody)))]
pub async fn run_scheduled(
    State(state): State<Shared>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<JsonOut<RunOut>> {
    let r = load(&state, &caller, &name)?;
    check_tenants(&caller, &r.tenants, Action::WriteConfig)?;
    blocking(move || {
        let groups =
            crate::scheduler::run_rule(&state, &r, chrono::Utc::now()).map_err(ApiError::internal)?;
        Ok(JsonOut(RunOut { groups }))
    })
    .await
}

/// Routes of this module.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/scheduled-rules", get(list_scheduled))
        .route(
            "/scheduled-rules/{name}",
            axum::routing::put(put_scheduled).delete(delete_scheduled),
        )
        .route("/scheduled-rules/{name}/run", post(run_scheduled))
}

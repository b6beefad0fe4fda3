//! Alerts: the queue (filtered by tenant, status, level, rule, time), one
//! alert, and triage (status, close reason, assignee).

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json as JsonOut, Router};
use chrono::Utc;
use mamori_model::TimeRange;
use serde::Deserialize;

use super::auth::Caller;
use super::{ApiError, ApiResult, ErrorBody, Shared};
use crate::access::{Action, authorize};
use crate::state::{Alert, AlertQuery, AlertStatus, CloseReason};

/// Filters of the alert queue.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AlertParams {
    /// Tenants, comma-separated (default: all you may see).
    pub tenants: Option<String>,
    /// `new`, `acknowledged` or `closed`.
    pub status: Option<AlertStatus>,
    /// Severity.
    pub level: Option<String>,
    /// Rule id.
    pub rule: Option<String>,
    /// Last seen from (default `-30d`).
    pub from: Option<String>,
    /// Last seen before (default `now`).
    pub to: Option<String>,
    /// At most (default 200, at most 5,000).
    pub limit: Option<usize>,
}

/// The alert queue, most recently seen first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", params(AlertParams),
    responses((status = 200, body = Vec<Alert>), (status = 404, body = ErrorBody)))]
pub async fn list_alerts(
    State(state): State<Shared>,
    caller: Caller,
    Query(q): Query<AlertParams>,
) -> ApiResult<JsonOut<Vec<Alert>>> {
    let requested: Vec<String> = q
        .tenants
        .as_deref()
        .map(|t| {
            t.split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let scoped = state.events.scoped(&caller.principal);
    let mut tenants = scoped.tenants(&requested)?;
    if requested.is_empty() {
        tenants.extend(
            state
                .db()
                .tenants()?
                .into_iter()
                .filter(|t| caller.principal.tenants.allows(t)),
        );
        tenants.sort();
        tenants.dedup();
    }
    let range = TimeRange::parse(
        q.from.as_deref().unwrap_or("-30d"),
        q.to.as_deref().unwrap_or("now"),
        Utc::now(),
    )?;
    let query = AlertQuery {
        tenants,
        status: q.status,
        level: q.level,
        rule_id: q.rule,
        from: Some(range.from),
        to: Some(range.to),
        limit: q.limit.unwrap_or(200).min(5000),
    };
    Ok(JsonOut(state.db().alerts(&query)?))
}

fn visible(state: &Shared, caller: &Caller, id: i64, action: Action) -> ApiResult<Alert> {
    let alert = state
        .db()
        .alert(id)?
        .ok_or_else(|| ApiError::not_found(format!("no alert {id}")))?;
    authorize(&caller.principal, action, Some(&alert.tenant)).map_err(|e| match e {
        crate::access::Denied::UnknownTenant(_) => ApiError::not_found(format!("no alert {id}")),
        other => other.into(),
    })?;
    Ok(alert)
}

/// One alert.
#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "alerts", params(("id" = i64, Path)),
    responses((status = 200, body = Alert), (status = 404, body = ErrorBody)))]
pub async fn get_alert(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<i64>,
) -> ApiResult<JsonOut<Alert>> {
    Ok(JsonOut(visible(&state, &caller, id, Action::ReadEvents)?))
}

/// A triage step.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AlertChange {
    /// New status.
    #[serde(default)]
    pub status: Option<AlertStatus>,
    /// Why it is closed (required to close).
    #[serde(default)]
    pub reason: Option<CloseReason>,
    /// Who is on it (empty string: nobody).
    #[serde(default)]
    pub assignee: Option<String>,
}

/// Acknowledge, assign or close an alert (audited).
#[utoipa::path(patch, path = "/api/v1/alerts/{id}", tag = "alerts", params(("id" = i64, Path)), request_body = AlertChange,
    responses((status = 200, body = Alert), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_alert(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<i64>,
    super::Json(body): super::Json<AlertChange>,
) -> ApiResult<JsonOut<Alert>> {
    visible(&state, &caller, id, Action::WriteConfig)?;
    let assignee = body.assignee.map(|a| (!a.is_empty()).then_some(a));
    Ok(JsonOut(state.db().update_alert(
        &caller.actor(),
        id,
        body.status,
        body.reason,
        assignee,
    )?))
}

/// Routes of this module.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/alerts", get(list_alerts))
        .route("/alerts/{id}", get(get_alert).patch(update_alert))
}

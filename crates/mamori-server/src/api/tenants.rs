//! Tenants and their configuration: context lists, saved searches, sources.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json as JsonOut, Router};
use chrono::Utc;
use mamori_model::TimeRange;
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::{ApiError, ApiResult, ErrorBody, Shared, blocking};
use crate::access::{Action, authorize};
use crate::metrics::{ListenerCounters, SourceCounters};
use crate::sources::FeedHealth;
use crate::state::{ContextList, SavedSearch};

/// A tenant as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TenantOut {
    /// Name.
    pub name: String,
    /// Days of events kept (`null`: forever).
    pub retention_days: Option<u32>,
}

/// Tenants you may see (with events or configuration).
#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenants", responses((status = 200, body = Vec<TenantOut>)))]
pub async fn list_tenants(State(state): State<Shared>, caller: Caller) -> ApiResult<JsonOut<Vec<TenantOut>>> {
    blocking(move || {
        let p = &caller.principal;
        if !p.role.can_read() {
            return Err(ApiError::forbidden(format!(
                "your role ({}) may not read tenants",
                p.role
            )));
        }
        let mut names = state.events.scoped(p).visible_tenants()?;
        names.extend(state.db().tenants()?.into_iter().filter(|t| p.tenants.allows(t)));
        names.sort();
        names.dedup();
        let db = state.db();
        let mut out = Vec::new();
        for name in names {
            let retention_days = db.retention(&name)?;
            out.push(TenantOut { name, retention_days });
        }
        Ok(JsonOut(out))
    })
    .await
}

/// A new tenant.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewTenant {
    /// Name: lower-case letters, digits, `-`, `_`.
    pub name: String,
    /// Days of events to keep.
    #[serde(default)]
    pub retention_days: Option<u32>,
}

/// Create a tenant (admin).
#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants", request_body = NewTenant,
    responses((status = 201, body = TenantOut), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_tenant(
    State(state): State<Shared>,
    caller: Caller,
    super::Json(body): super::Json<NewTenant>,
) -> ApiResult<(StatusCode, JsonOut<TenantOut>)> {
    authorize(&caller.principal, Action::Administer, None)?;
    super::ingest::ensure_tenant(&state, &caller.actor(), &body.name)?;
    let mut db = state.db();
    if body.retention_days.is_some() {
        db.set_retention(&caller.actor(), &body.name, body.retention_days)?;
    }
    Ok((
        StatusCode::CREATED,
        JsonOut(TenantOut {
            name: body.name,
            retention_days: body.retention_days,
        }),
    ))
}

/// A tenant's context lists.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/context-lists", tag = "tenants",
    params(("tenant" = String, Path)), responses((status = 200, body = Vec<ContextList>), (status = 404, body = ErrorBody)))]
pub async fn list_context_lists(
    State(state): State<Shared>,
    caller: Caller,
    Path(tenant): Path<String>,
) -> ApiResult<JsonOut<Vec<ContextList>>> {
    authorize(&caller.principal, Action::ReadConfig, Some(&tenant))?;
    Ok(JsonOut(state.db().context_lists(&tenant)?))
}

/// One context list.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/context-lists/{name}", tag = "tenants",
    params(("tenant" = String, Path), ("name" = String, Path)), responses((status = 200, body = ContextList), (status = 404, body = ErrorBody)))]
pub async fn get_context_list(
    State(state): State<Shared>,
    caller: Caller,
    Path((tenant, name)): Path<(String, String)>,
) -> ApiResult<JsonOut<ContextList>> {
    authorize(&caller.principal, Action::ReadConfig, Some(&tenant))?;
    state
        .db()
        .context_list(&tenant, &name)?
        .map(JsonOut)
        .ok_or_else(|| ApiError::not_found(format!("no context list @{name} in {tenant}")))
}

/// New contents of a context list.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ContextListBody {
    /// Values; CIDR networks match addresses inside them.
    pub entries: Vec<String>,
    /// What the list holds and why.
    #[serde(default)]
    pub description: Option<String>,
}

/// Create or replace a context list (audited).
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/context-lists/{name}", tag = "tenants",
    params(("tenant" = String, Path), ("name" = String, Path)), request_body = ContextListBody,
    responses((status = 200, body = ContextList), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn put_context_list(
    State(state): State<Shared>,
    caller: Caller,
    Path((tenant, name)): Path<(String, String)>,
    super::Json(body): super::Json<ContextListBody>,
) -> ApiResult<JsonOut<ContextList>> {
    authorize(&caller.principal, Action::WriteConfig, Some(&tenant))?;
    Ok(JsonOut(state.db().set_context_list(
        &caller.actor(),
        &tenant,
        &name,
        &body.entries,
        body.description.as_deref(),
    )?))
}

/// Delete a context list (audited).
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/context-lists/{name}", tag = "tenants",
    params(("tenant" = String, Path), ("name" = String, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_context_list(
    State(state): State<Shared>,
    caller: Caller,
    Path((tenant, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    authorize(&caller.principal, Action::WriteConfig, Some(&tenant))?;
    state.db().delete_context_list(&caller.actor(), &tenant, &name)?;
    Ok(StatusCode::NO_CONTENT)
}

/// A tenant's saved searches.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/saved-searches", tag = "tenants",
    params(("tenant" = String, Path)), responses((status = 200, body = Vec<SavedSearch>), (status = 404, body = ErrorBody)))]
pub async fn list_saved(
    State(state): State<Shared>,
    caller: Caller,
    Path(tenant): Path<String>,
) -> ApiResult<JsonOut<Vec<SavedSearch>>> {
    authorize(&caller.principal, Action::ReadConfig, Some(&tenant))?;
    Ok(JsonOut(state.db().saved_searches(&tenant)?))
}

/// One saved search.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/saved-searches/{name}", tag = "tenants",
    params(("tenant" = String, Path), ("name" = String, Path)), responses((status = 200, body = SavedSearch), (status = 404, body = ErrorBody)))]
pub async fn get_saved(
    State(state): State<Shared>,
    caller: Caller,
    Path((tenant, name)): Path<(String, String)>,
) -> ApiResult<JsonOut<SavedSearch>> {
    authorize(&caller.principal, Action::ReadConfig, Some(&tenant))?;
    state
        .db()
        .saved_search(&tenant, &name)?
        .map(JsonOut)
        .ok_or_else(|| ApiError::not_found(format!("no saved search {name} in {tenant}")))
}

/// A search to save.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SavedBody {
    /// Filter text.
    pub query: String,
    /// Columns.
    #[serde(default)]
    pub columns: Vec<String>,
    /// Start (default `-24h`).
    #[serde(default)]
    pub from: Option<String>,
    /// End (default `now`).
    #[serde(default)]
    pub to: Option<String>,
}

/// Save (create or replace) a search (audited).
#[utoipa::path(put, path = "/api/v1/tenants/{tenant}/saved-searches/{name}", tag = "tenants",
    params(("tenant" = String, Path), ("name" = String, Path)), request_body = SavedBody,
    responses((status = 200, body = SavedSearch), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn put_saved(
    State(state): State<Shared>,
    caller: Caller,
    Path((tenant, name)): Path<(String, String)>,
    super::Json(body): super::Json<SavedBody>,
) -> ApiResult<JsonOut<SavedSearch>> {
    authorize(&caller.principal, Action::WriteConfig, Some(&tenant))?;
    mamori_model::filter::parse(&body.query)?;
    let s = SavedSearch {
        tenant: tenant.clone(),
        name: name.clone(),
        filter: body.query,
        columns: body.columns,
        from: body.from.unwrap_or_else(|| "-24h".into()),
        to: body.to.unwrap_or_else(|| "now".into()),
        owner: caller.principal.name.clone(),
        updated_at: String::new(),
    };
    let mut db = state.db();
    db.save_search(&caller.actor(), &s)?;
    db.saved_search(&tenant, &name)?
        .map(JsonOut)
        .ok_or_else(|| ApiError::internal("saved search vanished"))
}

/// Delete a saved search (audited).
#[utoipa::path(delete, path = "/api/v1/tenants/{tenant}/saved-searches/{name}", tag = "tenants",
    params(("tenant" = String, Path), ("name" = String, Path)), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_saved(
    State(state): State<Shared>,
    caller: Caller,
    Path((tenant, name)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    authorize(&caller.principal, Action::WriteConfig, Some(&tenant))?;
    state.db().delete_saved_search(&caller.actor(), &tenant, &name)?;
    Ok(StatusCode::NO_CONTENT)
}

/// Which feeds to look at.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SourcesParams {
    /// Field naming a feed (default `event.dataset`; `labels.source` for live sources, `host.name`, …).
    pub by: Option<String>,
    /// How far back (default `-7d`).
    pub from: Option<String>,
    /// Hours of silence that make a regular feed silent (default 6).
    pub silent_hours: Option<i64>,
}

/// Health of a tenant's feeds.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SourcesOut {
    /// Feeds from stored events (hourly histogram).
    pub feeds: Vec<FeedHealth>,
    /// Live counters of the server's sources since it started.
    pub live: BTreeMap<String, SourceCounters>,
    /// Counters of the syslog listeners that route to this tenant (messages,
    /// oversized, datagrams the kernel dropped), since the server started.
    pub listeners: Vec<ListenerCounters>,
}

/// Feed health (silent feeds flagged) and live source counters.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/sources", tag = "tenants",
    params(("tenant" = String, Path), SourcesParams), responses((status = 200, body = SourcesOut), (status = 404, body = ErrorBody)))]
pub async fn sources(
    State(state): State<Shared>,
    caller: Caller,
    Path(tenant): Path<String>,
    Query(q): Query<SourcesParams>,
) -> ApiResult<JsonOut<SourcesOut>> {
    let range = TimeRange::parse(q.from.as_deref().unwrap_or("-7d"), "now", Utc::now())?;
    blocking(move || {
        let feeds = state.events.scoped(&caller.principal).sources(
            &tenant,
            q.by.as_deref().unwrap_or("event.dataset"),
            range,
            q.silent_hours.unwrap_or(6),
        )?;
        Ok(JsonOut(SourcesOut {
            feeds,
            live: state.metrics.sources_of(&tenant),
            listeners: state.metrics.listeners_of(&tenant),
        }))
    })
    .await
}

/// Routes of this module.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/tenants", get(list_tenants).post(create_tenant))
        .route("/tenants/{tenant}/context-lists", get(list_context_lists))
        .route(
            "/tenants/{tenant}/context-lists/{name}",
            get(get_context_list)
                .put(put_context_list)
                .delete(delete_context_list),
        )
        .route("/tenants/{tenant}/saved-searches", get(list_saved))
        .route(
            "/tenants/{tenant}/saved-searches/{name}",
            get(get_saved).put(put_saved).delete(delete_saved),
        )
        .route("/tenants/{tenant}/sources", get(sources))
}

//! Rules over the API: the rules loaded, their Sigma source, switching them
//! on and off, and a backtest (what a rule would have found in stored
//! history, per tenant per day) before relying on it.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json as JsonOut, Router};
use chrono::Utc;
use mamori_model::TimeRange;
use mamori_store::{AggregateRequest, Aggregation, AggregationResult};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::{ApiError, ApiResult, ErrorBody, Shared, blocking};
use crate::access::{Action, authorize};

/// A rule as listed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RuleOut {
    /// Rule id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Severity.
    pub level: String,
    /// Sigma status (stable, test, experimental…).
    pub status: Option<String>,
    /// Tags as written.
    pub tags: Vec<String>,
    /// ATT&CK tactics.
    pub tactics: Vec<String>,
    /// ATT&CK techniques.
    pub techniques: Vec<String>,
    /// Whether it runs at ingest.
    pub enabled: bool,
    /// The filter it compiles to (log source and detection).
    pub filter: String,
    /// Known false positives.
    pub falsepositives: Vec<String>,
    /// Its file.
    pub path: Option<String>,
}

fn engine(state: &Shared) -> ApiResult<&crate::rules::RuleEngine> {
    state.rules.as_deref().ok_or_else(|| {
        ApiError::not_found("no detection rules are configured ([detection] rules in mamori.toml)")
    })
}

fn rule_out(r: &mamori_detect::Rule, enabled: bool) -> RuleOut {
    RuleOut {
        id: r.id.clone(),
        title: r.title.clone(),
        level: r.level.as_str().into(),
        status: r.status.clone(),
        tags: r.tags.clone(),
        tactics: r.attack.tactics.clone(),
        techniques: r.attack.techniques.clone(),
        enabled,
        filter: r.filter().to_string(),
        falsepositives: r.falsepositives.clone(),
        path: r.path.as_ref().map(|p| p.display().to_string()),
    }
}

fn find<'a>(state: &'a Shared, id: &str) -> ApiResult<&'a mamori_detect::Rule> {
    engine(state)?
        .rules()
        .iter()
        .find(|r| r.id == id)
        .map(|r| &**r)
        .ok_or_else(|| ApiError::not_found(format!("no rule {id}")))
}

/// The rules loaded, with whether each runs.
#[utoipa::path(get, path = "/api/v1/rules", tag = "rules", responses((status = 200, body = Vec<RuleOut>), (status = 404, body = ErrorBody)))]
pub async fn list_rules(State(state): State<Shared>, caller: Caller) -> ApiResult<JsonOut<Vec<RuleOut>>> {
    authorize(&caller.principal, Action::ReadConfig, None)?;
    let disabled = state.db().disabled_rules()?;
    Ok(JsonOut(
        engine(&state)?
            .rules()
            .iter()
            .map(|r| rule_out(r, !disabled.contains(&r.id)))
            .collect(),
    ))
}

/// A rule and its Sigma source.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RuleDetail {
    /// The rule.
    #[serde(flatten)]
    pub rule: RuleOut,
    /// The YAML it was read from.
    pub source: Option<String>,
}

/// One rule with its Sigma source.
#[utoipa::path(get, path = "/api/v1/rules/{id}", tag = "rules", params(("id" = String, Path)),
    responses((status = 200, body = RuleDetail), (status = 404, body = ErrorBody)))]
pub async fn get_rule(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<JsonOut<RuleDetail>> {
    authorize(&caller.principal, Action::ReadConfig, None)?;
    let disabled = state.db().disabled_rules()?;
    let r = find(&state, &id)?;
    let source = r.path.as_ref().and_then(|p| std::fs::read_to_string(p).ok());
    Ok(JsonOut(RuleDetail {
        rule: rule_out(r, !disabled.contains(&r.id)),
        source,
    }))
}

/// Switch a rule on or off.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RuleChange {
    /// Whether it runs at ingest.
    pub enabled: bool,
}

/// Switch a rule on or off (audited); applies to the next events.
#[utoipa::path(patch, path = "/api/v1/rules/{id}", tag = "rules", params(("id" = String, Path)), request_body = RuleChange,
    responses((status = 200, body = RuleOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_rule(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<String>,
    super::Json(body): super::Json<RuleChange>,
) -> ApiResult<JsonOut<RuleOut>> {
    authorize(&caller.principal, Action::WriteConfig, None)?;
    let out = rule_out(find(&state, &id)?, body.enabled);
    state.db().set_rule_enabled(&caller.actor(), &id, body.enabled)?;
    state.reload_exclusions();
    Ok(JsonOut(out))
}

/// Where to backtest.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct BacktestBody {
    /// Tenants (default: all you may see).
    #[serde(default)]
    pub tenants: Vec<String>,
    /// Start (default `-30d`).
    #[serde(default)]
    pub from: Option<String>,
    /// End (default `now`).
    #[serde(default)]
    pub to: Option<String>,
}

/// What a rule would have found.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BacktestOut {
    /// The filter run.
    pub filter: String,
    /// Matching events in the range.
    pub total: u64,
    /// Per tenant: day (YYYY-MM-DD) → matching events (days with none left out).
    pub per_tenant: BTreeMap<String, BTreeMap<String, u64>>,
}

/// Run a rule over stored history: matching events per tenant per day.
#[utoipa::path(post, path = "/api/v1/rules/{id}/backtest", tag = "rules", params(("id" = String, Path)), request_body = BacktestBody,
    responses((status = 200, body = BacktestOut), (status = 404, body = ErrorBody)))]
pub async fn backtest(
    State(state): State<Shared>,
    caller: Caller,
    Path(id): Path<String>,
    super::Json(body): super::Json<BacktestBody>,
) -> ApiResult<JsonOut<BacktestOut>> {
    let filter = find(&state, &id)?.filter();
    let range = TimeRange::parse(
        body.from.as_deref().unwrap_or("-30d"),
        body.to.as_deref().unwrap_or("now"),
        Utc::now(),
    )?;
    blocking(move || {
        let scoped = state.events.scoped(&caller.principal);
        let tenants = scoped.tenants(&body.tenants)?;
        let mut per_tenant = BTreeMap::new();
        let mut total = 0;
        for t in tenants {
            let res = scoped.aggregate(AggregateRequest {
                tenants: vec![t.clone()],
                filter: filter.clone(),
                range,
                aggregations: vec![Aggregation::DateHistogram {
                    interval_secs: Some(86_400),
                }],
            })?;
            total += res.total;
            let mut days = BTreeMap::new();
            if let Some(AggregationResult::DateHistogram { buckets, .. }) = res.results.first() {
                for b in buckets.iter().filter(|b| b.count > 0) {
                    days.insert(b.start.format("%Y-%m-%d").to_string(), b.count);
                }
            }
            per_tenant.insert(t, days);
        }
        Ok(JsonOut(BacktestOut {
            filter: filter.to_string(),
            total,
            per_tenant,
        }))
    })
    .await
}

/// Routes of this module.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/rules", get(list_rules))
        .route("/rules/{id}", get(get_rule).patch(update_rule))
        .route("/rules/{id}/backtest", post(backtest))
}

//! Source health: which of a tenant's log feeds are alive and which fell
//! silent (the customer device that stopped sending logs).

use chrono::{Duration, Utc};
use mamori_model::{Filter, TimeRange};
use mamori_store::{AggregateRequest, Aggregation, AggregationResult, EventStore, StoreError};

/// One feed's health.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct FeedHealth {
    /// The feed (value of `--by`).
    pub name: String,
    /// Events in the window.
    pub events: u64,
    /// Start of the last hour with events.
    pub last_seen: chrono::DateTime<Utc>,
    /// Share of hours with events, between the first and the last active hour.
    pub active_share: f64,
    /// Whether it stopped: no events for `silent_hours` though it used to send most hours.
    pub silent: bool,
}

/// Health of every feed of `tenant` over `range`, from an hourly histogram per feed.
pub fn health(
    store: &dyn EventStore,
    tenant: &str,
    by: &str,
    range: TimeRange,
    silent_hours: i64,
) -> Result<Vec<FeedHealth>, StoreError> {
    let res = store.aggregate(&AggregateRequest {
        tenants: vec![tenant.to_string()],
        filter: Filter::All,
        range,
        aggregations: vec![Aggregation::TermsHistogram {
            field: by.to_string(),
            size: 100,
            interval_secs: Some(3600),
        }],
    })?;
    let now = range.to.min(Utc::now());
    let mut out = Vec::new();
    if let Some(AggregationResult::TermsHistogram { series, .. }) = res.results.first() {
        for s in series {
            let active: Vec<_> = s.buckets.iter().filter(|b| b.count > 0).collect();
            let (Some(first), Some(last)) = (active.first(), active.last()) else {
                continue;
            };
            let span_hours = ((last.start - first.start).num_hours() + 1).max(1);
            let share = active.len() as f64 / span_hours as f64;
            let quiet_for = now - last.start - Duration::hours(1);
            out.push(FeedHealth {
                name: s.value.clone(),
                events: s.count,
                last_seen: last.start,
                active_share: share,
                silent: share >= 0.5 && span_hours >= 6 && quiet_for >= Duration::hours(silent_hours),
            });
        }
    }
    Ok(out)
}

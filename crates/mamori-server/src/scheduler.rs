//! The server's clock: every [`TICK`] it runs the scheduled rules that are
//! due (each over its window, per tenant, per group) and turns counts at or
//! above their threshold into alerts.

use std::time::Duration;

use chrono::{DateTime, Utc};
use mamori_model::filter::Pattern;
use mamori_model::{Filter, TimeRange};
use mamori_store::{AggregateRequest, Aggregation, AggregationResult, Order, SearchRequest};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::api::Shared;
use crate::state::scheduled::next_run;
use crate::state::{Detection, Principal, ScheduledRule, StateError};

/// How often due rules are looked for.
pub const TICK: Duration = Duration::from_secs(15);
/// Event ids kept per group.
const SAMPLE: usize = 100;

/// Start the scheduler; it runs until `stop` turns true.
pub fn spawn(state: Shared, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    let st = state.clone();
                    let _ = tokio::task::spawn_blocking(move || run_due(&st, Utc::now())).await;
                }
                _ = crate::syslog::stopped(&mut stop) => return,
            }
        }
    })
}

/// Run every enabled rule whose next run is due.
pub fn run_due(state: &Shared, now: DateTime<Utc>) {
    let rules = match state.db().scheduled_rules() {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "reading scheduled rules");
            return;
        }
    };
    for rule in rules.into_iter().filter(|r| r.enabled) {
        let due = rule
            .next_run
            .as_deref()
            .and_then(mamori_model::time::parse_instant)
            .is_none_or(|t| t <= now);
        if !due {
            continue;
        }
        match run_rule(state, &rule, now) {
            Ok(n) if n > 0 => tracing::info!(rule = %rule.name, groups = n, "scheduled rule fired"),
            Ok(_) => {}
            Err(e) => tracing::warn!(rule = %rule.name, error = %e, "scheduled rule failed"),
        }
        if let Ok(next) = next_run(&rule.schedule, now)
            && let Err(e) = state.db().mark_scheduled_run(&rule.name, now, next)
        {
            tracing::error!(rule = %rule.name, error = %e, "recording a scheduled run");
        }
    }
}

/// Run one rule now; returns how many groups reached the threshold (their alerts are recorded).
pub fn run_rule(state: &Shared, rule: &ScheduledRule, now: DateTime<Utc>) -> Result<usize, String> {
    let system = Principal::local("scheduler");
    let scoped = state.events.scoped(&system);
    let tenants: Vec<String> = if rule.tenants.iter().any(|t| t == "*") {
        scoped.visible_tenants().map_err(|e| e.to_string())?
    } else {
        rule.tenants.clone()
    };
    let range = TimeRange {
        from: now - chrono::Duration::seconds(rule.window_secs),
        to: now,
    };
    let attack = mamori_detect::Attack::from_tags(&rule.tags);
    let parsed = mamori_model::filter::parse(&rule.query).map_err(|e| e.to_string())?;
    let mut detections = Vec::new();
    let mut groups = 0;
    for tenant in tenants {
        let filter = state
            .db()
            .expand_lists(&tenant, parsed.clone())
            .map_err(|e: StateError| e.to_string())?;
        // (group key, filter of the group) for every group at or over the threshold
        let mut hot: Vec<(String, Filter)> = Vec::new();
        match &rule.group_by {
            Some(field) => {
                let res = scoped
                    .aggregate(AggregateRequest {
                        tenants: vec![tenant.clone()],
                        filter: filter.clone(),
                        range,
                        aggregations: vec![Aggregation::Terms {
                            field: field.clone(),
                            size: 1000,
                        }],
                    })
                    .map_err(|e| e.to_string())?;
                if let Some(AggregationResult::Terms { buckets, .. }) = res.results.first() {
                    for b in buckets.iter().filter(|b| b.count >= rule.threshold) {
                        let group = Filter::and(vec![
                            filter.clone(),
                            Filter::Match {
                                field: Some(field.clone()),
                                value: Pattern::Phrase(b.value.clone()),
                            },
                        ]);
                        hot.push((format!("{field}:{}", b.value), group));
                    }
                }
            }
            None => {
                let n = scoped
                    .count(std::slice::from_ref(&tenant), &filter, &range)
                    .map_err(|e| e.to_string())?;
                if n >= rule.threshold {
                    hot.push(("-".into(), filter.clone()));
                }
            }
        }
        for (key, group) in hot {
            groups += 1;
            let hits = scoped
                .search(SearchRequest {
                    tenants: vec![tenant.clone()],
                    filter: group,
                    range,
                    limit: SAMPLE,
                    offset: 0,
                    order: Order::NewestFirst,
                    sort: None,
                    after: None,
                })
                .map_err(|e| e.to_string())?;
            for h in hits.hits {
                detections.push(Detection {
                    tenant: tenant.clone(),
                    rule_id: format!("scheduled:{}", rule.name),
                    rule_title: rule.title.clone(),
                    level: rule.level.clone(),
                    tactics: attack.tactics.clone(),
                    techniques: attack.techniques.clone(),
                    group_key: key.clone(),
                    event_id: h.event.id().to_string(),
                    at: h.event.timestamp(),
                });
            }
        }
    }
    state
        .db()
        .record_detections(&detections)
        .map_err(|e| e.to_string())?;
    Ok(groups)
}

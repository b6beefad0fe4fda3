//! `mamori sources`: which of a tenant's log feeds are alive, and which
//! fell silent — the device that stopped sending logs.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use chrono::{Duration, SecondsFormat, Utc};
use clap::Args;
use mamori_model::{Filter, TimeRange};
use mamori_store::{AggregateRequest, Aggregation, AggregationResult, EventStore, LocalStore};

/// Arguments of `mamori sources`.
#[derive(Args, Debug)]
pub struct SourcesArgs {
    /// Tenant.
    #[arg(long)]
    pub tenant: String,
    /// The field that names a feed: `event.dataset`, `host.name`, `observer.hostname`, …
    #[arg(long, default_value = "event.dataset")]
    pub by: String,
    /// How far back to look.
    #[arg(long, default_value = "-7d", allow_hyphen_values = true)]
    pub from: String,
    /// A feed is silent when nothing came for this many hours while it used to send every hour.
    #[arg(long, default_value_t = 6)]
    pub silent_hours: i64,
}

/// One feed's health.
#[derive(Debug, Clone, PartialEq)]
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
) -> anyhow::Result<Vec<FeedHealth>> {
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

/// Run `mamori sources`.
pub fn run(data_dir: &Path, args: &SourcesArgs) -> anyhow::Result<ExitCode> {
    crate::ingest::require_data(data_dir)?;
    let store = LocalStore::open(crate::events_dir(data_dir))?;
    let range = TimeRange::parse(&args.from, "now", Utc::now())?;
    let feeds = health(&store, &args.tenant, &args.by, range, args.silent_hours)?;
    let out = std::io::stdout();
    let mut out = out.lock();
    writeln!(
        out,
        "{:<36} {:>10} {:>22} {:>8}  STATUS",
        args.by.to_uppercase(),
        "EVENTS",
        "LAST SEEN (hour)",
        "ACTIVE"
    )?;
    let mut silent = 0;
    for f in &feeds {
        let status = if f.silent {
            silent += 1;
            format!(
                "SILENT since {}",
                (f.last_seen + Duration::hours(1)).to_rfc3339_opts(SecondsFormat::Secs, true)
            )
        } else {
            "ok".to_string()
        };
        writeln!(
            out,
            "{:<36} {:>10} {:>22} {:>7.0}%  {status}",
            f.name,
            f.events,
            f.last_seen.to_rfc3339_opts(SecondsFormat::Secs, true),
            f.active_share * 100.0
        )?;
    }
    Ok(if silent > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

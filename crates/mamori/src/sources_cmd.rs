//! `mamori sources`: which of a tenant's log feeds are alive, and which
//! fell silent — the device that stopped sending logs.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use chrono::{Duration, SecondsFormat, Utc};
use clap::Args;
use mamori_model::TimeRange;
use mamori_server::sources::health;
use mamori_store::LocalStore;

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

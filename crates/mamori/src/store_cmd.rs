//! `mamori store`: what the embedded store holds, and retention.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use mamori_store::LocalStore;
use serde_json::json;

use crate::config_cmd::{cli_actor, state};

/// `mamori store …`
#[derive(Args, Debug)]
pub struct StoreArgs {
    #[command(subcommand)]
    cmd: StoreCmd,
}

#[derive(Subcommand, Debug)]
enum StoreCmd {
    /// Events, partitions, segments and bytes on disk per tenant.
    Stats {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Set a tenant's retention in days (0 keeps events forever).
    Retention { tenant: String, days: u32 },
    /// Delete whole day partitions older than each tenant's retention.
    ApplyRetention {
        /// Only say what would be deleted.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Run `mamori store`.
pub fn run(data_dir: &Path, args: &StoreArgs) -> anyhow::Result<ExitCode> {
    let out = std::io::stdout();
    let mut out = out.lock();
    match &args.cmd {
        StoreCmd::Stats { json } => {
            crate::ingest::require_data(data_dir)?;
            let store = LocalStore::open(crate::events_dir(data_dir))?;
            let stats = store.stats()?;
            if *json {
                writeln!(out, "{}", serde_json::to_string(&stats)?)?;
                return Ok(ExitCode::SUCCESS);
            }
            let db = state(data_dir)?;
            writeln!(
                out,
                "{:<20} {:>12} {:>10} {:>9} {:>12} {:>12} {:>6}  {:<23}  RETENTION",
                "TENANT", "EVENTS", "PARTITIONS", "SEGMENTS", "RAW", "DISK", "RATIO", "DAYS"
            )?;
            for s in stats {
                let ratio = if s.raw_bytes > 0 {
                    format!("{:.0}%", 100.0 * s.bytes as f64 / s.raw_bytes as f64)
                } else {
                    "-".into()
                };
                let days = match (s.oldest, s.newest) {
                    (Some(a), Some(b)) => format!("{a} .. {b}"),
                    _ => "-".into(),
                };
                let keep = db
                    .retention(&s.tenant)?
                    .map_or("forever".to_string(), |d| format!("{d} days"));
                writeln!(
                    out,
                    "{:<20} {:>12} {:>10} {:>9} {:>8.1} MiB {:>8.1} MiB {ratio:>6}  {days:<23}  {keep}",
                    s.tenant,
                    s.events,
                    s.partitions,
                    s.segments,
                    s.raw_bytes as f64 / 1_048_576.0,
                    s.bytes as f64 / 1_048_576.0
                )?;
            }
        }
        StoreCmd::Retention { tenant, days } => {
            mamori_store::validate_tenant(tenant)?;
            let mut db = state(data_dir)?;
            db.set_retention(&cli_actor(), tenant, (*days > 0).then_some(*days))?;
            writeln!(
                out,
                "{tenant} keeps {}",
                if *days > 0 {
                    format!("{days} days of events")
                } else {
                    "events forever".into()
                }
            )?;
        }
        StoreCmd::ApplyRetention { dry_run } => {
            crate::ingest::require_data(data_dir)?;
            let store = LocalStore::open(crate::events_dir(data_dir))?;
            let mut db = state(data_dir)?;
            for tenant in store.tenants()? {
                let Some(days) = db.retention(&tenant)? else {
                    continue;
                };
                let today = chrono::Utc::now().date_naive();
                let first_kept = today - chrono::Duration::days(i64::from(days) - 1);
                let cutoff = first_kept.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
                if *dry_run {
                    let old: Vec<String> = store
                        .stats()?
                        .into_iter()
                        .filter(|s| s.tenant == tenant && s.oldest.is_some_and(|o| o < first_kept))
                        .map(|s| {
                            format!(
                                "{} from {}",
                                s.tenant,
                                s.oldest.map(|d| d.to_string()).unwrap_or_default()
                            )
                        })
                        .collect();
                    writeln!(
                        out,
                        "{tenant}: would delete days before {first_kept} ({})",
                        old.join(", ")
                    )?;
                    continue;
                }
                let deleted = store.delete_before(&tenant, cutoff)?;
                if !deleted.is_empty() {
                    let days_txt: Vec<String> = deleted.iter().map(|d| d.to_string()).collect();
                    db.record(
                        &cli_actor(),
                        "store.retention_applied",
                        &tenant,
                        json!({ "deleted_days": days_txt }),
                    )?;
                }
                writeln!(
                    out,
                    "{tenant}: deleted {} day partitions before {first_kept}",
                    deleted.len()
                )?;
            }
            store.close()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

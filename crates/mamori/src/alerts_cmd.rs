//! `mamori alerts …`: the alert queue and triage from the command line
//! (the same state database the server and the API use).

use std::path::Path;
use std::process::ExitCode;

use chrono::Utc;
use clap::{Args, Subcommand};
use mamori_model::TimeRange;
use mamori_server::state::{AlertQuery, AlertStatus, CloseReason};

use crate::config_cmd::{cli_actor, state};

/// `mamori alerts …`
#[derive(Args, Debug)]
pub struct AlertsArgs {
    #[command(subcommand)]
    cmd: AlertsCmd,
}

#[derive(Subcommand, Debug)]
enum AlertsCmd {
    /// List alerts, most recently seen first.
    List {
        /// Tenants (repeatable; default: all).
        #[arg(long)]
        tenant: Vec<String>,
        /// new, acknowledged or closed.
        #[arg(long)]
        status: Option<String>,
        /// Severity.
        #[arg(long)]
        level: Option<String>,
        /// Last seen from.
        #[arg(long, default_value = "-30d", allow_hyphen_values = true)]
        from: String,
        /// At most.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Acknowledge, assign or close an alert.
    Set {
        /// Alert number.
        id: i64,
        /// new, acknowledged or closed.
        #[arg(long)]
        status: Option<String>,
        /// true_positive, benign, false_positive or duplicate (required to close).
        #[arg(long)]
        reason: Option<String>,
        /// Who is on it (`""`: nobody).
        #[arg(long)]
        assignee: Option<String>,
    },
}

/// Run `mamori alerts …`.
pub fn run(data_dir: &Path, args: &AlertsArgs) -> anyhow::Result<ExitCode> {
    let mut db = state(data_dir)?;
    match &args.cmd {
        AlertsCmd::List {
            tenant,
            status,
            level,
            from,
            limit,
            json,
        } => {
            let tenants = if tenant.is_empty() {
                db.alert_tenants()?
            } else {
                tenant.clone()
            };
            let range = TimeRange::parse(from, "now", Utc::now())?;
            let q = AlertQuery {
                tenants,
                status: status.as_deref().map(str::parse::<AlertStatus>).transpose()?,
                level: level.clone(),
                rule_id: None,
                from: Some(range.from),
                to: Some(range.to),
                limit: *limit,
            };
            let alerts = db.alerts(&q)?;
            if *json {
                for a in &alerts {
                    println!("{}", serde_json::to_string(a)?);
                }
            } else {
                println!(
                    "{:>5}  {:<10} {:<8} {:<12} {:>5}  {:<20}  {:<30} RULE",
                    "ID", "TENANT", "LEVEL", "STATUS", "COUNT", "LAST SEEN", "ABOUT"
                );
                for a in &alerts {
                    println!(
                        "{:>5}  {:<10} {:<8} {:<12} {:>5}  {:<20}  {:<30} {}",
                        a.id,
                        a.tenant,
                        a.level,
                        a.status,
                        a.count,
                        &a.last_seen[..a.last_seen.len().min(19)],
                        a.group_key,
                        a.rule_title
                    );
                }
                eprintln!("{} alerts", alerts.len());
            }
        }
        AlertsCmd::Set {
            id,
            status,
            reason,
            assignee,
        } => {
            let a = db.update_alert(
                &cli_actor(),
                *id,
                status.as_deref().map(str::parse::<AlertStatus>).transpose()?,
                reason.as_deref().map(str::parse::<CloseReason>).transpose()?,
                assignee.clone().map(|a| (!a.is_empty()).then_some(a)),
            )?;
            println!(
                "alert {} is {}{}",
                a.id,
                a.status,
                a.close_reason.map(|r| format!(" ({r})")).unwrap_or_default()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

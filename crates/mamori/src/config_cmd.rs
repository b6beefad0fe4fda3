//! `mamori context`, `mamori saved`, `mamori audit`: configuration kept in
//! the state database, every change audited.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use mamori_server::{Actor, SavedSearch, StateDb};

/// The person at the command line, for the audit log.
pub fn cli_actor() -> Actor {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    Actor {
        name: format!("cli:{user}"),
        origin: "cli".into(),
    }
}

/// Open the state database of a data directory.
pub fn state(data_dir: &Path) -> anyhow::Result<StateDb> {
    StateDb::open(data_dir).with_context(|| format!("opening the state database in {}", data_dir.display()))
}

/// `mamori context …`
#[derive(Args, Debug)]
pub struct ContextArgs {
    #[command(subcommand)]
    cmd: ContextCmd,
}

#[derive(Subcommand, Debug)]
enum ContextCmd {
    /// Create or replace a list: `mamori context set acme office 203.0.113.0/24 198.51.100.7`.
    Set {
        tenant: String,
        name: String,
        /// Values or CIDR networks.
        entries: Vec<String>,
        /// What the list holds and why.
        #[arg(long)]
        description: Option<String>,
    },
    /// Add entries to a list (created if absent).
    Add {
        tenant: String,
        name: String,
        entries: Vec<String>,
    },
    /// Remove entries from a list.
    Remove {
        tenant: String,
        name: String,
        entries: Vec<String>,
    },
    /// Delete a list.
    Delete { tenant: String, name: String },
    /// Show a tenant's lists (or one list).
    List { tenant: String, name: Option<String> },
}

/// Run `mamori context`.
pub fn context(data_dir: &Path, args: &ContextArgs) -> anyhow::Result<ExitCode> {
    let mut db = state(data_dir)?;
    let actor = cli_actor();
    let out = std::io::stdout();
    let mut out = out.lock();
    match &args.cmd {
        ContextCmd::Set {
            tenant,
            name,
            entries,
            description,
        } => {
            let l = db.set_context_list(&actor, tenant, name, entries, description.as_deref())?;
            writeln!(out, "@{} of {}: {} entries", l.name, l.tenant, l.entries.len())?;
        }
        ContextCmd::Add {
            tenant,
            name,
            entries,
        } => {
            let mut all = db
                .context_list(tenant, name)?
                .map(|l| l.entries)
                .unwrap_or_default();
            all.extend(entries.iter().cloned());
            let l = db.set_context_list(&actor, tenant, name, &all, None)?;
            writeln!(out, "@{} of {}: {} entries", l.name, l.tenant, l.entries.len())?;
        }
        ContextCmd::Remove {
            tenant,
            name,
            entries,
        } => {
            let Some(list) = db.context_list(tenant, name)? else {
                bail!("context list @{name} of {tenant} does not exist");
            };
            let keep: Vec<String> = list
                .entries
                .into_iter()
                .filter(|e| !entries.contains(e))
                .collect();
            let l = db.set_context_list(&actor, tenant, name, &keep, None)?;
            writeln!(out, "@{} of {}: {} entries", l.name, l.tenant, l.entries.len())?;
        }
        ContextCmd::Delete { tenant, name } => {
            db.delete_context_list(&actor, tenant, name)?;
            writeln!(out, "deleted @{name} of {tenant}")?;
        }
        ContextCmd::List { tenant, name } => {
            let lists = match name {
                Some(n) => db.context_list(tenant, n)?.into_iter().collect(),
                None => db.context_lists(tenant)?,
            };
            for l in lists {
                writeln!(
                    out,
                    "@{}  ({} entries; {}; changed {} by {})",
                    l.name,
                    l.entries.len(),
                    l.description,
                    l.updated_at,
                    l.updated_by
                )?;
                for e in &l.entries {
                    writeln!(out, "  {e}")?;
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `mamori saved …`
#[derive(Args, Debug)]
pub struct SavedArgs {
    #[command(subcommand)]
    cmd: SavedCmd,
}

#[derive(Subcommand, Debug)]
enum SavedCmd {
    /// Save a search: `mamori saved save acme failed-logins 'event.outcome:failure' --from -7d`.
    Save {
        tenant: String,
        name: String,
        filter: String,
        #[arg(long, default_value = "-24h", allow_hyphen_values = true)]
        from: String,
        #[arg(long, default_value = "now", allow_hyphen_values = true)]
        to: String,
        #[arg(long, value_delimiter = ',')]
        columns: Vec<String>,
    },
    /// List a tenant's saved searches.
    List { tenant: String },
    /// Delete a saved search.
    Delete { tenant: String, name: String },
}

/// Run `mamori saved`.
pub fn saved(data_dir: &Path, args: &SavedArgs) -> anyhow::Result<ExitCode> {
    let mut db = state(data_dir)?;
    let actor = cli_actor();
    let out = std::io::stdout();
    let mut out = out.lock();
    match &args.cmd {
        SavedCmd::Save {
            tenant,
            name,
            filter,
            from,
            to,
            columns,
        } => {
            mamori_model::TimeRange::parse(from, to, chrono::Utc::now())?;
            db.save_search(
                &actor,
                &SavedSearch {
                    tenant: tenant.clone(),
                    name: name.clone(),
                    filter: filter.clone(),
                    columns: columns.clone(),
                    from: from.clone(),
                    to: to.clone(),
                    owner: String::new(),
                    updated_at: String::new(),
                },
            )?;
            writeln!(
                out,
                "saved {name} for {tenant}; run it with: mamori search --tenant {tenant} --saved {name}"
            )?;
        }
        SavedCmd::List { tenant } => {
            for s in db.saved_searches(tenant)? {
                writeln!(
                    out,
                    "{}  [{} .. {}]  {}  (by {}, {})",
                    s.name, s.from, s.to, s.filter, s.owner, s.updated_at
                )?;
            }
        }
        SavedCmd::Delete { tenant, name } => {
            db.delete_saved_search(&actor, tenant, name)?;
            writeln!(out, "deleted {name} of {tenant}")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `mamori audit`
#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Only objects of this tenant (or `tenant/name`).
    #[arg(long)]
    object: Option<String>,
    /// Most entries to show.
    #[arg(long, default_value_t = 50)]
    limit: usize,
}

/// Run `mamori audit`.
pub fn audit(data_dir: &Path, args: &AuditArgs) -> anyhow::Result<ExitCode> {
    let db = state(data_dir)?;
    let out = std::io::stdout();
    let mut out = out.lock();
    for e in db.audit_log(args.object.as_deref(), args.limit)? {
        writeln!(
            out,
            "{}  {}  {}  {}  {}",
            e.at,
            e.actor,
            e.action,
            e.object,
            serde_json::json!({"before": e.before, "after": e.after})
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

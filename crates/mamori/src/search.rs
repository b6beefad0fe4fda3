//! `mamori search`: a filter and a time range over a tenant's events.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::bail;
use chrono::{SecondsFormat, Utc};
use clap::Args;
use mamori_model::{Event, Filter, TimeRange, filter};
use mamori_store::{EventStore, LocalStore, Order, SearchRequest};

/// Arguments of `mamori search`.
#[derive(Args, Debug)]
pub struct SearchArgs {
    /// Tenant to search.
    #[arg(long)]
    pub tenant: String,
    /// Start: relative (-15m, -24h, -7d), RFC 3339, or a date.
    #[arg(long, default_value = "-24h", allow_hyphen_values = true)]
    pub from: String,
    /// End: `now`, relative or absolute.
    #[arg(long, default_value = "now", allow_hyphen_values = true)]
    pub to: String,
    /// Most hits to print.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Hits to skip.
    #[arg(long, default_value_t = 0)]
    pub offset: usize,
    /// Oldest first instead of newest first.
    #[arg(long)]
    pub oldest_first: bool,
    /// Print events as NDJSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The filter (empty: every event).
    #[arg(default_value = "")]
    pub filter: String,
}

/// Parse a filter, or explain the mistake with a caret under its column.
pub fn parse_filter(text: &str) -> anyhow::Result<Filter> {
    filter::parse(text).map_err(|e| {
        let caret = " ".repeat(e.column.saturating_sub(1));
        anyhow::anyhow!("{e}\n  {text}\n  {caret}^")
    })
}

/// Run `mamori search`.
pub fn run(data_dir: &Path, args: &SearchArgs) -> anyhow::Result<ExitCode> {
    let filter = parse_filter(&args.filter)?;
    if let Some(name) = filter.list_refs().first() {
        bail!("context list @{name} is not defined (context lists arrive with `mamori context`)");
    }
    let range = TimeRange::parse(&args.from, &args.to, Utc::now())?;
    crate::ingest::require_data(data_dir)?;
    let store = LocalStore::open(crate::events_dir(data_dir))?;
    let req = SearchRequest {
        tenants: vec![args.tenant.clone()],
        filter: filter.clone(),
        range,
        limit: args.limit,
        offset: args.offset,
        order: if args.oldest_first {
            Order::OldestFirst
        } else {
            Order::NewestFirst
        },
    };
    let res = store.search(&req)?;
    let out = std::io::stdout();
    let mut out = out.lock();
    if args.json {
        for h in &res.hits {
            writeln!(out, "{}", h.event.to_json())?;
        }
    } else {
        print_table(&mut out, res.hits.iter().map(|h| &h.event))?;
    }
    out.flush()?;
    eprintln!(
        "{} of {} events ({} to {})",
        res.hits.len(),
        res.total,
        range.from.to_rfc3339_opts(SecondsFormat::Secs, true),
        range.to.to_rfc3339_opts(SecondsFormat::Secs, true)
    );
    if res.total == 0 {
        let all = store.count(std::slice::from_ref(&args.tenant), &filter, &TimeRange::all())?;
        if all > 0 {
            eprintln!(
                "hint: {all} matching events lie outside this time range; widen it with --from (e.g. --from 2000-01-01)"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The readable table: time, action, source, user, outcome.
pub fn print_table<'a>(out: &mut impl Write, events: impl Iterator<Item = &'a Event>) -> std::io::Result<()> {
    let rows: Vec<[String; 5]> = events
        .map(|e| {
            let source = e
                .source_ip()
                .or_else(|| e.get_str("source.address"))
                .unwrap_or("-");
            [
                e.timestamp().to_rfc3339_opts(SecondsFormat::Millis, true),
                e.action().unwrap_or("-").to_string(),
                source.to_string(),
                e.user_name().unwrap_or("-").to_string(),
                e.outcome().unwrap_or("-").to_string(),
            ]
        })
        .collect();
    let head = ["TIME", "ACTION", "SOURCE", "USER", "OUTCOME"];
    let mut width = head.map(str::len);
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count()).min(48);
        }
    }
    let line = |out: &mut dyn Write, cells: &[&str]| -> std::io::Result<()> {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            let cut: String = c.chars().take(width[i]).collect();
            s.push_str(&format!("{cut:<w$}  ", w = width[i]));
        }
        writeln!(out, "{}", s.trim_end())
    };
    line(out, &head)?;
    for r in &rows {
        line(out, &r.each_ref().map(String::as_str))?;
    }
    Ok(())
}

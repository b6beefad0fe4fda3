//! `mamori search`: a filter and a time range over a tenant's events.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::bail;
use chrono::{SecondsFormat, Utc};
use clap::Args;
use mamori_model::{Event, Filter, TimeRange, filter};
use mamori_store::{
    AggregateRequest, AggregateResponse, Aggregation, AggregationResult, Cursor, EventStore, FacetRequest,
    LocalStore, Order, SearchRequest, Sort,
};

/// Arguments of `mamori search`.
#[derive(Args, Debug, Clone)]
pub struct SearchArgs {
    /// Tenant to search.
    #[arg(long, required_unless_present = "tenants", conflicts_with = "tenants")]
    pub tenant: Option<String>,
    /// Several tenants at once (comma-separated); hits are labelled by tenant.
    #[arg(long, value_delimiter = ',')]
    pub tenants: Vec<String>,
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
    /// Sort by a field instead of by time: FIELD, FIELD:asc or FIELD:desc.
    #[arg(long)]
    pub sort: Option<String>,
    /// Continue after this cursor (printed after a full page).
    #[arg(long)]
    pub after: Option<String>,
    /// Print events as NDJSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Aggregate instead of listing: terms:FIELD[:N], histogram[:INTERVAL],
    /// stats:FIELD, cardinality:FIELD, terms-histogram:FIELD[:N] (repeatable).
    #[arg(long = "agg")]
    pub aggs: Vec<String>,
    /// Show the fields of the result set with their top values (Discover's sidebar).
    #[arg(long)]
    pub facets: bool,
    /// Write every matching event (not just a page) as `csv` or `ndjson` to stdout.
    #[arg(long, value_parser = ["csv", "ndjson"])]
    pub export: Option<String>,
    /// Columns of a CSV export (default: @timestamp, tenant, event.action, source.ip, user.name, event.outcome).
    #[arg(long, value_delimiter = ',')]
    pub columns: Vec<String>,
    /// Pivot from one event (by `event.id`): count the events sharing its access
    /// key, source IP, user, instance or host within ±`--window`.
    #[arg(long)]
    pub pivot: Option<String>,
    /// Half-width of the pivot window (e.g. 30m, 1h, 1d).
    #[arg(long, default_value = "1h")]
    pub window: String,
    /// Run a saved search (its filter, range and columns; flags given here win).
    #[arg(long)]
    pub saved: Option<String>,
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
    let tenants: Vec<String> = match &args.tenant {
        Some(t) => vec![t.clone()],
        None => args.tenants.clone(),
    };
    for t in &tenants {
        mamori_store::validate_tenant(t)?;
    }
    let mut args = args.clone();
    if let Some(name) = &args.saved {
        let db = crate::config_cmd::state(data_dir)?;
        let tenant = tenants.first().map(String::as_str).unwrap_or_default();
        let Some(saved) = db.saved_search(tenant, name)? else {
            bail!("no saved search `{name}` for {tenant} (see `mamori saved list {tenant}`)");
        };
        if args.filter.is_empty() {
            args.filter = saved.filter;
        }
        if args.from == "-24h" {
            args.from = saved.from;
        }
        if args.to == "now" {
            args.to = saved.to;
        }
        if args.columns.is_empty() {
            args.columns = saved.columns;
        }
    }
    let args = &args;
    if let Some(id) = &args.pivot {
        crate::ingest::require_data(data_dir)?;
        let store = LocalStore::open(crate::events_dir(data_dir))?;
        return pivot(&store, &tenants, id, &args.window);
    }
    let parsed = parse_filter(&args.filter)?;
    let range = TimeRange::parse(&args.from, &args.to, Utc::now())?;
    let filter = expand_for(data_dir, &tenants, parsed)?;
    crate::ingest::require_data(data_dir)?;
    let store = LocalStore::open(crate::events_dir(data_dir))?;
    let out = std::io::stdout();
    let mut out = out.lock();
    if !args.aggs.is_empty() {
        let aggregations = args
            .aggs
            .iter()
            .map(|a| parse_agg(a))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let res = store.aggregate(&AggregateRequest {
            tenants,
            filter,
            range,
            aggregations,
        })?;
        if args.json {
            writeln!(out, "{}", serde_json::to_string(&res)?)?;
        } else {
            print_aggregations(&mut out, &res)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.facets {
        let req = FacetRequest {
            tenants,
            filter,
            range,
            fields: Vec::new(),
            top: 5,
            sample: 10_000,
        };
        let f = mamori_store::facets::facets(&store, &req)?;
        if args.json {
            writeln!(out, "{}", serde_json::to_string(&f)?)?;
        } else {
            print_facets(&mut out, &f)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(kind) = &args.export {
        let columns = if args.columns.is_empty() {
            default_columns()
        } else {
            args.columns.clone()
        };
        let n = mamori_server::export::export(&store, &tenants, &filter, &range, kind, &columns, &mut out)?;
        out.flush()?;
        eprintln!("exported {n} events");
        return Ok(ExitCode::SUCCESS);
    }
    let req = SearchRequest {
        tenants: tenants.clone(),
        filter: filter.clone(),
        range,
        limit: args.limit,
        offset: args.offset,
        order: if args.oldest_first {
            Order::OldestFirst
        } else {
            Order::NewestFirst
        },
        sort: args.sort.as_deref().map(Sort::parse).transpose()?,
        after: args.after.as_deref().map(Cursor::decode).transpose()?,
    };
    let res = store.search(&req)?;
    if args.json {
        for h in &res.hits {
            writeln!(out, "{}", h.event.to_json())?;
        }
    } else {
        print_table(&mut out, res.hits.iter().map(|h| &h.event), tenants.len() > 1)?;
    }
    out.flush()?;
    eprintln!(
        "{} of {} events ({} to {})",
        res.hits.len(),
        res.total,
        range.from.to_rfc3339_opts(SecondsFormat::Secs, true),
        range.to.to_rfc3339_opts(SecondsFormat::Secs, true)
    );
    if res.hits.len() == args.limit
        && let Some(last) = res.hits.last()
    {
        eprintln!("next page: --after {}", last.cursor.encode());
    }
    if res.total == 0 {
        let all = store.count(&tenants, &filter, &TimeRange::all())?;
        if all > 0 {
            eprintln!(
                "hint: {all} matching events lie outside this time range; widen it with --from (e.g. --from 2000-01-01)"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn expand_for(data_dir: &Path, tenants: &[String], filter: Filter) -> anyhow::Result<Filter> {
    if filter.list_refs().is_empty() {
        return Ok(filter);
    }
    Ok(crate::config_cmd::state(data_dir)?.expand_for(tenants, filter)?)
}

/// `--pivot`: the pivots of one event with their counts, ready to paste.
fn pivot(store: &LocalStore, tenants: &[String], id: &str, window: &str) -> anyhow::Result<ExitCode> {
    let by_id = Filter::Match {
        field: Some("event.id".into()),
        value: mamori_model::filter::Pattern::Phrase(id.to_string()),
    };
    let found = store.search(&SearchRequest {
        tenants: tenants.to_vec(),
        filter: by_id,
        range: TimeRange::all(),
        limit: 1,
        offset: 0,
        order: Order::NewestFirst,
        sort: None,
        after: None,
    })?;
    let Some(hit) = found.hits.into_iter().next() else {
        bail!("no event with event.id {id} for {}", tenants.join(", "));
    };
    let ev = hit.event;
    let half = chrono::Duration::seconds(parse_interval(window)?);
    let out = std::io::stdout();
    let mut out = out.lock();
    writeln!(
        out,
        "pivots from {} at {} (±{window}):",
        ev.id(),
        ev.timestamp().to_rfc3339_opts(SecondsFormat::Secs, true)
    )?;
    for p in mamori_model::pivot::pivots(&ev, half) {
        let n = store.count(
            std::slice::from_ref(&ev.tenant().to_string()),
            &p.filter,
            &p.range,
        )?;
        writeln!(
            out,
            "  {:<16} {:>8} events   mamori search --tenant {} --from {} --to {} '{}'",
            p.name,
            n,
            ev.tenant(),
            p.range.from.to_rfc3339_opts(SecondsFormat::Secs, true),
            p.range.to.to_rfc3339_opts(SecondsFormat::Secs, true),
            p.filter
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

fn default_columns() -> Vec<String> {
    [
        "@timestamp",
        "tenant",
        "event.action",
        "source.ip",
        "user.name",
        "event.outcome",
    ]
    .map(String::from)
    .to_vec()
}

/// Parse `--agg` specs: `terms:FIELD[:N]`, `histogram[:INTERVAL]`, `stats:FIELD`,
/// `cardinality:FIELD`, `terms-histogram:FIELD[:N]`. Intervals: seconds or 30s, 5m, 1h, 1d.
pub fn parse_agg(spec: &str) -> anyhow::Result<Aggregation> {
    let parts: Vec<&str> = spec.split(':').collect();
    let size = |i: usize| -> anyhow::Result<usize> {
        parts.get(i).map_or(Ok(10), |n| {
            n.parse()
                .map_err(|_| anyhow::anyhow!("`{n}` in --agg {spec} is not a number"))
        })
    };
    let field = || -> anyhow::Result<String> {
        parts
            .get(1)
            .filter(|f| !f.is_empty())
            .map(|f| f.to_string())
            .ok_or_else(|| anyhow::anyhow!("--agg {spec} needs a field, e.g. {}:source.ip", parts[0]))
    };
    Ok(match parts[0] {
        "terms" => Aggregation::Terms {
            field: field()?,
            size: size(2)?,
        },
        "histogram" | "date_histogram" => Aggregation::DateHistogram {
            interval_secs: parts.get(1).map(|i| parse_interval(i)).transpose()?,
        },
        "stats" => Aggregation::Stats { field: field()? },
        "cardinality" => Aggregation::Cardinality { field: field()? },
        "terms-histogram" => Aggregation::TermsHistogram {
            field: field()?,
            size: size(2)?,
            interval_secs: None,
        },
        other => bail!(
            "unknown aggregation `{other}`: use terms, histogram, stats, cardinality or terms-histogram"
        ),
    })
}

fn parse_interval(text: &str) -> anyhow::Result<i64> {
    let (num, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| anyhow::anyhow!("interval `{text}`: use e.g. 30s, 5m, 1h, 1d"))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => bail!("interval `{text}`: use e.g. 30s, 5m, 1h, 1d"),
    };
    Ok((n * mult).max(1))
}

fn print_aggregations(out: &mut impl Write, res: &AggregateResponse) -> std::io::Result<()> {
    writeln!(out, "{} matching events", res.total)?;
    for r in &res.results {
        match r {
            AggregationResult::Terms {
                field,
                buckets,
                other,
            } => {
                writeln!(out, "\nterms of {field}:")?;
                for b in buckets {
                    writeln!(out, "  {:>10}  {}", b.count, b.value)?;
                }
                if *other > 0 {
                    writeln!(out, "  {other:>10}  (other values)")?;
                }
            }
            AggregationResult::DateHistogram {
                interval_secs,
                buckets,
            } => {
                writeln!(out, "\nhistogram, {interval_secs}s buckets:")?;
                let max = buckets.iter().map(|b| b.count).max().unwrap_or(0).max(1);
                for b in buckets {
                    let bar = "#".repeat((b.count * 40).div_ceil(max) as usize);
                    writeln!(
                        out,
                        "  {}  {:>8}  {bar}",
                        b.start.to_rfc3339_opts(SecondsFormat::Secs, true),
                        b.count
                    )?;
                }
            }
            AggregationResult::Stats {
                field,
                count,
                min,
                max,
                sum,
                avg,
            } => {
                let f = |v: &Option<f64>| v.map_or("-".to_string(), |x| x.to_string());
                writeln!(
                    out,
                    "\nstats of {field}: count {count}, min {}, max {}, sum {sum}, avg {}",
                    f(min),
                    f(max),
                    f(avg)
                )?;
            }
            AggregationResult::Cardinality { field, value } => {
                writeln!(out, "\ndistinct values of {field}: {value}")?;
            }
            AggregationResult::TermsHistogram {
                field,
                interval_secs,
                series,
            } => {
                writeln!(out, "\n{field} over time ({interval_secs}s buckets):")?;
                for s in series {
                    let spark: String = s
                        .buckets
                        .iter()
                        .map(|b| spark_char(b.count, &s.buckets))
                        .collect();
                    writeln!(out, "  {:>10}  {:<30}  {spark}", s.count, s.value)?;
                }
            }
        }
    }
    Ok(())
}

fn spark_char(n: u64, all: &[mamori_store::aggregate::TimeBucket]) -> char {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = all.iter().map(|b| b.count).max().unwrap_or(0);
    if n == 0 || max == 0 {
        ' '
    } else {
        BARS[((n * 7) / max) as usize]
    }
}

fn print_facets(out: &mut impl Write, f: &mamori_store::Facets) -> std::io::Result<()> {
    let basis = if f.sampled {
        format!("the newest {} of {} events", f.examined, f.total)
    } else {
        format!("all {} events", f.total)
    };
    writeln!(out, "fields of {basis}:")?;
    for field in &f.fields {
        let values_of = field.top_examined.unwrap_or(f.examined);
        let basis = match field.top_examined {
            Some(n) => format!(", values of the newest {n}"),
            None => String::new(),
        };
        writeln!(
            out,
            "\n{}  ({:.0}% of events, {} distinct{basis})",
            field.field,
            field.share * 100.0,
            field.distinct
        )?;
        for b in &field.top {
            let pct = if values_of > 0 {
                b.count as f64 * 100.0 / values_of as f64
            } else {
                0.0
            };
            writeln!(out, "  {pct:>5.1}%  {}", b.value)?;
        }
    }
    Ok(())
}

/// The readable table: time, action, source, user, outcome.
pub fn print_table<'a>(
    out: &mut impl Write,
    events: impl Iterator<Item = &'a Event>,
    with_tenant: bool,
) -> std::io::Result<()> {
    let rows: Vec<[String; 6]> = events
        .map(|e| {
            let source = e
                .source_ip()
                .or_else(|| e.get_str("source.address"))
                .unwrap_or("-");
            [
                e.timestamp().to_rfc3339_opts(SecondsFormat::Millis, true),
                e.tenant().to_string(),
                e.action().unwrap_or("-").to_string(),
                source.to_string(),
                e.user_name().unwrap_or("-").to_string(),
                e.outcome().unwrap_or("-").to_string(),
            ]
        })
        .collect();
    let head = ["TIME", "TENANT", "ACTION", "SOURCE", "USER", "OUTCOME"];
    let mut width = head.map(str::len);
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count()).min(48);
        }
    }
    let line = |out: &mut dyn Write, cells: &[&str]| -> std::io::Result<()> {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i == 1 && !with_tenant {
                continue;
            }
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

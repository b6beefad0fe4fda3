//! The investigation-search benchmark: a reproducible CloudTrail-like corpus
//! for several tenants over 30 days, ingested through the real pipeline, then
//! the queries an analyst runs, each beside a plain scan of the raw NDJSON
//! with `rg` (the reference), printed as tables.
//!
//! `cargo bench -p mamori --bench ingest_search`. Settings (environment):
//! `MAMORI_BENCH_EVENTS` (all tenants together, default 1,000,000; the issue's
//! target corpus is 10,000,000), `MAMORI_BENCH_TENANTS` (default 3),
//! `MAMORI_BENCH_DIR` (work folder, default a temporary one; the corpus needs
//! about 1.1 KB per event raw plus a third of that stored),
//! `MAMORI_BENCH_INGEST_ONLY` (stop after ingest), `MAMORI_BENCH_QUERY_ONLY`
//! (query the store an earlier run left in `MAMORI_BENCH_DIR`).
//!
//! Memory is measured per phase: the peak resident set is reset through
//! `/proc/self/clear_refs` before each phase and read from `VmHWM` after it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use mamori::corpus::{self, CorpusSpec};
use mamori_model::{Filter, TimeRange, filter};
use mamori_store::FacetSource;
use mamori_store::facets::facets;
use mamori_store::{AggregateRequest, Aggregation, EventStore, FacetRequest, LocalStore, SearchRequest};

#[global_allocator]
static GLOBAL: mamori::Allocator = mimalloc::MiMalloc;

/// Fields of the Discover page's sidebar.
const FACET_FIELDS: [&str; 10] = [
    "event.action",
    "event.provider",
    "event.outcome",
    "source.ip",
    "user.name",
    "cloud.region",
    "user_agent.original",
    "aws.cloudtrail.user_identity.access_key_id",
    "aws.cloudtrail.user_identity.type",
    "cloud.account.id",
];

fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--list") {
        return Ok(()); // `cargo test --benches` asks for a list; this bench is a program.
    }
    let n: u64 = env_number("MAMORI_BENCH_EVENTS", 1_000_000);
    let tenant_count = env_number("MAMORI_BENCH_TENANTS", 3).max(1) as usize;
    let tenants: Vec<String> = ["acme", "globex", "initech", "umbrella", "hooli"]
        .iter()
        .cycle()
        .take(tenant_count)
        .enumerate()
        .map(|(i, t)| if i < 5 { t.to_string() } else { format!("{t}{i}") })
        .collect();
    let _tmp;
    let work: PathBuf = match std::env::var_os("MAMORI_BENCH_DIR") {
        Some(d) => {
            let d = PathBuf::from(d);
            std::fs::create_dir_all(&d)?;
            d
        }
        None => {
            _tmp = tempfile::tempdir()?;
            _tmp.path().to_path_buf()
        }
    };

    // The corpus: one file per tenant, each its own seed.
    let t = Instant::now();
    let mut raws = Vec::new();
    for (i, tenant) in tenants.iter().enumerate() {
        let spec = CorpusSpec {
            seed: 42 + i as u64,
            events: n / tenant_count as u64,
            ..CorpusSpec::default_million()
        };
        let raw = work.join(format!("{tenant}.ndjson"));
        write_corpus(&raw, &spec)?;
        raws.push((tenant.clone(), raw, spec.events));
    }
    let n: u64 = raws.iter().map(|r| r.2).sum();
    let raw_bytes: u64 = raws
        .iter()
        .map(|r| std::fs::metadata(&r.1).map(|m| m.len()).unwrap_or(0))
        .sum();
    eprintln!(
        "generated {n} records for {tenant_count} tenants, {:.0} MiB in {:.1}s",
        raw_bytes as f64 / 1048576.0,
        t.elapsed().as_secs_f64()
    );

    let data = work.join("data");
    if std::env::var_os("MAMORI_BENCH_QUERY_ONLY").is_none() {
        ingest(&data, &raws, raw_bytes)?;
        if std::env::var_os("MAMORI_BENCH_INGEST_ONLY").is_some() {
            return Ok(());
        }
    }
    query(&data, &raws, &tenants, n)
}

/// Ingest every tenant's file into a new store in `data`, printing the ingest table.
fn ingest(data: &Path, raws: &[(String, PathBuf, u64)], raw_bytes: u64) -> anyhow::Result<()> {
    let n: u64 = raws.iter().map(|r| r.2).sum();
    let tenant_count = raws.len();
    let _ = std::fs::remove_dir_all(data);
    reset_peak_rss();
    let anon = AnonPeak::start();
    let store = LocalStore::open(mamori::events_dir(data))?;
    let cpu0 = cpu_seconds();
    let t = Instant::now();
    for (tenant, raw, events) in raws {
        let summary = mamori::ingest::ingest_paths(
            &store,
            data,
            std::slice::from_ref(raw),
            &mamori::ingest::IngestJob {
                tenant,
                format: None,
                commit_every: 200_000,
                progress: false,
                rules: None,
            },
        )?;
        assert_eq!(summary.stored.added, *events, "every record stored");
    }
    store.close()?;
    let ingest_wall = t.elapsed().as_secs_f64();
    let ingest_cpu = cpu_seconds() - cpu0;
    let ingest_rss = peak_rss_mib();
    let ingest_anon = anon.stop();
    drop(store);
    let stored_bytes = dir_size(&mamori::events_dir(data));
    let mut by_ext = std::collections::BTreeMap::new();
    sizes_by_extension(&mamori::events_dir(data), &mut by_ext);

    println!("\n| measure | value |\n|---|---|");
    println!("| events | {n} ({tenant_count} tenants, 30 days) |");
    println!(
        "| raw NDJSON | {:.1} MiB ({:.0} B/event) |",
        raw_bytes as f64 / 1048576.0,
        raw_bytes as f64 / n as f64
    );
    println!(
        "| ingest wall | {ingest_wall:.1} s = {:.0} events/s |",
        n as f64 / ingest_wall
    );
    println!(
        "| ingest CPU | {ingest_cpu:.1} s = {:.0} events/s per core, {:.2} cores busy |",
        n as f64 / ingest_cpu,
        ingest_cpu / ingest_wall
    );
    println!(
        "| stored (index + originals) | {:.1} MiB = {:.1}% of raw |",
        stored_bytes as f64 / 1048576.0,
        100.0 * stored_bytes as f64 / raw_bytes as f64
    );
    println!("| ingest peak RSS | {ingest_rss:.0} MiB |");
    println!(
        "| ingest peak anonymous memory (sampled every 50 ms; RSS also counts mapped index files) | {ingest_anon:.0} MiB |"
    );
    let parts: Vec<String> = by_ext
        .iter()
        .map(|(e, b)| format!("{e} {:.1}", *b as f64 / 1048576.0))
        .collect();
    println!("| stored by file kind (MiB) | {} |", parts.join(", "));
    Ok(())
}

/// Run the query set over the store in `data`, printing the query table.
fn query(data: &Path, raws: &[(String, PathBuf, u64)], tenants: &[String], n: u64) -> anyhow::Result<()> {
    let tenant_count = tenants.len();
    let tenants = tenants.to_vec();
    let store = LocalStore::open(mamori::events_dir(data))?;
    let files: Vec<&Path> = raws.iter().map(|r| r.1.as_path()).collect();
    let key = corpus::access_key(399);
    let ip = corpus::source_ip(4000);
    let mut rows = Vec::new();
    for (name, q, reference) in [
        (
            "needle: access key",
            format!("aws.cloudtrail.user_identity.access_key_id:{key}"),
            Some(format!("rg -c -F '{key}'")),
        ),
        (
            "needle: source ip",
            format!("source.ip:{ip}"),
            Some(format!("rg -c -F '\"{ip}\"'")),
        ),
        ("needle: bare word", key.clone(), None),
        ("keyword, many hits", "event.action:GetObject".into(), None),
        (
            "cidr and not",
            "source.ip:11.0.0.0/16 and not event.outcome:success".into(),
            None,
        ),
        ("wildcard prefix", "user.name:svc-app-1*".into(), None),
    ] {
        let req = SearchRequest::newest(tenants.clone(), filter::parse(&q)?, TimeRange::all(), 100);
        let (total, m) = measure(21, || Ok(store.search(&req)?.total))?;
        rows.push(Row::new(name, total, m, reference.map(|r| scan(&r, &files))));
    }

    // A Discover page: 100 newest hits + total, a date histogram and the
    // sidebar's facets for ten fields, for a filter matching ~10% of events.
    let discover = filter::parse("event.provider:s3.amazonaws.com or event.provider:ec2.amazonaws.com")?;
    let (total, m) = measure(11, || discover_page(&store, &tenants, &discover, Part::All))?;
    rows.push(Row::new(
        "Discover page (100 hits + count + histogram + 10 facets)",
        total,
        m,
        None,
    ));
    for (name, part) in [
        ("· its 100 hits + count", Part::Hits),
        ("· its date histogram", Part::Histogram),
        ("· its facets (10 fields, newest 10,000)", Part::Facets),
        (
            "· facets from Discover's sample size (newest 500)",
            Part::FacetsOf(500),
        ),
        (
            "· facets of every field (the web UI's sidebar, newest 10,000)",
            Part::FacetsOfAllFields,
        ),
    ] {
        let (total, m) = measure(11, || discover_page(&store, &tenants, &discover, part))?;
        rows.push(Row::new(name, total, m, None));
    }
    // The same facets counted from loaded events rather than from the index.
    let loading = LocalStore::open(mamori::events_dir(data))?.with_facets_from(FacetSource::Events);
    let (total, m) = measure(11, || discover_page(&loading, &tenants, &discover, Part::Facets))?;
    rows.push(Row::new(
        "· its facets from loaded events, not the index",
        total,
        m,
        None,
    ));

    // Terms top-10 over every event.
    let terms = AggregateRequest {
        tenants: tenants.clone(),
        filter: Filter::All,
        range: TimeRange::all(),
        aggregations: vec![Aggregation::Terms {
            field: "event.action".into(),
            size: 10,
        }],
    };
    let (_, m) = measure(11, || {
        store.aggregate(&terms)?;
        Ok(n)
    })?;
    rows.push(Row::new(
        "terms top-10 event.action, all events",
        n,
        m,
        Some(scan(
            "rg -o -N --no-filename '\"eventName\":\"[^\"]*\"' | sort | uniq -c | sort -rn | head -10",
            &files,
        )),
    ));

    println!(
        "\n| query (all {tenant_count} tenants) | hits | p50 ms | p95 ms | peak RSS MiB | plain scan with rg, ms |\n|---|---|---|---|---|---|"
    );
    for r in rows {
        println!(
            "| {} | {} | {:.2} | {:.2} | {:.0} | {} |",
            r.name,
            r.hits,
            r.p50,
            r.p95,
            r.rss,
            r.reference.map(|s| s.to_string()).unwrap_or_else(|| "–".into())
        );
    }
    Ok(())
}

/// A query's results in the table.
struct Row {
    name: String,
    hits: u64,
    p50: f64,
    p95: f64,
    rss: f64,
    reference: Option<Scan>,
}

impl Row {
    fn new(name: &str, hits: u64, m: Measured, reference: Option<Scan>) -> Self {
        Row {
            name: name.to_string(),
            hits,
            p50: m.p50,
            p95: m.p95,
            rss: m.rss,
            reference,
        }
    }
}

/// Latency percentiles (ms) and the peak RSS (MiB) of repeated runs.
struct Measured {
    p50: f64,
    p95: f64,
    rss: f64,
}

fn measure(runs: usize, mut f: impl FnMut() -> anyhow::Result<u64>) -> anyhow::Result<(u64, Measured)> {
    reset_peak_rss();
    let mut times = Vec::with_capacity(runs);
    let mut out = 0;
    for _ in 0..runs {
        let t = Instant::now();
        out = f()?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    Ok((
        out,
        Measured {
            p50: at(0.5),
            p95: at(0.95),
            rss: peak_rss_mib(),
        },
    ))
}

/// The parts of a Discover page, to time them alone.
#[derive(Clone, Copy, PartialEq)]
enum Part {
    All,
    Hits,
    Histogram,
    Facets,
    /// Facets from a sample of this many events.
    FacetsOf(usize),
    /// Facets of every field (the web UI's sidebar), newest 10,000.
    FacetsOfAllFields,
}

fn discover_page(store: &LocalStore, tenants: &[String], f: &Filter, part: Part) -> anyhow::Result<u64> {
    let range = TimeRange::all();
    let mut total = 0;
    if matches!(part, Part::All | Part::Hits) {
        total = store
            .search(&SearchRequest::newest(tenants.to_vec(), f.clone(), range, 100))?
            .total;
    }
    if matches!(part, Part::All | Part::Histogram) {
        discover_histogram(store, tenants, f)?;
    }
    let sample = match part {
        Part::FacetsOf(n) => n,
        _ => 10_000,
    };
    if matches!(
        part,
        Part::All | Part::Facets | Part::FacetsOf(_) | Part::FacetsOfAllFields
    ) {
        let found = facets(
            store,
            &FacetRequest {
                tenants: tenants.to_vec(),
                filter: f.clone(),
                range,
                fields: if matches!(part, Part::FacetsOfAllFields) {
                    Vec::new()
                } else {
                    FACET_FIELDS.iter().map(|s| s.to_string()).collect()
                },
                top: 5,
                sample,
            },
        )?;
        total = found.total;
    }
    Ok(total)
}

fn discover_histogram(store: &LocalStore, tenants: &[String], f: &Filter) -> anyhow::Result<()> {
    let range = TimeRange::all();
    store.aggregate(&AggregateRequest {
        tenants: tenants.to_vec(),
        filter: f.clone(),
        range,
        aggregations: vec![Aggregation::DateHistogram { interval_secs: None }],
    })?;
    Ok(())
}

/// A plain scan's wall time in ms, or why it did not run.
enum Scan {
    Ms(f64),
    Unavailable(&'static str),
}

impl std::fmt::Display for Scan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scan::Ms(ms) => write!(f, "{ms:.0}"),
            Scan::Unavailable(why) => f.write_str(why),
        }
    }
}

/// Time a shell pipeline over the raw files (best of three; page cache warm).
fn scan(pipeline: &str, files: &[&Path]) -> Scan {
    if Command::new("rg").arg("--version").output().is_err() {
        return Scan::Unavailable("rg not installed");
    }
    let args: Vec<String> = files.iter().map(|p| format!("'{}'", p.display())).collect();
    // The file arguments belong to the first command of the pipeline.
    let cmd = match pipeline.split_once(" | ") {
        Some((first, rest)) => format!("{first} {} | {rest}", args.join(" ")),
        None => format!("{pipeline} {}", args.join(" ")),
    };
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        match Command::new("sh").arg("-c").arg(&cmd).output() {
            Ok(o) if o.status.success() => {}
            _ => return Scan::Unavailable("scan failed"),
        }
        best = best.min(t.elapsed().as_secs_f64() * 1000.0);
    }
    Scan::Ms(best)
}

fn write_corpus(path: &Path, spec: &CorpusSpec) -> anyhow::Result<()> {
    use std::io::Write;
    if let Ok(m) = std::fs::metadata(path) {
        // Reuse a corpus of the same size from an earlier run in MAMORI_BENCH_DIR.
        let marker = path.with_extension("events");
        if m.len() > 0 && std::fs::read_to_string(&marker).ok() == Some(spec.events.to_string()) {
            return Ok(());
        }
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for line in corpus::records(spec) {
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    std::fs::write(path.with_extension("events"), spec.events.to_string())?;
    Ok(())
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    let path = e.path();
                    if path.is_dir() {
                        dir_size(&path)
                    } else {
                        e.metadata().map(|m| m.len()).unwrap_or(0)
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

fn sizes_by_extension(p: &Path, out: &mut std::collections::BTreeMap<String, u64>) {
    for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
        let path = e.path();
        if path.is_dir() {
            sizes_by_extension(&path, out);
        } else {
            let ext = path
                .extension()
                .and_then(|x| x.to_str())
                .unwrap_or("other")
                .to_string();
            *out.entry(ext).or_default() += e.metadata().map(|m| m.len()).unwrap_or(0);
        }
    }
}

/// User + system CPU seconds of this process (all threads), from /proc.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// Start a new peak-RSS measurement (Linux: "5" resets VmHWM).
/// The peak of the process's anonymous resident memory (`RssAnon`), sampled
/// by a thread: the heap, without the index files tantivy maps while merging
/// and looking up ids, which RSS counts too.
struct AnonPeak {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<f64>,
}

impl AnonPeak {
    fn start() -> Self {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut peak: f64 = 0.0;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(status_mib("RssAnon:"));
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            peak
        });
        AnonPeak { stop, thread }
    }

    fn stop(self) -> f64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.join().unwrap_or(0.0)
    }
}

fn status_mib(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_rss_mib() -> f64 {
    status_mib("VmHWM:")
}

//! Ingest throughput of CloudTrail records and needle-search latency.
//!
//! `cargo bench -p mamori --bench ingest_search` (events: `MAMORI_BENCH_EVENTS`,
//! default 1,000,000). Generates a reproducible corpus (see `mamori::corpus`),
//! ingests it through the real pipeline (NDJSON parse → CloudTrail ECS mapping
//! → tantivy → commit) and times searches, printing a table.

use std::path::Path;
use std::time::Instant;

use mamori::corpus::{self, CorpusSpec};
use mamori_model::{TimeRange, filter};
use mamori_store::{EventStore, LocalStore, Order, SearchRequest};

#[global_allocator]
static GLOBAL: mamori::Allocator = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--list") {
        return Ok(()); // `cargo test --benches` asks for a list; this bench is a program.
    }
    let n: u64 = std::env::var("MAMORI_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let spec = CorpusSpec {
        events: n,
        ..CorpusSpec::default_million()
    };
    let work = tempfile::tempdir()?;
    let raw = work.path().join("cloudtrail.ndjson");
    let t = Instant::now();
    {
        use std::io::Write;
        let mut out = std::io::BufWriter::new(std::fs::File::create(&raw)?);
        for line in corpus::records(&spec) {
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
        }
    }
    let raw_bytes = std::fs::metadata(&raw)?.len();
    eprintln!(
        "generated {n} records, {:.0} MiB in {:.1}s",
        raw_bytes as f64 / 1048576.0,
        t.elapsed().as_secs_f64()
    );

    let data = work.path().join("data");
    let store = LocalStore::open(mamori::events_dir(&data))?;
    let cpu0 = cpu_seconds();
    let t = Instant::now();
    let summary = mamori::ingest::ingest_paths(
        &store,
        &data,
        std::slice::from_ref(&raw),
        &mamori::ingest::IngestJob {
            tenant: "acme",
            format: None,
            commit_every: 200_000,
            progress: false,
            rules: None,
        },
    )?;
    store.close()?;
    let ingest_wall = t.elapsed().as_secs_f64();
    let ingest_cpu = cpu_seconds() - cpu0;
    assert_eq!(summary.stored.added, n, "every record stored");
    let stored_bytes = dir_size(&mamori::events_dir(&data));
    let mut by_ext = std::collections::BTreeMap::new();
    sizes_by_extension(&mamori::events_dir(&data), &mut by_ext);
    drop(store);

    if std::env::var_os("MAMORI_BENCH_INGEST_ONLY").is_some() {
        println!(
            "ingest: {:.0} events/s wall, {:.0} events/s per core",
            n as f64 / ingest_wall,
            n as f64 / ingest_cpu
        );
        println!(
            "stored {:.1}% of raw: {by_ext:?}",
            100.0 * stored_bytes as f64 / raw_bytes as f64
        );
        return Ok(());
    }
    let store = LocalStore::open(mamori::events_dir(&data))?;
    let key = corpus::access_key(399);
    let queries = [
        (
            "needle: access key",
            format!("aws.cloudtrail.user_identity.access_key_id:{key}"),
        ),
        (
            "needle: source ip",
            format!("source.ip:{}", corpus::source_ip(4000)),
        ),
        ("needle: bare word", key.clone()),
        ("keyword, many hits", "event.action:GetObject".to_string()),
        (
            "cidr and not",
            "source.ip:11.0.0.0/16 and not event.outcome:success".to_string(),
        ),
        ("wildcard prefix", "user.name:svc-app-1*".to_string()),
    ];
    let mut rows = Vec::new();
    for (name, q) in &queries {
        let f = filter::parse(q)?;
        let req = SearchRequest {
            tenants: vec!["acme".into()],
            filter: f,
            range: TimeRange::all(),
            limit: 100,
            offset: 0,
            order: Order::NewestFirst,
            sort: None,
            after: None,
        };
        let mut times = Vec::new();
        let mut total = 0;
        for _ in 0..21 {
            let t = Instant::now();
            total = store.search(&req)?.total;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        rows.push((name.to_string(), total, times[10], times[19]));
    }

    println!("\n| measure | value |\n|---|---|");
    println!("| events | {n} |");
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
        "| ingest CPU | {ingest_cpu:.1} s = {:.0} events/s per core |",
        n as f64 / ingest_cpu
    );
    println!(
        "| stored (index + originals) | {:.1} MiB = {:.1}% of raw |",
        stored_bytes as f64 / 1048576.0,
        100.0 * stored_bytes as f64 / raw_bytes as f64
    );
    println!("| peak RSS | {:.0} MiB |", peak_rss_kib() as f64 / 1024.0);
    let parts: Vec<String> = by_ext
        .iter()
        .map(|(e, b)| format!("{e} {:.1}", *b as f64 / 1048576.0))
        .collect();
    println!("| stored by file kind (MiB) | {} |", parts.join(", "));
    println!(
        "\n| query (first 100 hits, newest first, + total) | hits | p50 ms | p95 ms |\n|---|---|---|---|"
    );
    for (name, total, p50, p95) in rows {
        println!("| {name} | {total} | {p50:.2} | {p95:.2} |");
    }
    Ok(())
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

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

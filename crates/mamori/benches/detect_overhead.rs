//! What streaming detection adds to ingest: `cargo bench -p mamori --bench detect_overhead`.
//!
//! Ingests, through the real path (`mamori::ingest::ingest_paths`: parse → ECS
//! mapping → detection → tantivy → commit → alerts):
//!
//! 1. CloudTrail: a generated corpus of `MAMORI_BENCH_EVENTS` records
//!    (default 300,000; see `mamori::corpus`; ../shared/data/aws holds too few);
//! 2. every EVTX file of ../shared/data/evtx;
//!
//! each without rules and with the whole SigmaHQ rule set (rules,
//! rules-emerging-threats, rules-threat-hunting), alternating, for
//! `MAMORI_BENCH_ROUNDS` rounds (default 3), each round into a fresh data
//! directory whose state database exists already (as it does in use).
//! Wall times on a shared machine are noisy, so the rules' own cost is also
//! measured apart: `RuleEngine::detections_except` over the input's first
//! 50,000 events, batch by batch on one thread (CPU µs/event), and that cost
//! as a share of the ingest's CPU time without rules.
//! `MAMORI_BENCH_ONLY=cloudtrail|evtx` runs one input. Prints the median wall
//! and CPU time (all threads) and the overhead of detection; the target is
//! at most +30% wall. Skips (with a message) when ../shared/data/sigma is absent.

use std::path::{Path, PathBuf};
use std::time::Instant;

use mamori::corpus::{self, CorpusSpec};
use mamori::ingest::{IngestJob, ingest_paths};
use mamori_formats::{Item, ParseContext, open_and_sniff, parse};
use mamori_model::Event;
use mamori_server::rules::{DETECT_BATCH, Suppressions};
use mamori_server::rules::{DetectionConfig, RuleEngine};
use mamori_store::LocalStore;

#[global_allocator]
static GLOBAL: mamori::Allocator = mimalloc::MiMalloc;

/// Target: detection adds at most this share to the ingest wall time.
const TARGET_OVERHEAD: f64 = 0.30;

fn shared() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    dir.join("sigma").exists().then_some(dir)
}

/// CPU seconds used by this process so far (user + system, all threads; Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU seconds used by the calling thread so far (Linux).
fn thread_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// The first `limit` events of `paths`.
fn events_of(paths: &[PathBuf], limit: usize) -> Vec<Event> {
    let mut out = Vec::new();
    for p in paths {
        let Ok((format, input)) = open_and_sniff(p) else {
            continue;
        };
        let ctx = ParseContext::new("acme", p.display().to_string());
        for item in parse(format, input, &ctx) {
            if out.len() >= limit {
                return out;
            }
            if let Item::Event(ev) = item {
                out.push(*ev);
            }
        }
    }
    out
}

/// CPU µs per event of the rules alone: batch by batch, on this thread.
fn detect_cost(engine: &RuleEngine, events: &[Event]) -> f64 {
    let none = Suppressions::default();
    let cpu0 = thread_cpu_seconds();
    let mut found = 0;
    for batch in events.chunks(DETECT_BATCH) {
        found += engine.detections_except(batch, &none).0.len();
    }
    std::hint::black_box(found);
    (thread_cpu_seconds() - cpu0) * 1e6 / events.len().max(1) as f64
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One ingest run.
#[derive(Debug, Clone, Copy)]
struct Run {
    wall: f64,
    cpu: f64,
    events: u64,
    detections: u64,
}

/// Ingest `inputs` into a fresh data directory, with `rules` or without.
fn ingest(inputs: &[PathBuf], rules: Option<&RuleEngine>) -> anyhow::Result<Run> {
    let work = tempfile::tempdir()?;
    let data = work.path().join("data");
    // An existing data directory: creating the state database is not ingest's cost.
    drop(mamori_server::StateDb::open(&data)?);
    let store = LocalStore::open(mamori::events_dir(&data))?;
    let cpu0 = cpu_seconds();
    let t = Instant::now();
    let summary = ingest_paths(
        &store,
        &data,
        inputs,
        &IngestJob {
            tenant: "acme",
            format: None,
            commit_every: 200_000,
            progress: false,
            rules,
        },
    )?;
    store.close()?;
    Ok(Run {
        wall: t.elapsed().as_secs_f64(),
        cpu: cpu_seconds() - cpu0,
        events: summary.events,
        detections: summary.detections,
    })
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// The medians of several runs (events and detections from the last).
fn summarize(runs: &[Run]) -> Run {
    let last = runs[runs.len() - 1];
    Run {
        wall: median(runs.iter().map(|r| r.wall).collect()),
        cpu: median(runs.iter().map(|r| r.cpu).collect()),
        ..last
    }
}

fn main() -> anyhow::Result<()> {
    if std::env::args().any(|a| a == "--list") {
        return Ok(()); // `cargo test --benches` asks for a list; this bench is a program.
    }
    let Some(data) = shared() else {
        println!("skipped: ../shared/data/sigma not present");
        return Ok(());
    };
    let rounds = env_number("MAMORI_BENCH_ROUNDS", 3).max(1) as usize;
    let n = env_number("MAMORI_BENCH_EVENTS", 300_000);

    let t = Instant::now();
    let sigma = data.join("sigma");
    let engine = RuleEngine::load(&DetectionConfig {
        rules: ["rules", "rules-emerging-threats", "rules-threat-hunting"]
            .iter()
            .map(|s| sigma.join(s))
            .collect(),
        mappings: Vec::new(),
    })
    .map_err(|e| anyhow::anyhow!(e))?
    .ok_or_else(|| anyhow::anyhow!("no rules under {}", sigma.display()))?;
    let load = t.elapsed().as_secs_f64();

    let work = tempfile::tempdir()?;
    let cloudtrail = work.path().join("cloudtrail.ndjson");
    if std::env::var("MAMORI_BENCH_ONLY").as_deref() != Ok("evtx") {
        use std::io::Write;
        let spec = CorpusSpec {
            events: n,
            ..CorpusSpec::default_million()
        };
        let mut out = std::io::BufWriter::new(std::fs::File::create(&cloudtrail)?);
        for line in corpus::records(&spec) {
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
        }
    }
    let only = std::env::var("MAMORI_BENCH_ONLY").unwrap_or_default();
    let mut inputs: Vec<(&str, Vec<PathBuf>)> = Vec::new();
    if only.is_empty() || only == "cloudtrail" {
        inputs.push(("CloudTrail (generated)", vec![cloudtrail]));
    }
    let evtx = mamori::ingest::expand_paths(&[data.join("evtx")]).unwrap_or_default();
    let evtx: Vec<PathBuf> = evtx
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("evtx")))
        .collect();
    if (only.is_empty() || only == "evtx") && !evtx.is_empty() {
        inputs.push(("EVTX (../shared/data/evtx)", evtx));
    }

    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    println!(
        "detect_overhead: {} SigmaHQ rules ({} refused) loaded in {load:.2} s; {cores} cores; median of {rounds} rounds",
        engine.rule_count(),
        engine.errors.len()
    );
    println!(
        "| input | events | rules | wall s | CPU s | events/s (wall) | detections | overhead wall | overhead CPU |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut worst: f64 = 0.0;
    let mut costs = Vec::new();
    for (name, paths) in &inputs {
        let (mut without, mut with) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            // Alternate which goes first, so warm caches favour neither.
            if round % 2 == 0 {
                without.push(ingest(paths, None)?);
                with.push(ingest(paths, Some(&engine))?);
            } else {
                with.push(ingest(paths, Some(&engine))?);
                without.push(ingest(paths, None)?);
            }
        }
        let (a, b) = (summarize(&without), summarize(&with));
        let sample = events_of(paths, 50_000);
        let us = detect_cost(&engine, &sample);
        costs.push((name, sample.len(), us, us * a.events as f64 / 1e6 / a.cpu));
        let wall_over = b.wall / a.wall - 1.0;
        let cpu_over = b.cpu / a.cpu - 1.0;
        worst = worst.max(wall_over);
        for (r, rules, over) in [(a, "none", None), (b, "SigmaHQ", Some((wall_over, cpu_over)))] {
            let (ow, oc) = over.map_or(("".to_string(), "".to_string()), |(w, c)| {
                (format!("{:+.1}%", w * 100.0), format!("{:+.1}%", c * 100.0))
            });
            println!(
                "| {name} | {} | {rules} | {:.2} | {:.2} | {:.0} | {} | {ow} | {oc} |",
                r.events,
                r.wall,
                r.cpu,
                r.events as f64 / r.wall,
                r.detections
            );
        }
    }
    println!(
        "\n| input | events timed | rules' CPU µs/event (one thread) | share of ingest CPU without rules |"
    );
    println!("|---|---|---|---|");
    for (name, n, us, share) in costs {
        println!("| {name} | {n} | {us:.1} | {:.1}% |", share * 100.0);
    }
    println!(
        "worst wall overhead {:+.1}% (target at most {:+.0}%): {}",
        worst * 100.0,
        TARGET_OVERHEAD * 100.0,
        if worst <= TARGET_OVERHEAD {
            "met"
        } else {
            "NOT met"
        }
    );
    Ok(())
}

//! Hunt speed: `cargo bench -p mamori --bench hunt`.
//!
//! 1. `mamori hunt` over ../shared/data/evtx with every SigmaHQ Windows rule
//!    (rules, rules-emerging-threats, rules-threat-hunting): rule-load time,
//!    wall time, events/s, detections and peak RSS.
//! 2. `Detector::detect` alone with the whole SigmaHQ rule set, µs per event,
//!    on the EVTX events and on CloudTrail events (../shared/data/aws).
//!
//! Skips (with a message) when ../shared/data is absent.

use std::path::{Path, PathBuf};
use std::time::Instant;

use mamori::hunt_cmd::{hunt_files, load_rules};
use mamori::ingest::expand_paths;
use mamori_detect::Detector;
use mamori_formats::{Item, ParseContext, open_and_sniff, parse};
use mamori_model::Event;

#[global_allocator]
static GLOBAL: mamori::Allocator = mimalloc::MiMalloc;

fn shared() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    dir.join("sigma").exists().then_some(dir)
}

/// Peak resident set size of this process, in MiB (Linux).
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn events_of(paths: &[PathBuf]) -> Vec<Event> {
    let mut out = Vec::new();
    for p in paths {
        let Ok((format, input)) = open_and_sniff(p) else {
            continue;
        };
        let ctx = ParseContext::new("bench", p.display().to_string());
        out.extend(parse(format, input, &ctx).filter_map(|i| match i {
            Item::Event(ev) => Some(*ev),
            _ => None,
        }));
    }
    out
}

fn per_event(detector: &Detector, events: &[Event]) -> (f64, usize) {
    let mut hits = 0;
    let rounds = (20_000 / events.len().max(1)).max(1);
    let start = Instant::now();
    for _ in 0..rounds {
        for ev in events {
            hits += detector.detect(ev).len();
        }
    }
    let us = start.elapsed().as_secs_f64() * 1e6 / (rounds * events.len()).max(1) as f64;
    (us, hits / rounds)
}

fn main() {
    let Some(data) = shared() else {
        println!("skipped: ../shared/data/sigma not present");
        return;
    };
    let sigma = data.join("sigma");
    let windows: Vec<PathBuf> = [
        "rules/windows",
        "rules-emerging-threats",
        "rules-threat-hunting/windows",
    ]
    .iter()
    .map(|s| sigma.join(s))
    .collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());

    // 1. The hunt, as `mamori hunt --rules … ../shared/data/evtx` runs it.
    let t0 = Instant::now();
    let (mut set, _) = load_rules(&windows, &[]).expect("rules");
    set.retain(|r| r.logsource.product.as_deref() == Some("windows"));
    let n_rules = set.rules.len();
    let detector = Detector::new(set.rules);
    let load = t0.elapsed();
    let files = expand_paths(&[data.join("evtx")]).expect("evtx folder");
    let t1 = Instant::now();
    let report = hunt_files(&detector, &files, threads, &Default::default());
    let scan = t1.elapsed();
    let wall = t0.elapsed();
    let stats = detector.stats();
    println!(
        "hunt: {} SigmaHQ Windows rules over ../shared/data/evtx ({threads} threads)",
        n_rules
    );
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| rules loaded + indexed | {n_rules} in {:.2} s |",
        load.as_secs_f64()
    );
    println!(
        "| literals in the prefilter / unindexed rules | {} / {} |",
        stats.literals, stats.unindexed
    );
    println!("| files / events | {} / {} |", report.files, report.events);
    println!("| scan time | {:.2} s |", scan.as_secs_f64());
    println!(
        "| events/s (scan) | {:.0} |",
        report.events as f64 / scan.as_secs_f64()
    );
    println!("| wall (load + scan) | {:.2} s |", wall.as_secs_f64());
    println!("| detections / rules fired | {} / {} |", report.hits.len(), {
        let mut ids: Vec<&str> = report.hits.iter().map(|h| h.rule.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    });
    println!("| peak RSS | {:.0} MiB |", peak_rss_mib());

    // 2. Detector::detect alone, every SigmaHQ rule loaded.
    let all_dirs: Vec<PathBuf> = ["rules", "rules-emerging-threats", "rules-threat-hunting"]
        .iter()
        .map(|s| sigma.join(s))
        .collect();
    let t2 = Instant::now();
    let (all, _) = load_rules(&all_dirs, &[]).expect("rules");
    let n_all = all.rules.len();
    let full = Detector::new(all.rules);
    let load_all = t2.elapsed();
    let evtx_events = events_of(&files);
    let aws_files = expand_paths(&[data.join("aws")]).unwrap_or_default();
    let aws_events = events_of(&aws_files);
    println!(
        "\ndetect: every SigmaHQ rule ({n_all}, loaded in {:.2} s), one thread",
        load_all.as_secs_f64()
    );
    println!("| events | count | µs/event | matches |");
    println!("|---|---|---|---|");
    for (name, evs) in [("EVTX", &evtx_events), ("CloudTrail", &aws_events)] {
        if evs.is_empty() {
            println!("| {name} | 0 | – | – |");
            continue;
        }
        let (us, hits) = per_event(&full, evs);
        println!("| {name} | {} | {us:.1} | {hits} |", evs.len());
    }
    println!("| peak RSS so far | {:.0} MiB | | |", peak_rss_mib());
}

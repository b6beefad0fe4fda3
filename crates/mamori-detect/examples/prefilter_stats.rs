//! How well the prefilter narrows the rules: `cargo run --release -p mamori-detect --example prefilter_stats -- RULES_DIR LOGS_DIR`.

use std::path::PathBuf;
use std::time::Instant;

use mamori_detect::{Detector, Mappings, RuleSet};
use mamori_formats::{Item, ParseContext, open_and_sniff, parse};

fn main() {
    let args: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    let [rules, logs] = args.as_slice() else {
        eprintln!("usage: prefilter_stats RULES_DIR LOGS_DIR");
        return;
    };
    let rss = || {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_string))
            .unwrap_or_default()
    };
    let t = Instant::now();
    let set = RuleSet::load_dir(rules, &Mappings::builtin()).expect("rules");
    println!("loaded in {:.2?}, {}", t.elapsed(), rss());
    let t = Instant::now();
    let det = Detector::new(set.rules);
    println!("detector in {:.2?}, {}", t.elapsed(), rss());
    println!("{:?}", det.stats());
    let mut events = Vec::new();
    let mut stack = vec![logs.clone()];
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            stack.extend(std::fs::read_dir(&p).unwrap().flatten().map(|e| e.path()));
            continue;
        }
        let Ok((f, input)) = open_and_sniff(&p) else {
            continue;
        };
        let ctx = ParseContext::new("t", p.display().to_string());
        events.extend(parse(f, input, &ctx).filter_map(|i| match i {
            Item::Event(e) => Some(*e),
            _ => None,
        }));
    }
    let t = Instant::now();
    let mut cands = 0;
    let mut per_rule = vec![0usize; det.rules().len()];
    for ev in &events {
        let c = det.candidates(ev);
        cands += c.len();
        for i in c {
            per_rule[i] += 1;
        }
    }
    let tc = t.elapsed();
    let t = Instant::now();
    let hits: usize = events.iter().map(|e| det.detect(e).len()).sum();
    let td = t.elapsed();
    println!(
        "{} events, {:.1} candidates/event, candidates {:.1} µs/event, detect {:.1} µs/event, {hits} hits",
        events.len(),
        cands as f64 / events.len() as f64,
        tc.as_secs_f64() * 1e6 / events.len() as f64,
        td.as_secs_f64() * 1e6 / events.len() as f64
    );
    let mut top: Vec<(usize, usize)> = per_rule.into_iter().enumerate().collect();
    top.sort_by_key(|t| std::cmp::Reverse(t.1));
    for (i, n) in top.into_iter().take(25) {
        let r = &det.rules()[i];
        println!(
            "{n:>6} {} | {}",
            r.title,
            r.filter().to_string().chars().take(200).collect::<String>()
        );
    }
}

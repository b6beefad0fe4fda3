//! Parser throughput per format: `cargo bench -p mamori-formats --bench parse`.
//!
//! Each text format's input is built from this crate's own fixtures, the
//! data lines repeated to about 32 MiB behind the header; EVTX uses the files
//! under ../shared/data/evtx when present. Prints MB/s and events/s per
//! format, single-threaded for text formats (EVTX uses all cores, as in
//! production).

use std::io::Cursor;
use std::path::Path;
use std::time::Instant;

use mamori_formats::{Format, Item, ParseContext, parse};

const TARGET: usize = 32 << 20;

/// (format, fixture, number of header lines kept once)
const CASES: &[(&str, &str, usize)] = &[
    ("weblog", "weblog_combined.log", 0),
    ("iis", "iis_w3c.log", 4),
    ("alb", "alb.log", 0),
    ("cloudfront", "cloudfront.log", 2),
    ("vpcflow", "vpcflow_default.log", 0),
    ("vpcflow", "vpcflow_custom.log", 1),
    ("syslog", "syslog_mixed.log", 0),
    ("cef", "cef_samples.cef", 0),
    ("leef", "leef_samples.leef", 0),
    ("kv", "kv_samples.log", 0),
    ("zeek", "zeek_conn.log", 8),
    ("zeek", "zeek.json", 0),
    ("suricata", "suricata_eve.json", 0),
    ("csv", "table.csv", 1),
];

fn build(fixture: &str, header: usize) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(fixture);
    let text = std::fs::read_to_string(&path).expect("fixture");
    let lines: Vec<&str> = text.lines().collect();
    let (head, body) = lines.split_at(header.min(lines.len()));
    // Keep only body lines that are data (skip `#close` and other trailers).
    let body: Vec<&str> = body
        .iter()
        .copied()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    let mut out = head.join("\n").into_bytes();
    if !out.is_empty() {
        out.push(b'\n');
    }
    while out.len() < TARGET && !body.is_empty() {
        for l in &body {
            out.extend_from_slice(l.as_bytes());
            out.push(b'\n');
        }
    }
    out
}

fn run(format: Format, input: Vec<u8>) -> (usize, u64, u64, f64) {
    let bytes = input.len();
    let ctx = ParseContext::new("bench", "bench");
    let t = Instant::now();
    let (mut events, mut bad) = (0u64, 0u64);
    for item in parse(format, Box::new(Cursor::new(input)), &ctx) {
        match item {
            Item::Event(_) => events += 1,
            Item::Bad(_) => bad += 1,
            Item::Warning(_) => {}
        }
    }
    (bytes, events, bad, t.elapsed().as_secs_f64())
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!("| format | input | MB/s | events/s | events | bad |\n|---|---|---|---|---|---|");
    for (name, fixture, header) in CASES {
        let format = Format::from_name(name).expect("registered format");
        let (bytes, events, bad, secs) = run(format, build(fixture, *header));
        println!(
            "| {name} | {fixture} | {:.0} | {:.0} | {events} | {bad} |",
            bytes as f64 / 1e6 / secs,
            events as f64 / secs
        );
    }
    let evtx = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/evtx");
    let mut files = Vec::new();
    collect(&evtx, &mut files);
    if files.is_empty() {
        println!("| evtx | skipped: ../shared/data/evtx not present | | | | |");
        return;
    }
    let (mut bytes, mut events, mut bad, mut secs) = (0, 0, 0, 0.0);
    for f in &files {
        let (b, e, x, s) = run(
            Format::from_name("evtx").expect("evtx"),
            std::fs::read(f).expect("readable"),
        );
        bytes += b;
        events += e;
        bad += x;
        secs += s;
    }
    println!(
        "| evtx | {} files under shared/data/evtx | {:.0} | {:.0} | {events} | {bad} |",
        files.len(),
        bytes as f64 / 1e6 / secs,
        events as f64 / secs
    );
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().and_then(|x| x.to_str()) == Some("evtx") {
            out.push(p);
        }
    }
}

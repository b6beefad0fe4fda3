//! Parser throughput per format: `cargo bench -p mamori-formats --bench parse`.
//!
//! Each text format's input is built from this crate's own fixtures, the
//! data lines repeated to about 32 MiB behind the header; EVTX uses the files
//! under ../shared/data/evtx when present. Prints MB/s and events/s per
//! format, single-threaded for text formats (EVTX uses all cores, as in
//! production), and, for reference, the `evtx` crate's own JSON dump of the
//! same files (`chunks_json_bytes`, what its `evtx_dump` does, and
//! `records_json`, one `String` per record as Mamori asks for them).
//!
//! Runs with mimalloc, the allocator of the `mamori` binary.
//!
//! Options (after `--`): `--only NAME` runs the rows whose format or input
//! contains NAME (`--only weblog`, `--only evtx` for Mamori's EVTX row and
//! the crate's, `--only "evtx crate"` for the crate's alone); `--bytes N`
//! sizes each text input to about N bytes (`--bytes 1000000` for profiling
//! runs).

use std::io::Cursor;
use std::path::Path;
use std::time::Instant;

use mamori_formats::{Format, Item, ParseContext, parse};

/// The allocator of the `mamori` binary, so that the numbers are the ones
/// production sees (allocation is a large part of building events).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TARGET: usize = 32 << 20;

/// Command-line options.
struct Options {
    only: Option<String>,
    bytes: usize,
}

impl Options {
    fn from_args() -> Self {
        let mut o = Options {
            only: None,
            bytes: TARGET,
        };
        let mut args = std::env::args().skip(1);
        while let Some(a) = args.next() {
            match a.as_str() {
                "--only" => o.only = args.next(),
                "--bytes" => {
                    o.bytes = args
                        .next()
                        .and_then(|n| n.replace('_', "").parse().ok())
                        .expect("--bytes takes a number")
                }
                _ => {}
            }
        }
        o
    }

    fn wants(&self, row: &str, input: &str) -> bool {
        self.only
            .as_deref()
            .is_none_or(|n| row.contains(n) || input.contains(n))
    }
}

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
    ("auditd", "auditd.log", 0),
    ("squid", "squid_access.log", 0),
    ("weberror", "web_error.log", 0),
    ("zeek", "zeek_conn.log", 8),
    ("zeek", "zeek.json", 0),
    ("suricata", "suricata_eve.json", 0),
    ("csv", "table.csv", 1),
];

fn build(fixture: &str, header: usize, target: usize) -> Vec<u8> {
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
    while out.len() < target && !body.is_empty() {
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
    let opts = Options::from_args();
    println!("| format | input | MB/s | events/s | events | bad |\n|---|---|---|---|---|---|");
    for (name, fixture, header) in CASES {
        if !opts.wants(name, fixture) {
            continue;
        }
        let format = Format::from_name(name).expect("registered format");
        let (bytes, events, bad, secs) = run(format, build(fixture, *header, opts.bytes));
        row(name, fixture, bytes, events, bad, secs);
    }
    const CRATE_ROWS: [&str; 2] = [
        "evtx crate: chunks_json_bytes (evtx_dump)",
        "evtx crate: records_json",
    ];
    if !opts.wants("evtx", "") && !CRATE_ROWS.iter().any(|r| opts.wants(r, "")) {
        return;
    }
    let evtx = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/evtx");
    let mut files = Vec::new();
    collect(&evtx, &mut files);
    if files.is_empty() {
        println!("| evtx | skipped: ../shared/data/evtx not present | | | | |");
        return;
    }
    files.sort();
    let inputs: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(f).expect("readable"))
        .collect();
    let what = format!("{} files under shared/data/evtx", files.len());
    if opts.wants("evtx", "") {
        let (mut bytes, mut events, mut bad, mut secs) = (0, 0, 0, 0.0);
        for input in &inputs {
            let (b, e, x, s) = run(Format::from_name("evtx").expect("evtx"), input.clone());
            bytes += b;
            events += e;
            bad += x;
            secs += s;
        }
        row("evtx", &what, bytes, events, bad, secs);
    }
    for (name, dump) in CRATE_ROWS
        .into_iter()
        .zip([dump_chunks as fn(Vec<u8>) -> (u64, u64), dump_records])
    {
        if !opts.wants(name, "") {
            continue;
        }
        let (mut bytes, mut events, mut bad, mut secs) = (0, 0, 0, 0.0);
        for input in &inputs {
            bytes += input.len();
            let input = input.clone();
            let t = Instant::now();
            let (e, x) = dump(input);
            secs += t.elapsed().as_secs_f64();
            events += e;
            bad += x;
        }
        row(name, &what, bytes, events, bad, secs);
    }
}

fn row(name: &str, input: &str, bytes: usize, events: u64, bad: u64, secs: f64) {
    println!(
        "| {name} | {input} | {:.0} | {:.0} | {events} | {bad} |",
        bytes as f64 / 1e6 / secs,
        events as f64 / secs
    );
}

/// The `evtx` crate's settings as Mamori uses them (all cores, compact JSON).
fn evtx_parser(input: Vec<u8>) -> Option<evtx::EvtxParser<Cursor<Vec<u8>>>> {
    let settings = evtx::ParserSettings::new()
        .num_threads(0)
        .separate_json_attributes(false)
        .indent(false);
    evtx::EvtxParser::from_buffer(input)
        .ok()
        .map(|p| p.with_configuration(settings))
}

/// The crate's JSON dump as `evtx_dump` writes it: one buffer per chunk.
fn dump_chunks(input: Vec<u8>) -> (u64, u64) {
    let Some(mut parser) = evtx_parser(input) else {
        return (0, 1);
    };
    let (mut events, mut bytes) = (0u64, 0usize);
    for chunk in parser.chunks_json_bytes(false) {
        bytes += chunk.data.len();
        events += chunk.records().count() as u64;
    }
    std::hint::black_box(bytes);
    (events, 0)
}

/// The crate's JSON, one `String` per record.
fn dump_records(input: Vec<u8>) -> (u64, u64) {
    let Some(mut parser) = evtx_parser(input) else {
        return (0, 1);
    };
    let (mut events, mut bad) = (0u64, 0u64);
    for r in parser.records_json() {
        match r {
            Ok(r) => {
                std::hint::black_box(r.data.len());
                events += 1;
            }
            Err(_) => bad += 1,
        }
    }
    (events, bad)
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

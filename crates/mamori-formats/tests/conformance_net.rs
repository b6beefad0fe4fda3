//! Real network and web logs from ../shared/data/net (Zeek TSV and JSON
//! from WRCCDC 2018 and OTRF APT29, Apache and IIS attack logs) and the OTRF
//! S3 honey-bucket CSV export from ../shared/data/aws: every file is sniffed
//! as expected, parses without a panic, and yields one event per record
//! (records counted here, independently of the parsers), none of them bad.

mod common;

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use common::{ctx, files, split};
use mamori_formats::{Format, Item, ParseContext, open, open_and_sniff, parse};

fn name(path: &Path) -> String {
    path.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string()
}

/// The format a data file must be sniffed as; `None` for files that are
/// not logs (licences, SOURCE.md, archives, metadata).
fn expected(path: &Path) -> Option<Format> {
    let name = name(path);
    let p = path.to_string_lossy();
    if name.starts_with("LICENSE")
        || name.ends_with(".md")
        || name.ends_with(".zip")
        || name.ends_with(".yaml")
    {
        return None;
    }
    if p.contains("/zeek-") {
        Some(Format::Zeek)
    } else if name.ends_with("_IIS.log") {
        Some(Format::Iis)
    } else if name.ends_with("access_log.txt") {
        Some(Format::WebAccess)
    } else if name.ends_with(".csv") {
        Some(Format::Csv)
    } else {
        panic!("no expected format for {}", path.display())
    }
}

/// Records in a file, counted from its (decompressed) lines: non-blank
/// lines that are not `#` directives; for CSV, minus the header (the
/// honey-bucket export has no multi-line fields).
fn records(path: &Path, format: Format) -> usize {
    let reader = open(path).unwrap();
    let mut n = 0;
    for line in reader.split(b'\n') {
        let line = line.unwrap();
        let t = line.trim_ascii();
        if t.is_empty() || (t.starts_with(b"#") && matches!(format, Format::Zeek | Format::Iis)) {
            continue;
        }
        n += 1;
    }
    if format == Format::Csv { n - 1 } else { n }
}

#[derive(Default)]
struct Tally {
    files: usize,
    events: usize,
    bad: usize,
}

/// What one file gave.
struct Outcome {
    name: String,
    format: Format,
    events: usize,
    bad: usize,
    datasets: BTreeMap<String, usize>,
}

/// Sniff and parse one file, streaming (events are counted, not kept).
fn check_file(path: &Path, want: Format) -> Outcome {
    let name = name(path);
    let (format, reader) = open_and_sniff(path).unwrap();
    assert_eq!(format, want, "{}", path.display());
    let ctx = ParseContext {
        source_name: path.display().to_string(),
        ..ctx()
    };
    let (mut events, mut bad) = (0, 0);
    let mut datasets = BTreeMap::new();
    for item in parse(format, reader, &ctx) {
        match item {
            Item::Event(ev) => {
                events += 1;
                let dataset = ev.get_str("event.dataset").unwrap_or("-").to_string();
                *datasets.entry(dataset).or_default() += 1;
                // Only Zeek's loaded_scripts log has records without a time.
                assert!(
                    ev.get("tags").is_none() || name.contains("loaded_scripts"),
                    "{name}: {}",
                    ev.to_json()
                );
            }
            Item::Bad(b) => {
                if bad < 3 {
                    println!("  bad {b}");
                }
                bad += 1;
            }
            Item::Warning(w) => panic!("{name}: warning {w}"),
        }
    }
    let records = records(path, format);
    assert_eq!(events + bad, records, "{name}: events + bad != records");
    assert_eq!(bad, 0, "{name}: {bad} bad records");
    Outcome {
        name,
        format,
        events,
        bad,
        datasets,
    }
}

/// Every log file under `dir`, checked on a few threads.
fn check(dir: &Path, totals: &mut BTreeMap<String, Tally>, datasets: &mut BTreeMap<String, usize>) {
    let mut paths = Vec::new();
    files(dir, &mut paths);
    paths.sort();
    let jobs: Vec<(PathBuf, Format)> = paths
        .into_iter()
        .filter_map(|p| expected(&p).map(|f| (p, f)))
        .collect();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4));
    let next = AtomicUsize::new(0);
    let outcomes = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while let Some((path, want)) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let outcome = check_file(path, *want);
                    outcomes.lock().unwrap().push(outcome);
                }
            });
        }
    });
    let mut outcomes = outcomes.into_inner().unwrap();
    outcomes.sort_by(|a, b| a.name.cmp(&b.name));
    for o in outcomes {
        println!("{:<10} {}: {} events, {} bad", o.format, o.name, o.events, o.bad);
        let t = totals.entry(o.format.name().to_string()).or_default();
        t.files += 1;
        t.events += o.events;
        t.bad += o.bad;
        for (d, n) in o.datasets {
            *datasets.entry(d).or_default() += n;
        }
    }
}

#[test]
fn shared_net_and_honeybucket_logs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    let net = root.join("net");
    let bucket = root.join("aws/otrf-s3-honeybucket");
    if !net.is_dir() {
        println!("skipped: ../shared/data/net not present");
        return;
    }
    let started = Instant::now();
    let mut totals = BTreeMap::new();
    let mut datasets = BTreeMap::new();
    check(&net, &mut totals, &mut datasets);
    if bucket.is_dir() {
        check(&bucket, &mut totals, &mut datasets);
    } else {
        println!("skipped: ../shared/data/aws/otrf-s3-honeybucket not present");
    }
    for (format, t) in &totals {
        println!("{format}: {} files, {} events, {} bad", t.files, t.events, t.bad);
    }
    for (dataset, n) in &datasets {
        println!("  {dataset}: {n}");
    }
    println!("took {:?}", started.elapsed());
    assert!(totals.contains_key("zeek") && totals.contains_key("weblog") && totals.contains_key("iis"));
}

/// The WRCCDC logs exist as TSV and as JSON for the same traffic: each log
/// type yields as many events from one as from the other, with the same
/// times, addresses and ports.
#[test]
fn wrccdc_tsv_and_json_agree() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/net/zeek-wrccdc2018");
    if !dir.is_dir() {
        println!("skipped: ../shared/data/net/zeek-wrccdc2018 not present");
        return;
    }
    let mut tsv = Vec::new();
    files(&dir.join("zeek-default"), &mut tsv);
    tsv.sort();
    for t in tsv {
        let log = name(&t).trim_end_matches(".log.gz").to_string();
        if matches!(log.as_str(), "dns" | "ssl" | "analyzer" | "weird") {
            continue; // large; covered by the test above
        }
        let j = dir.join("zeek-json").join(format!("{log}.json.gz"));
        let a = split(parse(Format::Zeek, open(&t).unwrap(), &ctx()).collect()).events;
        let b = split(parse(Format::Zeek, open(&j).unwrap(), &ctx()).collect()).events;
        assert_eq!(a.len(), b.len(), "{log}");
        for (x, y) in a.iter().zip(&b) {
            for path in [
                "@timestamp",
                "event.dataset",
                "source.ip",
                "source.port",
                "destination.ip",
                "destination.port",
                "zeek.session_id",
                "network.transport",
            ] {
                assert_eq!(
                    x.get(path),
                    y.get(path),
                    "{log} {path}\n{}\n{}",
                    x.original(),
                    y.original()
                );
            }
        }
    }
}

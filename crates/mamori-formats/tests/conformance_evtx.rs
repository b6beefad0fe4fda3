//! Windows EVTX samples from ../shared/data/evtx (see its SOURCE.md:
//! EVTX-ATTACK-SAMPLES and DeepBlueCLI, 300 files). Each file is sniffed as
//! EVTX and parsed without panic, and its events plus bad records equal the
//! records the `evtx` crate itself yields for it (counted again here by
//! iterating the crate directly). Totals, bad records and the time taken
//! are printed.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use evtx::{EvtxParser, ParserSettings};
use mamori_formats::{Format, Item, ParseContext, open_and_sniff, parse};

fn data_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/evtx");
    dir.is_dir().then_some(dir)
}

fn evtx_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            evtx_files(&path, out);
        } else if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("evtx")) {
            out.push(path);
        }
    }
}

/// The records the crate yields for a file, failed ones included.
fn crate_count(path: &Path) -> usize {
    let settings = ParserSettings::new().num_threads(0);
    match EvtxParser::from_path(path) {
        Ok(parser) => parser.with_configuration(settings).records_json_value().count(),
        Err(_) => 0,
    }
}

#[test]
fn every_sample_parses() {
    let Some(dir) = data_dir() else {
        println!("skipped: ../shared/data/evtx not present");
        return;
    };
    let mut files = Vec::new();
    evtx_files(&dir, &mut files);
    files.sort();
    assert!(!files.is_empty(), "no .evtx under {}", dir.display());

    let (mut events, mut bad, mut reference) = (0usize, 0usize, 0usize);
    let mut bytes = 0u64;
    let mut ours = Duration::ZERO;
    let mut ids = HashSet::new();
    let mut datasets: BTreeMap<String, usize> = BTreeMap::new();
    let mut actions = 0usize;
    for path in &files {
        let name = path.strip_prefix(&dir).unwrap_or(path).display().to_string();
        bytes += std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);

        let started = Instant::now();
        let (format, input) = open_and_sniff(path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(format, Format::Evtx, "{name}");
        let ctx = ParseContext::new("acme", name.clone());
        let (mut file_events, mut file_bad) = (0, 0);
        for item in parse(format, input, &ctx) {
            match item {
                Item::Event(ev) => {
                    file_events += 1;
                    assert!(!ev.original().is_empty(), "{name}");
                    assert!(ev.get_str("event.code").is_some(), "{name}: {}", ev.original());
                    assert!(ev.get_str("host.name").is_some(), "{name}: {}", ev.original());
                    let dataset = ev.get_str("event.dataset").unwrap_or("?").to_string();
                    *datasets.entry(dataset).or_default() += 1;
                    actions += usize::from(ev.action().is_some());
                    ids.insert(ev.id().to_string());
                }
                Item::Bad(b) => {
                    file_bad += 1;
                    println!("bad record: {b}");
                }
                Item::Warning(w) => println!("warning: {w}"),
            }
        }
        ours += started.elapsed();

        let expected = crate_count(path);
        assert_eq!(
            file_events + file_bad,
            expected,
            "{name}: {file_events} events + {file_bad} bad records, the crate yields {expected}"
        );
        events += file_events;
        bad += file_bad;
        reference += expected;
    }

    println!("datasets: {datasets:?}");
    println!(
        "{} files, {:.1} MiB: {events} events, {bad} bad records (the crate: {reference} records); \
         {} distinct event ids, {actions} with event.action; parsed in {:.2} s",
        files.len(),
        bytes as f64 / (1024.0 * 1024.0),
        ids.len(),
        ours.as_secs_f64()
    );
    assert_eq!(events + bad, reference);
}

#[test]
fn gzipped_evtx_is_read_too() {
    use std::io::Write;

    let Some(dir) = data_dir() else {
        println!("skipped: ../shared/data/evtx not present");
        return;
    };
    let path = dir.join("DeepBlueCLI/evtx/new-user-security.evtx");
    let Ok(raw) = std::fs::read(&path) else {
        println!("skipped: {} not present", path.display());
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let gz = tmp.path().join("new-user-security.evtx.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&raw).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();

    let (format, input) = open_and_sniff(&gz).unwrap();
    assert_eq!(format, Format::Evtx);
    let items: Vec<Item> = parse(format, input, &common::ctx()).collect();
    let split = common::split(items);
    assert!(split.bad.is_empty(), "{:?}", split.bad);
    assert_eq!(split.events.len(), crate_count(&path));
    // The sample creates an account: 4720 with its ECS fields.
    let created = split
        .events
        .iter()
        .find(|e| e.get_str("event.code") == Some("4720"))
        .expect("a 4720 event");
    assert_eq!(created.action(), Some("added-user-account"));
    assert!(created.get_str("user.target.name").is_some());
    assert!(created.get_str("winlog.event_data.TargetUserName").is_some());
}

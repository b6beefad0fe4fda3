//! A SIGKILL at any moment of ingest, commit or background merging leaves a
//! store that opens, answers, and holds every committed event exactly once.
//!
//! The writer is this test binary run again as a child process (selected by
//! an environment variable), killed at pseudo-random moments while it appends
//! and commits small batches into one partition, so segments keep merging.

use std::io::{BufRead, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::{DateTime, Utc};
use mamori_model::{Event, Filter, TimeRange, filter};
use mamori_store::{EventStore, LocalStore};
use serde_json::json;

const CHILD: &str = "MAMORI_CRASH_TEST_STORE";
const BATCH: u64 = 400;

fn day() -> DateTime<Utc> {
    "2024-06-01T00:00:00Z".parse().unwrap()
}

fn count(store: &LocalStore, q: &str) -> u64 {
    store
        .count(&["acme".into()], &filter::parse(q).unwrap(), &TimeRange::all())
        .unwrap()
}

/// The writer (runs only as the child): continues from what is stored,
/// printing the stored total after each commit.
#[test]
fn crash_writer_child() {
    let Some(dir) = std::env::var_os(CHILD) else {
        return;
    };
    let store = LocalStore::open(&dir).unwrap();
    let mut next = store
        .count(&["acme".into()], &Filter::All, &TimeRange::all())
        .unwrap();
    let out = std::io::stdout();
    for _ in 0..10_000 {
        let batch: Vec<Event> = (next..next + BATCH)
            .map(|i| {
                let ts = day() + chrono::Duration::milliseconds(i as i64 * 3);
                let mut e = Event::new("acme", ts, format!("record number {i} {}", "x".repeat(200)));
                e.set_id(format!("ev-{i}"));
                e.set("event.action", json!(if i % 2 == 0 { "even" } else { "odd" }));
                e.set("n", json!(i));
                e
            })
            .collect();
        store.append(batch).unwrap();
        let r = store.commit().unwrap();
        assert_eq!(r.added, BATCH);
        next += BATCH;
        let mut o = out.lock();
        writeln!(o, "committed {next}").unwrap();
        o.flush().unwrap();
    }
}

#[test]
fn sigkill_during_ingest_and_merges_loses_nothing_committed() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut kills = 0;
    // What the rounds before this one left committed: acknowledged already.
    let mut before = 0u64;
    for round in 0..8 {
        let mut child = Command::new(&exe)
            .args(["crash_writer_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut last = before;
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(n) = line.strip_prefix("committed ") {
                    last = n.trim().parse().unwrap();
                }
            }
            last
        });
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(300 + seed % 1500));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
        let acknowledged = reader.join().unwrap().max(before);

        let store = LocalStore::open(dir.path()).unwrap();
        let stored = count(&store, "");
        assert!(
            stored >= acknowledged,
            "round {round}: {stored} stored < {acknowledged} committed"
        );
        assert_eq!(stored % BATCH, 0, "round {round}: a commit is all or nothing");
        assert!(
            stored <= acknowledged + BATCH,
            "round {round}: at most the batch in flight"
        );
        assert_eq!(count(&store, "event.action:even"), stored / 2, "round {round}");
        let top = store
            .search(&mamori_store::SearchRequest::newest(
                vec!["acme".into()],
                Filter::All,
                TimeRange::all(),
                1,
            ))
            .unwrap();
        if stored > 0 {
            assert_eq!(
                top.hits[0].event.id(),
                format!("ev-{}", stored - 1),
                "round {round}"
            );
        }
        before = stored;
    }
    assert!(kills >= 6, "the writer was killed mid-run ({kills} of 8 rounds)");
    let store = LocalStore::open(dir.path()).unwrap();
    let stats = store.stats().unwrap();
    assert!(stats[0].segments >= 1 && stats[0].events == count(&store, ""));
    assert!(
        stats[0].segments < stats[0].events / BATCH,
        "segments were merged while the writer was killed"
    );
    eprintln!(
        "{kills} kills; {} events in {} commits, {} segments after merges",
        stats[0].events,
        stats[0].events / BATCH,
        stats[0].segments
    );
}

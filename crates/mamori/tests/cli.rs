//! End-to-end tests of the `mamori` binary: ingest, search, dead letters,
//! idempotent re-runs and recovery from SIGKILL.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn mamori(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mamori"));
    c.arg("--data-dir").arg(data).env_remove("MAMORI_DATA");
    c
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("mamori runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The total a search reports ("N of TOTAL events").
fn total(data: &Path, tenant: &str, filter: &str) -> u64 {
    let out = run(mamori(data).args([
        "search",
        "--tenant",
        tenant,
        "--from",
        "2000-01-01",
        "--limit",
        "0",
        filter,
    ]));
    let err = text(&out.stderr);
    assert!(out.status.success(), "search `{filter}` failed: {err}");
    let line = err
        .lines()
        .find(|l| l.contains(" events ("))
        .unwrap_or_else(|| panic!("no total in {err}"));
    line.split(" of ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("a number")
}

fn record(i: u64) -> String {
    format!(
        r#"{{"eventVersion":"1.08","eventTime":"2024-03-{:02}T{:02}:{:02}:00Z","eventSource":"s3.amazonaws.com","eventName":"{}","awsRegion":"eu-west-1","sourceIPAddress":"10.0.{}.{}","userIdentity":{{"type":"IAMUser","userName":"user{}","accessKeyId":"AKIA{:016}"}},"eventID":"00000000-0000-4000-8000-{:012}"}}"#,
        1 + i % 28,
        i % 24,
        i % 60,
        if i.is_multiple_of(10) {
            "GetSecretValue"
        } else {
            "GetObject"
        },
        i % 256,
        i % 200,
        i % 50,
        i % 50,
        i
    )
}

fn write_ndjson(path: &Path, n: u64) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..n {
        writeln!(f, "{}", record(i)).unwrap();
    }
}

#[test]
fn ingest_then_search_finds_exactly_the_matching_events() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("ct.ndjson");
    write_ndjson(&input, 1000);
    let data = dir.path().join("data");
    let out = run(mamori(&data).args(["ingest", "--tenant", "acme"]).arg(&input));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("1000 events read, 1000 stored"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(total(&data, "acme", ""), 1000);
    assert_eq!(total(&data, "acme", "event.action:GetSecretValue"), 100);
    assert_eq!(total(&data, "acme", "user.name:user7"), 20);
    assert_eq!(
        total(&data, "acme", "source.ip:10.0.3.0/24"),
        (0..1000).filter(|i| i % 256 == 3).count() as u64
    );
    assert_eq!(
        total(&data, "acme", "getsecretvalue and not source.ip:10.0.0.0/16"),
        0
    );
    assert_eq!(total(&data, "other", ""), 0);
    // The table shows the ECS columns.
    let out = run(mamori(&data).args([
        "search",
        "--tenant",
        "acme",
        "--from",
        "2000-01-01",
        "--limit",
        "3",
        "user.name:user7",
    ]));
    let table = text(&out.stdout);
    assert!(table.starts_with("TIME"), "{table}");
    assert!(table.contains("GetObject") && table.contains("user7"), "{table}");
    // Re-ingesting adds nothing.
    let out = run(mamori(&data).args(["ingest", "--tenant", "acme"]).arg(&input));
    assert!(
        text(&out.stderr).contains("0 stored, 1000 already present"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(total(&data, "acme", ""), 1000);
}

#[test]
fn bad_filters_name_the_column() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(mamori(dir.path()).args(["search", "--tenant", "acme", "source.ip:"]));
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("column 11"), "{err}");
    assert!(err.contains("          ^"), "caret under the column: {err}");
}

#[test]
fn bad_records_go_to_the_dead_letter_and_the_rest_is_ingested() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("mixed.ndjson");
    std::fs::write(
        &input,
        format!("{}\nthis is not json\n{}\n", record(1), record(2)),
    )
    .unwrap();
    // A gzip cut short: the records before the cut are kept.
    let gz_path = dir.path().join("cut.ndjson.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for i in 100..2100 {
        writeln!(gz, "{}", record(i)).unwrap();
    }
    let bytes = gz.finish().unwrap();
    std::fs::write(&gz_path, &bytes[..bytes.len() / 2]).unwrap();
    let data = dir.path().join("data");
    let out = run(mamori(&data)
        .args(["ingest", "--tenant", "acme"])
        .arg(&input)
        .arg(&gz_path));
    let err = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "non-zero when something was rejected: {err}"
    );
    assert!(err.contains("mixed.ndjson:2"), "names file and line: {err}");
    assert!(
        err.contains("cut.ndjson.gz") && err.contains("byte"),
        "names the truncated file and offset: {err}"
    );
    assert!(err.contains("2 rejected"), "{err}");
    let dead = std::fs::read_to_string(data.join("dead-letter/acme.ndjson")).unwrap();
    assert_eq!(dead.lines().count(), 2);
    assert!(dead.contains("this is not json"));
    let kept = total(&data, "acme", "");
    assert!(
        kept > 2 + 100 && kept < 2 + 2000,
        "events before the cut are kept: {kept}"
    );
}

#[test]
fn unreadable_and_unrecognised_files_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let readme = dir.path().join("notes.txt");
    std::fs::write(&readme, "just some notes\n").unwrap();
    let out = run(mamori(&dir.path().join("d"))
        .args(["ingest", "--tenant", "acme"])
        .arg(&readme));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no format recognises"),
        "{}",
        text(&out.stderr)
    );
    let out = run(mamori(&dir.path().join("d")).args(["ingest", "--tenant", "acme", "/nonexistent/x.json"]));
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("/nonexistent/x.json"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn sigkill_during_ingest_then_rerun_gives_exact_count() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.ndjson");
    let n = 30_000;
    write_ndjson(&input, n);
    let data: PathBuf = dir.path().join("data");
    for (round, wait_ms) in [150u64, 600, 1500].into_iter().enumerate() {
        let mut child = mamori(&data)
            .args(["ingest", "--tenant", "acme", "--commit-every", "2000"])
            .arg(&input)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(wait_ms * (round as u64 + 1)));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // The store opens and answers after every kill.
        let partial = total(&data, "acme", "");
        assert!(partial <= n, "never more than the input: {partial}");
    }
    let out = run(mamori(&data).args(["ingest", "--tenant", "acme"]).arg(&input));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(total(&data, "acme", ""), n, "exactly once after the re-run");
    assert_eq!(total(&data, "acme", "event.action:GetSecretValue"), n / 10);
}

#[test]
fn aggregations_facets_exports_and_several_tenants() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("ct.ndjson");
    write_ndjson(&input, 500);
    let data = dir.path().join("data");
    for tenant in ["acme", "globex"] {
        let out = run(mamori(&data).args(["ingest", "--tenant", tenant]).arg(&input));
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let search = |args: &[&str]| {
        let out = run(mamori(&data).args(["search", "--from", "2000-01-01"]).args(args));
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let aggs = search(&[
        "--tenant",
        "acme",
        "--agg",
        "terms:event.action:1",
        "--agg",
        "cardinality:user.name",
        "--json",
        "",
    ]);
    let v: serde_json::Value = serde_json::from_str(aggs.trim()).unwrap();
    assert_eq!(v["total"], 500);
    assert_eq!(v["results"][0]["buckets"][0]["value"], "GetObject");
    assert_eq!(v["results"][0]["buckets"][0]["count"], 450);
    assert_eq!(v["results"][0]["other"], 50);
    assert_eq!(v["results"][1]["value"], 50);
    let facets = search(&["--tenant", "acme", "--facets", "user.name:user7"]);
    assert!(facets.contains("fields of all 10 events"), "{facets}");
    assert!(
        facets.contains("user.name  (100% of events, 1 distinct)"),
        "{facets}"
    );
    let csv = search(&[
        "--tenant",
        "acme",
        "--export",
        "csv",
        "--columns",
        "user.name,source.ip",
        "user.name:user7",
    ]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "user.name,source.ip");
    assert_eq!(lines.len(), 11);
    assert!(lines[1..].iter().all(|l| l.starts_with("user7,10.0.")), "{csv}");
    let both = search(&["--tenants", "acme,globex", "--limit", "4", "user.name:user7"]);
    assert!(
        both.contains("TENANT") && both.contains("acme") && both.contains("globex"),
        "{both}"
    );
    let bad = run(mamori(&data).args(["search", "--tenant", "acme", "--agg", "median:x", ""]));
    assert!(!bad.status.success());
    assert!(
        text(&bad.stderr).contains("unknown aggregation"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn context_lists_saved_searches_and_audit() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("ct.ndjson");
    write_ndjson(&input, 300);
    let data = dir.path().join("data");
    assert!(
        run(mamori(&data).args(["ingest", "--tenant", "acme"]).arg(&input))
            .status
            .success()
    );
    let ok = |args: &[&str]| {
        let out = run(mamori(&data).args(args));
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    ok(&[
        "context",
        "set",
        "acme",
        "office",
        "10.0.1.0/24",
        "10.0.2.0/24",
        "--description",
        "HQ",
    ]);
    let inside = (0..300).filter(|i| matches!(i % 256, 1 | 2)).count() as u64;
    assert_eq!(total(&data, "acme", "source.ip:@office"), inside);
    assert_eq!(total(&data, "acme", "not source.ip:@office"), 300 - inside);
    ok(&["context", "add", "acme", "office", "10.0.3.0/24"]);
    let wider = (0..300).filter(|i| matches!(i % 256, 1..=3)).count() as u64;
    assert_eq!(total(&data, "acme", "source.ip:@office"), wider);
    let missing = run(mamori(&data).args(["search", "--tenant", "acme", "source.ip:@nope"]));
    assert!(
        text(&missing.stderr).contains("@nope"),
        "{}",
        text(&missing.stderr)
    );
    ok(&[
        "saved",
        "save",
        "acme",
        "outside",
        "not source.ip:@office",
        "--from",
        "2000-01-01",
    ]);
    let out = run(mamori(&data).args(["search", "--tenant", "acme", "--saved", "outside", "--limit", "0"]));
    assert!(
        text(&out.stderr).contains(&format!("of {} events", 300 - wider)),
        "{}",
        text(&out.stderr)
    );
    let audit = ok(&["audit", "--object", "acme"]);
    assert!(
        audit.contains("saved_search.set") && audit.contains("context_list.set"),
        "{audit}"
    );
    assert!(
        audit.contains(r#""before":{"entries":["10.0.1.0/24","10.0.2.0/24"],"description":"HQ"}"#),
        "{audit}"
    );
}

#[test]
fn pivot_from_an_event() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("ct.ndjson");
    write_ndjson(&input, 200);
    let data = dir.path().join("data");
    assert!(
        run(mamori(&data).args(["ingest", "--tenant", "acme"]).arg(&input))
            .status
            .success()
    );
    // Record 7: user7, key of 7, source 10.0.7.7, on 2024-03-08 07:07.
    let id = "00000000-0000-4000-8000-000000000007";
    let out = run(mamori(&data).args(["search", "--tenant", "acme", "--pivot", id, "--window", "40d"]));
    let s = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        s.contains("same access key") && s.contains("same source IP") && s.contains("same user"),
        "{s}"
    );
    let users = (0..200).filter(|i| i % 50 == 7).count();
    let line = s
        .lines()
        .find(|l| l.trim_start().starts_with("same user"))
        .unwrap();
    let n: usize = line.split_whitespace().nth(2).unwrap().parse().unwrap();
    assert_eq!(n, users, "{s}");
    let missing = run(mamori(&data).args(["search", "--tenant", "acme", "--pivot", "nope"]));
    assert!(!missing.status.success());
}

#[test]
fn auto_format_over_a_mixed_folder() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(logs.join("AWSLogs/111122223333/CloudTrail/eu-west-1/2024/03/01")).unwrap();
    let trail = format!("{{\"Records\":[{},{}]}}", record(10), record(11));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(trail.as_bytes()).unwrap();
    std::fs::write(
        logs.join("AWSLogs/111122223333/CloudTrail/eu-west-1/2024/03/01/111122223333_CloudTrail_eu-west-1_20240301T0000Z_x.json.gz"),
        gz.finish().unwrap(),
    )
    .unwrap();
    std::fs::write(
        logs.join("flow.log"),
        "2 111122223333 eni-0a1b2c3d 198.51.100.9 10.0.0.5 49152 22 6 10 840 1709251200 1709251260 REJECT OK\n\
         2 111122223333 eni-0a1b2c3d 10.0.0.5 203.0.113.7 443 50000 6 20 4000 1709251200 1709251260 ACCEPT OK\n",
    )
    .unwrap();
    std::fs::write(
        logs.join("fw.log"),
        "<134>Mar  1 10:00:00 fw01 CEF:0|Acme|Firewall|1.0|100|VPN login failed|7|src=198.51.100.9 dst=10.0.0.1 suser=mallory act=deny outcome=failure\n",
    )
    .unwrap();
    let mut inputs = vec![logs.clone()];
    let evtx_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/evtx");
    let evtx = std::fs::read_dir(&evtx_dir)
        .ok()
        .and_then(|_| find_file(&evtx_dir, "evtx"));
    match &evtx {
        Some(p) => inputs.push(p.clone()),
        None => println!("EVTX part skipped: ../shared/data/evtx not present"),
    }
    let data = dir.path().join("data");
    let out = run(mamori(&data).args(["ingest", "--tenant", "acme"]).args(&inputs));
    let err = text(&out.stderr);
    assert!(out.status.success(), "{err}");
    for fmt in ["cloudtrail", "vpcflow", "syslog"] {
        assert!(
            err.lines().any(|l| l.trim_start().starts_with(fmt)),
            "{fmt} in summary: {err}"
        );
    }
    assert_eq!(total(&data, "acme", "event.provider:s3.amazonaws.com"), 2);
    assert_eq!(
        total(&data, "acme", "source.ip:198.51.100.9"),
        2,
        "flow + CEF by source.ip"
    );
    assert_eq!(total(&data, "acme", "event.action:reject"), 1);
    assert_eq!(
        total(&data, "acme", "user.name:mallory and event.outcome:failure"),
        1
    );
    if evtx.is_some() {
        assert!(err.lines().any(|l| l.trim_start().starts_with("evtx")), "{err}");
        assert!(total(&data, "acme", "_exists_:winlog.event_id") > 0);
    }
}

fn find_file(dir: &Path, ext: &str) -> Option<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).ok()?.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in &entries {
        if p.extension().and_then(|e| e.to_str()) == Some(ext) && p.metadata().ok()?.len() < 200_000 {
            return Some(p.clone());
        }
    }
    entries
        .iter()
        .filter(|p| p.is_dir())
        .find_map(|p| find_file(p, ext))
}

#[test]
fn store_stats_and_retention() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("ct.ndjson");
    write_ndjson(&input, 100);
    let data = dir.path().join("data");
    assert!(
        run(mamori(&data).args(["ingest", "--tenant", "acme"]).arg(&input))
            .status
            .success()
    );
    let out = run(mamori(&data).args(["store", "stats", "--json"]));
    let v: serde_json::Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(v[0]["tenant"], "acme");
    assert_eq!(v[0]["events"], 100);
    assert_eq!(v[0]["partitions"], 28);
    // All events are from 2024: a 30-day retention removes every partition.
    assert!(
        run(mamori(&data).args(["store", "retention", "acme", "30"]))
            .status
            .success()
    );
    let out = run(mamori(&data).args(["store", "apply-retention"]));
    assert!(
        text(&out.stdout).contains("deleted 28 day partitions"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(total(&data, "acme", ""), 0);
    let audit = text(&run(mamori(&data).args(["audit", "--object", "acme"])).stdout);
    assert!(
        audit.contains("store.retention_applied") && audit.contains("tenant.retention"),
        "{audit}"
    );
}

#[test]
fn ingest_reads_standard_input() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut child = mamori(&data)
        .args(["ingest", "--tenant", "acme", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{}\nnot json\n{}", record(1), record(2)).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("rejected stdin:2"), "{err}");
    assert_eq!(total(&data, "acme", ""), 2);
}

#[test]
fn sources_that_fell_silent_are_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("feeds.ndjson");
    let now = chrono::Utc::now();
    let mut lines = String::new();
    for h in 0..36 {
        let t = now - chrono::Duration::hours(h) - chrono::Duration::minutes(5);
        let ts = t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        lines.push_str(&format!(
            "{{\"@timestamp\":\"{ts}\",\"event\":{{\"dataset\":\"proxy\"}},\"n\":{h}}}\n"
        ));
        if h >= 12 {
            lines.push_str(&format!(
                "{{\"@timestamp\":\"{ts}\",\"event\":{{\"dataset\":\"firewall\"}},\"n\":{h}}}\n"
            ));
        }
    }
    std::fs::write(&input, lines).unwrap();
    let data = dir.path().join("data");
    assert!(
        run(mamori(&data).args(["ingest", "--tenant", "acme"]).arg(&input))
            .status
            .success()
    );
    let out = run(mamori(&data).args(["sources", "--tenant", "acme", "--from", "-2d"]));
    let s = text(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{s}");
    let line = |name: &str| s.lines().find(|l| l.starts_with(name)).unwrap().to_string();
    assert!(line("firewall").contains("SILENT since"), "{s}");
    assert!(line("proxy").ends_with("ok"), "{s}");
}

#[test]
fn rules_loaded_into_the_data_directory_raise_alerts_at_ingest_until_disabled() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let rules = dir.path().join("my-rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("stop.yml"),
        "title: Trail stopped\nid: 11111111-2222-4333-8444-555555555555\nlevel: high\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n  sel:\n    eventName: StopLogging\n  condition: sel\n",
    )
    .unwrap();
    let out = run(mamori(&data).args(["rules", "load"]).arg(&rules));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("1 rules"), "{}", text(&out.stdout));
    let trail = |id: &str| {
        format!(
            "{{\"Records\":[{{\"eventVersion\":\"1.08\",\"eventTime\":\"2026-11-20T10:00:00Z\",\"eventSource\":\"cloudtrail.amazonaws.com\",\"eventName\":\"StopLogging\",\"awsRegion\":\"us-east-1\",\"sourceIPAddress\":\"198.51.100.7\",\"userIdentity\":{{\"type\":\"IAMUser\",\"userName\":\"u-{id}\"}},\"eventID\":\"{id}\"}}]}}"
        )
    };
    let f1 = dir.path().join("a.json");
    std::fs::write(&f1, trail("ev-1")).unwrap();
    let out = run(mamori(&data).args(["ingest", "--tenant", "acme"]).arg(&f1));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("1 detections recorded as alerts"),
        "{}",
        text(&out.stderr)
    );
    let list = run(mamori(&data).args(["alerts", "list", "--json", "--from", "2026-11-01T00:00:00Z"]));
    assert_eq!(text(&list.stdout).lines().count(), 1, "{}", text(&list.stdout));
    let out = run(mamori(&data).args(["rules", "disable", "11111111-2222-4333-8444-555555555555"]));
    assert!(out.status.success());
    let f2 = dir.path().join("b.json");
    std::fs::write(&f2, trail("ev-2")).unwrap();
    let out = run(mamori(&data).args(["ingest", "--tenant", "acme"]).arg(&f2));
    assert!(
        !text(&out.stderr).contains("detections recorded"),
        "{}",
        text(&out.stderr)
    );
    let list = run(mamori(&data).args(["alerts", "list", "--json", "--from", "2026-11-01T00:00:00Z"]));
    assert_eq!(text(&list.stdout).lines().count(), 1);
    let listed = run(mamori(&data).args(["rules", "list"]));
    assert!(text(&listed.stdout).contains(" no "), "{}", text(&listed.stdout));
}

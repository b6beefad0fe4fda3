//! docs/tour.md stays true: every `mamori search` in it runs on freshly
//! generated demo data and gives the answer written under it.

use std::path::Path;
use std::process::Command;

/// Split a command line: spaces separate words, single quotes group.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            c => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[test]
fn every_tour_step_gives_the_documented_answer() {
    let tour =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/tour.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let demo = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .arg("--data-dir")
        .arg(&data)
        .args(["demo", "--no-serve"])
        .output()
        .unwrap();
    assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stderr));
    // the demo rules raise the incident's alerts at ingest
    let alerts = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .arg("--data-dir")
        .arg(&data)
        .args(["alerts", "list", "--json"])
        .output()
        .unwrap();
    let alerts: Vec<serde_json::Value> = String::from_utf8_lossy(&alerts.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut seen: Vec<(String, String, String)> = alerts
        .iter()
        .map(|a| {
            let s = |k: &str| a[k].as_str().unwrap().to_string();
            (s("tenant"), s("group_key"), s("rule_title"))
        })
        .collect();
    seen.sort();
    let want = [
        (
            "acme",
            "user.name:bob",
            "CloudTrail logging stopped or trail deleted",
        ),
        (
            "acme",
            "user.name:bob",
            "IAM policy attached to a user, or access granted to another user",
        ),
        ("globex", "host.name:WS-042", "PowerShell with an encoded command"),
        (
            "globex",
            "source.ip:198.51.100.77",
            "SQL injection or path traversal in a requested URL",
        ),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(seen, want);
    let lines: Vec<&str> = tour.lines().collect();
    let mut checked = 0;
    for (i, line) in lines.iter().enumerate() {
        if !line.starts_with("mamori search") {
            continue;
        }
        let expect = lines[i + 1..]
            .iter()
            .find_map(|l| l.strip_prefix("Expect: "))
            .unwrap_or_else(|| panic!("no Expect: after `{line}`"));
        let args = words(line);
        let out = Command::new(env!("CARGO_BIN_EXE_mamori"))
            .arg("--data-dir")
            .arg(&data)
            .args(&args[1..])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "`{line}`: {stderr}");
        if let Some(value) = expect.strip_prefix("shows ") {
            assert!(stdout.contains(value), "`{line}` should show {value}:\n{stdout}");
        } else {
            let want: u64 = expect.trim_end_matches(" events").parse().unwrap();
            let got: u64 = if stdout.contains("matching events") {
                stdout.split_whitespace().next().unwrap().parse().unwrap()
            } else {
                let l = stderr.lines().find(|l| l.contains(" events (")).unwrap();
                l.split(" of ")
                    .nth(1)
                    .and_then(|r| r.split(' ').next())
                    .unwrap()
                    .parse()
                    .unwrap()
            };
            assert_eq!(got, want, "`{line}`\n{stdout}{stderr}");
        }
        checked += 1;
    }
    assert!(checked >= 12, "{checked} steps checked");
}

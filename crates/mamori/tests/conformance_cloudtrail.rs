//! Conformance on real CloudTrail files (../shared/data/aws): `mamori ingest`
//! stores every record, and searches return exactly the records a plain JSON
//! scan selects. Skipped, with a printed reason, when the data is absent.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn shared_aws() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/aws/stratus-red-team-cloudtrail2sightings");
    p.is_dir().then_some(p)
}

/// Records of every `*.json` file, read leniently: each element of `Records`
/// parsed on its own (one upstream file lacks commas between records).
fn records(dir: &Path) -> Vec<Value> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let fixed = text.replace("}\n{", "},\n{");
        let doc: Value = serde_json::from_str(&fixed).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out.extend(doc["Records"].as_array().unwrap().iter().cloned());
    }
    out
}

fn total(data: &Path, filter: &str) -> u64 {
    let out = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .arg("--data-dir")
        .arg(data)
        .args([
            "search",
            "--tenant",
            "ct",
            "--from",
            "2000-01-01",
            "--limit",
            "0",
            filter,
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let line = err.lines().find(|l| l.contains(" events (")).unwrap();
    line.split(" of ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn cloudtrail_samples_ingest_and_search_like_a_json_scan() {
    let Some(dir) = shared_aws() else {
        println!("skipped: ../shared/data/aws not present");
        return;
    };
    let recs = records(&dir);
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let jsons: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("json"))
        .collect();
    let out = Command::new(env!("CARGO_BIN_EXE_mamori"))
        .arg("--data-dir")
        .arg(&data)
        .args(["ingest", "--tenant", "ct"])
        .args(&jsons)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    println!("{err}");
    assert!(out.status.success(), "{err}");
    assert_eq!(total(&data, ""), recs.len() as u64, "every record stored");
    let count = |pred: &dyn Fn(&Value) -> bool| recs.iter().filter(|r| pred(r)).count() as u64;
    let cases: Vec<(String, u64)> = vec![
        (
            "event.action:GetSecretValue".into(),
            count(&|r| r["eventName"] == "GetSecretValue"),
        ),
        (
            "event.provider:ec2.amazonaws.com".into(),
            count(&|r| r["eventSource"] == "ec2.amazonaws.com"),
        ),
        (
            "user.name:christophe.tafanidereeper".into(),
            count(&|r| {
                r["userIdentity"]["arn"]
                    .as_str()
                    .is_some_and(|a| a.ends_with("/christophe.tafanidereeper"))
            }),
        ),
        (
            "cloud.region:us-east-1".into(),
            count(&|r| r["awsRegion"] == "us-east-1"),
        ),
        (
            "DeleteTrail".into(),
            count(&|r| r.to_string().contains("DeleteTrail")),
        ),
        (
            "event.outcome:failure".into(),
            count(&|r| r.get("errorCode").is_some()),
        ),
        (
            "aws.cloudtrail.read_only:true".into(),
            count(&|r| r["readOnly"] == true),
        ),
    ];
    for (filter, want) in cases {
        let got = total(&data, &filter);
        println!("{filter}: {got}");
        assert_eq!(got, want, "{filter}");
    }
}

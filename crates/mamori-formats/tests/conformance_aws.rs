//! Real CloudTrail files (Stratus Red Team runs) from ../shared/data/aws:
//! every `.json` file is sniffed as CloudTrail and yields one event per
//! element of its `Records`, including the upstream file with missing commas.

mod common;

use std::path::{Path, PathBuf};

use common::{ctx, split};
use mamori_formats::{Format, ParseContext, open_and_sniff, parse};
use serde_json::Value;

/// Invalid JSON upstream: a `,` is missing between records twice (lines
/// 111/112 and 200/201; SOURCE.md names only the first, where a JSON parser
/// stops). Each is one warning, and all three records are kept.
const MISSING_COMMAS: (&str, usize) = ("aws.execution.ec2-user-data.json", 2);

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

/// Elements of `Records`, counted independently of the parser under test:
/// by serde when the file is valid JSON, else by its `"eventVersion"` keys.
fn expected_records(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    match serde_json::from_str::<Value>(&text) {
        Ok(v) => v["Records"].as_array().map_or(0, Vec::len),
        Err(_) => text.matches("\"eventVersion\"").count(),
    }
}

#[test]
fn stratus_red_team_cloudtrail() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/aws");
    if !dir.is_dir() {
        println!("skipped: ../shared/data/aws not present");
        return;
    }
    let mut files = Vec::new();
    json_files(&dir, &mut files);
    files.sort();
    assert!(!files.is_empty(), "no .json files under {}", dir.display());
    for path in files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let (format, reader) = open_and_sniff(&path).unwrap();
        assert_eq!(format, Format::CloudTrail, "{name}");
        let ctx = ParseContext {
            source_name: path.display().to_string(),
            ..ctx()
        };
        let s = split(parse(format, reader, &ctx).collect());
        let want = expected_records(&path);
        println!(
            "{name}: {} events, {} bad, {} warnings (Records: {want})",
            s.events.len(),
            s.bad.len(),
            s.warnings.len()
        );
        for w in &s.warnings {
            println!("  warning {w}");
        }
        assert!(s.bad.is_empty(), "{name}: {:?}", s.bad);
        assert_eq!(s.events.len(), want, "{name}");
        let warnings = if name == MISSING_COMMAS.0 {
            MISSING_COMMAS.1
        } else {
            0
        };
        assert_eq!(s.warnings.len(), warnings, "{name}");
        assert!(s.warnings.iter().all(|w| w.message.starts_with("missing `,`")));
        for ev in &s.events {
            assert!(ev.action().is_some(), "{name}: no event.action");
            assert_eq!(ev.get_str("event.dataset"), Some("aws.cloudtrail"));
            assert!(ev.get("tags").is_none(), "{name}: eventTime not read");
            assert_eq!(ev.id().len(), 36, "{name}: eventID not used");
        }
    }
}

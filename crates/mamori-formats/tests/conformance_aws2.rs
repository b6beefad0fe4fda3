//! AWS security-service samples from ../shared/data/aws2 (see its SOURCE.md):
//! GuardDuty's documented ASFF finding, the VPC Flow Logs examples of the
//! VPC user guide, and Wazuh's Security Hub test events. Each file is
//! sniffed as the right format, parsed without panic, and yields the number
//! of events SOURCE.md gives (counted again here independently of the
//! parsers). Panther's GuardDuty and ASFF test findings (wrapped in test-case
//! objects) are unwrapped and read as GuardDuty / Security Hub too.

mod common;

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use common::{ctx, split};
use mamori_formats::{Format, ParseContext, open_and_sniff, parse};
use mamori_model::Event;
use serde_json::Value;

/// (file under aws2, format, events, bad records), from SOURCE.md.
const EXPECTED: &[(&str, Format, usize, usize)] = &[
    (
        "guardduty-awsdocs/guardduty_finding_in_asff.json",
        Format::SecurityHub,
        1,
        0,
    ),
    (
        "vpcflow-awsdocs/vpcflow_v2_default_noheader.log",
        Format::VpcFlow,
        7,
        0,
    ),
    (
        "vpcflow-awsdocs/vpcflow_v2_default_with_header.log",
        Format::VpcFlow,
        7,
        0,
    ),
    (
        "vpcflow-awsdocs/vpcflow_v3_custom_tcpflags.log",
        Format::VpcFlow,
        8,
        0,
    ),
    // SOURCE.md's "5 records" counts the `...` line with which the upstream
    // page elides records: 4 records, and the `...` is one bad record.
    ("vpcflow-awsdocs/vpcflow_v3_custom_tgw.log", Format::VpcFlow, 4, 1),
    (
        "vpcflow-awsdocs/vpcflow_v5_custom_all_fields.log",
        Format::VpcFlow,
        2,
        0,
    ),
    (
        "wazuh-securityhub-securitylake/aws_security_hub_events.jsonl",
        Format::SecurityHub,
        25,
        0,
    ),
    (
        "wazuh-securityhub-securitylake/securityhub_asff_findings.json",
        Format::SecurityHub,
        25,
        0,
    ),
];

/// Files in the directories above that are not GuardDuty, Security Hub or
/// VPC Flow Logs (Security Lake OCSF events): parsed, but not claimed.
const NOT_OURS: &[&str] = &["wazuh-securityhub-securitylake/amazon_sec_lake_events.jsonl"];

const OURS: [Format; 3] = [Format::GuardDuty, Format::SecurityHub, Format::VpcFlow];

fn data_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/aws2");
    dir.is_dir().then_some(dir)
}

/// The events of a file counted without the parsers: findings in a
/// `Findings` document or an array, lines of a JSONL file, and records of a
/// flow log (lines that are neither the header nor the `...` elision).
fn independent_count(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    let name = path.to_string_lossy();
    if name.ends_with(".log") {
        return text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with("version") && l.trim() != "...")
            .count();
    }
    if name.ends_with(".jsonl") {
        return text.lines().filter(|l| !l.trim().is_empty()).count();
    }
    match serde_json::from_str::<Value>(&text).unwrap() {
        Value::Array(items) => items.len(),
        Value::Object(obj) => obj.get("Findings").and_then(Value::as_array).map_or(1, Vec::len),
        _ => 0,
    }
}

fn check_event(format: Format, ev: &Event, name: &str) {
    assert_eq!(ev.get_str("tenant"), Some("acme"));
    assert_eq!(ev.get_str("event.module"), Some("aws"), "{name}");
    assert_eq!(ev.get_str("cloud.provider"), Some("aws"), "{name}");
    let time_missing = ev
        .get("tags")
        .is_some_and(|t| t.to_string().contains("timestamp_missing"));
    match format {
        Format::VpcFlow => {
            // The transit-gateway format has no start or end field.
            assert_eq!(time_missing, ev.get("event.start").is_none(), "{name}");
            assert_eq!(ev.get_str("event.dataset"), Some("aws.vpcflow"));
            assert!(ev.get("cloud.account.id").is_some(), "{name}");
        }
        Format::SecurityHub => {
            assert!(!time_missing, "{name}");
            assert_eq!(ev.get_str("event.dataset"), Some("aws.securityhub"));
            assert!(ev.id().starts_with("arn:aws"), "{name}: Id not used: {}", ev.id());
            assert!(ev.get_str("rule.name").is_some(), "{name}");
            assert!(ev.get("event.severity").is_some(), "{name}");
            assert!(ev.get_str("aws.securityhub.product_name").is_some(), "{name}");
        }
        Format::GuardDuty => {
            assert!(!time_missing, "{name}");
            assert_eq!(ev.get_str("event.dataset"), Some("aws.guardduty"));
            assert_eq!(ev.get_str("event.kind"), Some("alert"));
            assert!(ev.get_str("rule.name").is_some(), "{name}");
            assert!(ev.get_str("aws.guardduty.severity_label").is_some(), "{name}");
        }
        _ => unreachable!(),
    }
}

#[test]
fn aws2_samples() {
    let Some(dir) = data_dir() else {
        println!("skipped: ../shared/data/aws2 not present");
        return;
    };
    let mut per_format: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    for &(file, want_format, want_events, want_bad) in EXPECTED {
        let path = dir.join(file);
        assert!(path.is_file(), "{file} missing");
        assert_eq!(independent_count(&path), want_events, "{file}: SOURCE.md count");
        let (format, reader) = open_and_sniff(&path).unwrap();
        assert_eq!(format, want_format, "{file}");
        let ctx = ParseContext {
            source_name: path.display().to_string(),
            ..ctx()
        };
        let s = split(parse(format, reader, &ctx).collect());
        println!(
            "{file}: {format}: {} events, {} bad, {} warnings",
            s.events.len(),
            s.bad.len(),
            s.warnings.len()
        );
        for b in &s.bad {
            println!("  bad {b}");
        }
        assert_eq!(s.events.len(), want_events, "{file}");
        assert_eq!(s.bad.len(), want_bad, "{file}: {:?}", s.bad);
        assert!(s.warnings.is_empty(), "{file}: {:?}", s.warnings);
        for ev in &s.events {
            check_event(format, ev, file);
        }
        let entry = per_format.entry(format.to_string()).or_default();
        entry.0 += 1;
        entry.1 += s.events.len();
        entry.2 += s.bad.len();
    }
    for file in NOT_OURS {
        let path = dir.join(file);
        let (format, reader) = open_and_sniff(&path).unwrap();
        assert!(!OURS.contains(&format), "{file} sniffed as {format}");
        let n = parse(format, reader, &ctx()).count();
        println!("{file}: {format} (not ours): {n} items");
    }
    for (format, (files, events, bad)) in &per_format {
        println!("{format}: {files} files, {events} events, {bad} bad");
    }
}

/// Details of the documented files that each mapping must get right.
#[test]
fn aws2_sample_fields() {
    let Some(dir) = data_dir() else {
        println!("skipped: ../shared/data/aws2 not present");
        return;
    };
    let events = |file: &str| {
        let (format, reader) = open_and_sniff(&dir.join(file)).unwrap();
        split(parse(format, reader, &ctx()).collect()).events
    };
    let gd = &events("guardduty-awsdocs/guardduty_finding_in_asff.json")[0];
    assert_eq!(gd.get_str("aws.securityhub.product_name"), Some("GuardDuty"));
    assert_eq!(gd.get_str("cloud.instance.id"), Some("i-0c10c2c7863d1a356"));
    assert_eq!(gd.source_ip(), Some("199.241.229.197"));
    assert_eq!(gd.get_str("network.direction"), Some("inbound"));
    assert_eq!(gd.get("destination.port"), Some(&Value::from(22)));
    assert_eq!(gd.get("source.as.number"), Some(&Value::from(209)));
    assert_eq!(gd.get_str("aws.securityhub.severity_label"), Some("MEDIUM"));
    assert_eq!(gd.get("event.severity"), Some(&Value::from(40)));
    assert_eq!(gd.get_str("event.kind"), Some("alert"));

    let v5 = events("vpcflow-awsdocs/vpcflow_v5_custom_all_fields.log");
    assert_eq!(v5[0].get_str("network.direction"), Some("inbound"));
    assert_eq!(v5[0].get_str("cloud.region"), Some("ap-southeast-2"));
    assert_eq!(v5[0].get_str("aws.vpcflow.pkt_src_aws_service"), Some("S3"));
    assert_eq!(v5[1].get("aws.vpcflow.traffic_path"), Some(&Value::from(8)));
    let nodata = &events("vpcflow-awsdocs/vpcflow_v2_default_noheader.log")[2];
    assert_eq!(nodata.outcome(), Some("unknown"));
    let doubled = &events("vpcflow-awsdocs/vpcflow_v3_custom_tcpflags.log")[7];
    assert_eq!(doubled.get_str("aws.vpcflow.pkt_srcaddr"), Some("10.0.0.62"));

    let wazuh = events("wazuh-securityhub-securitylake/aws_security_hub_events.jsonl");
    let plain = events("wazuh-securityhub-securitylake/securityhub_asff_findings.json");
    for (w, p) in wazuh.iter().zip(&plain) {
        assert_eq!(w.id(), p.id());
        assert_eq!(w.get_str("event.kind"), Some("state"));
        assert!(w.get_str("aws.securityhub.compliance.status").is_some());
    }
}

/// Panther's test cases wrap each finding as `{…, "log": {finding}}`.
fn panther_logs(dir: &Path, file: &str) -> String {
    let text = std::fs::read_to_string(dir.join("panther-analysis-tests").join(file)).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["log"].to_string() + "\n")
        .collect()
}

#[test]
fn panther_findings_unwrapped() {
    let Some(dir) = data_dir() else {
        println!("skipped: ../shared/data/aws2 not present");
        return;
    };
    for (file, format, want) in [
        ("guardduty_test_events.jsonl", Format::GuardDuty, 8),
        ("securityhub_asff_test_events.jsonl", Format::SecurityHub, 10),
    ] {
        let logs = panther_logs(&dir, file);
        assert_eq!(
            mamori_formats::sniff::sniff(logs.as_bytes()),
            Some(format),
            "{file}"
        );
        let items = parse(format, Box::new(Cursor::new(logs.into_bytes())), &ctx()).collect();
        let s = split(items);
        println!(
            "panther {file}: {format}: {} events, {} bad",
            s.events.len(),
            s.bad.len()
        );
        assert!(s.bad.is_empty(), "{file}: {:?}", s.bad);
        assert_eq!(s.events.len(), want, "{file}");
        for ev in &s.events {
            assert!(
                ev.get("tags")
                    .is_none_or(|t| !t.to_string().contains("timestamp_missing"))
            );
        }
        if format == Format::GuardDuty {
            let samples = s
                .events
                .iter()
                .filter(|e| {
                    e.get("tags")
                        .is_some_and(|t| t.to_string().contains("aws.guardduty.sample"))
                })
                .count();
            assert_eq!(samples, 4, "SOURCE.md: 4 sample findings");
        }
    }
}

//! Long lines full of one structural character (quotes, brackets, pipes,
//! equals signs, separators, escapes…) parse in linear time: every line
//! format gets a 256 KiB line of each, after a real line's start, and must
//! be done within a time no linear parser needs even unoptimized.

mod common;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{fixture, run};
use mamori_formats::Format;

const LEN: usize = 256 * 1024;
const LIMIT: Duration = Duration::from_secs(30);

/// (format, fixture) of the line formats.
const CASES: &[(&str, &str)] = &[
    ("weblog", "weblog_combined.log"),
    ("iis", "iis_w3c.log"),
    ("cloudfront", "cloudfront.log"),
    ("alb", "alb.log"),
    ("vpcflow", "vpcflow_default.log"),
    ("syslog", "syslog_mixed.log"),
    ("cef", "cef_samples.cef"),
    ("leef", "leef_samples.leef"),
    ("kv", "kv_samples.log"),
    ("auditd", "auditd.log"),
    ("squid", "squid_access.log"),
    ("weberror", "web_error.log"),
    ("zeek", "zeek_conn.log"),
    ("zeek", "zeek.json"),
    ("suricata", "suricata_eve.json"),
    ("csv", "table.csv"),
    ("ndjson", "zeek.json"),
];

const FILLERS: &[&str] = &[
    "\" ", "\"", "[", "]", "] \"", "|", "=", "a=", "\\", "\\=", " ", "\t", "{", "}", "[{", "\":", ",", ":",
    ".", "%", "<", "a.", "\"a\":1,", "k=v ",
];

/// The fixture's header lines (`#…` or the CSV header) and first data
/// line, the data line's second half replaced by `filler` repeated.
fn long_input(fixture_name: &str, filler: &str) -> String {
    let text = fixture(fixture_name);
    let mut out = String::new();
    let mut lines = text.lines();
    let mut data = "";
    for l in lines.by_ref() {
        if l.starts_with('#') || (fixture_name.ends_with(".csv") && out.is_empty()) {
            out.push_str(l);
            out.push('\n');
            continue;
        }
        data = l;
        break;
    }
    let cut = data
        .char_indices()
        .nth(data.chars().count() / 2)
        .map_or(0, |(i, _)| i);
    out.push_str(&data[..cut]);
    while out.len() < LEN {
        out.push_str(filler);
    }
    out.push('\n');
    out.push_str(data);
    out.push('\n');
    out
}

#[test]
fn long_lines_of_one_character_parse_in_linear_time() {
    let mut slow = Vec::new();
    for &(name, fixture_name) in CASES {
        let format = Format::from_name(name).expect("format");
        for filler in FILLERS {
            let input = long_input(fixture_name, filler);
            let (tx, rx) = mpsc::channel();
            let started = Instant::now();
            std::thread::spawn(move || {
                let items = run(format, &input).len();
                let _ = tx.send(items);
            });
            match rx.recv_timeout(LIMIT) {
                Ok(items) => assert!(items >= 1, "{name} {filler:?}"),
                Err(_) => slow.push(format!("{name} ({fixture_name}) with {filler:?}")),
            }
            let took = started.elapsed();
            assert!(took < LIMIT || !slow.is_empty(), "{name} {filler:?}: {took:?}");
        }
    }
    assert!(slow.is_empty(), "not done within {LIMIT:?}: {slow:#?}");
}

/// The same for the JSON document formats: 256 KiB of one filler inside
/// the list of records, after a real record.
#[test]
fn long_documents_of_one_filler_parse_in_linear_time() {
    let docs: &[(&str, &str, &str)] = &[
        ("cloudtrail", "{\"Records\":[", "]}"),
        ("guardduty", "[", "]"),
        ("securityhub", "{\"Findings\":[", "]}"),
    ];
    let record = r#"{"eventVersion":"1.08","eventTime":"2024-05-01T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"10.0.0.1"}"#;
    let mut slow = Vec::new();
    for &(name, open, close) in docs {
        let format = Format::from_name(name).expect("format");
        for filler in [
            "{},", "{", "}", "[", "]", "\"", ",", "\\", "{\"a\":", "[{", "\"\\u",
        ] {
            let mut input = format!("{open}{record},");
            while input.len() < LEN {
                input.push_str(filler);
            }
            input.push_str(close);
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                let _ = tx.send(run(format, &input).len());
            });
            if rx.recv_timeout(LIMIT).is_err() {
                slow.push(format!("{name} with {filler:?}"));
            }
        }
    }
    assert!(slow.is_empty(), "not done within {LIMIT:?}: {slow:#?}");
}

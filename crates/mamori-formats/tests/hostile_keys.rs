//! Field names made of very many dots (a key in a JSON record, a Zeek or
//! CSV header, a key=value pair) neither overflow the stack (deeply nested
//! objects are dropped and serialized recursively) nor take quadratic time
//! (lookups of every prefix of such a path).

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::run;
use mamori_formats::{Format, Item};

/// `a.a.a…`: a key of `n` segments.
fn key(n: usize) -> String {
    vec!["a"; n].join(".")
}

/// Parse `input` as `format` on a thread of its own (2 MiB of stack, as
/// threads get), serialize every event, and fail after a minute.
fn parse_in_time(format: Format, input: String) -> (usize, usize) {
    let (tx, rx) = mpsc::channel();
    let name = format.to_string();
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let (mut events, mut bad) = (0, 0);
            for item in run(format, &input) {
                match item {
                    Item::Event(ev) => {
                        assert!(!ev.to_json().is_empty());
                        events += 1;
                    }
                    Item::Bad(_) => bad += 1,
                    Item::Warning(_) => {}
                }
            }
            let _ = tx.send((events, bad));
        })
        .expect("thread");
    rx.recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("{name}: no result within a minute ({e})"))
}

const SEGMENTS: usize = 100_000;

#[test]
fn json_records() {
    let k = key(SEGMENTS);
    let suricata = format!(
        r#"{{"timestamp":"2024-05-01T10:00:00Z","event_type":"alert","src_ip":"10.0.0.1","{k}":{{"{k}":1}},"x":[{{"a.b":1}}]}}"#
    );
    assert_eq!(parse_in_time(Format::Suricata, suricata.clone()), (1, 0));
    assert_eq!(parse_in_time(Format::Ndjson, suricata), (1, 0));
    let zeek = format!(r#"{{"ts":1714557600.0,"uid":"C1","_path":"conn","{k}":1,"id.orig_h":"10.0.0.1"}}"#);
    assert_eq!(parse_in_time(Format::Zeek, zeek), (1, 0));
}

#[test]
fn syslog_json_payloads() {
    let k = key(SEGMENTS);
    let line =
        format!(r#"<13>May  1 10:00:00 host app: {{"x":[{{"a.b":1}}],"{k}":1,"y":{{"{k}":{{"z":2}}}}}}"#);
    assert_eq!(parse_in_time(Format::Syslog, line), (1, 0));
}

#[test]
fn headers_and_pairs() {
    let k = key(SEGMENTS);
    let zeek =
        format!("#separator \\x09\n#path\tconn\n#fields\tts\t{k}\n#types\ttime\tstring\n1714557600.0\tv\n");
    assert_eq!(parse_in_time(Format::Zeek, zeek), (1, 0));
    let csv = format!("time,{k}\n2024-05-01T10:00:00Z,v\n");
    assert_eq!(parse_in_time(Format::Csv, csv), (1, 0));
    let kv = format!("time=2024-05-01T10:00:00Z {k}=1 src=10.0.0.1\n");
    assert_eq!(parse_in_time(Format::Kv, kv).0, 1);
    let cef = format!("CEF:0|v|p|1|sig|name|5|src=10.0.0.1 {k}=1\n");
    assert_eq!(parse_in_time(Format::Cef, cef).0, 1);
}

/// One key repeated 100,000 times in a line: the values make one array,
/// built in linear time.
#[test]
fn repeated_keys() {
    let pairs = "k=1 ".repeat(100_000);
    let kv = format!("time=2024-05-01T10:00:00Z src=10.0.0.1 {pairs}\n");
    assert_eq!(parse_in_time(Format::Kv, kv).0, 1);
    let cef = format!("CEF:0|v|p|1|sig|name|5|src=10.0.0.1 {pairs}\n");
    assert_eq!(parse_in_time(Format::Cef, cef).0, 1);
    let leef = format!("LEEF:1.0|v|p|1|id|src=10.0.0.1\t{}\n", "k=1\t".repeat(100_000));
    assert_eq!(parse_in_time(Format::Leef, leef).0, 1);
}

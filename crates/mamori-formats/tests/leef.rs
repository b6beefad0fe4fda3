//! LEEF 1.0 and 2.0 files: the mapped fields, the delimiter forms and the
//! malformed cases, on the invented lines of `fixtures/leef_samples.leef`.

mod common;

use common::{fixture, run, split};
use mamori_formats::Format;
use mamori_formats::sniff::sniff;
use mamori_model::Event;
use serde_json::json;

fn parsed() -> common::Split {
    split(run(Format::Leef, fixture("leef_samples.leef")))
}

fn s<'a>(ev: &'a Event, path: &str) -> Option<&'a str> {
    ev.get_str(path)
}

#[test]
fn sniffed_and_counted() {
    let text = fixture("leef_samples.leef");
    assert_eq!(sniff(text.as_bytes()), Some(Format::Leef));
    let p = parsed();
    assert_eq!((p.events.len(), p.bad.len(), p.warnings.len()), (5, 3, 0));
}

#[test]
fn leef1_fields() {
    let ev = &parsed().events[0];
    for (path, want) in [
        ("leef.version", json!("1.0")),
        ("observer.vendor", json!("Acme")),
        ("observer.product", json!("Proxy")),
        ("observer.version", json!("3.2")),
        ("event.code", json!("allowed")),
        ("source.ip", json!("10.0.0.5")),
        ("destination.ip", json!("203.0.113.7")),
        ("source.port", json!(40000)),
        ("destination.port", json!(8080)),
        ("user.name", json!("ivan")),
        ("network.transport", json!("tcp")),
        ("event.severity", json!(5)),
        ("leef.category", json!("web")),
        ("source.bytes", json!(100)),
        ("destination.bytes", json!(2000)),
        ("event.action", json!("allow")),
        ("source.mac", json!("00-11-22-33-44-55")),
        ("leef.extensions.usrName", json!("ivan")),
        ("leef.extensions.devTimeFormat", json!("MMM dd yyyy HH:mm:ss")),
        ("@timestamp", json!("2024-05-01T10:00:00.000000Z")),
        ("tags", json!(["mamori.timestamp_assumed_utc"])),
        ("event.module", json!("leef")),
    ] {
        assert_eq!(ev.get(path), Some(&want), "{path}");
    }
}

#[test]
fn leef2_delimiters_and_java_time() {
    let p = parsed();
    let caret = &p.events[1];
    assert_eq!(caret.user_name(), Some("judy"));
    assert_eq!(caret.source_ip(), Some("198.51.100.3"));
    assert_eq!(s(caret, "@timestamp"), Some("2024-05-01T08:00:00.500000Z"));
    assert!(caret.get("tags").is_none());
    assert_eq!(s(caret, "network.transport"), Some("udp"));
    assert_eq!(s(caret, "network.iana_number"), Some("17"));
    assert_eq!(s(caret, "source.nat.ip"), Some("203.0.113.3"));
    assert_eq!(caret.get("source.nat.port"), Some(&json!(61000)));
    // No `action`: the event id.
    assert_eq!(caret.action(), Some("logon"));
    let hex_tab = &p.events[2];
    assert_eq!(hex_tab.user_name(), Some("kim"));
    assert_eq!(s(hex_tab, "leef.extensions.msg"), Some("a=b"));
    let hex_pipe = &p.events[3];
    assert_eq!(hex_pipe.user_name(), Some("lee"));
    assert_eq!(hex_pipe.source_ip(), Some("198.51.100.5"));
    let header_only = &p.events[4];
    assert_eq!(s(header_only, "event.code"), Some("idle"));
    assert!(header_only.get("leef.extensions").is_none());
    assert_eq!(
        header_only.get("tags"),
        Some(&json!(["mamori.timestamp_missing"]))
    );
}

#[test]
fn malformed_lines() {
    let p = parsed();
    let got: Vec<(u64, Option<u64>, &str)> = p
        .bad
        .iter()
        .map(|b| (b.location.line.unwrap(), b.location.column, b.reason.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                7,
                Some(29),
                "LEEF 2.0 delimiter: expected one character or a hex code such as x09, found `abc`"
            ),
            (
                8,
                Some(1),
                "LEEF header has 3 of the 5 `|`-separated fields expected after `LEEF:` \
                 (version|vendor|product|version|event id|)"
            ),
            (
                9,
                Some(28),
                "LEEF attributes: expected `key=value`, found `no pairs here`"
            ),
        ]
    );
    let text = fixture("leef_samples.leef");
    let offset: usize = text.lines().take(6).map(|l| l.len() + 1).sum();
    assert_eq!(p.bad[0].location.byte_offset, Some(offset as u64));
}

#[test]
fn syslog_wrapped_leef_in_a_leef_file() {
    let line = "<13>May  2 08:00:00 qr LEEF:1.0|Acme|P|1|e|src=192.0.2.8\tusrName=x\n";
    let p = split(run(Format::Leef, line));
    assert_eq!(p.events.len(), 1);
    assert_eq!(p.events[0].get_str("host.hostname"), Some("qr"));
    assert_eq!(p.events[0].user_name(), Some("x"));
}

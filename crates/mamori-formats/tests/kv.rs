//! Generic key=value files: quoting, the well-known keys, repeated keys and
//! the malformed cases, on the invented lines of `fixtures/kv_samples.log`.

mod common;

use common::{fixture, run, split};
use mamori_formats::Format;
use mamori_formats::sniff::sniff;
use mamori_model::Event;
use serde_json::json;

fn parsed() -> common::Split {
    split(run(Format::Kv, fixture("kv_samples.log")))
}

fn s<'a>(ev: &'a Event, path: &str) -> Option<&'a str> {
    ev.get_str(path)
}

#[test]
fn sniffed_and_counted() {
    let text = fixture("kv_samples.log");
    assert_eq!(sniff(text.as_bytes()), Some(Format::Kv));
    let p = parsed();
    assert_eq!((p.events.len(), p.bad.len(), p.warnings.len()), (4, 2, 0));
    let non_empty = text.lines().filter(|l| !l.trim().is_empty()).count();
    assert_eq!(p.events.len() + p.bad.len(), non_empty);
}

#[test]
fn well_known_keys() {
    let ev = &parsed().events[0];
    for (path, want) in [
        ("@timestamp", json!("2024-05-01T10:00:00.000000Z")),
        ("source.ip", json!("10.0.0.1")),
        ("destination.ip", json!("192.0.2.1")),
        ("source.port", json!(1234)),
        ("destination.port", json!(80)),
        ("network.transport", json!("tcp")),
        ("event.action", json!("allow")),
        ("user.name", json!("mallory")),
        ("kv.msg", json!("hello world")),
        ("kv.time", json!("2024-05-01 10:00:00 UTC")),
        ("related.ip", json!(["10.0.0.1", "192.0.2.1"])),
    ] {
        assert_eq!(ev.get(path), Some(&want), "{path}");
    }
    assert!(ev.get("tags").is_none());
}

#[test]
fn aliases_placeholders_and_repeats() {
    let ev = &parsed().events[1];
    assert_eq!(s(ev, "@timestamp"), Some("2024-05-01T10:00:00.000000Z"));
    assert_eq!(ev.source_ip(), Some("10.0.0.2"));
    assert_eq!(s(ev, "destination.ip"), Some("192.0.2.2"));
    assert_eq!(ev.get("source.port"), Some(&json!(1111)));
    assert_eq!(ev.get("destination.port"), Some(&json!(22)));
    // `N/A` is kept raw but not mapped.
    assert_eq!(ev.user_name(), None);
    assert_eq!(s(ev, "kv.user"), Some("N/A"));
    assert_eq!(ev.get("kv.LEN"), Some(&json!(["40", "60"])));
}

#[test]
fn ip_port_iface_quotes_and_outcome() {
    let ev = &parsed().events[2];
    assert_eq!(ev.source_ip(), Some("10.0.0.3"));
    assert_eq!(ev.get("source.port"), Some(&json!(5555)));
    assert_eq!(ev.get("destination.port"), Some(&json!(443)));
    assert_eq!(s(ev, "network.transport"), Some("tcp"));
    assert_eq!(s(ev, "network.iana_number"), Some("6"));
    assert_eq!(s(ev, "kv.note"), Some("a \"quoted\" word"));
    assert_eq!(ev.outcome(), Some("failure"));
    assert_eq!(ev.get("tags"), Some(&json!(["mamori.timestamp_missing"])));
}

#[test]
fn a_syslog_header_in_a_kv_file() {
    let ev = &parsed().events[3];
    assert_eq!(s(ev, "host.hostname"), Some("host"));
    assert_eq!(ev.source_ip(), Some("192.0.2.77"));
    assert_eq!(s(ev, "kv.k1"), Some("v1"));
}

#[test]
fn malformed_lines() {
    let p = parsed();
    let quote = &p.bad[0];
    assert_eq!((quote.location.line, quote.location.column), (Some(5), Some(7)));
    assert_eq!(
        quote.reason,
        "unterminated quoted value of `b`: expected a closing `\"`"
    );
    let text = fixture("kv_samples.log");
    let offset: usize = text.lines().take(4).map(|l| l.len() + 1).sum();
    assert_eq!(quote.location.byte_offset, Some(offset as u64));
    let words = &p.bad[1];
    assert_eq!(words.location.line, Some(6));
    assert_eq!(words.reason, "expected key=value pairs, found none");
    let p = split(run(Format::Kv, b"a=1 b=\xff c=3\n"));
    assert!(p.bad[0].reason.starts_with("line is not valid UTF-8"));
}

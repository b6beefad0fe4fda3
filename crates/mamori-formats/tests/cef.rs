//! CEF files: every mapped field, the escaping rules and the malformed
//! cases, on the invented lines of `fixtures/cef_samples.cef`.

mod common;

use common::{fixture, run, split};
use mamori_formats::Format;
use mamori_formats::sniff::sniff;
use mamori_model::Event;
use serde_json::{Value, json};

fn parsed() -> common::Split {
    split(run(Format::Cef, fixture("cef_samples.cef")))
}

fn s<'a>(ev: &'a Event, path: &str) -> Option<&'a str> {
    ev.get_str(path)
}

#[test]
fn sniffed_and_counted() {
    let text = fixture("cef_samples.cef");
    assert_eq!(sniff(text.as_bytes()), Some(Format::Cef));
    let p = parsed();
    assert_eq!((p.events.len(), p.bad.len(), p.warnings.len()), (4, 2, 0));
    let non_empty = text.lines().filter(|l| !l.trim().is_empty()).count();
    assert_eq!(p.events.len() + p.bad.len(), non_empty);
}

#[test]
fn common_keys() {
    let ev = &parsed().events[0];
    for (path, want) in [
        ("cef.version", json!("0")),
        ("observer.vendor", json!("Acme")),
        ("observer.product", json!("Edge Firewall")),
        ("observer.version", json!("5.4")),
        ("event.code", json!("100")),
        ("cef.name", json!("Connection allowed")),
        ("rule.name", json!("Connection allowed")),
        ("event.severity", json!(3)),
        ("cef.severity", json!("3")),
        ("source.ip", json!("10.0.0.1")),
        ("destination.ip", json!("192.0.2.10")),
        ("source.port", json!(50000)),
        ("destination.port", json!(443)),
        ("network.transport", json!("tcp")),
        ("event.action", json!("allow")),
        ("source.bytes", json!(1024)),
        ("destination.bytes", json!(2048)),
        ("source.mac", json!("00-11-22-33-44-55")),
        ("destination.mac", json!("66-77-88-99-AA-BB")),
        ("source.domain", json!("laptop.corp")),
        ("destination.domain", json!("www.example.com")),
        ("source.user.name", json!("alice")),
        ("destination.user.name", json!("bob")),
        ("user.name", json!("alice")),
        ("@timestamp", json!("2024-05-01T10:00:00.000000Z")),
        ("event.start", json!("2024-05-01T10:00:00.000000Z")),
        ("event.end", json!("2024-05-01T10:05:00.000000Z")),
        ("observer.ip", json!("10.0.0.254")),
        ("observer.hostname", json!("fw1")),
        ("observer.name", json!("FW-SERIAL-1")),
        ("cef.category", json!("/Network/Allow")),
        ("source.nat.ip", json!("198.51.100.1")),
        ("source.nat.port", json!(60000)),
        ("message", json!("Connection allowed")),
        ("event.module", json!("cef")),
        ("cef.extensions.spt", json!("50000")),
        ("cef.extensions.dvchost", json!("fw1")),
        (
            "related.ip",
            json!(["10.0.0.1", "192.0.2.10", "198.51.100.1", "10.0.0.254"]),
        ),
        ("related.user", json!(["alice", "bob"])),
    ] {
        assert_eq!(ev.get(path), Some(&want), "{path}");
    }
    // `0.0.0.0` is no NAT address.
    assert!(ev.get("destination.nat").is_none());
    // `rt` is epoch ms with no zone question: no tag.
    assert!(ev.get("tags").is_none());
}

#[test]
fn escaping_labels_and_severity_words() {
    let ev = &parsed().events[1];
    assert_eq!(s(ev, "cef.version"), Some("1"));
    assert_eq!(s(ev, "observer.vendor"), Some("Ven|dor"));
    assert_eq!(s(ev, "observer.product"), Some("Pro\\duct"));
    assert_eq!(s(ev, "cef.name"), Some("Name with | pipe"));
    assert_eq!(ev.get("event.severity"), Some(&json!(10)));
    assert_eq!(s(ev, "cef.severity"), Some("Very-High"));
    assert_eq!(
        s(ev, "message"),
        Some("first line\nsecond line with a=b and a \\ backslash")
    );
    assert_eq!(s(ev, "url.original"), Some("https://example.com/a?b=c"));
    assert_eq!(s(ev, "http.request.method"), Some("POST"));
    assert_eq!(s(ev, "file.name"), Some("report.pdf"));
    assert_eq!(s(ev, "file.path"), Some("C:\\Users\\x\\report.pdf"));
    assert_eq!(s(ev, "event.outcome"), Some("success"));
    // No `act`: the name is the action.
    assert_eq!(ev.action(), Some("Name with | pipe"));
    // Custom fields by label (spaces and dots become `_`), raw pairs kept too.
    assert_eq!(s(ev, "cef.extensions.Rule_Name"), Some("policy-7"));
    assert_eq!(s(ev, "cef.extensions.Risk_Score"), Some("42"));
    assert_eq!(s(ev, "cef.extensions.cs1"), Some("policy-7"));
    assert_eq!(s(ev, "cef.extensions.cs1Label"), Some("Rule Name"));
    // `MMM dd yyyy HH:mm:ss.SSS +02:00`.
    assert_eq!(s(ev, "@timestamp"), Some("2024-05-01T08:00:00.250000Z"));
}

#[test]
fn medium_severity_ipv6_and_no_time() {
    let ev = &parsed().events[2];
    assert_eq!(ev.get("event.severity"), Some(&json!(6)));
    assert_eq!(ev.source_ip(), Some("2001:db8::1"));
    assert_eq!(ev.user_name(), Some("carol"));
    assert_eq!(ev.action(), Some("alert"));
    assert_eq!(s(ev, "@timestamp"), Some("2030-01-02T03:04:05.000000Z"));
    assert_eq!(ev.get("tags"), Some(&json!(["mamori.timestamp_missing"])));
    assert_eq!(s(ev, "event.ingested"), Some("2030-01-02T03:04:05.000000Z"));
}

#[test]
fn a_syslog_header_in_a_cef_file() {
    let ev = &parsed().events[3];
    assert_eq!(s(ev, "host.hostname"), Some("sensor"));
    assert_eq!(ev.source_ip(), Some("192.0.2.99"));
    assert_eq!(s(ev, "cef.name"), Some("Wrapped"));
}

#[test]
fn malformed_lines() {
    let text = fixture("cef_samples.cef");
    let p = parsed();
    let offset = |n: usize| text.lines().take(n - 1).map(|l| l.len() + 1).sum::<usize>() as u64;
    let few = &p.bad[0];
    assert_eq!(few.location.line, Some(5));
    assert_eq!(few.location.byte_offset, Some(offset(5)));
    assert_eq!(
        few.reason,
        "CEF header has 4 of the 7 `|`-separated fields expected after `CEF:` \
         (version|vendor|product|version|event class id|name|severity|extension)"
    );
    let junk = &p.bad[1];
    assert_eq!(junk.location.line, Some(6));
    assert_eq!(junk.location.column, Some(19));
    assert_eq!(
        junk.reason,
        "CEF extension: expected `key=value` pairs, found `junk without pairs`"
    );
    assert_eq!(junk.raw, "CEF:0|A|B|1|2|N|5|junk without pairs");
}

#[test]
fn invalid_utf8_and_empty_extension() {
    let mut input = b"CEF:0|A|B|1|2|N|5|msg=caf\xe9\n".to_vec();
    input.extend_from_slice(b"CEF:0|A|B|1|2|N|5|\n");
    let p = split(run(Format::Cef, &input));
    assert_eq!(p.bad.len(), 1);
    assert!(p.bad[0].reason.starts_with("line is not valid UTF-8"));
    assert_eq!(p.bad[0].location.column, Some(26));
    assert_eq!(p.events.len(), 1);
    assert_eq!(p.events[0].get("cef.extensions"), None::<&Value>);
    assert_eq!(p.events[0].get("event.severity"), Some(&json!(5)));
}

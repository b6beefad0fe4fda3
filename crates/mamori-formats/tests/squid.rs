//! Squid native access logs: every column mapped, CONNECT targets, the
//! error lines Squid writes, and malformed lines, on the invented lines of
//! `fixtures/squid_access.log`.

mod common;

use common::{fixture, run, split};
use mamori_formats::Format;
use mamori_formats::sniff::sniff;
use serde_json::json;

#[test]
fn squid_access_lines() {
    let text = fixture("squid_access.log");
    assert_eq!(sniff(text.as_bytes()), Some(Format::Squid));
    let p = split(run(Format::Squid, &text));
    assert_eq!((p.events.len(), p.bad.len()), (4, 2));
    let miss = &p.events[0];
    for (path, want) in [
        ("@timestamp", json!("2024-12-07T04:10:04.123000Z")),
        ("event.duration", json!(245_000_000u64)),
        ("source.ip", json!("10.1.2.3")),
        ("squid.result_code", json!("TCP_MISS")),
        ("event.action", json!("tcp_miss")),
        ("http.response.status_code", json!(200)),
        ("http.response.bytes", json!(5120)),
        ("http.request.method", json!("GET")),
        ("url.domain", json!("updates.example.com")),
        ("url.path", json!("/pkg/list.txt")),
        ("url.query", json!("v=2")),
        ("user.name", json!("alice")),
        ("squid.hierarchy_code", json!("HIER_DIRECT")),
        ("destination.ip", json!("198.51.100.20")),
        ("http.response.mime_type", json!("text/plain")),
        ("event.outcome", json!("success")),
        ("related.ip", json!(["10.1.2.3", "198.51.100.20"])),
        ("event.dataset", json!("squid.access")),
    ] {
        assert_eq!(miss.get(path), Some(&want), "{path}");
    }
    let denied = &p.events[1];
    assert_eq!(denied.get("event.type"), Some(&json!(["access", "denied"])));
    assert_eq!(denied.get_str("url.domain"), Some("evil.example.net"));
    assert_eq!(denied.get("url.port"), Some(&json!(443)));
    assert_eq!(denied.outcome(), Some("failure"));
    assert_eq!(denied.get("user.name"), None);
    assert_eq!(denied.get("destination.ip"), None);
    let error = &p.events[3];
    assert_eq!(error.get("http.response.status_code"), None);
    assert_eq!(
        error.get_str("url.original"),
        Some("error:transaction-end-before-headers")
    );
    assert_eq!(p.bad[0].location.line, Some(6));
    assert!(p.bad[0].reason.starts_with("expected the 10 columns"));
    assert_eq!(p.bad[1].reason, "bad time \"1733544609.x\"");
}

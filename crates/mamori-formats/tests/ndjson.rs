//! Generic NDJSON: keys kept, timestamps found, bad lines located, ids and tenants not trusted.

mod common;

use std::io::Cursor;

use common::{ctx, run, split};
use mamori_formats::Format;
use mamori_formats::ndjson::{NdjsonOptions, parse_with};
use mamori_model::Event;
use serde_json::json;

#[test]
fn keys_are_kept_and_dotted_keys_expanded() {
    let line = r#"{"@timestamp":"2024-05-01T12:00:00+02:00","source.ip":"10.0.0.1","source":{"port":443},"event":{"action":"login","id":"forged"},"tenant":"other","message":"hi","tags":"ecs"}"#;
    let s = split(run(Format::Ndjson, line));
    let ev = &s.events[0];
    assert_eq!(ev.get_str("@timestamp"), Some("2024-05-01T10:00:00.000000Z"));
    assert_eq!(ev.source_ip(), Some("10.0.0.1"));
    assert_eq!(ev.get("source.port"), Some(&json!(443)));
    assert_eq!(ev.action(), Some("login"));
    assert_eq!(ev.tenant(), "acme");
    assert_eq!(ev.id(), Event::derived_id("acme", line));
    assert_eq!(ev.original(), line);
    assert_eq!(ev.get_str("message"), Some("hi"));
    assert_eq!(ev.get_str("tags"), Some("ecs"));
    assert_eq!(ev.get("event.ingested"), None);
}

#[test]
fn timestamp_fields_in_order_and_epoch_numbers() {
    let input = [
        r#"{"timestamp":"2024-05-01T10:00:00Z"}"#,
        r#"{"time":1714557600}"#,
        r#"{"eventTime":1714557600123}"#,
        r#"{"ts":"1714557600.5"}"#,
        r#"{"time":"not a time","ts":1714557600}"#,
        r#"{"when":"2024-05-01T10:00:00Z","tags":["x"]}"#,
    ]
    .join("\n");
    let s = split(run(Format::Ndjson, input));
    let times: Vec<_> = s
        .events
        .iter()
        .map(|e| e.get_str("@timestamp").unwrap_or("").to_string())
        .collect();
    assert_eq!(
        times,
        [
            "2024-05-01T10:00:00.000000Z",
            "2024-05-01T10:00:00.000000Z",
            "2024-05-01T10:00:00.123000Z",
            "2024-05-01T10:00:00.500000Z",
            "2024-05-01T10:00:00.000000Z",
            "2030-01-02T03:04:05.000000Z",
        ]
    );
    let last = &s.events[5];
    assert_eq!(last.get("tags"), Some(&json!(["x", "mamori.timestamp_missing"])));
    assert_eq!(
        last.get_str("event.ingested"),
        Some("2030-01-02T03:04:05.000000Z")
    );
    assert_eq!(last.get_str("when"), Some("2024-05-01T10:00:00Z"));
}

#[test]
fn a_named_timestamp_field() {
    let input = r#"{"created":{"at":"2024-05-01T10:00:00Z"},"@timestamp":"2020-01-01T00:00:00Z"}"#;
    let options = NdjsonOptions {
        timestamp_field: Some("created.at".into()),
    };
    let items: Vec<_> =
        parse_with(options, Box::new(Cursor::new(input.as_bytes().to_vec())), &ctx()).collect();
    let s = split(items);
    assert_eq!(
        s.events[0].get_str("@timestamp"),
        Some("2024-05-01T10:00:00.000000Z")
    );
}

#[test]
fn bad_lines_have_line_numbers_and_offsets() {
    let input = "{\"a\":1}\n\n  #json!!\n[1,2]\n{\"b\":2}\n{\"c\": tru}\n\u{0}";
    let s = split(run(Format::Ndjson, input));
    assert_eq!(s.events.len(), 2);
    assert_eq!(s.bad.len(), 4);
    let b = &s.bad[0];
    assert_eq!((b.location.line, b.location.byte_offset), (Some(3), Some(9)));
    assert_eq!(b.location.column, Some(3));
    assert!(
        b.reason.starts_with("invalid JSON: expected value at column 3"),
        "{}",
        b.reason
    );
    assert_eq!(b.raw, "  #json!!");
    assert_eq!(b.location.to_string(), "test.json:3:3 (byte 9)");
    let b = &s.bad[1];
    assert_eq!((b.location.line, b.location.byte_offset), (Some(4), Some(19)));
    assert_eq!(b.reason, "expected a JSON object, found an array");
    let b = &s.bad[2];
    assert_eq!((b.location.line, b.location.byte_offset), (Some(6), Some(33)));
    assert!(b.reason.contains("column"), "{}", b.reason);
    assert_eq!(s.bad[3].location.line, Some(7));
}

#[test]
fn crlf_bom_and_invalid_utf8() {
    let input = b"\xEF\xBB\xBF{\"a\":1}\r\n{\"b\":\"\xff\"}\r\n\r\n{\"c\":3}\r\n";
    let s = split(run(Format::Ndjson, input));
    assert_eq!(s.events.len(), 2);
    assert_eq!(s.events[0].original(), "{\"a\":1}");
    assert_eq!(s.events[1].original(), "{\"c\":3}");
    assert_eq!(s.bad.len(), 1);
    let b = &s.bad[0];
    assert_eq!((b.location.line, b.location.byte_offset), (Some(2), Some(12)));
    assert!(b.reason.contains("UTF-8"), "{}", b.reason);
    assert_eq!(b.raw, "{\"b\":\"\u{fffd}\"}");
}

#[test]
fn cloudtrail_lines_use_the_cloudtrail_mapping() {
    let line = r#"{"eventVersion":"1.08","eventSource":"iam.amazonaws.com","eventName":"DeleteUser","eventTime":"2024-01-01T00:00:00Z","eventID":"ct-1","sourceIPAddress":"192.0.2.1","userIdentity":{"type":"IAMUser","userName":"mallory"}}"#;
    let s = split(run(Format::Ndjson, line));
    let ev = &s.events[0];
    assert_eq!(ev.get_str("event.dataset"), Some("aws.cloudtrail"));
    assert_eq!(ev.action(), Some("DeleteUser"));
    assert_eq!(ev.user_name(), Some("mallory"));
    assert_eq!(ev.id(), "ct-1");
    assert_eq!(ev.get("eventName"), None);
}

//! CSV with a header: columns as fields, time column, RFC 4180 quoting,
//! rows of the wrong width as bad records.

mod common;

use common::{fixture, run, split};
use mamori_formats::Format;
use mamori_formats::sniff::sniff;
use mamori_model::Event;
use serde_json::json;

#[test]
fn sniffing() {
    assert_eq!(sniff(fixture("table.csv").as_bytes()), Some(Format::Csv));
    assert_eq!(sniff(b"a,b\n1,2\n"), None);
    assert_eq!(
        sniff(b"Event Type,Event Name,Source IP\r\nx,y,z\r\n"),
        Some(Format::Csv)
    );
    assert_eq!(Format::from_name("csv"), Some(Format::Csv));
}

#[test]
fn rows_become_events() {
    let text = fixture("table.csv");
    let s = split(run(Format::Csv, &text));
    assert_eq!(s.events.len(), 4);
    assert_eq!(s.bad.len(), 1);

    let ev = &s.events[0];
    assert_eq!(ev.get_str("@timestamp"), Some("2023-10-10T12:00:01.000000Z"));
    assert_eq!(ev.source_ip(), Some("192.0.2.1"));
    assert_eq!(ev.user_name(), Some("alice"));
    assert_eq!(ev.get_str("Event Name"), Some("ConsoleLogin"));
    assert_eq!(ev.get_str("message"), Some("plain, with comma"));
    assert_eq!(ev.tenant(), "acme", "a tenant column is not trusted");
    assert_eq!(ev.original(), text.lines().nth(1).unwrap());
    assert_eq!(ev.id(), Event::derived_id("acme", ev.original()));
    assert_eq!(ev.get("tags"), None);

    // `YYYY-MM-DD HH:MM:SS` is UTC; a quoted field spans lines with "" escapes.
    let ev = &s.events[1];
    assert_eq!(ev.get_str("@timestamp"), Some("2023-10-10T12:00:02.000000Z"));
    assert_eq!(ev.get_str("message"), Some("multi\nline \"quoted\" text"));
    assert_eq!(
        ev.original(),
        "2023-10-10 12:00:02,192.0.2.2,bob,GetObject,\"multi\nline \"\"quoted\"\" text\","
    );

    // Epoch seconds; empty cells are left out.
    let ev = &s.events[2];
    assert_eq!(ev.get_str("@timestamp"), Some("2023-10-10T12:00:03.000000Z"));
    assert_eq!(ev.get("user.name"), None);
    assert_eq!(ev.get("message"), None);

    // The short row: bad, with the line it starts on.
    let bad = &s.bad[0];
    assert_eq!(bad.location.line, Some(6));
    assert_eq!(bad.reason, "4 fields, but the header has 6");
    assert_eq!(bad.raw, "2023-10-10T12:00:04Z,192.0.2.4,carol,TooFew");
    let offset = text.find("2023-10-10T12:00:04Z").unwrap() as u64;
    assert_eq!(bad.location.byte_offset, Some(offset));

    // An unreadable time: the ingest time, tagged.
    let ev = &s.events[3];
    assert_eq!(ev.get_str("@timestamp"), Some("2030-01-02T03:04:05.000000Z"));
    assert_eq!(ev.get("tags"), Some(&json!(["mamori.timestamp_missing"])));
}

#[test]
fn time_column_names_and_open_quotes() {
    let input = "Request ID,Event DateTime,Alarm DateTime\n\
                 r1,2022-02-18T17:34:57Z,2022-02-18T17:39:28.127636+00:00\n\
                 r2,\"never closed\n";
    let s = split(run(Format::Csv, input));
    assert_eq!(s.events.len(), 1);
    assert_eq!(
        s.events[0].get_str("@timestamp"),
        Some("2022-02-18T17:34:57.000000Z")
    );
    assert_eq!(
        s.events[0].get_str("Alarm DateTime"),
        Some("2022-02-18T17:39:28.127636+00:00")
    );
    assert_eq!(s.bad.len(), 1);
    assert_eq!(s.bad[0].location.line, Some(3));
    assert!(s.bad[0].reason.contains("not closed"));

    // Repeated identical rows are distinct events.
    let s = split(run(Format::Csv, "a,b,c\n1,2,3\n1,2,3\n"));
    assert_eq!(s.events.len(), 2);
    assert_ne!(s.events[0].id(), s.events[1].id());
    // A header alone yields nothing; blank lines are skipped.
    assert!(run(Format::Csv, "a,b,c\n\n").is_empty());
}

//! Opening files: gzip, sniffing every shape, read errors as bad records.

mod common;

use std::io::Write;
use std::path::Path;

use common::{ctx, fixture, split};
use flate2::Compression;
use flate2::write::GzEncoder;
use mamori_formats::{Format, FormatError, Item, open, open_and_sniff, parse};

fn write(dir: &Path, name: &str, data: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, data).unwrap();
    path
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// Text that does not compress to nothing, so that cutting the gzip in half
/// leaves some decodable data.
fn many_lines(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{{\"n\":{i},\"v\":\"{:x}\"}}\n",
                (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            )
        })
        .collect()
}

#[test]
fn sniffs_each_shape_from_files() {
    let dir = tempfile::tempdir().unwrap();
    let records = fixture("cloudtrail_records.json");
    let cases: [(&str, Vec<u8>, Format); 7] = [
        ("records.json", records.clone().into_bytes(), Format::CloudTrail),
        ("records.json.gz", gzip(records.as_bytes()), Format::CloudTrail),
        (
            "digest.json.gz",
            gzip(br#"{"awsAccountId":"1","digestStartTime":"2024-01-01T00:00:00Z"}"#),
            Format::CloudTrailDigest,
        ),
        (
            "lines.json",
            br#"{"eventVersion":"1","eventSource":"a","eventName":"b"}"#.to_vec(),
            Format::CloudTrail,
        ),
        (
            "eb.json",
            br#"{"detail-type":"AWS Console Sign In via CloudTrail","detail":{"eventName":"ConsoleLogin"}}"#
                .to_vec(),
            Format::CloudTrail,
        ),
        (
            "pretty.json",
            b"{\n \"eventVersion\": \"1\",\n \"eventSource\": \"a\",\n \"eventName\": \"b\"\n}".to_vec(),
            Format::CloudTrail,
        ),
        ("app.ndjson", b"{\"msg\":\"hi\"}\n".to_vec(), Format::Ndjson),
    ];
    for (name, data, want) in cases {
        let path = write(dir.path(), name, &data);
        let (format, reader) = open_and_sniff(&path).unwrap();
        assert_eq!(format, want, "{name}");
        // The reader starts at byte 0.
        let items: Vec<_> = parse(format, reader, &ctx()).collect();
        assert!(
            items.iter().all(|i| !matches!(i, Item::Bad(_))),
            "{name}: {items:?}"
        );
    }
}

#[test]
fn unrecognised_and_missing_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "notes.txt",
        b"hello world, this is not a log format we know",
    );
    let err = open_and_sniff(&path).err().unwrap();
    assert!(matches!(err, FormatError::Unrecognised { .. }));
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "no format recognises {}: first bytes \"hello",
            path.display()
        )),
        "{text}"
    );

    let empty = write(dir.path(), "empty.json", b"");
    assert!(
        open_and_sniff(&empty)
            .err()
            .unwrap()
            .to_string()
            .ends_with("it is empty")
    );

    let missing = dir.path().join("nope.json");
    let err = open_and_sniff(&missing).err().unwrap();
    assert!(matches!(err, FormatError::Open { .. }));
    assert!(
        err.to_string()
            .starts_with(&format!("cannot open {}", missing.display()))
    );
}

#[test]
fn truncated_gzip_ndjson_ends_with_a_read_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = gzip(many_lines(5000).as_bytes());
    let path = write(dir.path(), "cut.ndjson.gz", &data[..data.len() / 2]);
    let (format, reader) = open_and_sniff(&path).unwrap();
    assert_eq!(format, Format::Ndjson);
    let items: Vec<_> = parse(format, reader, &ctx()).collect();
    let Some(Item::Bad(last)) = items.last() else {
        panic!("no bad record at the end");
    };
    assert!(last.reason.starts_with("read error: "), "{}", last.reason);
    assert!(last.reason.contains("unexpected end of file"), "{}", last.reason);
    let s = split(items.clone());
    assert_eq!(s.bad.len(), 1);
    assert!(s.events.len() > 100, "{}", s.events.len());
    // The location is where decompressed data stopped.
    let line = last.location.line.unwrap();
    assert_eq!(line, s.events.len() as u64 + 1);
    let good: usize = many_lines(5000)
        .lines()
        .take(s.events.len())
        .map(|l| l.len() + 1)
        .sum();
    assert_eq!(last.location.byte_offset, Some((good + last.raw.len()) as u64));
}

#[test]
fn truncated_gzip_records_file_keeps_the_records_before_the_cut() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("{\"Records\": [\n");
    for i in 0..3000 {
        text.push_str(&format!(
            "  {{\"eventVersion\":\"1.08\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"GetObject\",\"eventID\":\"{:016x}-{i}\"}},\n",
            (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ));
    }
    text.push_str("  {\"eventName\":\"last\"}\n]}\n");
    let data = gzip(text.as_bytes());
    let path = write(dir.path(), "cut.json.gz", &data[..data.len() * 2 / 3]);
    let items: Vec<_> = parse(Format::CloudTrail, open(&path).unwrap(), &ctx()).collect();
    let s = split(items.clone());
    assert_eq!(s.bad.len(), 1, "{:?}", s.bad);
    assert!(s.bad[0].reason.starts_with("read error: "));
    assert!(matches!(items.last(), Some(Item::Bad(_))));
    assert!(s.events.len() > 1000);
    // Whole gzip: every record.
    let path = write(dir.path(), "whole.json.gz", &data);
    let s = split(parse(Format::CloudTrail, open(&path).unwrap(), &ctx()).collect());
    assert_eq!((s.events.len(), s.bad.len()), (3001, 0));
}

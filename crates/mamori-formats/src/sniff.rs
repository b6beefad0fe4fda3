//! Recognising a format from the first bytes of the (decompressed) input.
//!
//! | first value                                                         | format |
//! |---------------------------------------------------------------------|--------|
//! | object with a top-level `Records` array                             | [`Format::CloudTrail`] |
//! | object with `awsAccountId` and `digestStartTime`                    | [`Format::CloudTrailDigest`] |
//! | object with `eventVersion`, `eventSource`, `eventName` (one line or pretty-printed) | [`Format::CloudTrail`] |
//! | object with `"detail-type": "… via CloudTrail"` (EventBridge)       | [`Format::CloudTrail`] |
//! | array whose first element is a CloudTrail record                    | [`Format::CloudTrail`] |
//! | any other object on the first line                                  | [`Format::Ndjson`] |

use serde_json::Value;

use crate::Format;
use crate::scan::{Members, ScanError, skip_ws, string_end};

/// How many bytes [`sniff`] wants to see.
pub const HEAD_LEN: usize = 64 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The format of an input starting with `head` (up to [`HEAD_LEN`] bytes), if any.
pub fn sniff(head: &[u8]) -> Option<Format> {
    let head = head.strip_prefix(BOM).unwrap_or(head);
    let start = skip_ws(head, 0);
    match head.get(start)? {
        b'{' => match object_kind(head, start) {
            (Kind::Records | Kind::Record | Kind::EventBridge, _) => Some(Format::CloudTrail),
            (Kind::Digest, _) => Some(Format::CloudTrailDigest),
            (Kind::Other, well_formed) => first_line_is_object(head, start, well_formed).then_some(Format::Ndjson),
        },
        b'[' => {
            let first = skip_ws(head, start + 1);
            let record = head.get(first) == Some(&b'{') && object_kind(head, first).0 == Kind::Record;
            record.then_some(Format::CloudTrail)
        }
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Records,
    Digest,
    Record,
    EventBridge,
    Other,
}

/// What the object at `start` looks like from its top-level keys, and whether
/// what was seen of it is well formed (it may be cut by the end of the head).
fn object_kind(head: &[u8], start: usize) -> (Kind, bool) {
    let mut members = Members::new(head, start);
    let (mut digest, mut record) = (0, 0);
    let well_formed = loop {
        let (key, value) = match members.next_member() {
            Ok(Some(m)) => m,
            Ok(None) | Err(ScanError::Eof) => break true,
            Err(ScanError::Unexpected(_)) => break false,
        };
        match key {
            b"Records" if head.get(value) == Some(&b'[') => return (Kind::Records, true),
            b"awsAccountId" | b"digestStartTime" => digest += 1,
            b"eventVersion" | b"eventSource" | b"eventName" => record += 1,
            b"detail-type" if is_cloudtrail_detail_type(head, value) => return (Kind::EventBridge, true),
            _ => {}
        }
        match members.skip_value(value) {
            Ok(()) => {}
            Err(ScanError::Eof) => break true,
            Err(ScanError::Unexpected(_)) => break false,
        }
    };
    let kind = if digest == 2 {
        Kind::Digest
    } else if record == 3 {
        Kind::Record
    } else {
        Kind::Other
    };
    (kind, well_formed)
}

/// EventBridge detail types of CloudTrail events all end in "via CloudTrail".
fn is_cloudtrail_detail_type(head: &[u8], value: usize) -> bool {
    head.get(value) == Some(&b'"')
        && string_end(head, value).is_ok_and(|end| head[value + 1..end - 1].ends_with(b"via CloudTrail"))
}

fn first_line_is_object(head: &[u8], start: usize, well_formed: bool) -> bool {
    let rest = &head[start..];
    match rest.iter().position(|&b| b == b'\n') {
        Some(end) => matches!(serde_json::from_slice::<Value>(&rest[..end]), Ok(Value::Object(_))),
        // One line longer than the head: trust the scanner's view of its start.
        None if head.len() >= HEAD_LEN => well_formed,
        None => matches!(serde_json::from_slice::<Value>(rest), Ok(Value::Object(_))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_files() {
        assert_eq!(sniff(b"{\"Records\":[{\"eventVersion\":\"1.08\"}]}"), Some(Format::CloudTrail));
        let pretty = b"\xEF\xBB\xBF\n  {\n  \"Records\": [\n    {\n      \"eventVersion\": \"1.08\"";
        assert_eq!(sniff(pretty), Some(Format::CloudTrail));
        // A nested Records key is not the top-level one.
        assert_eq!(sniff(b"{\"x\":{\"Records\":[]}}\n"), Some(Format::Ndjson));
    }

    #[test]
    fn digest() {
        let d = br#"{"awsAccountId":"111122223333","digestStartTime":"2024-05-01T10:00:00Z","logFiles":[]}"#;
        assert_eq!(sniff(d), Some(Format::CloudTrailDigest));
    }

    #[test]
    fn single_records_and_eventbridge() {
        let line = br#"{"eventVersion":"1.08","eventSource":"s3.amazonaws.com","eventName":"GetObject"}
{"eventVersion":"1.08"#;
        assert_eq!(sniff(line), Some(Format::CloudTrail));
        let pretty = b"{\n  \"eventVersion\": \"1.08\",\n  \"userIdentity\": {\"type\": \"Root\"},\n  \"eventSource\": \"iam.amazonaws.com\",\n  \"eventName\": \"X\"\n}";
        assert_eq!(sniff(pretty), Some(Format::CloudTrail));
        let eb = br#"{"version":"0","detail-type":"AWS API Call via CloudTrail","detail":{}}"#;
        assert_eq!(sniff(eb), Some(Format::CloudTrail));
        let arr = b"[\n {\"eventVersion\":\"1\",\"eventSource\":\"a\",\"eventName\":\"b\"}]";
        assert_eq!(sniff(arr), Some(Format::CloudTrail));
    }

    #[test]
    fn ndjson_and_unknown() {
        assert_eq!(sniff(b"{\"a\":1}\r\n{\"a\":2}\n"), Some(Format::Ndjson));
        assert_eq!(sniff(b"  {\"a\":1}"), Some(Format::Ndjson));
        assert_eq!(sniff(b"{\n \"a\": 1\n}"), None);
        assert_eq!(sniff(b"{\"a\":1"), None);
        assert_eq!(sniff(b"[1,2]"), None);
        assert_eq!(sniff(b"hello"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"\xEF\xBB\xBF   "), None);
        let mut long = b"{\"k\":\"".to_vec();
        long.resize(HEAD_LEN, b'x');
        assert_eq!(sniff(&long), Some(Format::Ndjson));
    }
}
